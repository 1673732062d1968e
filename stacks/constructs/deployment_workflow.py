"""The deployment workflow: one Step Functions execution per approval puts the version on its endpoint.

``Prepare`` (Lambda: the endpoint's lock, or wait; a newer approval supersedes; model, endpoint
configuration with data capture and KMS, create the endpoint or update it blue/green with canary or
linear traffic shifting and rollback on the endpoint's alarms) → ``Settled?`` (Wait / DescribeEndpoint /
Choice) → ``Finish`` (Lambda: what the endpoint really runs, the outcome on the model package and in the
deployments table, lock released) → announced on the alert topic. Any error → ``Finish`` with the error
(recorded as failed, lock released) → alert → Fail.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from domain.deployment import endpoint, steps
from domain.deployment.request import INPUT_FIELDS
from stacks.config import DeploymentInfraConfig
from stacks.constructs.nag import acknowledge
from stacks.constructs.platform_function import PlatformFunction
from stacks.constructs.workflow import announcement, lambda_step, logged_state_machine, retry
from stacks.workflow_limits import DESCRIBE_RETRY, PREPARE_RETRY


class DeploymentWorkflow:
    """The deployment state machine, its states and its execution logs, built under ``scope``.

    They are built in their owner's scope (the deployment construct), not a scope of their own, so that
    the state machine and its log group keep the logical IDs they had in a deployed stack (a new ID
    would replace the state machine, and with it every execution's history).

    Parameters
    ----------
    project
        The platform's name: the endpoints it watches are ``<project>-*``.
    prepare_function, finish_function
        The ``Prepare`` and ``Finish`` (and ``RecordFailure``) steps.
    alerts
        The topic its announcements publish to.

    Attributes
    ----------
    state_machine
        The workflow; an execution's input is the deployment request (its keys: ``INPUT_FIELDS``).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        project: str,
        prepare_function: PlatformFunction,
        finish_function: PlatformFunction,
        alerts: sns.ITopic,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        settings: DeploymentInfraConfig,
    ) -> None:
        endpoints = cdk.Stack.of(scope).format_arn(
            service="sagemaker", resource="endpoint", resource_name=f"{project}-*"
        )
        failed = sfn.Fail(scope, "Failed", error="DeploymentFailed", cause_path="$.outcome.reason")
        rolled_back = sfn.Fail(
            scope, "RolledBack", error="DeploymentRolledBack", cause_path="$.outcome.reason"
        )
        unrecorded = sfn.Fail(
            scope, "Unrecorded", error="DeploymentFailed", cause_path="$.finish_error.Cause"
        )

        def announce(name: str, subject: str, then: sfn.State) -> sfn.Chain:
            return announcement(
                scope,
                name,
                topic=alerts,
                subject=subject,
                then=then,
                message=sfn.TaskInput.from_object(
                    {
                        "endpoint": sfn.JsonPath.string_at("$.endpoint"),
                        "version": sfn.JsonPath.number_at("$.version"),
                        "outcome": sfn.JsonPath.string_at("$.outcome.status"),
                        "reason": sfn.JsonPath.string_at("$.outcome.reason"),
                        "deployment": sfn.JsonPath.string_at("$$.Execution.Name"),
                    }
                ),
            )

        alert_unrecorded = announcement(
            scope,
            "AlertUnrecorded",
            topic=alerts,
            subject="Deployment failed and could not be recorded",
            message=sfn.TaskInput.from_object(
                {
                    "deployment": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "error": sfn.JsonPath.string_at("$.finish_error.Error"),
                    "cause": sfn.JsonPath.string_at("$.finish_error.Cause"),
                }
            ),
            then=unrecorded,
        )

        def payload(*extra: str) -> sfn.TaskInput:
            return sfn.TaskInput.from_object(
                {
                    "request": {field: sfn.JsonPath.object_at(f"$.{field}") for field in INPUT_FIELDS},
                    "deployment": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
                    **{name: sfn.JsonPath.object_at(f"$.{name}") for name in extra},
                }
            )

        def step(
            name: str, handler: PlatformFunction, task_payload: sfn.TaskInput, result_path: str
        ) -> tasks.LambdaInvoke:
            return lambda_step(scope, name, handler.function, payload=task_payload, result_path=result_path)

        record_failure = step("RecordFailure", finish_function, payload("prepare", "error"), "$.outcome")
        record_failure.add_catch(alert_unrecorded, result_path="$.finish_error")
        announce_failed = announce("AnnounceFailed", "Deployment failed", failed)
        record_failure.next(announce_failed)

        # The Prepare result it stands for until the first call: the domain's document for "pending".
        pending = steps.Prepared(steps.PENDING).to_state()
        start = sfn.Pass(scope, "Begin", result=sfn.Result.from_object(pending), result_path="$.prepare")
        # Its previous result comes back to it: a failed endpoint being deleted is carried across waits.
        prepare = step("Prepare", prepare_function, payload("prepare"), "$.prepare")
        retry(prepare, ["DeploymentTableError", "EndpointError", "RegistryError"], PREPARE_RETRY)
        prepare.add_catch(record_failure, result_path="$.error")
        wait_lock = sfn.Wait(
            scope,
            "WaitForEndpoint",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(settings.lock_wait_seconds)),
        )
        wait_update = sfn.Wait(
            scope, "WaitForUpdate", time=sfn.WaitTime.duration(cdk.Duration.seconds(settings.poll_seconds))
        )
        describe = tasks.CallAwsService(
            scope,
            "DescribeEndpoint",
            service="sagemaker",
            action="describeEndpoint",
            parameters={"EndpointName": sfn.JsonPath.string_at("$.endpoint")},
            iam_resources=[endpoints],
            iam_action="sagemaker:DescribeEndpoint",
            result_selector={"status.$": "$.EndpointStatus", "config.$": "$.EndpointConfigName"},
            result_path="$.endpoint_state",
        )
        retry(
            describe, ["SageMaker.SageMakerException", "SageMaker.AmazonSageMakerException"], DESCRIBE_RETRY
        )
        describe.add_catch(record_failure, result_path="$.error")
        finish = step("Finish", finish_function, payload("prepare"), "$.outcome")
        finish.add_catch(record_failure, result_path="$.error")
        outcome = (
            sfn.Choice(scope, "Outcome?")
            .when(
                sfn.Condition.string_equals("$.outcome.status", endpoint.DEPLOYED),
                announce("AnnounceDeployed", "Model version deployed", sfn.Succeed(scope, "Deployed")),
            )
            .when(
                sfn.Condition.string_equals("$.outcome.status", endpoint.SUPERSEDED),
                sfn.Succeed(scope, "Superseded"),
            )
            .when(
                sfn.Condition.string_equals("$.outcome.status", endpoint.ROLLED_BACK),
                announce("AnnounceRolledBack", "Deployment rolled back", rolled_back),
            )
            .otherwise(announce_failed)
        )
        settled = (
            sfn.Choice(scope, "Settled?")
            .when(
                sfn.Condition.or_(
                    *(
                        sfn.Condition.string_equals("$.endpoint_state.status", status)
                        for status in sorted(endpoint.SETTLING)
                    )
                ),
                wait_update,
            )
            .otherwise(finish.next(outcome))
        )
        wait_update.next(describe).next(settled)
        prepared = (
            sfn.Choice(scope, "Endpoint taken?")
            .when(sfn.Condition.string_equals("$.prepare.status", steps.WAITING), wait_lock.next(prepare))
            .when(sfn.Condition.string_equals("$.prepare.status", steps.SUPERSEDED), finish)
            .otherwise(wait_update)
        )
        definition = start.next(prepare).next(prepared)
        machine = logged_state_machine(
            scope,
            definition,
            key=key,
            log_retention=log_retention,
            timeout=cdk.Duration.minutes(settings.timeout_minutes),
            invokes=[prepare_function.function, finish_function.function],
            publishes_to=[alerts],
        )
        acknowledge(
            machine.role,
            resources={endpoints: "It watches the platform's endpoints settle."},
        )
        self.state_machine = machine
