"""``mlops models rollback``: serve an earlier version again, the approved versions after it rejected."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from adapters.pipeline import StepFunctionsPipeline
from adapters.registry import SageMakerModelRegistry
from cli.common import CloudOption, JsonOption, console, errors, fail, plain, platform
from cli.endpoints import endpoints_of
from cli.model_refs import (
    PREFIX_OUTPUT,
    ReasonOption,
    VersionArgument,
    checked_reason,
    find_version,
    version_reference,
)
from cli.target import Cloud
from domain.deployment.request import start_deployment
from domain.names import dataset_of_group
from domain.training.registration import ModelVersion

__all__ = ["rollback"]


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
    why = checked_reason(reason)
    found = find_version(target, version)
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
        reference = version_reference(found, target.output(PREFIX_OUTPUT))
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
    """Wait for the version's deployment to end; its outcome as recorded on the version, or running."""
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
        # Still going: the outcome says so (--json's document too, not none), and the command exits 1.
        reason = f"the deployment had not ended after {timeout:g} s; `mlops models show` gives its outcome"
        errors.print(f"[yellow]still deploying[/yellow]: {reason}", highlight=False, soft_wrap=True)
        return {"status": "running", "reason": reason}
    current = registry.describe(version.arn)
    return {"status": current.deployment_status or "unknown", "reason": current.deployment_reason or ""}
