"""Lambda proxy integration (``AWS_PROXY``) of REST APIs: the event a function receives, and its answer.

The event is API Gateway's REST proxy event, payload format 1.0: ``resource``, ``path``, ``httpMethod``,
``headers`` and ``multiValueHeaders`` (with the ``X-Forwarded-*`` headers API Gateway adds),
``queryStringParameters`` and ``multiValueQueryStringParameters``, ``pathParameters``,
``stageVariables`` (each None when empty), ``requestContext`` (account, API, stage, request id, time,
the caller's ``identity``), ``body`` (base64 with ``isBase64Encoded`` when the request's content type is
one of the API's binary media types).

The function must answer ``{"statusCode": int, "headers": {...}, "multiValueHeaders": {...}, "body":
str, "isBase64Encoded": bool}``; anything else is a malformed answer, which API Gateway turns into 502
``Internal server error``, as it does a function error.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.apigateway.callers import Caller


@dataclass(frozen=True)
class IncomingRequest:
    """What the event is built from: the request as received, and what routing found for it."""

    http_method: str
    path: str  # decoded, after the stage
    resource_path: str
    resource_id: str
    path_parameters: Mapping[str, str]
    headers: list[tuple[str, str]]  # as received, in order, repeated names repeated
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    user_agent: str | None
    protocol: str
    stage_variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProxyAnswer:
    """The HTTP answer a function's proxy result makes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MalformedAnswerError(ValueError):
    """The function's result is not a Lambda proxy answer."""


def proxy_event(
    request: IncomingRequest,
    *,
    api: Any,
    account_id: str,
    region: str,
    stage: Any,
    request_id: str,
    caller: Caller | None,
) -> dict[str, Any]:
    """The REST proxy event (format 1.0) for ``request`` on ``stage`` of ``api`` (moto's models)."""
    now = time.time()
    headers = _grouped(request.headers)
    query = _grouped(request.query)
    binary = _is_binary(headers, api.binaryMediaTypes)
    body: str | None
    if not request.body:
        body = None
    elif binary:
        body = base64.b64encode(request.body).decode("ascii")
    else:
        body = request.body.decode("utf-8", errors="replace")
    domain = f"{api.id}.execute-api.{region}.amazonaws.com"
    return {
        "resource": request.resource_path,
        "path": request.path,
        "httpMethod": request.http_method,
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(request.path_parameters) or None,
        "stageVariables": dict(request.stage_variables) or None,
        "requestContext": {
            "resourceId": request.resource_id,
            "resourcePath": request.resource_path,
            "httpMethod": request.http_method,
            "extendedRequestId": _short_id(),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage.name}{request.path}",
            "accountId": account_id,
            "protocol": request.protocol,
            "stage": stage.name,
            "domainPrefix": api.id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": _identity(caller, request),
            "domainName": domain,
            "deploymentId": stage.deployment_id,
            "apiId": api.id,
        },
        "body": body,
        "isBase64Encoded": body is not None and binary,
    }


def proxy_answer(result: Any) -> ProxyAnswer:
    """The HTTP answer of a function's result (the decoded JSON payload).

    Raises
    ------
    MalformedAnswerError
        If ``result`` is not a proxy answer (not an object, no integer ``statusCode``, a body that is not
        a string, headers that are not objects).
    """
    if not isinstance(result, dict):
        raise MalformedAnswerError(f"the result is a {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        raise MalformedAnswerError(f"statusCode is {status!r}")
    headers, multi = result.get("headers") or {}, result.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        raise MalformedAnswerError("headers and multiValueHeaders must be objects")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedAnswerError(f"body is a {type(body).__name__}, not a string")
    # API Gateway merges both; for a name in both, the values of multiValueHeaders win.
    merged = [(name, str(value)) for name, values in multi.items() for value in _as_list(values)]
    merged += [(name, str(value)) for name, value in headers.items() if name not in multi]
    if not any(name.lower() == "content-type" for name, _ in merged):
        merged.append(("Content-Type", "application/json"))
    content = (body or "").encode("utf-8")
    if body and result.get("isBase64Encoded") is True:
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedAnswerError(f"isBase64Encoded, but the body is not base64: {error}") from error
    return ProxyAnswer(int(status), merged, content)


def _identity(caller: Caller | None, request: IncomingRequest) -> dict[str, Any]:
    return {
        "cognitoIdentityPoolId": None,
        "accountId": caller.account_id if caller else None,
        "cognitoIdentityId": None,
        "caller": caller.user_id if caller else None,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": caller.access_key if caller else None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": caller.user_arn if caller else None,
        "userAgent": request.user_agent,
        "user": caller.user_id if caller else None,
    }


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _is_binary(headers: Mapping[str, list[str]], binary_media_types: list[str]) -> bool:
    content_type = next((v[-1] for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = content_type.split(";")[0].strip().lower()
    # The API stores "/" in a media type as "~1" (a JSON pointer escape), as the console shows it.
    patterns = [t.replace("~1", "/").lower() for t in binary_media_types]
    return bool(media_type) and any(fnmatch.fnmatchcase(media_type, p) for p in patterns)


def _as_list(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


def _short_id() -> str:
    # The shape of API Gateway's extended request ids and ``x-amz-apigw-id`` (16 characters).
    return base64.b64encode(uuid.uuid4().bytes[:11]).decode("ascii")[:15] + "="
