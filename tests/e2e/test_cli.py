"""``mlops data`` and ``mlops feedback`` against the local cloud, as ``mlops local env`` points at it."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from cli.main import app
from domain.deployment.capture import capture_key, capture_record
from domain.names import capture_uri_prefix
from domain.training.config import feature_columns
from examples.churn import generate
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import load_platform
from tests.e2e.conftest import DataPlane

pytestmark = pytest.mark.slow


@pytest.fixture
def mlops(data_plane: DataPlane, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    data_plane.point_sdk_here(monkeypatch)
    return CliRunner()


def test_push_waits_for_the_verdict_and_versions_and_show_read_it_back(
    mlops: CliRunner, tmp_path: Path
) -> None:
    good = generate(1_500, 21, tmp_path / "cli.csv", "csv")

    pushed = mlops.invoke(app, ["data", "push", str(good), "--dataset", "churn", "--json"])
    versions = mlops.invoke(app, ["data", "versions", "churn", "--json"])
    shown = mlops.invoke(app, ["data", "show", "churn", json.loads(pushed.stdout)["version"][:12], "--json"])

    assert pushed.exit_code == 0, pushed.output
    outcome = json.loads(pushed.stdout)
    assert outcome["status"] == "accepted" and outcome["rows"] == 1_500
    assert outcome["version"] in [record["version"] for record in json.loads(versions.stdout)]
    assert json.loads(shown.stdout)["sha256"] == outcome["version"]


def test_pushing_the_same_content_again_says_duplicate(mlops: CliRunner, tmp_path: Path) -> None:
    good = generate(1_400, 22, tmp_path / "again.csv", "csv")
    mlops.invoke(app, ["data", "push", str(good), "--dataset", "churn", "--json"])

    again = mlops.invoke(app, ["data", "push", str(good), "--dataset", "churn", "--name", "x.csv", "--json"])

    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["status"] == "duplicate"


def test_a_rejected_push_exits_1_and_prints_the_findings(mlops: CliRunner, tmp_path: Path) -> None:
    bad = generate(800, 23, tmp_path / "bad.csv", "csv", variant="bad")

    pushed = mlops.invoke(app, ["data", "push", str(bad), "--dataset", "churn"])

    assert pushed.exit_code == 1
    assert "rejected" in pushed.output
    assert "header.extra_column" in pushed.output


def test_an_undeclared_dataset_push_is_rejected_with_the_declared_names(
    mlops: CliRunner, tmp_path: Path
) -> None:
    good = generate(500, 24, tmp_path / "x.csv", "csv")

    pushed = mlops.invoke(app, ["data", "push", str(good), "--dataset", "nope", "--json"])

    assert pushed.exit_code == 1
    assert "declared datasets: churn" in json.loads(pushed.stdout)["report"]["summary"]


def test_show_names_what_it_cannot_find(mlops: CliRunner) -> None:
    shown = mlops.invoke(app, ["data", "show", "churn", "deadbeef"])

    assert shown.exit_code == 2
    assert "has no accepted version deadbeef" in shown.output


def test_a_push_whose_validation_fails_stops_waiting_says_so_and_a_retry_succeeds(
    mlops: CliRunner, data_plane: DataPlane, tmp_path: Path
) -> None:
    # Given the stored profile of the latest churn version is corrupt: the next validation fails (a bug's
    # stand-in, in the deployed function)
    base = generate(1_300, 25, tmp_path / "base.csv", "csv")
    version = json.loads(
        mlops.invoke(app, ["data", "push", str(base), "--dataset", "churn", "--json"]).stdout
    )
    profile = f"datasets/churn/{version['version']}/profile.json"
    s3 = data_plane.client("s3")
    original = s3.get_object(Bucket=data_plane.bucket, Key=profile)["Body"].read()
    s3.put_object(Bucket=data_plane.bucket, Key=profile, Body=b"[]")
    data_plane.drain(data_plane.alerts, wait=0.2)
    upload = generate(1_200, 26, tmp_path / "next.csv", "csv")
    try:
        # When the next file is pushed
        started = time.monotonic()
        failed = mlops.invoke(app, ["data", "push", str(upload), "--dataset", "churn", "--json"])
        waited = time.monotonic() - started
    finally:
        s3.put_object(Bucket=data_plane.bucket, Key=profile, Body=original)
    # Then the push stops waiting as soon as the failure is recorded, and says what happened
    assert failed.exit_code == 2, failed.output
    outcome = json.loads(failed.stdout)
    assert outcome["status"] == "failed"
    assert outcome["report"]["summary"].startswith("could not be validated: the validation failed on an")
    assert "the upload is kept; retry with `mlops data push`" in outcome["report"]["summary"]
    assert waited < 60
    alerts = data_plane.drain(data_plane.alerts)
    assert any("could not be validated" in alert["Message"] for alert in alerts)
    # and once the fault is gone, pushing again makes the normal version
    retried = mlops.invoke(app, ["data", "push", str(upload), "--dataset", "churn", "--json"])
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.stdout)["status"] == "accepted"


def _serve_churn(
    data_plane: DataPlane,
    folder: Path,
    ids: list[str],
    *,
    version: int = 1,
    chances: list[float] | None = None,
) -> None:
    """Requests with ``ids`` captured an hour ago for churn's model ``version``, as its endpoint writes them;
    with ``chances``, each answer carries its P(churned=1) and predicts 1 above one half."""
    platform = load_platform(cdk_json_context()["mlops"], PROJECT_ROOT)
    features = [c.name for c in feature_columns(platform.contracts["churn"], platform.training["churn"])]
    table = pa_csv.read_csv(generate(len(ids), 25, folder / "served.csv", "csv")).select(features)
    at = datetime.now(UTC) - timedelta(hours=1)
    records = []
    for index, inference_id in enumerate(ids):
        row = ",".join("" if v is None else str(v) for v in table.slice(index, 1).to_pylist()[0].values())
        answer: dict[str, object] = {"prediction": index % 2}
        if chances is not None:
            chance = chances[index]
            answer = {"prediction": int(chance > 0.5), "probabilities": {"0": 1 - chance, "1": chance}}
        records.append(json.dumps(capture_record(
            request=row.encode(), request_type="text/csv",
            response=json.dumps({"predictions": [answer]}).encode(),
            response_type="application/json", event_id=str(index), at=at, inference_id=inference_id,
        )))  # fmt: skip
    key = capture_key(
        capture_uri_prefix("churn", version), "mlops-churn", "AllTraffic", at, f"feedback-e2e-{version}"
    )
    data_plane.client("s3").put_object(Bucket=data_plane.bucket, Key=key, Body="\n".join(records).encode())


def test_feedback_push_joins_labels_with_served_requests_and_reports_unknown_ids(
    mlops: CliRunner, data_plane: DataPlane, tmp_path: Path
) -> None:
    # Given three requests served with inference IDs, and a labels file for two of them and an unknown one
    _serve_churn(data_plane, tmp_path, ["req-0", "req-1", "req-2"])
    labels = tmp_path / "labels.csv"
    labels.write_text("inference_id,churned\nreq-0,0\nreq-2,1\nnot-served,1\n")

    # When a person pushes it through the same event path as data
    pushed = mlops.invoke(app, ["feedback", "push", str(labels), "--dataset", "churn", "--json"])

    # Then the platform joined two labels with their requests and reported the unknown ID
    assert pushed.exit_code == 0, pushed.output
    report = json.loads(pushed.stdout)["report"]
    assert (report["counts"]["matched"], report["counts"]["unknown_ids"]) == (2, 1)
    assert report["examples"]["unknown_ids"] == ["not-served"]
    assert report["versions"] == {"1": 2}
    rows = data_plane.client("s3").get_object(Bucket=data_plane.bucket, Key=report["rows_key"])["Body"].read()
    assert pq.read_table(io.BytesIO(rows)).column("inference_id").to_pylist() == ["req-0", "req-2"]


def test_feedback_push_reports_the_realized_roc_auc_of_the_answers_probabilities_with_its_interval(
    mlops: CliRunner, data_plane: DataPlane, tmp_path: Path
) -> None:
    # Given 200 requests (churn's min_labels) answered by a version of their own with P(churned=1), and
    # labels that mostly agree with them
    rng = np.random.default_rng(7)
    chances = rng.uniform(0.05, 0.95, 200).round(4).tolist()
    truth = [int(rng.uniform() < chance) for chance in chances]
    ids = [f"auc-{index}" for index in range(200)]
    _serve_churn(data_plane, tmp_path, ids, version=2, chances=chances)
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "inference_id,churned\n" + "".join(f"{i},{t}\n" for i, t in zip(ids, truth, strict=True))
    )

    # When they are pushed
    pushed = mlops.invoke(app, ["feedback", "push", str(labels), "--dataset", "churn", "--json"])

    # Then the report has the realized ROC AUC (churn's gate metric) of those probabilities, with its interval
    assert pushed.exit_code == 0, pushed.output
    (version,) = json.loads(pushed.stdout)["report"]["performance"]
    assert (version["model_version"], version["labelled_rows"], version["status"]) == (2, 200, "ok")
    auc = {metric["name"]: metric for metric in version["metrics"]}["roc_auc"]
    assert auc["value"] == pytest.approx(roc_auc_score(truth, chances))
    assert auc["ci_low"] < auc["value"] < auc["ci_high"]
    assert auc["floor"] == 0.65


def test_a_bad_feedback_file_exits_1_prints_the_findings_and_alerts(
    mlops: CliRunner, data_plane: DataPlane, tmp_path: Path
) -> None:
    labels = tmp_path / "bad-labels.csv"
    labels.write_text("inference_id,churned\nreq-0,7\n")
    data_plane.drain(data_plane.alerts, wait=0.2)

    pushed = mlops.invoke(app, ["feedback", "push", str(labels), "--dataset", "churn"])

    assert pushed.exit_code == 1
    assert "refused" in pushed.output and "value.range" in pushed.output
    subjects = [message["Subject"] for message in data_plane.drain(data_plane.alerts)]
    assert "Feedback file refused: churn" in subjects
