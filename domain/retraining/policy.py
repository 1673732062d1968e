"""The retraining policy's rules: what a trigger leads to, given what the platform looks like now.

:func:`decide` is pure: the adapter gathers the :class:`Observations`, reads the dataset's
:class:`~domain.retraining.state.PolicyState`, calls it, then applies the decisions and writes them with the
new state in one transaction conditioned on the old state's revision.

- New data (``accepted``) starts a run when a slot is free and the daily cap allows; otherwise it waits as
  the one pending version (an older pending one is recorded as superseded), and starts when a run ends
  or the cap's deferral comes due, on the newest accepted version. The cooldown does not hold new data back.
- An alarm or the schedule starts nothing while a run is in progress, inside the cooldown, at the cap, or
  when there is nothing new to learn from; with new labels it asks for an upload of the latest version
  plus the labelled rows (``preparing``) and starts the retrain run when that upload is accepted; with
  newer data only it retrains on the latest version.
- A trigger decided before is a ``duplicate`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.names import retraining_upload_key
from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import DataPlan, Decision, Outcome, decision_id
from domain.retraining.draft import Draft
from domain.retraining.state import Pending, PolicyState, Preparing, RunningRun
from domain.retraining.triggers import PolicyTrigger, PolicyTriggerKind, iso
from domain.training.runs import Trigger

__all__ = [
    "DataPlan",
    "Decision",
    "ModelInService",
    "Observations",
    "Outcome",
    "Pending",
    "PolicyError",
    "PolicyState",
    "Preparing",
    "RunningRun",
    "decide",
]

_SWITCHES: dict[str, tuple[Literal["on_drift", "on_performance"], str]] = {
    "drift_alarm": ("on_drift", "the drift alarm"),
    "performance_alarm": ("on_performance", "the performance alarm"),
}


class PolicyError(ValueError):
    """The policy was called with facts that do not fit together (another dataset's state, a naive time)."""


@dataclass(frozen=True)
class ModelInService:
    """The model the dataset's endpoint serves (else the newest approved one) and the data it learnt from.

    Attributes
    ----------
    model_version : int
        The model package version.
    dataset_version : str
        The dataset version it was trained on (its lineage).
    labels_through : datetime or None
        The newest label in that data (None: a version not prepared by the policy, so no label is in it).
    """

    model_version: int
    dataset_version: str
    labels_through: datetime | None


@dataclass(frozen=True)
class Observations:
    """What the platform looks like when a trigger is decided.

    Attributes
    ----------
    now : datetime
        Aware UTC: the time of the decision.
    running : tuple of RunningRun
        The dataset's runs Step Functions lists as running, whoever started them. The policy adds the
        runs it started itself and that are not listed yet (``PolicyState.started_runs``): do not add them.
    latest_version : str or None
        The newest accepted dataset version (the catalog), None before the first.
    latest_accepted_at : datetime or None
    in_service : ModelInService or None
        None: no model yet.
    new_labels : int
        Labelled rows newer than ``in_service.labels_through`` (all of them when that is None).
    newest_label_at : datetime or None
    """

    now: datetime
    running: tuple[RunningRun, ...]
    latest_version: str | None
    latest_accepted_at: datetime | None
    in_service: ModelInService | None
    new_labels: int
    newest_label_at: datetime | None


def decide(
    trigger: PolicyTrigger, state: PolicyState, seen: Observations, config: RetrainingConfig
) -> tuple[list[Decision], PolicyState]:
    """What ``trigger`` leads to, and the dataset's policy state after it.

    Parameters
    ----------
    trigger : PolicyTrigger
    state : PolicyState
        The dataset's stored state (``PolicyState(dataset)`` for the first trigger).
    seen : Observations
    config : RetrainingConfig

    Returns
    -------
    decisions : list of Decision
        Usually one; more when versions are superseded or a preparation is given up; none for a run that
        ended (or a deferral that came due) with nothing waiting.
    state : PolicyState
        The next revision (the same state for a duplicate).

    Raises
    ------
    PolicyError
        When the state is another dataset's or the observations' time has no time zone.
    """
    if trigger.dataset != state.dataset:
        raise PolicyError(f"a trigger of {trigger.dataset} was decided with the state of {state.dataset}")
    if seen.now.tzinfo is None:
        raise PolicyError(f"the observations' time {seen.now} has no time zone; give it in UTC")
    if trigger.key in state.seen:
        duplicate = Decision(
            decision_id=decision_id(trigger, f"duplicate:{state.revision}"),
            dataset=trigger.dataset,
            trigger=trigger,
            outcome="duplicate",
            reason=f"this trigger ({trigger.kind} {trigger.key}) was decided before; it starts nothing more",
            dataset_version=trigger.dataset_version,
            decided_at=seen.now,
        )
        return [duplicate], state
    draft = Draft.of(state, trigger, seen, config)
    _give_up_preparation(draft)
    _RULES[trigger.kind](draft)
    return draft.decisions, draft.freeze(state)


def _give_up_preparation(draft: Draft) -> None:
    """Drop a preparation whose upload was not accepted in time (its start stays counted in the cap)."""
    preparing = draft.preparing
    if (
        preparing is None
        or (draft.now - preparing.since).total_seconds() <= draft.config.prepare_timeout_minutes * 60
    ):
        return
    draft.preparing = None
    draft.record(
        "skipped",
        f"the upload prepared by decision {preparing.decision_id} ({preparing.upload_key}, version "
        f"{preparing.base_version} plus {preparing.new_labels} labelled rows) was not accepted within "
        f"{draft.config.prepare_timeout_minutes} minutes of {iso(preparing.since)} "
        "(retraining.prepare_timeout_minutes); it is given up: see the data plane's quarantine report of "
        "that upload for why",
        subject=f"timeout:{preparing.decision_id}",
        dataset_version=preparing.base_version,
    )


def _switched_off(draft: Draft) -> bool:
    """Record a skip when the configuration turns this trigger off; True if it did."""
    config, kind = draft.config, draft.trigger.kind
    if not config.enabled:
        draft.record(
            "skipped",
            f"{draft.trigger.reason}; retraining of {draft.dataset} is switched off (retraining.enabled is "
            "false), so nothing starts by itself: start a run with `mlops pipeline start`",
            dataset_version=draft.trigger.dataset_version,
        )
        return True
    if kind in _SWITCHES and not getattr(config, _SWITCHES[kind][0]):
        key, what = _SWITCHES[kind]
        draft.record(
            "skipped",
            f"{draft.trigger.reason}; retraining on {what} is switched off (retraining.{key} is false)",
        )
        return True
    return False


def _accepted(draft: Draft) -> None:
    """New data: start it, or let it wait as the one pending version."""
    trigger = draft.trigger
    version = str(trigger.dataset_version)
    if _switched_off(draft):
        return
    preparing = draft.preparing
    if preparing is not None and trigger.upload_key == preparing.upload_key:
        _start_prepared(draft, preparing, version)
        return
    same = [run.name for run in draft.running() if run.dataset_version == version]
    if same:
        reason = f"{trigger.reason}; it is already being trained by run {same[0]}"
        draft.record("skipped", reason, dataset_version=version)
        return
    pending = draft.pending
    if pending is not None and pending.accepted_at > trigger.at:
        draft.record(
            "superseded",
            f"version {version} (accepted at {iso(trigger.at)}) will not be trained: version "
            f"{pending.dataset_version}, accepted later at {iso(pending.accepted_at)}, waits in its place",
            dataset_version=version,
        )
        return
    blocked = draft.blocked()
    if blocked is None:
        if pending is not None:
            draft.supersede(pending, version, trigger.at, "is trained instead")
        run = draft.start(version, Trigger("accepted", reason=trigger.reason), counts_as_triggered=False)
        draft.record(
            "started",
            f"{trigger.reason}; training starts ({_capacity(draft)})",
            dataset_version=version,
            run=run,
        )
        return
    if pending is not None:
        draft.supersede(pending, version, trigger.at, "waits in its place")
    main_id = decision_id(trigger)
    draft.pending = Pending(version, trigger.at, main_id)
    when = (
        "when a run ends" if blocked.limit == "slot" else f"at {iso(blocked.until)}" if blocked.until else ""
    )
    draft.record(
        "deferred",
        f"{trigger.reason}; it waits: {blocked.reason}. It will be trained {when}, unless a newer version "
        "arrives first",
        dataset_version=version,
        defer_until=draft.deferral(blocked.until) if blocked.until else None,
    )


def _capacity(draft: Draft) -> str:
    return (
        f"{draft.slots_used()} of at most {draft.config.max_concurrent_runs} runs at once, "
        f"{len(draft.starts)} of {draft.config.max_runs_per_day} runs in the last 24 hours"
    )


def _start_prepared(draft: Draft, preparing: Preparing, version: str) -> None:
    """The prepared upload was accepted: start the retrain run it was for (the limits were checked then)."""
    draft.preparing = None
    if preparing.since in draft.starts:
        # The start was counted when the upload was asked for; it moves to now, when the run really starts,
        # so that the runs started in any 24 hours stay within the cap.
        draft.starts.remove(preparing.since)
    reason = (
        f"{preparing.reason} on version {version}: {preparing.base_version} plus {preparing.new_labels} "
        "labelled rows"
    )
    retrain = Trigger("retrain", reference=preparing.decision_id, reason=reason)
    run = draft.start(version, retrain, counts_as_triggered=True)
    draft.record("started", reason, dataset_version=version, run=run)
    pending = draft.pending
    if pending is not None and pending.dataset_version == preparing.base_version:
        draft.supersede(pending, version, draft.trigger.at, "includes it")


def _retrain(draft: Draft) -> None:
    """An alarm or the schedule: retrain if allowed and there is something new to learn from."""
    if _switched_off(draft):
        return
    trigger, seen = draft.trigger, draft.seen
    in_progress = draft.in_progress()
    cooldown = draft.cooldown_until()
    cap = draft.cap_until()
    if in_progress is not None:
        draft.record("skipped", f"{trigger.reason}; nothing starts: {in_progress}")
        return
    if cooldown is not None and draft.last_triggered_start is not None:
        draft.record(
            "skipped",
            f"{trigger.reason}; nothing starts: the last run started by an alarm or the schedule was at "
            f"{iso(draft.last_triggered_start)}; the cooldown of {draft.config.cooldown_minutes} minutes "
            f"(retraining.cooldown_minutes) ends at {iso(cooldown)}",
        )
        return
    if cap is not None:
        draft.record("skipped", f"{trigger.reason}; nothing starts: {draft.cap_reason(cap)}")
        return
    latest, model = seen.latest_version, seen.in_service
    if latest is None:
        draft.record(
            "skipped",
            f"{trigger.reason}; nothing starts: {draft.dataset} has no accepted version yet",
            advice=f"upload data to incoming/{draft.dataset}/",
        )
        return
    if seen.new_labels > 0:
        _prepare(draft, latest, model)
        return
    if model is not None and latest == model.dataset_version:
        draft.record(
            "skipped",
            f"{trigger.reason}; nothing starts: there is nothing new to learn from (the model in service, "
            f"version {model.model_version}, was trained on version {latest}, the latest accepted, and no "
            "label has arrived since)",
            advice=(
                f"upload newer data to incoming/{draft.dataset}/ or push labels with `mlops feedback push`; "
                "retraining on the same data would reproduce the same model"
            ),
            dataset_version=latest,
        )
        return
    than = (
        f"newer than version {model.dataset_version} of the model in service (version {model.model_version})"
        if model is not None
        else "no model is in service yet"
    )
    reference = decision_id(trigger)
    reason = f"{trigger.reason}; retraining on version {latest}, {than}"
    run = draft.start(
        latest, Trigger("retrain", reference=reference, reason=reason), counts_as_triggered=True
    )
    draft.record("started", run.trigger.reason, dataset_version=latest, run=run)


def _prepare(draft: Draft, latest: str, model: ModelInService | None) -> None:
    """Ask for an upload of ``latest`` plus the new labelled rows; its acceptance starts the run."""
    trigger, seen = draft.trigger, draft.seen
    reference = decision_id(trigger)
    key = retraining_upload_key(draft.dataset, reference)
    after = model.labels_through if model is not None else None
    draft.preparing = Preparing(
        decision_id=reference,
        upload_key=key,
        base_version=latest,
        labels_through=seen.newest_label_at or draft.now,
        trigger_kind=trigger.kind,
        reason=f"{trigger.reason}; retraining",
        since=draft.now,
        new_labels=seen.new_labels,
    )
    # The start is counted now, so that the limits hold while the upload is validated (see _start_prepared).
    draft.starts.append(draft.now)
    draft.last_triggered_start = draft.now
    newer = f"newer than {iso(after)}" if after is not None else "(none is in the model's data)"
    draft.record(
        "preparing",
        f"{trigger.reason}; preparing version {latest} plus {seen.new_labels} labelled rows {newer} as "
        f"{key}: the run starts when the data plane accepts it",
        dataset_version=latest,
        prepare=DataPlan(base_version=latest, labels_after=after, new_labels=seen.new_labels),
    )


def _run_ended(draft: Draft) -> None:
    """A run ended: its slot is free for the pending version."""
    draft.ended = draft.trigger.run_name
    draft.started_runs = [run for run in draft.started_runs if run.name != draft.ended]
    _release(draft)


def _release(draft: Draft) -> None:
    """Start the pending version (or the newest accepted) if the limits allow; re-defer at the cap."""
    pending = draft.pending
    if pending is None or not draft.config.enabled:
        return
    blocked = draft.blocked()
    if blocked is not None:
        if blocked.until is not None and (until := draft.deferral(blocked.until)) is not None:
            draft.record(
                "deferred",
                f"{draft.trigger.reason}; version {pending.dataset_version} still waits: {blocked.reason}",
                dataset_version=pending.dataset_version,
                defer_until=until,
            )
        return
    version, accepted_at = pending.dataset_version, pending.accepted_at
    seen = draft.seen
    if seen.latest_version and seen.latest_accepted_at and seen.latest_accepted_at > accepted_at:
        version, accepted_at = seen.latest_version, seen.latest_accepted_at
        draft.supersede(pending, version, accepted_at, "is trained instead")
    draft.pending = None
    reason = (
        f"version {version} of {draft.dataset} (accepted at {iso(accepted_at)}) waited and is trained now: "
        f"{draft.trigger.reason}"
    )
    run = draft.start(version, Trigger("accepted", reason=reason), counts_as_triggered=False)
    draft.record("started", reason, dataset_version=version, run=run)


_RULES: dict[PolicyTriggerKind, Callable[[Draft], None]] = {
    "accepted": _accepted,
    "drift_alarm": _retrain,
    "performance_alarm": _retrain,
    "schedule": _retrain,
    "run_ended": _run_ended,
    "deferred": _release,
}
