"""``mlops drift check``: the monitor invoked with the window, its answer printed per version; with fakes.

The answers are made by the monitor's own code (``domain.monitoring``: a report's summary with where it
was written), so these tests fail if the CLI stops reading what the monitor writes.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import drift
from cli.main import app
from cli.target import Cloud
from domain.monitoring.check import CheckOutcome
from domain.monitoring.compare import ColumnResult, Histogram, VersionResult
from domain.monitoring.report import DriftReport, ReportKeys, report_keys
from tests.cli_fakes import FakePlatform

FUNCTION = "mlops-monitoring-DriftMonitor1234"
TARGET = FakePlatform("mlops", {"DataBucketName": "data-bucket", "DriftMonitorFunctionName": FUNCTION})
SINCE, UNTIL = datetime(2026, 12, 6, 16, tzinfo=UTC), datetime(2026, 12, 6, 17, tzinfo=UTC)
_HISTOGRAM = Histogram(labels=("a",), baseline=(1.0,), window=(1.0,))


def _column(
    name: str, score: float, threshold: float, *, drifted: bool, kind: str = "numeric"
) -> ColumnResult:
    primary = "wasserstein" if kind == "numeric" else "jensen_shannon"
    return ColumnResult(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        scores={primary: score},
        thresholds={primary: threshold},
        primary=primary,
        min_effect=0.1,
        drifted=drifted,
        histogram=_HISTOGRAM,
    )


def _answer(versions: tuple[VersionResult, ...], **skipped: int) -> dict[str, Any]:
    """What the monitor returns: its report's summary and the report's URIs."""
    report = DriftReport(
        dataset="churn",
        endpoint="mlops-churn",
        since=SINCE,
        until=UNTIL,
        generated_at=UNTIL,
        versions=versions,
        files=4,
        **skipped,
    )
    keys = report_keys("churn", UNTIL)
    uris = ReportKeys(json=f"s3://data-bucket/{keys.json}", html=f"s3://data-bucket/{keys.html}")
    return json.loads(json.dumps(CheckOutcome(report=report, keys=keys, uris=uris).summary()))


CANARY = (
    VersionResult(
        version=3,
        status="drift",
        rows=1200,
        features=(
            _column("tenure_months", 0.52, 0.031, drifted=True),
            _column("plan", 0.31, 0.02, drifted=True, kind="categorical"),
            _column("monthly_charges", 0.004, 0.03, drifted=False),
        ),
        prediction=_column("predicted_label", 0.01, 0.02, drifted=False, kind="categorical"),
        drifted_share=2 / 3,
        tail=0.01 / 4,
        ks_error_bound=0.0011,
        baseline_uri="s3://data-bucket/models/churn/3/baseline/drift_baseline.json",
    ),
    VersionResult(version=4, status="too_few_rows", rows=3, drifted_share=0.0, tail=0.0025),
)


class FakeMonitor:
    """The drift monitor function: answers with ``answer``; records the invocations."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.invoked: list[tuple[str, dict[str, str]]] = []

    def check(self, function: str, event: dict[str, str]) -> dict[str, Any]:
        self.invoked.append((function, event))
        return self.answer


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_platform(cloud: Cloud) -> FakePlatform:
        return TARGET

    monkeypatch.setattr(drift, "platform", fake_platform)


def _use(monkeypatch: pytest.MonkeyPatch, monitor: Any) -> None:
    monkeypatch.setattr(drift, "monitor_function", lambda: monitor)


def _one_line(output: str) -> str:
    return " ".join(output.split())


def test_a_canary_window_is_printed_per_version_with_what_drifted_and_where_the_report_is(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a window served by two versions, one drifted and one with 3 rows, and skipped records
    monitor = FakeMonitor(_answer(CANARY, refused=2, unattributed=5))
    _use(monkeypatch, monitor)

    # When the window is checked
    window = ["--since", "2026-12-06T16:00:00Z", "--until", "2026-12-06T17:00:00Z"]
    result = CliRunner().invoke(app, ["drift", "check", "churn", *window], env={"COLUMNS": "200"})

    # Then the monitor function of the stack's output got the window
    assert result.exit_code == 0, result.output
    assert monitor.invoked == [
        (FUNCTION, {"dataset": "churn", "since": "2026-12-06T16:00:00Z", "until": "2026-12-06T17:00:00Z"})
    ]
    output = _one_line(result.output)
    assert (
        "mlops-churn 2026-12-06T16:00:00Z to 2026-12-06T17:00:00Z DRIFT 1,203 rows from 4 capture file(s)"
        in output
    )
    # and version 3's drifted features, the largest score/threshold first, with their band; the prediction
    assert "version 3 DRIFT 1,200 rows, 67% of features drifted" in output
    assert (
        "drifted features: tenure_months wasserstein 0.5200 (threshold 0.0310, min effect 0.1) drifted "
        "plan jensen_shannon 0.3100 (threshold 0.0200, min effect 0.1) drifted"
    ) in output
    assert "monthly_charges" not in output
    assert (
        "prediction: predicted_label jensen_shannon 0.0100 (threshold 0.0200, min effect 0.1) within its band"
        in output
    )
    # and version 4 as too small, never drift
    assert "version 4 too few rows 3 rows" in output
    # and what was skipped, and where the report is
    assert "skipped: 2 refused by the model, 0 unreadable, 5 unattributed" in output
    assert "report: s3://data-bucket/monitoring/churn/reports/20261206T170000Z/report.html" in output
    assert "coarse baseline" not in output


def test_a_coarse_baseline_and_an_undrifted_window_say_so(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a version registered before drift baselines, whose window did not drift
    version = VersionResult(
        version=1,
        status="no_drift",
        rows=500,
        features=(
            _column("tenure_months", 0.01, 0.05, drifted=False),
            _column("age", 0.04, 0.05, drifted=False),
        ),
        prediction=None,
        drifted_share=0.0,
        coarse=True,
        ks_error_bound=0.01,
    )
    _use(monkeypatch, FakeMonitor(_answer((version,))))

    # When checked
    result = CliRunner().invoke(app, ["drift", "check", "churn"], env={"COLUMNS": "200"})

    # Then the coarse baseline is named with its bound, and the features nearest their threshold shown
    assert result.exit_code == 0, result.output
    output = _one_line(result.output)
    assert "version 1 no drift 500 rows, 0% of features drifted" in output
    assert "coarse baseline: this version was trained before drift baselines" in output
    assert "(KS within 0.0100 of the exact value)" in output
    assert output.index("age wasserstein 0.0400") < output.index("tenure_months wasserstein 0.0100")
    assert "skipped" not in output


def test_no_traffic_says_so(deployed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, FakeMonitor(_answer(())))

    result = CliRunner().invoke(app, ["drift", "check", "churn", "--since", "2h"])

    assert result.exit_code == 0, result.output
    assert "no traffic" in result.output and "no request was captured" in result.output


def test_json_prints_the_monitors_answer_as_it_is(deployed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = _answer(CANARY)
    _use(monkeypatch, FakeMonitor(answer))

    result = CliRunner().invoke(app, ["drift", "check", "churn", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == answer


def test_a_bad_since_is_refused_before_anything_is_invoked(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor = FakeMonitor(_answer(CANARY))
    _use(monkeypatch, monitor)

    result = CliRunner().invoke(app, ["drift", "check", "churn", "--since", "two hours"])

    assert result.exit_code == 2
    assert "--since 'two hours' is not a time" in _one_line(result.output)
    assert monitor.invoked == []


def test_an_answer_that_is_not_a_summary_is_a_clear_error(
    deployed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, FakeMonitor({"dataset": "churn", "versions": "none"}))

    result = CliRunner().invoke(app, ["drift", "check", "churn"])

    assert result.exit_code == 1
    assert "the drift monitor's answer is not a report summary (endpoint: field required)" in _one_line(
        result.output
    )
    assert "Traceback" not in result.output


class FakeLambda:
    """Lambda's Invoke: answers with ``payload`` (and ``FunctionError`` if given); records the calls."""

    def __init__(self, payload: bytes, function_error: str | None = None) -> None:
        self.payload, self.function_error = payload, function_error
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(self.payload)}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_the_lambda_monitor_invokes_synchronously_and_returns_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeLambda(json.dumps({"status": "no_traffic"}).encode())
    waits: list[tuple[str, int]] = []

    def waiting_client(service: str, read_timeout: int) -> FakeLambda:
        waits.append((service, read_timeout))
        return fake

    monkeypatch.setattr(drift, "waiting_client", waiting_client)

    answer = drift.LambdaMonitor().check(FUNCTION, {"dataset": "churn"})

    assert answer == {"status": "no_traffic"}
    # waited for longer than the function may run (15 minutes)
    assert waits == [("lambda", drift.MONITOR_WAIT_SECONDS)] and drift.MONITOR_WAIT_SECONDS > 15 * 60
    assert fake.calls == [
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": b'{"dataset": "churn"}'}
    ]


def test_a_function_error_is_one_clear_line(deployed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the monitor function fails (its handler raised)
    failure = {"errorType": "CaptureSourceError", "errorMessage": "cannot list capture/churn/: AccessDenied"}
    fake = FakeLambda(json.dumps(failure).encode(), function_error="Unhandled")
    monkeypatch.setattr(drift, "waiting_client", lambda service, read_timeout: fake)

    # When a check is asked for
    result = CliRunner().invoke(app, ["drift", "check", "churn"])

    # Then the error names the function, the monitor's own error and where its logs are
    assert result.exit_code == 1
    assert (
        f"the drift monitor {FUNCTION} failed: CaptureSourceError: cannot list capture/churn/: AccessDenied "
        f"(its log group: /aws/lambda/{FUNCTION})"
    ) in _one_line(result.output)
    assert "Traceback" not in result.output


def test_a_function_error_without_a_json_answer_shows_what_came_back() -> None:
    message = drift.function_error("f", None, b"Task timed out after 900.00 seconds")

    assert (
        message
        == "the drift monitor f failed: Task timed out after 900.00 seconds (its log group: /aws/lambda/f)"
    )


def test_the_window_ends_at_the_targets_now(deployed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a target whose clock is hours ahead of this machine (the local cloud's, once advanced)
    ahead = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setattr(drift, "cloud_now", lambda: ahead)
    monitor = FakeMonitor(_answer(()))
    _use(monkeypatch, monitor)

    # When the last two hours are checked, then the default window
    CliRunner().invoke(app, ["drift", "check", "churn", "--since", "2h"])
    CliRunner().invoke(app, ["drift", "check", "churn"])

    # Then both windows end at the target's now, not this machine's (the monitor's own default)
    assert [event for _, event in monitor.invoked] == [
        {"dataset": "churn", "since": "2031-01-02T01:04:05Z", "until": "2031-01-02T03:04:05Z"},
        {"dataset": "churn", "until": "2031-01-02T03:04:05Z"},
    ]
