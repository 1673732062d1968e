"""``mlops local``: the local cloud (moto plus the project's executors) on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import localcloud
from cli.target import PROJECT_ROOT

app = typer.Typer(
    help="The local cloud: the platform on this machine, no AWS account needed.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)


def synthesize(outdir: Path) -> None:
    """Synthesize the CDK app into ``outdir``, as ``cdk synth`` would (cdk-nag included)."""
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT_ROOT, env={**os.environ, "CDK_OUTDIR": str(outdir)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        errors.print(result.stderr[-4000:] or result.stdout[-4000:])
        errors.print("[red]error:[/red] the CDK app did not synthesize")
        raise typer.Exit(2)


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Loopback port (0: any free port).")] = 4566,
    deploy: Annotated[bool, typer.Option(help="Deploy the synthesized app into it.")] = True,
    synth: Annotated[bool, typer.Option(help="Synthesize the app first (into --cdk-out).")] = True,
    cdk_out: Annotated[Path, typer.Option(help="The cloud assembly to deploy.")] = PROJECT_ROOT / "cdk.out",
) -> None:
    """Start the local cloud in the background and deploy the app into it."""
    if synth and deploy:
        with console.status("synthesizing the CDK app (cdk-nag included) ..."):
            synthesize(cdk_out)
    with console.status("starting the local cloud and deploying ..."):
        try:
            state = localcloud.up(port=port, deploy=cdk_out if deploy else None)
        except localcloud.LocalCloudError as error:
            errors.print(f"[red]error:[/red] {error}")
            raise typer.Exit(2) from None
    console.print(f"[green]local cloud running[/green] at {state['endpoint_url']} (pid {state['pid']})")
    for stack in state.get("stacks", []):
        console.print(f"  deployed {stack}")
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
    table = Table(show_header=False)
    failed = state.get("failed_invocation_count", 0)
    rows = {
        "endpoint": state["endpoint_url"],
        "pid": state["pid"],
        "region": state["region"],
        "started at": datetime.fromtimestamp(float(state["started_at"]), UTC).isoformat(timespec="seconds"),
        "state": state["state_dir"],
        "stacks": ", ".join(state.get("stacks", [])) or "none",
        "function runs": f"{state.get('invocation_count', 0)} ({failed} failed)",
        "training jobs": ", ".join(f"{r['job_name']} {r['status']}" for r in state.get("training_runs", []))
        or "none",
        "endpoints": ", ".join(
            f"{e['name']} {e['status']} ({e['config_name']})" for e in state.get("endpoints", [])
        )
        or "none",
    }
    for key, value in rows.items():
        table.add_row(key, str(value))
    console.print(table)


@app.command()
def env() -> None:
    """Print the shell exports with which any AWS client talks to the local cloud."""
    state = localcloud.status()
    if not state.get("running"):
        errors.print("no local cloud is running; start one with `mlops local up`")
        raise typer.Exit(1)
    typer.echo(localcloud.env_exports(state))
