"""A deployment request: what to deploy where, and why (the deployment workflow's input).

Assembled and started in one place, :func:`start_deployment`, which the start function calls for an
approval and ``mlops models rollback`` for a version that is still approved; read back by the
workflow's functions. ``domain.deployment.run`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from domain.names import deployment_name
from domain.state_limits import cap_text
from domain.training.registration import ModelVersion

__all__ = [
    "DEPLOYMENT_FORMAT",
    "DeploymentRequest",
    "DeploymentRequestError",
    "Executions",
    "StartedDeployment",
    "Trigger",
    "start_deployment",
]

DEPLOYMENT_FORMAT = 1
Trigger = Literal["approval", "rollback"]


class DeploymentRequestError(ValueError):
    """The workflow's input is not a deployment request."""


@dataclass(frozen=True)
class DeploymentRequest:
    """What to deploy where, and why: the deployment workflow's input.

    Attributes
    ----------
    dataset, endpoint : str
    package_arn : str
        The model package (version) to serve.
    version : int
    trigger : {"approval", "rollback"}
    reason : str
        The approval's description, or the rollback's reason.
    requested_at : str
        ISO 8601: when it was approved or the rollback asked for.
    """

    dataset: str
    endpoint: str
    package_arn: str
    version: int
    trigger: Trigger
    reason: str
    requested_at: str

    def to_input(self) -> dict[str, Any]:
        """The execution's input document, its reason cut to what a workflow state carries.

        The reason is a copy (the approval's description is on the model package, a rollback's in the
        versions it rejected): the input is in every state of the deployment (``domain.state_limits``).
        """
        return {"format": DEPLOYMENT_FORMAT, **asdict(self), "reason": cap_text(self.reason)}

    @classmethod
    def from_input(cls, document: Mapping[str, Any]) -> DeploymentRequest:
        """Read an execution's input (raises DeploymentRequestError)."""
        try:
            if document.get("format") != DEPLOYMENT_FORMAT:
                raise DeploymentRequestError(f"unknown deployment input format {document.get('format')!r}")
            trigger = document["trigger"]
            if trigger not in ("approval", "rollback"):
                raise DeploymentRequestError(f"unknown trigger {trigger!r}")
            return cls(
                dataset=str(document["dataset"]),
                endpoint=str(document["endpoint"]),
                package_arn=str(document["package_arn"]),
                version=int(document["version"]),
                trigger=trigger,
                reason=str(document.get("reason") or ""),
                requested_at=str(document["requested_at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, DeploymentRequestError):
                raise
            raise DeploymentRequestError(f"not a deployment request: {error!r}") from None


class Executions(Protocol):
    """The deployment workflow's executions (``adapters.pipeline.StepFunctionsPipeline``)."""

    def start(self, state_machine_arn: str, name: str, document: Mapping[str, Any]) -> tuple[str, bool]:
        """Start an execution unless one with this name exists: its ARN, and whether this call started it."""
        ...


@dataclass(frozen=True)
class StartedDeployment:
    """A deployment asked of the workflow: the request, its execution, and whether this call started it.

    ``started`` is False when an execution of the same request existed already (a repeated event).
    """

    request: DeploymentRequest
    execution_arn: str
    started: bool


def start_deployment(
    version: ModelVersion,
    *,
    dataset: str,
    endpoint: str,
    trigger: Trigger,
    reason: str,
    requested_at: str,
    workflow: str,
    executions: Executions,
) -> StartedDeployment:
    """Start the deployment of ``version`` to ``endpoint``: once per version and request time.

    The execution is named after the endpoint, the version and ``requested_at``
    (:func:`domain.deployment.endpoint.deployment_name`), so the same approval announced twice starts one
    deployment, and a later approval or rollback of the same version starts another.

    Parameters
    ----------
    version : ModelVersion
        The approved version to serve.
    dataset, endpoint : str
    trigger : {"approval", "rollback"}
    reason : str
        Why: the approval's description, or the rollback's reason.
    requested_at : str
        ISO 8601: when it was approved or the rollback asked for.
    workflow : str
        The deployment state machine's ARN.
    executions : Executions

    Returns
    -------
    StartedDeployment
    """
    request = DeploymentRequest(
        dataset=dataset,
        endpoint=endpoint,
        package_arn=version.arn,
        version=version.version,
        trigger=trigger,
        reason=reason,
        requested_at=requested_at,
    )
    name = deployment_name(endpoint, version.version, requested_at)
    execution_arn, started = executions.start(workflow, name, request.to_input())
    return StartedDeployment(request=request, execution_arn=execution_arn, started=started)
