"""Reading a window of captures: every request and answer format, what is skipped and why, versions apart."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from domain.data.contract import DatasetContract
from domain.deployment.capture import capture_record
from domain.monitoring.captures import read_window, window_files
from domain.monitoring.columns import CaptureSchema
from domain.names import capture_prefix, capture_uri_prefix
from domain.training.config import parse_training_config
from tests.monitor_support import FakeCaptureSource

DATASET = "shop"
SINCE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=1)
ANSWER_1 = json.dumps({"predictions": [{"prediction": True, "probabilities": {"false": 0.2, "true": 0.8}}]})


def _contract() -> DatasetContract:
    return DatasetContract.model_validate(
        {
            "name": DATASET,
            "target": "churned",
            "csv": {
                "null_values": ["", "NA"],
                "true_values": ["true", "1", "Y"],
                "false_values": ["false", "0"],
            },
            "columns": [
                {"name": "age", "type": "integer"},
                {"name": "income", "type": "float", "nullable": True},
                {"name": "signup", "type": "timestamp"},
                {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
                {"name": "active", "type": "boolean", "nullable": True},
                {"name": "note", "type": "string", "nullable": True},
                {"name": "churned", "type": "boolean"},
            ],
        }
    )


SCHEMA = CaptureSchema.of(_contract(), parse_training_config({}, contract=_contract()))


def _record(
    request: str,
    request_type: str,
    at: datetime,
    answer: str = ANSWER_1,
    answer_type: str = "application/json",
) -> dict[str, Any]:
    return capture_record(
        request=request.encode(),
        request_type=request_type,
        response=answer.encode(),
        response_type=answer_type,
        event_id="e",
        at=at,
    )


def _answer(*labels: Any) -> str:
    return json.dumps({"predictions": [{"prediction": label} for label in labels]})


def _read(source: FakeCaptureSource) -> Any:
    return read_window(source, DATASET, SCHEMA, SINCE, UNTIL, readers=4)


V1 = capture_uri_prefix(DATASET, 1)
V2 = capture_uri_prefix(DATASET, 2)
AT = SINCE + timedelta(minutes=10)


def test_csv_without_and_with_a_header_are_read_as_the_endpoint_reads_them() -> None:
    # Given a headerless CSV request (signature order) and one with a header in another order, an extra
    # column the model does not read, and the contract's null and boolean spellings
    source = FakeCaptureSource()
    headerless = "30,1200.5,2026-01-02T03:04:05Z,basic,Y\n41,NA,2026-01-02,pro,\n"
    headed = "plan,note,active,signup,income,age\npro,hello,0,2026-01-02T00:00:00+01:00,7,52\n"
    source.put(
        V1,
        AT,
        [
            _record(headerless, "text/csv", AT, _answer(True, False)),
            _record(headed, "text/csv; charset=utf-8", AT, _answer(True)),
        ],
    )

    # When the window is read
    window = _read(source)

    # Then the three rows are there, each value read by the contract's rules
    rows = window.versions[1]
    assert (rows.rows, rows.requests) == (3, 2)
    np.testing.assert_array_equal(rows.column("age"), [30, 41, 52])
    income = rows.column("income")
    assert income[0] == 1200.5 and math.isnan(income[1]) and income[2] == 7
    january_2 = datetime(2026, 1, 2, tzinfo=UTC).timestamp()
    np.testing.assert_array_equal(
        rows.column("signup"), [january_2 + 3 * 3600 + 4 * 60 + 5, january_2, january_2 - 3600]
    )
    assert rows.column("plan") == ["basic", "pro", "pro"]
    assert rows.column("active") == ["true", None, "false"]
    assert rows.column("predicted_label") == ["true", "false", "true"]
    assert (window.refused, window.unreadable, window.unattributed) == (0, 0, 0)


def test_json_shapes_and_json_lines_requests_and_answers() -> None:
    # Given instances of objects, a list of lists, one object, and JSON Lines; answers in JSON, CSV and
    # JSON Lines
    source = FakeCaptureSource()
    instances = json.dumps(
        {
            "instances": [
                {"age": 1, "income": None, "signup": "2026-01-01T00:00:00Z", "plan": "basic", "active": True}
            ]
        }
    )
    lists = json.dumps([[2, 2.5, "2026-01-01", "gold", False]])
    single = json.dumps({"age": 3, "income": 3.5, "signup": "2026-01-01", "plan": "pro", "active": None})
    lines = "\n".join(json.dumps([4 + i, 1.0, "2026-01-01", "pro", True]) for i in range(2))
    source.put(
        V1,
        AT,
        [
            _record(instances, "application/json", AT, _answer(False)),
            _record(lists, "application/json", AT, "True,0.1,0.9\n", "text/csv"),
            _record(single, "application/json", AT, '{"prediction": false}\n', "application/jsonlines"),
            _record(lines, "application/jsonlines", AT, _answer(True, True)),
        ],
    )

    # When read
    rows = _read(source).versions[1]

    # Then every shape gives its rows, an unknown category kept as sent (its unseen share is drift)
    np.testing.assert_array_equal(rows.column("age"), [1, 2, 3, 4, 5])
    assert math.isnan(rows.column("income")[0]) and list(rows.column("income")[1:]) == [2.5, 3.5, 1.0, 1.0]
    assert rows.column("plan") == ["basic", "gold", "pro", "pro", "pro"]
    assert rows.column("active") == ["true", "false", None, "true", "true"]
    # a CSV answer's "True" is the label "true", as the JSON answer names it
    assert rows.column("predicted_label") == ["false", "true", "false", "true", "true"]


def test_base64_bodies_are_decoded() -> None:
    # Given a record SageMaker encoded in BASE64 (its content types not configured as text)
    source = FakeCaptureSource()
    record = _record("", "text/csv", AT)
    record["captureData"]["endpointInput"].update(
        encoding="BASE64", data=base64.b64encode(b"30,1.5,2026-01-01,pro,true\n").decode()
    )
    record["captureData"]["endpointOutput"].update(
        encoding="BASE64", data=base64.b64encode(ANSWER_1.encode()).decode()
    )
    source.put(V1, AT, [record])

    # When read / Then the row is there
    rows = _read(source).versions[1]
    np.testing.assert_array_equal(rows.column("age"), [30])
    assert rows.column("predicted_label") == ["true"]


def test_refused_unreadable_and_unattributed_records_are_counted_not_scored() -> None:
    # Given, in the window: a refused request (an error answer), undecodable records of every kind, and
    # a record of the layout before captures were kept per version
    source = FakeCaptureSource()
    good = _record("30,1.5,2026-01-01,pro,true\n", "text/csv", AT)
    refused = _record("x", "text/csv", AT, json.dumps({"error": "bad value", "status": 400}))
    bad_base64 = _record("", "text/csv", AT)
    bad_base64["captureData"]["endpointInput"].update(encoding="BASE64", data="@@not base64@@")
    mismatch = _record("30,1.5,2026-01-01,pro,true\n31,1.5,2026-01-01,pro,true\n", "text/csv", AT)
    bad_json = _record("{not json", "application/json", AT)
    no_time = _record("30,1.5,2026-01-01,pro,true\n", "text/csv", AT)
    no_time["eventMetadata"]["inferenceTime"] = "yesterday"
    source.put(V1, AT, [good, refused, bad_base64, mismatch, bad_json, no_time, "{broken line"])
    source.put(capture_prefix(DATASET), AT, [good, good])  # capture/shop/<endpoint>/AllTraffic/...

    # When read
    window = _read(source)

    # Then one row is scored and the rest counted by reason
    assert window.versions[1].rows == 1
    assert window.refused == 1
    assert window.unreadable == 5
    assert window.unattributed == 2


def test_records_outside_the_window_are_left_out_and_far_files_not_read() -> None:
    # Given records just before since, at since, just before until and at until, and a file hours away
    source = FakeCaptureSource()
    edge = [SINCE - timedelta(milliseconds=1), SINCE, UNTIL - timedelta(milliseconds=1), UNTIL]
    for index, at in enumerate(edge):
        source.put(V1, at, [_record(f"{index},1.5,2026-01-01,pro,true\n", "text/csv", at)], unique=str(index))
    far = source.put(V1, SINCE - timedelta(hours=3), [_record("9,1,2026-01-01,pro,true", "text/csv", SINCE)])

    # When read
    window = _read(source)

    # Then [since, until) holds the second and third; the far file is not even read
    np.testing.assert_array_equal(window.versions[1].column("age"), [1, 2])
    assert far not in source.read_keys
    assert far not in {
        key for keys in window_files(source, DATASET, SINCE, UNTIL).versions.values() for key in keys
    }


def test_two_versions_are_split_by_their_capture_prefix() -> None:
    # Given a canary: version 1 and version 2 both serving in the window
    source = FakeCaptureSource()
    source.put(
        V1, AT, [_record("1,1,2026-01-01,pro,true\n2,1,2026-01-01,pro,true\n", "text/csv", AT, _answer(1, 0))]
    )
    source.put(V2, AT, [_record("3,1,2026-01-01,basic,true\n", "text/csv", AT)])

    # When read
    window = _read(source)

    # Then each version has its own rows
    assert sorted(window.versions) == [1, 2]
    np.testing.assert_array_equal(window.versions[1].column("age"), [1, 2])
    np.testing.assert_array_equal(window.versions[2].column("age"), [3])
    assert window.rows == 3
    assert window.files == 2


def test_an_empty_window_has_no_versions() -> None:
    window = _read(FakeCaptureSource())
    assert window.versions == {} and window.rows == 0 and window.files == 0


def test_a_regression_answer_is_the_numeric_prediction_column() -> None:
    # Given a regressor's dataset (float target) and answers in JSON and CSV
    contract = DatasetContract.model_validate(
        {
            "name": DATASET,
            "target": "spend",
            "columns": [{"name": "age", "type": "integer"}, {"name": "spend", "type": "float"}],
        }
    )
    schema = CaptureSchema.of(contract, parse_training_config({}, contract=contract))
    source = FakeCaptureSource()
    source.put(
        V1,
        AT,
        [
            _record("1\n2\n", "text/csv", AT, _answer(10.5, 11)),
            _record("3\n", "text/csv", AT, "12.25\n", "text/csv"),
        ],
    )

    # When read / Then the predictions are numbers
    rows = read_window(source, DATASET, schema, SINCE, UNTIL).versions[1]
    assert schema.prediction.name == "prediction"
    np.testing.assert_array_equal(rows.column("prediction"), [10.5, 11.0, 12.25])


@pytest.mark.parametrize("readers", [1, 8])
def test_many_files_read_in_parallel_give_the_same_rows(readers: int) -> None:
    # Given 40 files of 25 records each over the window
    source = FakeCaptureSource()
    for file in range(40):
        at = SINCE + timedelta(seconds=90 * file)
        source.put(
            V1,
            at,
            [_record(f"{file * 25 + r},1,2026-01-01,pro,true\n", "text/csv", at) for r in range(25)],
            unique=str(file),
        )

    # When read with one reader or several / Then every row is there once
    rows = read_window(source, DATASET, SCHEMA, SINCE, UNTIL, readers=readers).versions[1]
    assert sorted(np.asarray(rows.column("age")).tolist()) == list(range(1000))


def test_json_instances_of_mixed_types_are_read_value_by_value() -> None:
    # Given instances whose "plan" is a string in one request and a number in another (Arrow cannot type
    # the column as one), and whose "age" is an integer in one and a float in the other
    source = FakeCaptureSource()
    row = {"income": 1.0, "signup": "2026-01-01", "active": True}
    first = json.dumps({"instances": [{**row, "age": 1, "plan": "pro"}]})
    second = json.dumps({"instances": [{**row, "age": 2.5, "plan": 5}]})
    source.put(V1, AT, [_record(first, "application/json", AT), _record(second, "application/json", AT)])

    # When read / Then both rows are there; a number is not a category (missing)
    rows = _read(source).versions[1]
    np.testing.assert_array_equal(rows.column("age"), [1.0, 2.5])
    assert rows.column("plan") == ["pro", None]
    assert rows.column("active") == ["true", "true"]
