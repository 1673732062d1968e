"""The top-level names the shipped wheels install, checked against those the source archive's root uses.

The job and the endpoint put the unpacked wheels first on ``sys.path`` (``mlops_training.packages``), so
a wheel that installs a top-level ``models`` package would be imported instead of a team code folder of
that name, and one installing ``spec`` or ``train`` instead of the platform's own; the job would fail
later with an error that names neither. Checked at synth, from the wheels' file lists.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Collection
from pathlib import Path, PurePosixPath

from stacks.constructs.training_packages import MANIFEST, PackagingError

_INSTALLED_SCHEMES = ("purelib", "platlib")  # the .data schemes that install beside the packages


def top_level_names(wheel: Path) -> set[str]:
    """The importable names a wheel installs at the top level: its packages' folders and its modules."""
    names: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.endswith("/"):
                continue  # a folder's own entry: its files say what it installs
            parts = PurePosixPath(member).parts
            if parts and parts[0].endswith(".data"):
                installed = len(parts) > 2 and parts[1] in _INSTALLED_SCHEMES
                parts = parts[2:] if installed else ()
            if name := installed_name(parts):
                names.add(name)
    return names


def installed_name(parts: tuple[str, ...]) -> str | None:
    """The importable top-level name a file installs, from its path's parts under site-packages, or None.

    A folder (a package) by its name; a file (``x.py``, ``x.cpython-312-x86_64-linux-gnu.so``) by its
    stem; None for the distribution's own metadata (``*.dist-info``), a path outside site-packages (a
    script's ``../../bin/x``), Python's byte-code cache (``__pycache__``) and a name that cannot be imported.
    """
    if not parts or parts[0].endswith(".dist-info") or parts[0] in ("..", "__pycache__"):
        return None
    name = parts[0] if len(parts) > 1 else parts[0].split(".", 1)[0]
    return name if name.isidentifier() else None


def refuse_shadowing(wheelhouse: Path, platform_names: Collection[str], team_folder: Path | None) -> None:
    """Refuse a wheelhouse whose wheels install a name the source archive's root uses.

    Parameters
    ----------
    wheelhouse
        The folder of wheels and their ``manifest.json`` (``training_packages.wheelhouse``).
    platform_names
        The names of the platform's own packages and scripts at the archive's root.
    team_folder
        The team code folder, shipped at the root under its name; None when there is none.

    Raises
    ------
    PackagingError
        Naming each wheel, the name it installs and what it would be imported instead of.
    """
    manifest = json.loads((wheelhouse / MANIFEST).read_text(encoding="utf-8"))
    lines = []
    for wheel in manifest["wheels"]:
        installed = top_level_names(wheelhouse / wheel["file"])
        described = f"{wheel['name']} {wheel['version']} ({wheel['source']}) installs a top-level"
        if team_folder is not None and team_folder.name in installed:
            lines.append(
                f"{described} '{team_folder.name}', which the job and the endpoint would import instead of "
                f"the team code folder {team_folder}: rename the folder (and the module's path in cdk.json)"
            )
        for name in sorted(installed & set(platform_names)):
            lines.append(
                f"{described} '{name}', which the job and the endpoint would import instead of the "
                "platform's own: pin another package (or version) in its place"
            )
    if lines:
        raise PackagingError("\n".join(lines))
