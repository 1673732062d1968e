"""An upload whose validation fails (not the data's fault) gets a failure record and one alert, no raise."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import pytest

from domain.data.ingestion import Upload, failure_key, upload_report_name
from domain.data.ingestion_failures import UploadDeniedError
from domain.data.ingestion_model import alerted_key
from tests.unit.test_ingestion import GOOD, FakeStore, World

SENTINEL = "LIBRARY-TEXT-91c2"
ADVICE = "; the upload is kept; retry with `mlops data push` or ask the platform's operators"


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def broken_validation(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make checking a batch of rows fail as a bug would; returns a function that repairs it."""
    from domain.data.validation.columns import BatchProcessor

    def crash(self: Any, table: Any, **kwargs: Any) -> Any:
        raise ValueError(f"{SENTINEL}: a bug's own words")

    monkeypatch.setattr(BatchProcessor, "process", crash)
    return monkeypatch.undo


def record_of(world: World, upload: Upload) -> dict[str, Any]:
    return json.loads(world.store.objects[failure_key("sales", upload_report_name(upload))])


def test_an_internal_error_leaves_a_failure_record_and_an_alert_and_the_upload_untouched(
    world: World, broken_validation: Callable[[], None]
) -> None:
    # Given an upload and a validator that fails on it for a reason of its own
    upload = world.upload("incoming/sales/jan.csv", GOOD)
    # When it is ingested
    outcome = world.ingest(upload)
    # Then the call returns (a retry would fail the same way) with a failure, recorded and alerted once
    assert outcome.status == "failed"
    assert isinstance(outcome.error, ValueError)
    record = record_of(world, upload)
    assert outcome.report_key == failure_key("sales", upload_report_name(upload))
    assert record["status"] == "failed"
    assert record["summary"] == (
        "could not be validated: the validation failed on an internal error (ValueError)" + ADVICE
    )
    assert record["error"]["kind"] == "internal"
    # where in the platform's code it failed, for the operators (here: the injected fault)
    assert record["error"]["where"].startswith("tests/unit/test_ingestion_failures.py:")
    assert record["error"]["where"].endswith(" in crash")
    assert record["source"]["key"] == "incoming/sales/jan.csv"
    [(subject, message)] = world.notifier.alerts
    assert subject == "Dataset upload could not be validated: sales"
    assert record["summary"] in message and outcome.report_key in message
    assert SENTINEL not in json.dumps(record) + message
    # and nothing else is written: no version, no rejection report, the upload as it was
    assert list(world.store.objects) == [outcome.report_key, alerted_key(outcome.report_key)]
    assert world.catalog.records == {}
    assert world.store.uploads["incoming/sales/jan.csv"] == GOOD


def test_the_same_event_failing_again_alerts_once(
    world: World, broken_validation: Callable[[], None]
) -> None:
    upload = world.upload("incoming/sales/jan.csv", GOOD)
    first = world.ingest(upload)
    again = world.ingest(upload)
    assert (first.status, again.status) == ("failed", "failed")
    assert len(world.notifier.alerts) == 1


def test_a_retry_after_the_fault_is_gone_makes_the_normal_version(
    world: World, broken_validation: Callable[[], None]
) -> None:
    upload = world.upload("incoming/sales/jan.csv", GOOD)
    assert world.ingest(upload).status == "failed"
    broken_validation()  # repaired

    retried = world.ingest(upload)

    assert retried.status == "accepted"
    assert len(world.catalog.records) == 1
    assert record_of(world, upload)["status"] == "failed"  # the record of the failed attempt stays
    assert f"datasets/sales/{retried.version}/report.json" in world.store.objects


def test_a_corrupt_stored_profile_is_an_internal_error_not_a_rejection(world: World) -> None:
    first = world.ingest(world.upload("incoming/sales/jan.csv", GOOD))
    world.store.objects[f"datasets/sales/{first.version}/profile.json"] = b"[]"
    upload = world.upload("incoming/sales/feb.csv", GOOD.replace(b"north,1,", b"south,1,"))

    outcome = world.ingest(upload)

    assert outcome.status == "failed"
    assert record_of(world, upload)["error"]["where"].startswith("domain/")
    assert not any(
        key.startswith("quarantine/") and key.endswith("report.json") for key in world.store.objects
    )


@dataclass
class FlakyStore(FakeStore):
    """Uploads whose stream breaks after 100 bytes, ``breaks`` times."""

    breaks: int = 0

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        data = self.uploads[upload.key]

        def open_upload() -> BinaryIO:
            if self.breaks <= 0:
                return io.BytesIO(data)
            self.breaks -= 1
            return Breaking(data)  # type: ignore[return-value]

        return open_upload


class Breaking(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= 100:
            raise ConnectionResetError(f"{SENTINEL}: the peer went away")
        return super().read(min(size if size is not None and size >= 0 else 100, 100))


def test_a_read_that_breaks_once_is_read_again(world: World) -> None:
    world.store = FlakyStore(breaks=1)
    upload = world.upload("incoming/sales/jan.csv", GOOD)

    assert world.ingest(upload).status == "accepted"


def test_an_upload_that_cannot_be_read_is_a_failure_that_says_so(world: World) -> None:
    world.store = FlakyStore(breaks=99)
    upload = world.upload("incoming/sales/jan.csv", GOOD)

    outcome = world.ingest(upload)

    assert outcome.status == "failed"
    record = record_of(world, upload)
    assert record["summary"] == (
        "could not be validated: the upload could not be read from the data bucket (ConnectionResetError)"
        + ADVICE
    )
    assert record["error"]["kind"] == "upload_unreadable"
    assert SENTINEL not in json.dumps(record)


DENIAL = (
    "User: arn:aws:sts::1:assumed-role/validation/fn is not authorized to perform: s3:GetObjectVersion on "
    "resource: arn:aws:s3:::data/incoming/sales/jan.csv because no identity-based policy allows the "
    "s3:GetObjectVersion action"
)


@dataclass
class DenyingStore(FakeStore):
    """A bucket that the function's role may not read uploads from."""

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        def open_upload() -> BinaryIO:
            raise UploadDeniedError(DENIAL)

        return open_upload


def test_an_upload_the_role_may_not_read_is_a_failure_that_names_the_denial(world: World) -> None:
    world.store = DenyingStore()
    upload = world.upload("incoming/sales/jan.csv", GOOD)

    outcome = world.ingest(upload)

    assert outcome.status == "failed"
    record = record_of(world, upload)
    assert (
        record["summary"]
        == f"could not be validated: the validation function may not read the upload ({DENIAL})" + ADVICE
    )
    assert (record["error"]["kind"], record["error"]["type"]) == ("upload_unreadable", "UploadDeniedError")
