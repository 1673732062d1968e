"""cdk-nag acknowledgments: granular findings named the way cdk-nag names them, each with its reason.

cdk-nag 3 names a wildcard finding by the resource as the template renders it (``<LogicalId.Arn>``,
``<AWS::Region>``), so the names are computed from the constructs (which is why a construct and what it
grants live in one stack).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct, IConstruct

__all__ = ["REGIONAL_ARN", "acknowledge", "bucket_arn", "cdk_grant_reasons", "execution_reader", "logical_id"]

# An ARN in the region and account of the stack, as cdk-nag prints it.
REGIONAL_ARN = "arn:<AWS::Partition>:{service}:<AWS::Region>:<AWS::AccountId>:{resource}"


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of a construct's resource."""
    return cdk.Stack.of(construct).get_logical_id(construct.node.default_child)  # type: ignore[arg-type]


def bucket_arn(bucket: IConstruct) -> str:
    """A bucket's ARN as cdk-nag prints it."""
    return f"<{logical_id(bucket)}.Arn>"


def cdk_grant_reasons(key_use: str) -> dict[str, str]:
    """The wildcard actions of CDK's own S3 and KMS grants, with why they are acceptable."""
    return {
        "Action::s3:GetObject*": "CDK's read grant (object, version, ACL, tags) on the prefixes named.",
        "Action::s3:GetBucket*": "CDK's read grant on the data bucket only.",
        "Action::s3:List*": "CDK's read grant on the data bucket only.",
        "Action::s3:Abort*": "CDK's put grant: abort its own multipart uploads under its prefixes.",
        "Action::kms:GenerateDataKey*": f"Granted on the platform's one key only ({key_use}).",
        "Action::kms:ReEncrypt*": f"Granted on the platform's one key only ({key_use}).",
    }


def execution_reader(state_machine: IConstruct) -> str:
    """The finding of a grant to read the executions of one state machine."""
    return (
        "Resource::"
        + REGIONAL_ARN.format(service="states", resource="execution:")
        + '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"'
        + logical_id(state_machine)
        + '"}]}]}:*'
    )


def acknowledge(scope: Construct, reasons: dict[str, str], *, rule: str = "AwsSolutions-IAM5") -> None:
    """Acknowledge ``rule[<finding>]`` for each finding (or a whole rule, for keys that name one)."""
    for finding, reason in reasons.items():
        name = finding if finding.startswith("AwsSolutions-") else f"{rule}[{finding}]"
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=name, reason=reason))
