"""The image's packages' import names that training/container.toml records, against the virtualenv's.

A team code folder must not take the name a package of the training image is imported as
(``domain.training.team_code``); those names are recorded in ``[import_names]``, since the virtualenv does
not have every package of the image, nor the image's versions of most. Where it has the image's version, the
distribution's RECORD says what it installs, and the record must say the same.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from stacks.config import recorded_image_import_names
from stacks.constructs.wheel_names import installed_name

RECORD = Path(__file__).resolve().parents[2] / "training" / "container.toml"


def load_record() -> dict[str, Any]:
    with RECORD.open("rb") as file:
        return tomllib.load(file)


RECORDED = load_record()
IMAGE = RECORDED["packages"] | RECORDED["environment"]


def installed_at_image_version(distribution: str) -> metadata.Distribution | None:
    """The virtualenv's distribution when it is the image's version (else it does not stand for it)."""
    try:
        found = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    return found if found.version == IMAGE[distribution] else None


def test_every_image_package_has_its_import_names_recorded_and_nothing_else() -> None:
    recorded = RECORDED["import_names"]

    assert sorted(recorded) == sorted(IMAGE)
    assert all(canonicalize_name(name) == name for name in recorded)
    assert all(
        isinstance(names, list) and all(n.isidentifier() for n in names) for names in recorded.values()
    )


@pytest.mark.parametrize("distribution", sorted(IMAGE))
def test_the_recorded_names_are_what_the_image_version_installs(distribution: str) -> None:
    # Given the virtualenv's copy of the package, where it is the image's version
    installed = installed_at_image_version(distribution)
    if installed is None:
        pytest.skip(f"the virtualenv has no {distribution} {IMAGE[distribution]}: the record stands alone")

    # When its RECORD's files are read for the names they install
    found = (installed_name(PurePosixPath(str(file)).parts) for file in installed.files or [])
    names = {name for name in found if name is not None}

    # Then those are the names training/container.toml records
    assert sorted(names) == sorted(RECORDED["import_names"][distribution])


def test_the_platform_reads_each_import_name_with_its_distribution() -> None:
    names = recorded_image_import_names()

    assert names["sklearn"] == "scikit-learn" and names["yaml"] == names["_yaml"] == "pyyaml"
    assert names["zope"] in ("zope-event", "zope-interface")
    assert "scikit-learn" not in names and "enum-compat" not in names.values()
