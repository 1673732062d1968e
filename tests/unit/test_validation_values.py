"""Value checks: each says which rows and values are wrong, and what the contract expects."""

from __future__ import annotations

from collections.abc import Callable

from domain.data.contract import DatasetContract
from tests.unit.conftest import HEADER, Source, csv_bytes, finding, good_rows, validate

Make = Callable[..., DatasetContract]


def with_cell(rows: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    rows[row][HEADER.index(column)] = value
    return rows


def test_values_of_the_wrong_type_are_listed_with_their_rows(contract: DatasetContract) -> None:
    # Given integers and booleans that are not
    rows = good_rows(30)
    with_cell(rows, 3, "id", "four")
    with_cell(rows, 20, "id", "2.5")
    with_cell(rows, 7, "active", "yes")
    source = Source(csv_bytes(rows))
    # When validated
    from domain.data.validation import validate_dataset

    result = validate_dataset(source, contract)
    # Then each bad value is found, with its 1-based data row, in a diagnostic second pass
    ids = finding(result, "value.type", "id")
    assert ids["count"] == 2
    assert ids["examples"] == [{"row": 4, "value": "four"}, {"row": 21, "value": "2.5"}]
    assert "whole numbers" in ids["message"]
    active = finding(result, "value.type", "active")
    assert active["examples"] == [{"row": 8, "value": "yes"}]
    assert source.opened == 2
    assert source.all_closed
    # and the rest of the file is still checked and profiled
    assert result.profile is not None
    assert result.profile["columns"]["id"]["count"] == 28
    assert result.profile["columns"]["id"]["nulls"] == 0
    assert "value.null" not in result.checks()


def test_a_whole_column_of_the_wrong_type_is_counted_exactly(contract: DatasetContract) -> None:
    rows = [with_cell(good_rows(1), 0, "id", f"id-{i}")[0] for i in range(3000)]
    result = validate(csv_bytes(rows), contract)
    found = finding(result, "value.type", "id")
    assert found["count"] == 3000
    assert len(found["examples"]) == 5


def test_out_of_range_values_are_listed(contract: DatasetContract) -> None:
    rows = good_rows(10)
    with_cell(rows, 2, "amount", "1000.5")
    with_cell(rows, 5, "amount", "-1")
    with_cell(rows, 6, "id", "0")
    result = validate(csv_bytes(rows), contract)
    amount = finding(result, "value.range", "amount")
    assert amount["count"] == 2
    assert amount["examples"] == [{"row": 3, "value": 1000.5}, {"row": 6, "value": -1.0}]
    assert "at least 0 and at most 1000" in amount["message"]
    assert finding(result, "value.range", "id")["examples"] == [{"row": 7, "value": 0}]


def test_nulls_in_a_column_that_is_not_nullable_are_listed(contract: DatasetContract) -> None:
    rows = good_rows(6)
    with_cell(rows, 1, "plan", "")
    with_cell(rows, 4, "plan", "NA")
    with_cell(rows, 3, "amount", "")  # nullable: fine
    result = validate(csv_bytes(rows), contract)
    found = finding(result, "value.null", "plan")
    assert found["count"] == 2
    assert [e["row"] for e in found["examples"]] == [2, 5]
    assert "nullable: true" in found["message"]
    assert result.checks() == {"value.null"}
    assert result.profile is not None and result.profile["columns"]["amount"]["nulls"] == 1


def test_unseen_categories_are_counted_per_value(contract: DatasetContract) -> None:
    rows = good_rows(9)
    with_cell(rows, 0, "plan", "gold")
    with_cell(rows, 4, "plan", "gold")
    with_cell(rows, 8, "plan", "Basic")
    result = validate(csv_bytes(rows), contract)
    found = finding(result, "value.category", "plan")
    assert found["count"] == 3
    assert "'gold' (2 rows), 'Basic' (1 row)" in found["message"]
    assert "Allowed: 'basic', 'pro'" in found["message"]
    assert found["examples"][0] == {"row": 1, "value": "gold"}


def test_nan_and_infinity_are_rejected_unless_allowed(make: Make) -> None:
    rows = good_rows(8)
    with_cell(rows, 1, "amount", "NaN")
    with_cell(rows, 6, "amount", "inf")
    data = csv_bytes(rows)
    strict = validate(data, make())
    found = finding(strict, "value.nan_inf", "amount")
    assert found["examples"] == [{"row": 2, "value": "NaN"}, {"row": 7, "value": "inf"}]
    assert "value.range" not in strict.checks()  # infinity is reported once, as what it is

    columns = [c.model_dump() for c in make().columns]
    columns[1].update(allow_nan_inf=True)
    lenient = validate(data, make(columns=columns))
    assert lenient.accepted, lenient.findings
    assert lenient.profile is not None
    amount = lenient.profile["columns"]["amount"]
    assert (amount["nan"], amount["infinity"], amount["count"]) == (1, 1, 6)


def test_rows_with_the_wrong_number_of_fields_are_malformed(contract: DatasetContract) -> None:
    text = csv_bytes(good_rows(5)).decode()
    lines = text.splitlines()
    lines[2] = lines[2] + ",extra"
    lines[4] = "1,2"
    result = validate(("\n".join(lines) + "\n").encode(), contract)
    found = finding(result, "rows.malformed")
    assert found["count"] == 2
    assert [e["row"] for e in found["examples"]] == [2, 4]
    assert "6 fields" in found["message"]
    assert result.rows == 3


def test_a_row_thousands_of_columns_wide_is_malformed_not_a_crash(contract: DatasetContract) -> None:
    rows = good_rows(4)
    rows[2] = rows[2] + ["x"] * 5000
    result = validate(csv_bytes(rows), contract)
    found = finding(result, "rows.malformed")
    assert found["examples"][0]["fields"] == 5006
    assert len(found["examples"][0]["value"]) < 300  # long rows are cut in the report


def test_row_numbers_after_a_malformed_row_stay_right(contract: DatasetContract) -> None:
    rows = good_rows(6)
    rows[1] = ["broken"]
    with_cell(rows, 4, "plan", "gold")
    result = validate(csv_bytes(rows), contract)
    assert finding(result, "value.category", "plan")["examples"][0]["row"] == 5


def test_a_value_longer_than_a_parser_block_is_read(contract: DatasetContract) -> None:
    rows = good_rows(3)
    with_cell(rows, 1, "note", "x" * (3 << 20))
    result = validate(csv_bytes(rows), contract)
    assert result.accepted, result.findings
    assert result.rows == 3


def test_timestamps_with_and_without_offsets_are_read_as_utc(contract: DatasetContract) -> None:
    rows = good_rows(3)
    with_cell(rows, 0, "signed_up", "2024-01-01")
    with_cell(rows, 1, "signed_up", "2024-01-01T12:00:00+02:00")
    with_cell(rows, 2, "signed_up", "2024-01-02 09:30:00")
    result = validate(csv_bytes(rows), contract)
    assert result.accepted, result.findings
    assert result.profile is not None
    column = result.profile["columns"]["signed_up"]
    assert column["min"] == "2024-01-01T00:00:00Z"
    assert column["max"] == "2024-01-02T09:30:00Z"


def test_a_bad_timestamp_is_a_type_error(contract: DatasetContract) -> None:
    rows = good_rows(3)
    with_cell(rows, 2, "signed_up", "yesterday")
    result = validate(csv_bytes(rows), contract)
    assert finding(result, "value.type", "signed_up")["examples"] == [{"row": 3, "value": "yesterday"}]


def test_findings_are_ordered_by_kind_then_contract_column(contract: DatasetContract) -> None:
    rows = good_rows(5)
    with_cell(rows, 0, "plan", "gold")
    with_cell(rows, 1, "id", "-5")
    rows.append(["1"])
    result = validate(csv_bytes(rows), contract)
    assert [(x["check"], x["column"]) for x in result.findings] == [
        ("rows.malformed", None),
        ("value.range", "id"),
        ("value.category", "plan"),
    ]
    assert result.report["summary"].startswith("rejected: rows.malformed")
