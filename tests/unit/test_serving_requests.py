"""Serving a trained model: requests checked against the contract, answers equal to in-process predictions."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
import pytest

from examples.churn import request_csv
from tests.trained_model import churn_snapshot, train_model
from training.mlops_training.contract_io import Signature, feature_matrix
from training.mlops_training.serving import (
    Prediction,
    RequestError,
    ServingSpec,
    parse_request,
    predict_rows,
    render,
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def pipeline(model_dir: Path) -> Any:
    return joblib.load(model_dir / "model.joblib")


@pytest.fixture(scope="module")
def spec(model_dir: Path) -> ServingSpec:
    return ServingSpec.from_model_dir(model_dir)


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    """Rows the model never saw, as the platform stores them (every contract column, target included)."""
    return churn_snapshot(150, seed=99).slice(0, 40)


@pytest.fixture(scope="module")
def expected(model_dir: Path, pipeline: Any, rows: pa.Table) -> tuple[list[Any], Any]:
    signature = Signature.from_dict(json.loads((model_dir / "model_signature.json").read_text()))
    matrix = feature_matrix(rows, signature.features)
    return pipeline.predict(matrix).tolist(), pipeline.predict_proba(matrix)


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in table.to_pylist()
    ]


def _answer(pipeline: Any, spec: ServingSpec, body: bytes | str, content_type: str) -> Prediction:
    return predict_rows(pipeline, spec, parse_request(spec, body, content_type))


def _assert_same(prediction: Prediction, expected: tuple[list[Any], Any]) -> None:
    labels, probabilities = expected
    assert prediction.predicted == labels
    assert prediction.probabilities is not None
    np.testing.assert_array_equal(prediction.probabilities, probabilities)


def test_a_csv_with_a_header_is_answered_exactly_as_the_pipeline_predicts_in_process(
    pipeline: Any, spec: ServingSpec, rows: pa.Table, expected: tuple[list[Any], Any]
) -> None:
    # The header names every contract column, the target too: columns the model does not read are ignored.
    _assert_same(_answer(pipeline, spec, request_csv(rows), "text/csv"), expected)


def test_a_csv_without_a_header_holds_the_features_in_signature_order(
    pipeline: Any, spec: ServingSpec, rows: pa.Table, expected: tuple[list[Any], Any]
) -> None:
    body = request_csv(rows.select(list(spec.features)), header=False)

    _assert_same(_answer(pipeline, spec, body, "text/csv; charset=utf-8"), expected)


@pytest.mark.parametrize("shape", ["records", "instances of objects", "instances of lists", "jsonlines"])
def test_json_rows_in_every_accepted_shape_are_answered_alike(
    pipeline: Any, spec: ServingSpec, rows: pa.Table, expected: tuple[list[Any], Any], shape: str
) -> None:
    records = _records(rows)
    body, content_type = {
        "records": (json.dumps(records), "application/json"),
        "instances of objects": (json.dumps({"instances": records}), "application/json"),
        "instances of lists": (
            json.dumps({"instances": [[r[name] for name in spec.features] for r in records]}),
            "application/json",
        ),
        "jsonlines": ("\n".join(json.dumps(r) for r in records), "application/jsonlines"),
    }[shape]

    _assert_same(_answer(pipeline, spec, body, content_type), expected)


def test_one_json_object_is_one_row(pipeline: Any, spec: ServingSpec, rows: pa.Table, expected: Any) -> None:
    prediction = _answer(pipeline, spec, json.dumps(_records(rows)[0]), "application/json")

    assert prediction.predicted == expected[0][:1]


def test_the_json_answer_gives_the_label_and_each_class_probability(
    pipeline: Any, spec: ServingSpec, rows: pa.Table
) -> None:
    prediction = _answer(pipeline, spec, request_csv(rows.slice(0, 2)), "text/csv")

    body, content_type = render(spec, prediction, "application/json")

    assert content_type == "application/json"
    answer = json.loads(body)
    assert len(answer["predictions"]) == 2
    first = answer["predictions"][0]
    assert set(first) == {"prediction", "probabilities"}
    assert set(first["probabilities"]) == {"0", "1"}
    assert first["probabilities"]["1"] == pytest.approx(1 - first["probabilities"]["0"])
    assert "warnings" not in answer


def test_the_csv_answer_is_the_label_then_the_probabilities_in_class_order(
    pipeline: Any, spec: ServingSpec, rows: pa.Table, expected: tuple[list[Any], Any]
) -> None:
    prediction = _answer(pipeline, spec, request_csv(rows.slice(0, 3)), "text/csv")

    body, content_type = render(spec, prediction, "text/csv")

    assert content_type == "text/csv"
    lines = [line.split(",") for line in body.decode().splitlines()]
    assert [int(line[0]) for line in lines] == expected[0][:3]
    np.testing.assert_array_equal([[float(v) for v in line[1:]] for line in lines], expected[1][:3])


def test_an_accept_header_the_endpoint_cannot_answer_is_406(
    pipeline: Any, spec: ServingSpec, rows: pa.Table
) -> None:
    prediction = _answer(pipeline, spec, request_csv(rows.slice(0, 1)), "text/csv")

    with pytest.raises(RequestError) as raised:
        render(spec, prediction, "application/x-protobuf")

    assert raised.value.status == 406


def _bad(spec: ServingSpec, body: bytes | str, content_type: str = "application/json") -> RequestError:
    with pytest.raises(RequestError) as raised:
        parse_request(spec, body, content_type)
    return raised.value


@pytest.fixture
def record(rows: pa.Table) -> dict[str, Any]:
    return _records(rows)[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": "forty"}, r"row 0, 'age': 'forty' is a string, not a number"),
        ({"age": 40.5}, r"row 0, 'age': 40.5 is not an integer"),
        ({"age": True}, r"row 0, 'age': True is not a number"),
        ({"age": 7}, r"row 0, 'age': 7 is below the minimum 18"),
        ({"monthly_charges": 1e9}, r"above the maximum 10000"),
        ({"age": None}, r"row 0, 'age': a value is required \(the column is not nullable\)"),
        ({"plan": "platinum"}, r"row 0, 'plan': 'platinum' is not one of the categories \(basic, "),
        ({"plan": 3}, r"row 0, 'plan': 3 is not a category"),
        ({"shoe_size": 42}, r"row 0: field\(s\) 'shoe_size' are not in the dataset's contract"),
        ({"age": ...}, r"row 0: missing field\(s\) 'age'"),
    ],
    ids=[
        "string for an integer",
        "fraction for an integer",
        "boolean for an integer",
        "below min",
        "above max",
        "null where not nullable",
        "unknown category",
        "number for a category",
        "extra field",
        "missing field",
    ],
)
def test_a_bad_value_is_a_400_that_names_the_row_the_column_and_the_problem(
    spec: ServingSpec, record: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    row = {k: v for k, v in (record | change).items() if v is not ...}

    error = _bad(spec, json.dumps([row]))

    assert error.status == 400
    assert any(re.search(message, problem) for problem in error.problems), error.problems


def test_a_nullable_feature_may_be_null_and_a_nan_is_refused(
    pipeline: Any, spec: ServingSpec, record: dict[str, Any]
) -> None:
    assert _answer(pipeline, spec, json.dumps(record | {"total_charges": None}), "application/json")

    error = _bad(spec, "age,tenure_months\nNaN,3\n", "text/csv")
    assert error.status == 400
    assert "row 0, 'age': 'NaN' is not a finite number" in error.problems


def test_problems_are_counted_and_the_first_ten_listed(spec: ServingSpec, record: dict[str, Any]) -> None:
    rows = [record | {"age": "x"} for _ in range(25)]

    error = _bad(spec, json.dumps(rows))

    assert len(error.problems) == 10
    assert error.message.startswith("the request has 25 problem(s) (and 15 more): row 0, 'age'")


def test_with_the_as_missing_policy_an_unknown_category_is_predicted_with_a_warning(
    model_dir: Path, pipeline: Any, record: dict[str, Any]
) -> None:
    contract = json.loads((model_dir / "contract.json").read_text())
    signature = json.loads((model_dir / "model_signature.json").read_text())
    contract["serving"] = {"unknown_categories": "as_missing"}
    contract["extra_columns"] = "warn"
    lenient = ServingSpec.from_documents(signature, contract)

    prediction = _answer(
        pipeline, lenient, json.dumps(record | {"plan": "platinum", "x": 1}), "application/json"
    )

    body, _ = render(lenient, prediction, None)
    assert json.loads(body)["warnings"] == [
        "ignored field(s) not in the contract: 'x'",
        "'plan': unknown category 'platinum' treated as missing",
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe\x00a", "text/csv", 400, "not UTF-8"),
        ("", "text/csv", 400, "no rows"),
        ("[]", "application/json", 400, "no rows"),
        ('{"instances": 3}', "application/json", 400, '"instances" must be a list'),
        ("[3]", "application/json", 400, "row 0: int is not a row"),
        ("1,2,3\n", "text/csv", 400, "3 values without a header; the model reads"),
        ("a", "application/x-parquet", 415, "content type 'application/x-parquet' is not served"),
    ],
    ids=[
        "bad json",
        "not utf-8",
        "empty csv",
        "empty list",
        "instances not a list",
        "scalar row",
        "headerless row of the wrong length",
        "unsupported content type",
    ],
)
def test_a_malformed_request_is_refused_with_its_status_and_reason(
    spec: ServingSpec, body: str | bytes, content_type: str, status: int, message: str
) -> None:
    error = _bad(spec, body, content_type)

    assert error.status == status
    assert message in error.message + " ".join(error.problems)


LATIN_1 = b"age,plan\n40,b\xe1sic\n"  # "basic" with an accented a, saved as Latin-1


@pytest.mark.parametrize(
    ("body", "content_type", "where"),
    [
        (b"\xff\xfe\x00bad", "text/csv", "byte 0xff at offset 0 (line 1) is not UTF-8"),
        (LATIN_1, "text/csv; charset=utf-8", "byte 0xe1 at offset 13 (line 2) is not UTF-8"),
        (b'{"plan": "b\xe1sic"}', "application/json", "byte 0xe1 at offset 11 (line 1) is not UTF-8"),
        # as the container hands a text/csv body to input_fn: decoded, U+FFFD for what is not UTF-8
        (LATIN_1.decode("utf-8", errors="replace"), "text/csv", "line 2, column 5 is U+FFFD"),
        # as the serving API passes on a body that API Gateway decoded the same way
        (LATIN_1.decode("utf-8", errors="replace").encode(), "text/csv", "line 2, column 5 is U+FFFD"),
    ],
    ids=["random bytes", "latin-1 csv", "latin-1 json", "decoded by the container", "decoded upstream"],
)
def test_text_that_is_not_utf8_is_refused_with_where_and_how_to_fix_it(
    spec: ServingSpec, body: str | bytes, content_type: str, where: str
) -> None:
    error = _bad(spec, body, content_type)

    assert error.status == 400
    assert error.message.startswith("the request is not UTF-8 text: ")
    assert where in error.message
    assert error.message.endswith(
        "send CSV or JSON encoded as UTF-8 (re-encode a file saved as Latin-1 or Windows-1252)"
    )


def test_a_payload_over_the_limit_is_413_before_it_is_parsed(model_dir: Path) -> None:
    small = ServingSpec.from_model_dir(model_dir, max_payload_bytes=1_000)

    error = _bad(small, "x" * 1_001, "text/csv")

    assert (error.status, error.message) == (
        413,
        "the request has 1,001 bytes, more than the endpoint's 1,000",
    )


NUMBER_FIELDS = {
    # integer, 18..110, not nullable
    "age": ["18", "110", "40.0", " 41 ", "1e1", "17", "111", "40.5", "", "NA", "nan", "inf", "x", "4_0"],
    # float, >= 0, nullable
    "total_charges": ["0", "12.25", "1e3", "-0.0", "-1", "", "NA", "nan", "-inf", "1,5", "12.25 "],
}


@pytest.mark.parametrize(
    ("name", "field"), [(name, field) for name, fields in NUMBER_FIELDS.items() for field in fields]
)
def test_a_csv_column_checked_at_once_reads_as_each_field_checked_alone(
    spec: ServingSpec, rows: pa.Table, name: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given valid rows, with one column's field replaced in the third row
    lines = request_csv(rows.slice(0, 5)).decode().splitlines()
    header = next(csv.reader([lines[0]]))
    changed = next(csv.reader([lines[3]]))
    changed[header.index(name)] = field
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [header, *[next(csv.reader([x])) for x in lines[1:3]], changed]
    )
    body = out.getvalue()

    def outcome() -> Any:
        try:
            return parse_request(spec, body, "text/csv")
        except RequestError as error:
            return error

    # the column at once (the fast path), and the value by value check (the fast path turned off)
    at_once = outcome()
    monkeypatch.setattr("training.mlops_training.serving.rows.Rows.put_columns", lambda *_: False)
    alone = outcome()

    assert type(at_once) is type(alone)
    if isinstance(alone, RequestError):
        assert (at_once.status, at_once.problems) == (alone.status, alone.problems)
    else:
        assert at_once.warnings == alone.warnings
        assert [[repr(v) for v in row] for row in at_once.matrix.tolist()] == [
            [repr(v) for v in row] for row in alone.matrix.tolist()
        ]


@pytest.mark.parametrize(
    ("labels", "predicted", "warnings"),
    [
        (("0", "1"), [0, 1, 1], []),
        (("no", "yes"), ["no", "yes"], ["ignored field(s) not in the contract: 'x'"]),
        (('a"b', "é"), ['a"b', "é"], []),
        (("50%", "100%s"), ["100%s", "50%"], ["100% sure"]),
    ],
)
def test_the_json_answer_is_byte_for_byte_what_json_dumps_writes(
    spec: ServingSpec, labels: tuple[str, ...], predicted: list[Any], warnings: list[str]
) -> None:
    generator = np.random.default_rng(4)
    probabilities = generator.dirichlet([1.0, 1.0], size=len(predicted))
    probabilities[0] = [1.0, 0.0]
    labelled = dataclasses.replace(spec, labels=labels)

    body, content_type = render(labelled, Prediction(predicted, probabilities, warnings), "application/json")

    records = [
        {"prediction": label, "probabilities": dict(zip(labels, row, strict=True))}
        for label, row in zip(predicted, probabilities.tolist(), strict=True)
    ]
    document: dict[str, Any] = {"predictions": records} | ({"warnings": warnings} if warnings else {})
    assert (body, content_type) == (json.dumps(document).encode("utf-8"), "application/json")
