"""An IAM policy document, parsed once into statements that can be matched against a request.

Elements and their grammar as AWS's "IAM JSON policy elements reference" describes them
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html): ``Statement``
is one object or a list; each has ``Effect``, exactly one of ``Action``/``NotAction``, one of
``Resource``/``NotResource`` (none in a trust policy, whose resource is the role), an optional
``Principal``/``NotPrincipal`` (resource-based policies) and ``Condition``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.iam.conditions import (
    Condition,
    Context,
    glob_regex,
    parse_conditions,
    substitute,
    wildcard_match,
)
from localcloud.iam.errors import PolicyError

STATEMENT_ELEMENTS = {  # what a statement may hold; anything else is malformed
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}


@dataclass(frozen=True)
class Statement:
    """One statement. ``actions``/``resources`` hold the listed patterns; ``negated_*`` says Not...."""

    sid: str | None
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]
    negated_actions: bool
    resources: tuple[str, ...] | None  # None: no Resource element (a trust policy)
    negated_resources: bool
    principals: frozenset[str] | None  # None: no Principal element (an identity policy)
    negated_principals: bool
    conditions: tuple[Condition, ...]
    label: str  # names the statement in a decision: its Sid, or its position
    _actions: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _resources: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _variable_resources: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once per statement: one alternation for the actions, one for the resources
        # without policy variables, so a request costs a regex search per element. Resources are
        # matched as whole strings: a "*" ending an ARN segment may run past its colons
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
        object.__setattr__(self, "_actions", _alternation(self.actions, ignore_case=True))
        plain = tuple(r for r in self.resources or () if "${" not in r)
        object.__setattr__(self, "_resources", _alternation(plain, ignore_case=False))
        object.__setattr__(self, "_variable_resources", tuple(r for r in self.resources or () if "${" in r))

    def matches(self, action: str, resource: str, context: Context) -> bool:
        """Whether this statement applies to ``action`` on ``resource`` (principals aside)."""
        # NotAction/NotResource match everything except what they list
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html).
        listed = self._actions.fullmatch(action) is not None
        if listed == self.negated_actions:
            return False
        if self.resources is not None:
            found = self._resources.fullmatch(resource) is not None or any(
                _resource_matches(r, resource, context) for r in self._variable_resources
            )
            if found == self.negated_resources:
                return False
        return all(c.holds(context) for c in self.conditions)

    def names(self, principal: str, account_root: str) -> str | None:
        """How this statement's principals name ``principal``: "direct", "account" or None.

        "account" means the account's root (``arn:aws:iam::<account>:root`` or the bare account id),
        which delegates the decision to the account's identity policies.
        """
        if self.principals is None:
            return None
        if self.negated_principals:
            return None if principal in self.principals or account_root in self.principals else "direct"
        if "*" in self.principals or principal in self.principals:
            return "direct"
        return "account" if account_root in self.principals else None


def _alternation(patterns: tuple[str, ...], *, ignore_case: bool) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile(
        "|".join(f"(?:{glob_regex(p)})" for p in patterns), re.DOTALL | (re.I if ignore_case else 0)
    )


def _resource_matches(pattern: str, resource: str, context: Context) -> bool:
    expanded = substitute(pattern, context)
    return expanded is not None and wildcard_match(expanded, resource)


@dataclass(frozen=True)
class Policy:
    """A parsed policy document. ``name`` says which policy it is in a decision."""

    name: str
    statements: tuple[Statement, ...]


def _strings(statement: Mapping[str, Any], element: str) -> tuple[str, ...]:
    value = statement[element]
    listed = value if isinstance(value, list) else [value]
    if not listed or not all(isinstance(v, str) and v for v in listed):
        raise PolicyError(f"{element} must be a non-empty string or list of strings, not {value!r}")
    return tuple(listed)


def _one_of(
    statement: Mapping[str, Any], element: str, *, required: bool
) -> tuple[tuple[str, ...] | None, bool]:
    negated = f"Not{element}"
    if element in statement and negated in statement:
        raise PolicyError(f"a statement has both {element} and {negated}")
    if element in statement:
        return _strings(statement, element), False
    if negated in statement:
        return _strings(statement, negated), True
    if required:
        raise PolicyError(f"a statement has neither {element} nor {negated}")
    return None, False


def _principals(value: object) -> frozenset[str]:
    if value == "*":
        return frozenset({"*"})
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f'Principal must be "*" or an object such as {{"AWS": ...}}, not {value!r}')
    names: set[str] = set()
    for kind, listed in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise PolicyError(f"unknown principal type {kind!r}")
        for name in listed if isinstance(listed, list) else [listed]:
            if not isinstance(name, str):
                raise PolicyError(f"principal {name!r} is not a string")
            # A bare account id means the account's root user.
            names.add(f"arn:aws:iam::{name}:root" if kind == "AWS" and name.isdigit() else name)
    return frozenset(names)


def _statement(raw: object, position: int, *, resource_required: bool) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {position} must be an object, not {raw!r}")
    unknown = set(raw) - STATEMENT_ELEMENTS
    if unknown:
        raise PolicyError(f"statement {position} has unknown elements {sorted(unknown)}")
    if raw.get("Effect") not in ("Allow", "Deny"):
        raise PolicyError(
            f'statement {position}: Effect must be "Allow" or "Deny", not {raw.get("Effect")!r}'
        )
    actions, negated_actions = _one_of(raw, "Action", required=True)
    resources, negated_resources = _one_of(raw, "Resource", required=resource_required)
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(f"statement {position} has both Principal and NotPrincipal")
    principal = raw.get("Principal", raw.get("NotPrincipal"))
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"statement {position}: Sid must be a string, not {sid!r}")
    return Statement(
        sid=sid,
        effect=raw["Effect"],
        actions=actions or (),
        negated_actions=negated_actions,
        resources=resources,
        negated_resources=negated_resources,
        principals=None if principal is None else _principals(principal),
        negated_principals="NotPrincipal" in raw,
        conditions=parse_conditions(raw.get("Condition")),
        label=sid or f"statement {position}",
    )


def parse_policy(document: str | Mapping[str, Any], *, name: str, resource_required: bool = True) -> Policy:
    """A policy document (JSON text or its parsed form) as a ``Policy``; PolicyError if malformed.

    Parameters
    ----------
    document : str | Mapping[str, Any]
        The document, as a template or an API holds it.
    name : str
        What a decision calls this policy: a policy ARN, "the bucket policy of x", ...
    resource_required : bool
        False for a role's trust policy, whose statements name no resource.
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"{name}: not JSON ({error})") from None
    if not isinstance(document, Mapping) or "Statement" not in document:
        raise PolicyError(f"{name}: a policy must be an object with a Statement")
    if document.get("Version", "2012-10-17") not in ("2012-10-17", "2008-10-17"):
        raise PolicyError(f"{name}: unknown Version {document.get('Version')!r}")
    raw = document["Statement"]
    listed = raw if isinstance(raw, list) else [raw]
    try:
        statements = tuple(
            _statement(s, i, resource_required=resource_required) for i, s in enumerate(listed)
        )
    except PolicyError as error:
        raise PolicyError(f"{name}: {error}") from None
    return Policy(name=name, statements=statements)
