"""``mlops endpoints invoke --batch N``: a file cut into requests of N rows, sent in turn, summarised."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cli.main import app
from cli.request_batches import BatchError, batches
from tests.cli_fakes import churn_endpoint_served_by

CSV = b"age,plan\n30,basic\n\n41,premium\n52,basic\n"


def test_a_csv_file_is_cut_by_rows_with_its_header_in_each_request() -> None:
    assert batches(CSV, ".csv", 2) == [b"age,plan\n30,basic\n41,premium\n", b"age,plan\n52,basic\n"]


def test_json_lines_are_cut_by_lines() -> None:
    assert batches(b'{"age": 1}\n{"age": 2}\n{"age": 3}', ".jsonl", 2) == [
        b'{"age": 1}\n{"age": 2}\n',
        b'{"age": 3}\n',
    ]


@pytest.mark.parametrize(
    "document", [[{"age": 1}, {"age": 2}, [3]], {"instances": [{"age": 1}, {"age": 2}, [3]]}]
)
def test_a_json_list_of_rows_becomes_instances_requests(document: Any) -> None:
    cut = batches(json.dumps(document).encode(), ".json", 2)

    assert [json.loads(body) for body in cut] == [
        {"instances": [{"age": 1}, {"age": 2}]},
        {"instances": [[3]]},
    ]


@pytest.mark.parametrize(
    ("body", "suffix", "size", "message"),
    [
        (CSV, ".csv", 0, "--batch 0: give the number of rows per request, 1 or more"),
        (b"age,plan\n", ".csv", 5, "the file has no rows to send"),
        (b"\xff\xfe", ".csv", 5, "the file is not UTF-8 text"),
        (b"{not json", ".json", 5, "the .json file is not JSON"),
        (b'{"age": 1}', ".json", 5, 'holds a list of rows or {"instances": [rows]}'),
    ],
)
def test_what_cannot_be_cut_says_why(body: bytes, suffix: str, size: int, message: str) -> None:
    with pytest.raises(BatchError, match=message.replace("[", r"\[").replace("{", r"\{")):
        batches(body, suffix, size)


class FakeRuntime:
    """SageMaker runtime: answers a prediction per CSV row, the first column's value; refuses age 'forty'."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self.bodies.append(request["Body"])
        rows = request["Body"].decode().splitlines()[1:]
        if any(row.startswith("forty") for row in rows):
            error = {"Code": "ModelError", "Message": "Received client error (400)"}
            raise ClientError(
                {
                    "Error": error,
                    "OriginalStatusCode": 400,
                    "OriginalMessage": '{"message": "age is not a number"}',
                },
                "InvokeEndpoint",
            )
        predictions = [{"prediction": int(row.split(",")[0]) % 2} for row in rows]
        return {
            "Body": io.BytesIO(json.dumps({"predictions": predictions}).encode()),
            "ContentType": "application/json",
        }


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime()
    churn_endpoint_served_by(monkeypatch, fake)
    return fake


def test_the_rows_go_in_requests_of_n_and_the_predictions_are_counted(
    runtime: FakeRuntime, tmp_path: Path
) -> None:
    # Given five rows in a CSV file
    rows = tmp_path / "window.csv"
    rows.write_text("age,plan\n" + "".join(f"{age},basic\n" for age in (30, 31, 32, 33, 35)))

    # When they are sent two at a time
    result = CliRunner().invoke(app, ["endpoints", "invoke", "churn", "-f", str(rows), "--batch", "2"])

    # Then three requests went, each with the header, and the summary counts each prediction
    assert result.exit_code == 0, result.output
    assert [body.decode().splitlines()[0] for body in runtime.bodies] == ["age,plan"] * 3
    assert " ".join(result.output.split()) == (
        "mlops-churn: 5 row(s) answered in 3 of 3 request(s) of at most 2 row(s); predictions 0: 2, 1: 3"
    )


def test_refused_requests_are_counted_and_fail_the_command(runtime: FakeRuntime, tmp_path: Path) -> None:
    # Given a file whose second request the model refuses
    rows = tmp_path / "window.csv"
    rows.write_text("age,plan\n30,basic\n31,basic\nforty,basic\n33,basic\n")

    # When sent two rows at a time, as JSON
    result = CliRunner().invoke(
        app, ["endpoints", "invoke", "churn", "-f", str(rows), "--batch", "2", "--json"]
    )

    # Then the answered rows are counted, and the refusal named with the model's reason
    assert result.exit_code == 1
    summary, _, error = result.output.partition("error:")
    assert json.loads(summary) == {
        "endpoint": "mlops-churn", "requests": 2, "answered": 1, "rows": 2, "predictions": {"0": 1, "1": 1},
        "refused": 1,
    }  # fmt: skip
    assert " ".join(error.split()) == "the model refused 1 request(s); the first (400): age is not a number"
