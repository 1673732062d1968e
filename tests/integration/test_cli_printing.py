"""What the CLI prints: text that is not ours comes out as it is, and identifiers are never cut or wrapped.

rich reads ``[...]`` as markup, so a name, a reason or an AWS message holding ``[a-z]`` or ``[red]`` lost
those brackets; and tables cut to an 80-column terminal cut model versions (``breast-cancer…``) or wrapped
run names over two lines. Each command that prints a table or a message is run here against moto (the
real adapters; only the stack outputs are faked), with such text in every place a user's, a library's or
AWS's text reaches the screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner, Result

import localcloud
from adapters.catalog import DynamoDatasetCatalog
from adapters.deployments import DynamoDeployments
from adapters.registry import SageMakerModelRegistry
from cli.main import app
from cli.target import Platform
from domain.data.ingestion import DatasetVersion
from domain.training.config import GateConfig, ThresholdConfig
from domain.training.gate import decide
from domain.training.registration import RegistrationFacts
from domain.training.runs import Trigger
from tests.moto_support import mocked_aws

MARKUP = "[a-z] [red]x[/] [/red]"  # each of these is a tag to rich
PATTERN = "^[a-z][a-z0-9-]{1,62}$"  # the dataset name rule, as pydantic's message quotes it
DATASET = "breast-cancer-wisconsin"
VERSION = "0123456789ab" + "cd" * 26
ROLE, TABLE, DEPLOYMENTS, BUCKET, PREFIX = (
    "arn:aws:iam::123456789012:role/pipeline",
    "catalog",
    "deployments",
    "data",
    "mlops-",
)
ENDPOINT = f"mlops-{DATASET}"
JOB = f"{DATASET}-{VERSION[:8]}-1234abcd"
LONG_RUN = f"{DATASET}-{VERSION[:12]}-manual-second-look-after-the-new-features"
GATE_REASON = f"f1[macro] 0.91 meets the minimum 0.8 {MARKUP}"
SUCCEEDS = {
    "StartAt": "Gate",
    "States": {
        "Gate": {"Type": "Pass", "ResultPath": "$.gate", "End": True,
                 "Result": {"approved": True, "reasons": [GATE_REASON], "summary": GATE_REASON}},
    },
}  # fmt: skip
SPLIT_MESSAGE = (
    "the target 'species' has a single class (Adelie) in all 32600000 rows; a classifier needs at least two."
)
LAMBDA_CAUSE = json.dumps({
    "errorMessage": SPLIT_MESSAGE,
    "errorType": "SplitRejectedError",
    "requestId": "6f0b8c52-3c1e-4d8e-9a44-2f1f0e2b7d10",
    "stackTrace": [
        '  File "/var/task/handler.py", line 61, in handler\n    prepared = prepare_run(\n',
        '  File "/var/task/domain/training/prepare.py", line 114, in _split\n    raise SplitRejectedError(\n',
    ],
})  # fmt: skip
FAILS = {
    "StartAt": "Failed",
    "States": {"Failed": {"Type": "Fail", "Error": "TrainingRunFailed", "Cause": LAMBDA_CAUSE}},
}


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch, state_dir=tmp_path / "state"):
        yield


def deploy(monkeypatch: pytest.MonkeyPatch, definition: dict[str, Any] = SUCCEEDS) -> dict[str, str]:
    """The platform's tables, bucket and state machine in moto, with text that is not ours in them."""
    dynamodb = boto3.client("dynamodb")
    for table, sort_key in ((TABLE, "version"), (DEPLOYMENTS, "record")):
        dynamodb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "dataset" if table == TABLE else "endpoint", "KeyType": "HASH"},
                       {"AttributeName": sort_key, "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "dataset" if table == TABLE else "endpoint",
                                   "AttributeType": "S"}, {"AttributeName": sort_key, "AttributeType": "S"}],
        )  # fmt: skip
    DynamoDatasetCatalog(TABLE).add(DatasetVersion(
        dataset=DATASET, version=VERSION, accepted_at="2026-11-02T10:00:00+00:00", rows=569,
        size_bytes=125_000, format="csv", snapshot_prefix=f"datasets/{DATASET}/{VERSION}/",
        contract_fingerprint="f", source={"key": f"incoming/{DATASET}/scan {MARKUP}.csv"},
    ))  # fmt: skip
    DynamoDeployments(DEPLOYMENTS).record(ENDPOINT, "2026-11-03T12:00:00+00:00", "d1", {
        "dataset": DATASET, "version": 1, "status": "rolled_back", "trigger": f"approval {MARKUP}",
        "reason": f"alarm {MARKUP} was in ALARM", "ended_at": "2026-11-03T12:30:00+00:00",
    })  # fmt: skip
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    machine = boto3.client("stepfunctions").create_state_machine(
        name="training", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    outputs = {"DataBucketName": BUCKET, "CatalogTableName": TABLE, "TrainingStateMachineArn": machine,
               "ModelPackageGroupPrefix": PREFIX, "DeploymentsTableName": DEPLOYMENTS,
               "EndpointNameBreastCancerWisconsin": ENDPOINT}  # fmt: skip
    monkeypatch.setattr(Platform, "outputs", property(lambda self: outputs))
    return outputs


def register(group: str, metric: str) -> str:
    """A model version as the pipeline registers it; its ARN."""
    evaluation = {"task": "classification", "family": "random_forest", "target": "diagnosis",
                  "metrics": {metric: {"value": 0.91}, "roc_auc": {"value": 0.97}}}  # fmt: skip
    registry = SageMakerModelRegistry(now=lambda: datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    registry.ensure_group(group)
    base = f"s3://{BUCKET}/runs/{group}"
    facts = RegistrationFacts(
        group=group, dataset=DATASET, dataset_version=VERSION, code_version="v1",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:training:{group}",
        trigger=Trigger("manual", reason=f"by hand {MARKUP}"), image_uri="sklearn:1.2-1",
        model_data_url=f"{base}/model.tar.gz", evaluation_url=f"{base}/evaluation.json",
        inputs_profile_url=f"{base}/inputs.json", predictions_profile_url=f"{base}/predictions.json",
    )  # fmt: skip
    decision = decide(evaluation, GateConfig(thresholds={"roc_auc": ThresholdConfig(min=0.7)}))
    return registry.register(evaluation, decision, facts, auto_approve=False)[0].arn


def mlops(*arguments: str, columns: int = 200) -> Result:
    """``mlops ARGUMENTS`` against moto (``mlops local`` takes no ``--cloud``), ``columns`` wide."""
    cloud = [] if arguments[0] == "local" else ["--cloud", "aws"]
    return CliRunner().invoke(app, [*arguments, *cloud], env={"COLUMNS": str(columns)})


def settled(run: str) -> None:
    """Wait until moto's thread has ended the run."""
    for _ in range(200):
        if json.loads(mlops("pipeline", "show", run, "--json").stdout)["status"] != "RUNNING":
            return
    raise AssertionError(f"{run} did not end")


def whole(identifier: str, output: str) -> bool:
    """Whether ``identifier`` is on one line of ``output``, uncut."""
    return any(identifier in line for line in output.splitlines())


# Text that is not ours is printed as it is


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["models", "show", f"x{MARKUP}"], f"'x{MARKUP}' is not <dataset>/<n>"),
        (["endpoints", "show", MARKUP], f"'{MARKUP}' is not an endpoint of this platform"),
        (["pipeline", "start", "--dataset", MARKUP], f"{MARKUP} has no accepted version"),
        (["data", "show", DATASET, f"{PATTERN}"], f"{DATASET} has no accepted version {PATTERN}"),
    ],
    ids=["models-show", "endpoints-show", "pipeline-start", "data-show"],
)
def test_an_error_prints_the_users_text_as_it_is(
    aws: None, monkeypatch: pytest.MonkeyPatch, arguments: list[str], expected: str
) -> None:
    deploy(monkeypatch)

    result = mlops(*arguments)

    assert result.exit_code == 2, result.output
    assert expected in result.stderr


def test_an_adapter_error_prints_the_name_it_was_given_as_it_is(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = deploy(monkeypatch)
    arn = outputs["TrainingStateMachineArn"].replace(":stateMachine:", ":execution:") + ":run-[a-z]-[red]"

    result = mlops("pipeline", "show", arn)

    assert result.exit_code == 2, result.output
    assert "run-[a-z]-[red]" in result.stderr


def test_data_versions_prints_the_source_and_the_dataset_as_they_are(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)

    listed = mlops("data", "versions", DATASET)
    empty = mlops("data", "versions", f"no-such{MARKUP}")

    assert f"incoming/{DATASET}/scan {MARKUP}.csv" in listed.stdout
    assert f"no-such{MARKUP} has no accepted version yet." in empty.stdout


def test_pipeline_show_prints_reasons_and_labels_as_they_are(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)
    started = mlops("pipeline", "start", "-d", DATASET, "--rerun", "look[a-z]", "--reason", f"why {MARKUP}")
    run = started.stdout.split("started run ", 1)[1].split()[0]
    settled(run)

    shown = mlops("pipeline", "show", run)

    assert shown.exit_code == 0, shown.output
    assert f"trigger  manual look[a-z]: why {MARKUP}" in shown.stdout
    assert f"- {GATE_REASON}" in shown.stdout


def test_models_list_and_show_print_names_metrics_and_reasons_as_they_are(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)
    register(f"{PREFIX}{DATASET}", "f1[macro]")
    register(f"{PREFIX}x[a-z]", "recall[red]")
    mlops("models", "approve", f"{DATASET}/1", "--reason", f"reviewed {MARKUP}")

    listed = mlops("models", "list")
    shown = mlops("models", "show", f"{DATASET}/1")

    assert "x[a-z]/1" in listed.stdout
    assert "f1[macro] 0.91" in listed.stdout and "recall[red] 0.91" in listed.stdout
    for expected in (f"why      reviewed {MARKUP}", "f1[macro]   "):
        assert expected in shown.stdout


def test_endpoints_list_and_show_print_deployments_as_they_are(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)

    listed = mlops("endpoints", "list")
    shown = mlops("endpoints", "show", DATASET)

    assert f"(approval {MARKUP})" in listed.stdout
    assert f"version 1 rolled_back 2026-11-03 12:30:00 (approval {MARKUP})" in shown.stdout
    assert f"alarm {MARKUP} was in ALARM" in shown.stdout


def test_local_status_prints_names_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localcloud, "status", lambda: running_cloud(stack=f"mlops-{MARKUP}"))

    shown = mlops("local", "status")

    assert shown.exit_code == 0, shown.output
    assert f"mlops-{MARKUP}" in shown.stdout


def running_cloud(stack: str) -> dict[str, Any]:
    """What ``localcloud.status()`` says of a running local cloud with a training job and an endpoint."""
    return {
        "running": True, "endpoint_url": "http://127.0.0.1:4566", "pid": 4242, "region": "us-east-1",
        "started_at": 1_793_000_000, "state_dir": "/home/someone/mlops/.mlops/local", "stacks": [stack],
        "invocation_count": 12, "failed_invocation_count": 1,
        "training_runs": [{"job_name": JOB, "status": "Completed"}],
        "endpoints": [{"name": ENDPOINT, "status": "InService", "config_name": f"{ENDPOINT}-v1-0123abcd"}],
    }  # fmt: skip


# A failed run says why in one line


def test_pipeline_show_of_a_failed_step_prints_the_error_type_and_message(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch, FAILS)
    run = json.loads(mlops("pipeline", "start", "-d", DATASET, "--json").stdout)["name"]
    settled(run)

    shown = mlops("pipeline", "show", run, columns=80)
    raw = json.loads(mlops("pipeline", "show", run, "--json").stdout)

    assert shown.exit_code == 0, shown.output
    cause = " ".join(shown.stdout.split("cause", 1)[1].split())
    assert cause == f"SplitRejectedError: {SPLIT_MESSAGE}"
    assert "stackTrace" not in shown.stdout and "requestId" not in shown.stdout
    assert raw["cause"] == LAMBDA_CAUSE


# Identifiers are never cut or wrapped in an 80-column terminal


def narrow(*arguments: str) -> str:
    """What ``mlops ARGUMENTS`` prints in an 80-column terminal (checked: no line is wider)."""
    result = mlops(*arguments, columns=80)
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert "…" not in result.stdout, result.stdout
    return result.stdout


def test_tables_keep_their_identifiers_whole_and_the_other_columns_give_way(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)
    register(f"{PREFIX}{DATASET}", "f1")
    settled(json.loads(mlops("pipeline", "start", "-d", DATASET, "--json").stdout)["name"])
    monkeypatch.setattr(localcloud, "status", lambda: running_cloud(stack=f"mlops-{DATASET}-serving"))

    # Per table: its identifiers, and a value of another column; in a table (not a list: see below) it
    # shares the first identifier's row. A 43-character run name leaves too little room at 80 columns.
    tables = {
        ("models", "list"): ([f"{DATASET}/1", VERSION[:12]], "pending", True),
        ("pipeline", "runs"): ([f"{DATASET}-{VERSION[:12]}-manual"], "SUCCEEDED", False),
        ("data", "versions", DATASET): ([VERSION[:12]], "569", True),
        ("endpoints", "list"): ([ENDPOINT], "NotDeployed", True),
        ("local", "status"): (
            [f"{JOB} Completed", "/home/someone/mlops/.mlops/local"],
            "training jobs",
            True,
        ),
    }

    for command, (identifiers, other, table) in tables.items():
        printed = narrow(*command)
        for identifier in identifiers:
            assert whole(identifier, printed), (command, identifier, printed)
        rows = [line for line in printed.splitlines() if identifiers[0] in line] if table else [printed]
        assert any(other in row for row in rows), (command, printed)


def test_identifiers_too_long_for_a_table_row_are_listed_whole_with_each_other_column_under_them(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(monkeypatch)
    long_group = f"{PREFIX}{DATASET}-diagnostic-features"
    register(long_group, "f1")
    settled(json.loads(mlops("pipeline", "start", "-d", DATASET, "--rerun", LONG_RUN.split("manual-")[1],
                             "--json").stdout)["name"])  # fmt: skip

    models, runs = narrow("models", "list"), narrow("pipeline", "runs")

    assert f"{long_group.removeprefix(PREFIX)}/1\n" in models
    assert f"data    {VERSION[:12]}" in models and "status  pending" in models
    assert f"{LONG_RUN}\n" in runs
    assert "status  SUCCEEDED" in runs and "started 20" in runs
