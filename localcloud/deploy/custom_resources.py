"""CDK's own custom resources, applied by the local cloud instead of by their provider Lambda.

Their providers are CDK's code, not the project's, and some are Node.js functions that the local
cloud cannot run. Each has one well-defined effect, applied here with the same API call its provider
makes, once the stack's resources exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Clients = Callable[[str], Any]


def apply_bucket_notifications(client: Clients, properties: dict[str, Any]) -> None:
    """``Custom::S3BucketNotifications`` (``Bucket(event_bridge_enabled=True)``, ``add_event_notification``).

    The provider puts the configuration on the bucket; for a bucket the stack does not own
    (``Managed: false``) it keeps the notifications that others configured.
    """
    s3 = client("s3")
    bucket = properties["BucketName"]
    incoming = dict(properties.get("NotificationConfiguration") or {})
    if str(properties.get("Managed", "true")).lower() != "true":
        existing = s3.get_bucket_notification_configuration(Bucket=bucket)
        for kind in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations"):
            merged = [n for n in existing.get(kind, []) if n not in incoming.get(kind, [])] + incoming.get(
                kind, []
            )
            if merged:
                incoming[kind] = merged
        if "EventBridgeConfiguration" in existing and "EventBridgeConfiguration" not in incoming:
            incoming["EventBridgeConfiguration"] = existing["EventBridgeConfiguration"]
    skip = str(properties.get("SkipDestinationValidation", "false")).lower() == "true"
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=incoming, SkipDestinationValidation=skip
    )


def apply_log_retention(client: Clients, properties: dict[str, Any]) -> None:
    """``Custom::LogRetention`` (the ``log_retention`` prop of functions): create the group, set retention."""
    logs = client("logs")
    group = properties["LogGroupName"]
    if not logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups"):
        logs.create_log_group(logGroupName=group)
    days = properties.get("RetentionInDays")
    if days in (None, "", "Infinity"):
        logs.delete_retention_policy(logGroupName=group)
    else:
        logs.put_retention_policy(logGroupName=group, retentionInDays=int(days))


def apply_nothing(client: Clients, properties: dict[str, Any]) -> None:
    """For providers that only act when the stack is deleted (``Custom::S3AutoDeleteObjects``)."""


LOCAL_PROVIDERS: dict[str, Callable[[Clients, dict[str, Any]], None]] = {
    "Custom::S3BucketNotifications": apply_bucket_notifications,
    "Custom::LogRetention": apply_log_retention,
    "Custom::S3AutoDeleteObjects": apply_nothing,
}
