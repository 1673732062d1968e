"""The alert topic end to end: encrypted with the platform's key, it still gets every alert through.

The local cloud refuses a publish by a principal that may not use the topic's key, as SNS does: the
state machines announce as their roles, CloudWatch alarms notify as ``cloudwatch.amazonaws.com``. What
reaches the queue subscribed to the topic (``DataPlane.alerts``) is what a person would receive.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import DataPlane

pytestmark = pytest.mark.slow


def test_an_alarm_on_the_alert_topic_notifies_it_as_cloudwatch_does(data_plane: DataPlane) -> None:
    cloudwatch = data_plane.client("cloudwatch")
    topic = data_plane.outputs["AlertsTopicArn"]
    alarms = cloudwatch.describe_alarms(ActionPrefix=topic)["MetricAlarms"]
    assert alarms, "expected the platform's alarms to notify the alert topic"
    # deployed alarms start as CloudWatch creates them, until evaluated: the local cloud evaluates those on
    # the metrics it produces (drift, no traffic, no new data), which missing data may already have moved
    # (no new data is breaching); the others wait for data that never comes here
    unevaluated = [alarm for alarm in alarms if not _evaluated_locally(alarm)]
    assert unevaluated and {alarm["StateValue"] for alarm in unevaluated} == {"INSUFFICIENT_DATA"}
    name = unevaluated[0]["AlarmName"]
    data_plane.drain(data_plane.alerts, wait=0.2)

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="e2e: raised by hand")

    (alert,) = [a for a in data_plane.drain(data_plane.alerts) if name in a.get("Subject", "")]
    assert alert["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    notification = json.loads(alert["Message"])
    assert (notification["AlarmName"], notification["OldStateValue"], notification["NewStateValue"]) == (
        name,
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert notification["NewStateReason"] == "e2e: raised by hand"
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert [i["HistorySummary"] for i in history["AlarmHistoryItems"]] == [
        f"Successfully executed action {topic}"
    ]


def _evaluated_locally(alarm: dict[str, Any]) -> bool:
    """Whether the local cloud evaluates ``alarm`` by default (localcloud/README.md, Monitoring: Alarms)."""
    namespace = alarm.get("Namespace")
    if namespace is None:  # metric math: never evaluated locally
        return False
    return not namespace.startswith("AWS/") or (namespace, alarm["MetricName"]) == (
        "AWS/SageMaker",
        "Invocations",
    )


@pytest.fixture(scope="module")
def platform(data_plane: DataPlane) -> DataPlane:
    """The deployed platform, as the conftest's ``registry`` fixture names it."""
    return data_plane


def test_a_registered_and_deployed_model_version_is_announced_on_the_alert_topic(
    data_plane: DataPlane, registry: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.train(tmp_path_factory.mktemp("alerts"), seed=71)
    package = registry.version("mlops-churn", 1).arn
    registry.approve(package, reason="e2e: announce it", approver="e2e-test")
    data_plane.cloud.wait_idle(timeout=240)

    sfn = data_plane.client("stepfunctions")
    (listed,) = sfn.list_executions(stateMachineArn=data_plane.outputs["DeploymentStateMachineArn"])[
        "executions"
    ]
    deployment = sfn.describe_execution(executionArn=listed["executionArn"])
    assert deployment["status"] == "SUCCEEDED", deployment.get("cause")
    assert "alert_error" not in json.loads(deployment["output"])
    alerts = {alert["Subject"]: json.loads(alert["Message"]) for alert in data_plane.drain(data_plane.alerts)}
    assert alerts["Model version registered"]["model_package"] == package
    assert alerts["Model version deployed"]["outcome"] == "deployed"
