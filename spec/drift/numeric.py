"""A numeric feature's baseline profile, and drift statistics of a window measured against it.

The profile keeps 1,001 quantiles (probabilities 0, 0.001, ..., 1) of the training values and 99
more in each outer 0.1%, not the values: it is stored in S3 beside the model, and every statistic
here is computed from it and the window alone, in memory proportional to the window, with numpy
only (the Lambda layer has no scipy).

When the baseline or the window has no non-missing value, every distribution statistic is ``nan``
(there is no distribution to compare); see each function for a constant baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from spec.drift import ProfileFormatError

FORMAT = "numeric-profile"
FORMAT_VERSION = 1
#: Quantile resolution: 1,000 steps bound the rank error of the baseline CDF by 0.001.
QUANTILE_STEPS = 1000
#: Each outer 0.1% is refined a hundredfold (99 more quantiles at steps of 0.00001 on each side):
#: a heavy tail's top 0.1% can carry a few percent of a Wasserstein distance, which linear
#: interpolation from the 0.999 quantile to the maximum misses.
TAIL_STEPS = 100
#: Share given to an empty PSI bin (either side), as Evidently does, so the log stays finite.
PSI_EMPTY_BIN_SHARE = 1e-4

FloatArray = npt.NDArray[np.float64]


_MAIN = np.linspace(0.0, 1.0, QUANTILE_STEPS + 1)
_LOWER_TAIL = np.arange(1, TAIL_STEPS) / (QUANTILE_STEPS * TAIL_STEPS)
_UPPER_TAIL = 1.0 - _LOWER_TAIL[::-1]
#: Every probability a profile holds a quantile for, increasing.
_GRID = np.concatenate([_MAIN[:1], _LOWER_TAIL, _MAIN[1:-1], _UPPER_TAIL, _MAIN[-1:]])
_IS_MAIN = np.isin(_GRID, _MAIN)
_IS_LOWER = np.less(_GRID, _MAIN[1])
_IS_LOWER[0] = False


def _grid_quantiles(profile: NumericProfile) -> FloatArray:
    """The profile's quantiles on the whole grid (main and tails), in increasing probability."""
    full = np.empty(_GRID.size)
    full[_IS_MAIN] = profile.quantiles
    full[_IS_LOWER] = profile.lower_tail
    full[~_IS_MAIN & ~_IS_LOWER] = profile.upper_tail
    return full


def _as_floats(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


@dataclass(frozen=True)
class NumericProfile:
    """Summary of a numeric feature's baseline (training) values.

    Attributes
    ----------
    count, missing
        Non-missing and missing (NaN) values.
    minimum, maximum, mean, std
        Of the non-missing values (``std`` is the population standard deviation, ddof=0);
        ``None`` when there are none.
    quantiles
        The 1,001 quantiles at probabilities ``k / 1000`` (numpy's linear method); empty when
        there are no non-missing values.
    lower_tail, upper_tail
        99 quantiles each at probabilities ``k / 100000`` and ``1 - k / 100000`` (``k`` = 1..99,
        increasing), resolving the outer 0.1% on each side (see ``TAIL_STEPS``); empty with
        ``quantiles``.
    """

    count: int
    missing: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    std: float | None
    quantiles: tuple[float, ...]
    lower_tail: tuple[float, ...] = ()
    upper_tail: tuple[float, ...] = ()

    @classmethod
    def from_values(cls, values: npt.ArrayLike) -> NumericProfile:
        """Profile the baseline values of one feature (``values``: NaN marks a missing value)."""
        data = _as_floats(values)
        present = data[~np.isnan(data)]
        missing = int(data.size - present.size)
        if present.size == 0:
            return cls(0, missing, None, None, None, None, ())
        # Rounding in the interpolation must not make the quantile function decrease.
        quantiles = np.maximum.accumulate(np.quantile(present, _GRID))
        upper = ~_IS_MAIN & ~_IS_LOWER
        return cls(
            count=int(present.size),
            missing=missing,
            minimum=float(present.min()),
            maximum=float(present.max()),
            mean=float(present.mean()),
            std=float(present.std()),
            quantiles=tuple(float(q) for q in quantiles[_IS_MAIN]),
            lower_tail=tuple(float(q) for q in quantiles[_IS_LOWER]),
            upper_tail=tuple(float(q) for q in quantiles[upper]),
        )

    @property
    def missing_rate(self) -> float:
        """Share of missing values (``nan`` for a profile of no rows)."""
        total = self.count + self.missing
        return self.missing / total if total else math.nan

    def to_json(self) -> str:
        """Serialise to JSON, with the format and its version."""
        return json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)})

    @classmethod
    def from_json(cls, text: str) -> NumericProfile:
        """Read a profile written by :meth:`to_json`.

        Raises
        ------
        ProfileFormatError
            If the text is not a numeric profile of a known format version.
        """
        raw: dict[str, Any] = json.loads(text)
        if raw.get("format") != FORMAT or raw.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(
                f"expected {FORMAT} version {FORMAT_VERSION}, got {raw.get('format')} "
                f"version {raw.get('format_version')}"
            )
        quantiles = tuple(float(q) for q in raw["quantiles"])
        lower, upper = (tuple(float(q) for q in raw[key]) for key in ("lower_tail", "upper_tail"))
        sizes = (len(quantiles), len(lower), len(upper))
        if any(sizes) and sizes != (QUANTILE_STEPS + 1, TAIL_STEPS - 1, TAIL_STEPS - 1):
            raise ProfileFormatError(f"unexpected numbers of quantiles and tail quantiles: {sizes}")
        return cls(
            count=int(raw["count"]),
            missing=int(raw["missing"]),
            minimum=_optional_float(raw["minimum"]),
            maximum=_optional_float(raw["maximum"]),
            mean=_optional_float(raw["mean"]),
            std=_optional_float(raw["std"]),
            quantiles=quantiles,
            lower_tail=lower,
            upper_tail=upper,
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _baseline_cdf(quantiles: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The baseline CDF read from its quantiles: right values F(x) and left limits F(x-).

    Linear between consecutive distinct quantiles; a value repeated over quantiles ``i..j`` is an
    atom, a jump from ``p_i`` (left limit) to ``p_j`` (value).
    """
    p = _GRID
    last = p.size - 1
    right = np.searchsorted(quantiles, x, side="right") - 1  # last q_j <= x
    left = np.searchsorted(quantiles, x, side="left")  # first q_i >= x
    # Between distinct quantiles F is continuous and the two agree; on a quantile point the last
    # index holding it gives F(x) and the first gives F(x-), so an atom's jump keeps both ends.
    j = np.clip(right, 0, last - 1)
    q0, q1 = quantiles[j], quantiles[j + 1]
    gap = np.where(q1 > q0, q1 - q0, 1.0)
    inside = p[j] + (p[j + 1] - p[j]) * np.clip((x - q0) / gap, 0.0, 1.0)
    on_point = quantiles[np.clip(right, 0, last)] == x
    value = np.where(on_point, p[np.clip(right, 0, last)], inside)
    value = np.where(right < 0, 0.0, np.where(right >= last, 1.0, value))
    i = np.clip(left, 0, last)
    left_limit = np.where(quantiles[i] == x, p[i], value)
    left_limit = np.where(left <= 0, 0.0, np.where(left > last, 1.0, left_limit))
    return value, left_limit


def _present(values: npt.ArrayLike) -> FloatArray:
    data = _as_floats(values)
    return np.sort(data[~np.isnan(data)])


def ks_statistic(profile: NumericProfile, window_values: npt.ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic of the window against the baseline profile.

    ``D = sup_x |F_base(x) - F_window(x)|`` (Kolmogorov 1933, Smirnov 1948; as
    ``scipy.stats.ks_2samp``), where ``F_window`` is the window's exact empirical CDF and
    ``F_base`` the baseline CDF read from the profile's quantiles (linear between them; a value
    repeated over many quantiles is a jump). Both sides of every jump are evaluated, at the
    window's values and at the quantile points.

    Error bound: the quantiles have rank resolution 0.001, so ``F_base`` is within
    ``0.001 + 1 / count`` of the baseline's empirical CDF everywhere, and ``D`` is within that
    of the exact two-sample statistic on the raw baseline.

    Returns
    -------
    float
        In ``[0, 1]``; ``nan`` when the baseline or the window has no non-missing values. A
        constant baseline is a single jump, handled like any atom.
    """
    window = _present(window_values)
    if not profile.quantiles or window.size == 0:
        return math.nan
    quantiles = _grid_quantiles(profile)
    points = np.union1d(window, quantiles)
    base, base_left = _baseline_cdf(quantiles, points)
    size = float(window.size)
    win = np.searchsorted(window, points, side="right") / size
    win_left = np.searchsorted(window, points, side="left") / size
    return float(max(np.max(np.abs(base - win)), np.max(np.abs(base_left - win_left))))


def _wasserstein(quantiles: FloatArray, window: FloatArray) -> float:
    """Integral over u of |Q_base(u) - Q_window(u)|, exact for the two piecewise functions."""
    size = window.size
    u = np.union1d(_GRID, np.arange(size + 1) / size)
    u0, u1 = u[:-1], u[1:]
    # The window's quantile function is constant on each piece: its order statistic ceil(u m).
    step = np.clip(np.ceil((u0 + u1) / 2 * size).astype(np.int64) - 1, 0, size - 1)
    level = window[step]
    d0 = np.interp(u0, _GRID, quantiles) - level
    d1 = np.interp(u1, _GRID, quantiles) - level
    width = u1 - u0
    magnitude = np.abs(d0) + np.abs(d1)
    same_sign = d0 * d1 >= 0
    # A linear difference that changes sign: two triangles, (d0^2 + d1^2) / (2 (|d0| + |d1|)).
    crossing = (d0**2 + d1**2) / (2 * np.where(magnitude > 0, magnitude, 1.0))
    return float(np.sum(width * np.where(same_sign, magnitude / 2, crossing)))


def wasserstein_normed(profile: NumericProfile, window_values: npt.ArrayLike) -> float:
    """Wasserstein-1 distance of the window from the baseline, in baseline standard deviations.

    ``W1 = integral_0^1 |Q_base(u) - Q_window(u)| du`` (Vallender 1973; as
    ``scipy.stats.wasserstein_distance``), with ``Q_base`` the profile's quantile function
    (linear between quantiles) and ``Q_window`` the window's exact one, divided by the
    baseline's standard deviation (Evidently's normed Wasserstein distance). Unlike a test's
    p-value, it does not grow with the sample size. The integral is exact for the two piecewise
    functions; the profile's refined tails keep it within 0.2% of the distance on the raw
    baseline, heavy tails (lognormal) included.

    Returns
    -------
    float
        ``nan`` when either side has no non-missing values. For a constant baseline (std 0):
        ``0.0`` if the window equals that constant, ``inf`` otherwise.
    """
    window = _present(window_values)
    if not profile.quantiles or profile.std is None or window.size == 0:
        return math.nan
    distance = _wasserstein(_grid_quantiles(profile), window)
    if profile.std == 0.0:
        return 0.0 if distance == 0.0 else math.inf
    return distance / profile.std


def psi_edges(profile: NumericProfile, bins: int = 10) -> FloatArray:
    """Interior edges of the PSI bins: the baseline's ``1/bins, ..., (bins-1)/bins`` quantiles.

    Repeated edges (atoms) are merged, so a constant baseline has one edge and two bins. A bin
    is ``(edge[i-1], edge[i]]``, the outer bins open-ended.
    """
    interior = np.arange(1, bins) / bins
    return np.unique(np.interp(interior, _GRID, _grid_quantiles(profile)))


def psi(profile: NumericProfile, window_values: npt.ArrayLike, bins: int = 10) -> float:
    """Population stability index of the window on the baseline's quantile bins.

    ``PSI = sum_i (w_i - b_i) ln(w_i / b_i)`` (Siddiqi 2006, *Credit Risk Scorecards*), with
    ``b_i`` and ``w_i`` the baseline's and the window's shares of bin ``i`` (see
    :func:`psi_edges`); the baseline shares are read from the profile's CDF. An empty bin's
    share, on either side, is replaced by ``PSI_EMPTY_BIN_SHARE`` (1e-4).

    On continuous data the baseline shares are those of the raw baseline. An edge on an atom (a
    repeated value) puts the profile's rank error, at most 0.001, into the two bins beside it; a
    small PSI then moves by a few percent of itself (measured: up to 4% at PSI 0.06).

    Returns
    -------
    float
        ``nan`` when either side has no non-missing values. A constant baseline gives two bins
        (at most the constant, above it), so a window that leaves the constant scores high.
    """
    window = _present(window_values)
    if not profile.quantiles or window.size == 0:
        return math.nan
    if bins < 2:
        raise ValueError(f"psi needs at least 2 bins, got {bins}")
    quantiles = _grid_quantiles(profile)
    edges = psi_edges(profile, bins)
    cdf, _ = _baseline_cdf(quantiles, edges)
    base = np.diff(np.concatenate(([0.0], cdf, [1.0])))
    counts = np.bincount(np.searchsorted(edges, window, side="left"), minlength=edges.size + 1)
    win = counts / window.size
    base = np.where(base > 0, base, PSI_EMPTY_BIN_SHARE)
    win = np.where(win > 0, win, PSI_EMPTY_BIN_SHARE)
    return float(np.sum((win - base) * np.log(win / base)))


def missing_rate_change(profile: NumericProfile, window_values: npt.ArrayLike) -> float:
    """The window's share of missing values minus the baseline's (signed: positive is more missing).

    Returns
    -------
    float
        In ``[-1, 1]``; ``nan`` when either side has no rows at all.
    """
    window = _as_floats(window_values)
    if window.size == 0:
        return math.nan
    return float(np.isnan(window).mean()) - profile.missing_rate
