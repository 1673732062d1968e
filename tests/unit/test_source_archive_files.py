"""What the training source archive takes from its folders: no hidden file or folder, no bytecode."""

from __future__ import annotations

from pathlib import Path

from stacks.constructs.lambda_packaging import source_files


def write(path: Path, text: str = "x = 1\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_hidden_files_and_folders_and_bytecode_stay_out_and_everything_else_ships(tmp_path: Path) -> None:
    # Given a team code folder with its modules, tests and data, and a .env, a .git/, a hidden subfolder of a
    # package, a tool's cache and bytecode beside them
    team = tmp_path / "project" / "team_models"
    for name in ("__init__.py", "churn.py", "features/__init__.py", "tests/test_churn.py", "data/labels.csv"):
        write(team / name)
    for name in (
        ".env",
        ".git/config",
        "features/.secrets/key.txt",
        ".pytest_cache/v/x",
        "__pycache__/churn.pyc",
    ):
        write(team / name)
    write(team / "features" / "stale.pyc")

    # When the archive's files are listed with the team folder under its name
    files = source_files({"team_models": team})

    # Then the modules, the tests and the data ship under team_models/, and nothing hidden or compiled
    assert [name for name, _ in files] == [
        "team_models/__init__.py",
        "team_models/churn.py",
        "team_models/data/labels.csv",
        "team_models/features/__init__.py",
        "team_models/tests/test_churn.py",
    ]
    assert all(path == team / name.removeprefix("team_models/") for name, path in files)


def test_a_hidden_folder_above_the_source_folder_does_not_hide_its_files(tmp_path: Path) -> None:
    # Given a project checked out below a hidden folder (~/.work/project)
    source = tmp_path / ".work" / "project" / "training"
    write(source / "train.py")

    # When the archive's root is filled from it
    # Then its files ship: only what is hidden below the folder is left out
    assert source_files({"": source}) == [("train.py", source / "train.py")]
