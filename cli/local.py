"""``mlops local``: the local cloud (moto plus the project's executors) on loopback."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

import localcloud
from cli.common import clock as clock_text
from cli.common import coloured, console, errors, fail, plain
from cli.drift_window import parse_duration
from cli.synth import SynthError, synthesize
from cli.tables import flexible, identifier, print_table
from cli.target import PROJECT_ROOT
from domain.names import version_of

app = typer.Typer(
    help="The local cloud: the platform on this machine, no AWS account needed.", no_args_is_help=True
)


def _warn(message: str) -> None:
    errors.print(f"[yellow]warning:[/yellow] {plain(message)}", highlight=False, soft_wrap=True)


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Loopback port (0: any free port).")] = 4566,
    deploy: Annotated[bool, typer.Option(help="Deploy the synthesized app into it.")] = True,
    synth: Annotated[bool, typer.Option(help="Synthesize the app first (into --cdk-out).")] = True,
    cdk_out: Annotated[Path, typer.Option(help="The cloud assembly to deploy.")] = PROJECT_ROOT / "cdk.out",
    iam: Annotated[
        bool, typer.Option(help="Decide every request by the templates' IAM policies, as AWS does.")
    ] = True,
) -> None:
    """Start the local cloud in the background and deploy the app into it."""
    if synth and deploy:
        with console.status("synthesizing the CDK app (cdk-nag included) ..."):
            try:
                synthesize(cdk_out, warn=_warn)
            except SynthError as error:
                errors.print(str(error), markup=False, highlight=False, soft_wrap=True)
                fail("the CDK app did not synthesize (above: why; `make synth` prints all it wrote)")
    with console.status("starting the local cloud and deploying ..."):
        try:
            state = localcloud.up(port=port, deploy=cdk_out if deploy else None, enforce_iam=iam)
        except localcloud.LocalCloudError as error:
            fail(str(error))
    console.print(
        f"[green]local cloud running[/green] at {plain(state['endpoint_url'])} (pid {state['pid']})",
        highlight=False,
    )
    for stack in state.get("stacks", []):
        console.print(f"  deployed {plain(stack)}", highlight=False)
    console.print('Point any AWS client at it with: eval "$(mlops local env)"')


@app.command()
def down() -> None:
    """Stop the local cloud (its state is in memory and goes with it)."""
    stopped = localcloud.down()
    console.print("local cloud stopped" if stopped else "no local cloud was running")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say whether the local cloud runs, where, and what is deployed in it."""
    state = localcloud.status()
    if as_json:
        console.print_json(json.dumps(state, default=str))
        return
    if not state.get("running"):
        console.print("no local cloud is running; start one with `mlops local up`")
        raise typer.Exit(1)
    # One identifier per line in the values: names and paths are copied from here, never cut.
    table = Table(flexible("what"), identifier("value"), show_header=False)
    failed = state.get("failed_invocation_count", 0)
    rows = {
        "endpoint": state["endpoint_url"],
        "pid": state["pid"],
        "region": state["region"],
        "started at": _when(state["started_at"]),
        "IAM": "enforced" if state.get("enforce_iam") else "not enforced (started with --no-iam)",
        "state": state["state_dir"],
        "stacks": "\n".join(state.get("stacks", [])) or "none",
        "function runs": f"{state.get('invocation_count', 0)} ({failed} failed)",
        "training jobs": "\n".join(f"{r['job_name']} {r['status']}" for r in state.get("training_runs", []))
        or "none",
        "endpoints": "\n".join(_endpoint_line(endpoint) for endpoint in state.get("endpoints", [])) or "none",
    }
    for key, value in rows.items():
        table.add_row(key, plain(value))
    print_table(table)


def _endpoint_line(endpoint: dict[str, str]) -> str:
    """The endpoint, its status and the model version it serves (its configuration when not ours)."""
    config = endpoint.get("config_name")
    version = version_of(config, endpoint["name"])
    serving = f"v{version}" if version is not None else f"({config})"
    return f"{endpoint['name']} {endpoint['status']} {serving}"


@app.command()
def access(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Per role: the permissions it used and the statements it was granted and never used.

    From the running local cloud since it started; with none running, the last report saved (by a local
    cloud stopped with `mlops local down`, or by the end-to-end tests).
    """
    report = localcloud.access()
    if report is None:
        errors.print(
            "no local cloud is running and no report was saved; start one with `mlops local up`",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if as_json:
        console.print_json(json.dumps(report, default=str))
        return
    if report["source"] == "running":
        console.print(
            f"IAM use in the local cloud at {plain(report['endpoint_url'])} "
            f"since {_when(report['started_at'])}",
            highlight=False,
        )
    else:
        console.print(
            f"no local cloud is running; the last report saved: {plain(report['saved_to'])}, taken "
            f"{_when(report['taken_at'])} (its local cloud started {_when(report['started_at'])})",
            highlight=False,
            soft_wrap=True,
        )
    if not report.get("enforced"):
        _warn("that local cloud did not enforce IAM (--no-iam), so it recorded nothing")
    for role in sorted(report["roles"], key=_role_title):
        _print_role(role)
    unused = sum(len(role["unused"]) for role in report["roles"])
    used = sum(1 for role in report["roles"] if role["used"])
    skipped = sum(len(role.get("not_exercised_locally", [])) for role in report["roles"])
    console.print(
        f"{used} of {len(report['roles'])} role(s) used; {unused} statement(s) granted and never used; "
        f"{skipped} not exercised locally"
    )


def _print_role(role: dict[str, Any]) -> None:
    console.print(f"\n[bold]{plain(_role_title(role))}[/bold]", highlight=False)
    if role["used"]:
        used = Table(identifier("action"), identifier("resource"), title="used")
        for item in role["used"]:
            used.add_row(plain(item["action"]), plain(item["resource"]))
        print_table(used)
    else:
        console.print("never used: nothing acted as this role")
    skipped = role.get("not_exercised_locally", [])  # absent from reports saved before it existed
    if skipped:
        # Calls the local cloud never makes (X-Ray: tracing is off locally): neither used nor unused here.
        names = ", ".join(f"{item['statement']} ({' '.join(item['actions'])})" for item in skipped)
        console.print(f"not exercised locally: {plain(names)}", highlight=False, soft_wrap=True)
    if not role["unused"]:
        console.print("every statement was used")
        return
    unused = Table(
        flexible("policy"), flexible("statement"), identifier("actions"), identifier("resources"),
        title="granted, never used",
    )  # fmt: skip
    for item in role["unused"]:
        unused.add_row(
            *(plain(v) for v in (item["policy"], item["statement"])),
            *(plain("\n".join(item[k])) for k in ("actions", "resources")),
        )
    print_table(unused)


def _role_title(role: dict[str, Any]) -> str:
    """``stack/LogicalId (role name)`` for a role CloudFormation made, else ``role name``."""
    if role.get("stack") and role.get("logical_id"):
        return f"{role['stack']}/{role['logical_id']} (role {role['name']})"
    return f"role {role['name']}"


def _when(timestamp: float | str | None) -> str:
    if timestamp is None:
        return "(unknown)"
    return datetime.fromtimestamp(float(timestamp), UTC).isoformat(timespec="seconds")


_FIRING_COLOURS = {"invoked": "green", "started": "green", "refused": "red", "failed": "red"}


@app.command()
def clock(
    advance: Annotated[
        str | None,
        typer.Option(
            help="Move the clock forward by a duration (30m, 1h, 1d): the schedules due on the way fire, "
            "each at its time, then the alarms are evaluated."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the local cloud's time, or move it forward (it never goes back).

    What the local cloud times itself (captures, endpoint metrics, schedules, alarm evaluation) reads this
    clock, so an hour of monitoring takes seconds: `mlops local clock --advance 1h` runs the drift
    monitor's next scheduled check and evaluates its alarms.
    """
    delta = None
    if advance is not None:
        delta = parse_duration(advance)
        if delta is None or delta <= timedelta(0):
            fail(f"--advance {advance!r} is not a duration: give one such as 30m, 1h or 1d12h")
    with (
        console.status(f"advancing the local cloud's clock by {plain(advance)} ...")
        if delta
        else nullcontext()
    ):
        try:
            answer = localcloud.daemon_clock(advance=delta)
        except localcloud.LocalCloudError as error:
            fail(str(error), code=1)
    if answer is None:
        errors.print("no local cloud is running; start one with `mlops local up`")
        raise typer.Exit(1)
    if as_json:
        console.print_json(json.dumps(answer, default=str))
        return
    ahead = _span(float(answer["offset_seconds"]))
    console.print(
        f"local cloud time {clock_text(answer['now'])} UTC ({ahead} ahead of this machine)", highlight=False
    )
    if delta is None:
        return
    fired = answer["fired"]
    console.print(f"advanced {plain(advance)}: {len(fired)} schedule firing(s)", highlight=False)
    for firing in fired:
        outcome = coloured(firing["status"], _FIRING_COLOURS)
        result = f" ({plain(firing['result'])})" if firing.get("result") else ""
        why = f": {plain(firing['error'])}" if firing.get("error") else ""
        when = clock_text(firing["scheduled_time"])
        console.print(
            f"  {when}  {plain(firing['schedule'])}  {outcome}{result}{why}",
            highlight=False,
            soft_wrap=True,
        )


def _span(seconds: float) -> str:
    """``2h 05m 07s`` (days when there are any; seconds rounded)."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return (f"{days}d " if days else "") + f"{hour}h {minute:02d}m {second:02d}s"


@app.command()
def env() -> None:
    """Print the shell exports with which any AWS client talks to the local cloud."""
    state = localcloud.status()
    if not state.get("running"):
        errors.print("no local cloud is running; start one with `mlops local up`")
        raise typer.Exit(1)
    typer.echo(localcloud.env_exports(state))
