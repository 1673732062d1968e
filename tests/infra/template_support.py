"""Reading the synthesized app: its stacks, the app as one template, and resources found by what they are.

Resources are found by their type and properties (the function whose service name is its handler's
folder, the state machine that starts at a given state, the role a service assumes), never by fragments
of logical IDs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import CloudAssembly

PROJECT = "mlops"
FOUNDATION = f"{PROJECT}-foundation"
VALIDATION = f"{PROJECT}-validation"
TRAINING = f"{PROJECT}-training"
SERVING = f"{PROJECT}-serving"
MONITORING = f"{PROJECT}-monitoring"
STATELESS = (VALIDATION, TRAINING, SERVING, MONITORING)


def linked(assembly: CloudAssembly) -> dict[str, Any]:
    """The app's stacks as one template, as CloudFormation links them once deployed.

    Each logical ID becomes ``<stack>/<id>`` (references rewritten with it), and each ``Fn::ImportValue``
    becomes the value of the output exported under that name: a grant on an imported resource then
    refers to the resource itself, as it does within one stack.
    """
    renamed = {stack: _prefixed(stack, template) for stack, template in assembly.templates.items()}
    exports = {
        output["Export"]["Name"]: output["Value"]
        for template in renamed.values()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }
    app: dict[str, Any] = {"Resources": {}, "Outputs": {}, "Mappings": {}}
    for template in renamed.values():
        resolved = _imports_resolved(template, exports)
        for section, merged in app.items():
            merged.update(resolved.get(section, {}))
    return app


def _prefixed(stack: str, template: dict[str, Any]) -> dict[str, Any]:
    ids = set(template["Resources"]) | set(template.get("Mappings", {}))

    def rename(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in ids:
                return {"Ref": f"{stack}/{node['Ref']}"}
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in ids:
                return {"Fn::GetAtt": [f"{stack}/{node['Fn::GetAtt'][0]}", *node["Fn::GetAtt"][1:]]}
            if set(node) == {"Fn::FindInMap"} and node["Fn::FindInMap"][0] in ids:
                return {"Fn::FindInMap": [f"{stack}/{node['Fn::FindInMap'][0]}", *node["Fn::FindInMap"][1:]]}
            return {k: rename(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [rename(item, key) for item in node]
        if key == "DependsOn" and isinstance(node, str):
            return f"{stack}/{node}"
        return node

    renamed: dict[str, Any] = rename(template)
    for section in ("Resources", "Mappings"):
        renamed[section] = {f"{stack}/{k}": v for k, v in renamed.get(section, {}).items()}
    return renamed


def _imports_resolved(node: Any, exports: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            return exports[node["Fn::ImportValue"]]
        return {k: _imports_resolved(v, exports) for k, v in node.items()}
    if isinstance(node, list):
        return [_imports_resolved(item, exports) for item in node]
    return node


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of type ``kind``, by logical ID."""
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def state_machine_definition(template: dict[str, Any], start_at: str) -> dict[str, Any]:
    """The definition of the one state machine that starts at ``start_at``, tokens as ``TOKEN``."""
    definitions = []
    for machine in of_type(template, "AWS::StepFunctions::StateMachine").values():
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        # Tokens (ARNs, names) are joined into JSON strings; a placeholder leaves valid JSON to inspect.
        definition = json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))
        if definition["StartAt"] == start_at:
            definitions.append(definition)
    (definition,) = definitions
    return definition  # type: ignore[no-any-return]


def function_named(template: dict[str, Any], folder: str) -> str:
    """The logical ID of the one function built from ``lambdas/<folder>`` (its Powertools service name)."""
    (name,) = [
        name
        for name, f in of_type(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
        == folder.replace("_", "-")
    ]
    return name


def role_assumed_by(template: dict[str, Any], service: str) -> str:
    """The logical ID of the one role that ``service`` (``sagemaker.amazonaws.com``) assumes."""
    (name,) = [
        name
        for name, role in of_type(template, "AWS::IAM::Role").items()
        if service in json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
    ]
    return name


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The statements of the policies attached to the role ``role`` (a logical ID)."""
    return [
        statement
        for policy in of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def function_statements(template: dict[str, Any], folder: str) -> list[dict[str, Any]]:
    """The statements of the policies of the role of the function built from ``lambdas/<folder>``."""
    properties = template["Resources"][function_named(template, folder)]["Properties"]
    return role_statements(template, properties["Role"]["Fn::GetAtt"][0])


def actions(statement: dict[str, Any]) -> list[str]:
    """A statement's actions as a list."""
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def asset_dir(assembly: Path, s3_key: str) -> Path:
    """The folder of the file asset that deploys to ``s3_key`` (per the asset manifests of the app)."""
    for manifest_file in assembly.glob("*.assets.json"):
        manifest = json.loads(manifest_file.read_text())
        for asset in manifest["files"].values():
            if any(destination["objectKey"] == s3_key for destination in asset["destinations"].values()):
                return assembly / str(asset["source"]["path"])
    raise AssertionError(f"no asset deploys to {s3_key}")
