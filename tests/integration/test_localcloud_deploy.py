"""Deploying a synthesized CDK app into the local cloud: what ``cdk deploy`` would create, clients see.

The fixture app (``localcloud_fixtures/app.py``) has one of each resource the local cloud has to fix up
after moto's CloudFormation; each test checks through the public API, as any client would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import LocalCloud, LocalCloudError
from tests.integration.localcloud_fixtures.app import GREETING_PARAMETER
from tests.integration.localcloud_fixtures.support import (
    DATA_STACK,
    FUNCTIONS_STACK,
    Deployment,
    deploy_fixture,
    synthesize,
)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.getbasetemp() / "localcloud-fixture.out")


@pytest.fixture(scope="module")
def deployed(assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = deploy_fixture(assembly, tmp_path_factory.mktemp("localcloud-deploy"))
    yield deployment
    deployment.cloud.stop()


def test_deploy_returns_the_outputs_that_describe_stacks_reports(deployed: Deployment) -> None:
    # Given the fixture app deployed
    cloudformation = deployed.cloud.client("cloudformation")

    # When a client describes its stacks
    described = {
        name: {
            o["OutputKey"]: o["OutputValue"]
            for o in cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        }
        for name in (DATA_STACK, FUNCTIONS_STACK)
    }

    # Then it sees what deploy returned, cross-stack references resolved
    assert described == deployed.outputs
    assert deployed.data["BusName"] == "localcloud-fixture-bus"
    assert deployed.data["ExportsOutputRefBusEA82B6486A28F94F"] == "localcloud-fixture-bus"


def test_the_bucket_has_the_settings_its_template_asks_for(deployed: Deployment) -> None:
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]

    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == deployed.data["KeyArn"]
    assert rule["BucketKeyEnabled"] is True
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s.get("Condition") for s in policy["Statement"]]


def test_a_tls_only_bucket_accepts_requests_on_the_loopback_endpoint(deployed: Deployment) -> None:
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]

    s3.put_object(Bucket=bucket, Key="elsewhere/hello.txt", Body=b"hello")

    assert s3.get_object(Bucket=bucket, Key="elsewhere/hello.txt")["Body"].read() == b"hello"


def test_table_topic_and_key_are_encrypted_and_protected_as_declared(deployed: Deployment) -> None:
    dynamodb, table = deployed.cloud.client("dynamodb"), deployed.data["TableName"]

    sse = dynamodb.describe_table(TableName=table)["Table"]["SSEDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    topic = deployed.cloud.client("sns").get_topic_attributes(TopicArn=deployed.data["TopicArn"])[
        "Attributes"
    ]
    kms = deployed.cloud.client("kms")

    assert (sse["Status"], sse["SSEType"], sse["KMSMasterKeyArn"]) == (
        "ENABLED",
        "KMS",
        deployed.data["KeyArn"],
    )
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert topic["KmsMasterKeyId"] == deployed.data["KeyArn"]
    assert "aws:SecureTransport" in topic["Policy"]
    assert kms.describe_key(KeyId=deployed.data["KeyArn"])["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=deployed.data["KeyArn"])["KeyRotationEnabled"] is True


def test_functions_keep_their_layers_log_group_and_permissions(deployed: Deployment) -> None:
    lambda_ = deployed.cloud.client("lambda")
    recorder = deployed.functions["RecorderName"]

    configuration = lambda_.get_function(FunctionName=recorder)["Configuration"]
    policy = json.loads(lambda_.get_policy(FunctionName=recorder)["Policy"])
    groups = [g["logGroupName"] for g in deployed.cloud.client("logs").describe_log_groups()["logGroups"]]

    resources = deployed.cloud.client("cloudformation").list_stack_resources(StackName=FUNCTIONS_STACK)
    layers = [
        r["PhysicalResourceId"]
        for r in resources["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::Lambda::LayerVersion"
    ]
    assert [layer["Arn"] for layer in configuration["Layers"]] == layers
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"events.amazonaws.com"}
    assert any(g.startswith(f"{FUNCTIONS_STACK}-RecorderLogs") for g in groups)


def test_alarms_state_machines_and_python_custom_resources_are_deployed(deployed: Deployment) -> None:
    alarms = deployed.cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]
    stepfunctions = deployed.cloud.client("stepfunctions")

    execution = stepfunctions.start_execution(
        stateMachineArn=deployed.functions["MachineArn"], name="deploy-test", input=json.dumps({"n": 1})
    )
    deadline = time.monotonic() + 10
    while (described := stepfunctions.describe_execution(executionArn=execution["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)

    recorder_alarms = [
        a
        for a in alarms
        if a["Dimensions"] == [{"Name": "FunctionName", "Value": deployed.functions["RecorderName"]}]
    ]
    assert [(a["MetricName"], a["Threshold"], a["TreatMissingData"]) for a in recorder_alarms] == [
        ("Errors", 1.0, "notBreaching")
    ]
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"n": 1, "echoed": {"n": 1}}
    # The custom resource's Python provider ran for real and answered CloudFormation.
    assert deployed.functions["GreetingOutput"] == "hello from a custom resource"
    assert (
        deployed.cloud.client("ssm").get_parameter(Name=GREETING_PARAMETER)["Parameter"]["Value"]
        == deployed.functions["GreetingOutput"]
    )


def test_env_points_the_aws_cli_at_the_local_cloud(deployed: Deployment) -> None:
    # Given a shell environment with nothing but the local cloud's variables for AWS
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | deployed.cloud.env()
    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")

    # When the AWS CLI lists buckets
    result = subprocess.run(
        [aws, "s3api", "list-buckets", "--output", "json"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it sees the deployed bucket
    assert result.returncode == 0, result.stderr
    assert deployed.data["BucketName"] in [b["Name"] for b in json.loads(result.stdout)["Buckets"]]


def test_env_points_boto3_in_another_process_at_the_local_cloud(deployed: Deployment) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | deployed.cloud.env()
    script = "import boto3, json; print(json.dumps(boto3.client('dynamodb').list_tables()['TableNames']))"

    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [deployed.data["TableName"]]


def test_a_second_local_cloud_in_the_same_process_is_refused(deployed: Deployment) -> None:
    # moto's state is per process: a second cloud would share (and reset) the first one's resources.
    second = LocalCloud()

    with pytest.raises(LocalCloudError, match="already running"):
        second.start()

    # and the refused start left the running cloud as it was
    response = deployed.cloud.client("lambda").invoke(
        FunctionName=deployed.functions["SleeperName"], Payload=b'{"seconds": 0}'
    )
    assert json.loads(response["Payload"].read()) == {"slept": 0.0}
