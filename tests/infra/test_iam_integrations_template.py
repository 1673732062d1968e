"""The synthesized state machines' task states use only the service integrations the IAM table maps.

The source scan of the integrations (tests/unit/test_iam_actions_scan.py) held to the templates.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud.iam.actions import INTEGRATIONS
from tests.conftest import CloudAssembly
from tests.unit.test_iam_actions_scan import _sources, integrations_in


def _definition(template: dict[str, Any], definition: Any) -> dict[str, Any]:
    """A state machine's definition, its tokens read as text (a function's ``Fn::GetAtt`` as its ARN)."""
    if isinstance(definition, str):
        return dict(json.loads(definition))
    resources = template["Resources"]

    def token(part: Any) -> str:
        if isinstance(part, str):
            return part
        if part == {"Ref": "AWS::Partition"}:
            return "aws"
        logical_id = part.get("Fn::GetAtt", [None])[0]
        if resources.get(logical_id, {}).get("Type") == "AWS::Lambda::Function":
            return f"arn:aws:lambda:region:account:function:{logical_id}"
        return "token"

    separator, parts = definition["Fn::Join"]
    return dict(json.loads(separator.join(map(token, parts))))


def _task_integrations(states: dict[str, Any]) -> set[str]:
    found = set()
    for state in states.values():
        resource = state.get("Resource", "") if state.get("Type") == "Task" else ""
        if resource.startswith("arn:aws:states:::"):
            found.add(resource.removeprefix("arn:aws:states:::"))
        elif resource:
            # A function's ARN as the Resource (LambdaInvoke's payload_response_only) is lambda:invoke.
            assert ":function:" in resource, resource
            found.add("lambda:invoke")
        for nested in [*state.get("Branches", []), state.get("ItemProcessor") or state.get("Iterator") or {}]:
            found |= _task_integrations(nested.get("States", {}))
    return found


@pytest.mark.slow
def test_the_synthesized_state_machines_use_only_mapped_integrations(cloud_assembly: CloudAssembly) -> None:
    # The source scan above, checked against the task states of the templates' state machines.
    used: set[str] = set()
    for template in cloud_assembly.templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::StepFunctions::StateMachine":
                definition = _definition(template, resource["Properties"]["DefinitionString"])
                used |= _task_integrations(definition["States"])
    source = {name for text in _sources("stacks").values() for name in integrations_in(text)}
    assert used == source
    assert used <= set(INTEGRATIONS)
