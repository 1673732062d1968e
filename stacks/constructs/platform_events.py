"""The platform's own event bus and its alert topic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from domain.events import EventKind

# What a publisher of an encrypted topic needs on its key: SNS encrypts each message as the publisher
# ("Enable compatibility between event sources from AWS services and encrypted topics",
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
TOPIC_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]


def rule_pattern(kind: EventKind, detail: Mapping[str, Any] | None = None) -> events.EventPattern:
    """The pattern of a rule that matches ``kind``'s events (``domain.events``) and ``detail``'s filters."""
    pattern = kind.pattern(detail)
    return events.EventPattern(
        source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern.get("detail")
    )


class PlatformEvents(Construct):
    """Where the platform says what happened: lifecycle events on a bus, alerts on an SNS topic.

    Later stages subscribe to the bus ("dataset version accepted" starts training); people and
    on-call tools subscribe to the topic. The platform's roles publish with ``Topic.grant_publish``
    (which grants the key too); CloudWatch alarms of this account named ``<project>-*`` publish as their
    service (the alarms live in the stateless stacks: a pattern, not their ARNs, so that this stack never
    refers to them; an unnamed alarm's generated name starts with its stack's, ``<project>-...``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        bus_name: str,
        key: kms.IKey,
        alert_emails: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name, kms_key=key)
        # EventBridge encrypts the bus's events with the key only if its service principal may use it.
        key.grant_encrypt_decrypt(iam.ServicePrincipal("events.amazonaws.com"))
        self.alerts = sns.Topic(
            self,
            "Alerts",
            display_name="MLOps platform alerts",
            master_key=key,
            enforce_ssl=True,
        )
        for email in alert_emails:
            self.alerts.add_subscription(subscriptions.EmailSubscription(email))
        stack = cdk.Stack.of(self)
        self.allow_service_publisher(
            key,
            service="cloudwatch.amazonaws.com",
            source_arn=stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=f"{project}-*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
        )

    def allow_service_publisher(self, key: kms.IKey, *, service: str, source_arn: str) -> None:
        """Let an AWS service publish to the alert topic for this account's resources matching ``source_arn``.

        A service publishing for itself has no role: the topic's policy must allow it (CDK's policy,
        written for ``enforce_ssl``, replaces SNS's default one that let the account's sources in) and so
        must the key's policy. Both are held to this account and to the service's own resources
        (``aws:SourceAccount``, ``aws:SourceArn``: the confused deputy; AWS's Modern Data Architecture
        Accelerator conditions CloudWatch's grant the same way, in grantCloudWatchAlarmsTopicAccess). Not
        for EventBridge, whose requests to KMS carry neither key.
        """
        account = cdk.Stack.of(self).account
        conditions = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": source_arn},
        }
        principal = iam.ServicePrincipal(service)
        self.alerts.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["sns:Publish"],
                resources=[self.alerts.topic_arn],
                conditions=conditions,
            )
        )
        # The key policy cannot name the topic: the topic refers to the key, and CloudFormation refuses
        # the cycle. The conditions keep the grant to the service's publishing for this account.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal], actions=TOPIC_KEY_ACTIONS, resources=["*"], conditions=conditions
            )
        )
