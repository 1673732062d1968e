"""``mlops local access`` with no local cloud running: the last saved report, said to be one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from localcloud.access_report import REPORT_FILE, save

READER = "arn:aws:iam::123456789012:role/mlops-validation-HandlerRole-ABC"


def _report(taken_at: float, *, enforced: bool = True) -> dict[str, Any]:
    return {
        "taken_at": taken_at,
        "started_at": taken_at - 60,
        "endpoint_url": "http://127.0.0.1:4566",
        "enforced": enforced,
        "roles": [
            {
                "role": READER,
                "name": "mlops-validation-HandlerRole-ABC",
                "stack": "mlops-validation",
                "logical_id": "HandlerRole",
                "used": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::data/incoming/churn/a.csv"}],
                "unused": [
                    {
                        "policy": "HandlerRoleDefaultPolicy",
                        "statement": "3",
                        "actions": ["states:StartExecution"],
                        "resources": ["arn:aws:states:us-east-1:123456789012:stateMachine:training"],
                    }
                ],
                "not_exercised_locally": [
                    {
                        "policy": "HandlerRoleDefaultPolicy",
                        "statement": "1",
                        "actions": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                        "resources": ["*"],
                    }
                ],
            },
            {"role": "arn:aws:iam::123456789012:role/hand-made", "name": "hand-made", "stack": None,
             "logical_id": None, "used": [{"action": "sqs:SendMessage", "resource": "*"}], "unused": []},
        ],
    }  # fmt: skip


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A state dir with no daemon, and where the end-to-end tests' report would be."""
    state_dir, tests_report = tmp_path / "state", tmp_path / "cache" / REPORT_FILE
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    monkeypatch.setenv("MLOPS_ACCESS_REPORT", str(tests_report))
    return state_dir, tests_report


def test_the_newest_saved_report_is_shown_per_role_and_says_which_it_is(places: tuple[Path, Path]) -> None:
    # Given an older report saved by a daemon and a newer one by the end-to-end tests
    state_dir, tests_report = places
    save(_report(1_000.0), state_dir / REPORT_FILE)
    save(_report(2_000_000_000.0), tests_report)

    # When the report is asked for (wide enough that no table folds)
    result = CliRunner().invoke(app, ["local", "access"], env={"COLUMNS": "250"})

    # Then it is the tests' report, named with its file and time, each role under its stack and logical id
    assert result.exit_code == 0, result.output
    output = result.output
    assert f"the last report saved: {tests_report}" in output.replace("\n", "")
    assert "taken 2033-05-18T03:33:20+00:00" in output
    assert "mlops-validation/HandlerRole (role mlops-validation-HandlerRole-ABC)" in output
    assert "arn:aws:s3:::data/incoming/churn/a.csv" in output
    assert "granted, never used" in output and "states:StartExecution" in output
    # and a role without CloudFormation's tags by its name
    assert "role hand-made" in output and "every statement was used" in output
    # and the tracing grant as not exercised locally (the local cloud sends no X-Ray segments), not unused
    assert "not exercised locally: 1 (xray:PutTraceSegments xray:PutTelemetryRecords)" in output
    assert "2 of 2 role(s) used; 1 statement(s) granted and never used; 1 not exercised locally" in output


def test_json_prints_the_same_report(places: tuple[Path, Path]) -> None:
    # Given a saved report
    _, tests_report = places
    save(_report(1_000.0), tests_report)

    # When it is asked for as JSON
    result = CliRunner().invoke(app, ["local", "access", "--json"])

    # Then it is the saved document, with where it came from
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["roles"] == _report(1_000.0)["roles"]
    assert printed["source"] == "saved" and printed["saved_to"] == str(tests_report)


def test_a_report_of_a_cloud_that_did_not_enforce_says_so(places: tuple[Path, Path]) -> None:
    # Given a saved report of a local cloud started with --no-iam
    _, tests_report = places
    save(dict(_report(1_000.0, enforced=False), roles=[]), tests_report)

    # When it is asked for, Then it warns that nothing was recorded
    result = CliRunner().invoke(app, ["local", "access"])
    assert result.exit_code == 0
    assert "did not enforce IAM (--no-iam)" in result.stderr


def test_no_cloud_and_no_saved_report_says_how_to_get_one(places: tuple[Path, Path]) -> None:
    # Given nothing saved and nothing running, When the report is asked for
    result = CliRunner().invoke(app, ["local", "access"])

    # Then it fails saying how to start a local cloud
    assert result.exit_code == 1
    assert "no report was saved; start one with `mlops local up`" in result.stderr
