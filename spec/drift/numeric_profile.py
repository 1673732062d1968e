"""A numeric feature's baseline profile: the quantiles of its training values, not the values.

The profile keeps 1,001 quantiles (probabilities 0, 0.001, ..., 1) and 99 more in each outer 0.1%.
It is stored in S3 beside the model; the statistics of :mod:`spec.drift.numeric` read the baseline's
distribution from it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from spec.drift import ProfileFormatError

__all__ = ["FORMAT", "FORMAT_VERSION", "GRID", "QUANTILE_STEPS", "TAIL_STEPS", "FloatArray", "NumericProfile"]

FORMAT = "numeric-profile"
FORMAT_VERSION = 1
#: Quantile resolution: 1,000 steps bound the rank error of the baseline CDF by 0.001.
QUANTILE_STEPS = 1000
#: Each outer 0.1% is refined a hundredfold (99 more quantiles at steps of 0.00001 on each side):
#: a heavy tail's top 0.1% can carry a few percent of a Wasserstein distance, which linear
#: interpolation from the 0.999 quantile to the maximum misses.
TAIL_STEPS = 100

FloatArray = npt.NDArray[np.float64]

_MAIN = np.linspace(0.0, 1.0, QUANTILE_STEPS + 1)
_LOWER_TAIL = np.arange(1, TAIL_STEPS) / (QUANTILE_STEPS * TAIL_STEPS)
_UPPER_TAIL = 1.0 - _LOWER_TAIL[::-1]
#: Every probability a profile holds a quantile for, increasing.
GRID = np.concatenate([_MAIN[:1], _LOWER_TAIL, _MAIN[1:-1], _UPPER_TAIL, _MAIN[-1:]])
GRID.setflags(write=False)
# Which part of GRID each probability comes from, by position (0 main, 1 lower tail, 2 upper tail).
_TAIL = TAIL_STEPS - 1
_PART = np.concatenate([[0], np.full(_TAIL, 1), np.zeros(QUANTILE_STEPS - 1), np.full(_TAIL, 2), [0]])
_IS_MAIN, _IS_LOWER, _IS_UPPER = (np.equal(_PART, part) for part in (0, 1, 2))


@dataclass(frozen=True)
class NumericProfile:
    """Summary of a numeric feature's baseline (training) values.

    Attributes
    ----------
    count, missing
        Non-missing and missing (NaN) values.
    minimum, maximum, mean, std
        Of the non-missing values (``std`` is the population standard deviation, ddof=0);
        ``None`` when there are none.
    quantiles
        The 1,001 quantiles at probabilities ``k / 1000`` (numpy's linear method); empty when
        there are no non-missing values.
    lower_tail, upper_tail
        99 quantiles each at probabilities ``k / 100000`` and ``1 - k / 100000`` (``k`` = 1..99,
        increasing), resolving the outer 0.1% on each side (see ``TAIL_STEPS``); empty with
        ``quantiles``.
    """

    count: int
    missing: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    std: float | None
    quantiles: tuple[float, ...]
    lower_tail: tuple[float, ...] = ()
    upper_tail: tuple[float, ...] = ()

    @classmethod
    def from_values(cls, values: npt.ArrayLike) -> NumericProfile:
        """Profile the baseline values of one feature (``values``: NaN marks a missing value)."""
        data = np.asarray(values, dtype=np.float64).ravel()
        present = data[~np.isnan(data)]
        missing = int(data.size - present.size)
        if present.size == 0:
            return cls(0, missing, None, None, None, None, ())
        # Rounding in the interpolation must not make the quantile function decrease.
        quantiles = np.maximum.accumulate(np.quantile(present, GRID))
        return cls(
            count=int(present.size),
            missing=missing,
            minimum=float(present.min()),
            maximum=float(present.max()),
            mean=float(present.mean()),
            std=float(present.std()),
            quantiles=tuple(float(q) for q in quantiles[_IS_MAIN]),
            lower_tail=tuple(float(q) for q in quantiles[_IS_LOWER]),
            upper_tail=tuple(float(q) for q in quantiles[_IS_UPPER]),
        )

    @property
    def missing_rate(self) -> float:
        """Share of missing values (``nan`` for a profile of no rows)."""
        total = self.count + self.missing
        return self.missing / total if total else math.nan

    @cached_property
    def grid_quantiles(self) -> FloatArray:
        """The quantiles on the whole ``GRID`` (main and tails), in increasing probability; read-only.

        Made once per profile: every statistic of every window reads it.
        """
        full = np.empty(GRID.size)
        full[_IS_MAIN] = self.quantiles
        full[_IS_LOWER] = self.lower_tail
        full[_IS_UPPER] = self.upper_tail
        full.setflags(write=False)
        return full

    def to_json(self) -> str:
        """Serialise to JSON, with the format and its version."""
        return json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)})

    @classmethod
    def from_json(cls, text: str) -> NumericProfile:
        """Read a profile written by :meth:`to_json`.

        Raises
        ------
        ProfileFormatError
            If the text is not a numeric profile of a known format version.
        """
        raw: dict[str, Any] = json.loads(text)
        if raw.get("format") != FORMAT or raw.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(
                f"expected {FORMAT} version {FORMAT_VERSION}, got {raw.get('format')} "
                f"version {raw.get('format_version')}"
            )
        quantiles = tuple(float(q) for q in raw["quantiles"])
        lower, upper = (tuple(float(q) for q in raw[key]) for key in ("lower_tail", "upper_tail"))
        sizes = (len(quantiles), len(lower), len(upper))
        if any(sizes) and sizes != (QUANTILE_STEPS + 1, TAIL_STEPS - 1, TAIL_STEPS - 1):
            raise ProfileFormatError(f"unexpected numbers of quantiles and tail quantiles: {sizes}")
        return cls(
            count=int(raw["count"]),
            missing=int(raw["missing"]),
            minimum=_optional_float(raw["minimum"]),
            maximum=_optional_float(raw["maximum"]),
            mean=_optional_float(raw["mean"]),
            std=_optional_float(raw["std"]),
            quantiles=quantiles,
            lower_tail=lower,
            upper_tail=upper,
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
