"""The data plane end to end in the local cloud: upload → validation Lambda → version or report."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli.main import app
from domain.data.ingestion_model import Upload, failure_key, upload_report_name
from examples.churn import generate
from tests.e2e.conftest import DataPlane

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("churn")
    made = {
        "good.csv": generate(3_000, 1, folder / "good.csv", "csv"),
        "good.csv.gz": generate(3_100, 2, folder / "good.csv.gz", "csv.gz"),
        "good.parquet": generate(3_200, 3, folder / "good.parquet", "parquet"),
        "bad.csv": generate(1_000, 4, folder / "bad.csv", "csv", variant="bad"),
        "other.csv": generate(2_900, 5, folder / "other.csv", "csv"),
        "unicode.csv": generate(2_800, 6, folder / "unicode.csv", "csv"),
        "twice.csv": generate(2_700, 9, folder / "twice.csv", "csv"),
    }
    return {name: path.read_bytes() for name, path in made.items()}


def _version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def test_a_good_csv_becomes_a_dataset_version_with_snapshot_record_and_event(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    body = files["good.csv"]
    data_plane.drain(data_plane.accepted_events, wait=0.2)

    data_plane.upload("incoming/churn/2026-11.csv", body)

    version = _version(body)
    prefix = f"datasets/churn/{version}/"
    snapshot_files = [key for key in data_plane.keys(prefix) if "/" not in key.removeprefix(prefix)]
    assert sorted(snapshot_files) == [
        prefix + "data.parquet",
        prefix + "profile.json",
        prefix + "report.json",
    ]
    snapshot = pq.read_table(
        io.BytesIO(
            data_plane.client("s3")
            .get_object(Bucket=data_plane.bucket, Key=prefix + "data.parquet")["Body"]
            .read()
        )
    )
    assert snapshot.num_rows == 3_000
    profile = data_plane.read_json(prefix + "profile.json")
    assert profile["rows"] == 3_000
    assert len(profile["columns"]["age"]["quantiles"]) == 101
    record = next(item for item in data_plane.catalog("churn") if item["version"] == version)
    assert record["rows"] == "3000"
    assert record["announced"] is True
    events = data_plane.drain(data_plane.accepted_events)
    assert any(event["detail"]["version"] == version for event in events)
    uploaded = data_plane.client("s3").get_object(Bucket=data_plane.bucket, Key="incoming/churn/2026-11.csv")
    assert uploaded["Body"].read() == body


@pytest.mark.parametrize("name", ["good.csv.gz", "good.parquet"])
def test_gzip_csv_and_parquet_uploads_are_accepted(
    data_plane: DataPlane, files: dict[str, bytes], name: str
) -> None:
    data_plane.upload(f"incoming/churn/{name}", files[name])

    report = data_plane.read_json(f"datasets/churn/{_version(files[name])}/report.json")
    assert report["status"] == "accepted"
    assert report["format"] == ("csv+gzip" if name.endswith(".gz") else "parquet")


def test_a_bad_upload_is_rejected_with_a_report_and_an_alert_and_kept(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    body = files["bad.csv"]
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.upload("incoming/churn/bad.csv", body)

    report = data_plane.read_json(f"quarantine/churn/{_version(body)}/report.json")
    assert report["status"] == "rejected"
    checks = {finding["check"] for finding in report["findings"]}
    assert {"header.extra_column"} <= checks
    assert report["source"]["key"] == "incoming/churn/bad.csv"
    assert not any(item["version"] == _version(body) for item in data_plane.catalog("churn"))
    alerts = data_plane.drain(data_plane.alerts)
    assert any("quarantine/churn/" in alert["Message"] for alert in alerts)
    kept = data_plane.client("s3").get_object(Bucket=data_plane.bucket, Key="incoming/churn/bad.csv")
    assert kept["Body"].read() == body


def test_the_same_content_uploaded_twice_is_one_version(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    body = files["twice.csv"]

    data_plane.upload("incoming/churn/first.csv", body)
    data_plane.upload("incoming/churn/second-name.csv", body)

    versions = [item for item in data_plane.catalog("churn") if item["version"] == _version(body)]
    assert len(versions) == 1
    assert versions[0]["source"]["key"]["S"] == "incoming/churn/first.csv"


def test_the_same_event_delivered_twice_yields_one_version(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    body = files["other.csv"]
    data_plane.upload("incoming/churn/other.csv", body)
    event = {
        "version": "0", "id": "redelivered", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-26T10:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{data_plane.bucket}"],
        "detail": {"version": "0", "bucket": {"name": data_plane.bucket},
                   "object": {"key": "incoming/churn/other.csv", "size": len(body), "etag": "x"},
                   "request-id": "r", "requester": "123456789012", "reason": "PutObject"},
    }  # fmt: skip
    answers = [
        json.loads(data_plane.client("lambda").invoke(
            FunctionName=data_plane.outputs["ValidationFunctionName"], Payload=json.dumps(event)
        )["Payload"].read())
        for _ in range(2)
    ]  # fmt: skip

    assert [answer["status"] for answer in answers] == ["duplicate", "duplicate"]
    assert len([item for item in data_plane.catalog("churn") if item["version"] == _version(body)]) == 1


def test_keys_with_spaces_and_non_ascii_characters_are_read_as_uploaded(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    key = "incoming/churn/exports nov/clients é ü 東京 + more.csv"

    data_plane.upload(key, files["unicode.csv"])

    report = data_plane.read_json(f"datasets/churn/{_version(files['unicode.csv'])}/report.json")
    assert report["source"]["key"] == key


def test_an_undeclared_dataset_is_rejected_and_named(data_plane: DataPlane, files: dict[str, bytes]) -> None:
    data_plane.upload("incoming/churm/typo.csv", files["good.csv"])

    reports = [key for key in data_plane.keys("quarantine/churm/") if key.endswith("/report.json")]
    assert len(reports) == 1
    # beside it, the marker that says its alert was sent
    assert reports[0].removesuffix(".json") + ".alerted.json" in data_plane.keys("quarantine/churm/")
    report = data_plane.read_json(reports[0])
    assert report["findings"][0]["check"] == "upload.undeclared_dataset"
    assert "declared datasets: churn" in report["summary"]


def test_an_upload_under_a_long_dataset_name_is_alerted_with_a_subject_sns_takes(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    # Given an upload under an undeclared dataset name of 200 characters (SNS refuses a subject of 100)
    data_plane.drain(data_plane.alerts, wait=0.2)
    name = "churn-" + "x" * 194
    data_plane.upload(f"incoming/{name}/jan.csv", files["good.csv"])
    # Then the validation function rejected it once, and the alert went out with a shortened subject
    alerts = data_plane.drain(data_plane.alerts)
    (alert,) = [a for a in alerts if name in a["Message"]]
    assert len(alert["Subject"]) < 100 and alert["Subject"].startswith("Dataset upload rejected: churn-xxx")
    # and nothing failed on the way (no failure record after retries)
    assert sorted(key.rsplit("/", 1)[-1] for key in data_plane.keys(f"quarantine/{name}/")) == [
        "report.alerted.json",
        "report.json",
    ]


def test_an_object_deleted_before_it_is_read_is_reported(data_plane: DataPlane) -> None:
    event = {
        "version": "0", "id": "gone", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-26T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"version": "0", "bucket": {"name": data_plane.bucket},
                   "object": {"key": "incoming/churn/deleted%20before%20read.csv", "size": 10, "etag": "e"},
                   "request-id": "r", "requester": "123456789012", "reason": "PutObject"},
    }  # fmt: skip

    answer = json.loads(data_plane.client("lambda").invoke(
        FunctionName=data_plane.outputs["ValidationFunctionName"], Payload=json.dumps(event)
    )["Payload"].read())  # fmt: skip

    assert answer["status"] == "rejected"
    report = data_plane.read_json(answer["report_key"])
    assert report["findings"][0]["check"] == "upload.missing"
    assert "deleted before read.csv" in report["summary"]


def test_a_truncated_gzip_is_rejected_with_a_clear_finding(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    body = files["good.csv.gz"][: len(files["good.csv.gz"]) // 2]

    data_plane.upload("incoming/churn/truncated.csv.gz", body)

    report = data_plane.read_json(f"quarantine/churn/{_version(body)}/report.json")
    assert report["findings"][0]["check"] == "file.gzip_truncated"
    assert gzip.decompress(files["good.csv.gz"])  # the intact file is fine: the cut is the problem


def test_one_line_of_8_mb_without_a_line_break_is_rejected_with_a_report_and_an_alert(
    data_plane: DataPlane,
) -> None:
    body = b"7" * (8 << 20)  # the upload of issue 8: the reader used to raise on it, on every retry
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.upload("incoming/churn/one-line.csv", body)

    report = data_plane.read_json(f"quarantine/churn/{_version(body)}/report.json")
    assert report["findings"][0]["check"] == "file.unreadable"
    assert "no line break at all" in report["findings"][0]["message"]
    alerts = data_plane.drain(data_plane.alerts)
    assert any(_version(body) in alert["Message"] for alert in alerts)


@contextlib.contextmanager
def validation_function_set(data_plane: DataPlane, **changes: Any) -> Iterator[str]:
    """The deployed validation function with ``changes`` to its configuration (as an operator makes them)."""
    name = data_plane.outputs["ValidationFunctionName"]
    before = data_plane.client("lambda").get_function_configuration(FunctionName=name)
    data_plane.client("lambda").update_function_configuration(FunctionName=name, **changes)
    try:
        yield name
    finally:
        restored = {setting: before[setting] for setting in changes}
        data_plane.client("lambda").update_function_configuration(FunctionName=name, **restored)


def _failure_record(data_plane: DataPlane, key: str, put: dict[str, Any]) -> Any:
    upload = Upload(data_plane.bucket, key, version_id=put["VersionId"], etag=put["ETag"].strip('"'))
    return data_plane.read_json(failure_key("churn", upload_report_name(upload)))


def test_an_upload_too_large_for_the_time_limit_stops_in_time_and_says_so(
    data_plane: DataPlane, files: dict[str, bytes]
) -> None:
    # Given a validation function limited to 2 seconds, and a CSV that takes longer than that to read
    header, rows = files["good.csv"].split(b"\n", 1)
    body = header + b"\n" + rows * 400  # 120 MB
    data_plane.drain(data_plane.alerts, wait=0.2)
    with validation_function_set(data_plane, Timeout=2) as function:
        # When it is uploaded
        earlier = len([r for r in data_plane.cloud.invocations() if r.function_name == function])
        put = data_plane.upload("incoming/churn/too-long.csv", body)
        runs = [r for r in data_plane.cloud.invocations() if r.function_name == function][earlier:]
    # Then the function stopped in time, once (no retry), with a failure record that says how far it got
    assert [r.error_type for r in runs] == [None]
    record = _failure_record(data_plane, "incoming/churn/too-long.csv", put)
    assert record["error"]["kind"] == "timeout"
    summary = record["summary"]
    assert summary.startswith(
        "could not be validated within the function's time limit (2 seconds) after reading "
    )
    read = int(summary.split("after reading ")[1].split(" of ")[0].replace(",", ""))
    assert 0 < read < len(body) and f" of {len(body):,} bytes; the upload is kept; split it" in summary
    alerts = data_plane.drain(data_plane.alerts)
    assert any(summary in alert["Message"] for alert in alerts)


def test_a_validation_function_that_cannot_start_leaves_a_failure_record_that_push_reports(
    data_plane: DataPlane, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a validation function that dies before any code of the platform runs (its handler is gone)
    data_plane.point_sdk_here(monkeypatch)
    upload = generate(1_100, 31, tmp_path / "orphan.csv", "csv")
    data_plane.drain(data_plane.alerts, wait=0.2)
    with validation_function_set(data_plane, Handler="handler.missing"):
        # When a file is pushed
        pushed = CliRunner().invoke(app, ["data", "push", str(upload), "--dataset", "churn", "--json"])
    # Then, once Lambda's retries are exhausted, the failure recorder wrote the upload's record, and the
    # push stopped waiting at it and says what happened
    assert pushed.exit_code == 2, pushed.output
    outcome = json.loads(pushed.stdout)
    assert outcome["status"] == "failed"
    assert outcome["report"]["summary"] == (
        "could not be validated: the validation function stopped before it could finish "
        "(Runtime.HandlerNotFound: Handler 'missing' missing on module 'handler', 3 attempts); the upload is "
        "kept; retry with `mlops data push` or ask the platform's operators"
    )
    assert outcome["report"]["error"]["kind"] == "stopped"
    assert any(outcome["report"]["summary"] in a["Message"] for a in data_plane.drain(data_plane.alerts))
