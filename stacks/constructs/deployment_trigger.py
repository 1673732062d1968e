"""What starts a deployment: an approval of one of the platform's model versions.

An EventBridge rule ("SageMaker Model Package State Change", Approved, in one of the platform's model
package groups) invokes a small Lambda that starts the deployment workflow with an execution named after
the approval: the same approval twice is one deployment. An event the function cannot take lands, after
EventBridge's and Lambda's retries, in a dead-letter queue.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from domain import names
from domain.events import ModelPackageStateChange
from stacks.constructs.platform_events import rule_pattern
from stacks.constructs.platform_function import Invocation, PlatformFunction, dead_letter_queue, rule_target
from stacks.constructs.workflow import grant_start_once


class DeploymentTrigger:
    """The approval rule, the start function and their dead-letter queue, built under ``scope``.

    They are built in their owner's scope (the deployment construct), not a scope of their own, so that
    they keep the logical IDs they had in a deployed stack (a new ID would replace the dead-letter queue,
    and the events waiting in it would be lost).

    Parameters
    ----------
    project
        The platform's name: its model package groups are ``names.group_prefix(project)`` and more.
    state_machine
        The deployment workflow the function starts.
    generated_files
        Files written into the function's asset (``PlatformFunction``'s ``generated_files``).

    Attributes
    ----------
    dead_letters, start, rule
        The queue, the start function and the approval rule.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        project: str,
        state_machine: sfn.StateMachine,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
        generated_files: dict[str, str],
    ) -> None:
        group_prefix = names.group_prefix(project)
        self.dead_letters = dead_letter_queue(
            scope, "DeadLetters", key=key, of="the deployment trigger and the start function"
        )
        self.start = PlatformFunction(
            scope,
            "Start",
            folder="deployment_start",
            description="Starts one deployment per approval of a model version.",
            key=key,
            architecture=architecture,
            log_retention=log_retention,
            generated_files=generated_files,
            environment={
                "PROJECT": project,
                "MODEL_PACKAGE_GROUP_PREFIX": group_prefix,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
            },
            invocation=Invocation.asynchronous("the deployment trigger rule", self.dead_letters),
        )
        executions = grant_start_once(state_machine, self.start.function)
        packages = cdk.Stack.of(scope).format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{group_prefix}*"
        )
        self.start.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[packages])
        )
        self.start.acknowledge(
            resources={
                executions: "It looks up this state machine's executions by name (duplicates).",
                packages: "It reads the approved package, in this platform's model package groups only.",
            }
        )
        self.rule = events.Rule(
            scope,
            "OnModelApproved",
            description="Deploy every approved version of the platform's models.",
            event_pattern=rule_pattern(
                ModelPackageStateChange.KIND,
                {"ModelPackageGroupName": [{"prefix": group_prefix}], "ModelApprovalStatus": ["Approved"]},
            ),
            targets=[rule_target(self.start.function, self.dead_letters)],
        )
