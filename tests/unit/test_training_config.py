"""The training configuration: defaults resolved from the contract, and a clear message for every mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.data.contract import DatasetContract, load_contract, parse_contract
from domain.training.config import TrainingConfigError, feature_columns, infer_task, parse_training_config
from domain.training.model_config import HistGradientBoostingParams

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "cdk.json: mlops.datasets.churn.training"


@pytest.fixture(scope="module")
def churn() -> DatasetContract:
    return load_contract(ROOT / "contracts" / "churn.yaml")


def small(target_type: str = "float", **target: Any) -> DatasetContract:
    """A contract with an id, one column of each feature type, a note and a target of the given type."""
    return parse_contract(
        {
            "name": "small",
            "target": "y",
            "columns": [
                {"name": "id", "type": "string"},
                {"name": "x", "type": "float"},
                {"name": "n", "type": "integer"},
                {"name": "flag", "type": "boolean"},
                {"name": "when", "type": "timestamp"},
                {"name": "kind", "type": "category", "categories": ["a", "b"]},
                {"name": "y", "type": target_type, **target},
            ],
        }
    )


def error_of(data: Any, contract: DatasetContract) -> str:
    with pytest.raises(TrainingConfigError) as caught:
        parse_training_config(data, contract=contract, source=SOURCE)
    return str(caught.value)


def test_an_empty_configuration_resolves_every_default_from_the_contract(churn: DatasetContract) -> None:
    config = parse_training_config({}, contract=churn, source=SOURCE)

    assert config.task == "classification"  # churned: integer 0..1
    assert config.model.family == "hist_gradient_boosting"
    assert config.model.hyperparameters == HistGradientBoostingParams()
    assert config.gate.champion.metric == "roc_auc"
    assert config.evaluation.bootstrap_samples == 200


def test_the_resolved_configuration_round_trips_through_json(churn: DatasetContract) -> None:
    data = {
        "model": {"family": "random_forest", "hyperparameters": {"n_estimators": 50, "max_features": 0.5}},
        "gate": {"thresholds": {"roc_auc": {"min": 0.7}}, "champion": {"mode": "better", "margin": 0.01}},
    }
    config = parse_training_config(data, contract=churn)

    again = parse_training_config(config.model_dump(mode="json"), contract=churn)

    assert again == config
    assert again.model.hyperparameters.n_estimators == 50  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"model": {"family": "xgboost"}},
            f"{SOURCE}.model.family: unknown model family 'xgboost'; use one of hist_gradient_boosting,",
        ),
        ({"model": {}}, f"{SOURCE}.model.family: missing; use one of hist_gradient_boosting,"),
        (
            {"model": {"family": "random_forest", "hyperparameters": {"max_features": "all"}}},
            f"{SOURCE}.model.hyperparameters.max_features: must be a fraction in (0, 1], 'sqrt', 'log2' or "
            "null; got 'all'",
        ),
        (
            {"model": {"family": "hist_gradient_boosting", "hyperparameters": {"learning_rate": "0.1"}}},
            f"{SOURCE}.model.hyperparameters.learning_rate: Input should be a valid number",
        ),
        (
            {"model": {"family": "random_forest", "hyperparameters": {"n_estimators": 10.5}}},
            f"{SOURCE}.model.hyperparameters.n_estimators: Input should be a valid integer",
        ),
        (
            {"model": {"family": "random_forest", "hyperparameters": {"bootstrap": "yes"}}},
            f"{SOURCE}.model.hyperparameters.bootstrap: Input should be a valid boolean",
        ),
        (
            {"model": {"family": "hist_gradient_boosting", "hyperparameters": {"lr": 0.1}}},
            f"{SOURCE}.model.hyperparameters.lr: unknown hyperparameter for hist_gradient_boosting; "
            "allowed: learning_rate, max_iter,",
        ),
        (
            {"model": {"family": "hist_gradient_boosting", "hyperparameters": {"learning_rate": 1.5}}},
            f"{SOURCE}.model.hyperparameters.learning_rate: Input should be less than or equal to 1",
        ),
        (
            {"model": {"family": "linear_regression"}},
            f"{SOURCE}.model.family: linear_regression cannot do classification; families for "
            "classification: hist_gradient_boosting, logistic_regression, random_forest",
        ),
        ({"modle": {}}, f"{SOURCE}.modle: unknown key"),
        (
            {"gate": {"thresholds": {"rmse": {"max": 3}}}},
            f"{SOURCE}.gate.thresholds.rmse: unknown classification metric 'rmse'; "
            "use one of accuracy, f1, roc_auc, log_loss",
        ),
        ({"gate": {"champion": {"metric": "r2"}}}, f"{SOURCE}.gate.champion.metric: unknown classification"),
        (
            {"gate": {"champion": {"mode": "best"}}},
            f"{SOURCE}.gate.champion.mode: must be one of 'not_worse'",
        ),
        ({"gate": {"thresholds": {"f1": {}}}}, f"{SOURCE}.gate.thresholds.f1: give min, max or both"),
        ({"gate": {"thresholds": {"f1": {"min": 0.9, "max": 0.1}}}}, "min (0.9) is greater than max (0.1)"),
        (
            {"split": {"validation_fraction": 0.5, "test_fraction": 0.45}},
            f"{SOURCE}.split: validation_fraction + test_fraction must leave at least 10% for training",
        ),
        ({"split": {"key_column": "customer"}}, f"{SOURCE}.split.key_column: 'customer' must be a declared"),
        ({"split": {"key_column": "churned"}}, "must be a declared column other than the target"),
        (
            {"exclude_columns": ["age", "nope"]},
            f"{SOURCE}.exclude_columns.1: 'nope' is not a declared column",
        ),
        ({"positive_class": "yes"}, f"{SOURCE}.positive_class: the target is an integer column; got 'yes'"),
        (
            {"evaluation": {"bootstrap_samples": 5}},
            f"{SOURCE}.evaluation.bootstrap_samples: Input should be",
        ),
        ([], f"{SOURCE}: must be a mapping, got list"),
    ],
)
def test_a_mistake_is_reported_with_its_key_and_what_is_allowed(
    churn: DatasetContract, data: Any, expected: str
) -> None:
    message = error_of(data, churn)

    assert message.startswith(expected) or (not expected.startswith(SOURCE) and expected in message)


def test_every_problem_gets_its_own_line(churn: DatasetContract) -> None:
    data = {"model": {"family": "random_forest", "hyperparameters": {"n_estimators": "many", "depth": 3}}}

    lines = error_of(data, churn).splitlines()

    assert len(lines) == 2
    assert lines[0].startswith(f"{SOURCE}.model.hyperparameters.n_estimators:")
    assert lines[1].startswith(
        f"{SOURCE}.model.hyperparameters.depth: unknown hyperparameter for random_forest"
    )


def test_an_integer_is_accepted_where_a_number_is_expected(churn: DatasetContract) -> None:
    data = {"model": {"family": "logistic_regression", "hyperparameters": {"C": 2}}}

    config = parse_training_config(data, contract=churn)

    assert config.model.hyperparameters.C == 2.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("target", "task"),
    [
        ({"target_type": "float"}, "regression"),
        ({"target_type": "boolean"}, "classification"),
        ({"target_type": "category", "categories": ["no", "yes"]}, "classification"),
        ({"target_type": "integer", "min": 1, "max": 5}, "classification"),
        ({"target_type": "integer", "min": 0, "max": 1000}, "regression"),
        ({"target_type": "integer"}, "regression"),
        ({"target_type": "timestamp"}, None),
    ],
)
def test_the_task_is_inferred_from_the_target_column(target: dict[str, Any], task: str | None) -> None:
    contract = small(**target)

    assert infer_task(contract.column("y")) == task


def test_a_target_that_cannot_be_learnt_fails_with_its_type() -> None:
    assert "target 'y' is a timestamp column, which cannot be learnt" in error_of({}, small("timestamp"))


@pytest.mark.parametrize(
    ("data", "contract_target", "expected"),
    [
        (
            {"task": "regression"},
            {"target_type": "boolean"},
            "regression needs a numeric target; 'y' is boolean",
        ),
        ({"task": "classification"}, {"target_type": "float"}, "classification needs class labels"),
        (
            {"task": "regression", "model": {"family": "logistic_regression"}},
            {"target_type": "float"},
            "model.family: logistic_regression cannot do regression",
        ),
        (
            {"model": {"family": "random_forest", "hyperparameters": {"class_weight": "balanced"}}},
            {"target_type": "float"},
            "model.hyperparameters.class_weight: class_weight is for classification only",
        ),
        ({"positive_class": "maybe"}, {"target_type": "category", "categories": ["no", "yes"]}, "not one of"),
        (
            {"positive_class": 1},
            {"target_type": "float"},
            "positive_class: positive_class is for classification",
        ),
    ],
)
def test_the_task_must_suit_the_target_and_the_family(
    data: dict[str, Any], contract_target: dict[str, Any], expected: str
) -> None:
    assert expected in error_of(data, small(**contract_target))


def test_regression_metrics_are_the_default_for_a_numeric_target() -> None:
    config = parse_training_config({"gate": {"thresholds": {"r2": {"min": 0.5}}}}, contract=small())

    assert (config.task, config.gate.champion.metric) == ("regression", "rmse")


def test_features_leave_out_the_target_the_key_excluded_and_string_columns() -> None:
    contract = small()
    config = parse_training_config(
        {"split": {"key_column": "n"}, "exclude_columns": ["flag"]}, contract=contract
    )

    assert [c.name for c in feature_columns(contract, config)] == ["x", "when", "kind"]


def test_excluding_every_feature_is_an_error() -> None:
    data = {"exclude_columns": ["x", "n", "flag", "when", "kind"]}

    assert "exclude_columns: no feature columns are left to learn from" in error_of(data, small())


def test_the_split_fingerprint_names_the_split_and_nothing_else(churn: DatasetContract) -> None:
    base = parse_training_config({}, contract=churn).split.fingerprint
    other_model = parse_training_config({"model": {"family": "random_forest"}}, contract=churn)
    reseeded = parse_training_config({"split": {"seed": 1}}, contract=churn)

    assert len(base) == 16
    assert other_model.split.fingerprint == base
    assert reseeded.split.fingerprint != base
