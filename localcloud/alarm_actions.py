"""CloudWatch alarm actions: an alarm that changes state notifies the SNS topics of its new state's actions.

moto stores ``AlarmActions``, ``OKActions`` and ``InsufficientDataActions`` and runs none. Here every
state change of a metric alarm (``SetAlarmState``, or the local evaluation of ``localcloud/alarms.py``:
``alarm_states`` calls ``run_actions``) with ``ActionsEnabled`` publishes CloudWatch's notification to
each SNS topic among the actions of the new state, as CloudWatch does: the JSON message of an alarm
notification (``AlarmName``, ``NewStateValue``, ``NewStateReason``, ``StateChangeTime``, ``Region``,
``AlarmArn``, ``OldStateValue``, ``Trigger``...), subject ``ALARM: "<name>" in <Region>`` (the
region's long name, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html;
a name too long for SNS's subject cut).

CloudWatch publishes as ``cloudwatch.amazonaws.com`` for the alarm (``aws:SourceArn``), so the topic's
policy must let that principal publish and, for an encrypted topic, its key's policy must let it use the
key (``sns_encryption``). An action that cannot run is not retried: the alarm's history records
"Failed to execute action <arn>" with the error (an ``Action`` item, which ``DescribeAlarmHistory``
returns here, as on AWS), and it is logged. Actions other than SNS topics (Auto Scaling, EC2, Systems
Manager) are not run locally.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
from moto.cloudwatch.models import cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)
from moto.core.responses import ActionResult

from localcloud.patches import Patch
from localcloud.sns_encryption import Publisher
from localcloud.sns_publish import MAX_SUBJECT_CHARACTERS, publish_as

logger = logging.getLogger(__name__)

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
_STATISTICS = {"SampleCount": "SAMPLE_COUNT"}  # the others are upper-cased as they are


def patches() -> list[Patch]:
    """Answer ``DescribeAlarmHistory`` from the alarm's history, the actions run here included."""
    return [Patch(CloudWatchResponse, "describe_alarm_history", _describe_alarm_history)]


def run_actions(alarm: Any, old_state: str) -> None:
    """Notify the SNS topics among the actions of the alarm's (new) state; record each outcome."""
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }.get(str(alarm.state_value)) or []
    for action in actions:
        if ":sns:" not in action:
            logger.info("alarm %s: the local cloud does not run action %s", alarm.name, action)
            continue
        message = notification(alarm, old_state)
        publisher = Publisher(service=CLOUDWATCH_PRINCIPAL, source_arn=alarm.alarm_arn)
        refused = publish_as(publisher, action, json.dumps(message), subject(alarm))
        if refused is not None:  # this action fails, not the state change
            logger.warning("alarm %s: failed to execute action %s: %s", alarm.name, action, refused.message)
            _record(alarm, action, "Failed", error=f"{refused.code}: {refused.message}")
            continue
        _record(alarm, action, "Succeeded", published=message)


def notification(alarm: Any, old_state: str) -> dict[str, Any]:
    """The JSON message CloudWatch publishes for an alarm's state change."""
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
        **(
            {"ExtendedStatistic": alarm.extended_statistic}
            if alarm.extended_statistic
            else {"Statistic": _STATISTICS.get(alarm.statistic, str(alarm.statistic or "").upper())}
        ),
        "Unit": alarm.unit,
        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
        "Period": int(alarm.period or 0),
        "EvaluationPeriods": int(alarm.evaluation_periods or 0),
        **({"DatapointsToAlarm": int(alarm.datapoints_to_alarm)} if alarm.datapoints_to_alarm else {}),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold) if alarm.threshold is not None else None,
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    }
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": str(alarm.alarm_arn).split(":")[4],
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": cloudwatch_time(alarm.state_updated_timestamp),
        "Region": region_name(alarm.region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": trigger,
    }


def subject(alarm: Any) -> str:
    """``ALARM: "<name>" in <Region>``, as CloudWatch's notifications are titled.

    An alarm's name may have 255 characters and SNS takes fewer than 100 in a subject, yet CloudWatch
    notifies whatever the name: a name too long for the subject is cut, ending in ``...``.
    """
    state, region = alarm.state_value, region_name(alarm.region_name)
    room = MAX_SUBJECT_CHARACTERS - len(f'{state}: "" in {region}')
    name = alarm.name if len(alarm.name) <= room else f"{alarm.name[: max(room - 3, 0)]}..."
    return f'{state}: "{name}" in {region}'


@functools.cache
def region_name(region: str) -> str:
    """The region's long name (``US East (N. Virginia)``), which CloudWatch's notifications show."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    for partition in endpoints["partitions"]:
        described = partition["regions"].get(region)
        if described:
            return str(described.get("description", region))
    return region


def _record(
    alarm: Any, action: str, outcome: str, *, published: Any = None, error: str | None = None
) -> None:
    """An ``Action`` item of the alarm's history, as CloudWatch writes one."""
    now = moto_utils.utcnow()
    verb = "Successfully executed" if outcome == "Succeeded" else "Failed to execute"
    data = {
        "actionState": outcome,
        "stateUpdateTimestamp": int(now.replace(tzinfo=UTC).timestamp() * 1000),
        "notificationResource": action,
        "publishedMessage": json.dumps(published) if published is not None else None,
        **({"error": error} if error is not None else {}),
    }
    alarm.history.append(("Action", f"{verb} action {action}", json.dumps(data), alarm.state_value, now))


def _describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    """``DescribeAlarmHistory``: the history moto keeps (state updates) and the actions run here."""
    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    alarms = cloudwatch_backends[self.current_account][self.region].alarms
    items = [
        {
            "AlarmName": alarm.name,
            "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
            "Timestamp": timestamp,
            "HistoryItemType": item_type,
            "HistorySummary": summary if item_type == "Action" else f"Alarm updated from {state}",
            "HistoryData": data if item_type == "Action" else json.dumps({"oldState": {"stateValue": state}}),
        }
        for alarm in alarms.values()
        if not name or alarm.name == name
        for item_type, summary, data, state, timestamp in alarm.history
        if not kind or item_type == kind
    ]
    items.sort(key=lambda item: item["Timestamp"], reverse=self._get_param("ScanBy") != "TimestampAscending")
    return ActionResult({"AlarmHistoryItems": items})


def cloudwatch_time(moment: datetime | None) -> str | None:
    """CloudWatch's notification time format: ``2026-12-06T08:00:00.000+0000``."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
