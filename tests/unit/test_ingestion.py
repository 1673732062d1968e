"""The ingestion use case against in-memory fakes: versions, rejections, idempotency, half-way failures."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract
from domain.data.ingestion import (
    DatasetVersion,
    Upload,
    UploadMissingError,
    ingest_upload,
    quarantine_key,
    snapshot_prefix,
)

CONTRACT = DatasetContract.model_validate(
    {
        "name": "sales",
        "target": "amount",
        "columns": [
            {"name": "store", "type": "category", "categories": ["north", "south"]},
            {"name": "units", "type": "integer", "min": 0, "max": 1000},
            {"name": "amount", "type": "float", "min": 0},
        ],
        "checks": {"row_count_drop": {"max_drop_fraction": 0.5, "action": "reject"}},
    }
)
GOOD = b"store,units,amount\n" + b"".join(b"north,%d,%d.5\n" % (i, i * 2) for i in range(40))
SMALL = b"store,units,amount\n" + b"".join(b"south,%d,%d.5\n" % (i, i) for i in range(10))
BAD = b"store,units,amount\nnorth,5,1.0\neast,-3,2.0\n"


class CrashError(Exception):
    """A failure injected half-way."""


@dataclass
class FakeStore:
    uploads: dict[str, bytes] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    fail_on: str | None = None

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        if upload.key not in self.uploads:
            raise UploadMissingError(f"{upload.key} does not exist")
        return lambda: io.BytesIO(self.uploads[upload.key])

    def put_if_absent(self, key: str, body: bytes | BinaryIO, content_type: str) -> bool:
        if self.fail_on and key.endswith(self.fail_on):
            raise CrashError(key)
        assert key.startswith(("datasets/", "quarantine/")), f"the platform wrote {key}"
        if key in self.objects:
            return False
        self.objects[key] = body if isinstance(body, bytes) else body.read()
        return True

    def read_json(self, key: str) -> dict[str, Any] | None:
        return json.loads(self.objects[key]) if key in self.objects else None


@dataclass
class FakeCatalog:
    records: dict[tuple[str, str], DatasetVersion] = field(default_factory=dict)
    clock: int = 0

    def add(self, version: DatasetVersion) -> bool:
        if (version.dataset, version.version) in self.records:
            return False
        self.clock += 1
        self.records[(version.dataset, version.version)] = replace(
            version, accepted_at=f"2026-01-01T00:00:{self.clock:02d}"
        )
        return True

    def get(self, dataset: str, version: str) -> DatasetVersion | None:
        return self.records.get((dataset, version))

    def latest(self, dataset: str) -> DatasetVersion | None:
        mine = [record for (name, _), record in self.records.items() if name == dataset]
        return max(mine, key=lambda record: record.accepted_at) if mine else None

    def mark_announced(self, dataset: str, version: str) -> None:
        self.records[(dataset, version)] = replace(self.records[(dataset, version)], announced=True)


@dataclass
class FakeNotifier:
    events: list[DatasetVersion] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)
    failures_left: int = 0
    alert_failures_left: int = 0

    def dataset_accepted(self, version: DatasetVersion) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise CrashError("event bus unavailable")
        self.events.append(version)

    def alert(self, subject: str, message: str) -> None:
        if self.alert_failures_left:
            self.alert_failures_left -= 1
            raise CrashError("alert topic unavailable")
        self.alerts.append((subject, message))


@dataclass
class World:
    store: FakeStore = field(default_factory=FakeStore)
    catalog: FakeCatalog = field(default_factory=FakeCatalog)
    notifier: FakeNotifier = field(default_factory=FakeNotifier)

    def upload(self, key: str, content: bytes) -> Upload:
        self.store.uploads[key] = content
        return Upload(bucket="data", key=key, size=len(content), etag="e", version_id="v1")

    def ingest(self, upload: Upload) -> Any:
        return ingest_upload(
            upload,
            contracts={"sales": CONTRACT},
            store=self.store,
            catalog=self.catalog,
            notifier=self.notifier,
        )


@pytest.fixture
def world() -> World:
    return World()


def test_an_accepted_upload_becomes_an_immutable_content_addressed_version(world: World) -> None:
    outcome = world.ingest(world.upload("incoming/sales/jan.csv", GOOD))

    assert outcome.status == "accepted"
    prefix = snapshot_prefix("sales", outcome.version)
    snapshot = pq.read_table(io.BytesIO(world.store.objects[prefix + "data.parquet"]))
    assert snapshot.num_rows == 40
    assert snapshot.column_names == ["store", "units", "amount"]
    assert json.loads(world.store.objects[prefix + "profile.json"])["rows"] == 40
    report = json.loads(world.store.objects[prefix + "report.json"])
    assert report["status"] == "accepted"
    assert report["source"]["key"] == "incoming/sales/jan.csv"
    record = world.catalog.get("sales", outcome.version)
    assert record is not None and record.announced and record.rows == 40
    assert [event.version for event in world.notifier.events] == [outcome.version]
    assert world.store.uploads["incoming/sales/jan.csv"] == GOOD


def test_the_same_content_uploaded_twice_is_one_version(world: World) -> None:
    first = world.ingest(world.upload("incoming/sales/jan.csv", GOOD))
    second = world.ingest(world.upload("incoming/sales/jan-again.csv", GOOD))

    assert (first.status, second.status) == ("accepted", "duplicate")
    assert first.version == second.version
    assert len(world.catalog.records) == 1
    assert len(world.notifier.events) == 1


def test_the_same_event_delivered_twice_is_one_version(world: World) -> None:
    upload = world.upload("incoming/sales/jan.csv", GOOD)

    outcomes = [world.ingest(upload), world.ingest(upload)]

    assert [outcome.status for outcome in outcomes] == ["accepted", "duplicate"]
    assert len(world.notifier.events) == 1


def test_a_failure_before_the_record_leaves_no_record_and_a_retry_completes(world: World) -> None:
    upload = world.upload("incoming/sales/jan.csv", GOOD)
    world.store.fail_on = "report.json"

    with pytest.raises(CrashError):
        world.ingest(upload)

    assert world.catalog.records == {}
    assert world.notifier.events == []
    world.store.fail_on = None
    assert world.ingest(upload).status == "accepted"
    assert len(world.catalog.records) == 1


def test_a_failure_after_the_record_is_finished_by_the_retry_without_a_second_version(world: World) -> None:
    upload = world.upload("incoming/sales/jan.csv", GOOD)
    world.notifier.failures_left = 1

    with pytest.raises(CrashError):
        world.ingest(upload)
    retried = world.ingest(upload)

    assert retried.status == "accepted"
    assert len(world.catalog.records) == 1
    assert len(world.notifier.events) == 1
    assert world.catalog.get("sales", retried.version).announced  # type: ignore[union-attr]


def test_a_rejected_upload_leaves_a_report_and_an_alert_and_is_kept(world: World) -> None:
    outcome = world.ingest(world.upload("incoming/sales/bad.csv", BAD))

    assert outcome.status == "rejected"
    report = json.loads(world.store.objects[quarantine_key("sales", outcome.version)])
    checks = {finding["check"] for finding in report["findings"]}
    assert {"value.category", "value.range"} <= checks
    assert report["source"]["key"] == "incoming/sales/bad.csv"
    assert world.catalog.records == {}
    assert len(world.notifier.alerts) == 1
    assert outcome.report_key in world.notifier.alerts[0][1]
    assert world.store.uploads["incoming/sales/bad.csv"] == BAD


def test_a_rejection_delivered_twice_alerts_once(world: World) -> None:
    upload = world.upload("incoming/sales/bad.csv", BAD)

    world.ingest(upload)
    world.ingest(upload)

    assert len(world.notifier.alerts) == 1


def test_an_undeclared_dataset_is_rejected_with_the_declared_names(world: World) -> None:
    outcome = world.ingest(world.upload("incoming/salez/jan.csv", GOOD))

    assert outcome.status == "rejected"
    assert outcome.findings[0]["check"] == "upload.undeclared_dataset"
    assert "'salez' is not declared; declared datasets: sales" in outcome.summary
    assert outcome.report_key in world.store.objects
    assert len(world.notifier.alerts) == 1


def test_an_upload_outside_a_dataset_folder_is_rejected(world: World) -> None:
    outcome = world.ingest(world.upload("incoming/jan.csv", GOOD))

    assert outcome.findings[0]["check"] == "upload.no_dataset"
    assert outcome.report_key.startswith("quarantine/_unknown/")


def test_an_object_deleted_before_it_is_read_is_reported(world: World) -> None:
    upload = world.upload("incoming/sales/gone.csv", GOOD)
    del world.store.uploads["incoming/sales/gone.csv"]

    outcome = world.ingest(upload)

    assert outcome.status == "rejected"
    assert outcome.findings[0]["check"] == "upload.missing"
    assert "gone.csv" in outcome.summary
    assert len(world.notifier.alerts) == 1


def test_statistical_checks_compare_with_the_previous_accepted_version(world: World) -> None:
    first = world.ingest(world.upload("incoming/sales/jan.csv", GOOD))

    second = world.ingest(world.upload("incoming/sales/feb.csv", SMALL))

    assert first.status == "accepted"
    assert second.status == "rejected"
    assert any(finding["check"] == "drift.row_count_drop" for finding in second.findings)


def test_a_new_version_records_its_predecessor(world: World) -> None:
    first = world.ingest(world.upload("incoming/sales/jan.csv", GOOD))
    more = GOOD + b"south,7,3.5\n"

    second = world.ingest(world.upload("incoming/sales/feb.csv", more))

    assert second.status == "accepted"
    assert world.catalog.get("sales", second.version).previous_version == first.version  # type: ignore[union-attr]
