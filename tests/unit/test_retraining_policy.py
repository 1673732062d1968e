"""The retraining policy's rules, one at a time: dedupe, switches, bursts of new data, the cap, cooldown."""

from __future__ import annotations

import re

import pytest

from domain.names import execution_name
from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import DECISION_ID_MAX, decision_id
from domain.retraining.policy import ModelInService, PolicyError, PolicyState, RunningRun, decide
from domain.retraining.triggers import iso
from domain.training.runs import Trigger
from tests.retraining_support import (
    DATASET,
    DRIFT_ALARM,
    PERFORMANCE_ALARM,
    T0,
    Driver,
    World,
    accepted,
    alarm,
    deferral,
    ended,
    minutes,
    only,
    scheduled,
    version,
)
from tests.retraining_support import number as version_number


def test_a_trigger_delivered_twice_is_decided_once() -> None:
    # Given an accepted version that started a run
    driver = Driver()
    first = only(driver.decide(accepted(1, T0)))
    state = driver.state

    # When the same event arrives again
    again = only(driver.decide(accepted(1, T0), now=T0 + minutes(1)))

    # Then the second is a duplicate that starts nothing and changes nothing
    assert first.outcome == "started"
    assert again.outcome == "duplicate"
    assert again.run is None
    assert version(1) in again.reason
    assert driver.state == state
    assert again.decision_id != first.decision_id


def test_an_alarm_episode_delivered_twice_starts_one_run() -> None:
    # Given newer data than the model in service and a drift alarm delivered twice
    driver = Driver(world=World(model=ModelInService(3, version(1), None), latest=(version(2), T0)))
    trigger = alarm(T0 + minutes(5))

    # When both deliveries are decided
    outcomes = [only(driver.decide(trigger)).outcome, only(driver.decide(trigger)).outcome]

    # Then one run starts
    assert outcomes == ["started", "duplicate"]


def test_retraining_switched_off_starts_nothing_and_names_the_key() -> None:
    # Given retraining disabled
    driver = Driver(config=RetrainingConfig(enabled=False))

    # When new data is accepted
    decision = only(driver.decide(accepted(1, T0)))

    # Then nothing starts, and the reason names the key and the way to start by hand
    assert decision.outcome == "skipped"
    assert "retraining.enabled" in decision.reason
    assert "mlops pipeline start" in decision.reason
    assert driver.world.running == {}


def test_retraining_on_drift_switched_off_skips_the_drift_alarm_only() -> None:
    # Given on_drift off, and newer data than the model in service
    world = World(model=ModelInService(3, version(1), None), latest=(version(2), T0))
    driver = Driver(config=RetrainingConfig(on_drift=False), world=world)

    # When the drift alarm fires, then the performance alarm
    drift = only(driver.decide(alarm(T0 + minutes(1), "drift_alarm")))
    performance = only(driver.decide(alarm(T0 + minutes(2), "performance_alarm")))

    # Then the drift alarm is skipped naming retraining.on_drift, the performance alarm retrains
    assert drift.outcome == "skipped"
    assert "retraining.on_drift" in drift.reason
    assert performance.outcome == "started"


def test_new_data_with_a_free_slot_starts_an_accepted_run() -> None:
    # Given no run in progress
    driver = Driver()

    # When a version is accepted
    decision = only(driver.decide(accepted(1, T0)))

    # Then an "accepted" run starts on it, counted in the cap but not in the cooldown
    assert decision.outcome == "started"
    assert decision.run is not None
    assert decision.run.trigger.kind == "accepted"
    assert decision.run.dataset_version == version(1)
    assert decision.run.name == execution_name(DATASET, version(1), decision.run.trigger)
    assert driver.state.starts == (T0,)
    assert driver.state.last_triggered_start is None
    assert [run.name for run in driver.state.started_runs] == [decision.run.name]


def test_a_burst_of_thirty_versions_coalesces_to_one_run_on_the_newest() -> None:
    # Given a run in progress
    driver = Driver()
    running = only(driver.decide(accepted(0, T0))).run
    assert running is not None

    # When thirty versions are accepted within 19 seconds
    burst = [d for n in range(1, 31) for d in driver.decide(accepted(n, T0 + minutes(1) + n * minutes(0.01)))]

    # Then each waits in turn, the one before it superseded, naming the newer version
    deferred = [d for d in burst if d.outcome == "deferred"]
    superseded = [d for d in burst if d.outcome == "superseded"]
    assert len(deferred) == 30
    assert len(superseded) == 29
    for old in superseded:
        number = version_number(old.dataset_version)
        assert f"version {version(number + 1)}" in old.reason
    assert driver.state.pending is not None
    assert driver.state.pending.dataset_version == version(30)
    assert not any(d.outcome == "started" for d in burst)

    # When the running run ends, one run starts, on the newest version
    after = driver.end(running.name, T0 + minutes(30))
    started = only(after)
    assert started.outcome == "started"
    assert started.run is not None
    assert started.run.dataset_version == version(30)
    assert started.run.trigger.kind == "accepted"
    assert driver.state.pending is None
    assert len({d.decision_id for d in driver.log}) == len(driver.log)


def test_the_seventh_start_in_a_day_is_deferred_until_the_first_leaves_the_day() -> None:
    # Given six versions trained one after another within 24 hours
    driver = Driver()
    for n in range(6):
        run = only(driver.decide(accepted(n, T0 + minutes(60 * n)))).run
        assert run is not None
        driver.end(run.name, T0 + minutes(60 * n + 30))

    # When a seventh is accepted
    seventh = only(driver.decide(accepted(6, T0 + minutes(400))))

    # Then it is deferred until the first start is 24 hours old
    assert seventh.outcome == "deferred"
    assert seventh.defer_until == T0 + minutes(24 * 60)
    assert "retraining.max_runs_per_day" in seventh.reason
    assert driver.state.deferred_until == T0 + minutes(24 * 60)

    # And an alarm at the cap is skipped, saying when the next start is possible
    driver.world.model = ModelInService(1, version(0), None)
    skipped = only(driver.decide(alarm(T0 + minutes(500))))
    assert skipped.outcome == "skipped"
    assert f"the next start is possible at {iso(T0 + minutes(24 * 60))}" in skipped.reason

    # When the deferral comes due, the waiting version starts
    due = only(driver.decide(deferral(T0 + minutes(24 * 60))))
    assert due.outcome == "started"
    assert due.run is not None
    assert due.run.dataset_version == version(6)
    assert driver.state.deferred_until is None


def test_a_second_version_at_the_cap_keeps_the_deferral_already_set() -> None:
    # Given the cap reached and one version deferred
    driver = Driver(config=RetrainingConfig(max_runs_per_day=1))
    run = only(driver.decide(accepted(0, T0))).run
    assert run is not None
    driver.end(run.name, T0 + minutes(10))
    first = only(driver.decide(accepted(1, T0 + minutes(20))))

    # When another is accepted
    second = [d for d in driver.decide(accepted(2, T0 + minutes(30))) if d.outcome == "deferred"]

    # Then it takes the first's place without a second schedule
    assert first.defer_until == T0 + minutes(24 * 60)
    assert only(second).defer_until is None
    assert driver.state.pending is not None
    assert driver.state.pending.dataset_version == version(2)


def test_the_cooldown_holds_alarms_and_the_schedule_but_not_new_data() -> None:
    # Given a run started by a drift alarm on newer data, which has ended
    driver = Driver(world=World(model=ModelInService(1, version(0), None), latest=(version(1), T0)))
    run = only(driver.decide(alarm(T0))).run
    assert run is not None
    assert run.trigger.kind == "retrain"
    driver.end(run.name, T0 + minutes(60))

    # When another alarm and the schedule come within the cooldown (6 hours)
    second = only(driver.decide(alarm(T0 + minutes(120))))
    schedule = only(driver.decide(scheduled(T0 + minutes(180))))

    # Then both are skipped, saying when the cooldown ends
    for decision in (second, schedule):
        assert decision.outcome == "skipped"
        assert f"was at {iso(T0)}" in decision.reason
        assert (
            f"the cooldown of 360 minutes (retraining.cooldown_minutes) ends at {iso(T0 + minutes(360))}"
            in (decision.reason)
        )

    # And new data inside the cooldown starts at once
    assert only(driver.decide(accepted(2, T0 + minutes(200)))).outcome == "started"


def test_an_alarm_inside_the_cooldown_and_at_the_cap_names_both_limits() -> None:
    # Given a cap of one run a day, reached by an alarm-started run that ended
    world = World(model=ModelInService(1, version(0), None), latest=(version(1), T0))
    driver = Driver(config=RetrainingConfig(max_runs_per_day=1), world=world)
    run = only(driver.decide(alarm(T0))).run
    assert run is not None
    driver.end(run.name, T0 + minutes(60))

    # When another alarm comes inside the cooldown
    second = only(driver.decide(alarm(T0 + minutes(120))))

    # Then it is skipped, and the reason says when each limit ends
    assert second.outcome == "skipped"
    assert f"(retraining.cooldown_minutes) ends at {iso(T0 + minutes(360))}" in second.reason
    assert f"the next start is possible at {iso(T0 + minutes(24 * 60))}" in second.reason


def test_an_alarm_after_the_cooldown_retrains() -> None:
    # Given an alarm-started run that ended, and newer data since
    driver = Driver(world=World(model=ModelInService(1, version(0), None), latest=(version(1), T0)))
    run = only(driver.decide(alarm(T0))).run
    assert run is not None
    driver.end(run.name, T0 + minutes(60))

    # When an alarm comes after 6 hours
    later = only(driver.decide(alarm(T0 + minutes(361))))

    # Then it retrains on the newer data, with the alarm in the run's reason
    assert later.outcome == "started"
    assert later.run is not None
    assert later.run.dataset_version == version(1)
    assert DRIFT_ALARM in later.run.trigger.reason


def test_an_alarm_while_a_run_is_in_progress_starts_nothing() -> None:
    # Given a person's run listed as running
    person = RunningRun("churn-000000000000-manual", version(1), T0)
    driver = Driver(world=World(running={person.name: person}, latest=(version(2), T0)))

    # When the drift alarm fires
    decision = only(driver.decide(alarm(T0 + minutes(5))))

    # Then it is skipped, naming the run and its version
    assert decision.outcome == "skipped"
    assert f"run {person.name} on version {version(1)} is in progress" in decision.reason


def test_nothing_new_to_learn_from_starts_nothing_and_says_what_to_do() -> None:
    # Given the model in service trained on the latest version and no label since
    driver = Driver(world=World(model=ModelInService(4, version(7), None), latest=(version(7), T0)))

    # When the drift alarm fires
    decision = only(driver.decide(alarm(T0 + minutes(5))))

    # Then nothing starts; the reason says why and the advice what to do
    assert decision.outcome == "skipped"
    assert "nothing new to learn from" in decision.reason
    assert decision.advice is not None
    assert f"incoming/{DATASET}/" in decision.advice
    assert "mlops feedback push" in decision.advice
    assert driver.state.last_triggered_start is None


def test_new_labels_prepare_an_upload_whose_acceptance_starts_the_retrain_run() -> None:
    # Given 250 labelled rows newer than the model in service's data
    labelled = T0 - minutes(30)
    world = World(model=ModelInService(4, version(7), None), latest=(version(7), T0 - minutes(600)),
                  new_labels=250, newest_label_at=labelled)  # fmt: skip
    driver = Driver(world=world)

    # When the performance alarm fires
    preparing = only(driver.decide(alarm(T0, "performance_alarm")))

    # Then the policy asks for the latest version plus the labels, under a key naming the decision
    assert preparing.outcome == "preparing"
    assert preparing.prepare is not None
    assert preparing.prepare.base_version == version(7)
    assert preparing.prepare.new_labels == 250
    state = driver.state.preparing
    assert state is not None
    assert state.upload_key == f"incoming/{DATASET}/retraining/{preparing.decision_id}.parquet"
    assert state.labels_through == labelled
    assert driver.state.starts == (T0,)

    # When the data plane accepts that upload as version 8
    started = only(driver.decide(accepted(8, T0 + minutes(20), upload_key=state.upload_key)))

    # Then the retrain run starts on it, carrying the alarm's reason and the data's story
    assert started.outcome == "started"
    assert started.run is not None
    assert started.run.trigger.kind == "retrain"
    assert started.run.trigger.reference == preparing.decision_id
    assert started.run.dataset_version == version(8)
    assert started.run.trigger.reason.startswith(
        f"{PERFORMANCE_ALARM} fired; retraining on version {version(8)}"
    )
    assert f"{version(7)} plus 250 labelled rows" in started.run.trigger.reason
    assert driver.state.preparing is None
    assert driver.state.starts == (T0 + minutes(20),)


def test_new_data_waits_while_an_upload_is_prepared() -> None:
    # Given an upload being prepared
    world = World(model=ModelInService(4, version(7), None), latest=(version(7), T0), new_labels=5)
    driver = Driver(world=world)
    assert only(driver.decide(alarm(T0))).outcome == "preparing"

    # When a person's upload is accepted meanwhile
    decision = only(driver.decide(accepted(9, T0 + minutes(5))))

    # Then it waits for the prepared run, which holds the slot
    assert decision.outcome == "deferred"
    assert "has not been accepted yet" in decision.reason


def test_a_prepared_upload_not_accepted_in_time_is_given_up() -> None:
    # Given an upload asked for by an alarm
    world = World(model=ModelInService(4, version(7), None), latest=(version(7), T0), new_labels=5)
    driver = Driver(world=world)
    preparing = only(driver.decide(alarm(T0)))
    key = f"incoming/{DATASET}/retraining/{preparing.decision_id}.parquet"

    # When any trigger comes after the 60 minutes allowed
    decisions = driver.decide(accepted(9, T0 + minutes(61)))

    # Then the preparation is dropped with a decision naming its upload, and the new data starts
    gave_up = [d for d in decisions if d.outcome == "skipped"]
    assert key in only(gave_up).reason
    assert "retraining.prepare_timeout_minutes" in only(gave_up).reason
    assert [d.outcome for d in decisions if d is not gave_up[0]] == ["started"]
    assert driver.state.preparing is None


def test_a_run_ending_with_nothing_waiting_records_nothing() -> None:
    # Given a run the policy started
    driver = Driver()
    run = only(driver.decide(accepted(1, T0))).run
    assert run is not None

    # When it ends
    decisions = driver.end(run.name, T0 + minutes(40))

    # Then no decision is recorded; the run is forgotten and its end remembered
    assert decisions == []
    assert driver.state.started_runs == ()
    assert driver.state.revision == 2
    assert ended(run.name, T0).key in driver.state.seen


def test_a_started_run_missing_from_the_listing_for_long_is_forgotten() -> None:
    # Given a run the policy started whose end event was lost
    driver = Driver()
    run = only(driver.decide(accepted(1, T0))).run
    assert run is not None
    driver.world.running.clear()

    # When new data arrives an hour later
    decision = only(driver.decide(accepted(2, T0 + minutes(60))))

    # Then the slot is free again
    assert decision.outcome == "started"


def test_a_started_run_not_listed_yet_still_holds_the_slot() -> None:
    # Given a run just started, not yet listed by Step Functions
    driver = Driver()
    only(driver.decide(accepted(1, T0)))
    driver.world.running.clear()

    # When new data arrives a minute later
    decision = only(driver.decide(accepted(2, T0 + minutes(1))))

    # Then it waits
    assert decision.outcome == "deferred"


def test_decision_ids_are_readable_bounded_and_fit_a_run_name() -> None:
    # Given a decision of a trigger of each kind
    long_dataset = "a-very-long-dataset-name-for-the-policy"
    triggers = [accepted(1, T0), alarm(T0), alarm(T0, "performance_alarm"), scheduled(T0), deferral(T0),
                ended("churn-000000000000-accepted", T0)]  # fmt: skip
    for trigger in triggers:
        # When its id is made, twice
        made = decision_id(trigger)

        # Then it is the same each time, bounded, of execution-name characters, and names kind and time
        assert made == decision_id(trigger)
        assert len(made) <= DECISION_ID_MAX
        assert re.fullmatch(r"[A-Za-z0-9_-]+", made)
        assert "20261206T120000Z" in made
        run_name = execution_name(long_dataset, version(1), Trigger("retrain", reference=made))
        assert len(run_name) <= 80
    assert decision_id(alarm(T0)) != decision_id(alarm(T0 + minutes(1)))
    assert decision_id(alarm(T0)).startswith("drift-")


def test_a_state_of_another_dataset_is_refused() -> None:
    # Given the state of another dataset
    # When a trigger of churn is decided with it, then the error names both
    with pytest.raises(PolicyError, match=r"churn.*other"):
        decide(accepted(1, T0), PolicyState("other"), World().observe(T0), RetrainingConfig())


def test_an_alarm_finding_a_version_waiting_for_a_free_slot_trains_it_first() -> None:
    # Given a version waiting for a run whose end event was lost (the run is no longer listed)
    driver = Driver(world=World(model=ModelInService(1, version(0), None)))
    run = only(driver.decide(accepted(1, T0))).run
    assert run is not None
    assert only(driver.decide(accepted(2, T0 + minutes(1)))).outcome == "deferred"
    driver.world.running.pop(run.name)

    # When the drift alarm fires an hour later
    decisions = driver.decide(alarm(T0 + minutes(60)))

    # Then the waiting version starts, and the alarm starts nothing more, naming that run
    started, skipped = decisions
    assert started.outcome == "started"
    assert started.run is not None
    assert started.run.dataset_version == version(2)
    assert skipped.outcome == "skipped"
    assert started.run.name in skipped.reason
    assert started.decision_id != skipped.decision_id
    assert driver.state.pending is None
