"""The normalized snapshot: checked rows written as Parquet (zstd) during the validation pass.

Rows go to a temporary file first and are copied to the caller's sink only if the file is accepted:
a pass that has to start over (a row longer than a parser block) or a rejected file never leaves
half a snapshot behind, and the sink never needs to seek.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from domain.contract import DatasetContract
from domain.validation.convert import snapshot_schema


class SnapshotWriter:
    """Collects normalized batches (contract order and types) into a zstd Parquet file.

    Parameters
    ----------
    contract : DatasetContract
        Gives the snapshot schema; batches missing a declared column are not written.
    """

    def __init__(self, contract: DatasetContract) -> None:
        self.schema = snapshot_schema(contract)
        # Lives across write() calls until copy_to()/close(), so no context manager here.
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._writer: pq.ParquetWriter | None = None
        self.complete = True

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
            self.complete = False
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._file, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_arrays(table.columns, schema=self.schema))

    def copy_to(self, sink: BinaryIO) -> None:
        """Finish the Parquet file and copy it to ``sink``."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._file, self.schema, compression="zstd")
        self._writer.close()
        self._file.seek(0)
        shutil.copyfileobj(self._file, sink, 8 << 20)

    def close(self) -> None:
        """Discard the temporary file."""
        if self._writer is not None and self._writer.is_open:
            self._writer.close()
        self._file.close()
