"""The policy's rule for an alarm or the schedule: retrain when allowed and there is something new to learn.

Nothing starts while a run is in progress, inside the cooldown after the last alarm- or schedule-started
run, or at the daily cap; nor when the model in service was trained on the latest accepted version and no
label has arrived since (retraining would reproduce it: the decision says what to do instead). New labels
ask for an upload of the latest version plus the labelled rows (the run starts when the data plane accepts
it); newer data alone is retrained on directly.
"""

from __future__ import annotations

from domain.names import retraining_upload_key
from domain.retraining.decisions import DataPlan, decision_id
from domain.retraining.draft import Draft
from domain.retraining.new_data import release
from domain.retraining.state import Preparing
from domain.retraining.triggers import iso
from domain.training.runs import Trigger

__all__ = ["retrain"]


def retrain(draft: Draft) -> None:
    """An alarm or the schedule: retrain if allowed and there is something new to learn from."""
    if draft.switched_off():
        return
    # New data waiting for a slot that is free again trains first; the alarm then finds it in progress.
    release(draft)
    trigger, seen = draft.trigger, draft.seen
    in_progress = draft.in_progress()
    cooldown = draft.cooldown_until()
    cap = draft.cap_until()
    if in_progress is not None:
        draft.record("skipped", f"{trigger.reason}; nothing starts: {in_progress}")
        return
    # Every limit that holds is named, so that a person learns at once how long each holds the dataset.
    limits: list[str] = []
    if cooldown is not None and draft.last_triggered_start is not None:
        limits.append(
            f"the last run started by an alarm or the schedule was at {iso(draft.last_triggered_start)}; the "
            f"cooldown of {draft.config.cooldown_minutes} minutes (retraining.cooldown_minutes) ends at "
            f"{iso(cooldown)}"
        )
    if cap is not None:
        limits.append(draft.cap_reason(cap))
    if limits:
        draft.record("skipped", f"{trigger.reason}; nothing starts: {'; and '.join(limits)}")
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
        _prepare(draft, latest)
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
    run = draft.request(latest, Trigger("retrain", reference=reference, reason=reason))
    if (existing := draft.existing(run)) is not None:
        draft.record("skipped", f"{reason}; already started: {existing}", dataset_version=latest)
        return
    draft.start(run, counts_as_triggered=True)
    draft.record("started", run.trigger.reason, dataset_version=latest, run=run)


def _prepare(draft: Draft, latest: str) -> None:
    """Ask for an upload of ``latest`` plus the new labelled rows; its acceptance starts the run."""
    trigger, seen = draft.trigger, draft.seen
    reference = decision_id(trigger)
    key = retraining_upload_key(draft.dataset, reference)
    cutoff = seen.labels_after
    after = cutoff.at if cutoff is not None else None
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
    newer = (
        f"newer than {iso(cutoff.at)} ({cutoff.of})"
        if cutoff is not None
        else "(no label is in the model in service's data nor in the latest version)"
    )
    draft.record(
        "preparing",
        f"{trigger.reason}; preparing version {latest} plus {seen.new_labels} labelled rows {newer} as "
        f"{key}: the run starts when the data plane accepts it",
        dataset_version=latest,
        prepare=DataPlan(base_version=latest, labels_after=after, new_labels=seen.new_labels),
    )
