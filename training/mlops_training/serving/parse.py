"""A request's body as the model's feature matrix: its size, type and encoding, then its rows, checked.

CSV rows are checked a whole column at a time when every field is valid as it stands, else value by
value (:mod:`.checks` has both forms of each check); JSON rows are checked value by value.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .protocol import CSV, JSON, JSONLINES, RequestError, media_type
from .rows import Parsed, Rows
from .spec import ServingSpec

_NOT_UTF8 = "send CSV or JSON encoded as UTF-8 (re-encode a file saved as Latin-1 or Windows-1252)"
_REPLACED = "\ufffd"  # what a lenient decoder puts where bytes are not UTF-8


def parse_request(spec: ServingSpec, body: bytes | str, content_type: str | None) -> Parsed:
    """The feature matrix of a request, every value checked against the contract.

    Raises
    ------
    RequestError
        413, 415 or 400, with a message naming what is wrong and where.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(raw) > spec.max_payload_bytes:
        raise RequestError(
            413, f"the request has {len(raw):,} bytes, more than the endpoint's {spec.max_payload_bytes:,}"
        )
    media = media_type(content_type) or CSV
    if media not in (CSV, JSON, JSONLINES):
        raise RequestError(415, f"content type {media!r} is not served; send {CSV}, {JSON} or {JSONLINES}")
    text = _utf8_text(body, raw)
    if media == CSV:
        try:
            return _csv_rows(spec, text)
        except csv.Error as error:
            raise RequestError(400, f"the request is not valid CSV: {error}") from None
    try:
        if media == JSONLINES:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            document = json.loads(text)
            if isinstance(document, dict) and "instances" in document:
                records = document["instances"]
                if not isinstance(records, list):
                    raise RequestError(400, '"instances" must be a list of rows')
            elif isinstance(document, list):
                records = document
            else:
                records = [document]
    except ValueError as error:
        raise RequestError(400, f"the request is not valid JSON: {error}") from None
    return _json_rows(spec, records)


def _csv_rows(spec: ServingSpec, text: str) -> Parsed:
    lines = [row for row in csv.reader(io.StringIO(text)) if row]
    if not lines:
        raise RequestError(400, "the request has no rows")
    header: list[str] | None = None
    if any(value.strip() in spec.checks for value in lines[0]):  # names a feature
        header = [value.strip() for value in lines[0]]
        lines = lines[1:]
        if not lines:
            raise RequestError(400, "the request has a header but no rows")
    rows = Rows(spec, len(lines))
    if header is not None:
        checks = rows.names(0, header)
        if rows.put_columns(checks, lines):
            return rows.result()
        for number, line in enumerate(lines):
            if len(line) != len(header):
                rows.problem(f"row {number}: {len(line)} values for {len(header)} header fields")
                continue
            for check, value in zip(checks, line, strict=True):
                if check is not None:
                    rows.put(number, check, value, text=True)
    else:
        ordered = [spec.checks[name] for name in spec.features]
        if rows.put_columns(list(ordered), lines):
            return rows.result()
        for number, line in enumerate(lines):
            if len(line) != len(ordered):
                rows.problem(_arity_problem(spec, number, len(line), "values without a header"))
                continue
            for check, value in zip(ordered, line, strict=True):
                rows.put(number, check, value, text=True)
    return rows.result()


def _arity_problem(spec: ServingSpec, number: int, count: int, what: str) -> str:
    """A row of values by position with the wrong number of them."""
    return (
        f"row {number}: {count} {what}; the model reads {len(spec.features)} features in this order: "
        f"{', '.join(spec.features)}"
    )


def _json_rows(spec: ServingSpec, records: list[Any]) -> Parsed:
    if not records:
        raise RequestError(400, "the request has no rows")
    rows = Rows(spec, len(records))
    checks = spec.checks
    ordered = [checks[name] for name in spec.features]
    checked: tuple[str, ...] | None = None  # the field names last checked (rows usually share them)
    for number, record in enumerate(records):
        if isinstance(record, dict):
            names = tuple(record)
            if names != checked:
                rows.names(number, list(names))
                checked = names
            for name, value in record.items():
                check = checks.get(name)
                if check is not None:
                    rows.put(number, check, value, text=False)
        elif isinstance(record, list):
            if len(record) != len(ordered):
                rows.problem(_arity_problem(spec, number, len(record), "values in a list"))
                continue
            for check, value in zip(ordered, record, strict=True):
                rows.put(number, check, value, text=False)
        else:
            rows.problem(f"row {number}: {type(record).__name__} is not a row (an object or a list)")
    return rows.result()


def _utf8_text(body: bytes | str, raw: bytes) -> str:
    """The request as text; 400 where it is not UTF-8, or was not before something decoded it.

    The container decodes a ``text/csv`` or ``application/json`` body itself before ``input_fn`` sees
    it, replacing what is not UTF-8 with U+FFFD (as API Gateway does with a body that is not one of its
    binary media types); other types arrive as bytes. Predicting on that text would read values the
    client never sent.
    """
    try:
        text = body.removeprefix("\ufeff") if isinstance(body, str) else raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise RequestError(
            400,
            f"the request is not UTF-8 text: byte 0x{raw[error.start]:02x} at offset {error.start} "
            f"(line {line}) is not UTF-8; {_NOT_UTF8}",
        ) from None
    at = text.find(_REPLACED)
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise RequestError(
            400,
            f"the request is not UTF-8 text: line {line}, column {column} is U+FFFD, which stands for "
            f"bytes that were not UTF-8 when the request was decoded; {_NOT_UTF8}",
        )
    return text
