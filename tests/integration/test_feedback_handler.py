"""The feedback function on moto, and ``mlops feedback push`` against it: labels in, labelled rows out.

The join's rules are the use case's (``tests/unit/test_feedback_*.py``); here the function is wired: the
"Object Created" event in, moto's S3 and SNS behind the adapters, the rows and reports in the data
bucket, the realized metrics as EMF lines, and the CLI waiting for the report the function writes.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.target import Platform
from tests.feedback_support import DATASET, HEADER, capture, declared
from tests.monitor_support import FakeCaptureSource
from tests.moto_support import FakeLambdaContext, asset_handler, forget_cached_adapters, mocked_aws

BUCKET = "mlops-data"
ENVIRONMENT = {
    "PROJECT": "mlops",
    "DATA_BUCKET": BUCKET,
    "POWERTOOLS_SERVICE_NAME": "feedback-ingestion",
    "POWERTOOLS_METRICS_NAMESPACE": "MLOpsPlatform",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


@pytest.fixture(scope="module")
def handler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The handler from a copy of its folder, with the generated files its asset has."""
    patch = pytest.MonkeyPatch()
    for name, value in ENVIRONMENT.items():  # Powertools reads its namespace when the handler is imported
        patch.setenv(name, value)
    shop = declared(metric="roc_auc", floor=0.65)  # the gate: ROC AUC, as churn's; accuracy watched
    monitoring = {"performance": {"metric": "accuracy", "floor": 0.8, "min_labels": 2}}
    generated = {
        "contracts.json": json.dumps({DATASET: shop.contract.model_dump(mode="json")}),
        "training.json": json.dumps({DATASET: shop.training.model_dump(mode="json")}),
        "monitoring.json": json.dumps({DATASET: monitoring}),
        "feedback.json": json.dumps({DATASET: {"lookback_days": 30}}),
    }
    yield asset_handler("feedback_ingestion", tmp_path_factory.mktemp("feedback"), generated)
    patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, handler: ModuleType, tmp_path: Path) -> Iterator[str]:
    """The versioned data bucket with requests a, b, c captured (version 1), the alert topic; its queue."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mocked_aws(monkeypatch, state_dir=tmp_path / "state"):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        captures = FakeCaptureSource("mlops-shop")
        capture(captures, [("a", [0], [True]), ("b", [1], [True]), ("c", [2], [False])], at=_now())
        for key, body in captures.objects.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
        queue = boto3.client("sqs").create_queue(QueueName="alerts-seen")["QueueUrl"]
        arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
        monkeypatch.setenv("ALERTS_TOPIC_ARN", topic)
        forget_cached_adapters([handler])
        yield queue


def _now() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def _event(key: str) -> dict[str, Any]:
    """The "Object Created" event EventBridge delivers for ``key`` as it stands in the bucket."""
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key=key)
    return {
        "version": "0", "id": "5c1a5bd9-1d1c-4a8e-9d8c-3f3b1f1b2d6e", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-06T06:11:50Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"'),
                              "version-id": head["VersionId"], "sequencer": "0062E99A88DC407460"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"},
    }  # fmt: skip


def _push(handler: ModuleType, body: bytes, name: str = "labels.csv") -> dict[str, Any]:
    key = f"feedback/{DATASET}/{name}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return dict(handler.handler(_event(key), FakeLambdaContext("feedback")))


def _object(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _keys(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def _alerts(queue: str) -> list[str]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Subject"] for m in messages]


def test_a_csv_of_labels_becomes_labelled_rows_a_report_and_realized_metrics(
    handler: ModuleType, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given requests a, b, c captured; when a file labels a twice, b, c and an unknown ID
    body = (HEADER + "a,false\na,true\nb,true\nc,true\nzz,true\n").encode()
    result = _push(handler, body)

    # Then three rows are labelled, the unknown and the duplicate IDs counted in the report
    assert result["status"] == "labelled"
    sha = result["sha256"]
    report = json.loads(_object(f"labels/{DATASET}/{sha}/report.json"))
    assert report["counts"] == {"rows": 5, "matched": 3, "unknown_ids": 1, "duplicate_ids": 1,
                                "relabelled_ids": 0, "captured_twice": 0}  # fmt: skip
    assert (report["examples"]["unknown_ids"], report["examples"]["duplicate_ids"]) == (["zz"], ["a"])
    rows = pq.read_table(io.BytesIO(_object(f"labels/{DATASET}/{sha}/rows.parquet")))
    assert rows.column("inference_id").to_pylist() == ["a", "b", "c"]
    assert rows.column("churned").to_pylist() == [True, True, True]
    # and accuracy (2 of 3 predictions right) is published per version and per endpoint, as EMF
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"Realized_accuracy"' in line
    ]
    published = {line.get("ModelVersion"): line["Realized_accuracy"] for line in lines}
    assert published == {"1": [pytest.approx(2 / 3)], None: [pytest.approx(2 / 3)]}
    # and the file is as it was uploaded, and no alert was sent
    assert _object(f"feedback/{DATASET}/labels.csv") == body
    assert _alerts(aws) == []


def test_realized_roc_auc_with_its_interval_comes_from_the_probabilities_captured_in_json_answers(
    handler: ModuleType, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given six requests whose JSON answers carried P(true) 0.9 ... 0.2, captured in the data bucket
    captures = FakeCaptureSource("mlops-shop")
    chances = {f"p{i}": [chance] for i, chance in enumerate((0.9, 0.8, 0.7, 0.4, 0.3, 0.2))}
    capture(captures, [(f"p{i}", [i], [i < 3]) for i in range(6)], at=_now(), unique="p", chances=chances)
    for key, body in captures.objects.items():
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)

    # When their labels arrive: p0, p1 and p3 churned
    result = _push(handler, (HEADER + "p0,true\np1,true\np2,false\np3,true\np4,false\np5,false\n").encode())

    # Then the report has the realized ROC AUC (8 of 9 pairs ranked right) with its bootstrap interval
    report = json.loads(_object(result["report_key"]))
    (version,) = report["performance"]
    auc = {metric["name"]: metric for metric in version["metrics"]}["roc_auc"]
    assert auc["value"] == pytest.approx(8 / 9)
    assert auc["ci_low"] is not None and auc["ci_low"] <= auc["value"] <= auc["ci_high"] <= 1
    assert (auc["floor"], auc["below_floor"]) == (0.65, False)
    # and the labelled rows keep each answer's probabilities, and the value is published as EMF
    rows = pq.read_table(io.BytesIO(_object(report["rows_key"])))
    assert dict(rows.column("probabilities")[0].as_py()) == pytest.approx({"false": 0.1, "true": 0.9})
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"Realized_roc_auc"' in line
    ]
    assert {line.get("ModelVersion"): line["Realized_roc_auc"] for line in lines} == {
        "1": [pytest.approx(8 / 9)],
        None: [pytest.approx(8 / 9)],
    }


def test_a_parquet_file_is_read_as_well(handler: ModuleType, aws: str) -> None:
    sink = io.BytesIO()
    pq.write_table(pa.table({"inference_id": ["b", "c"], "churned": [False, False]}), sink)

    result = _push(handler, sink.getvalue(), "labels.parquet")

    assert (result["status"], result["counts"]["matched"]) == ("labelled", 2)


def test_a_bad_file_is_refused_with_a_report_and_one_alert_however_often_it_comes(
    handler: ModuleType, aws: str
) -> None:
    # Given a file whose target column is misspelt
    body = b"inference_id,churn\na,true\n"

    # When it arrives, and its event is delivered again
    first = _push(handler, body)
    again = handler.handler(_event(f"feedback/{DATASET}/labels.csv"), FakeLambdaContext("feedback"))

    # Then its report names the problems and what a feedback file holds; one alert; nothing under labels/
    assert first["status"] == again["status"] == "rejected"
    report = json.loads(_object(first["report_key"]))
    assert "header.missing_column" in {f["check"] for f in report["findings"]}
    assert "inference_id (text" in report["expected"]
    assert _alerts(aws) == ["Feedback file refused: shop"]
    assert _keys("labels/") == []


def test_the_same_content_twice_is_recorded_once(handler: ModuleType, aws: str) -> None:
    body = (HEADER + "a,true\n").encode()
    first = _push(handler, body)
    written = _keys("labels/")

    second = _push(handler, body, "copy.csv")

    assert (second["status"], second["sha256"]) == ("duplicate", first["sha256"])
    assert _keys("labels/") == written


def test_mlops_feedback_push_uploads_waits_and_prints_the_counts(
    handler: ModuleType, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the deployed stack's outputs, and the function invoked when a feedback file appears
    outputs = {"DataBucketName": BUCKET, "FeedbackDatasets": DATASET}
    monkeypatch.setattr(Platform, "outputs", property(lambda self: outputs))
    file = tmp_path / "labels.csv"
    file.write_text(HEADER + "a,true\nzz,false\n")
    key = f"feedback/{DATASET}/labels.csv"
    done = threading.Event()

    def function() -> None:
        while not done.is_set():
            if _keys(key):
                handler.handler(_event(key), FakeLambdaContext("feedback"))
                return
            time.sleep(0.05)

    worker = threading.Thread(target=function)
    worker.start()
    try:
        # When a person pushes the file, then pushes it again, then names an undeclared dataset
        pushed = CliRunner().invoke(
            app, ["feedback", "push", str(file), "--dataset", DATASET, "--cloud", "aws"]
        )
        again = CliRunner().invoke(
            app, ["feedback", "push", str(file), "--dataset", DATASET, "--cloud", "aws", "--json"]
        )
        other = CliRunner().invoke(
            app, ["feedback", "push", str(file), "--dataset", "other", "--cloud", "aws"]
        )
        missing = CliRunner().invoke(
            app, ["feedback", "push", str(tmp_path / "nope.csv"), "--dataset", DATASET, "--cloud", "aws"]
        )
    finally:
        done.set()
        worker.join()

    # Then the first prints the counts and the unknown ID; the second says duplicate; the others fail clearly
    assert pushed.exit_code == 0, pushed.output
    assert "labelled" in pushed.stdout and "unknown ids 1" in pushed.stdout and "zz" in pushed.stdout
    assert json.loads(again.stdout)["status"] == "duplicate"
    assert (
        other.exit_code == 2
        and "dataset 'other' takes no labels here; declared datasets: shop" in other.output
    )
    assert missing.exit_code == 2 and "no such file" in missing.output
