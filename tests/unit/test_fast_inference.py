"""The compiled predictor computes bitwise what the fitted Pipeline computes, for every family the
platform trains, and the Pipeline serves whenever that is not shown on the probe rows."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures

from tests.trained_model import churn_contract, churn_snapshot
from training.mlops_training.contract_io import feature_matrix, signature_from
from training.mlops_training.families import resolve_hyperparameters
from training.mlops_training.fast_inference import (
    FastPipeline,
    NotCompilableError,
    compile_pipeline,
    fast_predictor,
    probe_matrix,
    served_predictor,
)
from training.mlops_training.fast_inference import trees as tree_walk
from training.mlops_training.pipeline import build_pipeline
from training.mlops_training.profile import table_profile
from training.mlops_training.serving import ServingSpec

MODELS = [
    ("classification", "hist_gradient_boosting", "churned"),
    ("classification", "hist_gradient_boosting", "plan"),  # four classes: four trees per iteration
    ("classification", "random_forest", "churned"),
    ("classification", "logistic_regression", "churned"),
    ("regression", "hist_gradient_boosting", "monthly_charges"),
    ("regression", "random_forest", "monthly_charges"),
    ("regression", "linear_regression", "monthly_charges"),
]


class Fitted:
    """A Pipeline fitted as the training job fits it, with what serving knows of it."""

    def __init__(self, task: str, family: str, target: str) -> None:
        contract = json.loads(churn_contract().model_dump_json()) | {"target": target}
        self.signature = signature_from(contract, {"task": task})
        table = churn_snapshot(1_500, seed=3)
        matrix = feature_matrix(table, self.signature.features)
        labels = table.column(target).to_numpy(zero_copy_only=False)
        known = ~table.column(target).is_null().to_numpy(zero_copy_only=False)
        smaller = {"random_forest": {"n_estimators": 30}}.get(family, {})  # the tests' time, not the model's
        hyperparameters = resolve_hyperparameters(family, smaller, {})
        self.pipeline = build_pipeline(self.signature.features, task, family, hyperparameters, seed=0)
        self.pipeline.fit(matrix[known], labels[known])
        self.spec = ServingSpec.from_documents(self.signature.to_dict(), contract)
        inputs = [(f.name, f.type, f.categories) for f in self.signature.features]  # as the job profiles
        self.profile = table_profile(table, inputs)["columns"]
        self.task, self.family = task, family

    def requests(self, rows: int, seed: int) -> np.ndarray[Any, Any]:
        """Generated rows (not the training rows), with missing values and unseen categories mixed in."""
        matrix = feature_matrix(churn_snapshot(max(rows, 200), seed=seed), self.signature.features)[
            :rows
        ].copy()
        generator = np.random.default_rng(seed)
        for index, feature in enumerate(self.signature.features):
            holes = generator.random(rows) < 0.15
            if feature.type == "category":
                matrix[holes, index] = [
                    math.nan if u < 0.5 else "unseen" for u in generator.random(int(holes.sum()))
                ]
            else:
                matrix[holes, index] = math.nan
        return matrix


@functools.cache
def fitted_model(task: str, family: str, target: str) -> Fitted:
    return Fitted(task, family, target)


@pytest.fixture(scope="module", params=MODELS, ids=["-".join(m) for m in MODELS])
def fitted(request: pytest.FixtureRequest) -> Fitted:
    return fitted_model(*request.param)


def test_the_compiled_predictor_answers_bitwise_what_the_pipeline_answers(fitted: Fitted) -> None:
    compiled = compile_pipeline(fitted.pipeline)
    for rows in (1, 7, 120):
        matrix = fitted.requests(rows, seed=rows)
        # what the final estimator gets is the same, to the bit
        expected = np.asarray(fitted.pipeline[:-1].transform(matrix), dtype=np.float64)
        np.testing.assert_array_equal(compiled.transform(matrix), expected, strict=True)
        if fitted.family == "random_forest":
            continue  # its own predict_proba adds trees on threads in the order they finish
        if fitted.task == "classification":
            np.testing.assert_array_equal(
                compiled.predict_proba(matrix), fitted.pipeline.predict_proba(matrix)
            )
            assert list(compiled.classes_) == list(fitted.pipeline.classes_)
        np.testing.assert_array_equal(compiled.predict(matrix), fitted.pipeline.predict(matrix), strict=True)


@pytest.mark.parametrize("model", [m for m in MODELS if m[1] == "hist_gradient_boosting"], ids="-".join)
@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_the_trees_sum_bitwise_as_scikit_learn_sums_them(
    model: tuple[str, str, str], chunk_rows: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted = fitted_model(*model)
    compiled = compile_pipeline(fitted.pipeline)
    matrix = fitted.requests(60, seed=9)
    if chunk_rows is not None:  # a large request goes through in chunks of rows
        trees = compiled.trees
        assert trees is not None
        row_bytes = trees._trees * (trees._features + 1) * 8
        monkeypatch.setattr(tree_walk, "REPEATED_BYTES", chunk_rows * row_bytes)

    raw = compiled.raw(matrix)

    expected = fitted.pipeline[-1]._raw_predict(fitted.pipeline[:-1].transform(matrix))
    assert raw.view(np.uint64).tolist() == np.asarray(expected).view(np.uint64).tolist()


def test_the_compiled_predictor_serves_every_family_the_platform_trains(fitted: Fitted) -> None:
    predictor, reason = fast_predictor(fitted.pipeline, probe_matrix(fitted.spec, fitted.profile))

    assert isinstance(predictor, FastPipeline)
    assert reason == "serving with the compiled predictor (bitwise equal on 256 probe rows)"


def test_probe_rows_hold_every_known_category_a_missing_and_an_unseen_one_and_the_quantiles() -> None:
    fitted = fitted_model("classification", "logistic_regression", "churned")
    probe = probe_matrix(fitted.spec, fitted.profile)

    names = list(fitted.spec.features)
    plans = set(probe[:, names.index("plan")].tolist()) - {math.nan}
    assert {p for p in plans if isinstance(p, str)} == {
        "basic",
        "standard",
        "premium",
        "enterprise",
        "\x00unseen category",
    }
    assert any(isinstance(v, float) and math.isnan(v) for v in probe[:, names.index("plan")])
    ages = probe[:, names.index("age")]
    assert set(fitted.profile["age"]["quantiles"]) <= set(ages.tolist())
    assert any(math.isnan(v) for v in ages) and max(ages) > fitted.profile["age"]["max"]


def test_a_step_it_does_not_know_leaves_the_pipeline_serving_and_says_which() -> None:
    fitted = fitted_model("classification", "logistic_regression", "churned")
    pipeline = Pipeline(
        [*fitted.pipeline.steps[:-1], ("square", PolynomialFeatures(2)), fitted.pipeline.steps[-1]]
    )
    with pytest.raises(NotCompilableError, match="a PolynomialFeatures step"):
        compile_pipeline(pipeline)

    predictor, reason = fast_predictor(pipeline, probe_matrix(fitted.spec, fitted.profile))

    assert predictor is pipeline
    assert reason == "serving with the scikit-learn Pipeline: a PolynomialFeatures step is not compiled"


def test_an_estimator_that_is_not_a_pipeline_serves_itself_and_the_log_says_so() -> None:
    # Given a fitted estimator that is not a Pipeline (a team's or an imported model need not be one)
    fitted = fitted_model("classification", "logistic_regression", "churned")
    probe = probe_matrix(fitted.spec, fitted.profile)
    estimator = fitted.pipeline[-1]

    # When the endpoint chooses what serves it
    predictor, reason = fast_predictor(estimator, probe)

    # Then it serves itself, and the log does not call it a Pipeline
    assert predictor is estimator
    assert reason == "serving with the LogisticRegression itself: only a Pipeline is compiled"


def test_a_compiled_step_that_computes_anything_else_leaves_the_pipeline_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fitted = fitted_model("classification", "hist_gradient_boosting", "churned")
    exact = tree_walk.Trees.raw

    def one_ulp_off(self: Any, x: Any, baseline: Any) -> Any:
        raw = exact(self, x, baseline)
        raw[-1, 0] = np.nextafter(raw[-1, 0], np.inf)  # one row's sum, in its last bit
        return raw

    monkeypatch.setattr(tree_walk.Trees, "raw", one_ulp_off)

    predictor, reason = fast_predictor(fitted.pipeline, probe_matrix(fitted.spec, fitted.profile))

    assert predictor is fitted.pipeline
    assert reason == "serving with the scikit-learn Pipeline: the compiled predictor differs on probe rows"


def test_the_served_predictor_reads_its_probe_from_the_archive_and_a_bad_profile_leaves_the_pipeline(
    tmp_path: Path,
) -> None:
    fitted = fitted_model("classification", "hist_gradient_boosting", "churned")
    profile = tmp_path / "baseline" / "inputs_profile.json"
    profile.parent.mkdir()
    profile.write_text(json.dumps({"format": 1, "columns": fitted.profile}))

    predictor, reason = served_predictor(fitted.pipeline, fitted.spec, tmp_path)
    assert isinstance(predictor, FastPipeline), reason

    profile.write_text("{not json")
    predictor, reason = served_predictor(fitted.pipeline, fitted.spec, tmp_path)
    assert predictor is fitted.pipeline
    assert reason.startswith("serving with the scikit-learn Pipeline: no probe rows (JSONDecodeError(")


def test_a_timestamp_column_is_probed_at_its_quantiles_in_epoch_seconds() -> None:
    contract = {
        "name": "visits",
        "target": "bought",
        "columns": [
            {"name": "seen", "type": "timestamp"},
            {"name": "bought", "type": "boolean"},
        ],
    }
    signature = {"task": "classification", "target": {}, "features": [{"name": "seen", "type": "timestamp"}]}
    spec = ServingSpec.from_documents(signature, contract)
    quantiles = ["2026-01-01T00:00:00Z", "2026-06-01T12:00:00Z"]

    probe = probe_matrix(spec, {"seen": {"type": "timestamp", "quantiles": quantiles}})

    seen = set(probe[:, 0].tolist())
    assert {1767225600.0, 1780315200.0} <= seen
