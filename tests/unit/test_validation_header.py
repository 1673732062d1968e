"""Header checks: missing, extra, duplicated and misspelled columns, and the wrong delimiter."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.data.contract import DatasetContract
from tests.unit.conftest import HEADER, csv_bytes, finding, good_rows, validate

Make = Callable[..., DatasetContract]


def test_a_missing_column_is_an_error_naming_it(contract: DatasetContract) -> None:
    header = [h for h in HEADER if h != "plan"]
    rows = [[v for h, v in zip(HEADER, row, strict=True) if h != "plan"] for row in good_rows(4)]
    result = validate(csv_bytes(rows, header), contract)
    found = finding(result, "header.missing_column", "plan")
    assert found["message"] == "Column 'plan' is declared in the contract but is not in the file."
    assert not result.accepted
    # The columns that are there are still checked and profiled.
    assert result.profile is not None and "plan" not in result.profile["columns"]
    assert result.profile["columns"]["id"]["count"] == 4


def test_a_misspelled_column_gets_a_suggestion_and_no_separate_extra_finding(
    contract: DatasetContract,
) -> None:
    header = ["id", "amount", "plan", "active", "signed_upp", "note"]
    result = validate(csv_bytes(good_rows(3), header), contract)
    found = finding(result, "header.missing_column", "signed_up")
    assert "The file has a column 'signed_upp': if that is it, rename it to 'signed_up'." in found["message"]
    assert "header.extra_column" not in result.checks()


def test_a_column_in_the_wrong_case_is_suggested(contract: DatasetContract) -> None:
    header = ["ID", "amount", "plan", "active", "signed_up", "note"]
    result = validate(csv_bytes(good_rows(3), header), contract)
    assert "'ID'" in finding(result, "header.missing_column", "id")["message"]


def test_extra_columns_are_rejected_by_default(contract: DatasetContract) -> None:
    rows = [[*row, "x"] for row in good_rows(3)]
    result = validate(csv_bytes(rows, [*HEADER, "comment"]), contract)
    found = finding(result, "header.extra_column", "comment")
    assert found["severity"] == "error"
    assert "position 7" in found["message"]
    assert not result.accepted


def test_extra_columns_can_be_a_warning(make: Make) -> None:
    rows = [[*row, "x"] for row in good_rows(3)]
    result = validate(csv_bytes(rows, [*HEADER, "comment"]), make(extra_columns="warn"))
    assert result.accepted
    assert finding(result, "header.extra_column", "comment")["severity"] == "warning"
    assert "1 warning" in result.report["summary"]


def test_extra_columns_can_be_ignored(make: Make) -> None:
    rows = [[*row, "x"] for row in good_rows(3)]
    result = validate(csv_bytes(rows, [*HEADER, "comment"]), make(extra_columns="ignore"))
    assert result.accepted
    assert result.findings == []


def test_columns_may_come_in_any_order(contract: DatasetContract) -> None:
    order = [5, 4, 3, 2, 1, 0]
    rows = [[row[i] for i in order] for row in good_rows(3)]
    result = validate(csv_bytes(rows, [HEADER[i] for i in order]), contract)
    assert result.accepted, result.findings


def test_a_duplicated_column_is_an_error(make: Make) -> None:
    rows = [[*row, row[1]] for row in good_rows(3)]
    result = validate(csv_bytes(rows, [*HEADER, "amount"]), make(extra_columns="ignore"))
    found = finding(result, "header.duplicate_column", "amount")
    assert found["count"] == 2
    assert "positions 2, 7" in found["message"]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_the_wrong_delimiter_is_named(contract: DatasetContract, delimiter: str, name: str) -> None:
    result = validate(csv_bytes(good_rows(3), delimiter=delimiter), contract)
    found = finding(result, "header.wrong_delimiter")
    assert f"looks {name}" in found["message"]
    assert "comma (',')" in found["message"]
    assert result.checks() == {"header.wrong_delimiter"}  # not a cascade of missing columns


def test_a_contract_with_another_delimiter_reads_it(make: Make) -> None:
    result = validate(csv_bytes(good_rows(3), delimiter=";"), make(csv={"delimiter": ";"}))
    assert result.accepted, result.findings


def test_a_header_wider_than_the_limit_is_rejected(make: Make) -> None:
    header = [*HEADER, *(f"x{i}" for i in range(50))]
    rows = [[*row, *("1" for _ in range(50))] for row in good_rows(2)]
    result = validate(csv_bytes(rows, header), make(limits={"max_columns": 20}, extra_columns="ignore"))
    found = finding(result, "header.too_many_columns")
    assert "56 columns" in found["message"] and "20" in found["message"]
