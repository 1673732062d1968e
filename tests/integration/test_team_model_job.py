"""The training job as SageMaker runs it, with a team's model and with an imported one.

The source directory is assembled as the build ships it (``sourcedir.tar.gz``: ``train.py``,
``inference.py``, ``mlops_training/`` and ``spec/`` at its root, the team code folder under its name,
``wheels/`` with its manifest), and ``train.py`` runs in it as a process on churn channels split by the
platform. The manifest lists the virtualenv's own versions, so everything is present and nothing is
unpacked, as in the local cloud. The model archive is then served in-process through its own
``code/inference.py``. Each refusal of an imported file fails the job (run in-process through ``main``)
with its message in the failure file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io
from sklearn.linear_model import LinearRegression, LogisticRegression

from domain.training.config import parse_training_config
from domain.training.splitting import SPLITS, split_batches
from examples.churn import request_csv
from tests.trained_model import churn_contract, churn_snapshot
from training.mlops_training.champion import score_champion
from training.mlops_training.contract_io import (
    Signature,
    feature_matrix,
    read_channel,
    signature_from,
    target_vector,
)
from training.mlops_training.job import main
from training.mlops_training.pipeline import build_pipeline

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/team_models/churn_xgboost.py"
FRAMEWORK = (
    ROOT / "localcloud" / "sagemaker" / "serving" / "framework"
)  # the container's sagemaker_containers
TRAINING = {
    "model": {"module": EXAMPLE, "builder": "build", "hyperparameters": {"n_estimators": 40}, "seed": 1},
    "evaluation": {"bootstrap_samples": 20},
}
CALLER = "arn:aws:sts::123456789012:assumed-role/DataScientist/ana"


@dataclass(frozen=True)
class Job:
    """One finished run of train.py."""

    folder: Path
    returncode: int
    log: str

    @property
    def model(self) -> Path:
        return self.folder / "model"

    @property
    def evaluation(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.model / "evaluation.json").read_text())
        return document


def _wheel(name: str, source: str) -> dict[str, str]:
    version = metadata.version(name)
    file = f"{name}-{version}-py3-none-any.whl"  # never read: the distribution is installed at that version
    return {"name": name, "version": version, "file": file, "sha256": "0" * 64, "source": source}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source directory as the build ships it."""
    root = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("train.py", "inference.py"):
        shutil.copy2(ROOT / "training" / name, root / name)
    shutil.copytree(ROOT / "training" / "mlops_training", root / "mlops_training", ignore=ignore)
    shutil.copytree(ROOT / "spec", root / "spec", ignore=ignore)
    shutil.copytree(ROOT / "examples" / "team_models", root / "team_models", ignore=ignore)
    (root / "wheels").mkdir()
    wheels = [_wheel("xgboost-cpu", "team"), _wheel("skops", "platform")]
    manifest = {"format": 1, "python": "3.12", "platforms": ["manylinux_2_34_x86_64"], "wheels": wheels}
    (root / "wheels" / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/validation/test split by the platform from generated churn rows, and the config channel."""
    folder = tmp_path_factory.mktemp("channels")
    contract = churn_contract()
    config = parse_training_config(TRAINING, contract=contract)
    for name in (*SPLITS, "config"):
        (folder / name).mkdir()
    sinks = {name: folder / name / f"{name}.parquet" for name in SPLITS}
    split_batches(churn_snapshot(1_500).to_batches(max_chunksize=500), contract, config, sinks)
    (folder / "config" / "contract.json").write_text(contract.model_dump_json())
    (folder / "config" / "training.json").write_text(config.model_dump_json())
    return folder


def environ(folder: Path, channels: Path, config: Path | None = None) -> dict[str, str]:
    return {
        "SM_MODEL_DIR": str(folder / "model"),
        "SM_OUTPUT_DATA_DIR": str(folder / "output"),
        "SM_INPUT_CONFIG_DIR": str(folder / "input-config"),
        "MLOPS_FAILURE_FILE": str(folder / "failure"),
        "SM_HPS": json.dumps({"dataset": "churn", "dataset_version": "v1", "run_id": "r1"}),
        **{f"SM_CHANNEL_{name.upper()}": str(channels / name) for name in SPLITS},
        "SM_CHANNEL_CONFIG": str(config or channels / "config"),
    }


def run_job(source: Path, folder: Path, channels: Path, config: Path | None = None) -> Job:
    """train.py in the source directory, as the container runs it."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **environ(folder, channels, config), "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)  # spec and the team's code come from the source directory alone
    log = folder / "job.log"
    with log.open("w") as output:
        process = subprocess.run(
            [sys.executable, "train.py"],
            check=False,
            cwd=source,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    return Job(folder, process.returncode, log.read_text())


def import_config(
    channels: Path, folder: Path, file: bytes, name: str, trusted: list[str] | None = None
) -> Path:
    """A config channel whose training.json imports ``file`` (as the prepare step writes it)."""
    config = folder / "config"
    config.mkdir(parents=True)
    shutil.copy2(channels / "config" / "contract.json", config / "contract.json")
    training = json.loads((channels / "config" / "training.json").read_text())
    training["imports"] = {"trusted_types": trusted or []}
    digest = hashlib.sha256(file).hexdigest()
    training["imported"] = {"file": "imported.skops", "sha256": digest, "by": CALLER, "name": name}
    (config / "training.json").write_text(json.dumps(training))
    (config / "imported.skops").write_bytes(file)
    return config


def churn_rows(channels: Path, split: str) -> tuple[Signature, pa.Table, Any, Any]:
    contract = json.loads((channels / "config" / "contract.json").read_text())
    signature = signature_from(contract, json.loads((channels / "config" / "training.json").read_text()))
    table = read_channel(channels / split, split)
    return (
        signature,
        table,
        feature_matrix(table, signature.features),
        target_vector(table, signature.target, "classification", split),
    )


@pytest.fixture(scope="module")
def team_job(source: Path, channels: Path, tmp_path_factory: pytest.TempPathFactory) -> Job:
    return run_job(source, tmp_path_factory.mktemp("team"), channels)


def test_a_family_trained_beside_team_code_and_wheels_ships_neither_into_its_model(
    source: Path, channels: Path, tmp_path: Path
) -> None:
    # Given the source directory with the team's folder and wheels, and a run that trains a built-in family
    config = tmp_path / "config"
    shutil.copytree(channels / "config", config)
    training = json.loads((config / "training.json").read_text())
    training["model"] = {"family": "hist_gradient_boosting", "hyperparameters": {"max_iter": 20}, "seed": 0}
    (config / "training.json").write_text(json.dumps(training))

    # When the job runs
    job = run_job(source, tmp_path / "job", channels, config)

    # Then the model's code/ is the platform's alone: its endpoint has nothing to unpack
    assert job.returncode == 0, job.log
    assert job.evaluation["model"]["kind"] == "family"
    assert sorted(path.name for path in (job.model / "code").iterdir()) == [
        "inference.py",
        "mlops_training",
        "spec",
    ]


@pytest.fixture
def served_code(team_job: Job, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The model archive's code/inference.py, imported as the container does (its folder on sys.path)."""
    code = team_job.model / "code"
    monkeypatch.setattr(sys, "path", [str(code), str(FRAMEWORK), *sys.path])
    shadowed = {
        name: sys.modules.pop(name)
        for name in list(sys.modules)
        if name.split(".")[0] in ("spec", "mlops_training")
    }
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location("served_inference", code / "inference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    for name in set(sys.modules) - before:
        del sys.modules[name]
    sys.modules.update(shadowed)


def test_a_team_module_trains_and_its_evaluation_records_the_module_and_packages(team_job: Job) -> None:
    assert team_job.returncode == 0, team_job.log
    evaluation = team_job.evaluation
    assert evaluation["family"] == "module"
    assert evaluation["model"] == {
        "kind": "module",
        "family": None,
        "module": {
            "path": EXAMPLE,
            "builder": "build",
            "sha256": hashlib.sha256((ROOT / EXAMPLE).read_bytes()).hexdigest(),
        },
        "imported": None,
        "packages": {"xgboost-cpu": metadata.version("xgboost-cpu")},
    }
    assert evaluation["hyperparameters"] == {"n_estimators": 40}
    assert evaluation["metrics"]["roc_auc"]["value"] > 0.65
    xgboost, skops_version = metadata.version("xgboost-cpu"), metadata.version("skops")
    assert f"packages: present xgboost-cpu=={xgboost}, skops=={skops_version}; unpacked none" in team_job.log


def test_the_model_archive_carries_the_team_code_and_the_wheels(team_job: Job) -> None:
    code = team_job.model / "code"

    assert (code / "team_models" / "churn_xgboost.py").read_bytes() == (ROOT / EXAMPLE).read_bytes()
    assert json.loads((code / "wheels" / "manifest.json").read_text())["wheels"][0]["name"] == "xgboost-cpu"
    assert not list(code.rglob("__pycache__"))


def test_the_served_answer_is_the_fitted_estimators_predict_proba(
    team_job: Job, channels: Path, served_code: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, rows, features, _ = churn_rows(channels, "test")
    rows = rows.slice(0, 40)

    model = served_code.model_fn(str(team_job.model))
    answer = served_code.predict_fn(served_code.input_fn(request_csv(rows), "text/csv"), model)
    response = served_code.output_fn(answer, "application/json")

    assert response.status_code == 200
    fitted = joblib.load(team_job.model / "model.joblib")
    expected = fitted.predict_proba(features[:40])
    predictions = json.loads(response.get_data())["predictions"]
    np.testing.assert_array_equal(
        [[p["probabilities"][c] for c in ("0", "1")] for p in predictions], expected
    )
    log = capsys.readouterr().out
    assert "serving with the scikit-learn Pipeline: a ChurnFeatures step is not compiled" in log
    assert "unpacked none" in log


def test_a_champion_trained_with_team_code_is_scored_with_the_code_and_wheels_of_its_own_archive(
    team_job: Job, channels: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    champion = tmp_path / "champion"
    champion.mkdir()
    with tarfile.open(champion / "model.tar.gz", "w:gz") as archive:
        for path in sorted(team_job.model.rglob("*")):
            archive.add(path, arcname=path.relative_to(team_job.model).as_posix(), recursive=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert importlib.util.find_spec("team_models") is None  # only the archive has it
    signature, test, features, _ = churn_rows(channels, "test")

    try:
        output, record = score_champion(champion, test, signature)
        leftover = [path for path in sys.path if "champion" in path or path.endswith("/code")]
        sys.path.append(str(team_job.model / "code"))
        expected = joblib.load(team_job.model / "model.joblib").predict_proba(features)
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "team_models"]:
            del sys.modules[name]

    assert record is not None and (record["status"], record["family"]) == ("scored", "module"), record
    assert output is not None and output.probabilities is not None
    np.testing.assert_array_equal(output.probabilities, expected)
    assert leftover == []  # the champion's code/ was on sys.path while it loaded only


@pytest.fixture(scope="module")
def platform_pipeline(channels: Path) -> Any:
    """A model trained elsewhere: the platform's own boosting Pipeline fitted on the train rows."""
    signature, _, features, y = churn_rows(channels, "train")
    pipeline = build_pipeline(
        signature.features, "classification", "hist_gradient_boosting", {"max_iter": 30}, 0
    )
    return pipeline.fit(features, y)


def test_an_imported_skops_model_is_evaluated_as_it_was_fitted_with_its_import_recorded(
    source: Path, channels: Path, platform_pipeline: Any, tmp_path: Path
) -> None:
    skops.io.dump(platform_pipeline, tmp_path / "upload.skops")
    data = (tmp_path / "upload.skops").read_bytes()
    trusted = skops.io.get_untrusted_types(data=data)
    config = import_config(channels, tmp_path / "job", data, "churn-hgb.skops", trusted)

    job = run_job(source, tmp_path / "job", channels, config)

    assert job.returncode == 0, job.log
    evaluation = job.evaluation
    assert evaluation["family"] == "imported"
    assert evaluation["model"] == {
        "kind": "imported",
        "family": None,
        "module": None,
        "imported": {"name": "churn-hgb.skops", "sha256": hashlib.sha256(data).hexdigest(), "by": CALLER},
        "packages": {"xgboost-cpu": metadata.version("xgboost-cpu"), "skops": metadata.version("skops")},
    }
    _, _, features, _ = churn_rows(channels, "test")
    np.testing.assert_array_equal(
        joblib.load(job.model / "model.joblib").predict_proba(features),
        platform_pipeline.predict_proba(features),
    )


def _columns(count: int, names: list[str] | None = None) -> Any:
    values = np.random.default_rng(1).normal(size=(40, count))
    return pd.DataFrame(values, columns=names) if names else values


def _refused_files(features: list[str], pipeline: Any) -> dict[str, tuple[bytes, list[str] | None]]:
    y = np.arange(40) % 2
    fitted = {
        "not fitted": LogisticRegression(),
        "no predict_proba": LinearRegression().fit(_columns(len(features)), y),
        "column count": LogisticRegression().fit(_columns(5), y),
        "unknown columns": LogisticRegression().fit(
            _columns(len(features), ["tenure", *features[1:-1], "spend"]), y
        ),
        "other order": LogisticRegression().fit(_columns(len(features), features[::-1]), y),
        "other classes": LogisticRegression().fit(_columns(len(features)), np.where(y == 1, "yes", "no")),
        "untrusted": pipeline,
    }
    files = {case: (skops.io.dumps(estimator), None) for case, estimator in fitted.items()}
    files["pickle"] = (pickle.dumps(pipeline), None)
    return files


REFUSALS = {
    "pickle": "upload is a pickle (what pickle.dump and joblib.dump write): loading one runs whatever code "
    "it holds, so the platform never loads a pickle from outside; save the estimator with skops.io.dump",
    "untrusted": "upload holds types that are not trusted: {untrusted}; trust them in cdk.json: "
    "mlops.datasets.churn.training.imports.trusted_types if you know where they come from",
    "not fitted": "upload holds an estimator that is not fitted: fit it before saving",
    "no predict_proba": "upload holds a LinearRegression without predict_proba",
    "column count": "upload expects 5 feature columns; the contract gives 19, in this order: age, ",
    "unknown columns": "upload expects columns the contract does not have: tenure, spend; the contract's "
    "features are: age, tenure_months,",
    "other order": "upload expects the features in another order; fit it on them in the contract's order: "
    "age, tenure_months,",
    "other classes": "upload predicts the classes ['no', 'yes']; the target 'churned' has the labels [0, 1]",
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_an_imported_file_the_platform_refuses_fails_the_job_saying_why(
    case: str, channels: Path, platform_pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signature, *_ = churn_rows(channels, "train")
    data, trusted = _refused_files([f.name for f in signature.features], platform_pipeline)[case]
    config = import_config(channels, tmp_path, data, "upload", trusted)
    for name, value in environ(tmp_path, channels, config).items():
        monkeypatch.setenv(name, value)

    assert main([]) == 1

    failure = (tmp_path / "failure").read_text()
    untrusted = ", ".join(skops.io.get_untrusted_types(data=data)) if case == "untrusted" else ""
    assert (
        case != "untrusted" or "predictor.TreePredictor" in untrusted
    )  # the boosting's trees: not a default
    assert failure.startswith("Training failed: " + REFUSALS[case].format(untrusted=untrusted))
    assert not (tmp_path / "model" / "evaluation.json").exists()
