"""The local evaluation of endpoint alarms, from the state CloudWatch creates an alarm in.

An alarm starts in ``INSUFFICIENT_DATA``; its first evaluation sets its state (as CloudWatch's does);
after that only a change of the evaluation changes it, so that a state set by hand holds until the data
says something new. The alarms are hand-written fakes in moto's in-process CloudWatch backend, of an
account of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

from localcloud.alarms import AlarmEvaluator

ACCOUNT, REGION = "210987654321", "eu-west-1"


class FakeAlarm:
    """The members of moto's ``Alarm`` the evaluator reads, and the state changes it asks for."""

    def __init__(self, name: str, treat_missing_data: str = "missing", endpoint: str = "churn") -> None:
        self.name, self.alarm_arn = name, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
        self.namespace, self.metric_name, self.metric_data_queries = (
            "AWS/SageMaker",
            "Invocation5XXErrors",
            [],
        )
        self.dimensions = [_Dimension("EndpointName", endpoint)]
        self.comparison_operator, self.threshold = "GreaterThanOrEqualToThreshold", 1.0
        self.period, self.evaluation_periods, self.datapoints_to_alarm = 60, 1, None
        self.statistic, self.extended_statistic = "Sum", None
        self.treat_missing_data = treat_missing_data
        self.state_value, self.state_reason = "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"
        self.history: list[tuple[Any, ...]] = []
        self.changes: list[str] = []

    def update_state(self, reason: str, reason_data: str, state_value: str) -> None:
        # as moto's: the state left is kept in the history
        self.history.append(("StateUpdate", self.state_reason, "{}", self.state_value, datetime.now()))
        self.state_value, self.state_reason = state_value, reason
        self.changes.append(state_value)


class _Dimension:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value


@pytest.fixture
def backend() -> Iterator[Any]:
    backend = cloudwatch_backends[ACCOUNT][REGION]
    yield backend
    backend.alarms.clear()
    backend.metric_data.clear()


def _errors(backend: Any, value: float, endpoint: str = "churn") -> None:
    moment = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    dimensions = [{"Name": "EndpointName", "Value": endpoint}]
    backend.metric_data.append(MetricDatum("AWS/SageMaker", "Invocation5XXErrors", value, dimensions, moment))


def _evaluator() -> AlarmEvaluator:
    evaluator = AlarmEvaluator()
    evaluator.watch(ACCOUNT, REGION)
    return evaluator


def test_the_first_evaluation_of_a_new_alarm_sets_its_state_whatever_it_is(backend: Any) -> None:
    quiet, failing = FakeAlarm("quiet"), FakeAlarm("failing", endpoint="other")
    backend.alarms.update({"quiet": quiet, "failing": failing})
    _errors(backend, 0)
    _errors(backend, 1, endpoint="other")

    _evaluator().evaluate()

    assert (quiet.changes, failing.changes) == (["OK"], ["ALARM"])


def test_a_new_alarm_without_data_stays_in_insufficient_data(backend: Any) -> None:
    alarm = FakeAlarm("no-data")
    backend.alarms["no-data"] = alarm

    _evaluator().evaluate()

    assert (alarm.state_value, alarm.changes) == ("INSUFFICIENT_DATA", [])


def test_a_new_alarm_treating_missing_data_as_not_breaching_goes_to_ok_without_data(backend: Any) -> None:
    alarm = FakeAlarm("not-breaching", treat_missing_data="notBreaching")
    backend.alarms["not-breaching"] = alarm

    _evaluator().evaluate()

    assert alarm.changes == ["OK"]


def test_a_state_set_by_hand_holds_until_the_evaluation_changes(backend: Any) -> None:
    alarm = FakeAlarm("set-by-hand")
    backend.alarms["set-by-hand"] = alarm
    _errors(backend, 0)
    evaluator = _evaluator()
    evaluator.evaluate()  # OK, from the state it was created in
    alarm.update_state("test: raised by hand", "{}", "ALARM")

    evaluator.evaluate()  # still OK: nothing new
    assert alarm.state_value == "ALARM"
    _errors(backend, 1)
    evaluator.evaluate()  # ALARM: the state it is in
    backend.metric_data.clear()
    _errors(backend, 0)
    evaluator.evaluate()

    assert alarm.changes == ["OK", "ALARM", "OK"]
