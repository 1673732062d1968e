"""The platform's event bus and alert topic."""

from __future__ import annotations

import json

from adapters.aws import client
from domain.alerts import alert_message, alert_subject
from domain.data.ingestion import DatasetVersion
from domain.events import DatasetVersionAccepted


class NotifyError(Exception):
    """An event or alert could not be published."""


class AlertTopic:
    """Alerts on the platform's SNS topic (a function that only alerts is granted only that)."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def alert(self, subject: str, message: str) -> None:
        """Publish an alert; the subject and message are made to fit what SNS takes (``domain.alerts``)."""
        client("sns").publish(
            TopicArn=self.topic_arn, Subject=alert_subject(subject), Message=alert_message(message)
        )


class PlatformNotifier(AlertTopic):
    """Publishes lifecycle events on the platform's bus and alerts on its SNS topic."""

    def __init__(self, bus_name: str, topic_arn: str) -> None:
        super().__init__(topic_arn)
        self.bus_name = bus_name

    def dataset_accepted(self, version: DatasetVersion) -> None:
        """Publish "Dataset Version Accepted" with the version's catalog record as its detail."""
        event = DatasetVersionAccepted(version.dataset, version.version, version.to_item())
        response = client("events").put_events(
            Entries=[
                {
                    "Source": event.KIND.source,
                    "DetailType": event.KIND.detail_type,
                    "Detail": json.dumps(event.to_detail(), default=str),
                    "EventBusName": self.bus_name,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise NotifyError(f"EventBridge refused the event: {response['Entries']}")
