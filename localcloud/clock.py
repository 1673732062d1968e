"""The local cloud's clock: real time plus an offset that tests move forward.

What the local cloud itself timestamps reads this clock (``cloud.clock.now()``): the endpoints' metric
data points and their captured data (``inferenceTime`` and the object key), the EMF metrics of Lambda
logs that give no ``_aws.Timestamp``, the times EventBridge Scheduler fires at, and the "now" alarms are
evaluated at. ``advance(delta)`` settles the cloud (what is in flight done and written), then moves time
forward at once: every timed participant (the schedules) runs what falls due in between, in time order,
each at its own time (the clock reads that time while it runs), the cloud settling after each (every
invocation it set off done, the metrics written); then each step listener (the alarm evaluation) runs at
the new time.

Lambda handlers read it too: each invocation carries the offset (``offset``) at the moment it is sent,
and the worker shifts the handler's wall-clock time by it (``localcloud.awslambda.bootstrap``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timed(Protocol):
    """Something that acts at given times (EventBridge Scheduler's schedules)."""

    def next_due(self, until: datetime) -> datetime | None:
        """The earliest time, not after ``until``, at which it has something left to do; None if none."""

    def run_due(self, until: datetime) -> None:
        """Do everything due up to ``until`` (inclusive)."""


class ClockError(ValueError):
    """The clock was asked to do what it cannot (go back in time)."""


class Clock:
    """Real UTC time plus an offset; ``advance`` moves the offset and runs what falls due.

    Parameters
    ----------
    settle : Callable[[], None] | None
        Waits until the work a step set off is done (the local cloud's ``wait_idle``).
    """

    def __init__(self, settle: Callable[[], None] | None = None) -> None:
        self._offset = timedelta(0)
        self._settle = settle
        self._timed: list[Timed] = []
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._advancing = threading.Lock()  # one advance at a time

    @property
    def offset(self) -> timedelta:
        """How far ahead of the machine's time the clock is."""
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        """The clock's time: an aware UTC datetime."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def moto_now(self) -> datetime:
        """The clock's time as moto keeps times: naive UTC."""
        return self.now().replace(tzinfo=None)

    def attach(self, timed: Timed) -> None:
        """Let ``timed`` run what falls due when the clock is advanced."""
        self._timed.append(timed)

    def after_step(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` at each time the clock stops at while advancing, and at the end."""
        self._listeners.append(listener)

    def advance(self, delta: timedelta) -> datetime:
        """Settle, then move the clock ``delta`` forward, running what falls due; return the new time.

        Raises
        ------
        ClockError
            If ``delta`` is negative: the clock never goes back (nothing that already happened unhappens).
        """
        if delta < timedelta(0):
            raise ClockError(
                f"the local cloud's clock cannot go back (advance({delta!r})); advance it by a positive "
                "timedelta, or start a new local cloud"
            )
        with self._advancing:
            # What happened before the jump is written first (an endpoint's captures and metrics wait up
            # to a second in their buffers): a schedule due after it must find it, as it would on AWS
            # after that much time.
            if self._settle is not None:
                self._settle()
            target = self.now() + delta
            while (due := self._next_due(target)) is not None:
                self._move_to(due)
                for timed in self._timed:
                    timed.run_due(due)
                self._step()
            self._move_to(target)
            self._step()
            return target

    def _next_due(self, until: datetime) -> datetime | None:
        dues = [t for timed in self._timed if (t := timed.next_due(until)) is not None]
        return min(dues) if dues else None

    def _move_to(self, moment: datetime) -> None:
        # Real time passes while steps run: the offset is set so that now() reads ``moment`` at once.
        with self._lock:
            ahead = moment - (datetime.now(UTC) + self._offset)
            if ahead > timedelta(0):
                self._offset += ahead

    def _step(self) -> None:
        if self._settle is not None:
            self._settle()
        for listener in self._listeners:
            listener()
