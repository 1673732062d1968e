"""A team's own model end to end in the local cloud: its module trains churn; imported models meet the gate.

One deployment of ``cdk.json``'s app whose churn dataset trains with
``examples/team_models/churn_xgboost.py`` (its own feature step and XGBoost, from ``requirements.txt``),
trusts the types of a histogram gradient boosting Pipeline for imports, and deploys with short waits. IAM is
enforced, as in every e2e module. The tests run in order: the team's model is trained, approved and served
first; it is the champion the imports meet.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from examples.churn import generate, request_csv
from tests.e2e.conftest import QUICK_DEPLOYMENTS, DataPlane, deployed_platform
from tests.e2e.team_model_support import (
    BUILDER,
    HIST_GRADIENT_BOOSTING_TYPES,
    MODULE,
    TrainRows,
    archived_model,
    constant_model,
    good_model,
    pickled_model,
    predict_in_process,
    train_rows,
    untrusted_model,
)
from tests.e2e.training_support import runs
from tests.trained_model import churn_snapshot

pytestmark = pytest.mark.slow

GROUP = ENDPOINT = "mlops-churn"
TRUSTED_KEY = "cdk.json: mlops.datasets.churn.training.imports.trusted_types"
FALLBACK = "serving with the scikit-learn Pipeline: a ChurnFeatures step is not compiled"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    """cdk.json's app with churn trained by the example team's module, synthesized and deployed."""
    from stacks.app import build_app, cdk_json_context

    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["deployment"] = dict(QUICK_DEPLOYMENTS)
    training = context["mlops"]["datasets"]["churn"]["training"]
    training["model"] = {
        "module": MODULE,
        "builder": BUILDER,
        "hyperparameters": {"n_estimators": 100},
        "seed": 0,
    }
    training["imports"] = {"trusted_types": HIST_GRADIENT_BOOSTING_TYPES}
    outdir = tmp_path_factory.mktemp("team-models.out")
    build_app(context, outdir=str(outdir)).synth()
    with deployed_platform(outdir) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def first_run(platform: DataPlane, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An accepted churn upload's training run (described), waited for."""
    body = generate(3_000, 61, tmp_path_factory.mktemp("team") / "team.csv", "csv").read_bytes()
    platform.upload("incoming/churn/team.csv", body)
    (run,) = [run for run in runs(platform) if hashlib.sha256(body).hexdigest()[:12] in run["name"]]
    return run


@pytest.fixture(scope="module")
def rows(
    platform: DataPlane, first_run: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> TrainRows:
    """The first run's train rows: what the imported models are fit on, in this process."""
    return train_rows(platform, json.loads(first_run["output"]), tmp_path_factory.mktemp("rows"))


@pytest.fixture(scope="module")
def good_file(rows: TrainRows, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A histogram gradient boosting Pipeline fit elsewhere on the version's train rows, saved with skops."""
    return good_model(rows, tmp_path_factory.mktemp("good") / "hgb.skops")


@pytest.fixture
def mlops(platform: DataPlane, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    platform.point_sdk_here(monkeypatch)
    return CliRunner(env={"COLUMNS": "400"})  # a line per message: rich would wrap it at 80


def _metadata(platform: DataPlane, arn: str) -> dict[str, str]:
    described = platform.client("sagemaker").describe_model_package(ModelPackageName=arn)
    metadata: dict[str, str] = described["CustomerMetadataProperties"]
    return metadata


def _packages(platform: DataPlane) -> dict[str, dict[str, str]]:
    """Every registered churn version's metadata, by model package ARN."""
    summaries = (
        platform.client("sagemaker")
        .list_model_packages(ModelPackageGroupName=GROUP)
        .get("ModelPackageSummaryList", [])
    )
    return {s["ModelPackageArn"]: _metadata(platform, s["ModelPackageArn"]) for s in summaries}


def _text(output: str) -> str:
    return " ".join(output.split())


def _import(mlops: CliRunner, path: Path, reason: str) -> Any:
    from cli.main import app

    return mlops.invoke(app, ["models", "import", str(path), "--dataset", "churn", "--reason", reason])


def test_an_accepted_upload_trains_with_the_teams_module_and_registers_its_hash_and_packages(
    platform: DataPlane, first_run: dict[str, Any]
) -> None:
    # Given churn configured with the example team's module (the fixture), when an upload is accepted:
    # then its run trains the team's Pipeline, passes the gate and registers it
    assert first_run["status"] == "SUCCEEDED", first_run.get("cause")
    output = json.loads(first_run["output"])
    assert output["gate"]["approved"] is True, output["gate"]
    metadata = _metadata(platform, output["registration"]["model_package_arn"])
    # with the module, the hash of its bytes and the packages it needed beyond the image in its lineage
    example = Path(__file__).resolve().parents[2] / MODULE
    assert metadata["lineage.module"] == f"{MODULE}:{BUILDER}"
    assert metadata["lineage.module_sha256"] == hashlib.sha256(example.read_bytes()).hexdigest()
    assert "xgboost-cpu==3.2.0" in metadata["model.packages"].split()
    assert metadata["model.family"] == "module"
    evaluation = platform.read_json(output["gate"]["evaluation_uri"].split("/", 3)[3])
    assert evaluation["model"]["kind"] == "module"
    assert evaluation["model"]["module"]["sha256"] == metadata["lineage.module_sha256"]
    assert evaluation["model"]["packages"]["xgboost-cpu"] == "3.2.0"


def test_the_approved_team_model_is_served_and_answers_as_its_estimator_in_process(
    platform: DataPlane, registry: Any, tmp_path: Path
) -> None:
    # Given the team's model, approved by a person
    version = registry.version(GROUP, 1)
    registry.approve(version.arn, reason="e2e: serve the team's model", approver="e2e-test")
    platform.cloud.wait_idle(timeout=180)
    described = platform.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"].startswith(f"{ENDPOINT}-v1-")
    table: pa.Table = churn_snapshot(150, seed=404).slice(0, 20)

    # When rows are sent to its endpoint
    answer = platform.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=ENDPOINT,
        ContentType="text/csv",
        Accept="application/json",
        Body=request_csv(table.drop(["churned"])),
    )

    # Then it answers what the fitted estimator of its model archive predicts for them in this process
    predictions = json.loads(answer["Body"].read())["predictions"]
    labels, probabilities = predict_in_process(
        archived_model(platform, version.model_data_url, tmp_path / "archive"), table
    )
    assert [p["prediction"] for p in predictions] == labels
    np.testing.assert_array_equal(
        [[p["probabilities"][c] for c in ("0", "1")] for p in predictions], probabilities
    )
    # served by the Pipeline itself, as the endpoint's log says: the compiled predictor knows no team's step
    logged = platform.client("logs").filter_log_events(logGroupName=f"/aws/sagemaker/Endpoints/{ENDPOINT}")
    messages = [event["message"] for event in logged["events"]]
    assert any(FALLBACK in message for message in messages), messages


def test_mlops_models_show_names_the_teams_module(mlops: CliRunner) -> None:
    from cli.main import app

    shown = mlops.invoke(app, ["models", "show", "churn/1"])

    assert shown.exit_code == 0, shown.output
    assert f"{MODULE}:{BUILDER}" in _text(shown.output)


def test_a_good_imported_model_is_gated_and_registered_with_who_imported_it_and_its_hash(
    platform: DataPlane, mlops: CliRunner, good_file: Path
) -> None:
    # Given a histogram gradient boosting Pipeline fit elsewhere on the version's train rows, saved with skops
    path = good_file
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    caller = platform.client("sts").get_caller_identity()["Arn"]

    # When it is imported for churn
    imported = _import(mlops, path, "trained on the warehouse's cluster")

    # Then the gate accepts it and it is registered with lineage saying who imported which file, and why
    assert imported.exit_code == 0, imported.output
    (metadata,) = [m for m in _packages(platform).values() if m.get("lineage.import_sha256") == digest]
    assert metadata["lineage.imported_by"] == caller
    assert metadata["lineage.import_name"] == "hgb.skops"
    assert metadata["lineage.trigger"] == "import"
    assert metadata["lineage.trigger_reference"] == digest[:16]
    assert metadata["model.family"] == "imported"
    assert metadata["gate.decision"] == "approved"
    # and the file is kept as uploaded, under its hash
    stored = platform.client("s3").get_object(Bucket=platform.bucket, Key=f"imports/churn/{digest}.skops")
    assert stored["Body"].read() == path.read_bytes()


def test_the_same_file_imported_again_starts_nothing(
    platform: DataPlane, mlops: CliRunner, good_file: Path
) -> None:
    # Given the file the test before imported
    before = len(runs(platform))

    # When it is imported again for the same dataset version
    again = _import(mlops, good_file, "once more")

    # Then that is said, and no run starts

    assert again.exit_code == 0, again.output
    assert "already imported" in _text(again.output)
    assert len(runs(platform)) == before


def test_a_model_worse_than_the_bar_and_the_champion_is_rejected_with_the_gates_reasons(
    platform: DataPlane, mlops: CliRunner, rows: TrainRows, tmp_path: Path
) -> None:
    # Given a model that always answers the class frequencies (ROC AUC 0.5; churn's gate asks 0.65 at least)
    path = constant_model(rows, tmp_path / "constant.skops")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    before = len(_packages(platform))

    # When it is imported
    imported = _import(mlops, path, "a baseline")

    # Then its run ends at the gate, whose reasons are printed, and nothing is registered
    assert imported.exit_code == 1, imported.output
    text = _text(imported.output)
    assert "below the minimum 0.65" in text, text
    assert "Worse than the champion on roc_auc" in text, text
    assert len(_packages(platform)) == before
    (run,) = [
        run for run in runs(platform) if json.loads(run["input"]).get("imported", {}).get("sha256") == digest
    ]
    assert json.loads(run["output"])["gate"]["approved"] is False


def test_a_pickle_is_refused_before_anything_is_uploaded(
    platform: DataPlane, mlops: CliRunner, rows: TrainRows, tmp_path: Path
) -> None:
    # Given a fitted estimator saved with joblib
    path = pickled_model(rows, tmp_path / "model.joblib")
    uploaded = platform.keys("imports/churn/")
    before = len(runs(platform))

    # When it is imported
    refused = _import(mlops, path, "a pickle")

    # Then the CLI refuses it at once, says what to do instead, uploads nothing and starts nothing
    assert refused.exit_code != 0
    text = _text(refused.output)
    assert "pickle" in text and "skops.io.dump" in text, text
    assert platform.keys("imports/churn/") == uploaded
    assert len(runs(platform)) == before


def test_a_skops_file_with_a_type_the_dataset_does_not_trust_is_refused_by_its_run(
    platform: DataPlane, mlops: CliRunner, rows: TrainRows, tmp_path: Path
) -> None:
    # Given a model whose feature step is the example team's own class, which churn's imports do not trust
    path = untrusted_model(rows, tmp_path / "own-features.skops")
    before = len(_packages(platform))

    # When it is imported
    refused = _import(mlops, path, "our own features")

    # Then the run refuses to load it, naming the type and the key that would trust it; nothing is registered
    assert refused.exit_code == 1, refused.output
    text = _text(refused.output)
    assert "team_models.churn_xgboost.ChurnFeatures" in text, text
    assert TRUSTED_KEY in text, text
    assert len(_packages(platform)) == before
