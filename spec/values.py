"""The contract's value rules: what text is a number, a boolean, a null or a timestamp; what a column admits.

The validation function checks whole columns with Arrow (``domain.data.validation.convert`` and
``columns``): the syntax below rules out what cannot be a value at once, and Arrow's own cast has the
last word on the rest. The endpoint (``mlops_training.serving.checks``) reads nulls, booleans, bounds and
categories with :class:`Dialect` and :class:`ColumnRule`, but a number or a timestamp in a request as
Python reads it (``float``, ``datetime.fromisoformat``), as it always has: it takes ``+7``, ``1e3`` or
``3.0`` in an integer column, ``1_000``, non-ASCII digits and ISO's basic and week dates (``20240501``),
which the validator refuses, and refuses hexadecimal integers and blanks around a timestamp, which the
validator takes.

Conventions (the contract's documentation says the same to people, ``domain.data.contract``):

- ``integer``: 64-bit signed integers (decimal with an optional ``-``, or hexadecimal with ``0x``);
  ``float``: decimal or scientific notation. ``NaN``, ``inf`` and ``-inf`` are values, not nulls: a
  column admits them only when ``allow_nan_inf`` is true. Blanks (spaces, tabs) around a number or a
  timestamp are ignored.
- ``boolean``: the dialect's ``true_values`` and ``false_values``, exactly as spelled.
- ``timestamp``: ISO 8601 (``2024-05-01``, ``2024-05-01T10:00:00``, with an optional ``Z`` or ``+hh:mm``
  offset); a value without an offset is taken as UTC.
- A null is one of the dialect's ``null_values`` (the empty field among them by default).
- ``min`` and ``max`` are inclusive and bound finite values only; a ``category`` value is one of the
  column's ``categories``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NUMERIC_TYPES = frozenset({"integer", "float"})
# "NaN" is deliberately absent: for a float it is a value (checked as such), not a null.
DEFAULT_NULL_VALUES = ("", "NA", "N/A", "null", "NULL", "None")
DEFAULT_TRUE_VALUES = ("true", "True", "TRUE", "1")
DEFAULT_FALSE_VALUES = ("false", "False", "FALSE", "0")
BLANKS = " \t"  # trimmed around numbers and timestamps, as Arrow's parsers trim them

# Supersets of what Arrow's parsers accept (after trimming blanks): anything else is not a value of the type.
NUMBER_SYNTAX = {
    "integer": r"^(?:0[xX][0-9a-fA-F]+|-?[0-9]+)$",  # Arrow takes no "+" and no signed hexadecimal
    "float": r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:nan|inf|infinity))$",
}
TIMESTAMP_SYNTAX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ].*)?$"
# A timestamp with a UTC offset (or Z); one without is naive, and taken as UTC.
ZONE_SYNTAX = r"[T ][0-9:.,]+(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)$"


@dataclass(frozen=True)
class Dialect:
    """The spellings of nulls and booleans in a dataset's CSV (the contract's ``csv`` section)."""

    null_values: frozenset[str] = frozenset(DEFAULT_NULL_VALUES)
    true_values: frozenset[str] = frozenset(DEFAULT_TRUE_VALUES)
    false_values: frozenset[str] = frozenset(DEFAULT_FALSE_VALUES)

    @classmethod
    def from_dict(cls, csv: Mapping[str, Any] | None) -> Dialect:
        """From the contract's ``csv`` section as JSON (absent keys take the defaults)."""
        csv = csv or {}

        def spelled(key: str, default: Iterable[str]) -> frozenset[str]:
            return frozenset(csv.get(key, default))

        return cls(
            null_values=spelled("null_values", DEFAULT_NULL_VALUES),
            true_values=spelled("true_values", DEFAULT_TRUE_VALUES),
            false_values=spelled("false_values", DEFAULT_FALSE_VALUES),
        )


@dataclass(frozen=True)
class ColumnRule:
    """What one declared column admits (the contract's column, as JSON)."""

    name: str
    type: str
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: frozenset[str] = frozenset()
    allow_nan_inf: bool = False

    @classmethod
    def from_dict(cls, column: Mapping[str, Any]) -> ColumnRule:
        """From one entry of the contract's ``columns`` as JSON."""
        return cls(
            name=column["name"],
            type=column["type"],
            nullable=bool(column.get("nullable", False)),
            min=column.get("min"),
            max=column.get("max"),
            categories=frozenset(column.get("categories") or ()),
            allow_nan_inf=bool(column.get("allow_nan_inf", False)),
        )

    def number_problem(self, number: float) -> str | None:
        """Why the column does not admit ``number``, or None when it does.

        One of ``"not_finite"``, ``"below_min"``, ``"above_max"``. NaN and the infinities are admitted
        only with ``allow_nan_inf``; the bounds apply to finite numbers only.
        """
        if not math.isfinite(number):
            return None if self.allow_nan_inf else "not_finite"
        if self.min is not None and number < self.min:
            return "below_min"
        if self.max is not None and number > self.max:
            return "above_max"
        return None

    def admits_category(self, value: str) -> bool:
        """Whether ``value`` is one of the column's categories."""
        return value in self.categories


def is_null(text: str, dialect: Dialect) -> bool:
    """Whether a CSV field spells a null."""
    return text in dialect.null_values


def read_boolean(text: str, dialect: Dialect) -> bool | None:
    """The boolean a field spells in this dialect, or None when it spells neither."""
    if text in dialect.true_values:
        return True
    if text in dialect.false_values:
        return False
    return None


def epoch_seconds(text: str) -> float | None:
    """An ISO 8601 timestamp in seconds since the epoch (UTC unless it says otherwise), as the endpoint
    reads it (``datetime.fromisoformat``), or None when it does not read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
