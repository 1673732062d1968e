"""What the retraining policy observes of the platform (``adapters.retraining_platform``) on moto.

Step Functions, the catalog and SageMaker are moto's; the labels are a hand-written ``LabelSource``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from adapters.catalog import DynamoDatasetCatalog
from adapters.retraining_platform import PlatformObservations
from domain.data.ingestion_model import DatasetVersion
from domain.retraining.state import PolicyState, RunningRun
from domain.retraining.training_data import LabelSummary
from domain.training.runs import ImportedModel, RunRequest, Trigger, execution_input
from tests.moto_support import create_data_plane, mocked_aws

CATALOG = "mlops-catalog"
NEW, OTHER = "0b" * 32, "0c" * 32
NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
WAITING = {"StartAt": "Train", "States": {"Train": {"Type": "Wait", "Seconds": 8, "End": True}}}


class FakeLabels:
    """The dataset's labels: the newest label a version holds, and a summary of those after a time."""

    def __init__(self, holds: dict[str, datetime]) -> None:
        self.holds = holds
        self.asked_after: list[datetime | None] = []

    def summary(self, dataset: str, after: datetime | None) -> LabelSummary:
        self.asked_after.append(after)
        return LabelSummary(rows=0, newest_labelled_at=None)

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        return self.holds.get(record.version)


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mocked_aws(monkeypatch):
        create_data_plane("mlops-data", CATALOG)
        yield boto3.client("stepfunctions").create_state_machine(
            name="mlops-training",
            definition=json.dumps(WAITING),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]


def observations(machine: str, labels: FakeLabels | None = None) -> PlatformObservations:
    catalog = DynamoDatasetCatalog(CATALOG)
    return PlatformObservations(
        project="mlops", state_machine_arn=machine, catalog=catalog, labels=labels or FakeLabels({})
    )


def run_name(version: str) -> str:
    return RunRequest("churn", version, Trigger("accepted")).name


def test_a_recorded_start_step_functions_does_not_know_is_running_only_within_the_listing_grace(
    machine: str,
) -> None:
    # Given two starts the policy recorded that never began: one two minutes ago, one eleven minutes ago
    recent = RunningRun(run_name(NEW), NEW, NOW - timedelta(minutes=2))
    stale = RunningRun(run_name(OTHER), OTHER, NOW - timedelta(minutes=11))
    state = PolicyState("churn", revision=3, started_runs=(recent, stale))

    # When the running runs are observed
    running = observations(machine).running("churn", state, NOW)

    # Then only the recent one may still be about to show: the stale one holds nothing
    assert running == (recent,)


def test_which_run_names_step_functions_has(machine: str) -> None:
    # Given one run started
    boto3.client("stepfunctions").start_execution(stateMachineArn=machine, name=run_name(NEW), input="{}")

    # When the policy asks which of two names exist, then only the started one does
    assert observations(machine).existing([run_name(NEW), run_name(OTHER)]) == frozenset({run_name(NEW)})


def test_labels_are_new_after_those_the_latest_version_holds(machine: str) -> None:
    # Given a latest version prepared from labels through an hour ago, and no model in service
    through = NOW - timedelta(hours=1)
    DynamoDatasetCatalog(CATALOG).add(DatasetVersion(
        dataset="churn", version=NEW, accepted_at=NOW.isoformat(), rows=100, size_bytes=1000,
        format="parquet",
        snapshot_prefix=f"datasets/churn/{NEW}/", contract_fingerprint="c0ffee",
        source={"key": "incoming/churn/retraining/drift-1.parquet"},
    ))  # fmt: skip
    labels = FakeLabels({NEW: through})

    # When the policy observes the dataset
    seen = observations(machine, labels).observe("churn", PolicyState("churn"), NOW)

    # Then the labels counted are those after the version's, and the observations carry that time
    assert labels.asked_after == [through]
    assert seen.latest_labels_through == through
    assert seen.labels_after is not None and seen.labels_after.at == through


def test_a_persons_import_run_holds_the_datasets_slot_as_any_run_does(machine: str) -> None:
    # Given a model imported onto version NEW by a person, its run still running
    imported = ImportedModel(sha256="ab" * 32, by="arn:aws:iam::123456789012:user/alice", name="m.skops")
    run = RunRequest("churn", NEW, Trigger("import", reference=imported.sha256[:16]), imported)
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=machine, name=run.name, input=json.dumps(execution_input(run))
    )

    # When the policy observes the dataset's running runs
    running = observations(machine).running("churn", PolicyState("churn", revision=1), NOW)

    # Then the import run is one of them, on its dataset version
    assert [(found.name, found.dataset_version) for found in running] == [(run.name, NEW)]
