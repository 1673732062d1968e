"""Validation failure: the record of an upload whose validation function stopped with no word of its own.

The validation function records every failure it lives through (an error, its time running out). What
it cannot record is its own death: out of memory, a crash of the runtime, a failed start, a timeout
outside the reads it watches. Lambda then retries the event twice and, once those fail too, sends an
invocation record to the function's ``on_failure`` destination: this function. It writes the same
``failure.json`` and alert as the validation function would, from the original event
(``requestPayload``) and Lambda's error (``responsePayload``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from adapters.environment import from_environment
from adapters.notify import AlertTopic
from adapters.storage import S3DatasetStore
from adapters.upload_events import stopped_invocation, upload_of
from domain.data.quarantine import record_stopped

logger = Logger()


class Settings(BaseModel):
    """The function's environment, set by the CDK construct ``DatasetValidation``."""

    data_bucket: str
    alerts_topic_arn: str


@cache
def adapters() -> tuple[S3DatasetStore, AlertTopic]:
    """The data bucket and the alert topic, created on first use and reused by later invocations."""
    config = from_environment(Settings)
    return S3DatasetStore(config.data_bucket), AlertTopic(config.alerts_topic_arn)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write the failure record and alert for the upload of a failed validation invocation."""
    upload = upload_of(S3EventBridgeNotificationEvent(event["requestPayload"]))
    logger.append_keys(upload_key=upload.key, dataset=upload.dataset)
    store, alerts = adapters()
    outcome = record_stopped(upload, stopped_invocation(event), store, alerts)
    logger.error(
        outcome.summary,
        extra={"record": outcome.report_key, "invocation": event.get("requestContext"),
               "error": event.get("responsePayload")},
    )  # fmt: skip
    return outcome.as_dict()
