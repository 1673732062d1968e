"""The example team model (``examples/team_models/churn_xgboost.py``): built by the platform's builder call,
it learns churn from the feature matrix with any spelling of the target's labels, and the compiled predictor
serves it as the Pipeline, naming the step it does not know."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from tests.import_isolation import isolated_imports
from tests.trained_model import churn_contract, churn_snapshot
from training.mlops_training.contract_io import Signature, feature_matrix, signature_from, target_vector
from training.mlops_training.fast_inference import fast_predictor
from training.mlops_training.team import ModelContract, TeamModule, build, import_builder

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = TeamModule("examples/team_models/churn_xgboost.py", "build")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated_imports(monkeypatch):
        yield


def churn_data(rows: int = 600) -> tuple[Signature, Any, Any]:
    contract = json.loads(churn_contract().model_dump_json())
    signature = signature_from(contract, {"task": "classification"})
    table = churn_snapshot(rows)
    return (
        signature,
        feature_matrix(table, signature.features),
        target_vector(table, signature.target, "classification", "x"),
    )


def test_the_example_builds_an_unfitted_pipeline_that_learns_churn_from_the_feature_matrix() -> None:
    signature, features, y = churn_data()
    builder = import_builder(EXAMPLE, ROOT / "examples")

    pipeline = build(builder, EXAMPLE, ModelContract.from_signature(signature, 3), {"n_estimators": 30})

    with pytest.raises(NotFittedError):
        check_is_fitted(pipeline)
    assert clone(pipeline).get_params()["model__classifier__n_estimators"] == 30
    assert pipeline.get_params()["model__classifier__random_state"] == 3
    pipeline.fit(features[:450], y[:450])
    probabilities = pipeline.predict_proba(features[450:])
    assert pipeline.classes_.tolist() == [0, 1]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert len(set(pipeline.predict(features[450:]).tolist())) == 2  # it learnt something of both classes


def test_the_compiled_predictor_falls_back_to_the_example_pipeline_naming_the_step_it_does_not_know() -> None:
    signature, features, y = churn_data(300)
    builder = import_builder(EXAMPLE, ROOT / "examples")
    pipeline = build(builder, EXAMPLE, ModelContract.from_signature(signature, 0), {"n_estimators": 10})
    pipeline.fit(features, y)

    served, reason = fast_predictor(pipeline, features[:20])

    assert served is pipeline
    assert reason == "serving with the scikit-learn Pipeline: a ChurnFeatures step is not compiled"


def test_the_example_classifier_learns_any_target_labels_and_answers_with_them() -> None:
    # Given churn rows whose target is spelt "stayed"/"left" (XGBoost itself takes only 0..n-1)
    signature, features, y = churn_data()
    labels = np.where(y == 1, "left", "stayed").astype(object)
    builder = import_builder(EXAMPLE, ROOT / "examples")
    pipeline = build(builder, EXAMPLE, ModelContract.from_signature(signature, 3), {"n_estimators": 30})

    # When it is fit on them
    pipeline.fit(features[:450], labels[:450])

    # Then its classes are the target's labels, predict answers with them, and predict_proba's columns
    # follow classes_: the same model as on 0/1 ("left" is 1 there, 0 here: equal up to float32 rounding)
    assert pipeline.classes_.tolist() == ["left", "stayed"]
    predicted = pipeline.predict(features[450:])
    assert set(predicted.tolist()) == {"left", "stayed"}
    probabilities = pipeline.predict_proba(features[450:])
    np.testing.assert_array_equal(predicted, pipeline.classes_[probabilities.argmax(axis=1)])
    numeric = build(builder, EXAMPLE, ModelContract.from_signature(signature, 3), {"n_estimators": 30})
    numeric.fit(features[:450], y[:450])
    np.testing.assert_allclose(probabilities[:, 0], numeric.predict_proba(features[450:])[:, 1], atol=1e-6)
