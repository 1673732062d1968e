"""Thresholds of the shares of rare events, which random samples of the training data cannot calibrate.

Two statistics count values a baseline (almost) never had: ``unseen_share`` (categories the baseline
never saw) and, on a column with no missing value in training, ``missing_rate_change``. Every sample of
the training values has no unseen category (by construction) and no missing value (there are none), so
their calibrated null bands are zero and any single such value in a window would be over its threshold.
Here the null is modelled instead: the window's count of rare values is binomial with the probability
the baseline gives them, and the threshold is its upper ``1 - tail`` quantile as a share of the window.

The probability of an unseen category is the Good-Turing estimate (I. J. Good, "The population
frequencies of species and the estimation of population parameters", Biometrika 40(3-4):237-264,
1953): the share of the baseline's values whose category occurred exactly once. A baseline with no
singleton (and a column that never had a missing value) is given one, ``1 / (N + 1)`` for ``N`` values:
an estimate of zero would make a single occurrence in any window a drift.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile

#: Above this expected count the binomial quantile is taken from its normal approximation.
_NORMAL_ABOVE = 100.0


def binomial_share_quantile(window_rows: int, probability: float, tail: float) -> float:
    """The share ``k / n`` that a Binomial(n, p) count exceeds with probability at most ``tail``.

    Exact (the probabilities summed term by term) while ``n p`` is at most 100; above, the normal
    approximation with a continuity correction, rounded up.

    Parameters
    ----------
    window_rows : int
        ``n``, at least 1.
    probability : float
        ``p``, in [0, 1].
    tail : float
        In (0, 1).
    """
    n, p = window_rows, probability
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    expected = n * p
    if expected > _NORMAL_ABOVE:
        z = NormalDist().inv_cdf(1.0 - tail)
        return min(math.ceil(expected + z * math.sqrt(expected * (1.0 - p)) + 0.5), n) / n
    log_pmf = n * math.log1p(-p)
    log_ratio = math.log(p) - math.log1p(-p)
    below = math.exp(log_pmf)
    k = 0
    while k < n and 1.0 - below > tail:
        log_pmf += math.log(n - k) - math.log(k + 1) + log_ratio
        k += 1
        below += math.exp(log_pmf)
    return k / n


def unseen_probability(profile: CategoricalProfile) -> float:
    """The Good-Turing probability that a value of the population is of a category the profile lacks.

    Returns
    -------
    float
        ``nan`` where the profile cannot tell: it has no value, or it is truncated (it keeps only its
        most frequent categories' names, so a value outside them may be a pooled one; against such a
        profile ``unseen_share`` is always 0, and only the verdict's minimum effect bounds a change).
    """
    present = profile.count - profile.missing
    if present <= 0 or profile.truncated:
        return math.nan
    singletons = sum(round(share * present) == 1 for share in profile.shares)
    return max(singletons, 1) / (present + (0 if singletons else 1))


def rare_threshold(
    statistic: str, profile: NumericProfile | CategoricalProfile, window_rows: int, tail: float
) -> float | None:
    """The threshold of a rare-event share for a window, or ``None`` when the statistic is not one here.

    ``unseen_share`` always is (``nan`` where the profile cannot tell, see :func:`unseen_probability`);
    ``missing_rate_change`` is when the baseline had no missing value (its calibrated band is zero).
    """
    if statistic == "unseen_share" and isinstance(profile, CategoricalProfile):
        probability = unseen_probability(profile)
    elif statistic == "missing_rate_change" and profile.missing == 0 and profile.count > 0:
        # A numeric profile's count is of its present values, a categorical one's of all: with no
        # missing value both are the baseline's rows.
        probability = 1.0 / (profile.count + 1)
    else:
        return None
    if math.isnan(probability):
        return math.nan
    return binomial_share_quantile(window_rows, probability, tail)
