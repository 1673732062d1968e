"""``mlops data`` against the local cloud, pointed at it the way ``mlops local env`` says."""

from __future__ import annotations

import json
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
