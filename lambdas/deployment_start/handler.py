"""Deployment start: an approved model version starts one deployment to its dataset's endpoint.

Thin by design: Powertools wiring, the typed EventBridge event ("SageMaker Model Package State Change"),
the registry's own description of the version (events can be stale or repeated), one use case
(``start_deployment``, which ``mlops models rollback`` calls too) and the Step Functions adapter. The
execution's name is derived from the endpoint, the version and the approval's time, so the
same approval announced twice (SageMaker may send several events per change, and recording the outcome
on the package is a change too) starts one deployment.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.environment import from_environment
from adapters.pipeline import StepFunctionsPipeline
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_serving
from domain.deployment.request import start_deployment
from domain.names import dataset_of_group, endpoint_name

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # serving.json was generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``ModelDeployment``."""

    project: str
    model_package_group_prefix: str
    state_machine_arn: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def registry() -> SageMakerModelRegistry:
    """The registry adapter, created on first use."""
    return SageMakerModelRegistry()


@cache
def executions() -> StepFunctionsPipeline:
    """The Step Functions adapter, created on first use."""
    return StepFunctionsPipeline()


def _skip(reason: str) -> dict[str, Any]:
    logger.info(reason)
    metrics.add_metric(name="DeploymentsSkipped", unit=MetricUnit.Count, value=1)
    return {"execution_arn": None, "started": False, "reason": reason}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Start the deployment of the approved version (at most once per approval)."""
    detail, config = event.detail, settings()
    group, arn = str(detail.get("ModelPackageGroupName", "")), str(detail.get("ModelPackageArn", ""))
    logger.append_keys(model_package_arn=arn)
    dataset = dataset_of_group(config.model_package_group_prefix, group)
    if dataset is None:
        return _skip(f"{group} is not a model package group of this platform")
    metrics.add_dimension(name="dataset", value=dataset)
    if dataset not in declared_serving(HERE):
        return _skip(f"{dataset} is not a dataset of this platform")
    version = registry().describe(arn)
    if version.approval_status != "Approved":
        return _skip(f"version {version.version} is {version.approval_status}, not Approved")
    deployment = start_deployment(
        version,
        dataset=dataset,
        endpoint=endpoint_name(config.project, dataset),
        trigger="approval",
        reason=version.approval_description or "approved",
        requested_at=version.decided_at or version.created_at or str(event.time),
        workflow=config.state_machine_arn,
        executions=executions(),
    )
    execution, started = deployment.execution_arn, deployment.started
    metrics.add_metric(name="DeploymentsStarted", unit=MetricUnit.Count, value=1 if started else 0)
    logger.info(
        "deployment started" if started else "deployment already started: repeated event",
        extra={
            "execution_arn": execution,
            "endpoint": deployment.request.endpoint,
            "version": version.version,
        },
    )
    return {"execution_arn": execution, "started": started}
