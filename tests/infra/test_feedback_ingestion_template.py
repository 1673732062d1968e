"""The feedback ingestion function in the monitoring stack: its rule, its role's exact grants, its asset.

Read from the synthesized app (``cdk.json`` as it is, and ``conftest.monitoring_variant``, two datasets):
every object created under ``feedback/`` in the data bucket invokes the function, which reads its
datasets' feedback files and captures, reads and writes their labels, writes refusals, uses the key
through S3 only, publishes alerts, and publishes its metrics through its logs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CloudAssembly
from tests.infra.template_support import (
    MONITORING,
    actions,
    asset_dir,
    function_named,
    function_statements,
    of_type,
)

pytestmark = pytest.mark.slow

FOLDER = "feedback_ingestion"
TOPIC = {"Fn::ImportValue": "mlops-foundation:AlertsTopicArn"}
BUCKET = {"Fn::ImportValue": "mlops-foundation:DataBucketName"}


@pytest.fixture(scope="module")
def monitoring(cloud_assembly: CloudAssembly) -> dict[str, Any]:
    return cloud_assembly.template(MONITORING)


def _granted(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    by_action: dict[str, list[dict[str, Any]]] = {}
    for statement in function_statements(template, FOLDER):
        for action in actions(statement):
            by_action.setdefault(action, []).append(statement)
    return by_action


def _objects(statement: dict[str, Any]) -> list[str]:
    """The object key patterns a statement names (``.../<bucket>/<pattern>`` as CDK joins them)."""
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return sorted(str(r["Fn::Join"][1][-1]).removeprefix("/") for r in resources)


def test_every_object_created_under_feedback_of_the_data_bucket_invokes_the_function(
    monitoring: dict[str, Any],
) -> None:
    function = function_named(monitoring, FOLDER)
    (rule,) = [
        r for r in of_type(monitoring, "AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
    ]  # fmt: skip
    properties = rule["Properties"]

    assert "EventBusName" not in properties  # S3 sends its events to the default bus
    assert properties["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": "feedback/"}]}},
    }
    (target,) = properties["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 6 * 3600}
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    # the same queue takes what the function itself fails on for good
    assert monitoring["Resources"][function]["Properties"]["DeadLetterConfig"]["TargetArn"] == {
        "Fn::GetAtt": [queue, "Arn"]
    }


def test_the_role_reads_feedback_and_captures_reads_and_writes_labels_and_writes_refusals_only(
    monitoring: dict[str, Any],
) -> None:
    granted = _granted(monitoring)

    (listing,) = granted["s3:ListBucket"]
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": ["capture/churn/*", "labels/churn/*", "quarantine/feedback/*"]}
    }
    (versions,) = granted["s3:GetObjectVersion"]
    assert actions(versions) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert _objects(versions) == ["feedback/churn/*"]
    (reads,) = [s for s in granted["s3:GetObject"] if s is not versions]
    assert _objects(reads) == ["capture/churn/*", "labels/churn/*", "quarantine/feedback/*"]
    (writes,) = granted["s3:PutObject"]
    assert _objects(writes) == ["labels/churn/*", "quarantine/feedback/*"]
    assert {a for a in granted if a.startswith("s3:")} == {
        "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"
    }  # fmt: skip
    # S3's use of the key, through S3 only
    (through_s3,) = [s for s in granted["kms:Decrypt"] if "Condition" in s]
    assert actions(through_s3) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "kms:ViaService" in json.dumps(through_s3["Condition"])
    (publish,) = granted["sns:Publish"]
    assert publish["Resource"] == TOPIC
    # metrics go through its logs (EMF): no CloudWatch API
    assert not [a for a in granted if a.startswith("cloudwatch:")]


def test_the_asset_carries_the_datasets_configurations_and_the_stack_outputs_name_and_datasets(
    cloud_assembly: CloudAssembly, monitoring: dict[str, Any]
) -> None:
    function = monitoring["Resources"][function_named(monitoring, FOLDER)]["Properties"]
    folder = asset_dir(cloud_assembly.directory, function["Code"]["S3Key"])

    generated = {name: json.loads((folder / name).read_text()) for name in
                 ("contracts.json", "training.json", "monitoring.json", "feedback.json")}  # fmt: skip
    assert all(set(content) == {"churn"} for content in generated.values())
    assert generated["feedback.json"] == {"churn": {"lookback_days": 30}}
    assert set(function["Environment"]["Variables"]) >= {"PROJECT", "DATA_BUCKET", "ALERTS_TOPIC_ARN"}
    outputs = monitoring["Outputs"]
    assert outputs["FeedbackIngestionFunctionName"]["Value"] == {"Ref": function_named(monitoring, FOLDER)}
    assert outputs["FeedbackDatasets"]["Value"] == "churn"


def test_each_dataset_gets_its_own_prefixes(monitoring_variant: CloudAssembly) -> None:
    variant = monitoring_variant.template(MONITORING)
    granted = _granted(variant)

    (versions,) = granted["s3:GetObjectVersion"]
    assert _objects(versions) == ["feedback/churn/*", "feedback/retail/*"]
    (writes,) = granted["s3:PutObject"]
    assert _objects(writes) == ["labels/churn/*", "labels/retail/*", "quarantine/feedback/*"]
    assert variant["Outputs"]["FeedbackDatasets"]["Value"] == "churn,retail"


def test_a_failure_of_the_function_alarms_the_alert_topic(monitoring: dict[str, Any]) -> None:
    function = function_named(monitoring, FOLDER)
    (alarm,) = [
        a["Properties"] for a in of_type(monitoring, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]  # fmt: skip

    assert alarm["AlarmName"] == "mlops-feedback-errors"
    assert (alarm["MetricName"], alarm["Namespace"], alarm["Threshold"]) == ("Errors", "AWS/Lambda", 1)
    assert alarm["AlarmActions"] == [TOPIC]
