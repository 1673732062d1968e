"""A champion's own code and wheels (its archive's ``code/``): importable while it loads and predicts, and
gone from ``sys.path`` after, so that the challenger's later imports never find the champion's."""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import joblib
import pyarrow as pa
import pytest

from tests.import_isolation import isolated_imports
from training.mlops_training.champion import score_champion
from training.mlops_training.contract_io import Signature

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
