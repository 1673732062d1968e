"""Baseline profiles for the drift monitor, in the platform's profile format, from in-memory columns.

The format is :mod:`spec.profile`'s (format 1), the dataset profile's. Training data is in memory
anyway, so quantiles here are always exact (sorted values): the smallest value v such that at least a
share p of the values are <= v, for p = 0, 0.01, ..., 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from spec.profile import (
    QUANTILES,
    TRACKED_VALUES,
    frequency_document,
    numeric_document,
    profile_document,
)

__all__ = ["column_profile", "frequency_profile", "numeric_profile", "table_profile"]

PROBABILITIES = np.linspace(0.0, 1.0, QUANTILES)


def _quantiles(ordered: npt.NDArray[Any]) -> list[Any]:
    count = len(ordered)
    if count == 0:
        return []
    # Same float arithmetic as the platform's profile (p * n, then the first rank reaching it).
    index = np.searchsorted(np.arange(1, count + 1), PROBABILITIES * count, side="left")
    return list(ordered[np.clip(index, 0, count - 1)])


def numeric_profile(values: npt.NDArray[Any], nulls: int, type_: str) -> dict[str, Any]:
    """Profile of an integer, float or timestamp column (timestamps as int64 microseconds).

    Parameters
    ----------
    values : numpy.ndarray
        The non-null values (floats may include NaN and infinities: counted apart, as the format says).
    nulls : int
        How many values were null.
    type_ : {"integer", "float", "timestamp"}
    """
    nan = infinity = 0
    if type_ == "float":
        values = values.astype(np.float64)
        nan_mask, infinite_mask = np.isnan(values), np.isinf(values)
        nan, infinity = int(nan_mask.sum()), int(infinite_mask.sum())
        values = values[~(nan_mask | infinite_mask)]
    ordered = np.sort(values)
    count = len(ordered)
    numbers = ordered.astype(np.float64)
    return numeric_document(
        type_,
        count=count,
        nulls=nulls,
        low=ordered[0] if count else None,
        high=ordered[-1] if count else None,
        mean=float(numbers.mean()) if count else None,
        std=float(numbers.std(ddof=1)) if count > 1 else None,
        quantiles=_quantiles(ordered),
        exact=True,
        nan=nan,
        infinity=infinity,
    )


def frequency_profile(
    values: list[Any], nulls: int, type_: str, categories: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Profile of a category, boolean or string column from its non-null values (as Python objects)."""
    counts = Counter("true" if v is True else "false" if v is False else str(v) for v in values)
    if type_ != "string":
        declared = ("true", "false") if type_ == "boolean" else categories
        ordered = {name: counts.pop(name, 0) for name in declared}
        ordered.update(sorted(counts.items()))  # values outside the declared ones, if any
        counts = Counter(ordered)
    return frequency_document(
        type_, count=len(values), nulls=nulls, counts=counts, exact=len(counts) <= TRACKED_VALUES
    )


def column_profile(column: pa.ChunkedArray, type_: str, categories: tuple[str, ...] = ()) -> dict[str, Any]:
    """Profile of one Arrow column of the given contract type."""
    nulls = column.null_count
    present = column.drop_null()
    if type_ in ("integer", "float", "timestamp"):
        if type_ == "timestamp":
            present = present.cast(pa.int64())
        return numeric_profile(present.to_numpy(zero_copy_only=False), nulls, type_)
    if pa.types.is_dictionary(present.type):
        present = present.cast(pa.string())
    return frequency_profile(present.to_pylist(), nulls, type_, categories)


def table_profile(table: pa.Table, columns: Sequence[tuple[str, str, tuple[str, ...]]]) -> dict[str, Any]:
    """The profile document of some columns of a table: ``columns`` is (name, type, categories) each."""
    return profile_document(
        table.num_rows,
        {name: column_profile(table.column(name), type_, cats) for name, type_, cats in columns},
    )
