"""The stacks by lifecycle: state in the foundation alone, compute in stacks bound to it by fixed exports."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from domain import names
from domain.platform_names import project_names
from stacks.app import PROJECT_ROOT, build_app, cdk_json_context
from stacks.constructs.nag import flatten
from tests.conftest import CloudAssembly
from tests.infra.template_support import FOUNDATION, STATELESS, of_type

pytestmark = pytest.mark.slow

# What holds the platform's data (or keeps it readable, the key): it lives and dies with the foundation.
STATEFUL = (
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
)


def _manifest(assembly: CloudAssembly) -> dict[str, Any]:
    return json.loads((assembly.directory / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _exports(templates: dict[str, dict[str, Any]]) -> set[str]:
    return {
        output["Export"]["Name"]
        for template in templates.values()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }


def _imports(templates: dict[str, dict[str, Any]]) -> set[str]:
    return set(re.findall(r'\{"Fn::ImportValue": "([^"]+)"\}', json.dumps(list(templates.values()))))


def test_the_app_is_a_foundation_and_stateless_stacks_each_tagged_with_the_project(
    cloud_assembly: CloudAssembly,
) -> None:
    artifacts = _manifest(cloud_assembly)["artifacts"]

    assert set(cloud_assembly.templates) == {FOUNDATION, *STATELESS}
    for stack in cloud_assembly.templates:
        assert artifacts[stack]["properties"]["tags"] == {"project": "mlops"}, stack
    # Each stateless stack deploys after the foundation, and after nothing else.
    for stack in STATELESS:
        assert [d for d in artifacts[stack]["dependencies"] if not d.endswith(".assets")] == [FOUNDATION]


def test_every_stack_the_app_builds_is_one_whose_name_synth_checks(cloud_assembly: CloudAssembly) -> None:
    checked = {built.name for built in project_names("mlops")}

    assert set(cloud_assembly.templates) <= checked
    # every lifecycle's stack is built; the rest of the project's names is the bus's
    assert checked - set(cloud_assembly.templates) == {names.event_bus_name("mlops")}
    assert {names.stack_name("mlops", lifecycle) for lifecycle in names.LIFECYCLES} == set(
        cloud_assembly.templates
    )


def test_the_foundation_is_protected_from_deletion_and_holds_every_stateful_resource(
    cloud_assembly: CloudAssembly,
) -> None:
    artifacts = _manifest(cloud_assembly)["artifacts"]
    foundation = cloud_assembly.template(FOUNDATION)

    assert artifacts[FOUNDATION]["properties"]["terminationProtection"] is True
    for kind in STATEFUL:
        assert of_type(foundation, kind), f"the foundation has no {kind}"
    for stack in STATELESS:
        assert not artifacts[stack]["properties"].get("terminationProtection"), stack
        template = cloud_assembly.template(stack)
        held = sorted(
            f"{name} ({r['Type']})" for name, r in template["Resources"].items() if r["Type"] in STATEFUL
        )
        assert held == [], f"{stack} holds state: {held}"


def test_the_stores_are_kept_when_the_foundation_is_deleted(foundation: dict[str, Any]) -> None:
    # retain_data is on in cdk.json: every store is retained, as before the split.
    for kind in ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::KMS::Key"):
        for name, resource in of_type(foundation, kind).items():
            assert resource["DeletionPolicy"] == "Retain", name


def test_every_import_is_a_foundation_export_with_a_name_of_its_own(cloud_assembly: CloudAssembly) -> None:
    exports, imports = _exports(cloud_assembly.templates), _imports(cloud_assembly.templates)

    assert imports and imports <= exports
    assert all(name.startswith(f"{FOUNDATION}:") for name in exports)
    # no reference that CDK would export under a generated name (ExportsOutput...)
    assert "ExportsOutput" not in json.dumps(list(cloud_assembly.templates.values()))


def test_export_names_do_not_change_with_the_configuration(
    cloud_assembly: CloudAssembly, tmp_path: Path
) -> None:
    # Given another dataset, served serverless (a new endpoint, the serving API, more outputs)
    contract = tmp_path / "retail.yaml"
    churn = (PROJECT_ROOT / "contracts" / "churn.yaml").read_text(encoding="utf-8")
    contract.write_text(churn.replace("name: churn", "name: retail", 1), encoding="utf-8")
    context = copy.deepcopy(cdk_json_context())
    datasets = context["mlops"]["datasets"]
    datasets["retail"] = copy.deepcopy(datasets["churn"]) | {
        "contract": str(contract),
        "serving": {"mode": "serverless"},
    }

    assembly = build_app(context, outdir=str(tmp_path / "cdk.out")).synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}

    # Then the stacks bind to each other by the same names (serving imports the deployments table either way)
    assert "EndpointNameRetail" in templates["mlops-serving"]["Outputs"]
    assert _exports(templates) == _exports(cloud_assembly.templates)
    assert _imports(templates) == _imports(cloud_assembly.templates)


def test_every_output_key_is_unique_across_the_project_s_stacks(cloud_assembly: CloudAssembly) -> None:
    keys = [key for template in cloud_assembly.templates.values() for key in template.get("Outputs", {})]

    assert len(keys) == len(set(keys))
    assert {
        "DataBucketName", "CatalogTableName", "EventBusName", "AlertsTopicArn", "DeploymentsTableName",
        "ValidationFunctionName", "ValidationDeadLetterQueueUrl", "TrainingStateMachineArn",
        "ModelPackageGroupPrefix", "DeploymentStateMachineArn", "EndpointNameChurn",
        "DriftMonitorFunctionName", "DecisionsTableName", "RetrainingPolicyFunctionName",
    } <= set(keys)  # fmt: skip


def test_alarms_reach_the_foundation_s_topic_by_a_name_pattern_every_alarm_of_the_app_matches(
    cloud_assembly: CloudAssembly, foundation: dict[str, Any]
) -> None:
    policies = [r["Properties"]["KeyPolicy"] for r in of_type(foundation, "AWS::KMS::Key").values()] + [
        r["Properties"]["PolicyDocument"] for r in of_type(foundation, "AWS::SNS::TopicPolicy").values()
    ]
    patterns = {
        flatten(statement["Condition"]["ArnLike"]["aws:SourceArn"])
        for policy in policies
        for statement in policy["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    }

    assert patterns == {"arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:mlops-*"}
    for stack in STATELESS:
        for name, alarm in of_type(cloud_assembly.template(stack), "AWS::CloudWatch::Alarm").items():
            # CloudFormation names an unnamed alarm <stack name>-<logical id>-<suffix>
            assert alarm["Properties"].get("AlarmName", stack).startswith("mlops-"), name
