"""The monitoring stack: the drift monitor function, granted what it reads and writes only, and its schedules.

Read from the synthesized app (``cdk.json`` as it is, and a variant with two datasets monitored otherwise:
``conftest.monitoring_variant``): each monitored dataset's schedule invokes the monitor with the dataset
and the scheduled time, as a role only EventBridge Scheduler of this account may assume; the function
reads its datasets' captures and baselines, writes their reports, and publishes metrics through its logs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.app import build_app, cdk_json_context
from stacks.config import ConfigError
from tests.conftest import CloudAssembly
from tests.infra.template_support import (
    MONITORING,
    actions,
    asset_dir,
    function_named,
    function_statements,
    of_type,
    role_statements,
)

pytestmark = pytest.mark.slow

FOLDER = "drift_monitor"
TOPIC = {"Fn::ImportValue": "mlops-foundation:AlertsTopicArn"}
KEY = {"Fn::ImportValue": "mlops-foundation:KeyArn"}


@pytest.fixture(scope="module")
def monitoring(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(MONITORING)


@pytest.fixture(scope="module")
def variant(monitoring_variant: CloudAssembly) -> dict[str, Any]:
    return monitoring_variant.template(MONITORING)


def _function_arn(template: dict[str, Any]) -> dict[str, Any]:
    return {"Fn::GetAtt": [function_named(template, FOLDER), "Arn"]}


def test_each_monitored_dataset_is_scored_on_its_schedule_for_the_window_ending_at_the_scheduled_time(
    monitoring: dict[str, Any],
) -> None:
    (schedule,) = of_type(monitoring, "AWS::Scheduler::Schedule").values()
    properties = schedule["Properties"]

    assert properties["ScheduleExpression"] == "rate(1 hour)"
    assert properties["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "GroupName" not in properties  # the account's default group, which the role's trust names
    assert properties["KmsKeyArn"] == KEY
    target = properties["Target"]
    assert target["Arn"] == _function_arn(monitoring)
    # EventBridge Scheduler replaces the context attribute with the time the run was scheduled for
    assert json.loads(target["Input"]) == {
        "dataset": "churn",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600}
    dead_letters = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert monitoring["Resources"][dead_letters]["Type"] == "AWS::SQS::Queue"
    # the same queue takes what the function itself fails on for good
    function = monitoring["Resources"][function_named(monitoring, FOLDER)]["Properties"]
    assert function["DeadLetterConfig"]["TargetArn"] == {"Fn::GetAtt": [dead_letters, "Arn"]}


def test_the_schedule_s_role_is_assumed_by_scheduler_for_this_account_s_default_group_and_invokes_the_monitor(
    monitoring: dict[str, Any],
) -> None:
    (schedule,) = of_type(monitoring, "AWS::Scheduler::Schedule").values()
    role = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]

    (trust,) = monitoring["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert json.dumps(trust["Condition"]["StringEquals"]["aws:SourceArn"]).endswith(
        ':schedule-group/default"]]}'
    )
    granted = {action: statement["Resource"] for statement in role_statements(monitoring, role)
               for action in actions(statement)}  # fmt: skip
    assert set(granted) == {"lambda:InvokeFunction", "sqs:SendMessage", "kms:Decrypt", "kms:GenerateDataKey"}
    function = _function_arn(monitoring)
    assert granted["lambda:InvokeFunction"] == [function, {"Fn::Join": ["", [function, ":*"]]}]
    # the schedule's input is encrypted with the platform's key, and so is the dead-letter queue
    assert granted["kms:Decrypt"] == granted["kms:GenerateDataKey"] == KEY


def test_the_monitor_reads_captures_and_baselines_writes_reports_and_publishes_no_metric_by_api(
    monitoring: dict[str, Any],
) -> None:
    statements = function_statements(monitoring, FOLDER)
    by_action: dict[str, list[dict[str, Any]]] = {}
    for statement in statements:
        for action in actions(statement):
            by_action.setdefault(action, []).append(statement)

    (listing,) = by_action["s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["capture/churn/*"]}}
    (reads,) = by_action["s3:GetObject"]
    assert _object_patterns(reads) == ["/capture/churn/*", "/runs/churn/*/evaluation/*"]
    (writes,) = by_action["s3:PutObject"]
    assert _object_patterns(writes) == ["/monitoring/churn/*"]
    (packages,) = by_action["sagemaker:DescribeModelPackage"]
    assert json.dumps(packages["Resource"]).endswith(':model-package/mlops-churn/*"]]}')
    # S3's use of the key, through S3 only
    (through_s3,) = [s for s in by_action["kms:Decrypt"] if "Condition" in s]
    assert actions(through_s3) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "kms:ViaService" in json.dumps(through_s3["Condition"])
    # metrics go through its logs (EMF): no CloudWatch API, no other data
    assert not [a for a in by_action if a.startswith("cloudwatch:")]
    assert {a for a in by_action if a.startswith("s3:")} == {"s3:ListBucket", "s3:GetObject", "s3:PutObject"}


def _object_patterns(statement: dict[str, Any]) -> list[str]:
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return [resource["Fn::Join"][1][-1] for resource in resources]


def test_the_monitor_s_asset_carries_the_contracts_training_and_monitoring_configurations(
    cloud_assembly: CloudAssembly, monitoring: dict[str, Any]
) -> None:
    function = monitoring["Resources"][function_named(monitoring, FOLDER)]["Properties"]
    folder = asset_dir(cloud_assembly.directory, function["Code"]["S3Key"])

    generated = {name: json.loads((folder / name).read_text()) for name in
                 ("contracts.json", "training.json", "monitoring.json")}  # fmt: skip
    assert all(set(content) == {"churn"} for content in generated.values())
    assert generated["monitoring.json"]["churn"]["schedule"] == "rate(1 hour)"
    assert generated["monitoring.json"]["churn"]["alarm"] == {"datapoints": 2, "periods": 3}
    assert function["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "MLOpsPlatform"


def test_the_stack_outputs_the_monitor_s_name(monitoring: dict[str, Any]) -> None:
    assert monitoring["Outputs"]["DriftMonitorFunctionName"]["Value"] == {
        "Ref": function_named(monitoring, FOLDER)
    }


def test_a_disabled_dataset_has_no_schedule_and_a_serverless_one_is_scheduled_as_configured(
    variant: dict[str, Any],
) -> None:
    # churn (serverless) is scheduled as configured; retail (monitoring disabled) is not scheduled at all
    assert len(of_type(variant, "AWS::Scheduler::Schedule")) == 1
    Template.from_json(variant).has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(5 * * * ? *)",
            "Target": Match.object_like({"Input": Match.serialized_json({"dataset": "churn",
                                         "scheduled_time": "<aws.scheduler.scheduled-time>"})}),
        },
    )  # fmt: skip
    # the function still serves both (by hand: mlops drift check retail)
    (listing,) = [s for s in function_statements(variant, FOLDER) if "s3:ListBucket" in actions(s)]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["capture/churn/*", "capture/retail/*"]


def test_synth_refuses_a_window_cloudwatch_would_refuse_as_the_alarm_s_period_naming_the_key() -> None:
    context = json.loads(json.dumps(cdk_json_context()))
    context["mlops"]["datasets"]["churn"]["monitoring"] = {"window_minutes": 1500, "alarm": {"periods": 2}}

    with pytest.raises(
        ConfigError, match=r"mlops\.datasets\.churn\.monitoring\.window_minutes: 1500 minutes"
    ):
        build_app(context)
