"""Requests as boto3 sends them, caught before they leave (for the tests of localcloud.iam.wire).

A real boto3 client builds and signs each request; botocore's ``before-send`` event hands it to
:func:`sent` instead of the network, and :func:`wire` turns it into what the local cloud's server sees.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

from localcloud.iam.wire import WireRequest, needs_body

REGION, ACCOUNT = "us-east-1", "123456789012"


class CapturedError(Exception):
    """Raised by the before-send handler: the request boto3 would have sent."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__(request.url)
        self.request = request


def capture(request: AWSPreparedRequest, **_: Any) -> None:
    """botocore's before-send handler: stop the request and hand it over."""
    raise CapturedError(request)


def client(service: str, *, key: str = "testing", token: str | None = None, signed: bool = True) -> Any:
    """A client of the local endpoint whose requests :func:`sent` catches (``signed=False``: anonymous)."""
    made = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:9",
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="testing",
        aws_session_token=token,
        config=Config(retries={"max_attempts": 0}, **({} if signed else {"signature_version": UNSIGNED})),
    )
    made.meta.events.register("before-send", capture)
    return made


def sent(client: Any, operation: str, params: dict[str, Any]) -> AWSPreparedRequest:
    """The request one call of a :func:`client` would send."""
    with pytest.raises(CapturedError) as caught:
        getattr(client, operation)(**params)
    return caught.value.request


def wire(request: AWSPreparedRequest) -> WireRequest:
    """The request as the server receives it; its body only when the parser asks for it, as the front does."""
    url = urlsplit(request.url)
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
    wire = WireRequest(request.method, url.path or "/", url.query, headers)
    if not needs_body(wire):
        return wire
    body = request.body
    data = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body or b""
    return WireRequest(wire.method, wire.path, wire.query_string, headers, bytes(data))


def signed(scope: str, **extra: Any) -> WireRequest:
    """A hand-built request signed for ``scope`` (what a client other than boto3 would send)."""
    authorization = f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{scope}/aws4_request, Signature=0"
    fields: dict[str, Any] = {"method": "POST", "path": "/", "query_string": "", "body": b""}
    headers = {"authorization": authorization, **extra.pop("headers", {})}
    return WireRequest(headers=headers, **(fields | extra))
