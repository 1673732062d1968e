"""Justified checkov skips, written into the template as the skipped resource's ``Metadata``.

``make lint`` runs checkov on the synthesized templates. A check that does not apply to a resource is
skipped on that resource only, with the reason next to it (``Metadata.checkov.skip``), so the reason
travels with the template to whoever audits it. There are no skips in a config file or on the command
line, and none stack-wide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

__all__ = ["MIN_REASON_WORDS", "justify", "skips"]

_METADATA_KEY = "checkov"
# A reason says why the check does not apply to this resource; "not needed" is not one.
MIN_REASON_WORDS = 8


def justify(construct: IConstruct, check_id: str, reason: str) -> None:
    """Skip checkov's ``check_id`` on the resource of ``construct``, with the reason it does not apply.

    Parameters
    ----------
    construct
        A CloudFormation resource, or an L2 construct whose default child is one.
    check_id
        checkov's id of the check, e.g. ``CKV_AWS_116``.
    reason
        Why the check does not apply to this very resource, in a sentence a reviewer can judge
        (at least ``MIN_REASON_WORDS`` words). A second reason for the same check replaces the first.

    Raises
    ------
    ValueError
        If the construct has no CloudFormation resource, or the reason is too short to be one.
    """
    resource = _resource(construct)
    if len(reason.split()) < MIN_REASON_WORDS:
        raise ValueError(
            f"The checkov skip of {check_id} on {construct.node.path} needs a reason of at least "
            f"{MIN_REASON_WORDS} words saying why the check does not apply there; got {reason!r}."
        )
    metadata = resource.get_metadata(_METADATA_KEY) or {}
    kept = [skip for skip in metadata.get("skip", []) if skip["id"] != check_id]
    resource.add_metadata(_METADATA_KEY, {**metadata, "skip": [*kept, {"id": check_id, "comment": reason}]})


def skips(template: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The checkov skips of a synthesized template, by logical id of the resource that carries them."""
    return {
        logical_id: resource["Metadata"][_METADATA_KEY]["skip"]
        for logical_id, resource in template.get("Resources", {}).items()
        if _METADATA_KEY in resource.get("Metadata", {})
    }


def _resource(construct: IConstruct) -> cdk.CfnResource:
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise ValueError(
            f"{construct.node.path} is not a CloudFormation resource and has none as its default child: "
            "justify a checkov skip on the resource the finding names."
        )
    return resource
