"""What may start a training run, read once from the event or the schedule payload that brings it.

============================  ======================================  =====================================
kind                          brought by                              key (the same occurrence: the same key)
============================  ======================================  =====================================
``accepted``                  "Dataset Version Accepted"              the version
``drift_alarm``               "CloudWatch Alarm State Change" to      ``<alarm>@<when it entered ALARM>``
``performance_alarm``         ALARM, of the dataset's alarms          (one key per alarm episode)
``run_ended``                 "Step Functions Execution Status        the execution's ARN
                              Change" of the training pipeline
``schedule``                  the configured schedule's payload       ``schedule@<scheduled time>``
``deferred``                  the deferral schedule's payload         ``deferred@<scheduled time>``
============================  ======================================  =====================================

The two schedules' payloads are built here (:func:`schedule_payload`, :func:`deferral_payload`) so that the
stack, the policy's adapter and this reader agree on them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from domain.events import AlarmStateChange, DatasetVersionAccepted, EventDetailError, ExecutionStatusChange
from domain.names import PipelineRunError
from domain.state_limits import cap_text
from domain.training.runs import parse_execution_name, parse_run

__all__ = [
    "SCHEDULED_TIME",
    "PolicyTrigger",
    "PolicyTriggerKind",
    "TriggerError",
    "deferral_payload",
    "iso",
    "parse_time",
    "schedule_payload",
    "trigger_from_event",
]

PolicyTriggerKind = Literal[
    "accepted", "drift_alarm", "performance_alarm", "schedule", "run_ended", "deferred"
]
#: What EventBridge Scheduler replaces with the time a schedule fired for.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
_DATASET = re.compile(r"[a-z][a-z0-9-]*")
_ALARM_WORDS = {"drift_alarm": "drift alarm", "performance_alarm": "performance alarm"}


class TriggerError(ValueError):
    """An event or payload the policy cannot read: the message names what is missing or wrong."""


def iso(moment: datetime) -> str:
    """``moment`` as ISO-8601 UTC with a ``Z`` (microseconds only when it has some)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: Any, what: str) -> datetime:
    """An ISO-8601 time (``Z``, ``+00:00`` or ``+0000``; UTC when it has no offset) as an aware UTC datetime.

    Raises
    ------
    TriggerError
        Naming ``what`` and the text, when it is not such a time.
    """
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise TriggerError(f"{what} is {text!r}, not an ISO-8601 time such as 2026-12-06T21:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class PolicyTrigger:
    """One occurrence of something that may start a run.

    Attributes
    ----------
    kind : PolicyTriggerKind
    dataset : str
    key : str
        Unique per occurrence: the same occurrence delivered twice has the same key (see the module's table).
    at : datetime
        Aware UTC: when it happened (the version's acceptance, the alarm's entry into ALARM, the scheduled
        time, the run's end).
    reason : str
        Plain words.
    dataset_version : str, optional
        ``accepted``: the version.
    upload_key : str, optional
        ``accepted``: the upload the version came from.
    run_name, run_status : str, optional
        ``run_ended``: the execution's name and its final status.
    """

    kind: PolicyTriggerKind
    dataset: str
    key: str
    at: datetime
    reason: str
    dataset_version: str | None = None
    upload_key: str | None = None
    run_name: str | None = None
    run_status: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(PolicyTriggerKind):
            raise TriggerError(
                f"unknown trigger kind {self.kind!r}; use one of {get_args(PolicyTriggerKind)}"
            )
        if self.at.tzinfo is None:
            raise TriggerError(f"the {self.kind} trigger's time {self.at} has no time zone; give it in UTC")
        if not self.key:
            raise TriggerError(f"the {self.kind} trigger has no key (what tells one occurrence from another)")
        if self.kind == "accepted" and not self.dataset_version:
            raise TriggerError("an accepted trigger needs the dataset version")


def schedule_payload(dataset: str) -> dict[str, str]:
    """The configured schedule's payload: ``{"kind": "schedule", "dataset", "scheduled_time"}``.

    ``scheduled_time`` is Scheduler's placeholder, which it replaces with the time it fired for.
    """
    return {"kind": "schedule", "dataset": dataset, "scheduled_time": SCHEDULED_TIME}


def deferral_payload(dataset: str, until: datetime) -> dict[str, str]:
    """The one-time deferral schedule's payload: ``{"kind": "deferred", "dataset", "scheduled_time"}``.

    The time is written in (not Scheduler's placeholder) so that each deferral is its own occurrence.
    """
    return {"kind": "deferred", "dataset": dataset, "scheduled_time": iso(until)}


def trigger_from_event(
    event: Mapping[str, Any],
    *,
    alarms: Mapping[str, tuple[str, PolicyTriggerKind]],
    state_machine_arn: str,
) -> PolicyTrigger | None:
    """The trigger an EventBridge event or a schedule's payload brings, or None if it is not one.

    Parameters
    ----------
    event : mapping
        An EventBridge event (``source``, ``detail-type``, ``detail``, ``time``) or a schedule's payload
        (:func:`schedule_payload`, :func:`deferral_payload`).
    alarms : mapping
        Alarm name to (dataset, ``"drift_alarm"`` or ``"performance_alarm"``): the alarms that may start
        runs.
    state_machine_arn : str
        The training pipeline's state machine: only its executions' ends are triggers.

    Returns
    -------
    PolicyTrigger or None
        None for an event that is not a trigger: an alarm going to OK or INSUFFICIENT_DATA, an alarm the
        policy does not watch, another state machine's execution, an execution that has not ended.

    Raises
    ------
    TriggerError
        When the event lacks what the policy needs (the message names it), or is of a kind it does not read.
    """
    try:
        if "detail-type" in event or "source" in event:
            return _from_envelope(event, alarms, state_machine_arn)
        if "kind" in event:
            return _from_payload(event)
    except EventDetailError as error:
        raise TriggerError(str(error)) from None
    raise TriggerError(
        "the retraining policy got neither an EventBridge event (no source, detail-type) nor a schedule's "
        f"payload (no kind); keys given: {sorted(event)[:10]}"
    )


def _from_envelope(
    event: Mapping[str, Any], alarms: Mapping[str, tuple[str, PolicyTriggerKind]], state_machine_arn: str
) -> PolicyTrigger | None:
    source, detail_type, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(detail, Mapping):
        raise TriggerError(f'the "{detail_type}" event ({source}) has no detail')
    kind = (source, detail_type)
    if kind == (DatasetVersionAccepted.KIND.source, DatasetVersionAccepted.KIND.detail_type):
        return _accepted(DatasetVersionAccepted.from_detail(detail), event)
    if kind == (AlarmStateChange.KIND.source, AlarmStateChange.KIND.detail_type):
        return _alarm(AlarmStateChange.from_detail(detail), alarms)
    if kind == (ExecutionStatusChange.KIND.source, ExecutionStatusChange.KIND.detail_type):
        return _run_ended(ExecutionStatusChange.from_detail(detail), event, state_machine_arn)
    raise TriggerError(
        f'the retraining policy does not read "{detail_type}" events from {source!r}; it reads '
        f'"{DatasetVersionAccepted.KIND.detail_type}", "{AlarmStateChange.KIND.detail_type}" and '
        f'"{ExecutionStatusChange.KIND.detail_type}"'
    )


def _dataset(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _DATASET.fullmatch(value):
        raise TriggerError(
            f"{where} is {value!r}, not a dataset name (lowercase letters, digits and hyphens, "
            "starting with a letter)"
        )
    return value


def _event_time(event: Mapping[str, Any], what: str) -> datetime:
    if not event.get("time"):
        raise TriggerError(f"{what} has no time of its own and the event has no time")
    return parse_time(event["time"], f"the event's time ({what})")


def _accepted(accepted: DatasetVersionAccepted, event: Mapping[str, Any]) -> PolicyTrigger:
    dataset = _dataset(accepted.dataset, 'the "Dataset Version Accepted" event\'s detail.dataset')
    record = accepted.record
    at = (
        parse_time(record["accepted_at"], "detail.accepted_at")
        if record.get("accepted_at")
        else _event_time(event, "the accepted version")
    )
    source = record.get("source")
    upload = source.get("key") if isinstance(source, Mapping) else None
    return PolicyTrigger(
        kind="accepted",
        dataset=dataset,
        key=accepted.version,
        at=at,
        reason=f"version {accepted.version} of {dataset} was accepted at {iso(at)}",
        dataset_version=accepted.version,
        upload_key=str(upload) if upload else None,
    )


def _alarm(
    change: AlarmStateChange, alarms: Mapping[str, tuple[str, PolicyTriggerKind]]
) -> PolicyTrigger | None:
    if change.state != "ALARM" or change.alarm_name not in alarms:
        return None
    dataset, kind = alarms[change.alarm_name]
    if kind not in _ALARM_WORDS:
        raise TriggerError(
            f"alarm {change.alarm_name} is mapped to {kind!r}; use drift_alarm or performance_alarm"
        )
    at = parse_time(change.entered_at, f"alarm {change.alarm_name}'s state.timestamp")
    said = f": {change.reason}" if change.reason else ""
    return PolicyTrigger(
        kind=kind,
        dataset=_dataset(dataset, f"the dataset of alarm {change.alarm_name}"),
        key=f"{change.alarm_name}@{iso(at)}",
        at=at,
        reason=cap_text(
            f"the {_ALARM_WORDS[kind]} {change.alarm_name} entered ALARM at {iso(at)}{said}", 500
        ),
    )


def _run_ended(
    change: ExecutionStatusChange, event: Mapping[str, Any], state_machine_arn: str
) -> PolicyTrigger | None:
    if change.state_machine_arn != state_machine_arn or not change.ended:
        return None
    dataset: str | None = None
    if change.input:
        try:
            dataset = parse_run(change.input).dataset
        except PipelineRunError:
            dataset = None  # the name may still say it (below)
    if dataset is None:
        parsed = parse_execution_name(change.name)
        if parsed is None:
            raise TriggerError(
                f"execution {change.name} of the training pipeline has neither a run input nor a run name: "
                "it was not started as a run (domain.training.runs)"
            )
        dataset = parsed.dataset
    at = (
        datetime.fromtimestamp(change.stop_date / 1000, UTC)
        if change.stop_date is not None
        else _event_time(event, f"execution {change.name}'s end (no stopDate)")
    )
    return PolicyTrigger(
        kind="run_ended",
        dataset=_dataset(dataset, f"the dataset of execution {change.name}"),
        key=change.execution_arn,
        at=at,
        reason=f"run {change.name} ended {change.status} at {iso(at)}",
        run_name=change.name,
        run_status=change.status,
    )


def _from_payload(payload: Mapping[str, Any]) -> PolicyTrigger:
    kind = payload.get("kind")
    if kind not in ("schedule", "deferred"):
        raise TriggerError(
            f"a schedule's payload has kind {kind!r}; the policy's schedules send schedule or deferred"
        )
    dataset = _dataset(payload.get("dataset"), f"the {kind} payload's dataset")
    if not payload.get("scheduled_time") or payload["scheduled_time"] == SCHEDULED_TIME:
        raise TriggerError(
            f"the {kind} payload of {dataset} has no scheduled_time (the schedule's target input must carry "
            f"{SCHEDULED_TIME} or the deferral's time)"
        )
    at = parse_time(payload["scheduled_time"], f"the {kind} payload's scheduled_time")
    reason = (
        f"the retraining schedule of {dataset} fired for {iso(at)}"
        if kind == "schedule"
        else f"the deferral of {dataset} came due at {iso(at)}"
    )
    return PolicyTrigger(kind=kind, dataset=dataset, key=f"{kind}@{iso(at)}", at=at, reason=reason)
