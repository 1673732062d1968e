"""The drift baseline of a trained model: its features on the training rows, its predictions on the test rows.

The values are put in the form the drift monitor reads live requests in (``domain.monitoring.columns``):
integer, float and timestamp features numeric (float64, NaN missing; timestamps in seconds since the
epoch), category and boolean features categorical (``str``, booleans ``"true"``/``"false"``, None
missing); a classifier's predicted label as ``str`` (booleans ``"true"``/``"false"``) in
``predicted_label``, a regressor's value in ``prediction``. :func:`spec.drift.baseline.build_baseline`
profiles and calibrates them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from spec.drift.baseline import DriftBaseline, build_baseline
from spec.drift.categorical import label_text
from spec.drift.scores import Kind

from .contract_io import NUMERIC_TYPES, Feature, Signature
from .evaluate import ModelOutput

PREDICTED_LABEL = "predicted_label"
PREDICTION = "prediction"

Column = tuple[Kind, Any]


def feature_column(table: pa.Table, feature: Feature) -> Column:
    """One feature of ``table`` as the baseline takes it (see the module's docstring)."""
    column = table.column(feature.name)
    if feature.type in NUMERIC_TYPES:
        if feature.type == "timestamp":
            seconds = column.cast(pa.timestamp("us")).cast(pa.int64()).cast(pa.float64())
            return "numeric", seconds.to_numpy(zero_copy_only=False) / 1e6
        return "numeric", column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if feature.type == "boolean":
        text = np.array(["false", "true", None], dtype=object)
        codes = column.cast(pa.int8()).fill_null(2).to_numpy(zero_copy_only=False)
        return "categorical", text[codes].tolist()
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    return "categorical", column.cast(pa.string()).to_pylist()


def prediction_column(output: ModelOutput, signature: Signature) -> dict[str, Column]:
    """The predictions on the test rows: ``predicted_label`` (classifier) or ``prediction`` (regressor)."""
    if signature.task == "regression":
        return {PREDICTION: ("numeric", np.asarray(output.predicted, dtype=np.float64))}
    return {PREDICTED_LABEL: ("categorical", [label_text(label) for label in output.predicted.tolist()])}


def drift_baseline(
    train: pa.Table, signature: Signature, test_output: ModelOutput, seed: int
) -> DriftBaseline:
    """Profile and calibrate the training rows' features and the test rows' predictions.

    Parameters
    ----------
    train : pyarrow.Table
        The train channel (every feature column).
    signature : Signature
        The model's features, in order, and its task.
    test_output : ModelOutput
        The model's predictions on the test rows.
    seed : int
        The calibration's seed: the same data and seed give the same baseline.
    """
    features = {feature.name: feature_column(train, feature) for feature in signature.features}
    return build_baseline(features, prediction_column(test_output, signature), seed=seed)
