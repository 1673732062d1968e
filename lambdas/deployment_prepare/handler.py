"""Deployment prepare: take the endpoint, then create what it will serve and start serving it.

Thin by design: Powertools wiring, the request from the workflow's state, one use case
(``prepare_deployment``) and the adapters. The serving configurations are generated into this
function's asset as ``serving.json``.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.deployments import DynamoDeployments
from adapters.endpoints import SageMakerEndpoints
from adapters.environment import from_environment
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_serving
from domain.deployment.run import DeploymentRequest, DeploymentSettings, prepare_deployment
from domain.state_limits import bounded_errors

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # serving.json was generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``ModelDeployment``."""

    data_bucket: str
    deployments_table: str
    model_role_arn: str
    kms_key_arn: str


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
    """Prepare one deployment: ``waiting``, ``superseded`` or ``started``."""
    request = DeploymentRequest.from_input(event["request"])
    deployment = str(event["deployment"])
    logger.append_keys(endpoint=request.endpoint, version=request.version, deployment=deployment)
    config = settings()
    registry, endpoints, locks = adapters()
    prepared = prepare_deployment(
        request,
        deployment,
        serving=declared_serving(HERE)[request.dataset],
        settings=DeploymentSettings(
            role_arn=config.model_role_arn, kms_key=config.kms_key_arn, data_bucket=config.data_bucket
        ),
        registry=registry,
        endpoints=endpoints,
        locks=locks,
        now=int(time.time()),
        previous=event.get("prepare") if isinstance(event.get("prepare"), dict) else None,
    )
    metrics.add_dimension(name="dataset", value=request.dataset)
    metrics.add_metric(name=f"Deployments{prepared['status'].title()}", unit=MetricUnit.Count, value=1)
    logger.info(f"deployment {prepared['status']}", extra={"prepared": prepared})
    return prepared
