"""Lambda's invocation payload quotas, applied as Lambda applies them (moto applies none).

"Invocation payload (request and response): 6 MB each for request and response (synchronous), 1 MB
(asynchronous)": https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, and the
Invoke API ("For synchronous invocations, the maximum payload size is 6 MB. For asynchronous
invocations, the maximum payload size is 1 MB", raised from 256 KB in 2025),
https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html.

* A request over its limit is refused before anything runs: ``RequestEntityTooLargeException``
  (HTTP 413), "Request must be smaller than 6291456 bytes for the InvokeFunction operation", or for
  ``InvocationType=Event`` "<N> byte payload is too large for the Event invocation type (limit
  1048576 bytes)", as Lambda words each.
* A synchronous response over 6 MB fails the invocation: the caller gets ``FunctionError`` and
  ``{"errorType": "Function.ResponseSizeTooLarge", "errorMessage": "Response payload size (N bytes)
  exceeded maximum allowed payload size (6291556 bytes)."}`` (Lambda's own words and numbers).

The limits are module constants so that a test can lower one for itself (``monkeypatch.setattr``);
they are read at each check.
"""

from __future__ import annotations

import json

from moto.awslambda.exceptions import LambdaClientError

MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024  # tests may lower these three
MAX_ASYNC_REQUEST_BYTES = 1024 * 1024
MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # Lambda's message says 6291556 bytes
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


class RequestEntityTooLargeError(LambdaClientError):
    """Lambda's ``RequestEntityTooLargeException`` (413): the payload is over the invocation quota."""

    code = 413

    def __init__(self, message: str) -> None:
        super().__init__("RequestEntityTooLargeException", message)


def check_request(size: int, *, asynchronous: bool) -> None:
    """Raise ``RequestEntityTooLargeError`` for a request payload of ``size`` bytes over the quota."""
    if asynchronous and size > MAX_ASYNC_REQUEST_BYTES:
        raise RequestEntityTooLargeError(
            f"{size} byte payload is too large for the Event invocation type "
            f"(limit {MAX_ASYNC_REQUEST_BYTES} bytes)"
        )
    if not asynchronous and size > MAX_SYNC_REQUEST_BYTES:
        raise RequestEntityTooLargeError(
            f"Request must be smaller than {MAX_SYNC_REQUEST_BYTES} bytes for the InvokeFunction operation"
        )


def oversized_response(payload: bytes) -> dict[str, str] | None:
    """The error payload Lambda answers instead of a synchronous response over the quota, or None."""
    if len(payload) <= MAX_SYNC_RESPONSE_BYTES:
        return None
    return {
        "errorType": RESPONSE_TOO_LARGE,
        "errorMessage": f"Response payload size ({len(payload)} bytes) exceeded maximum allowed payload "
        f"size ({MAX_SYNC_RESPONSE_BYTES} bytes).",
    }


def encoded_size(body: object) -> int:
    """The size in bytes of a request body as moto hands it over (text, bytes, or parsed JSON)."""
    if body is None:
        return 0
    if isinstance(body, bytes):
        return len(body)
    text = body if isinstance(body, str) else json.dumps(body)
    return len(text.encode("utf-8"))
