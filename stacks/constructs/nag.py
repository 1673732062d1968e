"""cdk-nag acknowledgments, named from the very values that the grants they excuse were built from.

cdk-nag names a wildcard finding by the resource as the template renders it, flattened
(``Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:...``). What it renders depends on the stack's
environment: the CDK CLI always passes a region, and then the same ARN reads ``...:sagemaker:us-east-1:...``.
So a finding is never written by hand here: ``finding`` renders the ARN (token) that the policy holds,
the way cdk-nag does, and an acknowledgment cannot drift from its grant, whatever the environment.

An acknowledgment goes on the exact resource whose policy has the finding (a role, which carries its
policies), never on a construct that holds several.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

__all__ = [
    "WILDCARD_ONLY_ACTIONS",
    "acknowledge",
    "acknowledge_rule",
    "cdk_grant_reasons",
    "finding",
    "flatten",
    "wildcard_reason",
]

# Actions that AWS offers on no resource but "*", with why each is harmless there. A statement that
# allows anything else on "*" is a defect (tests/infra/test_least_privilege.py holds the app to it).
WILDCARD_ONLY_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray tracing (no resource-level permissions)",
    "xray:PutTelemetryRecords": "X-Ray tracing (no resource-level permissions)",
    "xray:GetSamplingRules": "X-Ray tracing (no resource-level permissions)",
    "xray:GetSamplingTargets": "X-Ray tracing (no resource-level permissions)",
    "ecr:GetAuthorizationToken": "the ECR login token for pulling SageMaker's image (account-wide by design)",
    "cloudwatch:PutMetricData": "metrics, limited to SageMaker's namespaces by a condition",
    "logs:CreateLogDelivery": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:GetLogDelivery": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:UpdateLogDelivery": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:DeleteLogDelivery": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:ListLogDeliveries": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:PutResourcePolicy": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:DescribeResourcePolicies": "Step Functions' vended log delivery (no resource-level permissions)",
    "logs:DescribeLogGroups": "Step Functions' vended log delivery (no resource-level permissions)",
    "sagemaker:ListTags": "the Step Functions .sync integration reads a training job's tags",
    # Its resource type (model-package) is optional: a listing names no package, so AWS decides it on "*".
    "sagemaker:ListModelPackages": "listing a model package group's versions (decided on '*' by AWS)",
}


def finding(scope: IConstruct, value: str, kind: str = "Resource") -> str:
    """cdk-nag's name for ``value`` (an ARN, tokens included) in ``scope``'s stack: ``<kind>::<as rendered>``.

    ``kind`` is ``Resource`` for a granted resource and ``Policy`` for a managed policy (AwsSolutions-IAM4).
    """
    return f"{kind}::" + flatten(cdk.Stack.of(scope).resolve(value))


def wildcard_reason(actions: list[str]) -> str:
    """Why ``actions`` (all of them from ``WILDCARD_ONLY_ACTIONS``) are granted on "*"."""
    unknown = sorted(set(actions) - WILDCARD_ONLY_ACTIONS.keys())
    if unknown:
        raise ValueError(f"{', '.join(unknown)} must be granted on named resources, not on '*'")
    reasons = dict.fromkeys(WILDCARD_ONLY_ACTIONS[action] for action in sorted(actions))
    return "Only on '*' in AWS: " + "; ".join(f"{', '.join(_named(r, actions))}: {r}" for r in reasons) + "."


def acknowledge(
    resource: IConstruct,
    *,
    resources: Mapping[str, str] | None = None,
    actions: Mapping[str, str] | None = None,
) -> None:
    """Acknowledge AwsSolutions-IAM5's wildcard findings on ``resource`` (a role), each with its reason.

    Parameters
    ----------
    resource
        The role (or other resource) whose policy has the findings; its children inherit them.
    resources
        The wildcard resources as they were granted (the same ARNs or tokens), each with its reason.
    actions
        Wildcard actions (``s3:GetObject*``), each with its reason.
    """
    for value, reason in (resources or {}).items():
        acknowledge_rule(resource, f"AwsSolutions-IAM5[{finding(resource, value)}]", reason)
    for action, reason in (actions or {}).items():
        acknowledge_rule(resource, f"AwsSolutions-IAM5[Action::{action}]", reason)


def acknowledge_rule(resource: IConstruct, name: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-S1``, ``AwsSolutions-IAM4[Policy::...]``) on ``resource``."""
    cdk.Validations.of(resource).acknowledge(cdk.Acknowledgment(id=name, reason=reason))


def cdk_grant_reasons(key_use: str) -> dict[str, str]:
    """The wildcard actions of CDK's own S3 and KMS grants, with why they are acceptable."""
    return {
        "s3:GetObject*": "CDK's read grant (object, version, ACL, tags) on the prefixes named.",
        "s3:GetBucket*": "CDK's read grant on the data bucket only.",
        "s3:List*": "CDK's read grant on the data bucket only.",
        "s3:Abort*": "CDK's put grant: abort its own multipart uploads under its prefixes.",
        "kms:GenerateDataKey*": f"Granted on the platform's one key only ({key_use}).",
        "kms:ReEncrypt*": f"Granted on the platform's one key only ({key_use}).",
    }


def _named(reason: str, actions: list[str]) -> list[str]:
    return [a for a in sorted(actions) if WILDCARD_ONLY_ACTIONS[a] == reason]


def flatten(node: Any) -> str:
    """A resolved CloudFormation value as one string, exactly as cdk-nag's ``flattenCfnReference`` does."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten(item) for item in items)
        if "Fn::Sub" in node:
            return flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            logical_id, attribute = node["Fn::GetAtt"]
            return f"<{flatten(logical_id)}.{flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
