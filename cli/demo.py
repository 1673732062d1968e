"""``make demo``: the lifecycle and its closed loop in the local cloud, with the commands a user would type.

Synthesizes the CDK app, starts the local cloud and deploys the synthesized templates into it, uploads a
good dataset and a bad one with ``mlops data push``, shows the accepted version and the rejection report,
the training run that the accepted version started by itself and the model version it registered, then
approves it, which deploys it to the dataset's endpoint, and shows predictions from that endpoint. Then the
closed loop (``cli.demo_loop``): moved traffic sent with inference IDs, its labels showing a concept change,
the performance alarm, the policy preparing a dataset version with the labelled rows, a retrain run, the
gate, and the retrained version going out through a canary and serving (or the gate's reason why not). Last,
drift: windows with three features moved raise the drift alarm, which the policy answers with "nothing new
to learn from". The local cloud keeps running afterwards, so that the user can go on exploring.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from rich.rule import Rule

from cli.common import console, plain
from cli.demo_loop import close_the_loop, demo_context, demo_environment, watch_for_drift
from cli.demo_support import DATA_DIR, run, wait_for_deployment, wait_for_run
from cli.target import PROJECT_ROOT


def make_data() -> tuple[Path, Path]:
    """A good and a bad upload of the example churn dataset."""
    from examples.churn import generate

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    good = generate(20_000, 7, DATA_DIR / "churn-2026-11.csv.gz", "csv.gz")
    bad = generate(5_000, 8, DATA_DIR / "churn-2026-12.csv", "csv", variant="bad")
    return good, bad


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


def main() -> None:
    """Run the demo."""
    began = time.monotonic()
    console.print(Rule("MLOps platform: from data to a retrained model, in the local cloud (no AWS account)"))
    good, bad = make_data()
    run("local", "down")
    # The assembly goes where `make synth` puts it (CDK_OUTDIR, relative to the project), not always cdk.out.
    assembly = PROJECT_ROOT / os.environ.get("CDK_OUTDIR", "cdk.out")
    _, changes = demo_context()
    console.print(f"The demo's configuration: cdk.json, with {plain(changes)}.")
    port = os.environ.get("MLOPS_DEMO_PORT", "4566")
    run("local", "up", "--port", port, "--cdk-out", str(assembly), env=demo_environment())
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
    close_the_loop()
    watch_for_drift()
    console.print(Rule())
    console.print(f"The demo took {(time.monotonic() - began) / 60:.1f} minutes.")
    console.print(
        "The local cloud is still running. Try:\n"
        "  source .venv/bin/activate\n"
        "  mlops data versions churn --json\n"
        "  mlops endpoints list\n"
        "  mlops pipeline decisions --dataset churn --json   # the policy's decisions and their reasons\n"
        "  mlops pipeline start --dataset churn --rerun second-look --wait\n"
        "  mlops drift report churn --open         # the latest drift report, in the browser\n"
        "  mlops local clock --advance 1h          # an hour of the platform's schedules, now\n"
        '  eval "$(mlops local env)"; aws s3 ls   # any AWS client works against it\n'
        "  mlops local down                        # when you are done"
    )


if __name__ == "__main__":
    main()
