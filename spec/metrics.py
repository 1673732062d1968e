"""Test metrics with row weights, so that a bootstrap replicate costs one pass and no re-sorting.

A bootstrap replicate is the same rows with multiplicities (how often each was drawn). Every metric
here takes those as ``weights`` and equals scikit-learn's metric with ``sample_weight`` (the unit
tests check it): classification ``accuracy``, ``f1`` (of the positive class when there are two
classes, macro-averaged otherwise), ``roc_auc`` (one-vs-rest macro average over the classes present
with more than two) and ``log_loss``; regression ``rmse``, ``mae`` and ``r2``. Scores are sorted once
per model, so ROC AUC is O(rows) per replicate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


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
        return float(np.dot(positives, below + 0.5 * negatives) / (total_positive * total_negative))


class ClassificationScorer:
    """Metrics of one classifier's predictions on fixed test rows, for any row weights.

    Parameters
    ----------
    y : numpy.ndarray
        True labels.
    predicted : numpy.ndarray
        Predicted labels.
    probabilities : numpy.ndarray, shape (rows, len(labels))
        Class probabilities, columns in the order of ``labels``.
    labels : list
        Every label the metrics consider (the union of the model's classes and the test labels).
    positive : optional
        The positive label when there are two classes.
    """

    def __init__(
        self,
        y: npt.NDArray[Any],
        predicted: npt.NDArray[Any],
        probabilities: Floats,
        labels: list[Any],
        positive: Any,
    ) -> None:
        index = {label: i for i, label in enumerate(labels)}
        truth = np.array([index[v] for v in y.tolist()], dtype=np.int64)
        guess = np.array([index.get(v, -1) for v in predicted.tolist()], dtype=np.int64)
        self.correct = (truth == guess).astype(np.float64)
        eps = np.finfo(np.float64).eps
        self.log_loss_terms = -np.log(np.clip(probabilities[np.arange(len(truth)), truth], eps, 1.0))
        present = sorted(set(truth.tolist()))
        self.binary = len(labels) == 2 and positive is not None
        if self.binary:
            p = index[positive]
            self.f1_classes = [p]
            self.rankers = [_RankedScores(truth == p, probabilities[:, p])]
        else:
            self.f1_classes = sorted(set(present) | set(guess[guess >= 0].tolist()))
            self.rankers = [_RankedScores(truth == c, probabilities[:, c]) for c in present]
        # Per F1 class: indicator columns of "is this class" and "predicted as this class".
        self.is_class = np.stack([truth == c for c in self.f1_classes], axis=1).astype(np.float64)
        self.said_class = np.stack([guess == c for c in self.f1_classes], axis=1).astype(np.float64)

    def __call__(self, weights: Floats | None = None) -> dict[str, float]:
        """The metrics under row weights (None: every row once)."""
        w = np.ones(len(self.correct)) if weights is None else weights
        total = w.sum()
        true_positive = w @ (self.is_class * self.said_class)
        false_positive = w @ ((1 - self.is_class) * self.said_class)
        false_negative = w @ (self.is_class * (1 - self.said_class))
        denominator = 2 * true_positive + false_positive + false_negative
        f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(denominator), where=denominator > 0)
        aucs = [ranker.auc(w) for ranker in self.rankers]
        return {
            "accuracy": float(w @ self.correct / total),
            "f1": float(f1.mean()),
            "roc_auc": float(np.mean(aucs)) if aucs else math.nan,
            "log_loss": float(w @ self.log_loss_terms / total),
        }


class RegressionScorer:
    """Metrics of one regressor's predictions on fixed test rows, for any row weights."""

    def __init__(self, y: Floats, predicted: Floats) -> None:
        self.y = y.astype(np.float64)
        self.errors = self.y - predicted.astype(np.float64)

    def __call__(self, weights: Floats | None = None) -> dict[str, float]:
        """The metrics under row weights (None: every row once)."""
        w = np.ones(len(self.y)) if weights is None else weights
        total = w.sum()
        squared = float(w @ (self.errors * self.errors))
        mean = float(w @ self.y / total)
        spread = float(w @ ((self.y - mean) ** 2))
        return {
            "rmse": math.sqrt(squared / total),
            "mae": float(w @ np.abs(self.errors) / total),
            "r2": 1.0 - squared / spread if spread > 0 else math.nan,
        }
