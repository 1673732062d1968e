"""Preparing a retraining upload (the use case): which labels it adds, what it writes, and when it refuses."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract
from domain.data.ingestion_model import DatasetVersion
from domain.data.validation import validate_dataset
from domain.data.validation.convert import snapshot_schema
from domain.retraining.preparation import (
    CannotPrepareError,
    PreparedUpload,
    RetrainingPreparer,
    prepare_retraining_upload,
)
from domain.retraining.training_data import CannotCombine
from tests.labelled_rows import Plan, PreparingDecision, labelled, parquet
from tests.unit.conftest import make_contract

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
CONTRACT = make_contract()
BASE = "b" * 64


def _requests(n: int) -> pa.Table:
    return pa.table({"id": list(range(1, n + 1)), "plan": ["pro"] * n, "active": [True] * n})


@dataclass
class FakeStore:
    """A data bucket holding one accepted version (its rows and profile) and labels at T0, T0+1h, T0+2h."""

    held: datetime | None = None  # what the base version's upload says it holds
    contract: DatasetContract = CONTRACT
    labels: pa.Table = field(
        default_factory=lambda: labelled(
            CONTRACT, _requests(3), ["a", "b", "c"], [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
        )
    )
    asked_after: list[datetime | None] = field(default_factory=list)
    uploads: list[tuple[str, str, str, datetime, pa.Table]] = field(default_factory=list)

    def snapshot(self, record: DatasetVersion) -> pa.Table:
        assert record.version == BASE
        rows = [{"id": 100 + i, "plan": "basic", "active": False, "note": "kept"} for i in range(20)]
        return pa.Table.from_pylist(rows, schema=snapshot_schema(self.contract))

    def profile(self, record: DatasetVersion) -> dict[str, Any] | None:
        body = parquet(self.snapshot(record))
        return validate_dataset(lambda: io.BytesIO(body), self.contract).profile

    def labelled_rows(self, dataset: str, *, after: datetime | None) -> pa.Table:
        self.asked_after.append(after)
        return self.labels

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        return self.held

    def write(
        self, dataset: str, decision_id: str, base_version: str, labels_through: datetime, body: bytes
    ) -> str:
        self.uploads.append(
            (dataset, decision_id, base_version, labels_through, pq.read_table(io.BytesIO(body)))
        )
        return f"incoming/{dataset}/retraining/{decision_id}.parquet"

    def written(self, dataset: str, decision_id: str) -> str | None:
        done = [upload for upload in self.uploads if upload[:2] == (dataset, decision_id)]
        return f"incoming/{dataset}/retraining/{decision_id}.parquet" if done else None


def _base() -> DatasetVersion:
    return DatasetVersion(
        dataset="accounts", version=BASE, accepted_at=T0.isoformat(), rows=1, size_bytes=10, format="csv",
        snapshot_prefix=f"datasets/accounts/{BASE}/", contract_fingerprint="f", source={"key": "k"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("plan_after", "held", "added"),
    [
        (None, None, 3),  # no model trained on labels, a base without labels: all of them
        (T0, None, 2),  # the model in service was trained on labels through T0
        (T0, T0 + timedelta(hours=1), 1),  # the base (prepared earlier) holds more: not added twice
        (T0 + timedelta(hours=1), T0, 1),  # the later of the two counts, whichever it is
    ],
)
def test_labels_are_added_after_the_later_of_the_model_s_data_and_the_base_s(
    plan_after: datetime | None, held: datetime | None, added: int
) -> None:
    # Given a base version that holds labels through `held` and a plan after `plan_after`
    store = FakeStore(held=held)

    # When the upload is prepared
    prepared = prepare_retraining_upload(_base(), "drift-1", CONTRACT, labels_after=plan_after, store=store)

    # Then the labels after the later time are added, and what was written says so
    assert isinstance(prepared, PreparedUpload)
    assert (prepared.base_rows, prepared.labelled_rows) == (20, added)
    assert prepared.labels_through == T0 + timedelta(hours=2)
    later = max((t for t in (plan_after, held) if t is not None), default=None)
    assert store.asked_after == [later]
    ((dataset, decision, base, through, rows),) = store.uploads
    assert (dataset, decision, base, through) == ("accounts", "drift-1", BASE, T0 + timedelta(hours=2))
    assert rows.num_rows == 20 + added and rows.schema == snapshot_schema(CONTRACT)
    assert prepared.key == "incoming/accounts/retraining/drift-1.parquet"
    assert prepared.describe().startswith(f"version {BASE[:12]} (20 rows) plus {added} labelled rows through")


def test_nothing_is_written_when_there_is_nothing_to_add() -> None:
    store = FakeStore(held=T0 + timedelta(hours=2))
    prepared = prepare_retraining_upload(_base(), "drift-1", CONTRACT, labels_after=None, store=store)
    assert isinstance(prepared, CannotCombine) and "no labelled rows after" in prepared.reason
    assert store.uploads == []


def test_an_upload_the_data_plane_would_refuse_is_not_written_and_its_first_error_said() -> None:
    # Given a contract that refuses a rise of nulls in "note" against the previous version, and labelled
    # requests that never carry "note" (the model does not take it): every added row has it empty
    strict = make_contract(checks={"null_rate_spike": {"max_increase": 0.05, "action": "reject"}})
    store = FakeStore(contract=strict)

    # When the upload is prepared
    prepared = prepare_retraining_upload(_base(), "drift-1", strict, labels_after=None, store=store)

    # Then nothing is written, and the reason is the data plane's
    assert isinstance(prepared, CannotCombine)
    assert prepared.reason.startswith("the data plane would refuse 20 accepted rows plus 3 labelled rows (")
    assert "The share of empty values in column 'note' rose from 0.0% to 13.0%" in prepared.reason
    assert store.uploads == []


class FakeCatalog:
    def get(self, dataset: str, version: str) -> DatasetVersion | None:
        return _base() if (dataset, version) == ("accounts", BASE) else None


def test_the_preparer_writes_a_decision_s_upload_and_says_why_it_cannot() -> None:
    store = FakeStore()
    preparer = RetrainingPreparer({"accounts": CONTRACT}, FakeCatalog(), store)

    assert preparer.write(PreparingDecision("perf-1", "accounts", Plan(BASE, T0))) == (
        "incoming/accounts/retraining/perf-1.parquet"
    )
    for decision, message in [
        (PreparingDecision("x", "accounts", None), "decision x plans no training data to prepare"),
        (PreparingDecision("x", "sales", Plan(BASE, None)), "sales has no contract on this platform"),
        (
            PreparingDecision("x", "accounts", Plan("c" * 64, None)),
            "accounts version cccccccccccc is not in the catalog",
        ),
        (
            PreparingDecision("x", "accounts", Plan(BASE, T0 + timedelta(hours=2))),
            "cannot prepare the training data of accounts for decision x: no labelled rows after",
        ),
    ]:
        with pytest.raises(CannotPrepareError, match=message):
            preparer.write(decision)
    assert len(store.uploads) == 1


def test_a_decision_acted_on_again_keeps_the_upload_it_wrote() -> None:
    # Given a decision whose upload was written, then labels that cannot be combined any more
    store = FakeStore()
    preparer = RetrainingPreparer({"accounts": CONTRACT}, FakeCatalog(), store)
    key = preparer.write(PreparingDecision("perf-1", "accounts", Plan(BASE, None)))
    store.labels = store.labels.slice(0, 0)

    # When it is acted on again (a retried event) / Then its upload stands, nothing is written again
    assert preparer.write(PreparingDecision("perf-1", "accounts", Plan(BASE, None))) == key
    assert len(store.uploads) == 1
