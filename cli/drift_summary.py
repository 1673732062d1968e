"""The drift monitor's answer, read and printed: per model version its rows, verdict and what drifted.

The answer is the report's summary (``domain.monitoring.check.CheckOutcome.summary``: the report's JSON
without its histograms, with where the report was written). It arrives as JSON from another process,
so it is read here into typed models (unknown fields ignored: a newer monitor may say more) before it is
printed; an answer that is not a summary is a clear error, not a traceback.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cli.common import coloured, console, plain

__all__ = ["SummaryError", "WindowSummary", "print_summary", "read_summary"]

_COLOURS = {
    "drift": "red",
    "no_drift": "green",
    "too_few_rows": "yellow",
    "no_baseline": "red",
    "no_traffic": "yellow",
}
_STATUS = {
    "drift": "DRIFT",
    "no_drift": "no drift",
    "too_few_rows": "too few rows",
    "no_baseline": "no baseline",
    "no_traffic": "no traffic",
}
_SHOWN_UNDRIFTED = 5  # the features closest to their threshold, shown when none drifted


class SummaryError(ValueError):
    """The monitor answered something that is not a drift report's summary."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ColumnSummary(_Model):
    """One feature's (or the predictions') primary score against its threshold."""

    name: str
    kind: str
    statistic: str
    score: float | None
    threshold: float | None
    min_effect: float
    drifted: bool

    @property
    def ratio(self) -> float:
        """Score over threshold (0 when either is undefined)."""
        if self.score is None or not self.threshold:
            return 0.0
        return self.score / self.threshold


class BaselineSummary(_Model):
    """Which baseline a version was scored against."""

    uri: str | None = None
    coarse: bool = False
    ks_error_bound: float | None = None


class VersionSummary(_Model):
    """One model version's window."""

    version: int
    status: str
    rows: int
    drifted_share: float | None = None
    drifted_features: list[str] = []
    prediction_drift: bool = False
    baseline: BaselineSummary = BaselineSummary()
    problem: str | None = None
    features: list[ColumnSummary] = []
    prediction: ColumnSummary | None = None


class Skipped(_Model):
    """Records of the window that were not scored, by reason."""

    refused: int = 0
    unreadable: int = 0
    unattributed: int = 0


class Bounds(_Model):
    """The window, ``[since, until)``."""

    since: str
    until: str


class ReportUris(_Model):
    """Where the report was written."""

    json_uri: str | None = None
    html_uri: str | None = None

    @classmethod
    def of(cls, raw: Any) -> ReportUris:
        """From the answer's ``report`` object (``json`` and ``html``; both names shadow pydantic's)."""
        found = raw if isinstance(raw, dict) else {}
        return cls(json_uri=found.get("json"), html_uri=found.get("html"))


class WindowSummary(_Model):
    """The monitor's answer for one window of one endpoint."""

    dataset: str
    endpoint: str
    window: Bounds
    status: str
    rows: int
    files: int = 0
    skipped: Skipped = Skipped()
    versions: list[VersionSummary] = []
    report: ReportUris = ReportUris()


def read_summary(answer: dict[str, Any]) -> WindowSummary:
    """The monitor's answer as a :class:`WindowSummary`.

    Raises
    ------
    SummaryError
        Naming the first field that is missing or of the wrong type.
    """
    fields = {key: value for key, value in answer.items() if key != "report"}
    try:
        return WindowSummary.model_validate({**fields, "report": ReportUris.of(answer.get("report"))})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise SummaryError(
            f"the drift monitor's answer is not a report summary ({where}: {first['msg'].lower()}); "
            "is the deployed monitor older or newer than this CLI?"
        ) from None


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _column_line(column: ColumnSummary) -> str:
    mark = "[red]drifted[/red]" if column.drifted else "within its band"
    return (
        f"{plain(column.name)}  {plain(column.statistic)} {_number(column.score)} "
        f"(threshold {_number(column.threshold)}, min effect {column.min_effect:g})  {mark}"
    )


def _print_version(version: VersionSummary) -> None:
    status = coloured(version.status, _COLOURS, _STATUS.get(version.status, version.status))
    share = f", {version.drifted_share:.0%} of features drifted" if version.drifted_share is not None else ""
    console.print(
        f"[bold]version {version.version}[/bold]  {status}  {version.rows:,} rows{share}", highlight=False
    )
    if version.problem:
        console.print(f"  {plain(version.problem)}", highlight=False, soft_wrap=True)
    if version.baseline.coarse:
        bound = _number(version.baseline.ks_error_bound)
        console.print(
            "  [yellow]coarse baseline[/yellow]: this version was trained before drift baselines; its scores "
            f"come from its 101-quantile profile (KS within {bound} of the exact value)",
            highlight=False,
            soft_wrap=True,
        )
    drifted = [c for c in version.features if c.drifted]
    if drifted:
        console.print("  drifted features:", highlight=False)
        for column in sorted(drifted, key=lambda c: -c.ratio):
            console.print(f"    {_column_line(column)}", highlight=False, soft_wrap=True)
    elif version.features and version.status != "too_few_rows":
        closest = sorted(version.features, key=lambda c: -c.ratio)[:_SHOWN_UNDRIFTED]
        console.print("  no feature drifted; closest to their threshold:", highlight=False)
        for column in closest:
            console.print(f"    {_column_line(column)}", highlight=False, soft_wrap=True)
    if version.prediction is not None:
        console.print(f"  prediction: {_column_line(version.prediction)}", highlight=False, soft_wrap=True)


def print_summary(summary: WindowSummary) -> None:
    """Print the monitor's summary of one window: the window, each version, what was skipped, the report."""
    status = coloured(summary.status, _COLOURS, _STATUS.get(summary.status, summary.status))
    console.print(
        f"[bold]{plain(summary.endpoint)}[/bold]  "
        f"{plain(summary.window.since)} to {plain(summary.window.until)}  {status}  "
        f"{summary.rows:,} rows from {summary.files} capture file(s)",
        highlight=False,
        soft_wrap=True,
    )
    for version in summary.versions:
        _print_version(version)
    if not summary.versions:
        console.print("  no traffic in this window: no request was captured", highlight=False)
    skipped = summary.skipped
    if skipped.refused or skipped.unreadable or skipped.unattributed:
        console.print(
            f"skipped: {skipped.refused} refused by the model, {skipped.unreadable} unreadable, "
            f"{skipped.unattributed} unattributed (captured before captures were kept per version)",
            highlight=False,
            soft_wrap=True,
        )
    uris = summary.report
    if uris.html_uri or uris.json_uri:
        console.print(
            f"report: {plain(uris.html_uri or '')}  (JSON: {plain(uris.json_uri or '')}); "
            f"`mlops drift report {plain(summary.dataset)} --open` opens it",
            highlight=False,
            soft_wrap=True,
        )
