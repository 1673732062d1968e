"""The rules for new data: an accepted version starts, waits as the pending version, or is superseded.

One run at a time per dataset (``retraining.max_concurrent_runs``): a burst of accepted versions while a run
is in progress leaves one pending version, the newest; each one it replaces is recorded as superseded. When
a run ends (or the cap's deferral comes due) the pending version starts, or the newest accepted one if a
newer one exists. The cooldown does not hold new data back; the daily cap does.
"""

from __future__ import annotations

from domain.retraining.decisions import decision_id
from domain.retraining.draft import Draft
from domain.retraining.state import Pending, Preparing
from domain.retraining.triggers import iso
from domain.training.runs import Trigger

__all__ = ["accepted", "release", "run_ended"]


def accepted(draft: Draft) -> None:
    """New data: start it, or let it wait as the one pending version."""
    trigger = draft.trigger
    version = str(trigger.dataset_version)
    if draft.switched_off():
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
    run = draft.request(version, Trigger("accepted", reason=trigger.reason))
    if (existing := draft.existing(run)) is not None:
        # A late (or repeated) event of a version already trained, e.g. the newest one a run end started.
        draft.record("skipped", f"{trigger.reason}; already started: {existing}", dataset_version=version)
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
        draft.start(run, counts_as_triggered=False)
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
    run = draft.request(version, Trigger("retrain", reference=preparing.decision_id, reason=reason))
    if (existing := draft.existing(run)) is not None:
        draft.record("skipped", f"{reason}; already started: {existing}", dataset_version=version)
    else:
        draft.start(run, counts_as_triggered=True)
        draft.record("started", reason, dataset_version=version, run=run)
    pending = draft.pending
    if pending is not None and pending.dataset_version == preparing.base_version:
        draft.supersede(pending, version, draft.trigger.at, "includes it")


def run_ended(draft: Draft) -> None:
    """A run ended: its slot is free for the pending version."""
    draft.ended = draft.trigger.run_name
    draft.started_runs = [run for run in draft.started_runs if run.name != draft.ended]
    release(draft)


def release(draft: Draft) -> None:
    """Start the pending version (or the newest accepted) if the limits allow; re-defer at the cap.

    Any trigger but new data releases a waiting version first: a run end or a deferral that was lost must
    not leave it waiting for ever.
    """
    pending = draft.pending
    if pending is None or not draft.config.enabled:
        return
    blocked = draft.blocked()
    if blocked is not None:
        if blocked.until is not None and (until := draft.deferral(blocked.until)) is not None:
            draft.record(
                "deferred",
                f"{draft.trigger.reason}; version {pending.dataset_version} still waits: {blocked.reason}",
                subject=f"waiting:{pending.dataset_version}",
                dataset_version=pending.dataset_version,
                defer_until=until,
            )
        return
    version, accepted_at, newer = pending.dataset_version, pending.accepted_at, False
    latest, latest_at = draft.seen.latest_version, draft.seen.latest_accepted_at
    if latest is not None and latest_at is not None and latest_at > accepted_at:
        version, accepted_at, newer = latest, latest_at, True
    draft.pending = None
    reason = (
        f"version {version} of {draft.dataset} (accepted at {iso(accepted_at)}) waited and is trained now: "
        f"{draft.trigger.reason}"
    )
    run = draft.request(version, Trigger("accepted", reason=reason))
    # Its own id: an alarm that releases a waiting version records its own decision too (retrain).
    subject = f"waiting:{pending.dataset_version}"
    if (existing := draft.existing(run)) is not None:
        # Validations finish out of order: the newest version may have been trained already (the run that
        # just ended trained it). Nothing starts; the older waiting version is superseded by it.
        if newer:
            draft.supersede(pending, version, accepted_at, f"has its run already ({existing})")
        else:
            draft.record(
                "skipped",
                f"version {version} waited, but nothing starts: already started: {existing}",
                subject=subject,
                dataset_version=version,
            )
        return
    if newer:
        draft.supersede(pending, version, accepted_at, "is trained instead")
    draft.start(run, counts_as_triggered=False)
    draft.record("started", reason, subject=subject, dataset_version=version, run=run)
