"""Drift statistics of a window of a numeric feature measured against the feature's baseline profile.

The profile (:class:`~spec.drift.numeric_profile.NumericProfile`) keeps quantiles of the training
values, not the values: every statistic here is computed from it and the window alone, in memory
proportional to the window, with numpy only (the Lambda layer has no scipy).

Each statistic has two forms: a function of the window's values (``ks_statistic``, ...), and a method
of :class:`NumericWindow`, the window prepared once (its present values sorted, its missing values
counted), which the monitor and the calibration use to score one window on every statistic without
sorting it again for each. They give the same values.

When the baseline or the window has no non-missing value, every distribution statistic is ``nan``
(there is no distribution to compare); see each function for a constant baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from spec.drift import ProfileFormatError
from spec.drift.numeric_profile import (
    FORMAT,
    FORMAT_VERSION,
    GRID,
    QUANTILE_STEPS,
    TAIL_STEPS,
    FloatArray,
    NumericProfile,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PSI_EMPTY_BIN_SHARE",
    "QUANTILE_STEPS",
    "TAIL_STEPS",
    "NumericProfile",
    "NumericWindow",
    "ProfileFormatError",
    "ks_statistic",
    "missing_rate_change",
    "psi",
    "psi_edges",
    "wasserstein_normed",
]

#: Share given to an empty PSI bin (either side), as Evidently does, so the log stays finite.
PSI_EMPTY_BIN_SHARE = 1e-4


@dataclass(frozen=True)
class NumericWindow:
    """A window of one numeric feature, prepared once for all its statistics and its histogram.

    Attributes
    ----------
    present : FloatArray
        The non-missing values, sorted (read-only).
    missing : int
        How many values are missing (NaN).
    """

    present: FloatArray
    missing: int

    @classmethod
    def of(cls, values: npt.ArrayLike) -> NumericWindow:
        """Prepare a window's values (NaN marks a missing value) with one sort."""
        data = np.asarray(values, dtype=np.float64).ravel()
        missing = int(np.count_nonzero(np.isnan(data)))
        # numpy sorts NaN last: the present values are the head of the sorted array.
        ordered = np.sort(data)[: data.size - missing]
        ordered.setflags(write=False)
        return cls(ordered, missing)

    @property
    def rows(self) -> int:
        """Every value of the window, missing ones included."""
        return int(self.present.size) + self.missing

    def at_most(self, edges: FloatArray) -> npt.NDArray[np.intp]:
        """How many present values are at most each of ``edges``."""
        return np.searchsorted(self.present, edges, side="right")

    def below(self, edges: FloatArray) -> npt.NDArray[np.intp]:
        """How many present values are below each of ``edges``."""
        return np.searchsorted(self.present, edges, side="left")

    @cached_property
    def levels(self) -> FloatArray:
        """``k / n`` for ``k`` = 0..n (n present values): the window's CDF below and at its sorted values."""
        size = self.present.size
        return np.arange(size + 1) / max(size, 1)

    def ks(self, profile: NumericProfile) -> float:
        """:func:`ks_statistic` of this window."""
        window = self.present
        if not profile.quantiles or window.size == 0:
            return math.nan
        quantiles, levels = profile.grid_quantiles, self.levels
        # At its k-th smallest value F_window is at least (k+1)/n and its left limit at most k/n, equal at
        # the last and the first of equal values: those two gaps are the largest at the window's values
        # (F_base - F_window is largest just before a value, F_window - F_base at one). np.interp takes
        # the last of repeated quantiles (F_base(x)); on the reflected grid the first (F_base(x-)). Without
        # repeated quantiles F_base has no jump: F_base(x-) = F_base(x).
        base = np.interp(window, quantiles, GRID)
        base_left = base
        if np.any(quantiles[1:] == quantiles[:-1]):
            base_left = np.interp(-window[::-1], -quantiles[::-1], GRID[::-1])[::-1]
        at_values = max(np.max(levels[1:] - base), np.max(base_left - levels[:-1]))
        # At the quantile points F_base bends or jumps: both sides of both CDFs there.
        base, base_left = _baseline_cdf(quantiles, quantiles)
        size = float(window.size)
        win, win_left = self.at_most(quantiles) / size, self.below(quantiles) / size
        at_quantiles = max(np.max(np.abs(base - win)), np.max(np.abs(base_left - win_left)))
        return float(max(at_values, at_quantiles))

    def wasserstein_normed(self, profile: NumericProfile) -> float:
        """:func:`wasserstein_normed` of this window."""
        if not profile.quantiles or profile.std is None or self.present.size == 0:
            return math.nan
        distance = _wasserstein(profile.grid_quantiles, self.present, self.levels)
        if profile.std == 0.0:
            return 0.0 if distance == 0.0 else math.inf
        return distance / profile.std

    def psi(self, profile: NumericProfile, bins: int = 10) -> float:
        """:func:`psi` of this window."""
        window = self.present
        if not profile.quantiles or window.size == 0:
            return math.nan
        if bins < 2:
            raise ValueError(f"psi needs at least 2 bins, got {bins}")
        edges = psi_edges(profile, bins)
        cdf, _ = _baseline_cdf(profile.grid_quantiles, edges)
        base = np.diff(np.concatenate(([0.0], cdf, [1.0])))
        # Bin i is (edges[i-1], edges[i]]: differences of the counts at most each edge.
        counts = np.diff(np.concatenate(([0], self.at_most(edges), [window.size])))
        win = counts / window.size
        base = np.where(base > 0, base, PSI_EMPTY_BIN_SHARE)
        win = np.where(win > 0, win, PSI_EMPTY_BIN_SHARE)
        return float(np.sum((win - base) * np.log(win / base)))

    def missing_rate_change(self, profile: NumericProfile) -> float:
        """:func:`missing_rate_change` of this window."""
        rows = self.rows
        return self.missing / rows - profile.missing_rate if rows else math.nan


def _baseline_cdf(quantiles: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The baseline CDF read from its quantiles: right values F(x) and left limits F(x-).

    Linear between consecutive distinct quantiles; a value repeated over quantiles ``i..j`` is an
    atom, a jump from ``p_i`` (left limit) to ``p_j`` (value).
    """
    p = GRID
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


def _wasserstein(quantiles: FloatArray, window: FloatArray, levels: FloatArray) -> float:
    """Integral over u of |Q_base(u) - Q_window(u)|, exact for the two piecewise functions.

    ``Q_window`` is ``window[k]`` on each step ``[k/n, (k+1)/n)``, where ``Q_base`` is linear unless a
    grid point falls inside: every step is integrated from ``Q_base`` at its ends, and the few steps a
    grid point splits again piece by piece.
    """
    size = window.size
    curve = np.interp(levels, GRID, quantiles)
    d0, d1 = curve[:-1] - window, curve[1:] - window
    # Width 1/n each; where the difference keeps its sign, a trapezoid.
    total = (np.sum(np.abs(d0)) + np.sum(np.abs(d1))) / 2
    crossing = np.flatnonzero(d0 * d1 < 0)
    total += np.sum(_piece(d0[crossing], d1[crossing]) - (np.abs(d0[crossing]) + np.abs(d1[crossing])) / 2)
    step = np.clip(np.searchsorted(levels, GRID, side="right") - 1, 0, size)
    inside = (step < size) & (levels[step] < GRID)
    if not inside.any():
        return float(total / size)
    split = np.unique(step[inside])
    total -= np.sum(_piece(d0[split], d1[split]))
    # The split steps' pieces: each step's ends and the grid points inside it, in order.
    u = np.concatenate((levels[split], GRID[inside], levels[split + 1]))
    owner = np.concatenate((split, step[inside], split))
    order = np.lexsort((u, owner))
    u, owner = u[order], owner[order]
    same = owner[:-1] == owner[1:]
    level = window[owner[:-1][same]]
    bent = np.interp(u, GRID, quantiles)
    pieces = _piece(bent[:-1][same] - level, bent[1:][same] - level)
    return float(total / size + np.sum((u[1:] - u[:-1])[same] * pieces))


def _piece(d0: FloatArray, d1: FloatArray) -> FloatArray:
    """Mean of |d| over a piece where the difference d runs linearly from ``d0`` to ``d1``."""
    magnitude = np.abs(d0) + np.abs(d1)
    # A linear difference that changes sign: two triangles, (d0^2 + d1^2) / (2 (|d0| + |d1|)).
    crossing = (d0**2 + d1**2) / (2 * np.where(magnitude > 0, magnitude, 1.0))
    return np.where(d0 * d1 >= 0, magnitude / 2, crossing)


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
    return NumericWindow.of(window_values).ks(profile)


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
    return NumericWindow.of(window_values).wasserstein_normed(profile)


def psi_edges(profile: NumericProfile, bins: int = 10) -> FloatArray:
    """Interior edges of the PSI bins: the baseline's ``1/bins, ..., (bins-1)/bins`` quantiles.

    Repeated edges (atoms) are merged, so a constant baseline has one edge and two bins. A bin
    is ``(edge[i-1], edge[i]]``, the outer bins open-ended.
    """
    interior = np.arange(1, bins) / bins
    return np.unique(np.interp(interior, GRID, profile.grid_quantiles))


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
    return NumericWindow.of(window_values).psi(profile, bins)


def missing_rate_change(profile: NumericProfile, window_values: npt.ArrayLike) -> float:
    """The window's share of missing values minus the baseline's (signed: positive is more missing).

    Returns
    -------
    float
        In ``[-1, 1]``; ``nan`` when either side has no rows at all.
    """
    return NumericWindow.of(window_values).missing_rate_change(profile)
