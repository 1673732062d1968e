"""The deployment workflow's states, typed: what each function is given and what it returns.

The state machine (``stacks/constructs/deployment_workflow.py``) keeps one document per execution: the
deployment request (its input) and each state's result under its own key::

    execution input   DeploymentRequest (domain.deployment.request)
    Begin    -> $.prepare         Prepared, "pending"
    Prepare  -> $.prepare         Prepared: "waiting" (then Prepare again), "superseded" or "started"
                                  (input: StepInput, the request, the execution, the previous $.prepare)
    Describe -> $.endpoint_state  {"status", "config"}: DescribeEndpoint, polled until it settles
    Finish   -> $.outcome         Finished (input: StepInput)
    RecordFailure -> $.outcome    Finished (input: StepInput with the error caught at $.error)

A function reads its input once with :meth:`StepInput.from_state` and writes its result with
``to_state``, which gives the document the workflow always carried, key for key. A state that lacks a key
a step reads fails with :class:`~domain.step_input.StepInputError`, which names the state and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from domain.deployment.endpoint import Outcome
from domain.deployment.request import DeploymentRequest, DeploymentRequestError
from domain.step_input import StepInputError, state_value

__all__ = [
    "PENDING",
    "STARTED",
    "SUPERSEDED",
    "WAITING",
    "CaughtError",
    "FailedEndpoint",
    "Finished",
    "PrepareStatus",
    "Prepared",
    "StepInput",
]

PrepareStatus = Literal["pending", "waiting", "superseded", "started"]
_STATUSES: tuple[PrepareStatus, ...] = get_args(PrepareStatus)
# Each by name, for the state machine's Begin state and its Choice states (mypy holds them to the type).
PENDING: Final[PrepareStatus] = "pending"
WAITING: Final[PrepareStatus] = "waiting"
SUPERSEDED: Final[PrepareStatus] = "superseded"
STARTED: Final[PrepareStatus] = "started"


@dataclass(frozen=True)
class FailedEndpoint:
    """A ``Failed`` endpoint the deployment deletes and creates again: what it ran, and why it failed."""

    endpoint_config: str | None
    reason: str

    def to_state(self) -> dict[str, Any]:
        """``{"endpoint_config", "reason"}``."""
        return {"endpoint_config": self.endpoint_config, "reason": self.reason}

    @classmethod
    def read(cls, document: Any) -> FailedEndpoint | None:
        """The failed endpoint ``document`` describes, or None when there is none."""
        if not isinstance(document, Mapping):
            return None
        return cls(document.get("endpoint_config"), str(document.get("reason")))


@dataclass(frozen=True)
class Prepared:
    """The Prepare state's result (``$.prepare``); "pending" is the Begin state's, before the first call.

    Attributes
    ----------
    status : {"pending", "waiting", "superseded", "started"}
    holder : str, optional
        "waiting": the deployment holding the endpoint's lock (this one while the endpoint is waited for).
    endpoint_status : str, optional
        "waiting" for the endpoint itself: its status.
    replacing : FailedEndpoint, optional
        The failed endpoint being deleted ("waiting"), or deleted and created again ("started").
    outcome : Outcome, optional
        "superseded": why (Finish records it).
    action, model, endpoint_config, previous_config : str, optional
        "started": created, updated or recreated; what the endpoint is to run; what it ran before.
    previous_version : int, optional
        "started": the version the endpoint served before.
    """

    status: PrepareStatus
    holder: str | None = None
    endpoint_status: str | None = None
    replacing: FailedEndpoint | None = None
    outcome: Outcome | None = None
    action: str | None = None
    model: str | None = None
    endpoint_config: str | None = None
    previous_config: str | None = None
    previous_version: int | None = None

    @property
    def replaced_failed(self) -> FailedEndpoint | None:
        """The failed endpoint a started deployment deleted and created again, or None."""
        return self.replacing if self.status == "started" else None

    def to_state(self) -> dict[str, Any]:
        """The document at ``$.prepare``, as the workflow's Choice states and Finish read it."""
        replacing = self.replacing.to_state() if self.replacing else None
        if self.status == "waiting":
            waiting: dict[str, Any] = {"status": self.status, "holder": self.holder}
            if self.endpoint_status is not None:
                waiting["endpoint_status"] = self.endpoint_status
            return waiting | ({"replacing": replacing} if replacing else {})
        if self.status == "superseded":
            return {"status": self.status, "outcome": self.outcome.to_dict() if self.outcome else None}
        if self.status == "started":
            return {
                "status": self.status,
                "action": self.action,
                "model": self.model,
                "endpoint_config": self.endpoint_config,
                "previous_config": self.previous_config,
                "previous_version": self.previous_version,
                "replaced_failed": replacing,
            }
        return {"status": self.status}

    @classmethod
    def from_state(cls, event: Mapping[str, Any], state: str) -> Prepared | None:
        """The result at ``$.prepare`` in ``state``'s input; None when the input has none."""
        if event.get("prepare") is None:
            return None
        document = state_value(event, state, "prepare")
        status = state_value(event, state, "prepare", "status")
        if status not in _STATUSES:
            raise StepInputError(
                f"the {state} state's input has prepare.status {status!r}, not one of {_STATUSES}"
            )
        outcome = state_value(event, state, "prepare", "outcome") if status == "superseded" else None
        previous = document.get("previous_version")
        return cls(
            status=status,
            holder=document.get("holder"),
            endpoint_status=document.get("endpoint_status"),
            replacing=FailedEndpoint.read(
                document.get("replacing" if status == "waiting" else "replaced_failed")
            ),
            outcome=None if outcome is None else Outcome(**outcome),
            action=document.get("action"),
            model=document.get("model"),
            endpoint_config=document.get("endpoint_config"),
            previous_config=document.get("previous_config"),
            previous_version=None if previous is None else int(previous),
        )


@dataclass(frozen=True)
class CaughtError:
    """The error the workflow caught (``$.error``: Step Functions' ``Error`` and ``Cause``)."""

    error: str | None
    cause: str | None


@dataclass(frozen=True)
class StepInput:
    """What Prepare, Finish and RecordFailure are given (the workflow's payload to each function).

    Attributes
    ----------
    request : DeploymentRequest
        The execution's input.
    deployment : str
        The execution's name (the deployment's, in the lock and the records).
    started_at : str
        ISO 8601: when the execution started.
    prepare : Prepared, optional
        ``$.prepare``: Prepare's previous result (Prepare), or its last (Finish, RecordFailure).
    error : CaughtError, optional
        RecordFailure's: the error caught at ``$.error``.
    """

    request: DeploymentRequest
    deployment: str
    started_at: str
    prepare: Prepared | None = None
    error: CaughtError | None = None

    @classmethod
    def from_state(cls, event: Mapping[str, Any], state: str) -> StepInput:
        """Read ``state``'s input once (raises StepInputError naming the state and the key)."""
        request = state_value(event, state, "request")
        try:
            read = DeploymentRequest.from_input(request)
        except DeploymentRequestError as error:
            raise StepInputError(
                f"the {state} state's input has a request that is not one: {error}"
            ) from None
        caught = event.get("error")
        return cls(
            request=read,
            deployment=str(state_value(event, state, "deployment")),
            started_at=str(state_value(event, state, "started_at")),
            prepare=Prepared.from_state(event, state),
            error=CaughtError(caught.get("Error"), caught.get("Cause"))
            if isinstance(caught, Mapping)
            else None,
        )

    @property
    def log_keys(self) -> dict[str, Any]:
        """What each of the function's log lines names: the endpoint, the version, the deployment."""
        return {
            "endpoint": self.request.endpoint,
            "version": self.request.version,
            "deployment": self.deployment,
        }

    def to_state(self) -> dict[str, Any]:
        """The payload the workflow gives the function (``deployment_workflow.py``'s ``payload``)."""
        document: dict[str, Any] = {
            "request": self.request.to_input(),
            "deployment": self.deployment,
            "started_at": self.started_at,
        }
        if self.prepare is not None:
            document["prepare"] = self.prepare.to_state()
        if self.error is not None:
            document["error"] = {"Error": self.error.error, "Cause": self.error.cause}
        return document


@dataclass(frozen=True)
class Finished:
    """Finish's (and RecordFailure's) result (``$.outcome``): the outcome and a one-line summary."""

    outcome: Outcome
    summary: str

    @classmethod
    def of(cls, request: DeploymentRequest, outcome: Outcome) -> Finished:
        """The outcome with its summary: ``<endpoint> version <n>: <status>: <reason>``."""
        return cls(
            outcome, f"{request.endpoint} version {request.version}: {outcome.status}: {outcome.reason}"
        )

    def to_state(self) -> dict[str, Any]:
        """The document at ``$.outcome``: the outcome's fields and ``summary``."""
        return {**self.outcome.to_dict(), "summary": self.summary}
