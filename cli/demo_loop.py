"""``make demo``, second half: the closed loop from labelled traffic to the retrained version, then drift.

Traffic from the north (its features moved, as ``examples.churn.drifted`` moves them) is sent one row per
request with inference IDs. Its labels come back, and the world changed there (a concept change:
``examples.churn.concept_changed``): the realized performance falls under its floor and the performance
alarm fires. The retraining policy prepares a dataset version of the latest one plus the labelled rows, the
data plane accepts it, a retrain run trains it and the gate decides; an approved version goes out through a
canary and serves, or the demo ends with the gate's reason why not. Last, the drift monitor: a window like
the training data is no drift, windows with the three features moved raise the drift alarm, and the policy
answers it with "nothing new to learn from" and the advice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.rule import Rule

from cli.common import console, plain
from cli.demo_support import (
    DATA_DIR,
    churn_model_versions,
    expect_alarm,
    local_platform,
    run,
    wait_for_alarm,
    wait_for_canary,
    wait_for_decision,
    wait_for_deployment,
    wait_for_run,
)
from cli.target import PROJECT_ROOT

if TYPE_CHECKING:
    import pyarrow as pa

    from domain.monitoring.config import MonitoringConfig

WINDOW_ROWS, PER_REQUEST = 300, 25  # a window of traffic: a few hundred rows, over the monitor's minimum
ID_COLUMN = "request_id"  # the drifted windows name each row: its inference ID, which the labels name
# What the demo changes in cdk.json's configuration, so that the retrained version's update shows a canary
# in a minute: churn on two instances (one instance is updated all at once), a 50% canary with short waits,
# and the deployment workflow looking every few seconds (tests/e2e's quick deployments).
CANARY_PERCENT, WAIT_SECONDS, BAKE_SECONDS = 50, 20, 20
DEMO_SERVING = {
    "instance_count": 2,
    "rollout": {
        "strategy": "canary",
        "canary_percent": CANARY_PERCENT,
        "wait_seconds": WAIT_SECONDS,
        "bake_seconds": BAKE_SECONDS,
    },
}
DEMO_DEPLOYMENT = {"poll_seconds": 3, "lock_wait_seconds": 3, "timeout_minutes": 60}
# No cooldown, so that the drift alarm after the retrain run is decided on the data (nothing new to learn
# from), not held back by the cooldown the run started.
DEMO_RETRAINING = {"cooldown_minutes": 0}
# The performance floor the demo sets if the gate gives churn none that labels can score (see
# README "Realized performance"): the model's accuracy on the example data is about 0.72.
FALLBACK_PERFORMANCE = {"metric": "accuracy", "floor": 0.65}


def demo_context() -> tuple[dict[str, Any], str]:
    """cdk.json's ``mlops`` context with the demo's changes, and the changes in words."""
    from domain.monitoring.performance_config import resolve_performance
    from stacks.config import load_platform

    mlops = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]["mlops"]
    mlops["deployment"] = mlops.get("deployment", {}) | DEMO_DEPLOYMENT
    churn = mlops["datasets"]["churn"]
    churn["serving"] = churn.get("serving", {}) | DEMO_SERVING
    churn["retraining"] = churn.get("retraining", {}) | DEMO_RETRAINING
    said = (
        f"churn's serving {json.dumps(DEMO_SERVING)} and retraining {json.dumps(DEMO_RETRAINING)}, "
        f"deployment {json.dumps(DEMO_DEPLOYMENT)}"
    )
    platform = load_platform(mlops, PROJECT_ROOT)
    if not resolve_performance(platform.config.datasets["churn"].monitoring.performance,
                               platform.training["churn"]).enabled:  # fmt: skip
        churn.setdefault("monitoring", {})["performance"] = FALLBACK_PERFORMANCE
        said += f", churn's monitoring.performance {json.dumps(FALLBACK_PERFORMANCE)}"
    return mlops, said


def demo_environment() -> dict[str, str]:
    """The demo's environment, with its configuration passed to the app as the CDK CLI passes context."""
    mlops, _ = demo_context()
    return {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"mlops": mlops})}


def churn_monitoring() -> MonitoringConfig:
    """The churn dataset's ``monitoring`` key of cdk.json (its window and the drift alarm's N of M)."""
    from domain.monitoring.config import parse_monitoring_config

    mlops, _ = demo_context()
    return parse_monitoring_config(
        mlops["datasets"]["churn"].get("monitoring"), source="cdk.json: mlops.datasets.churn.monitoring"
    )


def make_labelled_traffic(folder: Path = DATA_DIR) -> tuple[Path, Path]:
    """Requests from the north, each row named by its ID, and their labels as they come back later."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from examples.churn import chunks, concept_changed, drifted, request_csv

    rows = drifted(next(chunks(WINDOW_ROWS, seed=90)), seed=91)
    ids = pa.array([f"north-{row:04d}" for row in range(rows.num_rows)])
    requests, labels = folder / "requests-north.csv", folder / "labels-north.csv"
    requests.write_bytes(request_csv(rows.drop(["churned"]).add_column(0, ID_COLUMN, ids)))
    churned = concept_changed(rows, seed=92).column("churned")
    pacsv.write_csv(pa.table({"inference_id": ids, "churned": churned}), labels)
    return requests, labels


def make_windows(drifted_windows: int, folder: Path = DATA_DIR) -> tuple[Path, list[Path]]:
    """A window of requests like the training data, and ``drifted_windows`` with three features moved."""
    from examples.churn import chunks, drifted, request_csv

    def rows(seed: int) -> pa.Table:
        return next(chunks(WINDOW_ROWS, seed=seed)).drop(["churned"])

    normal = folder / "window-normal.csv"
    normal.write_bytes(request_csv(rows(100)))
    moved = [folder / f"window-drifted-{index + 1}.csv" for index in range(drifted_windows)]
    for index, path in enumerate(moved):
        path.write_bytes(request_csv(drifted(rows(101 + index), seed=201 + index)))
    return normal, moved


def close_the_loop() -> None:
    """From labelled traffic to the retrained version serving, or to the gate's reason why not."""
    from domain.names import performance_alarm_name

    endpoint = local_platform().output("EndpointNameChurn")
    requests, labels = make_labelled_traffic()
    console.print(Rule("10. apps send requests with inference IDs, so that labels can find them later"))
    console.print(
        f"{WINDOW_ROWS} requests from the north, one row each, named by the file's {ID_COLUMN} column. "
        "Their customers have moved on (older, more data, mostly in the north region)."
    )
    run("endpoints", "invoke", "churn", "--file", str(requests), "--inference-id-column", ID_COLUMN, head=8)
    console.print(
        Rule("11. their labels come back: in the north, customers now churn whatever their contract")
    )
    console.print(
        f"The team pushes what happened to those customers ({plain(labels.name)}, by inference ID). A "
        "rival's offer in the north, which the model never learned: the report joins the labels with the "
        "captured requests and scores the model that answered them."
    )
    run("feedback", "push", str(labels), "--dataset", "churn")
    # No clock advance here: the local cloud evaluates an alarm as its metric arrives, and an advance first
    # waits (at most a minute) for what is in flight, which the alarm's decision has just set going.
    console.print("The realized performance is under its floor: the performance alarm fires on it.")
    with console.status("waiting for the performance alarm ..."):
        wait_for_alarm(performance_alarm_name(endpoint), "ALARM")
    run("alarms", "list", "--dataset", "churn")
    console.print(Rule("12. the policy prepares a dataset version: the latest one plus the labelled rows"))
    prepared = wait_for_decision(
        "the decision on the performance alarm", lambda d: d.trigger.kind == "performance_alarm"
    )
    _expect(prepared.outcome == "preparing", f"the performance alarm's decision is {prepared.outcome}")
    retrain = wait_for_decision(
        "the start of the retrain run on the prepared version",
        lambda d: d.run is not None and d.run.trigger.reference == prepared.decision_id,
        timeout=300,
    )
    run("pipeline", "decisions", "--dataset", "churn", "--limit", "2")
    console.print(
        "The upload went to incoming/churn/retraining/ and the data plane validated it as any upload: a new "
        "version, whose acceptance started the retrain run."
    )
    run("data", "versions", "churn")
    console.print(Rule("13. the retrain run: trained on the new version, evaluated, gated against churn/1"))
    assert retrain.run is not None  # matched above
    name = retrain.run.name
    with console.status(f"waiting for the training run {plain(name)} ..."):
        wait_for_run(name)
    run("pipeline", "runs", "--dataset", "churn")
    run("pipeline", "show", name)
    registered = [v for v in churn_model_versions() if v.trigger_reference == prepared.decision_id]
    if not registered:
        console.print(
            "The gate did not register the retrained model (its reason above): churn/1 keeps serving. "
            "More labels, or newer data, give the next run more to learn from."
        )
        return
    model = f"churn/{registered[0].version}"
    console.print(Rule(f"14. the retrained version {model}, approved, goes out through a canary"))
    run("models", "list", "--dataset", "churn")
    if registered[0].approval_status == "PendingManualApproval":
        run("models", "approve", model, "--reason", "demo: retrained on the north's labels, gate passed")
    with console.status(f"waiting for the canary of {model} ..."):
        canary = wait_for_canary(endpoint)
    if canary is not None:
        console.print(
            f"The update is under way ({canary}): {model} runs on a fleet of its own beside churn/1, "
            f"{CANARY_PERCENT}% of the capacity takes the traffic for {WAIT_SECONDS} s, then all of it, "
            f"and the update bakes {BAKE_SECONDS} s watching the endpoint's alarms before churn/1's fleet "
            "stops (an alarm in between rolls it back)."
        )
        run("endpoints", "show", "churn")
    with console.status(f"waiting for the end of the deployment of {model} ..."):
        wait_for_deployment(registered[0].version)
    run("endpoints", "show", "churn")
    run("endpoints", "invoke", "churn", "--file", str(DATA_DIR / "rows.csv"))


def watch_for_drift() -> None:
    """Traffic like the training data, then windows with three features moved, through the monitor; the
    drift alarm, and the policy's answer: nothing new to learn from."""
    from domain.names import drift_alarm_name
    from examples.churn import DRIFTED

    config = churn_monitoring()
    window = f"{config.window_minutes}m"  # the schedule runs once a window (cdk.json's default: an hour)
    alarm = config.alarm
    normal, moved = make_windows(alarm.datapoints)
    console.print(Rule("15. the drift monitor watches the endpoint"))
    console.print(f"A window of traffic like the training data ({WINDOW_ROWS} rows), checked: no drift.")
    run("endpoints", "invoke", "churn", "--file", str(normal), "--batch", str(PER_REQUEST))
    run("drift", "check", "churn")
    console.print(
        f"The local cloud's clock moves {window} on: the monitor's scheduled check of the window runs, "
        "its metrics go to CloudWatch, the alarms are evaluated."
    )
    run("local", "clock", "--advance", window)
    console.print(
        f"Then {len(moved)} window(s) with {', '.join(DRIFTED)} moved: the drift alarm fires on "
        f"{alarm.datapoints} drifted window(s) of {alarm.periods}."
    )
    for index, path in enumerate(moved):
        run("endpoints", "invoke", "churn", "--file", str(path), "--batch", str(PER_REQUEST))
        if index == len(moved) - 1:
            run("drift", "check", "churn")  # the last window: the drifted traffic, its three features flagged
        run("local", "clock", "--advance", window)
    run("alarms", "list", "--dataset", "churn")
    expect_alarm(drift_alarm_name(local_platform().output("EndpointNameChurn")), "ALARM")
    console.print(
        f"The drift alarm is in ALARM: {alarm.datapoints} of the last {alarm.periods} windows drifted (and "
        f"the no-traffic alarm too: the clock jumped {window} past the last request)."
    )
    run("drift", "report", "churn")
    console.print(Rule("16. the retraining policy decides on the drift alarm: nothing new to learn from"))
    drift = wait_for_decision("the decision on the drift alarm", lambda d: d.trigger.kind == "drift_alarm")
    run("pipeline", "decisions", "--dataset", "churn", "--limit", "1")
    _expect(drift.outcome == "skipped", f"the drift alarm's decision is {drift.outcome}, not skipped")
    console.print(
        "The model in service learned from the latest version, labels included, and no label came since: "
        "retraining would reproduce it. The policy starts nothing, and the alert says what to do."
    )


def _expect(holds: bool, surprise: str) -> None:
    if not holds:
        console.print(f"[red]the demo did not expect this: {plain(surprise)}[/red]")
        raise SystemExit(1)
