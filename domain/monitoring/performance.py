"""Realized performance: the gate's metrics on the labelled rows of live traffic, per model version.

The labelled rows (``domain.feedback.labelled``) are captured requests joined with the labels a team sent
back. Per model version, this scores the model's captured predictions against those labels with the
training job's own metrics and bootstrap intervals (:mod:`spec.metrics`, one copy), at the gate's
confidence, and says whether each metric is past its floor.

Rules
-----
- An inference ID labelled more than once counts once, with its newest label (the greatest
  ``labelled_at``; on a tie, the row that comes last).
- A version with fewer than ``min_labels`` labelled rows is ``too_few_labels``: no metric value, so that
  a handful of labels never raises the alarm.
- ``roc_auc`` and ``log_loss`` need each row's class probabilities. The labelled rows carry them in their
  column :data:`PROBABILITIES` (``domain.feedback.labelled``: ``map<string, float64>``, a class label's
  text to its probability, as the endpoint's JSON answer gives them; absent from files written before
  it); when a version has a row without them, those metrics are not computable from the captures, and
  say so, while ``accuracy`` and ``f1`` still are.
- A metric is below its floor when its value is strictly worse than the floor (below it for a
  higher-is-better metric, above it for a lower-is-better one): the gate passes a value equal to its
  threshold, and the alarm compares the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import DatasetContract
from domain.feedback.labelled import MODEL_VERSION, PREDICTION, PROBABILITIES, newest_labels
from domain.monitoring.performance_config import PerformanceSettings
from domain.training.config import HIGHER_IS_BETTER, METRICS, Task, TrainingConfig
from spec.drift.categorical import label_text
from spec.metrics import (
    NEEDS_PROBABILITIES,
    ClassificationScorer,
    Floats,
    RegressionScorer,
    Scorer,
    bootstrap,
    positive_label,
)

__all__ = [
    "PROBABILITIES",
    "MetricValue",
    "VersionPerformance",
    "dataset_performance",
    "newest_labels",
    "realized_performance",
]


@dataclass(frozen=True)
class MetricValue:
    """One realized metric of one model version.

    Attributes
    ----------
    name : str
        ``accuracy``, ``f1``, ``roc_auc``, ``log_loss``, ``rmse``, ``mae`` or ``r2``.
    value, ci_low, ci_high : float or None
        The metric on the labelled rows and its percentile bootstrap interval (None: not computed).
    floor : float or None
        Its floor (None: none configured; never below it).
    below_floor : bool
        Whether ``value`` is worse than ``floor`` (False without a value).
    computable : bool
        False when these rows cannot give the metric (no class probabilities captured).
    reason : str or None
        Why there is no value, in plain words.
    """

    name: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    floor: float | None
    below_floor: bool
    computable: bool
    reason: str | None = None


@dataclass(frozen=True)
class VersionPerformance:
    """A model version's realized metrics on its labelled rows.

    Attributes
    ----------
    model_version : int
    labelled_rows : int
        Distinct inference IDs of this version with a label.
    status : {"ok", "too_few_labels"}
    metrics : tuple of MetricValue
        In the order asked for.
    """

    model_version: int
    labelled_rows: int
    status: Literal["ok", "too_few_labels"]
    metrics: tuple[MetricValue, ...]

    def metric(self, name: str) -> MetricValue:
        """One metric by name (KeyError when it was not asked for)."""
        for value in self.metrics:
            if value.name == name:
                return value
        raise KeyError(name)


def realized_performance(
    rows: pa.Table,
    *,
    task: Task,
    target: str,
    classes: Sequence[Any] | None,
    positive: Any,
    metrics: Mapping[str, float | None],
    min_labels: int,
    confidence: float,
    replicates: int,
    seed: int,
) -> list[VersionPerformance]:
    """Each model version's realized metrics on the labelled rows (see the module's rules).

    Parameters
    ----------
    rows : pyarrow.Table
        Labelled rows (``domain.feedback.labelled.labelled_schema``), of any number of feedback files;
        :data:`PROBABILITIES` optional.
    task : {"classification", "regression"}
    target : str
        The target column's name.
    classes : sequence, optional
        The model's class labels, in the target's type (None: those seen in the labels and predictions).
    positive : optional
        The positive class when there are two (F1 and ROC AUC of that class), as the training job chose
        it (``spec.metrics.positive_label``); None: macro averages.
    metrics : mapping of str to float or None
        The metrics to compute, each with its floor (None: no floor).
    min_labels : int
        Fewer labelled rows: ``too_few_labels``.
    confidence : float
        Of the intervals (the gate's, e.g. 0.95).
    replicates : int
        Bootstrap resamples (the training job's ``bootstrap_samples``).
    seed : int
        Of the resampling: the same rows give the same intervals.

    Returns
    -------
    list of VersionPerformance
        One per model version in the rows, oldest version first.

    Raises
    ------
    ValueError
        A metric that is not one of the task's.
    """
    unknown = [name for name in metrics if name not in METRICS[task]]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)} is not a {task} metric; choose among {', '.join(METRICS[task])}"
        )
    latest = newest_labels(rows)
    versions = latest.column(MODEL_VERSION).to_numpy(zero_copy_only=False)
    results = []
    for version in sorted(set(versions.tolist())):
        own = latest.filter(pa.array(versions == version))
        if own.num_rows < min_labels:
            reason = f"{own.num_rows} labelled rows, fewer than the {min_labels} required (min_labels)"
            values = tuple(_missing(name, floor, True, reason) for name, floor in metrics.items())
            results.append(VersionPerformance(int(version), own.num_rows, "too_few_labels", values))
            continue
        score, missing = _scorer(own, task, target, classes, positive)
        (point,), _ = bootstrap([score], own.num_rows, replicates, confidence, seed)
        values = tuple(
            _missing(name, floor, False, missing)
            if name in NEEDS_PROBABILITIES and missing
            else _value(name, floor, point[name])
            for name, floor in metrics.items()
        )
        results.append(VersionPerformance(int(version), own.num_rows, "ok", values))
    return results


def _scorer(
    rows: pa.Table, task: Task, target: str, classes: Sequence[Any] | None, positive: Any
) -> tuple[Scorer, str | None]:
    """The version's scorer, and why probability metrics cannot be computed (None: they can)."""
    if task == "regression":
        truth = rows.column(target).cast(pa.float64()).to_numpy(zero_copy_only=False)
        predicted = rows.column(PREDICTION).cast(pa.float64()).to_numpy(zero_copy_only=False)
        return RegressionScorer(truth, predicted), None
    truth_text = _texts(rows.column(target))
    predicted_text = _texts(rows.column(PREDICTION))
    known = {label_text(value) for value in classes or ()}
    seen = set(truth_text.tolist()) | set(predicted_text.tolist())
    labels = sorted(known | {text for text in seen if text is not None})
    positive_text = label_text(positive) if positive is not None and len(labels) == 2 else None
    if positive_text is not None and positive_text not in labels:
        positive_text = None
    probabilities, missing = _probabilities(rows, labels)
    score = ClassificationScorer(truth_text, predicted_text, probabilities, labels, positive_text)
    return score, missing


def _texts(column: pa.ChunkedArray) -> npt.NDArray[np.object_]:
    """Class labels as text, as ``label_text`` names them (Arrow casts booleans to ``true``/``false``)."""
    texts: npt.NDArray[np.object_] = column.cast(pa.string()).to_numpy(zero_copy_only=False)
    return texts


def _probabilities(rows: pa.Table, labels: list[str]) -> tuple[Floats | None, str | None]:
    """The rows' class probabilities over ``labels`` (0 for a label an answer omits), or why none."""
    if PROBABILITIES not in rows.column_names:
        return None, "not computable from the captures: the labelled rows carry no class probabilities"
    column = rows.column(PROBABILITIES).combine_chunks()
    offsets = column.offsets.to_numpy()  # into the whole keys and items, whatever the slice
    lengths = np.diff(offsets)  # a null map has no entries
    without = int(np.count_nonzero(lengths == 0))
    if without:
        return None, (
            f"not computable from the captures: {without} of {len(column)} labelled rows were answered "
            "without class probabilities (a CSV answer, or a model that gives none)"
        )
    # Each map entry's row, label and probability, without a Python loop over the rows.
    entry_rows = np.repeat(np.arange(len(column)), lengths)
    first, count = int(offsets[0]), int(offsets[-1] - offsets[0])
    keys = column.keys.slice(first, count).to_numpy(zero_copy_only=False)
    values = pc.fill_null(column.items.slice(first, count), 0.0).to_numpy()
    matrix = np.zeros((len(column), len(labels)))
    for position, label in enumerate(labels):
        chosen = keys == label
        matrix[entry_rows[chosen], position] = values[chosen]
    return matrix, None


def _missing(name: str, floor: float | None, computable: bool, reason: str | None) -> MetricValue:
    return MetricValue(name, None, None, None, floor, False, computable, reason)


def _value(name: str, floor: float | None, found: Mapping[str, float | None]) -> MetricValue:
    value = found["value"]
    if value is None:
        reason = "undefined on these rows (e.g. a single class among the labels)"
        return MetricValue(name, None, None, None, floor, False, True, reason)
    below = floor is not None and (value < floor if HIGHER_IS_BETTER[name] else value > floor)
    return MetricValue(name, value, found["ci_low"], found["ci_high"], floor, below, True)


def dataset_performance(
    rows: pa.Table, *, contract: DatasetContract, training: TrainingConfig, settings: PerformanceSettings
) -> list[VersionPerformance]:
    """:func:`realized_performance` with a dataset's configuration: the gate's metrics and the watched one.

    The metrics are the gate's thresholds (each with its bound as floor) and ``settings.metric`` (with
    ``settings.floor``); the intervals are the training job's (``evaluation``: bootstrap samples,
    confidence, seed); the positive class is the one the training job picks (``spec.metrics.positive_label``
    over the labels seen, a boolean target's two values whatever was seen).

    Parameters
    ----------
    rows : pyarrow.Table
        Labelled rows of the dataset.
    contract : DatasetContract
    training : TrainingConfig
        Resolved (its task known).
    settings : PerformanceSettings
        ``resolve_performance`` of the dataset's ``monitoring.performance``.

    Returns
    -------
    list of VersionPerformance
    """
    task = training.task or "classification"
    target = contract.column(contract.target)
    floors: dict[str, float | None] = {}
    for name, bound in training.gate.thresholds.items():
        floors[name] = bound.min if HIGHER_IS_BETTER[name] else bound.max
    floors[settings.metric] = settings.floor
    classes: list[Any] | None = None
    positive = None
    if task == "classification":
        seen = set(rows.column(target.name).drop_null().unique().to_pylist())
        classes = [False, True] if target.type == "boolean" else sorted(seen)
        configured = training.positive_class if training.positive_class in classes else None
        positive = positive_label(classes, target.type, target.categories, configured)
    evaluation = training.evaluation
    return realized_performance(
        rows,
        task=task,
        target=target.name,
        classes=classes,
        positive=positive,
        metrics=floors,
        min_labels=settings.min_labels,
        confidence=evaluation.confidence,
        replicates=evaluation.bootstrap_samples,
        seed=evaluation.seed,
    )
