"""Training gate: after the training job, judge its model and keep the evidence.

Thin by design: Powertools wiring, the state's input read by ``domain.training.runs``, one use case
(``gate_run``) and the S3 adapter. The resolved training configurations (whose ``gate`` section decides)
are generated into this function's asset as ``training.json``.
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
from domain.declared import declared_training
from domain.state_limits import bounded_errors
from domain.training.runs import parse_run
from domain.training.verdict import gate_run

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # contracts.json / training.json were generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def store() -> S3ArtifactStore:
    """The S3 adapter, created on first use."""
    return S3ArtifactStore(settings().data_bucket)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@bounded_errors  # what it raises becomes the workflow's $.error: bounded (256 KiB a state)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Read the job's evaluation, decide, and record the decision whatever it is."""
    run = parse_run(event)
    logger.append_keys(dataset=run.dataset, dataset_version=run.dataset_version, run_name=run.name)
    training = event["training"]
    # The job's archives are streamed, never stored: /tmp stays empty whatever the model's size.
    outcome = gate_run(
        run,
        training_job_name=str(training["job_name"]),
        model_artifacts=str(training["model_artifacts"]),
        config=declared_training(HERE)[run.dataset],
        store=store(),
    )
    metrics.add_dimension(name="dataset", value=run.dataset)
    metrics.add_metric(
        name="ModelsApproved" if outcome.approved else "ModelsRejected", unit=MetricUnit.Count, value=1
    )
    logger.info(outcome.summary, extra={"approved": outcome.approved, "metrics": outcome.metrics})
    return outcome.to_dict()
