"""``mlops models import``: a model trained elsewhere, evaluated and registered through the same gate.

What it prints (for people; ``--json`` gives the document below), e.g.::

    uploaded churn.skops to s3://<bucket>/imports/churn/<sha256>.skops (sha256 5a5a5a5a5a5a5a5a)
    started run churn-cdcdcdcdcdcd-import-5a5a5a5a5a5a5a5a: churn.skops onto churn version cdcdcdcdcdcd
    registered churn/3 (Approved)
      arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-churn/3

The first line is ``already uploaded: imports/churn/<sha256>.skops`` for a file imported before (on any
version), the second ``already imported: run <name> (this file onto this version)`` for a file imported
onto this version before (nothing is started; its outcome is printed). The outcome is one of::

    registered <dataset>/<n> (<approval status>)        + the model package ARN (exit 0)
    rejected by the gate: <summary>                     + "  - <reason>" per reason (exit 1)
    failed: <why the run failed, e.g. the job's refusal>                          (exit 1)
    running: `mlops pipeline show <run>` follows it     (--no-wait: exit 0; past --timeout: exit 1)

``--json`` prints one document: ``{"dataset", "dataset_version", "file", "sha256", "key", "uploaded",
"imported_by", "run", "execution_arn", "started", "status", "outcome": "registered" | "rejected" |
"failed" | "running", "registration": {"model_package_arn", "version", "approval_status"} | null,
"gate": {"approved", "summary", "reasons"} | null, "error": str | null}``.

A file that is not a skops archive (a pickle, a joblib file, a zip without ``schema.json``, an empty file)
is refused before anything is read from or sent to the platform (exit 2).

``imported_by`` (the model's ``lineage.imported_by``) is the identity the importer's own credentials resolve
to through STS (``sts:GetCallerIdentity``), recorded here, by the CLI, in the run's input. Nothing on the
platform's side checks it: anyone allowed to start the training pipeline could start an import run naming
someone else, so the record is as trustworthy as the list of who may start the pipeline. The grants an
importer needs are listed in the README (a model trained elsewhere).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.catalog import DynamoDatasetCatalog
from adapters.model_imports import ImportUploadError, S3ModelImports, caller_arn, upload_metadata
from adapters.pipeline import PipelineRun, StepFunctionsPipeline
from cli.common import CloudOption, JsonOption, console, fail, plain, platform
from cli.pipeline import STATE_MACHINE_OUTPUT
from cli.pipeline_runs import await_end, resolve_version, run_output, run_steps
from cli.target import Cloud
from domain.failures import failure_message
from domain.names import import_key
from domain.training.model_version import ModelVersion
from domain.training.runs import IMPORT_REFERENCE_DIGITS, ImportedModel, RunRequest, Trigger, execution_input
from spec.model_file import skops_file_problem

__all__ = ["import_model", "origin_lines"]


def import_model(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="The model, saved with skops.io.dump.",
            show_default=False,
        ),
    ],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset whose features it takes.")],
    version: Annotated[
        str | None,
        typer.Option(
            help="The accepted version whose test rows judge it (SHA-256 or 8+ characters); default: latest."
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why: kept with the run and the model version.")] = "",
    wait: Annotated[bool, typer.Option(help="Wait until the run ends and print its outcome.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 3600.0,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Import FILE, a model trained elsewhere: judged on DATASET's test rows, registered if it passes."""
    problem = skops_file_problem(file, file.name)
    if problem is not None:
        fail(problem)  # before anything reaches the platform
    with file.open("rb") as stream:
        sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
    target = platform(cloud)
    full = resolve_version(DynamoDatasetCatalog(target.output("CatalogTableName")), dataset, version)
    try:
        imported = ImportedModel(sha256=sha256, by=caller_arn(), name=file.name)
    except ImportUploadError as error:
        fail(str(error))
    trigger = Trigger("import", reference=sha256[:IMPORT_REFERENCE_DIGITS], reason=reason)
    request = RunRequest(dataset, full, trigger, imported)
    key = import_key(dataset, sha256)
    store = S3ModelImports(target.bucket)
    try:
        uploaded = not store.exists(key)
        if uploaded:
            store.upload(file, key, upload_metadata(imported.by, imported.name, reason))
    except ImportUploadError as error:
        fail(str(error))
    pipeline = StepFunctionsPipeline()
    arn, started = pipeline.start(target.output(STATE_MACHINE_OUTPUT), request.name, execution_input(request))
    if not as_json:
        _print_start(request, key, target.bucket, uploaded=uploaded, started=started)
    run = pipeline.describe(arn)
    if wait and run.status == "RUNNING":
        run = await_end(pipeline, arn, timeout, quiet=as_json)
    document = {
        "dataset": dataset, "dataset_version": full, "file": file.name, "sha256": sha256, "key": key,
        "uploaded": uploaded, "imported_by": imported.by, "run": run.name, "execution_arn": arn,
        "started": started, "status": run.status,
    } | _outcome(run)  # fmt: skip
    if as_json:
        console.print_json(json.dumps(document, default=str))
    else:
        _print_outcome(document)
    if wait and document["outcome"] != "registered":
        raise typer.Exit(1)


def _outcome(run: PipelineRun) -> dict[str, Any]:
    """The run's end: registered, rejected by the gate, failed, or still running."""
    steps = run_steps(run_output(run.execution_arn)) if run.status == "SUCCEEDED" else {}
    registration, gate = steps.get("registration"), steps.get("gate")
    if run.status == "RUNNING":
        outcome = "running"
    elif registration is not None:
        outcome = "registered"
    elif gate is not None and gate["approved"] is False:
        outcome = "rejected"
    else:
        outcome = "failed"
    error = failure_message(run.error, run.cause) if outcome == "failed" else None
    if outcome == "failed" and not error:
        error = f"the run ended {run.status} without a reason"
    gate_part = None if gate is None else {k: gate[k] for k in ("approved", "summary", "reasons")}
    return {"outcome": outcome, "registration": registration, "gate": gate_part, "error": error}


def _print_start(request: RunRequest, key: str, bucket: str, *, uploaded: bool, started: bool) -> None:
    imported = request.imported
    assert imported is not None  # an import run
    if uploaded:
        console.print(
            f"uploaded {plain(imported.name)} to s3://{plain(bucket)}/{plain(key)} (sha256 "
            f"{imported.sha256[:IMPORT_REFERENCE_DIGITS]})",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(f"already uploaded: {plain(key)}", highlight=False, soft_wrap=True)
    if started:
        console.print(
            f"started run [bold]{plain(request.name)}[/bold]: {plain(imported.name)} onto "
            f"{plain(request.dataset)} version {request.dataset_version[:12]}",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"[yellow]already imported[/yellow]: run [bold]{plain(request.name)}[/bold] (this file onto this "
            "version)",
            highlight=False,
            soft_wrap=True,
        )


def _print_outcome(document: dict[str, Any]) -> None:
    outcome = document["outcome"]
    if outcome == "registered":
        registration = document["registration"]
        # The run registers into its dataset's group: <dataset>/<n>, as `mlops models` names a version.
        reference = f"{document['dataset']}/{registration['version']}"
        console.print(
            f"[green]registered[/green] {plain(reference)} ({plain(registration['approval_status'])})",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"  {plain(registration['model_package_arn'])}", highlight=False, soft_wrap=True)
    elif outcome == "rejected":
        gate = document["gate"]
        console.print(
            f"[red]rejected by the gate[/red]: {plain(gate['summary'] or '')}",
            highlight=False,
            soft_wrap=True,
        )
        for reason in gate["reasons"]:
            console.print(f"  - {plain(reason)}", highlight=False, soft_wrap=True)
    elif outcome == "failed":
        console.print(f"[red]failed[/red]: {plain(document['error'])}", highlight=False, soft_wrap=True)
    else:
        console.print(
            f"running: `mlops pipeline show {plain(document['run'])}` follows it",
            highlight=False,
            soft_wrap=True,
        )


def origin_lines(version: ModelVersion) -> list[tuple[str, str]]:
    """``mlops models show``'s lineage lines of where the model came from (none for a built-in family)."""
    lines = [
        ("module", version.module),
        ("  sha256", version.module_sha256),
        ("imported", version.import_name),
        ("  by", version.imported_by),
        ("  sha256", version.import_sha256),
        ("packages", version.packages),
        ("hp", f"{version.hyperparameters_omitted} (not in the registry's metadata)"
         if version.hyperparameters_omitted else None),
    ]  # fmt: skip
    return [(label, value) for label, value in lines if value]
