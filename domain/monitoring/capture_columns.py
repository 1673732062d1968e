"""Captured requests' bodies as the model's feature columns: CSV rows by Arrow, JSON rows by Python.

Part of the capture reader (:mod:`domain.monitoring.capture_records`): each group of requests of one
shape becomes one column per feature, converted at once (:mod:`domain.monitoring.columns`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from domain.monitoring.columns import CaptureSchema, json_values, text_values
from domain.monitoring.rows import ColumnValues

__all__ = ["csv_columns", "json_columns"]


def csv_columns(
    text: str, rows: int, header: tuple[str, ...] | None, schema: CaptureSchema
) -> dict[str, ColumnValues]:
    """The features of ``rows`` CSV lines (``header``: their names, None: the model's signature order)."""
    names = header if header is not None else schema.names
    position: dict[str, int] = {}
    for index, name in enumerate(names):
        position.setdefault(name, index)
    table = _arrow_csv(text, rows, len(names), sorted(position[f] for f in schema.names if f in position))
    columns: dict[str, ColumnValues] = {}
    for column in schema.features:
        at = position.get(column.name)
        values = table[at] if at is not None else pa.nulls(rows, pa.string())
        columns[column.name] = text_values(values, column, schema.dialect)
    return columns


def _arrow_csv(text: str, rows: int, width: int, wanted: list[int]) -> dict[int, pa.Array]:
    """The wanted fields of ``rows`` CSV lines as string columns, by position: one Arrow pass, or row by
    row in Python when Arrow cannot (a row of another width, a quoted line break)."""
    names = [f"f{index}" for index in range(width)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys((names[i] for i in wanted), pa.string()),
                include_columns=[names[i] for i in wanted],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if table.num_rows == rows:
            return {i: table.column(names[i]).combine_chunks() for i in wanted}
    except pa.ArrowInvalid:
        pass
    fields = [next(csv.reader([line]), []) for line in text.splitlines() if line]
    return {i: pa.array([f[i] if len(f) == width else None for f in fields], pa.string()) for i in wanted}


def json_columns(rows: list[Any], schema: CaptureSchema) -> dict[str, ColumnValues]:
    """The features of JSON rows (objects by name, lists in signature order)."""
    width = len(schema.features)
    columns: dict[str, ColumnValues] = {}
    for index, column in enumerate(schema.features):
        name = column.name
        values = [
            row.get(name)
            if isinstance(row, dict)
            else (row[index] if isinstance(row, list) and len(row) == width else None)
            for row in rows
        ]
        columns[name] = json_values(values, column, schema.dialect)
    return columns
