"""An HTTP request to the local cloud, read as AWS reads it: who signed it, and which boto3 call it is.

The local cloud's front (:mod:`localcloud.iam.front`) decides each request that reaches moto's server by
its boto3 operation (the key of :mod:`localcloud.iam.operations`) and parameters. botocore's service
models say how each operation travels: the credential scope's service (the signing name) gives the
candidate boto3 services; a ``json`` request names its operation in ``X-Amz-Target``, a ``query`` one in
its form's ``Action``; a ``rest-json`` / ``rest-xml`` one by its method and URI (see
:mod:`localcloud.iam.wire_routes`). Only the services the table and the deployer/CLI use are read.

S3 is read path-style, as the local endpoint is addressed (the bucket in the first path segment); a
virtual-hosted request (the bucket in the Host) is not parsed. An S3 body is never read: an upload may be
large, and no table entry needs it.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

from botocore import xform_name
from botocore.model import ServiceModel
from botocore.session import get_session

from localcloud.iam.operations import OPERATIONS
from localcloud.iam.wire_routes import (
    Route,
    UnknownOperationError,
    body_params,
    json_object,
    match,
    rest_params,
)

__all__ = [
    "UnknownOperationError",
    "WireCall",
    "WireRequest",
    "credential",
    "needs_body",
    "parse",
    "read_body",
    "unflatten",
]

# The table's services, and those the deployer, the CLI and SSE-KMS objects' keys bring besides.
_BESIDES: Final = {"sts", "iam", "cloudformation", "ssm", "apigateway", "kms"}
SERVICES: Final = tuple(sorted({service for service, _ in OPERATIONS} | _BESIDES))
_CREDENTIAL: Final = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_FORM: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class WireRequest:
    """An HTTP request as it reached the server.

    ``path`` is as sent (percent-encoded, without the query string); header names are in lower case.
    """

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes = b""

    @classmethod
    def from_environ(cls, environ: dict[str, Any], *, read_body: Callable[[], bytes]) -> WireRequest:
        """The request a WSGI environ holds; ``read_body`` is called only when :func:`parse` needs the body.

        Parameters
        ----------
        environ
            The WSGI environ (werkzeug's server gives the path as sent in ``RAW_URI``/``REQUEST_URI``).
        read_body
            Returns the body and leaves it readable by the next reader (:func:`read_body` does).
        """
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
        if raw:
            # An absolute-form request line carries the scheme and host too.
            split = urlsplit(raw)
            path, query = split.path, split.query
        else:
            # PEP 3333: PATH_INFO is the decoded path's bytes as latin-1; quote them back as sent.
            path = quote(str(environ.get("PATH_INFO", "/")).encode("latin-1"), safe="/!$&'()*+,;=:@-._~")
            query = str(environ.get("QUERY_STRING", ""))
        request = cls(str(environ.get("REQUEST_METHOD", "GET")).upper(), path or "/", query, headers)
        return replace(request, body=read_body()) if needs_body(request) else request


def read_body(environ: dict[str, Any]) -> bytes:
    """The body of a WSGI request, read once and put back so that the next reader (moto) reads it again.

    A body with a Content-Length is read to that length; a chunked one (or any when the server says
    ``wsgi.input_terminated``) to its end, decoding the chunks when the server left them. The environ then
    holds a terminated stream of the same bytes and their length.
    """
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if environ.get("wsgi.input_terminated"):
        data = stream.read()
    elif chunked:
        data = _dechunk(stream)
    else:
        length = str(environ.get("CONTENT_LENGTH") or "0")
        data = stream.read(int(length)) if length.isdigit() else b""
    environ["wsgi.input"] = io.BytesIO(data)
    environ["wsgi.input_terminated"] = True
    environ["CONTENT_LENGTH"] = str(len(data))
    return bytes(data)


def _dechunk(stream: Any) -> bytes:
    data = bytearray()
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # The trailer, up to the empty line that ends the body.
            while stream.readline().strip():
                pass
            return bytes(data)
        data += stream.read(size)
        stream.readline()


@dataclass(frozen=True)
class WireCall:
    """Who signed a request (its access key and the credential scope's region) and the boto3 call it is."""

    access_key: str | None
    region: str
    service: str
    operation: str
    params: dict[str, Any]


def parse(request: WireRequest, *, region: str = "us-east-1") -> WireCall | None:
    """The boto3 call a signed request makes.

    Parameters
    ----------
    request
        The request; its body must be there when :func:`needs_body` says so.
    region
        The region of a request signed with SigV2, which names none (see :func:`credential`).

    Returns
    -------
    WireCall | None
        None for a request that is not signed (no ``Authorization`` header, no presigned URL's
        credential).

    Raises
    ------
    UnknownOperationError
        When the request is signed for a service this module does not read, none of its operations
        matches, or its JSON body is not an object.
    """
    signer = credential(request, region=region)
    if signer is None:
        return None
    access_key, signed_region, scope = signer
    for model in _models(scope):
        found = _operation(model, request)
        if found is not None:
            operation, params = found
            return WireCall(access_key, signed_region, model.service_name, xform_name(operation), params)
    target = request.headers.get("x-amz-target")
    raise UnknownOperationError(
        f"a request signed for {scope!r} ({request.method} {request.path}"
        + (f", X-Amz-Target {target}" if target else "")
        + f") matches no operation of {[m.service_name for m in _models(scope)] or 'the services read'}; "
        f"the local cloud reads {', '.join(SERVICES)} (add the service to localcloud.iam.wire.SERVICES)"
    )


def needs_body(request: WireRequest) -> bool:
    """Whether :func:`parse` reads the body: a json or query request's, a rest-json one's JSON members.

    Never an S3 (rest-xml) request's, nor a blob payload's (an invocation's, an endpoint's input).
    """
    content_type = request.headers.get("content-type", "")
    if "x-amz-target" in request.headers or content_type.startswith(_FORM):
        return True
    signer = credential(request)
    if signer is None:
        return False
    for model in _models(signer[2]):
        if model.protocol == "rest-json":
            route = match(
                _routes(model.service_name), request.method, request.path, _query(request), request.headers
            )
            if route is not None:
                return route.reads_body
    return False


def credential(request: WireRequest, *, region: str = "us-east-1") -> tuple[str, str, str] | None:
    """(access key, region, service) of the request's signature, or None when it is not signed.

    SigV4 names them in the credential scope (the ``Authorization`` header's ``Credential=``, or a
    presigned URL's ``X-Amz-Credential``). SigV2, which boto3 still uses for S3's presigned URLs
    (``AWSAccessKeyId=``) and an ``Authorization: AWS <key>:<signature>`` header, is S3's only and names no
    region: ``region`` stands for it (S3's ARNs name none).
    """
    authorization = request.headers.get("authorization", "")
    found = _CREDENTIAL.search(authorization)
    if found is not None:
        return found.group(1), found.group(2), found.group(3)
    query = parse_qs(request.query_string)
    presigned = query.get("X-Amz-Credential")
    if presigned:
        parts = presigned[0].split("/")
        if len(parts) == 5 and parts[4] == "aws4_request":
            return parts[0], parts[2], parts[3]
    if authorization.startswith("AWS ") and ":" in authorization:
        return authorization[4:].split(":", 1)[0].strip(), region, "s3"
    if "AWSAccessKeyId" in query and "Signature" in query:
        return query["AWSAccessKeyId"][0], region, "s3"
    return None


def _operation(model: ServiceModel, request: WireRequest) -> tuple[str, dict[str, Any]] | None:
    """(operation name, params) when the request is one of this service's operations."""
    target = request.headers.get("x-amz-target")
    rest = model.protocol.startswith("rest-")
    if target is not None:
        prefix, _, name = target.partition(".")
        if rest or prefix != model.metadata.get("targetPrefix"):
            return None
        if name not in model.operation_names:
            raise UnknownOperationError(
                f"X-Amz-Target {target}: {model.service_name} has no operation {name!r} (botocore's model)"
            )
        return name, json_object(request.body, f"X-Amz-Target {target}")
    if not rest:
        # The query protocol; also for a service boto3 now calls in json (SQS, CloudWatch), which AWS and
        # moto still answer in it for older clients.
        is_form = request.headers.get("content-type", "").startswith(_FORM)
        form = request.body.decode("utf-8", "replace") if is_form else ""
        fields = parse_qsl(form or request.query_string, keep_blank_values=True)
        action = dict(fields).get("Action")
        if action is None or action not in model.operation_names:
            return None
        return action, unflatten(fields)
    route = match(_routes(model.service_name), request.method, request.path, _query(request), request.headers)
    if route is None:
        return None
    params = rest_params(route, request.path, _query(request), request.headers)
    if route.reads_body:
        params.update(body_params(route, request.body))
    return route.operation.name, params


def unflatten(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """A query request's form as the call's parameters.

    ``A.B`` is nested, ``A.member.N`` a list and ``A.entry.N.key``/``.value`` (SNS: ``Name``/``Value``) a
    map; values stay strings, as the form gives them.
    """
    tree: dict[str, Any] = {}
    for name, value in fields:
        if name in ("Action", "Version"):
            continue
        node = tree
        *steps, last = name.split(".")
        for step in steps:
            child = node.setdefault(step, {})
            if not isinstance(child, dict):
                break  # a malformed form names a scalar as a structure too: the scalar stands
            node = child
        else:
            node[last] = value
    listed: dict[str, Any] = _listed(tree)
    return listed


def _listed(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = node.get("member", node.get("entry"))
    if len(node) == 1 and isinstance(items, dict):
        ordered = [_listed(items[key]) for key in sorted(items, key=lambda k: int(k) if k.isdigit() else 0)]
        if "entry" in node:
            return {
                item.get("key", item.get("Name")): item.get("value", item.get("Value")) for item in ordered
            }
        return ordered
    return {key: _listed(value) for key, value in node.items()}


def _query(request: WireRequest) -> dict[str, list[str]]:
    return parse_qs(request.query_string, keep_blank_values=True)


@functools.cache
def _session() -> Any:
    return get_session()


@functools.cache
def _models(scope: str) -> tuple[ServiceModel, ...]:
    """The boto3 services signed as ``scope``, json ones first (sagemaker before sagemaker-runtime)."""
    models = [_session().get_service_model(name) for name in SERVICES]
    signed = [m for m in models if (m.metadata.get("signingName") or m.metadata["endpointPrefix"]) == scope]
    return tuple(sorted(signed, key=lambda m: (m.protocol.startswith("rest-"), m.service_name)))


@functools.cache
def _routes(service: str) -> tuple[Route, ...]:
    return Route.all(_session().get_service_model(service))
