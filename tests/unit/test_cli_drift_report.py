"""``mlops drift report``: the newest report found, its page saved (and opened), its JSON; with fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import drift
from cli.main import app
from cli.target import Cloud
from tests.cli_fakes import FakePlatform

PREFIX = "monitoring/churn/reports/"
TARGET = FakePlatform(
    "mlops", {"DataBucketName": "data-bucket", "DriftMonitorFunctionName": "mlops-monitoring-DriftMonitor"}
)


class FakeReports:
    """The data bucket's objects, by key; records what was read."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.read_keys: list[str] = []

    def report_folders(self, prefix: str) -> list[str]:
        # S3 lists in key order; the newest is not necessarily listed last by every store
        found = {
            prefix + key[len(prefix) :].split("/", 1)[0] + "/"
            for key in self.objects
            if key.startswith(prefix)
        }
        return sorted(found, reverse=True)

    def read(self, key: str) -> bytes | None:
        self.read_keys.append(key)
        return self.objects.get(key)


class FakeBrowser:
    def __init__(self, opens: bool = True) -> None:
        self.opened: list[str] = []
        self.opens = opens

    def open(self, url: str) -> bool:
        self.opened.append(url)
        return self.opens


def _report(stamp: str) -> dict[str, bytes]:
    return {
        f"{PREFIX}{stamp}/report.json": json.dumps({"dataset": "churn", "until": stamp}).encode(),
        f"{PREFIX}{stamp}/report.html": f"<html><body>report of {stamp}</body></html>".encode(),
    }


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeReports:
    fake = FakeReports(
        _report("20261206T160000Z")
        | _report("20261206T170000Z")
        | _report("20261205T230000Z")
        | {"monitoring/churn-eu/reports/20261207T000000Z/report.html": b"another dataset's"}
    )

    def fake_platform(cloud: Cloud) -> FakePlatform:
        return TARGET

    monkeypatch.setattr(drift, "platform", fake_platform)
    monkeypatch.setattr(drift, "report_bucket", lambda name: fake if name == "data-bucket" else None)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return fake


def test_the_newest_reports_page_is_saved_where_the_output_says(bucket: FakeReports, tmp_path: Path) -> None:
    # Given three reports of churn (and a newer one of another dataset whose name starts the same)

    # When the latest report is asked for
    result = CliRunner().invoke(app, ["drift", "report", "churn"], env={"COLUMNS": "250"})

    # Then the newest of churn's is saved under ~/.mlops/drift-reports, and the output says where
    assert result.exit_code == 0, result.output
    saved = tmp_path / "home" / ".mlops" / "drift-reports" / "churn" / "20261206T170000Z.html"
    assert saved.read_bytes() == b"<html><body>report of 20261206T170000Z</body></html>"
    assert f"s3://data-bucket/{PREFIX}20261206T170000Z/" in result.output
    assert f"saved to {saved}" in result.output


def test_open_opens_the_saved_page_in_the_browser(
    bucket: FakeReports, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = FakeBrowser()
    monkeypatch.setattr(drift.webbrowser, "open", browser.open)
    out = tmp_path / "page.html"

    result = CliRunner().invoke(app, ["drift", "report", "churn", "--open", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert browser.opened == [out.resolve().as_uri()]
    assert out.read_bytes().startswith(b"<html>")


def test_no_browser_is_a_clear_error_after_saving(
    bucket: FakeReports, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift.webbrowser, "open", FakeBrowser(opens=False).open)
    out = tmp_path / "page.html"

    result = CliRunner().invoke(app, ["drift", "report", "churn", "--open", "--out", str(out)])

    assert result.exit_code == 1
    assert f"no browser to open {out} with: open the file by hand" in result.output.replace("\n", "")
    assert out.exists()


def test_json_prints_the_reports_document(bucket: FakeReports, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["drift", "report", "churn", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"dataset": "churn", "until": "20261206T170000Z"}
    # and no page is read or saved
    assert bucket.read_keys == [f"{PREFIX}20261206T170000Z/report.json"]
    assert not (tmp_path / "home" / ".mlops").exists()


def test_a_dataset_without_reports_says_how_to_make_one(bucket: FakeReports) -> None:
    result = CliRunner().invoke(app, ["drift", "report", "fraud"])

    assert result.exit_code == 1
    assert (
        "no drift report for 'fraud' yet (none under monitoring/fraud/reports/): "
        "run `mlops drift check fraud` or wait for its schedule"
    ) in result.output.replace("\n", " ").replace("  ", " ")


def test_a_report_without_its_page_is_a_clear_error(bucket: FakeReports) -> None:
    del bucket.objects[f"{PREFIX}20261206T170000Z/report.html"]

    result = CliRunner().invoke(app, ["drift", "report", "churn"])

    assert result.exit_code == 1
    assert "has no report.html: it was not written whole" in result.output
