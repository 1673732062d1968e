"""Which cloud a command talks to, and the platform's resources there.

The local cloud when one is running (or ``--cloud local``), AWS otherwise (or ``--cloud aws``). Talking to
the local cloud only means pointing the AWS SDK at it: the same environment variables that ``mlops local
env`` prints.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, forget_clients
from localcloud.outputs import OutputConflictError, merge_outputs

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Cloud(StrEnum):
    """Where commands go."""

    auto = "auto"
    local = "local"
    aws = "aws"


class TargetError(Exception):
    """The platform cannot be reached, or is not deployed where the command looked."""


def project_name() -> str:
    """The ``project`` of ``cdk.json`` (the prefix of the stack names, and their ``project`` tag)."""
    try:
        context = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
        return str(context["mlops"].get("project", "mlops"))
    except (OSError, KeyError, ValueError):
        return "mlops"


def use_cloud(cloud: Cloud) -> str:
    """Point this process's AWS SDK at ``cloud``; returns a description of where it points."""
    import localcloud

    state = localcloud.status()
    running = bool(state.get("running"))
    if cloud is Cloud.local or (cloud is Cloud.auto and running and "AWS_ENDPOINT_URL" not in os.environ):
        if not running:
            raise TargetError("no local cloud is running: start one with `mlops local up`")
        os.environ.update(localcloud.env_variables(state))
        forget_clients()
        return f"local cloud at {state['endpoint_url']}"
    return f"AWS ({os.environ.get('AWS_ENDPOINT_URL', 'default endpoints')})"


def cloud_now() -> datetime:
    """Now, where the SDK points: the running local cloud's clock, else this machine's time.

    The local cloud's clock runs ahead of this machine once advanced (``mlops local clock --advance``),
    and its endpoints time their captures by it: a window that ends "now" must end at its now.
    """
    import localcloud

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    answer = localcloud.daemon_clock() if endpoint else None
    if answer is not None and answer["endpoint_url"] == endpoint:
        return datetime.fromisoformat(str(answer["now"]).replace("Z", "+00:00"))
    return datetime.now(UTC)


@dataclass
class Platform:
    """The deployed platform's resources, from the outputs of its stacks.

    The project's stacks are those tagged ``project=<project>`` (every stack of the app carries the tag),
    whatever their names and however many: an output key names one resource across all of them.
    """

    project: str

    @cached_property
    def stacks(self) -> dict[str, dict[str, str]]:
        """The project's deployed stacks, each with its outputs."""
        tag = {"Key": "project", "Value": self.project}
        try:
            pages = client("cloudformation").get_paginator("describe_stacks").paginate()
            described = [stack for page in pages for stack in page["Stacks"]]
        except ClientError as error:
            raise TargetError(f"cannot list the stacks here ({error.response['Error']['Message']})") from None
        except BotoCoreError as error:
            raise TargetError(f"cannot reach AWS: {error}") from None
        found = {
            stack["StackName"]: {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
            for stack in described
            if tag in (stack.get("Tags") or []) and stack["StackStatus"] != "DELETE_COMPLETE"
        }
        if not found:
            raise TargetError(
                f"no stack tagged project={self.project} is deployed here: deploy the app "
                "(`mlops local up`, or `cdk deploy --all` on AWS)"
            )
        return found

    @cached_property
    def outputs(self) -> dict[str, str]:
        """The outputs of every stack of the project, in one mapping."""
        try:
            return merge_outputs(self.stacks)
        except OutputConflictError as error:
            raise TargetError(str(error)) from None

    def output(self, name: str) -> str:
        """One output, with a clear error if the deployed stacks are older than this CLI."""
        try:
            return self.outputs[name]
        except KeyError:
            try:
                searched = ", ".join(sorted(self.stacks))
            except TargetError:
                searched = "none"
            raise TargetError(
                f"no output {name} in the stacks tagged project={self.project} (searched: {searched}): "
                "redeploy the app, whose stacks are older than this CLI"
            ) from None

    @property
    def bucket(self) -> str:
        """The data bucket."""
        return self.output("DataBucketName")

    def describe(self) -> dict[str, Any]:
        """Everything the CLI knows about the deployment."""
        return {"project": self.project, **self.outputs}
