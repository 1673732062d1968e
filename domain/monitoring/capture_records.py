"""Capture files' records as rows: each request's features and the model's answer, per model version.

A record (``domain.deployment.capture``) holds the request and the answer as sent, with their content
types and encodings (``CSV``, ``JSON`` or ``BASE64``). Requests are read as the endpoint reads them
(:mod:`domain.monitoring.capture_bodies`): CSV with or without a header, JSON and JSON Lines; answers
in JSON, CSV or JSON Lines.

A record is counted, not scored, when:

- its answer is not a predictions answer (the model refused the request: an error document): refused;
- something cannot be decoded (the record's JSON, its BASE64, its UTF-8, the request's or the answer's
  syntax, an inference time) or its rows and predictions do not pair up: unreadable;
- it is outside the versioned layout (:mod:`domain.monitoring.captures`): unattributed.

Each row scored keeps its request's ``eventMetadata.inferenceId`` (addressed by row when the request has
several: ``domain.monitoring.rows.row_inference_id``) and ``inferenceTime``, in ``VersionRows``, so that
labels that come later can be joined to the rows they name.

Speed: the records' envelopes are parsed by Arrow in one pass over all the files of a version; the
common case (CSV requests without a header, JSON answers) is recognised and read by Arrow as a whole
(:mod:`domain.monitoring.capture_fast`); the CSV rows of all requests by Arrow in one pass per header,
and each column is converted at once (:mod:`domain.monitoring.columns`). Python reads a record by
itself only outside the common case, and a value by itself only in a JSON request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv

from domain.monitoring.capture_bodies import (
    CSV,
    JSON,
    JSONLINES,
    RequestReader,
    SkippedRecordError,
    answers,
    decoded,
    json_rows,
    media,
)
from domain.monitoring.capture_envelopes import EnvelopeLists, Envelopes, envelopes, in_window
from domain.monitoring.capture_fast import fast_json_rows, fast_rows
from domain.monitoring.columns import (
    CaptureSchema,
    arrow_json_values,
    json_values,
    prediction_values,
    text_values,
)
from domain.monitoring.rows import ColumnValues, VersionRows

__all__ = ["CaptureWindow", "parse_captures"]


@dataclass(frozen=True)
class CaptureWindow:
    """A window of captured traffic, read.

    Attributes
    ----------
    since, until : datetime
    versions : mapping of int to VersionRows
        Each version with at least one request scored.
    files : int
        Capture files read.
    refused, unreadable, unattributed : int
        Records in the window skipped, by reason.
    """

    since: datetime
    until: datetime
    versions: Mapping[int, VersionRows]
    files: int
    refused: int = 0
    unreadable: int = 0
    unattributed: int = 0

    @property
    def rows(self) -> int:
        """Rows scored, over every version."""
        return sum(v.rows for v in self.versions.values())


@dataclass
class _Group:
    """Requests of one shape (CSV with one header, CSV without, JSON rows) and their answers' labels."""

    text: str = ""  # rows read as a whole (capture_fast), before ``lines``
    columns: dict[str, pa.Array] | None = None  # JSON rows read as a whole (capture_fast)
    lines: list[str] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    records: list[int] = field(default_factory=list)  # the records (in the envelopes) the rows are of
    counts: list[int] = field(default_factory=list)  # and each one's rows


@dataclass
class _Version:
    groups: dict[tuple[str, ...] | str | None, _Group] = field(default_factory=dict)
    requests: int = 0


def parse_captures(
    blobs: Sequence[tuple[int | None, bytes]], schema: CaptureSchema, since: datetime, until: datetime
) -> CaptureWindow:
    """Parse capture files into each version's rows of ``[since, until)``.

    Parameters
    ----------
    blobs : sequence of (int or None, bytes)
        Each file's version (None: outside the versioned layout) and content (JSON Lines).
    schema : CaptureSchema
    since, until : datetime
        Timezone-aware; ``since`` inclusive, ``until`` exclusive (by ``eventMetadata.inferenceTime``).

    Returns
    -------
    CaptureWindow
    """
    by_version: dict[int | None, list[bytes]] = {}
    for version, blob in blobs:
        by_version.setdefault(version, []).append(blob)
    counts = {"refused": 0, "unreadable": 0, "unattributed": 0}
    versions: dict[int, VersionRows] = {}
    for version, files in sorted(by_version.items(), key=lambda item: -1 if item[0] is None else item[0]):
        found, bad = envelopes(files)
        counts["unreadable"] += bad
        kept, bad = in_window(found, since, until)
        counts["unreadable"] += bad
        if version is None:
            counts["unattributed"] += len(kept)
            continue
        accumulated = _Version()
        fast = fast_rows(found, kept, schema.names)
        if fast is not None:
            accumulated.groups[None] = _Group(
                text=fast.text,
                labels=fast.labels,
                records=_taken(kept, fast.taken),
                counts=fast.counts.tolist(),
            )
            accumulated.requests += fast.requests
            kept = [index for index, taken in zip(kept, fast.taken.tolist(), strict=True) if not taken]
        fast_json = fast_json_rows(found, kept, schema.names)
        if fast_json is not None:
            accumulated.groups["json-arrow"] = _Group(
                columns=fast_json.columns,
                labels=fast_json.labels,
                records=_taken(kept, fast_json.taken),
                counts=fast_json.counts.tolist(),
            )
            accumulated.requests += fast_json.requests
            kept = [index for index, taken in zip(kept, fast_json.taken.tolist(), strict=True) if not taken]
        records, reader = found.lists(kept), RequestReader(schema.names)
        for position, labels in enumerate(answers(records, range(len(kept)))):
            try:
                if isinstance(labels, SkippedRecordError):
                    raise labels
                _add(accumulated, records, position, labels, reader, kept[position])
            except SkippedRecordError as skip:
                counts[skip.reason] += 1
        if accumulated.requests:
            versions[version] = _rows(version, accumulated, schema, found)
    return CaptureWindow(since=since, until=until, versions=versions, files=len(blobs), **counts)


def _taken(kept: list[int], taken: npt.NDArray[np.bool_]) -> list[int]:
    return np.asarray(kept, dtype=np.int64)[taken].tolist()  # type: ignore[no-any-return]


def _add(
    version: _Version,
    found: EnvelopeLists,
    index: int,
    labels: list[Any] | None,
    reader: RequestReader,
    record: int,
) -> None:
    """Add one record's rows and labels to its group, or raise :class:`SkippedRecordError`."""
    request = decoded(found.in_encoding[index], found.in_data[index]) if found.has_input[index] else None
    if request is None:
        raise SkippedRecordError("unreadable")
    kind = media(found.in_type[index], CSV)
    if kind == CSV:
        header, lines = reader.csv_lines(request)
        group = version.groups.setdefault(header, _Group())
        count = len(lines)
        _check_pairs(count, labels)
        group.lines.extend(lines)
    elif kind in (JSON, JSONLINES):
        rows = json_rows(request, kind)
        group = version.groups.setdefault("json", _Group())
        count = len(rows)
        _check_pairs(count, labels)
        group.rows.extend(rows)
    else:
        raise SkippedRecordError("unreadable")
    group.labels.extend(labels if labels is not None else [None] * count)
    group.records.append(record)
    group.counts.append(count)
    version.requests += 1


def _check_pairs(rows: int, labels: list[Any] | None) -> None:
    if rows == 0 or (labels is not None and len(labels) != rows):
        raise SkippedRecordError("unreadable")


def _rows(version: int, accumulated: _Version, schema: CaptureSchema, found: Envelopes) -> VersionRows:
    """Every group's columns, put end to end (the labels, IDs and capture times in the same order)."""
    parts: list[dict[str, ColumnValues]] = []
    labels: list[Any] = []
    records: list[int] = []
    counts: list[int] = []
    for key, group in accumulated.groups.items():
        if group.columns is not None:
            parts.append(
                {c.name: arrow_json_values(group.columns[c.name], c, schema.dialect) for c in schema.features}
            )
        elif key == "json":
            parts.append(_json_columns(group.rows, schema))
        else:
            text = group.text + ("\n".join(group.lines) + "\n" if group.lines else "")
            parts.append(_csv_columns(text, len(group.labels), None if key is None else tuple(key), schema))
        labels.extend(group.labels)
        records.extend(group.records)
        counts.extend(group.counts)
    columns: dict[str, ColumnValues] = {}
    for column in schema.features:
        pieces = [part[column.name] for part in parts]
        if column.kind == "numeric":
            columns[column.name] = np.concatenate([np.asarray(p, dtype=np.float64) for p in pieces])
        else:
            columns[column.name] = [value for piece in pieces for value in piece]
    columns[schema.prediction.name] = prediction_values(labels, schema.prediction)
    ids, captured_at = found.row_addresses(np.asarray(records, np.int64), np.asarray(counts, np.int64))
    return VersionRows(
        version=version,
        rows=len(labels),
        requests=accumulated.requests,
        columns=columns,
        inference_ids=ids,
        captured_at=captured_at,
    )


def _csv_columns(
    text: str, rows: int, header: tuple[str, ...] | None, schema: CaptureSchema
) -> dict[str, ColumnValues]:
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


def _json_columns(rows: list[Any], schema: CaptureSchema) -> dict[str, ColumnValues]:
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
