"""Which cloud a command talks to, and the platform's resources there.

The local cloud when one is running (or ``--cloud local``), AWS otherwise (or ``--cloud aws``). Talking to
the local cloud only means pointing the AWS SDK at it: the same environment variables that ``mlops local
env`` prints.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws import client, resource

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Cloud(StrEnum):
    """Where commands go."""

    auto = "auto"
    local = "local"
    aws = "aws"


class TargetError(Exception):
    """The platform cannot be reached, or is not deployed where the command looked."""


def project_name() -> str:
    """The ``project`` of ``cdk.json`` (the prefix of the stack names)."""
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
        client.cache_clear()
        resource.cache_clear()
        return f"local cloud at {state['endpoint_url']}"
    return f"AWS ({os.environ.get('AWS_ENDPOINT_URL', 'default endpoints')})"


@dataclass
class Platform:
    """The deployed platform's resources, from its stack outputs."""

    project: str

    @cached_property
    def outputs(self) -> dict[str, str]:
        """The data stack's outputs."""
        stack = f"{self.project}-data"
        try:
            described = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        except ClientError as error:
            raise TargetError(
                f"stack {stack} is not deployed here ({error.response['Error']['Message']})"
            ) from None
        except BotoCoreError as error:
            raise TargetError(f"cannot reach AWS: {error}") from None
        return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}

    def output(self, name: str) -> str:
        """One output, with a clear error if the deployed stack is older than this CLI."""
        try:
            return self.outputs[name]
        except KeyError:
            raise TargetError(f"the deployed stack has no output {name}: redeploy it") from None

    @property
    def bucket(self) -> str:
        """The data bucket."""
        return self.output("DataBucketName")

    def describe(self) -> dict[str, Any]:
        """Everything the CLI knows about the deployment."""
        return {"project": self.project, **self.outputs}
