"""A drift report as one self-contained HTML page: inline CSS and SVG, no script, no external asset.

Per version: its verdict, rows, drifted share and baseline (a coarse one says so, with its KS error
bound); the predictions' drift; per feature the baseline's and the window's histograms overlaid, the
primary score, its band (the threshold and the minimum effect) and the verdict, with the other
statistics beside them. Every text from the data (feature and category names, URIs) is escaped.
"""

from __future__ import annotations

import math
from html import escape

from domain.monitoring.compare import ColumnResult, Histogram, VersionResult
from domain.monitoring.report import DriftReport

__all__ = ["render_html"]

_WIDTH, _HEIGHT, _PAD = 360, 110, 4
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:4px 8px;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}
.drift{color:#b00020;font-weight:600}.ok{color:#1b5e20}.muted{color:#666}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""
_STATUS = {
    "drift": "drift",
    "no_drift": "no drift",
    "too_few_rows": "too few rows (no verdict)",
    "no_baseline": "no baseline (no verdict)",
    "no_traffic": "no traffic",
}


def render_html(report: DriftReport) -> str:
    """The report as a self-contained HTML page.

    Parameters
    ----------
    report : DriftReport

    Returns
    -------
    str
        The page; it loads nothing (no URL, no script).
    """
    title = f"Drift report: {report.endpoint}, {_time(report)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<table>",
        _row("Dataset", escape(report.dataset)),
        _row("Endpoint", escape(report.endpoint)),
        _row("Window", escape(_time(report))),
        _row("Status", _status(report.status)),
        _row("Rows scored", f"{report.rows:,}"),
        _row(
            "Not scored",
            f"{report.refused:,} refused by the model, {report.unreadable:,} unreadable, "
            f"{report.unattributed:,} outside the per-version layout",
        ),
        _row("Generated", escape(report.generated_at.isoformat())),
        "</table>",
    ]
    if not report.versions:
        parts.append("<p>No request was captured in this window.</p>")
    parts += [_version(v) for v in report.versions]
    parts.append("</body></html>")
    return "\n".join(parts)


def _time(report: DriftReport) -> str:
    return f"{report.since.isoformat()} to {report.until.isoformat()}"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value}</td></tr>"


def _status(status: str) -> str:
    css = "drift" if status == "drift" else "ok" if status == "no_drift" else "muted"
    return f'<span class="{css}">{escape(_STATUS.get(status, status))}</span>'


def _version(result: VersionResult) -> str:
    parts = [f"<h2>Model version {result.version}: {_status(result.status)}</h2>", "<table>"]
    parts.append(_row("Rows", f"{result.rows:,}"))
    if result.problem is not None:
        parts.append(_row("Problem", escape(result.problem)))
    if result.drifted_share is not None and result.features:
        drifted = ", ".join(result.drifted_features) or "none"
        parts.append(_row("Drifted share", f"{result.drifted_share:.0%} ({escape(drifted)})"))
    if not math.isnan(result.tail):
        parts.append(_row("False-alarm probability per score", f"{result.tail:.2g}"))
    if result.baseline_uri:
        parts.append(_row("Baseline", escape(result.baseline_uri)))
    parts.append("</table>")
    if result.coarse:
        parts.append(
            '<p class="note">Coarse baseline: this version was registered before drift baselines, so its '
            "profile has 101 quantiles; its scores are less exact (KS within "
            f"{result.ks_error_bound:.3g} of the exact statistic). Retrain to get a full baseline.</p>"
        )
    if result.prediction is not None:
        parts.append("<h3>Predictions</h3>")
        parts.append(_column(result.prediction))
    if result.features:
        parts.append("<h3>Features</h3>")
        ordered = sorted(result.features, key=lambda c: (not c.drifted, -c.ratio, c.name))
        parts += [_column(c) for c in ordered]
    return "\n".join(parts)


def _column(result: ColumnResult) -> str:
    verdict = (
        '<span class="drift">drift</span>' if result.drifted else '<span class="ok">within its band</span>'
    )
    others = ", ".join(
        f"{escape(name)} {_score(value)} (threshold {_score(result.thresholds.get(name, math.nan))})"
        for name, value in result.scores.items()
        if name != result.primary
    )
    return (
        f'<h4>{escape(result.name)} <span class="muted">({escape(result.kind)})</span>: {verdict}</h4>'
        f"<p>{escape(result.primary)} {_score(result.score)}; band: drift above {_score(result.threshold)} "
        f'and at least {_score(result.min_effect)}. <span class="muted">{others}</span></p>'
        f"{_svg(result.histogram, result.name)}"
    )


def _score(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


def _svg(histogram: Histogram, name: str) -> str:
    """Baseline (grey) and window (blue) shares of each bin, overlaid."""
    bins = len(histogram.labels)
    if bins == 0:
        return '<p class="muted">No values to draw.</p>'
    top = max(max(histogram.baseline, default=0.0), max(histogram.window, default=0.0), 1e-9)
    step = (_WIDTH - 2 * _PAD) / bins
    bars = []
    for index, label in enumerate(histogram.labels):
        x = _PAD + index * step
        sides = ((histogram.baseline[index], "#9e9e9e", 0.0), (histogram.window[index], "#1e88e5", 0.25))
        for share, color, inset in sides:
            height = (_HEIGHT - 2 * _PAD) * share / top
            bars.append(
                f'<rect x="{x + inset * step:.1f}" y="{_HEIGHT - _PAD - height:.1f}" '
                f'width="{step * (1 - 2 * inset) if inset else step * 0.9:.1f}" height="{height:.1f}" '
                f'fill="{color}" fill-opacity="{0.85 if inset else 0.6}">'
                f"<title>{escape(label)}: {'window' if inset else 'baseline'} {share:.1%}</title></rect>"
            )
    caption = f"{escape(histogram.labels[0])} … {escape(histogram.labels[-1])}"
    return (
        f'<svg role="img" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" aria-label="{escape(name)} histogram">{"".join(bars)}</svg>'
        f'<div class="legend muted"><span style="background:#9e9e9e"></span>baseline'
        f'<span style="background:#1e88e5"></span>window &nbsp; {caption}</div>'
    )
