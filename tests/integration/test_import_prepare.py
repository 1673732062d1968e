"""The prepare step of an import run on moto: the imported file joins the config channel.

The handler reads ``contracts.json`` and ``training.json`` next to itself, as in its Lambda asset (see
``tests/integration/test_pipeline_handlers.py``); the imported file is where ``mlops models import`` puts it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import load_contract
from domain.data.validation import validate_dataset
from domain.names import import_key
from domain.training.config import parse_training_config
from domain.training.prepare import ImportedModelMissingError
from domain.training.runs import ImportedModel, RunRequest, Trigger, execution_input
from examples.churn import chunks
from tests.moto_support import FakeLambdaContext, asset_handler, forget_cached_adapters, mocked_aws

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlops-data"
TRAINING = {"model": {"family": "logistic_regression"}, "gate": {"thresholds": {"roc_auc": {"min": 0.55}}}}
VERSION = "e4" * 32
FILE = b"PK\x03\x04 a skops archive's bytes, as the person saved them"
IMPORTED = ImportedModel(
    sha256="5a" * 32, by="arn:aws:sts::123456789012:assumed-role/ds/alice", name="churn v2.skops"
)
IMPORT_RUN = RunRequest(
    "churn", VERSION, Trigger("import", reference=IMPORTED.sha256[:16], reason="from the lake"), IMPORTED
)


@pytest.fixture(scope="module")
def prepare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    churn = load_contract(ROOT / "contracts" / "churn.yaml")
    config = parse_training_config(TRAINING, contract=churn)
    patch = pytest.MonkeyPatch()
    for variable, value in {"POWERTOOLS_SERVICE_NAME": "training", "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
                            "POWERTOOLS_TRACE_DISABLED": "1"}.items():  # fmt: skip
        patch.setenv(variable, value)
    generated = {
        "contracts.json": json.dumps({"churn": churn.model_dump(mode="json")}),
        "training.json": json.dumps({"churn": config.model_dump(mode="json")}),
    }
    yield asset_handler("training_prepare", tmp_path_factory.mktemp("prepare"), generated)
    patch.undo()


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch, prepare: ModuleType) -> Iterator[None]:
    monkeypatch.setenv("DATA_BUCKET", BUCKET)
    monkeypatch.setenv("MODEL_PACKAGE_GROUP_PREFIX", "mlops-")
    forget_cached_adapters([prepare])
    with mocked_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        upload = io.BytesIO()
        pq.write_table(pa.concat_tables(list(chunks(600, seed=3))), upload)
        snapshot = io.BytesIO()
        churn = load_contract(ROOT / "contracts" / "churn.yaml")
        assert validate_dataset(lambda: io.BytesIO(upload.getvalue()), churn, snapshot_sink=snapshot).accepted
        s3.put_object(Bucket=BUCKET, Key=f"datasets/churn/{VERSION}/data.parquet", Body=snapshot.getvalue())
        yield


def _object(key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()  # type: ignore[no-any-return]


def test_an_import_run_gets_the_file_in_its_config_channel_and_training_json_names_it(
    bucket: None, prepare: ModuleType
) -> None:
    # Given the file `mlops models import` uploaded, with the caller and name as metadata
    key = import_key("churn", IMPORTED.sha256)
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=FILE, Metadata={"imported-by": IMPORTED.by})

    # When the prepare step runs the import run
    prepared = prepare.handler(execution_input(IMPORT_RUN), FakeLambdaContext())

    # Then the config channel holds the file's bytes and training.json the configuration plus "imported"
    config = prepared["config_uri"].removeprefix(f"s3://{BUCKET}/")
    assert config == f"runs/churn/{IMPORT_RUN.name}/config/"
    assert _object(config + "imported.skops") == FILE
    training = json.loads(_object(config + "training.json"))
    assert training["imported"] == {"file": "imported.skops", "sha256": IMPORTED.sha256, "by": IMPORTED.by,
                                    "name": "churn v2.skops"}  # fmt: skip
    assert training["model"]["family"] == "logistic_regression" and training["task"] == "classification"
    # ... the split is made as for any run, and the uploaded file is left as it was
    assert sum(prepared["summary"]["rows"].values()) == 600
    assert _object(key) == FILE


def test_a_run_that_trains_gets_no_imported_file(bucket: None, prepare: ModuleType) -> None:
    # Given a person's run of the same version
    run = RunRequest("churn", VERSION, Trigger("manual"))

    # When the prepare step runs it, then its config channel has no imported model
    prepared = prepare.handler(execution_input(run), FakeLambdaContext())
    config = prepared["config_uri"].removeprefix(f"s3://{BUCKET}/")
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=config)["Contents"]
    assert sorted(item["Key"].removeprefix(config) for item in listed) == ["contract.json", "training.json"]
    assert "imported" not in json.loads(_object(config + "training.json"))


def test_an_import_run_whose_file_is_missing_fails_naming_the_key_and_what_to_do(
    bucket: None, prepare: ModuleType
) -> None:
    # Given an import run whose file is not under imports/ (deleted since, or never uploaded)
    # When the prepare step runs it
    with pytest.raises(ImportedModelMissingError) as raised:
        prepare.handler(execution_input(IMPORT_RUN), FakeLambdaContext())

    # Then the error names the object and the command that uploads it again, and no split was made for it
    message = str(raised.value)
    assert f"s3://{BUCKET}/{import_key('churn', IMPORTED.sha256)}" in message
    assert "mlops models import 'churn v2.skops' --dataset churn" in message
    assert "Contents" not in boto3.client("s3").list_objects_v2(
        Bucket=BUCKET, Prefix=f"datasets/churn/{VERSION}/splits/"
    )
