"""What the local cloud remembers about the work it did: Lambda invocations and event deliveries.

Tests assert on these records, and ``mlops local status`` shows them. They are plain frozen dataclasses
so that a snapshot handed out can never change under the reader.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

InvocationType = Literal["RequestResponse", "Event"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


@dataclass(frozen=True)
class InvocationRecord:
    """One run of a Lambda handler, as its REPORT log line would describe it.

    Attributes
    ----------
    function_name : str
        The function's physical name.
    request_id : str
        The invocation's ``aws_request_id``.
    invocation_type : str
        ``RequestResponse`` (synchronous) or ``Event`` (asynchronous).
    started_at : float
        Unix time at which the invocation began (a cold start's init included).
    duration_ms : float
        Wall-clock time of the handler, init excluded (the REPORT line's ``Duration``).
    cold_start : bool
        Whether a new execution environment was started for it.
    error_type : str | None
        ``errorType`` of the error payload, or None when the handler returned.
    error_message : str | None
        ``errorMessage`` of the error payload.
    """

    function_name: str
    request_id: str
    invocation_type: InvocationType
    started_at: float
    duration_ms: float
    cold_start: bool
    error_type: str | None = None
    error_message: str | None = None

    @property
    def succeeded(self) -> bool:
        """True when the handler returned a result."""
        return self.error_type is None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class DeliveryRecord:
    """One asynchronous delivery of an event to a Lambda function, with its retries.

    Attributes
    ----------
    delivery_id : str
        Identifies the delivery across its attempts.
    source : str
        What sent it: an EventBridge rule ARN, or ``lambda:Invoke`` for an ``Event`` invocation.
    function_arn : str
        The target function.
    status : str
        ``pending`` until the handler succeeds or the retries are exhausted.
    request_ids : tuple[str, ...]
        One request id per attempt, in order.
    error : str | None
        Why the last attempt failed.
    """

    delivery_id: str
    source: str
    function_arn: str
    status: DeliveryStatus
    request_ids: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)


class Activity:
    """Counts work in flight so that ``wait_idle`` can wait for all of it to finish.

    Every synchronous invocation and every queued or running delivery holds one unit from ``begin``
    to ``end``. Work started by work in flight (a handler that puts an event) begins before its parent
    ends, so the count only reaches zero when the whole cascade is done.
    """

    def __init__(self) -> None:
        self._busy = 0
        self._changed = threading.Condition()

    def begin(self) -> None:
        """Count one more unit of work in flight."""
        with self._changed:
            self._busy += 1

    def end(self) -> None:
        """Count one unit of work as finished."""
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    @property
    def busy(self) -> int:
        """How many units of work are in flight."""
        with self._changed:
            return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no work is in flight; return False if ``timeout`` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout=timeout)
