"""Preparing a retraining upload: an accepted version plus the new labelled rows, through the data plane.

The retraining policy decides "preparing" with a ``DataPlan`` (base version, labels after a time); this
use case reads the base version's snapshot and the labelled rows, combines them
(:func:`domain.retraining.training_data.build_retraining_rows`) and writes the result as an upload at
``names.retraining_upload_key(dataset, decision_id)``, which the data plane validates and versions like any
other. When the version is accepted, the policy starts the retrain run on it.

Before anything is written, the combined rows are validated here as the data plane will validate them (the
same validator, against the base version's profile: the statistical checks compare with it): an upload the
data plane would refuse is not written, and the decision is told why at once, rather than finding its
upload in quarantine when its time runs out.

The labels added are those after the later of the plan's time (what the model in service was trained on)
and what the base version itself holds (a version prepared earlier holds its labels already): a label is
never added twice, whichever version the plan extends.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.data.ingestion_model import DatasetVersion
from domain.data.validation import validate_dataset
from domain.retraining.training_data import CannotCombine, LeftOut, build_retraining_rows

__all__ = [
    "CannotPrepareError",
    "PreparedUpload",
    "RetrainingPreparer",
    "TrainingDataStore",
    "VersionLookup",
    "prepare_retraining_upload",
]


class CannotPrepareError(Exception):
    """A "preparing" decision's upload cannot be written: the message says why, in plain words."""


class TrainingDataStore(Protocol):
    """What the use case reads and writes (the data bucket)."""

    def snapshot(self, record: DatasetVersion) -> pa.Table:
        """The rows of an accepted version (its ``data.parquet``)."""
        ...

    def labelled_rows(self, dataset: str, *, after: datetime | None) -> pa.Table:
        """Every labelled row of the files that may hold a label accepted after ``after`` (all if None)."""
        ...

    def labels_through(self, record: DatasetVersion) -> datetime | None:
        """The newest label ``record`` holds (``training_data.labels_through``); None: it holds none."""
        ...

    def profile(self, record: DatasetVersion) -> dict[str, Any] | None:
        """The profile the data plane recorded for an accepted version (``profile.json``), or None."""
        ...

    def write(
        self, dataset: str, decision_id: str, base_version: str, labels_through: datetime, body: bytes
    ) -> str:
        """Write the upload's Parquet ``body`` (idempotent); its key."""
        ...

    def written(self, dataset: str, decision_id: str) -> str | None:
        """The key of the upload written for ``decision_id``, or None when there is none."""
        ...


@dataclass(frozen=True)
class PreparedUpload:
    """A retraining upload written: where, on what, and what it holds."""

    key: str
    base_version: str
    base_rows: int
    labelled_rows: int
    labels_through: datetime
    left_out: tuple[LeftOut, ...] = ()

    def describe(self) -> str:
        """E.g. ``version 0123456789ab (1000 rows) plus 250 labelled rows through 2026-12-06T21:00:00Z``."""
        text = (
            f"version {self.base_version[:12]} ({self.base_rows} rows) plus {self.labelled_rows} "
            f"labelled rows through {self.labels_through.isoformat()}"
        )
        if self.left_out:
            text += "; left out: " + "; ".join(item.describe() for item in self.left_out)
        return text


def prepare_retraining_upload(
    base: DatasetVersion,
    decision_id: str,
    contract: DatasetContract,
    *,
    labels_after: datetime | None,
    store: TrainingDataStore,
) -> PreparedUpload | CannotCombine:
    """Write the retraining upload of a "preparing" decision.

    Parameters
    ----------
    base : DatasetVersion
        The accepted version the upload extends (the plan's ``base_version``, from the catalog).
    decision_id : str
        The decision's id: it names the upload's key and is its ``mlops-decision`` metadata.
    contract : DatasetContract
        The dataset's contract.
    labels_after : datetime, optional
        The plan's ``labels_after``: the newest label the model in service was trained on (None: none).
    store : TrainingDataStore

    Returns
    -------
    PreparedUpload or CannotCombine
        CannotCombine (nothing written) when there is no label to add, the rows do not fit the contract,
        or the data plane would refuse the upload (its first error said).
    """
    held = store.labels_through(base)
    after = max((t for t in (labels_after, held) if t is not None), default=None)
    combined = build_retraining_rows(
        store.snapshot(base), store.labelled_rows(base.dataset, after=after), contract, after=after
    )
    if isinstance(combined, CannotCombine):
        return combined
    sink = io.BytesIO()
    pq.write_table(combined.table, sink, compression="zstd")
    body = sink.getvalue()
    verdict = validate_dataset(
        lambda: io.BytesIO(body), contract, size=len(body), previous_profile=store.profile(base)
    )
    if not verdict.accepted:
        errors = [f["message"] for f in verdict.report.get("findings", []) if f["severity"] == "error"]
        return CannotCombine(
            f"the data plane would refuse {combined.describe()} ({verdict.report.get('summary')})"
            + (f": {errors[0]}" if errors else "")
        )
    key = store.write(base.dataset, decision_id, base.version, combined.labels_through, body)
    return PreparedUpload(
        key=key,
        base_version=base.version,
        base_rows=combined.base_rows,
        labelled_rows=combined.labelled_rows,
        labels_through=combined.labels_through,
        left_out=combined.left_out,
    )


class _Plan(Protocol):
    """What the preparation takes from a decision's ``DataPlan`` (``domain.retraining.policy``)."""

    @property
    def base_version(self) -> str: ...

    @property
    def labels_after(self) -> datetime | None: ...


class _Preparing(Protocol):
    """What the preparation takes from a "preparing" ``Decision`` (``domain.retraining.policy``)."""

    @property
    def decision_id(self) -> str: ...

    @property
    def dataset(self) -> str: ...

    @property
    def prepare(self) -> _Plan | None: ...


class VersionLookup(Protocol):
    """The dataset catalog, as the preparation reads it (``adapters.catalog.DynamoDatasetCatalog``)."""

    def get(self, dataset: str, version: str) -> DatasetVersion | None:
        """One version, or None."""
        ...


class RetrainingPreparer:
    """Writes the upload of a "preparing" decision: its plan's base version (the catalog's) plus labels.

    Parameters
    ----------
    contracts : mapping of str to DatasetContract
        The declared datasets' contracts, by name.
    catalog : VersionLookup
    store : TrainingDataStore
    """

    def __init__(
        self, contracts: Mapping[str, DatasetContract], catalog: VersionLookup, store: TrainingDataStore
    ) -> None:
        self._contracts, self._catalog, self._store = contracts, catalog, store

    def write(self, decision: _Preparing) -> str:
        """Write the decision's upload (idempotent: a decision acted on again finds it written); its key.

        Raises
        ------
        CannotPrepareError
            The decision has no plan, its dataset no contract or its base version no record, or the
            labelled rows cannot be combined with it (:class:`CannotCombine`'s reason).
        """
        plan, dataset = decision.prepare, decision.dataset
        if plan is None:
            raise CannotPrepareError(f"decision {decision.decision_id} plans no training data to prepare")
        # Acted on again (a retried event): what was written then stands, whatever labels came since.
        written = self._store.written(dataset, decision.decision_id)
        if written is not None:
            return written
        contract = self._contracts.get(dataset)
        if contract is None:
            raise CannotPrepareError(f"{dataset} has no contract on this platform: no upload can be prepared")
        base = self._catalog.get(dataset, plan.base_version)
        if base is None:
            raise CannotPrepareError(
                f"{dataset} version {plan.base_version[:12]} is not in the catalog: no upload can extend it"
            )
        prepared = prepare_retraining_upload(
            base, decision.decision_id, contract, labels_after=plan.labels_after, store=self._store
        )
        if isinstance(prepared, CannotCombine):
            raise CannotPrepareError(
                f"cannot prepare the training data of {dataset} for decision {decision.decision_id}: "
                + prepared.reason
            )
        return prepared.key
