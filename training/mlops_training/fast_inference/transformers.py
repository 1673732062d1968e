"""Fitted preprocessing steps as NumPy functions of the feature matrix, computing what scikit-learn does.

``ColumnTransformer`` (columns by index or mask, ``remainder="drop"``), passthrough,
``OrdinalEncoder``, ``OneHotEncoder`` (``handle_unknown="ignore"``, no ``drop``), ``SimpleImputer``
(with its missing indicator) and ``StandardScaler``, nested in Pipelines. Anything else, or another
setting, is a :class:`NotCompilableError`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[Any]
Step = Callable[[Matrix], Matrix]
_NOT_A_CODE = -(2.0**62)  # what a lookup gives a value that is not a category


class NotCompilableError(Exception):
    """The fitted Pipeline has a step (or a setting) that :func:`compile_pipeline` does not reproduce."""


def float_column(values: Matrix) -> npt.NDArray[np.float64]:
    """A column as float64, as scikit-learn's input validation converts it (None becomes NaN)."""
    return np.asarray(values, dtype=np.float64)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _category_codes(
    categories: Sequence[Any], unknown: float, missing: float, *, missing_is_category: bool = False
) -> Callable[[Matrix], Matrix]:
    """A column's values mapped to their index in ``categories`` (one column of an encoder).

    An OrdinalEncoder fitted on missing values lists NaN last and encodes missing values as its
    ``encoded_missing_value`` (``missing_is_category``); a OneHotEncoder would give NaN a column of its
    own, which is not reproduced.
    """
    holds_missing = [_is_missing(value) for value in categories]
    if any(holds_missing) and not (
        missing_is_category and holds_missing == [False] * (len(categories) - 1) + [True]
    ):
        raise NotCompilableError("a category list that holds a missing value")
    known = [value for value in categories if not _is_missing(value)]
    codes = {value: float(index) for index, value in enumerate(known)}
    numbers = np.array(known, dtype=np.float64) if all(is_number(v) for v in known) else None
    if numbers is not None and (numbers.size == 0 or (np.diff(numbers) <= 0).any()):
        numbers = None  # (an encoder's categories are sorted; anything else is looked up one by one)

    def encode(column: Matrix) -> Matrix:
        if numbers is not None and column.dtype.kind == "f":  # the boosting's own encoder, on codes
            at = np.minimum(np.searchsorted(numbers, column), len(numbers) - 1)
            out = np.where(numbers[at] == column, at.astype(np.float64), unknown)
            out[np.isnan(column)] = missing
            return out
        values = column.tolist()
        out = np.array([codes.get(v, _NOT_A_CODE) for v in values], dtype=np.float64)
        for row in np.flatnonzero(out == _NOT_A_CODE).tolist():
            out[row] = missing if _is_missing(values[row]) else unknown
        return out

    return encode


def is_number(value: Any) -> bool:
    """A number, as an encoder's category or a profile's quantile may be (a boolean is not one)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _ordinal(encoder: Any) -> Step:
    if (
        encoder.handle_unknown != "use_encoded_value"
        or getattr(encoder, "_infrequent_enabled", True)
        or np.dtype(encoder.dtype) != np.float64
    ):
        raise NotCompilableError("OrdinalEncoder other than handle_unknown='use_encoded_value', float64")
    unknown = float(encoder.unknown_value)
    missing = float(encoder.encoded_missing_value)
    columns = [
        _category_codes(list(c), unknown, missing, missing_is_category=True) for c in encoder.categories_
    ]

    def transform(x: Matrix) -> Matrix:
        out = np.empty((x.shape[0], len(columns)), dtype=np.float64)
        for index, encode in enumerate(columns):
            out[:, index] = encode(x[:, index])
        return out

    return transform


def _one_hot(encoder: Any) -> Step:
    if (
        encoder.handle_unknown != "ignore"
        or encoder.drop_idx_ is not None
        or getattr(encoder, "_infrequent_enabled", True)
        or encoder.sparse_output
        or np.dtype(encoder.dtype) != np.float64
    ):
        raise NotCompilableError("OneHotEncoder other than handle_unknown='ignore', dense, float64, no drop")
    columns = [_category_codes(list(c), -1.0, -1.0) for c in encoder.categories_]
    widths = [len(c) for c in encoder.categories_]
    offsets = np.cumsum([0, *widths])

    def transform(x: Matrix) -> Matrix:
        out = np.zeros((x.shape[0], int(offsets[-1])), dtype=np.float64)
        rows = np.arange(x.shape[0])
        for index, encode in enumerate(columns):
            codes = encode(x[:, index]).astype(np.intp)
            known = codes >= 0
            out[rows[known], offsets[index] + codes[known]] = 1.0
        return out

    return transform


def _imputer(imputer: Any) -> Step:
    missing_values = imputer.missing_values
    if not (isinstance(missing_values, float) and math.isnan(missing_values)) or imputer.keep_empty_features:
        raise NotCompilableError("SimpleImputer other than missing_values=np.nan without keep_empty_features")
    statistics = np.asarray(imputer.statistics_, dtype=np.float64)
    if np.isnan(statistics).any():
        raise NotCompilableError("SimpleImputer with a column it saw no value of (scikit-learn drops it)")
    indicator = imputer.indicator_ if imputer.add_indicator else None
    if indicator is not None and (
        indicator.features != "missing-only" or indicator.sparse not in ("auto", False)
    ):
        raise NotCompilableError("MissingIndicator other than features='missing-only', dense")
    flagged = np.asarray(indicator.features_, dtype=np.intp) if indicator is not None else None

    def transform(x: Matrix) -> Matrix:
        values = float_column(x).copy()
        missing = np.isnan(values)
        filled = np.where(missing, statistics, values)
        if flagged is None:
            return filled
        return np.hstack((filled, missing[:, flagged].astype(np.float64)))

    return transform


def _scaler(scaler: Any) -> Step:
    mean = np.asarray(scaler.mean_, dtype=np.float64) if scaler.with_mean else None
    scale = np.asarray(scaler.scale_, dtype=np.float64) if scaler.with_std else None

    def transform(x: Matrix) -> Matrix:
        values = float_column(x).copy()
        if mean is not None:
            values -= mean
        if scale is not None:
            values /= scale
        return values

    return transform


def _is_float_passthrough(transformer: Any) -> bool:
    """``"passthrough"``, or the FunctionTransformer that ColumnTransformer (or the boosting) puts there."""
    if isinstance(transformer, str):
        return transformer == "passthrough"
    if type(transformer).__name__ != "FunctionTransformer" or transformer.inverse_func is not None:
        return False
    func = transformer.func
    if func is None:
        return True
    return (
        isinstance(func, functools.partial)
        and getattr(func.func, "__name__", "") == "check_array"
        and not func.args
        and set(func.keywords) <= {"dtype", "ensure_all_finite"}
        and func.keywords.get("dtype") in ([np.float64], np.float64)
    )


def compile_transformer(transformer: Any) -> Step:
    """One fitted transformer as a function of the matrix it gets.

    Raises
    ------
    NotCompilableError
        For a transformer (or a setting of one) that this module does not reproduce.
    """
    if _is_float_passthrough(transformer):
        return float_column
    kind = type(transformer).__name__
    compilers: dict[str, Callable[[Any], Step]] = {
        "OrdinalEncoder": _ordinal,
        "OneHotEncoder": _one_hot,
        "SimpleImputer": _imputer,
        "StandardScaler": _scaler,
        "ColumnTransformer": _column_transformer,
        "Pipeline": _pipeline_steps,
    }
    if kind not in compilers:
        raise NotCompilableError(f"a {kind} step")
    return compilers[kind](transformer)


def compile_steps(steps: Sequence[tuple[str, Any]]) -> Step:
    """A Pipeline's ``(name, transformer)`` steps compiled, applied in turn (``None`` and
    ``"passthrough"`` skipped, as the Pipeline skips them)."""
    compiled = [compile_transformer(step) for _, step in steps if step not in (None, "passthrough")]

    def transform(x: Matrix) -> Matrix:
        for step in compiled:
            x = step(x)
        return x

    return transform


def _pipeline_steps(pipeline: Any) -> Step:
    return compile_steps(pipeline.steps)


def _column_transformer(transformer: Any) -> Step:
    if transformer.sparse_output_:
        raise NotCompilableError("a ColumnTransformer with sparse output")
    parts: list[tuple[Step, npt.NDArray[np.intp]]] = []
    width = transformer.n_features_in_
    for name, fitted, columns in transformer.transformers_:
        if name == "remainder" and not (isinstance(fitted, str) and fitted == "drop"):
            raise NotCompilableError("a ColumnTransformer remainder other than 'drop'")
        if isinstance(fitted, str) and fitted == "drop":
            continue
        indexes = np.asarray(columns)
        if indexes.dtype == bool:
            indexes = np.flatnonzero(indexes)
        elif indexes.size and indexes.dtype.kind not in "iu":
            raise NotCompilableError("a ColumnTransformer selecting columns by name")
        indexes = indexes.astype(np.intp)
        if indexes.size == 0:
            continue
        if (indexes < 0).any() or (indexes >= width).any():
            raise NotCompilableError("a ColumnTransformer column out of range")
        parts.append((compile_transformer(fitted), indexes))

    def transform(x: Matrix) -> Matrix:
        outputs = [step(x[:, indexes]) for step, indexes in parts]
        return np.hstack(outputs) if len(outputs) != 1 else outputs[0]

    return transform
