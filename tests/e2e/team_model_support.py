"""What the team-model end-to-end tests build in-process: the rows a run trained on, the files people import.

The estimators are fit here, in the test's process, on the train rows of a run the platform made (its
``train`` channel in the data bucket), with the platform's own feature matrix
(``mlops_training.contract_io``), as a team would fit a model elsewhere on the same data before importing it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from tests.e2e.conftest import DataPlane
from training.mlops_training.contract_io import (
    Signature,
    feature_matrix,
    read_channel,
    signature_from,
    target_vector,
)
from training.mlops_training.families import resolve_hyperparameters
from training.mlops_training.pipeline import build_pipeline

# The example team code folder, as cdk.json names its module, and the import name the job gives it.
TEAM_FOLDER = Path(__file__).resolve().parents[2] / "examples" / "team_models"
TEAM_PACKAGE = TEAM_FOLDER.name
MODULE = "examples/team_models/churn_xgboost.py"
BUILDER = "build"


@dataclass(frozen=True)
class TrainRows:
    """A run's train rows as the training job sees them."""

    signature: Signature
    matrix: npt.NDArray[np.object_]
    target: npt.NDArray[Any]


def _download(platform: DataPlane, uri: str, folder: Path) -> Path:
    prefix = uri.split("/", 3)[3]
    s3 = platform.client("s3")
    for item in s3.list_objects_v2(Bucket=platform.bucket, Prefix=prefix).get("Contents", []):
        target = folder / item["Key"].removeprefix(prefix).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(platform.bucket, item["Key"], str(target))
    return folder


def train_rows(platform: DataPlane, run_output: dict[str, Any], folder: Path) -> TrainRows:
    """A run's train channel and configuration (from its Step Functions output), as the job reads them."""
    prepared = run_output["prepare"]
    config = _download(platform, prepared["config_uri"], folder / "config")
    signature = signature_from(
        json.loads((config / "contract.json").read_text()), json.loads((config / "training.json").read_text())
    )
    table = read_channel(_download(platform, prepared["train_uri"], folder / "train"), "train")
    return TrainRows(
        signature=signature,
        matrix=feature_matrix(table, signature.features),
        target=target_vector(table, signature.target, signature.task, "the train channel"),
    )


def good_model(rows: TrainRows, path: Path) -> Path:
    """The platform's histogram gradient boosting Pipeline fit on ``rows``, saved with skops."""
    pipeline = build_pipeline(
        rows.signature.features,
        rows.signature.task,
        "hist_gradient_boosting",
        resolve_hyperparameters("hist_gradient_boosting", {}, {}),
        seed=0,
    )
    sio.dump(pipeline.fit(rows.matrix, rows.target), path)
    return path


# The types that good_model's file holds beyond skops's own trusted defaults (skops.io.get_untrusted_types),
# which the deployed configuration trusts (training.imports.trusted_types).
HIST_GRADIENT_BOOSTING_TYPES = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]


def constant_model(rows: TrainRows, path: Path) -> Path:
    """A DummyClassifier fit on ``rows`` (always the class frequencies: ROC AUC 0.5), saved with skops."""
    sio.dump(DummyClassifier(strategy="prior").fit(rows.matrix, rows.target), path)
    return path


def pickled_model(rows: TrainRows, path: Path) -> Path:
    """A fitted estimator saved with joblib (a pickle), as people save models when skops is not asked for."""
    joblib.dump(DummyClassifier(strategy="prior").fit(rows.matrix, rows.target), path)
    return path


@contextlib.contextmanager
def team_code_importable(folder: Path) -> Iterator[None]:
    """``folder`` first on ``sys.path``, so that ``team_models`` is imported from it, for the block.

    The team package's modules are dropped from ``sys.modules`` before and after: another folder's copy
    (the examples', a model archive's ``code/``) must not answer for this one.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        _forget_team_package()
        try:
            yield
        finally:
            _forget_team_package()


def _forget_team_package() -> None:
    for name in [n for n in sys.modules if n == TEAM_PACKAGE or n.startswith(f"{TEAM_PACKAGE}.")]:
        del sys.modules[name]


def untrusted_model(rows: TrainRows, path: Path) -> Path:
    """The example's own feature step (``team_models.churn_xgboost.ChurnFeatures``) before a histogram
    gradient boosting classifier, fit on ``rows`` and saved with skops: a type skops does not trust by
    default."""
    with team_code_importable(TEAM_FOLDER.parent):
        from team_models.churn_xgboost import ChurnFeatures

        numeric = [
            index
            for index, feature in enumerate(rows.signature.features)
            if feature.type in ("integer", "float")
        ]
        pipeline = Pipeline(
            [
                ("features", ChurnFeatures(numeric=numeric)),
                ("model", HistGradientBoostingClassifier(max_iter=20)),
            ]
        )
        sio.dump(pipeline.fit(rows.matrix, rows.target), path)
    return path


def archived_model(platform: DataPlane, model_data_url: str, folder: Path) -> Path:
    """A registered version's model archive, unpacked into ``folder``."""
    bucket, key = model_data_url.removeprefix("s3://").split("/", 1)
    archive = platform.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def predict_in_process(archive: Path, rows: pa.Table) -> tuple[list[Any], npt.NDArray[np.float64]]:
    """What the archive's fitted estimator predicts for ``rows`` in this process.

    ``model.joblib`` is loaded with the archive's ``code/`` first on ``sys.path`` (where the team's module
    travels, as the endpoint loads it), on the feature matrix of the archive's signature.
    """
    signature = Signature.from_dict(json.loads((archive / "model_signature.json").read_text()))
    with team_code_importable(archive / "code"):
        estimator = joblib.load(archive / "model.joblib")
        matrix = feature_matrix(rows, signature.features)
        return estimator.predict(matrix).tolist(), estimator.predict_proba(matrix)
