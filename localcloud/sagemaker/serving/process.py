"""One model served as SageMaker's scikit-learn container serves it: a model server process on loopback.

:meth:`ModelServer.start` lays the model out as the container finds it (see
:mod:`localcloud.sagemaker.serving.contract`), starts ``model_server.py`` with the model's
``Environment``, and returns once ``/ping`` answers 200. The server's output goes to ``ship`` in batches
of lines, as a training script's does; :meth:`ModelServer.stop` stops it as a training job is stopped.
A network-isolated model's server runs under the socket guard (``isolation.guarded``): it serves on
loopback, and its code reaches nothing.
"""

from __future__ import annotations

import http.client
import math
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from localcloud.sagemaker.isolation import guarded
from localcloud.sagemaker.process import ScriptProcess
from localcloud.sagemaker.serving.contract import ModelServerError, extract_model, process_environment

MODEL_SERVER = Path(__file__).resolve().parent / "model_server.py"
HOST = "127.0.0.1"
DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
DEFAULT_INVOKE_TIMEOUT_SECONDS = 60.0  # SageMaker's limit for a real-time endpoint to answer
_EXIT_ADDRESS_IN_USE = 98  # model_server.EXIT_ADDRESS_IN_USE (not imported: it changes sys.path)
_PORT_ATTEMPTS = 3
_POLL_SECONDS = 0.02
_ERROR_TAIL_LINES = 20
_MAX_IDLE_CONNECTIONS = 32


class Invocation(NamedTuple):
    """The model server's answer to one request."""

    status: int
    content_type: str
    body: bytes


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ModelServer:
    """A running model server; use :meth:`start` to make one.

    Attributes
    ----------
    port : int
        Its port on 127.0.0.1.
    model_dir : Path
        The model folder (``/opt/ml/model`` of the container).
    """

    def __init__(
        self, script: ScriptProcess, *, port: int, model_dir: Path, home: Path, stop_grace_seconds: float
    ) -> None:
        self.port = port
        self.model_dir = model_dir
        self._script = script
        self._home = home
        self._stop = threading.Event()
        self._watcher = threading.Thread(
            target=script.wait,
            kwargs={"deadline": math.inf, "stop": self._stop, "grace_seconds": stop_grace_seconds},
            name=f"model-server-{port}",
            daemon=True,
        )
        self._watcher.start()
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        model_archive: Path | None,
        model_dir: Path,
        environment: Mapping[str, str],
        *,
        python: str = sys.executable,
        ship: Callable[[list[str]], None] | None = None,
        startup_timeout: float = 60.0,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        stop_grace_seconds: float = 2.0,
        network_isolation: bool = False,
    ) -> ModelServer:
        """Lay the model out, start its server, and wait until it answers ``/ping``.

        Parameters
        ----------
        model_archive : Path | None
            A ``model.tar.gz`` to extract into ``model_dir`` (None: the folder holds the model already).
        model_dir : Path
            The model folder, created if needed.
        environment : Mapping[str, str]
            The model's ``Environment`` (``SAGEMAKER_PROGRAM``, ``SAGEMAKER_SUBMIT_DIRECTORY``...), plus
            whatever else its code should see (an ``AWS_ENDPOINT_URL``, for instance).
        python : str
            The interpreter (Python 3.11 or later): the virtualenv's by default.
        ship : Callable[[list[str]], None] | None
            Receives the server's stdout and stderr lines in batches (None: they are dropped).
        startup_timeout : float
            Seconds for ``model_fn`` to load the model.
        max_payload_bytes : int
            Larger request bodies are answered 413.
        stop_grace_seconds : float
            Between SIGTERM and SIGKILL when stopping.
        network_isolation : bool
            The model's ``EnableNetworkIsolation``: its code's connections and DNS lookups then fail.

        Raises
        ------
        ModelServerError
            If the archive cannot be extracted, the code folder is not local, or the server exits or
            does not answer in time (for instance because ``model_fn`` raised: its traceback ends the
            message).
        """
        model_dir = model_dir.resolve()
        model_dir.mkdir(parents=True, exist_ok=True)
        if model_archive is not None:
            extract_model(model_archive, model_dir)
        for attempt in range(_PORT_ATTEMPTS):
            home = Path(tempfile.mkdtemp(prefix="model-server-home-"))
            variables = process_environment(environment, model_dir, home)
            if network_isolation:
                variables = guarded(variables)
            port = _free_port()
            command = [
                python,
                "-P",
                str(MODEL_SERVER),
                f"--port={port}",
                f"--model-dir={model_dir}",
                f"--max-payload-bytes={max_payload_bytes}",
                "--exit-with-parent",
                "--hide-editable-installs",
            ]
            script = ScriptProcess(command, cwd=model_dir, environment=variables, ship=ship or _drop)
            server = cls(
                script, port=port, model_dir=model_dir, home=home, stop_grace_seconds=stop_grace_seconds
            )
            try:
                server._wait_until_ready(startup_timeout)
            except BaseException as error:
                server.stop()
                port_taken = isinstance(error, ModelServerError) and server.returncode == _EXIT_ADDRESS_IN_USE
                if not port_taken or attempt == _PORT_ATTEMPTS - 1:
                    raise
            else:
                return server
        raise AssertionError("unreachable")

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process is still there."""
        return self._watcher.is_alive()

    @property
    def returncode(self) -> int | None:
        """The process's exit status, once it has exited."""
        return None if self.running else self._script.returncode

    def invoke(
        self,
        body: bytes,
        content_type: str,
        accept: str | None = None,
        *,
        timeout: float = DEFAULT_INVOKE_TIMEOUT_SECONDS,
    ) -> Invocation:
        """``POST /invocations`` on a keep-alive connection that no other caller uses meanwhile.

        Connections are pooled rather than kept per thread: a caller's thread often lives for one request
        (a threaded HTTP server's), and a connection per thread would stay open after the thread is gone.

        Parameters
        ----------
        body : bytes
            The request body.
        content_type : str
            Its ``Content-Type``.
        accept : str | None
            The ``Accept`` header; None sends none (the server then answers in its default type).
        timeout : float
            Seconds to wait for the answer.

        Raises
        ------
        ModelServerError
            If the server is not running.
        OSError
            If the connection fails otherwise (``TimeoutError`` after ``timeout``).
        """
        headers = {"Content-Type": content_type}
        if accept is not None:
            headers["Accept"] = accept
        for attempt in range(2):
            connection, reused = self._take_connection(timeout)
            try:
                connection.request("POST", "/invocations", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if not self.running:
                    raise ModelServerError(f"the model server exited (status {self.returncode})") from None
                if not reused or attempt == 1:
                    raise
                # An idle connection the server had closed: the request did not reach it; try a new one.
            except BaseException:
                connection.close()  # a half-read answer leaves the connection unusable
                raise
            else:
                self._give_back(connection, keep=not response.will_close)
                return Invocation(response.status, response.getheader("Content-Type", ""), data)
        raise AssertionError("unreachable")

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether ``GET /ping`` answers 200 (on a connection of its own)."""
        connection = _Connection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", "/ping")
            response = connection.getresponse()
            response.read()
            return response.status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period; wait for the process and its output."""
        self._stop.set()
        self._watcher.join()
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ping(timeout=max(0.1, min(2.0, deadline - time.monotonic()))):
            if not self.running:
                raise ModelServerError(
                    f"the model server exited with status {self.returncode} before it was ready:\n"
                    f"{self._stderr_tail()}"
                )
            if time.monotonic() >= deadline:
                self.stop()  # then the output is complete, and no longer changing
                raise ModelServerError(
                    f"the model server did not answer /ping within {timeout:g} s:\n{self._stderr_tail()}"
                )
            time.sleep(_POLL_SECONDS)

    def _stderr_tail(self) -> str:
        return "\n".join(list(self._script.stderr_tail)[-_ERROR_TAIL_LINES:])

    def _take_connection(self, timeout: float) -> tuple[_Connection, bool]:
        """An idle connection (True: it served before), or a new one."""
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        if not self.running:
            raise ModelServerError(f"the model server is not running (exit status {self.returncode})")
        return _Connection(HOST, self.port, timeout=timeout), False

    def _give_back(self, connection: _Connection, *, keep: bool) -> None:
        with self._lock:
            if keep and not self._stop.is_set() and len(self._idle) < _MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _drop(lines: list[str]) -> None:
    """Where the server's output goes when nobody ships it."""
