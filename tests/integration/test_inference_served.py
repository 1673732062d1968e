"""The model archive's own inference code, served by the local stand-in of the scikit-learn container.

What an endpoint answers must be what the model predicts in-process: the archive ``train.py`` wrote is
served as SageMaker serves it (``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``), and bad requests get a
4xx with a message while the server keeps serving.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
import pytest

from domain.training.registration import INFERENCE_ENVIRONMENT
from examples.churn import request_csv
from localcloud.sagemaker.serving import ModelServer
from tests.trained_model import churn_snapshot, train_model
from training.mlops_training.contract_io import Signature, feature_matrix


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model.tar.gz`` as the training job uploads it (files at the archive's root)."""
    model_dir = train_model(tmp_path_factory.mktemp("trained"))
    target = tmp_path_factory.mktemp("archive") / "model.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return target


@pytest.fixture(scope="module")
def server(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    environment = dict(INFERENCE_ENVIRONMENT) | {"MLOPS_MAX_PAYLOAD_BYTES": "200000"}
    with ModelServer.start(archive, tmp_path_factory.mktemp("served"), environment) as running:
        yield running


@pytest.fixture(scope="module")
def rows() -> pa.Table:
    return churn_snapshot(150, seed=5).slice(0, 25)


def _expected(server: ModelServer, rows: pa.Table) -> tuple[list[Any], Any]:
    pipeline = joblib.load(server.model_dir / "model.joblib")
    signature = Signature.from_dict(json.loads((server.model_dir / "model_signature.json").read_text()))
    matrix = feature_matrix(rows, signature.features)
    return pipeline.predict(matrix).tolist(), pipeline.predict_proba(matrix)


def test_a_csv_request_is_answered_with_exactly_the_in_process_predictions(
    server: ModelServer, rows: pa.Table
) -> None:
    status, content_type, body = server.invoke(request_csv(rows), "text/csv", "application/json")

    assert (status, content_type) == (200, "application/json")
    labels, probabilities = _expected(server, rows)
    answer = json.loads(body)["predictions"]
    assert [p["prediction"] for p in answer] == labels
    np.testing.assert_array_equal(
        [[p["probabilities"][c] for c in ("0", "1")] for p in answer], probabilities
    )


def test_a_json_request_is_answered_alike_and_csv_can_be_asked_for(
    server: ModelServer, rows: pa.Table
) -> None:
    records = [{k: v for k, v in r.items()} for r in rows.to_pylist()]

    status, content_type, body = server.invoke(
        json.dumps({"instances": records}).encode(), "application/json", "text/csv"
    )

    assert status == 200
    assert content_type.startswith("text/csv")
    labels, _ = _expected(server, rows)
    assert [int(line.split(",")[0]) for line in body.decode().splitlines()] == labels


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'[{"age": "old"}]', "application/json", 400, "'age': 'old' is a string, not a number"),
        (b"{", "application/json", 400, "not valid JSON"),
        (b"x", "application/x-parquet", 415, "is not served"),
        (b"a" * 200_001, "text/csv", 413, "more than the endpoint's 200,000"),
    ],
    ids=["wrong type", "malformed", "unsupported type", "too large"],
)
def test_a_bad_request_is_a_4xx_with_a_message_not_a_stack_trace(
    server: ModelServer, rows: pa.Table, body: bytes, content_type: str, status: int, message: str
) -> None:
    answer = server.invoke(body, content_type, "application/json")

    assert answer.status == status
    error = json.loads(answer.body)
    assert message in error["message"] + " ".join(error.get("problems", []))
    assert "Traceback" not in answer.body.decode()
    assert server.invoke(request_csv(rows.slice(0, 1)), "text/csv").status == 200  # still serving
