"""``mlops feedback push``: upload a labels file, wait for the platform to join it, print its report.

The file goes to ``feedback/<dataset>/<file name>``; the feedback function checks it, joins its labels
with the captured requests and writes its report, under ``labels/<dataset>/<sha256>/`` or, refused, under
``quarantine/feedback/<dataset>/`` (by content, or by upload when the file could not be read). The
command computes the file's SHA-256 first, so it knows where the report will be, and whether the same
content was joined already (then it says so and uploads nothing).
"""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.aws import client
from adapters.feedback import S3FeedbackStore
from cli.common import CloudOption, JsonOption, clock, console, errors, plain
from cli.common import clear_errors as _clear_errors
from cli.common import fail as _fail
from cli.common import platform as _platform
from cli.data import print_report
from cli.target import Cloud
from domain.data.contract import is_valid_name
from domain.data.ingestion_model import Upload, upload_report_name
from domain.feedback.labelled import quarantine_report_key, report_key
from domain.names import feedback_prefix

app = typer.Typer(
    help="Ground truth: push labels of served requests, joined with them.", no_args_is_help=True
)

DATASETS_OUTPUT = "FeedbackDatasets"  # the monitoring stack's output: the datasets that take labels
_CASES = ("unknown_ids", "duplicate_ids", "relabelled_ids", "captured_twice")
_SHOWN_EXAMPLES = 5


@app.command()
@_clear_errors
def push(
    file: Annotated[Path, typer.Argument(help="CSV with a header, or Parquet: inference_id and the target.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset whose requests it labels.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the report.")] = 900.0,
    cloud: CloudOption = Cloud.auto,
    as_json: JsonOption = False,
) -> None:
    """Upload FILE as labels of DATASET's served requests and print what the platform made of them."""
    if not file.is_file():
        _fail(f"{file}: no such file; give the path of a CSV or Parquet file of labels")
    if not is_valid_name(dataset):
        _fail(f"{dataset!r} is not a dataset name (lowercase letters, digits and hyphens)")
    platform = _platform(cloud)
    declared = [name for name in platform.output(DATASETS_OUTPUT).split(",") if name]
    if dataset not in declared:
        _fail(f"dataset {dataset!r} takes no labels here; declared datasets: {', '.join(declared) or 'none'}")
    store = S3FeedbackStore(platform.bucket)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    joined = store.read_json(report_key(dataset, digest))
    if joined is not None:
        _emit({"status": "duplicate", "dataset": dataset, "sha256": digest, "report": joined}, as_json)
        return
    key = feedback_prefix(dataset) + file.name
    client("s3").upload_file(str(file), platform.bucket, key)
    head = client("s3").head_object(Bucket=platform.bucket, Key=key)
    upload = Upload(bucket=platform.bucket, key=key, version_id=head.get("VersionId"),
                    etag=str(head.get("ETag", "")).strip('"'))  # fmt: skip
    outcome = _await_report(store, upload, dataset, digest, timeout, quiet=as_json)
    _emit(outcome, as_json)
    if outcome["status"] in ("rejected", "uploaded"):  # uploaded: no report within --timeout
        raise typer.Exit(1)


def _await_report(
    store: S3FeedbackStore, upload: Upload, dataset: str, digest: str, timeout: float, *, quiet: bool
) -> dict[str, Any]:
    """The file's report once the function has written it: joined, or refused (by content or by upload).

    Past ``timeout``, the upload without a report (status ``uploaded``), with a line on stderr saying so:
    the caller prints it (``--json``'s document too) and exits 1.
    """
    refused = (
        quarantine_report_key(dataset, digest),
        quarantine_report_key(dataset, upload_report_name(upload)),
    )
    deadline = time.monotonic() + timeout
    with console.status(f"joining {plain(upload.key)} ...", spinner="dots") if not quiet else nullcontext():
        while time.monotonic() < deadline:
            report = store.read_json(report_key(dataset, digest))
            if report is not None:
                return {"status": report.get("status", "labelled"), "dataset": dataset, "sha256": digest,
                        "report": report}  # fmt: skip
            for key in refused:
                found = store.read_json(key)
                if found is not None:
                    return {"status": "rejected", "dataset": dataset, "sha256": digest, "report": found}
            time.sleep(0.5)
    errors.print(
        f"[yellow]no report yet[/yellow] for {plain(upload.key)} after {timeout:g} s: the feedback "
        "function's logs say what it is doing",
        highlight=False,
        soft_wrap=True,
    )
    return {"status": "uploaded", "dataset": dataset, "sha256": digest, "key": upload.key}


def _emit(outcome: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(outcome, default=str))
        return
    if outcome["status"] == "uploaded":
        console.print(f"uploaded {plain(outcome['key'])} (sha256 {outcome['sha256'][:12]})", highlight=False)
        return
    report, dataset = outcome["report"], plain(outcome["dataset"])
    if outcome["status"] == "rejected":
        console.print(f"[red]refused[/red] {dataset}: the file is kept; the report says why")
        console.print(f"  {plain(report.get('expected', ''))}", highlight=False)
        print_report(report)
        return
    if outcome["status"] == "duplicate":
        source = (report.get("source") or {}).get("key", "?")
        console.print(
            f"[yellow]duplicate[/yellow]: this content was joined already ({plain(source)}, "
            f"{clock(report.get('labelled_at'))}); nothing uploaded",
            highlight=False,
        )
    else:
        console.print(
            f"[green]labelled[/green] {dataset}: {plain(report.get('summary', ''))}", highlight=False
        )
    _print_counts(report)


def _print_counts(report: dict[str, Any]) -> None:
    counts, examples = report.get("counts", {}), report.get("examples", {})
    console.print("  " + ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in counts.items()))
    for case in _CASES:
        shown = (examples.get(case) or [])[:_SHOWN_EXAMPLES]
        if shown:
            total = counts.get(case, len(shown))
            more = f" (first {len(shown)} of {total:,})" if total > len(shown) else ""
            console.print(f"  {case.replace('_', ' ')}{more}: {plain(', '.join(shown))}", highlight=False)
    versions = report.get("versions") or {}
    if versions:
        console.print("  rows by model version: " + ", ".join(f"v{v} {n:,}" for v, n in versions.items()))
    for result in report.get("performance") or []:
        values = [_metric(metric) for metric in result.get("metrics", [])]
        state = "too few labels" if result.get("status") == "too_few_labels" else "; ".join(values)
        labelled = f"v{result['model_version']} ({result['labelled_rows']:,} labelled rows)"
        console.print(f"  realized, {labelled}: {plain(state)}", highlight=False)


def _metric(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return f"{metric['name']} n/a"
    text = f"{metric['name']} {metric['value']:.3f}"
    if metric.get("ci_low") is not None:
        text += f" [{metric['ci_low']:.3f}, {metric['ci_high']:.3f}]"
    if metric.get("floor") is not None:
        text += f" (floor {metric['floor']}{', below' if metric.get('below_floor') else ''})"
    return text
