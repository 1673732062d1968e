"""The model registry as AWS runs it: ``UpdateModelPackage`` semantics and state-change events.

moto sends no EventBridge event for model packages, and its ``UpdateModelPackage`` sets every field not
passed to None and replaces ``CustomerMetadataProperties``. Here:

- ``UpdateModelPackage`` changes only what it is given: ``ModelApprovalStatus`` and
  ``ApprovalDescription`` when passed, ``CustomerMetadataProperties`` merged into the existing ones,
  ``CustomerMetadataPropertiesToRemove`` removed, ``AdditionalInferenceSpecificationsToAdd`` appended;
- ``CreateModelPackage`` and ``UpdateModelPackage`` send AWS's "SageMaker Model Package State Change"
  event (source ``aws.sagemaker``, the package ARN as resource, the package's description as detail, with
  times in epoch milliseconds) to the rules of the account's default bus, as ``s3_events`` sends S3's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from moto.core.utils import unix_time
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend

from localcloud.events.default_bus import send_to_default_bus
from localcloud.patches import Patch

DETAIL_TYPE = "SageMaker Model Package State Change"


def patches() -> list[Patch]:
    """The replacements of moto's ``CreateModelPackage`` and ``UpdateModelPackage``."""
    create = SageMakerModelBackend.create_model_package

    def create_model_package(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
        arn = str(create(backend, *args, **kwargs))
        send_state_change(backend, backend.model_packages[arn])
        return arn

    def update_model_package(
        backend: SageMakerModelBackend,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str] | None,
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        name = backend.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = backend.model_packages.get(name)
        if package is None:
            raise ValidationError(f"Model package {model_package_arn} not found")
        if model_approval_status is not None:
            package.set_model_approval_status(model_approval_status)
        if approval_description is not None:
            package.approval_description = approval_description
        metadata = dict(package.customer_metadata_properties or {})
        metadata.update(customer_metadata_properties or {})
        for key in customer_metadata_properties_to_remove or []:
            metadata.pop(key, None)
        # Replaced, never changed in place: a reader in another thread may be describing the package.
        package.customer_metadata_properties = metadata or None
        if additional_inference_specifications_to_add:
            package.add_additional_inference_specifications(additional_inference_specifications_to_add)
        package.modifications_done()
        send_state_change(backend, package)
        return str(package.arn)

    return [
        Patch(SageMakerModelBackend, "create_model_package", create_model_package),
        Patch(SageMakerModelBackend, "update_model_package", update_model_package),
    ]


def state_change_event(account_id: str, region: str, package: Any) -> dict[str, Any]:
    """AWS's "SageMaker Model Package State Change" event for ``package`` (moto's ``ModelPackage``)."""
    described = package.gen_response_object()
    detail: dict[str, Any] = {
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageArn": package.arn,
        # A versioned package is named after its group in the event, as in DescribeModelPackage on AWS.
        "ModelPackageName": package.model_package_name,
    }
    detail.update({key: _epoch_millis(value) for key, value in described.items() if key not in detail})
    detail.setdefault("CustomerMetadataProperties", {})
    detail = {key: value for key, value in detail.items() if value is not None}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.sagemaker",
        "account": account_id,
        "time": unix_time(),  # moto keeps event times as Unix seconds; deliveries write ISO 8601
        "region": region,
        "resources": [package.arn],
        "detail": detail,
    }


def send_state_change(backend: SageMakerModelBackend, package: Any) -> None:
    """Send the package's state-change event to the rules of the default bus."""
    event = state_change_event(backend.account_id, backend.region_name, package)
    send_to_default_bus(backend.account_id, backend.region_name, event, about=f"model package {package.arn}")


def _epoch_millis(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # moto's times are UTC
        return int(moment.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(item) for item in value]
    return value
