"""Whether an IAM role lets a service act on a resource: what AWS checks before a service uses a role.

EventBridge starts a state machine with the target's role: on AWS the rule then fails to deliver
unless the role trusts ``events.amazonaws.com`` and its policies allow ``states:StartExecution`` on
the machine (CDK's ``SfnStateMachine`` target creates exactly that). moto checks nothing; checking it
locally catches a missing grant before it fails on AWS. Policies are evaluated with moto's own
evaluator (actions, resources, explicit denies; no conditions).
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends


def refusal(role_arn: str | None, *, service: str, action: str, resource: str) -> str | None:
    """Why ``service`` may not do ``action`` on ``resource`` with ``role_arn``; None if it may.

    Parameters
    ----------
    role_arn : str | None
        The role the service would assume (a target's ``RoleArn``).
    service : str
        The service principal, such as ``events.amazonaws.com``.
    action : str
        The IAM action, such as ``states:StartExecution``.
    resource : str
        The ARN acted on.
    """
    if not role_arn:
        return f"no role is given for {service} to {action} on {resource}"
    parts = role_arn.split(":")
    if len(parts) < 6:
        return f"{role_arn} is not a role ARN"
    backend = iam_backends[parts[4]][parts[1]]
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:  # moto's IAM raises its own not-found type
        return f"role {role_arn} does not exist"
    if not _trusts(role.assume_role_policy_document, service):
        return f"role {role_arn} does not trust {service}"
    documents: list[Any] = [
        backend.get_role_policy(role.name, name)[1] for name in backend.list_role_policies(role.name)
    ]
    documents += backend.list_attached_role_policies(role.name)[0]
    results = [IAMPolicy(document).is_action_permitted(action, resource) for document in documents]
    if PermissionResult.DENIED in results:
        return f"a policy of role {role_arn} denies {action} on {resource}"
    if PermissionResult.PERMITTED not in results:
        return f"no policy of role {role_arn} allows {action} on {resource}"
    return None


def _trusts(document: Any, service: str) -> bool:
    policy = json.loads(document) if isinstance(document, str) else document or {}
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = as_list(statement.get("Action"))
        if statement.get("Effect") != "Allow" or not {"sts:AssumeRole", "sts:*", "*"} & set(actions):
            continue
        principal = statement.get("Principal") or {}
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else [principal]
        if service in services or "*" in services:
            return True
    return False


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list (none: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
