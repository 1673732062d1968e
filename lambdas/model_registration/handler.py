"""Model registration: a model that passed the gate becomes a version in its dataset's group.

Thin by design: Powertools wiring, the state's input read by ``domain.training.runs``, one use case
(``register_run``) and its AWS adapters. Whether a version is approved at once is the dataset's
``gate.auto_approve``, from the resolved configurations generated into the asset as ``training.json``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.artifacts import S3ArtifactStore
from adapters.environment import from_environment
from adapters.registry import SageMakerModelRegistry
from domain.declared import declared_training
from domain.names import model_package_group
from domain.state_limits import bounded_errors
from domain.training.runs import parse_run
from domain.training.verdict import register_run

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # contracts.json / training.json were generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str
    model_package_group_prefix: str = ""
    inference_image_uri: str
    code_version: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def adapters() -> tuple[S3ArtifactStore, SageMakerModelRegistry]:
    """The AWS adapters, created on first use and reused by later invocations."""
    return S3ArtifactStore(settings().data_bucket), SageMakerModelRegistry()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@bounded_errors  # what it raises becomes the workflow's $.error: bounded (256 KiB a state)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Register the run's model (once per run: a retry finds the version it created)."""
    run = parse_run(event)
    logger.append_keys(dataset=run.dataset, dataset_version=run.dataset_version, run_name=run.name)
    config, store, registry = settings(), *adapters()
    registered = register_run(
        run,
        execution_arn=str(event["execution_arn"]),
        gate=event["gate"],
        model_artifacts=str(event["training"]["model_artifacts"]),
        group=model_package_group(config.model_package_group_prefix, run.dataset),
        image_uri=config.inference_image_uri,
        code_version=config.code_version,
        auto_approve=declared_training(HERE)[run.dataset].gate.auto_approve,
        store=store,
        registry=registry,
    )
    metrics.add_dimension(name="dataset", value=run.dataset)
    metrics.add_metric(
        name="ModelsRegistered", unit=MetricUnit.Count, value=1 if registered["created"] else 0
    )
    logger.info("model registered", extra={"registration": registered})
    return registered
