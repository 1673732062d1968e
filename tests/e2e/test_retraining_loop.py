"""The retraining loop end to end in the local cloud: alarms and labels to the policy, the policy to runs.

One platform for the module, with churn's retraining policy configured for a test's time scale: a cooldown
of COOLDOWN_MINUTES and at most MAX_RUNS_PER_DAY runs a day (``mlops.datasets.churn.retraining``); the
monitoring defaults otherwise (the drift alarm on 2 of 3 hourly windows, the performance alarm on the gate's
roc_auc floor, 0.65, from 200 labelled rows). Everything goes through the platform's own paths: the drift
monitor's schedule fired by the local cloud's clock, the alarms evaluated by it (or set with SetAlarmState,
which sends the same state-change event to the default bus, as on AWS), EventBridge's deliveries to the
policy's function, the data plane's validation of the upload the policy prepares, the training pipeline.

Three training runs in all, on a few thousand rows: version 1 (the model in service), the retrain run the
performance alarm starts after labels showing a change of concept, and the one a drift alarm starts after
more labels arrived. The other points start no run. Measured: 222 s for the 6 tests on 2 cores at a load
of 3 to 5, the cooldown advanced on the clock (270 s on the same machine when a 2-minute cooldown was waited
out in real time; 555-577 s at a load of 12 with a 3-minute one). The tests run in order: each builds on
what the one before left.

Feedback with unknown inference IDs is reported: tests/e2e/test_cli.py
(test_feedback_push_joins_labels_with_served_requests_and_reports_unknown_ids).

The policy's cooldown passes on the local cloud's clock, which its handler reads (localcloud/clock.py):
the drift test moves the clock past it instead of waiting.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.names import retraining_upload_key
from examples.churn import drifted, generate
from localcloud.events.default_bus import send_to_default_bus
from tests.e2e.conftest import QUICK_DEPLOYMENTS, DataPlane, deployed_platform
from tests.e2e.drift_support import (
    DRIFT_ALARM,
    ENDPOINT,
    SCHEDULE,
    WINDOW_ROWS,
    Live,
    alarm_changes,
    serving_version_1,
    traffic,
)
from tests.e2e.retraining_support import (
    PERFORMANCE_ALARM,
    Served,
    alarm_state,
    catalog_version,
    decisions,
    push_labels,
    runs,
    serve_with_ids,
    set_alarm,
)

pytestmark = pytest.mark.slow

# On the local cloud's clock, which moves with real time while a retrain run runs (its labels to its end:
# 39-71 s at a load of 12) and jumps when advanced: the cooldown's test needs the run ended and the cooldown
# on, the drift test advances the monitor's hour, then the rest of it.
COOLDOWN_MINUTES = 90
BASE_ROWS = 3_000
MAX_RUNS_PER_DAY = 3  # version 1's run, the performance alarm's and the drift alarm's
SERVED_ROWS = 500
CHANGED_LABELS = 400  # over the performance alarm's min_labels (200)
HONEST_LABELS = SERVED_ROWS - CHANGED_LABELS


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    from stacks.app import build_app, cdk_json_context

    context = copy.deepcopy(cdk_json_context())
    context["mlops"]["deployment"] = dict(QUICK_DEPLOYMENTS)
    context["mlops"]["datasets"]["churn"]["retraining"] = {
        "cooldown_minutes": COOLDOWN_MINUTES,
        "max_runs_per_day": MAX_RUNS_PER_DAY,
    }
    outdir = tmp_path_factory.mktemp("retraining.out")
    build_app(context, outdir=str(outdir)).synth()
    with deployed_platform(outdir) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def live(platform: DataPlane, registry: Any, tmp_path_factory: pytest.TempPathFactory) -> Live:
    """Version 1 trained on BASE_ROWS rows (the policy's first start), approved and serving."""
    data = tmp_path_factory.mktemp("retraining-data")
    body = generate(BASE_ROWS, 41, data / "churn-41.csv", "csv").read_bytes()
    platform.client("s3").put_object(Bucket=platform.bucket, Key="incoming/churn/churn-41.csv", Body=body)
    platform.cloud.wait_idle(timeout=900)  # a training run takes minutes on a busy machine
    (run,) = platform.client("stepfunctions").list_executions(
        stateMachineArn=platform.outputs["TrainingStateMachineArn"]
    )["executions"]
    assert run["status"] == "SUCCEEDED", run
    return serving_version_1(platform, registry, data, reason="e2e: retraining")


@pytest.fixture(scope="module")
def mlops(live: Live) -> CliRunner:
    """The CLI; the module's registry fixture points the SDK at the local cloud."""
    return CliRunner()


@pytest.fixture(scope="module")
def alarm_events(platform: DataPlane) -> str:
    """A queue that gets the drift and performance alarms' state changes from the default bus."""
    return alarm_changes(platform, "retraining-alarm-changes", [DRIFT_ALARM, PERFORMANCE_ALARM])


@pytest.fixture(scope="module")
def served(live: Live) -> Served:
    """SERVED_ROWS requests with inference IDs served by version 1, in a monitored window of their own."""
    # Drifted traffic: the change of concept is in the north, where drifted traffic goes.
    return serve_with_ids(live, SERVED_ROWS, seed=77)


def _new(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {d["decision_id"] for d in before}
    return [d for d in after if d["decision_id"] not in seen]


def _after_cooldown(live: Live, decision: dict[str, Any]) -> None:
    """Move the local cloud's clock (which the policy reads) past the cooldown after ``decision``."""
    ends = datetime.fromisoformat(decision["decided_at"]) + timedelta(minutes=COOLDOWN_MINUTES, seconds=1)
    live.clock.advance(max(ends - live.clock.now(), timedelta(0)))


def test_a_drift_alarm_with_nothing_new_to_learn_from_starts_nothing_and_alerts_the_advice(
    live: Live, mlops: CliRunner
) -> None:
    # Given version 1 in service, trained on the latest accepted version, and no label yet
    before, runs_before = decisions(mlops), runs(mlops)
    live.platform.drain(live.platform.alerts, wait=0.2)
    # When the drift alarm goes to ALARM
    set_alarm(live, DRIFT_ALARM, "ALARM")
    # Then the policy decided to start nothing, saying why and what to do, and the alert topic got the advice
    (decision,) = _new(before, decisions(mlops))
    assert (decision["trigger"]["kind"], decision["outcome"]) == ("drift_alarm", "skipped")
    assert "nothing new to learn from" in decision["reason"]
    assert "mlops feedback push" in decision["advice"]
    assert runs(mlops) == runs_before
    alerts = [a["Message"] for a in live.platform.drain(live.platform.alerts, wait=2.0)]
    assert any(decision["advice"] in alert for alert in alerts), alerts
    set_alarm(live, DRIFT_ALARM, "OK")


def test_labels_showing_a_performance_drop_fire_the_performance_alarm_and_a_run_on_data_with_them(
    live: Live, served: Served, mlops: CliRunner, alarm_events: str, tmp_path: Path
) -> None:
    # Given labels of served requests after a change of concept in the north (most of the served rows)
    before, runs_before = decisions(mlops), runs(mlops)
    (base,) = {run["dataset_version"] for run in runs_before}
    labels = served.labels(0, CHANGED_LABELS, concept_changed_=True)
    live.platform.drain(alarm_events, wait=0.2)
    started = time.monotonic()
    # When they are pushed, the performance alarm evaluates the realized roc_auc they lead to, and what the
    # policy sets off is done
    report = push_labels(mlops, tmp_path, "changed.csv", labels)
    assert report["counts"]["matched"] == CHANGED_LABELS
    live.clock.advance(timedelta(seconds=1))
    live.platform.cloud.wait_idle(timeout=900)
    print(f"\nperformance labels to the end of their retrain run: {time.monotonic() - started:.0f} s")
    # Then the alarm fired once, and the policy prepared the latest version plus the labels ...
    assert alarm_state(live, PERFORMANCE_ALARM) == "ALARM"
    _ALARM_EVENTS.extend(_changes_to_alarm(live, alarm_events))
    assert [e["detail"]["alarmName"] for e in _ALARM_EVENTS] == [PERFORMANCE_ALARM]
    preparing, accepted = _new(before, decisions(mlops))
    assert (preparing["trigger"]["kind"], preparing["outcome"]) == ("performance_alarm", "preparing")
    assert f"plus {CHANGED_LABELS} labelled rows" in preparing["reason"]
    # ... whose acceptance started one retrain run, referring to the decision, with the alarm's reason
    assert (accepted["trigger"]["kind"], accepted["outcome"]) == ("accepted", "started")
    (run,) = [r for r in runs(mlops) if r["name"] not in {b["name"] for b in runs_before}]
    assert run["name"] == accepted["run"]
    assert run["trigger"] == f"retrain {preparing['decision_id']}"
    assert PERFORMANCE_ALARM in run["reason"] and f"plus {CHANGED_LABELS} labelled rows" in run["reason"]
    assert run["status"] in ("SUCCEEDED", "FAILED")  # the gate may reject a model of a changed concept
    # on a new version, uploaded under incoming/churn/retraining/: the base's rows and the labelled rows
    version = catalog_version(live, run["dataset_version"])
    assert version.source["key"] == retraining_upload_key("churn", preparing["decision_id"])
    assert version.rows == catalog_version(live, base).rows + CHANGED_LABELS


_ALARM_EVENTS: list[dict[str, Any]] = []  # the alarm state changes that started runs, in order


def _changes_to_alarm(live: Live, queue: str) -> list[dict[str, Any]]:
    changes = live.platform.drain(queue, wait=2.0)
    return [e for e in changes if e["detail"]["state"]["value"] == "ALARM"]


def test_the_same_alarm_event_delivered_twice_starts_one_run(live: Live, mlops: CliRunner) -> None:
    # Given the performance alarm's state change that started a run
    assert _ALARM_EVENTS, "the performance alarm's test did not run first"
    event = _ALARM_EVENTS[0]
    before, runs_before = decisions(mlops), runs(mlops)
    # When EventBridge delivers it again (at least once, as on AWS)
    again = {**event, "time": datetime.fromisoformat(event["time"]).timestamp()}
    send_to_default_bus(again["account"], again["region"], again, about="the performance alarm, again")
    live.platform.cloud.wait_idle(timeout=120)
    # Then the policy recorded it as a duplicate of the same occurrence and started nothing
    (duplicate,) = _new(before, decisions(mlops))
    key = duplicate["trigger"]["key"]
    (first,) = [d for d in before if d["trigger"]["key"] == key and d["outcome"] != "duplicate"]
    assert (duplicate["outcome"], first["outcome"]) == ("duplicate", "preparing")
    assert runs(mlops) == runs_before


def test_a_drift_alarm_inside_the_cooldown_starts_none_and_says_why(live: Live, mlops: CliRunner) -> None:
    # Given a run started by an alarm less than the cooldown ago (and ended), and labels new to it
    before, runs_before = decisions(mlops), runs(mlops)
    (last,) = [d for d in before if d["outcome"] == "preparing"]
    ends = datetime.fromisoformat(last["decided_at"]) + timedelta(minutes=COOLDOWN_MINUTES)
    assert live.clock.now() < ends - timedelta(seconds=10), "the retrain run took longer than the cooldown"
    # When the drift alarm goes to ALARM
    set_alarm(live, DRIFT_ALARM, "ALARM")
    # Then nothing starts, and the decision says the cooldown holds it back, until when
    (decision,) = _new(before, decisions(mlops))
    assert (decision["trigger"]["kind"], decision["outcome"]) == ("drift_alarm", "skipped")
    cooldown = f"the cooldown of {COOLDOWN_MINUTES} minutes (retraining.cooldown_minutes) ends at"
    assert cooldown in decision["reason"]
    assert runs(mlops) == runs_before
    set_alarm(live, DRIFT_ALARM, "OK")


def test_a_drift_alarm_after_labels_starts_one_retrain_run_on_a_version_with_those_labels(
    live: Live, served: Served, mlops: CliRunner, alarm_events: str, tmp_path: Path
) -> None:
    # Given the cooldown over, and labels for HONEST_LABELS more served requests (the performance alarm stays
    # in ALARM: no new episode)
    before, runs_before = decisions(mlops), runs(mlops)
    (base,) = [r["dataset_version"] for r in runs_before if r["trigger"].startswith("retrain")]
    report = push_labels(mlops, tmp_path, "honest.csv", served.labels(CHANGED_LABELS, HONEST_LABELS))
    assert report["counts"]["matched"] == HONEST_LABELS
    live.platform.drain(alarm_events, wait=0.2)
    # When drifted traffic fills the windows the drift alarm needs, and what the policy sets off is done
    live.clock.advance(SCHEDULE)  # the monitor's run over the labelled traffic
    # the labels and the monitor's run above took part of the cooldown; the alarm may fire from here on
    _after_cooldown(live, [d for d in before if d["outcome"] == "preparing"][-1])
    needed = live.alarm()["DatapointsToAlarm"]
    moved = drifted(traffic(needed * WINDOW_ROWS, seed=600), seed=601)
    started = time.monotonic()
    for index in range(needed):  # the served traffic was drifted too: its window may be one of them
        if live.alarm()["StateValue"] == "ALARM":
            break
        assert live.scheduled(moved.slice(index * WINDOW_ROWS, WINDOW_ROWS))["status"] == "drift"
    live.platform.cloud.wait_idle(timeout=900)
    print(f"\ndrift alarm to the end of its retrain run: {time.monotonic() - started:.0f} s")
    # Then the alarm fired once, and the policy prepared the latest version plus the labels new to it ...
    assert live.alarm()["StateValue"] == "ALARM"
    changes = _changes_to_alarm(live, alarm_events)
    assert [e["detail"]["alarmName"] for e in changes] == [DRIFT_ALARM]
    preparing, accepted = _new(before, decisions(mlops))
    assert (preparing["trigger"]["kind"], preparing["outcome"]) == ("drift_alarm", "preparing")
    # ... whose acceptance started one retrain run, referring to the decision, with the alarm's reason
    assert (accepted["trigger"]["kind"], accepted["outcome"]) == ("accepted", "started")
    (run,) = [r for r in runs(mlops) if r["name"] not in {b["name"] for b in runs_before}]
    assert run["name"] == accepted["run"]
    assert (run["status"], run["trigger"]) == ("SUCCEEDED", f"retrain {preparing['decision_id']}")
    assert DRIFT_ALARM in run["reason"]
    # on a new version: the latest version's rows (which hold the first labels) and the labels new to it
    version = catalog_version(live, run["dataset_version"])
    assert version.source["key"] == retraining_upload_key("churn", preparing["decision_id"])
    assert version.rows == catalog_version(live, base).rows + HONEST_LABELS
    # and the model it registered says so in its lineage
    metadata = _registered_by(live, run["execution_arn"])
    assert metadata["lineage.trigger"] == "retrain"
    assert metadata["lineage.trigger_reference"] == preparing["decision_id"]
    assert metadata["lineage.dataset_version"] == run["dataset_version"]
    assert DRIFT_ALARM in metadata["lineage.trigger_reason"]


def test_the_daily_cap_holds_under_a_burst_of_alarms(live: Live, mlops: CliRunner) -> None:
    # Given MAX_RUNS_PER_DAY runs started by the policy today (the cooldown of the last may still hold: a
    # decision names every limit that holds, so the cap is seen without waiting the cooldown out)
    before, runs_before = decisions(mlops), runs(mlops)
    # When the drift alarm has three episodes in a row
    for _ in range(3):
        set_alarm(live, DRIFT_ALARM, "OK")
        set_alarm(live, DRIFT_ALARM, "ALARM")
    # Then each is decided, none starts a run, and each says the cap holds it back
    burst = _new(before, decisions(mlops))
    assert [(d["trigger"]["kind"], d["outcome"]) for d in burst] == [("drift_alarm", "skipped")] * 3
    for decision in burst:
        assert f"the cap (retraining.max_runs_per_day) is {MAX_RUNS_PER_DAY}" in decision["reason"]
    assert runs(mlops) == runs_before


def _registered_by(live: Live, execution_arn: str) -> dict[str, str]:
    """The customer metadata of the model package the run ``execution_arn`` registered."""
    sagemaker = live.platform.client("sagemaker")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=ENDPOINT)["ModelPackageSummaryList"]
    packages = [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]
    (metadata,) = [
        p["CustomerMetadataProperties"]
        for p in packages
        if p["CustomerMetadataProperties"].get("lineage.execution_arn") == execution_arn
    ]
    found: dict[str, str] = metadata
    return found
