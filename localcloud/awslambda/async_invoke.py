"""Lambda's asynchronous invocation: a queue in front of the function, with retries.

AWS queues an asynchronous event (EventBridge targets, ``Invoke`` with ``InvocationType=Event``),
returns at once, and runs the function later; on a function error it retries twice (or
``MaximumRetryAttempts`` of the function's event invoke config), then gives up: the event goes to
the function's on-failure destination and dead-letter queue (``async_failures``). Locally the retries
wait a fraction of a second instead of one and two minutes, so tests stay fast while the number of
attempts stays the same.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from localcloud.awslambda.async_failures import GiveUp, deliver_failure, event_invoke_config
from localcloud.awslambda.executor import LambdaExecutor
from localcloud.records import Activity, DeliveryRecord

DEFAULT_RETRY_DELAYS = (0.2, 0.4)
# Deliveries run side by side, as Lambda scales out; four keep a laptop responsive and still show
# the concurrency bugs that one at a time would hide.
DEFAULT_DELIVERY_THREADS = 4
_AWS_DEFAULT_RETRIES = 2


class AsyncInvoker:
    """Delivers events to functions asynchronously from a scheduled queue drained by worker threads.

    Parameters
    ----------
    executor : LambdaExecutor
        Runs each attempt.
    activity : Activity
        Holds one unit per delivery until it succeeds or fails for good, for ``wait_idle``.
    find_function : Callable[[str], Any]
        Returns moto's model of the function with that ARN (raises if there is none).
    retry_delays : Sequence[float]
        Seconds before the first and the second retry.
    threads : int
        How many deliveries may run at once.
    """

    def __init__(
        self,
        *,
        executor: LambdaExecutor,
        activity: Activity,
        find_function: Callable[[str], Any],
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        threads: int = DEFAULT_DELIVERY_THREADS,
    ) -> None:
        self._executor = executor
        self._activity = activity
        self._find_function = find_function
        self._retry_delays = tuple(retry_delays)
        self._queue: list[tuple[float, int, str, Any]] = []
        self._order = itertools.count()
        self._records: dict[str, DeliveryRecord] = {}
        self._changed = threading.Condition()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._drain, name=f"localcloud-delivery-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, function_arn: str, event: Any, *, source: str) -> DeliveryRecord:
        """Queue ``event`` for ``function_arn`` and return at once, as the asynchronous Invoke API does."""
        record = DeliveryRecord(
            delivery_id=str(uuid.uuid4()), source=source, function_arn=function_arn, status="pending"
        )
        self._activity.begin()
        with self._changed:
            self._records[record.delivery_id] = record
            heapq.heappush(self._queue, (time.monotonic(), next(self._order), record.delivery_id, event))
            self._changed.notify()
        return record

    def reject(self, function_arn: str, *, source: str, error: str) -> DeliveryRecord:
        """Record a delivery that AWS would refuse before invoking (such as a missing permission)."""
        record = DeliveryRecord(
            delivery_id=str(uuid.uuid4()),
            source=source,
            function_arn=function_arn,
            status="failed",
            error=error,
        )
        with self._changed:
            self._records[record.delivery_id] = record
        return record

    def deliveries(self, function_arn: str | None = None) -> list[DeliveryRecord]:
        """Every delivery so far, in submission order, optionally to one function only."""
        with self._changed:
            return [r for r in self._records.values() if function_arn in (None, r.function_arn)]

    def shutdown(self) -> None:
        """Stop the delivery threads; queued deliveries are dropped."""
        with self._changed:
            self._stopping = True
            dropped = len(self._queue)
            self._queue.clear()
            self._changed.notify_all()
        for _ in range(dropped):
            self._activity.end()
        for thread in self._threads:
            thread.join(timeout=5)

    def _drain(self) -> None:
        while True:
            with self._changed:
                while not self._stopping and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._changed.wait(timeout=wait)
                if self._stopping:
                    return
                _, _, delivery_id, event = heapq.heappop(self._queue)
                record = self._records[delivery_id]
            self._attempt(record, event)

    def _attempt(self, record: DeliveryRecord, event: Any) -> None:
        try:
            function = self._find_function(record.function_arn)
        except Exception as lookup_error:  # moto raises its own not-found types; any failure ends it
            self._finish(record, status="failed", error=f"{type(lookup_error).__name__}: {lookup_error}")
            return
        outcome = self._executor.invoke(function, event, "Event")
        record = dataclasses.replace(record, request_ids=(*record.request_ids, outcome.request_id))
        if not outcome.function_error:
            self._finish(record, status="succeeded", error=None)
            return
        error = f"{outcome.error_type}: {outcome.payload.decode(errors='replace')}"
        retries_done = len(record.request_ids) - 1
        if retries_done >= _max_retries(function):
            failed = GiveUp(function, event, outcome.request_id, len(record.request_ids), outcome.payload)
            # Before this delivery ends, so that wait_idle also waits for what it hands on.
            deliver_failure(
                failed, invoke_async=lambda arn, body: self.submit(arn, body, source=record.function_arn)
            )
            self._finish(record, status="failed", error=error)
            return
        delay = (
            self._retry_delays[min(retries_done, len(self._retry_delays) - 1)] if self._retry_delays else 0.0
        )
        with self._changed:
            self._records[record.delivery_id] = dataclasses.replace(record, error=error)
            heapq.heappush(
                self._queue, (time.monotonic() + delay, next(self._order), record.delivery_id, event)
            )
            self._changed.notify()

    def _finish(self, record: DeliveryRecord, *, status: str, error: str | None) -> None:
        with self._changed:
            self._records[record.delivery_id] = dataclasses.replace(record, status=status, error=error)  # type: ignore[arg-type]
        self._activity.end()


def _max_retries(function: Any) -> int:
    return int(event_invoke_config(function).get("MaximumRetryAttempts", _AWS_DEFAULT_RETRIES))
