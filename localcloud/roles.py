"""Whether a service may act for a resource, decided by ``localcloud.iam``: as a role, or by its policy.

AWS checks before a service acts: EventBridge starts a state machine with the target's role only if
the role trusts ``events.amazonaws.com`` (``aws:SourceArn`` being the rule) and allows
``states:StartExecution`` on the machine; it invokes a function only if the function's policy lets
``events.amazonaws.com`` in for the rule; API Gateway likewise as ``apigateway.amazonaws.com``; Lambda
writes a function's on-failure destination as the function's role; SNS encrypts as the publisher.
moto checks none of it.

Each check is decided by the local cloud's one evaluator, through an ``Enforcer``, on the policies of
moto's backends. These checks predate IAM enforcement and stay on when it is off (the failure they
catch is a delivery that fails on AWS): then a private enforcer decides them, recording nothing that
the local cloud reports. With enforcement on, the local cloud's enforcer decides, records each use for
the least-privilege report and logs each denial.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from localcloud.iam.enforcer import Enforcer
from localcloud.iam.errors import AccessDeniedError
from localcloud.iam.local_iam import LocalIam
from localcloud.patches import Patch

_DEFAULT_REGION = "us-east-1"  # of a role ARN, which names none, outside a local cloud


class _Bound:
    """The running local cloud's IAM (``patches``); None outside one (tests on plain moto)."""

    iam: LocalIam | None = None


_checkers: dict[tuple[str, str], tuple[LocalIam, Enforcer]] = {}
_lock = threading.Lock()


def patches(iam: LocalIam) -> list[Patch]:
    """Decide with ``iam`` (its sessions, and its enforcer when enforcement is on) while the cloud runs."""
    return [Patch(_Bound, "iam", iam)]


def refusal(
    role_arn: str | None,
    *,
    service: str,
    action: str,
    resource: str,
    source_arn: str | None = None,
    context: Mapping[str, str] | None = None,
) -> str | None:
    """Why ``service`` may not do ``action`` on ``resource`` as ``role_arn``; None if it may.

    Parameters
    ----------
    role_arn : str | None
        The role the service assumes (a target's ``RoleArn``, a function's execution role).
    service : str
        The service principal, such as ``events.amazonaws.com``.
    action : str
        The IAM action, such as ``states:StartExecution``.
    resource : str
        The ARN acted on.
    source_arn : str | None
        The resource the service acts for (a rule's ARN): ``aws:SourceArn`` for the trust policy.
    context : Mapping[str, str] | None
        The request's other context keys (``kms:ViaService``...).

    Returns
    -------
    str | None
        AWS's AccessDenied message (the failed ``sts:AssumeRole`` or the denied action), or None.
    """
    if not role_arn:
        return f"no role is given for {service} to {action} on {resource}"
    iam, enforcer = _deciders(role_arn)
    try:
        session = iam.sessions.assume(role_arn, service=service, session_name=service, source_arn=source_arn)
        keys = {**source_context(source_arn), **(context or {})}
        enforcer.authorize_action(session.arn, action, resource, context=keys)
    except AccessDeniedError as error:
        return error.message
    return None


def service_refusal(
    service: str,
    *,
    action: str,
    resource: str,
    source_arn: str | None,
    context: Mapping[str, str] | None = None,
) -> str | None:
    """Why the service principal itself may not do ``action`` on ``resource``; None if it may.

    Only the resource's policy can let a service principal in (a function's policy naming
    ``events.amazonaws.com``, usually for one ``aws:SourceArn``); parameters as ``refusal``'s.
    """
    _, enforcer = _deciders(resource)
    try:
        keys = {**source_context(source_arn), **(context or {})}
        enforcer.authorize_action(service, action, resource, context=keys)
    except AccessDeniedError as error:
        return error.message
    return None


def source_context(source_arn: str | None) -> dict[str, str]:
    """``aws:SourceArn`` and ``aws:SourceAccount`` of a service acting for ``source_arn`` (none if None)."""
    if source_arn is None:
        return {}
    parts = source_arn.split(":", 5)
    account = parts[4] if len(parts) > 4 else ""
    return {"aws:SourceArn": source_arn, **({"aws:SourceAccount": account} if account else {})}


def _deciders(arn: str) -> tuple[LocalIam, Enforcer]:
    iam = _Bound.iam
    if iam is not None and iam.enforcer.enabled:
        return iam, iam.enforcer
    parts = arn.split(":")
    account = iam.enforcer.account_id if iam else (parts[4] if len(parts) > 4 else "")
    region = iam.enforcer.region if iam else (parts[3] if len(parts) > 3 and parts[3] else _DEFAULT_REGION)
    with _lock:
        found = _checkers.get((account, region))
        if found is None or (iam is not None and found[0] is not iam):
            # Enforcement off: a private, always-on enforcer on the same policies (its records are
            # never reported).
            owner = iam or LocalIam.create(account_id=account, region=region, enforce=False)
            found = owner, Enforcer(owner.store, account_id=account, region=region, enabled=True)
            _checkers[(account, region)] = found
    return found


def as_list(value: Any) -> list[Any]:
    """A policy element that may be one value or a list of them, as a list (none: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
