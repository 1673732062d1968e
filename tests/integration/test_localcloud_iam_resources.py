"""The deployer leaves IAM resources as CloudFormation would: managed policies attached, updates applied.

The platform's templates use ``AWS::IAM::Role`` (trust policy, description, tags) and
``AWS::IAM::Policy`` on one or several roles; ``ManagedPolicyArns``, ``AWS::IAM::ManagedPolicy`` and
``PermissionsBoundary`` are what the next construct may use, and moto's CloudFormation misses them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.iam.policies import PolicyStore
from tests.integration.localcloud_fixtures.support import one_stack_assembly

STACK = "iam-fixture"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _document(*statements: tuple[str, str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements],
    }


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Reader": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "reader",
                "AssumeRolePolicyDocument": _trust("lambda.amazonaws.com"),
                "ManagedPolicyArns": [LAMBDA_BASIC, {"Ref": "Shared"}],
                "PermissionsBoundary": {"Ref": "Boundary"},
                "Policies": [{"PolicyName": "own", "PolicyDocument": _document(("s3:GetObject", "*"))}],
            },
        },
        "Writer": {
            "Type": "AWS::IAM::Role",
            "Properties": {"RoleName": "writer", "AssumeRolePolicyDocument": _trust("states.amazonaws.com")},
        },
        "Both": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "both",
                "PolicyDocument": _document(("sqs:SendMessage", "*"), ("sns:Publish", "*")),
                "Roles": [{"Ref": "Reader"}, {"Ref": "Writer"}],
            },
        },
        "Shared": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": "shared",
                "PolicyDocument": _document(("dynamodb:GetItem", "*")),
                "Roles": [{"Ref": "Writer"}],
            },
        },
        "Boundary": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"ManagedPolicyName": "boundary", "PolicyDocument": _document(("*", "*"))},
        },
    }
}


def _actions(store: PolicyStore, role: str) -> dict[str, set[str]]:
    """Policy name -> the actions its statements allow, as the evaluator will read them."""
    arn = f"arn:aws:iam::123456789012:role/{role}"
    return {
        policy.name: {action for statement in policy.statements for action in statement.actions}
        for policy in store.identity_policies(arn)
    }


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path / "work") as started:
        started.deploy(one_stack_assembly(tmp_path / "v1.out", STACK, TEMPLATE))
        yield started


def test_a_role_gets_its_managed_policies_and_a_policy_reaches_each_of_its_roles(cloud: LocalCloud) -> None:
    # Given the template deployed (by the fixture)
    store = PolicyStore(cloud.account_id, cloud.region)

    # Then the reader has its inline policy, the shared one, AWS's managed policy and its boundary
    reader = _actions(store, "reader")
    assert reader["own"] == {"s3:GetObject"}
    assert reader["both"] == {"sqs:SendMessage", "sns:Publish"}
    assert {"logs:CreateLogGroup", "logs:PutLogEvents"} <= set().union(*reader.values())
    assert {"dynamodb:GetItem"} in reader.values()
    role = cloud.client("iam").get_role(RoleName="reader")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/boundary")
    tags = {t["Key"]: t["Value"] for t in cloud.client("iam").list_role_tags(RoleName="reader")["Tags"]}
    assert tags["aws:cloudformation:stack-name"] == STACK
    assert tags["aws:cloudformation:logical-id"] == "Reader"
    # And the policy on two roles reaches the writer too, with the managed policy naming it
    writer = _actions(store, "writer")
    assert writer["both"] == {"sqs:SendMessage", "sns:Publish"}
    assert {"dynamodb:GetItem"} in writer.values()


def test_an_update_takes_away_what_the_template_no_longer_grants(cloud: LocalCloud, tmp_path: Path) -> None:
    # Given a template without the SNS statement, AWS's policy, the inline policy and the boundary, and a
    # shared policy that now allows PutItem and names the reader instead of the writer
    changed = copy.deepcopy(TEMPLATE)
    resources = changed["Resources"]
    resources["Both"]["Properties"]["PolicyDocument"] = _document(("sqs:SendMessage", "*"))
    reader = resources["Reader"]["Properties"]
    reader["ManagedPolicyArns"] = [{"Ref": "Shared"}]
    reader["AssumeRolePolicyDocument"] = _trust("sagemaker.amazonaws.com")
    del reader["Policies"], reader["PermissionsBoundary"]
    resources["Shared"]["Properties"]["PolicyDocument"] = _document(("dynamodb:PutItem", "*"))
    resources["Shared"]["Properties"]["Roles"] = [{"Ref": "Reader"}]

    # When it is deployed over the first
    cloud.deploy(one_stack_assembly(tmp_path / "v2.out", STACK, changed))

    # Then each role has exactly what the new template grants
    store = PolicyStore(cloud.account_id, cloud.region)
    assert sorted(_actions(store, "reader").values(), key=sorted) == [
        {"dynamodb:PutItem"},
        {"sqs:SendMessage"},
    ]
    assert list(_actions(store, "writer").values()) == [{"sqs:SendMessage"}]
    role = cloud.client("iam").get_role(RoleName="reader")["Role"]
    assert "PermissionsBoundary" not in role
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert trusted == "sagemaker.amazonaws.com"


def test_a_managed_policy_arn_that_aws_does_not_have_fails_the_deploy(tmp_path: Path) -> None:
    # Given a role naming an AWS-managed policy that does not exist
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["Reader"]["Properties"]["ManagedPolicyArns"] = [
        "arn:aws:iam::aws:policy/NoSuchPolicy"
    ]

    # When it is deployed, Then the deploy says which ARN is wrong
    with LocalCloud(work_dir=tmp_path / "work") as cloud, pytest.raises(KeyError, match="NoSuchPolicy"):
        cloud.deploy(one_stack_assembly(tmp_path / "bad.out", STACK, template))
