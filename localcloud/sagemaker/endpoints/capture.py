"""Data capture: sampled requests and responses of an endpoint, as SageMaker writes them to S3.

With ``DataCaptureConfig.EnableCapture`` (the default once a ``DataCaptureConfig`` is given), a share of
the invocations (``InitialSamplingPercentage``, spread evenly: see ``routing.Sampler``) is written as JSON
Lines, one object per invocation::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "...", "encoding": "CSV"},
                     "endpointOutput": {...,"mode": "OUTPUT", ...}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2026-11-02T10:15:32Z"},
     "eventVersion": "0"}

Only the modes listed in ``CaptureOptions`` appear. The encoding is ``CSV`` or ``JSON`` for the content
types listed in ``CaptureContentTypeHeader`` (the data as text), else ``BASE64``. Objects land at
``<DestinationS3Uri>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<mm-ss-mmm>-<uuid>.jsonl`` (UTC, the time
of the first invocation in the object), encrypted with ``KmsKeyId`` when one is given, and written as the
variant's model role (with IAM enforced: ``s3:PutObject`` and, with a key, ``kms:GenerateDataKey``).
SageMaker writes the captured data every few minutes; here the buffer is written at least every second.

An invocation the model answered with an error (4xx/5xx) is captured too: its input, and the model's
error body as output (SageMaker's documentation does not say; see the README).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from localcloud.sagemaker.endpoints.routing import Sampler
from localcloud.sagemaker.transfer import split_s3_uri

Client = Callable[[str, str], Any]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureSettings:
    """An endpoint configuration's ``DataCaptureConfig``, once enabled."""

    destination: str
    percent: float
    kms_key: str | None
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> CaptureSettings | None:
        """The settings of ``DataCaptureConfig``; None when capture is off or not configured."""
        if not config or config.get("EnableCapture") is False or not config.get("DestinationS3Uri"):
            return None
        modes = {str(option.get("CaptureMode")) for option in config.get("CaptureOptions") or []}
        headers = config.get("CaptureContentTypeHeader") or {}
        return cls(
            destination=str(config["DestinationS3Uri"]).rstrip("/"),
            percent=float(config.get("InitialSamplingPercentage", 100)),
            kms_key=config.get("KmsKeyId") or None,
            capture_input=bool(modes & {"Input", "InputAndOutput"}),
            capture_output=bool(modes & {"Output", "InputAndOutput"}),
            csv_types=frozenset(headers.get("CsvContentTypes") or []),
            json_types=frozenset(headers.get("JsonContentTypes") or []),
        )

    def sampler(self) -> Sampler:
        """A fresh sampler of ``InitialSamplingPercentage``."""
        return Sampler(self.percent)

    def encoded(self, data: bytes, content_type: str) -> tuple[str, str]:
        """``(data, encoding)`` of one payload: text for the listed CSV/JSON types, else base64."""
        media_type = content_type.split(";", 1)[0].strip()
        for encoding, types in (("CSV", self.csv_types), ("JSON", self.json_types)):
            if content_type in types or media_type in types:
                try:
                    return data.decode("utf-8"), encoding
                except UnicodeDecodeError:
                    break
        return base64.b64encode(data).decode("ascii"), "BASE64"


@dataclass(frozen=True)
class CapturedInvocation:
    """One sampled invocation, waiting to be written."""

    settings: CaptureSettings
    endpoint: str
    variant: str
    region: str
    at: datetime
    line: str
    s3: Any = None  # an S3 client acting as the variant's model role; the writer's own when None


def capture_record(
    settings: CaptureSettings,
    *,
    request: bytes,
    request_type: str,
    response: bytes,
    response_type: str,
    at: datetime,
    inference_id: str | None = None,
) -> dict[str, Any]:
    """One line of a capture file: the configured modes of one invocation, with its metadata."""
    data: dict[str, Any] = {}
    for wanted, key, mode, payload, content_type in (
        (settings.capture_input, "endpointInput", "INPUT", request, request_type),
        (settings.capture_output, "endpointOutput", "OUTPUT", response, response_type),
    ):
        if wanted:
            text, encoding = settings.encoded(payload, content_type)
            data[key] = {
                "observedContentType": content_type,
                "mode": mode,
                "data": text,
                "encoding": encoding,
            }
    metadata: dict[str, Any] = {"eventId": str(uuid.uuid4())}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}


def object_key(prefix: str, endpoint: str, variant: str, at: datetime) -> str:
    """``<prefix>/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<mm-ss-mmm>-<uuid>.jsonl`` (UTC)."""
    moment = at.astimezone(UTC)
    name = f"{moment:%M-%S}-{moment.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    folder = f"{endpoint}/{variant}/{moment:%Y/%m/%d/%H}"
    return f"{prefix}/{folder}/{name}" if prefix else f"{folder}/{name}"


class CaptureWriter:
    """Writes batches of captured invocations to the local S3: one object per variant and hour.

    An object S3 refuses (the model's role may not write there, or not use the key) is logged and
    counted in ``failures``, never retried, and never fails an invocation, as on SageMaker.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self.failures = 0

    def write(self, batch: list[CapturedInvocation]) -> None:
        """Write one batch (called by the buffer's flusher)."""
        groups: dict[tuple[str, str, str, str, str | None, str], list[CapturedInvocation]] = {}
        for item in batch:
            hour = item.at.astimezone(UTC).strftime("%Y%m%d%H")
            key = (
                item.region,
                item.settings.destination,
                item.endpoint,
                item.variant,
                item.settings.kms_key,
                hour,
            )
            groups.setdefault(key, []).append(item)
        for (region, destination, endpoint, variant, kms_key, _), items in groups.items():
            try:
                bucket, prefix = split_s3_uri(destination)
            except Exception as error:
                raise ValueError(f"DestinationS3Uri {destination} is not an S3 location") from error
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
            body = "".join(f"{item.line}\n" for item in items).encode("utf-8")
            s3 = items[0].s3 or self._client("s3", region)
            target = object_key(prefix.rstrip("/"), endpoint, variant, items[0].at)
            try:
                s3.put_object(
                    Bucket=bucket, Key=target, Body=body, ContentType="application/jsonlines", **extra
                )
            except ClientError as error:
                self.failures += 1
                logger.warning(
                    "data capture of endpoint %s, variant %s: %d invocations not written to s3://%s/%s: %s",
                    endpoint,
                    variant,
                    len(items),
                    bucket,
                    target,
                    error,
                )


def dumps(record: Mapping[str, Any]) -> str:
    """A capture line: compact JSON."""
    return json.dumps(record, separators=(",", ":"))
