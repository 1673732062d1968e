"""Serving one model: requests checked against the dataset's contract, predictions with probabilities.

The endpoint's code (``inference.py``) is a thin adapter from the scikit-learn container's handler
functions to this module, which knows nothing of HTTP and is tested in-process.

Requests
--------
- ``text/csv``: one row per line. A first line that names at least one of the model's features is a
  header, and the rows are read by name; without one, each row holds the model's features in its
  signature order (``ServingSpec.features``).
- ``application/json``: ``{"instances": [...]}``, a list of rows, or one row; a row is an object (by
  name) or a list (signature order).
- ``application/jsonlines``: one JSON row per line.

Each value is checked as the contract says: its type (the CSV spellings of the contract's dialect for
booleans and nulls), nulls only where ``nullable``, ``min``/``max``, NaN and infinity only where
allowed, categories from the contract's list (``serving.unknown_categories``: ``reject``, or
``as_missing`` with a warning). Fields the contract does not declare follow ``extra_columns``
(``reject`` answers 400; ``warn`` adds a warning; ``ignore``). Contract columns that the model does not
read (the target, free-text columns, the split key) may be sent and are ignored.

Every problem is a :class:`RequestError` with an HTTP status and a message naming the row and the
column: 400 for a bad payload (text that is not UTF-8 included), 413 for one over
``MLOPS_MAX_PAYLOAD_BYTES``, 415 for an unsupported content type, 406 for an unsupported ``Accept``.

Responses
---------
JSON: ``{"predictions": [{"prediction": ..., "probabilities": {label: p, ...}}, ...]}`` (probabilities
for classifiers only), plus ``"warnings"`` when there are any. CSV: one line per row, the prediction then
the probability of each class in ``classes`` order.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "Prediction",
    "RequestError",
    "ServingSpec",
    "parse_request",
    "predict_rows",
    "render",
]

DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time endpoints' own limit
MAX_PROBLEMS = 10  # problems listed in one answer; the count says how many there were
CSV, JSON, JSONLINES = "text/csv", "application/json", "application/jsonlines"
_NUMERIC = ("integer", "float")


class RequestError(Exception):
    """The request cannot be answered with a prediction; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body."""
        body: dict[str, Any] = {"error": _REASONS.get(self.status, "Error"), "message": self.message}
        if self.problems:
            body["problems"] = self.problems
        return body


_REASONS = {
    400: "BadRequest",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


@dataclass(frozen=True)
class _Column:
    name: str
    type: str
    nullable: bool
    minimum: float | None
    maximum: float | None
    categories: frozenset[str]
    allow_nan_inf: bool
    feature: int | None  # index in the feature matrix, or None when the model does not read it


@dataclass(frozen=True)
class ServingSpec:
    """What a request must look like, from the model's signature and the dataset's contract.

    Attributes
    ----------
    features : tuple of str
        The model's input columns, in feature matrix order (and headerless CSV order).
    columns : dict
        Every contract column by name.
    task : {"classification", "regression"}
    classes : list, optional
        The class labels, in probability order.
    extra_columns : {"reject", "warn", "ignore"}
    unknown_categories : {"reject", "as_missing"}
    max_payload_bytes : int
    """

    features: tuple[str, ...]
    columns: dict[str, _Column]
    task: str
    classes: list[Any] | None
    extra_columns: str
    unknown_categories: str
    true_values: frozenset[str]
    false_values: frozenset[str]
    null_values: frozenset[str]
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    labels: tuple[str, ...] = field(default=())

    @functools.cached_property
    def column_checks(self) -> dict[str, Callable[[list[str]], Any]]:
        """Each feature column's check of a whole CSV column (see :func:`_valid_column`), made once."""
        return {
            name: _valid_column(self, column)
            for name, column in self.columns.items()
            if column.feature is not None
        }

    @classmethod
    def from_documents(
        cls, signature: dict[str, Any], contract: dict[str, Any], max_payload_bytes: int | None = None
    ) -> ServingSpec:
        """Build from ``model_signature.json`` and ``contract.json`` (as the model archive holds them)."""
        features = tuple(f["name"] for f in signature["features"])
        index = {name: i for i, name in enumerate(features)}
        columns = {
            c["name"]: _Column(
                name=c["name"],
                type=c["type"],
                nullable=bool(c.get("nullable", False)),
                minimum=c.get("min"),
                maximum=c.get("max"),
                categories=frozenset(c.get("categories") or ()),
                allow_nan_inf=bool(c.get("allow_nan_inf", False)),
                feature=index.get(c["name"]),
            )
            for c in contract["columns"]
        }
        missing = [name for name in features if name not in columns]
        if missing:
            raise ValueError(f"the model reads {missing}, which the contract does not declare")
        dialect = contract.get("csv") or {}
        classes = signature.get("classes")
        return cls(
            features=features,
            columns=columns,
            task=signature["task"],
            classes=classes,
            extra_columns=contract.get("extra_columns", "reject"),
            unknown_categories=(contract.get("serving") or {}).get("unknown_categories", "reject"),
            true_values=frozenset(dialect.get("true_values", ["true", "True", "TRUE", "1"])),
            false_values=frozenset(dialect.get("false_values", ["false", "False", "FALSE", "0"])),
            null_values=frozenset(dialect.get("null_values", ["", "NA", "N/A", "null", "NULL", "None"])),
            max_payload_bytes=max_payload_bytes or DEFAULT_MAX_PAYLOAD_BYTES,
            labels=tuple(_label(c) for c in classes or ()),
        )

    @classmethod
    def from_model_dir(cls, model_dir: Path, max_payload_bytes: int | None = None) -> ServingSpec:
        """Read ``model_signature.json`` and ``contract.json`` from an extracted model archive."""
        signature = json.loads((model_dir / "model_signature.json").read_text(encoding="utf-8"))
        contract = json.loads((model_dir / "contract.json").read_text(encoding="utf-8"))
        return cls.from_documents(signature, contract, max_payload_bytes)


@dataclass
class Parsed:
    """A request's rows as the model's feature matrix, and what was worth a warning."""

    matrix: npt.NDArray[np.object_]
    warnings: list[str]


@dataclass(frozen=True)
class Prediction:
    """The model's answer for the rows of one request."""

    predicted: list[Any]
    probabilities: npt.NDArray[np.float64] | None
    warnings: list[str]


def _label(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


class _Rows:
    """Checks values one by one and fills the feature matrix; collects problems and warnings."""

    def __init__(self, spec: ServingSpec, rows: int) -> None:
        self.spec = spec
        self.matrix = np.empty((rows, len(spec.features)), dtype=object)
        self.problems: list[str] = []
        self.count = 0
        self.warnings: dict[str, None] = {}

    def problem(self, text: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def names(self, row: int, names: list[str]) -> list[_Column | None]:
        """The columns of a row given by name; checks missing and undeclared fields."""
        spec = self.spec
        columns = [spec.columns.get(name) for name in names]
        unknown = [name for name, column in zip(names, columns, strict=True) if column is None]
        if unknown:
            listed = ", ".join(repr(n) for n in unknown)
            if spec.extra_columns == "reject":
                self.problem(f"row {row}: field(s) {listed} are not in the dataset's contract")
            elif spec.extra_columns == "warn":
                self.warnings[f"ignored field(s) not in the contract: {listed}"] = None
        present = set(names)
        missing = [name for name in spec.features if name not in present]
        if missing:
            self.problem(f"row {row}: missing field(s) {', '.join(repr(n) for n in missing)}")
        return columns

    def put(self, row: int, column: _Column, value: Any, *, text: bool) -> None:
        """Check one value and write it to the matrix (if the model reads the column)."""
        if column.feature is None:
            return
        converted = self._convert(row, column, value, text)
        self.matrix[row, column.feature] = converted

    def put_valid_text(self, columns: list[_Column | None], lines: list[list[str]]) -> bool:
        """Fill the matrix column by column if every CSV field is valid as it stands (``columns[i]``
        reads field ``i`` of each line); False, leaving the rest to :meth:`put`, if any is not.

        Valid fields are most requests' whole content: they are converted without the per-value
        bookkeeping that a problem or a warning needs, to what :meth:`put` would write.
        """
        if any(len(line) != len(columns) for line in lines):
            return False
        fields = list(zip(*lines, strict=True))  # the CSV's columns
        try:
            for position, column in enumerate(columns):
                if column is not None and column.feature is not None:
                    convert = self.spec.column_checks[column.name]
                    self.matrix[:, column.feature] = convert(list(fields[position]))
        except _FullCheckNeededError:
            return False
        return True

    def _convert(self, row: int, column: _Column, value: Any, text: bool) -> Any:
        spec = self.spec
        if value is None or (text and value in spec.null_values):
            if not column.nullable:
                self.problem(f"row {row}, {column.name!r}: a value is required (the column is not nullable)")
            return np.nan
        kind = column.type
        where = f"row {row}, {column.name!r}"
        if kind in _NUMERIC:
            number = self._number(where, column, value, text)
            if number is None:
                return np.nan
            if math.isfinite(number):
                if column.minimum is not None and number < column.minimum:
                    self.problem(f"{where}: {value!r} is below the minimum {column.minimum}")
                elif column.maximum is not None and number > column.maximum:
                    self.problem(f"{where}: {value!r} is above the maximum {column.maximum}")
            elif not column.allow_nan_inf:
                self.problem(f"{where}: {value!r} is not a finite number")
            return number
        if kind == "category":
            if isinstance(value, str) and value in column.categories:
                return value
            if not isinstance(value, str):
                self.problem(f"{where}: {value!r} is not a category (expected a string)")
                return np.nan
            allowed = ", ".join(sorted(column.categories))
            if spec.unknown_categories == "as_missing":
                self.warnings[f"{column.name!r}: unknown category {value!r} treated as missing"] = None
                return np.nan
            self.problem(f"{where}: {value!r} is not one of the categories ({allowed})")
            return np.nan
        if kind == "boolean":
            if isinstance(value, bool):
                return 1.0 if value else 0.0
            if text and value in spec.true_values:
                return 1.0
            if text and value in spec.false_values:
                return 0.0
            self.problem(f"{where}: {value!r} is not a boolean")
            return np.nan
        if kind == "timestamp":
            return self._timestamp(where, value)
        return value  # string columns are never features

    def _number(self, where: str, column: _Column, value: Any, text: bool) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.problem(f"{where}: {value!r} is not a number")
            return None
        if isinstance(value, str):
            if not text:
                self.problem(f"{where}: {value!r} is a string, not a number")
                return None
            try:
                number = float(value)
            except ValueError:
                self.problem(f"{where}: {value!r} is not a number")
                return None
        else:
            number = float(value)
        if column.type == "integer" and math.isfinite(number) and not number.is_integer():
            self.problem(f"{where}: {value!r} is not an integer")
            return None
        return number

    def _timestamp(self, where: str, value: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)  # seconds since the epoch
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                return moment.timestamp()
        self.problem(f"{where}: {value!r} is not an ISO 8601 timestamp")
        return np.nan

    def result(self) -> Parsed:
        if self.problems:
            more = f" (and {self.count - len(self.problems)} more)" if self.count > len(self.problems) else ""
            raise RequestError(
                400, f"the request has {self.count} problem(s){more}: {self.problems[0]}", self.problems
            )
        return Parsed(self.matrix, list(self.warnings))


class _FullCheckNeededError(Exception):
    """A field that the full check must look at (a problem, a warning, or a spelling it does not know)."""


def _valid_column(spec: ServingSpec, column: _Column) -> Callable[[list[str]], Any]:
    """:func:`_valid_text` for a whole column of fields; numbers are converted and checked at once.

    A number field is valid as it stands when ``float`` reads it as a finite value within the column's
    bounds (a whole number for an integer column), or when it is a null spelling in a nullable column;
    anything else goes to the full check, as :func:`_valid_text` sends it.
    """
    check = _valid_text(spec, column)
    if column.type == "category" and column.categories.isdisjoint(spec.null_values):
        expected = column.categories

        def categories(fields: list[str]) -> list[Any]:
            return fields if expected.issuperset(fields) else [check(field) for field in fields]

        return categories
    if column.type not in _NUMERIC or any(_reads_as_number(null) for null in spec.null_values):
        return lambda fields: [check(field) for field in fields]
    low = -math.inf if column.minimum is None else column.minimum
    high = math.inf if column.maximum is None else column.maximum
    integer, nulls, nullable = column.type == "integer", spec.null_values, column.nullable

    def numbers(fields: list[str]) -> Any:
        absent = None if nulls.isdisjoint(fields) else np.array([field in nulls for field in fields])
        if absent is not None:
            if not nullable:
                raise _FullCheckNeededError
            fields = ["0" if gone else field for field, gone in zip(fields, absent.tolist(), strict=True)]
        try:
            values = np.fromiter(map(float, fields), np.float64, len(fields))
        except ValueError:
            raise _FullCheckNeededError from None
        valid = np.isfinite(values) & (values >= low) & (values <= high)
        if integer:
            valid &= values == np.floor(values)
        if absent is not None:
            valid |= absent  # (their stand-in "0" may be out of bounds)
        if not valid.all():
            raise _FullCheckNeededError
        if absent is not None:
            values[absent] = np.nan
        return values

    return numbers


def _reads_as_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _valid_text(spec: ServingSpec, column: _Column) -> Callable[[str], Any]:
    """The conversion of a CSV field that ``_Rows._convert`` accepts without a problem or a warning.

    It returns what ``_convert`` returns for such a field and raises ``_FullCheckNeededError`` for any
    other field.
    """
    nulls = spec.null_values
    nullable = column.nullable

    def null() -> float:
        if nullable:
            return np.nan
        raise _FullCheckNeededError

    if column.type in _NUMERIC:
        low = -math.inf if column.minimum is None else column.minimum
        high = math.inf if column.maximum is None else column.maximum
        integer = column.type == "integer"
        isfinite = math.isfinite

        def number(value: str) -> float:
            if value in nulls:
                return null()
            try:
                converted = float(value)
            except ValueError:
                raise _FullCheckNeededError from None
            if isfinite(converted) and low <= converted <= high and (not integer or converted.is_integer()):
                return converted
            raise _FullCheckNeededError

        return number
    if column.type == "category":
        categories = column.categories

        def category(value: str) -> Any:
            if value in nulls:
                return null()
            if value in categories:
                return value
            raise _FullCheckNeededError

        return category
    if column.type == "boolean":
        true_values, false_values = spec.true_values, spec.false_values

        def boolean(value: str) -> float:
            if value in nulls:
                return null()
            if value in true_values:
                return 1.0
            if value in false_values:
                return 0.0
            raise _FullCheckNeededError

        return boolean

    def other(value: str) -> Any:  # timestamps: the full check parses them
        raise _FullCheckNeededError

    return other


def _csv_rows(spec: ServingSpec, text: str) -> Parsed:
    lines = [row for row in csv.reader(io.StringIO(text)) if row]
    if not lines:
        raise RequestError(400, "the request has no rows")
    header: list[str] | None = None
    if any(
        value.strip() in spec.columns and spec.columns[value.strip()].feature is not None
        for value in lines[0]
    ):
        header = [value.strip() for value in lines[0]]
        lines = lines[1:]
        if not lines:
            raise RequestError(400, "the request has a header but no rows")
    rows = _Rows(spec, len(lines))
    if header is not None:
        columns = rows.names(0, header)
        if rows.put_valid_text(columns, lines):
            return rows.result()
        for number, line in enumerate(lines):
            if len(line) != len(header):
                rows.problem(f"row {number}: {len(line)} values for {len(header)} header fields")
                continue
            for column, value in zip(columns, line, strict=True):
                if column is not None:
                    rows.put(number, column, value, text=True)
    else:
        ordered = [spec.columns[name] for name in spec.features]
        if rows.put_valid_text(list(ordered), lines):
            return rows.result()
        for number, line in enumerate(lines):
            if len(line) != len(ordered):
                rows.problem(_arity_problem(spec, number, len(line), "values without a header"))
                continue
            for column, value in zip(ordered, line, strict=True):
                rows.put(number, column, value, text=True)
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
    rows = _Rows(spec, len(records))
    ordered = [spec.columns[name] for name in spec.features]
    checked: tuple[str, ...] | None = None  # the field names last checked (rows usually share them)
    for number, record in enumerate(records):
        if isinstance(record, dict):
            names = tuple(record)
            if names != checked:
                rows.names(number, list(names))
                checked = names
            for name, value in record.items():
                column = spec.columns.get(name)
                if column is not None:
                    rows.put(number, column, value, text=False)
        elif isinstance(record, list):
            if len(record) != len(ordered):
                rows.problem(_arity_problem(spec, number, len(record), "values in a list"))
                continue
            for column, value in zip(ordered, record, strict=True):
                rows.put(number, column, value, text=False)
        else:
            rows.problem(f"row {number}: {type(record).__name__} is not a row (an object or a list)")
    return rows.result()


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
    media = _media_type(content_type) or CSV
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


_NOT_UTF8 = "send CSV or JSON encoded as UTF-8 (re-encode a file saved as Latin-1 or Windows-1252)"
_REPLACED = "\ufffd"  # what a lenient decoder puts where bytes are not UTF-8


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


def predict_rows(pipeline: Any, spec: ServingSpec, parsed: Parsed) -> Prediction:
    """Run the Pipeline on the parsed rows: labels, and class probabilities for a classifier.

    A classifier's label is the class of highest probability, which is what ``predict`` returns for
    the platform's model families; one pass through the Pipeline gives both.
    """
    if spec.task != "classification":
        predicted = pipeline.predict(parsed.matrix).astype(np.float64)
        return Prediction([float(v) for v in predicted], None, parsed.warnings)
    probabilities = pipeline.predict_proba(parsed.matrix).astype(np.float64)
    classes = pipeline.classes_
    labels = classes[np.argmax(probabilities, axis=1)]
    return Prediction([v.item() if hasattr(v, "item") else v for v in labels], probabilities, parsed.warnings)


def _json_answer(spec: ServingSpec, prediction: Prediction, rows: list[list[float]]) -> bytes:
    """``json.dumps`` of the JSON answer, byte for byte, written from a template per row: a classifier's
    answer for 100 rows is mostly 100 small dictionaries, which the encoder walks one by one."""
    keys = ", ".join(json.dumps(label).replace("%", "%%") + ": %r" for label in spec.labels)
    template = '{"prediction": %s, "probabilities": {' + keys + "}}"
    texts = {key: json.dumps(key[1]) for key in {(type(label), label) for label in prediction.predicted}}
    records = ", ".join(
        template % (texts[type(label), label], *row)
        for label, row in zip(prediction.predicted, rows, strict=True)
    )
    warnings = f', "warnings": {json.dumps(prediction.warnings)}' if prediction.warnings else ""
    return f'{{"predictions": [{records}]{warnings}}}'.encode()


def render(spec: ServingSpec, prediction: Prediction, accept: str | None) -> tuple[bytes, str]:
    """The response body and its content type (JSON unless ``Accept`` asks for CSV or JSON Lines).

    Raises
    ------
    RequestError
        406 for an ``Accept`` that is none of the three.
    """
    media = _media_type(accept)
    if media in ("", "*/*", "application/*"):
        media = JSON
    if media not in (CSV, JSON, JSONLINES):
        raise RequestError(406, f"cannot answer in {media!r}; accept {JSON}, {CSV} or {JSONLINES}")
    probabilities = prediction.probabilities
    if media == CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row, label in enumerate(prediction.predicted):
            extra = [repr(float(p)) for p in probabilities[row]] if probabilities is not None else []
            writer.writerow([label, *extra])
        return out.getvalue().encode("utf-8"), CSV
    if media == JSON and probabilities is not None and np.isfinite(probabilities).all():
        return _json_answer(spec, prediction, probabilities.tolist()), JSON
    records: list[dict[str, Any]] = []
    rows = probabilities.tolist() if probabilities is not None else None
    for row, label in enumerate(prediction.predicted):
        record: dict[str, Any] = {"prediction": label}
        if rows is not None:
            record["probabilities"] = dict(zip(spec.labels, rows[row], strict=True))
        records.append(record)
    if media == JSONLINES:
        return "".join(json.dumps(r) + "\n" for r in records).encode("utf-8"), JSONLINES
    document: dict[str, Any] = {"predictions": records}
    if prediction.warnings:
        document["warnings"] = prediction.warnings
    return json.dumps(document).encode("utf-8"), JSON
