"""``cdk deploy`` against the local cloud: bootstrap, publish assets, deploy stacks in order, fix up.

What runs locally is what ``cdk deploy`` would create: the templates and assets come from the
synthesized cloud assembly, and nothing is rebuilt from the source tree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.cloudformation.models import cloudformation_backends

from localcloud.deploy import assets, fixups
from localcloud.deploy.assembly import AssemblyError, StackArtifact, read_stacks, select
from localcloud.deploy.stacks import deploy_stack, outputs

DEFAULT_STACK_TIMEOUT = 120.0

logger = logging.getLogger(__name__)


class Deployer:
    """Deploys cloud assemblies into the moto backends of one local cloud.

    Parameters
    ----------
    client : Callable[[str, str], Any]
        ``client(service, region)`` returns a boto3 client on the local cloud.
    account_id, region : str
        The local cloud's account and default region (environment-agnostic stacks go there).
    settle : Callable[[float], bool]
        Waits until no Lambda invocation is in flight (custom resources run as invocations).
    """

    def __init__(
        self,
        *,
        client: Callable[[str, str], Any],
        account_id: str,
        region: str,
        settle: Callable[[float], bool],
        stack_timeout: float = DEFAULT_STACK_TIMEOUT,
    ) -> None:
        self._client = client
        self._account_id = account_id
        self._region = region
        self._settle = settle
        self._stack_timeout = stack_timeout
        self._lock = threading.Lock()  # one deploy at a time, as one CLI deploys one stack at a time
        self.deployed: dict[str, dict[str, str]] = {}

    def deploy(self, cloud_assembly: Path, stacks: list[str] | None = None) -> dict[str, dict[str, str]]:
        """Deploy the stacks of ``cloud_assembly`` (all, or those named and their dependencies).

        Returns
        -------
        dict[str, dict[str, str]]
            Stack name -> its outputs.
        """
        chosen = select(read_stacks(cloud_assembly), stacks)
        results: dict[str, dict[str, str]] = {}
        with self._lock:
            for stack in chosen:
                results[stack.stack_name] = self._deploy_one(stack)
                self.deployed[stack.stack_name] = results[stack.stack_name]
        return results

    def _deploy_one(self, stack: StackArtifact) -> dict[str, str]:
        if stack.account not in (None, self._account_id):
            raise AssemblyError(
                f"stack {stack.stack_name} is synthesized for account {stack.account}; the local cloud is "
                f"account {self._account_id} (start it with that account, or synthesize without an account)"
            )
        region = stack.region or self._region

        def client(service: str) -> Any:
            return self._client(service, region)

        assets.bootstrap(
            stack, ssm=client("ssm"), s3=client("s3"), account_id=self._account_id, region=region
        )
        uploaded = assets.publish(stack, s3=client("s3"), account_id=self._account_id, region=region)
        if stack.docker_images:
            logger.warning(
                "%s: container image assets are not published locally: %s",
                stack.stack_name,
                stack.docker_images,
            )
        logger.info("%s: %d asset(s) uploaded; deploying", stack.stack_name, uploaded)
        cloudformation = client("cloudformation")
        deploy_stack(stack, cloudformation=cloudformation, settle=self._settle, timeout=self._stack_timeout)
        moto_stack = cloudformation_backends[self._account_id][region].get_stack(stack.stack_name)
        applied = fixups.apply_all(stack.stack_name, stack.template(), moto_stack.resource_map, client)
        logger.info("%s: deployed; fix-ups applied to %s", stack.stack_name, ", ".join(applied) or "nothing")
        return outputs(cloudformation, stack.stack_name)
