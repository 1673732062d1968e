"""The training run's steps against in-memory fakes: channels, split reuse, champion, gate, registration."""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow.parquet as pq
import pytest

from domain import model_metadata as keys
from domain.data.contract import DatasetContract
from domain.data.validation import validate_dataset
from domain.names import training_job_name
from domain.training.artifacts import ArtifactMissingError
from domain.training.config import TrainingConfig, parse_training_config
from domain.training.prepare import SplitRejectedError, prepare_run, split_prefix
from domain.training.registration import RegistrationError
from domain.training.runs import RunRequest, Trigger
from domain.training.verdict import TrainingOutputError, gate_run, register_run
from tests.fake_registry import FakeModelRegistry, package_arn

SHA = "ab" * 32
BUCKET = "s3://data/"
CONTRACT = DatasetContract.model_validate(
    {
        "name": "sales",
        "target": "amount",
        "columns": [
            {"name": "store", "type": "category", "categories": ["north", "south"]},
            {"name": "units", "type": "integer", "min": 0, "max": 1000},
            {"name": "amount", "type": "float", "min": 0},
        ],
    }
)
CONFIG = parse_training_config(
    {"gate": {"thresholds": {"r2": {"min": 0.5}}}, "model": {"family": "linear_regression"}},
    contract=CONTRACT,
)
RUN = RunRequest("sales", SHA, Trigger("accepted", reason="dataset version accepted"))


def snapshot(rows: int) -> bytes:
    """A snapshot as ingestion writes it: CSV rows validated into Parquet."""
    csv = b"store,units,amount\n" + b"".join(
        b"%s,%d,%d.5\n" % (b"north" if i % 3 else b"south", i % 997, i * 2) for i in range(rows)
    )
    sink = io.BytesIO()
    assert validate_dataset(lambda: io.BytesIO(csv), CONTRACT, snapshot_sink=sink).accepted
    return sink.getvalue()


@dataclass
class FakeStore:
    """The data bucket (and any other bucket) as a dict of URIs to bytes."""

    objects: dict[str, bytes] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)

    def uri(self, key: str) -> str:
        return BUCKET + key

    def open_ranged(self, uri: str) -> BinaryIO:
        if uri not in self.objects:
            raise ArtifactMissingError(uri)
        self.downloads.append(uri)
        return io.BytesIO(self.objects[uri])

    def open(self, uri: str) -> BinaryIO:
        if uri not in self.objects:
            raise ArtifactMissingError(uri)
        self.opened.append(uri)
        return io.BytesIO(self.objects[uri])

    def upload(self, path: Path, key: str, content_type: str) -> None:
        self.objects[self.uri(key)] = path.read_bytes()

    def put_json(self, key: str, document: Any) -> None:
        self.objects[self.uri(key)] = json.dumps(document).encode()

    def read_json(self, uri: str) -> dict[str, Any] | None:
        return json.loads(self.objects[uri]) if uri in self.objects else None

    def copy(self, source_uri: str, key: str) -> None:
        if source_uri not in self.objects:
            raise ArtifactMissingError(source_uri)
        self.objects[self.uri(key)] = self.objects[source_uri]

    def json(self, key: str) -> Any:
        return json.loads(self.objects[self.uri(key)])


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    fake.objects[f"{BUCKET}datasets/sales/{SHA}/data.parquet"] = snapshot(600)
    return fake


def prepare(
    store: FakeStore, tmp_path: Path, champions: FakeModelRegistry | None = None, run: RunRequest = RUN
) -> Any:
    return prepare_run(
        run, contract=CONTRACT, config=CONFIG, group="sales", store=store,
        champions=champions or FakeModelRegistry(), scratch=tmp_path,
    )  # fmt: skip


def test_prepare_writes_each_split_in_its_own_channel_folder_and_the_config(
    store: FakeStore, tmp_path: Path
) -> None:
    prepared = prepare(store, tmp_path)

    prefix = split_prefix("sales", SHA, CONFIG.split.fingerprint)
    assert prepared.train_uri == f"{BUCKET}{prefix}train/"
    assert prepared.test_uri == f"{BUCKET}{prefix}test/"
    rows = {
        name: pq.read_table(io.BytesIO(store.objects[f"{BUCKET}{prefix}{name}/data.parquet"])).num_rows
        for name in ("train", "validation", "test")
    }
    assert rows == prepared.summary["rows"] and sum(rows.values()) == 600
    assert store.json(prefix + "summary.json")["rows"] == prepared.summary["rows"]
    assert prepared.summary["summary_uri"] == f"{BUCKET}{prefix}summary.json"
    run = f"runs/sales/{RUN.name}/"
    assert prepared.config_uri == BUCKET + run + "config/"
    assert prepared.output_uri == BUCKET + run + "training/"
    assert TrainingConfig.model_validate(store.json(run + "config/training.json")) == CONFIG
    assert DatasetContract.model_validate(store.json(run + "config/contract.json")) == CONTRACT
    assert list(tmp_path.iterdir()) == []  # the scratch folder is left empty


def test_a_dataset_without_an_approved_version_gets_the_no_champion_marker(
    store: FakeStore, tmp_path: Path
) -> None:
    prepared = prepare(store, tmp_path)

    assert prepared.champion is False
    assert prepared.champion_uri == f"{BUCKET}runs/sales/{RUN.name}/champion/"
    assert store.json(f"runs/sales/{RUN.name}/champion/none.json") == {
        "champion": None, "reason": "no approved version"
    }  # fmt: skip


def test_the_approved_versions_archive_is_copied_into_the_champion_channel(
    store: FakeStore, tmp_path: Path
) -> None:
    store.objects["s3://models/churn-1/output/model.tar.gz"] = b"archive"
    registry = FakeModelRegistry()
    registry.add("sales", model_data_url="s3://models/churn-1/output/model.tar.gz")

    prepared = prepare(store, tmp_path, registry)

    assert prepared.champion is True
    assert store.objects[f"{BUCKET}runs/sales/{RUN.name}/champion/model.tar.gz"] == b"archive"
    assert f"{BUCKET}runs/sales/{RUN.name}/champion/none.json" not in store.objects


def test_the_champion_channel_holds_the_version_in_service_not_a_newer_one_rolled_back(
    store: FakeStore, tmp_path: Path
) -> None:
    store.objects["s3://data/v1/model.tar.gz"] = b"in service"
    store.objects["s3://data/v2/model.tar.gz"] = b"rolled back"
    registry = FakeModelRegistry()
    for number, deployment in ((1, "deployed"), (2, "rolled_back")):
        metadata = {keys.DEPLOYMENT_STATUS: deployment}
        registry.add("sales", metadata=metadata, model_data_url=f"s3://data/v{number}/model.tar.gz")

    prepare(store, tmp_path, registry)

    assert store.objects[f"{BUCKET}runs/sales/{RUN.name}/champion/model.tar.gz"] == b"in service"


def test_a_second_run_of_the_version_reuses_the_split(store: FakeStore, tmp_path: Path) -> None:
    first = prepare(store, tmp_path)
    manual = RunRequest("sales", SHA, Trigger("manual", reference="rerun-2"))

    second = prepare(store, tmp_path, run=manual)

    assert len(store.downloads) == 1
    assert second.train_uri == first.train_uri and second.summary == first.summary
    assert second.config_uri != first.config_uri
    assert second.training_job_name != first.training_job_name


def test_an_unsplittable_snapshot_raises_split_rejected_with_the_reasons(tmp_path: Path) -> None:
    store = FakeStore({f"{BUCKET}datasets/sales/{SHA}/data.parquet": snapshot(50)})

    with pytest.raises(SplitRejectedError, match="fewer than min_rows_per_split"):
        prepare(store, tmp_path)

    assert not any(uri.endswith("summary.json") for uri in store.objects)


def test_training_job_names_are_valid_for_sagemaker_and_distinct_per_run() -> None:
    long = RunRequest("d" + "-x" * 40, SHA, Trigger("retrain", reference="drift-" + "y" * 60))
    names = [training_job_name(r) for r in (RUN, long, RunRequest("sales", SHA, Trigger("manual")))]

    for name in names:
        assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name), name
    assert names[0].startswith(f"sales-{SHA[:8]}-")
    assert len(set(names)) == 3
    assert training_job_name(RUN) == names[0]


def evaluation(r2: float) -> dict[str, Any]:
    return {
        "task": "regression", "family": "linear_regression", "target": "amount", "confidence": 0.95,
        "hyperparameters": {"alpha": 0.0}, "champion": None,
        "metrics": {"r2": {"value": r2, "ci_low": r2 - 0.05, "ci_high": r2 + 0.05},
                    "rmse": {"value": 3.0, "ci_low": 2.5, "ci_high": 3.5}},
    }  # fmt: skip


def archive(**members: Any) -> bytes:
    """A ``.tar.gz`` as SageMaker packs a job folder (members named ``./<path>``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, document in members.items():
            data = json.dumps(document).encode()
            info = tarfile.TarInfo("./" + name.replace("__", "/"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MODEL = "s3://data/runs/sales/job/output/model.tar.gz"
BASELINES = {
    "baseline__inputs_profile": {"rows": 1},
    "baseline__predictions_profile": {"rows": 2},
    "baseline__drift_baseline": {"format": "drift-baseline", "rows": 1},
}


def gate(store: FakeStore, tmp_path: Path) -> Any:
    return gate_run(RUN, training_job_name="job", model_artifacts=MODEL, config=CONFIG, store=store)


def members(r2: float) -> dict[str, Any]:
    return {"evaluation.json": evaluation(r2), **{k + ".json": v for k, v in BASELINES.items()}}


@pytest.mark.parametrize(("r2", "approved"), [(0.8, True), (0.2, False)])
def test_the_gate_keeps_the_evidence_and_its_record_whatever_the_outcome(
    tmp_path: Path, r2: float, approved: bool
) -> None:
    store = FakeStore({MODEL: archive(**members(r2))})

    outcome = gate(store, tmp_path)

    folder = f"runs/sales/{RUN.name}/evaluation/"
    assert outcome.approved is approved
    assert outcome.metrics == {"r2": r2, "rmse": 3.0}
    assert outcome.evaluation_uri == BUCKET + folder + "evaluation.json"
    assert store.json(folder + "evaluation.json") == evaluation(r2)
    assert store.json(folder + "predictions_profile.json") == {"rows": 2}
    assert outcome.drift_baseline_uri == BUCKET + folder + "drift_baseline.json"
    assert store.json(folder + "drift_baseline.json") == BASELINES["baseline__drift_baseline"]
    record = store.json(folder + "gate.json")
    assert record["approved"] is approved and record["reasons"] == outcome.reasons
    assert record["context"]["training_job_name"] == "job"
    assert outcome.summary.startswith(f"sales run {RUN.name}: {'approved' if approved else 'rejected'}.")


def test_the_gate_takes_what_the_model_archive_lacks_from_the_output_archive(tmp_path: Path) -> None:
    everything = members(0.8)
    store = FakeStore({
        MODEL: archive(**{"evaluation.json": everything["evaluation.json"]}),
        MODEL.replace("model.tar.gz", "output.tar.gz"): archive(**everything),
    })  # fmt: skip

    assert gate(store, tmp_path).approved


def test_the_gate_fails_when_no_archive_has_the_evaluation(tmp_path: Path) -> None:
    store = FakeStore({MODEL: archive(**{"baseline__inputs_profile.json": {}})})

    with pytest.raises(
        TrainingOutputError,
        match=r"lack baseline/drift_baseline.json, baseline/predictions_profile.json, evaluation.json",
    ):
        gate(store, tmp_path)


def register(store: FakeStore, registry: FakeModelRegistry, outcome: Any, auto_approve: bool = False) -> Any:
    return register_run(
        RUN, execution_arn="arn:aws:states:us-east-1:1:execution:training:run-1", gate=outcome,
        model_artifacts=MODEL, group="team-sales", image_uri="sklearn:1.4", code_version="v2",
        auto_approve=auto_approve, store=store, registry=registry,
    )  # fmt: skip


def test_registration_carries_the_lineage_and_the_gate_record(tmp_path: Path) -> None:
    store, registry = FakeStore({MODEL: archive(**members(0.8))}), FakeModelRegistry()
    outcome = gate(store, tmp_path)

    registered = register(store, registry, outcome, auto_approve=True)

    assert registered.to_state() == {
        "model_package_arn": package_arn("team-sales", 1),
        "version": 1, "approval_status": "Approved", "created": True,
    }  # fmt: skip
    assert registry.groups == {"team-sales"}
    request = registry.packages[package_arn("team-sales", 1)]  # the request, as SageMaker keeps it
    assert request["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == MODEL
    metadata = request["CustomerMetadataProperties"]
    assert metadata["lineage.dataset_version"] == SHA and metadata["lineage.code_version"] == "v2"
    assert metadata["gate.decision"] == "approved"
    # And the drift baseline the gate kept is the package's data-quality constraints
    data_quality = request["DriftCheckBaselines"]["ModelDataQuality"]
    assert data_quality["Constraints"] == {
        "ContentType": "application/json",
        "S3Uri": outcome.drift_baseline_uri,
    }
    assert data_quality["Statistics"]["S3Uri"] == outcome.inputs_profile_uri


def test_a_model_the_gate_rejected_is_not_registered(tmp_path: Path) -> None:
    store, registry = FakeStore({MODEL: archive(**members(0.2))}), FakeModelRegistry()
    outcome = gate(store, tmp_path)

    with pytest.raises(RegistrationError, match="the gate rejected this model"):
        register(store, registry, outcome)
    assert registry.packages == {}


def test_auto_approve_is_off_unless_the_gate_section_turns_it_on() -> None:
    assert CONFIG.gate.auto_approve is False
    config = parse_training_config({"gate": {"auto_approve": True}}, contract=CONTRACT)
    assert config.gate.auto_approve is True
    assert TrainingConfig.model_validate(config.model_dump(mode="json")).gate.auto_approve is True
