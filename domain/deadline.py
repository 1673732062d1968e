"""The time an invocation has left, and a stream that stops reading when it runs out.

A function has a time limit (Lambda: at most 15 minutes); past it, the function is killed without a
word, and a retry of the same upload is killed the same way. So the validation watches the clock
itself, and stops early enough to record why: the deadline is the invocation's end less a margin for
writing that record. The clock is checked once per block read from the upload (a read is a block of
the stream, a megabyte or so, never a row), which costs nothing measurable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, cast

# Writing the failure record and the alert takes well under a second (the first alert of an execution
# environment also creates its SNS client: a few hundred ms); the rest is slack for a slow S3 or SNS
# answer. A short limit (seconds, in tests) keeps half of it instead.
SAFETY_MARGIN_SECONDS = 25.0


class ValidationTimeoutError(Exception):
    """The deadline passed while the upload was being read: validation stopped before its verdict.

    Attributes
    ----------
    bytes_read : int
        How far into the upload the read that stopped had got (in the current pass over it).
    limit_seconds : float
        The function's time limit.
    """

    def __init__(self, bytes_read: int, limit_seconds: float) -> None:
        super().__init__(
            f"stopped after {bytes_read} bytes, at the deadline of a {limit_seconds:.0f} s limit"
        )
        self.bytes_read = bytes_read
        self.limit_seconds = limit_seconds


@dataclass(frozen=True)
class Deadline:
    """A point in time (on ``clock``, in seconds) past which validation stops.

    Attributes
    ----------
    at : float
        The deadline, on ``clock``'s scale.
    limit_seconds : float
        The function's whole time limit, for the record that says why it stopped.
    clock : callable
        Monotonic seconds (``time.monotonic``; a fake clock in tests).
    """

    at: float
    limit_seconds: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(
        cls,
        remaining_seconds: float,
        *,
        margin_seconds: float = SAFETY_MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> Deadline:
        """The deadline of an invocation that has ``remaining_seconds`` left now, less a margin.

        Parameters
        ----------
        remaining_seconds : float
            What the runtime says is left (Lambda: ``get_remaining_time_in_millis() / 1000``), read at
            the start of the invocation, so that it is also the function's time limit.
        margin_seconds : float
            Kept for writing the failure record; at most half of ``remaining_seconds``.
        clock : callable
            Monotonic seconds.
        """
        margin = min(margin_seconds, remaining_seconds / 2)
        # What is left at the start is the limit, less a few milliseconds: whole seconds say it.
        limit = float(round(remaining_seconds)) if remaining_seconds >= 1 else remaining_seconds
        return cls(at=clock() + remaining_seconds - margin, limit_seconds=limit, clock=clock)

    def passed(self) -> bool:
        """True once the deadline is reached."""
        return self.clock() >= self.at

    def watch(self, opener: Callable[[], BinaryIO]) -> Callable[[], BinaryIO]:
        """``opener``, whose streams raise :class:`ValidationTimeoutError` on a read past the deadline."""

        def open_watched() -> BinaryIO:
            return cast(BinaryIO, _WatchedStream(opener(), self))

        return open_watched


class _WatchedStream:
    """A stream that checks the deadline before each read (one read is one block, not one row)."""

    def __init__(self, inner: BinaryIO, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        if self._deadline.passed():
            raise ValidationTimeoutError(self.bytes_read, self._deadline.limit_seconds)
        data = self._inner.read(size)
        self.bytes_read += len(data)
        return data

    def close(self) -> None:
        self._inner.close()
