"""Validation failure: the record of an upload whose validation function stopped with no word of its own.

The validation function records every failure it lives through (an error, its time running out). What
it cannot record is its own death: out of memory, a crash of the runtime, a failed start, a timeout
outside the reads it watches. Lambda then retries the event twice and, once those fail too, sends an
invocation record to the function's ``on_failure`` destination: this function. It writes the same
``failure.json`` and alert as the validation function would, from the original event
(``requestPayload``) and Lambda's error (``responsePayload``).
"""

from __future__ import annotations

from typing import Any

from adapters.function_settings import ValidationFailureSettings
from adapters.lambda_function import LambdaContext, LambdaFunction
from adapters.notify import AlertTopic
from adapters.storage import S3DatasetStore
from adapters.upload_events import StoppedValidation
from domain.data.quarantine import record_stopped

function = LambdaFunction(ValidationFailureSettings, __file__, observed=False)
adapters = function.adapter(lambda s: (S3DatasetStore(s.data_bucket), AlertTopic(s.alerts_topic_arn)))


@function.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write the failure record and alert for the upload of a failed validation invocation."""
    stopped = StoppedValidation.from_record(event)
    function.logger.append_keys(upload_key=stopped.upload.key, dataset=stopped.upload.dataset)
    outcome = record_stopped(stopped.upload, stopped.invocation, *adapters())
    facts = {"record": outcome.report_key, "invocation": stopped.context, "error": stopped.error}
    function.logger.error(outcome.summary, extra=facts)
    return outcome.as_dict()
