"""A version's window against a calibrated baseline: no false alarms on undrifted traffic, the shifted
features and only them, too few rows, a coarse baseline said so, histograms for the report."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from domain.monitoring.compare import VersionResult, compare_version
from domain.monitoring.config import MonitoringConfig
from domain.monitoring.rows import ColumnValues, VersionRows
from spec.drift.baseline import DriftBaseline, build_baseline, coarse_baseline
from spec.drift.scores import Kind
from spec.profile import frequency_document, numeric_document, profile_document

TRAINING_ROWS = 50_000
NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = [f"c{i}" for i in range(4)]
LEVELS = ["a", "b", "c", "d", "e"]
LEVEL_SHARES = [0.4, 0.25, 0.15, 0.12, 0.08]
CONFIG = MonitoringConfig()


def _draw(rng: np.random.Generator, rows: int, shifted: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Rows of the training distribution: normal, lognormal and integer features, categories, labels."""
    columns: dict[str, Any] = {}
    for index, name in enumerate(NUMERIC):
        if index % 3 == 0:
            values = rng.normal(10 * index, 1 + index, rows)
        elif index % 3 == 1:
            values = rng.lognormal(1.0, 0.5, rows)
        else:
            values = rng.poisson(3 + index, rows).astype(np.float64)
        values[rng.random(rows) < 0.05] = math.nan  # missing values
        if name in shifted:
            values = values + 0.5 * np.nanstd(values)
        columns[name] = values
    for name in CATEGORICAL:
        shares = LEVEL_SHARES[::-1] if name in shifted else LEVEL_SHARES
        columns[name] = rng.choice(LEVELS, rows, p=shares).tolist()
    columns["predicted_label"] = rng.choice(["0", "1"], rows, p=[0.7, 0.3]).tolist()
    return columns


@pytest.fixture(scope="module")
def baseline() -> DriftBaseline:
    training = _draw(np.random.default_rng(7), TRAINING_ROWS)
    features: dict[str, tuple[Kind, Any]] = {
        name: ("numeric" if name in NUMERIC else "categorical", training[name])
        for name in NUMERIC + CATEGORICAL
    }
    return build_baseline(features, {"predicted_label": ("categorical", training["predicted_label"])}, seed=1)


def _window(columns: dict[str, ColumnValues], rows: int) -> VersionRows:
    return VersionRows(version=3, rows=rows, requests=rows, columns=columns)


def test_sixty_undrifted_windows_raise_no_drift(baseline: DriftBaseline) -> None:
    # Given 60 windows of 500 rows drawn from the training distribution
    rng = np.random.default_rng(2026)
    results = [compare_version(_window(_draw(rng, 500), 500), baseline, CONFIG) for _ in range(60)]

    # Then no version drifts (the goal is zero; Bonferroni at 1% per window allows one in a hundred)
    drifting = [r for r in results if r.status == "drift"]
    assert len(drifting) == 0, [r.drifted_features for r in drifting]
    assert all(r.status == "no_drift" for r in results)
    # and the tail is the false-alarm rate split over the 12 features and the predictions
    assert results[0].tail == pytest.approx(0.01 / 13)


def test_three_shifted_features_are_exactly_the_three_flagged(baseline: DriftBaseline) -> None:
    # Given a window with two numeric features and one categorical shifted
    shifted = frozenset({"x0", "x4", "c2"})
    window = _window(_draw(np.random.default_rng(5), 1_000, shifted), 1_000)

    # When compared
    result = compare_version(window, baseline, CONFIG, baseline_uri="s3://b/baseline.json")

    # Then exactly those three drift, the version drifts, and the others stay in their bands
    assert set(result.drifted_features) == shifted
    assert result.status == "drift"
    assert result.drifted_share == pytest.approx(3 / 12)
    assert not result.prediction_drifted
    for column in result.features:
        assert set(column.scores) == set(column.thresholds)
        if column.name in shifted:
            assert column.score > column.threshold and column.score >= column.min_effect
    assert result.baseline_uri == "s3://b/baseline.json"


def test_a_large_window_with_a_tiny_shift_is_not_drift(baseline: DriftBaseline) -> None:
    # Given 20,000 rows with x0 shifted by 5% of its spread: past its band at that size, below min_effect
    rng = np.random.default_rng(11)
    columns = _draw(rng, 20_000)
    columns["x0"] = columns["x0"] + 0.05 * np.nanstd(columns["x0"])

    # When compared / Then nothing drifts: a shift too small to matter is not flagged
    result = compare_version(_window(columns, 20_000), baseline, CONFIG)
    x0 = next(f for f in result.features if f.name == "x0")
    assert x0.threshold < x0.score < x0.min_effect
    assert result.drifted_features == ()
    assert result.status == "no_drift"


def test_a_three_row_window_is_too_few_rows_never_drift(baseline: DriftBaseline) -> None:
    # Given 3 rows, wildly shifted
    window = _window(_draw(np.random.default_rng(1), 3, frozenset(NUMERIC + CATEGORICAL)), 3)

    # When compared / Then too few rows, and no column is called drifted
    result = compare_version(window, baseline, CONFIG)
    assert result.status == "too_few_rows"
    assert result.drifted_features == () and not result.prediction_drifted


def test_the_predictions_drifting_alone_make_the_version_drift(baseline: DriftBaseline) -> None:
    # Given undrifted features but predictions flipped from 30% to 90% positive
    rng = np.random.default_rng(3)
    columns = _draw(rng, 1_000)
    columns["predicted_label"] = rng.choice(["0", "1"], 1_000, p=[0.1, 0.9]).tolist()

    # When compared / Then the version drifts through its predictions
    result = compare_version(_window(columns, 1_000), baseline, CONFIG)
    assert result.prediction_drifted
    assert result.status == "drift"


def test_histograms_share_bins_with_the_baseline(baseline: DriftBaseline) -> None:
    # Given an undrifted window
    result = compare_version(_window(_draw(np.random.default_rng(9), 2_000), 2_000), baseline, CONFIG)
    numeric = next(f for f in result.features if f.name == "x0")
    categorical = next(f for f in result.features if f.name == "c0")

    # Then a numeric histogram has 20 inner bins and two outer ones, each side's shares summing to 1,
    # about 1% of the baseline in each outer bin
    histogram = numeric.histogram
    assert len(histogram.labels) == len(histogram.baseline) == len(histogram.window) == 22
    assert sum(histogram.baseline) == pytest.approx(1.0) and sum(histogram.window) == pytest.approx(1.0)
    assert histogram.baseline[0] == pytest.approx(0.01, abs=0.002)
    # and a categorical one the categories then "other"
    assert categorical.histogram.labels == ("a", "b", "c", "d", "e", "other")
    assert categorical.histogram.baseline[0] == pytest.approx(0.4, abs=0.01)


def _format1_profile(columns: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The format-1 profile document the training job wrote before drift baselines (101 quantiles)."""
    documents: dict[str, dict[str, Any]] = {}
    for name in names:
        values = columns[name]
        if isinstance(values, np.ndarray):
            present = values[~np.isnan(values)]
            documents[name] = numeric_document(
                "float",
                count=present.size,
                nulls=int(values.size - present.size),
                low=float(present.min()),
                high=float(present.max()),
                mean=float(present.mean()),
                std=float(present.std(ddof=1)),
                quantiles=np.quantile(present, np.linspace(0, 1, 101), method="inverted_cdf").tolist(),
                exact=True,
            )
        else:
            counts = {level: values.count(level) for level in sorted(set(values))}
            documents[name] = frequency_document("category", count=len(values), nulls=0, counts=counts)
    return profile_document(len(columns[names[0]]), documents)


def test_a_coarse_baseline_is_marked_with_its_error_bound() -> None:
    # Given a version registered before drift baselines: only its format-1 profiles
    training = _draw(np.random.default_rng(4), 5_000)
    inputs = _format1_profile(training, NUMERIC + CATEGORICAL)
    predictions = _format1_profile(training, ["predicted_label"])
    coarse = coarse_baseline(inputs, predictions, sizes=(200, 1_000, 5_000), samples=10)

    # When a window is compared with it
    result: VersionResult = compare_version(
        _window(_draw(np.random.default_rng(8), 500), 500), coarse, CONFIG
    )

    # Then the result says the baseline is coarse, with its KS error bound
    assert result.coarse
    assert result.ks_error_bound == pytest.approx(0.01)
