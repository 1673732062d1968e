"""Runs SageMaker training jobs as local processes, each on a thread of its own.

A job goes as on SageMaker: ``Downloading`` (its channels and its source directory from the local S3),
``Training`` (the script, under ``StoppingCondition.MaxRuntimeInSeconds``), ``Uploading`` (``model/``
and ``output/data/`` as ``model.tar.gz`` and ``output.tar.gz`` under ``OutputDataConfig.S3OutputPath``),
then ``Completed``; or ``Failed`` with a ``FailureReason``; or ``Stopped`` (by ``StopTrainingJob``, or
``MaxRuntimeExceeded``): the script gets SIGTERM, a grace period (120 s on SageMaker, shorter here),
then SIGKILL, and whatever it saved in ``model/`` is still uploaded. The script's output goes to the
CloudWatch Logs group ``/aws/sagemaker/TrainingJobs``, stream ``<job>/algo-1-<epoch seconds>``.

``ManagedSpotTraining``, checkpoints, VPC settings, debugger and profiler settings are accepted and
ignored: a local process is never interrupted, and the job runs on one host (see the README).
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.core.utils import utcnow

from localcloud.awslambda import logs
from localcloud.records import Activity
from localcloud.sagemaker import contract, transfer
from localcloud.sagemaker.contract import JobLayout, TrainingJobSpec
from localcloud.sagemaker.process import ScriptProcess
from localcloud.sagemaker.status import JobStatus
from localcloud.sagemaker.transfer import JobSetupError

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
DEFAULT_STOP_GRACE_SECONDS = 2.0
_FAILURE_REASON_CHARS = 1024  # SageMaker reports the first 1,024 characters of the failure file
_STDERR_TAIL_LINES = 10

Client = Callable[[str, str], Any]


@dataclass(frozen=True)
class TrainingRunRecord:
    """One local run of a training job: where it ran and how it ended.

    Attributes
    ----------
    job_name : str
        The training job's name.
    status, secondary_status : str
        ``TrainingJobStatus`` and ``SecondaryStatus`` at the end.
    job_dir : str
        The job folder (``/opt/ml`` of the container), kept until the local cloud stops.
    exit_code : int | None
        The script's exit status; None if it never ran.
    duration_s : float
        Wall-clock time from start to end.
    failure_reason : str | None
        ``FailureReason`` of a failed job.
    """

    job_name: str
    status: str
    secondary_status: str
    job_dir: str
    exit_code: int | None
    duration_s: float
    failure_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)


class TrainingRunner:
    """Runs training jobs created through moto's SageMaker API.

    Parameters
    ----------
    work_dir : Path
        Where job folders go (``<work_dir>/<job name>/``).
    client : Callable[[str, str], Any]
        ``client(service, region)``: a boto3 client on the local cloud (S3 for inputs and artifacts).
    endpoint_url : Callable[[], str]
        The local cloud's endpoint, given to the script as ``AWS_ENDPOINT_URL``.
    activity : Activity
        Holds one unit per running job, for ``wait_idle``.
    stop_grace_seconds : float
        Seconds between SIGTERM and SIGKILL when a job is stopped.
    python : str
        The interpreter that runs scripts: the virtualenv's, standing in for the training image.
    """

    def __init__(
        self,
        *,
        work_dir: Path,
        client: Client,
        endpoint_url: Callable[[], str],
        activity: Activity,
        stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
        python: str = sys.executable,
    ) -> None:
        self._work_dir = work_dir
        self._client = client
        self._endpoint_url = endpoint_url
        self._activity = activity
        self._grace = stop_grace_seconds
        self._python = python
        self._lock = threading.Lock()
        self._running: dict[str, tuple[threading.Event, JobStatus]] = {}
        self._threads: list[threading.Thread] = []
        self._records: list[TrainingRunRecord] = []

    def submit(self, job: Any, *, metric_definitions: list[dict[str, str]]) -> None:
        """Start running ``job`` (moto's ``FakeTrainingJob``, already ``InProgress``) and return."""
        spec = TrainingJobSpec.from_moto(job, metric_definitions=metric_definitions)
        stop, job_status = threading.Event(), JobStatus(job)
        self._activity.begin()
        thread = threading.Thread(
            target=self._run, args=(spec, job_status, stop), name=f"training-{spec.name}", daemon=True
        )
        with self._lock:
            self._running[spec.arn] = (stop, job_status)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self, job_arn: str) -> bool:
        """Ask a running job to stop (``StopTrainingJob``); False if it is not running."""
        with self._lock:
            running = self._running.get(job_arn)
        if running is None or running[0].is_set():
            return False
        stop, job_status = running
        job_status.enter("Stopping", primary="Stopping")
        stop.set()
        return True

    def records(self) -> list[TrainingRunRecord]:
        """Every finished run, oldest first."""
        with self._lock:
            return list(self._records)

    def shutdown(self) -> None:
        """Stop every running job and wait for their threads."""
        with self._lock:
            stops, threads = [stop for stop, _ in self._running.values()], list(self._threads)
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=self._grace + 10)

    def _run(self, spec: TrainingJobSpec, status: JobStatus, stop: threading.Event) -> None:
        started = time.monotonic()
        layout = JobLayout(self._work_dir / spec.name)
        exit_code: int | None = None
        try:
            exit_code = self._attempt(spec, layout, status, stop)
        except Exception as error:  # a bug here must still end the job, not leave it InProgress
            status.finish("Failed", "Failed", failure_reason=f"InternalServerError: {error}")
        finally:
            record = TrainingRunRecord(
                job_name=spec.name,
                status=status.primary,
                secondary_status=status.secondary,
                job_dir=str(layout.root),
                exit_code=exit_code,
                duration_s=time.monotonic() - started,
                failure_reason=status.failure_reason,
            )
            with self._lock:
                self._running.pop(spec.arn, None)
                self._records.append(record)
            self._activity.end()

    def _attempt(
        self, spec: TrainingJobSpec, layout: JobLayout, status: JobStatus, stop: threading.Event
    ) -> int | None:
        # MaxRuntimeInSeconds counts from the start of the job, downloads included.
        deadline = time.monotonic() + spec.max_runtime_seconds
        s3 = self._client("s3", spec.region)
        status.enter("Downloading")
        try:
            layout.create()
            channels = transfer.download_channels(spec.input_data_config, layout.data_dir, s3)
            program = spec.program
            transfer.install_code(program, spec.submit_directory, layout.code_dir, s3)
            contract.write_config(spec, layout, channels)
        except (JobSetupError, ClientError, BotoCoreError, OSError) as error:
            status.finish("Failed", "Failed", failure_reason=f"ClientError: {error}")
            return None
        if stop.is_set():
            status.finish("Stopped", "Stopped")
            return None
        status.enter("Training")
        stream = f"{spec.name}/{contract.HOST}-{int(time.time())}"
        metrics = MetricTracker(spec.metric_definitions)

        def ship(lines: list[str]) -> None:
            metrics.observe(lines)
            logs.write(
                account_id=spec.account_id, region=spec.region, group=LOG_GROUP, stream=stream, lines=lines
            )

        environment = contract.environment(
            spec, layout, program=program, channels=channels, endpoint_url=self._endpoint_url()
        )
        process = ScriptProcess(
            [self._python, program, *contract.command_args(spec.user_hyperparameters)],
            cwd=layout.code_dir,
            environment=environment,
            ship=ship,
        )
        ending = process.wait(deadline=deadline, stop=stop, grace_seconds=self._grace)
        if ending == "exited" and process.returncode == 0:
            if self._upload(spec, layout, status, s3, model_only=False):
                status.finish("Completed", "Completed", metrics=metrics.final())
        elif ending != "exited":
            if ending == "timed out":
                status.enter("Stopping", primary="Stopping")
            # As SageMaker does after a stop: what the script saved in model/ is not lost.
            if self._upload(spec, layout, status, s3, model_only=True):
                secondary = "MaxRuntimeExceeded" if ending == "timed out" else "Stopped"
                status.finish("Stopped", secondary, metrics=metrics.final())
        else:
            reason = failure_reason(layout.failure_file, list(process.stderr_tail), process.returncode)
            status.finish("Failed", "Failed", failure_reason=reason, metrics=metrics.final())
        return process.returncode

    def _upload(
        self,
        spec: TrainingJobSpec,
        layout: JobLayout,
        status: JobStatus,
        s3: Any,
        *,
        model_only: bool,
    ) -> bool:
        """Upload ``model/`` (and ``output/data/``); on an S3 error fail the job and return False."""
        status.enter("Uploading")
        archives = [("model.tar.gz", layout.model_dir)]
        if not model_only:
            archives.append(("output.tar.gz", layout.output_data_dir))
        extra = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": spec.output_kms_key}
            if spec.output_kms_key
            else {}
        )
        try:
            for file_name, directory in archives:
                archive = transfer.archive_directory(directory, layout.root / file_name)
                bucket, key = transfer.split_s3_uri(spec.artifact_uri(file_name))
                s3.upload_file(str(archive), bucket, key, ExtraArgs=extra)
        except (JobSetupError, ClientError, BotoCoreError, OSError) as error:
            reason = f"ClientError: Failed to upload model artifacts: {error}"
            status.finish("Failed", "Failed", failure_reason=reason)
            return False
        return True


class MetricTracker:
    """``FinalMetricDataList``: the last value each ``MetricDefinitions`` regex captured in the logs."""

    def __init__(self, definitions: list[dict[str, str]]) -> None:
        self._patterns = [(d["Name"], re.compile(d["Regex"])) for d in definitions]
        self._last: dict[str, float] = {}

    def observe(self, lines: list[str]) -> None:
        """Read a batch of log lines."""
        for line in lines:
            for name, pattern in self._patterns:
                match = pattern.search(line)
                if match and match.groups():
                    with contextlib.suppress(ValueError):
                        self._last[name] = float(match.group(1))

    def final(self) -> list[dict[str, Any]]:
        """The metrics seen, as ``DescribeTrainingJob`` lists them."""
        now = utcnow()
        return [{"MetricName": name, "Value": value, "Timestamp": now} for name, value in self._last.items()]


def failure_reason(failure_file: Path, stderr_tail: list[str], returncode: int | None) -> str:
    """``FailureReason``: the failure file's content, else the end of stderr, as an ``AlgorithmError``.

    SageMaker reports the first 1,024 characters of ``/opt/ml/output/failure``; without one, the
    training toolkit of the framework images writes the end of stderr there itself.
    """
    if failure_file.is_file():
        text = failure_file.read_text(encoding="utf-8", errors="replace").strip()
        if text:
            return f"AlgorithmError: {text[:_FAILURE_REASON_CHARS]}"
    tail = "\n".join(stderr_tail[-_STDERR_TAIL_LINES:]).strip()
    message = f'ExecuteUserScriptError:\nExitCode {returncode}\nErrorMessage "{tail}"'
    return f"AlgorithmError: {message[-_FAILURE_REASON_CHARS:]}"
