"""The performance alarm's comparison follows its metric's direction, built alone in a throwaway stack.

The app's own templates (``test_monitoring_alarms``) watch a classifier's accuracy; a regressor's error
metrics are better when lower, so their alarm fires above the floor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from domain.data.contract import load_contract
from domain.monitoring.config import parse_monitoring_config
from domain.training.config import parse_training_config
from stacks.constructs.monitoring_alarms import MonitoringAlarms

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _alarms(training: dict[str, Any], performance: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stack = cdk.Stack(cdk.App(), "Alarms")
    config = parse_training_config(training, contract=load_contract(ROOT / "contracts" / "churn.yaml"))
    MonitoringAlarms(
        stack,
        "Alarms",
        project="mlops",
        endpoints={"churn": "mlops-churn"},
        monitoring={"churn": parse_monitoring_config({"performance": performance})},
        training={"churn": config},
        alerts=sns.Topic(stack, "Alerts"),
    )
    found = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in found.values()}


@pytest.mark.parametrize(
    ("training", "performance", "metric", "comparison", "threshold"),
    [
        # a regressor's RMSE from the gate's max: worse is higher
        ({"task": "regression", "gate": {"thresholds": {"rmse": {"max": 0.4}}}}, {}, "Realized_rmse",
         "GreaterThanThreshold", 0.4),
        # a classifier's F1 floor given in the configuration: worse is lower
        ({}, {"metric": "f1", "floor": 0.6}, "Realized_f1", "LessThanThreshold", 0.6),
        ({}, {"metric": "log_loss", "floor": 0.5}, "Realized_log_loss", "GreaterThanThreshold", 0.5),
    ],
)  # fmt: skip
def test_the_alarm_fires_when_the_metric_is_worse_than_its_floor_in_its_own_direction(
    training: dict[str, Any], performance: dict[str, Any], metric: str, comparison: str, threshold: float
) -> None:
    alarm = _alarms(training, performance)["mlops-churn-performance"]

    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        metric,
        comparison,
        threshold,
    )
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["TreatMissingData"]) == (
        1,
        1,
        "ignore",
    )


def test_a_disabled_performance_key_creates_no_alarm_though_the_gate_gives_a_floor() -> None:
    alarms = _alarms({"gate": {"thresholds": {"accuracy": {"min": 0.8}}}}, {"enabled": False})

    assert "mlops-churn-performance" not in alarms
    assert "mlops-churn-drift" in alarms
