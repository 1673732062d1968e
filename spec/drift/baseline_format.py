"""A model version's drift baseline as stored: each column's profile and its statistics' null bands.

Built by :mod:`spec.drift.baseline` (import the types from there); the drift monitor scores each
version's live rows against its own baseline.

Format (JSON)
-------------
.. code-block:: text

    {"format": "drift-baseline", "format_version": 1, "rows": N, "coarse": bool, "ks_error_bound": e,
     "features": [{"name", "kind": "numeric" | "categorical",
                   "profile": {a numeric-profile or categorical-profile document},
                   "bands": {"<statistic>": [{"size", "mean", "std", "log_skew"}, ...]}}, ...],
     "predictions": [the same, for "predicted_label" or "prediction"]}

``nan`` (a statistic undefined on every sample) is written as ``null``. ``log_skew`` was added
within format version 1: a band without it (written before) is read with 0, the lognormal's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spec.drift import ProfileFormatError
from spec.drift.calibration import NullBand, threshold
from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile
from spec.drift.rare import rare_threshold
from spec.drift.scores import STATISTICS, Kind

FORMAT = "drift-baseline"
FORMAT_VERSION = 1
#: The KS error of a coarse baseline: 101 quantiles resolve ranks to 0.01 only.
COARSE_KS_ERROR_BOUND = 0.01


@dataclass(frozen=True)
class FeatureBaseline:
    """One feature's (or the predictions') baseline.

    Attributes
    ----------
    name : str
        The column: a model feature, or ``predicted_label`` / ``prediction``.
    kind : {"numeric", "categorical"}
    profile : NumericProfile or CategoricalProfile
        The baseline values' profile, which the window is scored against.
    bands : mapping of str to tuple of NullBand
        Per statistic of the kind (``spec.drift.scores.STATISTICS``), its null band at each size.
    """

    name: str
    kind: Kind
    profile: NumericProfile | CategoricalProfile
    bands: Mapping[str, tuple[NullBand, ...]]

    @property
    def rows(self) -> int:
        """The baseline rows this column was profiled from (missing values included)."""
        if isinstance(self.profile, NumericProfile):
            return self.profile.count + self.profile.missing
        return self.profile.count

    def threshold(self, statistic: str, window_rows: int, tail: float) -> float:
        """The statistic's threshold for a window (:func:`spec.drift.calibration.threshold`).

        Widened for this column's own baseline rows: the predictions' baseline is the test rows,
        fewer than the training rows of the features. The shares of rare events (an unseen category,
        a missing value in a column that had none) are modelled instead (:mod:`spec.drift.rare`):
        samples of the baseline never contain them, so their calibrated bands are zero.
        """
        rare = rare_threshold(statistic, self.profile, window_rows, tail)
        if rare is not None:
            return rare
        return threshold(self.bands[statistic], window_rows, tail, max(self.rows, 1))


@dataclass(frozen=True)
class DriftBaseline:
    """A model version's baseline for drift.

    Attributes
    ----------
    features, predictions : tuple of FeatureBaseline
        The model's features (training rows), in the contract's order; the predictions (on the test
        rows): ``predicted_label`` for a classifier, ``prediction`` for a regressor.
    rows : int
        The training rows.
    coarse : bool
        Upgraded from a format-1 profile (101 quantiles): scores are less exact, see ``ks_error_bound``.
    ks_error_bound : float
        How far a KS statistic from these profiles can be from the exact one on the raw baseline:
        ``0.001 + 1 / count`` for a full baseline (its quantiles' rank resolution), 0.01 for a coarse one.
    """

    features: tuple[FeatureBaseline, ...]
    predictions: tuple[FeatureBaseline, ...]
    rows: int
    coarse: bool
    ks_error_bound: float

    def feature(self, name: str) -> FeatureBaseline:
        """The baseline of a feature or a prediction column, by name.

        Raises
        ------
        KeyError
            If the baseline has no such column.
        """
        for found in (*self.features, *self.predictions):
            if found.name == name:
                return found
        known = ", ".join(f.name for f in (*self.features, *self.predictions))
        raise KeyError(f"the drift baseline has no column {name!r}; it has {known}")

    def to_json(self) -> str:
        """The baseline as JSON (see the module's docstring)."""
        return json.dumps(
            {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "rows": self.rows,
                "coarse": self.coarse,
                "ks_error_bound": self.ks_error_bound,
                "features": [_entry(f) for f in self.features],
                "predictions": [_entry(f) for f in self.predictions],
            },
            ensure_ascii=False,
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> DriftBaseline:
        """Read a baseline written by :meth:`to_json`.

        Raises
        ------
        ProfileFormatError
            Naming what is wrong and where: not JSON, another format or version, a broken column.
        """
        try:
            raw = json.loads(text)
        except ValueError as error:
            raise ProfileFormatError(f"a drift baseline must be JSON; this is not ({error})") from error
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ProfileFormatError(f"not a {FORMAT} document (its 'format' is not {FORMAT!r})")
        if raw.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(
                f"{FORMAT} format_version {raw.get('format_version')!r}; this code reads {FORMAT_VERSION}"
            )
        try:
            rows, coarse, bound = int(raw["rows"]), bool(raw["coarse"]), float(raw["ks_error_bound"])
            groups = (raw["features"], raw["predictions"])
        except (KeyError, TypeError, ValueError) as error:
            raise ProfileFormatError(f"{FORMAT}: missing or broken field {error}") from error
        if not all(isinstance(group, list) for group in groups):
            raise ProfileFormatError(f"{FORMAT}: 'features' and 'predictions' must be lists")
        features, predictions = (
            tuple(_read_entry(entry, f"{group}[{i}]") for i, entry in enumerate(entries))
            for group, entries in zip(("features", "predictions"), groups, strict=True)
        )
        return cls(features=features, predictions=predictions, rows=rows, coarse=coarse, ks_error_bound=bound)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _entry(baseline: FeatureBaseline) -> dict[str, Any]:
    return {
        "name": baseline.name,
        "kind": baseline.kind,
        "profile": json.loads(baseline.profile.to_json()),
        "bands": {
            statistic: [
                {"size": b.size, "mean": _number(b.mean), "std": _number(b.std), "log_skew": b.log_skew}
                for b in bands
            ]
            for statistic, bands in baseline.bands.items()
        },
    }


def _read_entry(entry: Any, where: str) -> FeatureBaseline:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ProfileFormatError(f"{FORMAT}: {where} is not an object with a 'name'")
    name, kind = entry["name"], entry.get("kind")
    where = f"{FORMAT}: {where} ({name!r})"
    if kind not in STATISTICS:
        raise ProfileFormatError(f"{where}: kind {kind!r} is neither 'numeric' nor 'categorical'")
    try:
        text = json.dumps(entry["profile"])
        profile = NumericProfile.from_json(text) if kind == "numeric" else CategoricalProfile.from_json(text)
        bands = {
            statistic: tuple(
                NullBand(
                    size=int(b["size"]),
                    mean=_float(b["mean"]),
                    std=_float(b["std"]),
                    log_skew=float(b.get("log_skew", 0.0)),
                )
                for b in entry["bands"][statistic]
            )
            for statistic in STATISTICS[kind]
        }
    except ProfileFormatError as error:
        raise ProfileFormatError(f"{where}: {error}") from error
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProfileFormatError(f"{where}: missing or broken field {error}") from error
    if not all(bands.values()):
        raise ProfileFormatError(f"{where}: a statistic has no calibrated band")
    return FeatureBaseline(name=name, kind=kind, profile=profile, bands=bands)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)
