"""Deployment finish: verify what the endpoint runs, record the outcome, let go of the endpoint.

Thin by design: Powertools wiring, the request and the prepare step's result from the workflow's state,
one use case (``finish_deployment``) and the adapters. Also the workflow's error path: given ``error``,
the outcome is "failed" with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.deployments import DynamoDeployments
from adapters.endpoints import SageMakerEndpoints
from adapters.environment import from_environment
from adapters.registry import SageMakerModelRegistry
from domain.deployment.run import DeploymentRequest, finish_deployment
from domain.state_limits import bounded_errors

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
_METRICS = {
    "deployed": "DeploymentsSucceeded",
    "rolled_back": "DeploymentsRolledBack",
    "failed": "DeploymentsFailed",
    "superseded": "DeploymentsSuperseded",
}


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``ModelDeployment``."""

    deployments_table: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def adapters() -> tuple[SageMakerModelRegistry, SageMakerEndpoints, DynamoDeployments]:
    """The registry, endpoints and table adapters, created on first use."""
    return SageMakerModelRegistry(), SageMakerEndpoints(), DynamoDeployments(settings().deployments_table)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@bounded_errors  # what it raises becomes the workflow's $.error: bounded (256 KiB a state)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record how the deployment ended; the result is the outcome with a one-line summary."""
    request = DeploymentRequest.from_input(event["request"])
    deployment = str(event["deployment"])
    logger.append_keys(endpoint=request.endpoint, version=request.version, deployment=deployment)
    registry, endpoints, locks = adapters()
    prepared = event.get("prepare")
    outcome = finish_deployment(
        request,
        deployment,
        prepared if isinstance(prepared, dict) else None,
        error=event.get("error"),
        registry=registry,
        endpoints=endpoints,
        locks=locks,
        started_at=str(event["started_at"]),
        now=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    metrics.add_dimension(name="dataset", value=request.dataset)
    metrics.add_metric(name=_METRICS[outcome.status], unit=MetricUnit.Count, value=1)
    summary = f"{request.endpoint} version {request.version}: {outcome.status}: {outcome.reason}"
    logger.info(summary, extra={"outcome": outcome.to_dict()})
    return {**outcome.to_dict(), "summary": summary}
