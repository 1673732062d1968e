"""CloudWatch alarm states in the local cloud, as CloudWatch has them.

An alarm starts in ``INSUFFICIENT_DATA`` (moto starts it in ``OK``), keeps its state when
``PutMetricAlarm`` updates it, runs the actions of the state it changes to (and only on a change), and
every change sends "CloudWatch Alarm State Change" to the default bus, whose rules deliver it.
Built through the API: topics with a queue subscribed to each, and a rule on the default bus whose
target is a queue.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import let_service_send
from tests.integration.localcloud_fixtures.alarms import put_errors_alarm

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


@dataclass
class Watched:
    """An alarm whose three kinds of action each notify a topic of their own, each read by a queue."""

    cloud: LocalCloud
    name: str
    queues: dict[str, str]  # state -> URL of the queue subscribed to that state's topic
    topics: dict[str, str]  # state -> topic ARN

    def notifications(self) -> dict[str, list[dict[str, Any]]]:
        """The notifications each state's topic received since the last call."""
        return {state: _drain(self.cloud, url) for state, url in self.queues.items()}

    def set(self, state: str) -> None:
        self.cloud.client("cloudwatch").set_alarm_state(
            AlarmName=self.name, StateValue=state, StateReason=f"test: {state}"
        )

    def described(self) -> dict[str, Any]:
        (alarm,) = self.cloud.client("cloudwatch").describe_alarms(AlarmNames=[self.name])["MetricAlarms"]
        return dict(alarm)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT) as started:
        yield started


@pytest.fixture(scope="module")
def events(cloud: LocalCloud) -> str:
    """A queue that receives every "CloudWatch Alarm State Change" event of the default bus."""
    url, arn = _queue(cloud)
    bridge = cloud.client("events")
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
    rule = bridge.put_rule(Name="alarm-state-changes", EventPattern=json.dumps(pattern))["RuleArn"]
    let_service_send(cloud.client("sqs"), url, service="events.amazonaws.com", source_arn=rule)
    bridge.put_targets(Rule="alarm-state-changes", Targets=[{"Id": "queue", "Arn": arn}])
    return url


@pytest.fixture
def watched(cloud: LocalCloud, events: str) -> Watched:
    topics, queues = {}, {}
    for state in STATES:
        topics[state], queues[state] = _topic(cloud)
    name = f"errors-{uuid.uuid4().hex[:8]}"
    _put_alarm(cloud, name, topics, threshold=1)
    _drain(cloud, events, wait=0)
    return Watched(cloud=cloud, name=name, queues=queues, topics=topics)


def test_a_new_alarm_is_in_insufficient_data_and_runs_no_action(watched: Watched, events: str) -> None:
    alarm = watched.described()

    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    assert watched.notifications() == {state: [] for state in STATES}
    assert _drain(watched.cloud, events) == []


def test_each_state_an_alarm_changes_to_runs_that_states_actions_once(watched: Watched) -> None:
    # From the state it was created in, through each state, and back to one it was in
    steps = [
        ("ALARM", "INSUFFICIENT_DATA"),
        ("OK", "ALARM"),
        ("INSUFFICIENT_DATA", "OK"),
        ("ALARM", "INSUFFICIENT_DATA"),
    ]

    for new, old in steps:
        watched.set(new)
        watched.set(new)  # the state it is in: no change, no action

        received = watched.notifications()
        (notification,) = received[new]
        assert (notification["OldStateValue"], notification["NewStateValue"]) == (old, new)
        assert notification["NewStateReason"] == f"test: {new}"
        assert all(received[other] == [] for other in STATES if other != new)


def test_an_alarm_with_actions_disabled_notifies_no_topic(
    cloud: LocalCloud, watched: Watched, events: str
) -> None:
    cloudwatch = cloud.client("cloudwatch")
    cloudwatch.disable_alarm_actions(AlarmNames=[watched.name])

    watched.set("ALARM")
    watched.set("OK")

    assert watched.notifications() == {state: [] for state in STATES}
    # the events are CloudWatch's, not actions: they are sent whatever ActionsEnabled says
    assert [e["detail"]["state"]["value"] for e in _drain(cloud, events)] == ["ALARM", "OK"]


def test_an_update_keeps_the_state_its_reason_and_history(
    cloud: LocalCloud, watched: Watched, events: str
) -> None:
    watched.set("ALARM")
    before = watched.described()

    _put_alarm(cloud, watched.name, watched.topics, threshold=5)

    after = watched.described()
    assert after["Threshold"] == 5
    assert (after["StateValue"], after["StateReason"]) == ("ALARM", "test: ALARM")
    assert after["StateUpdatedTimestamp"] == before["StateUpdatedTimestamp"]
    history = cloud.client("cloudwatch").describe_alarm_history(AlarmName=watched.name)["AlarmHistoryItems"]
    assert {item["HistoryItemType"] for item in history} == {"StateUpdate", "Action"}
    # an update is no change of state: no action, no event
    _drain(cloud, events)
    watched.notifications()
    _put_alarm(cloud, watched.name, watched.topics, threshold=6)
    assert watched.notifications() == {state: [] for state in STATES}
    assert _drain(cloud, events) == []


def test_every_change_of_state_sends_cloudwatchs_event_to_the_default_bus(
    cloud: LocalCloud, watched: Watched, events: str
) -> None:
    watched.set("ALARM")
    watched.set("ALARM")  # no change, no event
    watched.set("OK")

    first, second = _drain(cloud, events)
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{watched.name}"
    assert (first["source"], first["detail-type"]) == ("aws.cloudwatch", "CloudWatch Alarm State Change")
    assert (first["account"], first["region"], first["resources"]) == (ACCOUNT, REGION, [arn])
    assert time.strptime(first["time"], "%Y-%m-%dT%H:%M:%SZ")
    detail = first["detail"]
    assert detail["alarmName"] == watched.name
    assert (detail["previousState"]["value"], detail["state"]["value"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert detail["previousState"]["reason"] == "Unchecked: Initial alarm creation"
    assert detail["state"]["reason"] == "test: ALARM"
    assert time.strptime(detail["state"]["timestamp"], "%Y-%m-%dT%H:%M:%S.%f+0000")
    (metric,) = detail["configuration"]["metrics"]
    assert metric["metricStat"] == {
        "metric": {"dimensions": {"FunctionName": "validate"}, "name": "Errors", "namespace": "AWS/Lambda"},
        "period": 60,
        "stat": "Sum",
    }
    assert metric["returnData"] is True
    assert (second["detail"]["previousState"]["value"], second["detail"]["state"]["value"]) == ("ALARM", "OK")
    assert second["detail"]["configuration"] == detail["configuration"]


def _put_alarm(cloud: LocalCloud, name: str, topics: dict[str, str], *, threshold: float) -> None:
    put_errors_alarm(
        cloud.client("cloudwatch"),
        name,
        threshold=threshold,
        AlarmActions=[topics["ALARM"]],
        OKActions=[topics["OK"]],
        InsufficientDataActions=[topics["INSUFFICIENT_DATA"]],
    )


def _topic(cloud: LocalCloud) -> tuple[str, str]:
    """A topic CloudWatch may publish to, and the URL of a queue subscribed to it."""
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}")["TopicArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
            }
        ],
    }
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    url, queue_arn = _queue(cloud)
    let_service_send(cloud.client("sqs"), url, service="sns.amazonaws.com", source_arn=arn)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return arn, url


def _queue(cloud: LocalCloud) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _drain(cloud: LocalCloud, url: str, wait: int = 0) -> list[dict[str, Any]]:
    """Every message of the queue, in order, decoded (an SNS envelope's ``Message`` in its place)."""
    sqs, received = cloud.client("sqs"), []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get(
            "Messages", []
        )
        if not batch:
            return received
        for message in batch:
            body = json.loads(message["Body"])
            received.append(json.loads(body["Message"]) if body.get("Type") == "Notification" else body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
