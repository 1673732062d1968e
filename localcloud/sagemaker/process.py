"""The training script's process: its output shipped as it comes, a deadline, and a graceful stop.

The script runs in its own process group, so that stopping it stops whatever it started too (worker
processes of joblib, for instance), as SageMaker stops the whole container.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Literal

Ending = Literal["exited", "stopped", "timed out"]

_FLUSH_SECONDS = 0.25
_STDERR_TAIL_LINES = 50


class ScriptProcess:
    """Runs ``command`` and hands its stdout and stderr lines to ``ship`` in batches.

    Parameters
    ----------
    command : list[str]
        The interpreter, the script and its arguments.
    cwd : Path
        The working directory (the extracted source directory).
    environment : dict[str, str]
        The whole process environment.
    ship : Callable[[list[str]], None]
        Receives every batch of output lines, in order (the runner writes them to CloudWatch Logs).
    """

    def __init__(
        self,
        command: list[str],
        *,
        cwd: Path,
        environment: dict[str, str],
        ship: Callable[[list[str]], None],
    ) -> None:
        self._ship = ship
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self.returncode: int | None = None
        self._process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._readers = [
            threading.Thread(target=self._read, args=(stream, is_stderr), daemon=True)
            for stream, is_stderr in ((self._process.stdout, False), (self._process.stderr, True))
            if stream is not None
        ]
        for reader in self._readers:
            reader.start()

    def wait(self, *, deadline: float, stop: threading.Event, grace_seconds: float) -> Ending:
        """Wait for the script to exit, to pass ``deadline`` (monotonic time), or for ``stop``."""
        ending: Ending = "exited"
        while self._process.poll() is None:
            if stop.is_set() or time.monotonic() >= deadline:
                ending = "stopped" if stop.is_set() else "timed out"
                self._terminate(grace_seconds)
                break
            stop.wait(timeout=_FLUSH_SECONDS)
            self._flush()
        self.returncode = self._process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        self._flush()
        return ending

    def _terminate(self, grace_seconds: float) -> None:
        self._signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        # Whatever the script started in its group goes too, even if the script itself exited.
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, number)

    def _read(self, stream: IO[bytes], is_stderr: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                self._pending.append(line)
                if is_stderr:
                    self.stderr_tail.append(line)
        stream.close()

    def _flush(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
        if lines:
            self._ship(lines)
