"""The local evaluation of CloudWatch alarms, on any namespace, at the local cloud's clock.

An alarm starts in ``INSUFFICIENT_DATA``; its first evaluation sets its state (as CloudWatch's does);
after that only a change of the evaluation changes it, so that a state set by hand holds until the data
says something new. The first tests use hand-written fake alarms in moto's in-process CloudWatch backend,
of an account of their own; the last run a local cloud: alarms evaluated as the clock advances, missing
data breaching, metrics from a function's EMF lines written at a schedule's times, and the alarm's state
change reaching an EventBridge rule whose Lambda and Step Functions targets run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

from localcloud import LocalCloud
from localcloud.alarms import AlarmEvaluator, AlarmScope
from tests.iam_roles import create_role
from tests.integration.localcloud_fixtures.monitoring import python_function, received, wait_for

ACCOUNT, REGION = "210987654321", "eu-west-1"


class FakeAlarm:
    """The members of moto's ``Alarm`` the evaluator reads, and the state changes it asks for."""

    def __init__(
        self,
        name: str,
        treat_missing_data: str = "missing",
        endpoint: str = "churn",
        metric: tuple[str, str] = ("AWS/SageMaker", "Invocation5XXErrors"),
    ) -> None:
        self.name, self.alarm_arn = name, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
        self.namespace, self.metric_name = metric
        self.metric_data_queries: list[Any] = []
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


def _errors(
    backend: Any,
    value: float,
    endpoint: str = "churn",
    metric: tuple[str, str] = ("AWS/SageMaker", "Invocation5XXErrors"),
    moment: datetime | None = None,
) -> None:
    moment = moment or datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    dimensions = [{"Name": "EndpointName", "Value": endpoint}]
    backend.metric_data.append(MetricDatum(*metric, value, dimensions, moment))


def _evaluator(scope: AlarmScope = "all", now: datetime | None = None) -> AlarmEvaluator:
    evaluator = AlarmEvaluator(scope, now=(lambda: now) if now is not None else None)
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


def test_by_default_the_alarms_on_metrics_the_local_cloud_makes_as_aws_does_are_evaluated(
    backend: Any,
) -> None:
    # Given breaching data for alarms on a custom namespace, on endpoint traffic, on an endpoint's
    # errors (a rollback alarm) and on a Lambda metric the local cloud never publishes
    watched = {
        "drift": ("MLOpsPlatform", "Drift"),
        "traffic": ("AWS/SageMaker", "Invocations"),
        "rollback": ("AWS/SageMaker", "Invocation5XXErrors"),
        "function-errors": ("AWS/Lambda", "Errors"),
    }
    alarms = {name: FakeAlarm(name, metric=metric) for name, metric in watched.items()}
    backend.alarms.update(alarms)
    for metric in watched.values():
        _errors(backend, 1, metric=metric)

    # When the default scope evaluates, then "all", then "none"
    _evaluator("default").evaluate()
    default = {name: alarm.state_value for name, alarm in alarms.items()}
    _evaluator("none").evaluate()
    none = {name: alarm.state_value for name, alarm in alarms.items()}
    _evaluator("all").evaluate()

    # Then the default evaluated the custom namespace and the traffic count only; "all" the rest too
    assert default == {
        "drift": "ALARM",
        "traffic": "ALARM",
        "rollback": "INSUFFICIENT_DATA",
        "function-errors": "INSUFFICIENT_DATA",
    }
    assert none == default
    assert {alarm.state_value for alarm in alarms.values()} == {"ALARM"}


def test_an_alarm_is_evaluated_at_the_time_it_is_given_not_the_machine_s(backend: Any) -> None:
    # Given a data point two hours ahead of the machine's time (a clock advanced)
    alarm = FakeAlarm("ahead", metric=("MLOpsPlatform", "Drift"))
    backend.alarms["ahead"] = alarm
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=2)
    _errors(backend, 1, metric=("MLOpsPlatform", "Drift"), moment=later)

    # When it is evaluated now, then at that later time
    _evaluator(now=datetime.now(UTC).replace(tzinfo=None)).evaluate()
    at_machine_time = alarm.state_value
    _evaluator(now=later + timedelta(seconds=1)).evaluate()

    # Then only the evaluation at the later time sees the point
    assert (at_machine_time, alarm.state_value) == ("INSUFFICIENT_DATA", "ALARM")


# -- in a local cloud: the clock, missing data, EMF at scheduled times, the state change's targets ----------


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-alarm-evaluation")) as running:
        yield running


def _state(cloud: LocalCloud, name: str) -> str:
    (alarm,) = cloud.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


@pytest.mark.slow
def test_a_no_traffic_alarm_treating_missing_data_as_breaching_alarms_until_traffic_comes(
    cloud: LocalCloud,
) -> None:
    # Given a no-traffic alarm (Invocations Sum < 1 over an hour, missing data breaching), as the
    # monitoring stack makes one for an endpoint
    cloudwatch = cloud.client("cloudwatch")
    dimensions = [{"Name": "EndpointName", "Value": "quiet"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    cloudwatch.put_metric_alarm(
        AlarmName="quiet-no-traffic", Namespace="AWS/SageMaker", MetricName="Invocations",
        Dimensions=dimensions, Statistic="Sum", Period=3600, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="LessThanThreshold", TreatMissingData="breaching",
    )  # fmt: skip

    # When the local cloud settles (no one calls the endpoint)
    cloud.wait_idle()
    without_traffic = _state(cloud, "quiet-no-traffic")
    # and when a request is counted now, then two hours pass without another
    point = {
        "MetricName": "Invocations",
        "Dimensions": dimensions,
        "Value": 1.0,
        "Timestamp": cloud.clock.now(),
    }
    cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[point])
    cloud.clock.advance(timedelta(0))
    with_traffic = _state(cloud, "quiet-no-traffic")
    cloud.clock.advance(timedelta(hours=2))

    # Then it alarmed with no data, was OK with the request, and alarms again once it is out of the window
    assert (without_traffic, with_traffic, _state(cloud, "quiet-no-traffic")) == ("ALARM", "OK", "ALARM")


@pytest.mark.slow
def test_emf_metrics_at_scheduled_times_raise_an_alarm_whose_state_change_runs_a_rule_s_targets(
    cloud: LocalCloud,
) -> None:
    # Given a function that publishes Drift=1 (EMF) at the time it is given, run every hour by a schedule
    publisher = python_function(cloud, "drift-publisher")
    scheduler_role = create_role(
        cloud.client("iam"), "drift-scheduler", trusts="scheduler.amazonaws.com",
        statements=[{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": publisher}],
    )  # fmt: skip
    emf = {
        "namespace": "MLOpsPlatform", "name": "Drift", "value": 1, "dimensions": {"EndpointName": "churn"},
        "at": "<aws.scheduler.scheduled-time>",
    }  # fmt: skip
    # a drift alarm (2 of 3 hourly windows) and a rule on its change to ALARM, with a function and a
    # state machine as targets
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="churn-drift", Namespace="MLOpsPlatform", MetricName="Drift",
        Dimensions=[{"Name": "EndpointName", "Value": "churn"}], Statistic="Maximum", Period=3600,
        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1, TreatMissingData="notBreaching",
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    listener, machine = _alarm_listeners(cloud)
    cloud.client("scheduler").create_schedule(
        Name="drift-every-hour", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": publisher, "RoleArn": scheduler_role, "Input": json.dumps({"emf": emf})},
    )  # fmt: skip

    # When the schedule fires at once, and again as an hour passes
    wait_for(lambda: [f for f in cloud.schedules() if f.schedule_name == "drift-every-hour"])
    cloud.wait_idle()
    after_one = _state(cloud, "churn-drift")
    cloud.clock.advance(timedelta(hours=1))

    # Then one drifted window is not enough, two are: the alarm is in ALARM
    assert (after_one, _state(cloud, "churn-drift")) == ("OK", "ALARM")
    # and its state change reached the rule: the function received the event, the machine ran on it
    cloud.wait_idle()
    (event,) = received(cloud, listener)
    assert (event["source"], event["detail-type"]) == ("aws.cloudwatch", "CloudWatch Alarm State Change")
    assert (event["detail"]["alarmName"], event["detail"]["state"]["value"]) == ("churn-drift", "ALARM")
    stepfunctions = cloud.client("stepfunctions")
    (execution,) = stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    described = wait_for(
        lambda: (
            (d := stepfunctions.describe_execution(executionArn=execution["executionArn"]))["status"]
            == "SUCCEEDED"
            and d
        )
    )
    assert json.loads(described["output"])["detail"]["alarmName"] == "churn-drift"


def _alarm_listeners(cloud: LocalCloud) -> tuple[str, str]:
    """A rule on "CloudWatch Alarm State Change" to ALARM, targeting a function and a state machine."""
    events = cloud.client("events")
    pattern = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"state": {"value": ["ALARM"]}},
    }
    rule = events.put_rule(Name="alarms-to-targets", EventPattern=json.dumps(pattern))["RuleArn"]
    function = python_function(cloud, "alarm-listener")
    cloud.client("lambda").add_permission(
        FunctionName="alarm-listener", StatementId="events", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule,
    )  # fmt: skip
    machine_role = create_role(
        cloud.client("iam"), "alarm-machine", trusts="states.amazonaws.com", statements=[]
    )
    definition = {"StartAt": "Seen", "States": {"Seen": {"Type": "Pass", "End": True}}}
    machine = cloud.client("stepfunctions").create_state_machine(
        name="alarm-machine", definition=json.dumps(definition), roleArn=machine_role
    )["stateMachineArn"]
    start = {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine}
    events_role = create_role(
        cloud.client("iam"), "alarm-events", trusts="events.amazonaws.com", statements=[start]
    )
    events.put_targets(
        Rule="alarms-to-targets",
        Targets=[
            {"Id": "function", "Arn": function},
            {"Id": "machine", "Arn": machine, "RoleArn": events_role},
        ],
    )
    return "alarm-listener", machine
