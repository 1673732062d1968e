"""Categorical drift statistics, each checked against scipy on the same data."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from spec.drift.categorical import (
    CategoricalProfile,
    ProfileFormatError,
    jensen_shannon,
    missing_rate_change,
    unseen_share,
)

TOLERANCE = 1e-9


def draw(seed: int, size: int, weights: list[float], missing: float = 0.0) -> list[str | None]:
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(weights), size=size, p=np.asarray(weights) / sum(weights))
    absent = rng.random(size) < missing
    return [None if gone else f"c{label}" for label, gone in zip(labels, absent, strict=True)]


def scipy_distance(baseline: list[str | None], window: list[str | None]) -> float:
    """The reference: scipy on count vectors over the union of categories, built from the raw data."""
    left = Counter(v for v in baseline if v is not None)
    right = Counter(v for v in window if v is not None)
    union = sorted(set(left) | set(right))
    p = np.array([left[c] for c in union], dtype=float)
    q = np.array([right[c] for c in union], dtype=float)
    return float(jensenshannon(p, q, base=2))


@pytest.mark.parametrize("seed", range(20))
def test_jensen_shannon_matches_scipy_over_the_union_of_categories(seed: int) -> None:
    # Given a baseline and a shifted window that also holds categories the baseline never saw
    rng = np.random.default_rng(1000 + seed)
    baseline = draw(seed, 5_000, list(rng.random(12) + 0.01), missing=0.05)
    window = draw(seed + 100, 800, list(rng.random(15) + 0.01), missing=0.2)
    assert {v for v in window if v} - {v for v in baseline if v}
    # When the distance is computed from the stored profile
    distance = jensen_shannon(CategoricalProfile.from_values(baseline), window)
    # Then it is scipy's on the raw data
    assert abs(distance - scipy_distance(baseline, window)) <= TOLERANCE
    assert 0.0 <= distance <= 1.0


def test_jensen_shannon_is_zero_for_the_same_shares_and_one_for_disjoint_ones() -> None:
    profile = CategoricalProfile.from_values(["a", "b", "b", None])
    assert jensen_shannon(profile, ["b", "a", "b", "b", "a", "b"]) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon(profile, ["x", "y"]) == pytest.approx(1.0, abs=TOLERANCE)
    assert jensen_shannon(profile, ["x", "y"]) == pytest.approx(
        float(jensenshannon([1, 2, 0, 0], [0, 0, 1, 1], base=2))
    )


def test_a_truncated_profile_keeps_the_most_frequent_categories_and_says_it_pooled_the_rest() -> None:
    # Given a column with more categories than the profile keeps
    values = draw(7, 20_000, [2.0**-k for k in range(30)])
    # When it is profiled with a bound of 10
    profile = CategoricalProfile.from_values(values, max_categories=10)
    # Then the ten most frequent are kept, the rest pooled, and the profile says so
    counts = Counter(values)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    assert profile.categories == tuple(c for c, _ in top[:10])
    assert profile.truncated and profile.pooled_categories == len(counts) - 10
    assert profile.other_share == pytest.approx(sum(n for _, n in top[10:]) / len(values))
    assert sum(profile.shares) + profile.other_share == pytest.approx(1.0)


def test_against_a_truncated_profile_the_window_outside_the_kept_categories_is_pooled_too() -> None:
    # Given a truncated profile and a window with pooled and brand-new categories
    baseline = draw(3, 10_000, [2.0**-k for k in range(20)])
    window = draw(4, 2_000, [2.0**-k for k in range(25)][::-1])
    profile = CategoricalProfile.from_values(baseline, max_categories=5)
    # When the distance is computed
    distance = jensen_shannon(profile, window)
    # Then it is scipy's on the kept categories plus one pooled "other" on both sides
    kept = set(profile.categories)
    pool = [v if v in kept else "\x00other" for v in baseline]
    assert (
        abs(distance - scipy_distance(pool, [v if v in kept else "\x00other" for v in window])) <= TOLERANCE
    )
    # And nothing counts as unseen, since any value outside the kept ones may be a pooled one
    assert unseen_share(profile, window) == 0.0


def test_unseen_share_is_the_share_of_non_missing_window_values_the_baseline_never_saw() -> None:
    profile = CategoricalProfile.from_values(["a", "b", None])
    assert unseen_share(profile, ["a", "z", "z", None, "b", None]) == pytest.approx(2 / 4)
    assert unseen_share(profile, ["a", "b"]) == 0.0
    assert unseen_share(profile, ["q"]) == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_missing_rate_change_is_the_window_rate_minus_the_baseline_rate(seed: int) -> None:
    baseline = draw(seed, 3_000, [1, 2, 3], missing=0.1)
    window = draw(seed + 50, 500, [1, 2, 3], missing=0.3)
    expected = np.mean([v is None for v in window]) - np.mean([v is None for v in baseline])
    assert missing_rate_change(CategoricalProfile.from_values(baseline), window) == pytest.approx(expected)


def test_an_empty_window_gives_nan_for_every_statistic() -> None:
    profile = CategoricalProfile.from_values(["a", None])
    assert math.isnan(jensen_shannon(profile, []))
    assert math.isnan(unseen_share(profile, []))
    assert math.isnan(missing_rate_change(profile, []))


def test_an_all_missing_window_has_no_distribution_but_a_missing_rate() -> None:
    profile = CategoricalProfile.from_values(["a", "a", "b", None])
    window: list[str | None] = [None, None, None]
    assert math.isnan(jensen_shannon(profile, window))
    assert math.isnan(unseen_share(profile, window))
    assert missing_rate_change(profile, window) == pytest.approx(1.0 - 0.25)


def test_an_all_missing_or_empty_baseline() -> None:
    all_missing = CategoricalProfile.from_values([None, None])
    assert (all_missing.count, all_missing.missing, all_missing.categories) == (2, 2, ())
    assert math.isnan(jensen_shannon(all_missing, ["a"]))
    assert unseen_share(all_missing, ["a", None]) == 1.0
    assert missing_rate_change(all_missing, ["a", None]) == pytest.approx(-0.5)
    empty = CategoricalProfile.from_values([])
    assert math.isnan(empty.missing_rate) and math.isnan(missing_rate_change(empty, ["a"]))


@pytest.mark.parametrize("max_categories", [1_000, 3])
def test_a_profile_survives_a_json_round_trip(max_categories: int) -> None:
    profile = CategoricalProfile.from_values(
        [*draw(11, 2_000, [1, 2, 3, 4, 5], missing=0.1), "é ünicode", '"quoted"'],
        max_categories=max_categories,
    )
    again = CategoricalProfile.from_json(profile.to_json())
    assert again == profile
    window = draw(12, 300, [5, 4, 3, 2, 1])
    assert jensen_shannon(again, window) == jensen_shannon(profile, window)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"format": "numeric-profile", "version": 1}',
        '{"format": "categorical-profile", "version": 2}',
        '{"format": "categorical-profile", "version": 1, "count": 1}',
    ],
)
def test_a_profile_of_another_format_or_version_is_refused(text: str) -> None:
    with pytest.raises(ProfileFormatError):
        CategoricalProfile.from_json(text)


def test_max_categories_must_keep_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_categories"):
        CategoricalProfile.from_values(["a"], max_categories=0)
