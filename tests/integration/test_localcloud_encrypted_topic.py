"""An encrypted SNS topic in the local cloud: only publishers that may use its key get a message through.

Built through the API (no app to synthesize): a key whose policy only delegates to IAM, as CDK writes it,
a topic encrypted with it and a queue subscribed to the topic; roles for Step Functions with and without
the key; and alarms whose actions publish to the topic, as ``cloudwatch.amazonaws.com``.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import let_service_send
from tests.integration.localcloud_fixtures.alarms import put_errors_alarm

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"
ROOT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
CLOUDWATCH_MAY_USE_IT = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
    },
}
CLOUDWATCH_MAY_PUBLISH = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Condition": CLOUDWATCH_MAY_USE_IT["Condition"],
}
SSL_ONLY = {  # what CDK's enforce_ssl writes: the topic's only policy statement
    "Sid": "AllowPublishThroughSSLOnly",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@dataclass(frozen=True)
class Topic:
    cloud: LocalCloud
    arn: str
    key_id: str
    queue_url: str

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def received(self) -> list[dict[str, Any]]:
        """What reached the subscribed queue since last asked."""
        self.cloud.wait_idle(timeout=30)
        sqs = self.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    def set_policies(self, *, key: list[dict[str, Any]], topic: list[dict[str, Any]]) -> None:
        """The key's policy (the account's root, then ``key``) and the topic's policy (``topic``)."""
        document = {**ROOT_ONLY, "Statement": ROOT_ONLY["Statement"] + key}
        self.client("kms").put_key_policy(
            KeyId=self.key_id, PolicyName="default", Policy=json.dumps(document)
        )
        statements = [{**s, "Resource": self.arn} for s in topic]
        policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
        self.client("sns").set_topic_attributes(
            TopicArn=self.arn, AttributeName="Policy", AttributeValue=policy
        )

    def role(self, service: str, *, key_grant: bool, for_sources: str | None = None) -> str:
        """A role ``service`` assumes (for the resources ``for_sources`` matches), that may publish to the
        topic (and use its key)."""
        iam, name = self.client("iam"), f"publisher-{uuid.uuid4().hex[:8]}"
        trusted: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
        if for_sources:
            trusted["Condition"] = {"ArnLike": {"aws:SourceArn": for_sources}}
        trust = {"Version": "2012-10-17", "Statement": [trusted]}
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        key_arn = self.client("kms").describe_key(KeyId=self.key_id)["KeyMetadata"]["Arn"]
        statements = [{"Effect": "Allow", "Action": "sns:Publish", "Resource": self.arn}]
        if key_grant:
            statements.append(
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": key_arn}
            )
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        iam.put_role_policy(RoleName=name, PolicyName="publish", PolicyDocument=document)
        return str(role)

    def function_failing_to_the_topic(self, *, key_grant: bool) -> str:
        """A function that always fails, whose on-failure destination is the topic."""
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as code:
            code.writestr("index.py", "def handler(event, context):\n    raise RuntimeError('doomed')\n")
        name = f"doomed-{uuid.uuid4().hex[:8]}"
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role("lambda.amazonaws.com", key_grant=key_grant),
            Handler="index.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        self.client("lambda").put_function_event_invoke_config(
            FunctionName=name,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": self.arn}},
        )
        return name

    def machine_publishing_as(self, *, key_grant: bool, for_sources: str | None = None) -> str:
        """A state machine whose task publishes to the topic, as a role that may publish (and use the key)."""
        role = self.role("states.amazonaws.com", key_grant=key_grant, for_sources=for_sources)
        name = f"machine-{uuid.uuid4().hex[:8]}"
        definition = {
            "StartAt": "Announce",
            "States": {
                "Announce": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {
                        "TopicArn": self.arn,
                        "Subject": "Model version deployed",
                        "Message.$": "$",
                    },
                    "End": True,
                }
            },
        }
        machine = self.client("stepfunctions").create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=role
        )
        return str(machine["stateMachineArn"])

    def run(self, machine: str) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"version": 3}))
        self.cloud.wait_idle(timeout=30)
        return dict(sfn.describe_execution(executionArn=execution["executionArn"]))

    def alarm(self, name: str | None = None) -> str:
        """An alarm whose ALARM action is the topic."""
        name = name or f"errors-{uuid.uuid4().hex[:8]}"
        put_errors_alarm(self.client("cloudwatch"), name, AlarmActions=[self.arn])
        return name

    def raise_alarm(self, name: str) -> None:
        self.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT, async_retry_delays=(0.05,)) as started:
        yield started


@pytest.fixture
def topic(cloud: LocalCloud) -> Topic:
    kms, sns, sqs = cloud.client("kms"), cloud.client("sns"), cloud.client("sqs")
    key = kms.create_key(Policy=json.dumps(ROOT_ONLY))["KeyMetadata"]
    arn = sns.create_topic(Name=f"alerts-{uuid.uuid4().hex[:8]}", Attributes={"KmsMasterKeyId": key["Arn"]})[
        "TopicArn"
    ]
    queue = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    let_service_send(sqs, queue, service="sns.amazonaws.com", source_arn=arn)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    return Topic(cloud=cloud, arn=arn, key_id=key["KeyId"], queue_url=queue)


def test_a_state_machine_whose_role_may_not_use_the_key_fails_its_publish_as_sns_refuses_it(
    topic: Topic,
) -> None:
    execution = topic.run(topic.machine_publishing_as(key_grant=False))

    assert execution["status"] == "FAILED"
    assert execution["error"] == "SNS.KMSAccessDeniedException"
    assert "kms:GenerateDataKey" in execution["cause"] and "AccessDeniedException" in execution["cause"]
    assert topic.received() == []


@pytest.mark.parametrize("key_grant", [False, True], ids=["without the key", "with the key"])
def test_a_functions_on_failure_record_reaches_an_encrypted_topic_only_if_its_role_may_use_the_key(
    topic: Topic, key_grant: bool
) -> None:
    name = topic.function_failing_to_the_topic(key_grant=key_grant)

    topic.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')

    records = [json.loads(m["Message"]) for m in topic.received()]
    assert [r["requestPayload"] for r in records] == ([{"n": 1}] if key_grant else [])


@pytest.mark.parametrize(
    "for_sources",
    [None, f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:*"],
    ids=["trusted for any machine", "trusted for this account's machines (CDK's trust policy)"],
)
def test_a_state_machine_whose_role_may_use_the_key_publishes(topic: Topic, for_sources: str | None) -> None:
    execution = topic.run(topic.machine_publishing_as(key_grant=True, for_sources=for_sources))

    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    (message,) = topic.received()
    assert message["Subject"] == "Model version deployed"
    assert json.loads(message["Message"]) == {"version": 3}


@pytest.mark.parametrize(
    ("key_statements", "topic_statements"),
    [
        (
            [],
            [
                SSL_ONLY,
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                },
            ],
        ),
        ([CLOUDWATCH_MAY_USE_IT], [SSL_ONLY]),
    ],
    ids=["the key's policy does not name cloudwatch", "the topic's policy does not let it publish"],
)
def test_an_alarm_whose_topic_cloudwatch_may_not_use_records_a_failed_action_and_publishes_nothing(
    topic: Topic, key_statements: list[dict[str, Any]], topic_statements: list[dict[str, Any]]
) -> None:
    topic.set_policies(key=key_statements, topic=topic_statements)
    name = topic.alarm()

    topic.raise_alarm(name)

    assert topic.received() == []
    history = topic.client("cloudwatch").describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    (item,) = history["AlarmHistoryItems"]
    assert item["HistorySummary"] == f"Failed to execute action {topic.arn}"
    assert json.loads(item["HistoryData"])["actionState"] == "Failed"


def test_an_alarm_whose_topic_and_key_let_cloudwatch_in_notifies_the_topic_as_cloudwatch_does(
    topic: Topic,
) -> None:
    topic.set_policies(key=[CLOUDWATCH_MAY_USE_IT], topic=[SSL_ONLY, CLOUDWATCH_MAY_PUBLISH])
    name = topic.alarm()

    topic.raise_alarm(name)
    topic.raise_alarm(name)  # no change of state, no second notification

    (message,) = topic.received()
    assert message["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    notification = json.loads(message["Message"])
    assert notification["AlarmName"] == name
    # an alarm starts in INSUFFICIENT_DATA, as CloudWatch creates it
    assert (notification["OldStateValue"], notification["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert notification["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
    assert notification["Trigger"]["MetricName"] == "Errors"
    assert notification["Trigger"]["Statistic"] == "SUM"
    history = topic.client("cloudwatch").describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert [i["HistorySummary"] for i in history["AlarmHistoryItems"]] == [
        f"Successfully executed action {topic.arn}"
    ]


def test_an_alarm_whose_name_does_not_fit_in_a_subject_still_notifies(topic: Topic) -> None:
    # Given an alarm named as the platform names an endpoint's (up to 63 + 22 characters): CloudWatch
    # notifies whatever the name, and SNS takes fewer than 100 characters in a subject
    topic.set_policies(key=[CLOUDWATCH_MAY_USE_IT], topic=[SSL_ONLY, CLOUDWATCH_MAY_PUBLISH])
    name = topic.alarm(f"{'e' * 55}-{uuid.uuid4().hex[:7]}-invocation-5xx-errors")

    topic.raise_alarm(name)

    (message,) = topic.received()
    assert len(message["Subject"]) < 100
    assert message["Subject"].startswith(f'ALARM: "{name[:40]}')
    assert message["Subject"].endswith('..." in US East (N. Virginia)')
    assert json.loads(message["Message"])["AlarmName"] == name


def test_an_on_failure_record_the_topic_refuses_is_lost_and_the_next_one_is_delivered(
    topic: Topic,
) -> None:
    # Given a function whose on-failure records go to the topic, with the key
    name = topic.function_failing_to_the_topic(key_grant=True)

    # When one event makes a record over SNS's 256 KiB (Lambda takes 1 MB asynchronously), then one does not
    lam = topic.client("lambda")
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": "x" * 300_000}).encode())
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')

    # Then the first record is lost (SNS refused it), as on AWS, and the second still reaches the topic
    records = [json.loads(m["Message"]) for m in topic.received()]
    assert [r["requestPayload"] for r in records] == [{"n": 2}]
