"""Dataset validation: an object created under ``incoming/<dataset>/`` becomes a version or a report.

The typed EventBridge event is a Powertools data class (the pydantic parser would add ~0.15 s to every
cold start). The contracts are the ones synth validated, generated into this asset as ``contracts.json``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from adapters.catalog import DynamoDatasetCatalog
from adapters.function_settings import DatasetValidationSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.notify import PlatformNotifier
from adapters.storage import S3DatasetStore
from adapters.upload_events import upload_of
from domain.data.ingestion import Deadline, ingest_upload
from domain.declared import declared_contracts

function = LambdaFunction(DatasetValidationSettings, __file__)
adapters = function.adapter(lambda s: (S3DatasetStore(s.data_bucket), DynamoDatasetCatalog(s.catalog_table),
                                       PlatformNotifier(s.event_bus_name, s.alerts_topic_arn)))  # fmt: skip


@function.handler(S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: LambdaContext) -> dict[str, Any]:
    """Validate the upload: a version, a rejection or a failure record, in time before the limit."""
    upload, (store, catalog, notifier) = upload_of(event), adapters()
    function.logger.append_keys(upload_key=upload.key, dataset=upload.dataset)
    deadline = Deadline.after(context.get_remaining_time_in_millis() / 1000)
    outcome = ingest_upload(upload, contracts=declared_contracts(function.here), store=store,
                            catalog=catalog, notifier=notifier, deadline=deadline)  # fmt: skip
    function.metrics.add_dimension(name="dataset", value=outcome.dataset or "unknown")
    function.count(f"Datasets{outcome.status.capitalize()}")
    if outcome.status == "accepted" and outcome.dataset:
        # One per new version, by dataset alone: the no-new-data alarm watches it (monitoring stack).
        function.publish("AcceptedVersions", 1, {"Dataset": outcome.dataset})
    # A failure is recorded and alerted, not raised: a retry would fail the same way. The log has the trace.
    fact = {"record": outcome.report_key} if outcome.error is not None else {"version": outcome.version}
    function.report(outcome.summary, {"outcome": outcome.status, **fact}, outcome.error)
    return outcome.as_dict()
