"""The demo churn data: deterministic, valid against its contract, and a bad variant that shows the checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from domain.data.contract import load_contract
from domain.data.validation import validate_dataset
from examples.churn import BAD_CELLS, chunks, concept_changed, drifted, generate

CONTRACT = load_contract(Path(__file__).resolve().parents[2] / "contracts" / "churn.yaml")


@pytest.mark.parametrize(
    ("fmt", "expected"), [("csv", "csv"), ("csv.gz", "csv+gzip"), ("parquet", "parquet")]
)
def test_generated_data_satisfies_the_contract(tmp_path: Path, fmt: str, expected: str) -> None:
    path = generate(3000, 7, tmp_path / f"churn.{fmt}", fmt)  # type: ignore[arg-type]
    result = validate_dataset(lambda: path.open("rb"), CONTRACT)
    assert result.accepted, result.findings
    assert (result.format, result.rows) == (expected, 3000)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(1500, 3, tmp_path / "a.csv").read_bytes()
    second = generate(1500, 3, tmp_path / "b.csv").read_bytes()
    other = generate(1500, 4, tmp_path / "c.csv").read_bytes()
    assert first == second
    assert first != other


def test_about_one_percent_of_nullable_values_are_null_and_the_target_depends_on_features(
    tmp_path: Path,
) -> None:
    table = pq.read_table(generate(50_000, 7, tmp_path / "churn.parquet", "parquet"))
    share = table.column("satisfaction_score").null_count / table.num_rows
    assert 0.005 < share < 0.015
    assert table.column("age").null_count == 0
    churned = np.asarray(table.column("churned"))
    monthly = np.asarray(table.column("contract_type").cast("string")) == "month-to-month"
    assert 0.1 < churned.mean() < 0.6
    assert churned[monthly].mean() > churned[~monthly].mean() + 0.1


def test_the_bad_variant_trips_each_planted_check(tmp_path: Path) -> None:
    path = generate(500, 7, tmp_path / "bad.csv", "csv", variant="bad")
    result = validate_dataset(lambda: path.open("rb"), CONTRACT)
    assert not result.accepted
    found = {(x["check"], x["column"]) for x in result.findings}
    assert ("header.extra_column", "notes") in found
    assert {
        ("value.type", "age"),
        ("value.range", "age"),
        ("value.range", "monthly_charges"),
        ("value.null", "tenure_months"),
        ("value.category", "plan"),
        ("value.nan_inf", "discount_pct"),
        ("value.nan_inf", "monthly_charges"),
        ("value.type", "sessions_30d"),
    } <= found
    rows = {
        (x["check"], x["column"]): [e["row"] for e in x["examples"]]
        for x in result.findings
        if x["check"].startswith("value.")
    }
    assert rows[("value.type", "age")] == [next(r for c, r, v in BAD_CELLS if v == "forty-two") + 1]


def test_a_concept_change_redraws_churn_in_the_north_only_whatever_the_features() -> None:
    # Given drifted rows (about 80% in the north) with the generator's labels
    table = drifted(next(chunks(2_000, seed=11)), seed=12)
    north = np.asarray(table.column("region").cast("string")) == "north"
    before = np.asarray(table.column("churned"))
    # When the concept changes
    after = np.asarray(concept_changed(table, seed=13, churn_rate=0.75).column("churned"))
    # Then the rows outside the north keep their labels, and the north churns at the new rate
    assert (after[~north] == before[~north]).all()
    assert abs(after[north].mean() - 0.75) < 0.04
    # and the old concept no longer tells who churns there: month-to-month customers churn like the rest
    monthly = np.asarray(table.column("contract_type").cast("string")) == "month-to-month"
    assert abs(after[north & monthly].mean() - after[north & ~monthly].mean()) < 0.08
    assert before[north & monthly].mean() > before[north & ~monthly].mean() + 0.1
    # and the same seed gives the same labels
    assert (np.asarray(concept_changed(table, seed=13).column("churned")) == after).all()
