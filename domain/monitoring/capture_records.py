"""Capture files' records as rows: each request's features and the model's answer, per model version.

A record (``domain.deployment.capture``) holds the request and the answer as sent, with their content
types and encodings (``CSV``, ``JSON`` or ``BASE64``). Requests are read as the endpoint reads them
(``training/mlops_training/serving``): ``text/csv`` with or without a header (a first line that names
one of the model's features), ``application/json`` (``{"instances": [...]}``, a list of rows or one row;
a row an object or a list in signature order) and ``application/jsonlines``. Answers: the JSON
``{"predictions": [{"prediction": ...}, ...]}``, CSV (the prediction first on each line) or JSON Lines.

A record is counted, not scored, when:

- its answer is not a predictions answer (the model refused the request: an error document): refused;
- something cannot be decoded (the record's JSON, its BASE64, its UTF-8, the request's or the answer's
  syntax, an inference time) or its rows and predictions do not pair up: unreadable;
- it is outside the versioned layout (:mod:`domain.monitoring.captures`): unattributed.

Speed: the records' envelopes are parsed by Arrow in one pass over all the files of a version, the CSV
rows of all its requests by Arrow in one pass per header, and each column is converted at once
(:mod:`domain.monitoring.columns`); Python touches each record once (its body's lines, its answer's
JSON), and each value only in a JSON request.
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from domain.monitoring.capture_envelopes import Envelopes, envelopes, in_window
from domain.monitoring.columns import (
    CaptureSchema,
    ColumnValues,
    json_values,
    prediction_values,
    text_values,
)

__all__ = ["CaptureWindow", "VersionRows", "parse_captures"]

_CSV, _JSON, _JSONLINES = "text/csv", "application/json", "application/jsonlines"


class _SkippedError(Exception):
    """A record that is not scored: ``refused`` or ``unreadable``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VersionRows:
    """The rows a model version answered in the window.

    Attributes
    ----------
    version : int
    rows : int
    requests : int
        The records they came from.
    columns : mapping of str to ColumnValues
        Every feature's values and the prediction column's (``predicted_label`` or ``prediction``).
    """

    version: int
    rows: int
    requests: int
    columns: Mapping[str, ColumnValues]

    def column(self, name: str) -> ColumnValues:
        """A feature's (or the prediction's) values."""
        return self.columns[name]


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

    lines: list[str] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)


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
        reader = _RequestReader(schema.names)
        for index, labels in zip(kept, _answers(found, kept), strict=True):
            try:
                if isinstance(labels, _SkippedError):
                    raise labels
                _add(accumulated, found, index, labels, reader)
            except _SkippedError as skip:
                counts[skip.reason] += 1
        if accumulated.requests:
            versions[version] = _rows(version, accumulated, schema)
    return CaptureWindow(since=since, until=until, versions=versions, files=len(blobs), **counts)


class _RequestReader:
    """Splits CSV requests as the endpoint does: a first line naming one of the features is a header."""

    def __init__(self, features: Sequence[str]) -> None:
        names = "|".join(re.escape(name) for name in sorted(features, key=len, reverse=True))
        # One search per request instead of splitting every first line (most requests have no header).
        self.names_a_feature = re.compile(rf'(?:^|,)\s*"?(?:{names})"?\s*(?:,|$)').search

    def csv_lines(self, text: str) -> tuple[tuple[str, ...] | None, list[str]]:
        """A CSV request's header (None without one) and its row lines."""
        lines = text.splitlines()
        if not lines:
            raise _SkippedError("unreadable")
        header = None
        if self.names_a_feature(lines[0]):
            header = tuple(name.strip().strip('"') for name in lines[0].split(","))
            lines = lines[1:]
        return header, [line for line in lines if line] if "" in lines else lines


def _answers(found: Envelopes, kept: list[int]) -> list[list[Any] | _SkippedError | None]:
    """Each kept record's predicted values (None: no answer captured), or why it is skipped.

    JSON answers, nearly all of them, are parsed in one ``json.loads`` of them all.
    """
    answers: list[list[Any] | _SkippedError | None] = []
    batch: list[tuple[int, str]] = []
    for index in kept:
        try:
            if not found.has_output[index]:
                answers.append(None)
                continue
            text = _decoded(found.out_encoding[index], found.out_data[index])
            media = _media(found.out_type[index], _JSON)
            if media == _JSON and text.strip():
                batch.append((len(answers), text))
                answers.append(None)
            else:
                answers.append(_labels(media, text))
        except _SkippedError as skip:
            answers.append(skip)
    documents: list[Any] | None = None
    if batch:
        try:
            documents = json.loads("[" + ",".join(text for _, text in batch) + "]")
        except ValueError:
            documents = None
        # Each answer is one JSON value when the whole parses into as many (an empty one would not parse).
        if documents is None or len(documents) != len(batch):
            documents = None
    for position, (slot, text) in enumerate(batch):
        try:
            document = documents[position] if documents is not None else _json_document(text)
            answers[slot] = _predictions(document)
        except _SkippedError as skip:
            answers[slot] = skip
    return answers


def _add(
    version: _Version, found: Envelopes, index: int, labels: list[Any] | None, reader: _RequestReader
) -> None:
    """Add one record's rows and labels to its group, or raise :class:`_SkippedError`."""
    request = _decoded(found.in_encoding[index], found.in_data[index]) if found.has_input[index] else None
    if request is None:
        raise _SkippedError("unreadable")
    media = _media(found.in_type[index], _CSV)
    if media == _CSV:
        header, lines = reader.csv_lines(request)
        group = version.groups.setdefault(header, _Group())
        count = len(lines)
        _check_pairs(count, labels)
        group.lines.extend(lines)
    elif media in (_JSON, _JSONLINES):
        rows = _json_rows(request, media)
        group = version.groups.setdefault("json", _Group())
        count = len(rows)
        _check_pairs(count, labels)
        group.rows.extend(rows)
    else:
        raise _SkippedError("unreadable")
    group.labels.extend(labels if labels is not None else [None] * count)
    version.requests += 1


def _check_pairs(rows: int, labels: list[Any] | None) -> None:
    if rows == 0 or (labels is not None and len(labels) != rows):
        raise _SkippedError("unreadable")


@functools.cache
def _media(content_type: str | None, default: str) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower() or default


def _decoded(encoding: str | None, data: str | None) -> str:
    if data is None:
        raise _SkippedError("unreadable")
    if (encoding or "").upper() != "BASE64":
        return data.removeprefix("\ufeff")
    try:
        return base64.b64decode(data, validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError):
        raise _SkippedError("unreadable") from None


def _labels(media: str, text: str) -> list[Any]:
    """The predicted values of an answer; ``refused`` when it is not a predictions answer."""
    if media == _CSV:
        return [_first_field(line) for line in text.splitlines() if line]
    if media == _JSON:
        return _predictions(_json_document(text))
    if media != _JSONLINES:
        raise _SkippedError("refused")
    try:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise _SkippedError("unreadable") from None
    return _prediction_items(items)


def _json_document(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _SkippedError("unreadable") from None


def _predictions(document: Any) -> list[Any]:
    """``{"predictions": [{"prediction": ...}, ...]}``'s values; anything else is a refusal."""
    items = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise _SkippedError("refused")
    return _prediction_items(items)


def _prediction_items(items: list[Any]) -> list[Any]:
    if not all(isinstance(item, dict) and "prediction" in item for item in items):
        raise _SkippedError("refused")
    return [item["prediction"] for item in items]


def _first_field(line: str) -> str:
    if line.startswith('"'):
        return next(csv.reader([line]))[0]
    return line.split(",", 1)[0]


def _json_rows(text: str, media: str) -> list[Any]:
    try:
        if media == _JSONLINES:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        document = json.loads(text)
    except ValueError:
        raise _SkippedError("unreadable") from None
    if isinstance(document, dict) and "instances" in document:
        rows = document["instances"]
        if not isinstance(rows, list):
            raise _SkippedError("unreadable")
        return rows
    return document if isinstance(document, list) else [document]


def _rows(version: int, accumulated: _Version, schema: CaptureSchema) -> VersionRows:
    """Every group's columns, put end to end (the labels in the same order)."""
    parts: list[dict[str, ColumnValues]] = []
    labels: list[Any] = []
    for key, group in accumulated.groups.items():
        if key == "json":
            parts.append(_json_columns(group.rows, schema))
        else:
            parts.append(_csv_columns(group.lines, None if key is None else tuple(key), schema))
        labels.extend(group.labels)
    columns: dict[str, ColumnValues] = {}
    for column in schema.features:
        pieces = [part[column.name] for part in parts]
        if column.kind == "numeric":
            columns[column.name] = np.concatenate([np.asarray(p, dtype=np.float64) for p in pieces])
        else:
            columns[column.name] = [value for piece in pieces for value in piece]
    columns[schema.prediction.name] = prediction_values(labels, schema.prediction)
    return VersionRows(version=version, rows=len(labels), requests=accumulated.requests, columns=columns)


def _csv_columns(
    lines: list[str], header: tuple[str, ...] | None, schema: CaptureSchema
) -> dict[str, ColumnValues]:
    names = header if header is not None else schema.names
    position: dict[str, int] = {}
    for index, name in enumerate(names):
        position.setdefault(name, index)
    table = _arrow_csv(lines, len(names), sorted(position[f] for f in schema.names if f in position))
    columns: dict[str, ColumnValues] = {}
    for column in schema.features:
        at = position.get(column.name)
        values = table[at] if at is not None else pa.nulls(len(lines), pa.string())
        columns[column.name] = text_values(values, column, schema.dialect)
    return columns


def _arrow_csv(lines: list[str], width: int, wanted: list[int]) -> dict[int, pa.Array]:
    """The wanted fields of CSV lines as string columns, by position: one Arrow pass, or row by row in
    Python when Arrow cannot (a row of another width, a quoted line break)."""
    names = [f"f{index}" for index in range(width)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(("\n".join(lines) + "\n").encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys((names[i] for i in wanted), pa.string()),
                include_columns=[names[i] for i in wanted],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        if table.num_rows == len(lines):
            return {i: table.column(names[i]).combine_chunks() for i in wanted}
    except pa.ArrowInvalid:
        pass
    rows = [next(csv.reader([line]), []) for line in lines]
    return {i: pa.array([row[i] if len(row) == width else None for row in rows], pa.string()) for i in wanted}


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
