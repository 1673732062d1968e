"""The contract's rules for one column's values, each check in two forms side by side.

- ``value``: one value (a CSV field, or a JSON value), checked in full. It returns what the feature
  matrix holds for it and tells the request's :class:`Report` every problem (the request is then
  answered 400) and every warning.
- ``column``: a whole CSV column at once, for most requests' whole content: fields that are valid as
  they stand. It returns what ``value`` would return for each field, or None when any field needs
  ``value`` (a problem, a warning, or a spelling it does not read); the request's fields are then
  checked one by one.

Both forms read a field in the same order: a null spelling first (NaN where the column is nullable,
a problem where it is not), then the column type's spellings.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from .spec import Column, ServingSpec


class Report(Protocol):
    """Where a check tells what it found in a request."""

    def problem(self, text: str) -> None:
        """A value that cannot be served: the request is refused."""

    def warn(self, text: str) -> None:
        """A value that is served otherwise than sent (an unknown category treated as missing)."""


class ColumnCheck:
    """A column whose values the model reads as they come (strings, which are never features)."""

    def __init__(self, column: Column, nulls: frozenset[str]) -> None:
        self.declared = column
        self.feature = column.feature
        self.nulls = nulls

    def value(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        """One value as the feature matrix holds it; ``text`` for a CSV field (read by its spelling)."""
        if value is None or (text and value in self.nulls):
            if not self.declared.nullable:
                report.problem(f"{self.where(row)}: a value is required (the column is not nullable)")
            return np.nan
        return self.present(value, text=text, row=row, report=report)

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        """A value that is not null, as the feature matrix holds it."""
        return value

    def column(self, fields: list[str]) -> Any:
        """A whole CSV column as the feature matrix holds it, or None when a field needs :meth:`value`."""
        return None

    def where(self, row: int) -> str:
        """Where a value is, as a problem names it."""
        return f"row {row}, {self.declared.name!r}"


class NumberCheck(ColumnCheck):
    """An integer or float column: a number within the column's bounds, NaN and infinity where allowed."""

    def __init__(self, column: Column, nulls: frozenset[str]) -> None:
        super().__init__(column, nulls)
        self.integer = column.type == "integer"
        self.low = -math.inf if column.minimum is None else column.minimum
        self.high = math.inf if column.maximum is None else column.maximum

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        number = self._number(value, text, row, report)
        if number is None:
            return np.nan
        column = self.declared
        if math.isfinite(number):
            if column.minimum is not None and number < column.minimum:
                report.problem(f"{self.where(row)}: {value!r} is below the minimum {column.minimum}")
            elif column.maximum is not None and number > column.maximum:
                report.problem(f"{self.where(row)}: {value!r} is above the maximum {column.maximum}")
        elif not column.allow_nan_inf:
            report.problem(f"{self.where(row)}: {value!r} is not a finite number")
        return number

    def _number(self, value: Any, text: bool, row: int, report: Report) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            report.problem(f"{self.where(row)}: {value!r} is not a number")
            return None
        if isinstance(value, str):
            if not text:
                report.problem(f"{self.where(row)}: {value!r} is a string, not a number")
                return None
            try:
                number = float(value)
            except ValueError:
                report.problem(f"{self.where(row)}: {value!r} is not a number")
                return None
        else:
            number = float(value)
        if self.integer and math.isfinite(number) and not number.is_integer():
            report.problem(f"{self.where(row)}: {value!r} is not an integer")
            return None
        return number

    def column(self, fields: list[str]) -> Any:
        """Every field read by ``float`` at once: finite, within bounds (whole for an integer column),
        or a null spelling in a nullable column."""
        nulls = self.nulls
        absent = None if nulls.isdisjoint(fields) else np.array([field in nulls for field in fields])
        if absent is not None:
            if not self.declared.nullable:
                return None
            fields = ["0" if gone else field for field, gone in zip(fields, absent.tolist(), strict=True)]
        try:
            values = np.fromiter(map(float, fields), np.float64, len(fields))
        except ValueError:  # a field that is not a number
            return None
        valid = np.isfinite(values) & (values >= self.low) & (values <= self.high)
        if self.integer:
            valid &= values == np.floor(values)
        if absent is not None:
            valid |= absent  # (their stand-in "0" may be out of bounds)
        if not valid.all():
            return None
        if absent is not None:
            values[absent] = np.nan
        return values


class CategoryCheck(ColumnCheck):
    """A category column: one of the contract's categories; an unknown one is refused or, where the
    contract says ``serving.unknown_categories: as_missing``, served as missing with a warning."""

    def __init__(self, column: Column, nulls: frozenset[str], unknown_categories: str) -> None:
        super().__init__(column, nulls)
        self.as_missing = unknown_categories == "as_missing"
        self.readings = _read_with_nulls({c: c for c in column.categories}, nulls, column.nullable)

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        column = self.declared
        if isinstance(value, str) and value in column.categories:
            return value
        if not isinstance(value, str):
            report.problem(f"{self.where(row)}: {value!r} is not a category (expected a string)")
            return np.nan
        if self.as_missing:
            report.warn(f"{column.name!r}: unknown category {value!r} treated as missing")
            return np.nan
        allowed = ", ".join(sorted(column.categories))
        report.problem(f"{self.where(row)}: {value!r} is not one of the categories ({allowed})")
        return np.nan

    def column(self, fields: list[str]) -> Any:
        values = list(map(self.readings.get, fields))
        return None if None in values else values


class BooleanCheck(ColumnCheck):
    """A boolean column: JSON's ``true``/``false``, or the contract's CSV spellings; 1.0 or 0.0."""

    def __init__(
        self, column: Column, nulls: frozenset[str], true_values: frozenset[str], false_values: frozenset[str]
    ) -> None:
        super().__init__(column, nulls)
        # a spelling listed as both reads as true, as the full check reads it
        self.spellings = dict.fromkeys(false_values, 0.0) | dict.fromkeys(true_values, 1.0)
        self.readings = _read_with_nulls(self.spellings, nulls, column.nullable)

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if text and value in self.spellings:
            return self.spellings[value]
        report.problem(f"{self.where(row)}: {value!r} is not a boolean")
        return np.nan

    def column(self, fields: list[str]) -> Any:
        values = list(map(self.readings.get, fields))
        return None if None in values else values


class TimestampCheck(ColumnCheck):
    """A timestamp column: seconds since the epoch, or ISO 8601 text (UTC unless it says otherwise).

    Its whole-column form is the inherited one (None): ISO text is parsed value by value.
    """

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                return moment.timestamp()
        report.problem(f"{self.where(row)}: {value!r} is not an ISO 8601 timestamp")
        return np.nan


def _read_with_nulls(spellings: dict[str, Any], nulls: frozenset[str], nullable: bool) -> dict[str, Any]:
    """What each CSV field that is valid as it stands reads as: a null spelling, before any other
    spelling, is NaN in a nullable column and left to the full check (absent) in one that is not."""
    readable = {text: value for text, value in spellings.items() if text not in nulls}
    return (readable | dict.fromkeys(nulls, np.nan)) if nullable else readable


def column_check(spec: ServingSpec, column: Column) -> ColumnCheck:
    """The check of ``column``'s values, with the contract's CSV spellings from ``spec``."""
    nulls = spec.null_values
    if column.type in ("integer", "float"):
        return NumberCheck(column, nulls)
    if column.type == "category":
        return CategoryCheck(column, nulls, spec.unknown_categories)
    if column.type == "boolean":
        return BooleanCheck(column, nulls, spec.true_values, spec.false_values)
    if column.type == "timestamp":
        return TimestampCheck(column, nulls)
    return ColumnCheck(column, nulls)
