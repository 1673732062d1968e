"""Calibrated thresholds: the gamma (Wilson-Hilferty) and lognormal quantiles against scipy, the tail they
honour on fresh undrifted windows of light- and heavy-tailed data, the power they keep, interpolation and
extrapolation over window sizes, and determinism."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from spec.drift.calibration import (
    NullBand,
    calibrate,
    gamma_quantile,
    lognormal_quantile,
    tail_quantile,
    threshold,
)
from spec.drift.categorical import CategoricalProfile, jensen_shannon
from spec.drift.numeric import NumericProfile, ks_statistic, wasserstein_normed

TRAINING_ROWS = 100_000
FRESH_WINDOWS = 2_000


@pytest.mark.parametrize(("shape", "tolerance"), [(1.0, 0.031), (2.0, 0.018), (5.0, 0.008), (20.0, 0.002)])
@pytest.mark.parametrize("tail", [0.0005, 0.01, 0.05])
def test_the_wilson_hilferty_quantile_is_close_to_scipys_gamma_quantile(
    shape: float, tolerance: float, tail: float
) -> None:
    # Given a gamma distribution of some shape (a null band's mean and std fix the shape)
    gamma = stats.gamma(shape, scale=0.01)
    # When its upper quantile is approximated from the mean and std alone
    approximate = gamma_quantile(float(gamma.mean()), float(gamma.std()), tail)
    # Then it is within the measured relative error of scipy's exact quantile (worst at small shapes)
    assert approximate == pytest.approx(gamma.isf(tail), rel=tolerance)


def test_the_lognormal_quantile_is_scipys_and_a_positive_log_skew_makes_it_heavier() -> None:
    # Given a lognormal distribution
    lognormal = stats.lognorm(0.5, scale=0.02)
    mean, std = float(lognormal.mean()), float(lognormal.std())
    # When its upper quantile is computed from the mean and std alone
    # Then it is scipy's exact quantile, at every tail
    for tail in (0.0005, 0.01, 0.05):
        assert lognormal_quantile(mean, std, tail) == pytest.approx(lognormal.isf(tail), rel=1e-9)
    # And a right-skewed log (a heavier tail) raises it, a left-skewed one lowers it
    exact = lognormal.isf(0.001)
    assert lognormal_quantile(mean, std, 0.001, 0.5) > exact > lognormal_quantile(mean, std, 0.001, -0.5)


def test_a_bands_tail_quantile_is_never_below_the_gamma_or_the_lognormal_of_its_mean_and_std() -> None:
    # Given bands of a left-skewed (Jensen-Shannon-like) and a right-skewed (heavy-tailed) null
    for band in (NullBand(1_000, 0.04, 0.01, log_skew=-0.5), NullBand(1_000, 0.04, 0.01, log_skew=0.7)):
        # When the quantile a threshold uses is taken
        found = tail_quantile(band, 0.0005)
        # Then it is at least the gamma's and the lognormal's with that mean and std
        assert found >= gamma_quantile(band.mean, band.std, 0.0005)
        assert found >= lognormal_quantile(band.mean, band.std, 0.0005, band.log_skew)
    # And Kolmogorov's distribution (the null of sqrt(n) KS; the gamma's 0.9995 quantile is 2.2% below
    # its own) exceeds the band's quantile less often than the tail
    kolmogorov = stats.kstwobign
    band = NullBand(1, float(kolmogorov.mean()), float(kolmogorov.std()))
    assert kolmogorov.sf(tail_quantile(band, 0.0005)) < 0.0005


def test_a_band_that_never_varied_gives_its_mean_and_an_undefined_one_gives_nan() -> None:
    # Given bands of a constant statistic and of an undefined one
    # Then the constant one's quantile is its mean, the undefined one's nan
    assert gamma_quantile(0.25, 0.0, 0.001) == 0.25
    assert lognormal_quantile(0.25, 0.0, 0.001) == 0.25
    assert math.isnan(gamma_quantile(math.nan, math.nan, 0.001))
    assert math.isnan(tail_quantile(NullBand(200, math.nan, math.nan), 0.001))


Values = npt.NDArray[np.float64] | list[str]
Draw = Callable[[np.random.Generator, int], Values]
LABELS = np.array(list("abcdefghij"), dtype=object)
SHARES = np.arange(1, 11) / 55
#: The populations the null is measured on: light and heavy tails, counts, unequal categories.
POPULATIONS: dict[str, Draw] = {
    "normal": lambda r, n: r.normal(5.0, 2.0, n),
    "lognormal 0.7": lambda r, n: r.lognormal(0.0, 0.7, n),
    "lognormal 1.2": lambda r, n: r.lognormal(0.0, 1.2, n),
    "poisson 3": lambda r, n: r.poisson(3.0, n).astype(np.float64),
    "categorical": lambda r, n: list(LABELS[r.choice(10, n, p=SHARES)]),
}
SCORES: dict[str, Callable[[Any, Any], float]] = {
    "wasserstein": wasserstein_normed,
    "ks": ks_statistic,
    "jensen_shannon": jensen_shannon,
}


@pytest.mark.parametrize("window_rows", [200, 1_000, 3_000])
@pytest.mark.parametrize(
    ("population", "statistic"),
    [
        ("normal", "wasserstein"),
        ("normal", "ks"),
        ("lognormal 0.7", "wasserstein"),
        ("lognormal 1.2", "wasserstein"),
        ("poisson 3", "wasserstein"),
        ("poisson 3", "ks"),
        ("categorical", "jensen_shannon"),
    ],
)
def test_a_calibrated_threshold_honours_its_tail_on_fresh_windows(
    population: str, statistic: str, window_rows: int
) -> None:
    # Given bands calibrated on 100k training values of the population
    rng = np.random.default_rng(21)
    draw = POPULATIONS[population]
    training = draw(rng, TRAINING_ROWS)
    profile: NumericProfile | CategoricalProfile = (
        CategoricalProfile.from_values(training)
        if isinstance(training, list)
        else NumericProfile.from_values(training)
    )
    bands = calibrate(profile, training, rng=np.random.default_rng(4))[statistic]
    score = SCORES[statistic]
    # When 2,000 fresh windows are drawn from the population the training values came from
    found = [score(profile, draw(rng, window_rows)) for _ in range(FRESH_WINDOWS)]
    over = {
        tail: sum(s > threshold(bands, window_rows, tail, TRAINING_ROWS) for s in found)
        for tail in (0.01, 0.05)
    }
    # Then at most twice a 1% tail exceed the threshold, and at least a quarter of a 5% tail (the margins
    # for the bands' own errors cost that much on the lighter nulls, Jensen-Shannon's above all)
    assert over[0.01] <= 2 * 0.01 * FRESH_WINDOWS
    assert over[0.05] >= 0.05 * FRESH_WINDOWS / 4


@pytest.mark.parametrize("population", ["normal", "lognormal 1.2"])
def test_a_shift_of_a_fifth_of_a_standard_deviation_is_flagged_at_the_monitors_tail_at_1000_rows(
    population: str,
) -> None:
    # Given a feature's bands, at the tail the monitor uses for twenty columns (1% / 20)
    rng = np.random.default_rng(5)
    draw = POPULATIONS[population]
    training = np.asarray(draw(rng, TRAINING_ROWS))
    profile = NumericProfile.from_values(training)
    bands = calibrate(profile, training, rng=np.random.default_rng(4))["wasserstein"]
    bound = threshold(bands, 1_000, 0.01 / 20, TRAINING_ROWS)
    # When a hundred windows of 1,000 rows are shifted by 0.2 standard deviations
    step = 0.2 * float(training.std())
    shifted = np.array([wasserstein_normed(profile, np.asarray(draw(rng, 1_000)) + step) for _ in range(100)])
    # Then at least nine in ten are over the threshold and the verdict's default minimum effect, 0.1
    # (measured: 97-98%; the score's own noise leaves a few windows of a 0.2 shift near 0.15)
    assert np.mean((shifted > bound) & (shifted >= 0.1)) >= 0.9


ROOT_N = (NullBand(100, 0.3, 0.0), NullBand(400, 0.15, 0.0), NullBand(1_600, 0.075, 0.0))


@pytest.mark.parametrize("window_rows", [100, 200, 400, 900, 1_600])
def test_a_root_n_statistic_is_interpolated_exactly_between_grid_sizes(window_rows: int) -> None:
    # Given bands of a statistic that falls as 3 / sqrt(n) and never varies (threshold = mean)
    # When a threshold is asked at or between grid sizes, against a baseline of many rows
    found = threshold(ROOT_N, window_rows, 0.01, 10**12)
    # Then it is the root-n law itself (interpolation in log n on the log of the quantile)
    assert found == pytest.approx(3 / math.sqrt(window_rows), rel=1e-9)


@pytest.mark.parametrize("window_rows", [10, 50, 6_400, 1_000_000])
def test_outside_the_grid_the_threshold_scales_as_one_over_root_n(window_rows: int) -> None:
    # Given the same root-n bands
    # When a window is smaller than the smallest size or larger than the largest
    found = threshold(ROOT_N, window_rows, 0.01, 10**12)
    # Then the nearest band is scaled by sqrt(size / n)
    assert found == pytest.approx(3 / math.sqrt(window_rows), rel=1e-6)


def test_a_band_of_zero_is_interpolated_linearly() -> None:
    # Given bands whose quantile is zero at the smaller size (a share that never appeared)
    bands = (NullBand(100, 0.0, 0.0), NullBand(10_000, 0.2, 0.0))
    # When a window's size is halfway in log n
    # Then the threshold is halfway between the two
    assert threshold(bands, 1_000, 0.01, 10**12) == pytest.approx(0.1)


def test_the_threshold_is_widened_for_the_baselines_own_sampling_error() -> None:
    # Given any bands
    bands = (NullBand(200, 0.1, 0.03), NullBand(2_000, 0.03, 0.01))
    # When the baseline has as many rows as the window, then a hundred times more
    same, many = threshold(bands, 1_000, 0.01, 1_000), threshold(bands, 1_000, 0.01, 10**12)
    # Then the threshold is wider by sqrt(1 + n / N): sqrt(2) against a baseline as large as the window
    assert same / many == pytest.approx(math.sqrt(2.0), rel=1e-9)


def test_calibration_is_deterministic_under_a_seed() -> None:
    # Given a feature with missing values
    rng = np.random.default_rng(0)
    values = rng.exponential(1.0, 20_000)
    values[rng.random(values.size) < 0.05] = np.nan
    profile = NumericProfile.from_values(values)
    # When it is calibrated twice with one seed and once with another
    first = calibrate(profile, values, sizes=(200, 1_000), samples=10, rng=np.random.default_rng(7))
    again = calibrate(profile, values, sizes=(200, 1_000), samples=10, rng=np.random.default_rng(7))
    other = calibrate(profile, values, sizes=(200, 1_000), samples=10, rng=np.random.default_rng(8))
    # Then the same seed gives the same bands, another seed other bands
    assert first == again
    assert first != other
    # And the signed missing-rate change is measured by its magnitude, one band per size
    assert [band.size for band in first["missing_rate_change"]] == [200, 1_000]
    assert all(band.mean > 0 for band in first["missing_rate_change"])


def test_thresholds_pool_every_size_and_vary_little_between_calibration_seeds() -> None:
    # Given one feature calibrated with eight seeds (40 samples per size each)
    values = np.random.default_rng(0).normal(size=50_000)
    profile = NumericProfile.from_values(values)
    found = [
        threshold(
            calibrate(profile, values, rng=np.random.default_rng(seed))["wasserstein"], 1_000, 0.001, 50_000
        )
        for seed in range(8)
    ]
    # When their spread is measured
    spread = float(np.std(found) / np.mean(found))
    # Then it is within 14% (measured 11.6%: the std and the log-skewness of 40 samples a size are
    # known to ~11% and ~0.39, pooled over the sizes)
    assert spread < 0.14


def test_a_feature_with_no_values_has_undefined_bands() -> None:
    # Given a feature that was always missing
    values = np.full(500, np.nan)
    profile = NumericProfile.from_values(values)
    # When it is calibrated
    bands = calibrate(profile, values, sizes=(200,), samples=5, rng=np.random.default_rng(0))
    # Then its distances are undefined (nan) and its threshold too; its missing rate never moved
    assert math.isnan(bands["wasserstein"][0].mean)
    assert math.isnan(threshold(bands["wasserstein"], 300, 0.01, 500))
    assert bands["missing_rate_change"][0] == NullBand(200, 0.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tail": 0.0}, "tail probability must be in"),
        ({"tail": 1.5}, "tail probability must be in"),
        ({"window_rows": 0}, "at least 1"),
        ({"bands": ()}, "at least one calibrated band"),
    ],
)
def test_a_threshold_asked_with_bad_arguments_says_what_is_wrong(
    kwargs: dict[str, object], message: str
) -> None:
    # Given good arguments but one
    arguments: dict[str, object] = {"bands": ROOT_N, "window_rows": 500, "tail": 0.01, "baseline_rows": 1000}
    arguments.update(kwargs)
    # Then the error names the argument
    with pytest.raises(ValueError, match=message):
        threshold(**arguments)  # type: ignore[arg-type]


def test_calibration_with_too_few_samples_or_unordered_sizes_is_refused() -> None:
    profile = NumericProfile.from_values([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2 samples"):
        calibrate(profile, [1.0, 2.0, 3.0], samples=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="increasing"):
        calibrate(profile, [1.0, 2.0, 3.0], sizes=(500, 200), rng=np.random.default_rng(0))
