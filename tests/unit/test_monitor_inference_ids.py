"""Each captured row's inference ID and capture time, as the capture reader gives them (``VersionRows``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from domain.deployment.capture import capture_record
from domain.monitoring.captures import read_window
from domain.monitoring.rows import VersionRows, row_inference_id
from domain.names import capture_uri_prefix
from tests.monitor_support import TWO_FEATURES_SCHEMA, FakeCaptureSource

DATASET = "shop"
SINCE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=1)
V1 = capture_uri_prefix(DATASET, 1)
SCHEMA = TWO_FEATURES_SCHEMA


def _record(
    request: str, request_type: str, at: datetime, rows: int, inference_id: str | None
) -> dict[str, Any]:
    answer = json.dumps({"predictions": [{"prediction": index % 2 == 0} for index in range(rows)]})
    return capture_record(
        request=request.encode(),
        request_type=request_type,
        response=answer.encode(),
        response_type="application/json",
        event_id="e",
        at=at,
        inference_id=inference_id,
    )


def _csv(rows: int) -> str:
    return "".join(f"{30 + index},basic\n" for index in range(rows))


def _json(rows: int) -> str:
    return json.dumps({"instances": [{"age": 40 + index, "plan": "pro"} for index in range(rows)]})


def _rows(records: list[dict[str, Any] | str]) -> VersionRows:
    source = FakeCaptureSource()
    source.put(V1, SINCE + timedelta(minutes=1), records)
    window = read_window(source, DATASET, SCHEMA, SINCE, UNTIL, readers=1)
    return window.versions[1]


def _by_age(rows: VersionRows) -> dict[float, tuple[str | None, float]]:
    ages = np.asarray(rows.column("age"))
    return {
        float(age): (known, float(at))
        for age, known, at in zip(ages, rows.inference_ids, rows.captured_at, strict=True)
    }


def test_a_one_row_request_is_addressed_by_its_id_and_several_rows_by_id_and_row() -> None:
    # Given / When / Then
    assert row_inference_id("order-7", 0, 1) == "order-7"
    assert [row_inference_id("batch", row, 3) for row in range(3)] == ["batch:0", "batch:1", "batch:2"]


@pytest.mark.parametrize(("kind", "body"), [("text/csv", _csv), ("application/json", _json)])
def test_each_row_of_the_arrow_path_carries_its_requests_id_and_time(kind: str, body: Any) -> None:
    # Given: a one-row request with an ID, a three-row one with an ID, a two-row one without
    first, second = SINCE + timedelta(minutes=2), SINCE + timedelta(minutes=3, seconds=30)
    rows = _rows(
        [
            _record(body(1), kind, first, 1, "single"),
            _record(body(3), kind, second, 3, "triple"),
            _record(body(2), kind, second, 2, None),
        ]
    )

    # When: the rows are read, Then: each row has its request's ID, addressed by row, and its time
    assert rows.rows == 6 and rows.requests == 3
    assert rows.inference_ids == ["single", "triple:0", "triple:1", "triple:2", None, None]
    assert rows.captured_at.tolist() == [first.timestamp()] + [second.timestamp()] * 5
    assert len(rows.column("age")) == len(rows.inference_ids)


def test_rows_read_one_at_a_time_keep_their_ids_aligned_with_the_arrow_paths_rows() -> None:
    # Given: records of four shapes in one file: CSV and JSON instances (Arrow), CSV with a header and
    # JSON Lines (one at a time)
    at = SINCE + timedelta(minutes=5)
    rows = _rows(
        [
            _record("age,plan\n50,basic\n51,pro\n", "text/csv", at, 2, "header"),
            _record("30,basic\n", "text/csv", at, 1, "plain"),
            _record(
                '{"age": 60, "plan": "pro"}\n{"age": 61, "plan": "basic"}\n',
                "application/jsonlines",
                at,
                2,
                "lines",
            ),
            _record(_json(1), "application/json", at, 1, "instance"),
        ]
    )

    # When: their rows are matched by their features
    found = _by_age(rows)

    # Then: every row has the ID of its own request, whichever path read it
    assert {age: known for age, (known, _) in found.items()} == {
        30.0: "plain",
        40.0: "instance",
        50.0: "header:0",
        51.0: "header:1",
        60.0: "lines:0",
        61.0: "lines:1",
    }
    assert {moment for _, moment in found.values()} == {at.timestamp()}


def test_an_id_that_is_not_a_string_leaves_the_row_scored_without_an_id() -> None:
    # Given: a record whose inferenceId is a number (no endpoint writes one; a file edited by hand)
    record = _record(_csv(1), "text/csv", SINCE + timedelta(minutes=1), 1, None)
    record["eventMetadata"]["inferenceId"] = 42
    good = _record(_csv(1), "text/csv", SINCE + timedelta(minutes=2), 1, "kept")

    # When
    rows = _rows([json.dumps(record), good])

    # Then: both rows are scored, the odd one without an ID
    assert rows.inference_ids == [None, "kept"]


def test_rows_not_read_from_captures_have_no_ids_and_unknown_times() -> None:
    # Given / When: rows built from columns alone (a benchmark's, a test's)
    rows = VersionRows(version=1, rows=2, requests=2, columns={"age": np.array([1.0, 2.0])})

    # Then
    assert rows.inference_ids == [None, None]
    assert np.isnan(rows.captured_at).all()


def test_ids_that_do_not_match_the_rows_are_refused() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="2 rows but 1 inference IDs"):
        VersionRows(version=1, rows=2, requests=1, columns={}, inference_ids=["a"])
