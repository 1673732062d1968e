"""Value checks: turning a mask of bad cells into a count, examples with row numbers, and a message.

The column validators (:mod:`domain.data.validation.columns`) decide cheaply, per batch, whether anything
is wrong (a null count, a min/max, a lookup that missed); only then are masks built and examples
taken here, so clean data pays nothing for the detail that dirty data gets.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from domain.data.contract import DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.convert import python_value
from domain.data.validation.findings import MAX_EXAMPLES, ValueIssues, json_value

Mask = npt.NDArray[np.bool_]


class RowNumbers:
    """Maps the index of a parsed row to its 1-based data row in the file.

    Rows the CSV reader skipped as malformed are not in the batches, so the n-th parsed row is the
    n-th data row plus the number of skipped rows before it.
    """

    def __init__(self) -> None:
        self.skipped: list[int] = []  # 1-based data rows, ascending

    def skip(self, row: int) -> None:
        """Record that data row ``row`` (1-based) was skipped."""
        if len(self.skipped) < 1_000_000:  # beyond that, later row numbers may be off; memory stays flat
            bisect.insort(self.skipped, row)

    def row(self, index: int) -> int:
        """The 1-based data row of the parsed row at 0-based ``index``."""
        row = index + 1
        for skipped in self.skipped:
            if skipped <= row:
                row += 1
            else:
                break
        return row


def to_mask(values: pa.Array | pa.ChunkedArray | Mask) -> Mask:
    """A boolean Arrow result (nulls counted as False) or numpy mask as a numpy mask."""
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def record(
    issues: ValueIssues,
    check: str,
    column: str,
    mask: Mask,
    values: pa.Array | pa.ChunkedArray,
    *,
    first_row: int,
    rows: RowNumbers,
    value_counts: bool = False,
) -> int:
    """Count the cells where ``mask`` is true, keep the first examples, and return the count.

    Parameters
    ----------
    issues : ValueIssues
        Where the count and examples go.
    check, column : str
        The check id and column name.
    mask : numpy.ndarray of bool
        Which cells of this batch are wrong.
    values : pyarrow.Array or ChunkedArray
        The cells (as read), for the examples.
    first_row : int
        Index of the batch's first parsed row.
    rows : RowNumbers
        To report file row numbers.
    value_counts : bool
        Also count the distinct wrong values (for messages such as "'diamond' (3 rows)").
    """
    positions = np.flatnonzero(mask)
    if len(positions) == 0:
        return 0
    shown = positions[:MAX_EXAMPLES]
    cells = values.take(pa.array(shown)).to_pylist()
    examples = [
        {"row": rows.row(first_row + int(p)), "value": json_value(python_value(v))}
        for p, v in zip(shown, cells, strict=True)
    ]
    counted: dict[str, int] | None = None
    if value_counts:
        counted = {}
        for value in values.take(pa.array(positions[:10_000])).to_pylist():
            key = str(json_value(python_value(value)))
            counted[key] = counted.get(key, 0) + 1
    issues.add(check, column, len(positions), examples, counted)
    return len(positions)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _top(values: dict[str, int]) -> str:
    ordered = sorted(values.items(), key=lambda item: -item[1])[:5]
    return ", ".join(f"{value!r} ({_plural(n, 'row', 'rows')})" for value, n in ordered)


def describer(contract: DatasetContract) -> Callable[[str, str, int, dict[str, int]], str]:
    """Message writer for value-level findings, with the contract's rules in each message."""

    def describe(check: str, name: str, count: int, values: dict[str, int]) -> str:
        column = contract.column(name)
        cells = _plural(count, "value", "values")
        are = "is" if count == 1 else "are"
        if check == f.VALUE_TYPE:
            kind = {
                "integer": "whole numbers (like 42)",
                "float": "numbers (like 3.14)",
                "boolean": f"booleans ({', '.join(contract.csv.true_values + contract.csv.false_values)})",
                "timestamp": "ISO 8601 timestamps (like 2024-05-01T10:00:00Z)",
            }.get(column.type, column.type)
            return (
                f"{cells} in column {name!r} cannot be read as {column.type}: the contract expects {kind}. "
                f"Fix these values, or change the column's type in the contract."
            )
        if check == f.VALUE_NULL:
            return (
                f"{_plural(count, 'row has', 'rows have')} no value in column {name!r}, which is not "
                "nullable. Fill these values in, or declare the column `nullable: true`."
            )
        if check == f.VALUE_RANGE:
            bounds = " and ".join(
                part
                for part in (
                    f"at least {column.min}" if column.min is not None else "",
                    f"at most {column.max}" if column.max is not None else "",
                )
                if part
            )
            return (
                f"{cells} in column {name!r} {are} out of range: the contract requires {bounds}. "
                "Fix these values, or widen min/max in the contract."
            )
        if check == f.VALUE_CATEGORY:
            allowed = ", ".join(repr(c) for c in column.categories)
            return (
                f"{cells} in column {name!r} {are} not among the allowed categories: {_top(values)}. "
                f"Allowed: {allowed}. Fix these values, or add them to the column's categories."
            )
        if check == f.VALUE_NAN_INF:
            return (
                f"{cells} in column {name!r} {are} NaN or infinite, which the contract does not allow. "
                "Replace them with numbers (or leave them empty if the column is nullable), or set "
                "`allow_nan_inf: true`."
            )
        raise ValueError(f"no message for check {check!r}")

    return describe
