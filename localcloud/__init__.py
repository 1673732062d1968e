"""The local cloud: the synthesized CDK app running on one machine, with no AWS account and no Docker.

moto serves the AWS APIs on loopback; this package fills in what moto lacks (Lambda handlers run from
their deployed assets, EventBridge rules deliver to Lambda and Step Functions targets, S3 events in
AWS's format, Step Functions' SageMaker training integration, training jobs run as local processes
with SageMaker's container contract, endpoints served by local model servers, REST API stages served
with IAM authentication, throttling and Lambda proxy integrations) and deploys the templates of
``cdk.out`` as ``cdk deploy`` would. Handlers are unaware of it: the only difference from AWS is
where the SDK points (``AWS_ENDPOINT_URL``).

``LocalCloud`` runs it in-process (tests); ``up``/``status``/``down``/``env_exports`` manage it as a
daemon (the CLI). Importing the package does not import moto until ``LocalCloud`` is used, so the
CLI's status and env commands stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from localcloud.errors import DaemonError, LocalCloudError
from localcloud.lifecycle import (
    access,
    daemon_clock,
    default_state_dir,
    down,
    env_exports,
    env_variables,
    status,
    up,
)
from localcloud.outputs import OutputConflictError, merge_outputs

if TYPE_CHECKING:
    from localcloud.cloud import LocalCloud

__all__ = [
    "DaemonError",
    "LocalCloud",
    "LocalCloudError",
    "OutputConflictError",
    "access",
    "daemon_clock",
    "default_state_dir",
    "down",
    "env_exports",
    "env_variables",
    "merge_outputs",
    "status",
    "up",
]


def __getattr__(name: str) -> Any:
    if name == "LocalCloud":
        from localcloud.cloud import LocalCloud

        return LocalCloud
    raise AttributeError(f"module 'localcloud' has no attribute {name!r}")
