"""A drift check's event as a window: the schedule's time, a person's since/until, the defaults, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.monitoring.request import DriftRequestError, parse_drift_request

NOW = datetime(2026, 12, 1, 12, 34, 56, tzinfo=UTC)


def _parse(event: object) -> tuple[datetime, datetime]:
    request = parse_drift_request(event, datasets={"shop"}, window_minutes={"shop": 30}, now=NOW)
    return request.since, request.until


def test_the_scheduled_time_ends_the_window_of_the_configured_length() -> None:
    since, until = _parse({"dataset": "shop", "scheduled_time": "2026-12-01T11:00:00Z"})
    assert until == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert since == until - timedelta(minutes=30)


def test_without_times_the_window_ends_now() -> None:
    assert _parse({"dataset": "shop"}) == (NOW - timedelta(minutes=30), NOW)


def test_since_and_until_win_and_a_time_without_offset_is_utc() -> None:
    event = {"dataset": "shop", "since": "2026-11-30T00:00:00", "until": "2026-12-01T02:00:00+02:00"}
    since, until = _parse({**event, "scheduled_time": "2026-12-01T11:00:00Z"})
    assert since == datetime(2026, 11, 30, tzinfo=UTC)
    assert until == datetime(2026, 12, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "said"),
    [
        ("shop", "must be an object"),
        ({"dataset": "other"}, "'other' is not monitored by this platform; monitored: shop"),
        ({}, "None is not monitored"),
        ({"dataset": "shop", "since": 5}, "since must be an ISO 8601 time"),
        ({"dataset": "shop", "since": "2026-12-01T12:34:56Z"}, "must be before until"),
        ({"dataset": "shop", "scheduled_time": "soon"}, "scheduled_time 'soon' is not an ISO 8601 time"),
        ({"dataset": "shop", "sinse": "x"}, "unknown key(s) sinse"),
    ],
)
def test_bad_events_say_what_is_wrong(event: object, said: str) -> None:
    with pytest.raises(DriftRequestError) as caught:
        _parse(event)
    assert said in str(caught.value)
