"""Calibrated drift thresholds: how much each statistic varies between windows of undrifted data.

At training time, for each window size on a grid, ``samples`` random samples (with replacement) of the
training values are scored against the training profile; per statistic and size the mean and the
standard deviation of those null scores are kept (a :class:`NullBand`), each smoothed by a power law in
the size fitted through every size (which pools all the samples). The monitor turns a band into a
threshold for its window's size with :func:`threshold`.

Why this tail model (:func:`tail_quantile`): the statistics are non-negative and right-skewed under the
null, and the monitor needs a quantile far in the tail (1% over the columns: 0.0005 for twenty) from
the few samples a baseline can afford, without scipy. A gamma with the band's mean and std (upper
quantile by the Wilson-Hilferty cube root: E. B. Wilson and M. M. Hilferty, PNAS 17(12):684-688,
1931) has too light a tail for a Wasserstein distance: measured on 4,000 fresh null windows (100k
training rows), the null's 0.999 quantile is 4-14% above the gamma's at 200-10,000 rows on normal and
lognormal(0, 0.7) data, 17-50% on lognormal(0, 1.2), where a few extreme values in a window move the
distance far; thresholds from it gave 2-6 times their tail. A lognormal with the same mean and std
is within -3% to +4% there except on lognormal(0, 1.2) (+8-33% at 200 rows), so its quantile is
corrected by the band's measured skewness of the log (Cornish-Fisher; about 0.25 for a Wasserstein
distance, 0.7 on lognormal(0, 1.2) at 200 rows), and the gamma is kept as the floor for the nulls
lighter than the lognormal (KS, PSI, Jensen-Shannon: 0.76-0.98 of the lognormal's 0.999 quantile).
The std and the log-skewness are each taken one standard error high (``STD_MARGIN``,
``SKEW_MARGIN``): 40 samples a size know them only to ~11% and ~0.4. Measured through the whole
calibration (:func:`threshold`), on normal, lognormal(0, 0.7) and (0, 1.2), Poisson(3) and categorical
data at 200, 1,000 and 10,000 rows: 0-1.2 times a 1% tail on the primary statistics (up to 2.0 on PSI,
which no verdict rests on), and on lognormal(0, 1.2) at 200 rows and a 0.0005 tail 0-1.9 times
over three calibration seeds (the gamma: 2-5.8). The price: a threshold 10-40% higher than the
gamma's; a 0.2-std shift at 1,000 rows is still over it in 97% of windows at a 0.0005 tail.

Why widened by ``sqrt(1 + n / N)``: the samples here are drawn from the training values themselves, so
their spread is the window's sampling error alone. A live window is drawn from the population the
training rows came from, and compared with a profile that carries its own sampling error of a sample
of ``N`` rows: the null variance of a root-n statistic is ``c (1/n + 1/N)`` rather than ``c / n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile
from spec.drift.scores import STATISTICS, kind_of, scores

#: Window sizes the null is measured at; between them thresholds are interpolated (see threshold).
DEFAULT_SIZES: tuple[int, ...] = (200, 500, 1_000, 2_000, 5_000, 10_000, 20_000)
#: Samples per size: enough for a mean and a standard deviation within ~11% (1/sqrt(2 K) for std).
DEFAULT_SAMPLES = 40
#: A band's std is measured from ``DEFAULT_SAMPLES`` samples per size, so it is known only to about
#: ``1/sqrt(2 K)`` of itself; a threshold takes it one such error high (see threshold), so that an
#: underestimate of the spread does not lower the threshold into the null's tail.
STD_MARGIN = 1.0 + 1.0 / math.sqrt(2 * DEFAULT_SAMPLES)
#: A band's log-skewness is known to about ``sqrt(6 / K)`` per size; pooled by a line through the
#: sizes, to about 0.15 in the middle of the grid and 0.27 at its ends: a threshold takes it this high.
SKEW_MARGIN = 0.5 * math.sqrt(6.0 / DEFAULT_SAMPLES)
#: Signed statistics whose magnitude is what a threshold bounds.
SIGNED = frozenset({"missing_rate_change"})


@dataclass(frozen=True)
class NullBand:
    """A statistic's spread over undrifted windows of one size.

    Attributes
    ----------
    size : int
        The window size (rows).
    mean, std : float
        Of the statistic (its absolute value, for a signed one) over the samples; ``nan`` when the
        statistic was undefined on every sample (a feature with no values).
    log_skew : float
        The skewness of the statistic's logarithm over the samples (of the positive ones): 0 for a
        lognormal null, above 0 for a null with a heavier upper tail (see :func:`tail_quantile`); 0
        where it could not be measured (a baseline written before it was).
    """

    size: int
    mean: float
    std: float
    log_skew: float = 0.0


def calibrate(
    profile: NumericProfile | CategoricalProfile,
    values: npt.ArrayLike | Sequence[str | None],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    samples: int = DEFAULT_SAMPLES,
    rng: np.random.Generator,
) -> dict[str, tuple[NullBand, ...]]:
    """Measure the null band of every statistic of the profile's kind at every size.

    Parameters
    ----------
    profile : NumericProfile or CategoricalProfile
        The profile of ``values``.
    values
        The baseline values the profile was made from: a float64 array (NaN is missing) for a numeric
        profile, a sequence of ``str`` or ``None`` for a categorical one.
    sizes : sequence of int
        Window sizes, increasing, each at least 1.
    samples : int
        Samples drawn (with replacement) per size; at least 2.
    rng : numpy.random.Generator
        The source of the samples: the same seed gives the same bands.

    Returns
    -------
    dict of str to tuple of NullBand
        Per statistic (``STATISTICS[kind]``), one band per size, in the order of ``sizes``.
    """
    if samples < 2:
        raise ValueError(f"calibration needs at least 2 samples per size to measure a spread, got {samples}")
    if not sizes or any(size < 1 for size in sizes) or list(sizes) != sorted(set(sizes)):
        raise ValueError(
            f"calibration sizes must be distinct positive row counts, increasing; got {list(sizes)}"
        )
    kind = kind_of(profile)
    pool = np.asarray(values, dtype=np.float64 if kind == "numeric" else object).ravel()
    names = STATISTICS[kind]
    bands: dict[str, list[NullBand]] = {name: [] for name in names}
    for size in sizes:
        measured = np.full((samples, len(names)), math.nan)
        if pool.size:
            drawn = pool[rng.integers(0, pool.size, (samples, size))]
            for row, sample in enumerate(drawn):
                window = sample if kind == "numeric" else sample.tolist()
                result = scores(profile, window)
                measured[row] = [result[name] for name in names]
        for column, name in enumerate(names):
            band = np.abs(measured[:, column]) if name in SIGNED else measured[:, column]
            defined = band[~np.isnan(band)]
            mean = float(defined.mean()) if defined.size else math.nan
            std = float(defined.std(ddof=1)) if defined.size > 1 else (0.0 if defined.size else math.nan)
            bands[name].append(NullBand(size=int(size), mean=mean, std=std, log_skew=_log_skew(defined)))
    return {name: _smoothed(tuple(found)) for name, found in bands.items()}


def _log_skew(values: npt.NDArray[np.float64]) -> float:
    logs = np.log(values[values > 0])
    spread = logs - logs.mean() if logs.size > 2 else logs[:0]
    second = float(np.mean(spread**2)) if spread.size else 0.0
    return float(np.mean(spread**3)) / second**1.5 if second > 0 else 0.0


def _smoothed(bands: tuple[NullBand, ...]) -> tuple[NullBand, ...]:
    """The bands' means and stds replaced by power laws in n fitted through all sizes.

    Every statistic here has a power-law null to first order (root-n for the distances, KS and a
    missing rate; 1/n for PSI), and K samples per size measure a standard deviation only to about
    ``1/sqrt(2K)`` (11% at K = 40; more on the skewed nulls seen here), which moves a tail quantile
    by as much. A least-squares line in log-log through every size pools all their samples. The
    log-skewness, known only to about ``sqrt(6/K)`` (0.39) per size, is pooled the same way by a line
    in log n (it falls towards the larger sizes, as the statistics' nulls grow closer to their
    limits). Bands with a zero or undefined value, or fewer than three sizes, are kept as measured.
    """
    if len(bands) < 3:
        return bands
    sizes = np.log([band.size for band in bands])
    skew_slope, skew_intercept = np.polyfit(sizes, [band.log_skew for band in bands], 1)
    fitted = []
    for values in ([band.mean for band in bands], [band.std for band in bands]):
        measured = np.asarray(values)
        if not np.all(measured > 0):  # nan compares False too
            return bands
        slope, intercept = np.polyfit(sizes, np.log(measured), 1)
        fitted.append(np.exp(intercept + slope * sizes))
    return tuple(
        NullBand(
            size=band.size, mean=float(mean), std=float(std), log_skew=float(skew_intercept + skew_slope * x)
        )
        for band, mean, std, x in zip(bands, *fitted, sizes, strict=True)
    )


def _without_spread(mean: float, std: float) -> float | None:
    """The quantile of a band with no spread to model: ``nan`` if undefined, else its mean (at least 0)."""
    if math.isnan(mean) or math.isnan(std):
        return math.nan
    if std == 0.0 or mean <= 0.0:
        return max(mean, 0.0)
    return None


def gamma_quantile(mean: float, std: float, tail: float) -> float:
    """The upper ``1 - tail`` quantile of the gamma distribution with this mean and standard deviation.

    Wilson-Hilferty (1931): for ``X`` gamma with shape ``k``, ``(X / mean)^(1/3)`` is close to normal
    with mean ``1 - 1/(9k)`` and variance ``1/(9k)``, and ``1/k = (std / mean)^2``.

    Returns
    -------
    float
        ``mean`` when ``std`` is 0 (a statistic that never varied); ``nan`` when either is ``nan``.
    """
    trivial = _without_spread(mean, std)
    if trivial is not None:
        return trivial
    z = NormalDist().inv_cdf(1.0 - tail)
    spread = std / mean
    return mean * max(1.0 - spread * spread / 9.0 + z * spread / 3.0, 0.0) ** 3


def lognormal_quantile(mean: float, std: float, tail: float, log_skew: float = 0.0) -> float:
    """The upper ``1 - tail`` quantile of the lognormal distribution with this mean and standard deviation.

    For ``X`` lognormal, ``log X`` is normal with variance ``s2 = log(1 + (std / mean)^2)`` and mean
    ``log(mean) - s2 / 2``: the quantile is exact in closed form, with the stdlib's normal quantile.
    With a ``log_skew`` (the skewness of ``log X``), the normal quantile ``z`` of ``log X`` is
    corrected by Cornish and Fisher's first term, ``z + (z^2 - 1) log_skew / 6`` (E. A. Cornish and
    R. A. Fisher, "Moments and cumulants in the specification of distributions", Revue de l'Institut
    International de Statistique 5(4):307-320, 1938). Degenerate bands as :func:`gamma_quantile`.
    """
    trivial = _without_spread(mean, std)
    if trivial is not None:
        return trivial
    z = NormalDist().inv_cdf(1.0 - tail)
    z += (z * z - 1.0) * log_skew / 6.0
    s2 = math.log1p((std / mean) ** 2)
    return mean * math.exp(z * math.sqrt(s2) - s2 / 2.0)


def tail_quantile(band: NullBand, tail: float) -> float:
    """The upper ``1 - tail`` quantile a null band is given (before the baseline's widening).

    The larger of the gamma's and the lognormal's with the band's mean and its std taken
    ``STD_MARGIN`` high, the lognormal's corrected by the band's log-skewness taken ``SKEW_MARGIN``
    high. The lognormal carries a null whose log is right-skewed (a Wasserstein distance on heavy
    tails: a few extreme values in a window move it far); the gamma, whose log is left-skewed,
    is the floor for the nulls lighter than the lognormal (Jensen-Shannon, PSI, KS on counts).
    """
    std = band.std * STD_MARGIN
    return max(
        gamma_quantile(band.mean, std, tail),
        lognormal_quantile(band.mean, std, tail, band.log_skew + SKEW_MARGIN),
    )


def threshold(bands: Sequence[NullBand], window_rows: int, tail: float, baseline_rows: int) -> float:
    """The score an undrifted window of ``window_rows`` rows exceeds with probability about ``tail``.

    The gamma quantile (:func:`gamma_quantile`) of each grid size's band, interpolated between the two
    grid sizes around ``window_rows`` linearly in ``log n`` (on the log of the quantile when both are
    positive: a root-n statistic is then interpolated exactly); outside the grid, scaled by
    ``sqrt(size / n)`` from the nearest size, as a root-n statistic scales (PSI and the unseen share
    fall faster, so there the threshold errs high). Then widened by ``sqrt(1 + n / baseline_rows)``
    for the baseline's own sampling error (see the module's docstring).

    Parameters
    ----------
    bands : sequence of NullBand
        One statistic's bands (any order; sizes distinct).
    window_rows : int
        The window's rows (at least 1).
    tail : float
        The false-alarm probability wanted for this one score, in (0, 1).
    baseline_rows : int
        The training rows the baseline was made from (at least 1).

    Returns
    -------
    float
        The threshold; ``nan`` when the bands needed are ``nan`` (a feature with no values).
    """
    if not bands:
        raise ValueError("a threshold needs at least one calibrated band; the baseline has none")
    if not 0.0 < tail < 1.0:
        raise ValueError(f"the tail probability must be in (0, 1), got {tail}")
    if window_rows < 1 or baseline_rows < 1:
        raise ValueError(
            f"window and baseline rows must be at least 1, got {window_rows} and {baseline_rows}"
        )
    ordered = sorted(bands, key=lambda band: band.size)
    sizes = [band.size for band in ordered]
    quantiles = [tail_quantile(band, tail) for band in ordered]
    n = float(window_rows)
    if n <= sizes[0]:
        base = quantiles[0] * math.sqrt(sizes[0] / n)
    elif n >= sizes[-1]:
        base = quantiles[-1] * math.sqrt(sizes[-1] / n)
    else:
        upper = next(i for i, size in enumerate(sizes) if size >= n)
        lower = upper - 1
        share = math.log(n / sizes[lower]) / math.log(sizes[upper] / sizes[lower])
        low, high = quantiles[lower], quantiles[upper]
        if low > 0.0 and high > 0.0:
            base = math.exp(math.log(low) + share * math.log(high / low))
        else:
            base = low + share * (high - low)
    return base * math.sqrt(1.0 + n / baseline_rows)
