"""``mlops endpoints invoke --batch N``: a file of rows cut into requests of at most N rows each; and
``--inference-id-column``/``--inference-ids``: each row a request of its own, named by an inference ID.

A ``.csv`` file's first line is its header, sent with each request (a request without one must give the
model's features in the model's order, which the file's rows need not); a ``.jsonl`` file is cut by
lines; a ``.json`` file holds a list of rows or ``{"instances": [...]}``, and each request is
``{"instances": [...]}``. Blank lines are not rows.

A row's ID taken from a column is taken out of the row (it names the request, it is no feature): the
file's rows must then be named (a ``.csv`` header, JSON objects), every ID one SageMaker takes
(``domain.deployment.inference_id``) and none twice in the file, since a label names one row by it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.deployment.inference_id import InferenceIdError, check_inference_id

__all__ = ["BatchError", "RowRequest", "batches", "row_requests"]


T = TypeVar("T")


class BatchError(ValueError):
    """The file cannot be cut into requests; the message says why and what would do."""


def batches(body: bytes, suffix: str, size: int) -> list[bytes]:
    """The requests that send ``body``'s rows, at most ``size`` rows each, in the file's order.

    Parameters
    ----------
    body : bytes
        The file's content.
    suffix : str
        The file's suffix: ``.csv``, ``.jsonl`` or ``.json``.
    size : int
        Rows per request, at least 1.

    Raises
    ------
    BatchError
        For a size below 1, a file that is not UTF-8 or not JSON, a JSON file that holds no list of rows,
        or a file without rows.
    """
    if size < 1:
        raise BatchError(f"--batch {size}: give the number of rows per request, 1 or more")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchError("the file is not UTF-8 text: send it whole, without --batch") from None
    if suffix == ".json":
        return [json.dumps({"instances": rows}).encode() for rows in _chunks(_json_rows(text), size)]
    lines = [line for line in text.splitlines() if line.strip()]
    header = [lines.pop(0)] if suffix == ".csv" and lines else []
    if not lines:
        raise BatchError("the file has no rows to send")
    return ["\n".join([*header, *rows, ""]).encode() for rows in _chunks(lines, size)]


def _json_rows(text: str) -> list[object]:
    try:
        document = json.loads(text)
    except ValueError:
        raise BatchError("the .json file is not JSON: fix it, or send JSON Lines as .jsonl") from None
    rows = document.get("instances") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not rows:
        raise BatchError('a .json file to cut into requests holds a list of rows or {"instances": [rows]}')
    return rows


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True)
class RowRequest:
    """One row of a file sent as a request of its own, and the inference ID it is sent with.

    Attributes
    ----------
    row : int
        Its position among the file's rows, from 0.
    body : bytes
    inference_id : str
    """

    row: int
    body: bytes
    inference_id: str


def row_requests(
    body: bytes, suffix: str, *, column: str | None, generate: Callable[[], str]
) -> list[RowRequest]:
    """Each of ``body``'s rows as a one-row request, with its ID from ``column`` or from ``generate``.

    Parameters
    ----------
    body, suffix
        As :func:`batches` takes them.
    column : str or None
        The column that holds each row's ID (taken out of the row); None: every row's ID is generated.
    generate : callable
        A new ID (a UUID), when ``column`` is None.

    Raises
    ------
    BatchError
        For a file that is not UTF-8 or not JSON, a file without rows, a column the rows do not name, an
        ID that is missing, empty, too long or not printable, or an ID given to two rows.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BatchError("the file is not UTF-8 text: rows sent one by one are read as text") from None
    rows = _csv_requests(text, column) if suffix == ".csv" else _json_requests(text, suffix, column)
    if not rows:
        raise BatchError("the file has no rows to send")
    requests: list[RowRequest] = []
    first_row: dict[str, int] = {}
    for index, (request, found) in enumerate(rows):
        inference_id = generate() if column is None else found
        if inference_id is None:
            raise BatchError(f"row {index + 1} has no {column!r}: give every row its inference ID")
        try:
            check_inference_id(inference_id, where=f"column {column!r}, row {index + 1}")
        except InferenceIdError as error:
            raise BatchError(str(error)) from None
        if inference_id in first_row:
            raise BatchError(
                f"rows {first_row[inference_id] + 1} and {index + 1} both have the inference ID "
                f"{inference_id!r}: a label names one row by its ID, so give each row its own"
            )
        first_row[inference_id] = index
        requests.append(RowRequest(index, request, inference_id))
    return requests


def _csv_requests(text: str, column: str | None) -> list[tuple[bytes, str | None]]:
    records = [record for record in csv.reader(io.StringIO(text)) if record]
    if not records:
        return []
    header, rows = records[0], records[1:]
    at: int | None = None
    if column is not None:
        if column not in header:
            raise BatchError(f"the header names no column {column!r}; its columns: {', '.join(header)}")
        at = header.index(column)
        header = header[:at] + header[at + 1 :]
    requests: list[tuple[bytes, str | None]] = []
    for number, fields in enumerate(rows, start=1):
        found: str | None = None
        sent = fields
        if at is not None:
            if len(fields) <= at:
                raise BatchError(
                    f"row {number} has {len(fields)} fields: it stops before the column {column!r}"
                )
            found, sent = fields[at], fields[:at] + fields[at + 1 :]
        requests.append((_csv_text([header, sent]), found))
    return requests


def _csv_text(records: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode("utf-8")


def _json_requests(text: str, suffix: str, column: str | None) -> list[tuple[bytes, str | None]]:
    if suffix == ".json":
        rows = _json_rows(text)
    else:
        try:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            raise BatchError("a line of the .jsonl file is not JSON: fix it") from None
    requests: list[tuple[bytes, str | None]] = []
    for number, row in enumerate(rows, start=1):
        found: Any = None
        sent = row
        if column is not None:
            if not isinstance(row, dict):
                raise BatchError(
                    f"row {number} is not a JSON object: only named rows can carry the column {column!r}"
                )
            sent = {name: value for name, value in row.items() if name != column}
            found = row.get(column)
            if found is not None and not isinstance(found, str):
                found = json.dumps(found)  # a number names a row as its JSON text does
        document = {"instances": [sent]} if suffix == ".json" else sent
        requests.append((json.dumps(document).encode("utf-8"), found))
    return requests
