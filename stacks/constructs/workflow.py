"""A Step Functions state machine as the platform runs every workflow: timeout, KMS logs, tracing."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.constructs.nag import acknowledge, cdk_grant_reasons, wildcard_reason
from stacks.workflow_limits import THROTTLE_RETRY, Retry

# What Lambda answers a task it cannot run now (throttled, or a fault of its own): retried by every step.
LAMBDA_THROTTLING = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
]

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
    publishes_to: list[sns.ITopic],
    wildcard_only_actions: tuple[str, ...] = (),
) -> sfn.StateMachine:
    """``StateMachine`` under ``scope``: every event logged (with data) to a KMS-encrypted group, traced.

    Parameters
    ----------
    invokes
        The functions its tasks invoke (CDK grants each one, and any of its versions).
    publishes_to
        The topics its ``announcement`` steps publish to. ``SnsPublish`` grants ``sns:Publish`` only;
        ``Topic.grant_publish`` also grants the topic's key (``kms:GenerateDataKey*``, ``kms:Decrypt``),
        without which SNS refuses to encrypt the message (``KMSAccessDenied``).
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
    for topic in publishes_to:
        topic.grant_publish(machine)
    if publishes_to:
        acknowledge(
            machine.role,
            actions={
                "kms:GenerateDataKey*": cdk_grant_reasons("encrypting its alerts")["kms:GenerateDataKey*"]
            },
        )
    acknowledge(
        machine.role,
        resources={
            "*": wildcard_reason([*_LOGGING_AND_TRACING, *wildcard_only_actions]),
            **{f"{f.function_arn}:*": "Any version of a function that a task invokes." for f in invokes},
        },
    )
    return machine


def announcement(
    scope: Construct,
    construct_id: str,
    *,
    topic: sns.ITopic,
    subject: str,
    message: sfn.TaskInput,
    then: sfn.State,
) -> sfn.Chain:
    """Publish ``message`` on ``topic``, then go on to ``then``, whether the publish succeeded or not.

    An alert reports what a workflow did; it is not part of it. A registration or a deployment that
    succeeded must not end FAILED (nor a failed one end with another cause) because its alert could not
    be sent: a failed publish goes on to ``then`` with SNS's error at ``$.alert_error`` in the output
    (and its ``TaskFailed`` event in the execution's log). Give the state machine the topic in
    ``logged_state_machine``'s ``publishes_to``.
    """
    task = tasks.SnsPublish(
        scope,
        construct_id,
        topic=topic,
        subject=subject,
        message=message,
        result_path=sfn.JsonPath.DISCARD,
    )
    task.add_catch(then, result_path="$.alert_error")
    return task.next(then)


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


def retry(task: sfn.TaskStateBase, errors: list[str], timing: Retry) -> None:
    """Retry ``errors`` as ``timing`` says (the timings the history bound is computed from)."""
    task.add_retry(
        errors=errors,
        interval=cdk.Duration.seconds(timing.interval_seconds),
        max_attempts=timing.max_attempts,
        backoff_rate=timing.backoff_rate,
    )


def lambda_step(
    scope: Construct,
    construct_id: str,
    function: lambda_.IFunction,
    *,
    result_path: str,
    payload: sfn.TaskInput | None = None,
) -> tasks.LambdaInvoke:
    """A task that invokes ``function`` and keeps its result at ``result_path``, retrying Lambda's throttles.

    ``retry_on_service_exceptions`` is off: CDK's default retry would add a second policy for the same
    errors, with other timings than the ones the history bound counts.
    """
    task = tasks.LambdaInvoke(
        scope,
        construct_id,
        lambda_function=function,
        payload=payload,
        payload_response_only=True,
        result_path=result_path,
        retry_on_service_exceptions=False,
    )
    retry(task, LAMBDA_THROTTLING, THROTTLE_RETRY)
    return task
