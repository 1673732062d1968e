"""One local Lambda execution environment: a warm worker subprocess and the pipe protocol to it.

A worker is started once (the cold start), initialises the handler, then serves one invocation at a
time until it is retired. It runs in its own process group so that a timeout can kill the handler
together with anything the handler started, as Lambda freezes and discards an environment that
timed out.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# Lambda allows 10 s of init; importing pyarrow or a model on a busy laptop can take longer.
INIT_TIMEOUT_SECONDS = 60.0


class WorkerTimeoutError(Exception):
    """The handler did not answer within the function's timeout."""


class WorkerExitError(Exception):
    """The worker process died while initialising or invoking."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"Runtime exited with error: exit status {returncode}")
        self.returncode = returncode


@dataclass(frozen=True)
class WorkerReply:
    """What the worker said about one invocation."""

    ok: bool
    body: str | None
    error: dict[str, Any] | None
    max_rss_kb: int


class Worker:
    """A warm execution environment for one version of one function's code and configuration.

    Parameters
    ----------
    task_root : Path
        The unpacked code of the function (its ``LAMBDA_TASK_ROOT``).
    environment : dict[str, str]
        The whole process environment of the function, built by the executor.
    log_path : Path
        Where the handler's stdout and stderr go; read and emptied after each invocation.
    log_stream : str
        The CloudWatch Logs stream of this environment.
    clock_offset_seconds : float
        How far ahead of the machine's time the local cloud's clock is as the worker starts: the init
        phase runs at the clock's time (each invocation request carries the offset of its own moment).

    ``principal`` is the role session the environment acts as (None: the administrator's credentials),
    set by the executor once it has assumed the role.
    """

    def __init__(
        self,
        *,
        task_root: Path,
        environment: dict[str, str],
        log_path: Path,
        log_stream: str,
        clock_offset_seconds: float,
    ) -> None:
        self.log_path = log_path
        self.log_stream = log_stream
        self.principal: str | None = None
        self.init_ms = 0.0
        self.init_error: dict[str, Any] | None = None
        self.invocations = 0
        self._buffer = b""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # stderr goes to the log from the start, so that even a failing interpreter start is logged.
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-I", str(BOOTSTRAP), str(log_path), repr(clock_offset_seconds)],
                cwd=task_root,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        """Wait for the init phase to end; the init error, if any, is kept in ``init_error``."""
        started = time.perf_counter()
        try:
            reply = self._read_message(INIT_TIMEOUT_SECONDS)
        except (WorkerExitError, WorkerTimeoutError) as error:
            self.init_ms = (time.perf_counter() - started) * 1000
            reason = str(error) or f"init did not finish within {INIT_TIMEOUT_SECONDS:.0f} s"
            self.init_error = {"errorType": "Runtime.ExitError", "errorMessage": f"Error: {reason}"}
            return
        self.init_ms = float(reply["init_ms"])
        self.init_error = reply.get("init_error")

    def invoke(self, request: dict[str, Any], timeout: float) -> WorkerReply:
        """Send one invocation and wait at most ``timeout`` seconds for its reply.

        Raises
        ------
        WorkerTimeoutError
            If the handler is still running after ``timeout`` seconds (the worker is then unusable).
        WorkerExitError
            If the worker process died.
        """
        assert self._process.stdin is not None
        self.invocations += 1
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self._process.stdin.flush()
        except BrokenPipeError as error:
            raise WorkerExitError(self._process.poll()) from error
        reply = self._read_message(timeout)
        return WorkerReply(
            ok=bool(reply["ok"]),
            body=reply.get("body"),
            error=reply.get("error"),
            max_rss_kb=int(reply.get("max_rss_kb", 0)),
        )

    def take_logs(self) -> str:
        """The output written since the last call, which is then discarded."""
        with self.log_path.open("r+b") as log:
            data = log.read()
            log.truncate(0)
        return data.decode("utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        """True while the worker process runs."""
        return self._process.poll() is None

    def kill(self) -> None:
        """Stop the worker and everything it started, and remove its log file."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self.log_path.unlink(missing_ok=True)

    def _read_message(self, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise WorkerExitError(self._process.wait())
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message
