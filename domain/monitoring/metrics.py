"""Which CloudWatch metrics a drift report publishes (namespace ``MLOpsPlatform``, as EMF).

Per version that served in the window, dimensions ``{EndpointName, ModelVersion}``:

- ``WindowRows``: rows scored;
- ``DriftedShare``: drifted features over features tested; ``PredictionDrift``: the predictions'
  primary score; ``Drift``: 1 when the version drifted, else 0 (none of the three for a version with
  too few rows or without a baseline: there is no verdict to publish);
- ``FeatureDrift`` with ``Feature`` added: the primary score of at most ``max_feature_metrics`` features,
  those furthest past (or nearest to) their threshold first; the others are in the report only, so an
  endpoint has a bounded number of metrics however wide its model.

Per endpoint, ``{EndpointName}``: ``Drift`` and ``DriftedShare``, the maxima over its versions with a
verdict; the drift alarm watches these (an alarm cannot name a version that does not exist yet).
Nothing is published for a window without traffic: the no-traffic alarm covers it.

Realized performance (:func:`performance_metrics`, published by the feedback function after each labels
file): per version with labels, ``{EndpointName, ModelVersion}``, ``LabelledRows`` (distinct inference IDs
labelled) and ``Realized_<metric>`` for each metric with a value (none below ``min_labels``). Per
endpoint, ``{EndpointName}``: the same of the newest version among the results, the one that usually
serves; the performance alarm watches ``Realized_<metric>`` there. When that version has too few labels,
only its ``LabelledRows`` goes out, so the alarm keeps its state (missing data is ignored) rather than
judging the model in service by an older version's labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.monitoring.report import DriftReport

if TYPE_CHECKING:
    from domain.monitoring.performance import VersionPerformance

__all__ = [
    "ENDPOINT",
    "FEATURE",
    "LABELLED_ROWS",
    "REALIZED_PREFIX",
    "VERSION",
    "MetricPoint",
    "performance_metrics",
    "realized_metric_name",
    "report_metrics",
]

ENDPOINT = "EndpointName"
VERSION = "ModelVersion"
FEATURE = "Feature"
LABELLED_ROWS = "LabelledRows"
REALIZED_PREFIX = "Realized_"


@dataclass(frozen=True)
class MetricPoint:
    """One datapoint: a metric's name, value, unit and exact dimensions."""

    name: str
    value: float
    dimensions: tuple[tuple[str, str], ...]
    unit: str = "None"


def report_metrics(report: DriftReport, max_feature_metrics: int) -> list[MetricPoint]:
    """The datapoints a report publishes (see the module's docstring).

    Parameters
    ----------
    report : DriftReport
    max_feature_metrics : int
        ``FeatureDrift`` datapoints per version, at most.

    Returns
    -------
    list of MetricPoint
        Grouped by dimension set, per version first, then the endpoint's.
    """
    endpoint = ((ENDPOINT, report.endpoint),)
    points: list[MetricPoint] = []
    verdicts: list[tuple[float, float]] = []
    for version in report.versions:
        if version.rows == 0:
            continue
        dims = (*endpoint, (VERSION, str(version.version)))
        points.append(MetricPoint("WindowRows", float(version.rows), dims, unit="Count"))
        if version.status not in ("drift", "no_drift"):
            continue
        share = version.drifted_share or 0.0
        drift = 1.0 if version.status == "drift" else 0.0
        verdicts.append((drift, share))
        points.append(MetricPoint("Drift", drift, dims))
        points.append(MetricPoint("DriftedShare", share, dims))
        if version.prediction is not None and not math.isnan(version.prediction.score):
            points.append(MetricPoint("PredictionDrift", version.prediction.score, dims))
        ranked = sorted(
            (f for f in version.features if not math.isnan(f.score)), key=lambda f: (-f.ratio, f.name)
        )
        points += [
            MetricPoint("FeatureDrift", f.score, (*dims, (FEATURE, f.name)))
            for f in ranked[: max(0, max_feature_metrics)]
        ]
    if verdicts:
        points.append(MetricPoint("Drift", max(d for d, _ in verdicts), endpoint))
        points.append(MetricPoint("DriftedShare", max(s for _, s in verdicts), endpoint))
    return points


def realized_metric_name(metric: str) -> str:
    """The CloudWatch name of a realized metric: ``Realized_<metric>`` (``Realized_accuracy``)."""
    return f"{REALIZED_PREFIX}{metric}"


def performance_metrics(endpoint: str, results: Sequence[VersionPerformance]) -> list[MetricPoint]:
    """The datapoints of realized performance (see the module's docstring).

    Parameters
    ----------
    endpoint : str
        The endpoint that answered the labelled requests.
    results : sequence of VersionPerformance
        ``domain.monitoring.performance.realized_performance`` of the versions a labels file touched.

    Returns
    -------
    list of MetricPoint
        Per version first (oldest first), then the endpoint's.
    """
    points: list[MetricPoint] = []
    for result in sorted(results, key=lambda r: r.model_version):
        dims = ((ENDPOINT, endpoint), (VERSION, str(result.model_version)))
        points += _performance_points(result, dims)
    if results:
        newest = max(results, key=lambda r: r.model_version)
        points += _performance_points(newest, ((ENDPOINT, endpoint),))
    return points


def _performance_points(result: VersionPerformance, dims: tuple[tuple[str, str], ...]) -> list[MetricPoint]:
    points = [MetricPoint(LABELLED_ROWS, float(result.labelled_rows), dims, unit="Count")]
    if result.status != "ok":
        return points
    values = [(m.name, m.value) for m in result.metrics if m.value is not None]
    return points + [MetricPoint(realized_metric_name(name), value, dims) for name, value in values]
