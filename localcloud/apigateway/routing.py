"""Which API, stage, resource and method a request to a stage URL reaches, read from moto's models.

Resources match as API Gateway matches them: a literal path part before a ``{parameter}``, a parameter
before a greedy ``{proxy+}`` (which takes the rest of the path, one part or more); a trailing slash is
ignored. A resource without the request's method falls back to its ``ANY`` method. A stage serves the
API's resources and methods as they are now, not as its deployment snapshotted them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.apigateway.models import apigateway_backends


@dataclass(frozen=True)
class Api:
    """A REST API found in moto, with where it lives."""

    account_id: str
    region: str
    model: Any  # moto's RestAPI


@dataclass(frozen=True)
class Route:
    """The resource and method a request reaches."""

    resource: Any  # moto's Resource
    method: Any  # moto's Method
    resource_path: str  # the resource's template, ``/items/{id}``
    path_parameters: dict[str, str]


def find_api(api_id: str) -> Api | None:
    """The REST API with this id, in any account and region of moto."""
    for account_id, regions in list(apigateway_backends.items()):
        for region, backend in list(regions.items()):
            api = backend.apis.get(api_id)
            if api is not None:
                return Api(account_id, region, api)
    return None


def find_route(api: Any, path: str, http_method: str) -> Route | None:
    """The resource of ``api`` that ``path`` (decoded, from ``/``) reaches and its method, if any."""
    parts = [part for part in path.split("/") if part]
    best: tuple[tuple[int, ...], Any, str, dict[str, str]] | None = None
    for resource in list(api.resources.values()):
        template = resource.get_path()
        matched = _match([p for p in template.split("/") if p], parts)
        if matched is None:
            continue
        rank, parameters = matched
        if best is None or rank < best[0]:
            best = (rank, resource, template, parameters)
    if best is None:
        return None
    _, resource, template, parameters = best
    method = resource.resource_methods.get(http_method) or resource.resource_methods.get("ANY")
    if method is None:
        return None
    return Route(resource, method, template, parameters)


def _match(template: list[str], parts: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    # The rank orders candidates as API Gateway prefers them: per part, literal (0) < parameter (1) <
    # greedy (2); the smallest tuple wins.
    rank: list[int] = []
    parameters: dict[str, str] = {}
    for index, pattern in enumerate(template):
        if pattern.startswith("{") and pattern.endswith("+}"):
            if index != len(template) - 1 or index >= len(parts):
                return None
            parameters[pattern[1:-2]] = "/".join(parts[index:])
            return (*rank, 2), parameters
        if index >= len(parts):
            return None
        if pattern.startswith("{") and pattern.endswith("}"):
            parameters[pattern[1:-1]] = parts[index]
            rank.append(1)
        elif pattern == parts[index]:
            rank.append(0)
        else:
            return None
    if len(template) != len(parts):
        return None
    return tuple(rank), parameters
