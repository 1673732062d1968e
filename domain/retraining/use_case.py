"""The retraining policy's use case: one trigger read, decided once, recorded, then acted on.

Every trigger (an accepted version, an alarm, the schedule, a run that ended, the deferral) goes
through :func:`handle`:

1. read the dataset's policy state (with its revision) and what the platform looks like now;
2. decide (:func:`domain.retraining.policy.decide`, pure); a run it would start that Step Functions has
   already (its name is derived from version and trigger) is told to the policy, which decides again and
   records it as already started, so that no record claims (nor the cap counts) a run that did not start;
3. write the new state and the decisions in one transaction that holds only if the state's revision is
   still the one read: two triggers decided at once cannot both take the last free slot, the second
   reads the first's state and decides again;
4. act on each decision (start the run, prepare the upload, set the deferral, alert).

Acting comes after recording, so that only a decision that won the write is acted on. Every action is
idempotent (a run is started by a name derived from its trigger, the upload is written under the
decision's key, the deferral schedule is one per dataset), so a trigger delivered again after a failed
action is decided a duplicate and its recorded decision acted on again: nothing is lost and nothing
happens twice. An action that fails adds a decision saying so before its error reaches Lambda's retry,
so that a trigger whose every delivery fails still has its reason recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import Decision, decision_id
from domain.retraining.policy import Observations, decide
from domain.retraining.state import PolicyState
from domain.retraining.triggers import PolicyTrigger
from domain.state_limits import MAX_TEXT, cap_text

__all__ = [
    "DecisionActions",
    "DecisionConflictError",
    "DecisionStore",
    "HandledTrigger",
    "ObservationSource",
    "PolicyConflictError",
    "handle",
]

#: Alarm triggers whose "nothing started" is told to the team (the others are routine).
ALERTED_KINDS = frozenset({"drift_alarm", "performance_alarm", "schedule"})


class DecisionConflictError(Exception):
    """The state changed since it was read (another decision won the write): read and decide again."""


class PolicyConflictError(Exception):
    """The state kept changing under every attempt to decide: the trigger was not decided."""


class DecisionStore(Protocol):
    """The decisions table: a dataset's policy state, and the decisions made (append-only)."""

    def state(self, dataset: str) -> PolicyState:
        """The dataset's state as last written (a fresh one at revision 0 when none was)."""
        ...

    def record(self, before: PolicyState, after: PolicyState, decisions: Sequence[Decision]) -> None:
        """Write ``after`` and ``decisions`` at once, if the stored revision is still ``before``'s.

        Raises
        ------
        DecisionConflictError
            When another writer changed the state since ``before`` was read.
        """
        ...

    def decided(self, dataset: str, trigger_key: str) -> list[Decision]:
        """The recorded decisions (not duplicates) of the trigger with this key, in the order made."""
        ...


class ObservationSource(Protocol):
    """What the policy sees of the platform when it decides."""

    def observe(self, dataset: str, state: PolicyState, now: datetime) -> Observations:
        """Runs in progress, the newest accepted version, the model in service and the new labels."""
        ...

    def existing(self, names: Sequence[str]) -> frozenset[str]:
        """Which of these run names Step Functions has an execution of, whatever its status."""
        ...


class DecisionActions(Protocol):
    """What a decision sets off."""

    def start(self, decision: Decision) -> tuple[str, bool]:
        """Start the decision's run (idempotent by its name); its ARN, and False if it existed already."""
        ...

    def prepare(self, decision: Decision) -> str:
        """Write the decision's training data as an upload (idempotent by its key); the key."""
        ...

    def defer(self, dataset: str, until: datetime) -> None:
        """Create or move the dataset's one-time deferral schedule to ``until``."""
        ...

    def alert(self, decision: Decision) -> None:
        """Tell the team a trigger started nothing, why, and what to do."""
        ...


@dataclass(frozen=True)
class HandledTrigger:
    """What one trigger came to: its decisions and what was done for each.

    Attributes
    ----------
    decisions : tuple of Decision
        As recorded (a duplicate's own "duplicate" decision first, then the recorded one it acted on
        again, if any).
    acted : mapping of str to str
        Per decision id, what was done: the run's ARN (``... (already started)`` when the run existed),
        the upload's key, ``deferred until ...``, ``alerted``.
    attempts : int
        How many times the trigger was decided (more than one after a conflict).
    runs_started : int
        Runs this call really started (not those that existed already).
    """

    decisions: tuple[Decision, ...]
    acted: Mapping[str, str]
    attempts: int
    runs_started: int = 0

    def summary(self) -> dict[str, object]:
        """The handler's answer: each decision's id, outcome and reason, and what was done."""
        return {
            "decisions": [
                {"decision_id": d.decision_id, "outcome": d.outcome, "reason": d.reason,
                 "dataset_version": d.dataset_version, "acted": self.acted.get(d.decision_id)}
                for d in self.decisions
            ],
            "attempts": self.attempts,
        }  # fmt: skip


def handle(
    trigger: PolicyTrigger,
    *,
    config: RetrainingConfig,
    store: DecisionStore,
    observations: ObservationSource,
    actions: DecisionActions,
    now: Callable[[], datetime],
    attempts: int = 5,
) -> HandledTrigger:
    """Decide ``trigger`` under the dataset's policy, record the decisions, then act on them.

    Parameters
    ----------
    trigger : PolicyTrigger
        The occurrence to decide (``domain.retraining.triggers.trigger_from_event``).
    config : RetrainingConfig
        The dataset's ``retraining`` configuration.
    store, observations, actions
        The decisions table, what the platform looks like, what a decision sets off.
    now : callable
        The time of each attempt (aware UTC).
    attempts : int
        How many times to decide again when another decision wins the write.

    Returns
    -------
    HandledTrigger

    Raises
    ------
    PolicyConflictError
        When every attempt lost the write: the trigger is not decided (the Lambda's retry decides it
        again later).
    """
    for attempt in range(1, attempts + 1):
        before = store.state(trigger.dataset)
        seen = observations.observe(trigger.dataset, before, now())
        decisions, after = decide(trigger, before, seen, config)
        # Each round learns at least one more existing name (decide never starts a known one), or stops.
        while fresh := observations.existing(_starts(decisions)) - seen.existing_runs:
            seen = replace(seen, existing_runs=seen.existing_runs | fresh)
            decisions, after = decide(trigger, before, seen, config)
        try:
            store.record(before, after, decisions)
        except DecisionConflictError:
            continue
        return _act(trigger, decisions, store, actions, attempt, now)
    raise PolicyConflictError(
        f"{trigger.dataset}: the policy state changed under each of {attempts} attempts to decide "
        f"{trigger.kind} {trigger.key}; it will be decided again when the event is retried"
    )


def _starts(decisions: Sequence[Decision]) -> list[str]:
    return [d.run.name for d in decisions if d.outcome == "started" and d.run is not None]


def _act(
    trigger: PolicyTrigger,
    decisions: Sequence[Decision],
    store: DecisionStore,
    actions: DecisionActions,
    attempt: int,
    now: Callable[[], datetime],
) -> HandledTrigger:
    acted: dict[str, str] = {}
    done: list[Decision] = []
    started = 0
    for decision in decisions:
        done.append(decision)
        todo = [(decision, True)]
        if decision.outcome == "duplicate":
            # Acted on again: the first delivery may have failed after recording (see the module).
            todo = [
                (original, False)
                for original in store.decided(decision.dataset, trigger.key)
                if original.outcome in ("started", "preparing", "deferred")
            ]
        for chosen, alert in todo:
            if chosen is not decision:
                done.append(chosen)
            try:
                what, new = _apply(chosen, actions, alert=alert)
            except Exception as error:
                _note(chosen, "failed", _failure(chosen, error), store, now)
                raise
            if alert and chosen.run is not None and not new:
                # Checked before recording, so only a run started in between: the record must say so.
                existed = f"{chosen.decision_id} was recorded, but run {chosen.run.name} existed"
                _note(
                    chosen, "already", f"decision {existed} when it was started: already started", store, now
                )
            started += new
            if what is not None:
                acted[chosen.decision_id] = what
    return HandledTrigger(decisions=tuple(done), acted=acted, attempts=attempt, runs_started=started)


def _failure(decision: Decision, error: Exception) -> str:
    """Why acting on ``decision`` failed, and what happens next (Lambda's retries, then its queue)."""
    what = {"started": f"starting run {decision.run.name if decision.run else ''}",
            "preparing": "writing the prepared upload", "deferred": "setting the deferral schedule",
            "skipped": "alerting the team"}.get(decision.outcome, "acting on it")  # fmt: skip
    return (
        f"decision {decision.decision_id} ({decision.outcome}) was recorded, but {what} failed: {error}. "
        "The event is delivered again (Lambda retries it twice) and each delivery acts on the recorded "
        "decision again; if none succeeds, the event is kept in the policy's dead-letter queue and this "
        "decision is the last word"
    )


def _note(
    decision: Decision, subject: str, reason: str, store: DecisionStore, now: Callable[[], datetime]
) -> None:
    """Record what became of acting on ``decision`` as a further "skipped" decision (best effort: the
    decision stays as recorded, append-only, and the caller goes on as it would have)."""
    for _ in range(3):
        before = store.state(decision.dataset)
        note = Decision(
            decision_id=decision_id(decision.trigger, f"{subject}:{decision.decision_id}:{before.revision}"),
            dataset=decision.dataset,
            trigger=decision.trigger,
            outcome="skipped",
            reason=cap_text(reason, MAX_TEXT),
            dataset_version=decision.dataset_version,
            decided_at=now(),
        )
        try:
            store.record(before, before, [note])
        except DecisionConflictError:
            continue
        except Exception:
            return  # not recorded either: the caller's error (if any) is the one that matters
        return


def _apply(decision: Decision, actions: DecisionActions, *, alert: bool) -> tuple[str | None, bool]:
    """What was done for ``decision``, and whether a run was started by it now."""
    if decision.outcome == "started" and decision.run is not None:
        arn, started = actions.start(decision)
        # The run existed: started by this decision's earlier delivery, or (a race the check before
        # recording narrows to nothing) by another; either way this call started nothing.
        return (arn if started else f"{arn} (already started)"), started
    if decision.outcome == "preparing" and decision.prepare is not None:
        return actions.prepare(decision), False
    if decision.outcome == "deferred" and decision.defer_until is not None:
        actions.defer(decision.dataset, decision.defer_until)
        return f"re-examined at {decision.defer_until.isoformat()}", False
    if alert and decision.outcome == "skipped" and decision.trigger.kind in ALERTED_KINDS:
        actions.alert(decision)
        return "alerted", False
    return None, False
