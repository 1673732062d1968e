"""Baseline profiles for the drift monitor, in the platform's profile format, from in-memory columns.

The format is ``domain.data.validation.profile``'s (format 1), restated here because this package is shipped
without ``domain``; a unit test checks that both give the same document for the same data. Training
data is in memory anyway, so quantiles here are always exact (sorted values): the smallest value v
such that at least a share p of the values are <= v, for p = 0, 0.01, ..., 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

PROFILE_FORMAT = 1
TOP_VALUES = 1_000
TRACKED_VALUES = 20_000
PROBABILITIES = np.linspace(0.0, 1.0, 101)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    moment = datetime.fromtimestamp(int(micros) / 1e6, tz=UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _quantiles(ordered: npt.NDArray[Any]) -> list[Any]:
    count = len(ordered)
    if count == 0:
        return []
    # Same float arithmetic as the platform's profile (p * n, then the first rank reaching it).
    index = np.searchsorted(np.arange(1, count + 1), PROBABILITIES * count, side="left")
    return [_plain(v) for v in ordered[np.clip(index, 0, count - 1)]]


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
    extra: dict[str, Any] = {}
    if type_ == "float":
        values = values.astype(np.float64)
        nan = np.isnan(values)
        infinite = np.isinf(values)
        extra = {"nan": int(nan.sum()), "infinity": int(infinite.sum())}
        values = values[~(nan | infinite)]
    ordered = np.sort(values)
    count = len(ordered)
    low = _plain(ordered[0]) if count else None
    high = _plain(ordered[-1]) if count else None
    if type_ == "timestamp":
        return {
            "type": type_,
            "count": count,
            "nulls": nulls,
            "min": _iso(low),
            "max": _iso(high),
            "quantiles": [_iso(q) for q in _quantiles(ordered)],
            "quantiles_exact": True,
        }
    numbers = ordered.astype(np.float64)
    return {
        "type": type_,
        "count": count,
        "nulls": nulls,
        "min": low,
        "max": high,
        "mean": float(numbers.mean()) if count else None,
        "std": float(numbers.std(ddof=1)) if count > 1 else None,
        "quantiles": _quantiles(ordered),
        "quantiles_exact": True,
        **extra,
    }


def frequency_profile(
    values: list[Any], nulls: int, type_: str, categories: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Profile of a category, boolean or string column from its non-null values (as Python objects)."""
    counts = Counter("true" if v is True else "false" if v is False else str(v) for v in values)
    result: dict[str, Any] = {"type": type_, "count": len(values), "nulls": nulls}
    if type_ == "string":
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        top = dict(ordered[:TOP_VALUES])
        result |= {
            "distinct": len(counts),
            "distinct_exact": len(counts) <= TRACKED_VALUES,
            "frequencies": top,
            "other_count": len(values) - sum(top.values()),
        }
        return result
    declared = ("true", "false") if type_ == "boolean" else categories
    frequencies = {name: counts.pop(name, 0) for name in declared}
    frequencies.update(sorted(counts.items()))  # values outside the declared ones, if any
    result["frequencies"] = frequencies
    return result


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
    return {
        "format": PROFILE_FORMAT,
        "rows": table.num_rows,
        "columns": {name: column_profile(table.column(name), type_, cats) for name, type_, cats in columns},
    }
