"""Deploying again: the same assembly changes nothing, a changed one updates the stacks in place."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def deployed(assembly: Path, tmp_path: Path) -> Iterator[Deployment]:
    deployment = deploy_fixture(assembly, tmp_path / "work")
    yield deployment
    deployment.cloud.stop()


def changed_copy(assembly: Path, destination: Path, greeting: str) -> Path:
    """``assembly`` with a new greeting for the custom resource and for the recorder's environment."""
    shutil.copytree(assembly, destination)
    template_path = destination / f"{FUNCTIONS_STACK}.template.json"
    template = json.loads(template_path.read_text())
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudFormation::CustomResource":
            properties["Greeting"] = greeting
        if "GREETING" in properties.get("Environment", {}).get("Variables", {}):
            properties["Environment"]["Variables"]["GREETING"] = greeting
    template_path.write_text(json.dumps(template))
    return destination


def test_redeploying_the_same_assembly_changes_nothing(deployed: Deployment, assembly: Path) -> None:
    # Given an object in the deployed bucket
    s3, bucket = deployed.cloud.client("s3"), deployed.data["BucketName"]
    s3.put_object(Bucket=bucket, Key="elsewhere/kept.txt", Body=b"kept")

    # When the same assembly is deployed again
    outputs = deployed.cloud.deploy(assembly)

    # Then every output, setting and object is as it was
    assert outputs == deployed.outputs
    assert s3.get_object(Bucket=bucket, Key="elsewhere/kept.txt")["Body"].read() == b"kept"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    stacks = deployed.cloud.client("cloudformation").describe_stacks()["Stacks"]
    assert {s["StackName"] for s in stacks} == {DATA_STACK, FUNCTIONS_STACK}
    assert {s["StackStatus"] for s in stacks} <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def test_a_changed_assembly_updates_functions_and_custom_resources(
    deployed: Deployment, assembly: Path, tmp_path: Path
) -> None:
    # Given the recorder has run with its first configuration (its environment is warm)
    lambda_ = deployed.cloud.client("lambda")
    recorder = deployed.functions["RecorderName"]
    lambda_.invoke(FunctionName=recorder, Payload=b'{"id": "before"}')

    # When an assembly with a new greeting is deployed
    outputs = deployed.cloud.deploy(changed_copy(assembly, tmp_path / "changed.out", "hello again"))

    # Then the custom resource's provider got the Update and its new attributes are the outputs
    assert outputs[FUNCTIONS_STACK]["GreetingOutput"] == "hello again"
    parameter = deployed.cloud.client("ssm").get_parameter(Name=GREETING_PARAMETER)["Parameter"]
    assert parameter["Value"] == "hello again"
    # and the function runs with its new environment, in a new execution environment
    lambda_.invoke(FunctionName=recorder, Payload=b'{"id": "after"}')
    greetings = {r["event"]["id"]: r["greeting"] for r in deployed.recorded_events()}
    assert greetings == {"before": "hello from the recorder", "after": "hello again"}
    assert deployed.cloud.invocations(recorder)[-1].cold_start is True
    # and what did not change kept its identity
    assert outputs[DATA_STACK] == deployed.data
    assert outputs[FUNCTIONS_STACK]["RecorderName"] == recorder


def test_a_deployed_alarm_starts_as_cloudwatch_creates_it_and_a_redeploy_keeps_its_state(
    deployed: Deployment, assembly: Path
) -> None:
    # Given the stack's alarm, created through CloudFormation: INSUFFICIENT_DATA, as CloudWatch creates it
    cloudwatch = deployed.cloud.client("cloudwatch")
    recorder = [{"Name": "FunctionName", "Value": deployed.functions["RecorderName"]}]
    (alarm,) = [a for a in cloudwatch.describe_alarms()["MetricAlarms"] if a["Dimensions"] == recorder]
    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="ALARM", StateReason="test: errors")

    # When the stacks are deployed again (the alarm is put again)
    deployed.cloud.deploy(assembly)

    # Then it is in the state it was in: an update of an alarm leaves its state unchanged
    (after,) = cloudwatch.describe_alarms(AlarmNames=[alarm["AlarmName"]])["MetricAlarms"]
    assert (after["StateValue"], after["StateReason"]) == ("ALARM", "test: errors")
