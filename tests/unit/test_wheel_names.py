"""The shipped wheels never install a name the training source archive's root uses (``wheel_names``)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from stacks.constructs.training_packages import PackagingError
from stacks.constructs.wheel_names import refuse_shadowing, top_level_names
from tests.elf_support import wheel_file

PLATFORM = frozenset({"spec", "mlops_training", "wheels", "train", "inference"})


def wheelhouse(folder: Path, wheels: dict[str, dict[str, bytes]]) -> Path:
    """A wheelhouse of one wheel per name (name: its files), all of source team, with its manifest."""
    folder.mkdir()
    entries = []
    for name, files in wheels.items():
        path = wheel_file(folder, name, "1.0", files, "py3-none-any")
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        entries.append(
            {"name": name, "version": "1.0", "file": path.name, "sha256": sha256, "source": "team"}
        )
    (folder / "manifest.json").write_text(json.dumps({"format": 1, "wheels": entries}))
    return folder


def test_a_wheels_top_level_names_are_its_packages_modules_and_purelib_data(tmp_path: Path) -> None:
    # Given a wheel of a package, a module, a compiled module, purelib data, scripts and auditwheel's libs
    files = {
        "booster/__init__.py": b"",
        "helper.py": b"",
        "_speedups.cpython-312-x86_64-linux-gnu.so": b"",
        "booster-1.0.data/purelib/extra/__init__.py": b"",
        "booster-1.0.data/scripts/booster-cli": b"",
        "booster_native.libs/libgomp-e985bcbb.so.1.0.0": b"",
    }
    wheel = wheel_file(tmp_path, "booster", "1.0", files, "py3-none-any")
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("booster_native.libs/", b"")  # a folder's own entry, as some wheels have

    # Then what it installs at the top level is the package, the modules and the purelib data's package
    assert top_level_names(wheel) == {"booster", "helper", "_speedups", "extra"}


def test_a_wheel_installing_the_team_folders_name_is_refused_naming_both(tmp_path: Path) -> None:
    # Given a team code folder named models, and a package that installs a top-level models package
    team = tmp_path / "project" / "models"
    folder = wheelhouse(tmp_path / "wheels", {"sloppy-pkg": {"models/__init__.py": b"", "sloppy/x.py": b""}})

    # When the wheelhouse is checked
    with pytest.raises(PackagingError) as refused:
        refuse_shadowing(folder, PLATFORM, team)

    # Then the message names the package, the name and the folder, and what to do
    assert str(refused.value) == (
        "sloppy-pkg 1.0 (team) installs a top-level 'models', which the job and the endpoint would import "
        f"instead of the team code folder {team}: rename the folder (and the module's path in cdk.json)"
    )


def test_a_wheel_installing_a_platform_name_is_refused(tmp_path: Path) -> None:
    folder = wheelhouse(
        tmp_path / "wheels", {"spec-tools": {"spec/__init__.py": b""}, "fine": {"fine.py": b""}}
    )

    with pytest.raises(PackagingError) as refused:
        refuse_shadowing(folder, PLATFORM, None)

    assert str(refused.value) == (
        "spec-tools 1.0 (team) installs a top-level 'spec', which the job and the endpoint would import "
        "instead of the platform's own: pin another package (or version) in its place"
    )


def test_wheels_of_other_names_pass(tmp_path: Path) -> None:
    folder = wheelhouse(tmp_path / "wheels", {"booster": {"booster/__init__.py": b""}})

    refuse_shadowing(folder, PLATFORM, tmp_path / "team_models")
