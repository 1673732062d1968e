"""Labelled rows for tests, in the schema the feedback ingestion writes (``domain.feedback.labelled``), a
"preparing" decision as the retraining preparer reads one, and a table as the bytes of a Parquet file."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.feedback.labelled import (
    CAPTURED_AT,
    INFERENCE_ID,
    LABELLED_AT,
    MODEL_VERSION,
    PREDICTION,
    labelled_schema,
)


def labelled(
    contract: DatasetContract,
    requests: pa.Table,
    ids: Sequence[str],
    labelled_at: datetime | Sequence[datetime],
    *,
    captured_at: datetime | None = None,
    model_version: int = 1,
) -> pa.Table:
    """``requests`` (contract columns, the target as the label) as labelled rows of ``contract``.

    Columns the requests lack are null; categories become text, as a request sends them.
    """
    n = requests.num_rows
    times = [labelled_at] * n if isinstance(labelled_at, datetime) else list(labelled_at)
    schema = labelled_schema(contract)
    target = requests[contract.target] if contract.target in requests.column_names else None
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        INFERENCE_ID: pa.array(list(ids), pa.string()),
        MODEL_VERSION: pa.array([model_version] * n, pa.int64()),
        CAPTURED_AT: pa.array([captured_at or times[0]] * n, schema.field(CAPTURED_AT).type),
        LABELLED_AT: pa.array(times, schema.field(LABELLED_AT).type),
    }
    for field in schema:
        if field.name in columns:
            continue
        if field.name == PREDICTION:
            columns[PREDICTION] = (
                target.cast(pa.string()) if target is not None else pa.nulls(n, field.type)
            ).cast(field.type)
        elif field.name in requests.column_names:
            columns[field.name] = requests[field.name].cast(field.type)
        else:
            columns[field.name] = pa.nulls(n, field.type)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


@dataclass(frozen=True)
class Plan:
    """A decision's ``DataPlan``, as the preparer reads it."""

    base_version: str
    labels_after: datetime | None


@dataclass(frozen=True)
class PreparingDecision:
    """A "preparing" decision, as the preparer reads it."""

    decision_id: str
    dataset: str
    prepare: Plan | None


def parquet(table: pa.Table) -> bytes:
    """``table`` as a Parquet file's bytes."""
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
