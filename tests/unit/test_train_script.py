"""training/train.py as SageMaker runs it: a process, the container's variables, folders for channels.

Data goes through the real path first: generated churn rows, validated into a snapshot, split with the
platform's splitter. The in-process tests at the end check that the script's training profile is the
platform's for the same data (the format is ``spec.profile``'s; the quantiles are computed apart).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics

from domain.data.contract import DatasetContract, load_contract, parse_contract
from domain.data.validation import validate_dataset
from domain.training.config import GateConfig, TrainingConfig, parse_training_config
from domain.training.gate import decide
from domain.training.splitting import SPLITS, split_batches
from examples.churn import chunks
from spec.drift.baseline import DriftBaseline
from spec.drift.categorical import CategoricalProfile
from spec.drift.scores import PRIMARY
from spec.metrics import ClassificationScorer, RegressionScorer
from training.mlops_training import families
from training.mlops_training.contract_io import TrainingInputError, feature_matrix, signature_from
from training.mlops_training.environment import JobEnvironment, parse_arguments
from training.mlops_training.job import failure_reason
from training.mlops_training.profile import table_profile

ROOT = Path(__file__).resolve().parents[2]
FAST = {"evaluation": {"bootstrap_samples": 30}}


@dataclass
class Job:
    """One run of train.py: its folders, exit code and log."""

    root: Path
    returncode: int
    stderr: str

    @property
    def evaluation(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((self.root / "model" / "evaluation.json").read_text())
        return document

    @property
    def failure(self) -> str:
        return (self.root / "failure").read_text()


def prepare(
    folder: Path, contract: DatasetContract, snapshot: pa.Table, training: dict[str, Any]
) -> TrainingConfig:
    """Channels train/validation/test (split by the platform) and config, under ``folder``."""
    config = parse_training_config(training, contract=contract)
    for name in (*SPLITS, "config"):
        (folder / name).mkdir(parents=True)
    sinks = {name: folder / name / f"{name}.parquet" for name in SPLITS}
    split_batches(snapshot.to_batches(max_chunksize=500), contract, config, sinks)
    (folder / "config" / "contract.json").write_text(contract.model_dump_json())
    (folder / "config" / "training.json").write_text(config.model_dump_json())
    return config


def _features(contract: DatasetContract, training: dict[str, Any] | None = None) -> list[Any]:
    config = parse_training_config(training or {}, contract=contract)
    return list(signature_from(contract.model_dump(mode="json"), config.model_dump(mode="json")).features)


class Started:
    """train.py running in the background (the jobs of this module run two at a time): ``wait()`` ends it."""

    def __init__(
        self, folder: Path, *args: str, champion: Path | None = None, channels: Path | None = None
    ) -> None:
        source = channels or folder
        env = {
            **os.environ,
            "SM_MODEL_DIR": str(folder / "model"),
            "SM_OUTPUT_DATA_DIR": str(folder / "output"),
            "MLOPS_FAILURE_FILE": str(folder / "failure"),
            "SM_INPUT_CONFIG_DIR": str(folder / "input-config"),
            # Jobs run side by side here: OpenMP threads that spin-wait for each other in every process
            # would make them several times slower (on SageMaker a job has its instance to itself).
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),  # spec/, which the source directory carries beside train.py
            **{f"SM_CHANNEL_{name.upper()}": str(source / name) for name in (*SPLITS, "config")},
        }
        if champion is not None:
            env["SM_CHANNEL_CHAMPION"] = str(champion)
        self.folder = folder
        self.log = folder / "stderr.log"
        with self.log.open("w") as log:  # a file, not a pipe: a long traceback cannot block the process
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "training" / "train.py"), *args],
                env=env,
                cwd=ROOT / "training",
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait(self) -> Job:
        returncode = self.process.wait(timeout=300)
        return Job(self.folder, returncode, self.log.read_text())


@pytest.fixture(scope="module")
def churn() -> DatasetContract:
    return load_contract(ROOT / "contracts" / "churn.yaml")


@pytest.fixture(scope="module")
def snapshot(churn: DatasetContract) -> pa.Table:
    """2,500 churn rows, accepted by the platform's validator: the normalized snapshot."""
    upload = io.BytesIO()
    pq.write_table(pa.concat_tables(list(chunks(2_500, seed=11))), upload)
    sink = io.BytesIO()
    result = validate_dataset(lambda: io.BytesIO(upload.getvalue()), churn, snapshot_sink=sink)
    assert result.accepted
    return pq.read_table(io.BytesIO(sink.getvalue()))


def start_champion(folder: Path, churn: DatasetContract, snapshot: pa.Table) -> Started:
    prepare(folder, churn, snapshot, {"model": {"family": "hist_gradient_boosting"}, **FAST})
    return Started(folder, "--dataset", "churn", "--dataset_version", "abc123", "--max_iter", "60")


def start_failing(folder: Path, churn: DatasetContract, snapshot: pa.Table) -> Started:
    """A job whose train channel lacks a column the contract declares."""
    prepare(folder, churn, snapshot, FAST)
    train_file = folder / "train" / "train.parquet"
    pq.write_table(pq.read_table(train_file).drop_columns(["tenure_months"]), train_file)
    return Started(folder)


def start_regression(folder: Path) -> Started:
    """Linear regression on a small numeric target, with features of every contract type."""
    contract = parse_contract(
        {
            "name": "prices",
            "target": "price",
            "columns": [
                {"name": "area", "type": "float"},
                {"name": "rooms", "type": "integer", "nullable": True},
                {"name": "garden", "type": "boolean"},
                {"name": "city", "type": "category", "categories": ["x", "y", "z"]},
                {"name": "listed", "type": "timestamp"},
                {"name": "price", "type": "float"},
            ],
        }
    )
    rng = np.random.default_rng(5)
    rows = 900
    area, rooms, city = (
        rng.uniform(30, 200, rows),
        rng.integers(1, 6, rows),
        rng.choice(["x", "y", "z"], rows),
    )
    table = pa.table(
        {
            "area": area,
            "rooms": pa.array(rooms, mask=rng.random(rows) < 0.05),
            "garden": rng.random(rows) < 0.3,
            "city": pa.array(city).dictionary_encode(),
            "listed": pa.array(
                rng.integers(1_600_000_000_000_000, 1_700_000_000_000_000, rows), pa.timestamp("us", tz="UTC")
            ),
            "price": 3 * area + 20 * rooms + 50 * (city == "z") + rng.normal(0, 10, rows),
        }
    )
    prepare(
        folder,
        contract,
        table,
        {"model": {"family": "linear_regression", "hyperparameters": {"alpha": 1.0}}, **FAST},
    )
    return Started(folder)


@pytest.fixture(scope="module")
def jobs(
    tmp_path_factory: pytest.TempPathFactory, churn: DatasetContract, snapshot: pa.Table
) -> dict[str, Started]:
    """The jobs that need no champion, started together."""
    return {
        "champion": start_champion(tmp_path_factory.mktemp("champion"), churn, snapshot),
        "failing": start_failing(tmp_path_factory.mktemp("failing"), churn, snapshot),
        "regression": start_regression(tmp_path_factory.mktemp("regression")),
    }


@pytest.fixture(scope="module")
def champion(jobs: dict[str, Started]) -> Job:
    job = jobs["champion"].wait()
    assert job.returncode == 0, job.stderr
    return job


def start_with_archived_champion(
    folder: Path, champion: Job, churn: DatasetContract, snapshot: pa.Table
) -> Started:
    """A random forest challenger; the champion channel holds its model.tar.gz, as S3 delivers it."""
    archive = folder / "champion-channel" / "model.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(champion.root / "model", arcname=".")
    prepare(folder, churn, snapshot, {"model": {"family": "random_forest"}, **FAST})
    return Started(folder, "--n_estimators", "40", "--min_samples_leaf", "5", champion=archive.parent)


def start_shuffled(folder: Path, champion: Job) -> Started:
    """The champion's channels, with the training labels shuffled; the champion's model folder as channel."""
    channels = folder / "channels"
    for name in (*SPLITS, "config"):
        (channels / name).mkdir(parents=True)
        for file in (champion.root / name).iterdir():
            (channels / name / file.name).write_bytes(file.read_bytes())
    train_file = channels / "train" / "train.parquet"
    train = pq.read_table(train_file)
    shuffled = np.random.default_rng(0).permutation(train.column("churned").to_numpy())
    pq.write_table(
        train.set_column(train.schema.get_field_index("churned"), "churned", pa.array(shuffled)), train_file
    )
    return Started(folder, "--max_iter", "60", champion=champion.root / "model", channels=channels)


@pytest.fixture(scope="module")
def challengers(
    tmp_path_factory: pytest.TempPathFactory, champion: Job, churn: DatasetContract, snapshot: pa.Table
) -> dict[str, Started]:
    """The jobs that score the champion, started together."""
    return {
        "archived": start_with_archived_champion(
            tmp_path_factory.mktemp("archived"), champion, churn, snapshot
        ),
        "shuffled": start_shuffled(tmp_path_factory.mktemp("shuffled"), champion),
    }


def test_the_job_writes_a_model_that_predicts_and_an_evaluation_with_intervals(
    champion: Job, snapshot: pa.Table, churn: DatasetContract
) -> None:
    model_dir = champion.root / "model"
    pipeline = joblib.load(model_dir / "model.joblib")
    signature = json.loads((model_dir / "model_signature.json").read_text())
    evaluation = champion.evaluation

    features = feature_matrix(snapshot.slice(0, 5), tuple(_features(churn)))
    assert pipeline.predict_proba(features).shape == (5, 2)
    assert signature["classes"] == [0, 1] and signature["positive_class"] == 1
    assert evaluation["task"] == "classification" and evaluation["family"] == "hist_gradient_boosting"
    assert evaluation["hyperparameters"]["max_iter"] == 60  # the job's hyperparameter overrode the default
    assert evaluation["run"] == {"dataset": "churn", "dataset_version": "abc123"}
    assert sum(evaluation["rows"].values()) == snapshot.num_rows
    assert set(evaluation["metrics"]) == {"accuracy", "f1", "roc_auc", "log_loss"}
    for metric in evaluation["metrics"].values():
        assert metric["ci_low"] <= metric["value"] <= metric["ci_high"]
    assert 0.7 < evaluation["metrics"]["roc_auc"]["value"] < 0.95
    assert set(evaluation["validation_metrics"]) == set(evaluation["metrics"])
    assert evaluation["champion"] is None
    assert json.loads((champion.root / "output" / "evaluation.json").read_text()) == evaluation


def test_the_baselines_profile_the_training_inputs_and_the_test_predictions(champion: Job) -> None:
    inputs = json.loads((champion.root / "model" / "baseline" / "inputs_profile.json").read_text())
    predictions = json.loads((champion.root / "output" / "baseline" / "predictions_profile.json").read_text())

    assert inputs["rows"] == champion.evaluation["rows"]["train"]
    assert list(inputs["columns"]) == champion.evaluation["features"]
    assert len(inputs["columns"]["age"]["quantiles"]) == 101
    assert predictions["rows"] == champion.evaluation["rows"]["test"]
    assert set(predictions["columns"]) == {"predicted_label", "probability"}
    assert set(predictions["columns"]["predicted_label"]["frequencies"]) == {"0", "1"}
    assert (
        0 <= predictions["columns"]["probability"]["min"] <= predictions["columns"]["probability"]["max"] <= 1
    )


def test_the_drift_baseline_calibrates_the_training_features_and_the_test_predictions(champion: Job) -> None:
    text = (champion.root / "model" / "baseline" / "drift_baseline.json").read_text()
    baseline = DriftBaseline.from_json(text)

    assert (champion.root / "output" / "baseline" / "drift_baseline.json").read_text() == text
    assert [f.name for f in baseline.features] == champion.evaluation["features"]
    assert baseline.rows == champion.evaluation["rows"]["train"] and not baseline.coarse
    label = baseline.feature("predicted_label")
    assert label.kind == "categorical" and label.rows == champion.evaluation["rows"]["test"]
    assert isinstance(label.profile, CategoricalProfile) and set(label.profile.categories) <= {"0", "1"}
    for column in (*baseline.features, *baseline.predictions):
        assert column.threshold(PRIMARY[column.kind], 500, 0.001) > 0, column.name


def test_a_challenger_is_scored_with_the_champion_from_its_model_archive(
    challengers: dict[str, Started], champion: Job
) -> None:
    job = challengers["archived"].wait()

    assert job.returncode == 0, job.stderr
    record = job.evaluation["champion"]
    assert record["status"] == "scored" and record["family"] == "hist_gradient_boosting"
    assert record["metrics"]["roc_auc"]["value"] == pytest.approx(
        champion.evaluation["metrics"]["roc_auc"]["value"]
    )
    comparison = record["comparison"]["roc_auc"]
    assert comparison["ci_low"] <= comparison["difference"] <= comparison["ci_high"]
    config = GateConfig.model_validate(
        {"champion": {"mode": "not_worse", "margin": 0.03, "metric": "roc_auc"}}
    )
    assert decide(job.evaluation, config).approved


def test_a_challenger_trained_on_shuffled_labels_is_rejected_against_the_champion(
    challengers: dict[str, Started],
) -> None:
    job = challengers["shuffled"].wait()

    assert job.returncode == 0, job.stderr
    config = GateConfig.model_validate(
        {"champion": {"mode": "not_worse", "margin": 0.01, "metric": "roc_auc"}}
    )
    decision = decide(job.evaluation, config)
    assert not decision.approved and decision.champion_compared
    assert decision.reasons[0].startswith("Worse than the champion on roc_auc by more than the margin 0.01")


def test_a_failing_job_writes_the_reason_to_the_failure_file_and_exits_non_zero(
    jobs: dict[str, Started],
) -> None:
    job = jobs["failing"].wait()

    assert job.returncode == 1
    assert job.failure == "Training failed: the train channel lacks the column(s) 'tenure_months'"
    assert job.failure in job.stderr
    assert not (job.root / "model" / "evaluation.json").exists()


def test_a_regression_job_reports_regression_metrics(jobs: dict[str, Started]) -> None:
    job = jobs["regression"].wait()

    assert job.returncode == 0, job.stderr
    evaluation = job.evaluation
    assert set(evaluation["metrics"]) == {"rmse", "mae", "r2"}
    assert evaluation["metrics"]["r2"]["value"] > 0.9
    assert evaluation["metrics"]["rmse"]["ci_low"] < evaluation["metrics"]["rmse"]["ci_high"]
    assert evaluation["classes"] is None
    predictions = json.loads((job.root / "model" / "baseline" / "predictions_profile.json").read_text())
    assert list(predictions["columns"]) == ["prediction"]
    drift = DriftBaseline.from_json((job.root / "model" / "baseline" / "drift_baseline.json").read_text())
    assert [(p.name, p.kind) for p in drift.predictions] == [("prediction", "numeric")]


# -- what the script computes as the platform does -------------------------------------------


def test_the_training_profile_is_the_platform_profile(churn: DatasetContract, snapshot: pa.Table) -> None:
    part = snapshot.slice(0, 3_000)  # below 4,096 values the platform's quantiles are exact too
    upload = io.BytesIO()
    pq.write_table(part, upload)
    expected = validate_dataset(lambda: io.BytesIO(upload.getvalue()), churn).profile
    assert expected is not None

    columns = [(c.name, c.type, tuple(c.categories)) for c in churn.columns]
    actual = table_profile(part, columns)

    assert actual.keys() == expected.keys() and actual["rows"] == expected["rows"]
    for name, column in expected["columns"].items():
        mine = actual["columns"][name]
        for key in ("mean", "std"):
            if key in column:
                assert mine.pop(key) == pytest.approx(column.pop(key), rel=1e-9), name
        assert mine == column, name


@pytest.mark.parametrize("weighted", [False, True])
def test_the_weighted_metrics_are_scikit_learn_s_with_sample_weight(weighted: bool) -> None:
    rng = np.random.default_rng(2)
    rows = 400
    weights = np.bincount(rng.integers(0, rows, rows), minlength=rows).astype(float) if weighted else None
    y, scores = rng.integers(0, 2, rows), np.round(rng.random(rows), 2)  # rounded: tied scores
    binary = ClassificationScorer(y, (scores > 0.5).astype(int), np.c_[1 - scores, scores], [0, 1], 1)(
        weights
    )
    labels = ["a", "b", "c"]
    truth, probabilities = rng.choice(labels, rows), rng.dirichlet([1, 1, 1], rows)
    guess = np.array(labels)[probabilities.argmax(axis=1)]
    multi = ClassificationScorer(truth, guess, probabilities, labels, None)(weights)
    actual, predicted = rng.normal(size=rows), rng.normal(size=rows)
    regression = RegressionScorer(actual, predicted)(weights)

    w = {"sample_weight": weights}
    assert binary == pytest.approx(
        {
            "accuracy": metrics.accuracy_score(y, scores > 0.5, **w),
            "f1": metrics.f1_score(y, scores > 0.5, **w),
            "roc_auc": metrics.roc_auc_score(y, scores, **w),
            "log_loss": metrics.log_loss(y, np.c_[1 - scores, scores], **w),
        }
    )
    assert multi == pytest.approx(
        {
            "accuracy": metrics.accuracy_score(truth, guess, **w),
            "f1": metrics.f1_score(truth, guess, average="macro", **w),
            "roc_auc": metrics.roc_auc_score(truth, probabilities, multi_class="ovr", labels=labels, **w),
            "log_loss": metrics.log_loss(truth, probabilities, labels=labels, **w),
        }
    )
    assert regression == pytest.approx(
        {
            "rmse": np.sqrt(metrics.mean_squared_error(actual, predicted, **w)),
            "mae": metrics.mean_absolute_error(actual, predicted, **w),
            "r2": metrics.r2_score(actual, predicted, **w),
        }
    )


def test_hyperparameters_arrive_as_arguments_json_and_a_file_and_are_checked(tmp_path: Path) -> None:
    (tmp_path / "hyperparameters.json").write_text(
        json.dumps({"C": "2", "run_id": "r-1", "sagemaker_program": "x"})
    )
    environ = {
        "SM_INPUT_CONFIG_DIR": str(tmp_path),
        "SM_HPS": json.dumps({"max_iter": 50}),
        **{f"SM_CHANNEL_{name.upper()}": str(ROOT / "training") for name in ("train", "test", "config")},
    }

    env = JobEnvironment.from_environ(environ, ["-C", "0.5", "--dataset=churn"])

    assert env.run == {"run_id": "r-1", "dataset": "churn"}
    assert env.overrides == {"C": "0.5", "max_iter": 50}
    resolved = families.resolve_hyperparameters("logistic_regression", {"C": 1.0}, env.overrides)
    assert resolved == {"C": 0.5, "max_iter": 50, "class_weight": None}
    assert parse_arguments(["--early_stopping", "true"]) == {"early_stopping": "true"}
    with pytest.raises(
        TrainingInputError, match="hyperparameters: unknown hyperparameter 'max_iter' for random"
    ):
        families.resolve_hyperparameters("random_forest", {}, {"max_iter": 3})
    with pytest.raises(TrainingInputError, match="'n_estimators' of random_forest: got 'many'; expected int"):
        families.resolve_hyperparameters("random_forest", {}, {"n_estimators": "many"})


def test_a_failure_reason_is_one_short_paragraph() -> None:
    reason = failure_reason(ValueError("line one\n\n  line two " + "x" * 2_000))

    assert reason.startswith("Training failed: ValueError: line one line two xxx")
    assert "\n" not in reason and len(reason) == 1_024
