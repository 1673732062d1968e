"""Byte streams: hashing and size limits on the raw upload, gzip, UTF-8 checking, format sniffing.

Every reader here is a forward-only stream with a ``read(size)`` method, the shape of an S3
streaming body and what ``pyarrow.csv.open_csv`` consumes. Work on the bytes happens inside
``read`` so that one pass over the file does everything: the SHA-256 of the upload as it arrives,
decompression, and a UTF-8 check that costs almost nothing on ASCII data (``bytes.isascii`` is a
vectorized scan; only chunks with non-ASCII bytes go through the incremental decoder).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import zlib
from typing import Protocol

import numpy as np

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


class Readable(Protocol):
    """Anything with ``read(size) -> bytes`` (an S3 body, a file, one of the readers below)."""

    def read(self, size: int = -1, /) -> bytes: ...


class Writable(Protocol):
    """Anything with ``write`` and ``flush`` (a file, a scratch file)."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class FileTooLargeError(Exception):
    """The stream went past ``limits.max_file_bytes``: the upload, or its decompressed text (``expanded``)."""

    def __init__(self, bytes_read: int, limit: int, *, expanded: bool = False) -> None:
        super().__init__(f"more than {limit} bytes (stopped after {bytes_read} bytes of the upload)")
        self.bytes_read = bytes_read  # of the upload as stored (compressed, for gzip)
        self.limit = limit
        self.expanded = expanded


class GzipError(Exception):
    """The gzip stream is truncated (``truncated``) or corrupt."""

    def __init__(self, message: str, *, truncated: bool, offset: int) -> None:
        super().__init__(message)
        self.truncated = truncated
        self.offset = offset


class EncodingError(Exception):
    """Bytes that are not UTF-8, at ``offset`` in the (decompressed) text."""

    def __init__(self, offset: int, data: bytes, reason: str) -> None:
        super().__init__(f"invalid UTF-8 at byte {offset}: {reason}")
        self.offset = offset
        self.data = data
        self.reason = reason


class _Reader(io.RawIOBase):
    """Base for the forward-only readers: readable, not seekable, ``read(-1)`` means one chunk."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class HashingReader(_Reader):
    """The raw upload: computes its SHA-256 and size as it is read and enforces the size limit.

    Parameters
    ----------
    raw : Readable
        The stream from ``open_source()``.
    limit : int
        Maximum number of bytes; reading past it raises :class:`FileTooLargeError`.
    """

    def __init__(self, raw: Readable, limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._hash = hashlib.sha256()
        self.bytes_read = 0
        self.at_eof = False

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(size if size is not None and size >= 0 else CHUNK)
        if not data:
            self.at_eof = True
            return b""
        self.bytes_read += len(data)
        if self.bytes_read > self._limit:
            raise FileTooLargeError(self.bytes_read, self._limit)
        self._hash.update(data)
        return bytes(data)

    def drain(self) -> None:
        """Read the rest of the upload so that the hash and size cover all of it."""
        while self.read(CHUNK):
            pass

    def close(self) -> None:
        """Close the upload's stream too (an S3 body holds a connection until closed)."""
        if not self.closed:
            closer = getattr(self._raw, "close", None)
            if callable(closer):
                closer()
        super().close()

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes read so far (of the whole upload once ``at_eof``)."""
        return self._hash.hexdigest()


class PrefixedReader(_Reader):
    """Replays ``prefix`` (bytes already read to sniff or parse) and then continues with ``inner``."""

    def __init__(self, prefix: bytes, inner: Readable) -> None:
        super().__init__()
        self._prefix = prefix
        self._inner = inner

    def read(self, size: int | None = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0 or size >= len(self._prefix):
                data, self._prefix = self._prefix, b""
            else:
                data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._inner.read(size if size is not None else -1)


class GunzipReader(_Reader):
    """Decompresses a gzip stream (several members allowed) in bounded memory.

    Output is produced at most ``size`` bytes at a time (``max_length``), so a small file that
    expands enormously never materializes at once; past ``limit`` bytes of output it stops with
    :class:`FileTooLargeError` (a few MB that expand to terabytes would otherwise keep a function
    busy until it times out).
    """

    def __init__(self, raw: Readable, limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._decompressor = zlib.decompressobj(wbits=31)
        self._compressed_offset = 0
        self._done = False
        self._limit = limit
        self.bytes_out = 0

    def _next_input(self) -> bytes:
        decompressor = self._decompressor
        if decompressor.unconsumed_tail:
            return decompressor.unconsumed_tail
        if decompressor.eof:
            rest = decompressor.unused_data or self._raw.read(CHUNK)
            if not rest.strip(b"\x00"):  # end of file, or zero padding some tools append
                self._done = True
                return b""
            if not rest.startswith(GZIP_MAGIC[: len(rest)]):
                raise GzipError(
                    "unexpected bytes after the end of the gzip data",
                    truncated=False,
                    offset=self._compressed_offset,
                )
            self._decompressor = zlib.decompressobj(wbits=31)
            return rest
        data = self._raw.read(CHUNK)
        if not data:
            raise GzipError(
                "the gzip data ends before its end marker: the file is truncated",
                truncated=True,
                offset=self._compressed_offset,
            )
        self._compressed_offset += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        size = size if size is not None and size > 0 else CHUNK
        while not self._done:
            data = self._next_input()
            if self._done:
                break
            try:
                out = self._decompressor.decompress(data, size)
            except zlib.error:
                raise GzipError(
                    "the gzip data is corrupt", truncated=False, offset=self._compressed_offset
                ) from None
            if out:
                self.bytes_out += len(out)
                if self.bytes_out > self._limit:
                    raise FileTooLargeError(self._compressed_offset, self._limit, expanded=True)
                return out
        return b""


class Utf8CheckingReader(_Reader):
    """Passes text through, raising :class:`EncodingError` at the first byte that is not UTF-8.

    Also counts bytes so the error can say where it is (an offset into the decompressed text).
    """

    def __init__(self, inner: Readable, *, offset: int = 0) -> None:
        super().__init__()
        self._inner = inner
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._pending = False
        self.offset = offset

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(size if size is not None else -1)
        if self._pending or not data.isascii():
            # A multi-byte character may be split across chunks: the decoder keeps the pending bytes.
            start = self.offset - len(self._decoder.getstate()[0])
            try:
                self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as error:
                where = start + error.start
                raise EncodingError(where, error.object[error.start : error.end], error.reason) from None
            self._pending = bool(self._decoder.getstate()[0])
        self.offset += len(data)
        return data


class QuoteCounter(_Reader):
    """Passes text through, counting one byte (the quote character) in it.

    An odd count at the end means the text may end inside a quoted value, which Arrow's reader
    accepts silently (the rest of the file becomes one value); the record scan then says whether it
    does. Most blocks hold no quote at all, which ``bytes.find`` (memchr) tells at once; the others are
    counted with numpy (about 0.1 ms per MiB). The count misses one case: an odd number of stray quotes
    inside unquoted values (``12" pizza``) and a file cut inside a quoted value. Telling stray quotes
    apart on every block would cost as much as parsing.
    """

    def __init__(self, inner: Readable, quote: str) -> None:
        super().__init__()
        self._inner = inner
        self._quote = quote.encode()
        self._code = ord(quote)
        self.count = 0

    def read(self, size: int | None = -1) -> bytes:
        data = self._inner.read(size if size is not None else -1)
        if data.find(self._quote) >= 0:
            self.count += int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == self._code))
        return data


class FullReader(_Reader):
    """Fills each read up to the size asked for (short only at the end).

    Arrow's CSV reader uses each read as a parser block, and a stream may return a few bytes at a
    time (a network body, a decompressor): without this, rows would straddle tiny blocks.
    """

    def __init__(self, inner: Readable) -> None:
        super().__init__()
        self._inner = inner

    def read(self, size: int | None = -1) -> bytes:
        return read_exactly(self._inner, size if size is not None and size >= 0 else CHUNK)


def read_exactly(stream: Readable, size: int) -> bytes:
    """Read up to ``size`` bytes, fewer only at the end of the stream (``read`` may return short)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        data = stream.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def sniff(head: bytes) -> str:
    """Name the container format from the first bytes: ``"gzip"``, ``"parquet"`` or ``"text"``."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    return "text"


def looks_binary(head: bytes) -> bool:
    """Whether text that should be CSV is binary: NUL bytes or many control characters."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    return control > len(head) * 0.05


def spool(stream: Readable, target: Writable) -> int:
    """Copy a stream to a file in bounded memory; return the number of bytes copied."""
    total = 0
    while data := stream.read(8 * CHUNK):
        target.write(data)
        total += len(data)
    target.flush()
    return total
