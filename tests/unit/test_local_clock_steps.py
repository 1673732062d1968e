"""The local cloud's clock: real time plus an offset; advancing runs what falls due, in time order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from localcloud.clock import Clock, ClockError


class Ticking:
    """A hand-written ``Timed``: acts at fixed times, recording the clock's time when it does."""

    def __init__(
        self, clock: Clock, name: str, times: list[datetime], log: list[tuple[str, datetime]]
    ) -> None:
        self.clock, self.name, self.pending, self.log = clock, name, sorted(times), log

    def next_due(self, until: datetime) -> datetime | None:
        return self.pending[0] if self.pending and self.pending[0] <= until else None

    def run_due(self, until: datetime) -> None:
        while self.pending and self.pending[0] <= until:
            due = self.pending.pop(0)
            self.log.append((self.name, due))
            assert abs(self.clock.now() - due) < timedelta(seconds=1)  # it runs at its own time


def test_advancing_moves_the_clock_and_returns_the_new_time() -> None:
    clock = Clock()
    before = clock.now()

    reached = clock.advance(timedelta(hours=3))

    assert timedelta(hours=3) <= reached - before < timedelta(hours=3, seconds=1)
    assert timedelta(0) <= clock.now() - reached < timedelta(seconds=1)
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.moto_now().tzinfo is None


def test_what_falls_due_runs_in_time_order_each_at_its_time_then_the_listeners() -> None:
    # Given two participants whose times interleave, and a listener that notes the clock's time
    settled: list[int] = []
    clock = Clock(settle=lambda: settled.append(1))
    start = clock.now()
    log: list[tuple[str, datetime]] = []
    at = [start + timedelta(minutes=m) for m in (10, 20, 30, 40, 200)]
    clock.attach(Ticking(clock, "a", [at[0], at[2], at[4]], log))
    clock.attach(Ticking(clock, "b", [at[1], at[3]], log))
    heard: list[datetime] = []
    clock.after_step(lambda: heard.append(clock.now()))

    # When the clock advances an hour
    clock.advance(timedelta(hours=1))

    # Then the four times within it ran in order (not the one after), each settled and heard, then the end
    assert log == [("a", at[0]), ("b", at[1]), ("a", at[2]), ("b", at[3])]
    assert (len(settled), len(heard)) == (1 + 5, 5)  # settled before it moves, then after each step
    assert [abs(h - t) < timedelta(seconds=1) for h, t in zip(heard, at[:4], strict=False)] == [True] * 4
    assert abs(heard[-1] - (start + timedelta(hours=1))) < timedelta(seconds=1)


def test_what_is_in_flight_is_settled_before_anything_falls_due() -> None:
    # Given work in flight when the clock is advanced (an endpoint's captures still in their buffer)
    log: list[tuple[str, datetime]] = []
    clock = Clock(settle=lambda: log.append(("settled", clock.now())))
    start = clock.now()
    clock.attach(Ticking(clock, "schedule", [start + timedelta(minutes=1)], log))

    # When the clock advances past a schedule's time
    clock.advance(timedelta(hours=1))

    # Then the cloud settled before the schedule ran, at the time the advance began
    assert [name for name, _ in log[:2]] == ["settled", "schedule"]
    assert log[0][1] - start < timedelta(seconds=1)


def test_the_clock_never_goes_back() -> None:
    clock = Clock()

    with pytest.raises(ClockError, match="cannot go back"):
        clock.advance(timedelta(seconds=-1))

    assert clock.offset == timedelta(0)
