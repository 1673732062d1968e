"""A dataset's ``monitoring`` key: defaults, schedule expressions, alarm windows, errors naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.declared import MONITORING_FILE, declared_monitoring
from domain.monitoring.config import (
    MonitoringConfig,
    MonitoringConfigError,
    check_schedule,
    parse_monitoring_config,
)

SOURCE = "cdk.json: mlops.datasets.churn.monitoring"


def _error(raw: object) -> str:
    with pytest.raises(MonitoringConfigError) as caught:
        parse_monitoring_config(raw, source=SOURCE)
    return str(caught.value)


def test_missing_key_gives_the_documented_defaults() -> None:
    # Given no monitoring key / When parsed
    config = parse_monitoring_config(None)

    # Then the defaults are those of the design
    assert config.enabled
    assert config.schedule == "rate(1 hour)"
    assert (config.window_minutes, config.min_rows, config.max_feature_metrics) == (60, 200, 25)
    assert (config.false_alarm_rate, config.drifted_share) == (0.01, 0.1)
    assert (config.min_effect.numeric, config.min_effect.categorical) == (0.1, 0.1)
    assert (config.alarm.datapoints, config.alarm.periods) == (2, 3)
    assert (config.no_traffic_minutes, config.no_new_data_hours) == (60, 168)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(1 hour)",
        "rate(6 hours)",
        "rate(1 day)",
        "rate(2 days)",
        "cron(0 * * * ? *)",
        "cron(15 10 ? * MON-FRI *)",
        "cron(0/30 8-17 ? * 2-6 2027)",
        "cron(0 12 L * ? *)",
        "cron(0 0 ? * 6#3 *)",
        "cron(0 0 1 JAN,JUL ? *)",
    ],
)
def test_scheduler_expressions_are_accepted(expression: str) -> None:
    # Given an expression EventBridge Scheduler documents / When checked / Then it passes
    assert parse_monitoring_config({"schedule": expression}).schedule == expression


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("every hour", "is not an EventBridge Scheduler expression"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(1.5 hours)", "positive whole number"),
        ("rate(5 weeks)", "minute(s), hour(s) or day(s)"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("cron(0 * * * *)", "six fields"),
        ("cron(0 * * * * *)", "exactly one of day-of-month"),
        ("cron(0 * ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 * * * ? x)", "cron field year 'x'"),
        ("at(2027-01-01T00:00:00)", "is not an EventBridge Scheduler expression"),
    ],
)
def test_bad_schedules_are_refused_with_the_key_and_the_rule(expression: str, said: str) -> None:
    # Given a schedule EventBridge Scheduler would refuse (or a one-time one) / When parsed
    message = _error({"schedule": expression})

    # Then the message names the key and says what is wrong
    assert message.startswith(f"{SOURCE}: schedule: ")
    assert said in message


def test_check_schedule_is_usable_alone() -> None:
    # Given the checker on its own (the CLI and the stack may call it) / Then it raises ValueError
    with pytest.raises(ValueError, match="six fields"):
        check_schedule("cron(0 0 * *)")


def test_more_datapoints_than_periods_names_alarm_datapoints() -> None:
    # Given 4 of 3 windows / When parsed
    message = _error({"alarm": {"datapoints": 4, "periods": 3}})

    # Then the key is alarm.datapoints
    assert message.startswith(f"{SOURCE}: alarm.datapoints: ")
    assert "at most periods (3)" in message


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"window_minutes": 0}, "window_minutes"),
        ({"min_rows": 0}, "min_rows"),
        ({"false_alarm_rate": 0}, "false_alarm_rate"),
        ({"false_alarm_rate": 1.5}, "false_alarm_rate"),
        ({"drifted_share": 0}, "drifted_share"),
        ({"min_effect": {"categorical": 2}}, "min_effect.categorical"),
        ({"min_effect": {"numeric": -1}}, "min_effect.numeric"),
        ({"no_new_data_hours": 200}, "no_new_data_hours"),
        ({"no_traffic_minutes": 0}, "no_traffic_minutes"),
        ({"max_feature_metrics": -1}, "max_feature_metrics"),
    ],
)
def test_out_of_range_values_name_their_key(raw: dict[str, object], key: str) -> None:
    # Given a value out of its range / When parsed / Then the message names its key
    assert _error(raw).startswith(f"{SOURCE}: {key}: ")


def test_unknown_keys_list_the_allowed_ones() -> None:
    # Given a typo, at the top and inside alarm / When parsed
    message = _error({"windw_minutes": 30, "alarm": {"period": 3}})

    # Then each line names the key and the allowed keys at its level
    lines = sorted(message.splitlines())
    assert lines[0] == f"{SOURCE}: alarm.period: unknown key; allowed keys: datapoints, periods"
    assert lines[1].startswith(f"{SOURCE}: windw_minutes: unknown key; allowed keys: alarm, drifted_share")


def test_alarm_range_beyond_cloudwatch_limit_is_refused() -> None:
    # Given 30-minute windows (a period under an hour: at most one day) over 49 periods
    message = _error({"window_minutes": 30, "alarm": {"datapoints": 2, "periods": 49}})

    # Then the alarm's periods are named, with CloudWatch's limit
    assert message.startswith(f"{SOURCE}: alarm.periods: ")
    assert "24 hours" in message
    # and 48 such periods (one day) pass, as do 7 days of hourly windows
    assert parse_monitoring_config({"window_minutes": 30, "alarm": {"periods": 48}}).alarm.periods == 48
    assert parse_monitoring_config({"alarm": {"periods": 168}}).alarm.periods == 168
    assert "alarm.periods" in _error({"alarm": {"periods": 169}})


def test_not_a_mapping_is_refused() -> None:
    assert _error(["rate(1 hour)"]) == f"{SOURCE}: <root>: must be a mapping, got list"


def test_declared_monitoring_reads_the_shipped_file(tmp_path: Path) -> None:
    # Given a function's folder with monitoring.json as synth writes it
    dumped = MonitoringConfig(schedule="rate(15 minutes)", window_minutes=15).model_dump(mode="json")
    (tmp_path / MONITORING_FILE).write_text(json.dumps({"churn": dumped}), encoding="utf-8")

    # When read / Then the configuration round-trips
    declared = declared_monitoring(tmp_path)
    assert declared["churn"].window_minutes == 15
    assert declared["churn"].schedule == "rate(15 minutes)"
