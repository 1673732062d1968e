"""The normalized snapshot: checked rows written as Parquet (zstd) during the validation pass.

Rows are written straight into the caller's sink, the one file that is then uploaded: the
function's ephemeral storage holds one snapshot, never a copy of it. The sink is emptied when a
writer starts and whenever its snapshot is given up (a pass that has to start over, a rejected file,
a failure), so it never holds half a snapshot: what it holds once :meth:`SnapshotWriter.finish`
returns is complete. The sink must be seekable and truncatable (a temporary file, ``BytesIO``).

A snapshot may take no more than the contract's ``limits.max_file_bytes`` (the upload's own limit):
with the spooled upload, also within that limit, the function's storage holds at most twice the
limit, which the configuration checks at synth (``domain.data.contract.max_file_bytes_for``). Our zstd
re-encoding is usually far smaller than the data, but not always (a Parquet upload that compresses
better than it): past the limit, the file is rejected, saying so.
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from domain.data.contract import DatasetContract
from domain.data.validation.convert import snapshot_schema
from domain.data.validation.scratch import SNAPSHOT, OverLimitError, ScratchFile

# Parquet's fixed cost (schema, footer) makes a tiny file's snapshot larger than its text: below this
# much, the contract's limit does not bound the snapshot (any storage Lambda offers holds it).
MIN_SNAPSHOT_LIMIT = 1 << 20


def snapshot_limit(contract: DatasetContract) -> int:
    """The most bytes a snapshot of a file under ``contract`` may take."""
    return max(contract.limits.max_file_bytes, MIN_SNAPSHOT_LIMIT)


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
        self.limit = snapshot_limit(contract)
        self._file = ScratchFile(sink, SNAPSHOT, self.limit)
        self._writer: pq.ParquetWriter | None = None
        self.complete = True
        self.finished = False
        self.too_large = False

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
        try:
            self._open().write_table(pa.Table.from_arrays(table.columns, schema=self.schema))
        except OverLimitError:
            self._over_limit()

    def finish(self) -> None:
        """Write the Parquet footer: the sink then holds the whole snapshot, positioned at its end.

        Unless the footer takes the snapshot past its limit: ``too_large`` then says so, and the sink
        is left empty.
        """
        try:
            self._open().close()
        except OverLimitError:
            self._over_limit()
            return
        self._file.flush()
        self.finished = True

    def _over_limit(self) -> None:
        self.too_large = True
        self.discard()

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
