"""Builders shared by the unit tests: small contracts, files made in memory, a non-seekable source."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract, parse_contract
from domain.data.validation import ValidationResult, validate_dataset

HEADER = ["id", "amount", "plan", "active", "signed_up", "note"]


def make_contract(**overrides: Any) -> DatasetContract:
    """A small contract with one column of each kind; keyword arguments replace top-level fields."""
    data: dict[str, Any] = {
        "name": "accounts",
        "description": "Test accounts",
        "target": "active",
        "columns": [
            {"name": "id", "type": "integer", "min": 1},
            {"name": "amount", "type": "float", "min": 0, "max": 1000, "nullable": True},
            {"name": "plan", "type": "category", "categories": ["basic", "pro"]},
            {"name": "active", "type": "boolean"},
            {"name": "signed_up", "type": "timestamp", "nullable": True},
            {"name": "note", "type": "string", "nullable": True},
        ],
        "limits": {"min_rows": 1},
    }
    data.update(overrides)
    return parse_contract(data)


def good_rows(n: int = 5) -> list[list[str]]:
    """Valid rows for :func:`make_contract`."""
    return [
        [
            str(i + 1),
            f"{(i * 12.5) % 1000:.2f}",
            "basic" if i % 3 else "pro",
            "true" if i % 2 else "false",
            f"2024-01-{i % 28 + 1:02d}T10:00:00Z",
            f"note {i}",
        ]
        for i in range(n)
    ]


def csv_bytes(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = HEADER,
    *,
    delimiter: str = ",",
    newline: str = "\n",
    bom: bool = False,
) -> bytes:
    """CSV text (no quoting: callers quote values themselves when a test needs it)."""
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    text = newline.join(lines) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    """gzip-compressed bytes."""
    return gzip.compress(data)


def parquet_bytes(table: pa.Table) -> bytes:
    """A Parquet file in memory."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


class StreamingBody:
    """Like an S3 streaming body: read-only, not seekable, returns at most ``chunk`` bytes per read."""

    def __init__(self, data: bytes, chunk: int = 1 << 16) -> None:
        self._buffer = io.BytesIO(data)
        self._chunk = chunk
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        size = self._chunk if size is None or size < 0 else min(size, self._chunk)
        return self._buffer.read(size)

    def close(self) -> None:
        self.closed = True


class Source:
    """``open_source`` for tests: a fresh non-seekable stream per call, counting the calls."""

    def __init__(self, data: bytes, chunk: int = 1 << 16) -> None:
        self.data = data
        self.chunk = chunk
        self.opened = 0
        self.streams: list[StreamingBody] = []

    def __call__(self) -> Any:
        self.opened += 1
        self.streams.append(StreamingBody(self.data, self.chunk))
        return self.streams[-1]

    @property
    def all_closed(self) -> bool:
        """Whether every stream handed out has been closed."""
        return all(stream.closed for stream in self.streams)


def validate(data: bytes, contract: DatasetContract | None = None, **kwargs: Any) -> ValidationResult:
    """Validate bytes against ``contract`` (default :func:`make_contract`)."""
    return validate_dataset(Source(data), contract or make_contract(), **kwargs)


def finding(result: ValidationResult, check: str, column: str | None = None) -> dict[str, Any]:
    """The one finding of ``check`` (for ``column``); fails the test if there is not exactly one."""
    matches = [
        x for x in result.findings if x["check"] == check and (column is None or x["column"] == column)
    ]
    assert len(matches) == 1, f"expected one {check} finding, got {result.findings}"
    return matches[0]


@pytest.fixture
def contract() -> DatasetContract:
    """The small test contract."""
    return make_contract()


@pytest.fixture
def make() -> Callable[..., DatasetContract]:
    """Build a variant of the test contract."""
    return make_contract
