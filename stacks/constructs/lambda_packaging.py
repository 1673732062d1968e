"""Lambda assets built without Docker: a function's code, and the dependency layer it runs on.

A function's asset is its handler folder plus the project's runtime packages (``domain``, ``adapters``,
and ``spec``, which the training source directory carries too) and any generated files (the dataset
contracts), copied by CDK's local bundling. The dependency layer is ``pip install --platform`` of
``lambdas/requirements.txt`` for the Lambda's architecture and Python, built once per requirements hash
into ``.cache/lambda-layers`` and hard-linked into each cloud assembly. The training job's source archive
is built here too (``training_source_bundling``): ``training/``, ``spec/``, a team's code folder and the
wheels of its extra packages (``training_packages``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from pydantic import BaseModel

from domain.training.team_code import REQUIREMENTS_FILE, RESERVED_FOLDER_NAMES
from stacks.constructs.training_packages import PackagingError, wheelhouse
from stacks.constructs.wheel_names import refuse_shadowing

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = PROJECT_ROOT / "lambdas"
# What training/ shares with domain/: shipped beside it in the training source directory.
SHARED_PACKAGE = "spec"
RUNTIME_PACKAGES = ("domain", "adapters", SHARED_PACKAGE)
LAYER_REQUIREMENTS = LAMBDAS_DIR / "requirements.txt"
LAYER_CACHE = PROJECT_ROOT / ".cache" / "lambda-layers"

# Bundling here is always local; CDK still asks for an image that it would use as a fallback.
_NO_DOCKER = cdk.DockerImage.from_registry("local-bundling-only")
# What never ships in an asset: caches that tools leave beside the code.
_CACHE_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"})
_IGNORED = shutil.ignore_patterns(*_CACHE_PARTS, "*.pyc")


@jsii.implements(cdk.ILocalBundling)
class _CopySources:
    """Copies folders and writes generated files into the asset's output folder."""

    def __init__(self, folders: dict[str, Path], files: dict[str, str]) -> None:
        self._folders = folders
        self._files = files

    def try_bundle(self, output_dir: str, _options: Any) -> bool:
        out = Path(output_dir)
        for target, source in self._folders.items():
            shutil.copytree(source, out / target if target else out, ignore=_IGNORED, dirs_exist_ok=True)
        for name, content in self._files.items():
            (out / name).write_text(content, encoding="utf-8")
        return True


def generated_json(by_dataset: Mapping[str, Any]) -> str:
    """A generated file of a function's asset (``domain.declared`` reads it): each dataset's value as JSON.

    A pydantic model (a contract, a configuration) is dumped in JSON mode; the keys are sorted so that the
    same configuration makes the same asset.
    """
    dumped = {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in by_dataset.items()
    }
    return json.dumps(dumped, indent=1, sort_keys=True)


def function_code(function_dir: str, *, generated_files: dict[str, str] | None = None) -> lambda_.Code:
    """The code asset of ``lambdas/<function_dir>``: handler, runtime packages and generated files.

    The asset is hashed on its output, so a change to the domain package or to a contract redeploys the
    function even though its handler did not change.
    """
    source = LAMBDAS_DIR / function_dir
    if not (source / "handler.py").is_file():
        raise PackagingError(f"{source} has no handler.py")
    folders = {"": source} | {name: PROJECT_ROOT / name for name in RUNTIME_PACKAGES}
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            image=_NO_DOCKER,
            local=_CopySources(folders, generated_files or {}),  # type: ignore[arg-type]  # a jsii interface
        ),
    )


@jsii.implements(cdk.ILocalBundling)
class _PipLayer:
    """Installs the layer's pinned requirements for the Lambda platform, from a build cache."""

    def __init__(self, cache_dir: Path, platforms: list[str], python_version: str) -> None:
        self._cache_dir = cache_dir
        self._platforms = platforms
        self._python_version = python_version

    def try_bundle(self, output_dir: str, _options: Any) -> bool:
        built = self._cache_dir / "python"
        if not built.is_dir():
            self._build()
        # Hard links: the cloud assembly gets the layer in a moment and no second copy on disk.
        shutil.copytree(built, Path(output_dir) / "python", copy_function=_link_or_copy, dirs_exist_ok=True)
        return True

    def _build(self) -> None:
        # A staging folder of this process's own: synths run at once (the tests' workers, a person's `cdk
        # synth` beside them) must not build into, or delete, each other's half-built layer.
        parent = self._cache_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{self._cache_dir.name}.partial-", dir=parent))
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--requirement", str(LAYER_REQUIREMENTS), "--target", str(staging / "python"),
            *(arg for platform in self._platforms for arg in ("--platform", platform)),
            "--python-version", self._python_version,
            "--implementation", "cp", "--only-binary=:all:", "--no-compile",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise PackagingError(
                "could not build the Lambda dependency layer (pip needs to reach the package index once; "
                f"the result is cached in {LAYER_CACHE}):\n{result.stderr[-2000:]}"
            )
        _strip(staging / "python")
        try:
            staging.rename(self._cache_dir)
        except OSError:
            # Another synth finished the same layer (same requirements hash) first: use its copy.
            shutil.rmtree(staging, ignore_errors=True)
            if not (self._cache_dir / "python").is_dir():
                raise


def dependency_layer_code(*, architecture: lambda_.Architecture, runtime: lambda_.Runtime) -> lambda_.Code:
    """The code asset of the dependency layer for ``architecture`` and ``runtime``."""
    machine = "aarch64" if architecture.name == lambda_.Architecture.ARM_64.name else "x86_64"
    # Lambda's Amazon Linux 2023 has glibc 2.34: wheels up to manylinux_2_34 run there.
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in (34, 28, 17)] + [f"manylinux2014_{machine}"]
    python_version = runtime.name.removeprefix("python")
    digest = hashlib.sha256(
        LAYER_REQUIREMENTS.read_bytes() + f"|{','.join(platforms)}|{python_version}".encode()
    ).hexdigest()
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=digest,
        bundling=cdk.BundlingOptions(
            image=_NO_DOCKER,
            local=_PipLayer(LAYER_CACHE / digest[:16], platforms, python_version),  # type: ignore[arg-type]
        ),
    )


def _link_or_copy(source: str, destination: str) -> str:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
    return destination


def _strip(site: Path) -> None:
    """Drop what the functions never load, to stay well below Lambda's 250 MB unzipped limit.

    pyarrow alone is 150 MB; its Flight RPC, S3/GCS/Azure/HDFS file systems (S3 goes through boto3),
    C++ tests, headers and sources are not linked by the modules the functions import (checked with
    ``readelf -d``): about 60 MB less.
    """
    for pattern in ("**/tests", "**/__pycache__", "pyarrow/include", "pyarrow/src", "numpy/_core/include"):
        for path in site.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
    unused = (
        *("**/*.pyx", "**/*.pxd", "**/*.h", "**/*.cc"),
        *("pyarrow/*flight*", "pyarrow/*_s3*", "pyarrow/_azurefs*", "pyarrow/_gcsfs*", "pyarrow/_hdfs*"),
        "pyarrow/_pyarrow_cpp_tests*",
    )
    for pattern in unused:
        for path in site.glob(pattern):
            path.unlink(missing_ok=True)


# The source archive's folder of wheels (stacks/constructs/training_packages.py), read by the job's
# mlops_training.packages.activate.
WHEELS_FOLDER = "wheels"


def source_files(folders: dict[str, Path]) -> list[tuple[str, Path]]:
    """The files the training source archive holds, sorted: ``(name in the archive, file)``.

    ``folders`` maps a folder inside the archive ("" for its root) to the folder that fills it. Left out,
    below each folder: anything hidden (a name starting with a dot: ``.env``, ``.git/``, a tool's cache;
    Python never imports such a name, and a team's secrets or history have no place in a model) and
    ``__pycache__``/``*.pyc`` (built for the synth's Python, not the image's). A team's tests and data files
    ship: the team's code may read or import anything in its folder by name, and leaving a file out by a
    guess about its purpose would fail only on AWS.
    """
    return sorted(
        (str(Path(prefix) / path.relative_to(source)), path)
        for prefix, source in folders.items()
        for path in source.rglob("*")
        if path.is_file() and _ships(path.relative_to(source))
    )


def _ships(relative: Path) -> bool:
    """Whether a file at ``relative`` below a source folder goes into the archive (see source_files)."""
    hidden = any(part.startswith(".") or part in _CACHE_PARTS for part in relative.parts)
    return not hidden and relative.suffix != ".pyc"


@jsii.implements(cdk.ILocalBundling)
class _SourceTarball:
    """Packs folders as ``sourcedir.tar.gz``, the SageMaker training toolkit's source directory.

    ``folders`` maps a folder inside the archive ("" for its root) to the folder that fills it.
    Deterministic (sorted entries, fixed owner and times, no gzip timestamp), so the asset hash changes
    only when the code does.
    """

    def __init__(self, folders: dict[str, Path]) -> None:
        self._folders = folders

    def try_bundle(self, output_dir: str, _options: Any) -> bool:
        files = source_files(self._folders)
        target = Path(output_dir) / "sourcedir.tar.gz"
        with (
            target.open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
            tarfile.open(fileobj=zipped, mode="w") as archive,
        ):
            for name, path in files:
                info = archive.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                with path.open("rb") as content:
                    archive.addfile(info, content)
        return True


def training_source_bundling(team_code: Path | None) -> cdk.BundlingOptions:
    """Bundling of the training job's source archive, one ``sourcedir.tar.gz`` file asset (no Docker).

    At the archive's root: ``training/``'s files (``train.py``, ``mlops_training/``...), ``spec/`` beside
    them, where the job's imports find it (the toolkit runs the script from the extracted folder, which it
    also puts on ``PYTHONPATH``), the team code folder under its own name (so ``<folder>.<module>`` imports
    in the job, and at the endpoint once copied into the model archive's ``code/``), and ``wheels/``: the
    wheelhouse of the team's ``requirements.txt`` and the platform's ``training/import-requirements.txt``
    for the image, with its ``manifest.json``.

    Parameters
    ----------
    team_code
        The team code folder (``Platform.team_code``), or None when every dataset trains a built-in family.

    Raises
    ------
    PackagingError
        The wheelhouse cannot be built (``training_packages.wheelhouse``), or a wheel installs a name the
        archive's root uses (``wheel_names.refuse_shadowing``).
    """
    folders = {"": PROJECT_ROOT / "training", SHARED_PACKAGE: PROJECT_ROOT / SHARED_PACKAGE}
    requirements = None
    if team_code is not None:
        # Its name is checked at synth (domain.training.team_code: not one the archive's root already has).
        folders[team_code.name] = team_code
        if (team_code / REQUIREMENTS_FILE).is_file():
            requirements = team_code / REQUIREMENTS_FILE
    folders[WHEELS_FOLDER] = wheelhouse(requirements)
    # Unpacked first on the job's sys.path: none may take a name the archive's root uses.
    refuse_shadowing(folders[WHEELS_FOLDER], RESERVED_FOLDER_NAMES, team_code)
    return cdk.BundlingOptions(
        image=_NO_DOCKER,
        local=_SourceTarball(folders),  # type: ignore[arg-type]  # a jsii interface
        output_type=cdk.BundlingOutput.ARCHIVED,
    )
