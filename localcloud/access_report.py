"""The least-privilege report as a document: taken from a running local cloud, saved, read back.

A document is JSON: when it was taken, since when the local cloud recorded (its start), whether it
enforced IAM (a local cloud that does not records nothing), and per role the (action, resource) pairs
its sessions were allowed and the ``Allow`` statements none of them matched (``Enforcer.usage()``; a
role never used at all is listed too), with the stack and logical id of the role when it carries
CloudFormation's tags. ``mlops local access`` prints it; the daemon and the end-to-end tests save it
when their local cloud stops, so that it can be read after. This module imports neither moto nor boto3
at import (the CLI reads saved documents with it).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud
    from localcloud.iam.policy import Policy

REPORT_FILE = "access-report.json"  # the daemon's, in its state dir
_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_STACK_TAG = "aws:cloudformation:stack-name"
_LOGICAL_ID_TAG = "aws:cloudformation:logical-id"


def tests_report_path() -> Path:
    """Where the end-to-end tests save their report: ``$MLOPS_ACCESS_REPORT``, else the project's
    ``.cache/localcloud/access-report.json``."""
    configured = os.environ.get("MLOPS_ACCESS_REPORT")
    return Path(configured) if configured else _PROJECT_ROOT / ".cache" / "localcloud" / REPORT_FILE


def take(cloud: LocalCloud) -> dict[str, Any]:
    """The report of ``cloud`` now, as a document (see the module's docstring).

    When ``cloud`` enforces, a role none of whose sessions was allowed anything is in it too, with
    nothing used and every ``Allow`` statement unused: the role itself may be what can go.
    """
    from localcloud.iam.policies import PolicyNotFoundError
    from localcloud.iam.report import build_report

    def policies_of(role: str) -> tuple[Policy, ...]:
        try:
            return cloud.iam.store.identity_policies(role)
        except PolicyNotFoundError:  # deleted since listed
            return ()

    iam = cloud.client("iam")
    report = cloud.iam.enforcer.usage()
    usages = report.to_json()["roles"]
    if cloud.iam.enforcer.enabled:
        used = {usage.role for usage in report.roles}
        listed = [r["Arn"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
        usages += build_report(sorted(set(listed) - used), set(), policies_of).to_json()["roles"]
    roles = []
    for usage in usages:
        name = usage["role"].rsplit("/", 1)[-1]
        try:
            tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}
        except iam.exceptions.NoSuchEntityException:  # deleted since (a stack torn down)
            tags = {}
        roles.append(
            {**usage, "name": name, "stack": tags.get(_STACK_TAG), "logical_id": tags.get(_LOGICAL_ID_TAG)}
        )
    return {
        "taken_at": time.time(),
        "started_at": cloud.started_at,
        "endpoint_url": cloud.endpoint_url,
        "enforced": cloud.iam.enforcer.enabled,
        "roles": roles,
    }


def merge(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """One report of two local clouds that ran the same templates (the end-to-end tests' modules).

    A role is the same role in both when its stack and logical id are (its name has a random suffix):
    its used permissions are those of either, and a statement counts as never used only if it was
    unused in both. The result spans from the earlier start to the later report.
    """
    roles: dict[tuple[str, ...], dict[str, Any]] = {}
    for document in (earlier, later):
        for role in document["roles"]:
            key = _identity(role)
            known = roles.get(key)
            if known is None:
                roles[key] = dict(role)
                continue
            used = {(u["action"], u["resource"]) for u in (*known["used"], *role["used"])}
            still_unused = {(u["policy"], u["statement"]) for u in role["unused"]}
            roles[key] = {
                **role,
                "used": [{"action": a, "resource": r} for a, r in sorted(used)],
                "unused": [u for u in known["unused"] if (u["policy"], u["statement"]) in still_unused],
            }
    starts = [d["started_at"] for d in (earlier, later) if d.get("started_at") is not None]
    return {
        **later,
        "started_at": min(starts, default=None),
        "enforced": bool(earlier.get("enforced")) and bool(later.get("enforced")),
        "roles": list(roles.values()),
    }


def _identity(role: dict[str, Any]) -> tuple[str, ...]:
    if role.get("stack") and role.get("logical_id"):
        return (role["stack"], role["logical_id"])
    return (role["name"],)


def save(document: dict[str, Any], path: Path) -> None:
    """Write ``document`` to ``path`` (its folder made if need be), never leaving half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=2), encoding="utf-8")
    partial.replace(path)


def save_into(document: dict[str, Any], path: Path, *, session: str) -> None:
    """Save ``document``, merged with the one at ``path`` if that was saved by the same ``session``.

    The end-to-end tests start a local cloud per module; their session's report is all of them.
    """
    saved = read(path)
    if saved is not None and saved.get("session") == session:
        document = merge(saved, document)
    save({**document, "session": session}, path)


def read(path: Path) -> dict[str, Any] | None:
    """The document saved at ``path``, or None if there is none (or not a report)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and "roles" in document else None


def latest_saved(paths: list[Path]) -> dict[str, Any] | None:
    """The most recently taken of the documents saved at ``paths`` (with ``saved_to``), or None."""
    found = [{**document, "saved_to": str(path)} for path in paths if (document := read(path)) is not None]
    return max(found, key=lambda d: float(d.get("taken_at") or 0), default=None)
