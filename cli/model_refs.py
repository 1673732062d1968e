"""How ``mlops models`` names a version (``<dataset>/<n>``, ``<dataset>:<n>`` or its ARN) and takes a reason.

Shared by the commands that act on one version: ``show``, ``approve``, ``reject``, ``rollback``.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from adapters.registry import SageMakerModelRegistry
from cli.common import fail
from cli.target import Platform
from domain.names import dataset_of_group, model_package_group
from domain.state_limits import MAX_TEXT
from domain.training.registration import ModelVersion

__all__ = [
    "PREFIX_OUTPUT",
    "ReasonOption",
    "VersionArgument",
    "checked_reason",
    "find_version",
    "version_reference",
]

PREFIX_OUTPUT = "ModelPackageGroupPrefix"
_REFERENCE = re.compile(r"(?P<dataset>[A-Za-z0-9][A-Za-z0-9-]*)[/:](?P<number>[0-9]+)")

VersionArgument = Annotated[
    str, typer.Argument(help="<dataset>/<n>, <dataset>:<n> or a model package ARN.", show_default=False)
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (required: kept with the version).", show_default=False)
]


def find_version(target: Platform, reference: str) -> ModelVersion:
    """A version by ARN, ``<dataset>/<n>`` or ``<dataset>:<n>``."""
    registry = SageMakerModelRegistry()
    if reference.startswith("arn:"):
        return registry.describe(reference)
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        fail(f"{reference!r} is not <dataset>/<n>, <dataset>:<n> or a model package ARN")
    group = model_package_group(target.output(PREFIX_OUTPUT), match["dataset"])
    return registry.version(group, int(match["number"]))


def checked_reason(reason: str) -> str:
    """``--reason`` as given, once it says something in at most ``MAX_TEXT`` characters (else exit 2)."""
    if not reason.strip():
        fail("--reason must say why")
    if len(reason.strip()) > MAX_TEXT:
        # SageMaker keeps 1,024 characters of ApprovalDescription, and a rollback adds its own words.
        fail(
            f"--reason is {len(reason.strip()):,} characters; say why in at most {MAX_TEXT:,} "
            "(it is kept with the version)"
        )
    return reason


def version_reference(version: ModelVersion, prefix: str) -> str:
    """``<dataset>/<n>``: how the CLI names a version (its group's name when no dataset's prefix fits)."""
    dataset = dataset_of_group(prefix, version.group) or version.group
    return f"{dataset}/{version.version}"
