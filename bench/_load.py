"""The bounded HTTP client of the serving benchmark: a fixed number of keep-alive connections on loopback.

Every connection is an ``http.client`` connection with TCP_NODELAY that sends its next request once the
previous answer is read: :class:`Client` is one, for requests one at a time, and :func:`run` keeps
several busy on threads of their own for a fixed duration. Latency is from sending the request to having
read the whole answer.
"""

from __future__ import annotations

import http.client
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import psutil

HOST = "127.0.0.1"


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass
class Load:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, every answered request
    statuses: dict[int, int] = field(default_factory=dict)  # status -> count
    seconds: float = 0.0  # from the start to the last answer
    sample: bytes = b""  # one answer's body

    @property
    def ok(self) -> bool:
        """Whether every answer was 200."""
        return set(self.statuses) == {200}

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Client:
    """One keep-alive connection, one request at a time."""

    def __init__(self, port: int) -> None:
        self.connection = _Connection(HOST, port, timeout=60)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, float]:
        """``POST /invocations``: the status, the body, and the seconds from sending to having read it."""
        sent = time.perf_counter()
        self.connection.request("POST", "/invocations", body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - sent

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def run(port: int, body: bytes, headers: dict[str, str], *, connections: int, seconds: float) -> Load:
    """Keep ``connections`` requests in flight for ``seconds``; every connection opens before the clock."""
    load = Load()
    lock = threading.Lock()
    opened = [_Connection(HOST, port, timeout=60) for _ in range(connections)]
    for connection in opened:
        connection.connect()
    start = threading.Barrier(connections + 1)
    deadline = 0.0
    finished: list[float] = []

    def worker(connection: _Connection) -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        sample = b""
        start.wait()
        while (sent := time.perf_counter()) < deadline:
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            sample = response.read()
            latencies.append(time.perf_counter() - sent)
            statuses[response.status] = statuses.get(response.status, 0) + 1
        ended = time.perf_counter()
        with lock:
            finished.append(ended)
            load.latencies.extend(latencies)
            for status, count in statuses.items():
                load.statuses[status] = load.statuses.get(status, 0) + count
            load.sample = load.sample or sample

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in opened]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    load.seconds = max(finished) - began
    for connection in opened:
        connection.close()
    return load


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def pin_process(pid: int, cores: set[int], *, descendants: bool = True) -> None:
    """Pin every thread of a process (and of its descendants); threads they start later inherit it."""
    process = psutil.Process(pid)
    processes = [process, *(process.children(recursive=True) if descendants else [])]
    for process in processes:
        for thread in process.threads():
            with suppress(ProcessLookupError):  # a thread that has just ended
                os.sched_setaffinity(thread.id, cores)


@contextmanager
def pinned(cores: set[int]) -> Iterator[None]:
    """Run the calling thread (and the processes it starts meanwhile) on ``cores``."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
