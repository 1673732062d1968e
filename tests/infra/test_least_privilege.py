"""Least privilege, held by the synthesized app: no grant on "*" but what AWS offers only there.

Checked on the default app (environment-agnostic) and on the app as ``cdk deploy`` synthesizes it (a
concrete account and region, with a serverless dataset so that every construct is present). cdk-nag's
acknowledgments are checked against the same templates: each sits on the role whose policy has the
finding it excuses, so a construct-wide acknowledgment cannot hide a new grant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.app import build_app, cdk_json_context
from stacks.constructs.nag import finding, flatten
from tests.conftest import CloudAssembly

pytestmark = pytest.mark.slow

# The actions that AWS offers on no resource but "*", by name. Anything else on "*" fails.
ONLY_ON_EVERY_RESOURCE = {
    # X-Ray tracing of functions and state machines
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    # pulling SageMaker's image: the login token is account-wide
    "ecr:GetAuthorizationToken",
    # metrics, which must carry a namespace condition (below)
    "cloudwatch:PutMetricData",
    # Step Functions' log delivery to CloudWatch Logs
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    # the Step Functions .sync integration for SageMaker training jobs
    "sagemaker:ListTags",
    # a model package group's versions: the listing names no package, so AWS decides it on "*"
    "sagemaker:ListModelPackages",
}
# AWS-managed policies a role may carry: API Gateway's account-level logging role (CDK's cloud_watch_role).
MANAGED_POLICIES = {"service-role/AmazonAPIGatewayPushToCloudWatchLogs"}


@pytest.fixture(scope="module")
def deployed_assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """The app as ``cdk deploy`` synthesizes it: a concrete account and region; churn served serverless."""
    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["datasets"]["churn"]["serving"] = {"mode": "serverless"}
    outdir: Path = tmp_path_factory.mktemp("deployed.out")
    environment = cdk.Environment(account="123456789012", region="eu-west-1")
    assembly = build_app(context, outdir=str(outdir), environment=environment).synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return CloudAssembly(directory=Path(assembly.directory), templates=templates)


@pytest.fixture(params=["environment-agnostic", "deployed"])
def app(request: pytest.FixtureRequest) -> CloudAssembly:
    name = "cloud_assembly" if request.param == "environment-agnostic" else "deployed_assembly"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def test_the_deployed_app_is_concrete_and_has_every_construct(deployed_assembly: CloudAssembly) -> None:
    for stack, template in deployed_assembly.templates.items():
        rendered = json.dumps(template)
        assert '"Ref": "AWS::Region"' not in rendered, stack
        assert '"Ref": "AWS::AccountId"' not in rendered, stack
    rendered = json.dumps(list(deployed_assembly.templates.values()))
    assert "eu-west-1" in rendered and "123456789012" in rendered
    assert "AWS::ApiGateway::RestApi" in rendered


def test_no_identity_policy_allows_anything_on_every_resource_but_what_aws_offers_only_there(
    app: CloudAssembly,
) -> None:
    wide = [
        (policy, action, statement)
        for template in app.templates.values()
        for policy, statement in _allow_statements(template)
        if "*" in _as_list(statement.get("Resource")) or "NotResource" in statement
        for action in _as_list(statement.get("Action")) + _as_list(statement.get("NotAction"))
    ]

    assert wide, "expected the tracing grants at least"
    unexpected = sorted(
        {f"{policy}: {action}" for policy, action, _ in wide if action not in ONLY_ON_EVERY_RESOURCE}
    )
    assert unexpected == [], "granted on '*': " + ", ".join(unexpected)
    metrics = [statement for _, action, statement in wide if action == "cloudwatch:PutMetricData"]
    assert metrics and all("cloudwatch:namespace" in json.dumps(s.get("Condition")) for s in metrics)


def test_no_role_carries_a_managed_policy_but_api_gateways_logging_role(app: CloudAssembly) -> None:
    carried: dict[str, list[str]] = {}
    for stack, template in app.templates.items():
        paths = {
            entry["data"]: path
            for path, entries in _metadata(app, stack).items()
            for entry in entries
            if entry["type"] == "aws:cdk:logicalId"
        }
        carried |= {
            paths[name]: [_flat(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])]
            for name, role in _resources(template, "AWS::IAM::Role")
        }

    for path, arns in carried.items():
        for arn in arns:
            assert arn.split(":policy/")[-1] in MANAGED_POLICIES, f"{path} carries {arn}"
            assert path.endswith("/ServingApi/Api/CloudWatchRole/Resource"), f"{path} carries {arn}"


def test_every_wildcard_acknowledgment_sits_on_a_role_whose_policy_has_that_finding(
    app: CloudAssembly,
) -> None:
    acknowledged = 0
    for stack, template in app.templates.items():
        acknowledged += _check_acknowledgments(template, _metadata(app, stack))
    assert acknowledged


def _check_acknowledgments(template: dict[str, Any], metadata: dict[str, list[dict[str, Any]]]) -> int:
    """Assert that each wildcard acknowledgment of a stack sits on a role granted what it names."""
    logical_ids = {
        path: entry["data"]
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:logicalId"
    }
    acknowledged = [
        (path, rule)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule in entry["data"]
        if "AwsSolutions-IAM5[Resource::" in rule
    ]
    for path, rule in acknowledged:
        role = logical_ids.get(f"{path}/Resource")
        assert role and template["Resources"][role]["Type"] == "AWS::IAM::Role", (
            f"{rule} is not on a role: {path}"
        )
        found = {
            "Resource::" + _flat(resource)
            for _, statement in _allow_statements(template, role=role)
            for resource in _as_list(statement.get("Resource"))
        }
        name = rule.split("[", 1)[1].rstrip("]")
        assert name in found, f"{path}: {name} acknowledged, but the role is granted no such resource"
    return len(acknowledged)


def test_a_finding_is_named_as_cdk_nag_names_it(deployed_assembly: CloudAssembly) -> None:
    # nag.finding renders a token the way cdk-nag's flattenCfnReference does; a concrete ARN stays as is.
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    bucket = cdk.CfnResource(stack, "B", type="AWS::S3::Bucket")

    assert finding(stack, stack.format_arn(service="states", resource="x", resource_name="*")) == (
        "Resource::arn:<AWS::Partition>:states:eu-west-1:123456789012:x/*"
    )
    assert finding(stack, cdk.Fn.get_att(bucket.logical_id, "Arn").to_string() + "/runs/*") == (
        "Resource::<B.Arn>/runs/*"
    )
    assert finding(stack, "*") == "Resource::*"


def _resources(template: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((name, r) for name, r in template["Resources"].items() if r["Type"] == kind)


def _allow_statements(
    template: dict[str, Any], role: str | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(policy name, statement) of every identity policy: policies, managed policies, roles' inline ones."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents: list[dict[str, Any]] = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if role is not None and {"Ref": role} not in properties.get("Roles", []):
                continue
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role" and (role is None or name == role):
            documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    yield name, statement


def _metadata(app: CloudAssembly, stack: str) -> dict[str, list[dict[str, Any]]]:
    manifest = json.loads((app.directory / "manifest.json").read_text(encoding="utf-8"))
    artifact = manifest["artifacts"][stack]
    extra = artifact.get("additionalMetadataFile")
    if extra:
        return json.loads((app.directory / extra).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    return artifact["metadata"]  # type: ignore[no-any-return]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flat(value: Any) -> str:
    """A template value as cdk-nag renders it (one string)."""
    return flatten(value)
