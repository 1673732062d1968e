"""EventBridge and SNS deliver to a queue only as AWS lets their service principal, enforced.

Built through the API (nothing to synthesize): a rule on the default bus and a topic, each sending to a
queue whose policy is what CDK writes (``events.amazonaws.com`` / ``sns.amazonaws.com`` may
``sqs:SendMessage`` for the rule / topic, ``aws:SourceArn``), or none, or one for another source; and a
queue encrypted with a customer managed key whose policy does or does not let the service use it.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import create_role, let_service_send

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"
ROOT = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT, enforce_iam=True) as started:
        yield started


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue(
    cloud: LocalCloud, *, service: str | None = None, source: str | None = None, key: str | None = None
) -> tuple[str, str]:
    """A queue (URL, ARN) whose policy lets ``service`` send for ``source`` (no policy without one)."""
    sqs = cloud.client("sqs")
    attributes = {"KmsMasterKeyId": key} if key else {}
    url = sqs.create_queue(QueueName=_name("deliveries"), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    if service and source:
        let_service_send(sqs, url, service=service, source_arn=source)
    return url, arn


def received(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    cloud.wait_idle(timeout=30)
    messages = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def rule_to(cloud: LocalCloud, target: dict[str, Any]) -> tuple[str, str]:
    """A rule (name, ARN) on the default bus for detail-type ``<name>``, sending to ``target``."""
    events, name = cloud.client("events"), _name("to-queue")
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"detail-type": [name]}))["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "queue", **target}])
    return name, arn


def rule_arn_of(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"


def put_event(cloud: LocalCloud, detail_type: str) -> None:
    entry = {"Source": "tests", "DetailType": detail_type, "Detail": json.dumps({"n": 1})}
    assert cloud.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_a_rule_sends_to_a_queue_whose_policy_lets_eventbridge_in_for_it(cloud: LocalCloud) -> None:
    name = _name("rule")
    url, arn = queue(cloud, service="events.amazonaws.com", source=rule_arn_of(name))
    cloud.client("events").put_rule(Name=name, EventPattern=json.dumps({"detail-type": [name]}))
    cloud.client("events").put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])

    put_event(cloud, name)

    (event,) = received(cloud, url)
    assert event["detail"] == {"n": 1}


@pytest.mark.parametrize("policy_source", [None, "arn:aws:events:us-east-1:123456789012:rule/another"])
def test_a_rule_whose_queue_does_not_let_it_in_delivers_nothing_and_is_recorded(
    cloud: LocalCloud, policy_source: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    url, arn = queue(cloud, service="events.amazonaws.com", source=policy_source)
    name, rule_arn = rule_to(cloud, {"Arn": arn})

    with caplog.at_level(logging.WARNING, logger="localcloud.iam"):
        put_event(cloud, name)

    assert received(cloud, url) == []
    (delivery,) = [d for d in cloud.deliveries() if d.source == rule_arn]
    assert delivery.status == "failed" and (delivery.error or "").startswith("AccessDenied")
    assert any(d.action == "sqs:SendMessage" and d.resource == arn for d in cloud.iam.enforcer.denials())
    assert any(arn in r.getMessage() for r in caplog.records if r.name == "localcloud.iam")


def test_a_refused_event_goes_to_the_targets_dead_letter_queue_only_if_eventbridge_may_send_there(
    cloud: LocalCloud,
) -> None:
    name = _name("rule")
    _, refusing = queue(cloud)
    letters_url, letters = queue(cloud, service="events.amazonaws.com", source=rule_arn_of(name))
    closed_url, closed = queue(cloud)
    cloud.client("events").put_rule(Name=name, EventPattern=json.dumps({"detail-type": [name]}))
    cloud.client("events").put_targets(
        Rule=name, Targets=[{"Id": "queue", "Arn": refusing, "DeadLetterConfig": {"Arn": letters}}]
    )
    other, _ = rule_to(cloud, {"Arn": refusing, "DeadLetterConfig": {"Arn": closed}})

    put_event(cloud, name)
    put_event(cloud, other)

    (event,) = received(cloud, letters_url)
    assert event["detail"] == {"n": 1}
    assert received(cloud, closed_url) == []


def encrypted_queue(
    cloud: LocalCloud, service: str, source: str, *, service_may_use_key: bool
) -> tuple[str, str]:
    statements: list[dict[str, Any]] = [ROOT]
    if service_may_use_key:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    key = cloud.client("kms").create_key(Policy=policy)["KeyMetadata"]["Arn"]
    return queue(cloud, service=service, source=source, key=key)


@pytest.mark.parametrize("service_may_use_key", [True, False])
def test_a_rule_sends_to_an_encrypted_queue_only_if_the_key_policy_lets_eventbridge_use_the_key(
    cloud: LocalCloud, service_may_use_key: bool
) -> None:
    name = _name("rule")
    url, arn = encrypted_queue(
        cloud, "events.amazonaws.com", rule_arn_of(name), service_may_use_key=service_may_use_key
    )
    cloud.client("events").put_rule(Name=name, EventPattern=json.dumps({"detail-type": [name]}))
    cloud.client("events").put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])

    put_event(cloud, name)

    assert len(received(cloud, url)) == (1 if service_may_use_key else 0)


def topic_to(cloud: LocalCloud, *, allowed: str | None, encrypted: bool | None = None) -> tuple[str, str]:
    """A topic (ARN) subscribed by a queue (URL) that lets SNS in for ``allowed`` ("topic": this one)."""
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=_name("topic"))["TopicArn"]
    source = topic if allowed == "topic" else allowed
    if encrypted is None:
        url, arn = queue(cloud, service="sns.amazonaws.com", source=source)
    else:
        url, arn = encrypted_queue(cloud, "sns.amazonaws.com", topic, service_may_use_key=encrypted)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


@pytest.mark.parametrize(
    ("allowed", "encrypted", "delivered"),
    [
        ("topic", None, 1),
        (None, None, 0),
        ("arn:aws:sns:us-east-1:123456789012:another", None, 0),
        ("topic", True, 1),
        ("topic", False, 0),
    ],
)
def test_a_topic_sends_to_a_subscribed_queue_only_if_its_policy_and_key_let_sns_in(
    cloud: LocalCloud, allowed: str | None, encrypted: bool | None, delivered: int
) -> None:
    topic, url = topic_to(cloud, allowed=allowed, encrypted=encrypted)

    cloud.client("sns").publish(TopicArn=topic, Message="hello")

    messages = received(cloud, url)
    assert [m["Message"] for m in messages] == ["hello"] * delivered
    if not delivered:
        assert any(d.principal == "sns.amazonaws.com" for d in cloud.iam.enforcer.denials())


def test_a_message_sns_may_not_deliver_goes_to_the_subscriptions_dead_letter_queue(cloud: LocalCloud) -> None:
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=_name("topic"))["TopicArn"]
    _, refusing = queue(cloud)
    letters_url, letters = queue(cloud, service="sns.amazonaws.com", source=topic)
    redrive = json.dumps({"deadLetterTargetArn": letters})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=refusing, Attributes={"RedrivePolicy": redrive})

    sns.publish(TopicArn=topic, Message="hello")

    assert [m["Message"] for m in received(cloud, letters_url)] == ["hello"]


@pytest.mark.parametrize(
    ("allowed", "invoked"), [("topic", 1), (None, 0), ("arn:aws:sns:us-east-1:123456789012:x", 0)]
)
def test_a_topic_invokes_a_subscribed_function_only_if_its_policy_lets_sns_in_for_the_topic(
    cloud: LocalCloud, allowed: str | None, invoked: int
) -> None:
    sns, lam = cloud.client("sns"), cloud.client("lambda")
    topic = sns.create_topic(Name=_name("topic"))["TopicArn"]
    role = create_role(cloud.client("iam"), _name("subscriber"), trusts="lambda.amazonaws.com", statements=[])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("index.py", "def handler(event, context):\n    return None\n")
    name = _name("subscriber")
    function = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]
    if allowed:
        lam.add_permission(
            FunctionName=name,
            StatementId="sns",
            Action="lambda:InvokeFunction",
            Principal="sns.amazonaws.com",
            SourceArn=topic if allowed == "topic" else allowed,
        )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)

    sns.publish(TopicArn=topic, Message="hello")
    cloud.wait_idle(timeout=30)

    assert len(cloud.invocations(name)) == invoked
