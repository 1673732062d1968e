"""Creating or updating one stack through moto's CloudFormation API, as ``cdk deploy`` does.

Going through the API (not through moto's models) keeps the result visible to every client exactly as
on AWS: ``describe_stacks`` lists the stack and its outputs, ``list_stack_resources`` its resources.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from localcloud.deploy.assembly import StackArtifact
from localcloud.errors import LocalCloudError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_SETTLED_POLL_SECONDS = 0.05
_GONE = {"DELETE_COMPLETE", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"}


class StackDeployError(LocalCloudError):
    """CloudFormation did not bring the stack to a complete state."""


def deploy_stack(
    stack: StackArtifact, *, cloudformation: Any, settle: Callable[[float], bool], timeout: float
) -> dict[str, str]:
    """Create ``stack``, or update it if it exists; return its outputs once it is complete.

    Parameters
    ----------
    stack : StackArtifact
        The stack to deploy.
    cloudformation : Any
        A boto3 CloudFormation client on the local cloud.
    settle : Callable[[float], bool]
        Waits until the local cloud has no work in flight (custom resources run as Lambda
        invocations); returns False on timeout.
    timeout : float
        Seconds to wait for the stack to complete.
    """
    body = json.dumps(stack.template())
    tags = [{"Key": k, "Value": v} for k, v in stack.tags.items()]
    arguments = {
        "StackName": stack.stack_name,
        "TemplateBody": body,
        "Capabilities": CAPABILITIES,
        "Tags": tags,
    }
    status = _status(cloudformation, stack.stack_name)
    if status in _GONE:
        # A failed first creation cannot be updated; CloudFormation wants it deleted first (so does the CLI),
        # and refuses while the stack is protected from termination.
        try:
            cloudformation.delete_stack(StackName=stack.stack_name)
        except ClientError as error:
            message = error.response["Error"]["Message"]
            raise StackDeployError(
                f"stack {stack.stack_name} is {status} and cannot be deleted: {message}"
            ) from None
        status = None
    protection = stack.termination_protection
    if status is None:
        cloudformation.create_stack(**arguments, EnableTerminationProtection=protection)
    else:
        # As ``cdk deploy``: the manifest's termination protection is set apart from the update.
        described = cloudformation.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
        if bool(described.get("EnableTerminationProtection")) != protection:
            cloudformation.update_termination_protection(
                StackName=stack.stack_name, EnableTerminationProtection=protection
            )
        try:
            cloudformation.update_stack(**arguments)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    return _wait_complete(stack.stack_name, cloudformation=cloudformation, settle=settle, timeout=timeout)


def outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The outputs of a deployed stack, by output key."""
    description = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o.get("OutputValue", "") for o in description.get("Outputs") or []}


def _wait_complete(
    stack_name: str, *, cloudformation: Any, settle: Callable[[float], bool], timeout: float
) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    settled = False
    while True:
        status = _status(cloudformation, stack_name)
        if status is not None and status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return outputs(cloudformation, stack_name)
        if status is None or not status.endswith("_IN_PROGRESS"):
            raise StackDeployError(
                f"stack {stack_name} ended in {status}{_failure(cloudformation, stack_name)}"
            )
        # Still in progress with nothing left running: a custom resource will never answer.
        if settled or time.monotonic() > deadline:
            pending = _pending_resources(cloudformation, stack_name)
            raise StackDeployError(
                f"stack {stack_name} is stuck in {status}, waiting on: {', '.join(pending)}. "
                "A custom resource whose handler is not Python, or that never answers its ResponseURL, "
                "cannot complete locally."
            )
        settled = settle(max(0.0, deadline - time.monotonic()))
        time.sleep(_SETTLED_POLL_SECONDS)


def _failure(cloudformation: Any, stack_name: str) -> str:
    """The reason CloudFormation gave for the stack's latest failure (``": <reason>"``), if any.

    A failed resource's event carries it, or, for a failure of the stack as a whole (an export in use),
    the event of the rollback it started.
    """
    try:
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        return ""
    # Newest first, as CloudFormation lists them; moto lists them oldest first.
    ordered = sorted(events, key=lambda e: e["Timestamp"], reverse=True)
    reasons = [
        e["ResourceStatusReason"]
        for e in ordered
        if e["ResourceStatus"].endswith(("_FAILED", "ROLLBACK_IN_PROGRESS"))
    ]
    return f": {reasons[0]}" if reasons and reasons[0] else ""


def _pending_resources(cloudformation: Any, stack_name: str) -> list[str]:
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    custom = [
        f"{r['LogicalResourceId']} ({r['ResourceType']})"
        for r in summaries
        if r["ResourceType"].startswith("Custom::")
    ]
    return custom or ["(unknown)"]


def _status(cloudformation: Any, stack_name: str) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None
