"""``make demo``: the lifecycle so far, end to end in the local cloud, with the commands a user would type.

Synthesizes the CDK app, starts the local cloud and deploys the synthesized templates into it, uploads a
good dataset and a bad one with ``mlops data push``, shows the accepted version and the rejection report,
the training run that the accepted version started by itself and the model version it registered, then
approves it, which deploys it to the dataset's endpoint, and shows predictions from that endpoint. Last,
the drift monitor: a window of traffic like the training data is no drift; windows with three features
moved, the local cloud's clock advanced through the monitor's schedule, raise the drift alarm. The local
cloud keeps running afterwards, so that the user can go on exploring.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.rule import Rule

from cli.common import console, plain
from cli.target import PROJECT_ROOT

if TYPE_CHECKING:
    import pyarrow as pa

    from domain.monitoring.config import MonitoringConfig

MLOPS = str(Path(sys.executable).with_name("mlops"))
DATA_DIR = PROJECT_ROOT / ".cache" / "demo"
WINDOW_ROWS, PER_REQUEST = 300, 25  # a window of traffic: a few hundred rows, over the monitor's minimum


def run(*args: str, expect: int = 0) -> None:
    """Run ``mlops ARGS`` as a user would, showing the command; fail the demo on a surprise exit code."""
    console.print(f"\n[bold cyan]$ mlops {plain(shlex.join(args))}[/bold cyan]", highlight=False)
    code = subprocess.run([MLOPS, *args], cwd=PROJECT_ROOT, check=False).returncode
    if code != expect:
        console.print(f"[red]the demo expected exit code {expect}, got {code}[/red]")
        raise SystemExit(1)


def make_data() -> tuple[Path, Path]:
    """A good and a bad upload of the example churn dataset."""
    from examples.churn import generate

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    good = generate(20_000, 7, DATA_DIR / "churn-2026-11.csv.gz", "csv.gz")
    bad = generate(5_000, 8, DATA_DIR / "churn-2026-12.csv", "csv", variant="bad")
    return good, bad


def wait_for_run(name: str, timeout: float = 900.0) -> None:
    """Wait until the training run the accepted upload started has ended (in the local cloud)."""
    from adapters.pipeline import StepFunctionsPipeline
    from cli.target import Cloud, Platform, project_name, use_cloud

    use_cloud(Cloud.local)
    machine = Platform(project_name()).output("TrainingStateMachineArn")
    pipeline = StepFunctionsPipeline()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [run for run in pipeline.runs(machine) if run.name == name]
        if runs and runs[0].status != "RUNNING":
            return
        time.sleep(1)
    console.print(f"[red]the training run {plain(name)} did not end within {timeout:.0f} s[/red]")
    raise SystemExit(1)


def make_requests() -> tuple[Path, Path, Path]:
    """Rows an app would send: five customers as CSV and as JSON, and one request the model refuses."""
    from examples.churn import chunks, plain, request_csv

    table = next(chunks(5, seed=99)).drop(["churned"])
    rows_csv, rows_json, bad = DATA_DIR / "rows.csv", DATA_DIR / "rows.json", DATA_DIR / "bad-rows.json"
    rows_csv.write_bytes(request_csv(table))
    records = plain(table).to_pylist()
    rows_json.write_text(json.dumps({"instances": records}, indent=1))
    bad.write_text(json.dumps([records[0] | {"plan": "platinum", "age": "forty"}], indent=1))
    return rows_csv, rows_json, bad


def wait_for_deployment(version: int, timeout: float = 600.0) -> None:
    """Wait until the deployment of ``version`` to the churn endpoint has ended (in the local cloud)."""
    from adapters.deployments import DynamoDeployments
    from cli.target import Cloud, Platform, project_name, use_cloud

    use_cloud(Cloud.local)
    target = Platform(project_name())
    deployments = DynamoDeployments(target.output("DeploymentsTableName"))
    endpoint = target.output("EndpointNameChurn")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(record.get("version") == version for record in deployments.history(endpoint)):
            return
        time.sleep(1)
    console.print(f"[red]the deployment of version {version} did not end within {timeout:.0f} s[/red]")
    raise SystemExit(1)


def make_windows(drifted_windows: int) -> tuple[Path, list[Path]]:
    """A window of requests like the training data, and ``drifted_windows`` with three features moved."""
    from examples.churn import chunks, drifted, request_csv

    def rows(seed: int) -> pa.Table:
        return next(chunks(WINDOW_ROWS, seed=seed)).drop(["churned"])

    normal = DATA_DIR / "window-normal.csv"
    normal.write_bytes(request_csv(rows(100)))
    moved = [DATA_DIR / f"window-drifted-{index + 1}.csv" for index in range(drifted_windows)]
    for index, path in enumerate(moved):
        path.write_bytes(request_csv(drifted(rows(101 + index), seed=201 + index)))
    return normal, moved


def churn_monitoring() -> MonitoringConfig:
    """The churn dataset's ``monitoring`` key of cdk.json (its window and the drift alarm's N of M)."""
    from domain.monitoring.config import parse_monitoring_config

    datasets = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]["mlops"][
        "datasets"
    ]
    return parse_monitoring_config(
        datasets["churn"].get("monitoring"), source="cdk.json: mlops.datasets.churn.monitoring"
    )


def expect_drift_alarm(state: str) -> None:
    """Fail the demo unless the churn endpoint's drift alarm is in ``state`` (what the demo just said)."""
    from cli.alarms import CloudWatchAlarms
    from cli.target import Cloud, Platform, project_name, use_cloud
    from domain.names import drift_alarm_name

    use_cloud(Cloud.local)
    name = drift_alarm_name(Platform(project_name()).output("EndpointNameChurn"))
    alarms = CloudWatchAlarms().describe([name])
    found = alarms[0].state if alarms else "missing"
    if found != state:
        console.print(f"[red]the drift alarm {plain(name)} is {plain(found)}, not {state}[/red]")
        raise SystemExit(1)


def watch_for_drift() -> None:
    """Traffic like the training data, then windows with three features moved, through the monitor."""
    from examples.churn import DRIFTED

    config = churn_monitoring()
    window = f"{config.window_minutes}m"  # the schedule runs once a window (cdk.json's default: an hour)
    alarm = config.alarm
    normal, moved = make_windows(alarm.datapoints)
    console.print(Rule("10. the drift monitor watches the endpoint"))
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
    expect_drift_alarm("ALARM")
    console.print(
        f"The drift alarm is in ALARM: {alarm.datapoints} of the last {alarm.periods} windows drifted (and "
        f"the no-traffic alarm too: the clock jumped {window} past the last request)."
    )
    run("drift", "report", "churn")


def main() -> None:
    """Run the demo."""
    console.print(
        Rule("MLOps platform: from data to predictions and drift, in the local cloud (no AWS account)")
    )
    good, bad = make_data()
    run("local", "down")
    # The assembly goes where `make synth` puts it (CDK_OUTDIR, relative to the project), not always cdk.out.
    assembly = PROJECT_ROOT / os.environ.get("CDK_OUTDIR", "cdk.out")
    run("local", "up", "--port", os.environ.get("MLOPS_DEMO_PORT", "4566"), "--cdk-out", str(assembly))
    console.print(Rule("1. a good upload becomes a validated, content-addressed dataset version"))
    run("data", "push", str(good), "--dataset", "churn")
    console.print(Rule("2. a bad upload is rejected with a report that says what is wrong, where"))
    run("data", "push", str(bad), "--dataset", "churn", expect=1)
    console.print(Rule("3. the same content again is the same version: nothing new is recorded"))
    run("data", "push", str(good), "--dataset", "churn", "--name", "same-content-again.csv.gz")
    console.print(Rule("4. the dataset's versions and the accepted version's report"))
    run("data", "versions", "churn")
    run("data", "show", "churn", "latest")
    console.print(Rule("5. the accepted version trained by itself: split, train, evaluate, gate, register"))
    run_name = f"churn-{hashlib.sha256(good.read_bytes()).hexdigest()[:12]}-accepted"
    with console.status(f"waiting for the training run {plain(run_name)} ..."):
        wait_for_run(run_name)
    run("pipeline", "runs", "--dataset", "churn")
    run("pipeline", "show", run_name)
    console.print(Rule("6. the registered model version: metrics, lineage, gate decision"))
    run("models", "list", "--dataset", "churn")
    run("models", "show", "churn/1")
    console.print(Rule("7. approving the version deploys it to the dataset's endpoint"))
    run("models", "approve", "churn/1", "--reason", "demo: reviewed the evaluation")
    with console.status("waiting for the deployment of churn/1 ..."):
        wait_for_deployment(1)
    run("endpoints", "show", "churn")
    console.print(Rule("8. apps invoke the endpoint by its name: predictions, as CSV or JSON"))
    rows_csv, rows_json, bad = make_requests()
    run("endpoints", "invoke", "churn", "--file", str(rows_csv))
    run("endpoints", "invoke", "churn", "--file", str(rows_json))
    console.print(Rule("9. a request that breaks the contract is refused with the reason, not a stack trace"))
    run("endpoints", "invoke", "churn", "--file", str(bad), expect=1)
    watch_for_drift()
    console.print(Rule())
    console.print(
        "The local cloud is still running. Try:\n"
        "  source .venv/bin/activate\n"
        "  mlops data versions churn --json\n"
        "  mlops endpoints list\n"
        "  mlops pipeline start --dataset churn --rerun second-look --wait\n"
        "  mlops drift report churn --open         # the latest drift report, in the browser\n"
        "  mlops local clock --advance 1h          # an hour of the platform's schedules, now\n"
        '  eval "$(mlops local env)"; aws s3 ls   # any AWS client works against it\n'
        "  mlops local down                        # when you are done"
    )


if __name__ == "__main__":
    main()
