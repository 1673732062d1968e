"""The local cloud hands an asynchronous invocation that failed for good on, as Lambda does.

After the last retry, the function's on-failure destination gets Lambda's invocation record (the event,
the error, why) and its dead-letter queue gets the event, with the request id and error as attributes;
both are filled in from the template, where moto's CloudFormation drops them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.localcloud_fixtures.support import Deployment, deployed_fixture


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployed_fixture(tmp_path_factory, "localcloud-async-failures")


def invoke_later(deployed: Deployment, function: str, event: dict[str, Any]) -> None:
    response = deployed.cloud.client("lambda").invoke(
        FunctionName=deployed.functions[function], InvocationType="Event", Payload=json.dumps(event).encode()
    )
    assert response["StatusCode"] == 202


def messages(deployed: Deployment, queue_output: str) -> list[dict[str, Any]]:
    """The messages in the queue, taken out of it."""
    sqs, url = deployed.cloud.client("sqs"), deployed.functions[queue_output]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for message in received.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return list(received.get("Messages", []))


def test_a_failed_invocation_reaches_its_destination_and_its_dead_letter_queue_after_its_retries(
    deployed: Deployment,
) -> None:
    # Given a function that always fails, with a Lambda destination on failure and a dead-letter queue
    event = {"upload": "incoming/sales/jan.csv", "n": 7}
    # When it is invoked asynchronously and Lambda is done with it
    invoke_later(deployed, "DoomedName", event)
    deployed.cloud.wait_idle(timeout=60)
    # Then it ran three times (two retries), and only then was the record handed on, once
    runs = [r for r in deployed.cloud.invocations() if r.function_name == deployed.functions["DoomedName"]]
    assert [r.error_type for r in runs] == ["FixtureFailureError"] * 3
    (record,) = [r["event"] for r in deployed.recorded_events() if r["event"].get("requestPayload") == event]
    # in Lambda's invocation record format
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": runs[-1].request_id,
        "functionArn": deployed.functions["DoomedArn"] + ":$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "FixtureFailureError"
    assert record["responsePayload"]["errorMessage"] == "the doomed fixture fails"
    # and the dead-letter queue holds the event itself, with what went wrong as attributes
    (message,) = messages(deployed, "DoomedDeadLettersUrl")
    assert json.loads(message["Body"]) == event
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {
        "RequestID": runs[-1].request_id,
        "ErrorCode": "200",
        "ErrorMessage": "the doomed fixture fails",
    }


def test_a_timed_out_invocation_sends_lambdas_timeout_error_to_a_queue_destination(
    deployed: Deployment,
) -> None:
    # Given a function with a one-second limit and a queue as its on-failure destination
    event = {"seconds": 5}
    # When every attempt runs out of time
    invoke_later(deployed, "DrowsyName", event)
    deployed.cloud.wait_idle(timeout=60)
    # Then the queue has the invocation record, with the timeout as Lambda reports it
    (message,) = messages(deployed, "DrowsyFailuresUrl")
    record = json.loads(message["Body"])
    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert record["responsePayload"]["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_an_invocation_that_succeeds_is_not_handed_on(deployed: Deployment) -> None:
    # Given an asynchronous invocation of the same function that finishes in time
    invoke_later(deployed, "DrowsyName", {"seconds": 0})
    deployed.cloud.wait_idle(timeout=30)
    # Then nothing reaches its destination
    assert messages(deployed, "DrowsyFailuresUrl") == []
