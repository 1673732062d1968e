"""The statistics profile of a dataset version: the baseline for later versions and for live traffic.

The document is :mod:`spec.profile`'s format (format 1), which the training job's baselines share; this
module computes its statistics from a stream of batches. Quantiles are exact for integer columns whose
values span fewer than 65,536 and for columns of fewer than 4,096 values; otherwise they come from a
sketch with rank error <= 0.5% (see :mod:`domain.data.validation.sketch`); ``quantiles_exact`` says which.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from domain.data.validation.sketch import IntegerHistogram, QuantileSketch
from spec.profile import TRACKED_VALUES, frequency_document, numeric_document, plain_number, profile_document

__all__ = ["Frequencies", "FrequencyProfile", "NumericProfile", "build_profile"]


class Moments:
    """Count, min, max, mean and sum of squared deviations, mergeable (Chan et al.)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min: Any = None
        self.max: Any = None

    def add(self, count: int, low: Any, high: Any, mean: float, m2: float) -> None:
        """Merge a batch summarized by its count, min, max, mean and sum of squared deviations."""
        if count == 0:
            return
        total = self.count + count
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.count * count / total
        self.mean += delta * count / total
        self.count = total
        self.min = low if self.min is None or low < self.min else self.min
        self.max = high if self.max is None or high > self.max else self.max

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1), None for fewer than two values."""
        return math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else None


class Frequencies:
    """Counts per value, exact up to ``TRACKED_VALUES`` distinct values, then heavy hitters only.

    Past the cap the least frequent half is dropped into ``other`` (a space-saving style
    approximation): frequent values keep accurate counts and memory stays flat for free text.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.dropped = 0
        self.exact = True

    def add(self, values: list[Any], counts: list[int]) -> None:
        """Add counts for values (nulls are ignored)."""
        table = self.counts
        for value, count in zip(values, counts, strict=True):
            if value is not None:
                key = value if isinstance(value, str) else str(value)
                table[key] = table.get(key, 0) + count
        if len(table) > TRACKED_VALUES:
            ordered = sorted(table.items(), key=lambda item: -item[1])
            keep = ordered[: TRACKED_VALUES // 2]
            self.dropped += sum(count for _, count in ordered[TRACKED_VALUES // 2 :])
            self.counts = dict(keep)
            self.exact = False


class NumericProfile:
    """Profile of an integer, float or timestamp column (timestamps as int64 microseconds)."""

    def __init__(self, type_: str, seed: int) -> None:
        self.type = type_
        self.nulls = 0
        self.nan = 0
        self.infinity = 0
        self.moments = Moments()
        self.quantiles: IntegerHistogram | QuantileSketch = (
            IntegerHistogram(seed) if type_ == "integer" else QuantileSketch(seed)
        )

    def add_values(self, values: np.ndarray, low: Any, high: Any) -> None:
        """Add non-null, finite values (a numpy array) whose minimum and maximum are known."""
        count = len(values)
        summary = self.quantiles
        if isinstance(summary, IntegerHistogram):
            counts = summary.update(values, int(low), int(high))
            if counts is not None:
                # The batch's histogram gives its moments exactly, at the cost of a few hundred bins.
                bins = np.arange(summary.offset, summary.offset + len(counts), dtype=np.float64)
                mean = float(np.dot(bins, counts)) / count
                deviation = bins - mean
                self.moments.add(count, low, high, mean, float(np.dot(deviation * deviation, counts)))
                return
        else:
            summary.update(values)
        numbers = values if values.dtype.kind == "f" else values.astype(np.float64)
        total = float(numbers.sum())
        squares = float(np.dot(numbers, numbers))
        m2 = squares - total * total / count
        if m2 <= squares * 1e-6:
            # One pass lost too many digits (mean large against the spread): shift by a value and redo.
            shifted = numbers - numbers[0]
            shift_mean = float(shifted.sum()) / count
            m2 = float(np.dot(shifted, shifted)) - count * shift_mean * shift_mean
        self.moments.add(count, low, high, total / count, max(m2, 0.0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (:func:`spec.profile.numeric_document`)."""
        m = self.moments
        quantiles = [plain_number(q) for q in self.quantiles.quantiles()] if m.count else []
        if quantiles:
            quantiles[0], quantiles[-1] = (
                plain_number(m.min),
                plain_number(m.max),
            )  # the extremes are known exactly
        return numeric_document(
            self.type,
            count=m.count,
            nulls=self.nulls,
            low=m.min,
            high=m.max,
            mean=m.mean,
            std=m.std,
            quantiles=quantiles,
            exact=self.quantiles.exact,
            nan=self.nan,
            infinity=self.infinity,
        )


class FrequencyProfile:
    """Profile of a category, boolean or string column."""

    def __init__(self, type_: str, categories: list[str] | None = None) -> None:
        self.type = type_
        self.nulls = 0
        self.count = 0
        self.frequencies = Frequencies()
        if categories:
            self.frequencies.add(categories, [0] * len(categories))

    def add(self, values: list[Any], counts: list[int]) -> None:
        """Add counts of non-null values."""
        self.count += sum(c for v, c in zip(values, counts, strict=True) if v is not None)
        self.frequencies.add(values, counts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (:func:`spec.profile.frequency_document`)."""
        return frequency_document(
            self.type,
            count=self.count,
            nulls=self.nulls,
            counts=self.frequencies.counts,
            exact=self.frequencies.exact,
        )


def build_profile(rows: int, columns: dict[str, NumericProfile | FrequencyProfile]) -> dict[str, Any]:
    """Assemble the profile document from the per-column profiles (in contract order)."""
    return profile_document(rows, {name: profile.to_dict() for name, profile in columns.items()})
