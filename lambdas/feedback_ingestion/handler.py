"""Feedback ingestion: a labels file created under ``feedback/<dataset>/`` becomes labelled rows or a report.

Thin: the S3 "Object Created" event (a Powertools data class, as dataset validation reads it), the
declared datasets (generated into this asset at synth), one use case, the adapters.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from adapters.feedback import S3FeedbackStore
from adapters.function_settings import FeedbackIngestionSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.monitoring import EmfMetricsSink, S3CaptureSource
from adapters.notify import AlertTopic
from adapters.training_data import LabelStore
from adapters.upload_events import upload_of
from domain.declared import declared_contracts, declared_feedback, declared_monitoring, declared_training
from domain.feedback.ingest import FeedbackDataset, ingest_feedback
from domain.monitoring.performance_config import resolve_performance
from domain.names import endpoint_name

function = LambdaFunction(FeedbackIngestionSettings, __file__)
adapters = function.adapter(
    lambda s: (
        S3FeedbackStore(s.data_bucket),
        S3CaptureSource(s.data_bucket),
        LabelStore(s.data_bucket),
        AlertTopic(s.alerts_topic_arn),
    )
)


def _datasets(project: str) -> dict[str, FeedbackDataset]:
    here = function.here
    training, monitoring, feedback = (
        declared_training(here),
        declared_monitoring(here),
        declared_feedback(here),
    )
    return {
        name: FeedbackDataset(
            contract=contract,
            training=training[name],
            endpoint=endpoint_name(project, name),
            lookback_days=feedback[name].lookback_days,
            performance=resolve_performance(monitoring[name].performance, training[name]),
        )
        for name, contract in declared_contracts(here).items()
    }


@function.handler(S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, Any]:
    """Check the labels file, join it with its requests, record it and publish the realized performance."""
    upload, (store, captures, labels, alerts) = upload_of(event), adapters()
    function.logger.append_keys(upload_key=upload.key)
    outcome = ingest_feedback(
        upload, datasets=_datasets(function.settings().project), store=store, captures=captures,
        labels=labels, alerter=alerts, metrics=EmfMetricsSink(),
    )  # fmt: skip
    function.count(f"Feedback{outcome.status.capitalize()}")
    function.report(
        outcome.summary, {"outcome": outcome.status, "report": outcome.report_key, **outcome.counts}
    )
    return outcome.as_dict()
