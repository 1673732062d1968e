"""The local cloud as a long-running process: ``python -m localcloud serve --port P --state-dir D``.

The daemon runs one ``LocalCloud`` until it is told to stop (``POST /_localcloud/shutdown``, SIGTERM
or SIGINT), and answers the control API that ``localcloud.lifecycle`` (``up``, ``status``, ``down``,
``daemon_clock``) and the CLI use. When it listens, it writes ``daemon.json`` (its pid and endpoint) in
the state dir: that file is how ``up`` learns the port the daemon got. When it stops, a daemon that
enforced IAM saves its least-privilege report (``access_report.REPORT_FILE`` in the state dir) for
``mlops local access``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from localcloud import access_report
from localcloud.clock import ClockError
from localcloud.cloud import LocalCloud
from localcloud.lifecycle import READY_FILE

RECENT = 50  # how many recent invocations and deliveries ``status`` reports

logger = logging.getLogger(__name__)


def serve(*, port: int, state_dir: Path, region: str, account_id: str, enforce_iam: bool = True) -> None:
    """Run a local cloud until asked to stop.

    Parameters
    ----------
    port : int
        Port to listen on (0: any free port; the chosen one is written to ``daemon.json``).
    state_dir : Path
        Holds ``daemon.json`` and the daemon's work dir (unpacked code, execution environments).
    region, account_id : str
        Of the local cloud.
    enforce_iam : bool
        Decide every request by the IAM policies, as AWS does (False: ``mlops local up --no-iam``).
    """
    work_dir = state_dir / "work"
    shutil.rmtree(work_dir, ignore_errors=True)  # moto's state died with the last daemon; so did this
    work_dir.mkdir(parents=True)
    stop = threading.Event()
    cloud = LocalCloud(
        port=port, region=region, account_id=account_id, work_dir=work_dir, enforce_iam=enforce_iam
    )
    register_control(cloud, stop)
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    cloud.start()
    try:
        ready = {"pid": os.getpid(), "endpoint_url": cloud.endpoint_url, "region": region}
        _write_json(state_dir / READY_FILE, ready)
        logger.info("local cloud listening on %s (pid %d)", cloud.endpoint_url, os.getpid())
        stop.wait()
        logger.info("stopping")
        if enforce_iam:
            _save_access_report(cloud, state_dir / access_report.REPORT_FILE)
    finally:
        cloud.stop()
        (state_dir / READY_FILE).unlink(missing_ok=True)


def register_control(cloud: LocalCloud, stop: threading.Event) -> None:
    """Register the control API for ``cloud``: health, status, deploy, wait-idle, clock, access, shutdown.

    ``shutdown`` sets ``stop``; the caller stops the cloud.
    """

    def health(_: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid(), "endpoint_url": cloud.endpoint_url}

    def status(_: dict[str, Any]) -> dict[str, Any]:
        invocations = cloud.invocations()
        deliveries = cloud.deliveries()
        return {
            "pid": os.getpid(),
            "endpoint_url": cloud.endpoint_url,
            "region": cloud.region,
            "started_at": cloud.started_at,
            "stacks": cloud.deployed_stacks,
            "invocation_count": len(invocations),
            "failed_invocation_count": sum(1 for r in invocations if not r.succeeded),
            "invocations": [r.to_dict() for r in invocations[-RECENT:]],
            "deliveries": [d.to_dict() for d in deliveries[-RECENT:]],
            "training_runs": [r.to_dict() for r in cloud.training_runs()[-RECENT:]],
            "endpoints": [e.to_dict() for e in cloud.endpoints()],
            "enforce_iam": cloud.iam.enforcer.enabled,
        }

    def deploy(body: dict[str, Any]) -> dict[str, dict[str, str]]:
        return cloud.deploy(Path(body["cloud_assembly"]), body.get("stacks"))

    def wait_idle(body: dict[str, Any]) -> bool:
        cloud.wait_idle(float(body.get("timeout", 60.0)))
        return True

    def shutdown(_: dict[str, Any]) -> bool:
        stop.set()  # the main thread stops the cloud once this answer is on its way
        return True

    for name, handler in {
        "health": health,
        "status": status,
        "deploy": deploy,
        "wait-idle": wait_idle,
        "clock": lambda body: clock(cloud, body),
        "access": lambda _: access_report.take(cloud),
        "shutdown": shutdown,
    }.items():
        cloud.control.register(name, handler)


def clock(cloud: LocalCloud, body: dict[str, Any]) -> dict[str, Any]:
    """The ``clock`` route: the cloud's time, after advancing it by ``body["advance_seconds"]`` if given.

    Advancing is ``cloud.clock.advance``: the schedules due on the way fire, each at its time, the cloud
    settling after each, and the alarms are evaluated; the answer lists the firings it made.

    Returns
    -------
    dict[str, Any]
        ``now`` (ISO 8601 UTC), ``offset_seconds`` (ahead of the machine's time), ``advanced_seconds``
        (None when not asked to advance) and ``fired``: each firing's schedule, scheduled time, status,
        result and error.

    Raises
    ------
    ClockError
        If ``advance_seconds`` is not a number, or is negative (the clock never goes back).
    """
    advance = body.get("advance_seconds")
    before = len(cloud.schedules())
    if advance is not None:
        if isinstance(advance, bool) or not isinstance(advance, int | float):
            raise ClockError(f"advance_seconds must be a number of seconds, not {advance!r}")
        cloud.clock.advance(timedelta(seconds=advance))
    fired = cloud.schedules()[before:] if advance is not None else []
    return {
        "now": cloud.clock.now().isoformat().replace("+00:00", "Z"),  # to the microsecond: a window's end
        "offset_seconds": cloud.clock.offset.total_seconds(),
        "advanced_seconds": advance,
        "fired": [
            {"schedule": f.schedule_name, "group": f.group_name, "scheduled_time": _iso(f.scheduled_time),
             "status": f.status, "result": f.result, "error": f.error}
            for f in fired
        ],
    }  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _save_access_report(cloud: LocalCloud, path: Path) -> None:
    try:
        access_report.save(access_report.take(cloud), path)
    except Exception:  # the report is a convenience: it must not keep the daemon from stopping
        logger.exception("could not save the least-privilege report to %s", path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # Write then rename, so a reader never sees half a file.
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
    partial.replace(path)
