"""``mlops data`` against the local cloud, pointed at it the way ``mlops local env`` says."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from examples.churn import generate
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
