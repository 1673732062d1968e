"""Numeric drift statistics from a stored baseline profile, each checked against scipy on the raw data."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from spec.drift.numeric import (
    PSI_EMPTY_BIN_SHARE,
    NumericProfile,
    ProfileFormatError,
    ks_statistic,
    missing_rate_change,
    psi,
    psi_edges,
    wasserstein_normed,
)

BASELINE_ROWS = 200_000
WINDOW_ROWS = 5_000

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def _mixed(rng: np.random.Generator, n: int) -> np.ndarray:
    """A continuous part, a heavy atom at 0 and a few repeated integers: the hard case for a CDF."""
    values = rng.normal(10.0, 3.0, n)
    values[rng.random(n) < 0.3] = 0.0
    repeated = rng.random(n) < 0.1
    values[repeated] = rng.integers(1, 4, int(repeated.sum()))
    return values


# (baseline sampler, window sampler): same distribution, and shifted or reshaped ones.
CASES: dict[str, tuple[Sampler, Sampler]] = {
    "normal": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0, 1, n)),
    "lognormal": (lambda r, n: r.lognormal(0, 1, n), lambda r, n: r.lognormal(0.1, 1.1, n)),
    "shifted": (lambda r, n: r.normal(0, 1, n), lambda r, n: r.normal(0.3, 1, n)),
    "integers": (lambda r, n: r.poisson(3.0, n).astype(float), lambda r, n: r.poisson(3.3, n).astype(float)),
    "mixed": (_mixed, lambda r, n: _mixed(r, n) + 0.5 * (r.random(n) < 0.2)),
}
CONTINUOUS = ["normal", "lognormal", "shifted"]


def _data(case: str, seed: int = 12) -> tuple[np.ndarray, np.ndarray]:
    base_sampler, window_sampler = CASES[case]
    rng = np.random.default_rng(seed)
    return base_sampler(rng, BASELINE_ROWS), window_sampler(rng, WINDOW_ROWS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_ks_from_the_profile_is_within_0_002_of_the_exact_two_sample_statistic(case: str) -> None:
    # Given a 200k-row baseline kept only as its profile, and a 5k-row window
    baseline, window = _data(case)
    profile = NumericProfile.from_values(baseline)

    # When the KS statistic is read from the profile
    ks = ks_statistic(profile, window)

    # Then it matches scipy's exact statistic on the raw baseline
    exact = stats.ks_2samp(baseline, window).statistic
    assert abs(ks - exact) <= 0.002, (case, ks, exact)


def test_ks_of_a_window_from_the_baseline_itself_is_small_and_of_a_jump_is_its_size() -> None:
    # Given an atom at 0 holding 30% of the baseline
    rng = np.random.default_rng(3)
    baseline = np.where(rng.random(BASELINE_ROWS) < 0.3, 0.0, rng.normal(5, 1, BASELINE_ROWS))
    profile = NumericProfile.from_values(baseline)

    # When the window has no zeros at all, Then the jump (30%) is the distance
    continuous_only = rng.normal(5, 1, WINDOW_ROWS)
    assert ks_statistic(profile, continuous_only) == pytest.approx(0.3, abs=0.01)
    assert ks_statistic(profile, baseline[:WINDOW_ROWS]) < 0.03


@pytest.mark.parametrize("case", CONTINUOUS)
def test_normed_wasserstein_is_within_1_percent_of_scipy_on_continuous_data(case: str) -> None:
    baseline, window = _data(case)
    profile = NumericProfile.from_values(baseline)

    normed = wasserstein_normed(profile, window)

    exact = stats.wasserstein_distance(baseline, window) / np.std(baseline)
    assert normed == pytest.approx(exact, rel=0.01), (case, normed, exact)


def _bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares of right-closed bins ``(edge[i-1], edge[i]]``, the outer ones open-ended."""
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    return counts / values.size


def _direct_psi(baseline: np.ndarray, window: np.ndarray, bins: int) -> float:
    """PSI straight from the raw baseline: its deciles as edges, right-closed bins, 1e-4 for empty ones."""
    edges = np.unique(np.quantile(baseline, np.arange(1, bins) / bins))
    shares = [np.maximum(_bin_shares(values, edges), 1e-4) for values in (baseline, window)]
    base, win = shares
    return float(np.sum((win - base) * np.log(win / base)))


@pytest.mark.parametrize("case", CONTINUOUS)
@pytest.mark.parametrize("bins", [10, 20])
def test_psi_from_the_profile_matches_a_direct_computation_on_the_raw_baseline(case: str, bins: int) -> None:
    baseline, window = _data(case)
    profile = NumericProfile.from_values(baseline)

    value = psi(profile, window, bins=bins)

    edges = np.unique(np.quantile(baseline, np.arange(1, bins) / bins))
    np.testing.assert_allclose(psi_edges(profile, bins), edges)
    assert value == pytest.approx(_direct_psi(baseline, window, bins), rel=1e-3)


@pytest.mark.parametrize("case", ["integers", "mixed"])
def test_psi_with_atoms_is_off_only_by_the_profiles_rank_error(case: str) -> None:
    # Given edges that fall on atoms, where the profile knows each atom's mass to 0.001
    baseline, window = _data(case)
    profile = NumericProfile.from_values(baseline)
    edges = psi_edges(profile)
    np.testing.assert_allclose(edges, np.unique(np.quantile(baseline, np.arange(1, 10) / 10)))

    # Then the baseline's bin shares read from the profile are within that of the raw ones
    shares = np.diff(
        np.concatenate(([0.0], np.searchsorted(profile.quantiles, edges, side="right") / 1000, [1.0]))
    )
    assert np.max(np.abs(shares - _bin_shares(baseline, edges))) <= 0.002
    # And PSI within the few percent that error makes of a small PSI
    assert psi(profile, window) == pytest.approx(_direct_psi(baseline, window, 10), rel=0.05)


def test_psi_floors_an_empty_bin_at_1e_4() -> None:
    # Given a window entirely above the baseline's top decile edge
    profile = NumericProfile.from_values(np.arange(1000, dtype=float))
    window = np.full(500, 5000.0)

    # Then nine bins are empty in the window and count with a share of 1e-4
    expected = 9 * (PSI_EMPTY_BIN_SHARE - 0.1) * math.log(PSI_EMPTY_BIN_SHARE / 0.1) + (1 - 0.1) * math.log(
        1 / 0.1
    )
    assert psi(profile, window) == pytest.approx(expected, rel=1e-3)


def test_missing_rate_change_is_the_signed_difference_of_missing_shares() -> None:
    baseline = np.array([1.0, 2.0, np.nan, 4.0])  # 25% missing
    window = np.array([np.nan, np.nan, 3.0, 4.0])  # 50% missing
    profile = NumericProfile.from_values(baseline)

    assert missing_rate_change(profile, window) == pytest.approx(0.25)
    assert missing_rate_change(profile, np.array([1.0, 2.0])) == pytest.approx(-0.25)
    assert math.isnan(missing_rate_change(profile, np.array([])))


def test_profile_holds_the_summary_and_1001_quantiles_not_the_data() -> None:
    values = np.array([3.0, np.nan, 1.0, 2.0, np.nan, 4.0])
    profile = NumericProfile.from_values(values)

    assert (profile.count, profile.missing) == (4, 2)
    assert (profile.minimum, profile.maximum, profile.mean) == (1.0, 4.0, 2.5)
    assert profile.std == pytest.approx(np.std([1.0, 2.0, 3.0, 4.0]))
    assert len(profile.quantiles) == 1001
    assert profile.quantiles[0] == 1.0 and profile.quantiles[500] == 2.5 and profile.quantiles[-1] == 4.0


@pytest.mark.parametrize(
    "values",
    [np.random.default_rng(1).normal(size=1000), np.array([np.nan, np.nan]), np.full(10, 7.0), np.array([])],
    ids=["normal", "all-missing", "constant", "empty"],
)
def test_profile_round_trips_through_json(values: np.ndarray) -> None:
    profile = NumericProfile.from_values(values)

    assert NumericProfile.from_json(profile.to_json()) == profile


def test_a_profile_of_another_format_version_is_refused() -> None:
    text = (
        NumericProfile.from_values(np.arange(5.0))
        .to_json()
        .replace('"format_version": 1', '"format_version": 9')
    )

    with pytest.raises(ProfileFormatError, match="version 9"):
        NumericProfile.from_json(text)


def test_an_all_missing_baseline_gives_nan_distances_and_a_missing_rate_change() -> None:
    profile = NumericProfile.from_values(np.full(100, np.nan))
    window = np.arange(10.0)

    assert profile.count == 0 and profile.std is None and profile.quantiles == ()
    for statistic in (ks_statistic, wasserstein_normed, psi):
        assert math.isnan(statistic(profile, window))
    assert missing_rate_change(profile, window) == -1.0


def test_an_all_missing_window_gives_nan_distances() -> None:
    profile = NumericProfile.from_values(np.arange(100.0))
    window = np.full(10, np.nan)

    for statistic in (ks_statistic, wasserstein_normed, psi):
        assert math.isnan(statistic(profile, window))
    assert missing_rate_change(profile, window) == 1.0


def test_a_constant_baseline_does_not_divide_by_zero() -> None:
    profile = NumericProfile.from_values(np.full(1000, 7.0))
    same, other = np.full(50, 7.0), np.array([7.0] * 40 + [8.0] * 10)

    assert (ks_statistic(profile, same), wasserstein_normed(profile, same), psi(profile, same)) == (
        0.0,
        0.0,
        0.0,
    )
    assert ks_statistic(profile, other) == pytest.approx(0.2)
    assert wasserstein_normed(profile, other) == math.inf
    assert psi(profile, other) == pytest.approx(
        (0.8 - 1) * math.log(0.8) + (0.2 - PSI_EMPTY_BIN_SHARE) * math.log(0.2 / PSI_EMPTY_BIN_SHARE)
    )
    assert stats.ks_2samp(np.full(1000, 7.0), other).statistic == pytest.approx(0.2)
