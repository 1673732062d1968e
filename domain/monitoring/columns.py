"""The columns the monitor reads from captured requests, and their values as the drift baseline holds them.

A model's features are the contract's columns :func:`domain.training.config.feature_columns` selects, in
signature order (the order of a CSV row without a header). Their values are read with the contract's
rules (:mod:`spec.values`: the dialect's null and boolean spellings) and put in the form the training job
profiles them in (``spec.drift.baseline.build_baseline``):

- ``integer``, ``float``: numeric, float64; a null, an unreadable value or a NaN/infinity is NaN
  (missing);
- ``timestamp``: numeric, seconds since the epoch (UTC unless the value says otherwise), as the endpoint
  reads a timestamp;
- ``category``: categorical, the value as sent (an unknown category too: that is what ``unseen_share``
  measures), a null spelling None;
- ``boolean``: categorical, ``"true"`` or ``"false"``, a null or an unreadable value None.

The predictions: ``predicted_label`` (classification; the label as ``str``, booleans as ``true`` and
``false``, as the endpoint's JSON answer names a class) or ``prediction`` (regression, numeric).

Whole columns are converted at once with pyarrow and numpy; a value-by-value path in Python is taken
only for a column in which something does not convert as a whole (a spelling Arrow does not read).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import DatasetContract
from domain.monitoring.rows import ColumnValues, FloatArray
from domain.training.config import TrainingConfig, feature_columns
from spec.drift.categorical import label_text
from spec.drift.scores import Kind
from spec.values import BLANKS, Dialect, epoch_seconds

__all__ = [
    "PREDICTED_LABEL",
    "PREDICTION",
    "CaptureSchema",
    "Column",
    "arrow_json_values",
    "json_values",
    "prediction_values",
    "text_values",
]


PREDICTED_LABEL = "predicted_label"
PREDICTION = "prediction"
_NUMERIC_TYPES = frozenset({"integer", "float", "timestamp"})


@dataclass(frozen=True)
class Column:
    """A column the monitor reads: its name, contract type and drift kind."""

    name: str
    type: str
    kind: Kind


@dataclass(frozen=True)
class CaptureSchema:
    """What the monitor reads in a dataset's captures: the model's features and its predictions.

    Attributes
    ----------
    features : tuple of Column
        In signature order.
    prediction : Column
        ``predicted_label`` (categorical) or ``prediction`` (numeric).
    dialect : Dialect
        The contract's spellings of nulls and booleans.
    """

    features: tuple[Column, ...]
    prediction: Column
    dialect: Dialect

    @classmethod
    def of(cls, contract: DatasetContract, config: TrainingConfig) -> CaptureSchema:
        """The schema of a dataset's model, from its contract and resolved training configuration."""
        features = tuple(
            Column(c.name, c.type, "numeric" if c.type in _NUMERIC_TYPES else "categorical")
            for c in feature_columns(contract, config)
        )
        target = contract.column(contract.target)
        prediction = (
            Column(PREDICTED_LABEL, target.type, "categorical")
            if config.task == "classification"
            else Column(PREDICTION, "float", "numeric")
        )
        return cls(
            features=features, prediction=prediction, dialect=Dialect.from_dict(contract.csv.model_dump())
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The features' names, in signature order."""
        return tuple(f.name for f in self.features)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The features, then the prediction."""
        return (*self.features, self.prediction)


def text_values(values: pa.Array, column: Column, dialect: Dialect) -> ColumnValues:
    """A column of CSV fields (an Arrow string array, null where a row had no such field), read.

    Parameters
    ----------
    values : pyarrow.Array
        Strings, as sent.
    column : Column
    dialect : Dialect

    Returns
    -------
    ColumnValues
    """
    values = values.cast(pa.string())
    nulls = pc.is_in(values, value_set=pa.array(sorted(dialect.null_values), pa.string()))
    present = pc.if_else(pc.fill_null(nulls, True), pa.scalar(None, pa.string()), values)
    if column.type == "category":
        return _as_strings(present.to_numpy(zero_copy_only=False))
    if column.type == "boolean":
        return _spelled(present, _boolean_readings(dialect))
    if column.type == "timestamp":
        return _timestamps(pc.utf8_trim(present, BLANKS))
    return _numbers(pc.utf8_trim(present, BLANKS))


def json_values(values: Sequence[Any], column: Column, dialect: Dialect) -> ColumnValues:
    """A column of JSON values (None where a row had no such field), read as the endpoint reads them.

    A JSON number is a number, a JSON boolean a boolean; strings are read by their spelling.
    """
    if column.kind == "categorical":
        readings = _boolean_readings(dialect) if column.type == "boolean" else None
        return [_json_category(value, readings) for value in values]
    if column.type == "timestamp":
        return np.fromiter(
            (_epoch_seconds(v) if isinstance(v, str) else math.nan for v in values), np.float64, len(values)
        )
    try:
        numbers = np.array(values, dtype=np.float64)  # None is NaN; a bool, 1.0 or 0.0
    except (TypeError, ValueError):
        numbers = np.fromiter(map(_json_number, values), np.float64, len(values))
    numbers[~np.isfinite(numbers)] = math.nan
    return numbers


def arrow_json_values(values: pa.Array, column: Column, dialect: Dialect) -> ColumnValues:
    """A column of JSON values as Arrow's JSON reader typed them, read as :func:`json_values` reads them.

    Numbers for a numeric column, strings for a category or timestamp, booleans for a boolean column are
    converted at once; any other type goes value by value through :func:`json_values`.
    """
    kind = values.type
    if column.type == "timestamp" and (pa.types.is_string(kind) or pa.types.is_null(kind)):
        return _timestamps(pc.utf8_trim(values.cast(pa.string()), BLANKS))
    numbers_typed = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)
    if column.kind == "numeric" and column.type != "timestamp" and numbers_typed:
        numbers: FloatArray = values.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        numbers[~np.isfinite(numbers)] = math.nan
        return numbers
    if column.type == "category" and (pa.types.is_string(kind) or pa.types.is_null(kind)):
        return _as_strings(values.cast(pa.string()).to_numpy(zero_copy_only=False))
    if column.type == "boolean" and (pa.types.is_boolean(kind) or pa.types.is_null(kind)):
        return _as_strings(values.cast(pa.string()).to_numpy(zero_copy_only=False))  # "true" / "false"
    return json_values(values.to_pylist(), column, dialect)


def prediction_values(labels: Sequence[Any], column: Column) -> ColumnValues:
    """The predictions of a window (JSON values, or CSV fields as ``str``), as the baseline holds them."""
    if column.kind == "numeric":
        return json_values(labels, column, Dialect())
    return [None if label is None else _label(label, column.type) for label in labels]


def _label(value: Any, target_type: str) -> str:
    text = label_text(value)
    # A CSV answer writes a boolean label as Python spells it ("True").
    return text.lower() if target_type == "boolean" and text in ("True", "False") else text


def _as_strings(values: npt.NDArray[Any]) -> list[str | None]:
    return values.tolist()  # type: ignore[no-any-return]


def _boolean_readings(dialect: Dialect) -> dict[str, str]:
    return {text: "true" for text in dialect.true_values} | {text: "false" for text in dialect.false_values}


def _spelled(values: pa.Array, readings: dict[str, str]) -> list[str | None]:
    # Each distinct spelling is read once; the rows take their reading by index.
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    read = np.array([readings.get(text) for text in distinct] + [None], dtype=object)
    indices = encoded.indices.fill_null(len(distinct)).to_numpy()
    return read[indices].tolist()  # type: ignore[no-any-return]


def _numbers(values: pa.Array) -> FloatArray:
    try:
        numbers: FloatArray = values.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Something Arrow does not read as a number: each field as the endpoint reads it (float).
        numbers = np.fromiter(map(_text_number, values.to_pylist()), np.float64, len(values))
    numbers[~np.isfinite(numbers)] = math.nan
    return numbers


def _timestamps(values: pa.Array) -> FloatArray:
    try:
        moments = values.cast(pa.timestamp("us", tz="UTC"))
        seconds = pc.divide(moments.cast(pa.int64()).cast(pa.float64()), 1e6)
        result: FloatArray = seconds.to_numpy(zero_copy_only=False).astype(np.float64)
        return result
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Dates, or times without an offset (UTC, as the endpoint reads them), among others.
        return np.fromiter(
            (math.nan if v is None else _epoch_seconds(v) for v in values.to_pylist()),
            np.float64,
            len(values),
        )


def _text_number(text: str | None) -> float:
    if text is None:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _json_number(value: Any) -> float:
    if isinstance(value, str):
        return _text_number(value)
    if isinstance(value, (int, float)):
        return float(value)
    return math.nan


def _json_category(value: Any, readings: dict[str, str] | None) -> str | None:
    if readings is not None:
        if isinstance(value, bool):
            return "true" if value else "false"
        return readings.get(value) if isinstance(value, str) else None
    return value if isinstance(value, str) else None


def _epoch_seconds(text: str) -> float:
    seconds = epoch_seconds(text.strip(BLANKS))
    return math.nan if seconds is None else seconds
