"""Reading a synthesized template: state machine definitions and the policy statements of a role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def state_machine_definition(template: dict[str, Any], fragment: str) -> dict[str, Any]:
    """The definition of the state machine whose logical id contains ``fragment``, tokens as ``TOKEN``."""
    (machine,) = [
        r
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and fragment in name
    ]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    # Tokens (ARNs, names) are joined into JSON strings; a placeholder leaves valid JSON to inspect.
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))  # type: ignore[no-any-return]


def policy_statements(template: dict[str, Any], role_fragment: str) -> list[dict[str, Any]]:
    """The statements of the policies of the one role whose logical id contains ``role_fragment``."""
    roles = [
        name
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and role_fragment in name
    ]
    assert len(roles) == 1, roles
    return [
        statement
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": roles[0]} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    """A statement's actions as a list."""
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def asset_dir(assembly: Path, s3_key: str, stack: str = "mlops-data") -> Path:
    """The folder of the file asset that deploys to ``s3_key`` (per the stack's asset manifest)."""
    manifest = json.loads((assembly / f"{stack}.assets.json").read_text())
    for asset in manifest["files"].values():
        if any(destination["objectKey"] == s3_key for destination in asset["destinations"].values()):
            return assembly / str(asset["source"]["path"])
    raise AssertionError(f"no asset deploys to {s3_key}")
