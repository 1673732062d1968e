"""``mlops alarms list``: the project's alarms by the names the stacks give them, with a fake CloudWatch."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import alarms
from cli.alarms import AlarmReadError, AlarmState
from cli.main import app
from cli.target import Cloud
from tests.cli_fakes import FakePlatform


class FakeAlarms:
    """CloudWatch's alarms: those that exist, by name; records what was asked."""

    def __init__(self, existing: list[AlarmState], *, refuse: bool = False) -> None:
        self.existing = {alarm.name: alarm for alarm in existing}
        self.asked: list[list[str]] = []
        self.refuse = refuse

    def describe(self, names: list[str]) -> list[AlarmState]:
        self.asked.append(list(names))
        if self.refuse:
            raise AlarmReadError("CloudWatch refused to describe the alarms: not authorized")
        return [self.existing[name] for name in names if name in self.existing]


TARGET = FakePlatform(
    "mlops",
    {"EndpointNameChurn": "mlops-churn", "EndpointNameFraud": "mlops-fraud", "DataBucketName": "data"},
)


def _state(name: str, state: str = "OK", reason: str = "Threshold Crossed: no datapoints") -> AlarmState:
    return AlarmState(name=name, state=state, reason=reason, updated_at="2026-12-06T17:00:00+00:00")


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> FakeAlarms:
    fake = FakeAlarms(
        [
            _state("mlops-churn-drift", "ALARM", "Threshold Crossed: 2 out of the last 3 datapoints"),
            _state("mlops-churn-no-traffic"),
            _state("mlops-churn-invocation-5xx-errors"),
            _state("mlops-churn-model-latency"),
            _state("mlops-churn-no-new-data", "INSUFFICIENT_DATA"),
            _state("mlops-churn-performance", "ALARM", "Threshold Crossed: 1 out of the last 1 datapoints"),
            _state("mlops-fraud-model-latency"),
            _state("someone-elses-alarm", "ALARM"),
        ]
    )

    def fake_platform(cloud: Cloud) -> FakePlatform:
        return TARGET

    monkeypatch.setattr(alarms, "platform", fake_platform)
    monkeypatch.setattr(alarms, "alarm_reader", lambda: fake)
    return fake


def test_every_kind_of_the_projects_alarms_is_listed_with_its_dataset_and_state(
    cloudwatch: FakeAlarms,
) -> None:
    # Given alarms of two datasets' endpoints (fraud's drift alarms not created) and one of another project

    # When they are listed as JSON
    result = CliRunner().invoke(app, ["alarms", "list", "--json"])

    # Then each of the project's alarms that exists is there once, with what it watches; not the other's
    assert result.exit_code == 0, result.output
    listed = {alarm["name"]: alarm for alarm in json.loads(result.output)}
    assert sorted(listed) == [
        "mlops-churn-drift",
        "mlops-churn-invocation-5xx-errors",
        "mlops-churn-model-latency",
        "mlops-churn-no-new-data",
        "mlops-churn-no-traffic",
        "mlops-churn-performance",
        "mlops-fraud-model-latency",
    ]
    assert listed["mlops-churn-drift"] == {
        "name": "mlops-churn-drift",
        "dataset": "churn",
        "kind": "drift",
        "state": "ALARM",
        "reason": "Threshold Crossed: 2 out of the last 3 datapoints",
        "updated_at": "2026-12-06T17:00:00+00:00",
    }
    assert listed["mlops-churn-no-new-data"]["kind"] == "no new data"
    assert listed["mlops-churn-performance"]["kind"] == "performance"
    assert listed["mlops-fraud-model-latency"]["dataset"] == "fraud"
    # and CloudWatch was asked by name for both datasets' six alarms, not for every alarm of the account
    asked = set(cloudwatch.asked[0])
    assert {"mlops-fraud-drift", "mlops-fraud-no-traffic", "mlops-fraud-no-new-data"} <= asked
    assert "mlops-fraud-performance" in asked
    assert len(cloudwatch.asked[0]) == 12


def test_one_datasets_alarms_as_a_table(cloudwatch: FakeAlarms) -> None:
    # When churn's alarms are listed (a terminal wide enough for a table)
    result = CliRunner().invoke(app, ["alarms", "list", "--dataset", "churn"], env={"COLUMNS": "250"})

    # Then the table has churn's six alarms, their state and reason, and none of fraud's
    assert result.exit_code == 0, result.output
    assert "6 alarm(s)" in result.output
    assert "mlops-churn-drift" in result.output and "ALARM" in result.output
    assert "2 out of the last 3 datapoints" in result.output
    assert "2026-12-06 17:00:00" in result.output
    assert "mlops-fraud" not in result.output


def test_a_dataset_without_an_endpoint_is_a_clear_error(cloudwatch: FakeAlarms) -> None:
    result = CliRunner().invoke(app, ["alarms", "list", "--dataset", "sales"])

    assert result.exit_code == 2
    assert "'sales' has no endpoint on this platform; its datasets: churn, fraud" in result.output
    assert cloudwatch.asked == []


def test_cloudwatch_refusing_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given CloudWatch refuses the read
    refusing = FakeAlarms([], refuse=True)
    monkeypatch.setattr(alarms, "platform", lambda cloud: TARGET)
    monkeypatch.setattr(alarms, "alarm_reader", lambda: refusing)

    # When the alarms are listed, Then the error is one line and the exit code 2
    result = CliRunner().invoke(app, ["alarms", "list"])
    assert result.exit_code == 2
    assert "CloudWatch refused to describe the alarms: not authorized" in result.output
    assert "Traceback" not in result.output
