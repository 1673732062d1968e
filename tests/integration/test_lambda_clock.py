"""Lambda handlers in the local cloud run at the local cloud's clock, as a function and AWS share one time.

The function here reports every way Python reads the wall clock (``time``, ``datetime``, ``date``), the
time of its init phase, its process and its remaining time, and calls STS with boto3 (a request signed at
the function's time). It is made through the Lambda API on a local cloud of its own, whose clock the
tests move forward in order: never advanced, six hours on, two more hours on a warm worker, a cold start,
a schedule the clock fires on its way, and an object S3 stores (timed by the same clock).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.iam_roles import LAMBDA_LOGS, create_role
from tests.integration.localcloud_fixtures.monitoring import scheduler_role, wait_for

pytestmark = pytest.mark.slow

FUNCTION = "clock-reader"
TIMEOUT_SECONDS = 30
# A reading is "at" a time when within this of it: the pipe to the worker, a busy machine.
TOLERANCE = timedelta(seconds=5)
CODE = """
import calendar
import json
import os
import time
from datetime import date, datetime, timezone

import boto3

LOADED_AT = time.time()  # the init phase's time


def handler(event, context):
    report = {
        "time": time.time(),
        "time_ns": time.time_ns() / 1e9,
        "now": datetime.now(timezone.utc).timestamp(),
        "utcnow": datetime.utcnow().replace(tzinfo=timezone.utc).timestamp(),
        "gmtime": calendar.timegm(time.gmtime()),
        "localtime": calendar.timegm(time.localtime()),  # TZ is UTC in Lambda
        "today": date.today().isoformat(),
        "loaded_at": LOADED_AT,
        "pid": os.getpid(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "caller": boto3.client("sts").get_caller_identity()["Arn"],
        "event": event,
    }
    print("REPORT-TIMES " + json.dumps(report))
    return report
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(work_dir=tmp_path_factory.mktemp("localcloud-lambda-clock")) as running:
        yield running


@pytest.fixture(scope="module")
def function(cloud: LocalCloud) -> str:
    """The clock reader's ARN; its role may write its logs and nothing else."""
    role = create_role(
        cloud.client("iam"), f"{FUNCTION}-role", trusts="lambda.amazonaws.com", statements=[LAMBDA_LOGS]
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", CODE)
    created = cloud.client("lambda").create_function(
        FunctionName=FUNCTION, Runtime="python3.12", Role=role, Handler="index.handler",
        Code={"ZipFile": archive.getvalue()}, Timeout=TIMEOUT_SECONDS,
    )  # fmt: skip
    return str(created["FunctionArn"])


def _read(cloud: LocalCloud) -> dict[str, Any]:
    response = cloud.client("lambda").invoke(FunctionName=FUNCTION, Payload=b"{}")
    report: dict[str, Any] = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, report
    return report


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _assert_reads(report: dict[str, Any], expected: datetime) -> None:
    """Every wall-clock reading of ``report`` is ``expected`` (within the tolerance), and they agree."""
    for key in ("time", "time_ns", "now", "utcnow", "gmtime", "localtime"):
        assert abs(_at(report[key]) - expected) < TOLERANCE, (key, _at(report[key]), expected)
    assert report["today"] == _at(report["time"]).date().isoformat()


def test_a_function_sees_the_machines_time_while_the_clock_has_not_moved(
    cloud: LocalCloud, function: str
) -> None:
    # Given a local cloud whose clock was never advanced
    assert cloud.clock.offset == timedelta(0)

    # When the function runs
    report = _read(cloud)

    # Then it reads the machine's time, which is the clock's
    _assert_reads(report, datetime.now(UTC))
    assert abs(_at(report["loaded_at"]) - datetime.now(UTC)) < TOLERANCE
    assert 0 < report["remaining_ms"] <= TIMEOUT_SECONDS * 1000


def test_after_an_advance_a_warm_function_sees_the_clocks_time(cloud: LocalCloud, function: str) -> None:
    # Given the function's warm environment, started before the clock moved
    before = _read(cloud)

    # When the clock moves six hours on and the function runs again
    cloud.clock.advance(timedelta(hours=6))
    report = _read(cloud)

    # Then the same environment reads the clock's time, six hours ahead of the machine's, in every API
    assert report["pid"] == before["pid"]
    _assert_reads(report, cloud.clock.now())
    assert _at(report["time"]) - datetime.now(UTC) > timedelta(hours=6) - TOLERANCE
    # its remaining time is still counted from its timeout, not shifted with the clock
    assert 0 < report["remaining_ms"] <= TIMEOUT_SECONDS * 1000
    # and its calls, signed at that time, are answered (as its role)
    assert f":assumed-role/{FUNCTION}-role/" in report["caller"]


def test_a_warm_function_follows_a_later_advance(cloud: LocalCloud, function: str) -> None:
    # Given the function warm, already run on an advanced clock
    before = _read(cloud)

    # When the clock moves two more hours on
    cloud.clock.advance(timedelta(hours=2))
    report = _read(cloud)

    # Then the same environment reads the new time: the offset is the invocation's, not the environment's
    assert report["pid"] == before["pid"]
    _assert_reads(report, cloud.clock.now())
    assert _at(report["time"]) - _at(before["time"]) > timedelta(hours=2)


def test_a_cold_start_after_an_advance_initialises_at_the_clocks_time(
    cloud: LocalCloud, function: str
) -> None:
    # Given the clock ahead of the machine, and the function's configuration changed (a new environment)
    assert cloud.clock.offset > timedelta(hours=6)
    cloud.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {"GENERATION": "2"}}
    )

    # When it runs
    report = _read(cloud)

    # Then it started a new environment, whose init phase ran at the clock's time too
    assert cloud.invocations(FUNCTION)[-1].cold_start is True
    assert abs(_at(report["loaded_at"]) - cloud.clock.now()) < TOLERANCE
    _assert_reads(report, cloud.clock.now())


def test_a_function_a_schedule_fires_while_the_clock_advances_sees_the_scheduled_time(
    cloud: LocalCloud, function: str
) -> None:
    # Given a one-time schedule an hour from the clock's now, invoking the function
    due = (cloud.clock.now() + timedelta(hours=1)).replace(microsecond=0)
    invoke = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function}
    role = scheduler_role(cloud, "clock-reader-scheduler", invoke)
    cloud.client("scheduler").create_schedule(
        Name="clock-reader-once", ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": function, "RoleArn": role, "Input": '{"at": "<aws.scheduler.scheduled-time>"}'},
    )  # fmt: skip

    # When the clock moves three hours on, through it
    cloud.clock.advance(timedelta(hours=3))

    # Then the function, invoked on the way, read the scheduled time, not the machine's nor the clock's end
    (report,) = wait_for(lambda: _fired(cloud, due))
    assert report["event"] == {"at": due.strftime("%Y-%m-%dT%H:%M:%SZ")}
    _assert_reads(report, due)


def _fired(cloud: LocalCloud, due: datetime) -> list[dict[str, Any]]:
    """The reports the function logged for invocations by the schedule due at ``due``."""
    events = cloud.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{FUNCTION}")["events"]
    reports = [json.loads(e["message"].split(" ", 1)[1]) for e in events if "REPORT-TIMES " in e["message"]]
    return [r for r in reports if r["event"] == {"at": due.strftime("%Y-%m-%dT%H:%M:%SZ")}]


def test_an_object_s3_stores_after_an_advance_is_timed_as_the_function_reads_the_time(
    cloud: LocalCloud, function: str
) -> None:
    # Given the clock ahead of the machine
    assert cloud.clock.offset > timedelta(hours=6)
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="clock-reader-data")

    # When an object is written, and the function reads the time right after
    s3.put_object(Bucket="clock-reader-data", Key="labels/one.csv", Body=b"inference_id,churned\n")
    report = _read(cloud)

    # Then S3 timed the object by the clock: what the function compares it with is the same time
    modified = s3.head_object(Bucket="clock-reader-data", Key="labels/one.csv")["LastModified"]
    assert abs(modified - _at(report["time"])) < TOLERANCE
    listed = s3.list_objects_v2(Bucket="clock-reader-data")["Contents"][0]["LastModified"]
    assert abs(listed - cloud.clock.now()) < TOLERANCE
