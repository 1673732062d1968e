"""Parquet: spooled to a temporary file (it needs random access), schema checked, read by row group.

Parquet carries types, so a column stored with the wrong type is a schema finding rather than a
value-by-value one; compatible types (int32 for integer, float32 for float, dictionary-encoded
strings for category, any timestamp unit) are accepted and normalized.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import Column, DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.checks import RowNumbers
from domain.data.validation.columns import BatchProcessor
from domain.data.validation.convert import CATEGORY, TIMESTAMP, read_type
from domain.data.validation.csv_reader import CsvOutcome
from domain.data.validation.findings import Finding, ValueIssues, error
from domain.data.validation.messages import too_large_expanded
from domain.data.validation.schema_match import match_columns

BATCH_ROWS = 128 * 1024


def _compatible(stored: pa.DataType, column: Column) -> bool:
    if pa.types.is_dictionary(stored):
        stored = stored.value_type
    kind = column.type
    if kind == "integer":
        return bool(pa.types.is_integer(stored))
    if kind == "float":
        return bool(
            pa.types.is_floating(stored) or pa.types.is_integer(stored) or pa.types.is_decimal(stored)
        )
    if kind in ("string", "category"):
        return bool(
            pa.types.is_string(stored) or pa.types.is_large_string(stored) or pa.types.is_string_view(stored)
        )
    if kind == "boolean":
        return bool(pa.types.is_boolean(stored))
    return bool(pa.types.is_timestamp(stored) or pa.types.is_date(stored))


def _normalize(values: pa.ChunkedArray | pa.Array, column: Column) -> pa.Array | pa.ChunkedArray:
    if column.type == "timestamp":
        stored = values.type
        if pa.types.is_timestamp(stored) and stored.tz is None:
            values = values.cast(pa.timestamp("us"), safe=False)  # zone-less: read as UTC, like CSV
        return values.cast(TIMESTAMP, safe=False)
    if column.type == "category" and pa.types.is_dictionary(values.type):
        return values.cast(CATEGORY)  # keep the encoding: categories are checked on the dictionary
    return values.cast(read_type(column))


def scan_parquet(
    spooled: BinaryIO,
    contract: DatasetContract,
    issues: ValueIssues,
    *,
    on_batch: Callable[[pa.Table], None] | None = None,
) -> CsvOutcome:
    """Check the schema, then check and profile every row group of a spooled Parquet file.

    Parameters
    ----------
    spooled : BinaryIO
        A seekable file holding the whole upload.
    contract : DatasetContract
    issues : ValueIssues
        Collects value-level problems.
    on_batch : callable, optional
        Receives each normalized batch (contract order and types).

    Returns
    -------
    CsvOutcome
        The same outcome shape as for CSV (``header`` is the list of stored column names).
    """
    outcome = CsvOutcome()
    try:
        parquet = pq.ParquetFile(spooled)
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError):
        message = (
            "The file starts like Parquet but cannot be opened: its footer (the schema and the index of "
            "the data, at the end of the file) is missing or corrupt, which usually means the upload is "
            "truncated. Write the file again and re-upload it."
        )
        outcome.findings.append(error(f.FILE_UNREADABLE, message))
        return outcome
    names = list(schema.names)
    outcome.header = names
    expanded = sum(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.num_row_groups))
    if expanded > contract.limits.max_file_bytes:
        outcome.findings.append(too_large_expanded(contract.limits.max_file_bytes, expanded=expanded))
        return outcome
    match = match_columns(names, contract)
    outcome.findings.extend(match.findings)
    duplicated = {name for name in names if names.count(name) > 1}
    readable: list[Column] = []
    for column in contract.columns:
        if column.name not in match.positions or column.name in duplicated:
            continue
        stored = schema.field(match.positions[column.name]).type
        if _compatible(stored, column):
            readable.append(column)
        else:
            message = (
                f"Column {column.name!r} is stored as {stored} in this Parquet file, but the contract "
                f"declares it {column.type}. Write it as {read_type(column)}, or fix the contract."
            )
            outcome.findings.append(
                error(f.SCHEMA_WRONG_TYPE, message, [{"value": str(stored)}], column=column.name)
            )
    if any(finding.check == f.HEADER_TOO_MANY_COLUMNS for finding in match.findings):
        return outcome
    present = [column.name for column in readable]
    processor = BatchProcessor(contract, present, issues, RowNumbers())
    outcome.processor = processor
    outcome.parsed = True
    for group in range(parquet.num_row_groups):
        batches = parquet.iter_batches(
            batch_size=BATCH_ROWS, row_groups=[group], columns=present, use_threads=False
        )
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError):
                outcome.findings.append(_corrupt(group, parquet.num_row_groups, processor.rows))
                outcome.parsed = False  # rows were left unread: counting them would mislead
                return outcome
            if batch is None:
                break
            columns = []
            for name, column in zip(present, readable, strict=True):
                try:
                    columns.append(_normalize(batch.column(name), column))
                except pa.ArrowInvalid:
                    outcome.findings.append(_out_of_range(column, batch.column(name).type, processor.rows))
                    outcome.parsed = False
                    return outcome
            normalized = processor.process(pa.table(columns, names=present))
            if on_batch is not None:
                on_batch(normalized)
    return outcome


def _corrupt(group: int, groups: int, rows: int) -> Finding:
    message = (
        f"Row group {group + 1} of {groups} (from data row {rows + 1:,}) cannot be read: its data does not "
        "decompress or decode, so the file is corrupt. Write it again and re-upload it."
    )
    return error(f.FILE_UNREADABLE, message, [{"row": rows + 1}])


def _out_of_range(column: Column, stored: pa.DataType, rows: int) -> Finding:
    message = (
        f"Column {column.name!r} holds values, in the batch of rows from data row {rows + 1:,}, that the "
        f"contract's type {column.type} ({read_type(column)}) cannot hold: they are stored as {stored} and "
        "are too large or too small for it. Fix those values, or store the column with the contract's type."
    )
    return error(f.VALUE_TYPE, message, [{"row": rows + 1}], column=column.name)
