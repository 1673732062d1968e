"""A categorical feature's baseline profile, and how far a window of live values has moved from it.

The same profile serves a classifier's predicted class. The profile keeps the share of at most
``max_categories`` categories; the rest are pooled into one "other" share, and the profile says so
(``truncated``), because a column of free text or identifiers must not make a baseline that grows with
the training data. Missing values (``None``) are counted apart and never take part in the shares.

Undefined cases return ``nan`` rather than a number that would read as "no drift": a statistic over the
non-missing values of a window with none, or a missing-rate change against an empty baseline or window.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from spec.drift import ProfileFormatError

__all__ = [
    "DEFAULT_MAX_CATEGORIES",
    "FORMAT",
    "FORMAT_VERSION",
    "CategoricalProfile",
    "CategoricalWindow",
    "ProfileFormatError",
    "jensen_shannon",
    "label_text",
    "missing_rate_change",
    "unseen_share",
]

DEFAULT_MAX_CATEGORIES = 1_000
FORMAT = "categorical-profile"
FORMAT_VERSION = 1


def label_text(value: Any) -> str:
    """A class label as the baseline and the monitor name it: booleans ``true``/``false``, else ``str``."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class CategoricalProfile:
    """The baseline of one categorical column.

    Attributes
    ----------
    count : int
        Values seen, missing ones included.
    missing : int
        Values that were ``None``.
    categories : tuple of str
        The kept categories, most frequent first (ties by name, so that a profile is reproducible).
    shares : tuple of float
        Each kept category's share of the non-missing values, in the order of ``categories``.
    other_share : float
        The share of the non-missing values pooled because their categories were not kept.
    pooled_categories : int
        How many distinct categories were pooled into ``other_share``.
    max_categories : int
        The bound the profile was built with.
    """

    count: int
    missing: int
    categories: tuple[str, ...]
    shares: tuple[float, ...]
    other_share: float
    pooled_categories: int
    max_categories: int = DEFAULT_MAX_CATEGORIES

    @property
    def truncated(self) -> bool:
        """Whether some categories were pooled into ``other_share`` (their names are not stored)."""
        return self.pooled_categories > 0

    @property
    def missing_rate(self) -> float:
        """The share of missing values, ``nan`` for a profile of no values."""
        return self.missing / self.count if self.count else math.nan

    @classmethod
    def from_values(
        cls, values: Sequence[str | None], *, max_categories: int = DEFAULT_MAX_CATEGORIES
    ) -> CategoricalProfile:
        """Profile a column: its count, missing count and the share of each category.

        Parameters
        ----------
        values : sequence of str or None
            The column; ``None`` is a missing value.
        max_categories : int, default 1,000
            At most this many categories are kept, the most frequent ones; the others are pooled.

        Returns
        -------
        CategoricalProfile
            Exact shares (count over non-missing count) for the kept categories.
        """
        if max_categories < 1:
            raise ValueError(f"max_categories must be at least 1, not {max_categories}")
        counts = Counter(value for value in values if value is not None)
        non_missing = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept, pooled = ranked[:max_categories], ranked[max_categories:]
        return cls(
            count=len(values),
            missing=len(values) - non_missing,
            categories=tuple(category for category, _ in kept),
            shares=tuple(n / non_missing for _, n in kept),
            other_share=sum(n for _, n in pooled) / non_missing if pooled else 0.0,
            pooled_categories=len(pooled),
            max_categories=max_categories,
        )

    def to_json(self) -> str:
        """The profile as JSON, with its format and version so that a later reader can tell."""
        return json.dumps(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "count": self.count,
                "missing": self.missing,
                "categories": list(self.categories),
                "shares": list(self.shares),
                "other_share": self.other_share,
                "pooled_categories": self.pooled_categories,
                "max_categories": self.max_categories,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> CategoricalProfile:
        """Read a profile written by :meth:`to_json`.

        Raises
        ------
        ProfileFormatError
            If the text is not a categorical profile of a version this code reads.
        """
        try:
            data: dict[str, Any] = json.loads(text)
        except ValueError as error:
            raise ProfileFormatError(f"not JSON: {error}") from error
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ProfileFormatError(f"not a {FORMAT}")
        if data.get("version") != FORMAT_VERSION:
            raise ProfileFormatError(
                f"{FORMAT} version {data.get('version')!r}; this code reads {FORMAT_VERSION}"
            )
        try:
            profile = cls(
                count=int(data["count"]),
                missing=int(data["missing"]),
                categories=tuple(str(c) for c in data["categories"]),
                shares=tuple(float(s) for s in data["shares"]),
                other_share=float(data["other_share"]),
                pooled_categories=int(data["pooled_categories"]),
                max_categories=int(data["max_categories"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ProfileFormatError(f"broken {FORMAT}: {error!r}") from error
        if len(profile.categories) != len(profile.shares):
            raise ProfileFormatError(f"{len(profile.categories)} categories but {len(profile.shares)} shares")
        return profile


@dataclass(frozen=True)
class CategoricalWindow:
    """A window of one categorical column, prepared once for all its statistics and its histogram.

    Attributes
    ----------
    counts : dict of str to int
        Each category's count among the non-missing values, in the order first seen.
    missing : int
        Values that were ``None``.
    """

    counts: dict[str, int]
    missing: int

    @classmethod
    def of(cls, values: Iterable[str | None]) -> CategoricalWindow:
        """Count a window's values (``None`` is missing) in one pass."""
        counts: dict[str | None, int] = Counter(values)
        missing = counts.pop(None, 0)
        return cls(cast(dict[str, int], counts), missing)

    @property
    def present(self) -> int:
        """The non-missing values."""
        return sum(self.counts.values())

    @property
    def rows(self) -> int:
        """Every value of the window, missing ones included."""
        return self.present + self.missing

    def jensen_shannon(self, profile: CategoricalProfile) -> float:
        """:func:`jensen_shannon` of this window."""
        window_total = self.present
        if window_total == 0 or profile.count == profile.missing:
            return math.nan
        counts = dict(self.counts)
        baseline = list(profile.shares)
        window = [counts.pop(category, 0) for category in profile.categories]
        if profile.truncated:
            baseline.append(profile.other_share)
            window.append(sum(counts.values()))
        else:
            baseline.extend([0.0] * len(counts))
            window.extend(counts.values())
        p = np.asarray(baseline, dtype=np.float64)
        q = np.asarray(window, dtype=np.float64)
        # Normalised again so that shares read back from JSON that sum to 1 only within rounding still do.
        p, q = p / p.sum(), q / q.sum()
        m = (p + q) / 2
        divergence = (_kl_bits(p, m) + _kl_bits(q, m)) / 2
        # Rounding can leave a divergence a hair outside [0, 1]; the distance is defined inside it.
        return float(math.sqrt(min(max(divergence, 0.0), 1.0)))

    def unseen_share(self, profile: CategoricalProfile) -> float:
        """:func:`unseen_share` of this window."""
        window_total = self.present
        if window_total == 0:
            return math.nan
        if profile.truncated:
            return 0.0
        seen = set(profile.categories)
        unseen = sum(n for category, n in self.counts.items() if category not in seen)
        return unseen / window_total

    def missing_rate_change(self, profile: CategoricalProfile) -> float:
        """:func:`missing_rate_change` of this window."""
        rows = self.rows
        return self.missing / rows - profile.missing_rate if rows else math.nan


def jensen_shannon(profile: CategoricalProfile, window_values: Sequence[str | None]) -> float:
    """Jensen-Shannon distance (base 2) between the baseline's shares and the window's.

    The distance is the square root of the Jensen-Shannon divergence,
    ``JSD(P, Q) = (KL(P || M) + KL(Q || M)) / 2`` with ``M = (P + Q) / 2`` and logarithms in base 2
    (Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory 37(1), 1991;
    Endres and Schindelin, IEEE Trans. Inf. Theory 49(7), 2003, for the square root being a metric).
    It lies in [0, 1] and is 1 only for distributions with disjoint supports. Missing values take no part.

    The distributions are taken over the union of categories: a window category the baseline never saw
    has baseline share 0. A truncated profile does not know the names of its pooled categories, so there
    the window's values outside the kept categories are pooled too and compared with ``other_share``.

    Parameters
    ----------
    profile : CategoricalProfile
        The baseline.
    window_values : sequence of str or None
        The live values; ``None`` is missing.

    Returns
    -------
    float
        The distance, or ``nan`` if the window or the baseline has no non-missing value.
    """
    return CategoricalWindow.of(window_values).jensen_shannon(profile)


def _kl_bits(p: np.ndarray[Any, np.dtype[np.float64]], m: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    # 0 log 0 is 0 by convention; m > 0 wherever p > 0, since m holds half of p.
    present = p > 0
    return float(np.sum(p[present] * np.log2(p[present] / m[present])))


def unseen_share(profile: CategoricalProfile, window_values: Sequence[str | None]) -> float:
    """The share of the window's non-missing values whose category the baseline never saw.

    A truncated profile stores only the names of its kept categories; a window value outside them may
    be one of the pooled ones, so it counts as seen (in ``other_share``), and against a truncated
    profile this share is always 0: only an untruncated profile can say that a value is new. A change
    in what falls outside the kept categories still shows in :func:`jensen_shannon`, through
    ``other_share``.

    Parameters
    ----------
    profile : CategoricalProfile
        The baseline.
    window_values : sequence of str or None
        The live values; ``None`` is missing.

    Returns
    -------
    float
        In [0, 1], or ``nan`` if the window has no non-missing value.
    """
    return CategoricalWindow.of(window_values).unseen_share(profile)


def missing_rate_change(profile: CategoricalProfile, window_values: Sequence[str | None]) -> float:
    """The window's missing rate minus the baseline's (each the share of values that are ``None``).

    Parameters
    ----------
    profile : CategoricalProfile
        The baseline.
    window_values : sequence of str or None
        The live values; ``None`` is missing.

    Returns
    -------
    float
        In [-1, 1]: positive when more values are missing than in the baseline; ``nan`` if the window
        or the baseline has no value at all.
    """
    return CategoricalWindow.of(window_values).missing_rate_change(profile)
