"""Which drift statistics a feature of each kind has, and all of them for one window at once.

The one place that knows the statistics of a kind: the training job calibrates exactly these
(:mod:`spec.drift.calibration`), the baseline stores a band for each, and the monitor reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from spec.drift import categorical, numeric
from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile

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
    if isinstance(profile, NumericProfile):
        window = np.asarray(values, dtype=np.float64).ravel()
        present = window[~np.isnan(window)]
        return {
            "wasserstein": numeric.wasserstein_normed(profile, present),
            "ks": numeric.ks_statistic(profile, present),
            "psi": numeric.psi(profile, present),
            "missing_rate_change": numeric.missing_rate_change(profile, window),
        }
    column: Sequence[str | None] = values if isinstance(values, list) else list(values)  # type: ignore[arg-type]
    return {
        "jensen_shannon": categorical.jensen_shannon(profile, column),
        "unseen_share": categorical.unseen_share(profile, column),
        "missing_rate_change": categorical.missing_rate_change(profile, column),
    }
