"""What SageMaker refuses in a serving configuration is refused at synth, or left out of the requests.

Rollouts against the instance count (CanarySize at most half of the fleet, LinearStepSize 10-50%),
network isolation on serverless models, and volume KMS keys on instance types with local storage.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from domain.deployment.endpoint import deployment_config, endpoint_config_request
from domain.deployment.serving_config import parse_serving_config
from domain.instance_types import has_local_storage
from stacks.app import cdk_json_context
from stacks.config import ConfigError, TrainingInfraConfig, load_platform

ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
CAPTURE = "s3://data/capture/churn/"


def _load(serving: dict[str, Any]) -> None:
    context = copy.deepcopy(cdk_json_context()["mlops"])
    context["datasets"]["churn"]["serving"] = serving
    load_platform(context, ROOT)


@pytest.mark.parametrize(
    ("serving", "key", "message"),
    [
        (
            {"rollout": {"strategy": "canary"}},
            "serving.rollout.strategy",
            "a canary needs at least 2 instances",
        ),
        (
            {"rollout": {"strategy": "linear", "linear_step_percent": 25}},
            "serving.rollout.strategy",
            "use strategy 'all_at_once'",
        ),
        (
            {"instance_count": 3, "rollout": {"canary_percent": 50}},
            "serving.rollout.canary_percent",
            "50% of 3 instances is 2 instance(s), more than half of the fleet, which SageMaker refuses "
            "(at most 1); set canary_percent to at most 33",
        ),
        (
            {"instance_count": 5, "rollout": {"strategy": "linear", "linear_step_percent": 50}},
            "serving.rollout.linear_step_percent",
            "set linear_step_percent to at most 40 (and at least 10)",
        ),
        (
            {"instance_count": 4, "rollout": {"strategy": "linear", "linear_step_percent": 5}},
            "serving.rollout.linear_step_percent",
            "greater than or equal to 10",
        ),
    ],
    ids=["canary on one", "linear on one", "canary over half", "linear over half", "linear step 5%"],
)
def test_a_rollout_sagemaker_refuses_for_the_instance_count_fails_at_synth_naming_the_key(
    serving: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(serving)

    assert f"cdk.json: mlops.datasets.churn.{key}: " in str(raised.value)
    assert message in str(raised.value)


def test_one_instance_updates_all_at_once_by_default_and_two_take_a_canary() -> None:
    assert parse_serving_config({}).rollout.strategy == "all_at_once"
    assert parse_serving_config({"instance_count": 2}).rollout.strategy == "canary"
    _load({})  # the default configuration synthesizes


@pytest.mark.parametrize(
    ("count", "rollout", "size"),
    [
        (2, {"strategy": "canary", "canary_percent": 10}, ("CanarySize", 1)),
        (10, {"strategy": "canary", "canary_percent": 25}, ("CanarySize", 3)),
        (4, {"strategy": "linear", "linear_step_percent": 30}, ("LinearStepSize", 2)),
        (20, {"strategy": "linear", "linear_step_percent": 10}, ("LinearStepSize", 2)),
    ],
)
def test_the_deployment_config_turns_on_whole_instances_at_most_half_of_the_fleet(
    count: int, rollout: dict[str, Any], size: tuple[str, int]
) -> None:
    serving = parse_serving_config({"instance_count": count, "rollout": rollout})

    routing = deployment_config(serving, [])["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]

    field, instances = size
    assert routing[field] == {"Type": "INSTANCE_COUNT", "Value": instances}
    assert 1 <= instances <= count / 2
    if field == "LinearStepSize":
        assert instances >= count / 10


@pytest.mark.parametrize(
    ("instance_type", "local"),
    [
        ("ml.m5.large", False),
        ("ml.c5.xlarge", False),
        ("ml.c5n.xlarge", False),
        ("ml.inf2.xlarge", False),
        ("ml.m5d.large", True),
        ("ml.c5d.xlarge", True),
        ("ml.r5d.2xlarge", True),
        ("ml.g4dn.xlarge", True),
        ("ml.p3dn.24xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.p4de.24xlarge", True),
        ("ml.g5.xlarge", True),
        ("ml.g6.xlarge", True),
        ("ml.p5.48xlarge", True),
        ("ml.p6-b200.48xlarge", True),
        ("ml.c7i-flex.large", False),
        ("ml.trn1.2xlarge", True),
        ("ml.m6id.large", True),
    ],
)
def test_instance_types_with_local_nvme_storage_are_known(instance_type: str, local: bool) -> None:
    assert has_local_storage(instance_type) is local


@pytest.mark.parametrize(("instance_type", "keyed"), [("ml.m5.large", True), ("ml.g4dn.xlarge", False)])
def test_an_endpoint_on_local_storage_gets_no_volume_key_and_its_capture_stays_encrypted(
    instance_type: str, keyed: bool
) -> None:
    serving = parse_serving_config({"instance_type": instance_type})

    request = endpoint_config_request("cfg", "model", serving, kms_key=KEY, capture_uri=CAPTURE)

    assert ("KmsKeyId" in request) is keyed
    assert request["DataCaptureConfig"]["KmsKeyId"] == KEY


def test_a_training_job_on_local_storage_is_known_to_need_no_volume_key() -> None:
    assert TrainingInfraConfig(instance_type="ml.m5d.xlarge").local_storage is True
    assert TrainingInfraConfig().local_storage is False
