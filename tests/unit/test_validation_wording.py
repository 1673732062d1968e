"""No library's exception text reaches a report: whatever the reader or a decoder says, we say it ourselves.

Two ways of holding that: the readers are made to fail with a sentinel text (which must not appear
anywhere in the report), and real failures of pyarrow, zlib and Python's csv module are provoked and
their known phrases looked for.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract
from domain.data.validation import ValidationResult
from tests.unit.conftest import HEADER, csv_bytes, finding, good_rows, parquet_bytes, validate

SENTINEL = "LIBRARY-TEXT-7f3a"
# Phrases of pyarrow, zlib and the csv module that used to reach reports, or could.
LIBRARY_PHRASES = (
    "straddl",
    "field larger than field limit",
    "CSV parse error",
    "tried to rename",
    "ArrowInvalid",
    "Error -3",
    "while decompressing",
    "magic bytes",
    "snappy",
    "not in range",
    "conversion error",
    "Expected ",
)


def report_text(result: ValidationResult) -> str:
    return json.dumps(result.report)


class FailingBatches:
    """A CSV stream reader (``pyarrow.csv.open_csv``'s) that fails on its first batch with our sentinel."""

    def read_next_batch(self) -> Any:
        raise pa.ArrowInvalid(f"{SENTINEL}: something only the library understands")


def test_a_csv_reader_failure_is_reported_in_our_words(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "domain.data.validation.csv_reader.pacsv.open_csv", lambda *args, **kwargs: FailingBatches()
    )

    result = validate(csv_bytes(good_rows(5)), contract)

    assert SENTINEL not in report_text(result)
    found = finding(result, "rows.malformed")
    assert "cannot be read past data row 0" in found["message"]
    assert "quote" in found["message"] and "comma (',')" in found["message"]


def test_a_parquet_reader_failure_is_reported_in_our_words(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise pa.ArrowInvalid(f"{SENTINEL}: Parquet file size is 0 bytes")

    monkeypatch.setattr("domain.data.validation.parquet_reader.pq.ParquetFile", refuse)

    result = validate(b"PAR1" + b"\x00" * 64, contract)

    assert SENTINEL not in report_text(result)
    assert "footer" in finding(result, "file.unreadable")["message"]


def _table(**columns: pa.Array) -> pa.Table:
    base: dict[str, pa.Array] = {
        "id": pa.array([1, 2], pa.int64()),
        "amount": pa.array([1.0, 2.0]),
        "plan": pa.array(["basic", "pro"]),
        "active": pa.array([True, False]),
        "signed_up": pa.array([dt.datetime(2024, 1, 1)] * 2, pa.timestamp("us")),
        "note": pa.array(["a", "b"]),
    }
    return pa.table({**base, **columns})


def _corrupt_row_group() -> bytes:
    buffer = pa.BufferOutputStream()
    pq.write_table(_table(note=pa.array(["x" * 5000, "y" * 5000])), buffer, compression="snappy")
    data = bytearray(buffer.getvalue().to_pybytes())
    start = data.index(b"x" * 50) if b"x" * 50 in data else 200
    data[start - 40 : start + 40] = b"\xfe" * 80
    return bytes(data)


CASES = {
    "one huge line": b"9" * (1 << 20),
    "padded header": b" , ".join(name.encode() for name in HEADER) + b"\n" + csv_bytes(good_rows(2), []),
    "unclosed quote": csv_bytes(good_rows(3)) + b'4,1,basic,true,,"cut',
    "quote in header": b'id,"amount',
    "corrupt gzip": gzip.compress(csv_bytes(good_rows(500)))[:20] + b"\xff" * 60,
    "truncated gzip": gzip.compress(csv_bytes(good_rows(5000)))[:3000],
    "wrong delimiter": csv_bytes(good_rows(3), delimiter=";"),
    "short rows": csv_bytes(good_rows(3)) + b"1,2\n",
    "bad values": csv_bytes([["x", "-1", "gold", "maybe", "yesterday", "n"]] * 3),
    "parquet footer": parquet_bytes(_table())[:-30],
    "parquet row group": _corrupt_row_group(),
    "parquet out of range": parquet_bytes(_table(id=pa.array([2**63 + 5, 1], pa.uint64()))),
}


@pytest.mark.parametrize("name", CASES)
def test_no_library_phrase_reaches_a_report(name: str, contract: DatasetContract) -> None:
    result = validate(CASES[name], contract)

    assert not result.accepted
    text = report_text(result)
    assert [phrase for phrase in LIBRARY_PHRASES if phrase in text] == []
    for item in result.findings:
        assert item["message"].rstrip().endswith((".", ")")), item["message"]
