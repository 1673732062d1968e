"""Runs SageMaker training jobs as local processes, each on a thread of its own.

A job goes as on SageMaker: ``Downloading`` (its channels and its source directory from the local S3),
``Training`` (the script, under ``StoppingCondition.MaxRuntimeInSeconds``), ``Uploading`` (``model/``
and ``output/data/`` as ``model.tar.gz`` and ``output.tar.gz`` under ``OutputDataConfig.S3OutputPath``),
then ``Completed``; or ``Failed`` with a ``FailureReason``; or ``Stopped`` (by ``StopTrainingJob``, or
``MaxRuntimeExceeded``): the script gets SIGTERM, a grace period (120 s on SageMaker, shorter here),
then SIGKILL, and whatever it saved in ``model/`` is still uploaded. The script's output goes to the
CloudWatch Logs group ``/aws/sagemaker/TrainingJobs``, stream ``<job>/algo-1-<epoch seconds>``.
With IAM enforced, the job acts as its ``RoleArn`` (assumed by ``sagemaker.amazonaws.com``, the session
named ``SageMaker`` as SageMaker names it): channels, code and archives move on a client with the role's
credentials, so the local cloud's front decides each call, and the script gets the same credentials;
its logs are written as the role too (``logs.writes_allowed``).
No more jobs run at once than the machine holds (``scheduler``); a network-isolated job's script reaches
no network (``isolation``), and its code must come from an input channel, as in an isolated container.

``ManagedSpotTraining``, checkpoints, VPC settings, debugger and profiler settings are accepted and
ignored: a local process is never interrupted, and the job runs on one host (see the README).
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localcloud.awslambda import logs
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.records import Activity
from localcloud.role_credentials import RoleClients, environment
from localcloud.sagemaker import contract, isolation, roles, transfer
from localcloud.sagemaker.contract import JobLayout, TrainingJobSpec
from localcloud.sagemaker.outcome import MetricTracker, failure_reason
from localcloud.sagemaker.process import ScriptProcess
from localcloud.sagemaker.scheduler import JobQueue, default_concurrency
from localcloud.sagemaker.status import JobStatus
from localcloud.sagemaker.transfer import JobSetupError

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
DEFAULT_STOP_GRACE_SECONDS = 2.0

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
    isolation : str | None
        How a network-isolated script was kept off the network (``network namespace`` or ``socket
        guard``); None if the job is not isolated or its script never ran.
    """

    job_name: str
    status: str
    secondary_status: str
    job_dir: str
    exit_code: int | None
    duration_s: float
    failure_reason: str | None = None
    isolation: str | None = None

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
    concurrency : int | None
        How many jobs run at once (the others wait ``Starting``); one per CPU when None.
    iam : LocalIam | None
        Where jobs' roles are assumed; None (or enforcement off): jobs act as the administrator.
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
        concurrency: int | None = None,
        iam: LocalIam | None = None,
    ) -> None:
        self._work_dir = work_dir
        self._client = client
        self.iam = iam
        self._clients = RoleClients(endpoint_url=endpoint_url, administrator=client)
        self._endpoint_url = endpoint_url
        self._activity = activity
        self._grace = stop_grace_seconds
        self._python = python
        self._lock = threading.Lock()
        self._running: dict[str, tuple[threading.Event, JobStatus, TrainingJobSpec]] = {}
        self._threads: list[threading.Thread] = []
        self._records: list[TrainingRunRecord] = []
        self._queue = JobQueue(concurrency or default_concurrency())

    def submit(self, job: Any, *, metric_definitions: list[dict[str, str]]) -> None:
        """Run ``job`` (moto's ``FakeTrainingJob``, already ``InProgress``) when a slot is free; return."""
        spec = TrainingJobSpec.from_moto(job, metric_definitions=metric_definitions)
        stop, job_status = threading.Event(), JobStatus(job)
        self._activity.begin()
        with self._lock:
            self._running[spec.arn] = (stop, job_status, spec)
        self._queue.submit(spec.arn, functools.partial(self._start, spec, job_status, stop))

    def stop(self, job_arn: str) -> bool:
        """Ask an unfinished job to stop (``StopTrainingJob``); False if it has ended or is stopping."""
        with self._lock:
            running = self._running.get(job_arn)
        if running is None or running[0].is_set():
            return False
        stop, job_status, spec = running
        job_status.enter("Stopping", primary="Stopping")
        stop.set()
        if self._queue.withdraw(job_arn):  # still waiting for a slot: it ends without running
            job_status.finish("Stopped", "Stopped")
            self._record(spec, job_status, exit_code=None, duration_s=0.0)
        return True

    def records(self) -> list[TrainingRunRecord]:
        """Every finished run, oldest first."""
        with self._lock:
            return list(self._records)

    def shutdown(self) -> None:
        """Stop every running job and wait for their threads."""
        for job_arn in self._queue.waiting():
            self.stop(job_arn)
        with self._lock:
            stops, threads = [stop for stop, _, _ in self._running.values()], list(self._threads)
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=self._grace + 10)

    def _start(self, spec: TrainingJobSpec, status: JobStatus, stop: threading.Event) -> None:
        """Run the job on a thread of its own: the queue calls this once a slot is free."""
        thread = threading.Thread(
            target=self._run, args=(spec, status, stop), name=f"training-{spec.name}", daemon=True
        )
        with self._lock:  # started under the lock: shutdown() never sees a thread it cannot join
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _run(self, spec: TrainingJobSpec, status: JobStatus, stop: threading.Event) -> None:
        started = time.monotonic()
        layout = JobLayout(self._work_dir / spec.name)
        ran: tuple[int | None, str | None] = (None, None)
        try:
            ran = self._attempt(spec, layout, status, stop)
        except Exception as error:  # a bug here must still end the job, not leave it InProgress
            status.finish("Failed", "Failed", failure_reason=f"InternalServerError: {error}")
        finally:
            exit_code, isolated = ran
            duration = time.monotonic() - started
            self._record(spec, status, exit_code=exit_code, duration_s=duration, isolated=isolated)
            self._queue.done()

    def _record(
        self,
        spec: TrainingJobSpec,
        status: JobStatus,
        *,
        exit_code: int | None,
        duration_s: float,
        isolated: str | None = None,
    ) -> None:
        record = TrainingRunRecord(
            job_name=spec.name,
            status=status.primary,
            secondary_status=status.secondary,
            job_dir=str(self._work_dir / spec.name),
            exit_code=exit_code,
            duration_s=duration_s,
            failure_reason=status.failure_reason,
            isolation=isolated,
        )
        with self._lock:
            self._running.pop(spec.arn, None)
            self._records.append(record)
        self._activity.end()

    def _attempt(
        self, spec: TrainingJobSpec, layout: JobLayout, status: JobStatus, stop: threading.Event
    ) -> tuple[int | None, str | None]:
        """Run the job; return the script's exit status and how it was isolated (None: it never ran)."""
        # MaxRuntimeInSeconds counts from the job's start (out of the queue), downloads included.
        deadline = time.monotonic() + spec.max_runtime_seconds
        try:
            session = roles.session(self.iam, spec.role_arn, source_arn=spec.arn)
        except AccessDeniedError:  # CreateTrainingJob checked it: the role was deleted or changed since
            status.finish("Failed", "Failed", failure_reason=roles.unable_to_assume(spec.role_arn))
            return None, None
        s3 = self._clients.client("s3", spec.region, session)
        status.enter("Downloading")
        try:
            layout.create()
            channels = transfer.download_channels(spec.input_data_config, layout.data_dir, s3)
            program, source = spec.program, spec.submit_directory
            if spec.network_isolation and transfer.is_s3_location(source):
                # In the container, the toolkit would download it: with no network, it fails the job.
                status.enter("Training")
                status.finish("Failed", "Failed", failure_reason=isolation.no_network_reason(source))
                return None, None
            transfer.install_code(program, source, layout.code_dir, s3)
            contract.write_config(spec, layout, channels)
        except (JobSetupError, ClientError, BotoCoreError, OSError) as error:
            status.finish("Failed", "Failed", failure_reason=f"ClientError: {error}")
            return None, None
        if stop.is_set():
            status.finish("Stopped", "Stopped")
            return None, None
        status.enter("Training")
        stream = f"{spec.name}/{contract.HOST}-{int(time.time())}"
        metrics = MetricTracker(spec.metric_definitions)

        def ship(lines: list[str]) -> None:
            metrics.observe(lines)
            # SageMaker writes the job's logs as its role: a denied write drops them, as on AWS.
            where = {
                "account_id": spec.account_id,
                "region": spec.region,
                "group": LOG_GROUP,
                "stream": stream,
            }
            principal = session.arn if session is not None else None
            if self.iam is None or logs.writes_allowed(self.iam.enforcer, principal, **where):
                logs.write(lines=lines, **where)

        variables = contract.environment(
            spec,
            layout,
            program=program,
            channels=channels,
            endpoint_url=self._endpoint_url(),
            credentials=environment(session),
        )
        command = [self._python, program, *contract.command_args(spec.user_hyperparameters)]
        isolated: str | None = None
        if spec.network_isolation:
            command, variables, how = isolation.isolate(command, variables)
            isolated = how.value
        process = ScriptProcess(command, cwd=layout.code_dir, environment=variables, ship=ship)
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
        return process.returncode, isolated

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
