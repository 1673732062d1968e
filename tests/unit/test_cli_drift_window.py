"""``mlops drift check``'s window: ``--since`` as a time or a duration, ``--until``, and the errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cli.drift_window import Window, WindowError, parse_window

NOW = datetime(2026, 12, 6, 18, 30, 15, tzinfo=UTC)


def test_nothing_given_leaves_both_bounds_to_the_monitor() -> None:
    window = parse_window(None, None, NOW)

    assert window == Window(since=None, until=None)
    assert window.event("churn") == {"dataset": "churn"}


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2h", "2026-12-06T16:30:15Z"),
        ("30m", "2026-12-06T18:00:15Z"),
        ("1d12h", "2026-12-05T06:30:15Z"),
        ("90s", "2026-12-06T18:28:45Z"),
        ("1w", "2026-11-29T18:30:15Z"),
    ],
)
def test_a_duration_reaches_back_from_now(since: str, expected: str) -> None:
    window = parse_window(since, None, NOW)

    # the end is left to the monitor (its now), the start is sent
    assert window == Window(since=expected, until=None)


def test_a_duration_reaches_back_from_until_when_given() -> None:
    window = parse_window("2h", "2026-12-01T10:00:00Z", NOW)

    assert window.event("churn") == {
        "dataset": "churn",
        "since": "2026-12-01T08:00:00Z",
        "until": "2026-12-01T10:00:00Z",
    }


def test_times_with_an_offset_are_sent_in_utc_and_without_one_are_utc() -> None:
    window = parse_window("2026-12-06T14:00:00+02:00", "2026-12-06T13:00:00", NOW)

    assert window == Window(since="2026-12-06T12:00:00Z", until="2026-12-06T13:00:00Z")


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2x", None, "--since '2x' is not a time: give an ISO 8601 time such as 2026-12-06T14:00:00Z, "
         "or a duration such as 30m, 2h or 1d12h"),
        (None, "yesterday", "--until 'yesterday' is not a time"),
        ("0h", None, "--since '0h' is an empty duration"),
        ("2026-12-06T19:00:00Z", None, "--since '2026-12-06T19:00:00Z' is not before the window's end "
         "(2026-12-06T18:30:15Z): the window would be empty"),
        ("2026-12-06T10:00:00Z", "2026-12-06T09:00:00Z",
         "is not before the window's end (2026-12-06T09:00:00Z)"),
    ],
)  # fmt: skip
def test_bad_bounds_say_which_option_and_what_it_takes(
    since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(WindowError) as raised:
        parse_window(since, until, NOW)

    assert message in str(raised.value)
