"""The policy's working copy of a dataset's state while it decides one trigger: limits, starts, records.

:func:`domain.retraining.policy.decide` builds a :class:`Draft` from the stored state and the observations,
applies one rule to it, and freezes it back into a :class:`~domain.retraining.state.PolicyState`. The
limits (slots, the daily cap, the cooldown) are read here, once, with the words that explain them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import Decision, Outcome, decision_id
from domain.retraining.observations import Observations
from domain.retraining.state import SEEN_LIMIT, Pending, PolicyState, Preparing, RunningRun
from domain.retraining.triggers import PolicyTrigger, iso
from domain.state_limits import MAX_TEXT, cap_text
from domain.training.runs import RunRequest, Trigger

__all__ = ["DAY", "LISTING_GRACE", "Blocked", "Draft"]

DAY = timedelta(hours=24)
_SWITCHES: dict[str, tuple[Literal["on_drift", "on_performance"], str]] = {
    "drift_alarm": ("on_drift", "the drift alarm"),
    "performance_alarm": ("on_performance", "the performance alarm"),
}
# A run the policy started shows in ListExecutions at once; one still missing after this long has ended
# (its end event lost): forgetting it keeps a lost event from holding the dataset's slot forever.
LISTING_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Blocked:
    """Why no run may start now: no free slot (a run ends to free it) or the daily cap (until ``until``)."""

    limit: Literal["slot", "cap"]
    reason: str
    until: datetime | None = None


@dataclass
class Draft:
    """A dataset's policy state being changed by one decision, with what was observed."""

    trigger: PolicyTrigger
    seen: Observations
    config: RetrainingConfig
    starts: list[datetime]
    last_triggered_start: datetime | None
    started_runs: list[RunningRun]
    pending: Pending | None
    preparing: Preparing | None
    deferred_until: datetime | None
    decisions: list[Decision] = field(default_factory=list)
    ended: str | None = None  # the run whose end is being decided: no longer running, whatever is listed

    @classmethod
    def of(
        cls, state: PolicyState, trigger: PolicyTrigger, seen: Observations, config: RetrainingConfig
    ) -> Draft:
        """A working copy of ``state``, without what has expired by ``seen.now``."""
        now = seen.now
        listed = {run.name for run in seen.running}
        return cls(
            trigger=trigger,
            seen=seen,
            config=config,
            starts=sorted(moment for moment in state.starts if now - moment < DAY),
            last_triggered_start=state.last_triggered_start,
            started_runs=[
                run
                for run in state.started_runs
                if run.name in listed or run.started_at is None or now - run.started_at < LISTING_GRACE
            ],
            pending=state.pending,
            preparing=state.preparing,
            deferred_until=state.deferred_until
            if state.deferred_until and state.deferred_until > now
            else None,
        )

    @property
    def now(self) -> datetime:
        """The time of the decision (the observations')."""
        return self.seen.now

    @property
    def dataset(self) -> str:
        """The dataset decided for."""
        return self.trigger.dataset

    def freeze(self, state: PolicyState) -> PolicyState:
        """The new state: the next revision, with the trigger's key remembered."""
        seen = (*(key for key in state.seen if key != self.trigger.key), self.trigger.key)[-SEEN_LIMIT:]
        return replace(
            state,
            revision=state.revision + 1,
            starts=tuple(sorted(self.starts)),
            last_triggered_start=self.last_triggered_start,
            started_runs=tuple(self.started_runs),
            pending=self.pending,
            preparing=self.preparing,
            deferred_until=self.deferred_until,
            seen=seen,
        )

    def record(self, outcome: Outcome, reason: str, *, subject: str = "", **details: Any) -> Decision:
        """Add a decision of the trigger (``subject`` tells a further decision of it from the main one)."""
        decision = Decision(
            decision_id=decision_id(self.trigger, subject),
            dataset=self.dataset,
            trigger=self.trigger,
            outcome=outcome,
            reason=cap_text(reason, MAX_TEXT),
            decided_at=self.now,
            **details,
        )
        self.decisions.append(decision)
        return decision

    def switched_off(self) -> bool:
        """Record a skip when the configuration turns this trigger off; True if it did."""
        config, kind = self.config, self.trigger.kind
        if not config.enabled:
            self.record(
                "skipped",
                f"{self.trigger.reason}; retraining of {self.dataset} is switched off (retraining.enabled is "
                "false), so nothing starts by itself: start a run with `mlops pipeline start`",
                dataset_version=self.trigger.dataset_version,
            )
            return True
        if kind in _SWITCHES and not getattr(config, _SWITCHES[kind][0]):
            key, what = _SWITCHES[kind]
            self.record(
                "skipped",
                f"{self.trigger.reason}; retraining on {what} is switched off (retraining.{key} is false)",
            )
            return True
        return False

    # What runs

    def running(self) -> list[RunningRun]:
        """The dataset's runs in progress: those listed and those the policy started, once each."""
        runs = {run.name: run for run in (*self.seen.running, *self.started_runs) if run.name != self.ended}
        return list(runs.values())

    def in_progress(self) -> str | None:
        """What is in progress for the dataset, in words (None: nothing)."""
        texts = [f"run {run.name} on version {run.dataset_version} is in progress" for run in self.running()]
        if self.preparing is not None:
            texts.append(
                f"the upload prepared by decision {self.preparing.decision_id} ({self.preparing.upload_key}) "
                f"has not been accepted yet (asked for at {iso(self.preparing.since)})"
            )
        return "; ".join(texts) or None

    def slots_used(self) -> int:
        """Runs at once, counting a preparation as the run it will become."""
        return len(self.running()) + (self.preparing is not None)

    # Limits

    def cap_until(self) -> datetime | None:
        """When the daily cap next allows a start; None when it allows one now."""
        reached = len(self.starts) - self.config.max_runs_per_day
        return None if reached < 0 else self.starts[reached] + DAY

    def cap_reason(self, until: datetime) -> str:
        """The daily cap, in words."""
        return (
            f"{len(self.starts)} runs were started in the last 24 hours and the cap "
            f"(retraining.max_runs_per_day) is {self.config.max_runs_per_day}; the next start is possible "
            f"at {iso(until)}"
        )

    def blocked(self) -> Blocked | None:
        """Why no run may start now (a busy slot first: its end frees it), or None."""
        if self.slots_used() >= self.config.max_concurrent_runs:
            return Blocked(
                "slot",
                f"{self.in_progress()} ({self.slots_used()} of at most {self.config.max_concurrent_runs} "
                "at once, retraining.max_concurrent_runs)",
            )
        until = self.cap_until()
        return None if until is None else Blocked("cap", self.cap_reason(until), until)

    def cooldown_until(self) -> datetime | None:
        """When the cooldown after the last alarm- or schedule-started run ends; None when it is over."""
        if self.last_triggered_start is None:
            return None
        until = self.last_triggered_start + timedelta(minutes=self.config.cooldown_minutes)
        return until if self.now < until else None

    def deferral(self, until: datetime) -> datetime | None:
        """The deferral schedule to set for ``until``; None when one set already fires by then."""
        if self.deferred_until is not None and self.now < self.deferred_until <= until:
            return None
        self.deferred_until = until
        return until

    # Changes

    def request(self, version: str, trigger: Trigger) -> RunRequest:
        """The run of ``version`` for ``trigger`` (its reason bounded as records allow)."""
        return RunRequest(self.dataset, version, replace(trigger, reason=cap_text(trigger.reason, MAX_TEXT)))

    def existing(self, run: RunRequest) -> str | None:
        """Why ``run`` exists already, in words; None when it may be started.

        A run's name is derived from its version and trigger, and Step Functions starts a name once: a
        start decided for an existing name starts nothing, so it must not be recorded (nor counted) as one.
        """
        name = run.name
        if name == self.ended:
            return f"run {name} on version {run.dataset_version} has just ended"
        if any(listed.name == name for listed in self.running()):
            return f"run {name} on version {run.dataset_version} is in progress"
        if name in self.seen.existing_runs:
            return f"run {name} on version {run.dataset_version} was started before (Step Functions has it)"
        return None

    def start(self, run: RunRequest, *, counts_as_triggered: bool) -> RunRequest:
        """``run`` to start now: counted in the cap (and the cooldown), remembered as running.

        Check :meth:`existing` first: a start is decided only for a name that does not exist.
        """
        self.starts.append(self.now)
        if counts_as_triggered:
            self.last_triggered_start = self.now
        self.started_runs.append(RunningRun(run.name, run.dataset_version, self.now))
        return run

    def supersede(self, pending: Pending, newer: str, newer_at: datetime, fate: str) -> None:
        """Record that ``pending`` will not be trained: ``newer`` (accepted at ``newer_at``) is newer."""
        self.record(
            "superseded",
            f"version {pending.dataset_version} (accepted at {iso(pending.accepted_at)}) will not be "
            f"trained: version {newer}, accepted at {iso(newer_at)}, is newer and {fate}",
            subject=f"superseded:{pending.dataset_version}",
            dataset_version=pending.dataset_version,
        )
        if self.pending == pending:
            self.pending = None
