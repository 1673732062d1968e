"""``mlops pipeline``: start a training run, list runs, show what a run did."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from adapters.catalog import DynamoDatasetCatalog
from adapters.pipeline import PipelineRun, StepFunctionsPipeline, execution_arn
from cli.common import CloudOption, JsonOption, clear_errors, clock, coloured, console, plain, platform
from cli.pipeline_decisions import decisions
from cli.pipeline_runs import await_end, resolve_version, run_output, run_steps
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.failures import failure_message
from domain.training.runs import RunRequest, Trigger, execution_input, parse_execution_name

app = typer.Typer(
    help="Training runs: start one, list them, see what one did, and the retraining policy's decisions.",
    no_args_is_help=True,
)
app.command()(clear_errors(decisions))

STATE_MACHINE_OUTPUT = "TrainingStateMachineArn"
_COLOURS = {"SUCCEEDED": "green", "RUNNING": "cyan", "FAILED": "red", "TIMED_OUT": "red", "ABORTED": "yellow"}


@app.command()
@clear_errors
def start(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset to train on.")],
    version: Annotated[
        str | None,
        typer.Option(help="An accepted version (SHA-256 or its first 8+ characters); default: the latest."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why: kept with the run and the model version.")] = "",
    rerun: Annotated[
        str | None, typer.Option(help="A label that makes this a new run of a version already trained.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the run ends and print its outcome.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 3600.0,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Start a training run of DATASET by hand (once per version and --rerun label)."""
    target = platform(cloud)
    machine = target.output(STATE_MACHINE_OUTPUT)
    full = resolve_version(DynamoDatasetCatalog(target.output("CatalogTableName")), dataset, version)
    request = RunRequest(dataset, full, Trigger(kind="manual", reference=rerun or None, reason=reason))
    pipeline = StepFunctionsPipeline()
    arn, started = pipeline.start(machine, request.name, execution_input(request))
    run = pipeline.describe(arn)
    if not as_json:
        if started:
            console.print(f"started run [bold]{plain(run.name)}[/bold]", highlight=False)
        else:
            console.print(
                f"[yellow]already started[/yellow]: run [bold]{plain(run.name)}[/bold] exists for this "
                "version and trigger (give --rerun LABEL to train it again)",
                highlight=False,
            )
    if wait and run.status == "RUNNING":
        run = await_end(pipeline, arn, timeout, quiet=as_json)
    if as_json:
        console.print_json(json.dumps({"started": started, **_run_dict(run)}, default=str))
    else:
        _print_run(run, run_output(arn) if run.status == "SUCCEEDED" else {})
    if wait and run.status != "SUCCEEDED":
        raise typer.Exit(1)


def _may_be_of(name: str, dataset: str) -> bool:
    """Whether the run named ``name`` may be one of ``dataset``'s (its name says so, or cannot be read)."""
    parsed = parse_execution_name(name)
    return parsed is None or parsed.dataset == dataset


@app.command()
@clear_errors
def runs(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Only runs of this dataset.")] = None,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """List the training runs, newest first."""
    target = platform(cloud)
    pipeline = StepFunctionsPipeline()
    # Described one by one: the trigger's reason is in each run's input only. A run whose name says another
    # dataset is not described (a name this module cannot read is, and its input decides).
    listed = pipeline.runs(target.output(STATE_MACHINE_OUTPUT))
    if dataset is not None:
        listed = [run for run in listed if _may_be_of(run.name, dataset)]
    found = [_listed(pipeline.describe(run.execution_arn)) for run in listed]
    if dataset is not None:
        found = [run for run in found if run["dataset"] == dataset]
    if as_json:
        console.print_json(json.dumps(found, default=str))
        return
    if not found:
        console.print("no training run yet" + (f" of {plain(dataset)}" if dataset else "") + ".")
        return
    # The name is <dataset>-<version[:12]>-<trigger>[-<reference>]: it is the dataset, version and
    # trigger columns in one, and what `mlops pipeline show` takes.
    table = Table(
        identifier("run"),
        *map(flexible, ("status", "started", "stopped", "why")),
        title=f"{len(found)} training run(s)",
        caption=plain("run: <dataset>-<version>-<trigger>[-<reference>]"),
        box=box.SIMPLE_HEAD,
    )
    for run in found:
        table.add_row(
            plain(run["name"]), coloured(run["status"], _COLOURS), clock(run["started_at"]),
            _stopped(run["started_at"], run["stopped_at"]), plain(run["reason"] or "-"),
        )  # fmt: skip
    print_table(table)


@app.command()
@clear_errors
def show(
    run: Annotated[str, typer.Argument(help="A run's name (as `mlops pipeline runs` lists it) or its ARN.")],
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Show one training run: its input, each step's outcome, and why it failed if it did."""
    target = platform(cloud)
    arn = _run_arn(target, run)
    described = StepFunctionsPipeline().describe(arn)
    output = run_output(arn)
    if as_json:
        console.print_json(json.dumps({**_run_dict(described), "steps": run_steps(output)}, default=str))
        return
    _print_run(described, output)


def _run_arn(target: Platform, run: str) -> str:
    if run.startswith("arn:"):
        return run
    return execution_arn(target.output(STATE_MACHINE_OUTPUT), run)


def _listed(run: PipelineRun) -> dict[str, Any]:
    parsed = parse_execution_name(run.name)
    trigger = None
    if parsed is not None:
        trigger = parsed.kind + (f" {parsed.reference}" if parsed.reference else "")
    request = run.request
    return {
        "name": run.name,
        "execution_arn": run.execution_arn,
        "status": run.status,
        "started_at": run.started_at,
        "stopped_at": run.stopped_at,
        "dataset": parsed.dataset if parsed else None,
        "dataset_version": request.dataset_version if request else parsed.version_prefix if parsed else None,
        "trigger": trigger,
        "reason": request.trigger.reason if request else None,
    }


def _run_dict(run: PipelineRun) -> dict[str, Any]:
    request = run.request
    return {
        "name": run.name,
        "execution_arn": run.execution_arn,
        "status": run.status,
        "started_at": run.started_at,
        "stopped_at": run.stopped_at,
        "dataset": request.dataset if request else None,
        "dataset_version": request.dataset_version if request else None,
        "trigger": asdict(request.trigger) if request else None,
        "imported": asdict(request.imported) if request and request.imported else None,
        "error": run.error,
        "cause": run.cause,
    }


def _print_run(run: PipelineRun, output: dict[str, Any]) -> None:
    console.print(f"[bold]{plain(run.name)}[/bold]  {coloured(run.status, _COLOURS)}", highlight=False)
    console.print(f"  started  {clock(run.started_at)}   stopped  {clock(run.stopped_at) or '-'}")
    if run.request is not None:
        trigger = run.request.trigger
        label = trigger.kind + (f" {trigger.reference}" if trigger.reference else "")
        console.print(
            f"  dataset  {plain(run.request.dataset)} version {plain(run.request.dataset_version[:12])}",
            highlight=False,
        )
        console.print(
            f"  trigger  {plain(label)}" + (f": {plain(trigger.reason)}" if trigger.reason else ""),
            highlight=False,
        )
        if (imported := run.request.imported) is not None:
            console.print(
                f"  imported {plain(imported.name)} (sha256 {imported.sha256[:16]}) by {plain(imported.by)}",
                highlight=False,
                soft_wrap=True,
            )
    steps = run_steps(output)
    if "prepare" in steps:
        rows = steps["prepare"]["rows"]
        console.print("  split    " + ", ".join(f"{plain(name)} {count:,}" for name, count in rows.items()))
    if "training" in steps:
        training = steps["training"]
        console.print(f"  training job {plain(training['job_name'])}", highlight=False, soft_wrap=True)
        console.print(
            f"           model {plain(training['model_artifacts'])}", highlight=False, soft_wrap=True
        )
    if "gate" in steps:
        gate = steps["gate"]
        verdict = "[green]approved[/green]" if gate["approved"] else "[red]rejected[/red]"
        console.print(f"  gate     {verdict}", highlight=False)
        for reason in gate["reasons"] or [gate["summary"] or "no reason given"]:
            console.print(f"           - {plain(reason)}", highlight=False)
    if "registration" in steps:
        registered = steps["registration"]
        console.print(
            f"  registered version {registered['version']} ({plain(registered['approval_status'])})",
            highlight=False,
        )
        console.print(f"           {plain(registered['model_package_arn'])}", highlight=False, soft_wrap=True)
    if run.error or run.cause:
        # The cause is often a document (a Lambda error with its stack trace): its line, not all of it.
        console.print(f"  [red]error[/red]    {plain(run.error or '')}", highlight=False)
        if run.cause:
            console.print(f"  cause    {plain(failure_message(None, run.cause))}", highlight=False)


def _stopped(started: str | None, stopped: str | None) -> str:
    """The stop time, without the date when it is the start's."""
    if not stopped:
        return "-"
    same_day = bool(started) and (started or "")[:10] == stopped[:10]
    return clock(stopped)[11:] if same_day else clock(stopped)
