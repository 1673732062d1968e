"""The labelled rows: captured requests joined with the labels a team sent back, as the platform keeps them.

Each accepted feedback file of SHA-256 ``<sha>`` gets ``labels/<dataset>/<sha>/``
(``domain.names.labels_prefix``) holding :data:`LABELLED_ROWS` (Parquet, :func:`labelled_schema`) and
:data:`REPORT` (JSON, what was joined and what was not). A file that cannot be read or fails the schema
gets its report under :func:`quarantine_report_key` and nothing under ``labels/``.

The schema, in this order:

- ``inference_id`` (string): the ID the app sent with the request (a request of several rows:
  ``<id>:<row index>``);
- ``model_version`` (int64): the model version that answered;
- ``captured_at``, ``labelled_at`` (timestamp[us, UTC]): when the request was answered, when its label was
  accepted;
- every contract column but the target, in contract order and type (``category`` as its text, as the
  request sent it, since a request may carry a category the contract does not list), null where the
  request did not carry it (a column the model does not take is never captured);
- ``prediction``: the model's answer as captured (the class label as text for classification, a float64
  for regression);
- ``probabilities`` (classification only; ``map<string, float64>``): the class probabilities the answer
  gave for the row, a class label's text to its probability (null where the answer was CSV or carried
  none); the realized ``roc_auc`` and ``log_loss`` are computed from them;
- the target, under its contract name and type: the label.

The schema depends on the contract and the task alone, not on which columns the model takes, so every
label file of a dataset can be read back together however the training configuration changes.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.data.contract import Column, DatasetContract
from domain.monitoring.capture_probabilities import PROBABILITY_TYPE
from domain.names import labels_prefix
from domain.training.config import Task, infer_task

__all__ = [
    "CAPTURED_AT",
    "FIXED_COLUMNS",
    "INFERENCE_ID",
    "LABELLED_AT",
    "LABELLED_ROWS",
    "MODEL_VERSION",
    "PREDICTION",
    "PROBABILITIES",
    "QUARANTINE_PREFIX",
    "REPORT",
    "TIMESTAMP",
    "LabelledSchemaError",
    "contract_type",
    "labelled_rows_key",
    "labelled_schema",
    "newest_labels",
    "quarantine_report_key",
    "report_key",
]

LABELLED_ROWS = "rows.parquet"
REPORT = "report.json"
QUARANTINE_PREFIX = "quarantine/feedback/"

INFERENCE_ID = "inference_id"
MODEL_VERSION = "model_version"
CAPTURED_AT = "captured_at"
LABELLED_AT = "labelled_at"
PREDICTION = "prediction"
#: A classifier's class probabilities per row (label text -> probability); files written before it lack it.
PROBABILITIES = "probabilities"
#: The columns the platform adds around the contract's; a contract column may not take one of these names.
FIXED_COLUMNS = (INFERENCE_ID, MODEL_VERSION, CAPTURED_AT, LABELLED_AT, PREDICTION, PROBABILITIES)

TIMESTAMP = pa.timestamp("us", tz="UTC")
_ROW = "__row"
_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "category": pa.string(),
    "timestamp": TIMESTAMP,
}


class LabelledSchemaError(ValueError):
    """The contract cannot be labelled: one of its columns takes a name the labelled rows already use."""


def contract_type(column: Column) -> pa.DataType:
    """The Arrow type of a contract column in the labelled rows (and of the target in a feedback file)."""
    return _TYPES[column.type]


def labelled_schema(contract: DatasetContract, task: Task | None = None) -> pa.Schema:
    """The Arrow schema of a dataset's labelled rows (see the module's description).

    Parameters
    ----------
    contract : DatasetContract
    task : {"classification", "regression"}, optional
        The resolved training configuration's task: it types ``prediction``. None: the task the target
        implies (``domain.training.config.infer_task``).

    Returns
    -------
    pyarrow.Schema

    Raises
    ------
    LabelledSchemaError
        When a contract column is named like one of :data:`FIXED_COLUMNS`.
    """
    clashes = [name for name in contract.column_names if name in FIXED_COLUMNS]
    if clashes:
        raise LabelledSchemaError(
            f"contract {contract.name!r}: column {clashes[0]!r} has the name of a column the labelled rows "
            f"add ({', '.join(FIXED_COLUMNS)}); rename it in the contract to collect labels for this dataset"
        )
    target = contract.column(contract.target)
    resolved = task or infer_task(target) or "classification"
    prediction = pa.string() if resolved == "classification" else pa.float64()
    probabilities = [pa.field(PROBABILITIES, PROBABILITY_TYPE)] if resolved == "classification" else []
    return pa.schema(
        [
            pa.field(INFERENCE_ID, pa.string(), nullable=False),
            pa.field(MODEL_VERSION, pa.int64(), nullable=False),
            pa.field(CAPTURED_AT, TIMESTAMP, nullable=False),
            pa.field(LABELLED_AT, TIMESTAMP, nullable=False),
            *(pa.field(c.name, contract_type(c)) for c in contract.columns if c.name != contract.target),
            pa.field(PREDICTION, prediction),
            *probabilities,
            pa.field(target.name, contract_type(target), nullable=False),
        ]
    )


def labelled_rows_key(dataset: str, sha256: str) -> str:
    """``labels/<dataset>/<sha256>/rows.parquet``: the labelled rows of one feedback file."""
    return f"{labels_prefix(dataset)}{sha256}/{LABELLED_ROWS}"


def report_key(dataset: str, sha256: str) -> str:
    """``labels/<dataset>/<sha256>/report.json``: the report of one accepted feedback file."""
    return f"{labels_prefix(dataset)}{sha256}/{REPORT}"


def quarantine_report_key(dataset: str, sha256: str) -> str:
    """``quarantine/feedback/<dataset>/<sha256>/report.json``: the report of a feedback file refused."""
    return f"{QUARANTINE_PREFIX}{dataset}/{sha256}/{REPORT}"


def newest_labels(rows: pa.Table, *, after: datetime | None = None) -> pa.Table:
    """One row per inference ID, its newest label, kept when it was accepted after ``after``; in row order.

    The newest label is the one of greatest ``labelled_at`` (a later file corrects an earlier one); on a
    tie, the row that comes last. Row order is kept so that the same rows resample the same way as the
    training job's (the realized metrics' bootstrap draws row positions); files read in key order give
    the same table whatever the order they were written in.

    Parameters
    ----------
    rows : pyarrow.Table
        Labelled rows (at least ``inference_id`` and ``labelled_at``), of any number of feedback files.
    after : datetime, optional
        Aware; None keeps every ID's newest label. An ID whose newest label is at or before it is left
        out (its older labels are not brought back).

    Returns
    -------
    pyarrow.Table
    """
    numbered = rows.append_column(_ROW, pa.array(np.arange(rows.num_rows, dtype=np.int64)))
    order = pc.sort_indices(
        numbered,
        sort_keys=[(INFERENCE_ID, "ascending"), (LABELLED_AT, "descending"), (_ROW, "descending")],
    ).to_numpy()
    ids = numbered.column(INFERENCE_ID).take(pa.array(order)).to_numpy(zero_copy_only=False)
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    newest = rows.take(pa.array(np.sort(order[first])))
    if after is None:
        return newest
    return newest.filter(pc.greater(newest.column(LABELLED_AT), pa.scalar(after, TIMESTAMP)))
