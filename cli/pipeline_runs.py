"""A training run read back: the version it judges, its end awaited, what each of its steps did.

Shared by ``mlops pipeline`` (``start``, ``show``) and ``mlops models import``, which starts a run and
reports its outcome.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from typing import Any

from adapters.aws import client
from adapters.catalog import DynamoDatasetCatalog
from adapters.pipeline import PipelineRun, StepFunctionsPipeline
from cli.common import console, errors, fail, plain

__all__ = ["await_end", "resolve_version", "run_output", "run_steps"]


def resolve_version(catalog: DynamoDatasetCatalog, dataset: str, version: str | None) -> str:
    """The full SHA-256 of an accepted version of ``dataset``: given in full, by prefix, or the latest."""
    records = catalog.versions(dataset)
    if not records:
        fail(f"{dataset} has no accepted version: push one with `mlops data push FILE --dataset {dataset}`")
    if version is None or version == "latest":
        return records[0].version
    matches = [record.version for record in records if record.version.startswith(version.lower())]
    if len(matches) > 1:
        fail(f"{version} is ambiguous: {', '.join(match[:16] for match in matches)}")
    if not matches:
        fail(f"{dataset} has no accepted version {version} (`mlops data versions {dataset}` lists them)")
    return matches[0]


def await_end(pipeline: StepFunctionsPipeline, arn: str, timeout: float, *, quiet: bool) -> PipelineRun:
    """The run at ``arn`` once it has ended (a spinner meanwhile unless ``quiet``), or still running.

    Past ``timeout`` the run is returned as it is (``RUNNING``), with a line on stderr saying so: the
    caller prints it as it prints any run (``--json``'s document too, rather than none) and exits 1, as
    for a run that did not succeed.
    """
    deadline = time.monotonic() + timeout
    interval = 0.2
    status = console.status(f"training run {plain(arn.rsplit(':', 1)[-1])} ...", spinner="dots")
    with status if not quiet else nullcontext():
        while True:
            run = pipeline.describe(arn)
            if run.status != "RUNNING":
                return run
            if time.monotonic() >= deadline:
                errors.print(
                    f"[yellow]still running[/yellow] after {timeout:g} s: `mlops pipeline show "
                    f"{plain(run.name)}` follows it",
                    highlight=False,
                    soft_wrap=True,
                )
                return run
            time.sleep(interval)
            interval = min(interval * 1.5, 10.0)


def run_output(arn: str) -> dict[str, Any]:
    """The execution's output document (the run document with each step's result), or {}."""
    described = client("stepfunctions").describe_execution(executionArn=arn)
    try:
        document = json.loads(described.get("output") or "{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def run_steps(output: dict[str, Any]) -> dict[str, Any]:
    """Each step's outcome, from the execution output (absent steps did not run or did not finish)."""
    steps: dict[str, Any] = {}
    prepare = output.get("prepare")
    if isinstance(prepare, dict):
        summary = prepare.get("summary") or {}
        steps["prepare"] = {
            "rows": summary.get("rows") or {},
            "dropped_null_target": summary.get("dropped_null_target"),
            "champion": prepare.get("champion"),
        }
    training = output.get("training")
    if isinstance(training, dict):
        steps["training"] = {
            "job_name": training.get("job_name"),
            "model_artifacts": training.get("model_artifacts"),
        }
    gate = output.get("gate")
    if isinstance(gate, dict):
        steps["gate"] = {
            "approved": gate.get("approved"),
            "summary": gate.get("summary"),
            "reasons": list(gate.get("reasons") or []),
            "metrics": gate.get("metrics") or {},
        }
    registration = output.get("registration")
    if isinstance(registration, dict):
        steps["registration"] = {
            key: registration.get(key) for key in ("model_package_arn", "version", "approval_status")
        }
    return steps
