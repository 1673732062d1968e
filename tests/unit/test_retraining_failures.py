"""The retraining use case when something fails half-way, or an event comes twice.

Every action (start, prepare, defer, alert) comes after the decisions are recorded. A failed action
raises, so that Lambda delivers the event again (asynchronous invocations: two retries); each delivery
is then a duplicate that acts on the recorded decision again. Each case ends with exactly one run or a
recorded reason, and never with a half-written record. Hand-written fakes; the policy is the real one.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from domain.retraining.config import RetrainingConfig
from domain.retraining.state import PolicyState
from domain.retraining.triggers import PolicyTrigger
from domain.retraining.use_case import HandledTrigger, handle
from domain.training.runs import RunRequest, Trigger
from tests.retraining_fakes import (
    NEW,
    NOW,
    OLD,
    FakeActions,
    FakeObservations,
    FakeStepFunctions,
    FakeStore,
    ServiceUnavailableError,
    accepted,
    drift,
)

DELIVERIES = 3  # Lambda's asynchronous invocation: the first and two retries


def deliver(
    trigger: PolicyTrigger,
    store: FakeStore,
    seen: FakeObservations,
    actions: FakeActions,
    config: RetrainingConfig | None = None,
) -> HandledTrigger:
    return handle(trigger, config=config or RetrainingConfig(), store=store, observations=seen,
                  actions=actions, now=lambda: NOW)  # fmt: skip


def deliver_until_done(
    trigger: PolicyTrigger, store: FakeStore, seen: FakeObservations, actions: FakeActions, **more: object
) -> list[HandledTrigger | Exception]:
    """Deliver as Lambda does: again after a failure, three times at most."""
    answers: list[HandledTrigger | Exception] = []
    for _ in range(DELIVERIES):
        try:
            answers.append(deliver(trigger, store, seen, actions, **more))  # type: ignore[arg-type]
        except ServiceUnavailableError as error:
            answers.append(error)
            continue
        break
    return answers


def accepted_run() -> str:
    return RunRequest("churn", NEW, Trigger("accepted")).name


def test_a_start_failing_once_is_retried_by_the_next_delivery_into_exactly_one_run() -> None:
    # Given Step Functions failing the first start
    store, sfn = FakeStore(), FakeStepFunctions()
    actions = FakeActions(sfn, start=1)

    # When Lambda delivers the accepted version until it is handled
    answers = deliver_until_done(accepted(), store, FakeObservations(sfn), actions)

    # Then the retry started the one run, and the failure is recorded beside the decision
    first, second = answers
    assert isinstance(first, ServiceUnavailableError)
    assert isinstance(second, HandledTrigger) and second.runs_started == 1
    assert sfn.executions == {accepted_run(): 1}
    assert store.outcomes() == ["started", "skipped", "duplicate"]
    assert "starting run" in store.decisions[1].reason and "unavailable" in store.decisions[1].reason


def test_a_start_failing_on_every_delivery_leaves_no_run_and_a_recorded_reason() -> None:
    # Given Step Functions failing every start
    store, sfn = FakeStore(), FakeStepFunctions()

    # When Lambda gives up after three deliveries
    answers = deliver_until_done(accepted(), store, FakeObservations(sfn), FakeActions(sfn, start=DELIVERIES))

    # Then no run exists, and the record says the start failed and where the event is kept
    assert all(isinstance(answer, ServiceUnavailableError) for answer in answers)
    assert sfn.executions == {}
    failures = [d for d in store.decisions if d.outcome == "skipped"]
    assert len(failures) == DELIVERIES
    assert all("dead-letter queue" in d.reason and accepted_run() in d.reason for d in failures)
    assert len({d.decision_id for d in store.decisions}) == len(store.decisions)


def test_a_start_failed_after_recording_frees_the_slot_once_the_listing_grace_is_over() -> None:
    # Given a start recorded whose every delivery failed (the run never existed)
    store, sfn = FakeStore(), FakeStepFunctions()
    deliver_until_done(accepted(), store, FakeObservations(sfn), FakeActions(sfn, start=DELIVERIES))
    later = dataclasses.replace(accepted(), key=OLD, dataset_version=OLD, at=NOW + timedelta(minutes=11))

    # When another version is accepted after the 10 minutes a new run may take to be listed
    handled = handle(later, config=RetrainingConfig(), store=store, observations=FakeObservations(sfn),
                     actions=FakeActions(sfn), now=lambda: NOW + timedelta(minutes=11))  # fmt: skip

    # Then it starts: the recorded start that never began does not hold the dataset
    assert [d.outcome for d in handled.decisions] == ["started"]
    assert handled.runs_started == 1


def test_a_prepared_upload_failing_once_is_written_once_by_the_retry() -> None:
    # Given new labels, and S3 failing the first write of the upload
    store, actions = FakeStore(), FakeActions(prepare=1)
    seen = FakeObservations(latest=OLD, serving=OLD, new_labels=40)

    # When the drift alarm is delivered until handled
    answers = deliver_until_done(drift(), store, seen, actions)

    # Then the upload the decision names is written once, by the retry, and no run is started yet
    assert isinstance(answers[0], ServiceUnavailableError) and len(answers) == 2
    (preparing,) = [d for d in store.decisions if d.outcome == "preparing"]
    assert actions.uploads == {f"incoming/churn/retraining/{preparing.decision_id}.parquet": 1}
    assert actions.started == {}
    assert "writing the prepared upload failed" in store.decisions[1].reason


def test_a_deferral_schedule_failing_once_is_set_by_the_retry() -> None:
    # Given the daily cap reached (one run a day, started an hour ago), and Scheduler failing once
    config = RetrainingConfig(max_runs_per_day=1)
    store, actions = FakeStore(), FakeActions(defer=1)
    store.states["churn"] = PolicyState("churn", revision=1, starts=(NOW - timedelta(hours=1),))

    # When a version is accepted, delivered until handled
    answers = deliver_until_done(accepted(), store, FakeObservations(), actions, config=config)

    # Then the version waits, and its deferral schedule is set for when the cap allows a start
    assert len(answers) == 2
    assert actions.schedules == {"churn": NOW + timedelta(hours=23)}
    assert store.states["churn"].pending is not None
    assert actions.started == {}


def test_an_alert_failing_leaves_the_skipped_decision_and_the_failure_recorded() -> None:
    # Given nothing new to learn from, and SNS failing
    store, actions = FakeStore(), FakeActions(alert=DELIVERIES)

    # When the drift alarm is delivered until Lambda gives up
    answers = deliver_until_done(drift(), store, FakeObservations(latest=OLD, serving=OLD), actions)

    # Then the first delivery failed to alert; the retries are duplicates that alert nothing (the reason
    # is recorded, with the failure), and no run starts
    assert isinstance(answers[0], ServiceUnavailableError)
    assert [type(answer) for answer in answers[1:]] == [HandledTrigger]
    assert store.outcomes() == ["skipped", "skipped", "duplicate"]
    assert "nothing new to learn from" in store.decisions[0].reason
    assert "alerting the team failed" in store.decisions[1].reason
    assert actions.started == {}


def test_a_decisions_table_failure_records_nothing_and_acts_on_nothing() -> None:
    # Given DynamoDB failing the first write
    store, sfn = FakeStore(), FakeStepFunctions()
    store.fail_writes = 1

    # When the version is delivered until handled
    answers = deliver_until_done(accepted(), store, FakeObservations(sfn), FakeActions(sfn))

    # Then the first delivery wrote nothing and started nothing; the retry decided afresh, one run
    assert isinstance(answers[0], ServiceUnavailableError)
    assert store.outcomes() == ["started"]
    assert sfn.executions == {accepted_run(): 1}


def test_an_event_delivered_twice_at_once_starts_one_run() -> None:
    # Given a second delivery that wins the write (and starts the run) while the first decides
    store, sfn = FakeStore(), FakeStepFunctions()
    other: list[HandledTrigger] = []
    store.on_write.append(lambda: other.append(deliver(accepted(), store, FakeObservations(sfn),
                                                       FakeActions(sfn))))  # fmt: skip

    # When the first delivery writes
    first = deliver(accepted(), store, FakeObservations(sfn), FakeActions(sfn))

    # Then it lost, decided again as a duplicate, and its start found the run there: one run in all
    assert first.attempts == 2
    assert [d.outcome for d in first.decisions] == ["duplicate", "started"]
    assert first.runs_started == 0 and other[0].runs_started == 1
    (started,) = [d for d in first.decisions if d.outcome == "started"]
    assert first.acted[started.decision_id].endswith("(already started)")
    assert sfn.executions == {accepted_run(): 2}  # asked twice, started once
    assert store.outcomes() == ["started", "duplicate"]


def test_a_redelivery_after_a_handled_event_says_the_run_was_already_started() -> None:
    # Given an event fully handled, whose Lambda failed afterwards (say, on its metrics)
    store, sfn = FakeStore(), FakeStepFunctions()
    deliver(accepted(), store, FakeObservations(sfn), FakeActions(sfn))

    # When Lambda delivers it again
    again = deliver(accepted(), store, FakeObservations(sfn), FakeActions(sfn))

    # Then nothing more starts, and what was done says so
    assert again.runs_started == 0
    assert [v for v in again.acted.values() if v.endswith("(already started)")]
    assert len(sfn.executions) == 1


def test_a_run_step_functions_has_already_is_recorded_as_already_started_not_as_a_start() -> None:
    # Given the policy's memory of the version gone (its key forgotten), Step Functions having its run
    store, sfn = FakeStore(), FakeStepFunctions({accepted_run(): 1})
    actions = FakeActions(sfn)

    # When the version's event is decided
    handled = deliver(accepted(), store, FakeObservations(sfn), actions)

    # Then the record says the run was started before, nothing is asked of Step Functions, nothing counted
    (decision,) = handled.decisions
    assert decision.outcome == "skipped"
    assert f"already started: run {accepted_run()}" in decision.reason
    assert sfn.executions == {accepted_run(): 1}
    assert store.states["churn"].starts == ()
    assert handled.runs_started == 0


def test_an_action_failure_that_cannot_be_recorded_either_raises_the_action_s_error() -> None:
    # Given Step Functions failing, and DynamoDB failing right after the decision was written
    store = FakeStore()
    store.on_write.append(lambda: None)
    actions = FakeActions(start=1)
    store.on_write.append(lambda: setattr(store, "fail_writes", 5))

    # When the version is decided, then the start's error is what the caller sees
    with pytest.raises(ServiceUnavailableError, match="start"):
        deliver(accepted(), store, FakeObservations(actions.sfn), actions)
    assert store.outcomes() == ["started"]


def test_a_run_started_between_the_check_and_the_start_is_recorded_as_already_started() -> None:
    # Given Step Functions answering "no such run" to the check before recording, then having it at start
    store, sfn = FakeStore(), FakeStepFunctions({accepted_run(): 1})
    checked = FakeObservations(FakeStepFunctions())

    # When the version is decided
    handled = deliver(accepted(), store, checked, FakeActions(sfn))

    # Then the start is recorded, then a note that it found the run there; nothing counts as started
    assert store.outcomes() == ["started", "skipped"]
    assert f"run {accepted_run()} existed when it was started: already started" in store.decisions[1].reason
    assert handled.runs_started == 0
    assert sfn.executions == {accepted_run(): 2}
