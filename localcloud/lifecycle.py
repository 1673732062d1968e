"""Starting, inspecting and stopping the local cloud daemon: what ``mlops local up|status|down|env`` call.

State lives in one folder (``$MLOPS_STATE_DIR``, default ``~/.mlops/local``): ``state.json`` (pid,
endpoint, region, start time, deployed stacks), ``daemon.log`` (the daemon's output), ``daemon.json``
(written by the daemon when it listens) and ``work/`` (unpacked code, execution environments). This
module imports neither moto nor boto3, so the CLI's status and env commands stay fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from localcloud.access_report import REPORT_FILE, latest_saved, tests_report_path
from localcloud.errors import DaemonError

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
STATE_FILE = "state.json"
LOG_FILE = "daemon.log"
READY_FILE = "daemon.json"  # written by the daemon once it listens
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_POLL_SECONDS = 0.05


def default_state_dir() -> Path:
    """``$MLOPS_STATE_DIR`` if set, else ``~/.mlops/local``."""
    return Path(os.environ.get("MLOPS_STATE_DIR") or Path.home() / ".mlops" / "local")


def up(
    state_dir: Path | None = None,
    port: int = 0,
    *,
    deploy: Path | None = None,
    stacks: list[str] | None = None,
    region: str = DEFAULT_REGION,
    enforce_iam: bool = True,
    start_timeout: float = 30.0,
    deploy_timeout: float = 600.0,
) -> dict[str, Any]:
    """Start the daemon (unless it runs already) and optionally deploy a cloud assembly to it.

    A daemon already running in ``state_dir`` is reused as it is (whatever ``port``, ``region`` and
    ``enforce_iam`` say): ``down`` first to change them.

    Parameters
    ----------
    state_dir : Path | None
        The state folder; ``default_state_dir()`` when None.
    port : int
        Port on 127.0.0.1; 0 lets the system choose (the endpoint is in the returned state).
    deploy : Path | None
        A synthesized cloud assembly (``cdk.out``) to deploy once the daemon answers.
    stacks : list[str] | None
        Stacks of the assembly to deploy (with their dependencies); all when None.
    region : str
        Region of the local cloud.
    enforce_iam : bool
        Decide every request by the IAM policies of the deployed templates, as AWS does.
    start_timeout, deploy_timeout : float
        Seconds to wait for the daemon to listen, and for the deploy.

    Returns
    -------
    dict[str, Any]
        The state written to ``state.json``.

    Raises
    ------
    DaemonError
        If the daemon exits or does not answer in time; the message ends with its log.
    """
    state_dir = _resolve(state_dir)
    state = _live_state(state_dir)
    if state is None:
        state = _start(state_dir, port, region, enforce_iam, start_timeout)
    if deploy is not None:
        body = {"cloud_assembly": str(Path(deploy).resolve()), "stacks": stacks}
        state["stacks"] = _call(state["endpoint_url"], "deploy", body, timeout=deploy_timeout)
        state["stacks"] = _call(state["endpoint_url"], "status", timeout=10)["stacks"]
    _write_state(state_dir, state)
    return state


def status(state_dir: Path | None = None) -> dict[str, Any]:
    """Whether the daemon runs, where, and what is deployed and has run in it.

    Returns
    -------
    dict[str, Any]
        ``running`` (bool) and ``state_dir``; when running also ``pid``, ``endpoint_url``, ``region``,
        ``started_at``, ``stacks`` (name -> outputs), invocation counts and recent invocations and
        deliveries.
    """
    state_dir = _resolve(state_dir)
    state = _live_state(state_dir)
    if state is None:
        return {"running": False, "state_dir": str(state_dir)}
    live = _call(state["endpoint_url"], "status", timeout=10)
    return {**state, **live, "running": True, "state_dir": str(state_dir)}


def down(state_dir: Path | None = None, timeout: float = 15.0) -> bool:
    """Stop the daemon cleanly (its workers with it); return False if it was not running."""
    state_dir = _resolve(state_dir)
    state = _read_json(state_dir / STATE_FILE)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    if state is None or not _alive(int(state["pid"])):
        return False
    pid = int(state["pid"])
    with contextlib.suppress(DaemonError):
        _call(state["endpoint_url"], "shutdown", timeout=5)
    if _wait_exit(pid, timeout):
        return True
    # It did not stop when asked: end its process group (it is the leader: started with a new session).
    for signal_number, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal_number)
        if _wait_exit(pid, grace):
            return True
    raise DaemonError(f"the local cloud (pid {pid}) did not stop")


def access(state_dir: Path | None = None) -> dict[str, Any] | None:
    """The least-privilege report: of the running daemon, else the last one saved; None if neither.

    Returns
    -------
    dict[str, Any] | None
        The report's document (``localcloud.access_report``) with ``source``: ``"running"``, or
        ``"saved"`` and ``saved_to`` (the daemon's, in ``state_dir``, or the end-to-end tests').
    """
    state_dir = _resolve(state_dir)
    state = _live_state(state_dir)
    if state is not None:
        return {**_call(state["endpoint_url"], "access", timeout=60), "source": "running"}
    saved = latest_saved([state_dir / REPORT_FILE, tests_report_path()])
    return None if saved is None else {**saved, "source": "saved"}


def daemon_clock(
    state_dir: Path | None = None, advance: timedelta | None = None, *, timeout: float = 900.0
) -> dict[str, Any] | None:
    """The running local cloud's clock, advanced by ``advance`` first if given; None if none runs.

    Advancing fires the schedules due on the way, each at its time, and evaluates the alarms
    (``cloud.clock.advance``), so it lasts as long as what fires does: ``timeout`` seconds at most.

    Returns
    -------
    dict[str, Any] | None
        The daemon's ``clock`` answer (``localcloud.daemon.clock``: ``now``, ``offset_seconds``,
        ``advanced_seconds``, ``fired``) and its ``endpoint_url``.
    """
    state = _live_state(_resolve(state_dir))
    if state is None:
        return None
    body = {} if advance is None else {"advance_seconds": advance.total_seconds()}
    answer: dict[str, Any] = _call(state["endpoint_url"], "clock", body, timeout=timeout)
    return {**answer, "endpoint_url": state["endpoint_url"]}


def env_variables(state: dict[str, Any]) -> dict[str, str]:
    """The environment variables that point AWS clients at the daemon described by ``state``."""
    return {
        "AWS_ENDPOINT_URL": state["endpoint_url"],
        "AWS_DEFAULT_REGION": state["region"],
        "AWS_REGION": state["region"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


def env_exports(state: dict[str, Any]) -> str:
    """``env_variables(state)`` as shell ``export`` lines (what ``mlops local env`` prints)."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env_variables(state).items())


def _start(state_dir: Path, port: int, region: str, enforce_iam: bool, timeout: float) -> dict[str, Any]:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / READY_FILE).unlink(missing_ok=True)
    log_path = state_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        "localcloud",
        "serve",
        "--port",
        str(port),
        "--state-dir",
        str(state_dir),
    ]
    command += ["--region", region, *([] if enforce_iam else ["--no-iam"])]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(_PACKAGE_ROOT), environment.get("PYTHONPATH")])
    )
    with log_path.open("ab") as log:
        # A session of its own: the daemon survives the shell that started it, and is stopped as a group.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=state_dir, env=environment,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DaemonError(f"the local cloud exited with status {process.returncode}\n{_tail(log_path)}")
        ready = _read_json(state_dir / READY_FILE)
        if ready is not None and ready.get("pid") == process.pid:
            _call(ready["endpoint_url"], "health", timeout=5)
            return {
                "pid": process.pid,
                "endpoint_url": ready["endpoint_url"],
                "region": region,
                "enforce_iam": enforce_iam,
                "started_at": time.time(),
                "log_file": str(log_path),
                "stacks": {},
            }
        time.sleep(_POLL_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    raise DaemonError(f"the local cloud did not answer within {timeout:.0f} s\n{_tail(log_path)}")


def _live_state(state_dir: Path) -> dict[str, Any] | None:
    """The recorded state if its daemon is alive and answers; stale state is removed."""
    state = _read_json(state_dir / STATE_FILE)
    if state is None:
        return None
    try:
        health = _call(state["endpoint_url"], "health", timeout=2)
    except DaemonError:
        health = None
    if health is None or health.get("pid") != state.get("pid"):
        (state_dir / STATE_FILE).unlink(missing_ok=True)
        return None
    return state


def _call(endpoint_url: str, name: str, body: dict[str, Any] | None = None, *, timeout: float) -> Any:
    request = urllib.request.Request(
        f"{endpoint_url}/_localcloud/{name}",
        data=json.dumps(body or {}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["result"]
    except urllib.error.HTTPError as error:
        message = json.loads(error.read() or b"{}").get("error", str(error))
        raise DaemonError(f"{name}: {message}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DaemonError(f"the local cloud at {endpoint_url} does not answer: {error}") from error


def _alive(pid: int) -> bool:
    # When this process started the daemon (tests do), reap it: an exited child stays a zombie otherwise.
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(_POLL_SECONDS)
    return not _alive(pid)


def _resolve(state_dir: Path | None) -> Path:
    return Path(state_dir or default_state_dir()).expanduser().resolve()


def _write_state(state_dir: Path, state: dict[str, Any]) -> None:
    partial = state_dir / (STATE_FILE + ".partial")
    partial.write_text(json.dumps(state, indent=2), encoding="utf-8")
    partial.replace(state_dir / STATE_FILE)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
