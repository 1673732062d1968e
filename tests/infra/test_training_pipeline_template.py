"""The training pipeline's template: its states, retries and catches, and least-privilege roles."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from domain.data.contract import MAX_EPHEMERAL_STORAGE_BYTES, max_file_bytes_for
from stacks.app import build_app, cdk_json_context
from tests.infra.template_support import (
    TRAINING,
    of_type,
    role_assumed_by,
    role_statements,
    state_machine_definition,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(training: dict[str, Any]) -> dict[str, Any]:
    return training


@pytest.fixture(scope="module")
def definition(template: dict[str, Any]) -> dict[str, Any]:
    return state_machine_definition(template, "Split")


def test_the_pipeline_splits_trains_gates_and_registers_or_announces_a_rejection(
    definition: dict[str, Any],
) -> None:
    states = definition["States"]

    assert definition["StartAt"] == "Split"
    assert states["Split"]["Next"] == "Train"
    assert states["Train"]["Resource"].endswith(":states:::sagemaker:createTrainingJob.sync")
    assert states["Train"]["Next"] == "Gate"
    assert states["Gate"]["Next"] == "Approved?"
    choice = states["Approved?"]
    assert choice["Choices"][0]["Variable"] == "$.gate.approved"
    assert choice["Choices"][0]["Next"] == "Register"
    assert choice["Default"] == "AnnounceRejected"
    assert states["Register"]["Next"] == "AnnounceRegistered"


def test_every_task_retries_transient_errors_and_catches_into_an_alert(definition: dict[str, Any]) -> None:
    states = definition["States"]
    for name in ("Split", "Train", "Gate", "Register"):
        assert states[name]["Retry"], f"{name} retries"
        assert all(retry["BackoffRate"] >= 2 for retry in states[name]["Retry"])
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "AlertFailure"}
        ]
    assert states["AlertFailure"]["Next"] == "Failed"
    assert states["Failed"]["Type"] == "Fail"


def test_every_state_machine_has_a_timeout_encrypted_logs_and_tracing(app_template: dict[str, Any]) -> None:
    machines = list(of_type(app_template, "AWS::StepFunctions::StateMachine").values())
    assert len(machines) == 2  # training and deployment
    Template.from_json(app_template).all_resources_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
            "TracingConfiguration": {"Enabled": True},
        },
    )
    for machine in machines:
        assert '"TimeoutSeconds":' in "".join(
            p for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, str)
        )


def test_the_training_job_is_network_isolated_and_encrypted(definition: dict[str, Any]) -> None:
    parameters = definition["States"]["Train"]["Parameters"]

    assert parameters["EnableNetworkIsolation"] is True
    assert parameters["OutputDataConfig"]["KmsKeyId"]
    assert parameters["ResourceConfig"]["VolumeKmsKeyId"]
    assert parameters["HyperParameters"]["sagemaker_program"] == "train.py"
    assert {channel["ChannelName"] for channel in parameters["InputDataConfig"]} == {
        "train", "validation", "test", "config", "champion", "code"
    }  # fmt: skip


def test_the_isolated_job_gets_its_code_as_an_input_channel_not_a_download(
    definition: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the training job, network-isolated: its container reaches no S3
    parameters = definition["States"]["Train"]["Parameters"]
    assert parameters["EnableNetworkIsolation"] is True

    # Then SageMaker delivers the source archive as the "code" channel (one object, S3Prefix)...
    (code,) = [c for c in parameters["InputDataConfig"] if c["ChannelName"] == "code"]
    source = code["DataSource"]["S3DataSource"]
    assert source["S3DataType"] == "S3Prefix"
    archive = source["S3Uri"].rsplit("/", 1)[-1]
    assert archive.endswith(".gz") and "TOKEN" not in archive  # the asset hash and the file's extension
    # ...and the toolkit reads it where the channel lands in the container, by its base name
    hyperparameters = parameters["HyperParameters"]
    assert hyperparameters["sagemaker_submit_directory"] == f"/opt/ml/input/data/code/{archive}"
    assert not any(str(value).startswith(("s3://", "https://")) for value in hyperparameters.values())
    # And the role reads that object and may list that key only, nothing else of the assets bucket
    statements = role_statements(template, role_assumed_by(template, "sagemaker.amazonaws.com"))
    asset_statements = [s for s in statements if "assets" in json.dumps(s)]
    listing = [s for s in asset_statements if "s3:ListBucket" in json.dumps(s["Action"])]
    assert [s["Condition"] for s in listing] == [{"StringEquals": {"s3:prefix": [archive]}}]
    reads = [s for s in asset_statements if s not in listing]
    assert [s["Action"] for s in reads] == ["s3:GetObject"]
    assert archive in json.dumps(reads[0]["Resource"])


def test_training_runs_on_demand_with_its_max_runtime_by_default(definition: dict[str, Any]) -> None:
    parameters = definition["States"]["Train"]["Parameters"]

    assert "EnableManagedSpotTraining" not in parameters
    assert parameters["StoppingCondition"] == {"MaxRuntimeInSeconds": 60 * 60}


def test_managed_spot_training_is_an_option_with_a_bounded_wait(tmp_path: Path) -> None:
    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["training"] = {"managed_spot": True, "max_runtime_minutes": 30, "max_wait_minutes": 90}

    assembly = build_app(context, outdir=str(tmp_path)).synth()
    template = assembly.get_stack_by_name(TRAINING).template
    parameters = state_machine_definition(template, "Split")["States"]["Train"]["Parameters"]

    assert parameters["EnableManagedSpotTraining"] is True
    assert parameters["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 30 * 60,
        "MaxWaitTimeInSeconds": 90 * 60,
    }
    # Everything else about the job is unchanged.
    assert parameters["EnableNetworkIsolation"] is True
    assert parameters["TrainingJobName.$"] == "$.prepare.training_job_name"


def test_the_training_image_is_resolved_for_every_region_offline(template: dict[str, Any]) -> None:
    mappings = [m for m in template.get("Mappings", {}).values() if "us-east-1" in m]
    assert mappings
    assert "sagemaker-scikit-learn:1.9-0-cpu-py3" in mappings[0]["us-east-1"]["uri"]
    assert len(mappings[0]) > 20


def test_the_training_role_reads_only_its_channels_and_writes_only_its_output(
    template: dict[str, Any],
) -> None:
    statements = role_statements(template, role_assumed_by(template, "sagemaker.amazonaws.com"))
    reads, writes = set(), set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        text = json.dumps(statement["Resource"])
        objects = {fragment for fragment in ("datasets/*/splits/*", "runs/*/config/*", "runs/*/champion/*",
                                             "runs/*/training/*") if fragment in text}  # fmt: skip
        if any(action.startswith("s3:GetObject") for action in actions):
            reads |= objects
        if "s3:PutObject" in actions:
            writes |= objects
        assert not any(action.startswith("s3:Delete") for action in actions)
    assert reads == {"datasets/*/splits/*", "runs/*/config/*", "runs/*/champion/*"}
    assert writes == {"runs/*/training/*"}


def test_the_split_step_has_room_for_the_splits_of_the_largest_snapshot_a_contract_allows(
    template: dict[str, Any],
) -> None:
    # The split files hold about the snapshot's size (the snapshot itself is read by ranges, never
    # copied to /tmp), and a snapshot holds at most the data a contract may declare: twice that is
    # room for the splits' own Parquet overhead.
    largest = max_file_bytes_for(MAX_EPHEMERAL_STORAGE_BYTES)
    prepare = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Description", "").startswith("Splits a dataset version")
    ]

    assert len(prepare) == 1
    assert prepare[0]["EphemeralStorage"]["Size"] * 1024**2 >= 2 * largest
