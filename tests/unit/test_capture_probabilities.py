"""Class probabilities read from captured answers, per row, on the Arrow path and the per-record path."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from domain.deployment.capture import capture_record
from domain.monitoring.capture_probabilities import PROBABILITY_TYPE, from_structs, row_probabilities
from domain.monitoring.captures import read_window
from domain.monitoring.rows import VersionRows
from domain.names import capture_uri_prefix
from tests.monitor_support import TWO_FEATURES_SCHEMA, FakeCaptureSource

DATASET = "shop"
SINCE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=1)
AT = SINCE + timedelta(minutes=10)
V1 = capture_uri_prefix(DATASET, 1)
SCHEMA = TWO_FEATURES_SCHEMA


def _answer(*rows: tuple[bool, float | None]) -> str:
    """A JSON answer: each row's prediction and P(true) (None: the row carries no probabilities)."""
    items: list[dict[str, Any]] = []
    for label, chance in rows:
        item: dict[str, Any] = {"prediction": label}
        if chance is not None:
            item["probabilities"] = {"false": round(1 - chance, 6), "true": chance}
        items.append(item)
    return json.dumps({"predictions": items})


def _record(request: str, request_type: str, answer: str, answer_type: str, inference_id: str, n: int) -> Any:
    return capture_record(
        request=request.encode(),
        request_type=request_type,
        response=answer.encode(),
        response_type=answer_type,
        event_id=f"e{n}",
        at=AT + timedelta(seconds=n),
        inference_id=inference_id,
    )


def _base64(record: dict[str, Any]) -> dict[str, Any]:
    """The same record with both bodies BASE64-encoded: the Arrow path leaves it to the per-record path."""
    for side in ("endpointInput", "endpointOutput"):
        payload = record["captureData"][side]
        payload["data"] = base64.b64encode(payload["data"].encode()).decode()
        payload["encoding"] = "BASE64"
    return record


def _traffic(*, encode: bool) -> list[Any]:
    """CSV and JSON requests with JSON answers carrying probabilities, one without, a CSV answer."""
    records = [
        _record("30,basic\n41,pro\n", "text/csv", _answer((True, 0.9), (False, 0.2)), "application/json",
                "a", 0),
        _record('{"instances": [{"age": 52, "plan": "pro"}]}', "application/json",
                _answer((True, 0.7)), "application/json", "b", 1),
        _record("60,basic\n", "text/csv", _answer((False, None)), "application/json", "c", 2),
        _record("70,pro\n", "text/csv", "true,0.35,0.65\n", "text/csv", "d", 3),
    ]  # fmt: skip
    return [_base64(r) for r in records] if encode else records


def _read(records: list[Any], *, probabilities: bool = True) -> VersionRows:
    source = FakeCaptureSource()
    source.put(V1, AT, records)
    window = read_window(source, DATASET, SCHEMA, SINCE, UNTIL, readers=2, probabilities=probabilities)
    return window.versions[1]


def _by_id(rows: VersionRows) -> dict[str | None, tuple[Any, Any]]:
    """Each row's prediction and probabilities, by its inference ID."""
    assert rows.probabilities is not None
    chances = [None if p is None else dict(p) for p in rows.probabilities.to_pylist()]
    labels = rows.column(SCHEMA.prediction.name)
    return dict(zip(rows.inference_ids, zip(labels, chances, strict=True), strict=True))


EXPECTED = {
    "a:0": ("true", {"false": 0.1, "true": 0.9}),
    "a:1": ("false", {"false": 0.8, "true": 0.2}),
    "b": ("true", {"false": 0.3, "true": 0.7}),
    "c": ("false", None),
    "d": ("true", None),
}


@pytest.mark.parametrize("encode", [False, True], ids=["arrow-path", "per-record-path"])
def test_each_row_keeps_its_answers_probabilities_aligned_with_its_prediction_and_id(encode: bool) -> None:
    # Given CSV and JSON requests answered in JSON with probabilities, one answer row without, and a CSV
    # answer (its probabilities unlabelled), read by the Arrow path or (BASE64) record by record
    records = _traffic(encode=encode)

    # When the window is read with probabilities
    rows = _read(records)

    # Then every row has its own answer's probabilities, or None (no probabilities; a CSV answer)
    assert rows.probabilities is not None and rows.probabilities.type == PROBABILITY_TYPE
    found = _by_id(rows)
    assert found.keys() == EXPECTED.keys()
    for inference_id, (label, chances) in EXPECTED.items():
        assert found[inference_id][0] == label
        assert found[inference_id][1] == (None if chances is None else pytest.approx(chances))


def test_rows_read_whole_and_rows_read_one_at_a_time_in_one_group_stay_aligned() -> None:
    # Given headerless CSV requests, some read by Arrow, one (BASE64) record by record into the same group
    records = _traffic(encode=False)
    records.insert(
        1, _base64(_record("80,basic\n", "text/csv", _answer((True, 0.55)), "application/json", "e", 9))
    )

    # When read with probabilities
    found = _by_id(_read(records))

    # Then each row still has its own
    assert found["e"] == ("true", pytest.approx({"false": 0.45, "true": 0.55}))
    assert found["a:1"] == ("false", pytest.approx({"false": 0.8, "true": 0.2}))


def test_probabilities_are_not_read_unless_asked_for() -> None:
    rows = _read(_traffic(encode=False), probabilities=False)
    assert rows.probabilities is None
    assert rows.rows == 5


def test_a_version_s_probabilities_must_have_one_entry_per_row() -> None:
    with pytest.raises(ValueError, match="2 rows but 1 rows of class probabilities"):
        VersionRows(1, 2, 1, {}, probabilities=pa.nulls(1, PROBABILITY_TYPE))


def test_arrow_structs_become_maps_dropping_absent_labels_and_rows_that_are_not_numbers() -> None:
    # Given the structs Arrow's JSON reader makes: a full row, a row lacking a label, a null row, an
    # empty one, and a column of another type
    structs = pa.array(
        [{"x": 0.25, "y": 0.75}, {"x": 1.0, "y": None}, None, {"x": None, "y": None}],
        pa.struct([("x", pa.float64()), ("y", pa.float64())]),
    )
    texts = pa.array([{"x": "high"}], pa.struct([("x", pa.string())]))

    # When made maps
    maps = from_structs(structs, 4)

    # Then each row keeps the labels it gave; a row with none is null, and so is a row of text
    assert [None if m is None else dict(m) for m in maps.to_pylist()] == [
        {"x": 0.25, "y": 0.75},
        {"x": 1.0},
        None,
        None,
    ]
    assert from_structs(texts, 1).to_pylist() == [None]
    assert from_structs(None, 3).null_count == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}),
        ({"1": 1}, {"1": 1.0}),
        ({}, None),
        ({"a": "high"}, None),
        ({"a": True}, None),
        ({"a": float("nan")}, None),
        ([0.5, 0.5], None),
        (None, None),
    ],
)
def test_one_answer_rows_probabilities_are_an_object_of_finite_numbers_or_none(
    value: Any, expected: Any
) -> None:
    assert row_probabilities(value) == expected
