"""A champion's own code and wheels (its archive's ``code/``): what it loads and predicts with, in a process
of its own, so that neither the challenger's team code nor the champion's reaches the other."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.import_isolation import isolated_imports
from training.mlops_training.champion import child_pythonpath, score_champion
from training.mlops_training.contract_io import Signature
from training.mlops_training.evaluate import predict

# The champion's estimator: a class of its team code that imports its package only when it predicts.
LAZY_MODEL = """\
import numpy as np


class LazyModel:
    classes_ = np.array([0, 1])

    def predict(self, features):
        import mlops_champion_pkg

        return np.full(len(features), mlops_champion_pkg.LABEL)

    def predict_proba(self, features):
        return np.tile([0.25, 0.75], (len(features), 1))
"""
SIGNATURE = Signature.from_dict(
    {
        "task": "classification",
        "target": {"name": "y", "type": "integer"},
        "features": [{"name": "x", "type": "float"}],
    }
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Unpacked wheels land in this test's folder, and what they put on sys.path or import goes away after."""
    with isolated_imports(monkeypatch, tmp_path / "tmp"):
        yield


def champion_folder(root: Path) -> Path:
    """A champion's files: model.joblib of LazyModel, code/champion_team/, code/wheels/ with its package."""
    code = root / "champion" / "code"
    (code / "champion_team").mkdir(parents=True)
    (code / "champion_team" / "__init__.py").write_text("")
    (code / "champion_team" / "lazy.py").write_text(LAZY_MODEL)
    wheels = code / "wheels"
    wheels.mkdir()
    wheel = wheels / "mlops_champion_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mlops_champion_pkg/__init__.py", "LABEL = 1\n")
        metadata = "Name: mlops-champion-pkg\nVersion: 1.0\n"
        archive.writestr("mlops_champion_pkg-1.0.dist-info/METADATA", metadata)
    entry = {
        "name": "mlops-champion-pkg",
        "version": "1.0",
        "file": wheel.name,
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "source": "team",
    }
    manifest = {"format": 1, "python": "3.12", "platforms": [], "wheels": [entry]}
    (wheels / "manifest.json").write_text(json.dumps(manifest))
    sys.path.append(str(code))  # as the job that trained it had its code importable
    from champion_team.lazy import LazyModel

    joblib.dump(LazyModel(), root / "champion" / "model.joblib")
    sys.path.remove(str(code))
    for name in [n for n in sys.modules if n.split(".")[0] == "champion_team"]:
        del sys.modules[name]
    return root / "champion"


def test_a_champion_predicts_with_its_own_code_and_wheels_and_leaves_sys_path_as_it_was(
    tmp_path: Path,
) -> None:
    # Given a champion whose estimator imports a package of its own wheels when it predicts
    channel = champion_folder(tmp_path)
    path_before = list(sys.path)

    # When the job scores it on the test rows
    output, record = score_champion(channel, pa.table({"x": [0.5, 1.5], "y": [0, 1]}), SIGNATURE)

    # Then it predicted with its package, and neither its code/ nor its wheels stay importable
    assert record is not None and record["status"] == "scored", record
    assert output is not None and output.predicted.tolist() == [1, 1]
    assert sys.path == path_before


def versioned_model(label: int) -> str:
    """A team module whose estimator predicts ``label`` for every row: two versions of the same module."""
    return f"""\
import numpy as np


class ConstantModel:
    classes_ = np.array([0, 1])

    def predict(self, features):
        return np.full(len(features), {label})

    def predict_proba(self, features):
        return np.tile([1.0 - {label}, float({label})], (len(features), 1))
"""


def team_folder(root: Path, label: int) -> Path:
    """A team code folder ``versioned_team`` whose ``model`` module predicts ``label``."""
    folder = root / "versioned_team"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "model.py").write_text(versioned_model(label))
    return folder


def test_a_champion_of_an_older_version_of_the_team_module_predicts_with_that_version(tmp_path: Path) -> None:
    # Given a champion trained with version 1 of versioned_team.model (it predicts 0), its code/ in its folder
    champion = tmp_path / "champion"
    code = champion / "code"
    team_folder(code, 0)
    sys.path.insert(0, str(code))
    from versioned_team.model import ConstantModel

    joblib.dump(ConstantModel(), champion / "model.joblib")
    sys.path.remove(str(code))
    for name in [n for n in sys.modules if n.split(".")[0] == "versioned_team"]:
        del sys.modules[name]
    # and a challenger's job that imported version 2 of the same module (it predicts 1)
    challenger = tmp_path / "challenger"
    team_folder(challenger, 1)
    sys.path.insert(0, str(challenger))
    import versioned_team.model

    assert versioned_team.model.ConstantModel().predict([[0.5]]).tolist() == [1]

    # When the job scores the champion
    output, record = score_champion(champion, pa.table({"x": [0.5, 1.5, 2.5], "y": [0, 1, 0]}), SIGNATURE)

    # Then it predicted with version 1, its own
    assert record is not None and record["status"] == "scored", record
    assert output is not None and output.predicted.tolist() == [0, 0, 0]
    assert output.probabilities is not None and output.probabilities.tolist() == [[1.0, 0.0]] * 3


def test_a_champion_scored_apart_gives_what_it_predicts_in_process_labels_of_any_type(tmp_path: Path) -> None:
    # Given a built-in-like champion: a scikit-learn Pipeline over string labels (an object array of them)
    rows = pa.table({"x": [0.1, 0.4, 0.35, 0.8, 0.9, 0.2], "y": ["no", "no", "yes", "yes", "yes", "no"]})
    signature = Signature.from_dict(
        {"task": "classification", "target": {"name": "y", "type": "string"},
         "features": [{"name": "x", "type": "float"}]}
    )  # fmt: skip
    features = np.array(rows.column("x").to_pylist(), dtype=object).reshape(-1, 1)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        features, np.array(rows.column("y").to_pylist(), dtype=object)
    )
    (tmp_path / "champion").mkdir()
    joblib.dump(model, tmp_path / "champion" / "model.joblib")
    expected = predict(model, features, "classification")

    # When the job scores it in its own process
    output, record = score_champion(tmp_path / "champion", rows, signature)

    # Then the labels, their dtype, the probabilities and the classes are those of the model in this process
    assert record is not None and record["status"] == "scored", record
    assert output is not None
    assert output.predicted.dtype == expected.predicted.dtype == object
    assert output.predicted.tolist() == expected.predicted.tolist()
    assert output.probabilities is not None and expected.probabilities is not None
    assert np.array_equal(output.probabilities, expected.probabilities)
    assert output.classes == expected.classes == ["no", "yes"]


def test_what_fails_in_the_scoring_process_is_the_reason_the_champion_is_unscorable(tmp_path: Path) -> None:
    # Given a champion whose model.joblib names a module that its code/ does not have
    champion = tmp_path / "champion"
    team_folder(tmp_path / "gone", 0)
    sys.path.insert(0, str(tmp_path / "gone"))
    from versioned_team.model import ConstantModel

    champion.mkdir()
    joblib.dump(ConstantModel(), champion / "model.joblib")

    # When the job scores it (this process still imports versioned_team; the scoring one does not)
    output, record = score_champion(champion, pa.table({"x": [0.5], "y": [0]}), SIGNATURE)

    # Then it is unscorable with the scoring process's own one-line reason
    assert output is None
    assert record == {
        "status": "unscorable",
        "reason": "ModuleNotFoundError: No module named 'versioned_team'",
    }


def test_the_scoring_process_keeps_the_jobs_pythonpath_but_its_source_directory(tmp_path: Path) -> None:
    # Given a job whose PYTHONPATH holds a guard folder (the local cloud's), its source directory and another
    source, guard, other, links = (tmp_path / name for name in ("source", "guard", "other", "links"))
    inherited = os.pathsep.join([str(guard), str(source) + "/", str(other)])

    # When the scoring process's PYTHONPATH is made
    path = child_pythonpath(inherited, links, source)

    # Then the links come first and the others stay in order, without the challenger's source directory
    assert path.split(os.pathsep) == [str(links), str(guard), str(other)]
    assert child_pythonpath(None, links, source) == str(links)
