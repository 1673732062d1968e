"""What the retraining policy remembers about one dataset between two decisions.

One item per dataset in the decisions table, written with each decision in one transaction conditioned
on its ``revision``: two decisions at once cannot both start a run (the second re-reads and decides again).
Items are plain DynamoDB values: strings, integers, lists and maps; times as ISO-8601 UTC strings; a field
that is None is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast, get_args

from domain.retraining.triggers import PolicyTriggerKind, TriggerError, iso, parse_time

__all__ = [
    "SEEN_LIMIT",
    "Pending",
    "PolicyState",
    "Preparing",
    "RunningRun",
    "StateItemError",
    "item_optional_time",
    "item_put",
    "item_time",
    "item_value",
]

#: Trigger keys kept for dedupe: a trigger delivered again after 200 newer ones is decided again (its
#: run, if any, has the same execution name, which Step Functions refuses a second time).
SEEN_LIMIT = 200


class StateItemError(ValueError):
    """A stored policy state or decision cannot be read back: the message names the field."""


def item_value(item: Mapping[str, Any], key: str, what: str) -> Any:
    """``item[key]``; a missing (or None) one is a :class:`StateItemError` naming ``what`` and ``key``."""
    if item.get(key) is None:
        raise StateItemError(f"the stored {what} has no {key}")
    return item[key]


def item_time(item: Mapping[str, Any], key: str, what: str) -> datetime:
    """The ISO-8601 time at ``item[key]`` as an aware UTC datetime (see :func:`item_value`)."""
    try:
        return parse_time(item_value(item, key, what), f"the stored {what}'s {key}")
    except TriggerError as error:
        raise StateItemError(str(error)) from None


def item_optional_time(item: Mapping[str, Any], key: str, what: str) -> datetime | None:
    """The time at ``item[key]``, or None when it is absent."""
    return item_time(item, key, what) if item.get(key) is not None else None


def item_put(item: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless ``value`` is None (times as ISO-8601 UTC)."""
    if value is not None:
        item[key] = iso(value) if isinstance(value, datetime) else value


@dataclass(frozen=True)
class RunningRun:
    """A training run of the dataset that has not ended (whoever started it)."""

    name: str
    dataset_version: str
    started_at: datetime | None

    def to_item(self) -> dict[str, Any]:
        """The run as a DynamoDB map."""
        item: dict[str, Any] = {"name": self.name, "dataset_version": self.dataset_version}
        item_put(item, "started_at", self.started_at)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> RunningRun:
        """The run from its map."""
        return cls(
            name=str(item_value(item, "name", "run")),
            dataset_version=str(item_value(item, "dataset_version", "run")),
            started_at=item_optional_time(item, "started_at", "run"),
        )


@dataclass(frozen=True)
class Pending:
    """The newest accepted version waiting for a free slot or for the cap to allow a start."""

    dataset_version: str
    accepted_at: datetime
    decision_id: str

    def to_item(self) -> dict[str, Any]:
        """The pending version as a DynamoDB map."""
        return {
            "dataset_version": self.dataset_version,
            "accepted_at": iso(self.accepted_at),
            "decision_id": self.decision_id,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Pending:
        """The pending version from its map."""
        return cls(
            dataset_version=str(item_value(item, "dataset_version", "pending version")),
            accepted_at=item_time(item, "accepted_at", "pending version"),
            decision_id=str(item_value(item, "decision_id", "pending version")),
        )


@dataclass(frozen=True)
class Preparing:
    """An upload the policy asked for (accepted data plus labelled rows), not yet accepted.

    Attributes
    ----------
    decision_id : str
        The "preparing" decision; also the retrain run's trigger reference.
    upload_key : str
        Where the upload is written (``domain.names.retraining_upload_key``): the accepted version whose
        upload is this key starts the retrain run.
    base_version : str
        The accepted version the upload extends.
    labels_through : datetime
        The newest label it includes.
    trigger_kind : PolicyTriggerKind
        What asked for it (an alarm or the schedule).
    reason : str
        Why, carried into the run's trigger.
    since : datetime
        When it was decided (its start counts in the cap from then).
    new_labels : int
        Labelled rows it adds to the base.
    """

    decision_id: str
    upload_key: str
    base_version: str
    labels_through: datetime
    trigger_kind: PolicyTriggerKind
    reason: str
    since: datetime
    new_labels: int = 0

    def to_item(self) -> dict[str, Any]:
        """The preparation as a DynamoDB map."""
        return {
            "decision_id": self.decision_id,
            "upload_key": self.upload_key,
            "base_version": self.base_version,
            "labels_through": iso(self.labels_through),
            "trigger_kind": self.trigger_kind,
            "reason": self.reason,
            "since": iso(self.since),
            "new_labels": self.new_labels,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Preparing:
        """The preparation from its map."""
        what = "preparation"
        kind = str(item_value(item, "trigger_kind", what))
        if kind not in get_args(PolicyTriggerKind):
            raise StateItemError(f"the stored preparation's trigger_kind {kind!r} is not a trigger kind")
        return cls(
            decision_id=str(item_value(item, "decision_id", what)),
            upload_key=str(item_value(item, "upload_key", what)),
            base_version=str(item_value(item, "base_version", what)),
            labels_through=item_time(item, "labels_through", what),
            trigger_kind=cast(PolicyTriggerKind, kind),
            reason=str(item.get("reason") or ""),
            since=item_time(item, "since", what),
            new_labels=int(item.get("new_labels") or 0),
        )


@dataclass(frozen=True)
class PolicyState:
    """The policy's memory of one dataset (``revision`` for optimistic writes).

    Attributes
    ----------
    dataset : str
    revision : int
        Incremented by every decision that changes the state; the write is conditioned on the old one.
    starts : tuple of datetime
        When the policy started runs (or reserved a start for a preparation) in the last 24 hours.
    last_triggered_start : datetime or None
        The last start by an alarm or the schedule (the cooldown counts from it).
    started_runs : tuple of RunningRun
        Runs the policy started and has not seen end (they may not be listed by Step Functions yet).
    pending : Pending or None
        The newest accepted version waiting for a free slot or the cap.
    preparing : Preparing or None
        The prepared upload being waited for.
    deferred_until : datetime or None
        A deferral schedule exists for this time.
    seen : tuple of str
        Keys of the triggers decided lately (the newest :data:`SEEN_LIMIT`), for dedupe.
    """

    dataset: str
    revision: int = 0
    starts: tuple[datetime, ...] = ()
    last_triggered_start: datetime | None = None
    started_runs: tuple[RunningRun, ...] = ()
    pending: Pending | None = None
    preparing: Preparing | None = None
    deferred_until: datetime | None = None
    seen: tuple[str, ...] = ()

    def to_item(self) -> dict[str, Any]:
        """The state as a DynamoDB item (without the table's key attributes, which the adapter adds)."""
        item: dict[str, Any] = {
            "dataset": self.dataset,
            "revision": self.revision,
            "starts": [iso(moment) for moment in self.starts],
            "started_runs": [run.to_item() for run in self.started_runs],
            "seen": list(self.seen),
        }
        item_put(item, "last_triggered_start", self.last_triggered_start)
        item_put(item, "pending", self.pending.to_item() if self.pending else None)
        item_put(item, "preparing", self.preparing.to_item() if self.preparing else None)
        item_put(item, "deferred_until", self.deferred_until)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> PolicyState:
        """The state from its item (DynamoDB's numbers come back as Decimal: read as int)."""
        what = "policy state"
        try:
            starts = tuple(parse_time(text, "a stored start") for text in item.get("starts") or ())
        except TriggerError as error:
            raise StateItemError(str(error)) from None
        return cls(
            dataset=str(item_value(item, "dataset", what)),
            revision=int(item.get("revision") or 0),
            starts=starts,
            last_triggered_start=item_optional_time(item, "last_triggered_start", what),
            started_runs=tuple(RunningRun.from_item(run) for run in item.get("started_runs") or ()),
            pending=Pending.from_item(item["pending"]) if item.get("pending") else None,
            preparing=Preparing.from_item(item["preparing"]) if item.get("preparing") else None,
            deferred_until=item_optional_time(item, "deferred_until", what),
            seen=tuple(str(key) for key in item.get("seen") or ()),
        )
