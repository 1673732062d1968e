"""Format-1 profiles (101 quantiles or frequencies) as drift profiles, with values to calibrate them on.

Versions trained before the drift baseline existed registered only the format-1 documents of
:mod:`spec.profile`. They are upgraded rather than left without thresholds: each column becomes a
drift profile plus a synthetic sample drawn from that profile itself, which
:func:`spec.drift.calibration.calibrate` samples exactly as it samples training values:

- a numeric column: inverse-transform sampling of its quantile function (linear between the 101
  quantiles), on an even grid of probabilities (both ends included), with the missing share as NaN;
- a categorical column: its frequencies, each value repeated in proportion to its count, so that a
  sample with replacement is a multinomial draw on the frequencies.

The quantile function resolves ranks to 0.01 only: the upgraded baseline says so (``coarse``, KS error
bound 0.01).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from spec.drift import ProfileFormatError
from spec.drift.categorical import DEFAULT_MAX_CATEGORIES, CategoricalProfile
from spec.drift.numeric import NumericProfile
from spec.drift.scores import Kind
from spec.profile import PROFILE_FORMAT, QUANTILES

#: Rows of the synthetic sample (fewer when the column had fewer): fine enough that its own
#: resolution (1 / 200,000) is far below the profile's (0.01).
SYNTHETIC_ROWS = 200_000
#: Stands for the values a string column's profile pooled (its "other_count"); no real category is
#: spelled with a NUL, and a truncated profile pools every value outside its kept categories anyway.
POOLED = "\x00other"

NUMERIC_TYPES = frozenset({"integer", "float", "timestamp"})
CATEGORICAL_TYPES = frozenset({"category", "boolean", "string"})

Synthetic = tuple[Kind, NumericProfile | CategoricalProfile, npt.NDArray[Any] | list[str | None]]


def columns(document: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The ``columns`` of a format-1 profile document, checked.

    Raises
    ------
    ProfileFormatError
        If ``document`` is not a format-1 profile.
    """
    if not isinstance(document, Mapping) or document.get("format") != PROFILE_FORMAT:
        raise ProfileFormatError(f"the {what} is not a format-{PROFILE_FORMAT} profile document")
    found = document.get("columns")
    if not isinstance(found, Mapping):
        raise ProfileFormatError(f"the {what} has no 'columns' object")
    return found


def rows(document: Mapping[str, Any], what: str) -> int:
    """The ``rows`` of a format-1 profile document (0 when it does not say)."""
    found = document.get("rows", 0)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise ProfileFormatError(f"the {what}'s 'rows' is {found!r}, not a count of rows")
    return found


def synthetic_column(name: str, column: Mapping[str, Any], what: str) -> Synthetic:
    """A format-1 column's drift profile and the synthetic values to calibrate it on.

    Raises
    ------
    ProfileFormatError
        Naming the column, if its type is unknown or its fields are missing or broken.
    """
    type_ = column.get("type") if isinstance(column, Mapping) else None
    try:
        if type_ in NUMERIC_TYPES:
            return _numeric(column, type_ == "timestamp")
        if type_ in CATEGORICAL_TYPES:
            return _categorical(column)
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileFormatError(f"the {what}'s column {name!r} is broken: missing or bad {error}") from error
    raise ProfileFormatError(f"the {what}'s column {name!r} has an unknown type {type_!r}")


def _epoch_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _numeric(column: Mapping[str, Any], timestamp: bool) -> Synthetic:
    count = int(column["count"])
    # NaN in a float column is missing to the drift statistics, as in a live window.
    missing = int(column["nulls"]) + int(column.get("nan", 0))
    raw = column["quantiles"]
    quantiles = np.array([_epoch_seconds(q) if timestamp else float(q) for q in raw], dtype=np.float64)
    if count and quantiles.size != QUANTILES:
        raise ValueError(f"'quantiles' ({quantiles.size} values, not {QUANTILES})")
    total = count + missing
    size = min(total, SYNTHETIC_ROWS)
    present = round(size * count / total) if total else 0
    # Both ends included: the profile keeps the stored minimum and maximum.
    probabilities = np.linspace(0.0, 1.0, present)
    values = np.interp(probabilities, np.linspace(0.0, 1.0, QUANTILES), quantiles) if present else np.empty(0)
    values = np.concatenate([values, np.full(size - present, math.nan)])
    # Quantiles, mean and spread from the synthetic values; the counts are the real baseline's.
    profile = replace(NumericProfile.from_values(values), count=count, missing=missing)
    return "numeric", profile, values


def _categorical(column: Mapping[str, Any]) -> Synthetic:
    count, nulls = int(column["count"]), int(column["nulls"])
    frequencies = {str(value): int(n) for value, n in column["frequencies"].items() if int(n) > 0}
    other = int(column.get("other_count", 0))
    ranked = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
    pooled = max(int(column.get("distinct", 0)) - len(ranked), 1) if other else 0
    profile = CategoricalProfile(
        count=count + nulls,
        missing=nulls,
        categories=tuple(value for value, _ in ranked),
        shares=tuple(n / count for _, n in ranked) if count else (),
        other_share=other / count if count else 0.0,
        pooled_categories=pooled,
        max_categories=max(DEFAULT_MAX_CATEGORIES, len(ranked)),
    )
    total = count + nulls
    scale = min(1.0, SYNTHETIC_ROWS / total) if total else 1.0
    values: list[str | None] = []
    for value, n in [*ranked, (POOLED, other)]:
        values.extend([value] * round(n * scale))
    values.extend([None] * round(nulls * scale))
    return "categorical", profile, values


def prediction_columns(document: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """The prediction columns the drift monitor watches (``predicted_label`` or ``prediction``)."""
    found = columns(document, what)
    return {name: found[name] for name in ("predicted_label", "prediction") if name in found}
