"""What a local execution environment is made of: the function's spec and its process environment.

A worker sees:

* ``sys.path``: the function's unpacked code first, then the local virtualenv's site-packages. The
  virtualenv stands in for the function's Lambda layers: the development environment installs the same
  pinned ``lambdas/requirements.txt`` that the dependency layer is built from, so layer assets are not
  unpacked (they hold wheels for the Lambda platform, which may not load on this machine). The
  interpreter is the virtualenv's, whatever Python version the function's runtime names.
* its environment: the function's ``Environment.Variables``, the variables the Lambda runtime sets
  (``AWS_LAMBDA_FUNCTION_NAME``, ``..._MEMORY_SIZE``, ``..._VERSION``, ``AWS_REGION``, ``_HANDLER``,
  ``LAMBDA_TASK_ROOT``...), the temporary credentials of the function's execution role (the
  administrator's while IAM is not enforced), and ``AWS_ENDPOINT_URL`` pointing at the local cloud.
  Nothing else leaks in from the developer's environment: ``HOME`` and ``TMPDIR`` are empty folders of
  the worker's own, so ``~/.aws/config`` cannot change what the SDK does.
* ``POWERTOOLS_TRACE_DISABLED=true``: Powertools Tracer needs the X-Ray daemon that Lambda runs beside
  each environment; there is none locally, so tracing is off (the handler's code is unchanged).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class FunctionSpec:
    """What the executor needs to know about a deployed function (read from moto's model)."""

    name: str
    arn: str
    role: str
    handler: str
    runtime: str
    timeout: float
    memory_mb: int
    version: str
    variables: tuple[tuple[str, str], ...]
    log_group: str
    account_id: str
    region: str
    code: bytes

    @classmethod
    def from_moto(cls, function: Any) -> FunctionSpec:
        """Read a ``moto.awslambda.models.LambdaFunction``."""
        variables = function.environment_vars or {}
        return cls(
            name=function.function_name,
            arn=function.function_arn,
            role=str(function.role or ""),
            handler=function.handler or "",
            runtime=function.run_time or "",
            timeout=float(function.timeout),
            memory_mb=int(function.memory_size),
            version=str(function.version),
            variables=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
            log_group=function.logs_group_name,
            account_id=function.account_id,
            region=function.region,
            code=getattr(function, "code_bytes", b"") or b"",
        )

    @property
    def fingerprint(self) -> str:
        """Changes whenever the code or the configuration does: workers are never shared across it."""
        # The role too: an environment keeps the credentials it started with.
        config = json.dumps(
            [self.handler, self.runtime, self.timeout, self.memory_mb, self.variables, self.role]
        )
        return hashlib.sha256(self.code + config.encode()).hexdigest()


def worker_environment(
    spec: FunctionSpec,
    *,
    task_root: Path,
    home: Path,
    log_stream: str,
    endpoint_url: str,
    credentials: Mapping[str, str],
) -> dict[str, str]:
    """The complete process environment of one execution environment of ``spec``.

    ``credentials`` are ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``.
    """
    environment = dict(spec.variables)
    # Set after the function's variables: on AWS these are reserved and a function cannot set them.
    environment.update(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_ENDPOINT_URL": endpoint_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            **credentials,
        }
    )
    return environment
