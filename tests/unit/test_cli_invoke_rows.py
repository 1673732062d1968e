"""``mlops endpoints invoke --inference-id-column COL | --inference-ids``: each row its own request, named."""

from __future__ import annotations

import io
import json
import uuid
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cli.main import app
from cli.request_batches import BatchError, row_requests
from tests.cli_fakes import churn_endpoint_served_by


class FakeRuntime:
    """SageMaker runtime: one prediction per request (the first field of its one row, modulo 2); refuses
    age 'forty' as the model would."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        (row,) = request["Body"].decode().splitlines()[1:]
        if row.startswith("forty"):
            raise ClientError(
                {
                    "Error": {"Code": "ModelError", "Message": "Received client error (400)"},
                    "OriginalStatusCode": 400,
                    "OriginalMessage": '{"message": "age is not a number"}',
                },
                "InvokeEndpoint",
            )
        answer = {"predictions": [{"prediction": int(row.split(",")[0]) % 2}]}
        return {"Body": io.BytesIO(json.dumps(answer).encode()), "ContentType": "application/json"}


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime()
    churn_endpoint_served_by(monkeypatch, fake)
    return fake


def _invoke(tmp_path: Path, text: str, *options: str, name: str = "rows.csv") -> Any:
    rows = tmp_path / name
    rows.write_text(text)
    return CliRunner().invoke(app, ["endpoints", "invoke", "churn", "-f", str(rows), *options])


def test_the_id_column_names_each_row_s_request_and_is_not_sent_as_a_feature(
    runtime: FakeRuntime, tmp_path: Path
) -> None:
    # Given three rows whose IDs are in a column between the features
    text = "age,order_id,plan\n30,o-1,basic\n31,o-2,pro\n33,o-3,basic\n"

    # When they are sent with that column as their inference IDs
    result = _invoke(tmp_path, text, "--inference-id-column", "order_id", "--json")

    # Then each row went alone, named by its ID, without the column
    assert result.exit_code == 0, result.output
    assert [r["InferenceId"] for r in runtime.requests] == ["o-1", "o-2", "o-3"]
    assert [r["Body"].decode() for r in runtime.requests] == [
        "age,plan\n30,basic\n",
        "age,plan\n31,pro\n",
        "age,plan\n33,basic\n",
    ]
    # and each row's ID is printed beside its prediction
    printed = json.loads(result.stdout)
    assert [(r["row"], r["inference_id"], r["prediction"]) for r in printed["rows"]] == [
        (0, "o-1", 0),
        (1, "o-2", 1),
        (2, "o-3", 1),
    ]


def test_generated_ids_are_a_new_uuid_per_row_and_printed_in_the_table(
    runtime: FakeRuntime, tmp_path: Path
) -> None:
    # Given / When
    result = _invoke(tmp_path, "age,plan\n30,basic\n31,pro\n", "--inference-ids")

    # Then two requests, each with its own UUID, each printed on its row
    assert result.exit_code == 0, result.output
    sent = [r["InferenceId"] for r in runtime.requests]
    assert len(set(sent)) == 2
    assert all(str(uuid.UUID(value)) == value for value in sent)
    assert [r["Body"].decode() for r in runtime.requests] == ["age,plan\n30,basic\n", "age,plan\n31,pro\n"]
    for value in sent:
        assert value in result.stdout


def test_a_refused_row_is_printed_with_its_id_and_fails_the_command(
    runtime: FakeRuntime, tmp_path: Path
) -> None:
    # Given / When: the second row is one the model refuses
    result = _invoke(tmp_path, "age,id\n30,a\nforty,b\n32,c\n", "--inference-id-column", "id", "--json")

    # Then the others are answered, and the refusal names the row and its ID
    assert result.exit_code == 1
    printed, _, error = result.output.partition("error:")
    assert [r.get("refused") for r in json.loads(printed)["rows"]] == [
        None,
        "(400): age is not a number",
        None,
    ]
    assert " ".join(error.split()) == (
        "the model refused 1 of 3 row(s); the first, row 1 (b), (400): age is not a number"
    )


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--inference-ids", "--inference-id-column", "id"], "not both"),
        (["--inference-ids", "--batch", "2"], "leave out --batch"),
        (["--inference-id-column", "id", "--accept", "text/csv"], "leave --accept at application/json"),
    ],
)
def test_options_that_do_not_go_together_are_refused_before_anything_is_sent(
    runtime: FakeRuntime, tmp_path: Path, options: list[str], said: str
) -> None:
    # Given / When
    result = _invoke(tmp_path, "age,id\n30,a\n", *options)

    # Then
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert runtime.requests == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("age,plan\n30,basic\n", "rows.csv: the header names no column 'id'; its columns: age, plan"),
        ("age,id\n30,a\n31,\n", "the inference ID '' in column 'id', row 2 is empty"),
        ("age,id\n30," + "x" * 65 + "\n", "has 65 characters; SageMaker takes at most 64"),
        ("age,id\n30,a\n31,a\n", "rows 1 and 2 both have the inference ID 'a'"),
        ("age,id\n30\n", "row 1 has 1 fields: it stops before the column 'id'"),
    ],
)
def test_ids_that_cannot_name_the_rows_are_refused_with_what_and_where(
    runtime: FakeRuntime, tmp_path: Path, text: str, said: str
) -> None:
    # Given / When
    result = _invoke(tmp_path, text, "--inference-id-column", "id")

    # Then nothing is sent, and the message says what is wrong where
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
    assert runtime.requests == []


def test_json_and_json_lines_rows_are_sent_one_by_one_without_the_id_member() -> None:
    # Given rows as a JSON list and as JSON Lines, one ID a number
    rows = [{"age": 30, "id": "a"}, {"age": 31, "id": 7}]
    as_json = json.dumps({"instances": rows}).encode()
    as_lines = "".join(json.dumps(row) + "\n" for row in rows).encode()

    # When
    from_json = row_requests(as_json, ".json", column="id", generate=lambda: "unused")
    from_lines = row_requests(as_lines, ".jsonl", column="id", generate=lambda: "unused")

    # Then
    assert [(r.row, json.loads(r.body), r.inference_id) for r in from_json] == [
        (0, {"instances": [{"age": 30}]}, "a"),
        (1, {"instances": [{"age": 31}]}, "7"),
    ]
    assert [(json.loads(r.body), r.inference_id) for r in from_lines] == [
        ({"age": 30}, "a"),
        ({"age": 31}, "7"),
    ]


def test_generated_ids_leave_the_rows_as_they_are() -> None:
    # Given / When
    numbers = count()
    found = row_requests(
        b'[[30, "basic"], [31, "pro"]]', ".json", column=None, generate=lambda: f"g{next(numbers)}"
    )

    # Then
    assert [(json.loads(r.body), r.inference_id) for r in found] == [
        ({"instances": [[30, "basic"]]}, "g0"),
        ({"instances": [[31, "pro"]]}, "g1"),
    ]


def test_positional_json_rows_cannot_carry_an_id_column() -> None:
    # Given / When / Then
    with pytest.raises(
        BatchError, match="row 1 is not a JSON object: only named rows can carry the column 'id'"
    ):
        row_requests(b"[[30, 1]]", ".json", column="id", generate=lambda: "unused")
