"""Deploying an app of several stacks bound by exports, as ``cdk deploy --all`` does on AWS.

The app (``localcloud_fixtures/exports_app.py``): ``Shared`` exports a topic's ARN and is protected from
termination; ``Consumer`` imports it and depends on it; ``Orphan`` imports an export that no stack makes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import LocalCloud, merge_outputs
from localcloud.deploy import StackDeployError
from tests.integration.localcloud_fixtures.exports_app import (
    CONSUMER_STACK,
    IMPORTED_PARAMETER,
    MISSING_EXPORT,
    ORPHAN_STACK,
    PROJECT,
    SHARED_STACK,
    TOPIC_EXPORT,
    synthesize,
)
from tests.integration.localcloud_fixtures.support import refusal

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.getbasetemp() / "exports-fixture.out")


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path / "work") as started:
        yield started


def stack_reasons(cloud: LocalCloud, name: str) -> list[str]:
    events = cloud.client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
    return [e["ResourceStatusReason"] for e in events if e.get("ResourceStatusReason")]


def without_export(assembly: Path, destination: Path) -> Path:
    """``assembly`` with the shared stack's export removed from its template."""
    shutil.copytree(assembly, destination)
    template_path = destination / f"{SHARED_STACK}.template.json"
    template = json.loads(template_path.read_text())
    del template["Outputs"]["TopicArn"]["Export"]
    template_path.write_text(json.dumps(template))
    return destination


def test_a_stack_is_deployed_after_the_stack_it_imports_from_with_its_import_resolved(
    cloud: LocalCloud, assembly: Path
) -> None:
    # When the consumer is deployed (declared first in the app, it depends on the shared stack)
    outputs = cloud.deploy(assembly, [CONSUMER_STACK])

    # Then the shared stack was deployed first, and the consumer's import is the shared topic's ARN
    assert list(outputs) == [SHARED_STACK, CONSUMER_STACK]
    topic_arn = outputs[SHARED_STACK]["TopicArn"]
    assert topic_arn.startswith("arn:aws:sns:")
    parameter = cloud.client("ssm").get_parameter(Name=IMPORTED_PARAMETER)["Parameter"]
    assert parameter["Value"] == topic_arn
    # and CloudFormation knows who imports what, and the stacks carry the manifest's tags
    cloudformation = cloud.client("cloudformation")
    assert cloudformation.list_imports(ExportName=TOPIC_EXPORT)["Imports"] == [CONSUMER_STACK]
    for name in outputs:
        (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
        assert {"Key": "project", "Value": PROJECT} in stack["Tags"]
    # and the project's outputs read as one mapping
    assert cloud.outputs() == merge_outputs(outputs)
    assert cloud.outputs()["ImportedParameterName"] == IMPORTED_PARAMETER


def test_an_import_of_an_export_that_does_not_exist_fails_the_stack(
    cloud: LocalCloud, assembly: Path
) -> None:
    # When the stack importing an export no stack makes is deployed
    with pytest.raises(StackDeployError) as failed:
        cloud.deploy(assembly, [ORPHAN_STACK])

    # Then it fails with CloudFormation's reason, rolled back with nothing created
    assert f"No export named {MISSING_EXPORT} found." in str(failed.value)
    cloudformation = cloud.client("cloudformation")
    assert (
        cloudformation.describe_stacks(StackName=ORPHAN_STACK)["Stacks"][0]["StackStatus"]
        == "ROLLBACK_COMPLETE"
    )
    assert f"No export named {MISSING_EXPORT} found. Rollback requested by user." in stack_reasons(
        cloud, ORPHAN_STACK
    )
    assert cloudformation.list_stack_resources(StackName=ORPHAN_STACK)["StackResourceSummaries"] == []
    parameters = cloud.client("ssm").describe_parameters()["Parameters"]
    assert [p["Name"] for p in parameters if not p["Name"].startswith("/cdk-bootstrap/")] == []


def test_a_protected_stack_cannot_be_deleted(cloud: LocalCloud, assembly: Path) -> None:
    # Given the shared stack, protected from termination in the app
    cloud.deploy(assembly, [SHARED_STACK])
    cloudformation = cloud.client("cloudformation")
    assert cloudformation.describe_stacks(StackName=SHARED_STACK)["Stacks"][0]["EnableTerminationProtection"]

    # When it is deleted, then CloudFormation refuses
    status, code, message = refusal(lambda: cloudformation.delete_stack(StackName=SHARED_STACK))
    assert (status, code) == (400, "ValidationError")
    assert message == f"Stack [{SHARED_STACK}] cannot be deleted while TerminationProtection is enabled"
    assert (
        cloudformation.describe_stacks(StackName=SHARED_STACK)["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )


def test_a_stack_whose_export_is_imported_is_not_deleted_until_its_importer_is(
    cloud: LocalCloud, assembly: Path
) -> None:
    # Given both stacks deployed, the shared one's protection lifted
    cloud.deploy(assembly, [CONSUMER_STACK])
    cloudformation = cloud.client("cloudformation")
    cloudformation.update_termination_protection(StackName=SHARED_STACK, EnableTerminationProtection=False)

    # When the shared stack is deleted while the consumer imports its export
    cloudformation.delete_stack(StackName=SHARED_STACK)

    # Then the deletion is refused with CloudFormation's reason, and the stack and export stay
    reason = f"Export {TOPIC_EXPORT} cannot be deleted as it is in use by {CONSUMER_STACK}"
    assert reason in stack_reasons(cloud, SHARED_STACK)
    assert (
        cloudformation.describe_stacks(StackName=SHARED_STACK)["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == [TOPIC_EXPORT]

    # and once the consumer is deleted, the shared stack and its export go
    cloudformation.delete_stack(StackName=CONSUMER_STACK)
    cloudformation.delete_stack(StackName=SHARED_STACK)
    assert cloudformation.describe_stacks()["Stacks"] == []
    assert cloudformation.list_exports()["Exports"] == []


def test_an_update_that_drops_an_export_in_use_is_rolled_back(
    cloud: LocalCloud, assembly: Path, tmp_path: Path
) -> None:
    # Given both stacks deployed
    cloud.deploy(assembly, [CONSUMER_STACK])

    # When the shared stack is redeployed without its export
    with pytest.raises(StackDeployError) as failed:
        cloud.deploy(without_export(assembly, tmp_path / "changed.out"), [SHARED_STACK])

    # Then the update is rolled back with CloudFormation's reason, and the export is still there
    reason = f"Export {TOPIC_EXPORT} cannot be deleted as it is in use by {CONSUMER_STACK}"
    assert reason in str(failed.value)
    cloudformation = cloud.client("cloudformation")
    events = cloudformation.describe_stack_events(StackName=SHARED_STACK)["StackEvents"]
    assert [e["ResourceStatus"] for e in events if e.get("ResourceStatusReason") == reason] == [
        "UPDATE_ROLLBACK_IN_PROGRESS"
    ]
    (shared,) = cloudformation.describe_stacks(StackName=SHARED_STACK)["Stacks"]
    assert shared["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == [TOPIC_EXPORT]
    # and deploying the app as it is brings the stack back to a complete state
    cloud.deploy(assembly, [CONSUMER_STACK])
    (shared,) = cloudformation.describe_stacks(StackName=SHARED_STACK)["Stacks"]
    assert shared["StackStatus"] == "UPDATE_COMPLETE"


def test_a_protected_stack_whose_creation_failed_is_not_deleted_until_its_protection_is_lifted(
    cloud: LocalCloud, assembly: Path
) -> None:
    # Given the orphan stack, rolled back (its import fails), then protected from termination
    with pytest.raises(StackDeployError):
        cloud.deploy(assembly, [ORPHAN_STACK])
    cloudformation = cloud.client("cloudformation")
    cloudformation.update_termination_protection(StackName=ORPHAN_STACK, EnableTerminationProtection=True)

    # When it is deleted, then CloudFormation refuses, as for any protected stack
    status, code, message = refusal(lambda: cloudformation.delete_stack(StackName=ORPHAN_STACK))
    assert (status, code) == (400, "ValidationError")
    assert message == f"Stack [{ORPHAN_STACK}] cannot be deleted while TerminationProtection is enabled"
    # and deploying it again stops there, with that reason, the stack left as it was
    with pytest.raises(StackDeployError) as failed:
        cloud.deploy(assembly, [ORPHAN_STACK])
    assert f"stack {ORPHAN_STACK} is ROLLBACK_COMPLETE and cannot be deleted: {message}" == str(failed.value)
    (orphan,) = cloudformation.describe_stacks(StackName=ORPHAN_STACK)["Stacks"]
    assert orphan["StackStatus"] == "ROLLBACK_COMPLETE"

    # and once the protection is lifted, it is deleted
    cloudformation.update_termination_protection(StackName=ORPHAN_STACK, EnableTerminationProtection=False)
    cloudformation.delete_stack(StackName=ORPHAN_STACK)
    assert cloudformation.describe_stacks()["Stacks"] == []
