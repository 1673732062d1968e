"""CloudFormation's rules between stacks: exports and their imports, and termination protection.

moto resolves ``Fn::ImportValue`` against the exports of the stacks it holds, but nothing more:

* a stack that imports an export that does not exist is left half created (``CREATE_IN_PROGRESS``, the
  resources before the import created) and the request answers an error;
* an update does not refresh the region's exports (an importer keeps reading the old value; a dropped
  export stays listed), and nothing stops an update or a deletion that removes an export in use;
* ``EnableTerminationProtection`` is stored and ignored (``DeleteStack`` deletes), and there is no
  ``UpdateTerminationProtection`` nor ``ListImports``.

Here, as on AWS: an import of a missing export fails the stack ("No export named X found.", the stack
rolled back with nothing created, or an update rolled back to the stack as it was); an update that
drops or changes an export in use rolls back ("Export X cannot be deleted as it is in use by Y", "...
cannot be updated ..."); a deletion of such a stack is refused with that reason as a stack event (the
stack stays as it was, as CloudFormation does); ``DeleteStack`` on a protected stack is a
``ValidationError``; ``UpdateTerminationProtection`` and ``ListImports`` answer as on AWS.

Imports are read from the template: ``Fn::ImportValue`` of a literal name (what CDK writes). An import
whose name is computed (``Fn::Sub`` ...) is resolved by moto but not tracked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_stack_id
from moto.core.responses import ActionResult

from localcloud.patches import Patch

_NOT_LIVE = {"DELETE_COMPLETE", "ROLLBACK_COMPLETE"}


def imported_names(template: Any) -> set[str]:
    """The export names a template imports with ``Fn::ImportValue`` of a literal name."""
    found: set[str] = set()
    for node in _walk(template):
        name = node.get("Fn::ImportValue")
        if isinstance(name, str):
            found.add(name)
    return found


def importers(backend: CloudFormationBackend, export_name: str, *, besides: str = "") -> list[str]:
    """The names of the live stacks (other than the stack id ``besides``) importing ``export_name``."""
    return sorted(
        stack.name
        for stack in backend.stacks.values()
        if stack.stack_id != besides
        and stack.status not in _NOT_LIVE
        and export_name in imported_names(stack.template_dict)
    )


def patches() -> list[Patch]:
    """The backend's and the API's replacements."""
    create_stack = CloudFormationBackend.create_stack
    update_stack = CloudFormationBackend.update_stack
    delete_stack = CloudFormationBackend.delete_stack

    def create(backend: CloudFormationBackend, name: str, template: str, *args: Any, **kwargs: Any) -> Stack:
        missing = sorted(imported_names(_parsed(template)) - set(backend.exports))
        if not missing or any(s.name == name for s in backend.stacks.values()):
            return create_stack(backend, name, template, *args, **kwargs)
        return _rolled_back(backend, name, template, kwargs, f"No export named {missing[0]} found.")

    def update(backend: CloudFormationBackend, name: str, template: str, *args: Any, **kwargs: Any) -> Stack:
        stack = backend.get_stack(name)
        reason = _update_refusal(backend, stack, _parsed(template))
        if reason:
            # CloudFormation rolls the update back, the reason on the rollback's event; the stack stays.
            stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
            stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            return stack
        updated = update_stack(backend, name, template, *args, **kwargs)
        for export in [e for e in backend.exports.values() if e.exporting_stack_id == updated.stack_id]:
            del backend.exports[export.name]
        backend.exports.update({export.name: export for export in updated.exports})
        return updated

    def delete(backend: CloudFormationBackend, name_or_stack_id: str) -> None:
        stack = next((s for s in backend.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None)
        if stack is None:
            return delete_stack(backend, name_or_stack_id)
        # Whatever the stack's status: a protected stack whose creation failed stays until it is lifted.
        if stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        if stack.status == "ROLLBACK_COMPLETE":
            # Nothing was created and nothing exported (moto's own deletion would evaluate the outputs).
            del backend.stacks[stack.stack_id]
            stack._add_stack_event("DELETE_COMPLETE")
            stack.status = "DELETE_COMPLETE"
            backend.deleted_stacks[stack.stack_id] = stack
            return None
        for export in stack.exports:
            users = importers(backend, export.name, besides=stack.stack_id)
            if users:
                # AWS accepts the request and refuses the deletion: an event, the stack unchanged.
                reason = f"Export {export.name} cannot be deleted as it is in use by {', '.join(users)}"
                stack._add_stack_event(stack.status, resource_status_reason=reason)
                return None
        return delete_stack(backend, name_or_stack_id)

    def update_termination_protection(response: CloudFormationResponse) -> ActionResult:
        stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
        stack.enable_termination_protection = response._get_bool_param("EnableTerminationProtection", False)
        return ActionResult({"StackId": stack.stack_id})

    def list_imports(response: CloudFormationResponse) -> ActionResult:
        export_name = response._get_param("ExportName")
        users = importers(response.cloudformation_backend, export_name)
        if not users:
            raise ValidationError(message=f"Export '{export_name}' is not imported by any stack.")
        return ActionResult({"Imports": users})

    return [
        Patch(CloudFormationBackend, "create_stack", create),
        Patch(CloudFormationBackend, "update_stack", update),
        Patch(CloudFormationBackend, "delete_stack", delete),
        Patch(CloudFormationResponse, "update_termination_protection", update_termination_protection),
        Patch(CloudFormationResponse, "list_imports", list_imports),
    ]


def _update_refusal(backend: CloudFormationBackend, stack: Stack, template: Any) -> str | None:
    missing = sorted(imported_names(template) - set(backend.exports))
    if missing:
        return f"No export named {missing[0]} found."
    kept = _literal_exports(template)
    for export in stack.exports:
        users = importers(backend, export.name, besides=stack.stack_id)
        if not users:
            continue
        if export.name not in kept:
            return f"Export {export.name} cannot be deleted as it is in use by {', '.join(users)}"
        if kept[export.name] is not None and kept[export.name] != export.value:
            return f"Export {export.name} cannot be updated as it is in use by {', '.join(users)}"
    return None


def _literal_exports(template: Any) -> dict[str, Any]:
    """Export name -> its value in ``template`` (None when the value is not a literal, unknown until built).

    Only a value that is a plain string can be compared before the update; CDK's exports are references
    (``Ref``, ``Fn::GetAtt``) to resources whose identity an update normally keeps.
    """
    exports: dict[str, Any] = {}
    for output in (template.get("Outputs") or {}).values():
        name = (output.get("Export") or {}).get("Name")
        if isinstance(name, str):
            value = output.get("Value")
            exports[name] = value if isinstance(value, str) else None
    return exports


def _rolled_back(
    backend: CloudFormationBackend, name: str, template: str, kwargs: dict[str, Any], reason: str
) -> Stack:
    """A stack whose creation failed before any resource was made, as CloudFormation leaves it.

    moto creates a stack's resources when anything lists them, and evaluates its outputs when it is
    described: the stack is built without either, and keeps the template it was given.
    """
    empty = {k: v for k, v in _parsed(template).items() if k not in ("Resources", "Outputs")}
    stack = Stack(  # type: ignore[abstract]  # moto's backend builds its stacks the same way
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template=json.dumps({**empty, "Resources": {}}),
        parameters=kwargs.get("parameters") or {},
        account_id=backend.account_id,
        region_name=backend.region_name,
        tags=kwargs.get("tags"),
        cross_stack_resources=backend.exports,
        enable_termination_protection=kwargs.get("enable_termination_protection"),
    )
    stack.template = template
    backend.stacks[stack.stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack._add_stack_event("CREATE_FAILED", resource_status_reason=f"{reason} Rollback requested by user.")
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    stack._add_stack_event("ROLLBACK_COMPLETE")
    stack.status = "ROLLBACK_COMPLETE"
    return stack


def _parsed(template: str) -> Any:
    try:
        return json.loads(template)
    except ValueError:  # YAML: moto resolves its imports; they are not checked here
        return {}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
