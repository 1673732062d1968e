"""A buffer of telemetry (captured requests, metric values) written out in batches.

Items are added by the threads that serve invocations and written by one flusher (a timer, ``wait_idle``,
shutdown). While the buffer holds anything it holds one unit of the local cloud's activity, so that
``wait_idle`` returns only once everything an invocation produced has been written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from localcloud.records import Activity

T = TypeVar("T")

logger = logging.getLogger(__name__)


class Buffer(Generic[T]):
    """Collects items and hands them to ``write`` in batches, one batch at a time.

    Parameters
    ----------
    write : Callable[[list[T]], None]
        Writes a batch; an exception is logged and the batch dropped (telemetry never fails a request).
    activity : Activity
        Holds one unit while items wait to be written.
    """

    def __init__(self, write: Callable[[list[T]], None], activity: Activity) -> None:
        self._write = write
        self._activity = activity
        self._items: list[T] = []
        self._holding = False
        self._lock = threading.Lock()
        self._flushing = threading.Lock()

    def add(self, item: T) -> None:
        """Queue one item."""
        with self._lock:
            self._items.append(item)
            if not self._holding:
                self._holding = True
                self._activity.begin()

    def flush(self) -> None:
        """Write what is queued (items added meanwhile wait for the next flush)."""
        with self._flushing:
            with self._lock:
                items, self._items = self._items, []
            if items:
                try:
                    self._write(items)
                except Exception:
                    logger.exception("writing %d telemetry items failed; they are dropped", len(items))
            with self._lock:
                if self._holding and not self._items:
                    self._holding = False
                    self._activity.end()
