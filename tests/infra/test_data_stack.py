"""The data plane's template: security by default, least privilege, and the wiring of validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from tests.conftest import CloudAssembly
from tests.infra.template_support import asset_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(cloud_assembly: CloudAssembly) -> Template:
    return Template.from_json(cloud_assembly.template("mlops-data"))


def _resources(cloud_assembly: CloudAssembly, kind: str) -> dict[str, dict[str, Any]]:
    resources = cloud_assembly.template("mlops-data")["Resources"]
    return {name: resource for name, resource in resources.items() if resource["Type"] == kind}


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


def test_lifecycle_rules_never_expire_current_objects(cloud_assembly: CloudAssembly) -> None:
    data_bucket = next(
        bucket for bucket in _resources(cloud_assembly, "AWS::S3::Bucket").values()
        if "LoggingConfiguration" in bucket["Properties"]
    )  # fmt: skip
    rules = data_bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all("ExpirationInDays" not in rule and "ExpirationDate" not in rule for rule in rules)
    assert any(rule.get("NoncurrentVersionTransitions") for rule in rules)
    assert any(
        rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") == 7 for rule in rules
    )


def test_every_bucket_refuses_plain_http(cloud_assembly: CloudAssembly) -> None:
    policies = _resources(cloud_assembly, "AWS::S3::BucketPolicy")
    assert len(policies) == len(_resources(cloud_assembly, "AWS::S3::Bucket"))
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in statements
        )


def test_the_catalog_has_point_in_time_recovery_and_the_platform_key(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "dataset", "KeyType": "HASH"},
                {"AttributeName": "version", "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
        },
    )


def test_alerts_and_dead_letters_are_encrypted(template: Template) -> None:
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})


def test_uploads_under_incoming_reach_the_validation_function(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [Match.any_value()]},
                    "object": {"key": [{"prefix": "incoming/"}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ],
        },
    )


def test_the_validation_function_is_sized_for_one_vcpu_and_traced(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "MemorySize": 1769,
            "Timeout": 900,
            "EphemeralStorage": {"Size": 10240},
            "TracingConfig": {"Mode": "Active"},
            "Layers": [Match.any_value()],
            "Environment": {
                "Variables": Match.object_like(
                    {"DATA_BUCKET": Match.any_value(), "CATALOG_TABLE": Match.any_value(),
                     "EVENT_BUS_NAME": Match.any_value(), "ALERTS_TOPIC_ARN": Match.any_value()}
                )
            },
        },
    )  # fmt: skip


def _validation_policy(cloud_assembly: CloudAssembly) -> list[dict[str, Any]]:
    """The statements of the policies attached to the validation function's role."""
    function = next(
        f
        for f in _resources(cloud_assembly, "AWS::Lambda::Function").values()
        if "CATALOG_TABLE" in f["Properties"].get("Environment", {}).get("Variables", {})
    )
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in _resources(cloud_assembly, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements, "the validation function's role has a policy"
    return statements


def _object_prefixes(statements: list[dict[str, Any]], action: str) -> set[str]:
    """The key prefixes (``<bucket arn>/<prefix>/*``) on which the statements allow ``action``."""
    prefixes = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions):
            prefixes.update(re.findall(r'"/([^"/]+/)\*"', json.dumps(statement["Resource"])))
            assert '"/*"' not in json.dumps(statement["Resource"]), f"{action} on every object"
    return prefixes


def test_the_validation_function_reads_and_writes_only_its_prefixes(cloud_assembly: CloudAssembly) -> None:
    statements = _validation_policy(cloud_assembly)
    assert _object_prefixes(statements, "s3:GetObject") == {"incoming/", "datasets/"}
    assert _object_prefixes(statements, "s3:PutObject") == {"datasets/", "quarantine/"}
    # in quarantine/, it reads only the markers that say a report's alert was sent
    reads = [s for s in statements if any(a.startswith("s3:GetObject") for a in s["Action"])]
    quarantined = [r for s in reads for r in s["Resource"] if "quarantine/" in json.dumps(r)]
    assert [json.dumps(r).endswith('/quarantine/*.alerted.json"]]}') for r in quarantined] == [True]
    assert not any("s3:DeleteObject" in json.dumps(statement["Action"]) for statement in statements)


def test_the_function_asset_carries_the_contracts_synth_validated(cloud_assembly: CloudAssembly) -> None:
    function = next(iter(
        f
        for f in _resources(cloud_assembly, "AWS::Lambda::Function").values()
        if "CATALOG_TABLE" in f["Properties"].get("Environment", {}).get("Variables", {})
    ))  # fmt: skip
    asset = asset_dir(cloud_assembly.directory, function["Properties"]["Code"]["S3Key"])
    assert (asset / "handler.py").is_file()
    assert (asset / "domain" / "contract.py").is_file()
    assert (asset / "adapters" / "storage.py").is_file()
    contracts = json.loads((asset / "contracts.json").read_text())
    assert set(contracts) == {"churn"}
    assert contracts["churn"]["target"]


def test_the_dependency_layer_is_built_for_the_functions_platform_and_fits_lambda(
    cloud_assembly: CloudAssembly,
) -> None:
    layer = next(iter(_resources(cloud_assembly, "AWS::Lambda::LayerVersion").values()))
    asset = asset_dir(cloud_assembly.directory, layer["Properties"]["Content"]["S3Key"])
    assert list((asset / "python" / "pyarrow").glob("lib.cpython-314-aarch64-linux-gnu.so"))
    size = sum(path.stat().st_size for path in asset.rglob("*") if path.is_file())
    assert size < 240 * 1024 * 1024, f"layer is {size / 2**20:.0f} MB unzipped; Lambda allows 250 MB in all"


def test_cdk_nag_passes_with_no_unacknowledged_finding(cloud_assembly: CloudAssembly) -> None:
    report = json.loads((cloud_assembly.directory / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_every_acknowledgment_carries_a_reason() -> None:
    from stacks.app import build_app

    app = build_app()
    found = 0
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    found += 1
                    assert len(str(reason).strip()) > 20, f"{construct.node.path}: {rule} has no real reason"
    assert found >= 5


def test_cdk_nag_gates_the_project_app(tmp_path: Path) -> None:
    from aws_cdk import aws_s3 as s3

    from stacks.app import build_app

    app = build_app(outdir=str(tmp_path))
    s3.Bucket(app.node.find_child("mlops-data"), "CarelessBucket")
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-S10"):
        app.synth()


def test_a_bad_configuration_value_fails_the_synth_naming_the_key() -> None:
    from stacks.app import build_app, cdk_json_context
    from stacks.config import ConfigError

    context = cdk_json_context()["mlops"] | {"validation": {"memory_mb": 100_000}}

    with pytest.raises(ConfigError, match=r"mlops\.validation\.memory_mb: Input should be less than"):
        build_app(context={"mlops": context})


def test_the_app_entry_point_prints_the_configuration_error_and_exits_non_zero(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from stacks.app import PROJECT_ROOT

    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": '{"mlops": {"datasets": {}}}'},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "Invalid configuration" in result.stderr
    assert "mlops.datasets" in result.stderr
