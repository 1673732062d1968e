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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.monitoring.report import DriftReport

__all__ = ["ENDPOINT", "FEATURE", "VERSION", "MetricPoint", "report_metrics"]

ENDPOINT = "EndpointName"
VERSION = "ModelVersion"
FEATURE = "Feature"


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
