"""What one validation keeps in the function's ephemeral storage, and what a full disk tells the user.

Every temporary file is made through ``tempfile.TemporaryFile``; the tests replace it with files on a
metered disk that records how many bytes are held at once, and can be made to fill up.
"""

from __future__ import annotations

import copy
import errno
import gzip
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from domain.data.contract import ContractError, DatasetContract, parse_contract
from domain.data.ingestion import Upload, failure_key, snapshot_prefix, upload_report_name
from domain.data.ingestion_model import alerted_key
from domain.data.validation import snapshot as snapshot_module
from domain.data.validation import validate_dataset
from stacks.app import cdk_json_context
from stacks.config import ConfigError, load_platform
from tests.unit.test_ingestion import BAD, CONTRACT, GOOD, World
from tests.unit.test_storage_limits import contract_with

REAL_TEMPORARY_FILE = tempfile.TemporaryFile
LIBRARY_TEXT = "No space left on device"


class Disk:
    """The temporary files alive at once: their total size, its peak, and room for at most ``room`` bytes."""

    def __init__(self, room: int | None = None) -> None:
        self.room = room
        self.sizes: dict[int, int] = {}
        self.peak = 0
        self.files = 0

    def used(self) -> int:
        return sum(self.sizes.values())

    def temporary_file(self, *args: Any, **kwargs: Any) -> MeteredFile:
        self.files += 1
        return MeteredFile(self, REAL_TEMPORARY_FILE(*args, **kwargs))


class MeteredFile:
    """A real temporary file whose size counts toward its disk's (an ``OSError(ENOSPC)`` past its room)."""

    def __init__(self, disk: Disk, inner: BinaryIO) -> None:
        self.disk, self.inner = disk, inner

    def write(self, data: bytes, /) -> int:
        end = self.inner.tell() + len(data)
        grows = max(0, end - self.disk.sizes.get(id(self), 0))
        if self.disk.room is not None and self.disk.used() + grows > self.disk.room:
            raise OSError(errno.ENOSPC, LIBRARY_TEXT)
        count = self.inner.write(data)
        self._measure()
        return count

    def truncate(self, size: int | None = None, /) -> int:
        result = self.inner.truncate(size)
        self._measure()
        return result

    def close(self) -> None:
        self.disk.sizes[id(self)] = 0
        self.inner.close()

    def _measure(self) -> None:
        self.inner.flush()
        self.disk.sizes[id(self)] = self.inner.seek(0, io.SEEK_END)
        self.disk.peak = max(self.disk.peak, self.disk.used())

    def __getattr__(self, name: str) -> Any:  # read, seek, tell, flush...: the real file's
        return getattr(self.inner, name)

    def __enter__(self) -> MeteredFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    metered = Disk()
    monkeypatch.setattr(tempfile, "TemporaryFile", metered.temporary_file)
    yield metered


def parquet_of(csv: bytes) -> bytes:
    table = pacsv.read_csv(io.BytesIO(csv))
    out = io.BytesIO()
    pq.write_table(table, out, compression="snappy")
    return out.getvalue()


def snapshot_of(world: World, outcome: Any) -> bytes:
    body = world.store.objects[snapshot_prefix("sales", outcome.version) + "data.parquet"]
    assert isinstance(body, bytes)
    return body


@pytest.mark.parametrize("name, content", [("jan.csv", GOOD), ("jan.csv.gz", gzip.compress(GOOD))])
def test_a_csv_upload_holds_one_snapshot_in_the_function_storage_never_a_copy(
    disk: Disk, name: str, content: bytes
) -> None:
    world = World()
    outcome = world.ingest(world.upload(f"incoming/sales/{name}", content))
    assert outcome.status == "accepted"
    snapshot = snapshot_of(world, outcome)
    # the one temporary file is the snapshot that was uploaded: at its peak the storage held it alone
    assert disk.files == 1
    assert disk.peak == len(snapshot)
    assert pq.read_table(io.BytesIO(snapshot)).num_rows == 40


def test_a_parquet_upload_holds_its_spooled_copy_and_one_snapshot_at_most(disk: Disk) -> None:
    world = World()
    upload = parquet_of(GOOD)
    outcome = world.ingest(world.upload("incoming/sales/jan.parquet", upload))
    assert outcome.status == "accepted"
    snapshot = snapshot_of(world, outcome)
    assert disk.files == 2  # the spooled upload and the snapshot
    assert disk.peak <= len(upload) + len(snapshot)
    assert pq.read_table(io.BytesIO(snapshot)).num_rows == 40


def record_of(world: World, upload: Upload) -> dict[str, Any]:
    body = world.store.objects[failure_key("sales", upload_report_name(upload))]
    assert isinstance(body, bytes)
    return dict(json.loads(body))


@pytest.mark.parametrize(
    "name, content, what",
    [
        ("jan.csv", GOOD, "the snapshot (the accepted data as Parquet)"),
        ("jan.parquet", parquet_of(GOOD), "the Parquet upload, copied there to be read"),
    ],
)
def test_a_full_disk_is_a_failure_record_in_our_words(
    disk: Disk, name: str, content: bytes, what: str
) -> None:
    # Given a function whose ephemeral storage has room for less than the file it must write
    disk.room = 200
    world = World()
    upload = world.upload(f"incoming/sales/{name}", content)
    # When the upload is ingested
    outcome = world.ingest(upload)
    # Then it is recorded as failed, saying which storage filled up, writing what, and what to change
    assert outcome.status == "failed"
    record = record_of(world, upload)
    assert record["error"]["kind"] == "storage_full"
    summary = record["summary"]
    assert summary.startswith("could not be validated: the validation function's ephemeral storage (/tmp of ")
    assert f"filled up while it was writing {what} for this 0.0 MiB upload, after 0.0 MiB of it" in summary
    assert "raise `validation.ephemeral_storage_gb` in cdk.json (at most 10)" in summary
    assert "lower the contract's `limits.max_file_bytes`" in summary
    [(_, message)] = world.notifier.alerts
    assert summary in message
    assert LIBRARY_TEXT not in json.dumps(record) + message
    # and nothing but the record (and its alert marker) is written: no half snapshot anywhere
    assert list(world.store.objects) == [outcome.report_key, alerted_key(outcome.report_key)]
    assert world.catalog.records == {}


def test_the_sink_holds_the_snapshot_only_when_the_file_is_accepted() -> None:
    sink = io.BytesIO(b"left over from an earlier run")
    # a rejected file (a negative unit count) leaves the sink empty, though its first rows were written
    rejected = validate_dataset(lambda: io.BytesIO(BAD), CONTRACT, snapshot_sink=sink)
    assert not rejected.accepted
    assert sink.getvalue() == b""
    # an accepted one leaves it holding the whole snapshot, positioned at its end
    accepted = validate_dataset(lambda: io.BytesIO(GOOD), CONTRACT, snapshot_sink=sink)
    assert accepted.accepted
    assert sink.tell() == len(sink.getvalue())
    assert pq.read_table(io.BytesIO(sink.getvalue())).num_rows == 40


def with_limit(limit: int) -> DatasetContract:
    return CONTRACT.model_copy(
        update={"limits": CONTRACT.limits.model_copy(update={"max_file_bytes": limit})}
    )


def test_a_snapshot_past_the_contracts_limit_rejects_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a Parquet upload that compresses better than the snapshot's re-encoding (sorted, narrow
    # integers), under a limit that the upload and the data its metadata announces both fit in
    monkeypatch.setattr(snapshot_module, "MIN_SNAPSHOT_LIMIT", 0)  # a small file stands for a large one
    rows = 50_000
    table = pa.table(
        {
            "store": pa.array(["north"] * (rows // 2) + ["south"] * (rows - rows // 2)),
            "units": pa.array([i * 5 // rows for i in range(rows)], pa.int16()),
            "amount": pa.array([float(i * 3 // rows) + 0.5 for i in range(rows)]),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", compression_level=19)
    upload = out.getvalue()
    metadata = pq.ParquetFile(io.BytesIO(upload)).metadata
    announced = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    limit = max(len(upload), announced)
    unlimited = io.BytesIO()
    assert validate_dataset(lambda: io.BytesIO(upload), with_limit(1 << 30), snapshot_sink=unlimited).accepted
    assert len(unlimited.getvalue()) > limit  # what the snapshot would take: more than the limit
    # When it is validated under that limit
    sink = io.BytesIO()
    result = validate_dataset(lambda: io.BytesIO(upload), with_limit(limit), snapshot_sink=sink)
    # Then it is rejected, saying that its data as stored passes the limit, and no snapshot is left
    assert not result.accepted
    [found] = [item for item in result.findings if item["check"] == "file.too_large"]
    assert found["message"].startswith("The data, stored as the platform keeps it (Parquet, in the contract")
    assert sink.getvalue() == b""


def test_a_tiny_file_under_a_tiny_limit_keeps_its_snapshot() -> None:
    # Parquet's fixed cost makes the snapshot of a few rows larger than their text: that is not a reason
    sink = io.BytesIO()
    result = validate_dataset(lambda: io.BytesIO(GOOD), with_limit(len(GOOD)), snapshot_sink=sink)
    assert result.accepted
    assert len(sink.getvalue()) > len(GOOD)


def test_the_contract_and_the_synth_say_what_the_storage_holds(tmp_path: Path) -> None:
    # The bound the tests above hold the function to is the one both refusals state
    with pytest.raises(ContractError) as past_any:
        parse_contract(
            {"name": "sales", "target": "y", "columns": [{"name": "y", "type": "float"}]}
            | {"limits": {"max_file_bytes": 6 * 1024**3}}
        )
    context = copy.deepcopy(cdk_json_context()["mlops"])
    context["validation"]["ephemeral_storage_gb"] = 4
    contract_with(tmp_path, context, 4 * 1024**3)
    with pytest.raises(ConfigError) as past_configured:
        load_platform(context, tmp_path)
    for refused in (past_any, past_configured):
        assert (
            "the validation function holds a Parquet upload (copied to its ephemeral storage to be read) "
            "and its snapshot, each up to limits.max_file_bytes, in its ephemeral storage at once"
        ) in str(refused.value)
