"""A prediction as the response body, in the type the client accepts (JSON, CSV or JSON Lines)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from .predict import Prediction
from .protocol import CSV, JSON, JSONLINES, RequestError, media_type
from .spec import ServingSpec


def render(spec: ServingSpec, prediction: Prediction, accept: str | None) -> tuple[bytes, str]:
    """The response body and its content type (JSON unless ``Accept`` asks for CSV or JSON Lines).

    Raises
    ------
    RequestError
        406 for an ``Accept`` that is none of the three.
    """
    media = media_type(accept)
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
