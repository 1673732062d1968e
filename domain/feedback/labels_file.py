"""Reading a feedback file: the data plane's validator, run against the labels' own contract.

A feedback file is a CSV with a header (gzipped or not) or a Parquet file with exactly two columns:
``inference_id`` (text) and the dataset's target, under its contract name and type. It is checked by the
same streaming validator as any upload (:func:`domain.data.validation.validate_dataset`), against a contract
derived from the dataset's (:func:`labels_contract`): the ID a non-empty string, the target as the contract
declares it (type, bounds, categories) and never empty, the dataset's CSV dialect and size limit, any other
column refused. So a bad file gets the same report as a bad upload (every problem, where, with examples)
and a good one comes out as the validator's normalized Parquet, read here as two typed columns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import Column, DatasetContract, Limits
from domain.data.validation import ValidationResult, validate_dataset
from domain.feedback.labelled import INFERENCE_ID, contract_type

__all__ = ["LabelsFile", "check_labels", "labels_contract"]

ROW = "_row"  # the label's position in the file (0-based), for "the last label of an ID in a file wins"


@dataclass(frozen=True)
class LabelsFile:
    """A feedback file that passed its checks.

    Attributes
    ----------
    result : ValidationResult
        The validator's verdict (``sha256``, ``format``, ``rows``, ``report``).
    labels : pyarrow.Table
        ``inference_id`` (string), the target (its contract type) and ``_row`` (int64), in file order.
    """

    result: ValidationResult
    labels: pa.Table


def labels_contract(contract: DatasetContract) -> DatasetContract:
    """The contract a feedback file of ``contract``'s dataset is checked against.

    Two columns, ``inference_id`` (string, required) then the target (as declared, but required); other
    columns refused; the dataset's CSV dialect and file size limit; at least one row.
    """
    target = contract.column(contract.target)
    return DatasetContract(
        name=contract.name,
        description=f"Labels of {contract.name}'s served requests, by inference ID.",
        target=target.name,
        columns=[
            Column(name=INFERENCE_ID, type="string", description="The request's InferenceId."),
            target.model_copy(update={"nullable": False}),
        ],
        extra_columns="reject",
        limits=Limits(max_file_bytes=contract.limits.max_file_bytes, min_rows=1),
        csv=contract.csv,
    )


def check_labels(
    opener: Callable[[], BinaryIO], contract: DatasetContract, *, size: int | None = None
) -> LabelsFile | ValidationResult:
    """Check a feedback file against the labels contract of ``contract``'s dataset.

    Parameters
    ----------
    opener : callable
        Opens the file's bytes from the start (called again for a diagnostic pass).
    contract : DatasetContract
        The dataset's contract.
    size : int, optional
        The file's size, if known: a file over the limit is refused unread.

    Returns
    -------
    LabelsFile or ValidationResult
        The labels, or the refusal (``accepted`` false; its report says every problem and where).
    """
    labels = labels_contract(contract)
    target = contract.column(contract.target)
    # The validator writes the normalized labels to the function's ephemeral storage, as for an upload.
    with tempfile.TemporaryFile(prefix="labels-", suffix=".parquet") as sink:
        result = validate_dataset(opener, labels, size=size, snapshot_sink=sink)
        if not result.accepted:
            return result
        sink.seek(0)
        table = pq.read_table(sink)
    ids = table.column(INFERENCE_ID).cast(pa.string())
    values = table.column(target.name)
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())  # a category: its text (the labelled rows' type)
    values = values.cast(contract_type(target))
    positions = pa.array(np.arange(table.num_rows, dtype=np.int64))
    return LabelsFile(result, pa.table({INFERENCE_ID: ids, target.name: values, ROW: positions}))
