"""The drift check's use case with fakes: the report's documents, its metrics (bounded), the HTML page
(self-contained, escaped), a version without a baseline, a window without traffic."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from domain.data.contract import DatasetContract
from domain.deployment.capture import capture_record
from domain.monitoring.check import BaselineMissingError, CheckOutcome, check_drift
from domain.monitoring.columns import CaptureSchema
from domain.monitoring.config import MonitoringConfig
from domain.monitoring.html import render_html
from domain.monitoring.metrics import MetricPoint, report_metrics
from domain.names import capture_uri_prefix
from domain.training.config import parse_training_config
from spec.drift.baseline import DriftBaseline, build_baseline
from spec.drift.scores import Kind
from tests.monitor_support import FakeCaptureSource

DATASET = "shop"
ENDPOINT = "mlops-shop"
UNTIL = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(hours=1)
# A feature name that would break a page not escaping it.
HOSTILE = '<script>alert("x")</script>'
NUMERIC = [f"n{i}" for i in range(6)] + [HOSTILE]
CONFIG = MonitoringConfig()


def _contract() -> DatasetContract:
    columns: list[dict[str, Any]] = [{"name": name, "type": "float"} for name in NUMERIC]
    columns.append({"name": "plan", "type": "category", "categories": ["basic", "pro", "<b>max</b>"]})
    columns.append({"name": "churned", "type": "boolean"})
    return DatasetContract.model_validate({"name": DATASET, "target": "churned", "columns": columns})


SCHEMA = CaptureSchema.of(_contract(), parse_training_config({}, contract=_contract()))


def _rows(rng: np.random.Generator, rows: int, shift: float = 0.0) -> dict[str, Any]:
    columns: dict[str, Any] = {name: rng.normal(0.0, 1.0, rows) + shift for name in NUMERIC}
    columns["plan"] = rng.choice(["basic", "pro", "<b>max</b>"], rows, p=[0.5, 0.3, 0.2]).tolist()
    columns["predicted_label"] = rng.choice(["false", "true"], rows, p=[0.8, 0.2]).tolist()
    return columns


@pytest.fixture(scope="module")
def baseline() -> DriftBaseline:
    training = _rows(np.random.default_rng(0), 20_000)
    features: dict[str, tuple[Kind, Any]] = {
        n: ("numeric" if n in NUMERIC else "categorical", training[n]) for n in [*NUMERIC, "plan"]
    }
    predictions: dict[str, tuple[Kind, Any]] = {
        "predicted_label": ("categorical", training["predicted_label"])
    }
    return build_baseline(features, predictions, sizes=(200, 1_000, 5_000), samples=20, seed=0)


def _serve(captures: FakeCaptureSource, version: int, columns: dict[str, Any], rows: int) -> None:
    """Capture ``rows`` requests of one row each, as the endpoint of ``version`` answered them."""
    at = SINCE + timedelta(minutes=5)
    records: list[dict[str, Any] | str] = []
    for row in range(rows):
        instance = {n: columns[n][row] if n == "plan" else float(columns[n][row]) for n in [*NUMERIC, "plan"]}
        answer = {"predictions": [{"prediction": columns["predicted_label"][row] == "true"}]}
        records.append(
            capture_record(
                request=json.dumps({"instances": [instance]}).encode(),
                request_type="application/json",
                response=json.dumps(answer).encode(),
                response_type="application/json",
                event_id=str(row),
                at=at,
            )
        )
    captures.put(capture_uri_prefix(DATASET, version), at, records, unique="f")


class FakeBaselines:
    def __init__(self, known: dict[int, DriftBaseline]) -> None:
        self.known = known

    def baseline(self, dataset: str, version: int) -> tuple[DriftBaseline, str]:
        if version not in self.known:
            raise BaselineMissingError(f"model package {dataset}/{version} has no drift baseline")
        return self.known[version], f"s3://data/{dataset}/v{version}/baseline/drift_baseline.json"


class FakeReports:
    def __init__(self) -> None:
        self.written: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.written[key] = (body, content_type)
        return f"s3://data/{key}"


class FakeMetrics:
    def __init__(self) -> None:
        self.published: list[tuple[list[MetricPoint], datetime]] = []

    def publish(self, points: Sequence[MetricPoint], at: datetime) -> None:
        self.published.append((list(points), at))


def _check(
    captures: FakeCaptureSource, baselines: FakeBaselines
) -> tuple[CheckOutcome, FakeReports, FakeMetrics]:
    reports, metrics = FakeReports(), FakeMetrics()
    outcome = check_drift(
        dataset=DATASET, endpoint=ENDPOINT, since=SINCE, until=UNTIL, schema=SCHEMA, config=CONFIG,
        captures=captures, baselines=baselines, reports=reports, metrics=metrics, now=UNTIL + timedelta(1),
    )  # fmt: skip
    return outcome, reports, metrics


def test_a_drifting_version_and_one_without_a_baseline_are_both_reported(baseline: DriftBaseline) -> None:
    # Given version 1 serving shifted traffic, and version 2 (a canary) registered without a baseline
    captures = FakeCaptureSource()
    _serve(captures, 1, _rows(np.random.default_rng(1), 400, shift=1.0), 400)
    _serve(captures, 2, _rows(np.random.default_rng(2), 50), 50)

    # When checked
    outcome, reports, metrics = _check(captures, FakeBaselines({1: baseline}))

    # Then the JSON and HTML reports are written under the window's end
    folder = "monitoring/shop/reports/20261201T110000Z/"
    assert set(reports.written) == {folder + "report.json", folder + "report.html"}
    assert reports.written[folder + "report.json"][1] == "application/json"
    assert reports.written[folder + "report.html"][1].startswith("text/html")
    document = json.loads(reports.written[folder + "report.json"][0])
    assert document["status"] == "drift"
    version1, version2 = document["versions"]
    assert version1["status"] == "drift" and version1["rows"] == 400
    assert set(version1["drifted_features"]) == set(NUMERIC)
    assert version1["features"][0]["histogram"]["labels"]
    assert version2 == {**version2, "status": "no_baseline", "rows": 50}
    assert "shop/2 has no drift baseline" in version2["problem"]
    # and the summary is the report without histograms, with where it was written
    summary = outcome.summary()
    assert "histogram" not in json.dumps(summary)
    assert summary["report"] == {
        "json": f"s3://data/{folder}report.json",
        "html": f"s3://data/{folder}report.html",
    }
    # and the metrics are published once, at the window's start (in the period the window fills)
    [(points, at)] = metrics.published
    assert at == SINCE
    by_key = {(p.name, p.dimensions): p.value for p in points}
    v1 = (("EndpointName", ENDPOINT), ("ModelVersion", "1"))
    assert by_key[("Drift", v1)] == 1.0
    assert by_key[("WindowRows", v1)] == 400
    assert by_key[("WindowRows", (("EndpointName", ENDPOINT), ("ModelVersion", "2")))] == 50
    assert ("Drift", (("EndpointName", ENDPOINT), ("ModelVersion", "2"))) not in by_key  # no verdict
    assert by_key[("Drift", (("EndpointName", ENDPOINT),))] == 1.0
    assert by_key[("DriftedShare", (("EndpointName", ENDPOINT),))] == pytest.approx(
        len(NUMERIC) / (len(NUMERIC) + 1)
    )


def test_feature_metrics_are_bounded_highest_ratio_first(baseline: DriftBaseline) -> None:
    # Given a drifting version and max_feature_metrics 3
    captures = FakeCaptureSource()
    columns = _rows(np.random.default_rng(3), 400)
    columns["n2"] = columns["n2"] + 3.0
    _serve(captures, 1, columns, 400)
    outcome, _, _ = _check(captures, FakeBaselines({1: baseline}))

    # When its metrics are listed
    points = report_metrics(outcome.report, max_feature_metrics=3)

    # Then three FeatureDrift datapoints, the most shifted first
    features = [p for p in points if p.name == "FeatureDrift"]
    assert len(features) == 3
    assert dict(features[0].dimensions)["Feature"] == "n2"
    assert all(dict(p.dimensions).keys() == {"EndpointName", "ModelVersion", "Feature"} for p in features)
    # and none with 0
    assert not [p for p in report_metrics(outcome.report, max_feature_metrics=0) if p.name == "FeatureDrift"]


def test_too_few_rows_publishes_rows_but_no_verdict(baseline: DriftBaseline) -> None:
    # Given 3 requests in the window
    captures = FakeCaptureSource()
    _serve(captures, 1, _rows(np.random.default_rng(4), 3, shift=5.0), 3)

    # When checked
    outcome, _, metrics = _check(captures, FakeBaselines({1: baseline}))

    # Then too few rows, and only WindowRows is published
    assert outcome.report.status == "too_few_rows"
    assert [p.name for p in metrics.published[0][0]] == ["WindowRows"]


def test_a_window_without_traffic_is_a_report_not_an_error() -> None:
    # Given no capture at all / When checked
    outcome, reports, metrics = _check(FakeCaptureSource(), FakeBaselines({}))

    # Then the report says no traffic and nothing is published
    assert outcome.report.status == "no_traffic"
    assert len(reports.written) == 2
    assert metrics.published == [([], SINCE)]
    assert "No request was captured" in render_html(outcome.report)


def test_the_html_page_is_self_contained_and_escapes_names(baseline: DriftBaseline) -> None:
    # Given a report over a feature and a category whose names are markup
    captures = FakeCaptureSource()
    _serve(captures, 1, _rows(np.random.default_rng(5), 300, shift=1.0), 300)
    outcome, _, _ = _check(captures, FakeBaselines({1: baseline}))

    # When rendered
    page = render_html(outcome.report)

    # Then it loads nothing: no URL, no script, no external link or source
    assert not re.search(r"https?://", page)
    assert "<script" not in page.lower()
    assert not re.search(r"<link|\ssrc=|@import", page, re.IGNORECASE)
    # and the names are escaped, shown as text
    assert HOSTILE not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>max</b>" not in page and "&lt;b&gt;max&lt;/b&gt;" in page
    # and it has a histogram per column, the verdicts, and the window
    assert page.count("<svg") == len(NUMERIC) + 2
    assert "drift" in page and "2026-12-01T10:00:00+00:00 to 2026-12-01T11:00:00+00:00" in page


def test_a_coarse_baseline_is_noted_on_the_page(baseline: DriftBaseline) -> None:
    # Given the same baseline marked coarse
    from dataclasses import replace

    captures = FakeCaptureSource()
    _serve(captures, 1, _rows(np.random.default_rng(6), 300), 300)
    outcome, reports, _ = _check(
        captures, FakeBaselines({1: replace(baseline, coarse=True, ks_error_bound=0.01)})
    )

    # Then the page and the JSON say so, with the bound
    assert "Coarse baseline" in render_html(outcome.report) and "within 0.01" in render_html(outcome.report)
    document = json.loads(next(body for key, (body, _) in reports.written.items() if key.endswith(".json")))
    assert document["versions"][0]["baseline"] == {
        **document["versions"][0]["baseline"],
        "coarse": True,
        "ks_error_bound": 0.01,
    }
