"""The daemon's clock: ``localcloud.clock`` and ``mlops local clock`` read it and advance it.

The control API is registered on an in-process local cloud (what ``python -m localcloud serve`` does) and
a state dir names it as the running daemon, so the client and the CLI reach it over HTTP as they reach
``mlops local up``'s, without starting a process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import localcloud
from cli.main import app
from cli.target import cloud_now
from localcloud import DaemonError, LocalCloud
from localcloud.daemon import register_control
from localcloud.lifecycle import STATE_FILE
from tests.integration.localcloud_fixtures.monitoring import python_function, scheduler_role, wait_for

pytestmark = pytest.mark.slow

SCHEDULE = "hourly-check"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, Path]]:
    """A local cloud answering the control API, with an hourly schedule that invokes a function."""
    state_dir = tmp_path_factory.mktemp("state")
    with LocalCloud(work_dir=tmp_path_factory.mktemp("work")) as cloud:
        register_control(cloud, threading.Event())
        state = {"pid": os.getpid(), "endpoint_url": cloud.endpoint_url, "region": cloud.region}
        (state_dir / STATE_FILE).write_text(json.dumps(state))
        function = python_function(cloud, "clock-target")
        invoke = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function}
        cloud.client("scheduler").create_schedule(
            Name=SCHEDULE, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": function, "RoleArn": scheduler_role(cloud, "clock-role", invoke)},
        )  # fmt: skip
        wait_for(cloud.schedules)  # a rate schedule fires at once, in real time
        yield cloud, state_dir


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_clock_reads_the_cloud_time_and_advancing_fires_what_falls_due(
    daemon: tuple[LocalCloud, Path],
) -> None:
    cloud, state_dir = daemon
    (first,) = cloud.schedules()

    # When the clock is read, then advanced by an hour and a half
    read = localcloud.daemon_clock(state_dir)
    advanced = localcloud.daemon_clock(state_dir, advance=timedelta(hours=1, minutes=30))

    # Then the first answer is the cloud's time, the second 90 minutes on, with the one firing due
    assert read is not None and advanced is not None
    assert read["endpoint_url"] == cloud.endpoint_url and read["fired"] == []
    assert abs(
        _time(read["now"]) - datetime.now(UTC) - timedelta(seconds=read["offset_seconds"])
    ) < timedelta(seconds=5)
    assert advanced["advanced_seconds"] == 5400
    assert timedelta(minutes=90) <= _time(advanced["now"]) - _time(read["now"]) < timedelta(minutes=91)
    assert advanced["offset_seconds"] - read["offset_seconds"] == pytest.approx(5400, abs=1)
    scheduled = first.scheduled_time + timedelta(hours=1)
    assert [
        (f["schedule"], _time(f["scheduled_time"]), f["status"], f["result"]) for f in advanced["fired"]
    ] == [(SCHEDULE, scheduled.replace(microsecond=0), "invoked", "succeeded")]
    assert cloud.clock.now() >= _time(advanced["now"])


def test_the_clock_refuses_to_go_back(daemon: tuple[LocalCloud, Path]) -> None:
    _, state_dir = daemon

    with pytest.raises(DaemonError, match="clock: ClockError: the local cloud's clock cannot go back"):
        localcloud.daemon_clock(state_dir, advance=timedelta(hours=-1))


def test_mlops_local_clock_advances_it_and_says_what_fired(
    daemon: tuple[LocalCloud, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the CLI pointed at the daemon's state dir
    cloud, state_dir = daemon
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    before = cloud.clock.now()

    # When a user advances it by an hour, then reads it as JSON
    advanced = CliRunner().invoke(app, ["local", "clock", "--advance", "1h"], env={"COLUMNS": "200"})
    read = CliRunner().invoke(app, ["local", "clock", "--json"])

    # Then the schedule's next run fired and the time moved an hour
    assert advanced.exit_code == 0, advanced.output
    assert "advanced 1h: 1 schedule firing(s)" in advanced.output
    assert f"{SCHEDULE}  invoked (succeeded)" in advanced.output
    assert read.exit_code == 0, read.output
    assert _time(json.loads(read.output)["now"]) - before >= timedelta(hours=1)


def test_mlops_local_clock_refuses_what_is_not_a_duration(
    daemon: tuple[LocalCloud, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud, state_dir = daemon
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    offset = cloud.clock.offset

    result = CliRunner().invoke(app, ["local", "clock", "--advance", "an hour"])

    assert result.exit_code == 2
    assert "--advance 'an hour' is not a duration: give one such as 30m, 1h or 1d12h" in result.output
    assert cloud.clock.offset == offset


def test_mlops_local_clock_without_a_local_cloud_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_STATE_DIR", str(tmp_path))

    result = CliRunner().invoke(app, ["local", "clock"])

    assert result.exit_code == 1
    assert "no local cloud is running; start one with `mlops local up`" in result.output


def test_the_cli_takes_now_from_the_local_cloud_it_points_at(
    daemon: tuple[LocalCloud, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the daemon's clock ahead of this machine
    cloud, state_dir = daemon
    monkeypatch.setenv("MLOPS_STATE_DIR", str(state_dir))
    cloud.clock.advance(timedelta(minutes=10))

    # When the CLI's now is read with the SDK pointed at it, then elsewhere
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint_url)
    local = cloud_now()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    elsewhere = cloud_now()

    # Then the first is the local cloud's time, the second this machine's
    assert abs(local - cloud.clock.now()) < timedelta(seconds=5)
    assert abs(elsewhere - datetime.now(UTC)) < timedelta(seconds=5)
