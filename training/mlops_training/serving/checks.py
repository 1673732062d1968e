"""Each feature column's check of a request's values, in two forms side by side.

- ``value``: one value (a CSV field, or a JSON value), checked in full. It returns what the feature
  matrix holds for it and tells the request's :class:`Report` every problem (the request is then
  answered 400) and every warning.
- ``column``: a whole CSV column at once, for most requests' whole content: fields that are valid as
  they stand. It returns what ``value`` would return for each field, or None when any field needs
  ``value`` (a problem, a warning, or a spelling it does not read); the request's fields are then
  checked one by one.

Both forms read a field in the same order: a null spelling first (NaN where the column is nullable,
a problem where it is not), then the column type's spellings. The contract's rules (null and boolean
spellings, bounds, categories) are those of ``spec.values``; a number or a timestamp in a request is
read as Python reads it (``float``, :func:`epoch_seconds`), as the endpoint always has: the validator's
syntax (``spec.values.NUMBER_SYNTAX``, ``TIMESTAMP_SYNTAX``) differs at the edges.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from spec.values import NUMERIC_TYPES, ColumnRule, Dialect, epoch_seconds, is_null, read_boolean

# ColumnRule.number_problem's reasons, as a problem names them
_NUMBER_PROBLEMS = {
    "below_min": "{value!r} is below the minimum {rule.min}",
    "above_max": "{value!r} is above the maximum {rule.max}",
    "not_finite": "{value!r} is not a finite number",
}


class Report(Protocol):
    """Where a check tells what it found in a request."""

    def problem(self, text: str) -> None:
        """A value that cannot be served: the request is refused."""

    def warn(self, text: str) -> None:
        """A value that is served otherwise than sent (an unknown category treated as missing)."""


class ColumnCheck:
    """A column whose values the model reads as they come (strings, which are never features)."""

    def __init__(self, rule: ColumnRule, feature: int, dialect: Dialect) -> None:
        self.rule = rule
        self.feature = feature  # the column's index in the feature matrix
        self.dialect = dialect

    def value(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        """One value as the feature matrix holds it; ``text`` for a CSV field (read by its spelling)."""
        if value is None or (text and is_null(value, self.dialect)):
            if not self.rule.nullable:
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
        return f"row {row}, {self.rule.name!r}"


class NumberCheck(ColumnCheck):
    """An integer or float column: a number the column admits (``ColumnRule.number_problem``)."""

    def __init__(self, rule: ColumnRule, feature: int, dialect: Dialect) -> None:
        super().__init__(rule, feature, dialect)
        # the rule's bounds and spellings as the whole-column form compares a column with them at once
        self.nulls = dialect.null_values
        self.integer = rule.type == "integer"
        self.low = -math.inf if rule.min is None else rule.min
        self.high = math.inf if rule.max is None else rule.max

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        number = self._number(value, text, row, report)
        if number is None:
            return np.nan
        problem = self.rule.number_problem(number)
        if problem is not None:
            report.problem(
                f"{self.where(row)}: " + _NUMBER_PROBLEMS[problem].format(value=value, rule=self.rule)
            )
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
        """Every field read by ``float`` at once and admitted as ``number_problem`` admits finite
        numbers (within bounds, whole in an integer column), or a null spelling in a nullable column."""
        nulls = self.nulls
        absent = None if nulls.isdisjoint(fields) else np.array([field in nulls for field in fields])
        if absent is not None:
            if not self.rule.nullable:
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


class _SpelledCheck(ColumnCheck):
    """A column whose CSV fields are one of a few spellings, each read as one value."""

    def __init__(self, rule: ColumnRule, feature: int, dialect: Dialect, spellings: dict[str, Any]) -> None:
        super().__init__(rule, feature, dialect)
        # A null spelling, read before any other, is NaN in a nullable column; in one that is not, it
        # is absent, and the column goes to the full check.
        readable = {text: read for text, read in spellings.items() if not is_null(text, dialect)}
        self.readings = (readable | dict.fromkeys(dialect.null_values, np.nan)) if rule.nullable else readable

    def column(self, fields: list[str]) -> Any:
        values = list(map(self.readings.get, fields))
        return None if None in values else values


class CategoryCheck(_SpelledCheck):
    """A category column: one of the contract's categories; an unknown one is refused or, where the
    contract says ``serving.unknown_categories: as_missing``, served as missing with a warning."""

    def __init__(self, rule: ColumnRule, feature: int, dialect: Dialect, unknown_categories: str) -> None:
        super().__init__(rule, feature, dialect, {category: category for category in rule.categories})
        self.as_missing = unknown_categories == "as_missing"
        # the categories that read as themselves (a null spelling reads as a null first)
        self.plain = rule.categories - dialect.null_values

    def column(self, fields: list[str]) -> Any:
        # Most requests' columns hold only such categories: the fields are their own values.
        return fields if self.plain.issuperset(fields) else super().column(fields)

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        rule = self.rule
        if not isinstance(value, str):
            report.problem(f"{self.where(row)}: {value!r} is not a category (expected a string)")
            return np.nan
        if rule.admits_category(value):
            return value
        if self.as_missing:
            report.warn(f"{rule.name!r}: unknown category {value!r} treated as missing")
            return np.nan
        allowed = ", ".join(sorted(rule.categories))
        report.problem(f"{self.where(row)}: {value!r} is not one of the categories ({allowed})")
        return np.nan


class BooleanCheck(_SpelledCheck):
    """A boolean column: JSON's ``true``/``false``, or the contract's CSV spellings; 1.0 or 0.0."""

    def __init__(self, rule: ColumnRule, feature: int, dialect: Dialect) -> None:
        spellings = dialect.true_values | dialect.false_values
        super().__init__(
            rule, feature, dialect, {text: 1.0 if read_boolean(text, dialect) else 0.0 for text in spellings}
        )

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        read = read_boolean(value, self.dialect) if text else None
        if read is not None:
            return 1.0 if read else 0.0
        report.problem(f"{self.where(row)}: {value!r} is not a boolean")
        return np.nan


class TimestampCheck(ColumnCheck):
    """A timestamp column: seconds since the epoch, or ISO 8601 text (UTC unless it says otherwise).

    Its whole-column form is the inherited one (None): ISO text is read value by value.
    """

    def present(self, value: Any, *, text: bool, row: int, report: Report) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        seconds = epoch_seconds(value) if isinstance(value, str) else None
        if seconds is None:
            report.problem(f"{self.where(row)}: {value!r} is not an ISO 8601 timestamp")
            return np.nan
        return seconds


def column_check(rule: ColumnRule, feature: int, dialect: Dialect, unknown_categories: str) -> ColumnCheck:
    """The check of the values of feature number ``feature``, which the contract declares as ``rule``."""
    if rule.type in NUMERIC_TYPES:
        return NumberCheck(rule, feature, dialect)
    if rule.type == "category":
        return CategoryCheck(rule, feature, dialect, unknown_categories)
    if rule.type == "boolean":
        return BooleanCheck(rule, feature, dialect)
    if rule.type == "timestamp":
        return TimestampCheck(rule, feature, dialect)
    return ColumnCheck(rule, feature, dialect)
