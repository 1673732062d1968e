"""``mlops models import`` against moto: the real adapters, only the stack outputs faked.

The deployed stack is stood in for by its outputs (``Platform.outputs``); the catalog, the data bucket and
the state machine are moto's. The state machine's Pass states return what the real steps return, at the
paths the real pipeline writes them: a run that registers, one the gate rejects, one that fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

from adapters.catalog import DynamoDatasetCatalog
from adapters.registry import SageMakerModelRegistry
from cli.main import app
from cli.target import Platform
from domain.data.ingestion import DatasetVersion
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import decide
from domain.training.registration import RegistrationFacts
from domain.training.runs import Trigger
from tests.moto_support import create_table, mocked_aws

VERSION = "cd" * 32
TABLE, BUCKET, PREFIX = "catalog", "data", "mlops-"
ROLE = "arn:aws:iam::123456789012:role/pipeline"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-churn/3"
CALLER = "arn:aws:sts::123456789012:user/moto"  # moto's answer to GetCallerIdentity
REASONS = ["roc_auc 0.58 is below the minimum 0.7", "roc_auc is 0.2 below the champion's"]
GATE_REJECTS = {"approved": False, "summary": "churn run x: rejected", "metrics": {}, "reasons": REASONS}
REFUSAL = (
    '{"errorType": "TrainingInputError", "errorMessage": "churn.skops holds types that are not trusted: '
    'lightgbm.sklearn.LGBMClassifier; trust them in cdk.json: ..."}'
)


def machine(gate: dict[str, Any] | None = None, *, fails: bool = False) -> dict[str, Any]:
    """A training pipeline of Pass states: registered, rejected by ``gate``, or failed with REFUSAL."""
    if fails:
        return {"StartAt": "Failed", "States": {"Failed": {"Type": "Fail", "Error": "TrainingRunFailed",
                                                           "Cause": REFUSAL}}}  # fmt: skip
    approved = {"approved": True, "summary": "approved", "reasons": ["roc_auc 0.81 meets 0.7"], "metrics": {}}
    registration = {"model_package_arn": PACKAGE, "version": 3, "approval_status": "PendingManualApproval"}
    gate = gate or approved
    states: dict[str, Any] = {
        "Gate": {"Type": "Pass", "Result": gate, "ResultPath": "$.gate", "Next": "Approved?"},
        "Approved?": {"Type": "Choice", "Default": "Rejected", "Choices": [
            {"Variable": "$.gate.approved", "BooleanEquals": True, "Next": "Register"}]},
        "Register": {"Type": "Pass", "Result": registration, "ResultPath": "$.registration", "End": True},
        "Rejected": {"Type": "Succeed"},
    }  # fmt: skip
    return {"StartAt": "Gate", "States": states}


Deploy = Callable[..., dict[str, str]]


@pytest.fixture
def deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deploy]:
    with mocked_aws(monkeypatch, state_dir=tmp_path / "state"):

        def create(definition: dict[str, Any] | None = None) -> dict[str, str]:
            create_table(TABLE, "dataset", "version")
            DynamoDatasetCatalog(TABLE).add(DatasetVersion(
                dataset="churn", version=VERSION, accepted_at="2026-11-02T10:00:00+00:00", rows=1000,
                size_bytes=10_000, format="csv", snapshot_prefix=f"datasets/churn/{VERSION}/",
                contract_fingerprint="f", source={"key": "incoming/churn/x.csv"},
            ))  # fmt: skip
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            arn = boto3.client("stepfunctions").create_state_machine(
                name="training", definition=json.dumps(definition or machine()), roleArn=ROLE
            )["stateMachineArn"]
            outputs = {"DataBucketName": BUCKET, "CatalogTableName": TABLE, "TrainingStateMachineArn": arn,
                       "ModelPackageGroupPrefix": PREFIX}  # fmt: skip
            monkeypatch.setattr(Platform, "outputs", property(lambda self: outputs))
            return outputs

        yield create


@pytest.fixture
def model(tmp_path: Path) -> Path:
    import skops.io
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]], [0, 1, 1, 0])
    path = tmp_path / "churn model.skops"
    skops.io.dump(fitted, path)
    return path


def mlops(*arguments: str) -> Result:
    return CliRunner().invoke(app, [*arguments, "--cloud", "aws"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_import_uploads_the_file_starts_an_import_run_and_prints_the_registered_version(
    deploy: Deploy, model: Path
) -> None:
    outputs = deploy()
    sha = _sha256(model)

    # When the file is imported with a reason
    result = mlops("models", "import", str(model), "--dataset", "churn", "--reason", "trained on the lake")

    # Then it is uploaded under its content with who, what and why, and an import run names it
    assert result.exit_code == 0, result.output
    run = f"churn-{VERSION[:12]}-import-{sha[:16]}"
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"uploaded churn model.skops to s3://{BUCKET}/imports/churn/{sha}.skops (sha256 {sha[:16]})"
    )
    assert lines[1] == f"started run {run}: churn model.skops onto churn version {VERSION[:12]}"
    assert lines[2:] == ["registered churn/3 (PendingManualApproval)", f"  {PACKAGE}"]
    head = boto3.client("s3").head_object(Bucket=BUCKET, Key=f"imports/churn/{sha}.skops")
    assert head["Metadata"] == {"imported-by": CALLER, "original-name": "churn%20model.skops",
                                "reason": "trained%20on%20the%20lake"}  # fmt: skip
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=outputs["TrainingStateMachineArn"])["executions"]
    document = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert execution["name"] == run
    assert document["trigger"] == {"kind": "import", "reference": sha[:16], "reason": "trained on the lake"}
    assert document["imported"] == {"sha256": sha, "by": CALLER, "name": "churn model.skops"}


def test_the_same_file_onto_the_same_version_starts_nothing_the_second_time(
    deploy: Deploy, model: Path
) -> None:
    outputs = deploy()
    first = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)
    versions_before = boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix="imports/")["Versions"]

    # When the same file is imported again
    again = mlops("models", "import", str(model), "-d", "churn")
    shown = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)

    # Then nothing is uploaded or started, and the first run's outcome is printed
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[:2] == [
        f"already uploaded: imports/churn/{first['sha256']}.skops",
        f"already imported: run {first['run']} (this file onto this version)",
    ]
    assert "registered churn/3" in again.stdout
    assert first["started"] is True and first["uploaded"] is True and first["outcome"] == "registered"
    assert shown["started"] is False and shown["uploaded"] is False and shown["run"] == first["run"]
    assert shown["registration"] == {"model_package_arn": PACKAGE, "version": 3,
                                     "approval_status": "PendingManualApproval"}  # fmt: skip
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=outputs["TrainingStateMachineArn"]
    )
    assert len(executions["executions"]) == 1
    assert (
        boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix="imports/")["Versions"]
        == versions_before
    )


def test_a_model_the_gate_rejects_is_reported_with_the_gate_s_reasons_and_exit_1(
    deploy: Deploy, model: Path
) -> None:
    deploy(machine(GATE_REJECTS))

    result = mlops("models", "import", str(model), "-d", "churn")
    shown = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)

    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[2:] == [
        "rejected by the gate: churn run x: rejected",
        "  - roc_auc 0.58 is below the minimum 0.7",
        "  - roc_auc is 0.2 below the champion's",
    ]
    assert shown["outcome"] == "rejected" and shown["registration"] is None
    assert shown["gate"] == {k: GATE_REJECTS[k] for k in ("approved", "summary", "reasons")}


def test_a_run_that_fails_is_reported_with_the_job_s_refusal_and_exit_1(deploy: Deploy, model: Path) -> None:
    deploy(machine(fails=True))

    result = mlops("models", "import", str(model), "-d", "churn", "--json")

    assert result.exit_code == 1, result.output
    shown = json.loads(result.stdout)
    assert shown["outcome"] == "failed" and shown["status"] == "FAILED"
    assert shown["error"].startswith("TrainingInputError: churn.skops holds types that are not trusted")


def test_without_waiting_the_run_is_left_running_and_the_command_succeeds(
    deploy: Deploy, model: Path
) -> None:
    deploy({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})

    result = mlops("models", "import", str(model), "-d", "churn", "--no-wait")

    assert result.exit_code == 0, result.output
    run = f"churn-{VERSION[:12]}-import-{_sha256(model)[:16]}"
    assert result.stdout.splitlines()[-1] == f"running: `mlops pipeline show {run}` follows it"


def test_past_its_timeout_json_prints_the_running_import_and_exits_1(deploy: Deploy, model: Path) -> None:
    # Given a run that takes longer than the command waits
    deploy({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": True}}})

    # When the file is imported with --json and a short --timeout
    result = mlops("models", "import", str(model), "-d", "churn", "--json", "--timeout", "0.3")

    # Then the document is printed with the run still running, stderr says how to follow it, exit 1
    assert result.exit_code == 1, result.output
    shown = json.loads(result.stdout)
    run = f"churn-{VERSION[:12]}-import-{_sha256(model)[:16]}"
    assert (shown["outcome"], shown["status"], shown["run"]) == ("running", "RUNNING", run)
    assert shown["uploaded"] is True and shown["started"] is True and shown["registration"] is None
    assert f"still running after 0.3 s: `mlops pipeline show {run}` follows it" in result.stderr


def test_a_dataset_without_an_accepted_version_is_refused_before_the_upload(
    deploy: Deploy, model: Path
) -> None:
    deploy()

    result = mlops("models", "import", str(model), "-d", "fraud")

    assert result.exit_code == 2
    assert "fraud has no accepted version" in result.stderr
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="imports/")


def test_show_names_where_an_imported_version_came_from(deploy: Deploy) -> None:
    # Given a version registered from an import run, its evaluation.json saying so
    deploy()
    sha = "5a" * 32
    run = f"churn-{VERSION[:12]}-import-{sha[:16]}"
    evaluation = {
        "task": "classification", "family": "imported", "target": "churned", "hyperparameters": {},
        "metrics": {"roc_auc": {"value": 0.81, "ci_low": 0.78, "ci_high": 0.84}},
        "model": {"kind": "imported", "family": None, "module": None, "packages": {"skops": "0.16.0"},
                  "imported": {"name": "churn (v2).skops", "sha256": sha, "by": CALLER}},
    }  # fmt: skip
    base = f"s3://{BUCKET}/runs/churn/{run}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=f"runs/churn/{run}/evaluation.json",
                                  Body=json.dumps(evaluation).encode())  # fmt: skip
    registry = SageMakerModelRegistry(now=lambda: datetime(2026, 12, 7, 0, 30, tzinfo=UTC))
    registry.ensure_group(PREFIX + "churn")
    facts = RegistrationFacts(
        group=PREFIX + "churn", dataset="churn", dataset_version=VERSION, code_version="v1",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:training:{run}",
        trigger=Trigger("import", reference=sha[:16], reason="from the lake"), image_uri="sklearn:1.2-1",
        model_data_url=f"{base}/model.tar.gz", evaluation_url=f"{base}/evaluation.json",
        inputs_profile_url=f"{base}/inputs.json", predictions_profile_url=f"{base}/predictions.json",
    )  # fmt: skip
    decision = decide(evaluation, GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.7)}))
    registry.register(evaluation, decision, facts, auto_approve=False)

    # When it is shown
    shown = mlops("models", "show", "churn/1")
    as_json = json.loads(mlops("models", "show", "churn/1", "--json").stdout)

    # Then its lineage says it was imported, from which file, by whom, and what it needs beyond the image
    assert shown.exit_code == 0, shown.output
    assert "  imported churn v2 .skops" in shown.stdout
    assert f"    by     {CALLER}" in shown.stdout
    assert f"    sha256 {sha}" in shown.stdout
    assert "  packages skops==0.16.0" in shown.stdout
    assert f"  trigger  import {sha[:16]}: from the lake" in shown.stdout
    assert "module" not in shown.stdout
    assert (as_json["import_sha256"], as_json["imported_by"], as_json["packages"]) == (
        sha,
        CALLER,
        "skops==0.16.0",
    )


def test_pipeline_runs_lists_an_import_run_of_its_dataset(deploy: Deploy, model: Path) -> None:
    deploy()
    mlops("models", "import", str(model), "-d", "churn", "--reason", "from the lake")

    listed = json.loads(mlops("pipeline", "runs", "--dataset", "churn", "--json").stdout)

    sha = _sha256(model)
    assert [(run["name"], run["trigger"], run["reason"]) for run in listed] == [
        (f"churn-{VERSION[:12]}-import-{sha[:16]}", f"import {sha[:16]}", "from the lake")
    ]


def test_pipeline_show_names_the_file_an_import_run_judged_and_who_imported_it(
    deploy: Deploy, model: Path
) -> None:
    # Given an import run
    deploy()
    run = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)["run"]

    # When the run is shown, for people and as JSON
    shown = mlops("pipeline", "show", run)
    document = json.loads(mlops("pipeline", "show", run, "--json").stdout)

    # Then both name the file, its sha256 and the importer
    sha = _sha256(model)
    assert f"  imported churn model.skops (sha256 {sha[:16]}) by {CALLER}" in shown.stdout.splitlines()
    assert document["imported"] == {"sha256": sha, "by": CALLER, "name": "churn model.skops"}


def test_an_upload_whose_run_did_not_start_is_finished_by_importing_again(
    deploy: Deploy, model: Path
) -> None:
    # Given an import whose file was uploaded but whose run could not start (the pipeline unreachable)
    outputs = deploy()
    pipeline = outputs["TrainingStateMachineArn"]
    outputs["TrainingStateMachineArn"] = f"{pipeline}-gone"
    failed = mlops("models", "import", str(model), "-d", "churn")

    # When the same file is imported again, the pipeline back
    outputs["TrainingStateMachineArn"] = pipeline
    again = mlops("models", "import", str(model), "-d", "churn")

    # Then the first said it could not start (one line, exit 2), the second uploads nothing and starts it
    sha = _sha256(model)
    run = f"churn-{VERSION[:12]}-import-{sha[:16]}"
    assert failed.exit_code == 2, failed.output
    assert failed.stdout.splitlines() == [] and "cannot start" in failed.stderr
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[:2] == [
        f"already uploaded: imports/churn/{sha}.skops",
        f"started run {run}: churn model.skops onto churn version {VERSION[:12]}",
    ]
    assert len(boto3.client("s3").list_object_versions(Bucket=BUCKET, Prefix="imports/")["Versions"]) == 1


def test_the_same_file_onto_a_newer_version_is_a_new_run_of_the_file_already_there(
    deploy: Deploy, model: Path
) -> None:
    # Given a file imported onto churn's version, then a newer version accepted
    deploy()
    first = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)
    newer = "ef" * 32
    DynamoDatasetCatalog(TABLE).add(DatasetVersion(
        dataset="churn", version=newer, accepted_at="2026-11-03T10:00:00+00:00", rows=1000,
        size_bytes=10_000, format="csv", snapshot_prefix=f"datasets/churn/{newer}/",
        contract_fingerprint="f", source={"key": "incoming/churn/y.csv"},
    ))  # fmt: skip

    # When the same file is imported again
    second = json.loads(mlops("models", "import", str(model), "-d", "churn", "--json").stdout)

    # Then it is judged on the newer version's rows by a run of its own, from the file already uploaded
    assert (first["dataset_version"], second["dataset_version"]) == (VERSION, newer)
    assert second["uploaded"] is False and second["started"] is True
    assert second["run"] == f"churn-{newer[:12]}-import-{first['sha256'][:16]}" != first["run"]
