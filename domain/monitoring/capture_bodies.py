"""The bodies of captured requests and answers, one record at a time (what the Arrow path leaves over).

Requests are split as the endpoint splits them (``training/mlops_training/serving/parse.py``): ``text/csv``
with or without a header (a first line naming one of the model's features), ``application/json``
(``{"instances": [...]}``, a list of rows, or one row) and ``application/jsonlines``. Answers: JSON
``{"predictions": [{"prediction": ...}, ...]}``, CSV (the prediction first on each line) or JSON Lines;
anything else is the model refusing the request.
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.monitoring.capture_probabilities import row_probabilities

if TYPE_CHECKING:
    from domain.monitoring.capture_envelopes import EnvelopeLists

__all__ = [
    "CSV",
    "JSON",
    "JSONLINES",
    "RequestReader",
    "RowProbabilities",
    "SkippedRecordError",
    "answers",
    "decoded",
    "json_rows",
    "media",
]

CSV, JSON, JSONLINES = "text/csv", "application/json", "application/jsonlines"


class SkippedRecordError(Exception):
    """A record that is not scored: ``refused`` or ``unreadable``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestReader:
    """Splits CSV requests as the endpoint does: a first line naming one of the features is a header."""

    def __init__(self, features: Sequence[str]) -> None:
        names = "|".join(re.escape(name) for name in sorted(features, key=len, reverse=True))
        # One search per request instead of splitting every first line (most requests have no header).
        self.names_a_feature = re.compile(rf'(?:^|,)\s*"?(?:{names})"?\s*(?:,|$)').search

    def csv_lines(self, text: str) -> tuple[tuple[str, ...] | None, list[str]]:
        """A CSV request's header (None without one) and its row lines."""
        lines = text.splitlines()
        if not lines:
            raise SkippedRecordError("unreadable")
        header = None
        if self.names_a_feature(lines[0]):
            header = tuple(name.strip().strip('"') for name in lines[0].split(","))
            lines = lines[1:]
        return header, [line for line in lines if line] if "" in lines else lines


#: Each row's class probabilities of one answer (None: the row has none), or None: the answer has none.
RowProbabilities = list[dict[str, float] | None] | None


def answers(
    found: EnvelopeLists, kept: Sequence[int], *, probabilities: bool = False
) -> tuple[list[list[Any] | SkippedRecordError | None], list[RowProbabilities]]:
    """Each kept record's predicted values (None: no answer captured), or why it is skipped; and, with
    ``probabilities``, each record's rows' class probabilities (an empty list when not asked for).

    JSON answers, nearly all of them, are parsed in one ``json.loads`` of them all.
    """
    found_labels: list[list[Any] | SkippedRecordError | None] = []
    found_probabilities: list[RowProbabilities] = []
    batch: list[tuple[int, str]] = []
    for index in kept:
        rows: RowProbabilities = None
        try:
            if not found.has_output[index]:
                found_labels.append(None)
            else:
                text = decoded(found.out_encoding[index], found.out_data[index])
                kind = media(found.out_type[index], JSON)
                if kind == JSON and text.strip():
                    batch.append((len(found_labels), text))
                    found_labels.append(None)
                else:
                    items = _items(kind, text)
                    found_labels.append(_values(items) if items is not None else _csv_labels(text))
                    if probabilities and items is not None:
                        rows = _probabilities(items)
        except SkippedRecordError as skip:
            found_labels.append(skip)
        if probabilities:
            found_probabilities.append(rows)
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
            items = _predictions(document)
            found_labels[slot] = _values(items)
            if probabilities:
                found_probabilities[slot] = _probabilities(items)
        except SkippedRecordError as skip:
            found_labels[slot] = skip
    return found_labels, found_probabilities


@functools.cache
def media(content_type: str | None, default: str) -> str:
    """A content type's media type, lower case, without parameters (``default`` when there is none)."""
    return (content_type or "").split(";", 1)[0].strip().lower() or default


def decoded(encoding: str | None, data: str | None) -> str:
    """A body as text: BASE64 decoded, a byte-order mark dropped; ``unreadable`` when it cannot be."""
    if data is None:
        raise SkippedRecordError("unreadable")
    if (encoding or "").upper() != "BASE64":
        return data.removeprefix("\ufeff")
    try:
        return base64.b64decode(data, validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError):
        raise SkippedRecordError("unreadable") from None


def _items(media: str, text: str) -> list[dict[str, Any]] | None:
    """The rows of a JSON or JSON Lines answer (None for CSV); ``refused`` when it is not predictions."""
    if media == CSV:
        return None
    if media == JSON:
        return _predictions(_json_document(text))
    if media != JSONLINES:
        raise SkippedRecordError("refused")
    try:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise SkippedRecordError("unreadable") from None
    return _prediction_items(items)


def _json_document(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise SkippedRecordError("unreadable") from None


def _predictions(document: Any) -> list[dict[str, Any]]:
    """``{"predictions": [{"prediction": ...}, ...]}``'s rows; anything else is a refusal."""
    items = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise SkippedRecordError("refused")
    return _prediction_items(items)


def _prediction_items(items: list[Any]) -> list[dict[str, Any]]:
    if not all(isinstance(item, dict) and "prediction" in item for item in items):
        raise SkippedRecordError("refused")
    return items


def _values(items: list[dict[str, Any]]) -> list[Any]:
    return [item["prediction"] for item in items]


def _probabilities(items: list[dict[str, Any]]) -> list[dict[str, float] | None]:
    return [row_probabilities(item.get("probabilities")) for item in items]


def _csv_labels(text: str) -> list[Any]:
    """A CSV answer's predicted values: each line's first field (the probabilities follow, unlabelled)."""
    return [_first_field(line) for line in text.splitlines() if line]


def _first_field(line: str) -> str:
    if line.startswith('"'):
        return next(csv.reader([line]))[0]
    return line.split(",", 1)[0]


def json_rows(text: str, media: str) -> list[Any]:
    """A JSON or JSON Lines request's rows, as the endpoint finds them."""
    try:
        if media == JSONLINES:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        document = json.loads(text)
    except ValueError:
        raise SkippedRecordError("unreadable") from None
    if isinstance(document, dict) and "instances" in document:
        rows = document["instances"]
        if not isinstance(rows, list):
            raise SkippedRecordError("unreadable")
        return rows
    return document if isinstance(document, list) else [document]
