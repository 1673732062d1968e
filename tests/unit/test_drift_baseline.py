"""The drift baseline: built from training columns, stored as JSON and read back, and upgraded from the
format-1 profiles of versions trained before it existed."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from spec.drift import ProfileFormatError
from spec.drift.baseline import (
    COARSE_KS_ERROR_BOUND,
    DriftBaseline,
    FeatureBaseline,
    build_baseline,
    coarse_baseline,
)
from spec.drift.categorical import CategoricalProfile
from spec.drift.numeric import NumericProfile, ks_statistic
from spec.drift.scores import STATISTICS, scores
from training.mlops_training.profile import frequency_profile, numeric_profile, table_profile

SIZES = (200, 1_000, 5_000)
ROWS = 20_000


def _columns(rng: np.random.Generator, rows: int = ROWS) -> dict[str, Any]:
    amount = rng.gamma(2.0, 50.0, rows)
    amount[rng.random(rows) < 0.02] = np.nan
    plan = rng.choice(np.array(["basic", "pro", "team"], dtype=object), rows, p=[0.6, 0.3, 0.1])
    return {"amount": ("numeric", amount), "plan": ("categorical", plan.tolist())}


def _predictions(rng: np.random.Generator) -> dict[str, Any]:
    labels = np.where(rng.random(4_000) < 0.25, "yes", "no").tolist()
    return {"predicted_label": ("categorical", labels)}


@pytest.fixture(scope="module")
def baseline() -> DriftBaseline:
    rng = np.random.default_rng(5)
    return build_baseline(_columns(rng), _predictions(rng), sizes=SIZES, samples=12, seed=3)


def test_a_built_baseline_profiles_and_calibrates_every_column(baseline: DriftBaseline) -> None:
    # Given a baseline built from a numeric and a categorical feature and the predicted labels
    # Then each column has its profile and a band per statistic of its kind and per size
    assert [f.name for f in baseline.features] == ["amount", "plan"]
    assert baseline.rows == ROWS and not baseline.coarse
    amount, plan, label = (
        baseline.feature("amount"),
        baseline.feature("plan"),
        baseline.feature("predicted_label"),
    )
    assert isinstance(amount.profile, NumericProfile) and amount.kind == "numeric"
    assert isinstance(plan.profile, CategoricalProfile) and plan.kind == "categorical"
    for column in (amount, plan, label):
        assert tuple(column.bands) == STATISTICS[column.kind]
        assert all([b.size for b in bands] == list(SIZES) for bands in column.bands.values())
    # And the KS error bound is the profile's rank resolution plus one value of the smallest column
    assert baseline.ks_error_bound == pytest.approx(0.001 + 1 / amount.profile.count)
    # And the predictions' threshold is widened for their own (test) rows, not the training rows
    assert label.rows == 4_000 and amount.rows == ROWS
    assert label.threshold("jensen_shannon", 1_000, 0.01) > 0


def test_an_unknown_column_is_named_with_the_known_ones(baseline: DriftBaseline) -> None:
    with pytest.raises(KeyError, match="no column 'age'; it has amount, plan, predicted_label"):
        baseline.feature("age")


def test_a_baseline_reads_back_equal_from_its_json(baseline: DriftBaseline) -> None:
    # Given a built baseline
    # When it is written as JSON and read back
    text = baseline.to_json()
    back = DriftBaseline.from_json(text)
    # Then it is the same baseline, and the JSON is standard (no NaN)
    assert back == baseline
    assert "NaN" not in text
    # And the window scores and thresholds computed from either agree
    window = np.random.default_rng(1).gamma(2.0, 60.0, 800)
    assert scores(back.feature("amount").profile, window) == scores(
        baseline.feature("amount").profile, window
    )


def test_a_baseline_written_before_bands_had_a_log_skew_is_read_with_a_lognormal_tail(
    baseline: DriftBaseline,
) -> None:
    # Given a baseline's JSON whose bands have no log_skew (format 1 as first written)
    document = json.loads(baseline.to_json())
    for entry in (*document["features"], *document["predictions"]):
        for bands in entry["bands"].values():
            for band in bands:
                del band["log_skew"]
    # When it is read
    old = DriftBaseline.from_json(json.dumps(document))
    # Then its bands are the same but for a log-skewness of 0, and it gives thresholds
    amount = old.feature("amount")
    assert all(band.log_skew == 0.0 for band in amount.bands["wasserstein"])
    assert [(b.mean, b.std) for b in amount.bands["wasserstein"]] == [
        (b.mean, b.std) for b in baseline.feature("amount").bands["wasserstein"]
    ]
    assert amount.threshold("wasserstein", 500, 0.001) > 0


def test_an_undefined_band_is_stored_as_null_and_read_back_as_nan() -> None:
    # Given a feature that was always missing
    built = build_baseline({"empty": ("numeric", np.full(300, np.nan))}, {}, sizes=(200,), samples=3)
    # When it goes through JSON
    text = built.to_json()
    back = DriftBaseline.from_json(text)
    # Then its undefined bands are null in the JSON and nan again once read
    assert json.loads(text)["features"][0]["bands"]["wasserstein"][0]["mean"] is None
    assert math.isnan(back.feature("empty").bands["wasserstein"][0].mean)


def test_the_same_seed_gives_the_same_baseline_and_adding_a_feature_leaves_the_others_alone() -> None:
    # Given the same columns
    rng = np.random.default_rng(2)
    columns = _columns(rng, 3_000)
    # When built twice with one seed, and once more with an extra feature
    first = build_baseline(columns, {}, sizes=(200, 500), samples=5, seed=9)
    again = build_baseline(columns, {}, sizes=(200, 500), samples=5, seed=9)
    extra = build_baseline(
        {**columns, "age": ("numeric", rng.normal(40, 9, 3_000))}, {}, sizes=(200, 500), samples=5, seed=9
    )
    # Then the baselines are equal, and the extra feature did not change the others' bands
    assert first.to_json() == again.to_json()
    assert extra.feature("amount").bands == first.feature("amount").bands


def test_infinities_are_missing_values_of_the_baseline() -> None:
    built = build_baseline(
        {"x": ("numeric", np.array([1.0, np.inf, 2.0, -np.inf]))}, {}, sizes=(200,), samples=2
    )
    profile = built.feature("x").profile
    assert isinstance(profile, NumericProfile)
    assert (profile.count, profile.missing) == (2, 2)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ({"a": ("numeric", [1.0, 2.0]), "b": ("numeric", [1.0])}, "one length"),
        ({"a": ("categorical", ["x", 3])}, "categorical values must be str or None"),
        ({"a": ("ordinal", ["x"])}, "neither 'numeric' nor 'categorical'"),
    ],
)
def test_bad_columns_are_refused_with_the_column_named(features: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_baseline(features, {}, sizes=(200,), samples=2)


def _document(baseline: DriftBaseline) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(baseline.to_json())
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="numeric-profile"), "not a drift-baseline document"),
        (lambda d: d.update(format_version=2), "format_version 2; this code reads 1"),
        (lambda d: d.pop("rows"), "missing or broken field 'rows'"),
        (lambda d: d.update(features={}), "must be lists"),
        (lambda d: d["features"][1].update(kind="text"), r"features\[1\] \('plan'\): kind 'text'"),
        (
            lambda d: d["features"][0]["bands"].pop("ks"),
            r"features\[0\] \('amount'\): missing or broken field 'ks'",
        ),
        (
            lambda d: d["features"][0]["profile"].update(format_version=9),
            r"\('amount'\): expected numeric-profile",
        ),
        (lambda d: d["predictions"][0]["bands"].update(unseen_share=[]), "no calibrated band"),
    ],
)
def test_a_broken_baseline_document_is_refused_naming_what_is_wrong(
    baseline: DriftBaseline, change: Any, message: str
) -> None:
    # Given a stored baseline with one thing wrong
    document = _document(baseline)
    change(document)
    # Then reading it says what and where
    with pytest.raises(ProfileFormatError, match=message):
        DriftBaseline.from_json(json.dumps(document))


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(ProfileFormatError, match="must be JSON"):
        DriftBaseline.from_json("{broken")


def _old_profiles(
    rng: np.random.Generator, rows: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Format-1 profiles as versions trained before the drift baseline wrote them, and their raw data."""
    signed_up = rng.integers(1_600_000_000, 1_700_000_000, rows) * 1_000_000
    data = {
        "amount": rng.lognormal(3.0, 0.8, rows),
        "visits": rng.poisson(4.0, rows),
        "signed_up": signed_up,
        "plan": rng.choice(["basic", "pro"], rows, p=[0.7, 0.3]),
        "active": rng.random(rows) < 0.4,
    }
    table = pa.table(
        {
            "amount": pa.array(data["amount"]),
            "visits": pa.array(data["visits"]),
            "signed_up": pa.array(signed_up, type=pa.timestamp("us", tz="UTC")),
            "plan": pa.array(data["plan"]),
            "active": pa.array(data["active"]),
        }
    )
    columns = [
        ("amount", "float", ()),
        ("visits", "integer", ()),
        ("signed_up", "timestamp", ()),
        ("plan", "category", ("basic", "pro", "team")),
        ("active", "boolean", ()),
    ]
    inputs = table_profile(table, columns)
    labels = rng.choice(["no", "yes"], 2_000, p=[0.8, 0.2]).tolist()
    predictions = {
        "format": 1,
        "rows": 2_000,
        "columns": {
            "predicted_label": frequency_profile(labels, 0, "category", ("no", "yes")),
            "probability": numeric_profile(rng.random(2_000), 0, "float"),
        },
    }
    return inputs, predictions, data


def test_an_old_versions_profiles_are_upgraded_to_a_coarse_calibrated_baseline() -> None:
    # Given the format-1 profiles of a version trained before drift baselines
    rng = np.random.default_rng(11)
    inputs, predictions, data = _old_profiles(rng, 30_000)
    # When they are upgraded
    upgraded = coarse_baseline(inputs, predictions, sizes=SIZES, samples=12)
    # Then the baseline says it is coarse, with the 101 quantiles' rank resolution as its KS error bound
    assert upgraded.coarse and upgraded.ks_error_bound == COARSE_KS_ERROR_BOUND == 0.01
    assert upgraded.rows == 30_000
    assert [f.name for f in upgraded.features] == ["amount", "visits", "signed_up", "plan", "active"]
    # And only the predicted label of the predictions is watched, as a categorical column
    assert [(p.name, p.kind) for p in upgraded.predictions] == [("predicted_label", "categorical")]
    # And every column is calibrated: finite thresholds at every size
    for column in (*upgraded.features, *upgraded.predictions):
        primary = column.threshold(STATISTICS[column.kind][0], 1_000, 0.001)
        assert math.isfinite(primary) and primary > 0
    # And KS from the coarse profile is within its error bound of the exact statistic on the raw data
    window = rng.lognormal(3.1, 0.8, 2_000)
    amount = upgraded.feature("amount").profile
    assert isinstance(amount, NumericProfile)
    exact = stats.ks_2samp(data["amount"], window).statistic
    assert ks_statistic(amount, window) == pytest.approx(exact, abs=COARSE_KS_ERROR_BOUND + 0.002)
    # And timestamps are in epoch seconds, as the monitor reads them
    signed_up = upgraded.feature("signed_up").profile
    assert isinstance(signed_up, NumericProfile) and signed_up.minimum is not None
    assert signed_up.minimum == pytest.approx(data["signed_up"].min() / 1e6, abs=1.0)
    assert datetime.fromtimestamp(signed_up.minimum, UTC).year >= 2020
    # And categories keep their shares; a declared category never seen is not among them
    plan = upgraded.feature("plan").profile
    assert isinstance(plan, CategoricalProfile)
    assert set(plan.categories) == {"basic", "pro"}
    assert dict(zip(plan.categories, plan.shares, strict=True))["pro"] == pytest.approx(
        (data["plan"] == "pro").mean()
    )
    active = upgraded.feature("active").profile
    assert isinstance(active, CategoricalProfile) and set(active.categories) == {"true", "false"}


def test_an_upgraded_baseline_flags_a_shift_and_not_a_window_of_the_same_data() -> None:
    # Given an upgraded old baseline
    rng = np.random.default_rng(12)
    inputs, predictions, _ = _old_profiles(rng, 30_000)
    upgraded = coarse_baseline(inputs, predictions, sizes=SIZES, samples=20)
    amount = upgraded.feature("amount")
    # When a window from the training distribution and a shifted one are scored
    same = scores(amount.profile, rng.lognormal(3.0, 0.8, 1_000))["wasserstein"]
    shifted = scores(amount.profile, rng.lognormal(3.4, 0.8, 1_000))["wasserstein"]
    bound = amount.threshold("wasserstein", 1_000, 0.001)
    # Then only the shifted one leaves the band
    assert same < bound < shifted


def test_a_string_columns_pooled_values_make_a_truncated_profile() -> None:
    # Given an old string column with more distinct values than the profile lists
    column = {
        "type": "string",
        "count": 10,
        "nulls": 2,
        "distinct": 5,
        "distinct_exact": True,
        "frequencies": {"a": 5, "b": 2},
        "other_count": 3,
    }
    inputs = {"format": 1, "rows": 12, "columns": {"note": column}}
    # When it is upgraded
    upgraded = coarse_baseline(inputs, {"format": 1, "rows": 0, "columns": {}}, sizes=(200,), samples=3)
    profile = upgraded.feature("note").profile
    # Then the pooled values are an "other" share of a truncated profile, and the missing values are counted
    assert isinstance(profile, CategoricalProfile)
    assert profile.truncated and profile.pooled_categories == 3
    assert profile.other_share == pytest.approx(0.3) and profile.missing == 2 and profile.count == 12


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"format": 2, "columns": {}}, "inputs profile is not a format-1 profile"),
        ({"format": 1}, "inputs profile has no 'columns'"),
        ({"format": 1, "columns": {"x": {"type": "blob"}}}, "column 'x' has an unknown type 'blob'"),
        ({"format": 1, "columns": {"x": {"type": "float", "count": 3}}}, "column 'x' is broken"),
        ({"format": 1, "rows": "many", "columns": {}}, "'rows' is 'many', not a count of rows"),
    ],
)
def test_broken_old_profiles_are_refused_naming_the_column(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileFormatError, match=message):
        coarse_baseline(inputs, {"format": 1, "columns": {}}, sizes=(200,), samples=2)


def test_a_feature_baseline_is_a_frozen_value() -> None:
    column = FeatureBaseline("x", "numeric", NumericProfile.from_values([1.0]), {})
    with pytest.raises(AttributeError):
        column.name = "y"  # type: ignore[misc]
