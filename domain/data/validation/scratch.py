"""The validation's files in the function's ephemeral storage (``/tmp``), and running out of it.

A validation holds at most two files there: a Parquet upload spooled for random access, and the
snapshot. Each is written through :class:`ScratchFile`, which says when the storage fills up in our
words (what was being written, how much, and what to change) instead of the system's.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from typing import BinaryIO

SPOOL = "the Parquet upload, copied there to be read"
SNAPSHOT = "the snapshot (the accepted data as Parquet)"


class StorageFullError(Exception):
    """The function's ephemeral storage filled up while a validation was writing to it.

    Attributes
    ----------
    what : str
        What was being written (:data:`SPOOL` or :data:`SNAPSHOT`).
    written : int
        How many bytes of it had been written.
    capacity : int or None
        The size of the storage, in bytes, when it can be told.
    """

    def __init__(self, what: str, written: int, capacity: int | None) -> None:
        super().__init__(f"ephemeral storage full while writing {what}")
        self.what = what
        self.written = written
        self.capacity = capacity


class OverLimitError(Exception):
    """A write would take a :class:`ScratchFile` past its limit (nothing of it was written)."""


def storage_capacity() -> int | None:
    """The size in bytes of the file system that holds temporary files (``/tmp`` in Lambda)."""
    try:
        return shutil.disk_usage(tempfile.gettempdir()).total
    except OSError:
        return None


class ScratchFile:
    """Writes through to ``target``, counting bytes; a full disk is a :class:`StorageFullError`.

    Once :meth:`shut`, writes are dropped: a Parquet writer abandoned half-way (and finished by the
    garbage collector) cannot put a footer into a sink that was emptied.

    Parameters
    ----------
    target : BinaryIO
        The file written to.
    what : str
        What the file holds, for the error.
    limit : int, optional
        The most bytes it may take: a write past it raises :class:`OverLimitError` instead.
    """

    def __init__(self, target: BinaryIO, what: str, limit: int | None = None) -> None:
        self._target = target
        self.what = what
        self.limit = limit
        self.written = 0
        self._shut = False

    def write(self, data: bytes | memoryview, /) -> int:
        """Write ``data`` to the target (nothing once shut)."""
        if self._shut:
            return len(data)
        if self.limit is not None and self.written + len(data) > self.limit:
            raise OverLimitError(self.what)
        try:
            count = self._target.write(data)
        except OSError as error:
            self._raise_if_full(error)
            raise
        self.written += count
        return count

    def flush(self) -> None:
        """Flush the target: buffered bytes reach the disk here, so it may find the disk full."""
        if self._shut:
            return
        try:
            self._target.flush()
        except OSError as error:
            self._raise_if_full(error)
            raise

    def tell(self) -> int:
        """The bytes written through this object."""
        return self.written

    @property
    def closed(self) -> bool:
        """Never: once shut, writes are dropped rather than refused (the Parquet writer asks)."""
        return False

    def shut(self) -> None:
        """Drop every later write."""
        self._shut = True

    def _raise_if_full(self, error: OSError) -> None:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFullError(self.what, self.written, storage_capacity()) from error
