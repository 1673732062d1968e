"""How many training jobs run at once: no more than the machine holds, the others waiting their turn.

On SageMaker each job gets instances of its own; here every job shares one machine, so past a number of
jobs (by default, one per CPU) a new job waits ``InProgress``/``Starting`` ("Preparing the instances for
training") until a running one ends, in the order the jobs were created. A job's ``MaxRuntimeInSeconds``
counts from when it leaves the queue: the API reference says only how long a job "can run", and SageMaker
counts a job's training and billable time from ``TrainingStartTime``, once its instances are ready, so
waiting for this machine (which stands for waiting for instances) is not held against the job.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable


def default_concurrency() -> int:
    """One job per CPU of the machine."""
    return max(1, os.cpu_count() or 1)


class JobQueue:
    """Starts at most ``concurrency`` jobs at once, the others in the order they were submitted.

    Parameters
    ----------
    concurrency : int
        How many jobs may run at once (at least 1).
    """

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"training concurrency must be at least 1, not {concurrency}")
        self._concurrency = concurrency
        self._running = 0
        self._waiting: collections.OrderedDict[str, Callable[[], None]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def submit(self, key: str, start: Callable[[], None]) -> None:
        """Call ``start`` now if a slot is free, else when one frees up (after those submitted before)."""
        with self._lock:
            self._waiting[key] = start
        self._dispatch()

    def done(self) -> None:
        """A started job has ended: its slot goes to the next job waiting."""
        with self._lock:
            self._running -= 1
        self._dispatch()

    def withdraw(self, key: str) -> bool:
        """Remove a job that has not started (stopped while waiting); False if it has started."""
        with self._lock:
            return self._waiting.pop(key, None) is not None

    def waiting(self) -> list[str]:
        """The jobs waiting, next first."""
        with self._lock:
            return list(self._waiting)

    def _dispatch(self) -> None:
        starts: list[Callable[[], None]] = []
        with self._lock:
            while self._waiting and self._running < self._concurrency:
                _, start = self._waiting.popitem(last=False)
                self._running += 1
                starts.append(start)
        for start in starts:
            start()
