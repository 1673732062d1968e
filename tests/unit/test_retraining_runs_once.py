"""The policy decides a start only for a run that does not exist, and counts labels once.

A run's name is derived from its version and trigger; Step Functions starts a name once. A start decided
for a name that exists would start nothing yet be recorded and counted in the cap: the policy records what
it is instead. Labels are new after the later of the labels the model in service and the latest version
hold.
"""

from __future__ import annotations

import dataclasses

from domain.retraining.decisions import decision_id
from domain.retraining.observations import ModelInService, labels_cutoff
from domain.training.runs import RunRequest, Trigger
from tests.retraining_support import (
    DATASET,
    T0,
    Driver,
    World,
    accepted,
    alarm,
    minutes,
    only,
    version,
)


def accepted_run(n: int) -> str:
    """The name of the "accepted" run of version ``n`` (one per version)."""
    return RunRequest(DATASET, version(n), Trigger("accepted")).name


def test_an_older_waiting_version_is_superseded_by_the_one_the_ended_run_trained() -> None:
    # Given version 2 accepted and training, then version 1's validation finishing later (accepted earlier)
    driver = Driver()
    run = only(driver.decide(accepted(2, T0 + minutes(5)))).run
    assert run is not None
    waiting = only(driver.decide(accepted(1, T0), now=T0 + minutes(10)))
    assert waiting.outcome == "deferred"
    starts = driver.state.starts

    # When version 2's run ends
    decisions = driver.end(run.name, T0 + minutes(40))

    # Then version 1 is superseded by version 2, already trained; no start is recorded nor counted
    superseded = only(decisions)
    assert superseded.outcome == "superseded"
    assert superseded.dataset_version == version(1)
    assert f"version {version(2)}" in superseded.reason
    assert f"has its run already (run {run.name} on version {version(2)} has just ended)" in superseded.reason
    assert driver.state.starts == starts
    assert driver.state.pending is None
    assert driver.state.started_runs == ()


def test_a_late_event_of_a_version_a_run_end_already_started_starts_nothing_more() -> None:
    # Given version 1 waiting, and version 2 in the catalog (its event not delivered yet) when the run ends
    driver = Driver()
    first = only(driver.decide(accepted(0, T0))).run
    assert first is not None
    assert only(driver.decide(accepted(1, T0 + minutes(1)))).outcome == "deferred"
    driver.world.latest = (version(2), T0 + minutes(2))
    started = [d for d in driver.end(first.name, T0 + minutes(30)) if d.outcome == "started"]
    release = only(started).run
    assert release is not None
    assert release.name == accepted_run(2)
    starts = driver.state.starts

    # When version 2's own event arrives while its run is in progress, and again after it ended
    # (its key forgotten by then), Step Functions having the run
    in_progress = only(driver.decide(accepted(2, T0 + minutes(2)), now=T0 + minutes(31)))
    driver.world.running.clear()
    driver.world.existing.add(accepted_run(2))
    driver.state = dataclasses.replace(driver.state, seen=())
    later = only(driver.decide(accepted(2, T0 + minutes(2)), now=T0 + minutes(90)))

    # Then neither records nor counts a start, and each says which run has the version
    assert in_progress.outcome == "skipped"
    assert later.outcome == "skipped"
    assert f"already started: run {accepted_run(2)}" in later.reason
    assert "Step Functions has it" in later.reason
    assert driver.state.starts == starts


def test_a_waiting_version_whose_run_exists_is_recorded_and_dropped_not_started() -> None:
    # Given version 1 waiting for a free slot, whose "accepted" run Step Functions has (started before)
    driver = Driver()
    first = only(driver.decide(accepted(0, T0))).run
    assert first is not None
    assert only(driver.decide(accepted(1, T0 + minutes(1)))).outcome == "deferred"
    driver.world.existing.add(accepted_run(1))

    # When the running run ends
    decision = only(driver.end(first.name, T0 + minutes(30)))

    # Then nothing starts: the decision says the run of version 1 exists, and nothing waits any more
    assert decision.outcome == "skipped"
    assert decision.run is None
    assert f"already started: run {accepted_run(1)}" in decision.reason
    assert driver.state.pending is None
    assert driver.state.starts == (T0,)


def test_an_alarm_whose_retrain_run_exists_records_it_as_already_started() -> None:
    # Given newer data than the model in service, and Step Functions having the alarm's retrain run
    driver = Driver(world=World(model=ModelInService(1, version(0), None), latest=(version(1), T0)))
    trigger = alarm(T0 + minutes(5))
    planned = RunRequest(DATASET, version(1), Trigger("retrain", reference=decision_id(trigger)))
    driver.world.existing.add(planned.name)

    # When the alarm is decided
    decision = only(driver.decide(trigger))

    # Then it is recorded as already started, and neither the cap nor the cooldown counts it
    assert decision.outcome == "skipped"
    assert f"already started: run {planned.name}" in decision.reason
    assert driver.state.starts == ()
    assert driver.state.last_triggered_start is None


def test_a_prepared_upload_whose_retrain_run_exists_starts_nothing_more() -> None:
    # Given an upload prepared for an alarm, and its retrain run already in Step Functions
    world = World(model=ModelInService(4, version(7), None), latest=(version(7), T0), new_labels=5,
                  newest_label_at=T0 - minutes(1))  # fmt: skip
    driver = Driver(world=world)
    preparing = only(driver.decide(alarm(T0)))
    assert driver.state.preparing is not None
    key = driver.state.preparing.upload_key
    planned = RunRequest(DATASET, version(8), Trigger("retrain", reference=preparing.decision_id))
    driver.world.existing.add(planned.name)

    # When the upload is accepted
    decision = only(driver.decide(accepted(8, T0 + minutes(10), upload_key=key)))

    # Then the preparation is done with, and no second start is recorded
    assert decision.outcome == "skipped"
    assert preparing.decision_id in decision.reason
    assert "already started" in decision.reason
    assert driver.state.preparing is None


def test_labels_the_latest_version_holds_are_not_new_though_its_model_is_not_in_service() -> None:
    # Given a model in service holding labels through L0, and a latest version prepared with labels through L1
    l0, l1 = T0 - minutes(600), T0 - minutes(60)
    world = World(model=ModelInService(4, version(7), l0), latest=(version(8), T0 - minutes(50)),
                  latest_labels_through=l1, new_labels=30, newest_label_at=T0 - minutes(5))  # fmt: skip
    driver = Driver(world=world)

    # When the performance alarm asks for retraining
    decision = only(driver.decide(alarm(T0, "performance_alarm")))

    # Then the labels asked for are those after L1, and the decision says whose labels those are
    assert decision.outcome == "preparing"
    assert decision.prepare is not None
    assert decision.prepare.labels_after == l1
    assert decision.prepare.base_version == version(8)
    assert f"version {version(8)}, the latest accepted" in decision.reason


def test_the_later_of_the_two_label_cutoffs_is_chosen_and_named() -> None:
    # Given a model holding labels through L0 and a latest version through L1
    l0, l1 = T0 - minutes(60), T0 - minutes(600)
    model = ModelInService(4, version(7), l0)

    # When the cutoff is chosen, then the later one wins, in words naming whose it is
    chosen = labels_cutoff(model, version(8), l1)
    assert chosen is not None
    assert chosen.at == l0
    assert "model in service (version 4)" in chosen.of
    later = labels_cutoff(model, version(8), T0)
    assert later is not None
    assert later.at == T0
    assert version(8) in later.of
    assert labels_cutoff(ModelInService(4, version(7), None), version(8), None) is None
    assert labels_cutoff(None, None, None) is None
