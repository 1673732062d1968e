"""Capture records' envelopes: each record's content types, encodings, bodies, inference time and ID.

The JSON Lines of many files are parsed by Arrow at once, against the fields the monitor reads (others
ignored); a file Arrow cannot parse is read again line by line, so one broken line costs one record
(counted as unreadable), never the window.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from spec.values import epoch_seconds

__all__ = ["EnvelopeLists", "Envelopes", "envelopes", "in_window"]

_PAYLOAD = pa.struct([("observedContentType", pa.string()), ("encoding", pa.string()), ("data", pa.string())])
_SCHEMA = pa.schema(
    [
        ("captureData", pa.struct([("endpointInput", _PAYLOAD), ("endpointOutput", _PAYLOAD)])),
        ("eventMetadata", pa.struct([("inferenceTime", pa.string()), ("inferenceId", pa.string())])),
    ]
)
_OPTIONS = pa_json.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")
_FIELDS = ("observedContentType", "encoding", "data")


@dataclass(frozen=True)
class Envelopes:
    """Records' fields as Arrow arrays, one entry per record (null where a record lacks the field).

    ``has_input``/``has_output``: whether the record captured the request / the answer; ``ids``: the
    ``InferenceId`` the caller gave (``eventMetadata.inferenceId``).
    """

    times: pa.Array
    ids: pa.Array
    has_input: pa.Array
    in_type: pa.Array
    in_encoding: pa.Array
    in_data: pa.Array
    has_output: pa.Array
    out_type: pa.Array
    out_encoding: pa.Array
    out_data: pa.Array

    def __len__(self) -> int:
        return len(self.times)

    @functools.cached_property
    def micros(self) -> npt.NDArray[np.float64]:
        """Each record's inference time in microseconds since the epoch (NaN where it is unreadable)."""
        return _micros(self.times)

    def row_addresses(
        self, records: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
    ) -> tuple[list[str | None], npt.NDArray[np.float64]]:
        """Each row's inference ID and capture time (seconds), for rows of ``counts[i]`` per record
        ``records[i]``, in that order (IDs addressed by ``domain.monitoring.rows.row_inference_id``)."""
        total = int(counts.sum())
        owner = np.repeat(np.arange(len(records)), counts)
        seconds = self.micros[records][owner] / 1e6
        given = self.ids.take(pa.array(records, pa.int64()))
        if given.null_count == len(given):
            return [None] * total, seconds
        # A request's rows are numbered from 0, and only a request of several rows gets ``:<row>``.
        starts = np.cumsum(counts) - counts
        position = pa.array(np.arange(total) - starts[owner]).cast(pa.string())
        per_row = given.take(pa.array(owner, pa.int64()))
        several = pa.array(counts[owner] > 1)
        ids = pc.if_else(several, pc.binary_join_element_wise(per_row, position, ":"), per_row)
        # numpy's object array turns into Python strings (None for a null) many times faster than to_pylist.
        return ids.to_numpy(zero_copy_only=False).tolist(), seconds

    def lists(self, indices: Sequence[int]) -> EnvelopeLists:
        """The records at ``indices`` as Python lists, for reading them one at a time."""
        taken = pa.array(indices, pa.int64())
        values = {name: getattr(self, name).take(taken).to_pylist() for name in _LIST_FIELDS}
        return EnvelopeLists(**values)


@dataclass(frozen=True)
class EnvelopeLists:
    """Some records' fields as Python lists (position ``i`` is the ``i``-th record asked for)."""

    has_input: list[bool]
    in_type: list[str | None]
    in_encoding: list[str | None]
    in_data: list[str | None]
    has_output: list[bool]
    out_type: list[str | None]
    out_encoding: list[str | None]
    out_data: list[str | None]


_LIST_FIELDS = (
    "has_input",
    "in_type",
    "in_encoding",
    "in_data",
    "has_output",
    "out_type",
    "out_encoding",
    "out_data",
)


def envelopes(files: Sequence[bytes]) -> tuple[Envelopes, int]:
    """Every record's envelope in ``files``, and how many lines were not a readable record."""
    tables: list[pa.Table] = []
    try:
        tables.append(_parse(b"\n".join(blob.rstrip(b"\r\n") for blob in files if blob.strip())))
        bad = 0
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        tables, bad = [], 0
        for blob in files:
            try:
                tables.append(_parse(blob))
            except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
                table, broken = _line_by_line(blob)
                tables.append(table)
                bad += broken
    table = pa.concat_tables(tables) if tables else _SCHEMA.empty_table()
    return _fields(table), bad


def in_window(found: Envelopes, since: datetime, until: datetime) -> tuple[list[int], int]:
    """The records whose inference time is in ``[since, until)``, and how many have no readable time."""
    micros = found.micros
    readable = ~np.isnan(micros)
    low, high = (moment.astimezone(UTC).timestamp() * 1e6 for moment in (since, until))
    inside = readable & (micros >= low) & (micros < high)
    return np.flatnonzero(inside).tolist(), int((~readable).sum())


def _parse(content: bytes) -> pa.Table:
    if not content.strip():
        return _SCHEMA.empty_table()
    return pa_json.read_json(io.BytesIO(content), parse_options=_OPTIONS)


def _line_by_line(blob: bytes) -> tuple[pa.Table, int]:
    """The records of a file Arrow refused, one line at a time; the lines that are not records."""
    records: list[dict[str, Any]] = []
    bad = 0
    for line in blob.splitlines():
        if not line.strip():
            continue
        try:
            records.append(_shaped(json.loads(line)))
        except (ValueError, TypeError):
            bad += 1
    return pa.Table.from_pylist(records, _SCHEMA), bad


def _shaped(record: Any) -> dict[str, Any]:
    """A record reduced to the monitored fields, each of its type (or :class:`TypeError`)."""
    if not isinstance(record, dict):
        raise TypeError("not a record")
    data = record.get("captureData") or {}
    metadata = record.get("eventMetadata") or {}
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        raise TypeError("not a record")
    shaped: dict[str, Any] = {}
    for side in ("endpointInput", "endpointOutput"):
        payload = data.get(side)
        if payload is None:
            shaped[side] = None
        elif isinstance(payload, dict) and all(
            isinstance(payload.get(name), (str, type(None))) for name in _FIELDS
        ):
            shaped[side] = {name: payload.get(name) for name in _FIELDS}
        else:
            raise TypeError("not a payload")
    time = metadata.get("inferenceTime")
    if not isinstance(time, (str, type(None))):
        raise TypeError("not a time")
    # An ID that is not a string addresses nothing: the record is still traffic to score, without an ID.
    known = metadata.get("inferenceId")
    return {
        "captureData": shaped,
        "eventMetadata": {"inferenceTime": time, "inferenceId": known if isinstance(known, str) else None},
    }


def _fields(table: pa.Table) -> Envelopes:
    flat = table.flatten().flatten()
    data = table.column("captureData").combine_chunks()
    arrays: dict[str, pa.Array] = {}
    for side, short, whole in (("endpointInput", "in", "input"), ("endpointOutput", "out", "output")):
        arrays[f"has_{whole}"] = pc.is_valid(data.field(side))
        for name, key in zip(_FIELDS, ("type", "encoding", "data"), strict=True):
            arrays[f"{short}_{key}"] = flat.column(f"captureData.{side}.{name}").combine_chunks()
    return Envelopes(
        times=flat.column("eventMetadata.inferenceTime").combine_chunks(),
        ids=flat.column("eventMetadata.inferenceId").combine_chunks(),
        **arrays,
    )


def _micros(times: pa.Array) -> npt.NDArray[np.float64]:
    """Each time in microseconds since the epoch (NaN when it is not an ISO 8601 time)."""
    try:
        parsed = times.cast(pa.timestamp("us", tz="UTC"))
        micros: npt.NDArray[np.float64]
        micros = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return micros
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.fromiter(map(_one_micros, times.to_pylist()), np.float64, len(times))


def _one_micros(text: str | None) -> float:
    if text is None:
        return float("nan")
    seconds = epoch_seconds(text)
    return float("nan") if seconds is None else seconds * 1e6
