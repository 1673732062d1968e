"""The gate: whether a trained model (the challenger) may be registered, and why, as a record.

Inputs are the training job's ``evaluation.json`` (format in ``training/mlops_training/evaluate.py``)
and the dataset's :class:`~domain.training.config.GateConfig`. Two kinds of checks, all of which must
pass:

Thresholds
    For each configured metric, ``min`` (value >= min) and/or ``max`` (value <= max), inclusive. With
    ``thresholds_on: estimate`` the value is the metric on the test rows; with ``ci`` it is the
    pessimistic end of its confidence interval (the lower bound against a ``min``, the upper bound
    against a ``max``). A metric missing from the evaluation, or not computable, fails its check.

Champion
    The challenger and the champion are scored on the same test rows, and the evaluation carries a
    paired bootstrap confidence interval ``[lo, hi]`` of ``difference = challenger - champion``. With
    ``s`` = +1 for a higher-is-better metric (ROC AUC, accuracy, F1, R2) and -1 for a lower-is-better
    one (log loss, RMSE, MAE), the *improvement* is ``s * difference``, with interval
    ``[s*lo, s*hi]`` reordered. With margin ``m >= 0``:

    - ``not_worse``: rejected when ``improvement_hi < -m``: even the most favourable end of the
      interval is a loss larger than the margin, i.e. the challenger is worse beyond reasonable doubt.
      A challenger whose interval reaches back above ``-m`` gets the benefit of the doubt.
    - ``better``: approved only when ``improvement_lo > m``: even the least favourable end of the
      interval is a gain larger than the margin.

    Without an interval (no bootstrap), both rules fall back to the point difference. No champion
    (the first model of a dataset): only thresholds apply. A champion that could not score the test
    rows: ``on_unscorable`` says whether that rejects or leaves the thresholds to decide.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from domain.training.config import HIGHER_IS_BETTER, GateConfig, default_metric

__all__ = ["GateCheck", "GateDecision", "decide"]


@dataclass(frozen=True)
class GateCheck:
    """One check of the gate, with every number it was decided on.

    Attributes
    ----------
    kind : {"threshold", "champion"}
    metric : str
    passed : bool
    reason : str
        Plain English, numbers included.
    value, ci_low, ci_high : float or None
        The challenger's metric on the test rows and its confidence interval.
    bound : {"min", "max"} or None
        Thresholds: which bound; ``limit`` is its value.
    champion_value : float or None
        Champion checks: the champion's metric on the same rows.
    difference, difference_ci_low, difference_ci_high : float or None
        Champion checks: challenger minus champion, with its paired bootstrap interval.
    mode : str or None
        Champion checks: ``not_worse`` or ``better``; ``margin`` is the configured margin.
    """

    kind: Literal["threshold", "champion"]
    metric: str
    passed: bool
    reason: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    bound: Literal["min", "max"] | None = None
    limit: float | None = None
    champion_value: float | None = None
    difference: float | None = None
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    mode: str | None = None
    margin: float | None = None


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict: the record kept whatever the outcome.

    Attributes
    ----------
    approved : bool
        Every check passed.
    reasons : list of str
        One sentence per check (failures first), plus a note on the champion when it was not compared.
    checks : list of GateCheck
    champion_compared : bool
        Whether a champion was scored on the same rows and compared.
    """

    approved: bool
    reasons: list[str]
    checks: list[GateCheck]
    champion_compared: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _interval(low: float | None, high: float | None, confidence: str) -> str:
    return f"{confidence} CI {_fmt(low)} to {_fmt(high)}" if low is not None and high is not None else "no CI"


def _threshold_checks(metrics: dict[str, Any], config: GateConfig, confidence: str) -> list[GateCheck]:
    checks = []
    for metric, threshold in config.thresholds.items():
        entry = metrics.get(metric) or {}
        value, low, high = (_number(entry.get(k)) for k in ("value", "ci_low", "ci_high"))
        for bound, limit in (("min", threshold.min), ("max", threshold.max)):
            if limit is None:
                continue
            on_ci = config.thresholds_on == "ci"
            judged = (low if bound == "min" else high) if on_ci else value
            numbers: dict[str, Any] = {"value": value, "ci_low": low, "ci_high": high}
            numbers |= {"bound": bound, "limit": limit}
            if judged is None:
                what = "the end of its confidence interval" if on_ci and value is not None else "its value"
                reason = (
                    f"{metric}: {what} is not available, so its {bound}imum {_fmt(limit)} cannot be checked."
                )
                checks.append(GateCheck("threshold", metric, False, reason, **numbers))
                continue
            passed = judged >= limit if bound == "min" else judged <= limit
            subject = (
                f"the {'lower' if bound == 'min' else 'upper'} end of its {confidence} CI ({_fmt(judged)})"
                if on_ci
                else "that"
            )
            relation = (
                ("at least" if passed else "below") if bound == "min" else ("at most" if passed else "above")
            )
            reason = (
                f"{metric} is {_fmt(value)} ({_interval(low, high, confidence)}); {subject} is {relation} "
                f"the {bound}imum {_fmt(limit)}."
            )
            checks.append(GateCheck("threshold", metric, passed, reason, **numbers))
    return checks


def _champion_check(evaluation: dict[str, Any], config: GateConfig, confidence: str) -> GateCheck:
    rule = config.champion
    metric = rule.metric or default_metric(evaluation.get("task", "classification"))
    champion = evaluation["champion"]
    own = evaluation.get("metrics", {}).get(metric) or {}
    value, value_low, value_high = (_number(own.get(k)) for k in ("value", "ci_low", "ci_high"))
    champion_value = _number((champion.get("metrics", {}).get(metric) or {}).get("value"))
    comparison = champion.get("comparison", {}).get(metric) or {}
    difference = _number(comparison.get("difference"))
    low, high = _number(comparison.get("ci_low")), _number(comparison.get("ci_high"))
    numbers: dict[str, Any] = {
        "value": value,
        "ci_low": value_low,
        "ci_high": value_high,
        "champion_value": champion_value,
        "difference": difference,
        "difference_ci_low": low,
        "difference_ci_high": high,
        "mode": rule.mode,
        "margin": rule.margin,
    }
    if difference is None:
        reason = f"{metric} could not be compared with the champion's (a value is missing): not approved."
        return GateCheck("champion", metric, False, reason, **numbers)
    sign = 1.0 if HIGHER_IS_BETTER.get(metric, True) else -1.0
    ends = (
        sorted((sign * low, sign * high)) if low is not None and high is not None else [sign * difference] * 2
    )
    margin = rule.margin
    if rule.mode == "not_worse":
        passed = ends[1] >= -margin
        verdict = (
            f"Not worse than the champion on {metric} beyond the margin {_fmt(margin)}"
            if passed
            else f"Worse than the champion on {metric} by more than the margin {_fmt(margin)}"
        )
    else:
        passed = ends[0] > margin
        verdict = (
            f"Better than the champion on {metric} by more than the margin {_fmt(margin)}"
            if passed
            else f"Not shown better than the champion on {metric} by more than the margin {_fmt(margin)}"
        )
    direction = "higher" if sign > 0 else "lower"
    reason = (
        f"{verdict}: {_fmt(value)} against {_fmt(champion_value)} on the same test rows (difference "
        f"{_fmt(difference)}, {_interval(low, high, confidence)}; {direction} is better)."
    )
    return GateCheck("champion", metric, passed, reason, **numbers)


def decide(evaluation: dict[str, Any], config: GateConfig) -> GateDecision:
    """Decide whether the challenger described by ``evaluation`` may be registered.

    Parameters
    ----------
    evaluation : dict
        The training job's ``evaluation.json``: ``task``, ``confidence``, ``metrics`` (per metric
        ``value``, ``ci_low``, ``ci_high``) and ``champion`` (None, or ``status`` "scored" with
        ``metrics`` and ``comparison``, or "unscorable" with ``reason``).
    config : GateConfig
        Thresholds and the champion rule (see the module docstring for the exact rules).

    Returns
    -------
    GateDecision
        Approved when every check passed; the reasons and numbers either way.
    """
    confidence = f"{float(evaluation.get('confidence', 0.95)):.0%}"
    checks = _threshold_checks(evaluation.get("metrics", {}), config, confidence)
    notes: list[str] = []
    champion = evaluation.get("champion")
    compared = False
    if not champion:
        notes.append("No champion is in service: the thresholds alone decide.")
    elif champion.get("status") != "scored":
        why = champion.get("reason", "no reason given")
        if config.champion.on_unscorable == "reject":
            reason = f"The champion could not score the test rows ({why}) and on_unscorable is 'reject'."
            checks.append(GateCheck("champion", config.champion.metric or "", False, reason))
        else:
            notes.append(f"The champion could not score the test rows ({why}): the thresholds alone decide.")
    else:
        compared = True
        checks.append(_champion_check(evaluation, config, confidence))
    if not checks:
        notes.append("No thresholds are configured.")
    approved = all(check.passed for check in checks)
    ordered = [c.reason for c in checks if not c.passed] + [c.reason for c in checks if c.passed]
    return GateDecision(approved=approved, reasons=ordered + notes, checks=checks, champion_compared=compared)
