"""Training prepare: the pipeline's first state writes the training job's channels.

Thin by design: Powertools wiring, the execution input read by ``domain.training.runs``, one use case
(``prepare_run``) and its AWS adapters. The contracts and the resolved training configurations are the
ones synth validated, generated into this function's asset as ``contracts.json`` and ``training.json``.
A snapshot that cannot be split raises ``SplitRejectedError``, which the state machine catches by name.
"""

from __future__ import annotations

import tempfile
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
from domain.declared import declared_contracts, declared_training
from domain.names import model_package_group
from domain.state_limits import bounded_errors
from domain.training.prepare import SplitRejectedError, prepare_run
from domain.training.runs import parse_run

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # contracts.json / training.json were generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``TrainingPipeline``."""

    data_bucket: str
    model_package_group_prefix: str = ""


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
    """Split the snapshot (or reuse its split) and write the config and champion channels."""
    run = parse_run(event)
    logger.append_keys(dataset=run.dataset, dataset_version=run.dataset_version, run_name=run.name)
    store, champions = adapters()
    metrics.add_dimension(name="dataset", value=run.dataset)
    with tempfile.TemporaryDirectory(prefix="prepare-") as scratch:
        try:
            prepared = prepare_run(
                run,
                contract=declared_contracts(HERE)[run.dataset],
                config=declared_training(HERE)[run.dataset],
                group=model_package_group(settings().model_package_group_prefix, run.dataset),
                store=store,
                champions=champions,
                scratch=Path(scratch),
            )
        except SplitRejectedError as error:
            metrics.add_metric(name="SplitsRejected", unit=MetricUnit.Count, value=1)
            logger.warning("the snapshot cannot be split", extra={"reasons": str(error)})
            raise
    logger.info("training channels ready", extra={"champion": prepared.champion, "rows": prepared.summary})
    metrics.add_metric(name="RunsPrepared", unit=MetricUnit.Count, value=1)
    return prepared.to_dict()
