"""Findings: what the validator tells a person about a file, and the stable ids of its checks.

A finding says what is wrong, where (up to five examples) and what to do. Check ids are part of the
report format: alerts, dashboards and tests match on them, so they never change meaning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
MAX_EXAMPLES = 5

# File level: the bytes themselves.
FILE_EMPTY = "file.empty"
FILE_TOO_LARGE = "file.too_large"
FILE_ENCODING = "file.encoding"
FILE_GZIP_TRUNCATED = "file.gzip_truncated"
FILE_UNREADABLE = "file.unreadable"
# Header / schema: the columns.
HEADER_MISSING_COLUMN = "header.missing_column"
HEADER_EXTRA_COLUMN = "header.extra_column"
HEADER_DUPLICATE_COLUMN = "header.duplicate_column"
HEADER_WRONG_DELIMITER = "header.wrong_delimiter"
HEADER_TOO_MANY_COLUMNS = "header.too_many_columns"
HEADER_PADDED_NAMES = "header.padded_names"
SCHEMA_WRONG_TYPE = "schema.wrong_type"
# Rows.
ROWS_MALFORMED = "rows.malformed"
ROWS_TOO_FEW = "rows.too_few"
ROWS_UNCLOSED_QUOTE = "rows.unclosed_quote"
# Values.
VALUE_TYPE = "value.type"
VALUE_NULL = "value.null"
VALUE_RANGE = "value.range"
VALUE_CATEGORY = "value.category"
VALUE_NAN_INF = "value.nan_inf"
# Comparison with the previous accepted version (domain.data.profile_checks).
DRIFT_NULL_RATE_SPIKE = "drift.null_rate_spike"
DRIFT_ROW_COUNT_DROP = "drift.row_count_drop"
DRIFT_NEW_CATEGORIES = "drift.new_categories"

CHECK_IDS: tuple[str, ...] = (
    FILE_EMPTY,
    FILE_TOO_LARGE,
    FILE_ENCODING,
    FILE_GZIP_TRUNCATED,
    FILE_UNREADABLE,
    HEADER_MISSING_COLUMN,
    HEADER_EXTRA_COLUMN,
    HEADER_DUPLICATE_COLUMN,
    HEADER_WRONG_DELIMITER,
    HEADER_TOO_MANY_COLUMNS,
    HEADER_PADDED_NAMES,
    SCHEMA_WRONG_TYPE,
    ROWS_MALFORMED,
    ROWS_TOO_FEW,
    ROWS_UNCLOSED_QUOTE,
    VALUE_TYPE,
    VALUE_NULL,
    VALUE_RANGE,
    VALUE_CATEGORY,
    VALUE_NAN_INF,
    DRIFT_NULL_RATE_SPIKE,
    DRIFT_ROW_COUNT_DROP,
    DRIFT_NEW_CATEGORIES,
)


@dataclass(frozen=True)
class Finding:
    """One problem found in a file.

    Attributes
    ----------
    check : str
        Stable check id, one of :data:`CHECK_IDS`.
    severity : {"error", "warning"}
        Any error rejects the file.
    column : str or None
        The column concerned, if any.
    count : int
        How many rows / values / columns are affected (1 for file-level problems).
    message : str
        What is wrong and what to do, in plain English.
    examples : list of dict
        Up to five locations, each with ``row`` (1-based data row, header excluded), ``line``
        (1-based physical line, header included) or ``byte_offset``, and usually ``value``.
    """

    check: str
    severity: Severity
    column: str | None
    count: int
    message: str
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in reports."""
        return {
            "check": self.check,
            "severity": self.severity,
            "column": self.column,
            "count": self.count,
            "message": self.message,
            "examples": list(self.examples[:MAX_EXAMPLES]),
        }


def error(
    check: str,
    message: str,
    examples: list[dict[str, Any]] | None = None,
    *,
    column: str | None = None,
    count: int = 1,
) -> Finding:
    """A finding of severity "error" (the common case), with keyword defaults for the rest."""
    return Finding(check, "error", column, count, message, examples or [])


def json_value(value: Any) -> Any:
    """Make a cell value JSON-safe and short (NaN and infinities become strings, long text is cut)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + f"... ({len(value)} characters)"
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


@dataclass
class _Tally:
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, int] = field(default_factory=dict)


class ValueIssues:
    """Accumulates value-level problems over batches; turns them into findings at the end.

    Counting per (check, column) and keeping only the first examples keeps memory flat however
    many rows are wrong.
    """

    def __init__(self) -> None:
        self._tallies: dict[tuple[str, str], _Tally] = {}

    def add(
        self,
        check: str,
        column: str,
        count: int,
        examples: list[dict[str, Any]],
        values: dict[str, int] | None = None,
    ) -> None:
        """Record ``count`` more problems of one kind, with examples and (optionally) counts per value."""
        if count <= 0:
            return
        tally = self._tallies.setdefault((check, column), _Tally())
        tally.count += count
        room = MAX_EXAMPLES - len(tally.examples)
        if room > 0:
            tally.examples.extend(examples[:room])
        for value, n in (values or {}).items():
            if value in tally.values or len(tally.values) < 100:
                tally.values[value] = tally.values.get(value, 0) + n

    def count(self, check: str, column: str) -> int:
        """How many problems of this kind were recorded for this column."""
        tally = self._tallies.get((check, column))
        return tally.count if tally else 0

    def findings(self, describe: Callable[[str, str, int, dict[str, int]], str]) -> list[Finding]:
        """Build the findings; ``describe(check, column, count, values)`` writes each message."""
        return [
            Finding(
                check,
                "error",
                column,
                tally.count,
                describe(check, column, tally.count, tally.values),
                tally.examples,
            )
            for (check, column), tally in self._tallies.items()
        ]
