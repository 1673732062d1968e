"""The statistics profile: complete, exact where it can be, JSON, and the same however the file is read."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pyarrow as pa

from domain.data.contract import DatasetContract
from domain.data.validation.profile import Frequencies
from spec.profile import TOP_VALUES, top_values
from tests.unit.conftest import HEADER, csv_bytes, good_rows, make_contract, parquet_bytes, validate


def test_numeric_columns_have_exact_moments_and_quantiles_on_small_data(contract: DatasetContract) -> None:
    rows = good_rows(40)
    rows[5][1] = ""  # one null amount
    result = validate(csv_bytes(rows), contract)
    assert result.profile is not None
    amount = result.profile["columns"]["amount"]
    values = [float(r[1]) for r in rows if r[1]]
    assert (amount["count"], amount["nulls"]) == (39, 1)
    assert amount["min"] == min(values) and amount["max"] == max(values)
    assert math.isclose(amount["mean"], statistics.fmean(values))
    assert math.isclose(amount["std"], statistics.stdev(values))
    assert len(amount["quantiles"]) == 101
    assert amount["quantiles_exact"] is True
    ordered = sorted(values)
    # The quantile at p is the smallest value with at least a share p of values at or below it.
    assert amount["quantiles"][50] == ordered[math.ceil(0.5 * len(ordered)) - 1]
    assert amount["quantiles"][0] == ordered[0] and amount["quantiles"][100] == ordered[-1]


def test_integer_quantiles_are_exact_through_the_histogram(make: type) -> None:
    rng = np.random.default_rng(3)
    ids = rng.integers(1, 500, 20_000)
    rows = [[str(i), "1", "basic", "true", "", ""] for i in ids]
    result = validate(csv_bytes(rows), make())
    assert result.profile is not None
    column = result.profile["columns"]["id"]
    ordered = np.sort(ids)
    expected = [int(ordered[max(0, math.ceil(p * len(ordered)) - 1)]) for p in np.linspace(0, 1, 101)]
    assert column["quantiles"] == expected
    assert column["quantiles_exact"] is True
    assert math.isclose(column["mean"], float(ids.mean()))
    assert math.isclose(column["std"], float(ids.std(ddof=1)))


def test_category_boolean_and_string_columns_have_frequencies(contract: DatasetContract) -> None:
    result = validate(csv_bytes(good_rows(6)), contract)
    assert result.profile is not None
    columns = result.profile["columns"]
    assert columns["plan"] == {
        "type": "category",
        "count": 6,
        "nulls": 0,
        "frequencies": {"basic": 4, "pro": 2},
    }
    assert columns["active"]["frequencies"] == {"true": 3, "false": 3}
    note = columns["note"]
    assert note["distinct"] == 6 and note["distinct_exact"] is True
    assert note["other_count"] == 0
    assert sum(note["frequencies"].values()) == 6


def test_declared_categories_that_do_not_occur_are_counted_as_zero(contract: DatasetContract) -> None:
    rows = [row for row in good_rows(9) if row[2] == "basic"]
    result = validate(csv_bytes(rows), contract)
    assert result.profile is not None
    assert result.profile["columns"]["plan"]["frequencies"] == {"basic": 6, "pro": 0}


def test_free_text_keeps_the_top_values_and_an_other_count() -> None:
    frequencies = Frequencies()
    frequencies.add(["common"], [10_000])
    for start in range(0, 50_000, 10_000):
        frequencies.add([f"id-{i}" for i in range(start, start + 10_000)], [1] * 10_000)
    top = top_values(frequencies.counts, TOP_VALUES)
    assert len(top) == TOP_VALUES
    assert top["common"] == 10_000
    assert frequencies.exact is False
    assert len(frequencies.counts) <= 20_000


def test_the_profile_is_the_same_for_csv_and_parquet(contract: DatasetContract) -> None:
    rows = good_rows(30)
    csv_result = validate(csv_bytes(rows), contract)
    table = pa.table(
        {
            "id": pa.array([int(r[0]) for r in rows]),
            "amount": pa.array([float(r[1]) for r in rows]),
            "plan": pa.array([r[2] for r in rows]),
            "active": pa.array([r[3] == "true" for r in rows]),
            "signed_up": pa.array([r[4] for r in rows]).cast(pa.timestamp("us", tz="UTC")),
            "note": pa.array([r[5] for r in rows]),
        }
    ).select(HEADER)
    parquet_result = validate(parquet_bytes(table), contract)
    assert csv_result.profile == parquet_result.profile


def test_the_profile_is_deterministic_and_json(contract: DatasetContract) -> None:
    data = csv_bytes(good_rows(50))
    first, second = validate(data, contract), validate(data, contract)
    assert first.profile == second.profile
    assert json.loads(json.dumps(first.profile, allow_nan=False)) == first.profile


def test_an_all_null_column_has_counts_and_no_statistics() -> None:
    rows = [[str(i + 1), "", "basic", "true", "", ""] for i in range(5)]
    result = validate(csv_bytes(rows), make_contract())
    assert result.profile is not None
    amount = result.profile["columns"]["amount"]
    assert (amount["count"], amount["nulls"], amount["mean"], amount["quantiles"]) == (0, 5, None, [])


def test_moments_stay_precise_when_the_mean_dwarfs_the_spread() -> None:
    from domain.data.validation.profile import NumericProfile

    data = np.random.default_rng(9).normal(1e9, 0.5, 50_000)
    profile = NumericProfile("float", seed=0)
    for chunk in np.array_split(data, 9):
        profile.add_values(chunk, chunk.min(), chunk.max())
    assert math.isclose(profile.moments.mean, float(data.mean()), rel_tol=1e-12)
    assert math.isclose(profile.moments.std or 0.0, float(data.std(ddof=1)), rel_tol=1e-6)
