"""Whether a function's resource-based policy lets an AWS service invoke it.

On AWS, EventBridge (and S3, SNS...) can invoke a function only if the function's policy allows the
service principal, usually for one source ARN: CDK adds that ``AWS::Lambda::Permission`` beside every
target. Checking it locally catches a missing permission before it fails on AWS.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from localcloud.roles import as_list

_INVOKE_ACTIONS = {"lambda:InvokeFunction", "lambda:*", "*"}
_SOURCE_ARN_OPERATORS = ("ArnLike", "ArnEquals", "StringLike", "StringEquals")


def allows_service(function: Any, *, service: str, source_arn: str) -> bool:
    """True if ``function``'s policy allows ``service`` to invoke it on behalf of ``source_arn``.

    Parameters
    ----------
    function : Any
        moto's ``LambdaFunction``.
    service : str
        The service principal, such as ``events.amazonaws.com``.
    source_arn : str
        The resource the invocation comes from, such as an EventBridge rule ARN.
    """
    for statement in function.policy.statements:
        if statement.get("Effect", "Allow") != "Allow" or statement.get("Action") not in _INVOKE_ACTIONS:
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else principal
        if service not in as_list(services) and "*" not in as_list(services):
            continue
        if _source_matches(statement.get("Condition") or {}, source_arn):
            return True
    return False


def _source_matches(condition: dict[str, Any], source_arn: str) -> bool:
    patterns = [
        pattern
        for operator in _SOURCE_ARN_OPERATORS
        for key, value in (condition.get(operator) or {}).items()
        if key.lower() == "aws:sourcearn"
        for pattern in as_list(value)
    ]
    return not patterns or any(fnmatchcase(source_arn, pattern) for pattern in patterns)
