"""One of the platform's Lambda functions: code asset, shared dependency layer, own role and log group."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.lambda_packaging import dependency_layer_code, function_code
from stacks.constructs.nag import acknowledge, acknowledge_rule, wildcard_reason
from stacks.constructs.scanners import justify

RUNTIME = lambda_.Runtime.PYTHON_3_14
METRICS_NAMESPACE = "MLOpsPlatform"
_LAYER_ID = "PlatformDependencies"


def service_name(folder: str) -> str:
    """The Powertools service of the function built from ``lambdas/<folder>``: a dimension of its metrics."""
    return folder.replace("_", "-")


def dependency_layer(scope: Construct, architecture: lambda_.Architecture) -> lambda_.ILayerVersion:
    """The stack's one layer of pinned runtime dependencies (``lambdas/requirements.txt``)."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(_LAYER_ID)
    if isinstance(existing, lambda_.LayerVersion):
        return existing
    return lambda_.LayerVersion(
        stack,
        _LAYER_ID,
        code=dependency_layer_code(architecture=architecture, runtime=RUNTIME),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[architecture],
        description="Pinned runtime dependencies of the platform's functions (lambdas/requirements.txt).",
    )


@dataclass(frozen=True)
class Invocation:
    """Who invokes a function and how, which decides where an invocation that fails for good ends up.

    ``caller`` names the caller and what it does with an error or a throttle, as a phrase that
    completes "invoked by ...". An asynchronous caller hands the event to Lambda's own queue: what
    still fails after Lambda's retries goes to ``dead_letter_queue``. A synchronous caller receives
    every error itself and has none.
    """

    caller: str
    dead_letter_queue: sqs.IQueue | None = None

    @classmethod
    def synchronous(cls, caller: str) -> Invocation:
        """Invoked and waited for by ``caller``, which receives every error and throttle."""
        return cls(caller=caller)

    @classmethod
    def asynchronous(cls, rule: str, dead_letter_queue: sqs.IQueue) -> Invocation:
        """Handed to Lambda's queue by an EventBridge ``rule``; what still fails goes to the queue."""
        # What Lambda does by default with an asynchronous invocation that is throttled or fails.
        caller = (
            f"{rule}, asynchronously: Lambda retries a throttled event for up to 6 hours and a failed "
            "one twice, then keeps it in the dead-letter queue"
        )
        return cls(caller=caller, dead_letter_queue=dead_letter_queue)


class PlatformFunction(Construct):
    """A function built from ``lambdas/<folder>/`` with the runtime packages and generated files.

    Its own role writes to its own encrypted log group only (not AWSLambdaBasicExecutionRole, a managed
    policy that may write to any log group); callers grant it the rest. Its environment is encrypted
    with the platform's key; the checkov checks that do not apply to it are skipped with their reason
    (``_justify``). ``wildcard_only_actions`` are granted on "*", the only resource AWS decides them on
    (each one of ``nag.WILDCARD_ONLY_ACTIONS``, whose reason the acknowledgment gives).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        description: str,
        key: kms.IKey,
        architecture: lambda_.Architecture,
        log_retention: logs.RetentionDays,
        environment: dict[str, str],
        invocation: Invocation,
        generated_files: dict[str, str] | None = None,
        memory_mb: int = 1024,
        timeout: cdk.Duration | None = None,
        ephemeral_storage_gb: int | None = None,
        wildcard_only_actions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            encryption_key=key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=architecture,
            handler="handler.handler",
            code=function_code(folder, generated_files=generated_files),
            layers=[dependency_layer(self, architecture)],
            memory_size=memory_mb,
            timeout=timeout or cdk.Duration.minutes(1),
            ephemeral_storage_size=cdk.Size.gibibytes(ephemeral_storage_gb) if ephemeral_storage_gb else None,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            dead_letter_queue=invocation.dead_letter_queue,
            environment_encryption=key,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": service_name(folder),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )

        queue = invocation.dead_letter_queue
        if queue is not None and queue.encryption_master_key is not None:
            # CDK grants sqs:SendMessage only; Lambda also needs the queue's key to send to it.
            queue.encryption_master_key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        self._justify(invocation)

        if wildcard_only_actions:
            self.role.add_to_policy(iam.PolicyStatement(actions=list(wildcard_only_actions), resources=["*"]))
        # Active tracing grants the X-Ray writes, which exist on "*" only (as do wildcard_only_actions).
        tracing = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        acknowledge(self.role, resources={"*": wildcard_reason([*tracing, *wildcard_only_actions])})

    def _justify(self, invocation: Invocation) -> None:
        """Skip the checkov checks that do not apply to this function, each with its reason."""
        justify(
            self.function,
            "CKV_AWS_117",
            "Not in a VPC: the function calls only AWS service APIs (over TLS, signed with its role) and "
            "reaches no resource inside a network; the platform has no VPC, and one would add NAT or "
            "interface endpoints for every service called without protecting anything.",
        )
        justify(
            self.function,
            "CKV_AWS_115",
            "No reserved concurrency: Lambda refuses a reservation that leaves the account fewer than "
            "100 unreserved executions (a new account's quota is 10), so reserving can fail the deploy, "
            "and a reservation takes capacity from every other function in the account. The function is "
            f"invoked by {invocation.caller}.",
        )
        if invocation.dead_letter_queue is None:
            justify(
                self.function,
                "CKV_AWS_116",
                f"Invoked synchronously by {invocation.caller}: Lambda sends only failed asynchronous "
                "invocations to a dead-letter queue, so one here would never receive anything.",
            )

    def acknowledge(
        self, *, resources: dict[str, str] | None = None, actions: dict[str, str] | None = None
    ) -> None:
        """Acknowledge cdk-nag's wildcard findings on this function's role (granted values, reasons)."""
        acknowledge(self.role, resources=resources, actions=actions)


def dead_letter_queue(scope: Construct, construct_id: str, *, key: kms.IKey, of: str) -> sqs.Queue:
    """An encrypted, TLS-only queue: the events a rule could not deliver, or its function failed on."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    acknowledge_rule(queue, "AwsSolutions-SQS3", f"This queue is itself the dead-letter queue of {of}.")
    return queue


def rule_target(function: lambda_.IFunction, dead_letter_queue: sqs.IQueue) -> targets.LambdaFunction:
    """An EventBridge rule's target that invokes ``function``: two retries over six hours, then the queue.

    The same queue takes what Lambda itself gives up on (``Invocation.asynchronous``), so one queue holds
    every event the function never handled.
    """
    return targets.LambdaFunction(
        function, retry_attempts=2, max_event_age=cdk.Duration.hours(6), dead_letter_queue=dead_letter_queue
    )
