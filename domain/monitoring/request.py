"""What starts a drift check: the schedule's event or a person's request, and the window it stands for.

Event: ``{"dataset": str, "since"?: ISO-8601, "until"?: ISO-8601, "scheduled_time"?: ISO-8601}``. The
window is ``[since, until)``; ``until`` defaults to ``scheduled_time`` (EventBridge Scheduler's
``<aws.scheduler.scheduled-time>``, so a late or retried run checks the window it was scheduled for)
or else now, ``since`` to ``until - window_minutes``. A time without an offset is UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["DriftCheckRequest", "DriftRequestError", "parse_drift_request"]

_KEYS = ("dataset", "since", "until", "scheduled_time")


class DriftRequestError(ValueError):
    """A drift check's event is invalid; the message names the key and what is expected."""


@dataclass(frozen=True)
class DriftCheckRequest:
    """A drift check of one dataset's endpoint over ``[since, until)``."""

    dataset: str
    since: datetime
    until: datetime


def parse_drift_request(
    event: Any, *, datasets: Collection[str], window_minutes: Mapping[str, int], now: datetime
) -> DriftCheckRequest:
    """Read a drift check's event and resolve its window.

    Parameters
    ----------
    event : Any
        The invocation's event.
    datasets : collection of str
        The datasets this function monitors.
    window_minutes : mapping of str to int
        Each dataset's configured window.
    now : datetime
        The default end of the window.

    Raises
    ------
    DriftRequestError
        For an event that is not an object, an unknown key or dataset, a time that is not ISO 8601, or
        ``since`` not before ``until``.
    """
    if not isinstance(event, Mapping):
        raise DriftRequestError(f"the event must be an object with 'dataset'; got {type(event).__name__}")
    unknown = sorted(str(key) for key in event if key not in _KEYS)
    if unknown:
        raise DriftRequestError(
            f"unknown key(s) {', '.join(unknown)} in the event; allowed: {', '.join(_KEYS)}"
        )
    dataset = event.get("dataset")
    if not isinstance(dataset, str) or dataset not in datasets:
        known = ", ".join(sorted(datasets)) or "none"
        raise DriftRequestError(f"dataset {dataset!r} is not monitored by this platform; monitored: {known}")
    scheduled = _time(event, "scheduled_time")
    until = _time(event, "until") or scheduled or now
    since = _time(event, "since") or until - timedelta(minutes=window_minutes[dataset])
    if since >= until:
        raise DriftRequestError(
            f"the window is empty: since ({since.isoformat()}) must be before until ({until.isoformat()})"
        )
    return DriftCheckRequest(dataset=dataset, since=since, until=until)


def _time(event: Mapping[str, Any], key: str) -> datetime | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DriftRequestError(f"{key} must be an ISO 8601 time as a string, e.g. 2026-12-01T10:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DriftRequestError(
            f"{key} {value!r} is not an ISO 8601 time; write e.g. 2026-12-01T10:00:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
