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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from domain.monitoring.capture_bodies import (
    CSV,
    JSON,
    JSONLINES,
    RequestReader,
    RowProbabilities,
    SkippedRecordError,
    answers,
    decoded,
    json_rows,
    media,
)
from domain.monitoring.capture_columns import csv_columns, json_columns
from domain.monitoring.capture_envelopes import EnvelopeLists, Envelopes, envelopes, in_window
from domain.monitoring.capture_fast import fast_json_rows, fast_rows
from domain.monitoring.capture_probabilities import from_python
from domain.monitoring.columns import CaptureSchema, arrow_json_values, prediction_values
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
    # Each row's class probabilities, when asked for: read as a whole (capture_fast), or row by row.
    probability_column: pa.Array | None = None
    probabilities: list[dict[str, float] | None] = field(default_factory=list)


@dataclass
class _Version:
    groups: dict[tuple[str, ...] | str | None, _Group] = field(default_factory=dict)
    requests: int = 0


def parse_captures(
    blobs: Sequence[tuple[int | None, bytes]],
    schema: CaptureSchema,
    since: datetime,
    until: datetime,
    *,
    probabilities: bool = False,
) -> CaptureWindow:
    """Parse capture files into each version's rows of ``[since, until)``.

    Parameters
    ----------
    blobs : sequence of (int or None, bytes)
        Each file's version (None: outside the versioned layout) and content (JSON Lines).
    schema : CaptureSchema
    since, until : datetime
        Timezone-aware; ``since`` inclusive, ``until`` exclusive (by ``eventMetadata.inferenceTime``).
    probabilities : bool
        Read each row's class probabilities too (``VersionRows.probabilities``); the drift monitor does
        not need them.

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
        fast = fast_rows(found, kept, schema.names, probabilities=probabilities)
        if fast is not None:
            accumulated.groups[None] = _Group(
                text=fast.text,
                labels=fast.labels,
                records=_taken(kept, fast.taken),
                counts=fast.counts.tolist(),
                probability_column=fast.probabilities,
            )
            accumulated.requests += fast.requests
            kept = [index for index, taken in zip(kept, fast.taken.tolist(), strict=True) if not taken]
        fast_json = fast_json_rows(found, kept, schema.names, probabilities=probabilities)
        if fast_json is not None:
            accumulated.groups["json-arrow"] = _Group(
                columns=fast_json.columns,
                labels=fast_json.labels,
                records=_taken(kept, fast_json.taken),
                counts=fast_json.counts.tolist(),
                probability_column=fast_json.probabilities,
            )
            accumulated.requests += fast_json.requests
            kept = [index for index, taken in zip(kept, fast_json.taken.tolist(), strict=True) if not taken]
        records, reader = found.lists(kept), RequestReader(schema.names)
        labelled, answered = answers(records, range(len(kept)), probabilities=probabilities)
        for position, labels in enumerate(labelled):
            try:
                if isinstance(labels, SkippedRecordError):
                    raise labels
                rows = answered[position] if probabilities else None
                _add(accumulated, records, position, labels, reader, kept[position], rows)
            except SkippedRecordError as skip:
                counts[skip.reason] += 1
        if accumulated.requests:
            versions[version] = _rows(version, accumulated, schema, found, probabilities=probabilities)
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
    probabilities: RowProbabilities,
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
    group.probabilities.extend(probabilities if probabilities is not None else [None] * count)
    group.records.append(record)
    group.counts.append(count)
    version.requests += 1


def _check_pairs(rows: int, labels: list[Any] | None) -> None:
    if rows == 0 or (labels is not None and len(labels) != rows):
        raise SkippedRecordError("unreadable")


def _rows(
    version: int, accumulated: _Version, schema: CaptureSchema, found: Envelopes, *, probabilities: bool
) -> VersionRows:
    """Every group's columns, put end to end (the labels, IDs, capture times and probabilities in the same
    order)."""
    parts: list[dict[str, ColumnValues]] = []
    chances: list[pa.Array] = []
    labels: list[Any] = []
    records: list[int] = []
    counts: list[int] = []
    for key, group in accumulated.groups.items():
        if group.columns is not None:
            parts.append(
                {c.name: arrow_json_values(group.columns[c.name], c, schema.dialect) for c in schema.features}
            )
        elif key == "json":
            parts.append(json_columns(group.rows, schema))
        else:
            text = group.text + ("\n".join(group.lines) + "\n" if group.lines else "")
            parts.append(csv_columns(text, len(group.labels), None if key is None else tuple(key), schema))
        if probabilities:
            # A CSV group read as a whole may have rows read one at a time after it (same order as labels).
            if group.probability_column is not None:
                chances.append(group.probability_column)
            if group.probabilities:
                chances.append(from_python(group.probabilities))
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
        probabilities=pa.concat_arrays(chances) if chances else None,
    )
