"""The foundation: what the platform keeps (key, data, catalog, deployment and policy records, bus, topic).

It is the stateful stack, deployed first and never replaced: termination protection is on and every
store keeps the retention policy of ``retain_data``. The stateless stacks (validation, training,
serving, and monitoring to come) find its resources through exports with fixed names
(``<project>-foundation:<output>``), never through CDK's generated ones, so that compute is destroyed
and redeployed without touching data, and an export's name is the same in every synth.

Nothing here refers to a resource of a stateless stack: the key's and the topic's policies let AWS
services in by ARN patterns (alarms named ``<project>-*``), and the stateless roles carry their own
grants in identity policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from domain import names
from stacks.config import PlatformConfig
from stacks.constructs.data_bucket import DataBucket
from stacks.constructs.dataset_catalog import DatasetCatalog, platform_table
from stacks.constructs.encryption import PlatformKey
from stacks.constructs.platform_events import PlatformEvents

# Each value the stateless stacks import, by output key (the output is also the export, by name).
KEY_ARN = "KeyArn"
DATA_BUCKET_NAME = "DataBucketName"
CATALOG_TABLE_NAME = "CatalogTableName"
DEPLOYMENTS_TABLE_NAME = "DeploymentsTableName"
DECISIONS_TABLE_NAME = "DecisionsTableName"
EVENT_BUS_NAME = "EventBusName"
ALERTS_TOPIC_ARN = "AlertsTopicArn"


def foundation_stack_name(project: str) -> str:
    """The foundation's stack name, which also prefixes its export names."""
    return names.stack_name(project, names.FOUNDATION)


def export_name(project: str, output: str) -> str:
    """The export of one of the foundation's outputs: ``<project>-foundation:<output>``, fixed."""
    return f"{foundation_stack_name(project)}:{output}"


@dataclass(frozen=True)
class Foundation:
    """What a stateless stack is given of the foundation: the stack (to deploy after) and its exports.

    The values are ``Fn::ImportValue`` of fixed export names; ``SharedResources`` turns them into
    constructs inside the importing stack.
    """

    stack: cdk.Stack
    project: str

    def imported(self, output: str) -> str:
        """The value of the foundation's ``output``, imported by its fixed export name."""
        return cdk.Fn.import_value(export_name(self.project, output))


class FoundationStack(cdk.Stack):
    """The stateful stack: key, data bucket and logs, catalog, deployment and decision tables, bus, topic."""

    def __init__(self, scope: Construct, *, config: PlatformConfig, **kwargs: object) -> None:
        project = config.project
        super().__init__(
            scope,
            foundation_stack_name(project),
            termination_protection=True,
            **kwargs,  # type: ignore[arg-type]
        )
        retain = config.retain_data
        self.encryption = PlatformKey(self, "Encryption", alias=f"alias/{project}", retain=retain)
        key = self.encryption.key
        self.data = DataBucket(
            self,
            "Data",
            key=key,
            retain=retain,
            noncurrent_version_transition_days=config.noncurrent_version_transition_days,
            noncurrent_version_expiration_days=config.noncurrent_version_expiration_days,
            access_log_expiration_days=config.access_log_expiration_days,
        )
        self.catalog = DatasetCatalog(self, "Catalog", key=key, retain=retain)
        # Each endpoint's lock and record of deployments: a record of what happened, so state.
        self.deployments = platform_table(
            self, "Deployments", partition="endpoint", sort="record", key=key, retain=retain
        )
        # The retraining policy's state per dataset and every decision it made: a record, so state.
        self.decisions = platform_table(
            self, "Decisions", partition="dataset", sort="record", key=key, retain=retain
        )
        self.events = PlatformEvents(
            self,
            "Events",
            project=project,
            bus_name=names.event_bus_name(project),
            key=key,
            alert_emails=config.alert_emails,
        )
        exported = {
            KEY_ARN: key.key_arn,
            DATA_BUCKET_NAME: self.data.bucket.bucket_name,
            CATALOG_TABLE_NAME: self.catalog.table.table_name,
            DEPLOYMENTS_TABLE_NAME: self.deployments.table_name,
            DECISIONS_TABLE_NAME: self.decisions.table_name,
            EVENT_BUS_NAME: self.events.bus.event_bus_name,
            ALERTS_TOPIC_ARN: self.events.alerts.topic_arn,
        }
        for output, value in exported.items():
            cdk.CfnOutput(self, output, value=value, export_name=export_name(project, output))
        self.exports = Foundation(stack=self, project=project)


class SharedResources:
    """The foundation's resources as constructs of ``scope``'s stack, imported by their export names.

    Grants on them go to the grantee's identity policy only: an imported resource's own policy is never
    changed, so no stateless stack can make the foundation refer to it.
    """

    def __init__(self, scope: Construct, foundation: Foundation) -> None:
        self.key = kms.Key.from_key_arn(scope, "PlatformKey", foundation.imported(KEY_ARN))
        self.data_bucket = s3.Bucket.from_bucket_attributes(
            scope, "DataBucket", bucket_name=foundation.imported(DATA_BUCKET_NAME), encryption_key=self.key
        )
        self.catalog = dynamodb.Table.from_table_attributes(
            scope, "Catalog", table_name=foundation.imported(CATALOG_TABLE_NAME), encryption_key=self.key
        )
        self.deployments = dynamodb.Table.from_table_attributes(
            scope,
            "Deployments",
            table_name=foundation.imported(DEPLOYMENTS_TABLE_NAME),
            encryption_key=self.key,
        )
        self.decisions = dynamodb.Table.from_table_attributes(
            scope,
            "Decisions",
            table_name=foundation.imported(DECISIONS_TABLE_NAME),
            encryption_key=self.key,
        )
        self.bus: events.IEventBus = events.EventBus.from_event_bus_name(
            scope, "Bus", foundation.imported(EVENT_BUS_NAME)
        )
        self.alerts: sns.ITopic = sns.Topic.from_topic_attributes(
            scope, "Alerts", topic_arn=foundation.imported(ALERTS_TOPIC_ARN), key_arn=self.key.key_arn
        )
