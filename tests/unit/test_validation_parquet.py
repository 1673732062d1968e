"""Parquet uploads, and the normalized snapshot written during validation."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.data.validation import validate_dataset
from tests.unit.conftest import HEADER, Source, csv_bytes, finding, good_rows, parquet_bytes, validate


def accounts_table(n: int = 6) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(1, n + 1), pa.int32()),
            "amount": pa.array([float(i) for i in range(n)], pa.float32()),
            "plan": pa.array(["basic", "pro"] * (n // 2)).dictionary_encode(),
            "active": pa.array([True, False] * (n // 2)),
            "signed_up": pa.array([dt.datetime(2024, 1, 1 + i) for i in range(n)], pa.timestamp("ns")),
            "note": pa.array([None] * n, pa.string()),
        }
    )


def test_a_parquet_file_with_compatible_types_is_accepted(contract: DatasetContract) -> None:
    data = parquet_bytes(accounts_table())
    result = validate(data, contract)
    assert result.accepted, result.findings
    assert (result.format, result.rows) == ("parquet", 6)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.profile is not None
    assert result.profile["columns"]["signed_up"]["min"] == "2024-01-01T00:00:00Z"
    assert result.profile["columns"]["plan"]["frequencies"] == {"basic": 3, "pro": 3}


def test_parquet_columns_of_the_wrong_type_are_schema_errors(contract: DatasetContract) -> None:
    table = accounts_table().set_column(0, "id", pa.array([str(i) for i in range(6)]))
    table = table.set_column(3, "active", pa.array([1, 0] * 3, pa.int64()))
    result = validate(parquet_bytes(table), contract)
    ids = finding(result, "schema.wrong_type", "id")
    assert "stored as string" in ids["message"] and "declares it integer" in ids["message"]
    assert "Write it as int64" in ids["message"]
    assert finding(result, "schema.wrong_type", "active")["examples"] == [{"value": "int64"}]
    assert not result.accepted


def test_parquet_values_are_checked_like_csv_values(contract: DatasetContract) -> None:
    table = accounts_table().set_column(1, "amount", pa.array([1.0, 2000.0, None, 3.0, float("nan"), 4.0]))
    result = validate(parquet_bytes(table), contract)
    assert finding(result, "value.range", "amount")["examples"] == [{"row": 2, "value": 2000.0}]
    assert finding(result, "value.nan_inf", "amount")["examples"] == [{"row": 5, "value": "NaN"}]


def test_a_parquet_file_with_a_corrupt_footer_is_unreadable(contract: DatasetContract) -> None:
    data = bytearray(parquet_bytes(accounts_table()))
    data[-12:-4] = b"\xff" * 8  # the footer length and the end of the metadata
    result = validate(bytes(data), contract)
    found = finding(result, "file.unreadable")
    assert "footer" in found["message"]
    assert result.format == "parquet"
    assert result.profile is None


def test_a_truncated_parquet_file_is_unreadable(contract: DatasetContract) -> None:
    data = parquet_bytes(accounts_table())
    result = validate(data[: len(data) // 2], contract)
    assert result.checks() == {"file.unreadable"}


def test_parquet_missing_and_extra_columns_follow_the_contract(contract: DatasetContract) -> None:
    table = accounts_table().drop_columns(["note"]).append_column("extra", pa.array(range(6)))
    result = validate(parquet_bytes(table), contract)
    assert {"header.missing_column", "header.extra_column"} <= result.checks()


def test_the_snapshot_has_contract_order_and_types_and_no_extra_columns(make: type) -> None:
    # Given a CSV with columns in another order and an undeclared column
    order = [3, 0, 5, 1, 2, 4]
    rows = [[*(row[i] for i in order), "junk"] for row in good_rows(4)]
    data = csv_bytes(rows, [*(HEADER[i] for i in order), "junk"])
    sink = io.BytesIO()
    # When it is validated with a snapshot sink
    result = validate_dataset(Source(data), make(extra_columns="ignore"), snapshot_sink=sink)
    # Then the snapshot is Parquet in contract order, with the normalized types
    assert result.accepted, result.findings
    snapshot = pq.read_table(io.BytesIO(sink.getvalue()))
    assert snapshot.column_names == HEADER
    assert snapshot.schema.field("id").type == pa.int64()
    assert snapshot.schema.field("amount").type == pa.float64()
    assert snapshot.schema.field("plan").type == pa.dictionary(pa.int32(), pa.string())
    assert snapshot.schema.field("active").type == pa.bool_()
    assert snapshot.schema.field("signed_up").type == pa.timestamp("us", tz="UTC")
    assert snapshot.column("id").to_pylist() == [1, 2, 3, 4]
    assert snapshot.column("plan").to_pylist() == ["pro", "basic", "basic", "pro"]
    assert pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata.row_group(0).column(0).compression == "ZSTD"


def test_no_snapshot_is_written_for_a_rejected_file(contract: DatasetContract) -> None:
    rows = good_rows(4)
    rows[1][2] = "gold"
    sink = io.BytesIO()
    result = validate_dataset(Source(csv_bytes(rows)), contract, snapshot_sink=sink)
    assert not result.accepted
    assert sink.getvalue() == b""


def test_a_parquet_upload_gets_a_normalized_snapshot(contract: DatasetContract) -> None:
    sink = io.BytesIO()
    result = validate_dataset(Source(parquet_bytes(accounts_table())), contract, snapshot_sink=sink)
    assert result.accepted
    snapshot = pq.read_table(io.BytesIO(sink.getvalue()))
    assert snapshot.schema.field("id").type == pa.int64()
    assert snapshot.schema.field("signed_up").type == pa.timestamp("us", tz="UTC")
    assert snapshot.num_rows == 6


def test_dictionary_encoded_categories_are_checked_on_their_values(contract: DatasetContract) -> None:
    plans = pa.array(["basic", "gold", None, "pro", "gold", "basic"]).dictionary_encode()
    table = accounts_table().set_column(2, "plan", plans)
    result = validate(parquet_bytes(table), contract)
    found = finding(result, "value.category", "plan")
    assert found["count"] == 2
    assert found["examples"] == [{"row": 2, "value": "gold"}, {"row": 5, "value": "gold"}]
    assert "'gold' (2 rows)" in found["message"]
    assert finding(result, "value.null", "plan")["examples"] == [{"row": 3, "value": None}]
