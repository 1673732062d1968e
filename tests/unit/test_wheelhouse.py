"""The training wheelhouse (``stacks.constructs.training_packages.wheelhouse``), built offline.

pip runs for real, with no index: ``--find-links`` a folder of small wheels the tests make themselves (a
wheel is a zip with ``<name>-<version>.dist-info/METADATA``, ``WHEEL`` and ``RECORD``), for an image whose
packages the tests choose.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from stacks.constructs import training_packages
from stacks.constructs.training_packages import MANIFEST, ImageTarget, PackagingError, wheelhouse
from tests.elf_support import elf_file, wheel_file

IMAGE = ImageTarget(
    python="3.12",
    platforms=("manylinux_2_34_x86_64", "manylinux2014_x86_64"),
    packages={"numpy": "2.5.1", "scikit-learn": "1.9.0"},
    system_libraries=frozenset({"libc.so.6", "libm.so.6", "libstdc++.so.6"}),
)
COMPILED = "py3-none-manylinux2014_x86_64"


def make_wheel(
    folder: Path, name: str, version: str, requires: Sequence[str] = (), tag: str = "py3-none-any"
) -> Path:
    """A wheel of one empty module, with its dependencies as ``Requires-Dist`` lines."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{stem}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name.replace('-', '_')}/__init__.py", "")
        wheel.writestr(f"{stem}.dist-info/METADATA", metadata)
        wheel.writestr(f"{stem}.dist-info/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
        wheel.writestr(f"{stem}.dist-info/RECORD", "")
    return path


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package index of files: the platform's and a team's packages, their dependencies, the image's."""
    folder = tmp_path_factory.mktemp("index")
    make_wheel(folder, "numpy", "2.5.1")
    make_wheel(folder, "numpy", "2.6.0")
    make_wheel(folder, "scikit-learn", "1.9.0", ["numpy>=2"])
    make_wheel(folder, "platform-loader", "0.16.0", ["scikit-learn>=1.2", "table-printer>=3", "shared-util"])
    make_wheel(folder, "table-printer", "3.19.0")
    make_wheel(folder, "shared-util", "1.0.0")
    make_wheel(folder, "team-booster", "4.7.0", ["numpy>=1.21", "frame-lib>=1.15", "shared-util"])
    make_wheel(folder, "frame-lib", "2.24.0")
    make_wheel(folder, "needs-new-numpy", "1.0.0", ["numpy>=2.6"])
    make_wheel(folder, "windows-only", "1.0.0", tag="cp312-cp312-win_amd64")
    (folder / "source-only-1.0.0.tar.gz").write_bytes(b"not a wheel")
    # Compiled: one that needs the system's OpenMP runtime (LightGBM's case), one that carries its own copy
    # (auditwheel's <package>.libs/, xgboost-cpu's case), and one that needs a library its dependency carries
    openmp = ("libstdc++.so.6", "libgomp.so.1", "libc.so.6")
    wheel_file(folder, "omp-booster", "1.0.0", {"omp_booster/lib/libbooster.so": elf_file(openmp)}, COMPILED)
    own = ("libgomp-e985bcbb.so.1.0.0", "libc.so.6")
    carried = {
        "carried_booster/lib/libbooster.so": elf_file(own, "libbooster.so"),
        "carried_booster.libs/libgomp-e985bcbb.so.1.0.0": elf_file(
            ("libc.so.6",), "libgomp-e985bcbb.so.1.0.0"
        ),
    }
    wheel_file(folder, "carried-booster", "1.0.0", carried, COMPILED)
    return folder


def requirements(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def build(tmp_path: Path, index: Path, team: Sequence[str] | None, platform: Sequence[str] = ()) -> Path:
    """The wheelhouse of ``team``'s and ``platform``'s lines, cached under ``tmp_path``."""
    platform_file = requirements(
        tmp_path, "import-requirements.txt", *(platform or ["platform-loader==0.16.0"])
    )
    team_file = requirements(tmp_path / "team", "requirements.txt", *team) if team is not None else None
    return wheelhouse(
        team_file,
        # --isolated: this machine's pip configuration (its indexes, find-links, constraints) stays out.
        index_options=["--isolated", "--no-index", "--find-links", str(index)],
        cache=tmp_path / "cache",
        platform_requirements=platform_file,
        image=IMAGE,
    )


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    (tmp_path / "team").mkdir()
    return tmp_path


def test_the_manifest_lists_what_was_asked_and_its_dependencies_with_version_sha256_and_source(
    tmp: Path, index: Path
) -> None:
    # Given a team's package and the platform's, sharing a dependency, and both needing the image's packages
    # When the wheelhouse is built
    folder = build(tmp, index, ["# the team's booster", "team-booster==4.7.0  # pinned"])

    # Then every wheel asked for, directly or as a dependency, is there and in the manifest
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == 1
    assert manifest["python"] == "3.12"
    assert manifest["platforms"] == ["manylinux_2_34_x86_64", "manylinux2014_x86_64"]
    listed = {wheel["name"]: (wheel["version"], wheel["source"]) for wheel in manifest["wheels"]}
    assert listed == {
        "team-booster": ("4.7.0", "team"),
        "frame-lib": ("2.24.0", "team"),
        "shared-util": ("1.0.0", "team"),  # the team's dependency too: "team" wins
        "platform-loader": ("0.16.0", "platform"),
        "table-printer": ("3.19.0", "platform"),
    }
    # And each names its file, which is in the folder with that SHA-256; the image's packages are not
    for wheel in manifest["wheels"]:
        assert hashlib.sha256((folder / wheel["file"]).read_bytes()).hexdigest() == wheel["sha256"]
    assert sorted(path.name for path in folder.glob("*.whl")) == sorted(w["file"] for w in manifest["wheels"])
    assert not list(folder.glob("numpy-*")) and not list(folder.glob("scikit_learn-*"))


def test_without_team_requirements_the_wheelhouse_holds_the_platforms_packages_only(
    tmp: Path, index: Path
) -> None:
    # Given no team requirements file
    # When the wheelhouse is built
    folder = build(tmp, index, None)

    # Then it holds the platform's packages, each of source "platform"
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert {(w["name"], w["source"]) for w in manifest["wheels"]} == {
        ("platform-loader", "platform"),
        ("table-printer", "platform"),
        ("shared-util", "platform"),
    }


def test_a_second_build_reuses_the_cache_and_runs_no_pip(
    tmp: Path, index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a built wheelhouse
    first = build(tmp, index, ["team-booster==4.7.0"])

    # When it is asked for again with pip unavailable
    monkeypatch.setattr(training_packages, "PIP", (sys.executable, "-c", "raise SystemExit('pip ran')"))
    second = build(tmp, index, ["team-booster==4.7.0"])

    # Then the same folder comes back, whole
    assert second == first and (second / MANIFEST).is_file()
    # And another requirement is another wheelhouse, which needs pip
    with pytest.raises(PackagingError, match="pip ran"):
        build(tmp, index, ["team-booster==4.7.0", "frame-lib==2.24.0"])


def test_an_unpinned_line_is_refused_naming_the_file_line_and_the_requirement(tmp: Path, index: Path) -> None:
    # Given a team line that names no single version
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, ["# boosters", "team-booster>=4"])

    # Then the message names the file, the line and what to write instead
    message = str(refused.value)
    assert f"{tmp / 'team' / 'requirements.txt'}:2: 'team-booster>=4' is not a pinned requirement" in message
    assert "name==version" in message


@pytest.mark.parametrize("line", ["team-booster", "team-booster==4.*", "-r other.txt", "https://x/y.whl"])
def test_every_kind_of_unpinned_line_is_refused(tmp: Path, index: Path, line: str) -> None:
    with pytest.raises(PackagingError, match="is not a pinned requirement"):
        build(tmp, index, [line])


def test_a_package_the_index_does_not_have_is_named(tmp: Path, index: Path) -> None:
    # Given a team line naming a package the index does not have
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, ["no-such-package==1.0"])

    # Then the message names it, says why, and what to do; pip's own words come under it
    message = str(refused.value)
    assert "the package index has no wheel of no-such-package==1.0 for the training image" in message
    assert "at any version" in message and "To fix: check the name and version" in message
    assert "pip said:" in message and "Traceback" not in message


def test_a_version_the_index_does_not_have_names_those_it_has(tmp: Path, index: Path) -> None:
    with pytest.raises(
        PackagingError, match=r"no wheel of frame-lib==9\.9\.9 .* versions with one: 2\.24\.0"
    ):
        build(tmp, index, ["frame-lib==9.9.9"])


@pytest.mark.parametrize("package", ["windows-only", "source-only"])
def test_a_package_without_a_wheel_for_the_image_is_named(tmp: Path, index: Path, package: str) -> None:
    # Given a package published only for another platform, or only as a source distribution
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, [f"{package}==1.0.0"])

    # Then the build fails naming it and the image's platform (it compiles nothing)
    message = str(refused.value)
    assert (
        f"no wheel of {package}==1.0.0 for the training image (CPython 3.12, manylinux_2_34_x86_64" in message
    )
    assert "this platform (perhaps only a source distribution, which the build does not compile)" in message


def test_a_pin_of_another_version_of_an_image_package_is_refused_naming_both_versions(
    tmp: Path, index: Path
) -> None:
    # Given a team line pinning another numpy than the image's
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, ["team-booster==4.7.0", "numpy==2.6.0"])

    # Then the message names the line, the package and the image's version
    message = str(refused.value)
    assert f"{tmp / 'team' / 'requirements.txt'}:2 asks for numpy==2.6.0" in message
    assert "the training image has numpy 2.5.1" in message and "or pin numpy==2.5.1" in message


def test_a_dependency_that_needs_another_version_of_an_image_package_is_named(tmp: Path, index: Path) -> None:
    # Given a team package whose dependency needs a numpy newer than the image's
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, ["needs-new-numpy==1.0.0"])

    # Then the message names the image's package and version, with pip's account of the conflict under it
    message = str(refused.value)
    assert "a requirement needs another numpy" in message and "the training image has numpy 2.5.1" in message
    assert "pip said:" in message and "needs-new-numpy" in message


def test_a_failed_build_leaves_nothing_in_the_cache(tmp: Path, index: Path) -> None:
    with pytest.raises(PackagingError):
        build(tmp, index, ["no-such-package==1.0"])
    assert list((tmp / "cache").iterdir()) == []


def test_the_recorded_image_is_cpython_312_on_manylinux_x86_64_down_to_2014() -> None:
    image = ImageTarget.recorded()
    assert image.python == "3.12"
    assert image.platforms[0] == "manylinux_2_34_x86_64" and image.platforms[-1] == "manylinux2014_x86_64"
    assert "manylinux_2_28_x86_64" in image.platforms and "manylinux_2_17_x86_64" in image.platforms
    # The image's whole environment constrains the wheels: what training/ imports, and the rest
    assert image.packages["numpy"] == "2.5.1" and image.packages["packaging"] == "26.2"
    # And its system libraries are glibc's and GCC's runtimes, without OpenMP's (not checked on the image)
    assert {"libc.so.6", "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1"} <= image.system_libraries
    assert "libgomp.so.1" not in image.system_libraries


def test_a_wheel_needing_a_system_library_the_image_lacks_fails_the_build_naming_it(
    tmp: Path, index: Path
) -> None:
    # Given a team package whose compiled file needs libgomp.so.1, which the image does not have
    # When the wheelhouse is built
    with pytest.raises(PackagingError) as refused:
        build(tmp, index, ["omp-booster==1.0.0"])

    # Then the message names the wheel, the file and the library, and what to do
    message = str(refused.value)
    assert message.startswith(
        "omp-booster 1.0.0 (team): omp_booster/lib/libbooster.so needs libgomp.so.1, which the SageMaker "
        "image (training/container.toml) does not have and no shipped wheel carries\nTo fix: "
    )
    assert "xgboost-cpu" in message and "[image] system_libraries in training/container.toml" in message
    # And nothing is cached: the next build checks again
    assert list((tmp / "cache").iterdir()) == []


def test_a_wheel_carrying_the_libraries_it_needs_is_shipped(tmp: Path, index: Path) -> None:
    folder = build(tmp, index, ["carried-booster==1.0.0"])

    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert ("carried-booster", "team") in {(w["name"], w["source"]) for w in manifest["wheels"]}


def test_a_wheelhouse_is_checked_again_for_an_image_with_other_system_libraries(
    tmp: Path, index: Path
) -> None:
    # Given a wheelhouse built for an image that has libgomp.so.1
    with_openmp = ImageTarget(
        IMAGE.python, IMAGE.platforms, IMAGE.packages, IMAGE.system_libraries | {"libgomp.so.1"}
    )
    platform_file = requirements(tmp, "import-requirements.txt", "platform-loader==0.16.0")
    team_file = requirements(tmp / "team", "requirements.txt", "omp-booster==1.0.0")
    options = ["--isolated", "--no-index", "--find-links", str(index)]
    built = wheelhouse(
        team_file,
        index_options=options,
        cache=tmp / "cache",
        platform_requirements=platform_file,
        image=with_openmp,
    )
    assert (built / MANIFEST).is_file()

    # When the same requirements are built for the image without it
    # Then the cached wheelhouse is not reused: the check refuses it
    with pytest.raises(PackagingError, match=r"needs libgomp\.so\.1"):
        build(tmp, index, ["omp-booster==1.0.0"])
