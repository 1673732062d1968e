"""spec.profile: the profile format (format 1) that the dataset profile and the training baselines share."""

from __future__ import annotations

import math

import numpy as np

from spec.profile import QUANTILES, frequency_document, numeric_document, profile_document, top_values


def test_a_float_column_counts_nan_and_infinities_apart_and_json_has_no_non_finite_number() -> None:
    document = numeric_document(
        "float", count=2, nulls=1, low=np.float64(1.5), high=math.inf, mean=2.0, std=None,
        quantiles=[np.float64(1.5)] * QUANTILES, exact=True, nan=3, infinity=1,
    )  # fmt: skip

    assert document == {
        "type": "float", "count": 2, "nulls": 1, "min": 1.5, "max": None, "mean": 2.0, "std": None,
        "quantiles": [1.5] * QUANTILES, "quantiles_exact": True, "nan": 3, "infinity": 1,
    }  # fmt: skip
    assert type(document["min"]) is float


def test_a_timestamp_column_is_iso_8601_in_utc_without_mean_or_spread() -> None:
    day = 1_714_521_600_000_000  # 2024-05-01T00:00:00Z in microseconds

    document = numeric_document(
        "timestamp", count=1, nulls=0, low=np.int64(day), high=day, mean=1.0, std=None,
        quantiles=[day], exact=False,
    )  # fmt: skip

    assert document == {
        "type": "timestamp", "count": 1, "nulls": 0, "min": "2024-05-01T00:00:00Z",
        "max": "2024-05-01T00:00:00Z", "quantiles": ["2024-05-01T00:00:00Z"], "quantiles_exact": False,
    }  # fmt: skip


def test_an_empty_integer_column_has_no_statistics() -> None:
    document = numeric_document(
        "integer", count=0, nulls=4, low=None, high=None, mean=0.0, std=0.0, quantiles=[], exact=True
    )

    assert (document["mean"], document["std"], document["quantiles"]) == (None, None, [])
    assert "nan" not in document


def test_a_string_column_lists_its_most_frequent_values_and_counts_the_rest() -> None:
    counts = {f"v{i:04}": 1 for i in range(1_200)} | {"common": 50}

    document = frequency_document("string", count=1_250, nulls=0, counts=counts, exact=False)
    category = frequency_document("category", count=3, nulls=1, counts={"b": 0, "a": 3})

    assert list(document["frequencies"])[:2] == ["common", "v0000"] and len(document["frequencies"]) == 1_000
    assert (document["distinct"], document["distinct_exact"], document["other_count"]) == (1_201, False, 201)
    assert category == {"type": "category", "count": 3, "nulls": 1, "frequencies": {"b": 0, "a": 3}}
    assert top_values({"x": 2, "a": 2, "b": 5}, 2) == {"b": 5, "a": 2}
    assert profile_document(7, {"c": category}) == {"format": 1, "rows": 7, "columns": {"c": category}}
