"""Bucket policies that deny plain HTTP, on an endpoint that is plain HTTP on loopback.

CDK's ``enforce_ssl=True`` adds a statement denying every request where ``aws:SecureTransport`` is
false. moto evaluates bucket policies on object requests but not their ``Bool`` conditions: it treats
the condition as met, so the statement denies every request and the bucket becomes unusable. The
local cloud's loopback endpoint stands in for AWS's HTTPS endpoint (clients reach AWS over TLS), so
such statements are left out when moto evaluates the policy. The stored policy is untouched, and
``GetBucketPolicy`` returns it exactly as deployed.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket

from localcloud.patches import Patch


def patches() -> list[Patch]:
    """The replacement of ``FakeBucket.get_permission``."""

    def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(bucket.policy.decode())
        statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
        kept = [s for s in statements if not denies_plain_http(s)]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(dict(policy, Statement=kept))).is_action_permitted(action, resource)

    return [Patch(FakeBucket, "get_permission", get_permission)]


def denies_plain_http(statement: dict[str, Any]) -> bool:
    """True for a ``Deny`` whose only condition is ``Bool: {aws:SecureTransport: false}``."""
    condition = statement.get("Condition") or {}
    secure = {k.lower(): v for k, v in (condition.get("Bool") or {}).items()}.get("aws:securetransport")
    return (
        statement.get("Effect") == "Deny" and list(condition) == ["Bool"] and str(secure).lower() == "false"
    )
