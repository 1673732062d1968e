"""moto's reads of "now" replaced by a clock while a local cloud runs, and put back when it stops."""

from __future__ import annotations

import datetime
import importlib

import moto.core.utils

from localcloud import moto_times, patches

AHEAD = datetime.timedelta(hours=6)
TOLERANCE = datetime.timedelta(seconds=5)
SAGEMAKER = importlib.import_module("moto.sagemaker.models")
EVENTS = importlib.import_module("moto.stepfunctions.parser.asl.eval.event.event_manager")


def _clock() -> datetime.datetime:
    return (datetime.datetime.now(datetime.UTC) + AHEAD).replace(tzinfo=None)


def test_while_installed_moto_reads_the_clock_and_after_it_reads_the_machine() -> None:
    # Given moto's time functions as they are
    original = moto.core.utils.utcnow

    # When the patches of a clock six hours ahead are installed
    patches.install(moto_times.patches(_clock))
    try:
        # Then moto's shared utcnow, a module's own binding of it, its defaults (unix_time) and the Step
        # Functions interpreter's datetime.now all read the clock
        expected = datetime.datetime.now(datetime.UTC) + AHEAD
        assert abs(moto.core.utils.utcnow().replace(tzinfo=datetime.UTC) - expected) < TOLERANCE
        assert abs(SAGEMAKER.utcnow().replace(tzinfo=datetime.UTC) - expected) < TOLERANCE
        assert abs(moto.core.utils.unix_time() - expected.timestamp()) < TOLERANCE.total_seconds()
        assert abs(EVENTS.datetime.datetime.now(tz=datetime.UTC) - expected) < TOLERANCE
    finally:
        patches.uninstall()

    # And once uninstalled, moto's own functions are back
    assert moto.core.utils.utcnow is original
    assert SAGEMAKER.utcnow is original
    assert EVENTS.datetime is datetime


def test_the_interpreters_datetime_keeps_everything_but_now() -> None:
    # Given the datetime module the Step Functions interpreter gets
    clocked = moto_times._datetime_module(_clock)

    # When it makes, parses and checks datetimes, and reads the time with and without a zone
    made = clocked.datetime(2026, 1, 2, 3, 4, 5)
    parsed = clocked.datetime.fromisoformat("2026-01-02T03:04:05+00:00")
    aware = clocked.datetime.now(tz=clocked.timezone.utc)
    naive = clocked.datetime.now()

    # Then what it makes are plain datetimes, which (and others') pass its isinstance checks
    assert type(made) is datetime.datetime and type(parsed) is datetime.datetime
    assert isinstance(datetime.datetime.now(), clocked.datetime)
    assert not isinstance("2026-01-02", clocked.datetime)
    assert clocked.timedelta is datetime.timedelta
    # and now() is the clock's, aware in the zone asked for, naive local time without one
    expected = datetime.datetime.now(datetime.UTC) + AHEAD
    assert aware.tzinfo is not None and abs(aware - expected) < TOLERANCE
    assert naive.tzinfo is None and abs(naive.astimezone(datetime.UTC) - expected) < TOLERANCE
    assert abs(clocked.datetime.utcnow() - expected.replace(tzinfo=None)) < TOLERANCE
