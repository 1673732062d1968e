"""What SageMaker refuses in endpoint requests and moto accepts: configurations, and operations by status.

``CreateEndpointConfig``:

- a serverless variant whose model is network-isolated: Serverless Inference does not support network
  isolation (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions);
- ``ServerlessConfig.MaxConcurrency`` outside 1-200 (moto checks ``MemorySizeInMB``,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html);
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

from collections.abc import Iterable, Mapping
from typing import Any

from moto.sagemaker.exceptions import ValidationError

# A table of AWS facts (which types have instance store), not a platform rule: unlike the name rules
# (resource_names.py, each checked against botocore's API model), nothing independent exists to build a
# second copy from, so the local cloud reads the same table (its unit tests hold it to AWS's families).
from domain.instance_types import has_local_storage
from localcloud.sagemaker.endpoints.deployment_rules import check_integer
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
        # MemorySizeInMB's values moto checks itself.
        where = f"productionVariants.{index}.member.serverlessConfig"
        check_integer(serverless, "MaxConcurrency", where, 1, 200, required=True)
        _, isolated = model_container(backend, variant["ModelName"])  # ValidationError when missing
        if isolated:
            raise ValidationError(
                message=f"Network isolation is not supported for serverless endpoints: model "
                f"'{variant['ModelName']}' of production variant '{variant.get('VariantName')}' has "
                "EnableNetworkIsolation set. Create the model without network isolation, or give the "
                "variant an instance type."
            )
    if request.get("KmsKeyId"):
        refuse_volume_key("KmsKeyId", (str(v.get("InstanceType")) for v in variants))


def refuse_volume_key(member: str, instance_types: Iterable[str]) -> None:
    """Refuse a volume KMS key (``member``) given with instance types that have local NVMe storage.

    ``CreateEndpointConfig``'s ``KmsKeyId`` and ``CreateTrainingJob``'s ``ResourceConfig.VolumeKmsKeyId``
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html#sagemaker-Type-ResourceConfig-VolumeKmsKeyId).

    Raises
    ------
    ValidationError
        Naming the types and what to change.
    """
    local = sorted({instance_type for instance_type in instance_types if has_local_storage(instance_type)})
    if local:
        raise ValidationError(
            message=f"{member} is not supported with instance type(s) {', '.join(local)}, whose local "
            f"storage is encrypted by a hardware module on the instance. Remove {member}, or choose an "
            "instance type without local storage."
        )
