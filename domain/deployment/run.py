"""One deployment of an approved model version: take the endpoint, deploy, then record what happened.

The use cases behind the deployment workflow's two functions, free of AWS (adapters are protocols):

- :func:`prepare_deployment`: take the endpoint's lock (or say "waiting"), drop a request that a newer
  approval or a withdrawal made pointless ("superseded"), create the model and the endpoint
  configuration, and create the endpoint or start its blue/green update ("started"). An endpoint
  that is busy (``Creating``, ``Updating``, ``Deleting``...) is waited for; a ``Failed`` one, which
  SageMaker lets only be deleted, is deleted, waited for until gone (the name is reused), and created
  again; one that needs a person (``UpdateRollbackFailed``, ``OutOfService``) fails the deployment
  before anything is created.
- :func:`finish_deployment`: once the endpoint settled, verify what it runs, record the outcome on the
  model package (and "replaced" on the version it replaced) and in the deployments table, let go of the
  lock. Also on the workflow's error path, where the outcome is "failed" with the error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from domain import model_metadata as keys
from domain.deployment.endpoint import (
    SETTLING,
    Outcome,
    deployment_config,
    endpoint_config_request,
    model_request,
    superseded_by,
    verify,
)
from domain.deployment.request import DeploymentRequest
from domain.deployment.serving_config import ServingConfig
from domain.deployment.steps import CaughtError, FailedEndpoint, Prepared
from domain.failures import failure_message
from domain.model_metadata import metadata_value
from domain.names import alarm_names, capture_uri_prefix, endpoint_config_name, model_name, version_of
from domain.registry import ModelRegistry
from domain.state_limits import cap_text

__all__ = [
    "DeploymentSettings",
    "EndpointStateError",
    "Endpoints",
    "Locks",
    "finish_deployment",
    "prepare_deployment",
]

MAX_ERROR = 512


# What the workflow does with each EndpointStatus (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html#sagemaker-DescribeEndpoint-response-EndpointStatus):
# an endpoint that changes by itself is waited for; Failed accepts only DeleteEndpoint; these need a person.
BUSY = SETTLING | {"Deleting"}
NEEDS_A_PERSON = frozenset({"UpdateRollbackFailed", "OutOfService"})


class EndpointStateError(RuntimeError):
    """The endpoint is in a status the workflow cannot deploy over; a person must act first."""


@dataclass(frozen=True)
class DeploymentSettings:
    """Where the deployment's resources come from (the stack's)."""

    role_arn: str
    kms_key: str
    data_bucket: str
    lock_seconds: int = 6 * 3600


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

    def delete(self, endpoint: str) -> None:
        """``DeleteEndpoint`` (returns while it is ``Deleting``)."""
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
    registry: ModelRegistry,
    endpoints: Endpoints,
    locks: Locks,
    now: int,
    previous: Prepared | None = None,
) -> Prepared:
    """Take the endpoint and start serving the version on it (see the module docstring).

    Parameters
    ----------
    previous : Prepared, optional
        The result of this deployment's previous call, when it said "waiting": it carries the failed
        endpoint being replaced from one call to the next.

    Returns
    -------
    Prepared
        "waiting" with the lock's holder (and the endpoint's status when the endpoint itself is waited
        for, and the failed endpoint while it is deleted), "superseded" with the outcome (lock already
        released, outcome recorded by :func:`finish_deployment`) or "started" with what was created.

    Raises
    ------
    EndpointStateError
        If the endpoint is ``UpdateRollbackFailed`` or ``OutOfService`` (nothing is created).
    """
    holder = locks.acquire(
        request.endpoint,
        deployment,
        now=now,
        expires=now + max(settings.lock_seconds, serving.rollout.max_seconds),
    )
    if holder is not None:
        return Prepared("waiting", holder=holder)
    version = registry.describe(request.package_arn)
    if version.approval_status != "Approved":
        reason = f"version {request.version} is {version.approval_status} now, no longer Approved"
        return Prepared("superseded", outcome=Outcome("superseded", reason))
    newer = superseded_by(request.version, registry.approved_versions(version.group))
    if newer is not None:
        reason = f"version {newer} was approved after version {request.version}: it deploys instead"
        return Prepared("superseded", outcome=Outcome("superseded", reason))
    current = endpoints.describe(request.endpoint)
    status = current.get("EndpointStatus") if current else None
    replacing = previous.replacing if previous else None
    if current is not None and status == "Failed":
        replacing = FailedEndpoint(
            current.get("EndpointConfigName"),
            cap_text(str(current.get("FailureReason") or "no reason given"), MAX_ERROR),
        )
        endpoints.delete(request.endpoint)
        return Prepared("waiting", holder=deployment, endpoint_status="Deleting", replacing=replacing)
    if status in BUSY:
        return Prepared("waiting", holder=deployment, endpoint_status=status, replacing=replacing)
    if current is not None and status in NEEDS_A_PERSON:
        raise EndpointStateError(
            f"endpoint {request.endpoint} is {status} ({current.get('FailureReason') or 'no reason given'}): "
            "SageMaker cannot update it until it is InService again; restore or delete it, then approve "
            f"version {request.version} again"
        )
    previous_config = current.get("EndpointConfigName") if current else None
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": str(serving.max_payload_bytes)}
    isolated = serving.mode == "realtime"  # serverless inference refuses network isolation
    model = model_name(request.endpoint, request.version, environment, isolated=isolated)
    config = endpoint_config_name(request.endpoint, request.version, deployment)
    endpoints.ensure_model(
        model_request(model, request.package_arn, settings.role_arn, environment, isolated=isolated)
    )
    # Each version's configuration captures under its own prefix: during a blue/green update both fleets
    # capture, each with its configuration, so the monitor splits a canary's traffic by version exactly.
    capture_uri = f"s3://{settings.data_bucket}/{capture_uri_prefix(request.dataset, request.version)}"
    endpoints.ensure_endpoint_config(
        endpoint_config_request(config, model, serving, kms_key=settings.kms_key, capture_uri=capture_uri)
    )
    rollout = (
        deployment_config(serving, alarm_names(request.endpoint)) if serving.mode == "realtime" else None
    )
    action = endpoints.deploy(request.endpoint, config, rollout)
    if replacing and action == "created":
        action = "recreated"
    return Prepared(
        "started",
        action=action,
        model=model,
        endpoint_config=config,
        previous_config=previous_config or (replacing.endpoint_config if replacing else None),
        previous_version=version_of(previous_config, request.endpoint),
        replacing=replacing,
    )


def finish_deployment(
    request: DeploymentRequest,
    deployment: str,
    prepared: Prepared | None,
    *,
    error: CaughtError | None,
    registry: ModelRegistry,
    endpoints: Endpoints,
    locks: Locks,
    started_at: str,
    now: str,
) -> Outcome:
    """Verify, record and announce the deployment's outcome; let go of the endpoint.

    Parameters
    ----------
    prepared : Prepared, optional
        :func:`prepare_deployment`'s result (None when the workflow failed before it).
    error : CaughtError, optional
        The workflow's caught error: the outcome is then "failed".
    started_at, now : str
        ISO 8601: when the deployment started; now.
    """
    prepared = prepared or Prepared("pending")
    if error is not None:
        # A Lambda error's cause is a document with its stack trace: its type and message are the reason.
        reason = cap_text(failure_message(error.error, error.cause), MAX_ERROR)
        outcome = Outcome("failed", reason or "Error")
    elif prepared.status == "superseded" and prepared.outcome is not None:
        outcome = prepared.outcome
    else:
        described = endpoints.describe(request.endpoint) or {"EndpointStatus": "Missing"}
        alarms = endpoints.alarms_in_alarm(alarm_names(request.endpoint))
        outcome = verify(described, str(prepared.endpoint_config), alarms)
    replaced_failed = prepared.replaced_failed
    if replaced_failed:
        why = f"{replaced_failed.endpoint_config} had failed: {replaced_failed.reason}"
        reason = f"{outcome.reason}; the Failed endpoint was deleted and created again ({why})"
        outcome = replace(outcome, reason=reason)
    # The outcome is the Finish step's result ($.outcome), and its reason the alert's and the Fail
    # state's cause: bounded whatever an error's message or SageMaker's FailureReason held.
    outcome = replace(outcome, reason=cap_text(outcome.reason, MAX_ERROR))
    metadata = {
        keys.DEPLOYMENT_STATUS: outcome.status,
        keys.DEPLOYMENT_ENDPOINT: request.endpoint,
        keys.DEPLOYMENT_AT: metadata_value(now),
        keys.DEPLOYMENT_REASON: metadata_value(outcome.reason) or outcome.status,
        keys.DEPLOYMENT_EXECUTION: metadata_value(deployment),
    }
    registry.record_deployment(request.package_arn, metadata)
    previous = prepared.previous_version
    if outcome.status == "deployed" and previous is not None and previous != request.version:
        replaced = _package_arn(request.package_arn, int(previous))  # the same group
        registry.record_deployment(
            replaced,
            {
                keys.DEPLOYMENT_STATUS: keys.REPLACED,
                keys.DEPLOYMENT_AT: metadata_value(now),
                keys.DEPLOYMENT_REASON: f"replaced by version {request.version} on {request.endpoint}",
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
            "replaced_failed_endpoint": replaced_failed.to_state() if replaced_failed else None,
            **outcome.to_dict(),
        },
    )
    locks.release(request.endpoint, deployment)
    return outcome


def _package_arn(arn: str, version: int) -> str:
    """The ARN of another version of the same group: ``.../model-package/<group>/<version>``."""
    return f"{arn.rsplit('/', 1)[0]}/{version}"
