"""The CLI finds the platform through the outputs of its stacks: those tagged ``project=<project>``.

Stacks are created in moto's CloudFormation with outputs of literal values, as the app's stacks would
report theirs; the CLI runs against moto as it runs against AWS (``--cloud aws``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from cli.target import Platform, TargetError, project_name
from tests.moto_support import mocked_aws

ROLE = "arn:aws:iam::123456789012:role/pipeline"
WAITING = {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with mocked_aws(monkeypatch, state_dir=tmp_path / "state"):
        yield


def deployed(name: str, project: str, **outputs: str) -> None:
    """A stack tagged ``project=<project>`` whose outputs are ``outputs``."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(
        StackName=name, TemplateBody=json.dumps(template), Tags=[{"Key": "project", "Value": project}]
    )


def mlops(*arguments: str) -> Result:
    return CliRunner().invoke(app, [*arguments, "--cloud", "aws"])


def one_clear_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_the_outputs_of_every_stack_of_the_project_are_one_mapping(aws: None) -> None:
    # Given the project's stacks, and another project's stack with the same output keys
    deployed("mlops-foundation", "mlops", DataBucketName="data", CatalogTableName="catalog")
    deployed("mlops-training", "mlops", TrainingStateMachineArn="arn:training")
    deployed("other-foundation", "other", DataBucketName="not-ours")

    # When the CLI reads the platform
    platform = Platform("mlops")

    # Then it has the outputs of the project's stacks, whatever their names, and only theirs
    assert platform.outputs == {
        "DataBucketName": "data",
        "CatalogTableName": "catalog",
        "TrainingStateMachineArn": "arn:training",
    }
    assert set(platform.stacks) == {"mlops-foundation", "mlops-training"}
    assert platform.bucket == "data"


def test_a_command_reads_an_output_of_any_stack_of_the_project(aws: None) -> None:
    # Given the training state machine, whose ARN is an output of a stack that is not the data's
    machine = boto3.client("stepfunctions").create_state_machine(
        name="training", definition=json.dumps(WAITING), roleArn=ROLE
    )["stateMachineArn"]
    deployed(f"{project_name()}-foundation", project_name(), DataBucketName="data")
    deployed(f"{project_name()}-training", project_name(), TrainingStateMachineArn=machine)

    # When the runs are listed
    listed = mlops("pipeline", "runs")

    # Then the command found the state machine
    assert listed.exit_code == 0, listed.output
    assert "no training run yet" in listed.stdout


def test_a_missing_output_names_it_the_stacks_searched_and_what_to_do(aws: None) -> None:
    # Given the project's stacks, deployed before the training pipeline existed
    deployed(f"{project_name()}-foundation", project_name(), DataBucketName="data")
    deployed(f"{project_name()}-validation", project_name(), ValidationFunctionName="validate")

    # When a command needs the training state machine
    message = one_clear_line(mlops("pipeline", "runs"))

    # Then the one line says which output, where it looked, and to redeploy
    assert "no output TrainingStateMachineArn" in message
    assert f"project={project_name()}" in message
    assert f"{project_name()}-foundation, {project_name()}-validation" in message
    assert "redeploy" in message


def test_an_output_key_in_two_stacks_of_the_project_is_an_error_naming_both(aws: None) -> None:
    deployed("mlops-foundation", "mlops", DataBucketName="data")
    deployed("mlops-serving", "mlops", DataBucketName="other")

    with pytest.raises(
        TargetError, match="DataBucketName is in two stacks, mlops-foundation and mlops-serving"
    ):
        Platform("mlops").output("DataBucketName")


def test_no_stack_of_the_project_says_to_deploy_the_app(aws: None) -> None:
    deployed("other-foundation", "other", DataBucketName="not-ours")

    message = one_clear_line(mlops("pipeline", "runs"))

    assert f"no stack tagged project={project_name()} is deployed here" in message
    assert "mlops local up" in message
