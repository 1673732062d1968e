"""CloudWatch alarm states as CloudWatch keeps them, and what a change of state sets off.

moto creates every alarm in ``OK`` and replaces an alarm that ``PutMetricAlarm`` updates with a new one,
in ``OK`` again and without its history. CloudWatch does neither (PutMetricAlarm, "When this operation
creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA ... When you update an existing
alarm, its state is left unchanged, but the update completely overwrites the previous configuration",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html; the same for
PutCompositeAlarm, which moto does not have). Here:

- an alarm is created in ``INSUFFICIENT_DATA`` ("Unchecked: Initial alarm creation"), whether through
  the API or through CloudFormation (``deploy/fixups.py`` puts alarms through the API); its first
  evaluation (``localcloud/alarms.py``) then sets its state, and the actions of that state run;
- an update keeps the state, its reason and time, and the alarm's history;
- every change of state (``SetAlarmState`` or an evaluation; setting the state an alarm is already in
  changes nothing) runs the new state's actions when ``ActionsEnabled`` (``alarm_actions``: AlarmActions
  on a change to ``ALARM``, OKActions to ``OK``, InsufficientDataActions to ``INSUFFICIENT_DATA``, "from
  any other state", https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html)
  and, whatever ``ActionsEnabled`` says, sends the "CloudWatch Alarm State Change" event to the default
  bus, in the shape CloudWatch documents
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).

Not sent locally: the "CloudWatch Alarm Configuration Change" events of creations, updates and deletions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.core import utils as moto_utils  # its utcnow is the clock (moto_times)

from localcloud.alarm_actions import cloudwatch_time, run_actions
from localcloud.events.default_bus import send_to_default_bus
from localcloud.patches import Patch

INITIAL_STATE = "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"
STATE_CHANGE = "CloudWatch Alarm State Change"
_KEPT_ON_UPDATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")


@dataclass(frozen=True)
class AlarmState:
    """One state of an alarm, as the state-change event shows it."""

    value: str
    reason: str
    reason_data: str | None
    timestamp: datetime

    @classmethod
    def of(cls, alarm: Any) -> AlarmState:
        """The state ``alarm`` (moto's ``Alarm``) is in."""
        return cls(
            value=str(alarm.state_value),
            reason=str(alarm.state_reason),
            reason_data=alarm.state_reason_data,
            timestamp=alarm.state_updated_timestamp,
        )

    def described(self) -> dict[str, Any]:
        """``state`` / ``previousState`` of the event: ``reasonData`` only when the state has some."""
        reason_data = self.reason_data if self.reason_data not in (None, "", "{}") else None
        return {
            "reason": self.reason,
            **({"reasonData": reason_data} if reason_data is not None else {}),
            "timestamp": cloudwatch_time(self.timestamp),
            "value": self.value,
        }


def patches() -> list[Patch]:
    """Create alarms in ``INSUFFICIENT_DATA``, keep the state on update, act on every change of state."""
    original_put = CloudWatchBackend.put_metric_alarm
    original_update = Alarm.update_state

    def put_metric_alarm(backend: CloudWatchBackend, *args: Any, **kwargs: Any) -> Alarm:
        # moto's PutMetricAlarm response passes every member by keyword; a direct caller may not.
        existing = backend.alarms.get(str(kwargs["name"] if "name" in kwargs else args[0]))
        alarm = original_put(backend, *args, **kwargs)
        if existing is None:
            alarm.state_value, alarm.state_reason = INITIAL_STATE, INITIAL_REASON
            alarm.state_reason_data, alarm.state_updated_timestamp = "{}", moto_utils.utcnow()
        else:
            for name in _KEPT_ON_UPDATE:
                setattr(alarm, name, getattr(existing, name))
        return alarm

    def update_state(alarm: Alarm, reason: str, reason_data: str, state_value: str) -> None:
        previous = AlarmState.of(alarm)
        original_update(alarm, reason, reason_data, state_value)
        if state_value == previous.value:
            return
        send_to_default_bus(
            str(alarm.alarm_arn).split(":")[4],
            alarm.region_name,
            state_change_event(alarm, previous),
            about=f"alarm {alarm.alarm_arn}",
        )
        if alarm.actions_enabled:
            run_actions(alarm, previous.value)

    return [
        Patch(CloudWatchBackend, "put_metric_alarm", put_metric_alarm),
        Patch(Alarm, "update_state", update_state),
    ]


def state_change_event(alarm: Any, previous: AlarmState) -> dict[str, Any]:
    """CloudWatch's "CloudWatch Alarm State Change" event for ``alarm`` (in its new state)."""
    arn = str(alarm.alarm_arn)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": STATE_CHANGE,
        "source": "aws.cloudwatch",
        "account": arn.split(":")[4],
        # moto keeps event times as Unix seconds; deliveries write ISO 8601
        "time": alarm.state_updated_timestamp.replace(tzinfo=UTC).timestamp(),
        "region": alarm.region_name,
        "resources": [arn],
        "detail": {
            "alarmName": alarm.name,
            "configuration": configuration(alarm),
            "previousState": previous.described(),
            "state": AlarmState.of(alarm).described(),
        },
    }


def configuration(alarm: Any) -> dict[str, Any]:
    """The event's ``configuration``: the composite alarm's rule, or the metrics the alarm evaluates."""
    described: dict[str, Any] = {"description": alarm.description} if alarm.description else {}
    if alarm.rule:
        return described | {"alarmRule": alarm.rule}
    if alarm.metric_data_queries:
        return described | {"metrics": [_query(query) for query in alarm.metric_data_queries]}
    stat = {
        "metric": {
            "dimensions": {d.name: d.value for d in alarm.dimensions},
            "name": alarm.metric_name,
            "namespace": alarm.namespace,
        },
        "period": int(alarm.period or 0),
        "stat": alarm.extended_statistic or alarm.statistic,
        **({"unit": alarm.unit} if alarm.unit else {}),
    }
    # A single-metric alarm's metric has an id of CloudWatch's making: stable per alarm here.
    metric_id = str(uuid.uuid5(uuid.NAMESPACE_URL, str(alarm.alarm_arn)))
    return described | {"metrics": [{"id": metric_id, "metricStat": stat, "returnData": True}]}


def _query(query: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"id": query.id}
    if query.expression:
        described["expression"] = query.expression
    if query.label:
        described["label"] = query.label
    if query.metric_stat is not None:
        metric = query.metric_stat.metric
        described["metricStat"] = {
            "metric": {
                "dimensions": {d.name: d.value for d in metric.dimensions},
                "name": metric.metric_name,
                "namespace": metric.namespace,
            },
            "period": int(query.metric_stat.period or 0),
            "stat": query.metric_stat.stat,
            **({"unit": query.metric_stat.unit} if query.metric_stat.unit else {}),
        }
    described["returnData"] = str(query.return_data).lower() != "false"
    return described
