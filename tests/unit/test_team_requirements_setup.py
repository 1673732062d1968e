"""make setup's team requirements: the requirements.txt of the team code folder that cdk.json names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stacks.team_requirements import PROJECT_ROOT, main, requirements_digest, team_requirements


def project(root: Path, model: dict[str, object]) -> Path:
    """A project of the real cdk.json and contracts whose churn trains ``model``."""
    shutil.copytree(PROJECT_ROOT / "contracts", root / "contracts")
    cdk = json.loads((PROJECT_ROOT / "cdk.json").read_text())
    cdk["context"]["mlops"]["datasets"]["churn"]["training"]["model"] = model
    (root / "cdk.json").write_text(json.dumps(cdk))
    return root


def team_folder(root: Path, pins: str | None) -> None:
    (root / "ml" / "team").mkdir(parents=True)
    (root / "ml" / "team" / "churn.py").write_text("def build(contract, hyperparameters):\n    return None\n")
    if pins is not None:
        (root / "ml" / "team" / "requirements.txt").write_text(pins)


def test_the_team_folder_cdk_json_names_gives_its_requirements_wherever_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a project whose churn trains ml/team/churn.py, a folder with a requirements.txt
    root = project(tmp_path, {"module": "ml/team/churn.py", "builder": "build"})
    team_folder(root, "xgboost-cpu==3.2.0\n")

    # When make setup asks for the team's requirements and their digest
    assert main([], root) == 0
    printed = capsys.readouterr().out
    assert main(["--digest"], root) == 0
    digest = capsys.readouterr().out.strip()

    # Then it names that file, relative to the project, and a digest that follows its content
    assert printed == "ml/team/requirements.txt\n"
    assert team_requirements(root) == root / "ml" / "team" / "requirements.txt"
    (root / "ml" / "team" / "requirements.txt").write_text("xgboost-cpu==3.1.0\n")
    assert digest != requirements_digest(team_requirements(root))


def test_no_team_module_or_no_requirements_file_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a project training a built-in family, and one whose team folder has no requirements.txt
    family = project(tmp_path / "family", {"family": "logistic_regression"})
    bare = project(tmp_path / "bare", {"module": "ml/team/churn.py", "builder": "build"})
    team_folder(bare, None)

    # When make setup asks for the team's requirements
    # Then there are none
    assert main([], family) == 0 and main([], bare) == 0
    assert capsys.readouterr().out == ""
    assert requirements_digest(team_requirements(family)) == requirements_digest(None)


def test_a_configuration_error_is_the_synths_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a project whose churn names a builder its module does not define
    root = project(tmp_path, {"module": "ml/team/churn.py", "builder": "missing"})
    team_folder(root, "xgboost-cpu==3.2.0\n")

    # When make setup asks for the team's requirements
    # Then it fails with the synth's error, naming the cdk.json key
    assert main([], root) == 2
    assert "make setup: cdk.json: mlops.datasets.churn.training.model.builder" in capsys.readouterr().err
