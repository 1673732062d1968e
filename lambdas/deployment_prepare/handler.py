"""Deployment prepare: take the endpoint, then create what it will serve and start serving it.

Thin by design: the shared wiring, the state read once (``StepInput``), one use case
(``prepare_deployment``) and the adapters; the result is the workflow's ``$.prepare``. The serving
configurations are generated into this function's asset as ``serving.json``.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.deployments import workflow_adapters
from adapters.function_settings import DeploymentPrepareSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from domain.declared import declared_serving
from domain.deployment.run import DeploymentSettings, prepare_deployment
from domain.deployment.steps import StepInput

function = LambdaFunction(DeploymentPrepareSettings, __file__)
adapters = function.adapter(lambda s: workflow_adapters(s.deployments_table))
resources = function.adapter(lambda s: DeploymentSettings(s.model_role_arn, s.kms_key_arn, s.data_bucket))


@function.step
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Prepare one deployment: ``waiting``, ``superseded`` or ``started``."""
    step, (registry, endpoints, locks) = StepInput.from_state(event, "Prepare"), adapters()
    function.tag(step.request.dataset, **step.log_keys)
    serving = declared_serving(function.here)[step.request.dataset]
    prepared = prepare_deployment(step.request, step.deployment, serving=serving, settings=resources(),
                                  registry=registry, endpoints=endpoints, locks=locks, now=int(time.time()),
                                  previous=step.prepare)  # fmt: skip
    function.count(f"Deployments{prepared.status.title()}")
    function.report(f"deployment {prepared.status}", {"prepared": prepared.to_state()})
    return prepared.to_state()
