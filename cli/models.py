"""``mlops models``: the registered model versions, their lineage, and a person's decision on them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.table import Table

from adapters.aws import client
from adapters.registry import SageMakerModelRegistry
from cli.common import CloudOption, JsonOption, clear_errors, clock, coloured, console, plain, platform
from cli.model_import import import_model, origin_lines
from cli.model_refs import (
    PREFIX_OUTPUT,
    ReasonOption,
    VersionArgument,
    checked_reason,
    find_version,
    version_reference,
)
from cli.model_rollback import rollback
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.names import model_package_group
from domain.training.registration import ModelVersion

app = typer.Typer(
    help="Model versions: list, inspect, approve, reject, roll back, or import one trained elsewhere.",
    no_args_is_help=True,
)
app.command("import")(clear_errors(import_model))

_COLOURS = {"Approved": "green", "Rejected": "red", "PendingManualApproval": "yellow"}
_SHORT = {"PendingManualApproval": "pending"}
_LISTED_METRICS = 3


@app.command("list")
@clear_errors
def list_versions(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only this dataset's models.")
    ] = None,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """List the model versions, newest first."""
    target = platform(cloud)
    prefix = target.output(PREFIX_OUTPUT)
    registry = SageMakerModelRegistry()
    if dataset:
        found = registry.versions(model_package_group(prefix, dataset))
    else:
        found = registry.versions(prefix=prefix)
    found.sort(key=lambda v: (v.created_at or "", v.version), reverse=True)
    if as_json:
        console.print_json(json.dumps([version.to_dict() for version in found], default=str))
        return
    if not found:
        console.print("no model version yet" + (f" of {plain(dataset)}" if dataset else "") + ".")
        return
    table = Table(
        identifier("model"), flexible("status"), flexible("metrics"), identifier("data"), flexible("created"),
        title=f"{len(found)} model version(s)", box=box.SIMPLE_HEAD,
    )  # fmt: skip
    for version in found:
        metrics = "\n".join(f"{k} {v:.4g}" for k, v in sorted(version.metrics.items())[:_LISTED_METRICS])
        data = (version.dataset_version or "")[:12]
        status = coloured(version.approval_status, _COLOURS, _SHORT.get(version.approval_status))
        table.add_row(
            plain(version_reference(version, prefix)), status, plain(metrics or "-"), plain(data),
            clock(version.created_at)[:16],
        )  # fmt: skip
    print_table(table)


@app.command()
@clear_errors
def show(version: VersionArgument, cloud: CloudOption = Cloud.auto, as_json: JsonOption = False) -> None:
    """Show a model version: metrics, lineage, the gate's decision and the approval."""
    target = platform(cloud)
    found = find_version(target, version)
    intervals = _intervals(found.evaluation_url)
    if as_json:
        console.print_json(json.dumps({**found.to_dict(), "intervals": intervals}, default=str))
        return
    named = version_reference(found, target.output(PREFIX_OUTPUT))
    console.print(
        f"[bold]{plain(named)}[/bold]  {coloured(found.approval_status, _COLOURS)}", highlight=False
    )
    console.print(f"  {plain(found.arn)}", highlight=False, soft_wrap=True)
    console.print(
        f"  created  {clock(found.created_at)}   family {plain(found.family or '?')}", highlight=False
    )
    console.print("[bold]metrics[/bold] (test rows)")
    for name, value in sorted(found.metrics.items()):
        interval = intervals.get(name)
        band = f"  (CI {interval[0]:.4g} to {interval[1]:.4g})" if interval else ""
        console.print(f"  {plain(f'{name:<20}')} {value:.4g}{band}", highlight=False)
    if not found.metrics:
        console.print("  none recorded")
    console.print("[bold]lineage[/bold]")
    trigger = (found.trigger or "?") + (f" {found.trigger_reference}" if found.trigger_reference else "")
    for label, entry in (
        ("dataset", found.dataset),
        ("version", found.dataset_version),
        ("code", found.code_version),
        ("run", found.execution_arn),
        ("trigger", trigger + (f": {found.trigger_reason}" if found.trigger_reason else "")),
        *origin_lines(found),
        ("model", found.model_data_url),
    ):
        console.print(f"  {label:<8} {plain(entry or '-')}", highlight=False, soft_wrap=True)
    console.print("[bold]gate[/bold]")
    console.print(
        f"  {plain(found.gate_decision or '-')}: {plain(found.gate_summary or '')}",
        highlight=False,
        soft_wrap=True,
    )
    console.print("[bold]approval[/bold]")
    _print_decision(found)
    console.print("[bold]deployment[/bold]")
    if found.deployment_status:
        console.print(
            f"  {plain(found.deployment_status)} on {plain(found.deployment_endpoint or '?')} "
            f"at {plain(found.deployment_at or '?')}: {plain(found.deployment_reason or '')}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print("  never deployed")


@app.command()
@clear_errors
def approve(
    version: VersionArgument,
    reason: ReasonOption,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Approve a model version (it may then be deployed), with a reason."""
    target = platform(cloud)
    _decided(
        SageMakerModelRegistry().approve(find_version(target, version).arn, checked_reason(reason)),
        target,
        as_json,
    )


@app.command()
@clear_errors
def reject(
    version: VersionArgument,
    reason: ReasonOption,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Reject a model version, with a reason."""
    target = platform(cloud)
    _decided(
        SageMakerModelRegistry().reject(find_version(target, version).arn, checked_reason(reason)),
        target,
        as_json,
    )


def _decided(version: ModelVersion, target: Platform, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(version.to_dict(), default=str))
        return
    reference = version_reference(version, target.output(PREFIX_OUTPUT))
    console.print(
        f"[bold]{plain(reference)}[/bold] is now {coloured(version.approval_status, _COLOURS)}",
        highlight=False,
    )
    _print_decision(version)


def _print_decision(version: ModelVersion) -> None:
    for label, value in (("status", version.approval_status), ("by", version.decided_by),
                         ("at", version.decided_at), ("why", version.approval_description)):  # fmt: skip
        console.print(f"  {label:<8} {plain(value or '-')}", highlight=False, soft_wrap=True)


def _intervals(evaluation_url: str | None) -> dict[str, tuple[float, float]]:
    """Confidence intervals from the version's ``evaluation.json``, when it can be read ({} otherwise)."""
    if not evaluation_url or not evaluation_url.startswith("s3://"):
        return {}
    bucket, _, key = evaluation_url.removeprefix("s3://").partition("/")
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        metrics = json.loads(body).get("metrics") or {}
    except (ClientError, BotoCoreError, ValueError, AttributeError):
        return {}
    found: dict[str, tuple[float, float]] = {}
    for name, entry in metrics.items():
        low, high = (entry or {}).get("ci_low"), (entry or {}).get("ci_high")
        if isinstance(low, int | float) and isinstance(high, int | float):
            found[name] = (float(low), float(high))
    return found


# Last, where it was: `mlops models --help` lists the commands in the order they are registered.
app.command()(clear_errors(rollback))
