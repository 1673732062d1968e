"""Packages beyond the image's, installed offline from the wheels the build shipped (``wheels/``).

A network-isolated training job cannot reach a package index, and an endpoint should not: the build puts
wheels for the image's platform and Python in the source directory's ``wheels/`` (and the job copies them
into the model archive's ``code/wheels/``), listed in ``wheels/manifest.json``::

    {"format": 1, "python": "3.12", "platforms": [...],
     "wheels": [{"name": "xgboost-cpu", "version": "3.2.0", "file": "<wheel file>", "sha256": "<hex>",
                 "source": "team" | "platform"}]}

:func:`activate` makes them importable without pip: a distribution already installed at the manifest's
version is used as it is (the local virtualenv, where ``make setup`` installs the same pins); the others
are unpacked (a wheel is a zip archive) into one folder per set of wheels, put first on ``sys.path``. The
folder is made under a temporary name and renamed when complete, so two processes starting at once (an
endpoint's workers) never import from a half-written one.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from .contract_io import TrainingInputError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
FOLDER = "mlops-packages"
_WHEEL_KEYS = ("name", "version", "file", "sha256", "source")


@dataclass(frozen=True)
class Wheel:
    """One wheel of the manifest."""

    name: str
    version: str
    file: str
    sha256: str
    source: str

    @property
    def pin(self) -> str:
        """``name==version``."""
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Activation:
    """What :func:`activate` did.

    Attributes
    ----------
    present : list of str
        ``name==version`` of the wheels whose distribution was installed already at that version.
    unpacked : list of str
        ``name==version`` of the wheels unpacked into ``folder``.
    folder : Path or None
        The folder put first on ``sys.path``; None when nothing was unpacked.
    """

    present: list[str]
    unpacked: list[str]
    folder: Path | None

    def describe(self) -> str:
        """One line for the log."""
        present = ", ".join(self.present) or "none"
        unpacked = ", ".join(self.unpacked) or "none"
        where = f" into {self.folder}" if self.folder is not None else ""
        return f"packages: present {present}; unpacked {unpacked}{where}"


def read_manifest(wheels_dir: Path) -> list[Wheel]:
    """The wheels ``wheels_dir/manifest.json`` lists ([] when there is no manifest).

    Raises
    ------
    TrainingInputError
        When the manifest is not one (naming the file and what is wrong).
    """
    path = wheels_dir / MANIFEST
    if not path.is_file():
        return []
    where = f"{path}"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise TrainingInputError(f"{where} is not valid JSON; synthesize the app again") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise TrainingInputError(f"{where} is not a wheel manifest of format {MANIFEST_FORMAT}")
    entries = document.get("wheels")
    if not isinstance(entries, list):
        raise TrainingInputError(f"{where} has no list of wheels")
    wheels: list[Wheel] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in _WHEEL_KEYS):
            raise TrainingInputError(
                f"{where}: wheels[{position}] needs the strings {', '.join(_WHEEL_KEYS)}"
            )
        wheels.append(Wheel(**{k: entry[k] for k in _WHEEL_KEYS}))
    return wheels


def activate(wheels_dir: Path) -> Activation:
    """Make the manifest's wheels importable, offline (see the module docstring); print what it did.

    Parameters
    ----------
    wheels_dir : Path
        The ``wheels/`` folder (the source directory's, or the model archive's ``code/wheels``). Without
        a manifest there is nothing to install (a model trained before wheels were shipped).

    Raises
    ------
    TrainingInputError
        When the manifest is not one, a wheel it lists is missing or not the file it describes
        (SHA-256), or a wheel cannot be unpacked; each names the file.
    """
    wheels = read_manifest(wheels_dir)
    present = [wheel for wheel in wheels if _installed(wheel.name) == wheel.version]
    missing = [wheel for wheel in wheels if wheel not in present]
    folder = None
    if missing:
        # Named by what it holds: another process that finds other wheels present (another virtualenv on
        # the same machine) must not take a folder without the wheels it lacks for a complete one.
        digest = hashlib.sha256("\0".join(sorted(w.sha256 for w in missing)).encode()).hexdigest()
        folder = _own_folder() / digest[:16]
        for wheel in missing:
            _verify(wheels_dir / wheel.file, wheel)
            _require_this_python(wheel)
        if not folder.is_dir():
            _unpack_all([wheels_dir / wheel.file for wheel in missing], folder)
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
            importlib.invalidate_caches()
    activation = Activation([w.pin for w in present], [w.pin for w in missing], folder)
    print(activation.describe(), flush=True)
    return activation


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _verify(path: Path, wheel: Wheel) -> None:
    if not path.is_file():
        raise TrainingInputError(f"the wheel manifest lists {wheel.file}, which is not in {path.parent}")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != wheel.sha256:
        raise TrainingInputError(
            f"{path.name} is not the file the wheel manifest describes (its SHA-256 differs); "
            "synthesize the app again to rebuild the wheelhouse"
        )


def _require_this_python(wheel: Wheel) -> None:
    """Refuse a wheel of compiled code for another Python than this one (the image's 3.12 wheels in a
    virtualenv of another release that lacks the pin): it would unpack, then fail to import."""
    pythons, abis = wheel.file.removesuffix(".whl").split("-")[-3:-1]
    if {"abi3", "none"} & set(abis.split(".")):
        return
    here = f"cp{sys.version_info.major}{sys.version_info.minor}"
    if here not in pythons.split("."):
        raise TrainingInputError(
            f"{wheel.file} is compiled for {pythons} and this is Python {sys.version_info.major}."
            f"{sys.version_info.minor}: install {wheel.pin} into this environment instead (make setup "
            "installs the pins of the shipped wheels)"
        )


def _own_folder() -> Path:
    """This user's folder of unpacked wheels in the temporary directory, refused unless it is theirs alone.

    What is imported from there runs as this process: on a machine with other users (a developer's),
    a folder another user made first, or may write to, could hold any code under the expected name.
    """
    folder = Path(tempfile.gettempdir()) / f"{FOLDER}-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        status = folder.lstat()
    except OSError as error:
        raise TrainingInputError(f"cannot make {folder} for the shipped wheels: {error.strerror}") from None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o022:
        raise TrainingInputError(
            f"{folder} is not a folder of this user's that only they can write to, so the shipped wheels "
            "are not unpacked there; remove it (or set TMPDIR to a folder of your own) and run again"
        )
    return folder


def _unpack_all(wheels: list[Path], folder: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for wheel in wheels:
            _unpack(wheel, staging)
        try:
            os.rename(staging, folder)
        except OSError:
            if not folder.is_dir():  # another process renamed its complete copy first: use that one
                raise
    except OSError as error:
        raise TrainingInputError(f"cannot unpack the wheels into {folder}: {error.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(wheel: Path, target: Path) -> None:
    """Extract a wheel as pip would install it into one folder: ``<name>.data/purelib|platlib`` at the
    root, the other ``.data`` schemes (scripts, headers, data) left out."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                relative = _installed_path(PurePosixPath(member.filename))
                if relative is None or member.is_dir():
                    continue
                if relative.is_absolute() or ".." in relative.parts:
                    raise TrainingInputError(
                        f"{wheel.name} has a member outside its folder: {member.filename!r}"
                    )
                destination = target.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                mode = member.external_attr >> 16
                if mode & 0o111:
                    destination.chmod(0o755)
    except (zipfile.BadZipFile, EOFError):
        raise TrainingInputError(f"{wheel.name} is not a wheel (not a readable zip archive)") from None


def _installed_path(name: PurePosixPath) -> PurePosixPath | None:
    first = name.parts[0] if name.parts else ""
    if not first.endswith(".data"):
        return name
    if len(name.parts) > 2 and name.parts[1] in ("purelib", "platlib"):
        return PurePosixPath(*name.parts[2:])
    return None
