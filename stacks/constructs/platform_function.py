"""One of the platform's Lambda functions: code asset, shared dependency layer, own role and log group."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.lambda_packaging import dependency_layer_code, function_code

RUNTIME = lambda_.Runtime.PYTHON_3_14
METRICS_NAMESPACE = "MLOpsPlatform"
_LAYER_ID = "PlatformDependencies"


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


class PlatformFunction(Construct):
    """A function built from ``lambdas/<folder>/`` with the runtime packages and generated files.

    Its own role writes to its own encrypted log group only (not AWSLambdaBasicExecutionRole, a managed
    policy that may write to any log group); callers grant it the rest.
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
        generated_files: dict[str, str] | None = None,
        memory_mb: int = 1024,
        timeout: cdk.Duration | None = None,
        ephemeral_storage_gb: int | None = None,
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
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": folder.replace("_", "-"),
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )

    def acknowledge_wildcards(self, reasons: dict[str, str]) -> None:
        """Acknowledge cdk-nag's granular IAM5 findings on this function's role, one reason each."""
        for finding, reason in reasons.items():
            cdk.Validations.of(self.role).acknowledge(
                cdk.Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
            )


def dead_letter_queue(scope: Construct, construct_id: str, *, key: kms.IKey, of: str) -> sqs.Queue:
    """An encrypted, TLS-only queue for the events that a rule could not deliver to its function."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-SQS3", reason=f"This queue is itself the dead-letter queue of {of}."
        )
    )
    return queue
