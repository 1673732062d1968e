"""The typed configuration: a bad value fails the synth with a message naming the key and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def test_the_projects_own_configuration_is_valid(context: dict[str, Any]) -> None:
    platform = load_platform(context, PROJECT_ROOT)

    assert platform.config.project == "mlops"
    assert set(platform.contracts) == set(context["datasets"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"validation": {"memory_mb": 64}},
            r"mlops\.validation\.memory_mb: Input should be greater than or equal to 512",
        ),
        (
            {"validation": {"architecture": "sparc"}},
            r"mlops\.validation\.architecture: must be one of 'arm64' or 'x86_64'",
        ),
        ({"log_retention_days": 45}, r"mlops\.log_retention_days: must be one of 7, 14, 30"),
        ({"project": "My Project"}, r"mlops\.project: .*lowercase letters"),
        (
            {"alert_emails": ["not-an-email"]},
            r"mlops\.alert_emails: .*'not-an-email' is not an email address",
        ),
        ({"retention": 3}, r"mlops\.retention: unknown key; allowed keys: .*log_retention_days"),
        (
            {"validation": {"memroy_mb": 2048}},
            r"mlops\.validation\.memroy_mb: unknown key; allowed keys: .*memory_mb",
        ),
        ({"datasets": {}}, r"mlops\.datasets: .*at least 1 item"),
        (
            {"noncurrent_version_expiration_days": 10},
            r"expiration_days must be greater than .*transition_days",
        ),
        (
            {"training": {"managed_spot": True, "max_runtime_minutes": 60, "max_wait_minutes": 30}},
            r"mlops\.training: .*max_wait_minutes \(30\) must be at least max_runtime_minutes \(60\)",
        ),
        (
            {"training": {"max_wait_minutes": 120}},
            r"mlops\.training: .*managed spot training only: set managed_spot: true",
        ),
    ],
)
def test_a_bad_value_names_its_key_and_what_is_allowed(
    context: dict[str, Any], change: dict[str, Any], expected: str
) -> None:
    for key, value in change.items():
        context[key] = context[key] | value if isinstance(value, dict) and value and key in context else value

    with pytest.raises(ConfigError, match=expected):
        load_platform(context, PROJECT_ROOT)


def test_spot_training_waits_twice_the_runtime_unless_told(context: dict[str, Any]) -> None:
    context["training"] = {"managed_spot": True, "max_runtime_minutes": 45}
    assert load_platform(context, PROJECT_ROOT).config.training.spot_max_wait_minutes == 90

    context["training"]["max_wait_minutes"] = 50
    assert load_platform(context, PROJECT_ROOT).config.training.spot_max_wait_minutes == 50


def test_a_missing_context_says_where_to_look() -> None:
    with pytest.raises(ConfigError, match="no 'mlops' key"):
        load_platform(None, PROJECT_ROOT)


def test_a_contract_that_does_not_exist_is_named(context: dict[str, Any]) -> None:
    context["datasets"] = {"sales": {"contract": "contracts/sales.yaml"}}

    with pytest.raises(ConfigError, match=r"mlops\.datasets\.sales\.contract: .*sales\.yaml"):
        load_platform(context, PROJECT_ROOT)


def test_a_contract_whose_name_differs_from_its_key_is_refused(
    context: dict[str, Any], tmp_path: Path
) -> None:
    source = (PROJECT_ROOT / context["datasets"]["churn"]["contract"]).read_text()
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "churn.yaml").write_text(source)
    context["datasets"] = {"customers": {"contract": "contracts/churn.yaml"}}

    with pytest.raises(ConfigError, match="declares dataset 'churn'"):
        load_platform(context, tmp_path)


def test_an_invalid_contract_fails_the_configuration(context: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\ncolumns: []\n")
    context["datasets"] = {"broken": {"contract": "broken.yaml"}}

    with pytest.raises(ConfigError, match=r"mlops\.datasets\.broken\.contract: .*broken\.yaml"):
        load_platform(context, tmp_path)


@pytest.mark.parametrize(
    ("training", "expected"),
    [
        (
            {"model": {"family": "xgboost"}},
            r"datasets\.churn\.training\.model\.family: unknown model family 'xgboost'",
        ),
        (
            {"model": {"family": "random_forest", "hyperparameters": {"n_estimators": "300"}}},
            r"training\.model\.hyperparameters\.n_estimators: Input should be a valid integer",
        ),
        (
            {"model": {"family": "linear_regression"}},
            r"datasets\.churn\.training\.model\.family: linear_regression cannot do classification",
        ),
    ],
    ids=["unknown family", "hyperparameter of the wrong type", "family for another task"],
)
def test_a_bad_training_configuration_fails_the_synth_naming_the_key(
    context: dict[str, Any], training: dict[str, Any], expected: str
) -> None:
    context["datasets"]["churn"]["training"] = training

    with pytest.raises(ConfigError, match=expected):
        load_platform(context, PROJECT_ROOT)


def test_a_dataset_without_a_training_key_trains_with_the_defaults(context: dict[str, Any]) -> None:
    context["datasets"]["churn"].pop("training", None)

    training = load_platform(context, PROJECT_ROOT).training["churn"]

    assert training.model.family == "hist_gradient_boosting"
    assert training.task == "classification"
