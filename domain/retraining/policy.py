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

from domain.retraining.config import RetrainingConfig
from domain.retraining.decisions import DataPlan, Decision, Outcome, decision_id
from domain.retraining.draft import Draft
from domain.retraining.new_data import accepted, release, run_ended
from domain.retraining.observations import ModelInService, Observations
from domain.retraining.retrain import retrain
from domain.retraining.state import Pending, PolicyState, Preparing, RunningRun
from domain.retraining.triggers import PolicyTrigger, PolicyTriggerKind, iso

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


class PolicyError(ValueError):
    """The policy was called with facts that do not fit together (another dataset's state, a naive time)."""


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
            reason=(
                f"this trigger ({trigger.kind} {trigger.key}) was decided before; what that decision "
                "asked for is done again if it failed, and starts no second run"
            ),
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


_RULES: dict[PolicyTriggerKind, Callable[[Draft], None]] = {
    "accepted": accepted,
    "drift_alarm": retrain,
    "performance_alarm": retrain,
    "schedule": retrain,
    "run_ended": run_ended,
    "deferred": release,
}
