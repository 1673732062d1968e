"""One window's drift statistics by kind: the names the baseline calibrates, each function's value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spec.drift import categorical, numeric
from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile
from spec.drift.scores import PRIMARY, STATISTICS, kind_of, scores


def test_each_kind_has_its_primary_statistic_first() -> None:
    # Given the statistics of each kind
    # Then the primary statistic of a kind is its first one
    for kind, names in STATISTICS.items():
        assert names[0] == PRIMARY[kind]
        assert "missing_rate_change" in names


def test_numeric_scores_are_the_numeric_functions_on_the_window() -> None:
    # Given a numeric baseline and a shifted window with a few missing values
    rng = np.random.default_rng(3)
    profile = NumericProfile.from_values(rng.normal(0, 1, 20_000))
    window = rng.normal(0.4, 1, 1_000)
    window[:50] = np.nan
    present = window[~np.isnan(window)]
    # When every statistic is scored
    result = scores(profile, window)
    # Then there is one per numeric statistic, equal to the function's value
    assert tuple(result) == STATISTICS["numeric"]
    assert kind_of(profile) == "numeric"
    assert result["wasserstein"] == numeric.wasserstein_normed(profile, present)
    assert result["ks"] == numeric.ks_statistic(profile, present)
    assert result["psi"] == numeric.psi(profile, present)
    assert result["missing_rate_change"] == pytest.approx(0.05)


def test_categorical_scores_are_the_categorical_functions_on_the_window() -> None:
    # Given a categorical baseline and a window with an unseen value and a missing one
    profile = CategoricalProfile.from_values(["a", "a", "b", "c"])
    window: list[str | None] = ["a", "b", "b", "d", None]
    # When every statistic is scored
    result = scores(profile, window)
    # Then there is one per categorical statistic, equal to the function's value
    assert tuple(result) == STATISTICS["categorical"]
    assert kind_of(profile) == "categorical"
    assert result["jensen_shannon"] == categorical.jensen_shannon(profile, window)
    assert result["unseen_share"] == pytest.approx(0.25)
    assert result["missing_rate_change"] == pytest.approx(0.2)


def test_an_empty_window_scores_nan_everywhere() -> None:
    # Given baselines of both kinds
    number = NumericProfile.from_values([1.0, 2.0, 3.0])
    label = CategoricalProfile.from_values(["x", "y"])
    # When the window has no rows
    # Then no statistic reads as "no drift"
    assert all(math.isnan(v) for v in scores(number, np.empty(0)).values())
    assert all(math.isnan(v) for v in scores(label, []).values())
