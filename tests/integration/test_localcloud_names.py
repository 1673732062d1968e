"""The local cloud refuses the names AWS refuses, on every create call the platform makes, as AWS answers.

moto alone accepts them all (a model package group ``mlops-churn-``, 64-character endpoints, an alarm
named with spaces only), so a name the platform got wrong would pass every test and fail in the account.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import create_role
from tests.integration.localcloud_fixtures.support import refusal

pytestmark = [pytest.mark.slow]

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
STATES_ROLE = "arn:aws:iam::123456789012:role/states"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.4"
SAGEMAKER_PATTERN = r"Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
TOO_LONG = "Member must have length less than or equal to 63"
CSV = ["text/csv"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-names")) as running:
        # The roles the requests name exist and trust their service, as SageMaker and Step Functions
        # require; the machine's may run a .sync training job (what a name refusal is tested against).
        iam = running.client("iam")
        create_role(iam, "sagemaker", trusts="sagemaker.amazonaws.com", statements=[])
        training = [
            {"Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                                           "sagemaker:StopTrainingJob"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE},
        ]  # fmt: skip
        create_role(iam, "states", trusts="states.amazonaws.com", statements=training)
        yield running


def test_a_model_package_group_ending_in_a_hyphen_is_refused_as_sagemaker_refuses_it(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")

    status, code, message = refusal(
        lambda: sagemaker.create_model_package_group(ModelPackageGroupName="mlops-churn-")
    )

    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'mlops-churn-' at 'modelPackageGroupName' failed to satisfy "
        f"constraint: {SAGEMAKER_PATTERN}"
    )
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_a_name_past_63_characters_is_refused_with_its_length(cloud: LocalCloud) -> None:
    name = "p" * 21 + "-" + "d" * 53

    status, code, message = refusal(
        lambda: cloud.client("sagemaker").create_model_package_group(ModelPackageGroupName=name)
    )

    assert (status, code) == (400, "ValidationException")
    assert message == f"1 validation error detected: Value '{name}' at 'modelPackageGroupName' failed to " + (
        f"satisfy constraint: {TOO_LONG}"
    )


def _container() -> dict[str, Any]:
    return {"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"}


@pytest.mark.parametrize(
    ("action", "member", "request_for"),
    [
        ("create_model_package", "modelPackageGroupName", lambda name: {
            "ModelPackageGroupName": name,
            "InferenceSpecification": {"Containers": [{"Image": IMAGE}], "SupportedContentTypes": CSV,
                                       "SupportedResponseMIMETypes": CSV}}),
        ("create_model", "modelName", lambda name: {
            "ModelName": name, "ExecutionRoleArn": ROLE, "PrimaryContainer": _container()}),
        ("create_endpoint_config", "endpointConfigName", lambda name: {
            "EndpointConfigName": name, "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m",
                                                                "InstanceType": "ml.m5.large",
                                                                "InitialInstanceCount": 1}]}),
        ("create_endpoint_config", "productionVariants.1.member.variantName", lambda name: {
            "EndpointConfigName": "config", "ProductionVariants": [{"VariantName": name, "ModelName": "m",
                                                                    "InstanceType": "ml.m5.large",
                                                                    "InitialInstanceCount": 1}]}),
        ("create_endpoint", "endpointName", lambda name: {"EndpointName": name, "EndpointConfigName": "c"}),
        ("update_endpoint", "endpointConfigName", lambda name: {
            "EndpointName": "e", "EndpointConfigName": name}),
        ("create_training_job", "trainingJobName", lambda name: {
            "TrainingJobName": name, "RoleArn": ROLE,
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 60}}),
        ("create_model_card", "modelCardName", lambda name: {
            "ModelCardName": name, "Content": "{}", "ModelCardStatus": "Draft"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
@pytest.mark.parametrize(
    ("name", "constraint"), [("mlops-churn-", "pattern"), ("m" * 64, "length")], ids=["hyphen", "64"]
)
def test_every_sagemaker_create_call_of_the_platform_refuses_a_bad_name(
    cloud: LocalCloud,
    action: str,
    member: str,
    request_for: Callable[[str], dict[str, Any]],
    name: str,
    constraint: str,
) -> None:
    sagemaker = cloud.client("sagemaker")

    status, code, message = refusal(lambda: getattr(sagemaker, action)(**request_for(name)))

    assert (status, code) == (400, "ValidationException")
    assert message.startswith(f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy")
    # CreateModelPackage takes a group's name or ARN (170 characters): a long name breaks the pattern.
    by_length = constraint == "length" and action != "create_model_package"
    assert (TOO_LONG if by_length else "regular expression pattern") in message


def test_a_refused_training_job_never_runs(cloud: LocalCloud) -> None:
    before = len(cloud.training_runs())

    refusal(lambda: cloud.client("sagemaker").create_training_job(
        TrainingJobName="churn-", RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://bucket/out/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    ))  # fmt: skip

    assert len(cloud.training_runs()) == before


def test_every_error_of_a_request_is_listed(cloud: LocalCloud) -> None:
    status, _, message = refusal(
        lambda: cloud.client("sagemaker").create_endpoint(EndpointName="e-", EndpointConfigName="c" * 64)
    )

    assert status == 400
    assert message.startswith("2 validation errors detected: Value 'e-' at 'endpointName' failed")
    assert f"; Value '{'c' * 64}' at 'endpointConfigName' failed to satisfy constraint: {TOO_LONG}" in message


def test_valid_names_are_served_as_before(cloud: LocalCloud) -> None:
    sagemaker = cloud.client("sagemaker")

    sagemaker.create_model_package_group(ModelPackageGroupName="mlops--churn-2")
    sagemaker.create_model(ModelName="m" * 63, ExecutionRoleArn=ROLE, PrimaryContainer=_container())

    assert sagemaker.describe_model_package_group(ModelPackageGroupName="mlops--churn-2")[
        "ModelPackageGroupName"
    ]
    assert sagemaker.describe_model(ModelName="m" * 63)["ModelName"] == "m" * 63


@pytest.mark.parametrize(
    ("name", "constraint"),
    [("latency\talarm", r"Member must satisfy regular expression pattern: ^[^\x00-\x1f\x7f]+$"),
     ("a" * 256, "Member must have length less than or equal to 255")],
    ids=["control character", "256 characters"],
)  # fmt: skip
def test_cloudwatch_refuses_an_alarm_name_aws_refuses(cloud: LocalCloud, name: str, constraint: str) -> None:
    cloudwatch = cloud.client("cloudwatch")

    status, code, message = refusal(
        lambda: cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/SageMaker", MetricName="ModelLatency", Statistic="Average",
            Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        )
    )  # fmt: skip

    assert (status, code) == (400, "ValidationError")
    assert (
        message
        == f"1 validation error detected: Value '{name}' at 'alarmName' failed to satisfy constraint: "
        + (constraint)
    )
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_a_state_machines_sagemaker_task_gets_the_same_refusal(cloud: LocalCloud) -> None:
    # Given a workflow whose training step names its job as the platform must not (a trailing hyphen)
    sfn = cloud.client("stepfunctions")
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "Parameters": {
            "TrainingJobName": "churn-",
            "RoleArn": ROLE,
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        },
        "End": True,
    }
    machine = sfn.create_state_machine(
        name="names", definition=json.dumps({"StartAt": "Train", "States": {"Train": task}}),
        roleArn=STATES_ROLE,
    )  # fmt: skip

    # When it runs
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="bad-job-name")
    cloud.wait_idle(timeout=30)

    # Then the task fails with SageMaker's refusal, as the integration reports an API error
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "SageMaker.AmazonSageMakerException"
    assert described["cause"].startswith(
        "1 validation error detected: Value 'churn-' at 'trainingJobName' failed to satisfy constraint"
    )


def test_an_update_whose_rollback_alarm_sagemaker_refuses_is_refused(cloud: LocalCloud) -> None:
    rollback = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": " "}]}}

    status, code, message = refusal(
        lambda: cloud.client("sagemaker").update_endpoint(
            EndpointName="churn", EndpointConfigName="churn-v2", DeploymentConfig=rollback
        )
    )

    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value ' ' at 'deploymentConfig.autoRollbackConfiguration.alarms.1"
        ".member.alarmName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "^(?!\\s*$).+$"
    )
