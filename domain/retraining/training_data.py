"""Training data from labels: the accepted data plus the labelled rows the model in service never saw.

The retraining policy, when labels arrived since the model in service was trained, prepares a new dataset
version made of the latest accepted version's rows and the labelled rows (``domain.feedback.labelled``),
and uploads it through the data plane (:mod:`domain.retraining.preparation`), so that it is validated,
versioned and traceable like any other upload. This module is the pure part: which labels count, and the
combined rows in the contract's columns.

Which labels count
    The newest label of each inference ID wins (a later file corrects an earlier one); of those, the ones
    accepted after a time (``after``): the labels the data already holds are older than it.

Why ``after`` and not the IDs
    An accepted snapshot keeps the contract's columns only (an upload's other columns are dropped or
    refused), so it cannot say which inference IDs it holds. A version the policy prepared records the
    newest ``labelled_at`` it includes (S3 metadata ``mlops-labels-through``, read back by
    :func:`domain.retraining.upload_metadata.labels_through`): labels after that time are exactly those it
    does not hold, since labels are kept in files whose ``labelled_at`` is their acceptance time. So a
    labelled row is never added twice to the data it was added to once.

Rows the contract refuses
    A captured request satisfied the contract as the endpoint checked it, with one exception: an endpoint
    with ``serving.unknown_categories: as_missing`` answers a category the contract does not list (the
    labelled rows keep it as sent). The data plane would refuse the whole upload for one such value, so a
    labelled row with a value the contract refuses (a null where none is allowed, a number outside the
    bounds, NaN or infinity, an unlisted category) is left out and counted, by column, in
    :class:`CombinedRows`. A column the labelled rows never hold a value for (one the model does not take,
    so never captured) that the contract requires makes the combination impossible, said by
    :class:`CannotCombine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import DatasetContract
from domain.data.validation.convert import snapshot_schema, to_snapshot
from domain.feedback.labelled import LABELLED_AT, newest_labels
from domain.retraining.contract_fit import refusals

__all__ = [
    "CannotCombine",
    "CombinedRows",
    "LabelSummary",
    "LeftOut",
    "build_retraining_rows",
    "newest_labels",
    "summarize_labels",
]


@dataclass(frozen=True)
class LabelSummary:
    """The labels of a dataset accepted after a time, the newest label of each inference ID counted once.

    Attributes
    ----------
    rows : int
        Labelled rows (distinct inference IDs) whose newest label is after the time.
    newest_labelled_at : datetime or None
        When the newest of them was accepted (aware UTC); None when there are none.
    """

    rows: int
    newest_labelled_at: datetime | None


@dataclass(frozen=True)
class LeftOut:
    """Labelled rows left out of the combination because the contract refuses a value of ``column``."""

    column: str
    rows: int
    why: str

    def describe(self) -> str:
        """E.g. ``3 rows: plan is not one of the contract's categories``."""
        return f"{self.rows} row{'s' if self.rows != 1 else ''}: {self.column} {self.why}"


@dataclass(frozen=True)
class CombinedRows:
    """The rows of a retraining upload.

    Attributes
    ----------
    table : pyarrow.Table
        The accepted version's rows then the labelled rows, in the contract's columns (order, snapshot
        types and nullability: ``domain.data.validation.convert.snapshot_schema``).
    base_rows : int
        Rows from the accepted version.
    labelled_rows : int
        Labelled rows added (one per inference ID).
    labels_through : datetime
        The newest ``labelled_at`` added (aware UTC).
    left_out : tuple of LeftOut
        Labelled rows the contract refuses, by column (a row may be counted under several columns).
    """

    table: pa.Table
    base_rows: int
    labelled_rows: int
    labels_through: datetime
    left_out: tuple[LeftOut, ...] = ()

    def describe(self) -> str:
        """What the rows are, in plain words."""
        text = f"{self.base_rows} accepted rows plus {self.labelled_rows} labelled rows"
        if self.left_out:
            text += " (left out: " + "; ".join(item.describe() for item in self.left_out) + ")"
        return text


@dataclass(frozen=True)
class CannotCombine:
    """The labelled rows cannot make a dataset version with the accepted data: ``reason`` says why."""

    reason: str


def summarize_labels(labelled: pa.Table, *, after: datetime | None) -> LabelSummary:
    """How many inference IDs have their newest label after ``after``, and the newest such label."""
    newest = newest_labels(labelled, after=after)
    if newest.num_rows == 0:
        return LabelSummary(0, None)
    latest = pc.max(newest[LABELLED_AT]).as_py()
    return LabelSummary(newest.num_rows, latest)


def build_retraining_rows(
    snapshot: pa.Table, labelled: pa.Table, contract: DatasetContract, *, after: datetime | None
) -> CombinedRows | CannotCombine:
    """The accepted version's rows plus the labelled rows newer than ``after``, in the contract's columns.

    Parameters
    ----------
    snapshot : pyarrow.Table
        The accepted version's snapshot (``datasets/<dataset>/<sha256>/data.parquet``).
    labelled : pyarrow.Table
        Labelled rows (``domain.feedback.labelled.labelled_schema``), several labels of an ID allowed.
    contract : DatasetContract
        The dataset's contract now: the rows are written in its columns.
    after : datetime, optional
        Labels accepted at or before this time are in the data already (see the module); None: none are.

    Returns
    -------
    CombinedRows or CannotCombine
        CannotCombine when no labelled row is newer than ``after``, when none the contract accepts is
        left, when a column the contract requires is missing from the snapshot or never held by the
        labelled rows, or when a column's values do not convert to the contract's type.
    """
    schema = snapshot_schema(contract)
    newest = newest_labels(labelled, after=after)
    since = f" after {after.isoformat()}" if after is not None else ""
    if newest.num_rows == 0:
        return CannotCombine(f"no labelled rows{since}: there is nothing to add to the accepted data")
    base = _in_contract(snapshot, contract, "the accepted version", schema)
    if isinstance(base, CannotCombine):
        return base
    refused, left_out = np.zeros(newest.num_rows, dtype=bool), []
    for column in contract.columns:
        if column.name not in newest.column_names or newest[column.name].null_count == newest.num_rows:
            if not column.nullable and column.name != contract.target:
                return CannotCombine(
                    f"the labelled rows hold no value of column {column.name!r} (the model does not take it, "
                    "so requests do not carry it) and the contract requires one: declare it nullable in the "
                    "contract, or retrain on newer uploaded data"
                )
            continue
        for mask, why in refusals(newest[column.name], column):
            if mask.any():
                refused |= mask
                left_out.append(LeftOut(column.name, int(mask.sum()), why))
    kept = newest.filter(pa.array(~refused))
    if kept.num_rows == 0:
        reasons = "; ".join(item.describe() for item in left_out)
        return CannotCombine(
            f"none of the {newest.num_rows} labelled rows{since} fits the contract: {reasons}"
        )
    added = _in_contract(kept, contract, "the labelled rows", schema)
    if isinstance(added, CannotCombine):
        return added
    return CombinedRows(
        table=pa.concat_tables([base, added]),
        base_rows=base.num_rows,
        labelled_rows=added.num_rows,
        labels_through=pc.max(kept[LABELLED_AT]).as_py(),
        left_out=tuple(left_out),
    )


def _in_contract(
    table: pa.Table, contract: DatasetContract, what: str, schema: pa.Schema
) -> pa.Table | CannotCombine:
    """``table``'s contract columns in snapshot order and types; a missing nullable column all null."""
    arrays = []
    for column, field in zip(contract.columns, schema, strict=True):
        if column.name not in table.column_names:
            if not column.nullable:
                return CannotCombine(
                    f"{what} have no column {column.name!r}, which the contract requires (the contract "
                    "changed since): upload data with it, then retraining can add labels to it"
                )
            arrays.append(pa.nulls(table.num_rows, field.type))
            continue
        values = table[column.name]
        try:
            if column.type == "category":
                values = to_snapshot(values.cast(pa.string()), column)
            else:
                values = values.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return CannotCombine(
                f"{what}' column {column.name!r} holds {values.type} values, which do not convert to the "
                f"contract's {column.type}"
            )
        arrays.append(values)
    return pa.Table.from_arrays(arrays, schema=schema)
