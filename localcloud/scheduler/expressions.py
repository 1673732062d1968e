"""EventBridge Scheduler's schedule expressions, and the times a schedule fires at.

``rate(value unit)`` (minute(s), hour(s), day(s)) fires at its start (``StartDate``, else when the
schedule was created: "If you don't provide a StartDate for a rate-based schedule, your schedule starts
invoking the target immediately") and every interval after. ``cron(minutes hours day-of-month month
day-of-week year)`` fires at each matching minute of its time zone (``ScheduleExpressionTimezone``): lists,
ranges, steps, ``*``, ``?`` (one of the day fields must be it), month and weekday names, weekdays 1-7 from
Sunday, ``L`` (the month's last day; ``5L`` its last Thursday), ``#`` (``2#1``: its first Monday) and
``W`` (``15W``: the weekday nearest the 15th, within the month). ``at(yyyy-mm-ddThh:mm:ss)`` fires once, in
its time zone. A recurring schedule fires only within ``StartDate``/``EndDate``; a one-time one ignores
them, as Scheduler does (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
Times are exact here: Scheduler fires within the minute (60-second precision).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)")
_CRON = re.compile(r"cron\((.*)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: n
    for n, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_SEARCH_DAYS = 366 * 8  # how far ahead a cron expression is searched for its next time


class ScheduleExpressionError(ValueError):
    """A schedule expression Scheduler would refuse (or the local cloud cannot read)."""


@dataclass(frozen=True)
class Rate:
    """``rate(value unit)``."""

    interval: timedelta


@dataclass(frozen=True)
class At:
    """``at(...)``: one local time."""

    moment: datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class Cron:
    """``cron(...)``: the sets each field allows, and the day fields' rules."""

    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None

    def day_matches(self, day: date) -> bool:
        """Whether ``day`` is one the expression fires on."""
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        if self.day_of_month != "?":
            return _month_day_matches(self.day_of_month, day)
        return _week_day_matches(self.day_of_week, day)


Expression = Rate | At | Cron


@dataclass(frozen=True)
class Timing:
    """When one schedule fires: its expression, time zone and window."""

    expression: Expression
    zone: ZoneInfo
    start: datetime | None = None  # aware UTC
    end: datetime | None = None

    @classmethod
    def parse(
        cls, expression: str, zone: str | None, start: datetime | None = None, end: datetime | None = None
    ) -> Timing:
        """The timing of a schedule as Scheduler's API stores it.

        Raises
        ------
        ScheduleExpressionError
            If the expression or the time zone cannot be read.
        """
        try:
            tz = ZoneInfo(zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ScheduleExpressionError(
                f"ScheduleExpressionTimezone {zone!r} is not an IANA time zone (Europe/Paris...): {error}"
            ) from None
        return cls(parse_expression(expression), tz, start, end)

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        """The first time strictly after ``after`` (aware UTC) the schedule fires; None if none is left.

        ``anchor`` is when the schedule began (its creation, seen by the local cloud): a rate schedule
        without ``StartDate`` counts its intervals from it.
        """
        if isinstance(self.expression, At):
            moment = self.expression.moment.replace(tzinfo=self.zone).astimezone(UTC)
            return moment if moment > after else None
        if self.start is not None and after < self.start:
            after = self.start - timedelta(microseconds=1)
        if isinstance(self.expression, Rate):
            origin = self.start or anchor
            interval = self.expression.interval
            steps = 0 if after < origin else (after - origin) // interval + 1
            found: datetime | None = origin + steps * interval
        else:
            found = _next_cron(self.expression, after.astimezone(self.zone))
        if found is None or (self.end is not None and found > self.end):
            return None
        return found


def parse_expression(text: str) -> Expression:
    """A ``rate()``, ``cron()`` or ``at()`` expression.

    Raises
    ------
    ScheduleExpressionError
        If it is none of them, or a field is out of range.
    """
    text = text.strip()
    if match := _RATE.fullmatch(text):
        value, unit = int(match[1]), match[2].rstrip("s")
        if value < 1:
            raise ScheduleExpressionError(f"{text}: a rate's value is a positive whole number")
        return Rate(timedelta(seconds=value * _UNITS[unit]))
    if match := _AT.fullmatch(text):
        return At(datetime.fromisoformat(match[1]))
    if match := _CRON.fullmatch(text):
        return _parse_cron(text, match[1].split())
    raise ScheduleExpressionError(
        f"{text!r} is not a schedule expression: write rate(5 minutes), cron(0 2 * * ? *) or "
        "at(2026-12-31T23:00:00)"
    )


def _parse_cron(text: str, fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ScheduleExpressionError(
            f"{text}: a cron expression has six fields (minutes hours day-of-month month day-of-week year)"
        )
    minutes, hours, dom, month, dow, year = (f.upper() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
    if dom != "?" and not re.fullmatch(r"L|\d{1,2}W|[\d,\-*/]+", dom):
        raise ScheduleExpressionError(f"{text}: day-of-month {dom!r} is not a list, range, step, L or nW")
    if dow != "?" and not re.fullmatch(r"[1-7]L|[1-7]#[1-5]|[A-Z\d,\-*/]+", dow):
        raise ScheduleExpressionError(f"{text}: day-of-week {dow!r} is not a list, range, step, nL or n#k")
    if dow != "?" and "L" not in dow and "#" not in dow:
        _values(text, dow, 1, 7, _WEEKDAYS, "day-of-week")  # checked now, read when a day is matched
    if dom not in {"?", "L"} and not dom.endswith("W"):
        _values(text, dom, 1, 31, {}, "day-of-month")
    return Cron(
        minutes=_values(text, minutes, 0, 59, {}, "minutes"),
        hours=_values(text, hours, 0, 23, {}, "hours"),
        day_of_month=dom,
        months=_values(text, month, 1, 12, _MONTHS, "month"),
        day_of_week=dow,
        years=None if year in ("*", "?") else _values(text, year, 1970, 2199, {}, "year"),
    )


def _values(
    text: str, field: str, low: int, high: int, names: dict[str, int], label: str = "the field"
) -> frozenset[int]:
    """The values a cron field allows: ``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, ``a-b/n``, comma lists."""
    found: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit():
            raise ScheduleExpressionError(f"{text}: {label} {part!r} has a step that is not a number")
        if base == "*":
            first, last = low, high
        else:
            first_text, _, last_text = base.partition("-")
            first = _number(text, first_text, names, label)
            last = _number(text, last_text, names, label) if last_text else (high if step_text else first)
        if not (low <= first <= high and low <= last <= high):
            raise ScheduleExpressionError(f"{text}: {label} {part!r} is outside {low}-{high}")
        found.update(range(first, last + 1, step))
    return frozenset(found)


def _number(text: str, value: str, names: dict[str, int], label: str) -> int:
    if value in names:
        return names[value]
    if not value.isdigit():
        raise ScheduleExpressionError(f"{text}: {label} {value!r} is not a number or a name it takes")
    return int(value)


def _aws_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday (0) -> 2, Sunday (6) -> 1


def _month_day_matches(field: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field == "L":
        return day.day == last
    if field.endswith("W"):
        wanted = date(day.year, day.month, min(int(field[:-1]), last))
        if wanted.weekday() == 5:  # Saturday: the Friday before, or the Monday after on the 1st
            wanted = wanted - timedelta(days=1) if wanted.day > 1 else wanted + timedelta(days=2)
        elif wanted.weekday() == 6:  # Sunday: the Monday after, or the Friday before on the last day
            wanted = wanted + timedelta(days=1) if wanted.day < last else wanted - timedelta(days=2)
        return day == wanted
    return day.day in _values(field, field, 1, 31, {})


def _week_day_matches(field: str, day: date) -> bool:
    weekday = _aws_weekday(day)
    if field.endswith("L"):
        last = calendar.monthrange(day.year, day.month)[1]
        return weekday == int(field[0]) and day.day + 7 > last
    if "#" in field:
        wanted, nth = (int(x) for x in field.split("#"))
        return weekday == wanted and (day.day - 1) // 7 + 1 == nth
    return weekday in _values(field, field, 1, 7, _WEEKDAYS)


def _next_cron(cron: Cron, after: datetime) -> datetime | None:
    """The first matching minute strictly after ``after`` (aware, in the schedule's zone), in UTC."""
    zone = after.tzinfo
    day = after.date()
    for _ in range(_SEARCH_DAYS):
        if cron.day_matches(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    moment = local.astimezone(UTC)
                    if moment > after.astimezone(UTC):
                        return moment
        day += timedelta(days=1)
    return None
