"""EventBridge Scheduler's expressions as the local cloud reads them: when a schedule fires next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from localcloud.scheduler.expressions import ScheduleExpressionError, Timing


def _times(timing: Timing, after: datetime, count: int, anchor: datetime | None = None) -> list[datetime]:
    found = []
    for _ in range(count):
        moment = timing.next_after(after, anchor or after)
        if moment is None:
            break
        found.append(moment)
        after = moment
    return found


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_a_rate_counts_its_intervals_from_its_anchor_and_fires_at_the_anchor_itself() -> None:
    timing = Timing.parse("rate(15 minutes)", None)
    anchor = _utc(2026, 12, 6, 10, 0, 7)

    assert timing.next_after(anchor - timedelta(microseconds=1), anchor) == anchor
    assert timing.next_after(anchor, anchor) == anchor + timedelta(minutes=15)
    assert timing.next_after(anchor + timedelta(minutes=40), anchor) == anchor + timedelta(minutes=45)


def test_a_rate_starts_at_its_start_date_and_stops_after_its_end_date() -> None:
    start, end = _utc(2026, 12, 6, 12), _utc(2026, 12, 6, 14)
    timing = Timing.parse("rate(1 hour)", "UTC", start=start, end=end)

    assert _times(timing, _utc(2026, 12, 6, 9), 5) == [start, _utc(2026, 12, 6, 13), end]


def test_a_cron_fires_at_its_local_minutes_across_a_change_of_daylight_saving_time() -> None:
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer (the clocks moved on 2026-03-29)
    timing = Timing.parse("cron(0 9 * * ? *)", "Europe/Paris")

    assert _times(timing, _utc(2026, 3, 27, 12), 3) == [
        _utc(2026, 3, 28, 8),
        _utc(2026, 3, 29, 7),
        _utc(2026, 3, 30, 7),
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # every 20 minutes of 10:00-11:59 on weekdays
        ("cron(0/20 10-11 ? * MON-FRI *)", [(7, 10, 0), (7, 10, 20), (7, 10, 40), (7, 11, 0)]),
        # the last day of the month, at noon
        ("cron(0 12 L * ? *)", [(31, 12, 0)]),
        # the first Monday of the month (2#1), at 08:30
        ("cron(30 8 ? * 2#1 *)", [(7, 8, 30)]),
        # the last Friday of the month (6L)
        ("cron(0 18 ? * 6L *)", [(25, 18, 0)]),
        # the weekday nearest the 6th (a Sunday: Monday the 7th)
        ("cron(0 6 6W * ? *)", [(7, 6, 0)]),
        # named months, and a comma list of days
        ("cron(15 3 1,20 DEC ? 2026)", [(20, 3, 15)]),
    ],
)
def test_cron_fields_select_the_days_and_minutes_scheduler_documents(
    expression: str, expected: list[tuple[int, int, int]]
) -> None:
    # December 2026 starts on a Tuesday; the 6th is a Sunday
    timing = Timing.parse(expression, "UTC")

    found = _times(timing, _utc(2026, 12, 6, 23, 59), len(expected))

    assert [(t.day, t.hour, t.minute) for t in found] == expected


def test_a_one_time_schedule_fires_once_at_its_local_time() -> None:
    timing = Timing.parse("at(2026-12-24T18:00:00)", "America/New_York")

    assert _times(timing, _utc(2026, 12, 1), 3) == [_utc(2026, 12, 24, 23)]
    assert timing.next_after(_utc(2026, 12, 25), _utc(2026, 12, 25)) is None


@pytest.mark.parametrize(
    ("expression", "zone", "says"),
    [
        ("rate(0 minutes)", None, "positive"),
        ("rate(5 weeks)", None, "not a schedule expression"),
        ("cron(0 9 * * *)", None, "six fields"),
        ("cron(0 9 * * MON *)", None, "exactly one of day-of-month and day-of-week"),
        ("cron(61 9 * * ? *)", None, "outside 0-59"),
        ("cron(0 9 ? * FUNDAY *)", None, "day-of-week"),
        ("rate(5 minutes)", "Mars/Olympus", "IANA time zone"),
    ],
)
def test_an_expression_scheduler_refuses_is_an_error_that_says_why(
    expression: str, zone: str | None, says: str
) -> None:
    with pytest.raises(ScheduleExpressionError, match=says):
        Timing.parse(expression, zone)
