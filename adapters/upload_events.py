"""The upload an S3 "Object Created" event (as EventBridge delivers it) describes."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from domain.ingestion import Upload


def upload_of(event: S3EventBridgeNotificationEvent) -> Upload:
    """The upload an "Object Created" event describes.

    S3 URL-encodes keys in its events; the data class's ``key`` decodes them (once: decoding twice would
    turn a literal ``+`` into a space).
    """
    detail = event.detail
    return Upload(
        bucket=detail.bucket.name,
        key=detail.object.key,
        version_id=detail.object.get("version-id"),  # absent for unversioned buckets
        size=detail.object.size,
        etag=detail.object.etag,
        requester=detail.requester,
        event_id=event.get_id,
        event_time=event.time,
    )
