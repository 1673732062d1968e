"""Pathological files: each one is a rejection that says what is wrong and where, in our words.

Enormous lines and fields, no line break at all, very wide headers, names with spaces around them,
a gzip file that expands far past the limit, a file that ends inside a quoted value. The data is made
here, in bounded size; the reader's block sizes are lowered where a test needs a row "too long".
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tracemalloc
import zlib
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.data.contract import DatasetContract
from domain.data.validation import ValidationResult, validate_dataset
from tests.unit.conftest import HEADER, Source, csv_bytes, finding, good_rows, make_contract, validate

MiB = 1 << 20
Make = Callable[..., DatasetContract]


def report_size(result: ValidationResult) -> int:
    return len(json.dumps(result.report))


def small_blocks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Parse with small blocks, so that a row of a few hundred KiB is "too long"; returns the largest."""
    monkeypatch.setattr("domain.data.validation.validator.BLOCK_SIZE", 16 << 10)
    monkeypatch.setattr("domain.data.validation.validator.MAX_BLOCK_SIZE", 128 << 10)
    return 128 << 10


def test_one_8_mb_line_without_a_line_break_is_rejected_as_not_csv(contract: DatasetContract) -> None:
    # Given the upload from the issue: 8 MB on one line, no line break anywhere
    data = b"7" * (8 * MiB)
    # When it is validated
    result = validate(data, contract)
    # Then it is a rejection that says what the file is, not an exception
    found = finding(result, "file.unreadable")
    assert "no line break at all" in found["message"] and "8.0 MiB" in found["message"]
    assert "8,388,608 characters" in found["message"]
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert report_size(result) < 5_000  # the "name" is cut in the report


def test_a_first_line_past_the_header_limit_is_rejected_without_reading_on(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("domain.data.validation.header.MAX_HEADER_BYTES", 64 << 10)
    data = b"id,amount" + b",x" * (200 << 10)

    result = validate(data, contract)

    found = finding(result, "file.unreadable")
    assert "no line break in its first 0.1 MiB" in found["message"]
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_with_a_header_and_no_line_break_has_no_rows(contract: DatasetContract) -> None:
    result = validate(",".join(HEADER).encode(), contract)
    assert result.checks() == {"rows.too_few"}
    assert "header but no data rows" in finding(result, "rows.too_few")["message"]


def test_an_enormous_unquoted_field_past_the_largest_block_is_located(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    largest = small_blocks(monkeypatch)
    head = csv_bytes(good_rows(3))
    data = head + b"4,1,basic,true,," + b"n" * (4 * largest) + b"\n" + csv_bytes(good_rows(2), [])

    result = validate(data, contract)

    found = finding(result, "rows.malformed")
    assert found["examples"] == [{"line": 5, "byte_offset": len(head)}]
    assert "The row starting at line 5" in found["message"] and "0.1 MiB" in found["message"]
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_a_large_field_within_the_blocks_is_just_a_value(contract: DatasetContract) -> None:
    data = csv_bytes(good_rows(3)) + b"4,1,basic,true,," + b"n" * (3 * MiB) + b"\n"
    result = validate(data, contract)
    assert result.accepted, result.findings
    assert result.rows == 4


def test_a_quote_never_closed_in_a_long_file_is_named_where_it_opens(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_blocks(monkeypatch)
    head = csv_bytes(good_rows(3))
    data = head + b'4,1,basic,true,,"opened\n' + csv_bytes(good_rows(20_000), [])

    result = validate(data, contract)

    found = finding(result, "rows.unclosed_quote")
    assert found["examples"] == [{"line": 5, "byte_offset": len(head) + len(b"4,1,basic,true,,")}]
    assert "is not closed within" in found["message"]


@pytest.mark.parametrize("compress", [False, True], ids=["csv", "gzip"])
def test_a_file_that_ends_inside_a_quoted_value_is_rejected(compress: bool) -> None:
    # Given a file cut short inside a quoted value of its last column (the reader would take the rest
    # of the file as that value, and count no malformed row)
    head = csv_bytes(good_rows(3))
    text = head + b'4,1,basic,true,,"a note cut sho'
    data = gzip.compress(text) if compress else text
    # When it is validated
    result = validate(data)
    # Then the open quote is named, with where it opens in the (decompressed) text
    found = finding(result, "rows.unclosed_quote")
    assert found["examples"] == [{"line": 5, "byte_offset": text.index(b'"a note')}]
    assert "ends inside a quoted value" in found["message"]
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_quoted_values_and_stray_quotes_that_close_are_accepted(contract: DatasetContract) -> None:
    rows = good_rows(4)
    rows[0][5] = '"say ""hi"", twice"'
    rows[1][5] = '12" pizza'  # a quote inside an unquoted value is a character
    rows[2][5] = '5" and 6"'
    result = validate(csv_bytes(rows), contract)
    assert result.accepted, result.findings


def test_a_header_that_ends_inside_quotes_names_the_quote() -> None:
    result = validate(b'id,amount,"plan,active')
    found = finding(result, "file.unreadable")
    assert found["examples"] == [{"line": 1, "byte_offset": 10}]
    assert "never closed" in found["message"]


def test_names_with_spaces_around_the_delimiters_are_one_finding_that_says_how_to_fix(
    contract: DatasetContract,
) -> None:
    # Given the header from the issue: spaces around every delimiter
    text = b" , ".join(name.encode() for name in HEADER) + b"\n" + csv_bytes(good_rows(3), [])
    # When it is validated
    result = validate(text, contract)
    # Then one finding names the padded names, where they are, and what to do
    assert result.checks() == {"header.padded_names"}
    found = finding(result, "header.padded_names")
    assert found["count"] == 6
    assert "line 1" in found["message"] and "'id ' (position 1)" in found["message"]
    assert "' amount ' (position 2)" in found["message"]
    assert "Remove the spaces around the delimiters (comma (','))" in found["message"]
    assert "rename" not in found["message"]


def test_one_padded_name_leaves_the_other_columns_checked(contract: DatasetContract) -> None:
    header = ["id", " amount", *HEADER[2:]]
    rows = good_rows(3)
    rows[1][2] = "gold"

    result = validate(csv_bytes(rows, header), contract)

    assert result.checks() == {"header.padded_names", "value.category"}
    assert finding(result, "header.padded_names")["examples"] == [{"line": 1, "value": " amount"}]


def test_a_header_with_none_of_the_declared_columns_is_told_so(contract: DatasetContract) -> None:
    result = validate(csv_bytes([["1", "2", "3"]] * 3, ["a", "b", "c"]), contract)
    assert {"header.missing_column", "header.extra_column"} <= result.checks()
    assert len([x for x in result.findings if x["check"] == "header.missing_column"]) == len(HEADER)


def test_a_very_wide_header_is_one_finding_and_a_bounded_report(contract: DatasetContract) -> None:
    header = [*HEADER, *(f"extra_{i}" for i in range(200_000))]

    result = validate((",".join(header) + "\n").encode(), contract)

    assert result.checks() == {"header.too_many_columns"}
    assert "200,006 columns" in finding(result, "header.too_many_columns")["message"]
    assert len(result.report["columns"]) == contract.limits.max_columns
    assert report_size(result) < 50_000


def test_many_undeclared_columns_are_listed_once(make: Make) -> None:
    header = [*HEADER, *(f"extra_{i}" for i in range(300))]
    rows = [[*row, *("1" for _ in range(300))] for row in good_rows(2)]

    result = validate(csv_bytes(rows, header), make(limits={"max_columns": 1000, "min_rows": 1}))

    found = finding(result, "header.extra_column")
    assert found["count"] == 300
    assert "300 columns are not declared" in found["message"] and "'extra_0' (position 7)" in found["message"]


def _gzip_bomb(expanded: int) -> bytes:
    """gzip data that expands to ``expanded`` bytes of valid CSV, made without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    row = b"1,2.5,basic,true,,note\n" * 40_000
    parts = [compressor.compress(",".join(HEADER).encode() + b"\n")]
    for _ in range(expanded // len(row)):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    return b"".join(parts)


def test_a_gzip_bomb_stops_at_the_limit_in_bounded_memory(make: Make) -> None:
    # Given 2 MB of gzip that expands to 256 MiB, and a limit of 8 MiB
    bomb = _gzip_bomb(256 * MiB)
    contract = make(limits={"max_file_bytes": 8 * MiB, "min_rows": 1})
    assert len(bomb) < contract.limits.max_file_bytes
    validate_dataset(Source(gzip.compress(csv_bytes(good_rows(2)))), contract)  # imports and caches first
    # When it is validated
    tracemalloc.start()
    result = validate_dataset(Source(bomb), contract)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Then decompression stops at the limit, with a finding that says so
    found = finding(result, "file.too_large")
    assert "expands to more than the contract's limit of 8.0 MiB when decompressed" in found["message"]
    assert result.checks() == {"file.too_large"}
    assert peak < 32 * MiB
    assert result.size_bytes <= len(bomb)


def test_parquet_data_larger_than_the_limit_uncompressed_is_rejected_unread(make: Make) -> None:
    # Given a small Parquet file (plain-encoded, zstd) whose data takes about 6 MiB, and a limit of 1 MiB
    rows = 50_000
    table = pa.table({
        "id": pa.array(range(1, rows + 1)), "amount": pa.array([1.5] * rows),
        "plan": pa.array(["basic"] * rows), "active": pa.array([True] * rows),
        "signed_up": pa.array([None] * rows, pa.timestamp("us", tz="UTC")),
        "note": pa.array(["x" * 100] * rows),
    })  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", use_dictionary=False)
    contract = make(limits={"max_file_bytes": MiB, "min_rows": 1})
    assert len(buffer.getvalue()) < contract.limits.max_file_bytes
    # When it is validated
    result = validate(buffer.getvalue(), contract)
    # Then the finding says the data is too large as gzip's does, with the size the metadata gives
    found = finding(result, "file.too_large")
    metadata = pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata
    expanded = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    assert expanded > 4 * MiB
    assert found["message"].startswith(
        f"The file's data takes {expanded / MiB:.1f} MiB uncompressed (as its metadata says)"
    )
    assert (
        "more than the contract's limit of 1.0 MiB (limits.max_file_bytes applies to the data"
        in found["message"]
    )
    assert result.checks() == {"file.too_large"} and result.rows == 0


def test_truncated_and_corrupt_gzip_are_told_apart_without_zlib_text(contract: DatasetContract) -> None:
    data = gzip.compress(csv_bytes(good_rows(2000)))
    corrupt = bytearray(data)
    corrupt[30:60] = b"\xff" * 30

    cut = finding(validate(data[: len(data) // 2], contract), "file.gzip_truncated")["message"]
    broken = validate(bytes(corrupt), contract).findings[0]["message"]

    assert "truncated" in cut and "corrupt" in broken
    for message in (cut, broken):
        assert "Error -3" not in message and "invalid" not in message


@pytest.mark.parametrize(
    "data",
    [
        b"7" * (1 * MiB),
        b'"' * 1001,
        b"id\r" * 5000,
        b",".join(b'"a"' for _ in range(3000)) + b"\n",
        csv_bytes(good_rows(3)) + b'"',
        csv_bytes(good_rows(3)) + b"\x00" * 100,
    ],
    ids=["one-line", "quotes", "bare-cr", "quoted-wide", "trailing-quote", "trailing-nul"],
)
def test_odd_shapes_always_end_in_a_report(data: bytes) -> None:
    result = validate(data, make_contract())
    assert result.report["status"] in ("accepted", "rejected")
    assert report_size(result) < 20_000


def test_a_quote_inside_a_header_name_is_a_character_as_in_the_rows(make: Make) -> None:
    # The header is read with the rows' rules: a quote opens a quoted name only at the start of one
    header = [*HEADER, 'size_"inch']
    rows = [[*row, "1"] for row in good_rows(3)]

    result = validate(csv_bytes(rows, header), make(extra_columns="ignore"))

    assert result.accepted, result.findings
    assert result.report["columns"][-1] == 'size_"inch'


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 16])
def test_quoted_header_names_with_doubled_quotes_and_crlf_read_in_any_chunks(make: Make, chunk: int) -> None:
    text = b'"id","amount","plan","active","signed_up","note ""n"""\r\n'
    text += csv_bytes(good_rows(2), [], newline="\r\n")

    result = validate_dataset(Source(text, chunk=chunk), make(extra_columns="warn"))

    assert result.report["columns"] == [*HEADER[:5], 'note "n"']
    assert result.rows == 2


def test_many_duplicated_names_are_one_finding(make: Make) -> None:
    header = [*HEADER, *(f"copy_{i % 20}" for i in range(60))]
    rows = [[*row, *("1" for _ in range(60))] for row in good_rows(2)]

    result = validate(csv_bytes(rows, header), make(extra_columns="ignore"))

    found = finding(result, "header.duplicate_column")
    assert found["count"] == 20
    assert (
        "20 column names appear more than once" in found["message"]
        and "'copy_0' (3 times)" in found["message"]
    )


def test_a_reader_giving_up_on_a_truncated_gzip_reports_both(
    contract: DatasetContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    def give_up(*args: object, **kwargs: object) -> None:
        from domain.data.validation.csv_reader import UnparsableError

        raise UnparsableError(3)

    monkeypatch.setattr("domain.data.validation.csv_reader.pacsv.open_csv", give_up)
    data = gzip.compress(csv_bytes(good_rows(3000)))

    result = validate(data[: len(data) // 2], contract)

    assert result.checks() == {"file.gzip_truncated", "rows.malformed"}
    assert "past data row 3" in finding(result, "rows.malformed")["message"]
