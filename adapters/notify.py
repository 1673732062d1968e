"""The platform's event bus and alert topic."""

from __future__ import annotations

import json

from adapters.aws import client
from domain.ingestion import DatasetVersion

EVENT_SOURCE = "mlops.data"
DATASET_ACCEPTED = "Dataset Version Accepted"


class NotifyError(Exception):
    """An event or alert could not be published."""


class PlatformNotifier:
    """Publishes lifecycle events on the platform's bus and alerts on its SNS topic."""

    def __init__(self, bus_name: str, topic_arn: str) -> None:
        self.bus_name = bus_name
        self.topic_arn = topic_arn

    def dataset_accepted(self, version: DatasetVersion) -> None:
        """Publish "Dataset Version Accepted" with the version's catalog record as its detail."""
        response = client("events").put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DATASET_ACCEPTED,
                    "Detail": json.dumps(version.to_item(), default=str),
                    "EventBusName": self.bus_name,
                    "Resources": [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise NotifyError(f"EventBridge refused the event: {response['Entries']}")

    def alert(self, subject: str, message: str) -> None:
        """Publish an alert (SNS subjects are at most 100 characters)."""
        client("sns").publish(TopicArn=self.topic_arn, Subject=subject[:100], Message=message)
