"""File-level behaviour of the validator: formats, encodings, sizes, hashing, bad bytes."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from domain.data.contract import DatasetContract
from domain.data.validation import validate_dataset
from tests.unit.conftest import Source, csv_bytes, finding, good_rows, gzip_bytes, make_contract, validate


def test_a_good_csv_is_accepted_with_its_hash_size_and_row_count(contract: DatasetContract) -> None:
    # Given a valid CSV
    data = csv_bytes(good_rows(7))
    # When it is validated
    result = validate(data, contract)
    # Then it is accepted, and the result identifies exactly the uploaded bytes
    assert result.accepted, result.findings
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size_bytes == len(data)
    assert (result.format, result.rows) == ("csv", 7)
    assert result.report["status"] == "accepted"
    assert result.report["contract_fingerprint"] == contract.fingerprint
    assert result.report["columns"] == ["id", "amount", "plan", "active", "signed_up", "note"]
    assert result.report["summary"].startswith("accepted: 7 rows x 6 columns")


def test_a_good_file_is_read_once(contract: DatasetContract) -> None:
    source = Source(csv_bytes(good_rows(50)), chunk=7)  # tiny reads: nothing may assume full reads
    result = validate_dataset(source, contract)
    assert result.accepted
    assert source.opened == 1
    assert source.all_closed


def test_gzip_is_detected_by_its_bytes_and_hashed_as_uploaded(contract: DatasetContract) -> None:
    data = gzip_bytes(csv_bytes(good_rows(20)))
    result = validate(data, contract)
    assert result.accepted, result.findings
    assert result.format == "csv+gzip"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.rows == 20


def test_a_multi_member_gzip_is_read_in_full(contract: DatasetContract) -> None:
    text = csv_bytes(good_rows(10))
    head, tail = text[:100], text[100:]
    result = validate(gzip.compress(head) + gzip.compress(tail), contract)
    assert result.accepted, result.findings
    assert result.rows == 10


def test_an_empty_file_is_rejected_as_empty(contract: DatasetContract) -> None:
    result = validate(b"", contract)
    assert not result.accepted
    assert finding(result, "file.empty")["message"].startswith("The file is empty")
    assert result.sha256 == hashlib.sha256(b"").hexdigest()
    assert result.profile is None


def test_a_file_of_blank_lines_is_empty(contract: DatasetContract) -> None:
    result = validate(b"\n  \r\n\n", contract)
    assert result.checks() == {"file.empty"}


def test_a_header_without_rows_has_too_few_rows(contract: DatasetContract) -> None:
    result = validate(csv_bytes([]), contract)
    found = finding(result, "rows.too_few")
    assert "header but no data rows" in found["message"]
    assert result.rows == 0
    assert result.profile is not None and result.profile["rows"] == 0


def test_fewer_rows_than_the_contract_minimum_are_rejected(make: type) -> None:
    result = validate(csv_bytes(good_rows(3)), make(limits={"min_rows": 10}))
    found = finding(result, "rows.too_few")
    assert "3 data rows" in found["message"] and "at least 10" in found["message"]


def test_a_utf8_bom_is_accepted(contract: DatasetContract) -> None:
    result = validate(csv_bytes(good_rows(4), bom=True), contract)
    assert result.accepted, result.findings
    assert result.report["columns"][0] == "id"


def test_crlf_line_endings_are_accepted(contract: DatasetContract) -> None:
    result = validate(csv_bytes(good_rows(4), newline="\r\n"), contract)
    assert result.accepted, result.findings
    assert result.profile is not None
    assert result.profile["columns"]["note"]["frequencies"]["note 3"] == 1  # no stray \r in values


def test_quoted_newlines_and_delimiters_are_valid_csv(contract: DatasetContract) -> None:
    rows = good_rows(3)
    rows[1][5] = '"two\nlines, and a comma"'
    result = validate(csv_bytes(rows), contract)
    assert result.accepted, result.findings
    assert result.rows == 3
    assert result.profile is not None
    assert "two\nlines, and a comma" in result.profile["columns"]["note"]["frequencies"]


def test_non_utf8_bytes_are_rejected_with_their_line_and_offset(contract: DatasetContract) -> None:
    rows = good_rows(6)
    data = csv_bytes(rows).replace(b"note 4", "café 4".encode("latin-1"))
    result = validate(data, contract)
    found = finding(result, "file.encoding")
    assert found["count"] == 1
    example = found["examples"][0]
    assert example["line"] == 6  # header is line 1, the fifth data row is line 6
    assert data[example["byte_offset"]] == 0xE9
    assert "Windows-1252" in found["message"]
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_a_multibyte_character_split_across_reads_is_fine(contract: DatasetContract) -> None:
    rows = good_rows(3)
    rows[0][5] = "é" * 5000
    result = validate_dataset(Source(csv_bytes(rows), chunk=3), contract)
    assert result.accepted, result.findings


def test_binary_garbage_is_unreadable(contract: DatasetContract) -> None:
    garbage = bytes(range(256)) * 64
    result = validate(garbage, contract)
    found = finding(result, "file.unreadable")
    assert "binary" in found["message"]
    assert result.profile is None
    assert result.sha256 == hashlib.sha256(garbage).hexdigest()


def test_a_truncated_gzip_is_reported_as_truncated(contract: DatasetContract) -> None:
    data = gzip_bytes(csv_bytes(good_rows(2000)))
    cut = data[: len(data) // 2]
    result = validate(cut, contract)
    found = finding(result, "file.gzip_truncated")
    assert "truncated" in found["message"]
    assert result.format == "csv+gzip"
    assert result.sha256 == hashlib.sha256(cut).hexdigest()


def test_corrupt_gzip_data_is_unreadable(contract: DatasetContract) -> None:
    data = bytearray(gzip_bytes(csv_bytes(good_rows(50))))
    data[20:40] = b"\xff" * 20
    result = validate(bytes(data), contract)
    assert result.checks() == {"file.unreadable"}
    assert "gzip" in result.findings[0]["message"]


def test_a_file_over_the_announced_size_limit_is_rejected_without_reading(make: type) -> None:
    contract = make(limits={"max_file_bytes": 1000})
    source = Source(csv_bytes(good_rows(100)))
    result = validate_dataset(source, contract, size=5000)
    assert finding(result, "file.too_large")["message"].startswith("The file is 0.0 MiB, over")
    assert source.opened == 0
    assert (result.sha256, result.size_bytes) == (None, 5000)


def test_a_stream_longer_than_the_limit_stops_being_read(make: type) -> None:
    contract = make(limits={"max_file_bytes": 1000})
    data = csv_bytes(good_rows(1000))
    # The announced size is wrong (or unknown): reading stops soon after the limit.
    result = validate_dataset(Source(data, chunk=256), contract, size=None)
    found = finding(result, "file.too_large")
    assert "reading stopped after" in found["message"]
    assert result.sha256 is None
    assert 1000 < result.size_bytes <= 1000 + 256


def test_the_report_is_json_serializable(contract: DatasetContract) -> None:
    import json

    rows = good_rows(5)
    rows[2][1] = "NaN"
    result = validate(csv_bytes(rows), contract)
    assert json.loads(json.dumps(result.report, allow_nan=False)) == result.report
    assert json.loads(json.dumps(result.profile, allow_nan=False)) == result.profile


@pytest.mark.parametrize("data", [b"\x00", b"PAR1", b"\x1f\x8b", b"id\n", b'"', b"\xef\xbb\xbf"])
def test_tiny_odd_files_never_raise(data: bytes) -> None:
    result = validate(data, make_contract())
    assert not result.accepted
    assert result.findings
