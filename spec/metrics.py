"""A model's metrics on labelled rows, with bootstrap confidence intervals: the training job's test
metrics and the realized metrics of live traffic, computed by one copy of the code.

A bootstrap replicate is the same rows with multiplicities (how often each was drawn). Every metric
here takes those as ``weights`` and equals scikit-learn's metric with ``sample_weight`` (the unit
tests check it): classification ``accuracy``, ``f1`` (of the positive class when there are two
classes, macro-averaged otherwise), ``roc_auc`` (one-vs-rest macro average over the classes present
with more than two) and ``log_loss``; regression ``rmse``, ``mae`` and ``r2``. Scores are sorted once
per model, so ROC AUC is O(rows) per replicate. ``roc_auc`` and ``log_loss`` need class probabilities;
a scorer given none computes ``accuracy`` and ``f1`` only (:data:`NEEDS_PROBABILITIES`).

:func:`bootstrap` gives each metric a percentile interval over resamples of the rows, and the paired
interval of the difference between two models scored on the same resamples. The training job
(``mlops_training.evaluate``) and the feedback function (``domain.monitoring.performance``) both use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
#: Metrics of one model's predictions on fixed rows, under row weights (None: every row once).
Scorer = Callable[[Floats | None], dict[str, float]]
#: The metrics that only class probabilities give (a classifier's labels alone do not).
NEEDS_PROBABILITIES = frozenset({"roc_auc", "log_loss"})


def _dot(a: Floats, b: Floats) -> float:
    """The dot product of two vectors, without BLAS.

    A replicate's products are a few vectors of the test rows; a threaded BLAS spins its threads for
    each, and on a busy machine (a Lambda's shared vCPU, a CI runner) that was 5-10x slower than einsum's
    single loop.
    """
    return float(np.einsum("n,n->", a, b))


class _RankedScores:
    """Binary ROC AUC of fixed scores and labels under any row weights (Mann-Whitney with ties)."""

    def __init__(self, positive: npt.NDArray[np.bool_], scores: Floats) -> None:
        self.order = np.argsort(scores, kind="mergesort")
        ordered = scores[self.order]
        self.starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered)) + 1))
        self.positive = positive[self.order]

    def auc(self, weights: Floats) -> float:
        w = weights[self.order]
        positives = np.add.reduceat(np.where(self.positive, w, 0.0), self.starts)
        negatives = np.add.reduceat(np.where(self.positive, 0.0, w), self.starts)
        total_positive, total_negative = positives.sum(), negatives.sum()
        if total_positive <= 0 or total_negative <= 0:
            return math.nan
        below = np.cumsum(negatives) - negatives
        # A tie between a positive and a negative counts one half, as in scikit-learn.
        return float(_dot(positives, below + 0.5 * negatives) / (total_positive * total_negative))


class ClassificationScorer:
    """Metrics of one classifier's predictions on fixed test rows, for any row weights.

    Parameters
    ----------
    y : numpy.ndarray
        True labels.
    predicted : numpy.ndarray
        Predicted labels.
    probabilities : numpy.ndarray, shape (rows, len(labels)), or None
        Class probabilities, columns in the order of ``labels``; None: only ``accuracy`` and ``f1``.
    labels : list
        Every label the metrics consider (the union of the model's classes and the test labels).
    positive : optional
        The positive label when there are two classes.
    """

    def __init__(
        self,
        y: npt.NDArray[Any],
        predicted: npt.NDArray[Any],
        probabilities: Floats | None,
        labels: list[Any],
        positive: Any,
    ) -> None:
        index = {label: i for i, label in enumerate(labels)}
        truth = np.array([index[v] for v in y.tolist()], dtype=np.int64)
        guess = np.array([index.get(v, -1) for v in predicted.tolist()], dtype=np.int64)
        self.correct = (truth == guess).astype(np.float64)
        present = sorted(set(truth.tolist()))
        self.binary = len(labels) == 2 and positive is not None
        if self.binary:
            self.f1_classes = [index[positive]]
        else:
            self.f1_classes = sorted(set(present) | set(guess[guess >= 0].tolist()))
        self.log_loss_terms: Floats | None = None
        self.rankers: list[_RankedScores] | None = None
        if probabilities is not None:
            eps = np.finfo(np.float64).eps
            self.log_loss_terms = -np.log(np.clip(probabilities[np.arange(len(truth)), truth], eps, 1.0))
            ranked = self.f1_classes if self.binary else present
            self.rankers = [_RankedScores(truth == c, probabilities[:, c]) for c in ranked]
        # Per F1 class (one row each): which rows are true positives, false positives, false negatives.
        is_class = np.stack([truth == c for c in self.f1_classes])
        said_class = np.stack([guess == c for c in self.f1_classes])
        self.true_positives = (is_class & said_class).astype(np.float64)
        self.false_positives = (~is_class & said_class).astype(np.float64)
        self.false_negatives = (is_class & ~said_class).astype(np.float64)

    def __call__(self, weights: Floats | None = None) -> dict[str, float]:
        """The metrics under row weights (None: every row once)."""
        w = np.ones(len(self.correct)) if weights is None else weights
        total = float(w.sum())
        # einsum rather than a BLAS product (see _dot).
        true_positive = np.einsum("kn,n->k", self.true_positives, w)
        false_positive = np.einsum("kn,n->k", self.false_positives, w)
        false_negative = np.einsum("kn,n->k", self.false_negatives, w)
        denominator = 2 * true_positive + false_positive + false_negative
        f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(denominator), where=denominator > 0)
        scores = {"accuracy": _dot(w, self.correct) / total, "f1": float(f1.mean())}
        if self.rankers is None or self.log_loss_terms is None:
            return scores
        aucs = [ranker.auc(w) for ranker in self.rankers]
        scores["roc_auc"] = float(np.mean(aucs)) if aucs else math.nan
        scores["log_loss"] = _dot(w, self.log_loss_terms) / total
        return scores


class RegressionScorer:
    """Metrics of one regressor's predictions on fixed test rows, for any row weights."""

    def __init__(self, y: Floats, predicted: Floats) -> None:
        self.y = y.astype(np.float64)
        self.errors = self.y - predicted.astype(np.float64)

    def __call__(self, weights: Floats | None = None) -> dict[str, float]:
        """The metrics under row weights (None: every row once)."""
        w = np.ones(len(self.y)) if weights is None else weights
        total = float(w.sum())
        squared = _dot(w, self.errors * self.errors)
        mean = _dot(w, self.y) / total
        spread = _dot(w, (self.y - mean) ** 2)
        return {
            "rmse": math.sqrt(squared / total),
            "mae": _dot(w, np.abs(self.errors)) / total,
            "r2": 1.0 - squared / spread if spread > 0 else math.nan,
        }


def _interval(values: list[float], confidence: float) -> tuple[float | None, float | None]:
    finite = np.array([v for v in values if math.isfinite(v)])
    if len(finite) < max(2, len(values) // 2):  # mostly undefined: no honest interval
        return None, None
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def clean(value: float) -> float | None:
    """A metric's value as recorded: None when it could not be computed (NaN or infinite)."""
    return value if math.isfinite(value) else None


def bootstrap(
    models: list[Scorer], rows: int, samples: int, confidence: float, seed: int
) -> tuple[list[dict[str, dict[str, float | None]]], dict[str, dict[str, float | None]] | None]:
    """Metrics with percentile intervals for each model, and the paired interval of model 0 - model 1.

    Parameters
    ----------
    models : list of scorers
        The challenger first, then (optionally) the champion, scoring the same rows.
    rows : int
        Number of test rows.
    samples : int
        Bootstrap resamples (each draws ``rows`` rows with replacement, as row multiplicities).
    confidence : float
        Of the intervals, e.g. 0.95.
    seed : int
        Of the resampling; the same inputs give the same intervals.

    Returns
    -------
    per_model : list of dict
        ``{metric: {"value", "ci_low", "ci_high"}}`` per model.
    comparison : dict or None
        ``{metric: {"difference", "ci_low", "ci_high"}}`` of model 0 minus model 1 (None for one model).
    """
    points = [score(None) for score in models]
    replicates: list[list[dict[str, float]]] = [[] for _ in models]
    generator = np.random.default_rng(seed)
    for _ in range(samples):
        weights = np.bincount(generator.integers(0, rows, rows), minlength=rows).astype(np.float64)
        for index, score in enumerate(models):
            replicates[index].append(score(weights))
    per_model = []
    for point, draws in zip(points, replicates, strict=True):
        result = {}
        for metric, value in point.items():
            low, high = _interval([draw[metric] for draw in draws], confidence)
            result[metric] = {"value": clean(value), "ci_low": low, "ci_high": high}
        per_model.append(result)
    if len(models) < 2:
        return per_model, None
    comparison = {}
    for metric in points[0]:
        differences = [a[metric] - b[metric] for a, b in zip(replicates[0], replicates[1], strict=True)]
        low, high = _interval(differences, confidence)
        difference = clean(points[0][metric] - points[1][metric])
        comparison[metric] = {"difference": difference, "ci_low": low, "ci_high": high}
    return per_model, comparison


def positive_label(classes: list[Any], target_type: str, categories: Sequence[str], configured: Any) -> Any:
    """The label that F1 and ROC AUC treat as positive, for two classes (None otherwise).

    The configured ``positive_class`` if any; else the last of the contract's categories for a
    category target, the greater label otherwise (1 for 0/1, true for booleans).
    """
    if len(classes) != 2:
        return None
    if configured is not None:
        if configured not in classes:
            raise ValueError(f"positive_class {configured!r} is not one of the classes {classes}")
        return configured
    if target_type == "category" and categories:
        ranked = [c for c in categories if c in classes]
        if len(ranked) == 2:
            return ranked[-1]
    return max(classes)
