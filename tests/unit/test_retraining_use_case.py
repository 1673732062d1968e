"""The retraining policy's use case: decided once, recorded against the revision read, then acted on.

Hand-written fakes behind the use case's Protocols; the policy (``decide``) is the real one. Given / When /
Then, no network.
"""

from __future__ import annotations

import dataclasses

import pytest

from domain.retraining.config import RetrainingConfig
from domain.retraining.state import PolicyState, RunningRun
from domain.retraining.triggers import PolicyTrigger
from domain.retraining.use_case import HandledTrigger, PolicyConflictError, handle
from tests.retraining_fakes import (
    NOW,
    OLD,
    FakeActions,
    FakeObservations,
    FakeStore,
    ServiceUnavailableError,
    accepted,
    drift,
)


def run(
    trigger: PolicyTrigger, store: FakeStore, seen: FakeObservations, actions: FakeActions, attempts: int = 5
) -> HandledTrigger:
    return handle(trigger, config=RetrainingConfig(), store=store, observations=seen, actions=actions,
                  now=lambda: NOW, attempts=attempts)  # fmt: skip


def test_an_accepted_version_starts_one_run_recorded_with_the_state_it_leads_to() -> None:
    store, actions = FakeStore(), FakeActions()

    handled = run(accepted(), store, FakeObservations(), actions)

    (decision,) = handled.decisions
    assert decision.outcome == "started" and decision.run is not None
    assert actions.started == {decision.run.name: 1}
    assert handled.acted[decision.decision_id].endswith(decision.run.name)
    assert store.decisions == [decision]
    assert store.states["churn"].revision == 1 and accepted().key in store.states["churn"].seen


def test_the_same_event_twice_starts_one_run_and_records_the_duplicate() -> None:
    store, actions = FakeStore(), FakeActions()
    run(accepted(), store, FakeObservations(), actions)

    again = run(accepted(), store, FakeObservations(), actions)

    assert again.decisions[0].outcome == "duplicate"
    assert [d.outcome for d in store.decisions] == ["started", "duplicate"]
    # The redelivery asks for the recorded run again, by the same name: Step Functions starts it once
    (name,) = actions.started
    assert name == store.decisions[0].run.name  # type: ignore[union-attr]


def test_a_start_that_failed_after_recording_is_acted_on_again_when_the_event_is_redelivered() -> None:
    # Given a first delivery whose decision was recorded but whose start failed
    store = FakeStore()
    with pytest.raises(ServiceUnavailableError):
        run(accepted(), store, FakeObservations(), FakeActions(start=1))
    actions = FakeActions()

    # When Lambda delivers the event again
    again = run(accepted(), store, FakeObservations(), actions)

    # Then it is a duplicate for the policy, and the recorded run is started (once, by its name)
    assert [d.outcome for d in again.decisions] == ["duplicate", "started"]
    assert list(actions.started.values()) == [1]


def test_a_decision_that_lost_the_write_reads_the_winner_s_state_and_decides_again() -> None:
    # Given another Lambda that, between our read and our write, started a run of the dataset
    store, seen, actions = FakeStore(), FakeObservations(), FakeActions()
    winner = run(accepted(OLD), FakeStore(), FakeObservations(latest=OLD), FakeActions())
    started = RunningRun(name=winner.decisions[0].run.name, dataset_version=OLD, started_at=NOW)  # type: ignore[union-attr]
    store.before_write.append(
        dataclasses.replace(PolicyState(dataset="churn"), revision=1, started_runs=(started,), starts=(NOW,),
                            seen=(OLD,))
    )  # fmt: skip

    # When our accepted version is decided
    handled = run(accepted(), store, seen, actions)

    # Then the first write lost, the second decided on the winner's state: the version waits for the slot
    assert handled.attempts == 2 and seen.calls == 2
    assert [d.outcome for d in handled.decisions] == ["deferred"]
    assert actions.started == {}
    assert store.states["churn"].revision == 2 and store.states["churn"].pending is not None


def test_a_trigger_that_keeps_losing_the_write_is_not_decided() -> None:
    store = FakeStore()
    store.before_write.extend(
        dataclasses.replace(PolicyState(dataset="churn"), revision=n) for n in range(1, 4)
    )

    with pytest.raises(PolicyConflictError, match="3 attempts"):
        run(accepted(), store, FakeObservations(), FakeActions(), attempts=3)
    assert store.decisions == []


def test_a_drift_alarm_with_nothing_new_to_learn_from_starts_nothing_and_alerts_with_the_advice() -> None:
    store, actions = FakeStore(), FakeActions()

    handled = run(drift(), store, FakeObservations(latest=OLD, serving=OLD), actions)

    (decision,) = handled.decisions
    assert decision.outcome == "skipped" and decision.advice
    assert actions.alerts == [decision] and actions.started == {}
    assert handled.acted[decision.decision_id] == "alerted"
