"""The policy's state and decisions as DynamoDB items (exact round trips); its configuration, checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.retraining.config import RetrainingConfig, RetrainingConfigError, parse_retraining_config
from domain.retraining.decisions import DataPlan, Decision
from domain.retraining.policy import Pending, PolicyState, Preparing, RunningRun
from domain.retraining.state import StateItemError
from domain.training.runs import RunRequest, Trigger
from tests.retraining_support import T0, accepted, alarm, minutes, version


def full_state() -> PolicyState:
    return PolicyState(
        dataset="churn",
        revision=7,
        starts=(T0, T0 + minutes(0.001)),
        last_triggered_start=T0,
        started_runs=(
            RunningRun("churn-000000000000-accepted", version(1), T0),
            RunningRun("x", version(2), None),
        ),
        pending=Pending(version(3), T0 + minutes(5), "accepted-20261206T120500Z-00000000"),
        preparing=Preparing(
            "drift-20261206T120000Z-1a2b3c4d",
            "incoming/churn/retraining/drift.parquet",
            version(2),
            T0 - minutes(1),
            "drift_alarm",
            "drift fired; retraining",
            T0,
            250,
        ),
        deferred_until=T0 + minutes(24 * 60),
        seen=("a", "b"),
    )


def dynamo(value: Any) -> Any:
    """What DynamoDB hands back: numbers as Decimal."""
    if isinstance(value, dict):
        return {key: dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [dynamo(item) for item in value]
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


def plain(value: Any) -> bool:
    """Whether an item holds only strings, integers, lists and maps (no floats, no datetimes, no None)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(plain(item) for item in value)
    return isinstance(value, str | int) and not isinstance(value, float)


def test_a_state_round_trips_through_its_item_exactly() -> None:
    # Given a state with every field set, and an empty one
    for state in (full_state(), PolicyState("churn")):
        # When written as an item and read back as DynamoDB returns it
        item = state.to_item()
        back = PolicyState.from_item(dynamo(item))

        # Then it is the same state, and the item is plain DynamoDB values
        assert back == state
        assert plain(item)
    assert full_state().to_item()["starts"] == ["2026-12-06T12:00:00Z", "2026-12-06T12:00:00.060000Z"]


def test_decisions_round_trip_through_their_items_exactly() -> None:
    # Given a started, a preparing and a deferred decision
    run = RunRequest("churn", version(2), Trigger("retrain", reference="drift-x", reason="drift fired"))
    decisions = [
        Decision(decision_id="d1", dataset="churn", trigger=alarm(T0), outcome="started", reason="why",
                 dataset_version=version(2), run=run, decided_at=T0),
        Decision(decision_id="d2", dataset="churn", trigger=alarm(T0), outcome="preparing", reason="labels",
                 prepare=DataPlan(version(2), T0 - minutes(60), 12), decided_at=T0),
        Decision(decision_id="d3", dataset="churn", trigger=accepted(4, T0), outcome="deferred", reason="cap",
                 advice="wait", defer_until=T0 + minutes(600), decided_at=T0 + minutes(1)),
    ]  # fmt: skip
    for decision in decisions:
        # When written and read back
        item = decision.to_item()

        # Then it is the same decision, and the item is plain DynamoDB values
        assert Decision.from_item(dynamo(item)) == decision
        assert plain(item)
    assert decisions[0].to_item()["run"]["name"] == run.name


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda item: item.pop("dataset"), "policy state has no dataset"),
        (lambda item: item["pending"].pop("accepted_at"), "pending version has no accepted_at"),
        (lambda item: item["preparing"].update(trigger_kind="storm"), "'storm' is not a trigger kind"),
        (lambda item: item.update(deferred_until="tomorrow"), "deferred_until is 'tomorrow'"),
    ],
)
def test_a_damaged_state_item_is_refused_naming_the_field(change: Any, says: str) -> None:
    item = full_state().to_item()
    change(item)
    with pytest.raises(StateItemError, match=says):
        PolicyState.from_item(item)


def test_a_missing_configuration_is_the_defaults() -> None:
    config = parse_retraining_config(None)
    assert config == RetrainingConfig()
    assert (config.cooldown_minutes, config.max_runs_per_day, config.max_concurrent_runs) == (360, 6, 1)
    assert config.schedule is None


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"max_runs_per_day": 0}, "cdk.json: mlops.datasets.churn.retraining: max_runs_per_day: "),
        ({"schedule": "every day"}, "retraining: schedule: 'every day' is not an EventBridge Scheduler"),
        ({"schedule": "rate(1 days)"}, r"write rate\(1 day\)"),
        ({"cooldown": 5}, "retraining: cooldown: unknown key; allowed keys: cooldown_minutes, enabled"),
        ([1], "retraining: <root>: must be a mapping"),
    ],
)
def test_a_bad_configuration_names_the_key(raw: Any, says: str) -> None:
    with pytest.raises(RetrainingConfigError, match=says):
        parse_retraining_config(raw, source="cdk.json: mlops.datasets.churn.retraining")
