"""A Step Functions state machine as the platform runs every workflow: timeout, KMS logs, tracing."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct


def logged_state_machine(
    scope: Construct,
    definition: sfn.IChainable,
    *,
    key: kms.IKey,
    log_retention: logs.RetentionDays,
    timeout: cdk.Duration,
) -> sfn.StateMachine:
    """``StateMachine`` under ``scope``: every event logged (with data) to a KMS-encrypted group, traced."""
    log_group = logs.LogGroup(
        scope,
        "ExecutionLogs",
        retention=log_retention,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
    )
