"""The events the platform produces and consumes, declared once: source, detail type, the detail's fields.

=========================================  ==============================  ================================
event                                      produced by                     consumed by
=========================================  ==============================  ================================
:class:`ObjectCreated` (``aws.s3``)        S3, for the data bucket         dataset validation
:class:`ObjectCreated` (``aws.s3``)        S3, for ``feedback/``           feedback ingestion
:class:`DatasetVersionAccepted`            dataset validation, on the      the retraining policy
(``mlops.data``)                           platform's bus                  (``retraining_policy``)
:class:`ModelPackageStateChange`           SageMaker's model registry      the deployment's start
(``aws.sagemaker``)                                                        (``deployment_start``)
:class:`AlarmStateChange`                  CloudWatch, on the default bus  the retraining policy (drift
(``aws.cloudwatch``)                                                       and performance alarms)
:class:`ExecutionStatusChange`             Step Functions, on the default  the retraining policy (a
(``aws.states``)                           bus                             training run ended)
=========================================  ==============================  ================================

Each class reads its detail with ``from_detail`` (a missing field is an :class:`EventDetailError` that
names the event and the field), the platform's own event writes it with ``to_detail``, and
``Event.KIND.pattern(...)`` is the EventBridge pattern a rule matches it with, so that the stacks' rules,
the producer and the consumer cannot disagree on a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from domain.step_input import value_at

__all__ = [
    "AlarmStateChange",
    "DatasetVersionAccepted",
    "EventDetailError",
    "EventKind",
    "ExecutionStatusChange",
    "ModelPackageStateChange",
    "ObjectCreated",
]


class EventDetailError(ValueError):
    """An event's detail lacks a field its consumer needs: the message names the event and the field."""


@dataclass(frozen=True)
class EventKind:
    """Which events one kind is: EventBridge's ``source`` and ``detail-type``.

    Attributes
    ----------
    source : str
        ``aws.s3``, ``mlops.data`` ...
    detail_type : str
        ``Object Created`` ...
    """

    source: str
    detail_type: str

    def pattern(self, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The EventBridge event pattern that matches this kind (and ``detail``'s filters, if any).

        Parameters
        ----------
        detail : mapping, optional
            Filters on the detail, in EventBridge's pattern syntax
            (``{"object": {"key": [{"prefix": "incoming/"}]}}``).

        Returns
        -------
        dict
            ``{"source": [...], "detail-type": [...], "detail": {...}}``, the JSON of a rule's pattern; in
            CDK, ``events.EventPattern(source=p["source"], detail_type=p["detail-type"],
            detail=p.get("detail"))``.
        """
        pattern: dict[str, Any] = {"source": [self.source], "detail-type": [self.detail_type]}
        if detail:
            pattern["detail"] = dict(detail)
        return pattern


def _required(detail: Mapping[str, Any], kind: EventKind, *path: str) -> Any:
    """The value at ``path`` in ``detail``; a missing one is an error naming the event and the field."""
    return value_at(
        detail,
        path,
        lambda where: EventDetailError(
            f'the "{kind.detail_type}" event ({kind.source}) has no detail.{where}'
        ),
        none_is_missing=True,
    )


def _optional(detail: Mapping[str, Any], *path: str) -> Any:
    """The value at ``path`` in ``detail``, or None where the path stops."""
    value: Any = detail
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class ObjectCreated:
    """S3's "Object Created" event, as EventBridge delivers it for a bucket that sends it there.

    S3 URL-encodes the key in the event: :meth:`from_detail` decodes it (once: decoding twice would turn
    a literal ``+`` into a space).
    """

    KIND: ClassVar[EventKind] = EventKind("aws.s3", "Object Created")

    bucket: str
    key: str
    version_id: str | None = None  # absent for unversioned buckets
    size: int | None = None
    etag: str | None = None
    requester: str | None = None

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> ObjectCreated:
        """The created object the event's detail describes."""
        found = _required(detail, cls.KIND, "object")
        return cls(
            bucket=str(_required(detail, cls.KIND, "bucket", "name")),
            key=unquote_plus(str(_required(detail, cls.KIND, "object", "key"))),
            version_id=found.get("version-id"),
            size=found.get("size"),
            etag=found.get("etag") or "",
            requester=detail.get("requester"),
        )


@dataclass(frozen=True)
class DatasetVersionAccepted:
    """The platform's "Dataset Version Accepted": a dataset version entered the catalog.

    The detail is the version's catalog record (``domain.data.ingestion_model.DatasetVersion``); a
    consumer needs its dataset and version (the content's SHA-256), the rest is there to be read.

    Attributes
    ----------
    dataset, version : str
    record : mapping
        The whole catalog record, as published.
    """

    KIND: ClassVar[EventKind] = EventKind("mlops.data", "Dataset Version Accepted")

    dataset: str
    version: str
    record: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> DatasetVersionAccepted:
        """The accepted version the event's detail names."""
        return cls(
            dataset=str(_required(detail, cls.KIND, "dataset")),
            version=str(_required(detail, cls.KIND, "version")),
            record=dict(detail),
        )

    def to_detail(self) -> dict[str, Any]:
        """The event's detail: the catalog record, with this event's dataset and version."""
        return {**self.record, "dataset": self.dataset, "version": self.version}


@dataclass(frozen=True)
class ModelPackageStateChange:
    """SageMaker's "SageMaker Model Package State Change": a version was registered or its approval changed.

    Attributes
    ----------
    group : str
        ``ModelPackageGroupName``.
    arn : str
        ``ModelPackageArn``.
    approval_status : str
        ``ModelApprovalStatus`` (``Approved``, ``Rejected``, ``PendingManualApproval``), as the event
        tells it: the registry is the authority when it matters.
    """

    KIND: ClassVar[EventKind] = EventKind("aws.sagemaker", "SageMaker Model Package State Change")

    group: str
    arn: str
    approval_status: str = ""

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> ModelPackageStateChange:
        """The version and group the event's detail names ('' for a field the event lacks)."""
        return cls(
            group=str(detail.get("ModelPackageGroupName") or ""),
            arn=str(detail.get("ModelPackageArn") or ""),
            approval_status=str(detail.get("ModelApprovalStatus") or ""),
        )


@dataclass(frozen=True)
class AlarmStateChange:
    """CloudWatch's "CloudWatch Alarm State Change": an alarm changed state.

    Attributes
    ----------
    alarm_name : str
        ``alarmName``.
    state : str
        The new state (``state.value``): ``ALARM``, ``OK`` or ``INSUFFICIENT_DATA``.
    previous_state : str
        ``previousState.value`` ('' when absent).
    entered_at : str
        ``state.timestamp``: when the alarm entered ``state``, as CloudWatch wrote it (ISO 8601). An
        episode of an alarm is its name and this time: the same change delivered twice has the same one.
    reason : str
        ``state.reason``, CloudWatch's words ('' when absent).
    """

    KIND: ClassVar[EventKind] = EventKind("aws.cloudwatch", "CloudWatch Alarm State Change")

    alarm_name: str
    state: str
    entered_at: str
    previous_state: str = ""
    reason: str = ""

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> AlarmStateChange:
        """The alarm, its new state and when it entered it."""
        return cls(
            alarm_name=str(_required(detail, cls.KIND, "alarmName")),
            state=str(_required(detail, cls.KIND, "state", "value")),
            entered_at=str(_required(detail, cls.KIND, "state", "timestamp")),
            previous_state=str(_optional(detail, "previousState", "value") or ""),
            reason=str(_optional(detail, "state", "reason") or ""),
        )


#: The statuses in which a Step Functions execution has ended.
ENDED_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class ExecutionStatusChange:
    """Step Functions' "Step Functions Execution Status Change" (standard workflows, on the default bus).

    Attributes
    ----------
    execution_arn, state_machine_arn, name : str
    status : str
        ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``TIMED_OUT`` or ``ABORTED``.
    stop_date : int or None
        Epoch milliseconds when it ended (None while running).
    input : str or None
        The execution's input (a JSON string), as the event carries it.
    """

    KIND: ClassVar[EventKind] = EventKind("aws.states", "Step Functions Execution Status Change")

    execution_arn: str
    state_machine_arn: str
    name: str
    status: str
    stop_date: int | None = None
    input: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the execution has ended (any status but ``RUNNING``)."""
        return self.status in ENDED_STATUSES

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> ExecutionStatusChange:
        """The execution and its status."""
        stop = detail.get("stopDate")
        return cls(
            execution_arn=str(_required(detail, cls.KIND, "executionArn")),
            state_machine_arn=str(_required(detail, cls.KIND, "stateMachineArn")),
            name=str(_required(detail, cls.KIND, "name")),
            status=str(_required(detail, cls.KIND, "status")),
            stop_date=int(stop) if isinstance(stop, int | float) else None,
            input=detail.get("input") if isinstance(detail.get("input"), str) else None,
        )
