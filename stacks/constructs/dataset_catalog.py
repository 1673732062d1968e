"""The dataset catalog: one record per accepted dataset version."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


class DatasetCatalog(Construct):
    """A DynamoDB table keyed by dataset name and content hash (SHA-256 of the uploaded bytes).

    The key makes a dataset version's identity its content: the conditional write that records a
    version succeeds once, however often the same bytes are uploaded or the same event delivered.
    """

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self.table = platform_table(
            self, "Table", partition="dataset", sort="version", key=key, retain=retain
        )


def platform_table(
    scope: Construct, construct_id: str, *, partition: str, sort: str, key: kms.IKey, retain: bool
) -> dynamodb.Table:
    """A table as the platform keeps its records: on demand, the platform's key, PITR, retained if asked."""
    # Table, not TableV2: TableV2 with a customer-managed key cannot synthesize region-agnostic stacks.
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=retain,
        removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
    )
