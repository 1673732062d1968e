"""A dataset's monitoring key in cdk.json: parsed with the platform's configuration, its errors at the key.

The monitoring model's own rules are tested with it (``domain/monitoring/config.py``); here, that synth
reads it under each dataset, that a dataset without it is monitored with the defaults, that a value
CloudWatch would refuse for the alarms the stack builds fails the synth naming the key, and that a null
(an alarm turned off) reaches the configuration.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from domain.monitoring.config import MonitoringConfig
from stacks.app import PROJECT_ROOT, cdk_json_context, platform_context
from stacks.config import MAX_ALARM_PERIOD_MINUTES, ConfigError, load_platform


@pytest.fixture
def context() -> dict[str, Any]:
    return copy.deepcopy(cdk_json_context()["mlops"])


def _monitoring(context: dict[str, Any], value: dict[str, Any]) -> MonitoringConfig:
    context["datasets"]["churn"]["monitoring"] = value
    return load_platform(context, PROJECT_ROOT).config.datasets["churn"].monitoring


def test_a_dataset_without_a_monitoring_key_is_monitored_with_the_defaults(context: dict[str, Any]) -> None:
    context["datasets"]["churn"].pop("monitoring", None)

    monitoring = load_platform(context, PROJECT_ROOT).config.datasets["churn"].monitoring

    assert monitoring == MonitoringConfig()
    assert (monitoring.enabled, monitoring.schedule, monitoring.window_minutes) == (True, "rate(1 hour)", 60)


def test_a_dataset_s_monitoring_key_is_read(context: dict[str, Any]) -> None:
    monitoring = _monitoring(
        context,
        {"schedule": "cron(0 * * * ? *)", "window_minutes": 30, "alarm": {"datapoints": 3, "periods": 4},
         "no_traffic_minutes": None, "enabled": False},
    )  # fmt: skip

    assert monitoring.schedule == "cron(0 * * * ? *)"
    assert (monitoring.window_minutes, monitoring.alarm.datapoints, monitoring.alarm.periods) == (30, 3, 4)
    assert (monitoring.no_traffic_minutes, monitoring.enabled) == (None, False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"window_minutes": MAX_ALARM_PERIOD_MINUTES + 1, "alarm": {"datapoints": 1, "periods": 1}},
            r"^cdk\.json: mlops\.datasets\.churn\.monitoring\.window_minutes: 1441 minutes is the drift "
            r"alarm's period, and CloudWatch refuses an alarm period longer than a day: set it to at most "
            r"1440$",
        ),
        (
            {"window_minutes": 60, "alarm": {"datapoints": 2, "periods": 200}},
            r"^cdk\.json: mlops\.datasets\.churn\.monitoring\.alarm\.periods: 200 windows of 60 minutes "
            r"exceed",
        ),
        (
            {"schedule": "every hour"},
            r"^cdk\.json: mlops\.datasets\.churn\.monitoring\.schedule: 'every hour' is not an EventBridge",
        ),
        (
            {"windows_minutes": 60},
            r"^cdk\.json: mlops\.datasets\.churn\.monitoring\.windows_minutes: unknown key; allowed keys: "
            r".*window_minutes",
        ),
        (
            {"alarm": {"periods": 1}},
            r"^cdk\.json: mlops\.datasets\.churn\.monitoring\.alarm\.datapoints: 2 drifted windows",
        ),
    ],
    ids=["period over a day", "evaluation range", "schedule", "unknown key", "N of M"],
)
def test_a_monitoring_value_cloudwatch_or_scheduler_would_refuse_fails_the_synth_naming_the_key(
    context: dict[str, Any], value: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        _monitoring(context, value)


def test_the_longest_window_cloudwatch_accepts_is_accepted(context: dict[str, Any]) -> None:
    monitoring = _monitoring(
        context, {"window_minutes": MAX_ALARM_PERIOD_MINUTES, "alarm": {"datapoints": 1, "periods": 7}}
    )

    assert monitoring.window_minutes * 60 * monitoring.alarm.periods == 7 * 86_400


def test_a_null_that_turns_an_alarm_off_reaches_the_configuration(
    context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given cdk.json turning churn's no-traffic alarm off with a null (jsii would drop it on its way)
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.delenv("CONTEXT_OVERFLOW_LOCATION_ENV", raising=False)
    context["datasets"]["churn"]["monitoring"] = {"no_traffic_minutes": None}

    # When the app reads its context, then the null is there and the configuration has no such alarm
    read = platform_context({"mlops": context, "other": 1})
    assert read["datasets"]["churn"]["monitoring"] == {"no_traffic_minutes": None}
    assert load_platform(read, PROJECT_ROOT).config.datasets["churn"].monitoring.no_traffic_minutes is None


def test_the_cdk_cli_s_context_replaces_the_given_one_with_its_nulls(
    context: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the CLI's context (cdk.json with --context) with a null, and an overflow file after it
    cli = copy.deepcopy(context)
    cli["datasets"]["churn"]["monitoring"] = {"no_new_data_hours": None}
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"mlops": cli}))
    monkeypatch.delenv("CONTEXT_OVERFLOW_LOCATION_ENV", raising=False)

    # Then the CLI's wins over what the app was given, nulls included
    assert platform_context({"mlops": context}) == cli
    overflow = tmp_path / "context.json"
    overflow.write_text(json.dumps({"mlops": {"project": "other"}}))
    monkeypatch.setenv("CONTEXT_OVERFLOW_LOCATION_ENV", str(overflow))
    assert platform_context({"mlops": context}) == {"project": "other"}
