"""A training run's start: an accepted dataset version starts one run of the training workflow.

The run is named after the version and the trigger (``domain.training.runs``), so an event delivered
twice starts one run: the workflow refuses a second execution of a name it has seen.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.events import DatasetVersionAccepted
from domain.training.runs import RunRequest, Trigger, execution_input

if TYPE_CHECKING:
    # The port only: its module (deployment requests, the registry) is not pipeline_start's cold start.
    from domain.deployment.request import Executions

__all__ = ["RunStart", "start_accepted_run"]


@dataclass(frozen=True)
class RunStart:
    """What the start of a run came to: its execution, whether this call started it, or why not.

    Attributes
    ----------
    execution_arn : str or None
        None when no run was asked for (``reason`` says why).
    started : bool
        False for a run that existed already (a repeated event) or was not asked for.
    reason : str or None
        Why no run was asked for.
    """

    execution_arn: str | None
    started: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer of ``pipeline_start``: ``{"execution_arn", "started"}``, and ``reason`` if skipped."""
        answer: dict[str, Any] = {"execution_arn": self.execution_arn, "started": self.started}
        return answer if self.reason is None else answer | {"reason": self.reason}


def start_accepted_run(
    accepted: DatasetVersionAccepted, *, trained: Collection[str], workflow: str, executions: Executions
) -> RunStart:
    """Start the training run of an accepted dataset version, at most once per version.

    Parameters
    ----------
    accepted : DatasetVersionAccepted
        The event.
    trained : collection of str
        The datasets that have a training configuration: the others are not trained.
    workflow : str
        The training state machine's ARN.
    executions : Executions
        The workflow's executions (``adapters.pipeline.StepFunctionsPipeline``).

    Returns
    -------
    RunStart
    """
    if accepted.dataset not in trained:
        return RunStart(None, started=False, reason=f"{accepted.dataset} has no training configuration")
    trigger = Trigger(kind="accepted", reason="dataset version accepted")
    request = RunRequest(accepted.dataset, accepted.version, trigger)
    arn, started = executions.start(workflow, request.name, execution_input(request))
    return RunStart(arn, started=started)
