"""Deploying a synthesized CDK cloud assembly into the local cloud."""

from localcloud.deploy.assembly import AssemblyError
from localcloud.deploy.deployer import Deployer
from localcloud.deploy.stacks import StackDeployError

__all__ = ["AssemblyError", "Deployer", "StackDeployError"]
