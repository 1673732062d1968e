"""``mlops pipeline`` and ``mlops models`` against moto: the real adapters, only the stack outputs faked.

The deployed stack is stood in for by its outputs (``Platform.outputs``); the catalog table, the state
machine, the model package groups and the evaluation object are real resources in moto. The state
machine's Pass states return what the real steps return, at the paths the real pipeline writes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

from adapters.catalog import DynamoDatasetCatalog
from adapters.registry import SageMakerModelRegistry
from adapters.retraining import DynamoDecisions
from cli.main import app
from cli.target import Platform
from domain.data.ingestion import DatasetVersion
from domain.retraining.config import RetrainingConfig
from domain.retraining.policy import Observations
from domain.retraining.policy import decide as decide_policy
from domain.retraining.triggers import PolicyTrigger
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import decide
from domain.training.registration import RegistrationFacts
from domain.training.runs import Trigger
from tests.moto_support import create_table, mocked_aws

OLD, NEW = "ab" * 32, "cd" * 32
ROLE = "arn:aws:iam::123456789012:role/pipeline"
TABLE, BUCKET, PREFIX = "catalog", "data", "mlops-"
CAUSE = "roc_auc 0.61 is below the minimum 0.7"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-churn/1"
STEPS: dict[str, dict[str, Any]] = {
    "prepare": {"summary": {"rows": {"train": 700, "validation": 150, "test": 150}}, "champion": False},
    "training": {"job_name": "churn-cdcdcdcd-1234abcd", "model_artifacts": "s3://data/runs/model.tar.gz"},
    "gate": {"approved": True, "reasons": ["roc_auc 0.81 meets the minimum 0.7"],
             "metrics": {"roc_auc": 0.81}, "summary": "churn run x: approved. roc_auc 0.81 meets 0.7"},
    "registration": {"model_package_arn": PACKAGE, "version": 1, "approval_status": "PendingManualApproval"},
}  # fmt: skip
SUCCEEDS = {
    "StartAt": "Split",
    "States": {
        "Split": {"Type": "Pass", "Result": STEPS["prepare"], "ResultPath": "$.prepare", "Next": "Train"},
        "Train": {"Type": "Pass", "Result": STEPS["training"], "ResultPath": "$.training", "Next": "Gate"},
        "Gate": {"Type": "Pass", "Result": STEPS["gate"], "ResultPath": "$.gate", "Next": "Register"},
        "Register": {"Type": "Pass", "Result": STEPS["registration"], "ResultPath": "$.registration",
                     "End": True},
    },
}  # fmt: skip
FAILS = {
    "StartAt": "Failed",
    "States": {"Failed": {"Type": "Fail", "Error": "TrainingRunFailed", "Cause": CAUSE}},
}
EVALUATION: dict[str, Any] = {
    "task": "classification", "family": "random_forest", "target": "churned",
    "hyperparameters": {"n_estimators": 200},
    "metrics": {"roc_auc": {"value": 0.81, "ci_low": 0.78, "ci_high": 0.84},
                "f1": {"value": 0.66, "ci_low": 0.6, "ci_high": 0.7}},
}  # fmt: skip


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch, state_dir=tmp_path / "state"):
        yield


Deploy = Callable[..., dict[str, str]]


@pytest.fixture
def deploy(aws: None, monkeypatch: pytest.MonkeyPatch) -> Deploy:
    """Create the platform's resources in moto and make them the 'deployed stack''s outputs."""

    def create(definition: dict[str, Any] = SUCCEEDS, **missing: None) -> dict[str, str]:
        boto3.client("dynamodb").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "dataset", "KeyType": "HASH"},
                       {"AttributeName": "version", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "dataset", "AttributeType": "S"},
                                  {"AttributeName": "version", "AttributeType": "S"}],
        )  # fmt: skip
        catalog = DynamoDatasetCatalog(TABLE)
        for version, accepted_at in ((OLD, "2026-11-01T10:00:00+00:00"), (NEW, "2026-11-02T10:00:00+00:00")):
            catalog.add(DatasetVersion(
                dataset="churn", version=version, accepted_at=accepted_at, rows=1000, size_bytes=10_000,
                format="csv", snapshot_prefix=f"datasets/churn/{version}/", contract_fingerprint="f",
                source={"key": "incoming/churn/x.csv"},
            ))  # fmt: skip
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        machine = boto3.client("stepfunctions").create_state_machine(
            name="training", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        outputs = {"DataBucketName": BUCKET, "CatalogTableName": TABLE, "TrainingStateMachineArn": machine,
                   "ModelPackageGroupPrefix": PREFIX}  # fmt: skip
        for name in missing:
            del outputs[name]
        monkeypatch.setattr(Platform, "outputs", property(lambda self: outputs))
        return outputs

    return create


def mlops(*arguments: str) -> Result:
    return CliRunner().invoke(app, [*arguments, "--cloud", "aws"])


def settled(run: str) -> dict[str, Any]:
    """The run's JSON once moto's thread has finished it."""
    deadline = time.monotonic() + 10
    while True:
        shown = json.loads(mlops("pipeline", "show", run, "--json").stdout)
        if shown["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(shown)
        time.sleep(0.05)


def register(
    dataset: str = "churn", run: str = "churn-cdcdcdcdcdcd-accepted", group: str | None = None
) -> str:
    """Register a model the way the pipeline does, with its evaluation.json in S3; its ARN."""
    key = f"runs/{dataset}/{run}/evaluation.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(EVALUATION).encode())
    group = group or PREFIX + dataset
    registry = SageMakerModelRegistry(now=lambda: datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    registry.ensure_group(group)
    base = f"s3://{BUCKET}/runs/{dataset}/{run}"
    facts = RegistrationFacts(
        group=group, dataset=dataset, dataset_version=NEW, code_version="v1.4.0",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:training:{run}",
        trigger=Trigger("accepted", reason="dataset version accepted"), image_uri="sklearn:1.2-1",
        model_data_url=f"{base}/model.tar.gz", evaluation_url=f"{base}/evaluation.json",
        inputs_profile_url=f"{base}/inputs.json", predictions_profile_url=f"{base}/predictions.json",
    )  # fmt: skip
    decision = decide(EVALUATION, GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.7)}))
    version, _ = registry.register(EVALUATION, decision, facts, auto_approve=False)
    return version.arn


def one_clear_line(result: Result, text: str) -> None:
    assert result.exit_code == 2, result.output
    assert text in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# mlops pipeline start


def test_start_trains_the_latest_accepted_version_by_hand(deploy: Deploy) -> None:
    outputs = deploy()

    started = mlops("pipeline", "start", "--dataset", "churn", "--reason", "new features")

    assert started.exit_code == 0, started.output
    name = f"churn-{NEW[:12]}-manual"
    assert f"started run {name}" in started.stdout
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=outputs["TrainingStateMachineArn"])["executions"]
    document = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert execution["name"] == name
    assert document["dataset_version"] == NEW
    assert document["trigger"] == {"kind": "manual", "reference": None, "reason": "new features"}


def test_starting_the_same_run_again_says_so_and_starts_nothing(deploy: Deploy) -> None:
    outputs = deploy()
    mlops("pipeline", "start", "--dataset", "churn")

    again = mlops("pipeline", "start", "--dataset", "churn", "--json")

    assert again.exit_code == 0, again.output
    shown = json.loads(again.stdout)
    assert shown["started"] is False and shown["name"] == f"churn-{NEW[:12]}-manual"
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=outputs["TrainingStateMachineArn"]
    )["executions"]
    assert len(executions) == 1
    assert "already started" in mlops("pipeline", "start", "--dataset", "churn").stdout


def test_a_version_prefix_and_a_rerun_label_name_a_new_run(deploy: Deploy) -> None:
    deploy()

    started = mlops("pipeline", "start", "-d", "churn", "--version", OLD[:8], "--rerun", "rerun-2", "--json")

    assert started.exit_code == 0, started.output
    shown = json.loads(started.stdout)
    assert shown["started"] is True
    assert shown["name"] == f"churn-{OLD[:12]}-manual-rerun-2"
    assert shown["dataset_version"] == OLD
    assert shown["trigger"]["reference"] == "rerun-2"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dataset", "churn", "--version", "ffff0000"], "churn has no accepted version ffff0000"),
        (["--dataset", "fraud"], "fraud has no accepted version: push one"),
    ],
    ids=["unknown-version", "no-version-at-all"],
)
def test_start_without_such_an_accepted_version_is_one_clear_error(
    deploy: Deploy, arguments: list[str], message: str
) -> None:
    deploy()

    one_clear_line(mlops("pipeline", "start", *arguments), message)


def test_start_with_wait_prints_the_outcome(deploy: Deploy) -> None:
    deploy()

    started = mlops("pipeline", "start", "--dataset", "churn", "--wait")

    assert started.exit_code == 0, started.output
    assert "SUCCEEDED" in started.stdout
    assert "registered version 1 (PendingManualApproval)" in started.stdout


def test_start_with_wait_exits_1_when_the_run_fails_and_says_why(deploy: Deploy) -> None:
    deploy(FAILS)

    started = mlops("pipeline", "start", "--dataset", "churn", "--wait")

    assert started.exit_code == 1, started.output
    assert "FAILED" in started.stdout
    assert "TrainingRunFailed" in started.stdout and CAUSE in started.stdout


# A run still going when the command stops waiting (moto's thread waits out the Wait state).
STILL_RUNNING = {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 5, "End": True}}}


@pytest.mark.parametrize("as_json", [True, False])
def test_start_with_wait_past_its_timeout_prints_the_running_run_and_exits_1(
    deploy: Deploy, as_json: bool
) -> None:
    # Given a run that takes longer than the command waits
    deploy(STILL_RUNNING)

    # When it is started with --wait and a short --timeout (with and without --json)
    started = mlops(
        "pipeline", "start", "--dataset", "churn", "--wait", "--timeout", "0.3", *(["--json"] * as_json)
    )

    # Then the run is printed as it is, running (--json: the whole document), stderr says it is still
    # running and how to follow it, and the exit code is 1, as for a run that did not succeed
    assert started.exit_code == 1, started.output
    run = f"churn-{NEW[:12]}-manual"
    if as_json:
        document = json.loads(started.stdout)
        assert document["status"] == "RUNNING" and document["name"] == run and document["started"] is True
    else:
        assert "RUNNING" in started.stdout and run in started.stdout
    assert "still running after 0.3 s" in started.stderr
    assert f"mlops pipeline show {run}" in started.stderr
    assert "Traceback" not in started.output


def test_a_stack_deployed_before_the_pipeline_is_one_clear_error(deploy: Deploy) -> None:
    deploy(TrainingStateMachineArn=None)

    one_clear_line(
        mlops("pipeline", "runs"), "no output TrainingStateMachineArn in the stacks tagged project="
    )
    assert "redeploy the app" in mlops("pipeline", "runs").stderr


# mlops pipeline runs / show


def test_runs_are_listed_newest_first_and_filtered_by_dataset(deploy: Deploy) -> None:
    deploy()
    mlops("pipeline", "start", "--dataset", "churn", "--version", OLD)
    time.sleep(1.1)  # execution start times have a resolution of seconds in moto
    mlops(
        "pipeline",
        "start",
        "--dataset",
        "churn",
        "--version",
        NEW,
        "--rerun",
        "try-2",
        "--reason",
        "new bins",
    )

    listed = json.loads(mlops("pipeline", "runs", "--json").stdout)
    table = mlops("pipeline", "runs", "--dataset", "churn")

    assert [run["name"] for run in listed] == [f"churn-{NEW[:12]}-manual-try-2", f"churn-{OLD[:12]}-manual"]
    assert listed[0]["dataset"] == "churn" and listed[0]["dataset_version"] == NEW
    assert listed[0]["trigger"] == "manual try-2" and listed[0]["reason"] == "new bins"
    assert table.exit_code == 0 and f"churn-{NEW[:12]}-manual-try-2" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert json.loads(mlops("pipeline", "runs", "--dataset", "fraud", "--json").stdout) == []


def test_show_reads_each_steps_outcome_from_the_run(deploy: Deploy) -> None:
    deploy()
    mlops("pipeline", "start", "--dataset", "churn", "--reason", "by hand")
    name = f"churn-{NEW[:12]}-manual"

    shown = settled(name)
    text = mlops("pipeline", "show", name)

    assert shown["status"] == "SUCCEEDED"
    assert (shown["dataset"], shown["dataset_version"]) == ("churn", NEW)
    assert shown["trigger"] == {"kind": "manual", "reference": None, "reason": "by hand"}
    steps = shown["steps"]
    assert steps["prepare"]["rows"] == {"train": 700, "validation": 150, "test": 150}
    assert steps["training"] == STEPS["training"]
    assert steps["gate"]["approved"] is True and steps["gate"]["reasons"] == STEPS["gate"]["reasons"]
    assert steps["registration"]["model_package_arn"] == PACKAGE
    assert text.exit_code == 0
    for expected in ("train 700", "churn-cdcdcdcd-1234abcd", "roc_auc 0.81 meets the minimum 0.7", PACKAGE):
        assert expected in text.stdout


def test_show_of_a_failed_run_gives_the_error_and_cause(deploy: Deploy) -> None:
    deploy(FAILS)
    arn = json.loads(mlops("pipeline", "start", "--dataset", "churn", "--json").stdout)["execution_arn"]

    shown = settled(arn)

    assert shown["status"] == "FAILED"
    assert (shown["error"], shown["cause"]) == ("TrainingRunFailed", CAUSE)
    assert shown["steps"] == {}


def test_show_of_an_unknown_run_is_one_clear_error(deploy: Deploy) -> None:
    deploy()

    one_clear_line(mlops("pipeline", "show", "churn-000000000000-manual"), "no pipeline run")


# mlops models


def test_models_list_shows_the_platforms_versions_newest_first(deploy: Deploy) -> None:
    deploy()
    register(run="churn-cdcdcdcdcdcd-accepted")
    time.sleep(1.1)
    register(run="churn-cdcdcdcdcdcd-manual")
    register(dataset="fraud", run="fraud-cdcdcdcdcdcd-accepted")
    register(run="other-cdcdcdcdcdcd-accepted", group="someone-elses")

    listed = json.loads(mlops("models", "list", "--json").stdout)
    churn = json.loads(mlops("models", "list", "--dataset", "churn", "--json").stdout)
    table = mlops("models", "list")

    assert {v["group"] for v in listed} == {"mlops-churn", "mlops-fraud"}
    assert [(v["group"], v["version"]) for v in churn] == [("mlops-churn", 2), ("mlops-churn", 1)]
    assert churn[0]["metrics"] == {"f1": 0.66, "roc_auc": 0.81}
    assert table.exit_code == 0
    assert "churn/2" in table.stdout and "fraud/1" in table.stdout and "someone" not in table.stdout
    assert "pending" in table.stdout and NEW[:12] in table.stdout and "roc_auc 0.81" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())


def test_models_list_of_a_dataset_without_models_says_so(deploy: Deploy) -> None:
    deploy()

    listed = mlops("models", "list", "--dataset", "churn")

    assert listed.exit_code == 0 and "no model version yet of churn" in listed.stdout


@pytest.mark.parametrize("reference", ["churn/1", "churn:1", "arn"])
def test_models_show_gives_metrics_with_intervals_lineage_and_gate(deploy: Deploy, reference: str) -> None:
    deploy()
    arn = register()

    shown = mlops("models", "show", arn if reference == "arn" else reference, "--json")
    text = mlops("models", "show", arn if reference == "arn" else reference)

    assert shown.exit_code == 0, shown.output
    version = json.loads(shown.stdout)
    assert version["arn"] == arn
    assert version["intervals"] == {"roc_auc": [0.78, 0.84], "f1": [0.6, 0.7]}
    assert (version["dataset"], version["dataset_version"], version["code_version"]) == (
        "churn",
        NEW,
        "v1.4.0",
    )
    assert version["execution_arn"].endswith(":churn-cdcdcdcdcdcd-accepted")
    assert version["gate_decision"] == "approved"
    for expected in ("roc_auc", "0.81", "(CI 0.78 to 0.84)", "v1.4.0", "accepted: dataset version accepted"):
        assert expected in text.stdout
    assert "PendingManualApproval" in text.stdout


@pytest.mark.parametrize(
    ("reference", "message"),
    [("churn/7", "mlops-churn has no version 7"), ("churn-7", "is not <dataset>/<n>")],
    ids=["missing", "malformed"],
)
def test_models_show_of_no_such_version_is_one_clear_error(
    deploy: Deploy, reference: str, message: str
) -> None:
    deploy()
    register()

    one_clear_line(mlops("models", "show", reference), message)


def test_approve_records_the_reason_and_the_approver(deploy: Deploy) -> None:
    deploy()
    arn = register()

    approved = mlops("models", "approve", "churn/1", "--reason", "beats the champion on holdout")

    assert approved.exit_code == 0, approved.output
    assert "is now Approved" in approved.stdout
    assert "arn:aws:sts::123456789012:user/moto" in approved.stdout
    described = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "beats the champion on holdout"


def test_reject_sets_the_status_and_keeps_the_lineage(deploy: Deploy) -> None:
    deploy()
    register()

    rejected = json.loads(
        mlops("models", "reject", "churn:1", "--reason", "leaks the target", "--json").stdout
    )

    assert rejected["approval_status"] == "Rejected"
    assert rejected["approval_description"] == "leaks the target"
    assert rejected["decided_by"] == "arn:aws:sts::123456789012:user/moto"
    assert rejected["dataset_version"] == NEW


def test_a_decision_needs_a_reason(deploy: Deploy) -> None:
    deploy()
    arn = register()

    missing = mlops("models", "approve", "churn/1")
    blank = mlops("models", "approve", "churn/1", "--reason", "  ")
    too_long = mlops("models", "approve", "churn/1", "--reason", "x" * 1001)

    assert missing.exit_code == 2 and "--reason" in missing.output
    one_clear_line(blank, "--reason must say why")
    one_clear_line(too_long, "--reason is 1,001 characters; say why in at most 1,000")
    status = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
    assert status == "PendingManualApproval"


# mlops pipeline decisions


def test_decisions_list_the_policy_s_decisions_newest_first_with_trigger_reason_data_and_run(
    deploy: Deploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the decisions table, where the policy decided two accepted versions while one slot was free
    outputs = deploy()
    create_table("decisions", "dataset", "record")
    monkeypatch.setattr(
        Platform, "outputs", property(lambda self: {**outputs, "DecisionsTableName": "decisions"})
    )
    store, now = DynamoDecisions("decisions"), datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    for minute, version in enumerate((OLD, NEW)):
        at = now + timedelta(minutes=minute)
        trigger = PolicyTrigger(kind="accepted", dataset="churn", key=version, at=at, reason="accepted",
                                dataset_version=version)  # fmt: skip
        seen = Observations(now=at, running=(), latest_version=version, latest_accepted_at=at,
                            in_service=None, new_labels=0, newest_label_at=None)  # fmt: skip
        before = store.state("churn")
        made, after = decide_policy(trigger, before, seen, RetrainingConfig())
        store.record(before, after, made)

    # When a person lists them
    listed = json.loads(mlops("pipeline", "decisions", "--json").stdout)
    table = mlops("pipeline", "decisions", "--dataset", "churn")

    # Then the newest first: the second version waits for the run the first started
    assert [(d["outcome"], d["dataset_version"]) for d in listed] == [("deferred", NEW), ("started", OLD)]
    assert listed[1]["run"] == f"churn-{OLD[:12]}-accepted" and listed[1]["trigger"]["kind"] == "accepted"
    assert listed[0]["reason"]
    assert table.exit_code == 0 and "deferred" in table.stdout and "started" in table.stdout
    assert json.loads(mlops("pipeline", "decisions", "--dataset", "fraud", "--json").stdout) == []
