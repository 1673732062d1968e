"""A Step Functions state machine as the platform runs every workflow: timeout, KMS logs, tracing."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constructs.nag import acknowledge, wildcard_reason

# What Step Functions grants its role for logging to CloudWatch Logs and tracing: all on "*" only.
_LOGGING_AND_TRACING = [
    *("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery"),
    *("logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"),
    "logs:DescribeLogGroups",
    *(
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    ),
]


def logged_state_machine(
    scope: Construct,
    definition: sfn.IChainable,
    *,
    key: kms.IKey,
    log_retention: logs.RetentionDays,
    timeout: cdk.Duration,
    invokes: list[lambda_.IFunction],
    wildcard_only_actions: tuple[str, ...] = (),
) -> sfn.StateMachine:
    """``StateMachine`` under ``scope``: every event logged (with data) to a KMS-encrypted group, traced.

    Parameters
    ----------
    invokes
        The functions its tasks invoke (CDK grants each one, and any of its versions).
    wildcard_only_actions
        Actions its tasks add on "*" beyond logging and tracing (each one of ``nag.WILDCARD_ONLY_ACTIONS``).
    """
    log_group = logs.LogGroup(
        scope,
        "ExecutionLogs",
        retention=log_retention,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
    )
    acknowledge(
        machine.role,
        resources={
            "*": wildcard_reason([*_LOGGING_AND_TRACING, *wildcard_only_actions]),
            **{f"{f.function_arn}:*": "Any version of a function that a task invokes." for f in invokes},
        },
    )
    return machine


def grant_start_once(machine: sfn.StateMachine, grantee: iam.IGrantable) -> str:
    """Let ``grantee`` start executions of ``machine`` and look one up by name (to start it only once).

    Not ``StateMachine.grant_read``, which adds ``states:DescribeStateMachine`` and activity reads on "*".
    Returns the executions' ARN, for the acknowledgment of its wildcard.
    """
    machine.grant_start_execution(grantee)
    executions = cdk.Stack.of(machine).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{machine.state_machine_name}:*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
    )
    return executions
