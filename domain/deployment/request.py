"""A deployment request: what to deploy where, and why (the deployment workflow's input).

Assembled and started in one place, :func:`start_deployment`, which :func:`deploy_approval` (the start
function's use case, on SageMaker's "Model Package State Change") calls for an approval and
``mlops models rollback`` for a version that is still approved; read back by the workflow's functions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Protocol

from domain.events import ModelPackageStateChange
from domain.names import dataset_of_group, deployment_name, endpoint_name
from domain.registry import ModelRegistry
from domain.state_limits import cap_text
from domain.training.registration import ModelVersion

__all__ = [
    "DEPLOYMENT_FORMAT",
    "INPUT_FIELDS",
    "Approval",
    "DeploymentRequest",
    "DeploymentRequestError",
    "Executions",
    "StartedDeployment",
    "Trigger",
    "deploy_approval",
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


# The keys of the execution's input (to_input), in order: the workflow hands them to its steps one by one.
INPUT_FIELDS = ("format", *(field.name for field in fields(DeploymentRequest)))


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
    (:func:`domain.names.deployment_name`), so the same approval announced twice starts one
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


@dataclass(frozen=True)
class Approval:
    """What an approval event led to: a deployment asked of the workflow, or why none was.

    Attributes
    ----------
    dataset : str or None
        The dataset of the event's model package group, when it is one of this platform's groups.
    deployment : StartedDeployment or None
        The deployment (``started`` is False for an approval announced again).
    skipped : str
        Why no deployment was asked for ("" when one was).
    """

    dataset: str | None
    deployment: StartedDeployment | None = None
    skipped: str = ""

    @property
    def summary(self) -> str:
        """The approval's outcome in one line, for the log."""
        if self.deployment is None:
            return self.skipped
        return (
            "deployment started" if self.deployment.started else "deployment already started: repeated event"
        )

    @property
    def facts(self) -> dict[str, Any]:
        """The deployment's execution, endpoint and version, for the log ({} when skipped)."""
        if self.deployment is None:
            return {}
        request = self.deployment.request
        return {"execution_arn": self.deployment.execution_arn, "endpoint": request.endpoint,
                "version": request.version}  # fmt: skip

    def to_result(self) -> dict[str, Any]:
        """The start function's result: ``{"execution_arn", "started"}`` (and ``"reason"`` when skipped)."""
        if self.deployment is None:
            return {"execution_arn": None, "started": False, "reason": self.skipped}
        return {"execution_arn": self.deployment.execution_arn, "started": self.deployment.started}


def deploy_approval(
    change: ModelPackageStateChange,
    *,
    project: str,
    group_prefix: str,
    datasets: Collection[str],
    registry: ModelRegistry,
    workflow: str,
    executions: Executions,
    announced_at: str,
) -> Approval:
    """Start the deployment of the version a "Model Package State Change" approved, at most once.

    The registry, not the event, says whether the version is approved: events can be stale or repeated
    (SageMaker may send several per change, and recording a deployment's outcome is a change too).

    Parameters
    ----------
    change : ModelPackageStateChange
        The event's detail.
    project, group_prefix : str
        The platform's name and its model package groups' prefix.
    datasets : collection of str
        The datasets the platform serves.
    registry, executions
        The model registry and the deployment workflow's executions.
    workflow : str
        The deployment state machine's ARN.
    announced_at : str
        The event's time: the request's time when the version records no decision or creation time.

    Returns
    -------
    Approval
    """
    dataset = dataset_of_group(group_prefix, change.group)
    if dataset is None:
        return Approval(None, skipped=f"{change.group} is not a model package group of this platform")
    if dataset not in datasets:
        return Approval(dataset, skipped=f"{dataset} is not a dataset of this platform")
    version = registry.describe(change.arn)
    if version.approval_status != "Approved":
        return Approval(
            dataset, skipped=f"version {version.version} is {version.approval_status}, not Approved"
        )
    deployment = start_deployment(
        version,
        dataset=dataset,
        endpoint=endpoint_name(project, dataset),
        trigger="approval",
        reason=version.approval_description or "approved",
        requested_at=version.decided_at or version.created_at or announced_at,
        workflow=workflow,
        executions=executions,
    )
    return Approval(dataset, deployment)
