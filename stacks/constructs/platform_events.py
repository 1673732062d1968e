"""The platform's own event bus and its alert topic."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class PlatformEvents(Construct):
    """Where the platform says what happened: lifecycle events on a bus, alerts on an SNS topic.

    Later stages subscribe to the bus ("dataset version accepted" starts training); people and
    on-call tools subscribe to the topic.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, bus_name: str, key: kms.IKey, alert_emails: list[str]
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
