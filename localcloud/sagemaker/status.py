"""A training job's statuses, written into moto's model so that the API reports them as they change.

moto creates a training job ``Completed`` at once; here it starts ``InProgress``/``Starting`` and moves
through SageMaker's secondary statuses (``Downloading``, ``Training``, ``Uploading``) to ``Completed``,
``Failed`` (with ``FailureReason``) or ``Stopped`` (``Stopped`` or ``MaxRuntimeExceeded``), with the
timestamps ``DescribeTrainingJob`` and ``ListTrainingJobs`` show.

moto builds its response from the model's attributes (each one becomes a field), so every field this
module ever sets exists from creation on (None is left out of responses): a reader in another thread
never iterates over attributes that change in number, and no field that SageMaker lacks appears.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "The job stopped because it exceeded the maximum allowed runtime",
}


def prepare(
    job: Any,
    *,
    algorithm_specification: dict[str, Any],
    environment: dict[str, str] | None,
    model_artifact: str,
) -> None:
    """Put a job moto has just created into ``InProgress``/``Starting``, as CreateTrainingJob leaves it.

    Parameters
    ----------
    job : Any
        moto's ``FakeTrainingJob``.
    algorithm_specification : dict[str, Any]
        The request's, as given (moto replaces its ``MetricDefinitions`` with made-up ones).
    environment : dict[str, str] | None
        The request's ``Environment`` (moto does not keep it).
    model_artifact : str
        ``ModelArtifacts.S3ModelArtifacts``, as an ``s3://`` URI whatever form the output path had.
    """
    now = moto_utils.utcnow()
    job.algorithm_specification = algorithm_specification
    job.environment = environment or None
    job.model_artifacts = {"S3ModelArtifacts": model_artifact}
    job.training_job_status = "InProgress"
    job.secondary_status = "Starting"
    job.failure_reason = None
    job.creation_time = job.last_modified_time = now
    job.training_start_time = job.training_end_time = None
    job.training_time_in_seconds = job.billable_time_in_seconds = None
    job.final_metric_data_list = None
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": now, "StatusMessage": _MESSAGES["Starting"]}
    ]


class JobStatus:
    """Moves one job through its statuses; safe to use from the runner and the API threads."""

    def __init__(self, job: Any) -> None:
        self._job = job
        self._lock = threading.Lock()

    @property
    def primary(self) -> str:
        """``TrainingJobStatus``."""
        return str(self._job.training_job_status)

    @property
    def secondary(self) -> str:
        """``SecondaryStatus``."""
        return str(self._job.secondary_status)

    @property
    def failure_reason(self) -> str | None:
        """``FailureReason``, once the job failed."""
        reason = self._job.failure_reason
        return str(reason) if reason is not None else None

    def enter(self, secondary: str, *, primary: str | None = None) -> None:
        """Start the ``secondary`` stage (and change the primary status, if given)."""
        with self._lock:
            now = moto_utils.utcnow()
            if secondary == "Downloading" and self._job.training_start_time is None:
                self._job.training_start_time = now
            self._transition(secondary, now)
            if primary is not None:
                self._job.training_job_status = primary
            self._job.secondary_status = secondary
            self._job.last_modified_time = now

    def finish(
        self,
        primary: str,
        secondary: str,
        *,
        failure_reason: str | None = None,
        metrics: list[dict[str, Any]] | None = None,
    ) -> None:
        """End the job: ``Completed``, ``Failed`` or ``Stopped``, with its end time and durations."""
        with self._lock:
            now = moto_utils.utcnow()
            started = self._job.training_start_time or now
            self._transition(secondary, now, final=True)
            self._job.training_end_time = now
            seconds = max(1, int((now - started).total_seconds()))
            self._job.training_time_in_seconds = self._job.billable_time_in_seconds = seconds
            self._job.failure_reason = failure_reason
            self._job.final_metric_data_list = metrics or None
            self._job.last_modified_time = now
            self._job.secondary_status = secondary
            self._job.training_job_status = primary

    def _transition(self, status: str, now: Any, *, final: bool = False) -> None:
        # Replaced, never appended to: a reader may be iterating over the list.
        transitions = [dict(t) for t in self._job.secondary_status_transitions or []]
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        entry = {"Status": status, "StartTime": now, "StatusMessage": _MESSAGES.get(status, status)}
        if final:
            entry["EndTime"] = now
        self._job.secondary_status_transitions = [*transitions, entry]
