"""The rest-json / rest-xml operations of a service, as routes a request's method and URI select.

Each operation's ``requestUri`` becomes a regex (``{Name}`` one path segment, ``{Key+}`` the rest of the
path) plus the literal query parts it demands (``?uploads``, ``?list-type=2``). Several operations may
match one request (each only when its required query and header members are present): the one with more
literal query parts wins, then the one with more required query and header members (S3's CopyObject over
PutObject when ``x-amz-copy-source`` is sent, UploadPart when ``partNumber`` and ``uploadId`` are), then
the longer literal path, then a current operation over a deprecated or S3 Express one. A path may end in
one "/" more than its template (``GET /bucket/`` lists the bucket, as S3 answers it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel, Shape

_LABEL: Final = re.compile(r"\{([^}]+?)(\+?)\}")


class UnknownOperationError(ValueError):
    """A signed request that no operation of its service's model matches (or whose members cannot be read)."""


@dataclass(frozen=True)
class Route:
    """One operation's method, URI pattern and the members each part of the request carries."""

    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    literal_length: int
    reads_body: bool
    # A deprecated operation (S3's GetBucketNotification shares GET /{Bucket}?notification with
    # GetBucketNotificationConfiguration) or an S3 Express control-endpoint one (ListDirectoryBuckets
    # shares ListBuckets' GET /): on a tie, the other is the one boto3 calls on this endpoint.
    deprecated: bool
    express: bool

    @classmethod
    def all(cls, model: ServiceModel) -> tuple[Route, ...]:
        """Every operation's route."""
        return tuple(cls.of(model.operation_model(name)) for name in model.operation_names)

    @classmethod
    def of(cls, operation: OperationModel) -> Route:
        """The route of one operation, from its ``http`` trait and its input members' locations."""
        path, _, literal = str(operation.http.get("requestUri", "/")).partition("?")
        members = _members(operation.input_shape)
        by_location = {m.serialization.get("name", name): name for name, m in members.items()}
        regex, labels, position = "", [], 0
        for found in _LABEL.finditer(path):
            regex += re.escape(path[position : found.start()]) + ("(.+)" if found.group(2) else "([^/]+)")
            labels.append(by_location.get(found.group(1), found.group(1)))
            position = found.end()
        regex += re.escape(path[position:]) + ("" if path.endswith("/") or regex.endswith("(.+)") else "/?")
        required = set(operation.input_shape.required_members) if operation.input_shape else set()
        located = {
            location: tuple(
                m.serialization.get("name", name)
                for name, m in members.items()
                if name in required and m.serialization.get("location") == location
            )
            for location in ("querystring", "header")
        }
        payload = operation.input_shape.serialization.get("payload") if operation.input_shape else None
        body_members = [n for n, m in members.items() if not m.serialization.get("location")]
        reads_body = operation.metadata.get("protocol") == "rest-json" and (
            (payload is None and bool(body_members))
            or (payload is not None and members[payload].type_name == "structure")
        )
        return cls(
            operation=operation,
            method=str(operation.http.get("method", "GET")).upper(),
            pattern=re.compile(regex + r"\Z"),
            labels=tuple(labels),
            literal_query=tuple((k, v or None) for k, v in parse_qsl(literal, keep_blank_values=True)),
            required_query=located["querystring"],
            required_headers=tuple(h.lower() for h in located["header"]),
            literal_length=len(_LABEL.sub("", path)),
            reads_body=reads_body,
            deprecated=operation.deprecated,
            express=any(p.name == "UseS3ExpressControlEndpoint" for p in operation.static_context_parameters),
        )


def match(
    routes: tuple[Route, ...],
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
) -> Route | None:
    """The route a request takes, or None (see the module's docstring for the order of preference)."""
    best: tuple[tuple[int, int, int, bool, bool], Route] | None = None
    for route in routes:
        if route.method != method or route.pattern.match(path) is None:
            continue
        literal = route.literal_query
        if any(key not in query or (value is not None and value not in query[key]) for key, value in literal):
            continue
        if any(key not in query for key in route.required_query):
            continue
        if any(name not in headers for name in route.required_headers):
            continue
        required = len(route.required_query) + len(route.required_headers)
        rank = (len(literal), required, route.literal_length, not route.deprecated, not route.express)
        if best is None or rank > best[0]:
            best = (rank, route)
    return best[1] if best else None


def rest_params(
    route: Route, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> dict[str, Any]:
    """The members a request carries in its URI, query string and headers, as the boto3 call names them."""
    found = route.pattern.match(path)
    assert found is not None, f"{path} is not a path of {route.operation.name}"
    params: dict[str, Any] = {
        name: unquote(value) for name, value in zip(route.labels, found.groups(), strict=True)
    }
    for name, member in _members(route.operation.input_shape).items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "querystring" and wire_name in query:
            values = query[wire_name]
            params[name] = values if member.type_name == "list" else _scalar(member, values[0])
        elif location == "header" and wire_name.lower() in headers:
            value = headers[wire_name.lower()]
            params[name] = _copy_source(value) if name == "CopySource" else _scalar(member, value)
        elif location == "headers":
            prefix = wire_name.lower()
            given = {key[len(prefix) :]: value for key, value in headers.items() if key.startswith(prefix)}
            if given:
                params[name] = given
    return params


def body_params(route: Route, body: bytes) -> dict[str, Any]:
    """A rest-json request's JSON body as members (under the payload member when it has one)."""
    document = json_object(body, f"{route.operation.name}'s body")
    payload = (
        route.operation.input_shape.serialization.get("payload") if route.operation.input_shape else None
    )
    return {payload: document} if payload else dict(document)


def json_object(body: bytes, where: str) -> dict[str, Any]:
    """A JSON body's members; a body that is not a JSON object cannot be read as the call's members."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise UnknownOperationError(f"{where}: the body is not a JSON object; send the input as one")
    return document


def _copy_source(value: str) -> dict[str, str]:
    """S3's ``x-amz-copy-source`` (``[/]bucket/key[?versionId=v]``, url-encoded) as boto3's dict."""
    source, _, query = value.partition("?")
    bucket, _, key = unquote(source).lstrip("/").partition("/")
    copy = {"Bucket": bucket, "Key": key}
    version = dict(parse_qsl(query)).get("versionId")
    return copy | {"VersionId": version} if version else copy


def _scalar(member: Shape, value: str) -> Any:
    if member.type_name in ("integer", "long"):
        return int(value) if value.lstrip("-").isdigit() else value
    if member.type_name == "boolean":
        return value.lower() == "true"
    return value


def _members(shape: Shape | None) -> dict[str, Shape]:
    return dict(getattr(shape, "members", {}) or {})
