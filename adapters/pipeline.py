"""The training pipeline's executions (Step Functions).

Starting is idempotent by name (see :mod:`domain.training.runs`): a name already used by this state
machine means the run was started before, and the caller gets that run's ARN back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from adapters.aws import client, error_code
from domain.training.runs import PipelineRunError, RunRequest, parse_run

__all__ = ["PipelineError", "PipelineRun", "RunNotFoundError", "StepFunctionsPipeline", "execution_arn"]


class PipelineError(Exception):
    """Step Functions refused a request."""


class RunNotFoundError(PipelineError):
    """No execution with that ARN."""


@dataclass(frozen=True)
class PipelineRun:
    """One execution of the training pipeline.

    Attributes
    ----------
    status : str
        ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``TIMED_OUT`` or ``ABORTED``.
    request : RunRequest or None
        The run's facts from its input (None when only the summary was read, or the input is not a
        run input).
    error, cause : str or None
        Why a failed run failed, as the failing state reported it.
    """

    execution_arn: str
    name: str
    status: str
    started_at: str | None
    stopped_at: str | None
    request: RunRequest | None = None
    error: str | None = None
    cause: str | None = None


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN an execution named ``name`` of this state machine has (or would have)."""
    return f"{state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"


def _time(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def _summary(item: Mapping[str, Any]) -> PipelineRun:
    return PipelineRun(
        execution_arn=item["executionArn"],
        name=item["name"],
        status=item["status"],
        started_at=_time(item.get("startDate")),
        stopped_at=_time(item.get("stopDate")),
    )


class StepFunctionsPipeline:
    """Start, list and describe executions of a state machine.

    Parameters
    ----------
    page_size : int
        Executions per listing request (1,000 is the most Step Functions returns).
    """

    def __init__(self, page_size: int = 1000) -> None:
        self._sfn = client("stepfunctions")
        self._pages = {"PageSize": page_size}

    def start(self, state_machine_arn: str, name: str, document: Mapping[str, Any]) -> tuple[str, bool]:
        """Start an execution unless one with this name exists.

        Parameters
        ----------
        state_machine_arn : str
        name : str
            The execution name (:func:`domain.names.execution_name`).
        document : mapping
            The execution input.

        Returns
        -------
        tuple of (str, bool)
            The execution's ARN, and whether this call started it.
        """
        arn = execution_arn(state_machine_arn, name)
        # AWS answers a repeated start with the same name and input with success, as if it had started
        # it: asking first is how the caller learns that it did not.
        if self._exists(arn):
            return arn, False
        try:
            started = self._sfn.start_execution(
                stateMachineArn=state_machine_arn, name=name, input=json.dumps(document)
            )
        except ClientError as error:
            if error_code(error) == "ExecutionAlreadyExists":
                return arn, False
            raise PipelineError(f"cannot start {name} on {state_machine_arn}: {error}") from error
        return str(started["executionArn"]), True

    def _exists(self, arn: str) -> bool:
        try:
            self._sfn.describe_execution(executionArn=arn)
        except ClientError as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return False
            raise PipelineError(f"cannot read execution {arn}: {error}") from error
        return True

    def runs(self, state_machine_arn: str, *, status: str | None = None) -> list[PipelineRun]:
        """The state machine's executions, newest first (summaries: no input, no failure cause)."""
        query: dict[str, Any] = {"stateMachineArn": state_machine_arn, "PaginationConfig": self._pages}
        if status:
            query["statusFilter"] = status
        found: list[PipelineRun] = []
        try:
            for page in self._sfn.get_paginator("list_executions").paginate(**query):
                found.extend(_summary(item) for item in page["executions"])
        except ClientError as error:
            raise PipelineError(f"cannot list executions of {state_machine_arn}: {error}") from error
        return sorted(found, key=lambda run: run.started_at or "", reverse=True)

    def describe(self, arn: str) -> PipelineRun:
        """One execution with its input's facts and, if it failed, the error and cause."""
        try:
            described = self._sfn.describe_execution(executionArn=arn)
        except ClientError as error:
            if error_code(error) == "ExecutionDoesNotExist":
                raise RunNotFoundError(f"no pipeline run {arn}") from error
            raise PipelineError(f"cannot read execution {arn}: {error}") from error
        try:
            request: RunRequest | None = parse_run(described.get("input") or "{}")
        except PipelineRunError:
            request = None
        return PipelineRun(
            execution_arn=described["executionArn"],
            name=described["name"],
            status=described["status"],
            started_at=_time(described.get("startDate")),
            stopped_at=_time(described.get("stopDate")),
            request=request,
            error=described.get("error"),
            cause=described.get("cause"),
        )
