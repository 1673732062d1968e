"""The deployment workflow's template: its states, trigger, rollback alarms, roles and outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import CloudAssembly
from tests.infra.template_support import (
    actions,
    asset_dir,
    function_named,
    function_statements,
    role_assumed_by,
    role_statements,
    state_machine_definition,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(serving: dict[str, Any]) -> dict[str, Any]:
    return serving


@pytest.fixture(scope="module")
def definition(template: dict[str, Any]) -> dict[str, Any]:
    return state_machine_definition(template, "Begin")


def test_the_workflow_takes_the_endpoint_waits_for_the_update_and_verifies_what_runs(
    definition: dict[str, Any],
) -> None:
    states = definition["States"]

    assert definition["StartAt"] == "Begin"
    assert states["Begin"]["Next"] == "Prepare"
    taken = states["Endpoint taken?"]
    assert {c["Next"] for c in taken["Choices"]} == {"WaitForEndpoint", "Finish"}
    assert taken["Default"] == "WaitForUpdate"
    assert states["WaitForEndpoint"]["Next"] == "Prepare"  # waits its turn, never interleaves
    assert states["WaitForUpdate"]["Type"] == "Wait"
    assert states["WaitForUpdate"]["Next"] == "DescribeEndpoint"
    assert states["DescribeEndpoint"]["Resource"].endswith(":states:::aws-sdk:sagemaker:describeEndpoint")
    settled = states["Settled?"]
    waiting = {c["StringEquals"] for choice in settled["Choices"] for c in choice["Or"]}
    assert waiting >= {"Creating", "Updating", "SystemUpdating", "RollingBack"}
    assert settled["Choices"][0]["Next"] == "WaitForUpdate"
    assert settled["Default"] == "Finish"
    assert states["Finish"]["Next"] == "Outcome?"
    outcomes = {c["StringEquals"]: c["Next"] for c in states["Outcome?"]["Choices"]}
    assert outcomes == {
        "deployed": "AnnounceDeployed",
        "superseded": "Superseded",
        "rolled_back": "AnnounceRolledBack",
    }
    assert states["Outcome?"]["Default"] == "AnnounceFailed"
    assert states["RolledBack"] == {
        "Type": "Fail",
        "Error": "DeploymentRolledBack",
        "CausePath": "$.outcome.reason",
    }


def test_every_step_that_can_fail_records_the_failure_and_frees_the_endpoint(
    definition: dict[str, Any],
) -> None:
    states = definition["States"]

    for name in ("Prepare", "DescribeEndpoint", "Finish"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ], name
        assert states[name]["Retry"], name
    assert states["RecordFailure"]["Next"] == "AnnounceFailed"
    assert states["RecordFailure"]["Catch"][0]["Next"] == "AlertUnrecorded"
    assert states["AnnounceFailed"]["Next"] == "Failed"


def test_an_approval_of_the_platform_s_models_starts_a_deployment(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {
                    "ModelPackageGroupName": [{"prefix": "mlops-"}],
                    "ModelApprovalStatus": ["Approved"],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.any_value(),
                        "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 2}),
                    }
                )
            ],
        },
    )


def test_each_endpoint_has_rollback_alarms_on_5xx_errors_and_p99_latency(template: dict[str, Any]) -> None:
    alarms = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("Namespace") == "AWS/SageMaker"
    }

    errors, latency = alarms["mlops-churn-invocation-5xx-errors"], alarms["mlops-churn-model-latency"]
    dimensions = [
        {"Name": "EndpointName", "Value": "mlops-churn"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert (errors["MetricName"], errors["Statistic"], errors["Threshold"]) == (
        "Invocation5XXErrors",
        "Sum",
        1,
    )
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == (
        "ModelLatency",
        "p99",
        1_000_000,  # microseconds: 1,000 ms
    )
    for alarm in (errors, latency):
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == dimensions
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"]  # the alert topic


def test_the_endpoint_name_is_stable_and_a_stack_output(template: dict[str, Any]) -> None:
    assert template["Outputs"]["EndpointNameChurn"]["Value"] == "mlops-churn"
    assert "DeploymentStateMachineArn" in template["Outputs"]


def test_the_model_role_reads_model_archives_and_writes_captured_data_only(template: dict[str, Any]) -> None:
    statements = role_statements(template, role_assumed_by(template, "sagemaker.amazonaws.com"))
    reads, writes = set(), set()
    for statement in statements:
        text = json.dumps(statement["Resource"])
        objects = {fragment for fragment in ("runs/*/training/*", "capture/churn/*") if fragment in text}
        if any(a.startswith("s3:GetObject") for a in actions(statement)):
            reads |= objects
        if "s3:PutObject" in actions(statement):
            writes |= objects
        assert not any(a.startswith("s3:Delete") for a in actions(statement))
    assert (reads, writes) == ({"runs/*/training/*"}, {"capture/churn/*"})


def test_the_prepare_step_passes_only_the_model_role_and_only_to_sagemaker(template: dict[str, Any]) -> None:
    (passing,) = [
        s for s in function_statements(template, "deployment_prepare") if "iam:PassRole" in actions(s)
    ]

    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    model_role = role_assumed_by(template, "sagemaker.amazonaws.com")
    assert passing["Resource"] == {"Fn::GetAtt": [model_role, "Arn"]}


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (
            "deployment_prepare",
            {
                "sagemaker:CreateModel",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
            },
        ),
        (
            "deployment_finish",
            {"sagemaker:DescribeEndpoint", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"},
        ),
    ],
)
def test_each_deployment_step_is_granted_the_sagemaker_calls_of_its_code_and_no_other(
    template: dict[str, Any], folder: str, expected: set[str]
) -> None:
    # The calls of adapters/endpoints.py and adapters/registry.py that each step's use case makes.
    granted = {
        action
        for statement in function_statements(template, folder)
        for action in actions(statement)
        if action.startswith("sagemaker:")
    }

    assert granted == expected


def test_nothing_in_the_stack_lets_anyone_invoke_an_endpoint_without_iam(template: dict[str, Any]) -> None:
    # SageMaker's InvokeEndpoint is always SigV4-signed; the stack grants it to no one and opens no
    # unauthenticated path to it.
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            assert "sagemaker:InvokeEndpoint" not in json.dumps(resource["Properties"]["PolicyDocument"])
        assert resource["Type"] != "AWS::ApiGateway::Method" or (
            resource["Properties"].get("AuthorizationType") == "AWS_IAM"
        )


def test_the_deployment_asks_for_capture_kms_and_rollback_on_the_stack_s_own_alarms(
    cloud_assembly: CloudAssembly, template: dict[str, Any]
) -> None:
    """What the prepare function will send SageMaker, from the configuration generated into its asset."""
    from domain.deployment.endpoint import deployment_config, endpoint_config_request
    from domain.deployment.serving_config import ServingConfig
    from domain.names import alarm_names

    prepare = template["Resources"][function_named(template, "deployment_prepare")]["Properties"]
    asset = asset_dir(cloud_assembly.directory, prepare["Code"]["S3Key"])
    serving = ServingConfig.model_validate(json.loads((asset / "serving.json").read_text())["churn"])
    alarms = {
        r["Properties"].get("AlarmName")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }

    config = deployment_config(serving, alarm_names("mlops-churn"))
    request = endpoint_config_request(
        "c", "m", serving, kms_key="key", capture_uri="s3://data/capture/churn/"
    )

    assert {a["AlarmName"] for a in config["AutoRollbackConfiguration"]["Alarms"]} <= alarms
    # The configured strategy (one instance: all at once, SageMaker's only choice for it)
    assert (
        config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"]
        == serving.rollout.strategy.upper()
    )
    assert request["DataCaptureConfig"]["EnableCapture"] is True
    assert request["KmsKeyId"] == request["DataCaptureConfig"]["KmsKeyId"] == "key"
    # the platform's key, imported from the foundation
    assert prepare["Environment"]["Variables"]["KMS_KEY_ARN"] == {
        "Fn::ImportValue": "mlops-foundation:KeyArn"
    }
