"""Build a model version's drift baseline: profile and calibrate each feature and the predictions.

The training job calls :func:`build_baseline` on the training rows and the test predictions, and
writes the result as ``baseline/drift_baseline.json``; registration puts it in the model package at
``DriftCheckBaselines.ModelDataQuality.Constraints``. A version trained before this existed has only
the format-1 profiles of :mod:`spec.profile` (101 quantiles or frequencies): :func:`coarse_baseline`
upgrades those. The types and the JSON format are in :mod:`spec.drift.baseline_format`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from spec.drift import coarse
from spec.drift.baseline_format import (
    COARSE_KS_ERROR_BOUND,
    FORMAT,
    FORMAT_VERSION,
    DriftBaseline,
    FeatureBaseline,
)
from spec.drift.calibration import DEFAULT_SAMPLES, DEFAULT_SIZES, calibrate
from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import QUANTILE_STEPS, NumericProfile
from spec.drift.scores import Kind

__all__ = [
    "COARSE_KS_ERROR_BOUND",
    "FORMAT",
    "FORMAT_VERSION",
    "DriftBaseline",
    "FeatureBaseline",
    "build_baseline",
    "coarse_baseline",
]

Values = npt.ArrayLike | Sequence[str | None]


def _rng(seed: int, group: str, name: str) -> np.random.Generator:
    # Seeded by the column's name, so that adding a feature leaves the others' bands unchanged.
    return np.random.default_rng([seed, zlib.crc32(f"{group}:{name}".encode())])


def _profiled(
    group: str, name: str, kind: Kind, values: Values
) -> tuple[NumericProfile | CategoricalProfile, Values]:
    if kind == "numeric":
        numbers = np.asarray(values, dtype=np.float64).ravel()
        # Infinities are outside any distribution a distance can measure: counted as missing.
        numbers = np.where(np.isfinite(numbers), numbers, np.nan)
        return NumericProfile.from_values(numbers), numbers
    if kind == "categorical":
        column = list(cast(Sequence[str | None], values))
        if not all(value is None or isinstance(value, str) for value in column):
            raise ValueError(f"{group} {name!r}: categorical values must be str or None (missing)")
        return CategoricalProfile.from_values(column), column
    raise ValueError(f"{group} {name!r}: kind {kind!r} is neither 'numeric' nor 'categorical'")


def _calibrated(
    group: str,
    name: str,
    kind: Kind,
    profiled: tuple[NumericProfile | CategoricalProfile, Values],
    calibration: tuple[Sequence[int], int, int],
) -> FeatureBaseline:
    (profile, values), (sizes, samples, seed) = profiled, calibration
    bands = calibrate(profile, values, sizes=sizes, samples=samples, rng=_rng(seed, group, name))
    return FeatureBaseline(name=name, kind=kind, profile=profile, bands=bands)


def _ks_error_bound(columns: Sequence[FeatureBaseline]) -> float:
    counts = [c.profile.count for c in columns if isinstance(c.profile, NumericProfile) and c.profile.count]
    return 1.0 / QUANTILE_STEPS + (1.0 / min(counts) if counts else 0.0)


def build_baseline(
    features: Mapping[str, tuple[Kind, Values]],
    predictions: Mapping[str, tuple[Kind, Values]],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> DriftBaseline:
    """Profile and calibrate every feature and prediction column.

    Parameters
    ----------
    features : mapping of str to (kind, values)
        The training rows' model features: numbers (NaN or an infinity is missing) for a numeric one,
        ``str`` or ``None`` for a categorical one. Every column has the same length.
    predictions : mapping of str to (kind, values)
        ``predicted_label`` (categorical, the labels as ``str``) or ``prediction`` (numeric), on the
        test rows.
    sizes, samples, seed
        The calibration (see :func:`spec.drift.calibration.calibrate`); the same seed gives the same
        baseline.

    Returns
    -------
    DriftBaseline
        Not coarse; ``ks_error_bound`` is ``0.001 + 1 / count`` of the smallest numeric column.
    """
    lengths = {name: len(cast(Sequence[Any], values)) for name, (_, values) in features.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the feature columns must have one length (the training rows); got {lengths}")
    calibration = (sizes, samples, seed)
    built = [
        tuple(
            _calibrated(group, name, kind, _profiled(group, name, kind, values), calibration)
            for name, (kind, values) in columns.items()
        )
        for group, columns in (("feature", features), ("prediction", predictions))
    ]
    return DriftBaseline(
        features=built[0],
        predictions=built[1],
        rows=next(iter(lengths.values()), 0),
        coarse=False,
        ks_error_bound=_ks_error_bound([*built[0], *built[1]]),
    )


def coarse_baseline(
    inputs_profile: Mapping[str, Any],
    predictions_profile: Mapping[str, Any],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> DriftBaseline:
    """Upgrade the format-1 profiles of a version trained before drift baselines existed.

    Each column is calibrated on a sample drawn from its own format-1 profile (see
    :mod:`spec.drift.coarse`), so an old version gets thresholds too; the result says it is coarse.

    Parameters
    ----------
    inputs_profile, predictions_profile : mapping
        The parsed ``baseline/inputs_profile.json`` and ``baseline/predictions_profile.json``.
    sizes, samples, seed
        As for :func:`build_baseline`.

    Returns
    -------
    DriftBaseline
        ``coarse=True``, ``ks_error_bound`` 0.01 (the 101 quantiles' rank resolution).

    Raises
    ------
    ProfileFormatError
        Naming the document and column, if either is not a readable format-1 profile.
    """
    calibration = (sizes, samples, seed)
    built = []
    for group, document, what in (
        ("feature", coarse.columns(inputs_profile, "inputs profile"), "inputs profile"),
        (
            "prediction",
            coarse.prediction_columns(predictions_profile, "predictions profile"),
            "predictions profile",
        ),
    ):
        entries = []
        for name, column in document.items():
            kind, profile, values = coarse.synthetic_column(name, column, what)
            entries.append(_calibrated(group, name, kind, (profile, values), calibration))
        built.append(tuple(entries))
    return DriftBaseline(
        features=built[0],
        predictions=built[1],
        rows=coarse.rows(inputs_profile, "inputs profile"),
        coarse=True,
        ks_error_bound=COARSE_KS_ERROR_BOUND,
    )
