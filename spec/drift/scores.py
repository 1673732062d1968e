"""Which drift statistics a feature of each kind has, and all of them for one window at once.

The one place that knows the statistics of a kind: the training job calibrates exactly these
(:mod:`spec.drift.calibration`), the baseline stores a band for each, and the monitor reports them.
A window is prepared once (:func:`prepare`: a numeric one sorted, a categorical one counted) and every
statistic read from that (:func:`window_scores`); :func:`scores` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy.typing as npt

from spec.drift.categorical import CategoricalProfile, CategoricalWindow
from spec.drift.numeric import NumericProfile, NumericWindow

Kind = Literal["numeric", "categorical"]

#: The statistics of each kind, the primary one first.
STATISTICS: dict[Kind, tuple[str, ...]] = {
    "numeric": ("wasserstein", "ks", "psi", "missing_rate_change"),
    "categorical": ("jensen_shannon", "unseen_share", "missing_rate_change"),
}
#: The statistic a feature's verdict rests on: it does not grow with the window's size.
PRIMARY: dict[Kind, str] = {"numeric": "wasserstein", "categorical": "jensen_shannon"}


def kind_of(profile: NumericProfile | CategoricalProfile) -> Kind:
    """The kind of feature a profile describes."""
    return "numeric" if isinstance(profile, NumericProfile) else "categorical"


def prepare(
    profile: NumericProfile | CategoricalProfile, values: npt.ArrayLike | Iterable[str | None]
) -> NumericWindow | CategoricalWindow:
    """A window's values prepared for every statistic of the profile's kind (see :func:`scores`).

    Returns
    -------
    NumericWindow or CategoricalWindow
        The present values sorted and the missing ones counted, or each category counted.
    """
    if isinstance(profile, NumericProfile):
        return NumericWindow.of(values)  # type: ignore[arg-type]
    return CategoricalWindow.of(values)  # type: ignore[arg-type]


def window_scores(
    profile: NumericProfile | CategoricalProfile, window: NumericWindow | CategoricalWindow
) -> dict[str, float]:
    """Every statistic of the profile's kind for a prepared window, keyed as in ``STATISTICS``.

    Raises
    ------
    TypeError
        If the window was prepared for the other kind.
    """
    if isinstance(profile, NumericProfile) and isinstance(window, NumericWindow):
        return {
            "wasserstein": window.wasserstein_normed(profile),
            "ks": window.ks(profile),
            "psi": window.psi(profile),
            "missing_rate_change": window.missing_rate_change(profile),
        }
    if isinstance(profile, CategoricalProfile) and isinstance(window, CategoricalWindow):
        return {
            "jensen_shannon": window.jensen_shannon(profile),
            "unseen_share": window.unseen_share(profile),
            "missing_rate_change": window.missing_rate_change(profile),
        }
    raise TypeError(f"a {type(window).__name__} cannot be scored against a {type(profile).__name__}")


def scores(
    profile: NumericProfile | CategoricalProfile,
    values: npt.ArrayLike | Sequence[str | None],
) -> dict[str, float]:
    """Every statistic of the profile's kind for one window, keyed as in ``STATISTICS``.

    Parameters
    ----------
    profile : NumericProfile or CategoricalProfile
        The feature's baseline.
    values
        The window: for a numeric profile, numbers (a float64 array; NaN is missing); for a
        categorical one, a sequence of ``str`` or ``None`` (missing).

    Returns
    -------
    dict of str to float
        ``missing_rate_change`` is signed (positive: more missing than the baseline); the others
        are non-negative. ``nan`` where a statistic is undefined (see each function).
    """
    return window_scores(profile, prepare(profile, values))
