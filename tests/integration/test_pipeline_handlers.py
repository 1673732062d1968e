"""The training pipeline's three handlers on moto, in order: prepare, (train.py), gate, register.

The handlers read ``contracts.json`` and ``training.json`` next to themselves, as in their Lambda
asset: each test module's handlers get those files generated into a copy of their folder, imported under
the name the Lambda runtime gives them, so the handlers carry no test-only branch.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract, load_contract
from domain.data.validation import validate_dataset
from domain.training.config import parse_training_config
from domain.training.runs import RunRequest, Trigger, execution_input
from examples.churn import chunks
from tests.moto_support import FakeLambdaContext, asset_handler, forget_cached_adapters, mocked_aws

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mlops-data"
TRAINING = {"model": {"family": "hist_gradient_boosting"}, "evaluation": {"bootstrap_samples": 30},
            "gate": {"thresholds": {"roc_auc": {"min": 0.55}}, "auto_approve": True}}  # fmt: skip

POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "training", "POWERTOOLS_METRICS_NAMESPACE": "MLOps",
              "POWERTOOLS_TRACE_DISABLED": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def churn() -> DatasetContract:
    return load_contract(ROOT / "contracts" / "churn.yaml")


@pytest.fixture(scope="module")
def snapshot(churn: DatasetContract) -> bytes:
    """2,000 churn rows as ingestion stores them."""
    upload = io.BytesIO()
    pq.write_table(pa.concat_tables(list(chunks(2_000, seed=5))), upload)
    sink = io.BytesIO()
    assert validate_dataset(lambda: io.BytesIO(upload.getvalue()), churn, snapshot_sink=sink).accepted
    return sink.getvalue()


@pytest.fixture(scope="module")
def handlers(
    tmp_path_factory: pytest.TempPathFactory, churn: DatasetContract
) -> Iterator[dict[str, ModuleType]]:
    """Each handler from a copy of its folder holding the generated files, as the asset does."""
    config = parse_training_config(TRAINING, contract=churn)
    loaded = {}
    patch = pytest.MonkeyPatch()
    # Powertools' singletons read these when the module is imported, as on Lambda.
    for variable, value in POWERTOOLS.items():
        patch.setenv(variable, value)
    generated = {
        "contracts.json": json.dumps({"churn": churn.model_dump(mode="json")}),
        "training.json": json.dumps({"churn": config.model_dump(mode="json")}),
    }
    for name in ("training_prepare", "training_gate", "model_registration"):
        loaded[name] = asset_handler(name, tmp_path_factory.mktemp(name), generated)
    yield loaded
    patch.undo()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, handlers: dict[str, ModuleType]) -> Iterator[None]:
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "DATA_BUCKET": BUCKET,
           "MODEL_PACKAGE_GROUP_PREFIX": "",
           "INFERENCE_IMAGE_URI": "sklearn:1.4", "CODE_VERSION": "v1"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    forget_cached_adapters(handlers.values())
    with mocked_aws(monkeypatch):
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


SHA = "e3" * 32
RUN = RunRequest("churn", SHA, Trigger("accepted", reason="dataset version accepted"))


def download_channels(prepared: dict[str, Any], folder: Path) -> None:
    s3 = boto3.client("s3")
    for channel in ("train", "validation", "test", "config", "champion"):
        prefix = prepared[f"{channel}_uri"].removeprefix(f"s3://{BUCKET}/")
        (folder / channel).mkdir(parents=True)
        for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]:
            s3.download_file(BUCKET, item["Key"], str(folder / channel / Path(item["Key"]).name))


def train(prepared: dict[str, Any], folder: Path) -> str:
    """Run training/train.py on the channels as SageMaker would; upload its model.tar.gz; its URI."""
    download_channels(prepared, folder)
    env = {**os.environ, "SM_MODEL_DIR": str(folder / "model"), "SM_OUTPUT_DATA_DIR": str(folder / "output"),
           "MLOPS_FAILURE_FILE": str(folder / "failure"), "SM_INPUT_CONFIG_DIR": str(folder / "input-config"),
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),  # spec/, beside train.py on SageMaker
           **{f"SM_CHANNEL_{c.upper()}": str(folder / c) for c in ("train", "validation", "test", "config",
                                                                   "champion")}}  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(ROOT / "training" / "train.py"), "--max_iter", "40"],
        env=env, cwd=ROOT / "training", capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "model", arcname=".")
    key = prepared["output_uri"].removeprefix(f"s3://{BUCKET}/") + f"{prepared['training_job_name']}/output/"
    boto3.client("s3").upload_file(str(archive), BUCKET, key + "model.tar.gz")
    return f"s3://{BUCKET}/{key}model.tar.gz"


def test_prepare_fails_by_name_when_the_snapshot_cannot_be_split(
    aws: None, handlers: dict[str, ModuleType], snapshot: bytes
) -> None:
    table = pq.read_table(io.BytesIO(snapshot)).slice(0, 60)
    small = io.BytesIO()
    pq.write_table(table, small)
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key=f"datasets/churn/{SHA}/data.parquet", Body=small.getvalue()
    )

    with pytest.raises(Exception, match="min_rows_per_split") as raised:
        handlers["training_prepare"].handler(execution_input(RUN), FakeLambdaContext())
    assert type(raised.value).__name__ == "SplitRejectedError"


def test_a_run_is_prepared_trained_gated_and_registered(
    aws: None, handlers: dict[str, ModuleType], snapshot: bytes, tmp_path: Path
) -> None:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"datasets/churn/{SHA}/data.parquet", Body=snapshot)
    document = execution_input(RUN)

    prepared = handlers["training_prepare"].handler(document, FakeLambdaContext())
    assert prepared["champion"] is False
    assert all(prepared[f"{c}_uri"].startswith(f"s3://{BUCKET}/") and prepared[f"{c}_uri"].endswith("/")
               for c in ("train", "validation", "test", "config", "champion", "output"))  # fmt: skip
    assert len(prepared["training_job_name"]) <= 63

    artifacts = train(prepared, tmp_path / "job")
    state = {**document, "prepare": prepared, "training": {"job_name": prepared["training_job_name"],
                                                           "model_artifacts": artifacts}}  # fmt: skip
    gate = handlers["training_gate"].handler(state, FakeLambdaContext())
    assert gate["approved"] is True, gate["reasons"]
    assert gate["metrics"]["roc_auc"] > 0.55
    record = json.loads(
        s3.get_object(Bucket=BUCKET, Key=gate["gate_uri"].removeprefix(f"s3://{BUCKET}/"))["Body"].read()
    )
    assert record["context"]["run_name"] == RUN.name

    execution = f"arn:aws:states:us-east-1:123456789012:execution:training:{RUN.name}"
    registration = {"run": document, "prepare": prepared, "training": state["training"], "gate": gate,
                    "execution_arn": execution}  # fmt: skip
    registered = handlers["model_registration"].handler(registration, FakeLambdaContext())
    assert registered["version"] == 1 and registered["created"] is True
    assert registered["approval_status"] == "Approved"
    assert handlers["model_registration"].handler(registration, FakeLambdaContext())["created"] is False

    # The next run of the dataset finds the approved version as its champion.
    manual = execution_input(RunRequest("churn", SHA, Trigger("manual", reference="rerun-2")))
    second = handlers["training_prepare"].handler(manual, FakeLambdaContext())
    assert second["champion"] is True and second["train_uri"] == prepared["train_uri"]
    champion_key = second["champion_uri"].removeprefix(f"s3://{BUCKET}/") + "model.tar.gz"
    assert s3.head_object(Bucket=BUCKET, Key=champion_key)["ContentLength"] > 0
