"""AWS's answers to a refused request, in each service's protocol, so that SDKs raise what AWS raises.

An SDK reads an error by its service's protocol (botocore's ``parsers``): S3's XML ``<Error>``, the
query services' ``<ErrorResponse>``, the JSON services' ``__type`` (with ``x-amzn-query-error`` for a
former query service, as SQS, whose clients see the query code), CloudWatch's CBOR, and the REST JSON
services' ``x-amzn-ErrorType``. The codes are those AWS answers with:

- a denial: ``AccessDenied`` (S3 and the query services; SNS ``AuthorizationError``), a JSON or REST
  service's ``AccessDeniedException``
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html);
- a key AWS never issued: ``InvalidClientTokenId`` ("The security token included in the request is
  invalid."), which the JSON and REST services call ``UnrecognizedClientException`` and S3
  ``InvalidAccessKeyId`` ("The AWS Access Key Id you provided does not exist in our records.");
- an operation the local cloud cannot decide (no IAM mapping): HTTP 500, a local cloud gap.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Literal
from xml.sax.saxutils import escape

from botocore.session import get_session
from werkzeug.wrappers import Response

Refusal = Literal["denied", "unknown_key", "gap"]

_COMMON: dict[Refusal, tuple[int, str]] = {
    "denied": (403, "AccessDenied"),
    "unknown_key": (403, "InvalidClientTokenId"),
    "gap": (500, "LocalCloudUnmappedOperation"),
}
# JSON, CBOR and REST JSON services: the codes of AWS's authentication and authorization layer.
_MODERN: dict[Refusal, tuple[int, str]] = {
    "denied": (400, "AccessDeniedException"),
    "unknown_key": (400, "UnrecognizedClientException"),
    "gap": (500, "LocalCloudUnmappedOperation"),
}
_S3_UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."


@functools.cache
def _metadata(service: str) -> tuple[str, bool]:
    """The protocol botocore speaks to ``service`` and whether it is query-compatible."""
    model = get_session().get_service_model(service)
    return model.protocol, "awsQueryCompatible" in model.metadata


def refusal(service: str | None, kind: Refusal, message: str) -> Response:
    """The HTTP answer refusing a request to ``service`` (a boto3 service name; None: not known).

    Parameters
    ----------
    service : str | None
        The boto3 service the request was for; a plain JSON body when it is not known.
    kind : {"denied", "unknown_key", "gap"}
        Why: a policy denies it, its key is unknown, or the local cloud cannot decide it.
    message : str
        AWS's message (the decision's for a denial).
    """
    request_id = str(uuid.uuid4())
    protocol, query_compatible = _metadata(service) if service else ("json", False)
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "rest-xml":
        status, code = _COMMON[kind]
        if kind == "unknown_key":
            code, message = "InvalidAccessKeyId", _S3_UNKNOWN_KEY
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}'
            f"</Message><RequestId>{request_id}</RequestId></Error>"
        )
        return Response(
            body, status, headers={**headers, "x-amz-request-id": request_id}, mimetype="application/xml"
        )
    if protocol == "query":
        status, code = _COMMON[kind]
        if service == "sns" and kind == "denied":
            code = "AuthorizationError"
        body = (
            f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(body, status, headers=headers, mimetype="text/xml")
    status, code = _MODERN[kind]
    if query_compatible and kind != "gap":
        # The query code its SDKs raised before the service moved to JSON (SQS, CloudWatch).
        headers["x-amzn-query-error"] = f"{_COMMON[kind][1]};Sender"
    if protocol == "rest-json":
        status = 403 if kind != "gap" else status
        headers["x-amzn-ErrorType"] = code
        document = {"Type": "User", "Message": message}
        return Response(json.dumps(document), status, headers=headers, mimetype="application/json")
    typed = {"__type": f"com.amazon.coral.service#{code}", "message": message}
    if protocol == "smithy-rpc-v2-cbor":
        headers["smithy-protocol"] = "rpc-v2-cbor"
        return Response(_cbor_map(typed), status, headers=headers, mimetype="application/cbor")
    headers["x-amzn-ErrorType"] = code
    return Response(json.dumps(typed), status, headers=headers, mimetype="application/x-amz-json-1.1")


def _cbor_map(items: dict[str, str]) -> bytes:
    """A CBOR (RFC 8949) map of text strings: all an error body holds."""
    return _cbor_head(5, len(items)) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in items.items())


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | extra]) + length.to_bytes(size, "big")
    raise ValueError(f"a CBOR item of {length} bytes is too long")
