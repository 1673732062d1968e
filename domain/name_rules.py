"""AWS's rules for the names the platform gives resources and requests, each with the page that states it.

The names themselves are built in :mod:`domain.names`; :mod:`domain.platform_names` checks, at synth,
the longest name each builder can produce against these rules. moto checks none of them, so a name AWS
refuses would fail only in a real account, after whatever ran before the call (a whole training job,
for a model package group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ALARM",
    "DASHBOARD",
    "ENDPOINT",
    "ENDPOINT_CONFIG",
    "EVENT_BUS",
    "EXECUTION",
    "MODEL",
    "MODEL_CARD",
    "MODEL_PACKAGE_GROUP",
    "RULES",
    "S3_KEY",
    "SAGEMAKER_MAX",
    "SCHEDULE",
    "STACK",
    "TRAINING_JOB",
    "NameRule",
]

SAGEMAKER_MAX = 63
_SAGEMAKER_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
_SAGEMAKER_TEXT = "1 to 63 letters, digits and hyphens, starting and ending with a letter or digit"


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts for one kind of name.

    Attributes
    ----------
    resource : str
        What the name names, in words ("SageMaker model package group").
    service, operation, member : str
        Where AWS checks it: botocore's service name, the API action and its request member.
    max_length : int
        At most this many characters (``unit="characters"``) or UTF-8 bytes (``unit="bytes"``).
    allowed : str
        The rule in words, for messages.
    reference : str
        The page of AWS's documentation that states the rule.
    pattern : str or None
        A regular expression the whole name must match.
    forbidden : str or None
        A regular expression of characters the name must not contain.
    unit : {"characters", "bytes"}
    """

    resource: str
    service: str
    operation: str
    member: str
    max_length: int
    allowed: str
    reference: str
    pattern: str | None = None
    forbidden: str | None = None
    unit: Literal["characters", "bytes"] = "characters"

    def problem(self, name: str) -> str | None:
        """What makes ``name`` unacceptable to AWS (e.g. "is 70 characters"), or None if it is valid."""
        size = len(name.encode()) if self.unit == "bytes" else len(name)
        if size == 0:
            return "is empty"
        if size > self.max_length:
            return f"is {size} {self.unit}, more than {self.max_length}"
        if self.pattern is not None and re.fullmatch(self.pattern, name) is None:
            if name.endswith("-"):
                return "ends in a hyphen"
            return "has characters or a shape that are not allowed"
        if self.forbidden is not None and (found := re.search(self.forbidden, name)):
            return f"contains {found.group()!r}, which is not allowed"
        return None


def _sagemaker(resource: str, operation: str, member: str, pattern: str = _SAGEMAKER_PATTERN) -> NameRule:
    return NameRule(
        resource=resource,
        service="sagemaker",
        operation=operation,
        member=member,
        max_length=SAGEMAKER_MAX,
        allowed=_SAGEMAKER_TEXT,
        reference=f"https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_{operation}.html",
        pattern=pattern,
    )


# CreateModelPackageGroup: ModelPackageGroupName, 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
MODEL_PACKAGE_GROUP = _sagemaker(
    "SageMaker model package group", "CreateModelPackageGroup", "ModelPackageGroupName"
)
# CreateModelCard: ModelCardName, 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
MODEL_CARD = _sagemaker("SageMaker model card", "CreateModelCard", "ModelCardName")
# CreateTrainingJob: TrainingJobName, 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
TRAINING_JOB = _sagemaker("SageMaker training job", "CreateTrainingJob", "TrainingJobName")
# CreateModel: ModelName, 0-63, [a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])? (the same names as the others)
MODEL = _sagemaker("SageMaker model", "CreateModel", "ModelName", r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?")
# CreateEndpointConfig: EndpointConfigName, 0-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
ENDPOINT_CONFIG = _sagemaker("SageMaker endpoint configuration", "CreateEndpointConfig", "EndpointConfigName")
# CreateEndpoint: EndpointName, 0-63, [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
ENDPOINT = _sagemaker("SageMaker endpoint", "CreateEndpoint", "EndpointName")
# StartExecution: name, 1-80, none of: whitespace, brackets, wildcards, "#%\^|~`$&,;:/, control
# characters (U+0000-001F, U+007F-009F, U+FFFE-FFFF), surrogates, U+10FFFF.
EXECUTION = NameRule(
    resource="Step Functions execution",
    service="stepfunctions",
    operation="StartExecution",
    member="name",
    max_length=80,
    allowed="1 to 80 characters without whitespace, brackets, wildcards, special or control characters",
    reference="https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html",
    forbidden=r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff\U0010ffff]",
)
# PutMetricAlarm: AlarmName, 1-255 UTF-8 characters without ASCII control characters. (SageMaker's
# rollback alarms, AutoRollbackConfiguration, also refuse a name of only whitespace: API_Alarm.html.)
ALARM = NameRule(
    resource="CloudWatch alarm",
    service="cloudwatch",
    operation="PutMetricAlarm",
    member="AlarmName",
    max_length=255,
    allowed="1 to 255 characters without ASCII control characters, not only whitespace",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
    pattern=r"(?!\s*$).+",
    forbidden=r"[\x00-\x1f\x7f]",
)
# PutDashboard: DashboardName, at most 255 of A-Z, a-z, 0-9, "-" and "_" (the member's documentation says so;
# the API model carries no limits for it).
DASHBOARD = NameRule(
    resource="CloudWatch dashboard",
    service="cloudwatch",
    operation="PutDashboard",
    member="DashboardName",
    max_length=255,
    allowed="1 to 255 letters, digits, hyphens and underscores",
    reference="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    pattern=r"[A-Za-z0-9_-]+",
)
# Object keys: at most 1,024 bytes of UTF-8.
S3_KEY = NameRule(
    resource="S3 object key",
    service="s3",
    operation="PutObject",
    member="Key",
    max_length=1024,
    allowed="1 to 1,024 bytes of UTF-8",
    reference="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html",
    unit="bytes",
)
# CreateStack: StackName, 1-128, alphanumeric and hyphens, starting with a letter.
STACK = NameRule(
    resource="CloudFormation stack",
    service="cloudformation",
    operation="CreateStack",
    member="StackName",
    max_length=128,
    allowed="1 to 128 letters, digits and hyphens, starting with a letter",
    reference="https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html",
    pattern=r"[a-zA-Z][-a-zA-Z0-9]*",
)
# CreateEventBus: Name, 1-256, [/\.\-_A-Za-z0-9]+
EVENT_BUS = NameRule(
    resource="EventBridge event bus",
    service="events",
    operation="CreateEventBus",
    member="Name",
    max_length=256,
    allowed="1 to 256 letters, digits and . - _ /",
    reference="https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html",
    pattern=r"[/\.\-_A-Za-z0-9]+",
)
# CreateSchedule: Name, 1-64, [0-9a-zA-Z-_.]+
SCHEDULE = NameRule(
    resource="EventBridge Scheduler schedule",
    service="scheduler",
    operation="CreateSchedule",
    member="Name",
    max_length=64,
    allowed="1 to 64 letters, digits, hyphens, underscores and periods",
    reference="https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html",
    pattern=r"[0-9a-zA-Z-_.]+",
)

RULES = (
    MODEL_PACKAGE_GROUP,
    MODEL_CARD,
    TRAINING_JOB,
    MODEL,
    ENDPOINT_CONFIG,
    ENDPOINT,
    EXECUTION,
    ALARM,
    DASHBOARD,
    S3_KEY,
    STACK,
    EVENT_BUS,
    SCHEDULE,
)
