"""A dataset's feedback key in cdk.json, and a contract whose labels could not be kept: errors at the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def test_the_lookback_defaults_to_30_days_and_is_read(context: dict[str, Any]) -> None:
    assert load_platform(context, PROJECT_ROOT).config.datasets["churn"].feedback.lookback_days == 30

    context["datasets"]["churn"]["feedback"] = {"lookback_days": 7}

    assert load_platform(context, PROJECT_ROOT).config.datasets["churn"].feedback.lookback_days == 7


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"lookback_days": 0},
            r"mlops\.datasets\.churn\.feedback\.lookback_days: .*greater than or equal to 1",
        ),
        (
            {"lookback": 7},
            r"mlops\.datasets\.churn\.feedback\.lookback: unknown key; allowed keys: lookback_days",
        ),
    ],
)
def test_a_bad_feedback_value_fails_the_synth_naming_the_key(
    context: dict[str, Any], value: dict[str, Any], expected: str
) -> None:
    context["datasets"]["churn"]["feedback"] = value

    with pytest.raises(ConfigError, match=expected):
        load_platform(context, PROJECT_ROOT)


def test_a_contract_column_named_like_a_labelled_rows_column_fails_the_synth(
    context: dict[str, Any], tmp_path: Path
) -> None:
    # Given the churn contract with a column renamed "prediction"
    contract = yaml.safe_load((PROJECT_ROOT / "contracts" / "churn.yaml").read_text())
    contract["columns"][0]["name"] = "prediction"
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(contract))
    context["datasets"]["churn"]["contract"] = str(tmp_path / "churn.yaml")

    # When / Then synth fails at the contract's key, naming the column and what to do
    with pytest.raises(ConfigError, match=r"mlops\.datasets\.churn\.contract: .*'prediction'.*rename it"):
        load_platform(context, PROJECT_ROOT)
