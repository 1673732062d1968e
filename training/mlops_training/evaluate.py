"""Scoring on the test rows: metrics with bootstrap confidence intervals, challenger against champion.

``evaluation.json`` (format 1)
------------------------------
.. code-block:: text

    {"format": 1, "task": "classification" | "regression", "target": name,
     "family": name | "module" | "imported",
     "model": {"kind", "family", "module", "imported", "packages"},  # mlops_training.model_choice
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

Metrics are those of :mod:`spec.metrics`; a value that cannot be computed is null. The
intervals are percentile bootstrap intervals over ``B`` resamples of the test rows; the champion is
scored on the same resamples as the challenger, so ``comparison`` is a paired interval of the
difference (much narrower than comparing two separate intervals when both models err on the same rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spec.metrics import (
    ClassificationScorer,
    Floats,
    RegressionScorer,
    Scorer,
    clean,
)

EVALUATION_FORMAT = 1


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


def point_metrics(
    task: str, y: npt.NDArray[Any], output: ModelOutput, positive: Any
) -> dict[str, float | None]:
    """Metrics without intervals (the validation rows)."""
    return {metric: clean(value) for metric, value in scorers(task, y, [output], positive)[0](None).items()}
