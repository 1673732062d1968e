"""A version's window of rows against its drift baseline: every statistic, its threshold, the verdicts.

Per column (each feature, then the prediction) every statistic of its kind is computed from the baseline
profile and the window (``spec.drift.scores``) and set against its calibrated threshold for the window's
size (``DriftBaseline``'s null bands, :func:`spec.drift.calibration.threshold`) at the tail
``false_alarm_rate / m``, m the columns tested: a Bonferroni correction, so that an undrifted window of a
version is flagged with probability at most ``false_alarm_rate`` however many features the model has.

A column drifts on its primary statistic alone (normed Wasserstein for a numeric column, Jensen-Shannon
distance for a categorical one: neither grows with the window's size) when the window has at least
``min_rows`` rows, the score is above its threshold, and it is at least ``min_effect`` of its kind: a shift
too small to matter is not flagged, however large the window. KS, PSI, the unseen share and the change in
missing rate are reported beside it. A version drifts when its drifted share of features reaches
``drifted_share`` or its predictions drift; with fewer than ``min_rows`` rows it is ``too_few_rows``,
never drift.

Entry point: :func:`compare_version` (the monitor, and ``bench/drift.py``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from domain.monitoring.rows import ColumnValues, VersionRows
from spec.drift.baseline import DriftBaseline, FeatureBaseline
from spec.drift.categorical import CategoricalProfile, CategoricalWindow
from spec.drift.numeric import NumericProfile, NumericWindow
from spec.drift.scores import PRIMARY, STATISTICS, Kind, prepare, window_scores

if TYPE_CHECKING:
    # Only its fields are read here; the caller has built it (and imported pydantic).
    from domain.monitoring.config import MonitoringConfig

__all__ = ["ColumnResult", "Histogram", "VersionResult", "VersionStatus", "compare_version"]

VersionStatus = Literal["drift", "no_drift", "too_few_rows", "no_baseline"]
#: Inner bins of a numeric histogram, over the baseline's 1st to 99th percentiles.
HISTOGRAM_BINS = 20
#: Categories a categorical histogram shows; the rest are pooled into "other".
HISTOGRAM_CATEGORIES = 12
OTHER = "other"
_PERCENTILES = np.linspace(0.0, 1.0, 1001)


@dataclass(frozen=True)
class Histogram:
    """Baseline and window shares of the same bins, for the report.

    Attributes
    ----------
    labels : tuple of str
        Each bin's label: a range for a numeric column (the outer two open-ended), a category (and
        ``other``) for a categorical one.
    baseline, window : tuple of float
        Shares of the present values (missing values are not in any bin).
    edges : tuple of float
        A numeric column's inner edges (``len(labels) - 1`` of them); empty for a categorical one.
    """

    labels: tuple[str, ...]
    baseline: tuple[float, ...]
    window: tuple[float, ...]
    edges: tuple[float, ...] = ()


@dataclass(frozen=True)
class ColumnResult:
    """One feature's (or the predictions') scores, thresholds and verdict in a window.

    Attributes
    ----------
    name : str
    kind : {"numeric", "categorical"}
    scores, thresholds : dict of str to float
        Every statistic of the kind and its threshold (``missing_rate_change`` is signed; its threshold
        bounds its magnitude). ``nan`` where undefined.
    primary : str
        The statistic the verdict rests on.
    min_effect : float
    drifted : bool
    histogram : Histogram
    """

    name: str
    kind: Kind
    scores: dict[str, float]
    thresholds: dict[str, float]
    primary: str
    min_effect: float
    drifted: bool
    histogram: Histogram

    @property
    def score(self) -> float:
        """The primary statistic."""
        return self.scores[self.primary]

    @property
    def threshold(self) -> float:
        """The primary statistic's threshold."""
        return self.thresholds[self.primary]

    @property
    def ratio(self) -> float:
        """Score over threshold (how far into or out of its band); 0 when either is undefined."""
        score, limit = self.score, self.threshold
        if math.isnan(score) or math.isnan(limit):
            return 0.0
        return score / limit if limit > 0 else (math.inf if score > 0 else 0.0)


@dataclass(frozen=True)
class VersionResult:
    """A model version's window against its baseline.

    Attributes
    ----------
    version : int
    status : {"drift", "no_drift", "too_few_rows", "no_baseline"}
    rows : int
    features : tuple of ColumnResult
    prediction : ColumnResult or None
        None when the baseline has no prediction column (or there is no baseline).
    drifted_share : float or None
        Drifted features over features tested; None without a baseline.
    tail : float
        Each score's false-alarm probability (``false_alarm_rate / m``).
    coarse : bool
        The baseline was upgraded from a format-1 profile (101 quantiles).
    ks_error_bound : float
        How far a KS statistic from the baseline can be from the exact one.
    baseline_uri : str or None
    problem : str or None
        Why there is no verdict (a missing baseline).
    """

    version: int
    status: VersionStatus
    rows: int
    features: tuple[ColumnResult, ...] = ()
    prediction: ColumnResult | None = None
    drifted_share: float | None = None
    tail: float = math.nan
    coarse: bool = False
    ks_error_bound: float = math.nan
    baseline_uri: str | None = None
    problem: str | None = None

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """The names of the features that drifted."""
        return tuple(f.name for f in self.features if f.drifted)

    @property
    def prediction_drifted(self) -> bool:
        """Whether the predictions drifted."""
        return self.prediction is not None and self.prediction.drifted


def compare_version(
    window: VersionRows, baseline: DriftBaseline, config: MonitoringConfig, *, baseline_uri: str | None = None
) -> VersionResult:
    """Score a version's window against its baseline and give the verdicts.

    Parameters
    ----------
    window : VersionRows
        The version's rows (:func:`domain.monitoring.captures.read_window`).
    baseline : DriftBaseline
        The version's baseline.
    config : MonitoringConfig
        ``min_rows``, ``false_alarm_rate``, ``min_effect`` and ``drifted_share``.
    baseline_uri : str, optional
        Where the baseline came from, for the report.

    Returns
    -------
    VersionResult
        Features the window and the baseline both have are tested (in the baseline's order).
    """
    features = [f for f in baseline.features if f.name in window.columns]
    predictions = [p for p in baseline.predictions if p.name in window.columns]
    tested = len(features) + len(predictions)
    tail = config.false_alarm_rate / max(tested, 1)
    enough = window.rows >= config.min_rows
    results = tuple(_column(f, window.column(f.name), window.rows, tail, enough, config) for f in features)
    prediction = (
        _column(predictions[0], window.column(predictions[0].name), window.rows, tail, enough, config)
        if predictions
        else None
    )
    share = sum(r.drifted for r in results) / len(results) if results else 0.0
    if not enough:
        status: VersionStatus = "too_few_rows"
    elif (results and share >= config.drifted_share) or (prediction is not None and prediction.drifted):
        status = "drift"
    else:
        status = "no_drift"
    return VersionResult(
        version=window.version,
        status=status,
        rows=window.rows,
        features=results,
        prediction=prediction,
        drifted_share=share,
        tail=tail,
        coarse=baseline.coarse,
        ks_error_bound=baseline.ks_error_bound,
        baseline_uri=baseline_uri,
    )


def _column(
    baseline: FeatureBaseline,
    values: ColumnValues,
    rows: int,
    tail: float,
    enough: bool,
    config: MonitoringConfig,
) -> ColumnResult:
    # Prepared once (sorted, or counted): every statistic and the histogram read it.
    window = prepare(baseline.profile, values)
    found = window_scores(baseline.profile, window)
    thresholds = {name: baseline.threshold(name, max(rows, 1), tail) for name in STATISTICS[baseline.kind]}
    primary = PRIMARY[baseline.kind]
    score, limit = found[primary], thresholds[primary]
    min_effect = config.min_effect.numeric if baseline.kind == "numeric" else config.min_effect.categorical
    drifted = (
        enough and not math.isnan(score) and not math.isnan(limit) and score > limit and score >= min_effect
    )
    return ColumnResult(
        name=baseline.name,
        kind=baseline.kind,
        scores=found,
        thresholds=thresholds,
        primary=primary,
        min_effect=min_effect,
        drifted=bool(drifted),
        histogram=histogram(baseline.profile, window),
    )


def histogram(
    profile: NumericProfile | CategoricalProfile, window: NumericWindow | CategoricalWindow
) -> Histogram:
    """The baseline's and the window's shares on common bins (see :class:`Histogram`).

    Raises
    ------
    TypeError
        If the window was prepared for the other kind (:func:`spec.drift.scores.prepare`).
    """
    if isinstance(profile, NumericProfile) and isinstance(window, NumericWindow):
        return _numeric_histogram(profile, window)
    if isinstance(profile, CategoricalProfile) and isinstance(window, CategoricalWindow):
        return _categorical_histogram(profile, window)
    raise TypeError(f"a {type(window).__name__} has no histogram against a {type(profile).__name__}")


def _numeric_histogram(profile: NumericProfile, window: NumericWindow) -> Histogram:
    quantiles = np.asarray(profile.quantiles, dtype=np.float64)
    if profile.count == 0 or quantiles.size != _PERCENTILES.size:
        return Histogram(labels=(), baseline=(), window=())
    low, high = np.interp([0.01, 0.99], _PERCENTILES, quantiles)
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1) if high > low else np.array([low])
    # The baseline CDF at each edge, read from its quantiles (linear between them).
    cdf = np.interp(edges, quantiles, _PERCENTILES)
    baseline = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    # Bin i is [edges[i-1], edges[i]): differences of the counts below each edge.
    present = window.present.size
    counts = np.diff(np.concatenate([[0], window.below(edges), [present]]))
    shares = counts / present if present else np.zeros(edges.size + 1)
    labels = [f"< {_number(edges[0])}"]
    labels += [f"{_number(a)} to {_number(b)}" for a, b in itertools.pairwise(edges)]
    labels.append(f">= {_number(edges[-1])}")
    return Histogram(
        labels=tuple(labels),
        baseline=tuple(float(x) for x in np.clip(baseline, 0.0, 1.0)),
        window=tuple(float(x) for x in shares),
        edges=tuple(float(x) for x in edges),
    )


def _categorical_histogram(profile: CategoricalProfile, window: CategoricalWindow) -> Histogram:
    counts, present = window.counts, window.present
    baseline_share = dict(zip(profile.categories, profile.shares, strict=True))
    window_share = {k: c / present for k, c in counts.items()} if present else {}
    ranked = sorted(
        set(baseline_share) | set(window_share),
        key=lambda c: (-max(baseline_share.get(c, 0.0), window_share.get(c, 0.0)), c),
    )
    shown = ranked[:HISTOGRAM_CATEGORIES]
    base = [baseline_share.get(c, 0.0) for c in shown]  # shares of the present values, as the window's
    win = [window_share.get(c, 0.0) for c in shown]
    base.append(max(0.0, 1.0 - sum(base)))
    win.append(max(0.0, 1.0 - sum(win)) if present else 0.0)
    return Histogram(labels=(*shown, OTHER), baseline=tuple(base), window=tuple(win))


def _number(value: float) -> str:
    return f"{value:.4g}"
