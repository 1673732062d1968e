"""The statistics profile format (format 1): what the validation function and the training job write.

A dataset version's profile (``domain.data.validation``, from a stream of batches, with sketches) and
a model's baselines (``mlops_training.profile``, from columns in memory) are documents of this format,
built here from the statistics each computes.

Format (JSON)
-------------
.. code-block:: text

    {"format": 1, "rows": N,
     "columns": {
       "<integer|float column>": {"type", "count": non-null values, "nulls",
            "min", "max", "mean", "std" (sample, ddof=1; null below 2 values),
            "quantiles": [101 values at p = 0, 0.01, ..., 1], "quantiles_exact": bool,
            float only: "nan", "infinity" (counts; excluded from the statistics above)},
       "<timestamp column>": {"type", "count", "nulls", "min", "max", "quantiles" (ISO 8601, UTC)},
       "<category column>": {"type", "count", "nulls", "frequencies": {value: count}}  (every declared
            category, zeros included, plus any other value seen),
       "<boolean column>": {"type", "count", "nulls", "frequencies": {"true": n, "false": n}},
       "<string column>": {"type", "count", "nulls", "distinct", "distinct_exact",
            "frequencies": {the 1,000 most frequent values: count}, "other_count"}}}

A quantile at p is the smallest value v such that at least a share p of the values are <= v (so
quantiles are always values that occur in the data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

PROFILE_FORMAT = 1
TOP_VALUES = 1_000  # a string column's most frequent values that the profile lists
TRACKED_VALUES = 20_000  # distinct values counted exactly; past them, the most frequent only
QUANTILES = 101  # at p = 0, 0.01, ..., 1


def plain_number(value: Any) -> Any:
    """A statistic as JSON has it: a plain Python number, None for NaN and infinities."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def iso(micros: Any) -> str | None:
    """A timestamp (microseconds since the epoch) as ISO 8601 text in UTC, with ``Z``."""
    if micros is None:
        return None
    return datetime.fromtimestamp(int(micros) / 1e6, tz=UTC).isoformat().replace("+00:00", "Z")


def numeric_document(
    type_: str,
    *,
    count: int,
    nulls: int,
    low: Any,
    high: Any,
    mean: float | None,
    std: float | None,
    quantiles: Sequence[Any],
    exact: bool,
    nan: int = 0,
    infinity: int = 0,
) -> dict[str, Any]:
    """The profile of an integer, float or timestamp column (timestamps as microseconds since the epoch).

    Parameters
    ----------
    type_ : {"integer", "float", "timestamp"}
    count, nulls : int
        Finite non-null values, and nulls.
    low, high, mean, std
        Of the finite values (``mean`` and ``std`` are left out for timestamps).
    quantiles : sequence
        The ``QUANTILES`` quantiles (empty without values).
    exact : bool
        Whether the quantiles are exact.
    nan, infinity : int
        Float columns: the NaN and infinite values, outside the statistics above.
    """
    if type_ == "timestamp":
        return {
            "type": type_,
            "count": count,
            "nulls": nulls,
            "min": iso(plain_number(low)),
            "max": iso(plain_number(high)),
            "quantiles": [iso(plain_number(q)) for q in quantiles],
            "quantiles_exact": exact,
        }
    document = {
        "type": type_,
        "count": count,
        "nulls": nulls,
        "min": plain_number(low),
        "max": plain_number(high),
        "mean": mean if count else None,
        "std": std if count > 1 else None,
        "quantiles": [plain_number(q) for q in quantiles],
        "quantiles_exact": exact,
    }
    if type_ == "float":
        document.update(nan=nan, infinity=infinity)
    return document


def top_values(counts: Mapping[str, int], limit: int = TOP_VALUES) -> dict[str, int]:
    """The ``limit`` most frequent values (ties broken by value, for determinism)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:limit])


def frequency_document(
    type_: str, *, count: int, nulls: int, counts: Mapping[str, int], exact: bool = True
) -> dict[str, Any]:
    """The profile of a category, boolean or string column.

    Parameters
    ----------
    type_ : {"category", "boolean", "string"}
    count, nulls : int
        Non-null values, and nulls.
    counts : mapping of str to int
        Each value's count: for a category column every declared category first (zeros included),
        for a boolean column ``true`` then ``false``.
    exact : bool
        String columns: whether ``counts`` holds every distinct value.
    """
    document: dict[str, Any] = {"type": type_, "count": count, "nulls": nulls}
    if type_ != "string":
        document["frequencies"] = dict(counts)
        return document
    top = top_values(counts)
    document.update(
        distinct=len(counts), distinct_exact=exact, frequencies=top, other_count=count - sum(top.values())
    )
    return document


def profile_document(rows: int, columns: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The profile document from the columns' profiles (in contract order)."""
    return {"format": PROFILE_FORMAT, "rows": rows, "columns": dict(columns)}
