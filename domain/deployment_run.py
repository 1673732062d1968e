"""One deployment of an approved model version: take the endpoint, deploy, then record what happened.

The use cases behind the deployment workflow's two functions, free of AWS (adapters are protocols):

- :func:`prepare_deployment`: take the endpoint's lock (or say "waiting"), drop a request that a newer
  approval or a withdrawal made pointless ("superseded"), create the model and the endpoint
  configuration, and create the endpoint or start its blue/green update ("started").
- :func:`finish_deployment`: once the endpoint settled, verify what it runs, record the outcome on the
  model package (and "replaced" on the version it replaced) and in the deployments table, let go of the
  lock. Also on the workflow's error path, where the outcome is "failed" with the error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from domain.deployment import (
    Outcome,
    alarm_names,
    deployment_config,
    endpoint_config_name,
    endpoint_config_request,
    model_name,
    model_request,
    superseded_by,
    verify,
    version_of,
)
from domain.failures import failure_message
from domain.registration import ModelVersion, metadata_value
from domain.serving_config import ServingConfig

__all__ = [
    "DeploymentRequest",
    "DeploymentSettings",
    "Endpoints",
    "Locks",
    "Registry",
    "finish_deployment",
    "prepare_deployment",
]

DEPLOYMENT_FORMAT = 1
MAX_ERROR = 512
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
        """The execution's input document."""
        return {"format": DEPLOYMENT_FORMAT, **asdict(self)}

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


@dataclass(frozen=True)
class DeploymentSettings:
    """Where the deployment's resources come from (the stack's)."""

    role_arn: str
    kms_key: str
    data_bucket: str
    lock_seconds: int = 6 * 3600


class Registry(Protocol):
    """The model registry, as a deployment needs it."""

    def describe(self, arn: str) -> ModelVersion:
        """One version."""
        ...

    def approved_versions(self, group: str) -> list[int]:
        """The version numbers of ``group`` that are Approved now."""
        ...

    def record_deployment(self, arn: str, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the version's metadata (approval status untouched)."""
        ...


class Endpoints(Protocol):
    """SageMaker's endpoints and CloudWatch's alarms."""

    def ensure_model(self, request: dict[str, Any]) -> bool:
        """Create unless it exists."""
        ...

    def ensure_endpoint_config(self, request: dict[str, Any]) -> bool:
        """Create unless it exists."""
        ...

    def describe(self, endpoint: str) -> dict[str, Any] | None:
        """``DescribeEndpoint`` or None."""
        ...

    def deploy(self, endpoint: str, config: str, deployment_config: dict[str, Any] | None) -> str:
        """Create or update the endpoint."""
        ...

    def alarms_in_alarm(self, names: list[str]) -> list[str]:
        """The named alarms in ALARM."""
        ...


class Locks(Protocol):
    """The deployments table."""

    def acquire(self, endpoint: str, deployment: str, *, now: int, expires: int) -> str | None:
        """None when taken, else the holder."""
        ...

    def release(self, endpoint: str, deployment: str) -> None:
        """Let go of the lock."""
        ...

    def record(self, endpoint: str, started_at: str, deployment: str, document: dict[str, Any]) -> None:
        """Write the deployment's record."""
        ...


def prepare_deployment(
    request: DeploymentRequest,
    deployment: str,
    *,
    serving: ServingConfig,
    settings: DeploymentSettings,
    registry: Registry,
    endpoints: Endpoints,
    locks: Locks,
    now: int,
) -> dict[str, Any]:
    """Take the endpoint and start serving the version on it (see the module docstring).

    Returns
    -------
    dict
        ``{"status": "waiting", "holder"}``, ``{"status": "superseded", "outcome"}`` (lock already
        released, outcome recorded by :func:`finish_deployment`) or ``{"status": "started", "action",
        "model", "endpoint_config", "previous_config", "previous_version"}``.
    """
    holder = locks.acquire(
        request.endpoint,
        deployment,
        now=now,
        expires=now + max(settings.lock_seconds, serving.rollout.max_seconds),
    )
    if holder is not None:
        return {"status": "waiting", "holder": holder}
    version = registry.describe(request.package_arn)
    if version.approval_status != "Approved":
        reason = f"version {request.version} is {version.approval_status} now, no longer Approved"
        return {"status": "superseded", "outcome": Outcome("superseded", reason).to_dict()}
    newer = superseded_by(request.version, registry.approved_versions(version.group))
    if newer is not None:
        reason = f"version {newer} was approved after version {request.version}: it deploys instead"
        return {"status": "superseded", "outcome": Outcome("superseded", reason).to_dict()}
    current = endpoints.describe(request.endpoint)
    previous_config = current.get("EndpointConfigName") if current else None
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": str(serving.max_payload_bytes)}
    model = model_name(request.endpoint, request.version, environment)
    config = endpoint_config_name(request.endpoint, request.version, deployment)
    endpoints.ensure_model(model_request(model, request.package_arn, settings.role_arn, environment))
    capture_uri = f"s3://{settings.data_bucket}/capture/{request.dataset}/"
    endpoints.ensure_endpoint_config(
        endpoint_config_request(config, model, serving, kms_key=settings.kms_key, capture_uri=capture_uri)
    )
    rollout = (
        deployment_config(serving, alarm_names(request.endpoint)) if serving.mode == "realtime" else None
    )
    action = endpoints.deploy(request.endpoint, config, rollout)
    return {
        "status": "started",
        "action": action,
        "model": model,
        "endpoint_config": config,
        "previous_config": previous_config,
        "previous_version": version_of(previous_config, request.endpoint),
    }


def finish_deployment(
    request: DeploymentRequest,
    deployment: str,
    prepared: Mapping[str, Any] | None,
    *,
    error: Mapping[str, Any] | None,
    registry: Registry,
    endpoints: Endpoints,
    locks: Locks,
    started_at: str,
    now: str,
) -> Outcome:
    """Verify, record and announce the deployment's outcome; let go of the endpoint.

    Parameters
    ----------
    prepared : mapping, optional
        :func:`prepare_deployment`'s result (None when the workflow failed before it).
    error : mapping, optional
        The workflow's caught error (``Error``, ``Cause``): the outcome is then "failed".
    started_at, now : str
        ISO 8601: when the deployment started; now.
    """
    prepared = prepared or {}
    if error is not None:
        # A Lambda error's cause is a document with its stack trace: its type and message are the reason.
        reason = failure_message(error.get("Error"), error.get("Cause"))[:MAX_ERROR]
        outcome = Outcome("failed", reason or "Error")
    elif prepared.get("status") == "superseded":
        outcome = Outcome(**prepared["outcome"])
    else:
        described = endpoints.describe(request.endpoint) or {"EndpointStatus": "Missing"}
        alarms = endpoints.alarms_in_alarm(alarm_names(request.endpoint))
        outcome = verify(described, str(prepared.get("endpoint_config")), alarms)
    metadata = {
        "deployment.status": outcome.status,
        "deployment.endpoint": request.endpoint,
        "deployment.at": metadata_value(now),
        "deployment.reason": metadata_value(outcome.reason) or outcome.status,
        "deployment.execution": metadata_value(deployment),
    }
    registry.record_deployment(request.package_arn, metadata)
    previous = prepared.get("previous_version")
    if outcome.status == "deployed" and previous is not None and previous != request.version:
        replaced = _package_arn(request.package_arn, int(previous))  # the same group
        registry.record_deployment(
            replaced,
            {
                "deployment.status": "replaced",
                "deployment.at": metadata_value(now),
                "deployment.reason": f"replaced by version {request.version} on {request.endpoint}",
            },
        )
    locks.record(
        request.endpoint,
        started_at,
        deployment,
        {
            "dataset": request.dataset,
            "version": request.version,
            "package_arn": request.package_arn,
            "trigger": request.trigger,
            "trigger_reason": request.reason,
            "started_at": started_at,
            "ended_at": now,
            "previous_version": previous,
            **outcome.to_dict(),
        },
    )
    locks.release(request.endpoint, deployment)
    return outcome


def _package_arn(arn: str, version: int) -> str:
    """The ARN of another version of the same group: ``.../model-package/<group>/<version>``."""
    return f"{arn.rsplit('/', 1)[0]}/{version}"
