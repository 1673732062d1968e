"""Deploying an approved model version: SageMaker requests, and what really happened.

Pure logic, free of AWS (the names it uses are built in :mod:`domain.names`). The deployment workflow
(``stacks/constructs/deployment_workflow.py``) runs it through ``lambdas/deployment_*``:

1. an approval becomes a deployment request named after the endpoint, the version and the approval's
   time, so the same approval announced twice starts one deployment (``domain.names.deployment_name``);
2. the request takes the endpoint's lock; a newer approval of the same dataset supersedes it
   (:func:`superseded_by`);
3. a SageMaker model from the model package, an endpoint configuration (:func:`endpoint_config_request`)
   and ``CreateEndpoint`` or ``UpdateEndpoint`` with a blue/green deployment configuration
   (:func:`deployment_config`);
4. the workflow waits while the endpoint is ``Creating``/``Updating``, then :func:`verify` compares what
   the endpoint runs with what was asked: SageMaker rolls back silently, leaving the endpoint
   ``InService`` on the previous configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from domain.deployment.serving_config import ServingConfig
from domain.instance_types import has_local_storage

__all__ = [
    "CAPTURE_CONTENT_TYPES",
    "DEPLOYED",
    "ROLLED_BACK",
    "SETTLING",
    "SUPERSEDED",
    "VARIANT",
    "Outcome",
    "deployment_config",
    "endpoint_config_request",
    "model_request",
    "superseded_by",
    "verify",
]

VARIANT = "AllTraffic"  # one production variant: blue/green swaps whole fleets behind it
# Statuses an endpoint leaves by itself. ``UpdateRollbackFailed`` is not one: it needs a person, so the
# workflow verifies (and records a failure) instead of waiting for it until its timeout.
SETTLING = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
CAPTURE_CONTENT_TYPES = {
    "CsvContentTypes": ["text/csv"],
    "JsonContentTypes": ["application/json", "application/jsonlines"],
}

Status = Literal["deployed", "rolled_back", "failed", "superseded"]
# The outcomes the workflow's Outcome? state tells apart (any other is a failure), by name.
DEPLOYED: Final[Status] = "deployed"
ROLLED_BACK: Final[Status] = "rolled_back"
SUPERSEDED: Final[Status] = "superseded"


def model_request(
    name: str, package_arn: str, role_arn: str, environment: Mapping[str, str], *, isolated: bool
) -> dict[str, Any]:
    """``CreateModel`` from a model package (its image, archive and code), with serving settings.

    ``isolated``: the container reaches no network (real-time endpoints). Serverless Inference does not
    support network isolation, and SageMaker refuses an isolated model on a serverless variant
    (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions);
    a serverless container runs without it, as SageMaker runs every serverless model.
    """
    return {
        "ModelName": name,
        "ExecutionRoleArn": role_arn,
        "Containers": [{"ModelPackageName": package_arn, "Environment": dict(environment)}],
        "EnableNetworkIsolation": isolated,
    }


def endpoint_config_request(
    name: str, model: str, serving: ServingConfig, *, kms_key: str, capture_uri: str
) -> dict[str, Any]:
    """``CreateEndpointConfig``: instances (or serverless), KMS, and data capture of inputs and outputs.

    Serverless endpoints take neither data capture nor a KMS key for instance storage; their requests
    are captured by the platform's invocation API instead. Instance types with local NVMe storage take
    no volume key either: SageMaker refuses one, and the instance encrypts that storage itself
    (``domain.instance_types``); the captured data is still encrypted with ``kms_key``.
    """
    variant: dict[str, Any] = {"VariantName": VARIANT, "ModelName": model}
    request: dict[str, Any] = {"EndpointConfigName": name}
    if serving.mode == "serverless":
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": serving.serverless.memory_mb,
            "MaxConcurrency": serving.serverless.max_concurrency,
        }
    else:
        variant |= {
            "InstanceType": serving.instance_type,
            "InitialInstanceCount": serving.instance_count,
            "InitialVariantWeight": 1.0,
        }
        if not has_local_storage(serving.instance_type):
            request["KmsKeyId"] = kms_key
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": serving.capture_percent,
            "DestinationS3Uri": capture_uri,
            "KmsKeyId": kms_key,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": CAPTURE_CONTENT_TYPES,
        }
    request["ProductionVariants"] = [variant]
    return request


def deployment_config(serving: ServingConfig, alarm_names: list[str]) -> dict[str, Any]:
    """``DeploymentConfig`` of ``UpdateEndpoint``: blue/green traffic shifting, rollback on the alarms.

    A canary or a linear step is given in instances (``INSTANCE_COUNT``), the configured percentage of
    ``instance_count`` rounded up, which ``ServingConfig`` checked is at most half of the fleet: what
    SageMaker turns on is then exactly what was validated, whatever its own rounding of a percentage.
    """
    rollout = serving.rollout
    routing: dict[str, Any] = {"WaitIntervalInSeconds": rollout.wait_seconds}
    step = serving.step_instances()
    if rollout.strategy == "canary" and step is not None:
        routing |= {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": step}}
    elif rollout.strategy == "linear" and step is not None:
        routing |= {"Type": "LINEAR", "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": step}}
    else:
        routing["Type"] = "ALL_AT_ONCE"
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": rollout.bake_seconds,
            "MaximumExecutionTimeoutInSeconds": rollout.max_seconds,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


def superseded_by(version: int, approved_versions: list[int]) -> int | None:
    """The newest approved version after ``version``, which makes deploying ``version`` pointless.

    That approval deploys itself once this one has let go of the endpoint. ``None``: go ahead. (A
    rollback rejects the versions after its target first, so the target is the newest approved.)
    """
    newer = [v for v in approved_versions if v > version]
    return max(newer) if newer else None


@dataclass(frozen=True)
class Outcome:
    """How a deployment ended, as recorded on the model package and announced.

    Attributes
    ----------
    status : {"deployed", "rolled_back", "failed", "superseded"}
    reason : str
        Why, in one sentence.
    endpoint_config : str or None
        What the endpoint runs now.
    alarms : list of str
        The rollback alarms that were in ALARM when the deployment ended.
    """

    status: Status
    reason: str
    endpoint_config: str | None = None
    alarms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the workflow's state)."""
        return asdict(self)


def verify(described: Mapping[str, Any], expected_config: str, alarms_in_alarm: list[str]) -> Outcome:
    """What a deployment really did, from ``DescribeEndpoint`` once it settled.

    Parameters
    ----------
    described : mapping
        ``DescribeEndpoint``: ``EndpointStatus``, ``EndpointConfigName``, ``FailureReason``.
    expected_config : str
        The endpoint configuration the deployment asked for.
    alarms_in_alarm : list of str
        The deployment's rollback alarms now in ALARM.
    """
    status = described.get("EndpointStatus")
    running = described.get("EndpointConfigName")
    failure = described.get("FailureReason") or ""
    if status in SETTLING:
        raise ValueError(f"the endpoint is still {status}: verify once it settled")
    if status == "InService" and running == expected_config:
        return Outcome("deployed", f"the endpoint serves {expected_config}", running, alarms_in_alarm)
    if status == "InService":
        if alarms_in_alarm:
            why = f"alarm(s) {', '.join(alarms_in_alarm)} went into ALARM during the rollout"
        else:
            why = failure or "SageMaker rolled the update back"
        return Outcome("rolled_back", f"{why}; the endpoint still serves {running}", running, alarms_in_alarm)
    reason = failure or f"the endpoint is {status}"
    return Outcome("failed", reason, running, alarms_in_alarm)
