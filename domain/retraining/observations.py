"""What the platform looks like when the retraining policy decides: gathered by its adapter, read by rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.retraining.state import RunningRun

__all__ = ["LabelsCutoff", "ModelInService", "Observations", "labels_cutoff"]


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
        Labelled rows newer than :attr:`labels_after` (all of them when that is None).
    newest_label_at : datetime or None
    latest_labels_through : datetime or None
        The newest label the latest accepted version holds (None: it was not prepared by the policy).
    existing_runs : frozenset of str
        Names of runs a decision would start that Step Functions says exist already (the use case asks
        after deciding, and decides again with them): such a start is recorded as already started.
    """

    now: datetime
    running: tuple[RunningRun, ...]
    latest_version: str | None
    latest_accepted_at: datetime | None
    in_service: ModelInService | None
    new_labels: int
    newest_label_at: datetime | None
    latest_labels_through: datetime | None = None
    existing_runs: frozenset[str] = frozenset()

    @property
    def labels_after(self) -> LabelsCutoff | None:
        """After which time a label is new (see :func:`labels_cutoff`)."""
        return labels_cutoff(self.in_service, self.latest_version, self.latest_labels_through)


@dataclass(frozen=True)
class LabelsCutoff:
    """The newest label already learnt from (``at``), and whose data holds it, in words (``of``)."""

    at: datetime
    of: str


def labels_cutoff(
    in_service: ModelInService | None, latest_version: str | None, latest_labels_through: datetime | None
) -> LabelsCutoff | None:
    """After which time a labelled row is new: the later of the labels the model in service and the latest
    accepted version hold.

    A latest version prepared by the policy from labels already holds them even when its run did not replace
    the model in service (it failed the gate): counting them again would prepare the same rows again.

    Parameters
    ----------
    in_service : ModelInService or None
    latest_version : str or None
    latest_labels_through : datetime or None
        The newest label in the latest accepted version (None: it holds none).

    Returns
    -------
    LabelsCutoff or None
        None when neither holds a label: every labelled row is new.
    """
    model = (
        LabelsCutoff(
            in_service.labels_through,
            f"the newest label in the data of the model in service (version {in_service.model_version})",
        )
        if in_service is not None and in_service.labels_through is not None
        else None
    )
    latest = (
        LabelsCutoff(
            latest_labels_through, f"the newest label in version {latest_version}, the latest accepted"
        )
        if latest_labels_through is not None
        else None
    )
    if model is None or latest is None:
        return model or latest
    return latest if latest.at > model.at else model
