"""The wheelhouse: the extra packages a training job and an endpoint install offline, built at synth.

A network-isolated training job cannot reach a package index, and neither should an endpoint depend on
one. So the wheels of a team's ``requirements.txt`` and of the platform's own
``training/import-requirements.txt`` are downloaded at synth for the image that runs them (its Python and
platform tags, ``training/container.toml``), with the image's packages as constraints (a conflict fails
synth, not the job), checked for the system libraries their compiled files need (``elf_needs``: one the
image lacks fails synth too), and shipped in the source archive as ``wheels/`` with a ``manifest.json``
that ``mlops_training.packages.activate`` reads. Built once per digest into ``.cache/wheelhouse`` (as the
Lambda layer is) and reused offline afterwards. Plain Python, no CDK: the tests build wheelhouses
offline, from wheels of their own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from domain.training.team_code import requirement_pin
from stacks.config import TRAINING_CONTAINER
from stacks.constructs.elf_needs import unmet_needs
from stacks.constructs.wheelhouse_messages import conflict_message, pip_failure_message, shown, unmet_message

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Not named requirements.txt: the SageMaker toolkits pip-install a root requirements.txt, online.
PLATFORM_REQUIREMENTS = PROJECT_ROOT / "training" / "import-requirements.txt"
WHEELHOUSE_CACHE = PROJECT_ROOT / ".cache" / "wheelhouse"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
# Replaced by the tests to prove that a cached wheelhouse runs no pip at all.
PIP = (sys.executable, "-m", "pip")


class PackagingError(Exception):
    """An asset could not be built: a Lambda's code or layer, the training source archive or its wheels."""


@dataclass(frozen=True)
class ImageTarget:
    """What the wheels must run on: the image's Python, its wheel platform tags and its own packages.

    Attributes
    ----------
    python
        The image's Python release series ("3.12").
    platforms
        The wheel platform tags that run on the image, most specific first.
    packages
        Every package of the image's Python environment (``[packages]`` and ``[environment]``), canonical
        name (PEP 503) to version: constraints of the download, and left out of the wheelhouse.
    system_libraries
        The sonames of the image's system libraries that a wheel's compiled files may need.
    """

    python: str
    platforms: tuple[str, ...]
    packages: Mapping[str, str]
    system_libraries: frozenset[str]

    @classmethod
    def recorded(cls, record: Path = TRAINING_CONTAINER) -> ImageTarget:
        """The image that ``training/container.toml`` records."""
        with record.open("rb") as file:
            image = tomllib.load(file)
        glibc_major, glibc_minor = (int(part) for part in str(image["image"]["glibc"]).split("."))
        machine = image["image"]["machine"]
        # pip takes manylinux_2_<N> tags literally (it expands only the legacy manylinux2014 to 2010 and 1):
        # every older glibc down to 2.17 (manylinux2014), is named.
        manylinux = (f"manylinux_{glibc_major}_{minor}_{machine}" for minor in range(glibc_minor, 16, -1))
        return cls(
            python=str(image["image"]["python"]),
            platforms=(*manylinux, f"manylinux2014_{machine}"),
            packages={
                canonicalize_name(name): str(version)
                for name, version in (image["packages"] | image["environment"]).items()
            },
            system_libraries=frozenset(image["image"]["system_libraries"]),
        )

    def constraints(self) -> str:
        """The image's packages as a pip constraints file."""
        return "".join(f"{name}=={version}\n" for name, version in sorted(self.packages.items()))


@dataclass(frozen=True)
class _Pin:
    name: str  # canonical
    version: str
    where: str  # <file>:<line>


def wheelhouse(
    team_requirements: Path | None,
    *,
    index_options: Sequence[str] = (),
    cache: Path = WHEELHOUSE_CACHE,
    platform_requirements: Path = PLATFORM_REQUIREMENTS,
    image: ImageTarget | None = None,
) -> Path:
    """The folder of wheels (and ``manifest.json``) for the image, built once per digest and cached.

    Parameters
    ----------
    team_requirements
        The team code folder's ``requirements.txt``, or None when there is none.
    index_options
        pip's index options (``--no-index --find-links DIR`` for an offline build); by default pip's own
        configuration (the public index).
    cache
        Where built wheelhouses are kept, one folder per digest of the requirement files, the image's
        Python, platforms and packages.
    platform_requirements
        The platform's own requirements (skops, to load imported models).
    image
        The image the wheels are for; by default the one ``training/container.toml`` records.

    Returns
    -------
    Path
        The cached folder: the wheels of every requested package and its dependencies, except those the
        image has at that version, and ``manifest.json`` naming each with its version, SHA-256 and source
        ("team" when the team's requirements need it, directly or as a dependency, else "platform").

    Raises
    ------
    PackagingError
        A line is not pinned, a package conflicts with the image's, the index has no wheel of a
        requirement for the image, or a wheel needs a system library the image does not have; the
        message names it and says what to do.
    """
    target = image or ImageTarget.recorded()
    files = [platform_requirements] + ([team_requirements] if team_requirements is not None else [])
    pins = {path: _pins(path) for path in files}
    for path_pins in pins.values():
        _refuse_image_conflicts(path_pins, target)
    digest = hashlib.sha256(
        b"\0".join(
            [
                *(f"{path.name}\n".encode() + path.read_bytes() for path in files),
                target.python.encode(),
                ",".join(target.platforms).encode(),
                target.constraints().encode(),
                ",".join(sorted(target.system_libraries)).encode(),
            ]
        )
    ).hexdigest()
    built = cache / digest[:16]
    if (built / MANIFEST).is_file():
        return built
    cache.mkdir(parents=True, exist_ok=True)
    # A staging folder of this process's own: synths running at once must not share a half-built folder.
    staging = Path(tempfile.mkdtemp(prefix=f"{built.name}.partial-", dir=cache))
    try:
        _build(staging, pins, team_requirements, target, index_options)
        staging.rename(built)
    except OSError:
        # Another synth finished the same wheelhouse first: use its copy.
        if not (built / MANIFEST).is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return built


def _build(
    staging: Path,
    pins: Mapping[Path, list[_Pin]],
    team_requirements: Path | None,
    image: ImageTarget,
    index_options: Sequence[str],
) -> None:
    with tempfile.TemporaryDirectory(prefix="wheelhouse-") as work_dir:
        work = Path(work_dir)
        constraints = work / "image-constraints.txt"
        constraints.write_text(image.constraints(), encoding="utf-8")
        everything = _download(work / "all", list(pins), constraints, image, index_options)
        # The team's requirements alone, resolved the same way, say which wheels the team's code needs.
        team_names: set[str] = set()
        if team_requirements is not None:
            team = _download(work / "team", [team_requirements], constraints, image, index_options)
            team_names = {parse_wheel_filename(wheel.name)[0] for wheel in team}  # names canonical (PEP 503)
        wheels = []
        for wheel in everything:
            name, version, _, _ = parse_wheel_filename(wheel.name)
            if image.packages.get(name) == str(version):
                continue  # the image has it: nothing to install
            shutil.move(wheel, staging / wheel.name)
            wheels.append(
                {
                    "name": str(name),
                    "version": str(version),
                    "file": wheel.name,
                    "sha256": hashlib.sha256((staging / wheel.name).read_bytes()).hexdigest(),
                    "source": "team" if name in team_names else "platform",
                }
            )
    shipped = {f"{w['name']} {w['version']} ({w['source']})": staging / w["file"] for w in wheels}
    if unmet := unmet_needs(shipped, image.system_libraries):
        raise PackagingError(unmet_message(unmet, TRAINING_CONTAINER))
    manifest = {
        "format": MANIFEST_FORMAT,
        "python": image.python,
        "platforms": list(image.platforms),
        "wheels": sorted(wheels, key=lambda wheel: wheel["name"]),
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _download(
    into: Path, requirements: list[Path], constraints: Path, image: ImageTarget, index_options: Sequence[str]
) -> list[Path]:
    """``pip download`` of ``requirements`` and their dependencies for ``image``: the wheel files."""
    abi = "cp" + image.python.replace(".", "")
    # Not --quiet: pip tells the cause of a conflict ("The conflict is caused by: ...") at its info level.
    command = [
        *PIP, "download", "--disable-pip-version-check", "--dest", str(into),
        *(arg for path in requirements for arg in ("--requirement", str(path))),
        "--constraint", str(constraints),
        "--python-version", image.python, "--implementation", "cp", "--abi", abi,
        *(arg for platform in image.platforms for arg in ("--platform", platform)),
        "--only-binary=:all:", *index_options,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        raise PackagingError(
            pip_failure_message(output, requirements, image, TRAINING_CONTAINER, WHEELHOUSE_CACHE)
        )
    return sorted(into.glob("*.whl"))


def _pins(path: Path) -> list[_Pin]:
    """The requirement lines of ``path``; each must pin one version (``name==version``)."""
    pins = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{shown(path)}:{number}"
        try:
            pin = requirement_pin(line)
        except ValueError:
            raise PackagingError(
                f"{where}: '{line.split('#', 1)[0].strip()}' is not a pinned requirement: write one package "
                "per line as name==version (the wheels are downloaded at synth for the training image, "
                "exactly as named)"
            ) from None
        if pin is not None:
            pins.append(_Pin(*pin, where))
    return pins


def _refuse_image_conflicts(pins: list[_Pin], image: ImageTarget) -> None:
    for pin in pins:
        recorded = image.packages.get(pin.name)
        if recorded is not None and recorded != pin.version:
            asked = f"{pin.where} asks for {pin.name}=={pin.version}"
            fix = f"leave the line out (the image has {pin.name}), or pin {pin.name}=={recorded}"
            raise PackagingError(conflict_message(pin.name, recorded, asked, fix, TRAINING_CONTAINER))
