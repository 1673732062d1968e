"""Triggers read from EventBridge events and the schedules' payloads; malformed ones refused, naming what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.retraining.triggers import (
    SCHEDULED_TIME,
    PolicyTriggerKind,
    TriggerError,
    deferral_payload,
    schedule_payload,
    trigger_from_event,
)
from domain.training.runs import RunRequest, Trigger, execution_input
from tests.retraining_support import DRIFT_ALARM, PERFORMANCE_ALARM, version

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:mlops-training"
ALARMS: dict[str, tuple[str, PolicyTriggerKind]] = {
    DRIFT_ALARM: ("churn", "drift_alarm"),
    PERFORMANCE_ALARM: ("churn", "performance_alarm"),
}
NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def read(event: dict[str, Any]) -> Any:
    return trigger_from_event(event, alarms=ALARMS, state_machine_arn=MACHINE)


def envelope(source: str, detail_type: str, detail: Any) -> dict[str, Any]:
    return {"version": "0", "id": "e1", "source": source, "detail-type": detail_type,
            "time": "2026-12-06T12:05:00Z", "resources": [], "detail": detail}  # fmt: skip


def accepted_event(**detail: Any) -> dict[str, Any]:
    upload = {"bucket": "data", "key": "incoming/churn/retraining/drift-x.parquet"}
    record = {"dataset": "churn", "version": version(5), "accepted_at": "2026-12-06T12:00:00+00:00",
              "source": upload, **detail}  # fmt: skip
    return envelope("mlops.data", "Dataset Version Accepted", record)


def alarm_event(name: str = DRIFT_ALARM, value: str = "ALARM", **overrides: Any) -> dict[str, Any]:
    detail = {"alarmName": name, "previousState": {"value": "OK"},
              "state": {"value": value, "reason": "Threshold Crossed: 2 of 3", "timestamp":
                        "2026-12-06T12:00:00.000+0000"}, **overrides}  # fmt: skip
    return envelope("aws.cloudwatch", "CloudWatch Alarm State Change", detail)


def execution_event(status: str = "SUCCEEDED", machine: str = MACHINE, **overrides: Any) -> dict[str, Any]:
    run = RunRequest("churn", version(5), Trigger("accepted"))
    detail = {"executionArn": f"{MACHINE}:{run.name}".replace("stateMachine", "execution"),
              "stateMachineArn": machine, "name": run.name, "status": status,
              "startDate": 1796299200000, "stopDate": 1796299260000,
              "input": json.dumps(execution_input(run)), **overrides}  # fmt: skip
    return envelope("aws.states", "Step Functions Execution Status Change", detail)


def test_an_accepted_version_is_a_trigger_keyed_by_the_version_with_its_upload() -> None:
    # Given the platform's "Dataset Version Accepted"
    trigger = read(accepted_event())

    # Then it is an accepted trigger at the acceptance time, with the upload it came from
    assert trigger.kind == "accepted"
    assert trigger.key == version(5)
    assert trigger.dataset_version == version(5)
    assert trigger.at == NOON
    assert trigger.upload_key == "incoming/churn/retraining/drift-x.parquet"


def test_an_alarm_entering_alarm_is_a_trigger_keyed_by_its_episode() -> None:
    # Given the drift and the performance alarm entering ALARM
    drift, performance = read(alarm_event()), read(alarm_event(PERFORMANCE_ALARM))

    # Then each is its kind's trigger, keyed by its name and when it entered ALARM, with CloudWatch's reason
    assert (drift.kind, drift.dataset, drift.at) == ("drift_alarm", "churn", NOON)
    assert drift.key == f"{DRIFT_ALARM}@2026-12-06T12:00:00Z"
    assert "Threshold Crossed: 2 of 3" in drift.reason
    assert performance.kind == "performance_alarm"
    assert read(alarm_event()) == drift


def test_an_alarm_going_to_ok_or_an_alarm_not_watched_is_no_trigger() -> None:
    assert read(alarm_event(value="OK")) is None
    assert read(alarm_event(value="INSUFFICIENT_DATA")) is None
    assert read(alarm_event("mlops-churn-no-traffic")) is None


def test_an_ended_run_of_the_pipeline_is_a_trigger_keyed_by_its_execution() -> None:
    # Given the training pipeline's execution ending
    event = execution_event("FAILED")
    trigger = read(event)

    # Then it is a run_ended trigger of the run's dataset at its stop time
    assert trigger.kind == "run_ended"
    assert trigger.dataset == "churn"
    assert trigger.key == event["detail"]["executionArn"]
    assert trigger.run_name == event["detail"]["name"]
    assert trigger.run_status == "FAILED"
    assert trigger.at == datetime.fromtimestamp(1796299260, UTC)


def test_an_ended_run_without_its_input_is_read_from_its_name() -> None:
    # Given an execution event whose input was left out (too large for the event)
    trigger = read(execution_event(input=None, stopDate=None))

    # Then the dataset comes from the run's name and the time from the event
    assert trigger.dataset == "churn"
    assert trigger.at == datetime(2026, 12, 6, 12, 5, tzinfo=UTC)


def test_a_running_execution_or_another_machines_is_no_trigger() -> None:
    assert read(execution_event("RUNNING")) is None
    assert read(execution_event(machine=MACHINE + "-other")) is None


def test_the_schedules_payloads_are_triggers_keyed_by_their_time() -> None:
    # Given the configured schedule's payload as Scheduler sends it, and a deferral's
    fired = {**schedule_payload("churn"), "scheduled_time": "2026-12-06T12:00:00Z"}
    schedule, due = read(fired), read(deferral_payload("churn", NOON))

    # Then each is its kind's trigger at that time
    assert (schedule.kind, schedule.key, schedule.at) == ("schedule", "schedule@2026-12-06T12:00:00Z", NOON)
    assert (due.kind, due.key, due.at) == ("deferred", "deferred@2026-12-06T12:00:00Z", NOON)
    assert schedule_payload("churn")["scheduled_time"] == SCHEDULED_TIME


@pytest.mark.parametrize(
    ("event", "says"),
    [
        (accepted_event(version=None), "detail.version"),
        ({**accepted_event(), "detail": None}, "has no detail"),
        (alarm_event(alarmName=None), "detail.alarmName"),
        (alarm_event(state={"value": "ALARM"}), "detail.state.timestamp"),
        (alarm_event(state={"value": "ALARM", "timestamp": "yesterday"}), "not an ISO-8601 time"),
        (execution_event(name="not-a-run", input=None), "was not started as a run"),
        (envelope("aws.s3", "Object Created", {}), 'does not read "Object Created"'),
        ({"kind": "schedule", "dataset": "churn", "scheduled_time": SCHEDULED_TIME}, "no scheduled_time"),
        (
            {"kind": "deferred", "dataset": "Churn!", "scheduled_time": "2026-12-06T12:00:00Z"},
            "not a dataset",
        ),
        ({"kind": "retrain", "dataset": "churn"}, "kind 'retrain'"),
        ({"hello": "world"}, "neither an EventBridge event"),
    ],
)
def test_a_malformed_event_is_refused_naming_what_is_wrong(event: dict[str, Any], says: str) -> None:
    with pytest.raises(TriggerError, match=says):
        read(event)
