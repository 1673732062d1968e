"""The training job's drift baseline: model features and predictions in the form the monitor reads them."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from spec.drift.categorical import CategoricalProfile, label_text
from spec.drift.numeric import NumericProfile
from training.mlops_training.contract_io import Feature, Signature
from training.mlops_training.drift import drift_baseline, feature_column, prediction_column
from training.mlops_training.evaluate import ModelOutput

ROWS = 600


def _table() -> pa.Table:
    rng = np.random.default_rng(4)
    plans = pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, 2, ROWS).astype(np.int32), mask=np.arange(ROWS) % 50 == 0),
        pa.array(["basic", "pro"]),
    )
    active = [bool(v) if i % 40 else None for i, v in enumerate(rng.random(ROWS) < 0.3)]
    return pa.table(
        {
            "age": pa.array(
                [None if i % 30 == 0 else int(v) for i, v in enumerate(rng.integers(18, 90, ROWS))]
            ),
            "spend": pa.array(rng.gamma(2.0, 10.0, ROWS)),
            "signed_up": pa.array(
                rng.integers(1_600_000_000, 1_700_000_000, ROWS) * 1_000_000, pa.timestamp("us", tz="UTC")
            ),
            "plan": plans,
            "active": pa.array(active, pa.bool_()),
        }
    )


FEATURES = (
    Feature("age", "integer", nullable=True),
    Feature("spend", "float"),
    Feature("signed_up", "timestamp"),
    Feature("plan", "category", ("basic", "pro")),
    Feature("active", "boolean", nullable=True),
)


def test_features_take_the_monitors_form_numbers_seconds_and_labels() -> None:
    # Given a training table with every kind of model feature, nulls included
    table = _table()
    columns = {f.name: feature_column(table, f) for f in FEATURES}
    # Then integers and floats are float64 with NaN for null
    kind, age = columns["age"]
    assert kind == "numeric" and age.dtype == np.float64 and int(np.isnan(age).sum()) == ROWS // 30
    # And timestamps are seconds since the epoch
    kind, seconds = columns["signed_up"]
    assert kind == "numeric"
    assert seconds[0] == pytest.approx(table.column("signed_up")[0].value / 1e6)
    # And categories are their values, booleans "true"/"false", nulls None
    kind, plan = columns["plan"]
    assert kind == "categorical" and set(plan) == {"basic", "pro", None} and plan[0] is None
    kind, active = columns["active"]
    assert kind == "categorical" and set(active) == {"true", "false", None} and active[0] is None


@pytest.mark.parametrize(
    ("label", "text"), [(True, "true"), (np.bool_(False), "false"), (1, "1"), ("yes", "yes")]
)
def test_class_labels_are_named_as_the_endpoint_answers_them(label: object, text: str) -> None:
    assert label_text(label) == text


def test_a_classifier_baseline_has_its_features_and_the_predicted_label() -> None:
    # Given a classifier's signature and its predictions on the test rows
    signature = Signature("classification", Feature("churned", "boolean"), FEATURES, classes=[False, True])
    output = ModelOutput(predicted=np.array([True, False, False, True] * 50))
    # When the job builds the drift baseline
    baseline = drift_baseline(_table(), signature, output, seed=1)
    # Then it has every feature in signature order, of its kind, from the training rows
    assert [(f.name, f.kind) for f in baseline.features] == [
        ("age", "numeric"), ("spend", "numeric"), ("signed_up", "numeric"),
        ("plan", "categorical"), ("active", "categorical"),
    ]  # fmt: skip
    assert baseline.rows == ROWS and not baseline.coarse
    age = baseline.feature("age").profile
    assert isinstance(age, NumericProfile) and age.missing == ROWS // 30
    # And the predicted labels on the test rows, named as the endpoint answers them
    label = baseline.feature("predicted_label")
    assert isinstance(label.profile, CategoricalProfile) and label.rows == 200
    assert dict(zip(label.profile.categories, label.profile.shares, strict=True)) == {
        "false": 0.5,
        "true": 0.5,
    }


def test_a_regressor_baseline_watches_the_predicted_value() -> None:
    signature = Signature("regression", Feature("amount", "float"), FEATURES)
    columns = prediction_column(ModelOutput(predicted=np.array([1.5, 2.5, math.inf])), signature)
    assert list(columns) == ["prediction"] and columns["prediction"][0] == "numeric"
