"""Thresholds of rare-event shares: the binomial quantile against scipy, the Good-Turing probability of an
unseen category, the tail they honour on fresh windows, and a baseline's thresholds using them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from spec.drift.baseline import build_baseline
from spec.drift.categorical import CategoricalProfile, missing_rate_change, unseen_share
from spec.drift.numeric import NumericProfile
from spec.drift.rare import binomial_share_quantile, rare_threshold, unseen_probability

FRESH_WINDOWS = 2_000


@pytest.mark.parametrize(
    ("rows", "probability", "tail"),
    [
        (200, 0.001, 0.0005),
        (200, 0.01, 0.0005),
        (1_000, 0.05, 0.01),
        (10_000, 0.3, 0.0005),
        (200, 1e-5, 0.01),
    ],
)
def test_the_binomial_share_quantile_is_scipys(rows: int, probability: float, tail: float) -> None:
    # Given a binomial count of rare values in a window
    # When its upper quantile is asked as a share of the window
    found = binomial_share_quantile(rows, probability, tail)
    # Then it is scipy's quantile (to one count where the normal approximation is used), and the count
    # exceeds it with probability at most the tail
    assert found * rows == pytest.approx(stats.binom.isf(tail, rows, probability), abs=1)
    assert stats.binom.sf(round(found * rows), rows, probability) <= tail


def test_the_unseen_probability_is_the_share_of_singletons_or_one_in_n_plus_one() -> None:
    # Given profiles with 3 categories seen once among 1,000 values, none seen once, and a truncated one
    values = ["a"] * 600 + ["b"] * 397 + ["x", "y", "z"]
    many = [f"c{i % 10}" for i in range(1_000)]
    truncated = CategoricalProfile.from_values([f"c{i}" for i in range(50)] * 2, max_categories=10)
    # Then the Good-Turing estimate is the singletons' share; with no singleton it is 1 / (N + 1); a
    # truncated profile cannot tell (its pooled categories have no names)
    assert unseen_probability(CategoricalProfile.from_values(values)) == pytest.approx(3 / 1_000)
    assert unseen_probability(CategoricalProfile.from_values(many)) == pytest.approx(1 / 1_001)
    assert math.isnan(unseen_probability(truncated))
    assert math.isnan(rare_threshold("unseen_share", truncated, 500, 0.01))  # type: ignore[arg-type]


@pytest.mark.parametrize("window_rows", [200, 1_000, 5_000])
def test_the_unseen_share_threshold_honours_its_tail_on_a_long_tailed_feature(window_rows: int) -> None:
    # Given a feature with a long tail of categories (Zipf), profiled on 20,000 values
    rng = np.random.default_rng(0)

    def draw(n: int) -> list[str | None]:
        return [f"c{v}" for v in rng.zipf(1.6, n)]

    profile = CategoricalProfile.from_values(draw(20_000))
    assert not profile.truncated
    # When fresh windows are drawn from the same population
    found = [unseen_share(profile, draw(window_rows)) for _ in range(FRESH_WINDOWS)]
    over = {
        tail: sum(s > rare_threshold("unseen_share", profile, window_rows, tail) for s in found)  # type: ignore[operator]
        for tail in (0.01, 0.05)
    }
    # Then at most twice a 1% tail exceed the threshold, and at least a quarter of a 5% tail
    assert over[0.01] <= 2 * 0.01 * FRESH_WINDOWS
    assert over[0.05] >= 0.05 * FRESH_WINDOWS / 4


def test_a_column_that_never_had_a_missing_value_tolerates_a_rare_one() -> None:
    # Given a categorical column with no missing value in 50,000 training rows
    rng = np.random.default_rng(3)
    profile = CategoricalProfile.from_values(list(rng.choice(["a", "b"], 50_000)))
    bound = rare_threshold("missing_rate_change", profile, 200, 0.0005)
    # Then its missing-rate threshold is above zero: one missing value in 200 rows is not over it
    assert bound is not None
    assert bound > 0
    assert missing_rate_change(profile, ["a"] * 199 + [None]) <= bound
    # And a column that had missing values keeps its calibrated band (no rare threshold)
    assert (
        rare_threshold("missing_rate_change", CategoricalProfile.from_values(["a", None]), 200, 0.01) is None
    )
    assert rare_threshold("wasserstein", NumericProfile.from_values([1.0, 2.0]), 200, 0.01) is None


def test_a_baseline_thresholds_its_unseen_share_and_missing_rate_with_the_rare_model() -> None:
    # Given a baseline of a categorical feature with a few singletons and no missing value
    values: list[str | None] = ["a"] * 6_000 + ["b"] * 3_990 + [f"rare{i}" for i in range(10)]
    numbers = np.arange(10_000, dtype=np.float64)
    baseline = build_baseline(
        {"plan": ("categorical", values), "amount": ("numeric", numbers)},
        {},
        sizes=(200, 1_000),
        samples=5,
    )
    plan = baseline.feature("plan")
    # Then its calibrated unseen-share band is zero (no sample of the training values has an unseen one)
    assert all(band.mean == 0.0 for band in plan.bands["unseen_share"])
    # But its threshold is the binomial quantile of the Good-Turing probability (10 singletons in 10,000)
    assert plan.threshold("unseen_share", 200, 0.0005) == binomial_share_quantile(200, 0.001, 0.0005)
    assert plan.threshold("unseen_share", 200, 0.0005) > 0
    # And the numeric column's missing-rate threshold (none missing) is one in N + 1's
    amount = baseline.feature("amount")
    assert amount.threshold("missing_rate_change", 200, 0.01) == binomial_share_quantile(
        200, 1 / 10_001, 0.01
    )
