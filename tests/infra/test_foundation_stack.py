"""The foundation's template: the platform's stores, secure by default."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from tests.infra.template_support import of_type

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(foundation: dict[str, Any]) -> Template:
    return Template.from_json(foundation)


def test_the_key_is_customer_managed_and_rotated(template: Template) -> None:
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_the_data_bucket_is_versioned_encrypted_private_logged_and_tells_eventbridge(
    template: Template,
) -> None:
    key = Capture()
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "data-bucket/",
            },
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
        },
    )
    assert "Fn::GetAtt" in key.as_object()
    # CloudFormation's own property: no custom resource, no CDK handler function with a managed policy.
    template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_lifecycle_rules_never_expire_current_objects(foundation: dict[str, Any]) -> None:
    data_bucket = next(
        bucket for bucket in of_type(foundation, "AWS::S3::Bucket").values()
        if "LoggingConfiguration" in bucket["Properties"]
    )  # fmt: skip
    rules = data_bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all("ExpirationInDays" not in rule and "ExpirationDate" not in rule for rule in rules)
    assert any(rule.get("NoncurrentVersionTransitions") for rule in rules)
    assert any(
        rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 7 for rule in rules
    )


def test_every_bucket_refuses_plain_http(foundation: dict[str, Any]) -> None:
    policies = of_type(foundation, "AWS::S3::BucketPolicy")
    assert len(policies) == len(of_type(foundation, "AWS::S3::Bucket"))
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in statements
        )


@pytest.mark.parametrize(
    ("table", "partition", "sort"),
    [
        ("the catalog", "dataset", "version"),
        ("the deployments table", "endpoint", "record"),
        ("the retraining decisions table", "dataset", "record"),
    ],
)
def test_each_table_has_point_in_time_recovery_and_the_platform_key(
    template: Template, table: str, partition: str, sort: str
) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
        },
    )


def test_alerts_are_encrypted(template: Template) -> None:
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
