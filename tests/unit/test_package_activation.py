"""Offline installation of the shipped wheels (``mlops_training.packages.activate``).

Wheels are made here, small and pure Python, as the build would ship them: a manifest with each file's
SHA-256. A distribution installed at the manifest's version is used as it is; the others are unpacked
into a folder of the temporary directory and imported from there.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from tests.import_isolation import isolated_imports
from training.mlops_training.contract_io import TrainingInputError
from training.mlops_training.packages import Activation, activate, read_manifest


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unpacked wheels land in this test's folder, and what they put on sys.path or import goes away after."""
    with isolated_imports(monkeypatch, tmp_path / "tmp"):
        yield


def make_wheel(folder: Path, name: str, version: str, files: dict[str, str], *, data: bool = False) -> Path:
    """A wheel of ``files`` (path: text); with ``data``, they sit under ``<name>.data/purelib/``."""
    stem = f"{name}-{version}"
    path = folder / f"{stem}-py3-none-any.whl"
    prefix = f"{stem}.data/purelib/" if data else ""
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(prefix + member, text)
        wheel.writestr(
            f"{stem}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        wheel.writestr(f"{stem}.dist-info/RECORD", "")
        if data:
            wheel.writestr(f"{stem}.data/scripts/{name}-tool", "#!/bin/sh\n")
    return path


def write_manifest(folder: Path, wheels: list[tuple[str, str, Path | None]], source: str = "team") -> Path:
    """``manifest.json`` listing (name, version, wheel file); a wheel without a file gets a made-up name."""
    entries = [
        {
            "name": name,
            "version": version,
            "file": path.name if path else f"{name}-{version}-py3-none-any.whl",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path else "0" * 64,
            "source": source,
        }
        for name, version, path in wheels
    ]
    document = {"format": 1, "python": "3.12", "platforms": ["manylinux_2_34_x86_64"], "wheels": entries}
    (folder / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_wheels_not_installed_are_unpacked_and_import_including_a_data_purelib_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    plain = make_wheel(wheels, "mlops_plain_pkg", "1.2.0", {"mlops_plain_pkg/__init__.py": "ANSWER = 42\n"})
    purelib = make_wheel(
        wheels, "mlops_data_pkg", "0.1", {"mlops_data_pkg/__init__.py": "NAME = 'data'\n"}, data=True
    )
    write_manifest(wheels, [("mlops-plain-pkg", "1.2.0", plain), ("mlops-data-pkg", "0.1", purelib)])

    activation = activate(wheels)

    assert activation.present == []
    assert activation.unpacked == ["mlops-plain-pkg==1.2.0", "mlops-data-pkg==0.1"]
    assert activation.folder is not None
    assert activation.folder.parent == tmp_path / "tmp" / f"mlops-packages-{os.getuid()}"
    assert sys.path[0] == str(activation.folder)
    assert importlib.import_module("mlops_plain_pkg").ANSWER == 42
    assert importlib.import_module("mlops_data_pkg").NAME == "data"
    assert metadata.version("mlops-plain-pkg") == "1.2.0"
    assert not (activation.folder / "mlops_data_pkg-0.1.data").exists()  # scripts are not installed
    assert capsys.readouterr().out.strip() == (
        "packages: present none; unpacked mlops-plain-pkg==1.2.0, mlops-data-pkg==0.1 into "
        f"{activation.folder}"
    )


def test_a_distribution_installed_at_the_manifests_version_is_present_and_nothing_is_unpacked(
    tmp_path: Path,
) -> None:
    pytest_version = metadata.version("pytest")
    write_manifest(tmp_path, [("pytest", pytest_version, None)])
    path_before = list(sys.path)

    activation = activate(tmp_path)

    assert activation == Activation(present=[f"pytest=={pytest_version}"], unpacked=[], folder=None)
    assert sys.path == path_before
    assert not any((tmp_path / "tmp").glob("mlops-packages-*/*"))


def test_another_version_than_the_installed_one_is_unpacked(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "pytest", "0.0.1", {"mlops_other_pytest/__init__.py": ""})
    write_manifest(tmp_path, [("pytest", "0.0.1", wheel)])

    activation = activate(tmp_path)

    assert activation.unpacked == ["pytest==0.0.1"]


def test_another_process_uses_the_folder_the_first_unpacked(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mlops_again_pkg", "1.0", {"mlops_again_pkg/__init__.py": ""})
    write_manifest(tmp_path, [("mlops-again-pkg", "1.0", wheel)])
    first = activate(tmp_path)
    assert first.folder is not None
    (first.folder / "marker").write_text("kept")
    sys.path.remove(str(first.folder))  # as another process (an endpoint's second worker) starts

    second = activate(tmp_path)

    assert second.folder == first.folder
    assert (second.folder / "marker").read_text() == "kept"
    assert sys.path.count(str(first.folder)) == 1


def test_a_process_lacking_more_wheels_does_not_take_the_folder_of_one_that_had_some_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a manifest of two wheels, unpacked by a process (another virtualenv on the same machine) that
    # had the first installed at the manifest's version, so unpacked the second only
    first = make_wheel(tmp_path, "mlops_first_pkg", "1.0", {"mlops_first_pkg/__init__.py": "NAME = 1\n"})
    second = make_wheel(tmp_path, "mlops_second_pkg", "1.0", {"mlops_second_pkg/__init__.py": "NAME = 2\n"})
    write_manifest(tmp_path, [("mlops-first-pkg", "1.0", first), ("mlops-second-pkg", "1.0", second)])
    real = metadata.version

    def only_first_installed(name: str) -> str:
        return "1.0" if name == "mlops-first-pkg" else real(name)

    with monkeypatch.context() as installed:
        installed.setattr(metadata, "version", only_first_installed)
        earlier = activate(tmp_path)
    assert earlier.present == ["mlops-first-pkg==1.0"]
    assert earlier.folder is not None
    sys.path.remove(str(earlier.folder))

    # When a process that has neither installed activates the same manifest
    later = activate(tmp_path)

    # Then it unpacks both into a folder of its own, and imports both
    assert later.unpacked == ["mlops-first-pkg==1.0", "mlops-second-pkg==1.0"]
    assert later.folder is not None and later.folder != earlier.folder
    assert importlib.import_module("mlops_first_pkg").NAME == 1
    assert importlib.import_module("mlops_second_pkg").NAME == 2


def test_a_wheel_that_is_not_the_file_the_manifest_describes_is_refused_by_name(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mlops_changed_pkg", "1.0", {"mlops_changed_pkg/__init__.py": ""})
    write_manifest(tmp_path, [("mlops-changed-pkg", "1.0", wheel)])
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("mlops_changed_pkg/extra.py", "import os\n")

    with pytest.raises(TrainingInputError) as refused:
        activate(tmp_path)

    assert str(refused.value).startswith(
        "mlops_changed_pkg-1.0-py3-none-any.whl is not the file the wheel manifest describes (its SHA-256 "
        "differs)"
    )
    assert not any((tmp_path / "tmp").glob("mlops-packages-*/*"))


def test_a_listed_wheel_that_is_missing_is_refused_by_name(tmp_path: Path) -> None:
    write_manifest(tmp_path, [("mlops-absent-pkg", "1.0", None)])

    with pytest.raises(
        TrainingInputError, match=r"lists mlops-absent-pkg-1\.0-py3-none-any\.whl, which is not in"
    ):
        activate(tmp_path)


def test_a_wheel_that_is_not_a_zip_or_reaches_outside_its_folder_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "mlops_broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    escaping = tmp_path / "mlops_escape-1.0-py3-none-any.whl"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../outside.py", "")
    write_manifest(tmp_path, [("mlops-broken", "1.0", broken)])

    with pytest.raises(TrainingInputError, match=r"^mlops_broken-1\.0-py3-none-any\.whl is not a wheel"):
        activate(tmp_path)

    write_manifest(tmp_path, [("mlops-escape", "1.0", escaping)])
    with pytest.raises(
        TrainingInputError, match=r"^mlops_escape-1\.0-py3-none-any\.whl has a member outside"
    ):
        activate(tmp_path)
    assert not (tmp_path / "tmp" / "outside.py").exists()


def test_wheels_are_not_unpacked_into_a_folder_others_may_write_to(tmp_path: Path) -> None:
    # Given this user's folder of unpacked wheels made writable by everyone (as another user could have
    # made it first, to plant code under the names the job imports)
    wheel = make_wheel(tmp_path, "mlops_shared_pkg", "1.0", {"mlops_shared_pkg/__init__.py": ""})
    write_manifest(tmp_path, [("mlops-shared-pkg", "1.0", wheel)])
    shared = tmp_path / "tmp" / f"mlops-packages-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)

    # When the wheels are activated
    with pytest.raises(TrainingInputError) as refused:
        activate(tmp_path)

    # Then nothing is unpacked or imported from it, and the message says what to do
    assert str(refused.value) == (
        f"{shared} is not a folder of this user's that only they can write to, so the shipped wheels are "
        "not unpacked there; remove it (or set TMPDIR to a folder of your own) and run again"
    )
    assert list(shared.iterdir()) == []
    assert str(shared) not in " ".join(sys.path)


def test_a_compiled_wheel_for_another_python_is_refused_saying_to_install_its_pin(tmp_path: Path) -> None:
    # Given a wheel of compiled code for another CPython than this one (the image's, in a local virtualenv)
    other = "cp311" if sys.version_info[:2] != (3, 11) else "cp312"
    wheel = tmp_path / f"mlops_compiled-1.0-{other}-{other}-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mlops_compiled/__init__.py", "")
    write_manifest(tmp_path, [("mlops-compiled", "1.0", wheel)])

    # When the wheels are activated
    with pytest.raises(TrainingInputError) as refused:
        activate(tmp_path)

    # Then it is not unpacked, and the message says what to install
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert str(refused.value) == (
        f"{wheel.name} is compiled for {other} and this is Python {here}: install mlops-compiled==1.0 into "
        "this environment instead (make setup installs the pins of the shipped wheels)"
    )
    assert not any((tmp_path / "tmp").glob("mlops-packages-*/*"))


def test_a_wheel_of_the_stable_abi_or_pure_python_runs_on_any_python(tmp_path: Path) -> None:
    stable = tmp_path / "mlops_stable-1.0-cp38-abi3-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(stable, "w") as archive:
        archive.writestr("mlops_stable/__init__.py", "KIND = 'abi3'\n")
    write_manifest(tmp_path, [("mlops-stable", "1.0", stable)])

    assert activate(tmp_path).unpacked == ["mlops-stable==1.0"]
    assert importlib.import_module("mlops_stable").KIND == "abi3"


def test_without_a_manifest_there_is_nothing_to_install(tmp_path: Path) -> None:
    assert activate(tmp_path / "absent") == Activation(present=[], unpacked=[], folder=None)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("{", "is not valid JSON"),
        ('{"format": 2, "wheels": []}', "is not a wheel manifest of format 1"),
        ('{"format": 1}', "has no list of wheels"),
        ('{"format": 1, "wheels": [{"name": "x"}]}', "wheels[0] needs the strings name, version, file"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused_naming_it(tmp_path: Path, document: str, problem: str) -> None:
    (tmp_path / "manifest.json").write_text(document)

    with pytest.raises(TrainingInputError) as refused:
        read_manifest(tmp_path)

    assert str(refused.value).startswith(str(tmp_path / "manifest.json"))
    assert problem in str(refused.value)
