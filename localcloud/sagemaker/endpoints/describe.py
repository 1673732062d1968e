"""What ``DescribeEndpoint`` and ``ListEndpoints`` report, written into moto's endpoint model.

moto answers from the model's attributes (each one becomes a field, None left out, the output shape
deciding what is kept), so the fleet manager writes the fields SageMaker reports there as the endpoint
moves: ``EndpointStatus``, ``EndpointConfigName``, ``ProductionVariants`` (weights, instance counts,
``DeployedImages``, ``VariantStatus`` while a variant is not yet serving), ``DataCaptureConfig`` (as
``DataCaptureConfigSummary``), ``PendingDeploymentSummary`` during an update, ``LastDeploymentConfig``,
``FailureReason`` and ``LastModifiedTime``. Every attribute exists from creation on, and values are
replaced, never changed in place: a reader in another thread never sees a half-written one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)
from moto.sagemaker.models import FakeEndpoint

from localcloud.sagemaker.endpoints.spec import FleetSpec, VariantSpec


def new_endpoint(account_id: str, region: str, name: str, spec: FleetSpec, tags: Any) -> Any:
    """moto's endpoint, ``Creating``, with every field this module ever writes."""
    endpoint = cast(Any, FakeEndpoint)(
        account_id=account_id,
        region_name=region,
        endpoint_name=name,
        endpoint_config_name=spec.config_name,
        production_variants=[],
        data_capture_config={},
        tags=tags,
    )
    endpoint.pending_deployment_summary = None
    endpoint.last_deployment_config = None
    creating(endpoint, spec)
    return endpoint


def creating(endpoint: Any, spec: FleetSpec) -> None:
    """``Creating``: the variants are being created."""
    now = moto_utils.utcnow()
    endpoint.endpoint_config_name = spec.config_name
    endpoint.production_variants = [variant_summary(v, status="Creating", since=now) for v in spec.variants]
    endpoint.data_capture_config = capture_summary(spec.capture_config)
    endpoint.failure_reason = None
    endpoint.pending_deployment_summary = None
    endpoint.endpoint_status = "Creating"
    endpoint.last_modified_time = now


def in_service(endpoint: Any, spec: FleetSpec, *, deployed_at: datetime, failure_reason: str | None) -> None:
    """``InService`` on ``spec``'s configuration."""
    endpoint.endpoint_config_name = spec.config_name
    endpoint.production_variants = [variant_summary(v, deployed_at=deployed_at) for v in spec.variants]
    endpoint.data_capture_config = capture_summary(spec.capture_config)
    endpoint.pending_deployment_summary = None
    endpoint.failure_reason = failure_reason
    endpoint.endpoint_status = "InService"
    endpoint.last_modified_time = moto_utils.utcnow()


def failed(endpoint: Any, reason: str) -> None:
    """``Failed``, with its ``FailureReason``."""
    endpoint.pending_deployment_summary = None
    endpoint.production_variants = [
        {k: v for k, v in variant.items() if k != "VariantStatus"}
        | ({"CurrentInstanceCount": 0} if "CurrentInstanceCount" in variant else {})
        for variant in endpoint.production_variants or []
    ]
    endpoint.failure_reason = reason
    endpoint.endpoint_status = "Failed"
    endpoint.last_modified_time = moto_utils.utcnow()


def deleting(endpoint: Any) -> None:
    """``Deleting``: DeleteEndpoint was called; the endpoint is gone once its fleets are stopped."""
    endpoint.pending_deployment_summary = None
    endpoint.endpoint_status = "Deleting"
    endpoint.last_modified_time = moto_utils.utcnow()


def updating(
    endpoint: Any,
    green: FleetSpec,
    *,
    variant_status: str,
    started_at: datetime,
    deployment_config: Mapping[str, Any] | None,
) -> None:
    """``Updating``: the green fleet is ``Creating``, ``ActivatingTraffic`` or ``Baking``."""
    now = moto_utils.utcnow()
    endpoint.pending_deployment_summary = {
        "EndpointConfigName": green.config_name,
        "ProductionVariants": [
            variant_summary(v, status=variant_status, since=now, pending=True, deployed_at=now)
            for v in green.variants
        ],
        "StartTime": started_at,
    }
    if deployment_config is not None:
        endpoint.last_deployment_config = dict(deployment_config)
    endpoint.failure_reason = None
    endpoint.endpoint_status = "Updating"
    endpoint.last_modified_time = now


def variant_summary(
    variant: VariantSpec,
    *,
    status: str | None = None,
    since: datetime | None = None,
    pending: bool = False,
    deployed_at: datetime | None = None,
) -> dict[str, Any]:
    """A ``ProductionVariantSummary`` (or ``PendingProductionVariantSummary``) of one variant."""
    creating = status == "Creating"
    summary: dict[str, Any] = {"VariantName": variant.name}
    if variant.image and deployed_at is not None and not creating:
        summary["DeployedImages"] = [
            {
                "SpecifiedImage": variant.image,
                "ResolvedImage": resolved_image(variant.image),
                "ResolutionTime": deployed_at,
            }
        ]
    summary["CurrentWeight"] = variant.weight
    summary["DesiredWeight"] = variant.weight
    if variant.serverless is not None:
        summary["CurrentServerlessConfig"] = dict(variant.serverless)
        summary["DesiredServerlessConfig"] = dict(variant.serverless)
    else:
        summary["CurrentInstanceCount"] = 0 if creating else variant.instance_count
        summary["DesiredInstanceCount"] = variant.instance_count
        if pending and variant.instance_type:
            summary["InstanceType"] = variant.instance_type
    if status is not None:
        summary["VariantStatus"] = [
            {"Status": status, "StatusMessage": _MESSAGES[status], "StartTime": since}
        ]
    return summary


def capture_summary(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``DataCaptureConfigSummary`` of an endpoint configuration's ``DataCaptureConfig``."""
    if not config:
        return None
    enabled = config.get("EnableCapture", True) is not False
    summary: dict[str, Any] = {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(config.get("InitialSamplingPercentage", 0)),
        "DestinationS3Uri": config.get("DestinationS3Uri"),
    }
    if config.get("KmsKeyId"):
        summary["KmsKeyId"] = config["KmsKeyId"]
    return summary


def resolved_image(image: str) -> str:
    """``<repository>@sha256:<digest>``: a made-up digest, stable for one image (no registry here)."""
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


_MESSAGES = {
    "Creating": "Creating the inference resources for the production variant.",
    "ActivatingTraffic": "Turning on traffic for the production variant.",
    "Baking": "Waiting, with the traffic on the production variant, while the alarms are monitored.",
}
