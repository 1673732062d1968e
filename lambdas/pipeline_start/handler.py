"""Pipeline start: a "Dataset Version Accepted" event starts one training run of that version.

Thin by design: Powertools wiring, the typed EventBridge event, the run's name and input from
``domain.training.runs``, and the Step Functions adapter. The run's name is derived from the version and
the trigger, so an event delivered twice starts one run. Datasets without a training configuration in
the generated ``training.json`` are not trained.
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
from domain.declared import declared_training
from domain.training.runs import RunRequest, Trigger, execution_input

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``TrainingPipeline``."""

    state_machine_arn: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


def trained_datasets() -> frozenset[str]:
    """The datasets that have a training configuration (generated here at synth)."""
    return frozenset(declared_training(Path(__file__).parent))


@cache
def pipeline() -> StepFunctionsPipeline:
    """The Step Functions adapter, created on first use."""
    return StepFunctionsPipeline()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Start the training run of the accepted dataset version (at most once per version)."""
    dataset, version = str(event.detail["dataset"]), str(event.detail["version"])
    logger.append_keys(dataset=dataset, dataset_version=version)
    metrics.add_dimension(name="dataset", value=dataset)
    if dataset not in trained_datasets():
        reason = f"{dataset} has no training configuration"
        logger.info(reason)
        metrics.add_metric(name="PipelineRunsSkipped", unit=MetricUnit.Count, value=1)
        return {"execution_arn": None, "started": False, "reason": reason}
    request = RunRequest(dataset, version, Trigger(kind="accepted", reason="dataset version accepted"))
    arn, started = pipeline().start(settings().state_machine_arn, request.name, execution_input(request))
    metrics.add_metric(name="PipelineRunsStarted", unit=MetricUnit.Count, value=1 if started else 0)
    if started:
        logger.info("training run started", extra={"execution_arn": arn})
    else:
        logger.info("training run already started: duplicate event", extra={"execution_arn": arn})
    return {"execution_arn": arn, "started": started}
