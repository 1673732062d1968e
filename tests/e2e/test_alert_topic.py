"""The alert topic end to end: encrypted with the platform's key, it still gets every alert through.

The local cloud refuses a publish by a principal that may not use the topic's key, as SNS does: the
state machines announce as their roles, CloudWatch alarms notify as ``cloudwatch.amazonaws.com``. What
reaches the queue subscribed to the topic (``DataPlane.alerts``) is what a person would receive.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from adapters.aws import client, resource
from examples.churn import generate
from tests.e2e.conftest import DataPlane

pytestmark = pytest.mark.slow


def test_an_alarm_on_the_alert_topic_notifies_it_as_cloudwatch_does(data_plane: DataPlane) -> None:
    cloudwatch = data_plane.client("cloudwatch")
    topic = data_plane.outputs["AlertsTopicArn"]
    alarms = cloudwatch.describe_alarms(ActionPrefix=topic)["MetricAlarms"]
    assert alarms, "expected the platform's alarms to notify the alert topic"
    name = alarms[0]["AlarmName"]
    data_plane.drain(data_plane.alerts, wait=0.2)

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="e2e: raised by hand")

    (alert,) = [a for a in data_plane.drain(data_plane.alerts) if name in a.get("Subject", "")]
    assert alert["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    notification = json.loads(alert["Message"])
    assert (notification["AlarmName"], notification["NewStateValue"]) == (name, "ALARM")
    assert notification["NewStateReason"] == "e2e: raised by hand"
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert [i["HistorySummary"] for i in history["AlarmHistoryItems"]] == [
        f"Successfully executed action {topic}"
    ]


def test_a_registered_and_deployed_model_version_is_announced_on_the_alert_topic(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = generate(3_000, 71, tmp_path_factory.mktemp("alerts") / "churn.csv", "csv").read_bytes()
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.upload("incoming/churn/announced.csv", body)
    (run,) = _executions(data_plane, "TrainingStateMachineArn", hashlib.sha256(body).hexdigest()[:12])
    assert run["status"] == "SUCCEEDED", run.get("cause")
    package = json.loads(run["output"])["registration"]["model_package_arn"]
    _approve(data_plane, package, monkeypatch)

    (deployment,) = _executions(data_plane, "DeploymentStateMachineArn", "")
    assert deployment["status"] == "SUCCEEDED", deployment.get("cause")
    alerts = {alert["Subject"]: json.loads(alert["Message"]) for alert in data_plane.drain(data_plane.alerts)}
    assert alerts["Model version registered"]["model_package"] == package
    assert alerts["Model version deployed"]["outcome"] == "deployed"
    assert "alert_error" not in json.loads(deployment["output"])


def _executions(data_plane: DataPlane, machine: str, name_part: str) -> list[dict[str, Any]]:
    sfn = data_plane.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=data_plane.outputs[machine])["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed if name_part in e["name"]]


def _approve(data_plane: DataPlane, package: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Approve as ``mlops models approve`` does; the approval starts the deployment, waited for here."""
    data_plane.point_sdk_here(monkeypatch)
    from adapters.registry import SageMakerModelRegistry

    try:
        SageMakerModelRegistry().approve(package, reason="e2e: announce it", approver="e2e-test")
    finally:
        client.cache_clear()
        resource.cache_clear()
    data_plane.cloud.wait_idle(timeout=240)
