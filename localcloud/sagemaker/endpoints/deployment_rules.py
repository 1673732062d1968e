"""``UpdateEndpoint``'s ``DeploymentConfig``, validated as SageMaker does (moto has no UpdateEndpoint).

Ranges and enums of the API reference, and the sizes of a canary or a linear step against the instance
count of the new configuration: a size is whole instances (a percentage is rounded up), a canary at
most half of them, a linear step 10 to 50 % of them, a rolling batch 5 to 50 %.

- DeploymentConfig: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeploymentConfig.html
- BlueGreenUpdatePolicy (TerminationWaitInSeconds 0-3600, MaximumExecutionTimeoutInSeconds 600-28800):
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_BlueGreenUpdatePolicy.html
- TrafficRoutingConfig (Type, WaitIntervalInSeconds 0-3600 required, CanarySize <= 50 %, LinearStepSize
  10-50 % of the variant's instances):
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html
- CapacitySize (Type INSTANCE_COUNT | CAPACITY_PERCENT, Value an integer >= 1):
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CapacitySize.html
- AutoRollbackConfig (1 to 10 alarms): https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html
- RollingUpdatePolicy (MaximumBatchSize 5-50 % of the variant's instances, WaitIntervalInSeconds 0-3600
  required, timeout 600-28800):
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_RollingUpdatePolicy.html
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from localcloud.errors import constraint_failure, validation_errors

ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
SIZE_TYPES = ("CAPACITY_PERCENT", "INSTANCE_COUNT")


def _constraint(value: Any, where: str, constraint: str) -> ValidationError:
    return ValidationError(message=validation_errors([constraint_failure(value, where, constraint)]))


def check_integer(
    holder: Mapping[str, Any], key: str, where: str, low: int, high: int | None, *, required: bool = False
) -> None:
    """Refuse ``holder[key]`` unless an integer in ``low``..``high``, with its path in AWS's form.

    Raises
    ------
    ValidationError
        "1 validation error detected: Value ... at 'where.key' failed to satisfy constraint: ...".
    """
    value = holder.get(key)
    path = f"{where}.{key[0].lower()}{key[1:]}"
    if value is None:
        if required:
            raise _constraint(None, path, "Member must not be null")
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _constraint(value, path, "Member must be an integer")
    if value < low:
        raise _constraint(value, path, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        raise _constraint(value, path, f"Member must have value less than or equal to {high}")


def size_instances(size: Mapping[str, Any] | None, where: str, instances: int) -> int:
    """A ``CapacitySize`` in instances of a fleet of ``instances`` (a percentage rounded up).

    Raises
    ------
    ValidationError
        If the type or the value is not one SageMaker takes.
    """
    if not size:
        raise _constraint(None, where, "Member must not be null")
    if size.get("Type") not in SIZE_TYPES:
        raise _constraint(
            size.get("Type"), f"{where}.type", f"Member must satisfy enum value set: {list(SIZE_TYPES)}"
        )
    check_integer(size, "Value", where, 1, None, required=True)
    value = int(size["Value"])
    return value if size["Type"] == "INSTANCE_COUNT" else max(1, math.ceil(instances * value / 100))


def validate_deployment_config(config: Mapping[str, Any], instances: int) -> None:
    """Refuse a ``DeploymentConfig`` SageMaker refuses for a new fleet of ``instances`` instances.

    Raises
    ------
    ValidationError
        With SageMaker's wording for a constraint of the API reference.
    """
    alarms = (config.get("AutoRollbackConfiguration") or {}).get("Alarms")
    if alarms is not None and not 1 <= len(alarms) <= 10:
        raise _constraint(
            alarms,
            "deploymentConfig.autoRollbackConfiguration.alarms",
            "Member must have length less than or equal to 10 and greater than or equal to 1",
        )
    blue_green, rolling = config.get("BlueGreenUpdatePolicy"), config.get("RollingUpdatePolicy")
    if blue_green is not None and rolling is not None:
        raise ValidationError(
            message="Only one of BlueGreenUpdatePolicy and RollingUpdatePolicy can be given."
        )
    if rolling is not None:
        where = "deploymentConfig.rollingUpdatePolicy"
        batch = size_instances(rolling.get("MaximumBatchSize"), f"{where}.maximumBatchSize", instances)
        if 2 * batch > instances or 20 * batch < instances:
            raise ValidationError(
                message=f"MaximumBatchSize ({batch} instance(s)) must be 5-50% of the variant's total "
                f"instance count ({instances})."
            )
        check_integer(rolling, "WaitIntervalInSeconds", where, 0, 3600, required=True)
        check_integer(rolling, "MaximumExecutionTimeoutInSeconds", where, 600, 28_800)
        return
    if blue_green is None:
        raise ValidationError(message="DeploymentConfig needs a BlueGreenUpdatePolicy or RollingUpdatePolicy")
    where = "deploymentConfig.blueGreenUpdatePolicy"
    check_integer(blue_green, "TerminationWaitInSeconds", where, 0, 3600)
    check_integer(blue_green, "MaximumExecutionTimeoutInSeconds", where, 600, 28_800)
    routing = blue_green.get("TrafficRoutingConfiguration")
    where = f"{where}.trafficRoutingConfiguration"
    if not routing:
        raise _constraint(None, where, "Member must not be null")
    kind = routing.get("Type")
    if kind not in ROUTING_TYPES:
        raise _constraint(kind, f"{where}.type", f"Member must satisfy enum value set: {list(ROUTING_TYPES)}")
    check_integer(routing, "WaitIntervalInSeconds", where, 0, 3600, required=True)
    if kind == "CANARY":
        canary = size_instances(routing.get("CanarySize"), f"{where}.canarySize", instances)
        if 2 * canary > instances:
            raise ValidationError(
                message=f"CanarySize ({canary} instance(s)) must be less than or equal to 50% of the "
                f"variant's total instance count ({instances})."
            )
    elif kind == "LINEAR":
        step = size_instances(routing.get("LinearStepSize"), f"{where}.linearStepSize", instances)
        if 2 * step > instances or 10 * step < instances:
            raise ValidationError(
                message=f"LinearStepSize ({step} instance(s)) must be 10-50% of the variant's total instance "
                f"count ({instances})."
            )
