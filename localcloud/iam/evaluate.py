"""Whether one account's policies allow a request, as AWS decides it.

AWS's "Policy evaluation logic" for a request within one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html; no
organization SCPs, permission boundaries or session policies here): an explicit ``Deny`` in any
applicable policy wins; otherwise an ``Allow`` in an identity-based policy, or in a resource-based
policy that names the principal itself, is enough. A resource-based policy that names the account
(``arn:aws:iam::<account>:root``) only delegates to the identity policies. Two resource policies
must allow in any case ("the resource-based policy must allow"): a KMS key policy
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html: "Unless the key policy
explicitly allows it, you cannot use IAM policies to allow access to a KMS key") and a role's trust
policy on ``sts:AssumeRole`` (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html).
Denials are worded as AWS's AccessDenied messages
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from localcloud.iam.conditions import Context
from localcloud.iam.policy import Policy

Outcome = Literal["allowed", "explicit_deny", "implicit_deny"]
PolicyKind = Literal["identity-based", "resource-based"]


@dataclass(frozen=True)
class Request:
    """One call: who, what, on which resource, and the request's context keys.

    ``principal`` is an ARN (a role, a role session ``arn:aws:sts::<account>:assumed-role/<role>/<session>``,
    a user) or a service principal (``events.amazonaws.com``). Context keys are case-insensitive; a
    key's value is a string or, for a multivalued key, a list.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    def keys(self) -> Context:
        """The context keys, lower-cased, each as a tuple of values."""
        items = dict(self.context).items()
        return {k.lower(): (v,) if isinstance(v, str) else tuple(v) for k, v in items}


@dataclass(frozen=True)
class ResourcePolicy:
    """A resource's policy and whether AWS requires it to allow (key policies, trust policies)."""

    policy: Policy
    required: bool = False
    kind: str = "resource policy"  # how the reason names it: "key policy", "trust policy"...


@dataclass(frozen=True)
class Decision:
    """AWS's answer to a request.

    ``policy_kind`` and ``policy``/``statement`` say which policy decided a denial: the one with the
    explicit ``Deny``, or the kind whose ``Allow`` is missing. ``reason`` says it in a few words;
    ``message`` is AWS's AccessDenied text.
    """

    outcome: Outcome
    request: Request
    policy_kind: PolicyKind | None = None
    policy: str | None = None
    statement: str | None = None
    reason: str = ""

    @property
    def allowed(self) -> bool:
        """True if the request is allowed."""
        return self.outcome == "allowed"

    @property
    def message(self) -> str:
        """AWS's AccessDenied message for this denial ("" when allowed)."""
        if self.allowed:
            return ""
        request = self.request
        head = (
            f"User: {request.principal} is not authorized to perform: {request.action}"
            f" on resource: {request.resource}"
        )
        article = "an" if self.policy_kind == "identity-based" else "a"
        if self.outcome == "explicit_deny":
            return f"{head} with an explicit deny in {article} {self.policy_kind} policy"
        return f"{head} because no {self.policy_kind} policy allows the {request.action} action"


def caller(principal: str) -> tuple[str, str | None]:
    """The identity a policy names for ``principal``, and its account's root ARN (None for a service).

    A role session (``arn:aws:sts::1:assumed-role/r/s``) acts as its role (``arn:aws:iam::1:role/r``):
    policies name roles, not their sessions.
    """
    parts = principal.split(":", 5)
    if len(parts) < 6 or not parts[4]:
        return principal, None
    account, resource = parts[4], parts[5]
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        principal = f"arn:{parts[1]}:iam::{account}:role/{resource.split('/')[1]}"
    return principal, f"arn:{parts[1]}:iam::{account}:root"


def _first(
    policies: Sequence[Policy], request: Request, context: Context
) -> tuple[Decision | None, Decision | None]:
    """The first explicit deny among ``policies``' statements, and their first allow (one pass)."""
    allowed: Decision | None = None
    for policy in policies:
        for statement in policy.statements:
            if (allowed is not None and statement.effect == "Allow") or not statement.matches(
                request.action, request.resource, context
            ):
                continue
            decision = Decision(
                "explicit_deny" if statement.effect == "Deny" else "allowed",
                request,
                "identity-based",
                policy.name,
                statement.label,
                "explicit deny" if statement.effect == "Deny" else "",
            )
            if statement.effect == "Deny":
                return decision, allowed
            allowed = decision
    return None, allowed


def evaluate(
    request: Request, identity: Sequence[Policy], resource: ResourcePolicy | None = None
) -> Decision:
    """AWS's decision on ``request`` given the principal's identity policies and the resource's policy.

    Parameters
    ----------
    request : Request
        The call.
    identity : Sequence[Policy]
        The principal's identity-based policies (inline and managed).
    resource : ResourcePolicy | None
        The resource's policy, if it has one (a bucket, key, queue, topic, function or trust policy).
    """
    context = request.keys()
    denial, identity_allow = _first(identity, request, context)
    if denial is not None:
        return denial
    identity_name, root = caller(request.principal)
    grant: str | None = None  # how the resource policy allows: "direct", "account" or None
    granting: str | None = None  # the statement that allows the principal directly
    if resource is not None:
        for statement in resource.policy.statements:
            # A statement applies when its principals name the caller or its account (a Deny naming
            # the account denies everyone in it; an Allow naming it only delegates to identity policies).
            named = statement.names(identity_name, root or "")
            if named is None or not statement.matches(request.action, request.resource, context):
                continue
            if statement.effect == "Deny":
                return Decision(
                    "explicit_deny",
                    request,
                    "resource-based",
                    resource.policy.name,
                    statement.label,
                    "explicit deny",
                )
            if named == "direct" and grant != "direct":
                grant, granting = "direct", statement.label
            grant = grant or named
    if resource is not None and grant == "direct":
        return Decision("allowed", request, "resource-based", resource.policy.name, granting)
    if resource is not None and resource.required and grant is None:
        reason = f"the {resource.kind} does not allow"
        return Decision("implicit_deny", request, "resource-based", resource.policy.name, reason=reason)
    if identity_allow is not None:
        return identity_allow
    return Decision("implicit_deny", request, "identity-based", reason="no identity-based policy allows")
