"""Step Functions' "Execution Status Change" events in the local cloud, as AWS sends them.

A standard workflow's execution that ends sends the event to the default bus, whose rules deliver it
(the retraining policy learns this way that a training run ended). Built through the API: state
machines and a rule on the default bus whose target is a queue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from domain.events import ExecutionStatusChange
from localcloud import LocalCloud
from tests.iam_roles import create_role, let_service_send

pytestmark = pytest.mark.slow

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account_id=ACCOUNT) as started:
        yield started


@pytest.fixture(scope="module")
def events(cloud: LocalCloud) -> str:
    """A queue that receives every "Step Functions Execution Status Change" of the default bus."""
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="execution-status")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bridge = cloud.client("events")
    rule = bridge.put_rule(
        Name="execution-status", EventPattern=json.dumps(ExecutionStatusChange.KIND.pattern())
    )
    let_service_send(sqs, url, service="events.amazonaws.com", source_arn=rule["RuleArn"])
    bridge.put_targets(Rule="execution-status", Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def machine(cloud: LocalCloud, states: dict[str, Any], *, express: bool = False) -> str:
    role = create_role(cloud.client("iam"), f"sm-{uuid.uuid4().hex[:8]}", trusts="states.amazonaws.com",
                       statements=[])  # fmt: skip
    first = next(iter(states))
    created = cloud.client("stepfunctions").create_state_machine(
        name=f"m-{uuid.uuid4().hex[:8]}", roleArn=role, type="EXPRESS" if express else "STANDARD",
        definition=json.dumps({"StartAt": first, "States": states}),
    )  # fmt: skip
    return str(created["stateMachineArn"])


def received(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    cloud.wait_idle(timeout=30)
    sqs, found = cloud.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_an_execution_that_succeeds_sends_one_event_when_it_ends(cloud: LocalCloud, events: str) -> None:
    # Given a machine that passes its input on
    arn = machine(cloud, {"Done": {"Type": "Pass", "End": True}})

    # When an execution runs to its end
    started = cloud.client("stepfunctions").start_execution(
        stateMachineArn=arn, name="run-1", input='{"a": 1}'
    )

    # Then the default bus delivered one status change, SUCCEEDED, in AWS's shape
    (event,) = received(cloud, events)
    assert (event["source"], event["detail-type"]) == ("aws.states", "Step Functions Execution Status Change")
    assert event["resources"] == [started["executionArn"]]
    detail = event["detail"]
    change = ExecutionStatusChange.from_detail(detail)
    assert (change.execution_arn, change.state_machine_arn, change.name) == (
        started["executionArn"],
        arn,
        "run-1",
    )
    assert change.status == "SUCCEEDED" and change.ended
    assert json.loads(detail["input"]) == {"a": 1} and json.loads(detail["output"]) == {"a": 1}
    assert isinstance(detail["startDate"], int) and detail["stopDate"] >= detail["startDate"]
    assert (detail["error"], detail["cause"]) == (None, None)


def test_a_failed_execution_sends_its_error_and_cause(cloud: LocalCloud, events: str) -> None:
    arn = machine(cloud, {"Broken": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}})

    cloud.client("stepfunctions").start_execution(stateMachineArn=arn, name="run-2")

    (event,) = received(cloud, events)
    assert event["detail"]["status"] == "FAILED"
    assert (event["detail"]["error"], event["detail"]["cause"]) == ("Oops", "on purpose")


def test_a_stopped_execution_sends_aborted(cloud: LocalCloud, events: str) -> None:
    sfn = cloud.client("stepfunctions")
    arn = machine(cloud, {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}})
    started = sfn.start_execution(stateMachineArn=arn, name="run-3")

    sfn.stop_execution(executionArn=started["executionArn"])

    (event,) = received(cloud, events)
    assert event["detail"]["status"] == "ABORTED"


def test_an_express_workflow_sends_no_status_change(cloud: LocalCloud, events: str) -> None:
    arn = machine(cloud, {"Done": {"Type": "Pass", "End": True}}, express=True)

    cloud.client("stepfunctions").start_execution(stateMachineArn=arn, name="run-4")

    assert received(cloud, events) == []
