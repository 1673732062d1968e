"""Captured requests and responses in SageMaker's data-capture format, for the drift monitor.

Real-time endpoints capture by themselves (``DataCaptureConfig``); serverless endpoints cannot, so the
platform's invocation API writes the same records to the same place. One JSON Lines record per
request::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "...", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<the caller's InferenceId, when given>",
                       "inferenceTime": "2026-11-26T10:00:00.123Z"},
     "eventVersion": "0"}

under ``<capture prefix><endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<mm-ss-mmm>-<uuid>.jsonl`` (UTC).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

__all__ = ["capture_key", "capture_record"]

_CSV = frozenset({"text/csv"})
_JSON = frozenset({"application/json", "application/jsonlines"})


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _payload(body: bytes, content_type: str | None, mode: str) -> dict[str, Any]:
    media = _media(content_type)
    encoding = "CSV" if media in _CSV else "JSON" if media in _JSON else "BASE64"
    try:
        data = body.decode("utf-8") if encoding != "BASE64" else None
    except UnicodeDecodeError:
        data, encoding = None, "BASE64"
    if data is None:
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type or "", "mode": mode, "data": data, "encoding": encoding}


def capture_record(
    *,
    request: bytes,
    request_type: str | None,
    response: bytes,
    response_type: str | None,
    event_id: str,
    at: datetime,
    inference_id: str | None = None,
) -> dict[str, Any]:
    """One captured invocation, as SageMaker's data capture writes it (``inferenceId`` only when the
    caller gave one, as SageMaker does)."""
    moment = at.astimezone(UTC)
    metadata: dict[str, Any] = {"eventId": event_id}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return {
        "captureData": {
            "endpointInput": _payload(request, request_type, "INPUT"),
            "endpointOutput": _payload(response, response_type, "OUTPUT"),
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


def capture_key(prefix: str, endpoint: str, variant: str, at: datetime, unique: str) -> str:
    """The object key of a capture file written at ``at`` (SageMaker's layout, hourly folders, UTC)."""
    moment = at.astimezone(UTC)
    folder = moment.strftime("%Y/%m/%d/%H")
    name = moment.strftime("%M-%S-") + f"{moment.microsecond // 1000:03d}-{unique}.jsonl"
    return f"{prefix}{endpoint}/{variant}/{folder}/{name}"
