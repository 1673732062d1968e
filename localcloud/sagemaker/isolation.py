"""A network-isolated training script reaches nothing: no S3, no AWS API, no service on loopback.

SageMaker runs a job with ``EnableNetworkIsolation`` in a container without network ("No inbound or
outbound network calls can be made, except for calls between peers within a training cluster",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html; SageMaker itself
downloads the channels and uploads the model). Locally the script runs in a network namespace of its
own (``unshare --net --map-root-user``, util-linux: unprivileged, its only interface a loopback that is
down), where every connection fails with "Network is unreachable". Where the machine has no
unprivileged user namespaces, a guard loaded at the interpreter's start (``network_guard/
sitecustomize.py``: an audit hook) refuses the same connections and DNS lookups, in the script and
the Python processes it starts (not in other programs it would run). Whether the namespace works is
found out once per process. The model server of an isolated model always gets the guard (:func:`guarded`):
the host reaches it on loopback, which a namespace of its own would take away.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from enum import Enum
from pathlib import Path

_GUARD_DIR = Path(__file__).resolve().parent / "network_guard"
_UNSHARE = ("unshare", "--net", "--map-root-user")


class Isolation(Enum):
    """How a network-isolated script is kept off the network."""

    NAMESPACE = "network namespace"
    GUARD = "socket guard"


@functools.cache
def available() -> Isolation:
    """The isolation this machine gives: a network namespace if ``unshare`` works here, else the guard."""
    unshare = shutil.which(_UNSHARE[0])
    if unshare is None:
        return Isolation.GUARD
    try:
        probe = subprocess.run([unshare, *_UNSHARE[1:], "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return Isolation.GUARD
    return Isolation.NAMESPACE if probe.returncode == 0 else Isolation.GUARD


def isolate(command: list[str], environment: dict[str, str]) -> tuple[list[str], dict[str, str], Isolation]:
    """``command`` and ``environment`` changed so that the process reaches no network.

    ``unshare`` execs the command in the same process (no fork): the pid the runner holds, its process
    group, its signals and its exit status are the script's own.
    """
    isolation = available()
    if isolation is Isolation.NAMESPACE:
        return [*_UNSHARE, *command], environment, isolation
    return command, guarded(environment), isolation


def guarded(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` with the socket guard first on ``PYTHONPATH``.

    A Python process started with it makes no network call (no connection or datagram to an IP address,
    no DNS lookup) and still listens and accepts on loopback.

    Parameters
    ----------
    environment : Mapping[str, str]
        The process's whole environment.

    Returns
    -------
    dict[str, str]
        A copy, the guard's folder before the ``PYTHONPATH`` it had.
    """
    variables = dict(environment)
    variables["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_GUARD_DIR), environment.get("PYTHONPATH")) if p
    )
    return variables


def no_network_reason(submit_directory: str) -> str:
    """``FailureReason`` of an isolated job whose code is on S3: the toolkit in it cannot download it.

    In the container, the training toolkit downloads ``sagemaker_submit_directory`` itself; with no
    network the download fails and the toolkit fails the job (an ``AlgorithmError``).
    """
    return (
        f"AlgorithmError: framework error: the training toolkit could not download "
        f"sagemaker_submit_directory {submit_directory}: the container is network-isolated "
        "(EnableNetworkIsolation) and reaches no network, S3 included. Deliver the code as an input "
        'channel (for instance "code", an S3Prefix naming the archive) and set sagemaker_submit_directory '
        "to its path in the container, /opt/ml/input/data/code/<archive name>, as the SageMaker SDK does"
    )
