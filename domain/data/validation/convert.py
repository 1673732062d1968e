"""Contract types in Arrow, and converting text to them while saying exactly which values do not convert.

The fast path lets the CSV reader convert columns itself. When it fails (it says which column, not
which row), the diagnostic pass reads the columns as text and calls :func:`convert_text`, which
finds every value that does not convert without trying them one by one: a regular expression that
accepts a superset of Arrow's syntax rules out most bad values at once, then Arrow's own cast decides
for the rest (bisecting only where it fails), so the diagnosis agrees with the fast path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import Column, CsvDialect, DatasetContract
from spec.values import BLANKS, NUMBER_SYNTAX, TIMESTAMP_SYNTAX, ZONE_SYNTAX

TIMESTAMP = pa.timestamp("us", tz="UTC")
CATEGORY = pa.dictionary(pa.int32(), pa.string())

# What text may be a value of each type (spec.values); Arrow's cast decides the rest.
_SYNTAX = {**NUMBER_SYNTAX, "timestamp": TIMESTAMP_SYNTAX}


def read_type(column: Column) -> pa.DataType:
    """The Arrow type the CSV reader converts a column to on the fast path.

    Categories are read as plain strings: the reader converts them faster than to dictionaries,
    and the check looks each value up in the contract's list anyway. Timestamps are read as
    strings because the reader cannot take values with and without a UTC offset in one column.
    """
    return {"integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}.get(column.type, pa.string())


def snapshot_type(column: Column) -> pa.DataType:
    """The Arrow type of a column in the normalized snapshot."""
    return {
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "string": pa.string(),
        "category": CATEGORY,
        "timestamp": TIMESTAMP,
    }[column.type]


def snapshot_schema(contract: DatasetContract) -> pa.Schema:
    """The schema of an accepted snapshot: contract order and types, nullability as declared."""
    return pa.schema([pa.field(c.name, snapshot_type(c), nullable=c.nullable) for c in contract.columns])


def _invalid_positions(text: pa.Array, target: pa.DataType, candidates: npt.NDArray[np.int64]) -> list[int]:
    """Positions among ``candidates`` whose text Arrow cannot cast to ``target`` (bisection)."""
    bad: list[int] = []
    stack = [candidates]
    while stack:
        part = stack.pop()
        try:
            pc.cast(text.take(pa.array(part)), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if len(part) == 1:
                bad.append(int(part[0]))
            else:
                middle = len(part) // 2
                stack.extend((part[middle:], part[:middle]))
    return bad


def _cast_checked(text: pa.Array, target: pa.DataType, syntax: str) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """Cast ``text`` to ``target``; values that cannot be cast become null and are flagged."""
    invalid = np.zeros(len(text), dtype=bool)
    try:
        return pc.cast(text, target), invalid
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    matches = pc.match_substring_regex(text, syntax).fill_null(True)
    invalid |= ~np.asarray(matches.to_numpy(zero_copy_only=False), dtype=bool)
    plausible = np.flatnonzero(~invalid & np.asarray(text.is_valid().to_numpy(zero_copy_only=False)))
    if len(plausible):
        invalid[_invalid_positions(text, target, plausible)] = True
    cleaned = pc.if_else(pa.array(invalid), pa.scalar(None, text.type), text)
    return pc.cast(cleaned, target), invalid


def _to_timestamp(text: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """ISO 8601 text to timestamp[us, UTC]; values without an offset are taken as UTC."""
    zoned = pc.match_substring_regex(text, ZONE_SYNTAX).fill_null(False)
    has_zone = np.asarray(zoned.to_numpy(zero_copy_only=False), dtype=bool)
    null = pa.scalar(None, text.type)
    naive_text = pc.if_else(zoned, null, text)
    naive, bad_naive = _cast_checked(naive_text, pa.timestamp("us"), _SYNTAX["timestamp"])
    naive = pc.cast(naive, TIMESTAMP)  # a zone-less timestamp is read as UTC: attach the zone as is
    if not has_zone.any():
        return naive, bad_naive
    aware, bad_aware = _cast_checked(pc.if_else(zoned, text, null), TIMESTAMP, _SYNTAX["timestamp"])
    return pc.if_else(zoned, aware, naive), bad_naive | bad_aware


def convert_text(
    text: pa.Array, column: Column, dialect: CsvDialect
) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """Convert a text column to the column's read type, flagging the values that do not convert.

    Parameters
    ----------
    text : pyarrow.Array
        String values as read (nulls already applied).
    column : Column
        The declared column.
    dialect : CsvDialect
        For the spellings of true and false.

    Returns
    -------
    (pyarrow.Array, numpy.ndarray of bool)
        The converted values (null where a value does not convert) and the mask of those values.
    """
    if column.type in ("string", "category"):
        return text, np.zeros(len(text), dtype=bool)
    trimmed = pc.utf8_trim(text, BLANKS)
    if column.type == "boolean":
        truthy = pc.is_in(text, value_set=pa.array(dialect.true_values, pa.string()))
        known = pc.is_in(text, value_set=pa.array(dialect.true_values + dialect.false_values, pa.string()))
        invalid = np.asarray(
            pc.and_(text.is_valid(), pc.invert(known)).to_numpy(zero_copy_only=False), dtype=bool
        )
        return pc.if_else(known, truthy, pa.scalar(None, pa.bool_())), invalid
    if column.type == "timestamp":
        return _to_timestamp(trimmed)
    return _cast_checked(trimmed, read_type(column), _SYNTAX[column.type])


def to_snapshot(values: pa.Array | pa.ChunkedArray, column: Column) -> pa.Array | pa.ChunkedArray:
    """Normalize checked values to the snapshot type (categories against the contract's dictionary)."""
    if column.type == "category":
        dictionary = pa.array(column.categories, pa.string())
        indices = pc.index_in(values, value_set=dictionary)
        chunks = indices.chunks if isinstance(indices, pa.ChunkedArray) else [indices]
        return pa.chunked_array([pa.DictionaryArray.from_arrays(c, dictionary) for c in chunks], CATEGORY)
    return values.cast(snapshot_type(column))


def python_value(value: Any) -> Any:
    """A cell value as a plain Python object (timestamps as ISO 8601 text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
