"""What the validation functions are delivered, as the domain's values: the upload an S3 "Object Created"
event (as EventBridge delivers it) describes, and how Lambda says an invocation on it failed for good."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from domain.data.ingestion import Upload
from domain.data.ingestion_failures import StoppedInvocation
from domain.events import ObjectCreated

# Lambda prefixes its own error messages with the request (and sometimes a timestamp): not for people.
_LAMBDA_PREFIX = re.compile(r"^(\S+Z\s+)?(RequestId:\s*)?[0-9a-f-]{36}\s+(Error:\s*)?")


def upload_of(event: S3EventBridgeNotificationEvent) -> Upload:
    """The upload an "Object Created" event describes (``domain.events.ObjectCreated``)."""
    created = ObjectCreated.from_detail(event.raw_event.get("detail") or {})
    return Upload(
        bucket=created.bucket,
        key=created.key,
        version_id=created.version_id,
        size=created.size,
        etag=created.etag,
        requester=created.requester,
        event_id=event.get_id,
        event_time=event.time,
    )


def stopped_invocation(record: Mapping[str, Any]) -> StoppedInvocation:
    """How Lambda's invocation record of a failed asynchronous invocation says it ended.

    The record is what an ``on_failure`` destination receives: ``requestContext`` (``condition``,
    ``approximateInvokeCount``) and ``responsePayload`` (the runtime's ``errorType`` and ``errorMessage``,
    e.g. ``Runtime.OutOfMemory``, ``Sandbox.Timedout``).
    """
    context = record.get("requestContext") or {}
    payload = record.get("responsePayload")
    error = payload if isinstance(payload, Mapping) else {}
    attempts = context.get("approximateInvokeCount")
    return StoppedInvocation(
        expired=context.get("condition") == "EventAgeExceeded",
        attempts=int(attempts) if attempts else None,
        error_type=str(error.get("errorType") or "") or None,
        error_message=_LAMBDA_PREFIX.sub("", str(error.get("errorMessage") or "")).strip(),
    )


@dataclass(frozen=True)
class StoppedValidation:
    """Lambda's record of a validation invocation that failed for good, read once.

    Attributes
    ----------
    upload : Upload
        The upload of the original event (``requestPayload``).
    invocation : StoppedInvocation
        How it ended (:func:`stopped_invocation`).
    context, error
        Lambda's ``requestContext`` and ``responsePayload`` as they came, for the log.
    """

    upload: Upload
    invocation: StoppedInvocation
    context: Any
    error: Any

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StoppedValidation:
        """Read the invocation record an ``on_failure`` destination receives."""
        return cls(
            upload=upload_of(S3EventBridgeNotificationEvent(record["requestPayload"])),
            invocation=stopped_invocation(record),
            context=record.get("requestContext"),
            error=record.get("responsePayload"),
        )
