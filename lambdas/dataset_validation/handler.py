"""Dataset validation: an object created under ``incoming/<dataset>/`` becomes a version or a report.

Thin by design: Powertools wiring, the typed EventBridge event (a Powertools data class: the pydantic
parser would add ~0.15 s to every cold start), one use case (``ingest_upload``), and
the AWS adapters it runs against. The contracts are the ones synth validated, generated into this
function's asset as ``contracts.json``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.catalog import DynamoDatasetCatalog
from adapters.environment import from_environment
from adapters.notify import PlatformNotifier
from adapters.storage import S3DatasetStore
from adapters.upload_events import upload_of
from domain.data.ingestion import Deadline, ingest_upload
from domain.declared import declared_contracts

logger = Logger()
tracer = Tracer(patch_modules=["boto3"])  # traces AWS calls; nothing else here speaks HTTP
metrics = Metrics()
HERE = Path(__file__).parent  # contracts.json / training.json were generated here at synth


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``DatasetValidation``."""

    data_bucket: str
    catalog_table: str
    event_bus_name: str
    alerts_topic_arn: str


@cache
def settings() -> Settings:
    """The environment, read once per execution environment."""
    return from_environment(Settings)


@cache
def adapters() -> tuple[S3DatasetStore, DynamoDatasetCatalog, PlatformNotifier]:
    """The AWS adapters, created on first use and reused by later invocations."""
    config = settings()
    return (
        S3DatasetStore(config.data_bucket),
        DynamoDatasetCatalog(config.catalog_table),
        PlatformNotifier(config.event_bus_name, config.alerts_topic_arn),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, Any]:
    """Validate the uploaded object and record a dataset version, a rejection report or a failure record.

    The validation stops in time to record why when the function's time limit comes near: killed at
    the limit, the function would leave no word, and each retry would be killed the same way.
    """
    deadline = Deadline.after(context.get_remaining_time_in_millis() / 1000)
    upload = upload_of(event)
    logger.append_keys(upload_key=upload.key, dataset=upload.dataset)
    store, catalog, notifier = adapters()
    outcome = ingest_upload(
        upload,
        contracts=declared_contracts(HERE),
        store=store,
        catalog=catalog,
        notifier=notifier,
        deadline=deadline,
    )
    metrics.add_dimension(name="dataset", value=outcome.dataset or "unknown")
    metrics.add_metric(name=f"Datasets{outcome.status.capitalize()}", unit=MetricUnit.Count, value=1)
    if outcome.error is not None:
        # Recorded and alerted, and not raised: a retry would fail the same way. The log has the trace.
        logger.error(
            outcome.summary,
            extra={"outcome": outcome.status, "record": outcome.report_key},
            exc_info=outcome.error,
        )
    else:
        logger.info(outcome.summary, extra={"outcome": outcome.status, "version": outcome.version})
    return outcome.as_dict()
