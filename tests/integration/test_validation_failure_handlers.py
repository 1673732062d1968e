"""The two handlers that leave a failure record where validation could not finish, on moto.

The validation function, given a context whose time is nearly out, stops before its first read and
records why; the failure recorder, given the invocation record Lambda sends after the validation
function died on every attempt, writes the same kind of record. Both alert once and leave the upload as
it was. An upload accepted publishes the one metric the no-new-data alarm watches.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from domain.data.contract import load_contract
from examples.churn import chunks
from tests.moto_support import (
    FakeLambdaContext,
    asset_handler,
    create_data_plane,
    forget_cached_adapters,
    mocked_aws,
)

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlops-data"
TABLE = "catalog"
KEY = "incoming/churn/january.csv"
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "validation", "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
              "POWERTOOLS_TRACE_DISABLED": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def handlers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """Each handler from a copy of its folder (with the contracts, as the asset has them)."""
    churn = load_contract(ROOT / "contracts" / "churn.yaml")
    patch = pytest.MonkeyPatch()
    for variable, value in POWERTOOLS.items():
        patch.setenv(variable, value)
    contracts = json.dumps({"churn": churn.model_dump(mode="json")})
    loaded = {
        name: asset_handler(name, tmp_path_factory.mktemp(name), {"contracts.json": contracts})
        for name in ("dataset_validation", "validation_failure")
    }
    yield loaded
    patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, handlers: dict[str, ModuleType]) -> Iterator[dict[str, str]]:
    """The data bucket, catalog and alert topic on moto, with a queue that receives the alerts."""
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "DATA_BUCKET": BUCKET, "CATALOG_TABLE": TABLE,
           "EVENT_BUS_NAME": "default"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mocked_aws(monkeypatch):
        create_data_plane(BUCKET, TABLE)
        topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
        queue = boto3.client("sqs").create_queue(QueueName="alerts-seen")["QueueUrl"]
        queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        boto3.client("sns").subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
        )
        monkeypatch.setenv("ALERTS_TOPIC_ARN", topic)
        forget_cached_adapters(handlers.values())
        yield {"alerts_queue": queue}


def upload() -> tuple[bytes, dict[str, Any]]:
    """A good churn CSV, uploaded; the "Object Created" event EventBridge delivers for it."""
    body = io.BytesIO()
    pcsv.write_csv(pa.concat_tables(list(chunks(2_000, seed=3))), body)
    put = boto3.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=body.getvalue())
    event = {
        "version": "0", "id": "5c1a5bd9-1d1c-4a8e-9d8c-3f3b1f1b2d6e", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-06T06:11:50Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": KEY, "size": len(body.getvalue()), "etag": put["ETag"].strip('"'),
                              "version-id": put["VersionId"], "sequencer": "0062E99A88DC407460"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"},
    }  # fmt: skip
    return body.getvalue(), event


def failure_records() -> dict[str, dict[str, Any]]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/").get("Contents", [])
    return {
        item["Key"]: json.loads(s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
        for item in listed
        if item["Key"].endswith("/failure.json")
    }


def alerts(queue: str) -> list[str]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"])["Message"] for message in messages]


def test_a_validation_out_of_time_records_why_and_returns(
    aws: dict[str, str], handlers: dict[str, ModuleType]
) -> None:
    # Given an upload, and an invocation with a millisecond left (a catalog query takes longer)
    body, event = upload()
    # When the validation function runs on it
    outcome = handlers["dataset_validation"].handler(event, FakeLambdaContext("validation", remaining_ms=1))
    # Then it returned (no retry) with a failure record that says it ran out of time, before any read
    assert outcome["status"] == "failed"
    [(key, record)] = failure_records().items()
    assert key == outcome["report_key"] and key.startswith("quarantine/churn/")
    assert record["summary"].startswith(
        f"could not be validated within the function's time limit (0.001 seconds) after reading 0 of "
        f"{len(body):,} bytes; the upload is kept; split it into smaller files"
    )
    assert record["error"]["kind"] == "timeout"
    [alert] = alerts(aws["alerts_queue"])
    assert record["summary"] in alert
    assert boto3.client("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == body
    # and with the function's usual time it is a version as usual
    again = handlers["dataset_validation"].handler(
        event, FakeLambdaContext("validation", remaining_ms=900_000)
    )
    assert again["status"] == "accepted"


def test_the_failure_recorder_writes_the_record_of_a_validation_that_died(
    aws: dict[str, str], handlers: dict[str, ModuleType]
) -> None:
    # Given the invocation record Lambda sends once the validation function ran out of memory three times
    body, event = upload()
    invocation = {
        "version": "1.0",
        "timestamp": "2026-12-06T06:41:53.075Z",
        "requestContext": {"requestId": "cabbfbd0-e266-42a9-a52e-6e96eb16c695",
                           "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:validation:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Runtime.OutOfMemory", "errorMessage":
                            "RequestId: cabbfbd0-e266-42a9-a52e-6e96eb16c695 Error: Runtime exited with "
                            "error: signal: killed"},
    }  # fmt: skip
    # When the failure recorder gets it
    outcome = handlers["validation_failure"].handler(
        invocation, FakeLambdaContext("validation", remaining_ms=60_000)
    )
    # Then the upload has its failure record, keyed as the validation function keys it, and one alert
    [(key, record)] = failure_records().items()
    assert key == outcome["report_key"] and key.startswith("quarantine/churn/")
    assert record["summary"] == (
        "could not be validated: the validation function stopped before it could finish "
        "(Runtime.OutOfMemory: Runtime exited with error: signal: killed, 3 attempts); the upload is kept; "
        "retry with `mlops data push` or ask the platform's operators"
    )
    assert record["source"]["version_id"] == event["detail"]["object"]["version-id"]
    [alert] = alerts(aws["alerts_queue"])
    assert record["summary"] in alert
    assert boto3.client("s3").get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == body


def _metric_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def test_an_accepted_version_publishes_accepted_versions_by_dataset_alone_and_a_duplicate_none(
    aws: dict[str, str], handlers: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an upload
    _, event = upload()
    validation = handlers["dataset_validation"]

    # When it is validated, then delivered again (EventBridge delivers at least once)
    first = validation.handler(event, FakeLambdaContext("validation"))
    accepted = _metric_lines(capsys.readouterr().out)
    second = validation.handler(event, FakeLambdaContext("validation"))
    repeated = _metric_lines(capsys.readouterr().out)

    # Then the acceptance is counted once, on {Dataset} alone (no service), in the function's namespace
    assert (first["status"], second["status"]) == ("accepted", "duplicate")
    (line,) = [line for line in accepted if "AcceptedVersions" in line]
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == POWERTOOLS["POWERTOOLS_METRICS_NAMESPACE"]
    assert directive["Dimensions"] == [["Dataset"]]
    assert (line["Dataset"], line["AcceptedVersions"]) == ("churn", [1.0])
    assert "service" not in line
    assert not [line for line in repeated if "AcceptedVersions" in line]
