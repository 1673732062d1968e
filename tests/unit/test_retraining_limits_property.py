"""The policy's limits hold under any sequence of triggers: never over the daily cap, never two runs at once.

Each case plays 200 random triggers against the policy as its Lambda would: versions accepted in bursts,
alarms and the schedule, events delivered twice, runs that end at random, prepared uploads accepted late
or never, deferrals that come due. The world is kept honest: a started run is listed until it ends.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import Decision
from domain.retraining.policy import ModelInService
from domain.retraining.triggers import PolicyTrigger
from tests.retraining_support import T0, Driver, accepted, alarm, deferral, ended, minutes, number, scheduled

TRIGGERS = 200
DAY = timedelta(hours=24)


@dataclass(order=True)
class Due:
    """Something the world does at a time: a run ends, a prepared upload is accepted, a deferral fires."""

    at: datetime
    order: int
    trigger: PolicyTrigger = field(compare=False)


@dataclass
class Simulation:
    rng: random.Random
    driver: Driver
    now: datetime = T0
    versions: int = 0
    due: list[Due] = field(default_factory=list)
    delivered: list[PolicyTrigger] = field(default_factory=list)
    started: list[tuple[datetime, str, int]] = field(default_factory=list)  # when, run, runs already running
    deferral_at: datetime | None = None
    decided: int = 0

    def schedule(self, at: datetime, trigger: PolicyTrigger) -> None:
        heapq.heappush(self.due, Due(at, len(self.delivered) + len(self.due), trigger))

    def outside(self) -> PolicyTrigger:
        """A trigger from outside: new data (often in bursts), an alarm, the schedule, or one seen before."""
        roll = self.rng.random()
        if roll < 0.1 and self.delivered:
            return self.rng.choice(self.delivered)
        if roll < 0.55:
            self.versions += 1
            return accepted(self.versions, self.now)
        if roll < 0.75:
            return alarm(self.now, "drift_alarm")
        if roll < 0.9:
            return alarm(self.now, "performance_alarm")
        return scheduled(self.now)

    def play(self, trigger: PolicyTrigger) -> None:
        world = self.driver.world
        world.new_labels = self.rng.choice([0, 0, 40, 300])
        world.newest_label_at = self.now if world.new_labels else None
        running_before = len(world.running)
        decisions = self.driver.decide(trigger, now=self.now)
        self.decided += 1
        self.delivered.append(trigger)
        for decision in decisions:
            self.follow(decision, running_before)

    def follow(self, decision: Decision, running_before: int) -> None:
        if decision.run is not None:
            self.started.append((self.now, decision.run.name, running_before))
            self.schedule(self.now + minutes(self.rng.randint(5, 300)), ended(decision.run.name, T0))
        if decision.outcome == "preparing" and self.rng.random() < 0.85:
            self.versions += 1
            key = f"incoming/churn/retraining/{decision.decision_id}.parquet"
            self.schedule(
                self.now + minutes(self.rng.randint(1, 90)), accepted(self.versions, T0, upload_key=key)
            )
        if decision.defer_until is not None:
            self.deferral_at = decision.defer_until
            self.schedule(decision.defer_until, deferral(decision.defer_until))

    def step(self) -> None:
        """Advance to the next thing that happens (something due, or a trigger from outside) and decide it."""
        delay = self.rng.choice([0.05, 0.3, 1, 10, 45, 120, 400])
        outside_at = self.now + minutes(delay)
        if self.due and self.due[0].at <= outside_at:
            due = heapq.heappop(self.due)
            self.now = due.at
            self.play_due(due.trigger)
            return
        self.now = outside_at
        self.play(self.outside())

    def play_due(self, trigger: PolicyTrigger) -> None:
        if trigger.kind == "deferred" and trigger.at != self.deferral_at:
            return  # replaced by a later deferral: one schedule per dataset
        if trigger.kind == "run_ended" and trigger.run_name is not None:
            run = self.driver.world.running.pop(trigger.run_name)
            self.driver.world.model = ModelInService(len(self.started), run.dataset_version, None)
            trigger = ended(trigger.run_name, self.now)
        if trigger.kind == "accepted":
            trigger = accepted(number(trigger.dataset_version), self.now, upload_key=trigger.upload_key)
        self.play(trigger)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("cooldown", [0, 360])
def test_starts_stay_within_the_daily_cap_and_one_at_a_time(seed: int, cooldown: int) -> None:
    # Given the policy with one run at a time and at most 6 a day
    config = RetrainingConfig(cooldown_minutes=cooldown, max_runs_per_day=6, max_concurrent_runs=1)
    simulation = Simulation(random.Random(seed), Driver(config=config))

    # When 200 random triggers are decided
    while simulation.decided < TRIGGERS:
        simulation.step()

    # Then no 24 hours hold more than 6 starts, and no run started while another was running
    times = [when for when, _, _ in simulation.started]
    cap = config.max_runs_per_day
    assert all(later - first >= DAY for first, later in zip(times, times[cap:], strict=False))
    assert [name for _, name, running in simulation.started if running] == []
    # And every decision but a repeated duplicate has an id of its own (the table is append-only)
    ids = [d.decision_id for d in simulation.driver.log if d.outcome != "duplicate"]
    assert len(ids) == len(set(ids))
    # And the play exercised the limits (a property that never meets them proves nothing)
    outcomes = {decision.outcome for decision in simulation.driver.log}
    assert {"started", "deferred", "superseded", "duplicate", "skipped"} <= outcomes
    assert len(simulation.started) >= 5
