"""checkov's skips: on one resource each, with a reason; and no skip of what the platform can fix.

checkov itself runs in ``make lint`` (its own virtualenv); these tests hold the skips that it honours.
"""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from stacks.constructs.scanners import MIN_REASON_WORDS, justify, skips
from tests.conftest import CloudAssembly
from tests.infra.template_support import linked

pytestmark = pytest.mark.slow

CHECK_ID = re.compile(r"CKV2?_AWS_\d+")


@pytest.fixture(scope="module")
def templates(cloud_assembly: CloudAssembly, serverless_assembly: CloudAssembly) -> dict[str, Any]:
    """Every template of the app as configured, and of the app with a serverless dataset (its API)."""
    return {
        **cloud_assembly.templates,
        **{f"{name} (serverless)": template for name, template in serverless_assembly.templates.items()},
    }


@pytest.fixture(scope="module")
def apps(cloud_assembly: CloudAssembly, serverless_assembly: CloudAssembly) -> dict[str, Any]:
    """The app as configured and with a serverless dataset, each as one template (imports resolved)."""
    return {"app": linked(cloud_assembly), "app (serverless)": linked(serverless_assembly)}


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _skipped(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    return {skip["id"]: skip["comment"] for skip in skips(template).get(logical_id, [])}


def test_every_skip_is_on_one_resource_with_a_reason(templates: dict[str, Any]) -> None:
    for name, template in templates.items():
        found = skips(template)

        assert "checkov" not in template.get("Metadata", {}), f"{name}: a stack-wide skip"
        assert found, f"{name}: no skips at all (is the metadata still written?)"
        for logical_id, entries in found.items():
            ids = [entry["id"] for entry in entries]
            assert len(ids) == len(set(ids)), f"{name} {logical_id}: a check skipped twice"
            for entry in entries:
                assert set(entry) == {"id", "comment"}, f"{name} {logical_id}: {entry}"
                assert CHECK_ID.fullmatch(entry["id"]), f"{name} {logical_id}: {entry['id']}"
                words = entry["comment"].split()
                assert len(words) >= MIN_REASON_WORDS, f"{name} {logical_id} {entry['id']}: {entry}"


def test_a_function_that_a_rule_invokes_has_its_own_dead_letter_queue(apps: dict[str, Any]) -> None:
    for name, template in apps.items():
        functions = _of_type(template, "AWS::Lambda::Function")
        invoked = {
            target["Arn"]["Fn::GetAtt"][0]
            for rule in _of_type(template, "AWS::Events::Rule").values()
            for target in rule["Properties"]["Targets"]
            if target["Arn"].get("Fn::GetAtt", [None])[0] in functions
        }

        assert invoked, name
        for function in invoked:
            assert "TargetArn" in functions[function]["Properties"].get("DeadLetterConfig", {}), function
            assert "CKV_AWS_116" not in _skipped(template, function), function


def test_only_functions_invoked_synchronously_skip_the_dead_letter_check(apps: dict[str, Any]) -> None:
    for name, template in apps.items():
        functions = _of_type(template, "AWS::Lambda::Function")
        for function, resource in functions.items():
            reason = _skipped(template, function).get("CKV_AWS_116")
            if "DeadLetterConfig" in resource["Properties"]:
                assert reason is None, f"{name} {function}"
            else:
                assert reason is not None, f"{name} {function}: no queue and no reason"
                assert reason.startswith("Invoked synchronously by "), f"{name} {function}: {reason}"


def test_a_function_may_send_to_its_encrypted_dead_letter_queue(apps: dict[str, Any]) -> None:
    for template in apps.values():
        resources = template["Resources"]
        for function in _of_type(template, "AWS::Lambda::Function").values():
            queue_arn = function["Properties"].get("DeadLetterConfig", {}).get("TargetArn")
            if queue_arn is None:
                continue
            queue = resources[queue_arn["Fn::GetAtt"][0]]
            role = function["Properties"]["Role"]["Fn::GetAtt"][0]
            granted = [
                (action, statement["Resource"])
                for policy in _of_type(template, "AWS::IAM::Policy").values()
                if {"Ref": role} in policy["Properties"]["Roles"]
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
                for action in _listed(statement["Action"])
            ]

            assert ("sqs:SendMessage", queue_arn) in granted
            key = queue["Properties"]["KmsMasterKeyId"]
            assert ("kms:GenerateDataKey", key) in granted
            assert ("kms:Decrypt", key) in granted


def test_every_function_environment_is_encrypted_with_the_platform_key(apps: dict[str, Any]) -> None:
    for template in apps.values():
        (key,) = _of_type(template, "AWS::KMS::Key")
        for function in _of_type(template, "AWS::Lambda::Function").values():
            assert function["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": [key, "Arn"]}


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _queue() -> tuple[cdk.Stack, sqs.Queue]:
    stack = cdk.Stack(cdk.App(), "Skips")
    return stack, sqs.Queue(stack, "Queue", enforce_ssl=True)


def test_a_second_reason_for_a_check_replaces_the_first_and_others_stay() -> None:
    stack, queue = _queue()
    reason = "A reason long enough to be judged by a reviewer of this template."

    justify(queue, "CKV_AWS_27", "An earlier reason, long enough to be judged by a reviewer too.")
    justify(queue, "CKV2_AWS_73", reason)
    justify(queue, "CKV_AWS_27", reason)

    (entries,) = skips(Template.from_stack(stack).to_json()).values()
    assert entries == [{"id": "CKV2_AWS_73", "comment": reason}, {"id": "CKV_AWS_27", "comment": reason}]


def test_a_reason_too_short_to_judge_is_refused_where_it_is_written() -> None:
    _, queue = _queue()

    with pytest.raises(ValueError, match=r"CKV_AWS_27 on Skips/Queue needs a reason of at least 8 words"):
        justify(queue, "CKV_AWS_27", "not needed")


def test_a_construct_without_a_resource_is_refused() -> None:
    stack, _ = _queue()

    with pytest.raises(ValueError, match="Skips is not a CloudFormation resource"):
        justify(stack, "CKV_AWS_27", "A reason long enough to be judged by a reviewer of this template.")
