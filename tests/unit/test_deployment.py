"""Deploying an approved version: names, SageMaker requests, and what the endpoint really runs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.deployment.endpoint import (
    deployment_config,
    endpoint_config_request,
    model_request,
    superseded_by,
    verify,
)
from domain.deployment.serving_config import ServingConfig, parse_serving_config
from domain.names import deployment_name, endpoint_config_name, endpoint_name, model_name, version_of

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
CAPTURE = "s3://data/capture/churn/"


def test_names_are_stable_valid_and_within_sagemaker_s_limits() -> None:
    endpoint = endpoint_name("mlops", "churn")

    assert endpoint == "mlops-churn"
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": "1024"}
    model = model_name(endpoint, 3, environment, isolated=True)
    assert model.startswith("mlops-churn-v3-")
    assert model == model_name(endpoint, 3, dict(environment), isolated=True)
    assert model != model_name(endpoint, 3, {"MLOPS_MAX_PAYLOAD_BYTES": "2048"}, isolated=True)
    assert version_of(model, endpoint) == 3
    long = endpoint_name("project-name-21-chars", "a" * 62)
    assert len(long) == 63
    assert long == endpoint_name("project-name-21-chars", "a" * 62)
    assert len(endpoint_config_name(long, 12345, "execution")) == 63
    assert len(model_name(long, 12345, environment, isolated=True)) <= 63


def test_a_serverless_model_is_never_the_isolated_model_of_the_same_version() -> None:
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": "1024"}

    # Serverless Inference refuses an isolated model: reusing the real-time one would fail the deployment.
    isolated = model_name("mlops-churn", 3, environment, isolated=True)
    assert isolated != model_name("mlops-churn", 3, environment, isolated=False)
    assert version_of(model_name("mlops-churn", 3, environment, isolated=False), "mlops-churn") == 3


def test_long_endpoints_that_start_alike_get_names_of_their_own() -> None:
    first, second = (endpoint_name("mlops", "customer-lifetime-value-" + "x" * 25 + end) for end in "ab")
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": "1024"}

    models = [model_name(e, 123456, environment, isolated=True) for e in (first, second)]
    configs = [endpoint_config_name(e, 123456, "deployment") for e in (first, second)]
    executions = [deployment_name(e, 123456, "2026-11-26T10:00:00+00:00") for e in (first, second)]
    for made, limit in ((models, 63), (configs, 63), (executions, 80)):
        assert made[0] != made[1] and all(len(name) <= limit for name in made)
        assert all(name.startswith("mlops-customer-lifetime-value-") for name in made)
    assert [version_of(c, first) for c in configs] == [123456, None]
    assert [version_of(c, second) for c in configs] == [None, 123456]


def test_every_deployment_gets_its_own_endpoint_configuration_and_an_approval_one_execution() -> None:
    first = endpoint_config_name("mlops-churn", 2, "deployment-a")

    assert first != endpoint_config_name("mlops-churn", 2, "deployment-b")
    assert first.startswith("mlops-churn-v2-")
    approval = deployment_name("mlops-churn", 2, "2026-11-26T10:00:00+00:00")
    assert approval == deployment_name("mlops-churn", 2, "2026-11-26T10:00:00+00:00")
    assert approval != deployment_name("mlops-churn", 2, "2026-11-26T11:00:00+00:00")
    assert len(approval) <= 80


def test_the_model_comes_from_the_package_with_the_serving_settings_isolated_when_asked() -> None:
    environment = {"MLOPS_MAX_PAYLOAD_BYTES": "1024"}
    request = model_request("mlops-churn-v2", "arn:pkg/2", "arn:role", environment, isolated=True)

    assert request["Containers"] == [
        {"ModelPackageName": "arn:pkg/2", "Environment": {"MLOPS_MAX_PAYLOAD_BYTES": "1024"}}
    ]
    assert request["EnableNetworkIsolation"] is True
    assert (
        model_request("m", "arn:pkg/2", "arn:role", environment, isolated=False)["EnableNetworkIsolation"]
        is False
    )


def test_a_real_time_configuration_captures_inputs_and_outputs_encrypted() -> None:
    serving = parse_serving_config(
        {"instance_type": "ml.c5.xlarge", "instance_count": 2, "capture_percent": 50}
    )

    request = endpoint_config_request("cfg", "model", serving, kms_key=KEY, capture_uri=CAPTURE)

    (variant,) = request["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)
    assert request["KmsKeyId"] == KEY
    capture = request["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 50
    assert capture["DestinationS3Uri"] == CAPTURE
    assert capture["KmsKeyId"] == KEY
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}


def test_a_serverless_configuration_has_memory_and_concurrency_and_no_capture() -> None:
    serving = parse_serving_config(
        {"mode": "serverless", "serverless": {"memory_mb": 4096, "max_concurrency": 8}}
    )

    request = endpoint_config_request("cfg", "model", serving, kms_key=KEY, capture_uri=CAPTURE)

    (variant,) = request["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 8}
    assert "InstanceType" not in variant
    assert "DataCaptureConfig" not in request
    assert serving.max_payload_bytes == 4 * 1024 * 1024


@pytest.mark.parametrize(
    ("rollout", "routing"),
    [
        (
            {"strategy": "canary", "canary_percent": 20, "wait_seconds": 120},
            {
                "Type": "CANARY",
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},  # 20% of 4 instances, rounded up
                "WaitIntervalInSeconds": 120,
            },
        ),
        (
            {"strategy": "linear", "linear_step_percent": 25, "wait_seconds": 60},
            {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": 60,
            },
        ),
        ({"strategy": "all_at_once", "wait_seconds": 0}, {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
    ],
)
def test_the_update_shifts_traffic_as_configured_and_rolls_back_on_the_alarms(
    rollout: dict[str, Any], routing: dict[str, Any]
) -> None:
    serving = parse_serving_config({"instance_count": 4, "rollout": rollout | {"bake_seconds": 300}})

    config = deployment_config(serving, ["errors", "latency"])

    policy = config["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == routing
    assert policy["TerminationWaitInSeconds"] == 300
    assert 600 <= policy["MaximumExecutionTimeoutInSeconds"] <= 28_800
    assert config["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]
    }


def test_the_update_timeout_covers_every_step_and_the_bake() -> None:
    serving = parse_serving_config(
        {
            "instance_count": 10,
            "rollout": {
                "strategy": "linear",
                "linear_step_percent": 10,
                "wait_seconds": 3600,
                "bake_seconds": 3600,
            },
        }
    )

    assert serving.rollout.steps == 10
    assert serving.rollout.max_seconds == 28_800  # SageMaker's maximum


@pytest.mark.parametrize(
    ("serving", "message"),
    [
        (
            {"mode": "serverless", "rollout": {"strategy": "linear"}},
            "serverless endpoints cannot shift traffic",
        ),
        ({"serverless": {"memory_mb": 4096}}, "apply to mode 'serverless' only"),
        ({"mode": "serverless", "max_payload_mb": 5}, "at most 4 MB"),
        ({"max_payload_mb": 7}, "less than or equal to 6"),
        ({"rollout": {"wait_seconds": 7200}}, "less than or equal to 3600"),
        ({"serverless_mode": True}, "Extra inputs are not permitted"),
    ],
)
def test_a_serving_configuration_that_cannot_work_is_refused(serving: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServingConfig.model_validate(serving)


def test_a_deployment_is_superseded_only_by_a_newer_approved_version() -> None:
    assert superseded_by(3, [1, 2, 3]) is None
    assert superseded_by(3, [1, 3, 4, 5]) == 5
    assert superseded_by(3, []) is None


def test_an_endpoint_in_service_on_the_new_configuration_is_deployed() -> None:
    outcome = verify({"EndpointStatus": "InService", "EndpointConfigName": "new"}, "new", [])

    assert (outcome.status, outcome.endpoint_config) == ("deployed", "new")


def test_an_endpoint_in_service_on_the_old_configuration_was_rolled_back_and_says_why() -> None:
    outcome = verify({"EndpointStatus": "InService", "EndpointConfigName": "old"}, "new", ["mlops-churn-5xx"])

    assert outcome.status == "rolled_back"
    assert outcome.reason == (
        "alarm(s) mlops-churn-5xx went into ALARM during the rollout; the endpoint still serves old"
    )
    silent = verify(
        {"EndpointStatus": "InService", "EndpointConfigName": "old", "FailureReason": "x"}, "new", []
    )
    assert silent.reason == "x; the endpoint still serves old"


def test_a_failed_endpoint_is_a_failed_deployment_with_sagemaker_s_reason() -> None:
    outcome = verify({"EndpointStatus": "Failed", "FailureReason": "image not found"}, "new", [])

    assert (outcome.status, outcome.reason) == ("failed", "image not found")
    with pytest.raises(ValueError, match="still Updating"):
        verify({"EndpointStatus": "Updating"}, "new", [])


@pytest.mark.parametrize("serving", [{}, {"mode": "serverless", "serverless": {"memory_mb": 1024}}])
def test_a_configuration_survives_its_trip_through_the_generated_file(serving: dict[str, Any]) -> None:
    config = parse_serving_config(serving)

    assert ServingConfig.model_validate(config.model_dump(mode="json")) == config


def test_the_version_is_read_back_from_the_names_this_module_makes_only() -> None:
    long = endpoint_name("project-name-21-chars", "a" * 62)

    assert version_of(endpoint_config_name("mlops-churn", 12, "d"), "mlops-churn") == 12
    assert version_of(endpoint_config_name(long, 123456, "d"), long) == 123456
    assert version_of(endpoint_config_name("mlops-churn", 12, "d"), "mlops-sales") is None
    assert version_of("handmade-config", "mlops-churn") is None
    assert version_of(None, "mlops-churn") is None


def test_a_failed_rollback_is_a_failed_deployment_not_something_to_wait_for() -> None:
    outcome = verify(
        {"EndpointStatus": "UpdateRollbackFailed", "EndpointConfigName": "old", "FailureReason": "stuck"},
        "new",
        [],
    )

    assert (outcome.status, outcome.reason) == ("failed", "stuck")
