"""The two servers of the serving benchmark: this project's model server and MLflow's scoring server.

Both serve the same fitted Pipeline on 127.0.0.1 and are started from a thread pinned to the server's
core (so every process and thread they start runs there) with ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
from _load import HOST, pin_process

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = ROOT / ".cache" / "bench-mlflow"  # made by `make bench` from bench/requirements-mlflow.txt
SAVE_MLFLOW_MODEL = ROOT / "bench" / "_mlflow_model.py"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ServerError(Exception):
    """A server could not be prepared or started."""


@dataclass
class Served:
    """A running server: where it listens, and how to stop it."""

    name: str
    port: int
    pid: int
    versions: dict[str, str]
    stop: Callable[[], None]  # stops the server and waits for it


def start_ours(model_dir: Path, workspace: Path, core: int) -> Served:
    """The project's model server on the archive of ``model_dir``, as a local endpoint runs it."""
    from domain.training.registration import INFERENCE_ENVIRONMENT
    from localcloud.sagemaker.serving import ModelServer

    archive = workspace / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    server = ModelServer.start(archive, workspace / "served", dict(INFERENCE_ENVIRONMENT) | ONE_THREAD)
    (process,) = [
        child
        for child in psutil.Process().children()
        if f"--port={server.port}" in child.cmdline() and any("model_server" in a for a in child.cmdline())
    ]
    pin_process(process.pid, {core})
    return Served("ours", server.port, process.pid, {}, server.stop)


def start_mlflow(model_dir: Path, workspace: Path, core: int, python: Path) -> Served:
    """``mlflow models serve --env-manager local`` on the same Pipeline saved by ``mlflow.sklearn``."""
    if not python.exists():
        raise ServerError(f"{python} does not exist: `make bench` creates MLflow's virtualenv")
    python = python.absolute()  # not resolved: the virtualenv's interpreter is a symbolic link
    environment = {
        **os.environ,
        **ONE_THREAD,
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",  # the CLI runs `uvicorn`
        "VIRTUAL_ENV": str(python.parent.parent),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    environment.pop("PYTHONPATH", None)
    saved = workspace / "mlflow-model"
    completed = subprocess.run(
        [str(python), str(SAVE_MLFLOW_MODEL), str(model_dir), str(saved)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ServerError(f"saving the MLflow model failed: {completed.stderr.strip()[-2000:]}")
    port = _free_port()
    log = workspace / "mlflow-serve.log"
    command = [
        str(python), "-m", "mlflow", "models", "serve", "-m", str(saved),
        "-h", HOST, "-p", str(port), "-w", "1", "--env-manager", "local",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=workspace,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the CLI and the uvicorn it starts
        )

    def stop() -> None:
        _stop_group(process)

    try:
        _wait_for_ping(port, process, log, timeout=120)
    except BaseException:
        stop()
        raise
    pin_process(process.pid, {core})
    return Served("mlflow", port, process.pid, _versions(saved / "MLmodel"), stop)


def _versions(mlmodel: Path) -> dict[str, str]:
    """MLflow's version, and scikit-learn's where MLflow runs, as the saved model records them."""
    text = mlmodel.read_text(encoding="utf-8")
    keys = {"mlflow_version": "mlflow", "sklearn_version": "scikit-learn_with_mlflow"}
    found = {name: re.search(rf"^\s*{key}: (\S+)", text, re.MULTILINE) for key, name in keys.items()}
    return {name: match.group(1) for name, match in found.items() if match}


def _wait_for_ping(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"mlflow models serve exited ({process.returncode}): {log.read_text()[-2000:]}")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise ServerError(f"mlflow models serve did not answer /ping in {timeout:g} s: {log.read_text()[-2000:]}")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # a uvicorn left behind by its CLI


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
