"""Continuous training end to end in the local cloud: an accepted dataset version becomes a model version."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest

from examples.churn import generate
from localcloud.sagemaker.transfer import split_s3_uri
from tests.e2e.conftest import DataPlane
from tests.e2e.training_support import runs

pytestmark = pytest.mark.slow


def _packages(data_plane: DataPlane) -> list[dict[str, Any]]:
    sagemaker = data_plane.client("sagemaker")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName="mlops-churn").get(
        "ModelPackageSummaryList", []
    )
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def test_an_accepted_upload_trains_gates_and_registers_a_model_with_its_lineage(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    body = generate(4_000, 31, tmp_path_factory.mktemp("train") / "train.csv", "csv").read_bytes()
    version = hashlib.sha256(body).hexdigest()

    data_plane.upload("incoming/churn/for-training.csv", body)

    (run,) = [run for run in runs(data_plane) if version[:12] in run["name"]]
    assert run["status"] == "SUCCEEDED", run.get("cause")
    assert run["name"] == f"churn-{version[:12]}-accepted"
    output = json.loads(run["output"])
    assert output["gate"]["approved"] is True
    (package,) = [
        p
        for p in _packages(data_plane)
        if p["ModelPackageArn"] == output["registration"]["model_package_arn"]
    ]
    metadata = package["CustomerMetadataProperties"]
    assert metadata["lineage.dataset_version"] == version
    assert metadata["lineage.execution_arn"] == run["executionArn"]
    assert metadata["gate.decision"] == "approved"
    assert "metric.roc_auc" in metadata
    assert (
        package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        == output["training"]["model_artifacts"]
    )
    evaluation = data_plane.read_json(output["gate"]["evaluation_uri"].split("/", 3)[3])
    assert evaluation["rows"]["test"] > 0
    assert set(evaluation["metrics"]) >= {"accuracy", "f1", "roc_auc", "log_loss"}


def test_a_duplicate_trigger_starts_no_second_run(data_plane: DataPlane) -> None:
    sfn_runs = runs(data_plane)
    assert sfn_runs, "an earlier test started a run"
    run = sfn_runs[0]
    detail = json.loads(run["input"])
    event = {
        "version": "0", "id": "again", "detail-type": "Dataset Version Accepted", "source": "mlops.data",
        "account": "123456789012", "time": "2026-11-26T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"dataset": detail["dataset"], "version": detail["dataset_version"]},
    }  # fmt: skip
    functions = data_plane.client("lambda").list_functions()["Functions"]
    policy = next(f["FunctionName"] for f in functions if "RetrainingPolicyFunction" in f["FunctionName"])

    answer = json.loads(
        data_plane.client("lambda").invoke(FunctionName=policy, Payload=json.dumps(event))["Payload"].read()
    )

    # The retraining policy decided it before: a duplicate; its recorded start is acted on again, and finds
    # that run already started (this call started nothing)
    assert answer["decisions"][0]["outcome"] == "duplicate", answer
    acted = [d["acted"] for d in answer["decisions"] if d["outcome"] == "started"]
    assert acted == [f"{run['executionArn']} (already started)"], answer
    assert len(runs(data_plane)) == len(sfn_runs)


def test_a_dataset_too_small_to_split_fails_the_run_with_its_reason_and_registers_nothing(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    body = generate(120, 32, tmp_path_factory.mktemp("small") / "small.csv", "csv").read_bytes()
    before = len(_packages(data_plane))
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.upload("incoming/churn/small.csv", body)

    (run,) = [run for run in runs(data_plane) if hashlib.sha256(body).hexdigest()[:12] in run["name"]]
    assert run["status"] == "FAILED"
    assert "SplitRejectedError" in run["cause"]
    assert len(_packages(data_plane)) == before
    alerts = data_plane.drain(data_plane.alerts)
    assert any("SplitRejectedError" in alert["Message"] for alert in alerts)


def test_once_a_version_is_approved_the_next_run_scores_it_as_the_champion_on_the_same_rows(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_plane.point_sdk_here(monkeypatch)
    from adapters.registry import SageMakerModelRegistry

    registry = SageMakerModelRegistry()
    champion = next(p for p in _packages(data_plane) if p["ModelApprovalStatus"] == "PendingManualApproval")
    registry.approve(champion["ModelPackageArn"], reason="reviewed the evaluation", approver="e2e-test")
    body = generate(5_000, 33, tmp_path_factory.mktemp("next") / "next.csv", "csv").read_bytes()

    data_plane.upload("incoming/churn/next-month.csv", body)

    (run,) = [run for run in runs(data_plane) if hashlib.sha256(body).hexdigest()[:12] in run["name"]]
    assert run["status"] == "SUCCEEDED", run.get("cause")
    output = json.loads(run["output"])
    evaluation = data_plane.read_json(output["gate"]["evaluation_uri"].split("/", 3)[3])
    assert evaluation["champion"]["status"] == "scored"
    assert set(evaluation["champion"]["comparison"]) >= {"roc_auc", "accuracy"}
    gate = data_plane.read_json(output["gate"]["gate_uri"].split("/", 3)[3])
    assert gate["champion_compared"] is True
    approved = registry.describe(champion["ModelPackageArn"])
    assert approved.approval_status == "Approved"


def test_a_challenger_trained_on_shuffled_labels_is_rejected_recorded_and_not_registered(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder = tmp_path_factory.mktemp("shuffled")
    table = pacsv.read_csv(generate(4_000, 34, folder / "source.csv", "csv"))
    labels = table.column("churned").to_numpy()
    shuffled = table.set_column(
        table.schema.get_field_index("churned"),
        "churned",
        pa.array(np.random.default_rng(5).permutation(labels)),
    )
    pacsv.write_csv(shuffled, folder / "shuffled.csv")
    body = (folder / "shuffled.csv").read_bytes()
    before = len(_packages(data_plane))
    data_plane.drain(data_plane.alerts, wait=0.2)

    data_plane.upload("incoming/churn/shuffled.csv", body)

    (run,) = [run for run in runs(data_plane) if hashlib.sha256(body).hexdigest()[:12] in run["name"]]
    assert run["status"] == "SUCCEEDED", run.get("cause")
    output = json.loads(run["output"])
    assert output["gate"]["approved"] is False
    assert "registration" not in output
    assert len(_packages(data_plane)) == before
    decision = data_plane.read_json(output["gate"]["gate_uri"].split("/", 3)[3])
    assert decision["approved"] is False
    assert any("roc_auc" in reason for reason in decision["reasons"])
    alerts = data_plane.drain(data_plane.alerts)
    assert any(alert.get("Subject") == "Challenger rejected by the gate" for alert in alerts)


def test_the_registered_metrics_equal_those_of_the_same_training_run_in_process(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    first = next(run for run in reversed(runs(data_plane)) if run["status"] == "SUCCEEDED")
    output = json.loads(first["output"])
    folder = tmp_path_factory.mktemp("in-process")
    s3 = data_plane.client("s3")
    for channel in ("train", "validation", "test", "config", "champion"):
        prefix = output["prepare"][f"{channel}_uri"].split("/", 3)[3]
        for item in s3.list_objects_v2(Bucket=data_plane.bucket, Prefix=prefix).get("Contents", []):
            target = folder / channel / item["Key"].removeprefix(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(data_plane.bucket, item["Key"], str(target))
    environment = {
        **os.environ,
        "SM_MODEL_DIR": str(folder / "model"),
        "SM_OUTPUT_DATA_DIR": str(folder / "output"),
        "MLOPS_FAILURE_FILE": str(folder / "failure"),
        "SM_INPUT_CONFIG_DIR": str(folder / "input-config"),
        "PYTHONPATH": str(root),  # spec/, which the source directory carries beside train.py
        **{
            f"SM_CHANNEL_{name.upper()}": str(folder / name)
            for name in ("train", "validation", "test", "config", "champion")
        },
    }
    arguments = ["--dataset", "churn", "--dataset_version", json.loads(first["input"])["dataset_version"]]

    subprocess.run(
        [sys.executable, "train.py", *arguments], cwd=root / "training", env=environment, check=True
    )

    local = json.loads((folder / "model" / "evaluation.json").read_text())
    registered = data_plane.read_json(output["gate"]["evaluation_uri"].split("/", 3)[3])
    assert local["metrics"] == registered["metrics"]
    assert local["rows"] == registered["rows"]


@contextlib.contextmanager
def _training_code_replaced(data_plane: DataPlane, train_py: str) -> Iterator[None]:
    """Deploy a different ``train.py`` in the training source asset for the duration of the block."""
    sfn = data_plane.client("stepfunctions")
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=data_plane.outputs["TrainingStateMachineArn"])[
            "definition"
        ]
    )
    # The isolated job's code arrives as its "code" channel (sagemaker_submit_directory is its path inside).
    channels = definition["States"]["Train"]["Parameters"]["InputDataConfig"]
    (code,) = [channel for channel in channels if channel["ChannelName"] == "code"]
    bucket, key = split_s3_uri(code["DataSource"]["S3DataSource"]["S3Uri"])
    s3 = data_plane.client("s3")
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    replaced = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(original)) as old,
        tarfile.open(fileobj=replaced, mode="w:gz") as new,
    ):
        for member in old.getmembers():
            if member.name != "train.py":
                new.addfile(member, old.extractfile(member) if member.isfile() else None)
        script = train_py.encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(script)
        new.addfile(info, io.BytesIO(script))
    s3.put_object(Bucket=bucket, Key=key, Body=replaced.getvalue())
    try:
        yield
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original)


def test_a_training_script_that_raises_fails_the_run_with_its_message_and_an_alert(
    data_plane: DataPlane, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Given a deployed train.py that raises once it has started
    message = "the feature store answered 503: giving up on purpose"
    script = f"import sys\nprint('loading data', flush=True)\nraise RuntimeError({message!r})\n"
    body = generate(3_000, 34, tmp_path_factory.mktemp("raises") / "raises.csv", "csv").read_bytes()
    before = len(_packages(data_plane))
    data_plane.drain(data_plane.alerts, wait=0.2)

    # When a dataset version is accepted
    with _training_code_replaced(data_plane, script):
        data_plane.upload("incoming/churn/script-raises.csv", body)

    # Then the run failed at the training step with the script's own message, alerted, registered nothing
    (run,) = [run for run in runs(data_plane) if hashlib.sha256(body).hexdigest()[:12] in run["name"]]
    assert run["status"] == "FAILED"
    assert run["error"] == "TrainingRunFailed"
    cause = json.loads(run["cause"])
    assert cause["TrainingJobStatus"] == "Failed"
    assert f"RuntimeError: {message}" in cause["FailureReason"]
    assert len(_packages(data_plane)) == before
    alerts = [alert["Message"] for alert in data_plane.drain(data_plane.alerts)]
    assert any(message in alert for alert in alerts), alerts
