"""The training job's source archive (``sourcedir.tar.gz``) when a dataset trains a team's module: the team
code folder under its own name, ``wheels/`` with the wheelhouse and its manifest, and an asset hash that
follows every byte of them.

The wheelhouse comes from ``.cache/wheelhouse`` (built from the package index the first time, then reused).
"""

from __future__ import annotations

import copy
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from domain.training.team_code import RESERVED_FOLDER_NAMES
from stacks.app import PROJECT_ROOT, build_app, cdk_json_context
from stacks.config import TrainingInfraConfig
from stacks.constructs.training_job import TrainingJob

pytestmark = pytest.mark.slow

TEAM_FOLDER = PROJECT_ROOT / "examples" / "team_models"
MODULE = "examples/team_models/churn_xgboost.py"


def source_archive(assembly: Path, stack: str) -> tuple[str, Path]:
    """The hash and path of ``stack``'s one archived file asset: the training source archive."""
    manifest = json.loads((assembly / f"{stack}.assets.json").read_text(encoding="utf-8"))
    [(asset_hash, path)] = [
        (asset_hash, assembly / asset["source"]["path"])
        for asset_hash, asset in manifest["files"].items()
        if asset["source"]["path"].endswith(".tar.gz")
    ]
    return asset_hash, path


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as opened:
        return {
            member.name: opened.extractfile(member).read()  # type: ignore[union-attr]  # a file member
            for member in opened.getmembers()
            if member.isfile()
        }


@pytest.fixture(scope="module")
def team_app_archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of the training source archive of the app with churn trained by the example team's module."""
    mlops: dict[str, Any] = copy.deepcopy(cdk_json_context()["mlops"])
    mlops["datasets"]["churn"]["training"]["model"] = {"module": MODULE, "builder": "build"}
    outdir = tmp_path_factory.mktemp("team-app.out")
    assembly = Path(build_app({"mlops": mlops}, outdir=str(outdir)).synth().directory)
    _, archive = source_archive(assembly, "mlops-training")
    return members(archive)


def test_the_team_code_folder_ships_whole_under_its_name_without_caches(
    team_app_archive: dict[str, bytes],
) -> None:
    # Given the app with churn trained by examples/team_models/churn_xgboost.py
    # When its training source archive is read
    # Then the team's folder is at its root as team_models/, file for file, and no cache came with it
    shipped = {
        name.removeprefix("team_models/") for name in team_app_archive if name.startswith("team_models/")
    }
    expected = {
        str(path.relative_to(TEAM_FOLDER))
        for path in TEAM_FOLDER.rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part == "__pycache__" for part in path.relative_to(TEAM_FOLDER).parts
        )
        and path.suffix != ".pyc"
    }
    assert shipped == expected and {"__init__.py", "churn_xgboost.py", "requirements.txt"} <= shipped
    assert team_app_archive["team_models/churn_xgboost.py"] == (TEAM_FOLDER / "churn_xgboost.py").read_bytes()
    assert not [name for name in team_app_archive if "__pycache__" in name or name.endswith(".pyc")]
    # And beside it the job's own code and spec/, as without a team
    assert {"train.py", "inference.py", "mlops_training/job.py", "spec/__init__.py"} <= set(team_app_archive)


def test_the_wheels_of_the_team_and_the_platform_ship_with_their_manifest(
    team_app_archive: dict[str, bytes],
) -> None:
    # When the archive's wheels/ is read
    manifest = json.loads(team_app_archive["wheels/manifest.json"])

    # Then the manifest is for the image's Python and platform, and names XGBoost (the team's) and skops
    # (the platform's), each with its file there
    assert manifest["format"] == 1 and manifest["python"] == "3.12"
    assert (
        "manylinux_2_34_x86_64" in manifest["platforms"] and "manylinux2014_x86_64" in manifest["platforms"]
    )
    wheels = {wheel["name"]: wheel for wheel in manifest["wheels"]}
    assert (wheels["xgboost-cpu"]["version"], wheels["xgboost-cpu"]["source"]) == ("3.2.0", "team")
    assert (wheels["skops"]["version"], wheels["skops"]["source"]) == ("0.16.0", "platform")
    assert wheels["xgboost-cpu"]["file"].startswith("xgboost_cpu-3.2.0-")
    shipped = {name.removeprefix("wheels/") for name in team_app_archive if name.startswith("wheels/")}
    assert shipped == {wheel["file"] for wheel in manifest["wheels"]} | {"manifest.json"}
    # And the image's own packages are not shipped again
    assert not {"numpy", "scipy", "scikit-learn", "joblib", "narwhals"} & set(wheels)


def test_a_team_folder_name_the_synth_checks_allow_never_replaces_what_the_archive_ships(
    team_app_archive: dict[str, bytes],
) -> None:
    # Given the names the archive's root holds besides the team's folder (a module or package a job imports)
    importable = {
        Path(name.split("/", 1)[0]).stem for name in team_app_archive if "/" in name or name.endswith(".py")
    } - {"team_models"}

    # Then the synth checks refuse a team folder of each of them
    assert importable <= RESERVED_FOLDER_NAMES, importable - RESERVED_FOLDER_NAMES


def test_the_archive_root_holds_nothing_the_toolkit_would_install_online(
    team_app_archive: dict[str, bytes],
) -> None:
    # Given the archive the network-isolated job runs (train.py's folder, the toolkit's code directory)
    root = {name for name in team_app_archive if "/" not in name}

    # Then the SageMaker training toolkit finds neither a requirements.txt (it would pip-install it from
    # the index: entry_point.install) nor a setup.py (it would pip-install the folder as a package,
    # _entry_point_type.get): the platform's and the team's requirements ship as wheels instead
    assert "train.py" in root
    assert not {"requirements.txt", "setup.py"} & root


def synthesize_job(outdir: Path, team_code: Path) -> tuple[str, Path]:
    """A stack of one training job shipping ``team_code``: its source asset's hash and archive."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Job")
    TrainingJob(
        stack,
        "Job",
        data_bucket=s3.Bucket(stack, "Data"),
        key=kms.Key(stack, "Key"),
        settings=TrainingInfraConfig(),
        team_code=team_code,
    )
    return source_archive(Path(app.synth().directory), "Job")


def test_the_source_asset_hash_changes_with_the_team_modules_bytes_and_only_then(tmp_path: Path) -> None:
    # Given a team folder (the example's, copied) with a cache a tool left in it
    team = tmp_path / "team_models"
    shutil.copytree(TEAM_FOLDER, team, ignore=shutil.ignore_patterns("__pycache__"))
    (team / "__pycache__").mkdir()
    (team / "__pycache__" / "churn_xgboost.cpython-311.pyc").write_bytes(b"cached")
    first_hash, first = synthesize_job(tmp_path / "first", team)

    # When it is synthesized again with no change, with another cache, and after the module's bytes change
    (team / "__pycache__" / "churn_xgboost.cpython-311.pyc").write_bytes(b"cached again")
    again_hash, again = synthesize_job(tmp_path / "again", team)
    with (team / "churn_xgboost.py").open("a", encoding="utf-8") as module:
        module.write("\n# one more line\n")
    changed_hash, changed = synthesize_job(tmp_path / "changed", team)

    # Then the same code is the same archive, byte for byte, and a changed module is another asset
    assert again_hash == first_hash and again.read_bytes() == first.read_bytes()
    assert changed_hash != first_hash
    assert members(changed)["team_models/churn_xgboost.py"].endswith(b"# one more line\n")
    assert not [name for name in members(first) if "__pycache__" in name]
