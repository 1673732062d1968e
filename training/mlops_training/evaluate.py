"""Scoring on the test rows: metrics with bootstrap confidence intervals, challenger against champion.

``evaluation.json`` (format 1)
------------------------------
.. code-block:: text

    {"format": 1, "task": "classification" | "regression", "target": name, "family": name,
     "hyperparameters": {...every value used}, "seed": n, "features": [names],
     "classes": [labels] | null, "positive_class": label | null,
     "rows": {"train": n, "validation": n, "test": n},
     "bootstrap_samples": B, "confidence": 0.95, "bootstrap_seed": n,
     "metrics": {metric: {"value", "ci_low", "ci_high"}},         # the challenger on the test rows
     "validation_metrics": {metric: value} | null,                 # point values on the validation rows
     "champion": null                                              # no champion channel
               | {"status": "scored", "metrics": {metric: {"value", "ci_low", "ci_high"}},
                  "comparison": {metric: {"difference", "ci_low", "ci_high"}},  # challenger - champion
                  "family": name | null, "run": {...} | null}
               | {"status": "unscorable", "reason": text},
     "run": {"dataset", "dataset_version", "run_id", ...},          # from the job's hyperparameters
     "seconds": {"fit", "evaluate"}, "versions": {"python", "scikit-learn", "numpy", "pyarrow"}}

Metrics are those of :mod:`mlops_training.metrics`; a value that cannot be computed is null. The
intervals are percentile bootstrap intervals over ``B`` resamples of the test rows; the champion is
scored on the same resamples as the challenger, so ``comparison`` is a paired interval of the
difference (much narrower than comparing two separate intervals when both models err on the same rows).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .metrics import ClassificationScorer, Floats, RegressionScorer

EVALUATION_FORMAT = 1
Scorer = Callable[[Floats | None], dict[str, float]]


@dataclass(frozen=True)
class ModelOutput:
    """A model's predictions on some rows: labels or values, and class probabilities if a classifier."""

    predicted: npt.NDArray[Any]
    probabilities: Floats | None = None
    classes: list[Any] | None = None


def predict(pipeline: Any, features: npt.NDArray[Any], task: str) -> ModelOutput:
    """Run a fitted Pipeline on a feature matrix."""
    predicted = pipeline.predict(features)
    if task != "classification":
        return ModelOutput(predicted=predicted.astype(np.float64))
    return ModelOutput(
        predicted=predicted,
        probabilities=pipeline.predict_proba(features).astype(np.float64),
        classes=pipeline.classes_.tolist(),
    )


def _aligned(output: ModelOutput, labels: list[Any]) -> Floats:
    """The probabilities over ``labels`` (0 for a label the model never learnt)."""
    assert output.probabilities is not None and output.classes is not None
    aligned = np.zeros((len(output.predicted), len(labels)))
    position = {label: i for i, label in enumerate(labels)}
    for column, label in enumerate(output.classes):
        aligned[:, position[label]] = output.probabilities[:, column]
    return aligned


def scorers(task: str, y: npt.NDArray[Any], outputs: list[ModelOutput], positive: Any) -> list[Scorer]:
    """One scorer per model, all over the same label set (the union of the test labels and classes)."""
    if task != "classification":
        return [RegressionScorer(y, output.predicted) for output in outputs]
    labels = sorted(set(y.tolist()).union(*(output.classes or [] for output in outputs)))
    return [
        ClassificationScorer(y, output.predicted, _aligned(output, labels), labels, positive)
        for output in outputs
    ]


def _interval(values: list[float], confidence: float) -> tuple[float | None, float | None]:
    finite = np.array([v for v in values if math.isfinite(v)])
    if len(finite) < max(2, len(values) // 2):  # mostly undefined: no honest interval
        return None, None
    tail = (1 - confidence) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def _clean(value: float) -> float | None:
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
            result[metric] = {"value": _clean(value), "ci_low": low, "ci_high": high}
        per_model.append(result)
    if len(models) < 2:
        return per_model, None
    comparison = {}
    for metric in points[0]:
        differences = [a[metric] - b[metric] for a, b in zip(replicates[0], replicates[1], strict=True)]
        low, high = _interval(differences, confidence)
        difference = _clean(points[0][metric] - points[1][metric])
        comparison[metric] = {"difference": difference, "ci_low": low, "ci_high": high}
    return per_model, comparison


def point_metrics(
    task: str, y: npt.NDArray[Any], output: ModelOutput, positive: Any
) -> dict[str, float | None]:
    """Metrics without intervals (the validation rows)."""
    return {metric: _clean(value) for metric, value in scorers(task, y, [output], positive)[0](None).items()}


def positive_label(classes: list[Any], target_type: str, categories: tuple[str, ...], configured: Any) -> Any:
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
