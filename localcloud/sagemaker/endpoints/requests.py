"""What SageMaker refuses in endpoint requests and moto accepts: configurations, and operations by status.

``CreateEndpointConfig``:

- a serverless variant whose model is network-isolated: Serverless Inference does not support network
  isolation (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions);
- ``ServerlessConfig`` outside its ranges: ``MemorySizeInMB`` 1024-6144 in steps of 1 GB,
  ``MaxConcurrency`` 1-200 (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html);
- ``KmsKeyId`` with an instance type that has local NVMe storage: "If you specify a value for KmsKeyId when
  using any nitro-based instances with local storage, the call to CreateEndpointConfig fails"
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html#sagemaker-CreateEndpointConfig-request-KmsKeyId).

Operations by ``EndpointStatus`` (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html#sagemaker-DescribeEndpoint-response-EndpointStatus):
``Failed``: "DeleteEndpoint is the only operation that can be performed on a failed endpoint";
``SystemUpdating``: "cannot be updated or deleted or re-scaled until it has completed"; an endpoint
``Creating`` cannot be deleted before it is ``InService`` or ``Failed``, and nothing but ``InService``
can be updated (UpdateEndpoint, UpdateEndpointWeightsAndCapacities).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from domain.instance_types import has_local_storage
from localcloud.sagemaker.endpoints.spec import model_container

UPDATE, DELETE, SCALE = "UpdateEndpoint", "DeleteEndpoint", "UpdateEndpointWeightsAndCapacities"
ALLOWED: Mapping[str, frozenset[str]] = {
    "InService": frozenset({UPDATE, DELETE, SCALE}),
    "Updating": frozenset({DELETE}),
    "Failed": frozenset({DELETE}),
    "UpdateRollbackFailed": frozenset({DELETE}),
    "OutOfService": frozenset({DELETE}),
    "Creating": frozenset(),
    "SystemUpdating": frozenset(),
    "RollingBack": frozenset(),
    "Deleting": frozenset(),
}
_IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
_MEMORY_SIZES = range(1024, 6144 + 1, 1024)


def check_operation(operation: str, status: str, arn: str) -> None:
    """Refuse ``operation`` on an endpoint in ``status`` unless SageMaker allows it there.

    Raises
    ------
    ValidationError
        "Cannot update in-progress endpoint ..." and the like, as SageMaker answers.
    """
    if operation in ALLOWED.get(status, frozenset()):
        return
    verb = {UPDATE: "update", DELETE: "delete", SCALE: "update weights and capacities of"}[operation]
    if status == "Failed":
        raise ValidationError(
            message=f'Cannot {verb} endpoint "{arn}" in status Failed: DeleteEndpoint is the only operation '
            "a failed endpoint accepts."
        )
    if status in _IN_PROGRESS:
        raise ValidationError(message=f'Cannot {verb} in-progress endpoint "{arn}".')
    raise ValidationError(message=f'Cannot {verb} endpoint "{arn}" in status {status}.')


def check_endpoint_config(backend: Any, request: Mapping[str, Any]) -> None:
    """Refuse a ``CreateEndpointConfig`` request SageMaker refuses (see the module docstring).

    Raises
    ------
    ValidationError
        Naming the variant and what to change.
    """
    variants = request.get("ProductionVariants") or []
    for index, variant in enumerate(variants, start=1):
        serverless = variant.get("ServerlessConfig")
        if serverless is None:
            continue
        memory, concurrency = serverless.get("MemorySizeInMB"), serverless.get("MaxConcurrency")
        where = f"productionVariants.{index}.member.serverlessConfig"
        if memory not in _MEMORY_SIZES:
            raise ValidationError(
                message=f"1 validation error detected: Value '{memory}' at '{where}.memorySizeInMB' failed "
                "to satisfy constraint: Member must be one of 1024, 2048, 3072, 4096, 5120, 6144"
            )
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 200:
            raise ValidationError(
                message=f"1 validation error detected: Value '{concurrency}' at '{where}.maxConcurrency' "
                "failed to satisfy constraint: Member must have value between 1 and 200"
            )
        _, isolated = model_container(backend, variant["ModelName"])  # ValidationError when missing
        if isolated:
            raise ValidationError(
                message=f"Network isolation is not supported for serverless endpoints: model "
                f"'{variant['ModelName']}' of production variant '{variant.get('VariantName')}' has "
                "EnableNetworkIsolation set. Create the model without network isolation, or give the "
                "variant an instance type."
            )
    if request.get("KmsKeyId"):
        local = sorted(
            {str(v["InstanceType"]) for v in variants if has_local_storage(str(v.get("InstanceType")))}
        )
        if local:
            raise ValidationError(
                message=f"KmsKeyId is not supported with instance type(s) {', '.join(local)}, whose local "
                "storage is encrypted by a hardware module on the instance. Remove KmsKeyId, or choose an "
                "instance type without local storage."
            )
