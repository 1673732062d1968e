"""``mlops models``: the registered model versions, their lineage, and a person's decision on them."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich import box
from rich.table import Table

from adapters.aws import client
from adapters.pipeline import StepFunctionsPipeline
from adapters.registry import SageMakerModelRegistry
from cli.common import CloudOption, JsonOption, clear_errors, clock, coloured, console, fail, plain, platform
from cli.endpoints import endpoints_of
from cli.model_import import import_model, origin_lines
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.deployment.request import start_deployment
from domain.names import dataset_of_group, model_package_group
from domain.state_limits import MAX_TEXT
from domain.training.registration import ModelVersion

app = typer.Typer(
    help="Model versions: list, inspect, approve, reject, roll back, or import one trained elsewhere.",
    no_args_is_help=True,
)
app.command("import")(clear_errors(import_model))

PREFIX_OUTPUT = "ModelPackageGroupPrefix"
_REFERENCE = re.compile(r"(?P<dataset>[A-Za-z0-9][A-Za-z0-9-]*)[/:](?P<number>[0-9]+)")
_COLOURS = {"Approved": "green", "Rejected": "red", "PendingManualApproval": "yellow"}
_SHORT = {"PendingManualApproval": "pending"}
_LISTED_METRICS = 3

VersionArgument = Annotated[
    str, typer.Argument(help="<dataset>/<n>, <dataset>:<n> or a model package ARN.", show_default=False)
]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (required: kept with the version).", show_default=False)
]


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
            plain(_reference(version, prefix)), status, plain(metrics or "-"), plain(data),
            clock(version.created_at)[:16],
        )  # fmt: skip
    print_table(table)


@app.command()
@clear_errors
def show(version: VersionArgument, cloud: CloudOption = Cloud.auto, as_json: JsonOption = False) -> None:
    """Show a model version: metrics, lineage, the gate's decision and the approval."""
    target = platform(cloud)
    found = _find(target, version)
    intervals = _intervals(found.evaluation_url)
    if as_json:
        console.print_json(json.dumps({**found.to_dict(), "intervals": intervals}, default=str))
        return
    prefix = target.output(PREFIX_OUTPUT)
    console.print(
        f"[bold]{plain(_reference(found, prefix))}[/bold]  {coloured(found.approval_status, _COLOURS)}",
        highlight=False,
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
    _decided(SageMakerModelRegistry().approve(_find(target, version).arn, _reason(reason)), target, as_json)


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
    _decided(SageMakerModelRegistry().reject(_find(target, version).arn, _reason(reason)), target, as_json)


@app.command()
@clear_errors
def rollback(
    version: VersionArgument,
    reason: ReasonOption,
    wait: Annotated[bool, typer.Option(help="Wait until the deployment ends and print its outcome.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 3600.0,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Serve an earlier version again: the approved versions after it are rejected, it is redeployed."""
    target = platform(cloud)
    why = _reason(reason)
    found = _find(target, version)
    if found.approval_status == "Rejected":
        fail(f"version {found.version} was rejected ({found.approval_description}): approve it first")
    registry = SageMakerModelRegistry()
    newer = [n for n in registry.approved_versions(found.group) if n > found.version]
    for number in newer:
        registry.reject(
            registry.version(found.group, number).arn, f"rolled back to version {found.version}: {why}"
        )
    if found.approval_status != "Approved":
        # The approval starts its deployment; its time tells that deployment's outcome from older ones.
        found = registry.approve(found.arn, f"rollback: {why}")
        execution = None
    else:  # still approved: no approval event will come, so the deployment is started here
        dataset = dataset_of_group(target.output(PREFIX_OUTPUT), found.group) or found.group
        endpoint = endpoints_of(target).get(dataset)
        if endpoint is None:
            fail(f"{dataset} has no endpoint in this deployment")
        execution = start_deployment(
            found,
            dataset=dataset,
            endpoint=endpoint,
            trigger="rollback",
            reason=why,
            requested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            workflow=target.output("DeploymentStateMachineArn"),
            executions=StepFunctionsPipeline(),
        ).execution_arn
    outcome = _await_deployment(found, execution, timeout) if wait else None
    result = {"version": found.to_dict(), "rejected": newer, "deployment": execution, "outcome": outcome}
    if as_json:
        console.print_json(json.dumps(result, default=str))
    else:
        reference = _reference(found, target.output(PREFIX_OUTPUT))
        rejected = ", ".join(f"version {n}" for n in newer) or "none"
        console.print(
            f"[bold]rolling back to {plain(reference)}[/bold]; rejected: {rejected}", highlight=False
        )
        console.print(
            f"  deployment {plain(execution or 'started by the approval')}", highlight=False, soft_wrap=True
        )
        if outcome:
            console.print(
                f"  outcome    {plain(outcome['status'])}: {plain(outcome['reason'])}",
                highlight=False,
                soft_wrap=True,
            )
    if outcome and outcome["status"] != "deployed":
        raise typer.Exit(1)


def _await_deployment(version: ModelVersion, execution: str | None, timeout: float) -> dict[str, Any]:
    """Wait for the version's deployment to end; its outcome as recorded on the version."""
    deadline = time.monotonic() + timeout
    registry = SageMakerModelRegistry()
    while time.monotonic() < deadline:
        if execution is not None:
            run = StepFunctionsPipeline().describe(execution)
            if run.status != "RUNNING":
                break
        else:
            current = registry.describe(version.arn)
            if current.deployment_at and current.deployment_at >= (version.decided_at or ""):
                break
        time.sleep(2)
    else:
        fail(f"the deployment did not end within {timeout:.0f} s")
    current = registry.describe(version.arn)
    return {"status": current.deployment_status or "unknown", "reason": current.deployment_reason or ""}


def _reason(reason: str) -> str:
    if not reason.strip():
        fail("--reason must say why")
    if len(reason.strip()) > MAX_TEXT:
        # SageMaker keeps 1,024 characters of ApprovalDescription, and a rollback adds its own words.
        fail(
            f"--reason is {len(reason.strip()):,} characters; say why in at most {MAX_TEXT:,} "
            "(it is kept with the version)"
        )
    return reason


def _decided(version: ModelVersion, target: Platform, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(version.to_dict(), default=str))
        return
    reference = _reference(version, target.output(PREFIX_OUTPUT))
    console.print(
        f"[bold]{plain(reference)}[/bold] is now {coloured(version.approval_status, _COLOURS)}",
        highlight=False,
    )
    _print_decision(version)


def _print_decision(version: ModelVersion) -> None:
    for label, value in (("status", version.approval_status), ("by", version.decided_by),
                         ("at", version.decided_at), ("why", version.approval_description)):  # fmt: skip
        console.print(f"  {label:<8} {plain(value or '-')}", highlight=False, soft_wrap=True)


def _find(target: Platform, reference: str) -> ModelVersion:
    """A version by ARN, ``<dataset>/<n>`` or ``<dataset>:<n>``."""
    registry = SageMakerModelRegistry()
    if reference.startswith("arn:"):
        return registry.describe(reference)
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        fail(f"{reference!r} is not <dataset>/<n>, <dataset>:<n> or a model package ARN")
    group = model_package_group(target.output(PREFIX_OUTPUT), match["dataset"])
    return registry.version(group, int(match["number"]))


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


def _reference(version: ModelVersion, prefix: str) -> str:
    dataset = dataset_of_group(prefix, version.group) or version.group
    return f"{dataset}/{version.version}"
