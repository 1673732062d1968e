"""The wheelhouse's failures in our words: pip's, the image's conflicts, the system libraries it lacks.

:mod:`stacks.constructs.training_packages` raises them as ``PackagingError``; each message names the
requirement or the wheel, says why in the image's terms (``training/container.toml``) and ends with what to
do, pip's own last lines under it where pip failed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from stacks.constructs.elf_needs import UnmetNeed

if TYPE_CHECKING:
    from stacks.constructs.training_packages import ImageTarget

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
# pip's last lines are kept as the detail under our own explanation.
_DETAIL_LINES = 12


def unmet_message(unmet: list[UnmetNeed], record: Path) -> str:
    """Our explanation of the compiled files that the image could not load, one line each.

    Parameters
    ----------
    unmet : list of UnmetNeed
        What ``elf_needs.unmet_needs`` found.
    record : Path
        The image's record (``training/container.toml``), named where a library could be added.
    """
    image = f"the SageMaker image ({shown(record)})"
    lines = [
        f"{need.wheel}: {need.member} needs {need.library}, which {image} does not have and no shipped "
        "wheel carries"
        if need.readable
        else f"{need.wheel}: {need.member} {need.library}: {image} cannot load it"
        for need in unmet
    ]
    fix = (
        "use a build of the package whose wheel carries the libraries it needs (auditwheel copies them "
        "into <package>.libs/; for XGBoost, xgboost-cpu) and is built for x86_64, or another package; if "
        f"the image does have a library, add its soname to [image] system_libraries in "
        f"{shown(record)}, with where that is shown"
    )
    return "\n".join(lines) + f"\nTo fix: {fix}."


def conflict_message(name: str, recorded: str, what: str, fix: str, record: Path) -> str:
    """``what`` asked for another ``name`` than the image's ``recorded`` version, and ``fix``."""
    image = f"the training image has {name} {recorded} ({shown(record)})"
    return f"{what}, but {image}, which its jobs and endpoints run on. To fix: {fix}"


# pip's words for the failures it reports in a way we can name.
_NO_DISTRIBUTION = re.compile(r"No matching distribution found for (\S+)")
_VERSIONS = re.compile(r"satisfies the requirement (\S+) \(from versions: ([^)]*)\)")
_IMAGE_CONSTRAINT = re.compile(r"\(constraint\) ([A-Za-z0-9._-]+)==(\S+)")


def pip_failure_message(
    output: str, requirements: list[Path], image: ImageTarget, record: Path, cache: Path
) -> str:
    """Our explanation of ``pip download``'s failure, with pip's last lines under it.

    Parameters
    ----------
    output : str
        pip's stdout and stderr.
    requirements : list of Path
        The requirement files pip was given.
    image : ImageTarget
        The image the wheels were for.
    record : Path
        The image's record (``training/container.toml``).
    cache : Path
        Where built wheelhouses are kept (named when pip could not reach the index).
    """
    lines = [line for line in output.splitlines() if line.strip()]
    said = "\npip said:\n" + "\n".join(lines[-_DETAIL_LINES:])
    failed = f"could not build the training wheelhouse from {' and '.join(shown(p) for p in requirements)}"
    if missing := _NO_DISTRIBUTION.search(output):
        requirement = missing.group(1)
        found = {m.group(1): m.group(2).strip() for m in _VERSIONS.finditer(output)}
        target = f"the training image (CPython {image.python}, {image.platforms[0]} and older)"
        if found.get(requirement, "none") == "none":
            why = (
                f"the package index has no wheel of {requirement} for {target} at any version: the name is "
                "wrong, or the project publishes no wheel for this platform (perhaps only a source "
                "distribution, which the build does not compile)"
            )
        else:
            versions = found[requirement]
            why = f"the index has no wheel of {requirement} for {target}; versions with one: {versions}"
        fix = "check the name and version on the index, and pin a version that has a wheel for the image"
        return f"{failed}: {why}. To fix: {fix}.{said}"
    for match in _IMAGE_CONSTRAINT.finditer(output):
        name, recorded = canonicalize_name(match.group(1)), match.group(2)
        if image.packages.get(name) == recorded:
            what = f"{failed}: a requirement needs another {name}"
            fix = f"pin a version of the package that needs it which works with {name} {recorded}"
            return f"{conflict_message(name, recorded, what, fix, record)}.{said}"
    return (
        f"{failed} (pip needs to reach the package index once; the result is cached in {shown(cache)}).{said}"
    )


def shown(path: Path) -> str:
    """``path`` relative to the project when it is inside it: how a person finds the file."""
    return str(path.relative_to(_PROJECT_ROOT)) if path.is_relative_to(_PROJECT_ROOT) else str(path)
