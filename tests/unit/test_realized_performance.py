"""Realized performance: the training job's metrics and intervals on labelled live rows, per model version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as sk

from domain.data.contract import load_contract
from domain.feedback.labelled import (
    CAPTURED_AT,
    INFERENCE_ID,
    LABELLED_AT,
    MODEL_VERSION,
    PREDICTION,
    TIMESTAMP,
)
from domain.monitoring.metrics import performance_metrics
from domain.monitoring.performance import (
    PROBABILITIES,
    VersionPerformance,
    dataset_performance,
    newest_labels,
    realized_performance,
)
from domain.monitoring.performance_config import PerformanceConfig, resolve_performance
from domain.training.config import parse_training_config
from spec.metrics import bootstrap
from training.mlops_training.evaluate import ModelOutput, scorers

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
TARGET = "churned"


def _rows(
    truth: list[Any],
    predicted: list[Any],
    *,
    version: int = 1,
    ids: list[str] | None = None,
    labelled_at: list[datetime] | None = None,
    probabilities: Sequence[list[tuple[str, float]] | None] | None = None,
    target_type: pa.DataType | None = None,
    prediction_type: pa.DataType | None = None,
) -> pa.Table:
    n = len(truth)
    columns: dict[str, pa.Array] = {
        INFERENCE_ID: pa.array(ids or [f"v{version}-{i}" for i in range(n)], pa.string()),
        MODEL_VERSION: pa.array([version] * n, pa.int64()),
        CAPTURED_AT: pa.array([T0] * n, TIMESTAMP),
        LABELLED_AT: pa.array(labelled_at or [T0 + timedelta(days=1)] * n, TIMESTAMP),
        PREDICTION: pa.array(predicted, prediction_type or pa.string()),
        TARGET: pa.array(truth, target_type or pa.int64()),
    }
    if probabilities is not None:
        columns[PROBABILITIES] = pa.array(probabilities, pa.map_(pa.string(), pa.float64()))
    return pa.table(columns)


def _binary(n: int, seed: int, accuracy: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, a score of the positive class, and the labels a 0.5 cut of the score predicts."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    right = rng.random(n) < accuracy
    score = np.where(right == (truth == 1), rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n))
    return truth, score, (score >= 0.5).astype(np.int64)


def _realized(rows: pa.Table, **overrides: Any) -> list[VersionPerformance]:
    arguments: dict[str, Any] = {
        "task": "classification",
        "target": TARGET,
        "classes": [0, 1],
        "positive": 1,
        "metrics": {"accuracy": 0.7, "f1": None, "roc_auc": 0.65, "log_loss": None},
        "min_labels": 50,
        "confidence": 0.95,
        "replicates": 100,
        "seed": 7,
    } | overrides
    return realized_performance(rows, **arguments)


def test_the_metrics_and_their_intervals_are_the_training_job_s_on_the_same_rows() -> None:
    # Given labelled rows of one version, with the probabilities its JSON answers carried
    truth, score, predicted = _binary(400, seed=1, accuracy=0.8)
    pairs = [[("0", 1 - s), ("1", s)] for s in score.tolist()]
    rows = _rows(truth.tolist(), [str(p) for p in predicted], probabilities=pairs)

    # When the realized metrics are computed, and the training job scores the same rows the same way
    (found,) = _realized(rows)
    output = ModelOutput(predicted=predicted, probabilities=np.c_[1 - score, score], classes=[0, 1])
    (expected,), _ = bootstrap(scorers("classification", truth, [output], 1), 400, 100, 0.95, 7)

    # Then every value and interval is the training job's, and the values are scikit-learn's
    assert found.status == "ok" and found.labelled_rows == 400
    for name in ("accuracy", "f1", "roc_auc", "log_loss"):
        value = found.metric(name)
        assert (value.value, value.ci_low, value.ci_high) == pytest.approx(
            (expected[name]["value"], expected[name]["ci_low"], expected[name]["ci_high"])
        )
        assert value.ci_low is not None and value.ci_high is not None
        assert value.ci_low <= value.value <= value.ci_high  # type: ignore[operator]
    assert found.metric("accuracy").value == pytest.approx(sk.accuracy_score(truth, predicted))
    assert found.metric("f1").value == pytest.approx(sk.f1_score(truth, predicted))
    assert found.metric("roc_auc").value == pytest.approx(sk.roc_auc_score(truth, score))
    assert found.metric("log_loss").value == pytest.approx(sk.log_loss(truth, np.c_[1 - score, score]))


def test_without_captured_probabilities_roc_auc_is_not_computable_and_says_why_while_accuracy_is() -> None:
    # Given labelled rows without probabilities, and rows of which one answer had none
    truth, score, predicted = _binary(100, seed=2, accuracy=0.8)
    bare = _rows(truth.tolist(), [str(p) for p in predicted])
    pairs: list[list[tuple[str, float]] | None] = [[("0", 1 - s), ("1", s)] for s in score.tolist()]
    pairs[3] = None
    partial = _rows(truth.tolist(), [str(p) for p in predicted], probabilities=pairs, version=2)

    # When scored
    results = _realized(pa.concat_tables([bare, partial.drop_columns([PROBABILITIES])]).append_column(
        PROBABILITIES, pa.concat_arrays([pa.nulls(100, pa.map_(pa.string(), pa.float64())),
                                         partial[PROBABILITIES].combine_chunks()])
    ))  # fmt: skip

    # Then each version scores accuracy and F1, and names why ROC AUC and log loss are missing
    for result in results:
        assert result.metric("accuracy").value == pytest.approx(sk.accuracy_score(truth, predicted))
        for name in ("roc_auc", "log_loss"):
            missing = result.metric(name)
            assert (missing.value, missing.computable, missing.below_floor) == (None, False, False)
            assert missing.reason is not None and "not computable from the captures" in missing.reason
    assert "1 of 100 labelled rows" in (results[1].metric("roc_auc").reason or "")


def test_a_version_with_fewer_labels_than_min_labels_publishes_no_metric_value() -> None:
    # Given 120 labels of version 1 and 30 of version 2 (min_labels 50)
    truth, _, predicted = _binary(150, seed=3, accuracy=0.9)
    rows = pa.concat_tables([
        _rows(truth[:120].tolist(), [str(p) for p in predicted[:120]], version=1),
        _rows(truth[120:].tolist(), [str(p) for p in predicted[120:]], version=2),
    ])  # fmt: skip

    # When scored and turned into metrics
    first, second = _realized(rows)
    points = performance_metrics("mlops-churn", [first, second])

    # Then version 2 is too_few_labels: no value, the reason with the numbers; only its row count goes out
    assert (first.status, second.status) == ("ok", "too_few_labels")
    assert second.labelled_rows == 30
    assert all(m.value is None and not m.below_floor for m in second.metrics)
    assert "30 labelled rows, fewer than the 50 required" in (second.metric("accuracy").reason or "")
    endpoint = [(p.name, p.value) for p in points if len(p.dimensions) == 1]
    assert endpoint == [("LabelledRows", 30.0)]  # the newest version, which has too few labels
    v1 = {p.name: p.value for p in points if ("ModelVersion", "1") in p.dimensions}
    assert v1 == {"LabelledRows": 120.0, "Realized_accuracy": first.metric("accuracy").value,
                  "Realized_f1": first.metric("f1").value}  # fmt: skip


def test_an_inference_id_labelled_twice_counts_once_with_its_newest_label() -> None:
    # Given id "a" labelled 0 then (a day later, in an older file) 1, and "b" twice at the same time
    later = T0 + timedelta(days=2)
    rows = _rows(
        [1, 0, 0, 1],
        ["1", "1", "1", "1"],
        ids=["a", "a", "b", "b"],
        labelled_at=[later, T0, T0, T0],
    )

    # When the newest labels are kept and scored
    latest = newest_labels(rows)
    (result,) = _realized(rows, min_labels=1, metrics={"accuracy": None})

    # Then "a" keeps its newest label (1), "b" its last row's (1): both right
    assert dict(zip(latest[INFERENCE_ID].to_pylist(), latest[TARGET].to_pylist(), strict=True)) == {
        "a": 1,
        "b": 1,
    }
    assert result.labelled_rows == 2
    assert result.metric("accuracy").value == 1.0


@pytest.mark.parametrize(
    ("metric", "floor", "below"),
    [("accuracy", 0.9, True), ("accuracy", 0.75, False), ("accuracy", 0.8, False)],
)
def test_a_higher_is_better_metric_is_below_its_floor_only_when_strictly_worse(
    metric: str, floor: float, below: bool
) -> None:
    # Given 80 of 100 predictions right
    truth = [1] * 100
    rows = _rows(truth, ["1"] * 80 + ["0"] * 20)

    # When scored against the floor
    (result,) = _realized(rows, metrics={metric: floor})

    # Then it is below the floor only under it (a value equal to the floor passes, as at the gate)
    assert result.metric(metric).value == pytest.approx(0.8)
    assert result.metric(metric).below_floor is below


def test_a_lower_is_better_metric_is_past_its_floor_above_it_and_regression_is_scikit_learn_s() -> None:
    # Given a regressor's predictions off by 2 on average
    rng = np.random.default_rng(4)
    truth = rng.normal(50, 10, 300)
    predicted = truth + rng.normal(0, 2, 300)
    rows = _rows(truth.tolist(), predicted.tolist(), target_type=pa.float64(), prediction_type=pa.float64())

    # When scored with an RMSE floor of 1.5 and an R2 floor of 0.9
    (result,) = _realized(rows, task="regression", classes=None, positive=None,
                          metrics={"rmse": 1.5, "mae": None, "r2": 0.9})  # fmt: skip

    # Then RMSE is scikit-learn's and past its floor (above it); R2 is above its floor (fine)
    rmse = result.metric("rmse")
    assert rmse.value == pytest.approx(sk.root_mean_squared_error(truth, predicted))
    assert rmse.below_floor
    assert result.metric("mae").value == pytest.approx(sk.mean_absolute_error(truth, predicted))
    assert result.metric("r2").value == pytest.approx(sk.r2_score(truth, predicted))
    assert not result.metric("r2").below_floor


def test_the_same_rows_give_the_same_intervals_and_more_rows_give_a_narrower_one() -> None:
    # Given 100 and 2,000 labelled rows of a model right 80% of the time
    small_truth, _, small_predicted = _binary(100, seed=5, accuracy=0.8)
    large_truth, _, large_predicted = _binary(2000, seed=5, accuracy=0.8)
    small = _rows(small_truth.tolist(), [str(p) for p in small_predicted])
    large = _rows(large_truth.tolist(), [str(p) for p in large_predicted])

    # When scored (twice for the small one)
    once, again, wide = (
        _realized(t, metrics={"accuracy": None})[0].metric("accuracy") for t in (small, small, large)
    )

    # Then the seed fixes the interval, and twenty times the rows narrow it
    assert (once.ci_low, once.ci_high) == (again.ci_low, again.ci_high)
    assert once.ci_low is not None and once.ci_high is not None
    assert wide.ci_low is not None and wide.ci_high is not None
    assert wide.ci_high - wide.ci_low < (once.ci_high - once.ci_low) / 3


def test_a_metric_the_task_cannot_compute_is_refused() -> None:
    rows = _rows([1], ["1"])

    with pytest.raises(ValueError, match="rmse is not a classification metric; choose among accuracy"):
        _realized(rows, metrics={"rmse": None})


def test_a_dataset_is_scored_on_the_gate_s_metrics_and_the_watched_one_at_the_gate_s_confidence() -> None:
    # Given churn trained with an accuracy and a ROC AUC threshold, 90% intervals, watched on F1 >= 0.6
    contract = load_contract(ROOT / "contracts" / "churn.yaml")
    training = parse_training_config(
        {"evaluation": {"confidence": 0.9, "bootstrap_samples": 50, "seed": 3},
         "gate": {"thresholds": {"accuracy": {"min": 0.7}, "roc_auc": {"min": 0.65}}}},
        contract=contract,
    )  # fmt: skip
    settings = resolve_performance(PerformanceConfig(metric="f1", floor=0.6, min_labels=20), training)
    truth, _, predicted = _binary(200, seed=6, accuracy=0.85)
    rows = _rows(truth.tolist(), [str(p) for p in predicted])

    # When scored with the dataset's configuration
    (result,) = dataset_performance(rows, contract=contract, training=training, settings=settings)

    # Then the gate's metrics with their floors and the watched one, scored as realized_performance does
    assert [(m.name, m.floor) for m in result.metrics] == [("accuracy", 0.7), ("roc_auc", 0.65), ("f1", 0.6)]
    (direct,) = _realized(rows, metrics={"accuracy": 0.7, "roc_auc": 0.65, "f1": 0.6},
                          min_labels=20, confidence=0.9, replicates=50, seed=3)  # fmt: skip
    assert result == direct
    assert not result.metric("roc_auc").computable


def test_each_version_is_scored_on_its_own_rows_and_their_own_probabilities() -> None:
    # Given two versions' labelled rows interleaved, the second's scores inverted (a bad model)
    truth, score, _ = _binary(300, seed=8, accuracy=0.8)
    versions = np.resize([1, 2], 300)
    score = np.where(versions == 2, 1 - score, score)
    pairs = [[("1", s), ("0", 1 - s)] for s in score.tolist()]  # in any key order, as JSON gives them
    rows = _rows(truth.tolist(), [str(int(s >= 0.5)) for s in score], probabilities=pairs)
    rows = rows.set_column(1, MODEL_VERSION, pa.array(versions, pa.int64()))

    # When scored
    first, second = _realized(rows, min_labels=10)

    # Then each version's ROC AUC is scikit-learn's on its own rows
    for result, version in ((first, 1), (second, 2)):
        own = versions == version
        assert result.metric("roc_auc").value == pytest.approx(sk.roc_auc_score(truth[own], score[own]))
    assert second.metric("roc_auc").below_floor and not first.metric("roc_auc").below_floor
