"""The local cloud's UpdateEndpoint refuses the DeploymentConfig SageMaker refuses (API reference ranges,
and canary and linear sizes against the new fleet's instance count)."""

from __future__ import annotations

from typing import Any

import pytest
from moto.sagemaker.exceptions import ValidationError

from localcloud.sagemaker.endpoints.plan import RolloutPlan
from localcloud.sagemaker.endpoints.requests import check_endpoint_config

CANARY_ONE = {
    "Type": "CANARY",
    "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
    "WaitIntervalInSeconds": 1,
}


def _config(routing: dict[str, Any] | None = None, **policy: Any) -> dict[str, Any]:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing or CANARY_ONE, **policy}}


@pytest.mark.parametrize(
    ("config", "instances", "message"),
    [
        (_config({**CANARY_ONE}), 1, "CanarySize (1 instance(s)) must be less than or equal to 50%"),
        (
            _config({**CANARY_ONE, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}),
            1,
            "of the variant's total instance count (1)",
        ),
        (
            _config({**CANARY_ONE, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}}),
            3,
            "CanarySize (2 instance(s))",
        ),
        (
            _config(
                {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    "WaitIntervalInSeconds": 0,
                }
            ),
            20,
            "LinearStepSize (1 instance(s)) must be 10-50%",
        ),
        (
            _config(
                {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 60},
                    "WaitIntervalInSeconds": 0,
                }
            ),
            10,
            "LinearStepSize (6 instance(s))",
        ),
        (_config({**CANARY_ONE, "CanarySize": {"Type": "PERCENT", "Value": 1}}), 4, "canarySize.type"),
        (
            _config({**CANARY_ONE, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1.5}}),
            4,
            "Member must be an integer",
        ),
        (
            _config({**CANARY_ONE, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 0}}),
            4,
            "greater than or equal to 1",
        ),
        (_config({"Type": "ALL_AT_ONCE"}), 4, "trafficRoutingConfiguration.waitIntervalInSeconds' failed"),
        (_config({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 3601}), 4, "less than or equal to 3600"),
        (_config(TerminationWaitInSeconds=3601), 4, "terminationWaitInSeconds' failed"),
        (_config(MaximumExecutionTimeoutInSeconds=599), 4, "greater than or equal to 600"),
        (_config(MaximumExecutionTimeoutInSeconds=28_801), 4, "less than or equal to 28800"),
        (
            _config()
            | {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"a{i}"} for i in range(11)]}},
            4,
            "autoRollbackConfiguration.alarms",
        ),
        (
            {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}}},
            4,
            "rollingUpdatePolicy.waitIntervalInSeconds",
        ),
        (
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 3},
                    "WaitIntervalInSeconds": 60,
                }
            },
            4,
            "MaximumBatchSize (3 instance(s)) must be 5-50% of the variant's total instance count (4)",
        ),
        (
            {
                "RollingUpdatePolicy": {
                    "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                    "WaitIntervalInSeconds": 60,
                }
            },
            21,
            "MaximumBatchSize (1 instance(s)) must be 5-50%",
        ),
    ],
    ids=[
        "canary of one instance",
        "canary 10% of one instance",
        "canary 50% of three",
        "linear step under 10%",
        "linear step over half",
        "unknown size type",
        "size not an integer",
        "size zero",
        "no wait interval",
        "wait over an hour",
        "termination wait over an hour",
        "timeout under 600",
        "timeout over 8 hours",
        "eleven alarms",
        "rolling without wait",
        "rolling batch over half",
        "rolling batch under 5%",
    ],
)
def test_a_deployment_config_sagemaker_refuses_is_refused(
    config: dict[str, Any], instances: int, message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RolloutPlan.from_deployment_config(config, green_instances=instances)


@pytest.mark.parametrize(
    ("concurrency", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (201, "Member must have value less than or equal to 200"),
    ],
)
def test_a_serverless_variant_s_concurrency_outside_1_to_200_is_refused(
    concurrency: int, constraint: str
) -> None:
    serverless = {"MemorySizeInMB": 1024, "MaxConcurrency": concurrency}
    request = {"ProductionVariants": [{"VariantName": "v", "ModelName": "m", "ServerlessConfig": serverless}]}

    # Refused before the model is looked up: no backend is needed.
    with pytest.raises(ValidationError) as refused:
        check_endpoint_config(None, request)

    assert refused.value.message == (
        f"1 validation error detected: Value '{concurrency}' at "
        "'productionVariants.1.member.serverlessConfig.maxConcurrency' failed to satisfy constraint: "
        f"{constraint}"
    )


def test_the_platform_s_rollout_for_two_instances_is_accepted() -> None:
    plan = RolloutPlan.from_deployment_config(
        _config(TerminationWaitInSeconds=600, MaximumExecutionTimeoutInSeconds=3600), green_instances=2
    )

    assert [step.share for step in plan.steps] == [0.5, 1.0]
