"""The data bucket where uploads land and dataset versions live, with its access-log bucket."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.constructs.nag import acknowledge_rule
from stacks.constructs.scanners import justify

INCOMING_PREFIX = "incoming/"
DATASETS_PREFIX = "datasets/"
QUARANTINE_PREFIX = "quarantine/"


def key_through_s3(scope: Construct, key: kms.IKey) -> iam.PolicyStatement:
    """The platform key's use by S3 on behalf of a role that reads and writes the data bucket's objects.

    The objects are SSE-KMS with the platform's key: reading one decrypts its data key, writing one makes a
    data key. Only through S3 (``kms:ViaService``): the role cannot use the key directly.
    """
    stack = cdk.Stack.of(scope)
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:GenerateDataKey"],
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.{stack.url_suffix}"}},
    )


class DataBucket(Construct):
    """A versioned, KMS-encrypted, TLS-only bucket that tells EventBridge about every new object.

    Lifecycle rules never touch current objects: the platform never deletes what a user uploaded.
    Noncurrent versions (an upload overwritten under the same key) move to Glacier Instant Retrieval
    and are expired only when the configuration asks for it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        retain: bool,
        noncurrent_version_transition_days: int,
        noncurrent_version_expiration_days: int | None,
        access_log_expiration_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging delivers only to buckets encrypted with S3-managed keys.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=cdk.Duration.days(access_log_expiration_days),
                    noncurrent_version_expiration=cdk.Duration.days(1),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=removal,
            auto_delete_objects=False,
        )
        acknowledge_rule(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging its own access would loop.",
        )
        justify(
            self.access_logs,
            "CKV_AWS_18",
            "This bucket receives the data bucket's server access logs: logging its own access into "
            "itself would log every log delivery, and logging it elsewhere needs one more bucket with the "
            "same finding. Reads of the logs are recorded by CloudTrail data events where the account "
            "enables them.",
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="noncurrent-versions",
                    noncurrent_version_transitions=[
                        s3.NoncurrentVersionTransition(
                            storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                            transition_after=cdk.Duration.days(noncurrent_version_transition_days),
                        )
                    ],
                    noncurrent_version_expiration=(
                        cdk.Duration.days(noncurrent_version_expiration_days)
                        if noncurrent_version_expiration_days
                        else None
                    ),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
            ],
            removal_policy=removal,
        )
        # EventBridge notifications through CloudFormation's own property: `event_bridge_enabled=True`
        # would instead add CDK's BucketNotificationsHandler, a Lambda function whose role carries the
        # managed AWSLambdaBasicExecutionRole (logs on "*") and which exists only to make this one call.
        bucket = self.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
