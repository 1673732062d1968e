"""The drift check of one endpoint's window: read the captures, score each version, report, publish.

1. Read the window's captures, split by model version (:func:`domain.monitoring.captures.read_window`).
2. For each version, its baseline from the registry (:class:`BaselineSource`); a version without one is
   reported as ``no_baseline`` and never stops the others.
3. Score each version against its own baseline (:func:`domain.monitoring.compare.compare_version`).
4. Write the report as JSON and as HTML (:class:`ReportStore`), publish its metrics
   (:class:`MetricsSink`, :mod:`domain.monitoring.metrics`) at the window's end.

A window without traffic is a report too (``no_traffic``), never an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.monitoring.captures import READERS, CaptureSource, read_window
from domain.monitoring.columns import CaptureSchema
from domain.monitoring.compare import VersionResult, compare_version
from domain.monitoring.config import MonitoringConfig
from domain.monitoring.html import render_html
from domain.monitoring.metrics import MetricPoint, report_metrics
from domain.monitoring.report import DriftReport, ReportKeys, report_keys
from spec.drift.baseline import DriftBaseline

__all__ = [
    "BaselineMissingError",
    "BaselineSource",
    "CheckOutcome",
    "MetricsSink",
    "ReportStore",
    "check_drift",
]


class BaselineMissingError(Exception):
    """A model version has no usable drift baseline; the message names the model package and why."""


class BaselineSource(Protocol):
    """Where each model version's drift baseline is (the model registry)."""

    def baseline(self, dataset: str, version: int) -> tuple[DriftBaseline, str]:
        """The version's baseline and where it was read from.

        Raises
        ------
        BaselineMissingError
            Naming the model package, when it has none (or it cannot be read).
        """
        ...


class ReportStore(Protocol):
    """Where reports are written (the data bucket)."""

    def put(self, key: str, body: bytes, content_type: str) -> str:
        """Write one document; its URI."""
        ...


class MetricsSink(Protocol):
    """Where metrics go (CloudWatch, through EMF)."""

    def publish(self, points: Sequence[MetricPoint], at: datetime) -> None:
        """Publish datapoints timestamped ``at``."""
        ...


@dataclass(frozen=True)
class CheckOutcome:
    """A check's report and where it was written."""

    report: DriftReport
    keys: ReportKeys
    uris: ReportKeys

    def summary(self) -> dict[str, Any]:
        """The report's summary with the report's keys (what the monitor returns)."""
        return {**self.report.summary(), "report": {"json": self.uris.json, "html": self.uris.html}}

    def headline(self) -> str:
        """One line for the log: which endpoint, and the verdict."""
        return f"drift check of {self.report.endpoint}: {self.report.status}"

    def facts(self) -> dict[str, Any]:
        """What the log line carries: the verdict, the rows, each version's status, the page."""
        report = self.report
        versions = {str(v.version): v.status for v in report.versions}
        return {"status": report.status, "rows": report.rows, "report": self.uris.html, "versions": versions}


def check_drift(
    *,
    dataset: str,
    endpoint: str,
    since: datetime,
    until: datetime,
    schema: CaptureSchema,
    config: MonitoringConfig,
    captures: CaptureSource,
    baselines: BaselineSource,
    reports: ReportStore,
    metrics: MetricsSink,
    now: datetime,
    readers: int = READERS,
) -> CheckOutcome:
    """Check one endpoint's window for drift, write the report, publish the metrics.

    Parameters
    ----------
    dataset, endpoint : str
    since, until : datetime
        The window ``[since, until)``, timezone-aware.
    schema : CaptureSchema
        The model's features and prediction (from the contract and training configuration).
    config : MonitoringConfig
    captures, baselines, reports, metrics
        The ports.
    now : datetime
        The report's generation time.
    readers : int
        Capture files listed and read in parallel.

    Returns
    -------
    CheckOutcome

    Raises
    ------
    CaptureSourceError
        When the captures cannot be listed or read.
    """
    window = read_window(captures, dataset, schema, since, until, readers=readers)
    results: list[VersionResult] = []
    for version, rows in sorted(window.versions.items()):
        try:
            baseline, uri = baselines.baseline(dataset, version)
        except BaselineMissingError as missing:
            results.append(
                VersionResult(version=version, status="no_baseline", rows=rows.rows, problem=str(missing))
            )
            continue
        results.append(compare_version(rows, baseline, config, baseline_uri=uri))
    report = DriftReport(
        dataset=dataset,
        endpoint=endpoint,
        since=since,
        until=until,
        generated_at=now,
        versions=tuple(results),
        files=window.files,
        refused=window.refused,
        unreadable=window.unreadable,
        unattributed=window.unattributed,
    )
    keys = report_keys(dataset, until)
    body = json.dumps(report.to_dict(), allow_nan=False, ensure_ascii=False).encode("utf-8")
    uris = ReportKeys(
        json=reports.put(keys.json, body, "application/json"),
        html=reports.put(keys.html, render_html(report).encode("utf-8"), "text/html; charset=utf-8"),
    )
    # At the window's start: a datapoint belongs to the CloudWatch period that holds its timestamp, and
    # that period is over by the time the window is (a window that is not aligned to the period ends
    # inside the next one). Stamped at the end, the drift alarm would see each window one period late.
    metrics.publish(report_metrics(report, config.max_feature_metrics), since)
    return CheckOutcome(report=report, keys=keys, uris=uris)
