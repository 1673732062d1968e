"""``monitoring.performance``: defaults from the training gate, and errors that name the key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from domain.data.contract import load_contract
from domain.monitoring.config import MonitoringConfigError, parse_monitoring_config
from domain.monitoring.performance_config import (
    PerformanceConfig,
    PerformanceConfigError,
    PerformanceSettings,
    resolve_performance,
)
from domain.training.config import TrainingConfig, parse_training_config
from stacks.config import ConfigError, load_platform

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "cdk.json: mlops.datasets.churn.monitoring"


def _training(gate: dict[str, Any], task: str | None = None) -> TrainingConfig:
    contract = load_contract(ROOT / "contracts" / "churn.yaml")
    raw: dict[str, Any] = {"gate": gate}
    if task == "regression":
        # churn's target is a 0/1 integer: a regressor may learn it too
        raw |= {"task": "regression"}
    return parse_training_config(raw, contract=contract)


def _resolved(
    performance: dict[str, Any], gate: dict[str, Any], task: str | None = None
) -> PerformanceSettings:
    config = parse_monitoring_config({"performance": performance}).performance
    return resolve_performance(config, _training(gate, task))


def test_the_default_is_the_gate_s_first_threshold_with_its_bound() -> None:
    # Given a gate on accuracy and then on ROC AUC
    gate = {"thresholds": {"accuracy": {"min": 0.8}, "roc_auc": {"min": 0.65}}}

    # When the performance key is left out
    settings = _resolved({}, gate)

    # Then accuracy is watched, its floor the gate's min, enabled, 200 labels per version at least
    assert settings == PerformanceSettings(
        enabled=True, metric="accuracy", floor=0.8, higher_is_better=True, min_labels=200
    )


def test_a_lower_is_better_threshold_gives_its_max_as_the_floor() -> None:
    settings = _resolved({}, {"thresholds": {"rmse": {"max": 0.4}, "r2": {"min": 0.1}}}, task="regression")

    assert (settings.metric, settings.floor, settings.higher_is_better, settings.enabled) == (
        "rmse",
        0.4,
        False,
        True,
    )


def test_churn_s_gate_on_roc_auc_is_watched_by_default_against_its_min() -> None:
    # Given churn's gate as cdk.json has it: ROC AUC, min 0.65 (scored from the captured probabilities)
    settings = _resolved({}, {"thresholds": {"roc_auc": {"min": 0.65}}})

    # Then the alarm watches ROC AUC against 0.65
    assert (settings.metric, settings.floor, settings.enabled) == ("roc_auc", 0.65, True)


def test_without_a_gate_threshold_accuracy_is_watched_only_with_a_floor() -> None:
    settings = _resolved({}, {})

    assert (settings.metric, settings.floor, settings.enabled) == ("accuracy", None, False)


def test_what_is_configured_wins_over_the_gate() -> None:
    gate = {"thresholds": {"accuracy": {"min": 0.8}}}

    settings = _resolved({"metric": "roc_auc", "floor": 0.7, "min_labels": 50}, gate)
    disabled = _resolved({"enabled": False}, gate)
    floor_only = _resolved({"floor": 0.75}, gate)

    assert (settings.metric, settings.floor, settings.min_labels, settings.enabled) == (
        "roc_auc",
        0.7,
        50,
        True,
    )
    assert (disabled.metric, disabled.floor, disabled.enabled) == ("accuracy", 0.8, False)
    assert (floor_only.metric, floor_only.floor) == ("accuracy", 0.75)


@pytest.mark.parametrize(
    ("performance", "gate", "task", "key", "message"),
    [
        ({"metric": "rmse"}, {}, None, "metric", "'rmse' is not a classification metric"),
        ({"metric": "accuracy"}, {}, "regression", "metric", "'accuracy' is not a regression metric"),
        ({"enabled": True, "metric": "accuracy"}, {"thresholds": {"roc_auc": {"min": 0.6}}}, None, "floor",
         "the performance alarm needs a floor for accuracy, and the gate has no min threshold for it"),
        ({"enabled": True, "metric": "log_loss"}, {}, None, "floor", "no max threshold for it"),
    ],
)  # fmt: skip
def test_what_the_training_cannot_support_is_refused_naming_the_key(
    performance: dict[str, Any], gate: dict[str, Any], task: str | None, key: str, message: str
) -> None:
    with pytest.raises(PerformanceConfigError) as caught:
        _resolved(performance, gate, task)

    assert caught.value.key == key
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("performance", "message"),
    [
        ({"metric": "auc"}, f"{SOURCE}: performance.metric: unknown metric 'auc'; choose among accuracy"),
        ({"min_labels": 0}, f"{SOURCE}: performance.min_labels: Input should be greater than or equal to 1"),
        (
            {"floors": 1},
            f"{SOURCE}: performance.floors: unknown key; allowed keys: enabled, floor, metric, min_labels",
        ),
    ],
)
def test_a_malformed_performance_key_is_refused_naming_it(performance: dict[str, Any], message: str) -> None:
    with pytest.raises(MonitoringConfigError) as caught:
        parse_monitoring_config({"performance": performance}, source=SOURCE)

    assert message in str(caught.value)


def test_synth_refuses_a_metric_the_dataset_s_task_cannot_compute_naming_the_cdk_json_key() -> None:
    # Given cdk.json with churn (a classifier) watched on RMSE
    context = copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"]["mlops"])
    context["datasets"]["churn"]["monitoring"] = {"performance": {"metric": "rmse", "floor": 0.3}}

    # When the platform configuration is loaded, as synth does
    with pytest.raises(ConfigError) as caught:
        load_platform(context, ROOT)

    # Then the message names the key and what to choose
    assert str(caught.value) == (
        "cdk.json: mlops.datasets.churn.monitoring.performance.metric: 'rmse' is not a classification metric "
        "(the dataset's training task); choose among accuracy, f1, roc_auc, log_loss"
    )


def test_the_performance_key_defaults_when_left_out() -> None:
    assert parse_monitoring_config(None).performance == PerformanceConfig()
    assert PerformanceConfig().min_labels == 200
