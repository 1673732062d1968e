"""Deployment finish: verify what the endpoint runs, record the outcome, let go of the endpoint.

Thin by design: the shared wiring, the state read once (``StepInput``: the request and the prepare step's
result), one use case (``finish_deployment``) and the adapters; the result is the workflow's
``$.outcome``. Also the workflow's error path (RecordFailure): given ``error``, the outcome is "failed".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.deployments import workflow_adapters
from adapters.function_settings import DeploymentFinishSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from domain.deployment.run import finish_deployment
from domain.deployment.steps import Finished, StepInput

function = LambdaFunction(DeploymentFinishSettings, __file__)
adapters = function.adapter(lambda s: workflow_adapters(s.deployments_table))
METRICS = {"deployed": "DeploymentsSucceeded", "rolled_back": "DeploymentsRolledBack",
           "failed": "DeploymentsFailed", "superseded": "DeploymentsSuperseded"}  # fmt: skip


@function.step
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record how the deployment ended; the result is the outcome with a one-line summary."""
    step = StepInput.from_state(event, "RecordFailure" if "error" in event else "Finish")
    (registry, endpoints, locks), now = adapters(), datetime.now(UTC).isoformat(timespec="seconds")
    function.tag(step.request.dataset, **step.log_keys)
    outcome = finish_deployment(step.request, step.deployment, step.prepare, error=step.error,
                                registry=registry, endpoints=endpoints, locks=locks,
                                started_at=step.started_at, now=now)  # fmt: skip
    finished = Finished.of(step.request, outcome)
    function.count(METRICS[outcome.status])
    function.report(finished.summary, {"outcome": outcome.to_dict()})
    return finished.to_state()
