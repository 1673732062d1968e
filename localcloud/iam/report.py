"""What enforcement records: the requests allowed per role, the denials, and the report of both.

The report answers "which grants does this role use?": each (action, resource) its sessions were
allowed, and each ``Allow`` statement of its identity policies that no recorded request matched (with
the request's context, so a condition counts), a grant the platform could drop. A ``Deny`` statement
is not listed: a request it matches is denied, never recorded.

A statement that grants only actions of a service the local cloud never calls (``NOT_RUN_LOCALLY``) is
listed apart, as not exercised locally: nothing here could have used it, so "unused" would be wrong.
X-Ray is one: functions trace actively on AWS (``xray:PutTraceSegments``, ``xray:PutTelemetryRecords``),
but the local cloud runs no X-Ray daemon and the SDK sends no segments, so whether the grant is needed is
decided by AWS's documentation (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html), not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from localcloud.iam.evaluate import Decision
from localcloud.iam.policy import Policy, Statement

# Services whose actions no request in the local cloud makes (tracing is off locally).
NOT_RUN_LOCALLY = frozenset({"xray"})


@dataclass(frozen=True)
class Used:
    """One allowed request: the role (not its session), the action, the resource and the context."""

    role: str
    action: str
    resource: str
    context: tuple[tuple[str, str | tuple[str, ...]], ...]


@dataclass(frozen=True)
class Denial:
    """One denied request, with AWS's message and the policy that decided it."""

    principal: str
    action: str
    resource: str
    message: str
    policy: str | None
    statement: str | None

    @classmethod
    def of(cls, decision: Decision) -> Denial:
        """The denial a decision describes."""
        request = decision.request
        return cls(
            request.principal,
            request.action,
            request.resource,
            decision.message,
            decision.policy,
            decision.statement,
        )


@dataclass(frozen=True)
class UnusedStatement:
    """An ``Allow`` statement no recorded request matched."""

    policy: str
    statement: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The statement as the report's JSON gives it."""
        return {
            "policy": self.policy,
            "statement": self.statement,
            "actions": list(self.actions),
            "resources": list(self.resources),
        }


@dataclass(frozen=True)
class RoleUsage:
    """One role's used (action, resource) pairs, sorted, its unused statements, and those the local
    cloud cannot exercise (``NOT_RUN_LOCALLY``)."""

    role: str
    used: tuple[tuple[str, str], ...]
    unused: tuple[UnusedStatement, ...]
    not_exercised: tuple[UnusedStatement, ...] = ()


@dataclass(frozen=True)
class AccessReport:
    """Per role: what it used and what it was granted and never used."""

    roles: tuple[RoleUsage, ...]

    def role(self, arn: str) -> RoleUsage | None:
        """The usage of the role ``arn``, or None if none of its sessions was allowed anything."""
        return next((usage for usage in self.roles if usage.role == arn), None)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``mlops local access --json`` prints)."""
        return {
            "roles": [
                {
                    "role": usage.role,
                    "used": [{"action": action, "resource": resource} for action, resource in usage.used],
                    "unused": [item.to_json() for item in usage.unused],
                    "not_exercised_locally": [item.to_json() for item in usage.not_exercised],
                }
                for usage in self.roles
            ]
        }


def build_report(
    roles: Iterable[str], used: set[Used], policies_of: Callable[[str], tuple[Policy, ...]]
) -> AccessReport:
    """The report of ``roles`` from the recorded requests and each role's identity policies."""
    usages = []
    for role in roles:
        mine = [record for record in used if record.role == role]
        pairs = tuple(sorted({(record.action, record.resource) for record in mine}))
        unused = [
            (
                statement,
                UnusedStatement(policy.name, statement.label, statement.actions, statement.resources or ()),
            )
            for policy in policies_of(role)
            for statement in policy.statements
            if statement.effect == "Allow"
            and not any(
                statement.matches(record.action, record.resource, _context(record)) for record in mine
            )
        ]
        usages.append(
            RoleUsage(
                role,
                pairs,
                tuple(item for statement, item in unused if not _not_run_locally(statement)),
                tuple(item for statement, item in unused if _not_run_locally(statement)),
            )
        )
    return AccessReport(tuple(usages))


def _not_run_locally(statement: Statement) -> bool:
    services = {action.split(":", 1)[0].lower() for action in statement.actions}
    return not statement.negated_actions and bool(services) and services <= NOT_RUN_LOCALLY


def _context(record: Used) -> dict[str, tuple[str, ...]]:
    # The evaluator's Context: lower-cased keys, each a tuple of values.
    return {key: (value,) if isinstance(value, str) else value for key, value in record.context}
