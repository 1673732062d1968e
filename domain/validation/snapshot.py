"""The normalized snapshot: checked rows written as Parquet (zstd) during the validation pass.

Rows are written straight into the caller's sink, the one file that is then uploaded: the
function's ephemeral storage holds one snapshot, never a copy of it. The sink is emptied when a
writer starts and whenever its snapshot is given up (a pass that has to start over, a rejected file,
a failure), so it never holds half a snapshot: what it holds once :meth:`SnapshotWriter.finish`
returns is complete. The sink must be seekable and truncatable (a temporary file, ``BytesIO``).
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from domain.contract import DatasetContract
from domain.validation.convert import snapshot_schema
from domain.validation.scratch import SNAPSHOT, ScratchFile


class SnapshotWriter:
    """Collects normalized batches (contract order and types) into a zstd Parquet file in ``sink``.

    Parameters
    ----------
    contract : DatasetContract
        Gives the snapshot schema; batches missing a declared column are not written.
    sink : BinaryIO
        Receives the snapshot; emptied now, and again if the snapshot is given up.
    """

    def __init__(self, contract: DatasetContract, sink: BinaryIO) -> None:
        self.schema = snapshot_schema(contract)
        self._sink = sink
        _empty(sink)
        self._file = ScratchFile(sink, SNAPSHOT)
        self._writer: pq.ParquetWriter | None = None
        self.complete = True
        self.finished = False

    def write(self, table: pa.Table) -> None:
        """Append a normalized batch."""
        if not self.complete:
            return
        # A missing column, or a null in a non-nullable one, means the file is rejected (its findings
        # say why): the snapshot just stops here.
        if table.schema.names != self.schema.names or any(
            column.null_count and not field.nullable
            for column, field in zip(table.columns, self.schema, strict=True)
        ):
            self.discard()
            return
        self._open().write_table(pa.Table.from_arrays(table.columns, schema=self.schema))

    def finish(self) -> None:
        """Write the Parquet footer: the sink then holds the whole snapshot, positioned at its end."""
        self._open().close()
        self._file.flush()
        self.finished = True

    def discard(self) -> None:
        """Give the snapshot up: the sink is left empty, and nothing more is written to it."""
        self.complete = False
        self._file.shut()
        if self._writer is not None and self._writer.is_open:
            # Its footer goes nowhere (the file is shut); one that failed half-way (a full disk) may
            # refuse to close, and what it held is dropped anyway.
            with contextlib.suppress(pa.ArrowException, OSError):
                self._writer.close()
        self.finished = False
        _empty(self._sink)

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            # Through the scratch file, so that a full disk is said in our words.
            self._writer = pq.ParquetWriter(self._file, self.schema, compression="zstd")
        return self._writer


def _empty(sink: BinaryIO) -> None:
    sink.seek(0)
    sink.truncate()
