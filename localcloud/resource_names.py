"""Resource names that AWS refuses, refused here too, before moto (or another patch) acts on them.

moto 5.2.5 checks no SageMaker name and no CloudWatch alarm name: ``CreateModelPackageGroup`` takes
``mlops-churn-`` or 85 characters, which SageMaker answers with a ``ValidationException``. Each name
member of the calls the platform makes is checked here against the length and pattern of the API
reference (the page is cited beside each), and a request that breaks one is answered as AWS answers it:
HTTP 400, ``ValidationException`` (SageMaker) or ``ValidationError`` (CloudWatch), "1 validation error
detected: Value 'x' at 'modelPackageGroupName' failed to satisfy constraint: Member must satisfy regular
expression pattern: ...".

The check wraps the services' dispatch (``call_action``), so it runs before any patched action
(``sagemaker.service``, ``sagemaker.endpoints``, ``sagemaker.model_packages``) and before moto's own;
the Step Functions integration and CloudFormation deployments (alarms are put through the API by
``deploy.fixups``) go through the same dispatch. Step Functions execution names are checked in
``stepfunctions.executions``.

Each limit and pattern is the one :mod:`domain.name_rules` states (and the platform's synth-time check
applies): a rule is written once. What keeps it AWS's, not merely the platform's, is
``tests/unit/test_resource_name_checks.py``, which holds every check here to botocore's API model. Only
what the platform's rules do not cover is written here: a model package group named by its ARN, and
PutMetricAlarm's pattern form of the alarm rule's forbidden characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from moto.cloudwatch.exceptions import ValidationError as CloudWatchValidationError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError
from moto.sagemaker.responses import SageMakerResponse

from domain import name_rules as rules
from domain.name_rules import NameRule
from localcloud.errors import constraint_failure, validation_errors
from localcloud.patches import Patch

__all__ = ["CHECKS", "NameCheck", "patches", "problems"]


@dataclass(frozen=True)
class NameCheck:
    """One name member of a request: at most ``max_length`` characters matching ``pattern``.

    ``member`` is the member's path in the request: ``A.B`` for a member of a structure, ``A[]`` for each
    item of a list (``ProductionVariants[].VariantName``).
    """

    member: str
    max_length: int
    pattern: str
    min_length: int = 1

    def failures(self, request: Callable[[str], Any]) -> Iterator[tuple[str, str, str]]:
        """(value, AWS's path of the member, the constraint it breaks) for each value that breaks it."""
        parts = self.member.split(".")
        top = parts[0].removesuffix("[]")
        for value, path in _values({top: request(top)}, parts, ""):
            if not isinstance(value, str):
                continue  # absent (optional), or not a string: moto's parser and the SDK deal with that
            if len(value) > self.max_length:
                yield value, path, f"Member must have length less than or equal to {self.max_length}"
            elif len(value) < self.min_length:
                yield value, path, f"Member must have length greater than or equal to {self.min_length}"
            elif re.fullmatch(self.pattern, value) is None:
                yield value, path, f"Member must satisfy regular expression pattern: ^{self.pattern}$"


def _values(node: Any, parts: list[str], path: str) -> Iterator[tuple[Any, str]]:
    """The values at ``parts`` below ``node``, with their paths as AWS writes them (``a.1.member.b``)."""
    if not parts:
        yield node, path
        return
    key = parts[0].removesuffix("[]")
    child = node.get(key) if isinstance(node, dict) else None
    where = f"{path}.{key[:1].lower()}{key[1:]}" if path else f"{key[:1].lower()}{key[1:]}"
    if not parts[0].endswith("[]"):
        yield from _values(child, parts[1:], where)
        return
    for index, item in enumerate(child if isinstance(child, list) else [], start=1):
        yield from _values(item, parts[1:], f"{where}.{index}.member")


def _check(member: str, rule: NameRule) -> NameCheck:
    """``member`` held to ``rule``'s limit and pattern (:mod:`domain.name_rules`, which cites AWS's page)."""
    if rule.pattern is None:
        raise ValueError(f"{rule.resource}: the rule has no pattern for a request's member to match")
    return NameCheck(member, rule.max_length, rule.pattern)


# A model package group by name or by ARN (CreateModelPackage takes either).
_GROUP_NAME_OR_ARN: Final = (
    r"(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)"
)

_ROLLBACK_ALARMS: Final = _check("DeploymentConfig.AutoRollbackConfiguration.Alarms[].AlarmName", rules.ALARM)

# Each name member of the calls the platform makes, with the rule of domain.name_rules AWS applies to
# it. Package and variant names are not the platform's (it names neither), but SageMaker's API
# reference gives them the same rule as the names it gives: 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}.
CHECKS: Final[dict[str, dict[str, tuple[NameCheck, ...]]]] = {
    "sagemaker": {
        "CreateModelPackageGroup": (_check("ModelPackageGroupName", rules.MODEL_PACKAGE_GROUP),),
        # ModelPackageGroupName: 1-170, a name or ARN (above); ModelPackageName (unversioned packages),
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html
        "CreateModelPackage": (
            NameCheck("ModelPackageGroupName", 170, _GROUP_NAME_OR_ARN),
            _check("ModelPackageName", rules.MODEL_PACKAGE_GROUP),
        ),
        "CreateModel": (_check("ModelName", rules.MODEL),),
        # ProductionVariant's VariantName and ModelName,
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
        "CreateEndpointConfig": (
            _check("EndpointConfigName", rules.ENDPOINT_CONFIG),
            _check("ProductionVariants[].VariantName", rules.ENDPOINT_CONFIG),
            _check("ProductionVariants[].ModelName", rules.MODEL),
        ),
        # and the rollback alarms of its DeploymentConfig (ALARM: not only whitespace, API_Alarm.html)
        "CreateEndpoint": (
            _check("EndpointName", rules.ENDPOINT),
            _check("EndpointConfigName", rules.ENDPOINT_CONFIG),
            _ROLLBACK_ALARMS,
        ),
        # UpdateEndpoint: the same members and rules,
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html
        "UpdateEndpoint": (
            _check("EndpointName", rules.ENDPOINT),
            _check("EndpointConfigName", rules.ENDPOINT_CONFIG),
            _ROLLBACK_ALARMS,
        ),
        "CreateTrainingJob": (_check("TrainingJobName", rules.TRAINING_JOB),),
        "CreateModelCard": (_check("ModelCardName", rules.MODEL_CARD),),
    },
    "cloudwatch": {
        # PutMetricAlarm: AlarmName, rules.ALARM's 255 characters without ASCII control characters, in the
        # API's pattern form (CloudWatch's message for a control character is not documented),
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
        "PutMetricAlarm": (NameCheck("AlarmName", rules.ALARM.max_length, r"[^\x00-\x1f\x7f]+"),),
    },
}


def problems(service: str, action: str, request: Callable[[str], Any]) -> list[str]:
    """AWS's words for each name of the request that breaks a rule ("Value 'x' at 'y' failed ...")."""
    return [
        constraint_failure(value, path, constraint)
        for check in CHECKS.get(service, {}).get(action, ())
        for value, path, constraint in check.failures(request)
    ]


def patches() -> list[Patch]:
    """Name checks in front of SageMaker's and CloudWatch's dispatch."""
    return [
        Patch(SageMakerResponse, "call_action", _checked("sagemaker", SageMakerValidationError)),
        Patch(CloudWatchResponse, "call_action", _checked("cloudwatch", CloudWatchValidationError)),
    ]


def _checked(service: str, error: Callable[[str], ServiceException]) -> Callable[[BaseResponse], Any]:
    dispatch = BaseResponse.call_action

    def call_action(response: BaseResponse) -> Any:
        found = problems(service, response._get_action(), response._get_param)
        if not found:
            return dispatch(response)
        # As moto's dispatch answers an error an action raises (BaseResponse.call_action).
        status, headers, body = response.serialized(ActionResult(error(validation_errors(found))))
        headers["status"] = status
        status, headers, body = response._transform_response(response.response_headers, (body, headers))
        return (status, *response._enrich_response(headers, body))

    return call_action
