"""What the platform looks like when the retraining policy decides: gathered by its adapter, read by rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.retraining.state import RunningRun

__all__ = ["ModelInService", "Observations"]


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
        The dataset's runs Step Functions says are running, whoever started them. The policy adds the runs
        it started itself that are not found yet (``PolicyState.started_runs``) for
        ``draft.LISTING_GRACE`` (10 minutes) after their start; a start still not found after that is
        forgotten (it ended unseen, or never began), so do not list such a run here as running.
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
