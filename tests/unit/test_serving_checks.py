"""A column check's two forms agree: a whole CSV column reads as each of its fields checked alone.

The whole-column form (``ColumnCheck.column``) serves most requests; where it reads a column, it must
give what the per-value form (``ColumnCheck.value``) gives each field, and it must leave to the
per-value form every field that is a problem or a warning. Contracts here are written to hit the
spellings' corners: a category that is also a null spelling, a boolean spelling listed as both true
and false, a null spelling that reads as a number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from training.mlops_training.serving import ServingSpec
from training.mlops_training.serving.checks import ColumnCheck

DIALECT = {
    "null_values": ["", "NA", "-999"],
    "true_values": ["yes", "1", "N"],
    "false_values": ["no", "0", "N"],
}
FIELDS = {
    "count": ["0", "7", "100", "101", "-1", "7.0", "7.5", "1e2", "", "NA", "-999", "nan", "inf", "x", " 8 "],
    "amount": ["0", "-2.5", "-3", "1e300", "inf", "nan", "", "NA", "-999", "1,5", "abc"],
    "plan": ["basic", "NA", "gold", "", "Basic", "-999"],
    "active": ["yes", "no", "1", "0", "N", "", "NA", "true", "maybe"],
    "seen": ["2024-05-01", "2024-05-01T10:00:00Z", "", "yesterday"],
}


class FakeReport:
    """What a check found, as the request's rows collect it."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def problem(self, text: str) -> None:
        self.found.append(f"problem: {text}")

    def warn(self, text: str) -> None:
        self.found.append(f"warning: {text}")


def _spec(*, nullable: bool, unknown_categories: str) -> ServingSpec:
    columns = [
        {"name": "count", "type": "integer", "nullable": nullable, "min": 0, "max": 100},
        {"name": "amount", "type": "float", "nullable": nullable, "min": -2.5, "allow_nan_inf": True},
        {"name": "plan", "type": "category", "nullable": nullable, "categories": ["basic", "NA", "pro"]},
        {"name": "active", "type": "boolean", "nullable": nullable},
        {"name": "seen", "type": "timestamp", "nullable": nullable},
    ]
    contract = {"columns": columns, "csv": DIALECT, "serving": {"unknown_categories": unknown_categories}}
    signature = {"features": [{"name": c["name"]} for c in columns], "task": "regression"}
    return ServingSpec.from_documents(signature, contract)


def _as_the_matrix_holds(column: Any) -> list[Any]:
    """A column form's values as the (object) feature matrix holds them."""
    return list(np.asarray(column, dtype=object).tolist())


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _alone(check: ColumnCheck, field: str) -> tuple[str, list[str]]:
    report = FakeReport()
    value = check.value(field, text=True, row=0, report=report)
    return repr(value), report.found


CASES = [
    (nullable, unknown, name, field)
    for nullable in (True, False)
    for unknown in ("reject", "as_missing")
    for name, fields in FIELDS.items()
    for field in fields
]


@pytest.mark.parametrize(("nullable", "unknown", "name", "field"), CASES)
def test_a_field_read_with_its_column_reads_as_it_does_alone(
    nullable: bool, unknown: str, name: str, field: str
) -> None:
    check = _spec(nullable=nullable, unknown_categories=unknown).checks[name]
    value, found = _alone(check, field)

    column = check.column([field])

    if found:
        assert column is None
    if column is not None:
        assert [repr(v) for v in _as_the_matrix_holds(column)] == [value]


@pytest.mark.parametrize(
    ("name", "fields", "expected"),
    [
        ("count", ["0", "7", "100", "NA", "-999"], [0.0, 7.0, 100.0, None, None]),
        ("amount", ["0", "-2.5", "1e300", ""], [0.0, -2.5, 1e300, None]),
        ("plan", ["basic", "pro", "NA", ""], ["basic", "pro", None, None]),  # "NA" spells a null first
        ("active", ["yes", "1", "no", "0", "N", ""], [1.0, 1.0, 0.0, 0.0, 1.0, None]),  # "N": true first
    ],
)
def test_valid_columns_are_read_at_once(name: str, fields: list[str], expected: list[Any]) -> None:
    check = _spec(nullable=True, unknown_categories="reject").checks[name]

    column = check.column(fields)

    assert column is not None
    assert [None if _is_nan(v) else v for v in _as_the_matrix_holds(column)] == expected


def test_timestamps_and_columns_with_a_problem_are_left_to_the_per_value_check() -> None:
    spec = _spec(nullable=False, unknown_categories="reject")

    assert spec.checks["seen"].column(["2024-05-01"]) is None
    assert spec.checks["count"].column(["7", "NA"]) is None  # a null where the column is not nullable
    assert spec.checks["plan"].column(["basic", "gold"]) is None
    assert spec.checks["active"].column(["yes", "maybe"]) is None
