"""The local cloud's endpoint logic that needs no server: traffic plans, splits, capture, alarm maths."""

from __future__ import annotations

import base64
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from moto.cloudwatch.models import Dimension, MetricDatum
from moto.sagemaker.exceptions import ValidationError

from localcloud.alarms import evaluate_alarm, statistic
from localcloud.sagemaker.endpoints.capture import CaptureSettings, capture_record, object_key
from localcloud.sagemaker.endpoints.plan import RolloutPlan, Step
from localcloud.sagemaker.endpoints.routing import Sampler, WeightedRoundRobin


def _blue_green(routing: dict[str, Any], **policy: Any) -> dict[str, Any]:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing, **policy}}


def test_without_a_deployment_config_the_update_is_all_at_once_without_baking() -> None:
    assert RolloutPlan.from_deployment_config(None, green_instances=2) == RolloutPlan(steps=(Step(1.0, 0.0),))


def test_a_canary_sends_its_share_waits_then_sends_the_rest() -> None:
    config = _blue_green(
        {
            "Type": "CANARY",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            "WaitIntervalInSeconds": 5,
        },
        TerminationWaitInSeconds=30,
        MaximumExecutionTimeoutInSeconds=900,
    ) | {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}

    plan = RolloutPlan.from_deployment_config(config, green_instances=4)

    assert plan == RolloutPlan(
        steps=(Step(0.25, 5.0), Step(1.0, 0.0)),  # 10% of 4 instances is one of them
        bake_seconds=30.0,
        max_seconds=900.0,
        alarms=("errors", "latency"),
    )


def test_an_instance_count_is_a_share_of_the_new_fleet() -> None:
    routing = {
        "Type": "CANARY",
        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 2,
    }

    assert RolloutPlan.from_deployment_config(_blue_green(routing), green_instances=4).steps[0] == Step(
        0.25, 2.0
    )


def test_linear_steps_wait_between_them_and_end_with_all_the_traffic() -> None:
    routing = {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 40},
        "WaitIntervalInSeconds": 3,
    }

    plan = RolloutPlan.from_deployment_config(_blue_green(routing), green_instances=5)

    assert plan.steps == (Step(0.4, 3.0), Step(0.8, 3.0), Step(1.0, 0.0))


@pytest.mark.parametrize(
    "routing",
    [
        {"Type": "GRADUAL", "WaitIntervalInSeconds": 1},
        {"Type": "CANARY", "WaitIntervalInSeconds": 1},
        {
            "Type": "LINEAR",
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 0},
            "WaitIntervalInSeconds": 1,
        },
    ],
    ids=["unknown type", "canary without size", "zero step"],
)
def test_a_routing_sagemaker_refuses_is_a_validation_error(routing: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RolloutPlan.from_deployment_config(_blue_green(routing), green_instances=1)


def test_the_split_is_exact_and_evenly_spread() -> None:
    chooser = WeightedRoundRobin()

    picks = [chooser.pick([0.75, 0.25]) for _ in range(8)]

    assert picks == [0, 0, 1, 0, 0, 0, 1, 0]
    three_ways = WeightedRoundRobin()
    assert Counter(three_ways.pick([3.0, 1.0, 1.0]) for _ in range(50)) == {0: 30, 1: 10, 2: 10}


def test_sampling_keeps_the_given_percentage() -> None:
    sampler = Sampler(20)

    assert sum(sampler.sample() for _ in range(100)) == 20
    assert not any(Sampler(0).sample() for _ in range(10))


def _settings(**overrides: Any) -> CaptureSettings:
    config = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://bucket/capture/churn/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    } | overrides
    settings = CaptureSettings.from_config(config)
    assert settings is not None
    return settings


def test_a_capture_line_encodes_listed_types_as_text_and_others_in_base64() -> None:
    at = datetime(2026, 11, 2, 10, 15, 32, tzinfo=UTC)

    record = capture_record(
        _settings(),
        request=b"\x00\x01",
        request_type="application/x-npy",
        response=b'{"predictions": []}',
        response_type="application/json",
        at=at,
    )

    assert record["captureData"] == {
        "endpointInput": {
            "observedContentType": "application/x-npy",
            "mode": "INPUT",
            "data": base64.b64encode(b"\x00\x01").decode(),
            "encoding": "BASE64",
        },
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": '{"predictions": []}',
            "encoding": "JSON",
        },
    }
    assert record["eventMetadata"]["inferenceTime"] == "2026-11-02T10:15:32Z"
    assert record["eventVersion"] == "0"


def test_only_the_listed_capture_modes_are_written() -> None:
    settings = _settings(CaptureOptions=[{"CaptureMode": "Input"}])

    record = capture_record(
        settings,
        request=b"1,2",
        request_type="text/csv",
        response=b"0",
        response_type="text/csv",
        at=datetime.now(UTC),
    )

    assert list(record["captureData"]) == ["endpointInput"]
    assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert CaptureSettings.from_config({"EnableCapture": False, "DestinationS3Uri": "s3://b/p"}) is None


def test_capture_objects_are_laid_out_by_endpoint_variant_and_hour() -> None:
    key = object_key(
        "capture/churn", "mlops-churn", "AllTraffic", datetime(2026, 11, 2, 10, 15, 32, 7000, tzinfo=UTC)
    )

    assert re.fullmatch(
        r"capture/churn/mlops-churn/AllTraffic/2026/11/02/10/15-32-007-[0-9a-f-]{36}\.jsonl", key
    ), key


def test_statistics_include_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]

    assert statistic(values, "Sum", None) == 5050
    assert statistic(values, "Average", None) == 50.5
    assert statistic(values, None, "p99") == 99
    assert statistic(values, None, "p50") == 50


def _alarm(**overrides: Any) -> Any:
    fields = {
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "period": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "metric_name": "Invocation5XXErrors",
        "dimensions": [Dimension("EndpointName", "churn")],
        "statistic": "Sum",
        "extended_statistic": None,
        "threshold": 2.0,
        "treat_missing_data": "notBreaching",
        "state_value": "OK",
        "state_reason": "",
    }
    return SimpleNamespace(**(fields | overrides))


def _point(value: float, seconds_ago: float, endpoint: str = "churn") -> MetricDatum:
    moment = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=seconds_ago)
    return MetricDatum(
        "AWS/SageMaker", "Invocation5XXErrors", value, [{"Name": "EndpointName", "Value": endpoint}], moment
    )


def test_an_alarm_breaches_on_the_data_of_its_last_period_only() -> None:
    recent = [_point(1, 5), _point(1, 10), _point(1, 10, endpoint="other")]

    assert evaluate_alarm(_alarm(), recent)[0] == "ALARM"
    assert evaluate_alarm(_alarm(), recent[:1])[0] == "OK"
    assert evaluate_alarm(_alarm(), [_point(1, 90), _point(1, 95)])[0] == "OK"  # older than the period
    assert evaluate_alarm(_alarm(treat_missing_data="missing"), [])[0] == "INSUFFICIENT_DATA"
