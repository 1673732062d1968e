"""The gate reads the small output archive, and streams the model archive only for what that lacks.

The model archive of a large model is bigger than the gate function's /tmp (512 MB by default): the
fake store below serves one lazily (a 2 GiB member, generated as it is read) and records every fetch.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pytest

from domain.training import artifacts as run_artifacts
from domain.training.artifacts import ArtifactMissingError
from domain.training.verdict import JOB_OUTPUTS, TrainingOutputError, read_job_outputs

MODEL = "s3://data/runs/sales/run-1/training/job/output/model.tar.gz"
OUTPUT = MODEL.replace("model.tar.gz", "output.tar.gz")
LAMBDA_TMP = 512 * 1024 * 1024
HUGE = 2 * 1024**3
DOCUMENTS = {name: {"name": name, "rows": 1} for name in JOB_OUTPUTS}


class LazyArchive(io.RawIOBase):
    """A ``.tar.gz`` whose members are generated as it is read; counts what was read."""

    def __init__(self, members: list[tuple[str, int, bytes]]) -> None:
        self._chunks = self._generate(members)
        self._pending = b""
        self.consumed = 0

    @staticmethod
    def _generate(members: list[tuple[str, int, bytes]]) -> Iterator[bytes]:
        gzip = zlib.compressobj(1, zlib.DEFLATED, 31)
        for name, size, head in members:
            info = tarfile.TarInfo(name)
            info.size = size
            yield gzip.compress(info.tobuf(format=tarfile.PAX_FORMAT))
            left, block = size, head
            while left:
                piece = block[:left] if block else bytes(min(left, 1 << 20))
                block = b""
                left -= len(piece)
                yield gzip.compress(piece)
            padding = -size % tarfile.BLOCKSIZE
            yield gzip.compress(bytes(padding))
        yield gzip.compress(bytes(2 * tarfile.BLOCKSIZE)) + gzip.flush()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.consumed += count
        return count


def json_members(documents: dict[str, Any]) -> list[tuple[str, int, bytes]]:
    return [
        ("./" + name, len(data), data)
        for name, data in ((n, json.dumps(d).encode()) for n, d in documents.items())
    ]


@dataclass
class RecordingStore:
    """Objects by URI, each bytes or a lazy archive; records every fetch, and what went to disk."""

    objects: dict[str, bytes | LazyArchive] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)

    def open(self, uri: str) -> BinaryIO:
        if uri not in self.objects:
            raise ArtifactMissingError(uri)
        self.opened.append(uri)
        body = self.objects[uri]
        return io.BytesIO(body) if isinstance(body, bytes) else io.BufferedReader(body)  # type: ignore[return-value]

    def open_ranged(self, uri: str) -> BinaryIO:
        self.downloaded.append(uri)
        raise AssertionError(f"the gate read {uri} by ranges instead of streaming it")


def tar_gz(documents: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, size, data in json_members(documents):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_the_gate_reads_the_output_archive_and_never_fetches_the_model_archive() -> None:
    # Given a job whose model archive is larger than the gate's /tmp, and its small output archive
    model = LazyArchive([("./model.joblib", HUGE, b""), *json_members(DOCUMENTS)])
    store = RecordingStore({MODEL: model, OUTPUT: tar_gz(DOCUMENTS)})
    # When the gate reads the job's outputs
    found = read_job_outputs(MODEL, store)  # type: ignore[arg-type]
    # Then it has them all, fetched the output archive only, and wrote nothing to disk
    assert found == DOCUMENTS
    assert store.opened == [OUTPUT]
    assert store.downloaded == [] and model.consumed == 0


def test_what_the_output_archive_lacks_is_streamed_from_the_model_archive_and_reading_stops_there() -> None:
    # Given an older job: no output archive, and a model archive of the evaluation then a 2 GiB model
    model = LazyArchive([*json_members(DOCUMENTS), ("./model.joblib", HUGE, b"")])
    store = RecordingStore({MODEL: model})
    # When the gate reads the job's outputs
    found = read_job_outputs(MODEL, store)  # type: ignore[arg-type]
    # Then it streams the model archive, stops once it has what it needs, and stores none of it
    assert found == DOCUMENTS
    assert store.opened == [MODEL] and store.downloaded == []
    assert model.consumed < LAMBDA_TMP // 100


def test_a_member_too_large_to_read_into_memory_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is a module constant: lowered here so that the test needs no large document.
    monkeypatch.setattr(run_artifacts, "MAX_DOCUMENT_BYTES", 1000)
    big = dict(DOCUMENTS, **{"evaluation.json": {"metrics": "x" * 2000}})
    store = RecordingStore({OUTPUT: tar_gz(big), MODEL: tar_gz(DOCUMENTS)})

    with pytest.raises(TrainingOutputError, match=r"evaluation\.json in .*output\.tar\.gz is 2,\d{3} bytes"):
        read_job_outputs(MODEL, store)  # type: ignore[arg-type]
