"""A dataset's retraining key in cdk.json: read under each dataset at synth, its errors at the key.

The policy's own rules are tested with it (``domain/retraining/config.py``); here, that synth reads it,
that a dataset without it is retrained under the defaults, and that a bad value fails the synth naming
``mlops.datasets.<name>.retraining.<key>``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domain.retraining.config import RetrainingConfig
from stacks.app import PROJECT_ROOT, cdk_json_context
from stacks.config import ConfigError, load_platform


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def test_a_dataset_without_a_retraining_key_is_retrained_under_the_defaults(context: dict[str, Any]) -> None:
    context["datasets"]["churn"].pop("retraining", None)

    retraining = load_platform(context, PROJECT_ROOT).config.datasets["churn"].retraining

    assert retraining == RetrainingConfig()
    assert (retraining.max_concurrent_runs, retraining.schedule) == (1, None)


def test_the_retraining_key_is_read_under_the_dataset(context: dict[str, Any]) -> None:
    context["datasets"]["churn"]["retraining"] = {"schedule": "rate(7 days)", "max_runs_per_day": 2}

    retraining = load_platform(context, PROJECT_ROOT).config.datasets["churn"].retraining

    assert (retraining.schedule, retraining.max_runs_per_day) == ("rate(7 days)", 2)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"schedule": "rate(1 fortnight)"}, "retraining.schedule"),
        ({"max_concurrent_runs": 0}, "retraining.max_concurrent_runs"),
        ({"cooldown": 60}, "retraining.cooldown"),
    ],
)
def test_a_bad_retraining_value_fails_the_synth_naming_its_key(
    context: dict[str, Any], value: dict[str, Any], key: str
) -> None:
    context["datasets"]["churn"]["retraining"] = value

    with pytest.raises(ConfigError, match=rf"cdk\.json: mlops\.datasets\.churn\.{key}: "):
        load_platform(context, PROJECT_ROOT)
