"""``mlops endpoints invoke --batch N``: a file of rows cut into requests of at most N rows each.

A ``.csv`` file's first line is its header, sent with each request (a request without one must give the
model's features in the model's order, which the file's rows need not); a ``.jsonl`` file is cut by
lines; a ``.json`` file holds a list of rows or ``{"instances": [...]}``, and each request is
``{"instances": [...]}``. Blank lines are not rows.
"""

from __future__ import annotations

import json
from typing import TypeVar

__all__ = ["BatchError", "batches"]


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
