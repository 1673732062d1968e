"""``mlops endpoints``: the datasets' endpoints, what they serve, how deployments went, predictions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError
from rich import box
from rich.table import Table

from adapters.aws import client
from adapters.deployments import DynamoDeployments
from adapters.endpoints import SageMakerEndpoints
from cli.common import CloudOption, JsonOption, clear_errors, clock, coloured, console, fail, plain, platform
from cli.invoke_rows import RefusedError, send_batches, send_rows
from cli.request_batches import BatchError, batches, row_requests
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.names import version_of

app = typer.Typer(help="Endpoints: list, inspect, invoke.", no_args_is_help=True)

ENDPOINT_PREFIX = "EndpointName"
CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonl": "application/jsonlines"}
_COLOURS = {"deployed": "green", "rolled_back": "red", "failed": "red", "superseded": "yellow"}
_HISTORY = 5

EndpointArgument = Annotated[str, typer.Argument(help="The endpoint, or its dataset.", show_default=False)]


def endpoints_of(target: Platform) -> dict[str, str]:
    """Dataset -> endpoint name, from the stack's ``EndpointName<Dataset>`` outputs."""
    names = {value for key, value in target.outputs.items() if key.startswith(ENDPOINT_PREFIX)}
    prefix = f"{target.project}-"
    return {name.removeprefix(prefix): name for name in sorted(names)}


def resolve(target: Platform, name: str) -> str:
    """An endpoint name from an endpoint or dataset name (or a clear error)."""
    known = endpoints_of(target)
    if name in known.values():
        return name
    if name in known:
        return known[name]
    fail(
        f"{name!r} is not an endpoint of this platform; its endpoints: {', '.join(known.values()) or 'none'}"
    )


def _deployments(target: Platform) -> DynamoDeployments:
    return DynamoDeployments(target.output("DeploymentsTableName"))


def _summary(
    endpoint: str, described: dict[str, Any] | None, history: list[dict[str, Any]]
) -> dict[str, Any]:
    config = (described or {}).get("EndpointConfigName")
    last = history[0] if history else None
    return {
        "endpoint": endpoint,
        "status": (described or {}).get("EndpointStatus", "NotDeployed"),
        "endpoint_config": config,
        "version": version_of(config, endpoint),
        "last_deployment": last,
    }


@app.command("list")
@clear_errors
def list_endpoints(cloud: CloudOption = Cloud.auto, as_json: JsonOption = False) -> None:
    """List the platform's endpoints: status, the version in service, the last deployment."""
    target = platform(cloud)
    endpoints, deployments = SageMakerEndpoints(), _deployments(target)
    found = [
        {"dataset": dataset, **_summary(name, endpoints.describe(name), deployments.history(name, limit=1))}
        for dataset, name in endpoints_of(target).items()
    ]
    if as_json:
        console.print_json(json.dumps(found, default=str))
        return
    table = Table(
        identifier("endpoint"),
        *map(flexible, ("status", "serving", "last deployment")),
        title=f"{len(found)} endpoint(s)",
        box=box.SIMPLE_HEAD,
    )
    for entry in found:
        last = entry["last_deployment"]
        table.add_row(
            plain(entry["endpoint"]),
            plain(entry["status"]),
            f"v{entry['version']}" if entry["version"] is not None else "-",
            _deployment_line(last) if last else "-",
        )
    print_table(table)


@app.command()
@clear_errors
def show(name: EndpointArgument, cloud: CloudOption = Cloud.auto, as_json: JsonOption = False) -> None:
    """Show an endpoint: the version in service, its traffic, data capture and the last deployments."""
    target = platform(cloud)
    endpoint = resolve(target, name)
    described = SageMakerEndpoints().describe(endpoint)
    history = _deployments(target).history(endpoint, limit=_HISTORY)
    summary = _summary(endpoint, described, history)
    if as_json:
        console.print_json(
            json.dumps({**summary, "described": described, "deployments": history}, default=str)
        )
        return
    console.print(f"[bold]{plain(endpoint)}[/bold]  {plain(summary['status'])}", highlight=False)
    if described is None:
        console.print("  not deployed yet: approving a model version of its dataset deploys it")
    else:
        version = summary["version"]
        console.print(
            f"  serving  {'version ' + str(version) if version is not None else '?'}"
            f"  ({plain(summary['endpoint_config'])})",
            highlight=False,
            soft_wrap=True,
        )
        console.print("[bold]traffic[/bold]")
        for variant in described.get("ProductionVariants") or []:
            weight = variant.get("CurrentWeight", variant.get("DesiredWeight"))
            instances = variant.get("CurrentInstanceCount")
            serverless = variant.get("CurrentServerlessConfig")
            size = f"{instances} instance(s)" if instances is not None else "serverless" if serverless else ""
            name = plain(f"{variant['VariantName']:<12}")
            console.print(f"  {name} weight {weight}  {size}", highlight=False)
        pending = described.get("PendingDeploymentSummary")
        if pending:
            console.print(
                f"  updating to {plain(pending.get('EndpointConfigName'))} "
                f"(started {pending.get('StartTime')})",
                highlight=False,
            )
        capture = described.get("DataCaptureConfig") or {}
        console.print("[bold]data capture[/bold]")
        if capture.get("EnableCapture"):
            console.print(
                f"  {capture.get('CurrentSamplingPercentage', '?')}% of requests to "
                f"{plain(capture.get('DestinationS3Uri'))}",
                highlight=False,
                soft_wrap=True,
            )
        else:
            console.print("  off (serverless endpoints cannot capture: see the README)")
        if described.get("FailureReason"):
            console.print(
                f"  [red]last failure[/red] {plain(described['FailureReason'])}",
                highlight=False,
                soft_wrap=True,
            )
    console.print("[bold]deployments[/bold]")
    for record in history:
        console.print(f"  {_deployment_line(record)}", highlight=False, soft_wrap=True)
        console.print(f"      {plain(record.get('reason', ''))}", highlight=False, soft_wrap=True)
    if not history:
        console.print("  none yet")


@app.command()
@clear_errors
def invoke(
    name: EndpointArgument,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="Rows: .csv (with or without a header), .json or .jsonl.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    accept: Annotated[str, typer.Option(help="The answer's content type.")] = "application/json",
    batch: Annotated[
        int | None,
        typer.Option(
            help="Send the rows in requests of at most this many rows, as an app would (a window of traffic "
            "for the drift monitor), and print how many of each prediction came back. A .csv file's first "
            "line is its header, sent with each request.",
            show_default=False,
        ),
    ] = None,
    inference_id_column: Annotated[
        str | None,
        typer.Option(
            "--inference-id-column",
            help="Send each row as its own request, with this column's value as its InferenceId (the column "
            "is not sent as a feature); labels name the rows by these IDs (mlops feedback push).",
            show_default=False,
        ),
    ] = None,
    inference_ids: Annotated[
        bool,
        typer.Option(
            "--inference-ids",
            help="Send each row as its own request, with a new UUID as its InferenceId; the IDs are printed.",
        ),
    ] = False,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Send rows to an endpoint and print its predictions (what an app gets from InvokeEndpoint)."""
    named = inference_id_column is not None or inference_ids
    if inference_id_column is not None and inference_ids:
        fail("give --inference-id-column COLUMN (the file's IDs) or --inference-ids (new ones), not both")
    if named and batch is not None:
        fail("rows sent with inference IDs go one per request, each named by its ID: leave out --batch")
    if named and accept != "application/json":
        fail("rows sent with inference IDs are printed from JSON answers: leave --accept at application/json")
    target = platform(cloud)
    endpoint = resolve(target, name)
    content_type = CONTENT_TYPES.get(file.suffix.lower())
    if content_type is None:
        fail(f"{file.name}: send a .csv, .json or .jsonl file")
    if named:
        try:
            rows = row_requests(
                file.read_bytes(),
                file.suffix.lower(),
                column=inference_id_column,
                generate=lambda: str(uuid.uuid4()),
            )
        except BatchError as error:
            fail(f"{file.name}: {error}")
        send_rows(
            endpoint,
            rows,
            lambda body, inference_id: _invoke(endpoint, content_type, accept, body, inference_id),
            as_json=as_json,
        )
        return
    if batch is not None:
        if accept != "application/json":
            fail("--batch counts the predictions of JSON answers: leave --accept at application/json")
        try:
            requests = batches(file.read_bytes(), file.suffix.lower(), batch)
        except BatchError as error:
            fail(f"{file.name}: {error}")
        send_batches(
            endpoint,
            requests,
            lambda body: _invoke(endpoint, content_type, "application/json", body),
            batch=batch,
            as_json=as_json,
        )
        return
    try:
        response = _invoke(endpoint, content_type, accept, file.read_bytes())
    except RefusedError as refused:
        fail(f"the model refused the request {refused}", code=1)
    body = response["Body"].read()
    variant = response.get("InvokedProductionVariant")
    if as_json or not response.get("ContentType", "").startswith("application/json"):
        console.print(body.decode("utf-8", errors="replace"), markup=False, highlight=False, soft_wrap=True)
        return
    answer = json.loads(body)
    table = Table(
        flexible("row", justify="right"),
        flexible("prediction"),
        flexible("probabilities"),
        title=plain(f"{endpoint} ({variant})"),
        box=box.SIMPLE_HEAD,
    )
    for row, prediction in enumerate(answer.get("predictions", [])):
        probabilities = prediction.get("probabilities") or {}
        table.add_row(
            str(row),
            plain(prediction.get("prediction")),
            plain("  ".join(f"{label}: {p:.3f}" for label, p in probabilities.items())),
        )
    print_table(table)
    for warning in answer.get("warnings", []):
        console.print(f"[yellow]warning[/yellow] {plain(warning)}", highlight=False)


def _invoke(
    endpoint: str, content_type: str, accept: str, body: bytes, inference_id: str | None = None
) -> dict[str, Any]:
    """InvokeEndpoint's response; a request the model refused is a ``RefusedError``."""
    named = {} if inference_id is None else {"InferenceId": inference_id}
    try:
        response: dict[str, Any] = client("sagemaker-runtime").invoke_endpoint(
            EndpointName=endpoint, ContentType=content_type, Accept=accept, Body=body, **named
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") == "ModelError":
            status = error.response.get("OriginalStatusCode", "?")
            message = error.response.get("OriginalMessage") or details.get("Message")
            raise RefusedError(f"({status}): {_message(message)}") from None
        raise
    return response


def _message(raw: Any) -> str:
    """The model's JSON error as one line (the message and the first problems), else the raw text."""
    try:
        error = json.loads(raw)
    except (TypeError, ValueError):
        return str(raw)
    problems = error.get("problems") or []
    return str(error.get("message", raw)) + ("; " + "; ".join(problems[1:4]) if len(problems) > 1 else "")


def _deployment_line(record: dict[str, Any]) -> str:
    status = str(record.get("status", "?"))
    return (
        f"version {plain(record.get('version'))} {coloured(status, _COLOURS)} "
        f"{plain(clock(record.get('ended_at')))} ({plain(record.get('trigger'))})"
    )
