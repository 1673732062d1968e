"""EventBridge Scheduler's execution roles: what every schedule of the platform is run as."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct


def schedule_role(scope: Construct, construct_id: str, *, description: str) -> iam.Role:
    """A role EventBridge Scheduler assumes for this account's schedules in the default group only.

    A schedule of another account, or of another group, cannot pass it (the confused deputy). The caller
    grants it what its schedules' targets need (an invocation, a queue, the key of the payload).
    """
    stack = cdk.Stack.of(scope)
    group = stack.format_arn(
        service="scheduler",
        resource="schedule-group",
        resource_name="default",
        arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
    )
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": group}},
        ),
        description=description,
    )
