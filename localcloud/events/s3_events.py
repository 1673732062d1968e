"""S3 → EventBridge notifications in AWS's format ("Object Created", "Object Deleted").

moto sends S3 events to EventBridge when the bucket's notification configuration has
``EventBridgeConfiguration``, but its event differs from AWS's: the key is not URL-encoded, ``etag`` is
spelled ``eTag``, ``reason`` is ``ObjectCreated`` instead of ``PutObject``, the event id and sequencer
are constants, ``version-id`` is sent for unversioned buckets, and the event goes to every bus instead
of the default bus only; and a multipart upload sends two events (a ``Put`` from inside
``CompleteMultipartUpload``, then the ``CompleteMultipartUpload`` one), where S3 sends one. This module
builds the event as AWS documents it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html) and routes it like AWS.

The object key is URL-encoded the way S3 encodes keys in its notifications (spaces as ``+``,
non-ASCII as UTF-8 percent escapes, ``/`` kept): consumers decode it with ``unquote_plus``.
"""

from __future__ import annotations

import itertools
import secrets
import string
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import unix_time
from moto.s3 import notifications as s3_notifications
from moto.s3.models import S3Backend

from localcloud.events.default_bus import send_to_default_bus
from localcloud.patches import Patch

_CREATED_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}
_DELETION_TYPES = {"Delete": "Permanently Deleted", "DeleteMarkerCreated": "Delete Marker Created"}
_REQUEST_ID_ALPHABET = string.ascii_uppercase + string.digits
# Sequencers only have to grow for events of one key; a process-wide counter does that.
_sequence = itertools.count(time.time_ns())


def patches() -> list[Patch]:
    """The replacement of moto's S3 → EventBridge sender, and one event per multipart upload."""
    original = s3_notifications._send_event_bridge_message
    original_put_object = S3Backend.put_object

    def put_object(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        # CompleteMultipartUpload stores the object through put_object (passing its multipart), then
        # notifies ObjectCreated:CompleteMultipartUpload itself; CopyObject already silences this one.
        if kwargs.get("multipart") is not None:
            kwargs["disable_notification"] = True
        return original_put_object(self, *args, **kwargs)

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        event = object_event(account_id, bucket, event_name, key)
        if event is None:
            # Restore, tagging and ACL events keep moto's format; nothing here consumes them yet.
            original(account_id, bucket, event_name, key)
            return
        send_to_default_bus(account_id, bucket.region_name, event, about=f"s3://{bucket.name}/{key.name}")

    return [
        Patch(s3_notifications, "_send_event_bridge_message", send_event_bridge_message),
        Patch(S3Backend, "put_object", put_object),
    ]


def object_event(account_id: str, bucket: Any, event_name: str, key: Any) -> dict[str, Any] | None:
    """The EventBridge event S3 sends for ``event_name`` (``s3:ObjectCreated:Put``...) on ``key``.

    Returns None for events other than object creation and deletion.
    """
    _, category, operation = [*event_name.split(":"), "", ""][:3]
    obj: dict[str, Any] = {"key": quote_plus(key.name, safe="/")}
    if category == "ObjectCreated":
        detail_type = "Object Created"
        obj.update(size=key.size, etag=key.etag.replace('"', ""))
        extra = {"reason": _CREATED_REASONS.get(operation, "PutObject")}
    elif category == "ObjectRemoved":
        detail_type = "Object Deleted"
        extra = {
            "reason": "DeleteObject",
            "deletion-type": _DELETION_TYPES.get(operation, "Permanently Deleted"),
        }
    else:
        return None
    if bucket.is_versioned and key.version_id not in (None, "null"):
        obj["version-id"] = key.version_id
    obj["sequencer"] = f"{next(_sequence):018X}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        # Unix seconds, as moto keeps event times; the Lambda delivery writes it as ISO 8601.
        "time": unix_time(),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": "".join(secrets.choice(_REQUEST_ID_ALPHABET) for _ in range(16)),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            **extra,
        },
    }
