"""A window prepared once for all its statistics: sorted or counted, and scored exactly from that.

Against a uniform baseline the profile's CDF is exact (F(x) = x on [0, 1]), so the prepared window's KS
statistic and Wasserstein distance can be held to the one-sample formulas, windows with ties and values
outside the baseline's range included, and to window sizes whose steps the profile's grid splits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from domain.monitoring.compare import histogram
from spec.drift.categorical import CategoricalProfile, CategoricalWindow
from spec.drift.numeric import NumericProfile, NumericWindow
from spec.drift.scores import prepare, scores, window_scores

#: 0, 1e-6, ..., 1: its profile's quantiles are the probabilities themselves (within rounding).
UNIFORM = NumericProfile.from_values(np.linspace(0.0, 1.0, 1_000_001))


def test_a_numeric_window_keeps_its_present_values_sorted_and_counts_the_missing_ones() -> None:
    # Given values with missing ones, out of order
    # When the window is prepared
    window = NumericWindow.of([3.0, math.nan, 1.0, 2.0, math.nan, 2.0])

    # Then the present values are sorted, the missing ones counted, and its CDF levels are k / n
    assert window.present.tolist() == [1.0, 2.0, 2.0, 3.0]
    assert (window.missing, window.rows) == (2, 6)
    assert window.levels.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert window.at_most(np.array([2.0])).tolist() == [3]
    assert window.below(np.array([2.0])).tolist() == [1]


@pytest.mark.parametrize("size", [1, 2, 7, 1_234, 20_000])
def test_ks_of_a_prepared_window_is_the_one_sample_statistic_against_an_exact_cdf(size: int) -> None:
    # Given a window of a shifted uniform, with ties (two decimals) and values beyond [0, 1]
    rng = np.random.default_rng(size)
    values = np.round(rng.uniform(-0.05, 1.1, size), 2)

    # When its KS statistic is read from the uniform baseline's profile
    ks = NumericWindow.of(values).ks(UNIFORM)

    # Then it is the exact one-sample statistic against U(0, 1)
    assert ks == pytest.approx(stats.kstest(values, "uniform").statistic, abs=1e-9)


@pytest.mark.parametrize("size", [2, 7, 1_234, 20_000])
def test_wasserstein_of_a_prepared_window_is_exact_where_the_grid_splits_its_steps(size: int) -> None:
    # Given a window whose steps k / size the profile's grid points fall inside (size 7, 1,234)
    rng = np.random.default_rng(size)
    values = rng.beta(2.0, 3.0, size) * 1.2
    grid = np.linspace(0.0, 1.0, 1_000_001)

    # When its Wasserstein distance is read from the uniform baseline's profile
    distance = NumericWindow.of(values).wasserstein_normed(UNIFORM) * (UNIFORM.std or math.nan)

    # Then it is the distance to U(0, 1) (scipy's on a million evenly spaced baseline values)
    assert distance == pytest.approx(stats.wasserstein_distance(values, grid), rel=1e-5, abs=1e-7)


def test_wasserstein_of_one_value_is_the_closed_form() -> None:
    # Given a window of the single value 0.3
    # When its distance from U(0, 1) is read from the profile
    distance = NumericWindow.of([0.3]).wasserstein_normed(UNIFORM) * (UNIFORM.std or math.nan)

    # Then it is the integral of |u - 0.3| over [0, 1]
    assert distance == pytest.approx((0.3**2 + 0.7**2) / 2, abs=1e-9)


def test_a_categorical_window_counts_each_category_once_and_the_missing_values_apart() -> None:
    # Given a window of categories with missing values
    # When it is prepared
    window = CategoricalWindow.of(["b", None, "a", "b", None, "c"])

    # Then each category is counted in the order first seen, the missing ones apart
    assert window.counts == {"b": 2, "a": 1, "c": 1}
    assert (window.present, window.missing, window.rows) == (4, 2, 6)


def test_prepared_scores_and_histograms_are_those_of_the_values() -> None:
    # Given a baseline of each kind and a window of each
    rng = np.random.default_rng(5)
    number = NumericProfile.from_values(rng.normal(0, 1, 20_000))
    numbers = np.where(rng.random(3_000) < 0.05, np.nan, rng.normal(0.2, 1.1, 3_000))
    label = CategoricalProfile.from_values(["x", "y", "y", "z"])
    labels: list[str | None] = ["y", "w", None, "x", "y"]

    for profile, values in ((number, numbers), (label, labels)):
        # When the window is prepared once and scored
        prepared = prepare(profile, values)
        # Then the scores are those computed from the values
        assert window_scores(profile, prepared) == scores(profile, values)

    # And the histogram counts the window's present values
    shares = histogram(number, prepare(number, numbers)).window
    assert sum(shares) == pytest.approx(1.0)
    assert histogram(label, prepare(label, labels)).window[:2] == (0.5, 0.25)


def test_a_window_prepared_for_the_other_kind_is_refused() -> None:
    # Given a numeric baseline and a window counted as categories
    number = NumericProfile.from_values([1.0, 2.0, 3.0])
    counted = CategoricalWindow.of(["a"])

    # When it is scored or drawn / Then the mismatch is named
    with pytest.raises(TypeError, match="CategoricalWindow cannot be scored against a NumericProfile"):
        window_scores(number, counted)
    with pytest.raises(TypeError, match="CategoricalWindow has no histogram against a NumericProfile"):
        histogram(number, counted)
