"""Lambda in the local cloud: handlers run from their deployed assets and answer like AWS.

Every function here is invoked through the Lambda API with boto3, the way an app or another service
would; the handlers know nothing of the local cloud.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.deploy.assets import zip_directory
from tests.integration.localcloud_fixtures.support import (
    Deployment,
    deployed_fixture,
    retrying_client,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from deployed_fixture(tmp_path_factory, "localcloud-lambda")


def invoke(deployed: Deployment, function: str, event: object, **arguments: str) -> dict[str, Any]:
    response = deployed.cloud.client("lambda").invoke(
        FunctionName=deployed.functions[function], Payload=json.dumps(event).encode(), **arguments
    )
    response["Payload"] = json.loads(response["Payload"].read())
    return dict(response)


def test_a_handler_runs_from_its_asset_with_its_own_environment_and_context(deployed: Deployment) -> None:
    # When the recorder is invoked directly
    response = invoke(deployed, "RecorderName", {"id": "direct-call"})

    # Then it ran the code of its asset (recorder_lib exists only there) and wrote its record
    (record,) = [r for r in deployed.recorded_events() if r["event"] == {"id": "direct-call"}]
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["Payload"] == {"pk": record["pk"]}
    assert record["pk"] == f"direct-call#{record['request_id']}"
    # its environment and context are Lambda's
    assert record["greeting"] == "hello from the recorder"
    assert record["handler_env"] == "handler.handler"
    assert record["function_name"] == deployed.functions["RecorderName"]
    assert record["memory_limit_in_mb"] == "256"
    assert 0 < int(record["remaining_ms"]) <= 10_000


def test_a_warm_environment_is_reused(deployed: Deployment) -> None:
    invoke(deployed, "SleeperName", {"seconds": 0})

    invoke(deployed, "SleeperName", {"seconds": 0})

    last = deployed.cloud.invocations(deployed.functions["SleeperName"])[-1]
    assert (last.cold_start, last.error_type, last.invocation_type) == (False, None, "RequestResponse")


def test_a_raising_handler_returns_an_unhandled_error_payload(deployed: Deployment) -> None:
    # When a handler raises
    response = invoke(deployed, "FailingName", {}, LogType="Tail")

    # Then the API answers as AWS does: FunctionError, the error payload, the log tail
    payload = response["Payload"]
    assert response["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("FixtureFailureError", "the fixture fails")
    assert all("handler.py" in frame for frame in payload["stackTrace"])
    log_tail = base64.b64decode(str(response["LogResult"])).decode()
    assert "failing on purpose: the fixture fails" in log_tail
    assert "[ERROR] FixtureFailureError: the fixture fails" in log_tail
    assert (
        deployed.cloud.invocations(deployed.functions["FailingName"])[-1].error_type == "FixtureFailureError"
    )


def test_a_handler_past_its_timeout_is_killed_and_recorded(deployed: Deployment) -> None:
    # Given a function with a 1 s timeout
    started = time.monotonic()

    # When it runs for longer
    response = invoke(deployed, "SleeperName", {"seconds": 30})

    # Then it is stopped at its timeout, with AWS's error, and the next call gets a fresh environment
    elapsed = time.monotonic() - started
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in str(response["Payload"]["errorMessage"])
    assert 1.0 <= elapsed < 5.0
    timed_out = deployed.cloud.invocations(deployed.functions["SleeperName"])[-1]
    assert timed_out.error_type == "Sandbox.Timedout"
    assert invoke(deployed, "SleeperName", {"seconds": 0})["Payload"] == {"slept": 0.0}
    assert deployed.cloud.invocations(deployed.functions["SleeperName"])[-1].cold_start is True


def test_logs_go_to_cloudwatch_logs_framed_as_lambda_frames_them(deployed: Deployment) -> None:
    invoke(deployed, "SleeperName", {"seconds": 0})
    request_id = deployed.cloud.invocations(deployed.functions["SleeperName"])[-1].request_id

    messages = deployed.log_messages(deployed.functions["SleeperName"])

    start = messages.index(f"START RequestId: {request_id} Version: $LATEST")
    assert messages[start + 1] == "sleeping 0.0 s"
    assert messages[start + 2] == f"END RequestId: {request_id}"
    assert messages[start + 3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "Memory Size: 256 MB" in messages[start + 3]


def test_an_event_invocation_returns_at_once_and_runs_later(deployed: Deployment) -> None:
    # When the recorder is invoked asynchronously
    response = deployed.cloud.client("lambda").invoke(
        FunctionName=deployed.functions["RecorderName"],
        InvocationType="Event",
        Payload=b'{"id": "async-call"}',
    )
    deployed.cloud.wait_idle(timeout=30)

    # Then the API accepted it with 202, and the handler ran once, asynchronously
    assert response["StatusCode"] == 202
    assert [r["event"] for r in deployed.recorded_events() if r["event"].get("id") == "async-call"] == [
        {"id": "async-call"}
    ]
    (delivery,) = [d for d in deployed.cloud.deliveries() if d.source == "lambda:Invoke"]
    assert (delivery.status, len(delivery.request_ids)) == ("succeeded", 1)


def test_invoking_a_function_that_does_not_exist_is_an_error(deployed: Deployment) -> None:
    client = deployed.cloud.client("lambda")

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="no-such-function", Payload=b"{}")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe\x00bad", "byte 0xff at offset 0 is not UTF-8; send a JSON document encoded as UTF-8"),
        (
            '{"city": "Zürich"}'.encode("latin-1"),
            "byte 0xfc at offset 11 is not UTF-8; send a JSON document encoded as UTF-8",
        ),
        (b"not json", "the payload is not JSON (line 1, column 1); send a JSON document"),
    ],
    ids=["random bytes", "latin-1 json", "utf-8 text"],
)
@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event"])
def test_a_payload_that_is_not_json_is_refused_as_lambda_refuses_it(
    deployed: Deployment, payload: bytes, reason: str, invocation_type: str
) -> None:
    # Given an app whose SDK retries server errors, as boto3 does by default
    client = retrying_client(deployed.cloud, "lambda")
    function = deployed.functions["RecorderName"]
    before = len(deployed.cloud.invocations(function))

    # When it invokes a function with a payload that is not a JSON document
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName=function, Payload=payload, InvocationType=invocation_type)

    # Then Lambda's 400 comes back at the first attempt, and the function never ran
    response = raised.value.response
    assert response["Error"]["Code"] == "InvalidRequestContentException"
    assert response["Error"]["Message"] == (
        "Could not parse request body into json: Could not parse payload into json: " + reason
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    deployed.cloud.wait_idle(timeout=30)
    assert len(deployed.cloud.invocations(function)) == before


def test_the_deployed_code_is_the_synthesized_asset(
    deployed: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given the recorder's asset folder in the cloud assembly
    assembly = tmp_path_factory.getbasetemp() / "localcloud-fixture.out"
    (asset,) = [p for p in assembly.glob("asset.*") if (p / "recorder_lib").is_dir()]

    # When Lambda is asked which code the function runs
    configuration = deployed.cloud.client("lambda").get_function(
        FunctionName=deployed.functions["RecorderName"]
    )

    # Then it is that folder, zipped as the CDK CLI zips it
    digest = base64.b64encode(hashlib.sha256(zip_directory(asset)).digest()).decode()
    assert configuration["Configuration"]["CodeSha256"] == digest
