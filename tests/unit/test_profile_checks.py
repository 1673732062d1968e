"""Statistical checks against the previous accepted version's profile."""

from __future__ import annotations

from typing import Any

import pytest

from domain.data.contract import DatasetContract
from domain.data.profile_checks import compare_with_previous
from tests.unit.conftest import csv_bytes, finding, good_rows, make_contract, validate


def profile(rows: int, *, amount_nulls: int = 0, plan: dict[str, int] | None = None) -> dict[str, Any]:
    plan = plan if plan is not None else {"basic": rows, "pro": 0}
    return {
        "format": 1,
        "rows": rows,
        "columns": {
            "amount": {"type": "float", "count": rows - amount_nulls, "nulls": amount_nulls},
            "plan": {"type": "category", "count": rows, "nulls": 0, "frequencies": plan},
            "note": {
                "type": "string",
                "count": rows,
                "nulls": 0,
                "frequencies": {"x": rows},
                "other_count": 0,
            },
        },
    }


def checks_with(**rules: dict[str, Any]) -> DatasetContract:
    return make_contract(checks=rules)


def test_nothing_is_reported_for_a_similar_version() -> None:
    assert (
        compare_with_previous(profile(1000, amount_nulls=10), profile(980, amount_nulls=12), make_contract())
        == []
    )


def test_a_row_count_drop_past_the_threshold_is_reported() -> None:
    findings = compare_with_previous(profile(1000), profile(400), make_contract())
    assert [f.check for f in findings] == ["drift.row_count_drop"]
    assert findings[0].severity == "warning"
    assert findings[0].count == 600
    assert "60% fewer" in findings[0].message and "at most 50%" in findings[0].message


def test_the_row_count_drop_threshold_is_inclusive() -> None:
    assert compare_with_previous(profile(1000), profile(500), make_contract()) == []


def test_a_null_rate_spike_names_the_column_and_the_rates() -> None:
    findings = compare_with_previous(
        profile(1000, amount_nulls=10), profile(1000, amount_nulls=90), make_contract()
    )
    assert [(f.check, f.column) for f in findings] == [("drift.null_rate_spike", "amount")]
    assert "from 1.0% to 9.0% (+8.0 points; the contract allows +5.0)" in findings[0].message


def test_new_categories_are_reported_even_when_the_contract_allows_them() -> None:
    findings = compare_with_previous(
        profile(100), profile(100, plan={"basic": 90, "pro": 10}), make_contract()
    )
    assert [(f.check, f.column, f.count) for f in findings] == [("drift.new_categories", "plan", 10)]
    assert findings[0].examples == [{"value": "pro", "count": 10}]


def test_free_text_columns_are_not_checked_for_new_values() -> None:
    current = profile(100)
    current["columns"]["note"]["frequencies"] = {"y": 100}
    assert compare_with_previous(profile(100), current, make_contract()) == []


@pytest.mark.parametrize(("action", "severity"), [("reject", "error"), ("warn", "warning")])
def test_the_action_sets_the_severity(action: str, severity: str) -> None:
    contract = checks_with(row_count_drop={"max_drop_fraction": 0.1, "action": action})
    findings = compare_with_previous(profile(100), profile(50), contract)
    assert [f.severity for f in findings] == [severity]


def test_a_check_can_be_turned_off() -> None:
    contract = checks_with(
        row_count_drop={"action": "off"}, null_rate_spike={"action": "off"}, new_categories={"action": "off"}
    )
    current = profile(10, amount_nulls=9, plan={"basic": 5, "pro": 5})
    assert compare_with_previous(profile(1000), current, contract) == []


def test_columns_missing_from_a_profile_or_of_another_type_are_skipped() -> None:
    previous = profile(100)
    del previous["columns"]["amount"]
    previous["columns"]["plan"]["type"] = "string"
    assert (
        compare_with_previous(previous, profile(100, amount_nulls=100, plan={"pro": 100}), make_contract())
        == []
    )


def test_validation_rejects_on_a_drift_check_whose_action_is_reject() -> None:
    # Given a previous version ten times larger, and a contract that rejects big drops
    contract = checks_with(row_count_drop={"max_drop_fraction": 0.5, "action": "reject"})
    previous = validate(csv_bytes(good_rows(100)), contract).profile
    assert previous is not None
    # When a much smaller version is validated
    result = validate(csv_bytes(good_rows(10)), contract, previous_profile=previous)
    # Then it is rejected, and says why
    assert not result.accepted
    assert finding(result, "drift.row_count_drop")["severity"] == "error"
