"""Plugs the local executor into moto's Lambda service.

moto reaches a function's code through two methods of ``LambdaFunction``: ``invoke`` (the Invoke API,
S3, SNS, SQS and Kinesis notifications, CloudFormation custom resources) and ``_invoke_lambda`` (the
Docker path that ``invoke`` calls). Both are replaced: synchronous invocations run in a worker and
answer like AWS (``FunctionError: Unhandled`` and an error payload when the handler raised, the tail
of the logs in ``LogResult``); ``InvocationType=Event`` goes to the asynchronous queue and returns 202
at once, as AWS does. A payload that is not a JSON document encoded as UTF-8 is refused before anything
runs, with ``InvalidRequestContentException`` (400), whatever the invocation type, as Lambda refuses it;
so is one over the invocation quota, with ``RequestEntityTooLargeException`` (``payload_limits``).
With IAM enforced, a function whose role Lambda cannot assume is refused at creation (``roles``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaFunction
from moto.awslambda.utils import get_backend

from localcloud.awslambda import payload_limits, roles
from localcloud.awslambda.async_invoke import AsyncInvoker
from localcloud.awslambda.executor import LambdaExecutor
from localcloud.patches import Patch

_LOG_RESULT_BYTES = 4096  # the Invoke API returns the last 4 KB of the logs
# Lambda's own words start its message; what follows is ours (Lambda quotes its JSON parser there).
_UNPARSABLE = "Could not parse request body into json: Could not parse payload into json: "


class InvalidRequestContentError(LambdaClientError):
    """Lambda's ``InvalidRequestContentException``: the payload is not a JSON document."""

    def __init__(self, reason: str) -> None:
        super().__init__("InvalidRequestContentException", _UNPARSABLE + reason)


def find_function(function_arn: str) -> Any:
    """moto's model of the function with this ARN (``arn:aws:lambda:<region>:<account>:function:<name>``)."""
    parts = function_arn.split(":")
    region, account_id = parts[3], parts[4]
    return get_backend(account_id, region).get_function(function_arn)


def patches(executor: LambdaExecutor, invoker: AsyncInvoker) -> list[Patch]:
    """The replacements that route moto's Lambda invocations to ``executor`` and ``invoker``."""

    def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        invocation_type = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
        payload_limits.check_request(
            payload_limits.encoded_size(body), asynchronous=invocation_type == "Event"
        )
        event = _parse_event(body)
        if invocation_type == "Event":
            invoker.submit(function.function_arn, event, source="lambda:Invoke")
            return b""
        if invocation_type == "DryRun":
            return b""
        outcome = executor.invoke(function, event, "RequestResponse")
        if outcome.function_error:
            response_headers["x-amz-function-error"] = "Unhandled"
        tail = outcome.logs.encode("utf-8")[-_LOG_RESULT_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
        response_headers["x-amz-executed-version"] = "$LATEST"
        return outcome.payload

    def invoke_lambda(function: Any, event: Any = None) -> tuple[str, bool, str]:
        outcome = executor.invoke(function, _parse_event(event), "RequestResponse")
        return outcome.payload.decode("utf-8"), outcome.function_error, outcome.logs

    return [
        Patch(LambdaFunction, "invoke", invoke),
        Patch(LambdaFunction, "_invoke_lambda", invoke_lambda),
        *roles.patches(executor.iam),
    ]


def _parse_event(body: Any) -> Any:
    # moto hands over the request body as text, bytes (a payload that is not UTF-8), or already parsed,
    # depending on the caller.
    if body is None or body in ("", b""):
        return {}
    if not isinstance(body, bytes | str):
        return body
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRequestContentError(
                f"byte 0x{error.object[error.start]:02x} at offset {error.start} is not UTF-8; "
                "send a JSON document encoded as UTF-8"
            ) from None
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidRequestContentError(
            f"the payload is not JSON (line {error.lineno}, column {error.colno}); send a JSON document"
        ) from None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None
