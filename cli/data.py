"""``mlops data``: push a file, list a dataset's versions, show a version's report."""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TransferSpeedColumn
from rich.table import Table

from adapters.aws import client
from adapters.catalog import DynamoDatasetCatalog
from adapters.storage import S3DatasetStore
from cli.common import CloudOption, JsonOption, clock, console, errors, plain
from cli.common import clear_errors as _clear_errors
from cli.common import fail as _fail
from cli.common import platform as _platform
from cli.tables import flexible, identifier, print_table
from cli.target import Cloud, Platform
from domain.data.ingestion import (
    INCOMING_PREFIX,
    Upload,
    failure_key,
    quarantine_key,
    snapshot_prefix,
    upload_report_name,
)

app = typer.Typer(
    help="Datasets: push uploads, list versions, read validation reports.", no_args_is_help=True
)


@app.command()
@_clear_errors
def push(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, gzip CSV or Parquet.")
    ],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The declared dataset it is a version of.")],
    name: Annotated[
        str | None, typer.Option(help="Object name under incoming/<dataset>/ (default: the file's).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the validation result.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the result.")] = 900.0,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Upload FILE as a new version of DATASET and show what the platform made of it."""
    platform = _platform(cloud)
    bucket = platform.bucket
    key = f"{INCOMING_PREFIX}{dataset}/{name or file.name}"
    size = file.stat().st_size
    catalog = DynamoDatasetCatalog(platform.output("CatalogTableName"))
    with _bytes_progress(as_json) as progress:
        digest = _sha256(file, progress, size)
        # Looked up before the upload: after it, the platform may already have recorded this one.
        existing = catalog.get(dataset, digest)
        task = progress.add_task("upload", total=size)
        client("s3").upload_file(str(file), bucket, key, Callback=lambda sent: progress.advance(task, sent))
    if existing is not None:
        _emit({"status": "duplicate", "dataset": dataset, "version": digest, "key": key,
               "accepted_at": existing.accepted_at}, as_json)  # fmt: skip
        return
    if not wait:
        _emit({"dataset": dataset, "key": key, "sha256": digest, "status": "uploaded"}, as_json)
        return
    outcome = _await_outcome(platform, dataset, digest, key, timeout, as_json)
    _emit(outcome, as_json)
    if outcome["status"] in ("rejected", "uploaded"):  # uploaded: no result within --timeout
        raise typer.Exit(1)
    if outcome["status"] == "failed":
        raise typer.Exit(2)


@app.command()
@_clear_errors
def versions(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """List DATASET's accepted versions, newest first."""
    platform = _platform(cloud)
    records = DynamoDatasetCatalog(platform.output("CatalogTableName")).versions(dataset)
    if as_json:
        console.print_json(json.dumps([record.to_item() for record in records], default=str))
        return
    if not records:
        console.print(f"{plain(dataset)} has no accepted version yet.", highlight=False)
        return
    others = map(flexible, ("accepted at", "rows", "size", "format", "warnings", "source"))
    table = Table(identifier("version"), *others, title=f"{plain(dataset)}: {len(records)} version(s)")
    for record in records:
        table.add_row(
            plain(record.version[:12]), clock(record.accepted_at), f"{record.rows:,}",
            _size(record.size_bytes), plain(record.format), str(record.warnings),
            plain(record.source.get("key", "")),
        )  # fmt: skip
    print_table(table)


@app.command()
@_clear_errors
def show(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    version: Annotated[
        str, typer.Argument(help="A version (SHA-256, or its first 8+ characters), or 'latest'.")
    ],
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Show the validation report of one version of DATASET (accepted, or rejected by its content hash)."""
    platform = _platform(cloud)
    store = S3DatasetStore(platform.bucket)
    catalog = DynamoDatasetCatalog(platform.output("CatalogTableName"))
    full = _resolve_version(catalog, dataset, version)
    report = store.read_json(snapshot_prefix(dataset, full) + "report.json") or store.read_json(
        quarantine_key(dataset, full)
    )
    if report is None:
        _fail(f"{dataset} has no version or rejected upload {version}")
    if as_json:
        console.print_json(json.dumps(report, default=str))
        return
    print_report(report)


def _resolve_version(catalog: DynamoDatasetCatalog, dataset: str, version: str) -> str:
    if len(version) == 64:
        return version
    records = catalog.versions(dataset)
    if version == "latest":
        if not records:
            _fail(f"{dataset} has no accepted version")
        return records[0].version
    matches = [record.version for record in records if record.version.startswith(version)]
    if len(matches) > 1:
        _fail(f"{version} is ambiguous: {', '.join(match[:16] for match in matches)}")
    if not matches:
        _fail(f"{dataset} has no accepted version {version}; give the full SHA-256 of a rejected upload")
    return matches[0]


def _await_outcome(
    platform: Platform, dataset: str, digest: str, key: str, timeout: float, quiet: bool
) -> dict[str, Any]:
    """Wait until the platform has recorded the upload: a catalog record, a report or a failure record.

    Past ``timeout``, the upload's document as ``--no-wait`` gives it (status ``uploaded``), with a line on
    stderr saying where the result will be: the caller prints it (``--json``'s document too) and exits 1.
    """
    catalog = DynamoDatasetCatalog(platform.output("CatalogTableName"))
    store = S3DatasetStore(platform.bucket)
    deadline = time.monotonic() + timeout
    with console.status(f"validating {plain(key)} ...", spinner="dots") if not quiet else nullcontext():
        while time.monotonic() < deadline:
            record = catalog.get(dataset, digest)
            if record is not None:
                accepted = store.read_json(snapshot_prefix(dataset, digest) + "report.json") or {}
                return {
                    "status": "accepted",
                    "dataset": dataset,
                    "version": digest,
                    "rows": record.rows,
                    "report": accepted,
                }
            report = store.read_json(quarantine_key(dataset, digest))
            failure = None
            if report is None:
                report, failure = _upload_records(store, dataset, key)
            if report is not None:
                return {"status": "rejected", "dataset": dataset, "version": digest, "report": report}
            if failure is not None:  # the function is done with this upload: nothing more will come
                return {"status": "failed", "dataset": dataset, "key": key, "report": failure}
            time.sleep(0.5)
    errors.print(
        f"[yellow]no validation result yet[/yellow] for {plain(key)} after {timeout:g} s: `mlops data show "
        f"{plain(dataset)} {digest}` shows it once there (the validation function's logs: what it is doing)",
        highlight=False,
        soft_wrap=True,
    )
    return {"dataset": dataset, "key": key, "sha256": digest, "status": "uploaded"}


def _upload_records(
    store: S3DatasetStore, dataset: str, key: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The records keyed by upload, not by content: a report on an upload that could not be read at
    all (an undeclared dataset, a file over the size limit), and the record of a failed validation."""
    paginator = client("s3").get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=key, MaxKeys=5):
        for version in page.get("Versions", []):
            if version["Key"] == key and version["IsLatest"]:
                upload = Upload(bucket=store.bucket, key=key, version_id=version.get("VersionId"),
                                etag=version.get("ETag", "").strip('"'))  # fmt: skip
                name = upload_report_name(upload)
                for owner in (dataset, "_unknown"):
                    found = store.read_json(quarantine_key(owner, name))
                    if found is not None:
                        return found, None
                return None, store.read_json(failure_key(dataset, name))
    return None, None


def _emit(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(outcome, default=str))
        return
    if outcome["status"] == "accepted":
        console.print(
            f"[green]accepted[/green] {plain(outcome['dataset'])} version "
            f"[bold]{plain(outcome['version'][:12])}[/bold] ({outcome['rows']:,} rows)"
        )
    elif outcome["status"] == "rejected":
        console.print(
            f"[red]rejected[/red] {plain(outcome['dataset'])}: the upload is kept; the report says why"
        )
    elif outcome["status"] == "failed":
        record = outcome["report"]
        console.print(
            f"[red]failed[/red] {plain(outcome['dataset'])}: {plain(outcome['key'])} "
            f"{plain(record.get('summary', 'could not be validated'))}",
            highlight=False,
        )
        return
    elif outcome["status"] == "duplicate":
        console.print(
            f"[yellow]duplicate[/yellow]: this content already is {plain(outcome['dataset'])} version "
            f"[bold]{plain(outcome['version'][:12])}[/bold] (accepted {outcome['accepted_at'][:19]}); "
            "no new version"
        )
    else:
        console.print(f"uploaded {plain(outcome['key'])} (sha256 {outcome['sha256'][:12]})", highlight=False)
    if "report" in outcome:
        print_report(outcome["report"])


def print_report(report: dict[str, Any]) -> None:
    status = report.get("status", "?")
    colour = "green" if status == "accepted" else "red"
    summary = str(report.get("summary", ""))
    headline = summary if summary.startswith(status) else f"{status}: {summary}"
    console.print(f"[{colour}]{plain(headline)}[/{colour}]")
    for finding in report.get("findings", []):
        severity = finding["severity"]
        mark = "[red]✗ error[/red]" if severity == "error" else "[yellow]! warning[/yellow]"
        column = f" column [bold]{plain(finding['column'])}[/bold]" if finding.get("column") else ""
        console.print(
            f"  {mark} [cyan]{plain(finding['check'])}[/cyan]{column} ({finding.get('count', 1):,})"
        )
        console.print(f"      {plain(finding['message'])}", highlight=False)
        examples = "; ".join(_example(example) for example in finding.get("examples", [])[:3])
        if examples:
            console.print(f"      e.g. {plain(examples)}", highlight=False)


def _example(example: dict[str, Any]) -> str:
    where = ", ".join(f"{key} {value}" for key, value in example.items() if key != "value")
    return f"{where}: {example['value']!r}" if "value" in example else where


def _sha256(file: Path, progress: Progress, size: int) -> str:
    task = progress.add_task("hash", total=size)
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        while chunk := stream.read(4 << 20):
            digest.update(chunk)
            progress.advance(task, len(chunk))
    return digest.hexdigest()


def _bytes_progress(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(),
        console=errors, transient=True, disable=quiet,
    )  # fmt: skip


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size //= 1024
    return f"{size} TB"
