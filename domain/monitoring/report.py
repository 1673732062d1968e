"""A drift report: one window of one endpoint, every version that served in it, as JSON and as a summary.

Written to ``monitoring/<dataset>/reports/<until, yyyymmddThhmmssZ>/report.json`` (and ``report.html``,
:mod:`domain.monitoring.html`) in the data bucket. ``to_dict`` is the JSON document; ``summary`` the
same without the histograms (what the monitor returns and the CLI prints). ``nan`` is written ``null``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from domain.monitoring.compare import ColumnResult, VersionResult
from domain.names import monitoring_prefix

__all__ = ["REPORT_FORMAT", "DriftReport", "ReportKeys", "ReportStatus", "report_keys", "reports_prefix"]

REPORT_FORMAT = "drift-report"
ReportStatus = Literal["drift", "no_drift", "too_few_rows", "no_baseline", "no_traffic"]
# A report's status is its most telling version's.
_PRECEDENCE: tuple[ReportStatus, ...] = ("drift", "no_drift", "too_few_rows", "no_baseline")


@dataclass(frozen=True)
class ReportKeys:
    """Where a report's two documents go in the data bucket."""

    json: str
    html: str


def reports_prefix(dataset: str) -> str:
    """Where a dataset's reports are, one folder each: ``monitoring/<dataset>/reports/``."""
    return f"{monitoring_prefix(dataset)}reports/"


def report_keys(dataset: str, until: datetime) -> ReportKeys:
    """``monitoring/<dataset>/reports/<until, compact UTC>/report.{json,html}``: sorted by window end."""
    folder = f"{reports_prefix(dataset)}{until.astimezone(UTC):%Y%m%dT%H%M%SZ}/"
    return ReportKeys(json=f"{folder}report.json", html=f"{folder}report.html")


@dataclass(frozen=True)
class DriftReport:
    """The drift of one endpoint's traffic in one window.

    Attributes
    ----------
    dataset, endpoint : str
    since, until : datetime
        The window, ``[since, until)``.
    generated_at : datetime
    versions : tuple of VersionResult
        Every version with requests in the window, by version.
    files : int
        Capture files read.
    refused, unreadable, unattributed : int
        Records in the window not scored, by reason (``domain.monitoring.capture_records``).
    """

    dataset: str
    endpoint: str
    since: datetime
    until: datetime
    generated_at: datetime
    versions: tuple[VersionResult, ...]
    files: int = 0
    refused: int = 0
    unreadable: int = 0
    unattributed: int = 0

    @property
    def status(self) -> ReportStatus:
        """``no_traffic`` when no version had a request scored; else the most telling version's."""
        found = {v.status for v in self.versions}
        return next((status for status in _PRECEDENCE if status in found), "no_traffic")

    @property
    def rows(self) -> int:
        """Rows scored, over every version."""
        return sum(v.rows for v in self.versions)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON document."""
        return self._document(histograms=True)

    def summary(self) -> dict[str, Any]:
        """The report without its histograms."""
        return self._document(histograms=False)

    def _document(self, *, histograms: bool) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "dataset": self.dataset,
            "endpoint": self.endpoint,
            "window": {"since": _time(self.since), "until": _time(self.until)},
            "generated_at": _time(self.generated_at),
            "status": self.status,
            "rows": self.rows,
            "files": self.files,
            "skipped": {
                "refused": self.refused,
                "unreadable": self.unreadable,
                "unattributed": self.unattributed,
            },
            "versions": [_version(v, histograms) for v in self.versions],
        }


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _version(result: VersionResult, histograms: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "version": result.version,
        "status": result.status,
        "rows": result.rows,
        "drifted_share": result.drifted_share,
        "drifted_features": list(result.drifted_features),
        "prediction_drift": result.prediction_drifted,
        "tail": _number(result.tail),
        "baseline": {
            "uri": result.baseline_uri,
            "coarse": result.coarse,
            "ks_error_bound": _number(result.ks_error_bound),
        },
    }
    if result.problem is not None:
        document["problem"] = result.problem
    document["features"] = [_column(c, histograms) for c in result.features]
    document["prediction"] = None if result.prediction is None else _column(result.prediction, histograms)
    return document


def _column(result: ColumnResult, histograms: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": result.name,
        "kind": result.kind,
        "statistic": result.primary,
        "score": _number(result.score),
        "threshold": _number(result.threshold),
        "min_effect": result.min_effect,
        "drifted": result.drifted,
        "scores": {name: _number(value) for name, value in result.scores.items()},
        "thresholds": {name: _number(value) for name, value in result.thresholds.items()},
    }
    if histograms:
        histogram = result.histogram
        document["histogram"] = {
            "labels": list(histogram.labels),
            "baseline": list(histogram.baseline),
            "window": list(histogram.window),
            "edges": list(histogram.edges),
        }
    return document
