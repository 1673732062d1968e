"""Calibrated thresholds: the Wilson-Hilferty gamma quantile against scipy, the false-alarm rate they give
on fresh undrifted windows, interpolation and extrapolation over window sizes, and determinism."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from spec.drift.calibration import NullBand, calibrate, gamma_quantile, threshold
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


def test_the_gamma_quantile_of_kolmogorovs_distribution_is_within_2_5_percent_of_the_exact_one() -> None:
    # Given Kolmogorov's distribution: the null of sqrt(n) times a KS statistic
    kolmogorov = stats.kstwobign
    # When its 0.9995 quantile is approximated by a gamma with the same mean and std
    approximate = gamma_quantile(float(kolmogorov.mean()), float(kolmogorov.std()), 0.0005)
    # Then it is 2.2% below the exact quantile (1.992 against 2.036): a tail of 0.0007 instead of 0.0005
    exact = kolmogorov.isf(0.0005)
    assert approximate / exact - 1 == pytest.approx(-0.022, abs=0.002)
    assert kolmogorov.sf(approximate) < 0.0008


def test_a_band_that_never_varied_gives_its_mean_and_an_undefined_one_gives_nan() -> None:
    # Given bands of a constant statistic and of an undefined one
    # Then the constant one's quantile is its mean, the undefined one's nan
    assert gamma_quantile(0.25, 0.0, 0.001) == 0.25
    assert math.isnan(gamma_quantile(math.nan, math.nan, 0.001))


def _normal(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(5.0, 2.0, n)


Fresh = Callable[[np.random.Generator, int], float]


def _exceedances(
    fresh: Fresh, bands: tuple[NullBand, ...], tail: float, rng: np.random.Generator, n: int
) -> int:
    bound = threshold(bands, n, tail, TRAINING_ROWS)
    return sum(fresh(rng, n) > bound for _ in range(FRESH_WINDOWS))


def _assert_the_false_alarm_rate_is_bounded(
    fresh: Fresh, bands: tuple[NullBand, ...], rng: np.random.Generator, n: int
) -> None:
    """At most three times the tail exceed the threshold, and not so few that the threshold is too high."""
    assert _exceedances(fresh, bands, 0.01, rng, n) <= 3 * 0.01 * FRESH_WINDOWS
    assert _exceedances(fresh, bands, 0.05, rng, n) >= 0.05 * FRESH_WINDOWS / 3


@pytest.mark.parametrize("window_rows", [700, 1_000, 3_000])
@pytest.mark.parametrize("statistic", ["wasserstein", "ks"])
def test_a_calibrated_numeric_threshold_bounds_the_false_alarm_rate_on_fresh_windows(
    window_rows: int, statistic: str
) -> None:
    # Given bands calibrated on 100k training values of a normal feature
    rng = np.random.default_rng(21)
    training = _normal(rng, TRAINING_ROWS)
    profile = NumericProfile.from_values(training)
    bands = calibrate(profile, training, rng=np.random.default_rng(4))[statistic]
    score = wasserstein_normed if statistic == "wasserstein" else ks_statistic

    # When 2,000 fresh windows are drawn from the distribution the training values came from
    def fresh(r: np.random.Generator, n: int) -> float:
        return score(profile, _normal(r, n))

    # Then at most three times a 1% tail exceed the threshold, and at least a third of a 5% tail
    _assert_the_false_alarm_rate_is_bounded(fresh, bands, rng, window_rows)


@pytest.mark.parametrize("window_rows", [300, 2_000])
def test_a_calibrated_categorical_threshold_bounds_the_false_alarm_rate_on_fresh_windows(
    window_rows: int,
) -> None:
    # Given bands calibrated on 100k training values of a categorical feature with unequal shares
    rng = np.random.default_rng(8)
    labels = np.array(list("abcdefghij"), dtype=object)
    shares = np.arange(1, 11) / 55

    def draw(r: np.random.Generator, n: int) -> list[str]:
        return list(labels[r.choice(10, n, p=shares)])

    training = draw(rng, TRAINING_ROWS)
    profile = CategoricalProfile.from_values(training)
    bands = calibrate(profile, training, rng=np.random.default_rng(4))["jensen_shannon"]

    # When 2,000 fresh windows are drawn from the same shares
    def fresh(r: np.random.Generator, n: int) -> float:
        return jensen_shannon(profile, draw(r, n))

    # Then at most three times a 1% tail exceed the threshold, and at least a third of a 5% tail
    _assert_the_false_alarm_rate_is_bounded(fresh, bands, rng, window_rows)


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
    # Then it is within 9% (measured 6%; one size's 40 samples alone give 13%: a std known to ~11%)
    assert spread < 0.09


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
