"""An upload whose validation runs out of time, or whose function dies, still ends with a failure record."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pytest

from adapters.upload_events import StoppedValidation
from domain.data.ingestion import Upload, failure_key, ingest_upload, upload_report_name
from domain.data.ingestion_failures import TIMEOUT_ADVICE, describe_failure
from domain.data.ingestion_model import alerted_key
from domain.data.quarantine import record_stopped
from domain.deadline import Deadline, ValidationTimeoutError
from tests.unit.test_ingestion import CONTRACT, FakeStore, World

ROWS = 400_000
LARGE = b"store,units,amount\n" + b"".join(b"north,%d,%d.5\n" % (i % 1000, i % 997) for i in range(ROWS))
REQUEST = "cabbfbd0-e266-42a9-a52e-6e96eb16c695"
RETRY = "; the upload is kept; retry with `mlops data push` or ask the platform's operators"


@dataclass
class FakeClock:
    """Monotonic seconds that move only when a read of the upload takes time; counts how often it is read."""

    now: float = 5_000.0
    readings: int = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


@dataclass
class SlowStore(FakeStore):
    """Uploads whose every read takes ``seconds_per_read`` on ``clock`` (a slow network, a large file)."""

    clock: FakeClock = field(default_factory=FakeClock)
    seconds_per_read: float = 10.0
    reads: int = 0

    def opener(self, upload: Upload) -> Callable[[], BinaryIO]:
        data = self.uploads[upload.key]
        store = self

        class Slow(io.BytesIO):
            def read(self, size: int | None = -1, /) -> bytes:
                store.reads += 1
                store.clock.now += store.seconds_per_read
                return super().read(size)

        return lambda: Slow(data)


def ingest(world: World, upload: Upload, deadline: Deadline) -> Any:
    return ingest_upload(
        upload,
        contracts={"sales": CONTRACT},
        store=world.store,
        catalog=world.catalog,
        notifier=world.notifier,
        deadline=deadline,
    )


def test_validation_that_reaches_its_deadline_stops_between_blocks_and_records_why() -> None:
    # Given a large upload read slowly, and a function with a minute and a half to live
    store = SlowStore()
    world = World(store=store)
    upload = world.upload("incoming/sales/big.csv", LARGE)
    deadline = Deadline.after(90, clock=store.clock)  # 25 s kept for the record: stop at 65 s
    # When it is ingested
    outcome = ingest(world, upload, deadline)
    # Then it stopped at the deadline, before the end of the file, and returned (no retry) with a record
    assert outcome.status == "failed"
    assert store.clock.now - 5_000 == pytest.approx(70.0)  # the read past 65 s was not made
    record = json.loads(store.objects[failure_key("sales", upload_report_name(upload))])
    read = int(record["summary"].split("after reading ")[1].split(" of ")[0].replace(",", ""))
    assert 0 < read < len(LARGE)
    assert record["summary"] == (
        f"could not be validated within the function's time limit (90 seconds) after reading {read:,} of "
        f"{len(LARGE):,} bytes; {TIMEOUT_ADVICE}"
    )
    assert record["error"] == {"kind": "timeout", "type": "ValidationTimeoutError", "where": None}
    [(subject, message)] = world.notifier.alerts
    assert subject == "Dataset upload could not be validated: sales" and record["summary"] in message
    # and nothing else was written: no version, no rejection, the upload as it was
    assert list(store.objects) == [outcome.report_key, alerted_key(outcome.report_key)]
    assert world.catalog.records == {}
    assert store.uploads["incoming/sales/big.csv"] == LARGE


def test_the_clock_is_read_once_per_block_not_per_row() -> None:
    # Given a deadline far away
    store = SlowStore(seconds_per_read=0.0)
    world = World(store=store)
    upload = world.upload("incoming/sales/big.csv", LARGE)
    # When the whole file is validated
    outcome = ingest(world, upload, Deadline.after(900, clock=store.clock))
    # Then the verdict is the usual one, and the clock was read once per read of the upload, at most
    assert outcome.status == "accepted"
    assert store.clock.readings <= store.reads + 1
    assert store.clock.readings < ROWS / 10_000


def test_a_deadline_keeps_a_margin_for_the_record_and_knows_the_limit() -> None:
    clock = FakeClock(now=100.0)
    fifteen_minutes = Deadline.after(899.994, clock=clock)
    assert (fifteen_minutes.at, fifteen_minutes.limit_seconds) == (pytest.approx(974.994), 900)
    short = Deadline.after(4.0, clock=clock)  # a short limit keeps half of it
    assert short.at == pytest.approx(102.0)
    clock.now = 101.9
    assert not short.passed()
    clock.now = 102.0
    assert short.passed()


def invocation_record(response: dict[str, Any], *, condition: str = "RetriesExhausted") -> dict[str, Any]:
    """What Lambda sends an ``on_failure`` destination after the retries of an S3 upload's event."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-06T06:41:53.075Z",
        "requestContext": {
            "requestId": REQUEST,
            "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:mlops-validation-Check:$LATEST",
            "condition": condition,
            "approximateInvokeCount": 3,
        },
        "requestPayload": {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2026-12-06T06:11:50Z",
            "region": "eu-west-1",
            "resources": ["arn:aws:s3:::data"],
            "detail": {
                "version": "0",
                "bucket": {"name": "data"},
                "object": {
                    "key": "incoming/sales/jan+2026%2Bfinal.csv",
                    "size": 9_000_000_000,
                    "etag": "b1946ac92492d2347c6235b4d2611184",
                    "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                    "sequencer": "00617F08299329D189",
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "123456789012",
                "source-ip-address": "1.2.3.4",
                "reason": "PutObject",
            },
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": response,
    }


@pytest.mark.parametrize(
    ("response", "said"),
    [
        (
            {"errorType": "Runtime.OutOfMemory",
             "errorMessage": f"RequestId: {REQUEST} Error: Runtime exited with error: signal: killed"},
            "Runtime.OutOfMemory: Runtime exited with error: signal: killed",
        ),
        (
            {"errorType": "Sandbox.Timedout",
             "errorMessage": f"RequestId: {REQUEST} Error: Task timed out after 900.00 seconds"},
            "Sandbox.Timedout: Task timed out after 900.00 seconds",
        ),
        (
            {"errorMessage": f"2026-12-06T06:41:53.075Z {REQUEST} Task timed out after 900.03 seconds"},
            "Task timed out after 900.03 seconds",
        ),
        (  # a type that says nothing is left out, as in the failed steps of a workflow
            {"errorType": "Unhandled",
             "errorMessage": f"RequestId: {REQUEST} Error: Runtime exited without providing a reason"},
            "Runtime exited without providing a reason",
        ),
    ],
)  # fmt: skip
def test_a_function_that_died_on_an_upload_leaves_the_same_failure_record(
    response: dict[str, Any], said: str
) -> None:
    # Given the record Lambda sends once the validation function died on every attempt
    world = World()
    invocation = invocation_record(response)
    # When the backstop reads it and records it
    stopped = StoppedValidation.from_record(invocation)
    upload = stopped.upload
    outcome = record_stopped(upload, stopped.invocation, world.store, world.notifier)
    # Then the upload has the failure record the validation function would have written, and one alert
    assert upload.key == "incoming/sales/jan 2026+final.csv"
    assert (stopped.error, stopped.context["approximateInvokeCount"]) == (response, 3)  # for the log
    assert outcome.status == "failed"
    assert outcome.report_key == failure_key("sales", upload_report_name(upload))
    record = json.loads(world.store.objects[outcome.report_key])
    assert record["summary"] == (
        f"could not be validated: the validation function stopped before it could finish ({said}, "
        f"3 attempts){RETRY}"
    )
    assert record["error"]["kind"] == "stopped"
    assert record["source"]["version_id"] == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert record["source"]["size_bytes"] == 9_000_000_000
    [(subject, message)] = world.notifier.alerts
    assert subject == "Dataset upload could not be validated: sales" and record["summary"] in message
    assert "cabbfbd0" not in record["summary"]
    # and a second delivery of the same record alerts no more
    record_stopped(upload, stopped.invocation, world.store, world.notifier)
    assert len(world.notifier.alerts) == 1


def test_an_event_that_expired_in_lambdas_queue_says_so() -> None:
    world = World()
    invocation = invocation_record({}, condition="EventAgeExceeded")
    invocation.pop("responsePayload")
    stopped = StoppedValidation.from_record(invocation)

    outcome = record_stopped(stopped.upload, stopped.invocation, world.store, world.notifier)

    assert outcome.summary.startswith(
        "could not be validated: the validation function did not get to run on it before the event expired"
    )


@pytest.mark.parametrize(
    ("limit", "said"), [(900.0, "15 minutes"), (60.0, "1 minute"), (90.0, "90 seconds"), (1.0, "1 second")]
)
def test_the_time_limit_is_said_as_people_set_it(limit: float, said: str) -> None:
    summary = describe_failure(ValidationTimeoutError(2_048, limit), size=None)["summary"]
    assert summary.startswith(
        f"could not be validated within the function's time limit ({said}) after reading 2,048 bytes;"
    )
