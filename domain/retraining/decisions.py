"""A decision of the retraining policy, as recorded in the decisions table (append-only).

A decision says what a trigger led to (a run started, or why not), the data chosen and the reason in plain
words with the numbers. Its id is derived from the trigger (:func:`decision_id`), never from the clock:
the same trigger decided again gets the same id, and a retrain run it starts carries the id as its trigger
reference (so the run's execution name, and the model's lineage, point back to the decision).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

from domain.names import PipelineRunError
from domain.retraining.state import (
    StateItemError,
    item_optional_time,
    item_put,
    item_time,
    item_value,
)
from domain.retraining.triggers import PolicyTrigger, PolicyTriggerKind, TriggerError
from domain.training.runs import RunRequest, Trigger

__all__ = ["DECISION_ID_MAX", "DataPlan", "Decision", "Outcome", "decision_id"]

Outcome = Literal["started", "skipped", "deferred", "superseded", "preparing", "duplicate"]
#: A decision id's length at most: with ``<dataset>-<12 hex>-retrain-`` it stays within an execution name.
DECISION_ID_MAX = 48
_LABELS: dict[str, str] = {
    "accepted": "accepted",
    "drift_alarm": "drift",
    "performance_alarm": "performance",
    "schedule": "schedule",
    "run_ended": "run-ended",
    "deferred": "deferred",
}


def decision_id(trigger: PolicyTrigger, subject: str = "") -> str:
    """The id of the decision ``trigger`` leads to: ``<kind>-<time>-<8 hex digits>``.

    For example ``drift-20261206T210000Z-1a2b3c4d``.

    Parameters
    ----------
    trigger : PolicyTrigger
        The hash covers its kind, dataset and key: the same occurrence gets the same id.
    subject : str, optional
        What a further decision of the same trigger is about (``superseded:<version>``, ``duplicate:<n>``),
        so that each decision of one trigger has its own id.

    Returns
    -------
    str
        At most :data:`DECISION_ID_MAX` characters of ``[A-Za-z0-9_-]``.
    """
    digest = hashlib.sha256("\x1f".join((trigger.kind, trigger.dataset, trigger.key, subject)).encode())
    return f"{_LABELS[trigger.kind]}-{trigger.at.strftime('%Y%m%dT%H%M%SZ')}-{digest.hexdigest()[:8]}"


@dataclass(frozen=True)
class DataPlan:
    """The upload to prepare: version ``base_version`` plus the labelled rows newer than ``labels_after``."""

    base_version: str
    labels_after: datetime | None
    new_labels: int


def _trigger_item(trigger: PolicyTrigger) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": trigger.kind, "dataset": trigger.dataset, "key": trigger.key}
    for name in ("at", "reason", "dataset_version", "upload_key", "run_name", "run_status"):
        item_put(item, name, getattr(trigger, name))
    return item


def _trigger_from(item: Mapping[str, Any]) -> PolicyTrigger:
    kind = str(item_value(item, "kind", "trigger"))
    if kind not in get_args(PolicyTriggerKind):
        raise StateItemError(f"the stored trigger's kind {kind!r} is not a trigger kind")
    try:
        return PolicyTrigger(
            kind=cast(PolicyTriggerKind, kind),
            dataset=str(item_value(item, "dataset", "trigger")),
            key=str(item_value(item, "key", "trigger")),
            at=item_time(item, "at", "trigger"),
            reason=str(item.get("reason") or ""),
            dataset_version=item.get("dataset_version"),
            upload_key=item.get("upload_key"),
            run_name=item.get("run_name"),
            run_status=item.get("run_status"),
        )
    except TriggerError as error:
        raise StateItemError(f"the stored trigger: {error}") from None


def _run_item(run: RunRequest) -> dict[str, Any]:
    trigger: dict[str, Any] = {"kind": run.trigger.kind, "reason": run.trigger.reason}
    item_put(trigger, "reference", run.trigger.reference)
    return {
        "dataset": run.dataset,
        "dataset_version": run.dataset_version,
        "name": run.name,
        "trigger": trigger,
    }


def _run_from(item: Mapping[str, Any]) -> RunRequest:
    trigger = item_value(item, "trigger", "run")
    try:
        return RunRequest(
            dataset=str(item_value(item, "dataset", "run")),
            dataset_version=str(item_value(item, "dataset_version", "run")),
            trigger=Trigger(
                kind=item_value(trigger, "kind", "run's trigger"),
                reference=trigger.get("reference"),
                reason=str(trigger.get("reason") or ""),
            ),
        )
    except PipelineRunError as error:
        raise StateItemError(f"the stored run: {error}") from None


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What one trigger led to, and why.

    Attributes
    ----------
    decision_id : str
        See :func:`decision_id`; a retrain run's trigger reference.
    dataset : str
    trigger : PolicyTrigger
    outcome : Outcome
        ``started``: ``run`` is to be started. ``skipped``: nothing starts (the reason says why).
        ``deferred``: the version waits (``defer_until``: a deferral schedule is to be set for then).
        ``superseded``: the version will not be trained, a newer one will. ``preparing``: the upload of
        ``prepare`` is to be written. ``duplicate``: the trigger was decided before.
    reason : str
        Why, in plain words with the numbers.
    advice : str or None
        What the team should do (when there is nothing new to learn from).
    dataset_version : str or None
        The data chosen (or the version the decision is about).
    run : RunRequest or None
    prepare : DataPlan or None
    defer_until : datetime or None
    decided_at : datetime
        The observations' time.
    """

    decision_id: str
    dataset: str
    trigger: PolicyTrigger
    outcome: Outcome
    reason: str
    advice: str | None = None
    dataset_version: str | None = None
    run: RunRequest | None = None
    prepare: DataPlan | None = None
    defer_until: datetime | None = None
    decided_at: datetime

    def to_item(self) -> dict[str, Any]:
        """The decision as a DynamoDB item (without the table's key attributes, which the adapter adds)."""
        item: dict[str, Any] = {
            "decision_id": self.decision_id,
            "dataset": self.dataset,
            "trigger": _trigger_item(self.trigger),
            "outcome": self.outcome,
            "reason": self.reason,
        }
        item_put(item, "decided_at", self.decided_at)
        item_put(item, "advice", self.advice)
        item_put(item, "dataset_version", self.dataset_version)
        item_put(item, "run", _run_item(self.run) if self.run else None)
        if self.prepare is not None:
            plan: dict[str, Any] = {
                "base_version": self.prepare.base_version,
                "new_labels": self.prepare.new_labels,
            }
            item_put(plan, "labels_after", self.prepare.labels_after)
            item["prepare"] = plan
        item_put(item, "defer_until", self.defer_until)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Decision:
        """The decision from its item (DynamoDB's numbers come back as Decimal: read as int)."""
        outcome = str(item_value(item, "outcome", "decision"))
        if outcome not in get_args(Outcome):
            raise StateItemError(
                f"the stored decision's outcome {outcome!r} is not one of {get_args(Outcome)}"
            )
        plan = item.get("prepare")
        return cls(
            decision_id=str(item_value(item, "decision_id", "decision")),
            dataset=str(item_value(item, "dataset", "decision")),
            trigger=_trigger_from(item_value(item, "trigger", "decision")),
            outcome=cast(Outcome, outcome),
            reason=str(item.get("reason") or ""),
            advice=item.get("advice"),
            dataset_version=item.get("dataset_version"),
            run=_run_from(item["run"]) if item.get("run") else None,
            prepare=DataPlan(
                base_version=str(item_value(plan, "base_version", "data plan")),
                labels_after=item_optional_time(plan, "labels_after", "data plan"),
                new_labels=int(plan.get("new_labels") or 0),
            )
            if plan
            else None,
            defer_until=item_optional_time(item, "defer_until", "decision"),
            decided_at=item_time(item, "decided_at", "decision"),
        )
