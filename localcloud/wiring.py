"""How a local cloud is wired into its process: the patches of moto it installs, and the globals it sets.

Each module named in ``moto_patches`` documents the gap it fills (localcloud/README.md's table lists them
all); this module only composes them, in the order they are installed, around the executors that
``LocalCloud`` starts. moto's state, configuration and environment are per process: ``ProcessGlobals``
puts back what a local cloud changed when it stops, so that a later ``mock_aws`` sees none of it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from moto.core import config as moto_config

from localcloud import (
    alarm_actions,
    alarm_states,
    moto_times,
    request_bodies,
    resource_names,
    roles,
    s3_limits,
    s3_policies,
    service_deliveries,
    sns_encryption,
    sns_publish,
)
from localcloud.awslambda import service as lambda_service
from localcloud.awslambda.async_invoke import AsyncInvoker
from localcloud.awslambda.executor import LambdaExecutor
from localcloud.deploy import apigateway_cfn, cfn_exports, custom_model, moto_cfn
from localcloud.events import eventbridge, s3_events
from localcloud.iam.local_iam import LocalIam
from localcloud.patches import Patch
from localcloud.records import Activity
from localcloud.sagemaker import model_packages
from localcloud.sagemaker import service as sagemaker_service
from localcloud.sagemaker.endpoints import EndpointManager, Telemetry
from localcloud.sagemaker.endpoints import runtime as endpoint_runtime
from localcloud.sagemaker.endpoints import service as endpoint_service
from localcloud.sagemaker.endpoints.quotas import EndpointQuotas
from localcloud.sagemaker.quotas import TrainingQuotas
from localcloud.sagemaker.runner import TrainingRunner
from localcloud.stepfunctions import executions, limits, sagemaker_task, task_roles


@dataclass(frozen=True)
class Executors:
    """What a local cloud runs beside moto, which the patches hand moto's requests to."""

    lambdas: LambdaExecutor
    invoker: AsyncInvoker
    trainer: TrainingRunner
    endpoints: EndpointManager
    telemetry: Telemetry
    activity: Activity
    iam: LocalIam


def moto_patches(
    run: Executors,
    *,
    training_quotas: TrainingQuotas,
    endpoint_quotas: EndpointQuotas,
    host: str,
    endpoint_url: Callable[[], str],
    now: Callable[[], datetime],
) -> list[Patch]:
    """Every patch of one local cloud, in the order they are installed (name checks first).

    ``now`` is the local cloud's clock as moto keeps times (``Clock.moto_now``).
    """
    return [
        *resource_names.patches(),
        *lambda_service.patches(run.lambdas, run.invoker),
        *sagemaker_service.patches(run.trainer, training_quotas),
        *endpoint_service.patches(run.endpoints, endpoint_quotas),
        *endpoint_runtime.patches(run.endpoints, run.telemetry),
        *model_packages.patches(),
        *executions.patches(run.activity),
        *limits.patches(),
        *sagemaker_task.patches(),
        *task_roles.patches(run.iam, endpoint_url),
        *roles.patches(run.iam),
        *eventbridge.patches(run.invoker),
        *s3_events.patches(),
        *s3_policies.patches(),
        *s3_limits.patches(),
        *moto_times.patches(now),
        *moto_cfn.patches(),
        *cfn_exports.patches(),
        *apigateway_cfn.patches(),
        *custom_model.patches(host),
        *request_bodies.patches(),
        *sns_encryption.patches(),
        *sns_publish.patches(),
        *service_deliveries.patches(),
        *alarm_actions.patches(),
        *alarm_states.patches(),
    ]


@dataclass
class ProcessGlobals:
    """The environment variables and moto configuration a local cloud changed, to put back at stop."""

    environ: dict[str, str | None] = field(default_factory=dict)
    moto_config: dict[str, Any] | None = None

    def set_environ(self, name: str, value: str) -> None:
        """Set ``name``, remembering the value it had (None: unset) the first time."""
        self.environ.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def save_moto_config(self) -> None:
        """Remember moto's process-wide configuration before the local cloud changes it."""
        self.moto_config = copy.deepcopy(cast(dict[str, Any], moto_config.default_user_config))

    def restore(self) -> None:
        """Put back the configuration and the environment as they were."""
        if self.moto_config is not None:
            config = cast(dict[str, Any], moto_config.default_user_config)
            config.clear()
            config.update(self.moto_config)
            self.moto_config = None
        for name, value in self.environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.environ.clear()
