"""The window ``mlops drift check`` asks the monitor for: ``--since`` and ``--until`` read and checked.

``--since`` is an ISO 8601 time or a duration before ``--until`` (``30m``, ``2h``, ``1d12h``); ``--until``
an ISO 8601 time, now by default. A time without an offset is UTC. The monitor gets both as ISO 8601 in
UTC; omitted, each is left to the monitor's defaults (until now, since ``window_minutes`` before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Window", "WindowError", "parse_duration", "parse_window"]

_DURATION = re.compile(r"(?:(\d+)([smhdw]))+")
_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_EXAMPLES = "an ISO 8601 time such as 2026-12-06T14:00:00Z, or a duration such as 30m, 2h or 1d12h"


class WindowError(ValueError):
    """``--since`` or ``--until`` is not a time (or a duration), or the window is empty."""


@dataclass(frozen=True)
class Window:
    """The window's bounds, as the monitor's event takes them (ISO 8601, UTC), or None for its default."""

    since: str | None
    until: str | None

    def event(self, dataset: str) -> dict[str, str]:
        """The monitor's event: the dataset and the bounds that were given."""
        event = {"dataset": dataset}
        if self.since is not None:
            event["since"] = self.since
        if self.until is not None:
            event["until"] = self.until
        return event


def _time(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise WindowError(f"{option} {text!r} is not a time: give {_EXAMPLES}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``1d12h`` (units s, m, h, d, w) as a timedelta; None if ``text`` is not one."""
    if not _DURATION.fullmatch(text.strip()):
        return None
    parts = {_UNITS[unit]: 0 for unit in _UNITS}
    for amount, unit in _PART.findall(text):
        parts[_UNITS[unit]] += int(amount)
    return timedelta(**parts)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_window(since: str | None, until: str | None, now: datetime) -> Window:
    """The window of ``--since`` and ``--until``.

    Parameters
    ----------
    since : str, optional
        An ISO 8601 time, or a duration before the window's end.
    until : str, optional
        An ISO 8601 time; the end of the window (exclusive).
    now : datetime
        The end of a window that ``--until`` does not give, for a duration (timezone-aware).

    Raises
    ------
    WindowError
        Naming the option, what it got, and what it takes.
    """
    end = _time(until, "--until") if until is not None else None
    start: datetime | None = None
    if since is not None:
        length = parse_duration(since)
        if length is not None:
            if length <= timedelta(0):
                raise WindowError(f"--since {since!r} is an empty duration: give one such as 30m or 2h")
            start = (end or now) - length
        else:
            start = _time(since, "--since")
        if start >= (end or now):
            raise WindowError(
                f"--since {since!r} is not before the window's end ({_iso(end or now)}): "
                "the window would be empty"
            )
    return Window(
        since=_iso(start) if start is not None else None, until=_iso(end) if end is not None else None
    )
