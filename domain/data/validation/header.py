"""The header row: read it (quote-aware, in bounded memory), split it into names, guess its delimiter.

:mod:`domain.data.validation.schema_match` compares the names with the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.data.contract import DatasetContract
from domain.data.validation.findings import json_value
from domain.data.validation.stream import Readable

MAX_HEADER_BYTES = 16 << 20
MAX_NAME_CHARS = 255  # the longest column name a contract can declare
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}


class HeaderError(Exception):
    """The header row could not be read: no line break in its first bytes, or a quote never closed.

    Attributes
    ----------
    open_quote : bool
        Whether a quote opened in the header is still open where reading stopped.
    ends_text : bool
        Whether reading stopped at the end of the text (else: after ``MAX_HEADER_BYTES``).
    byte_offset : int
        Where the quote still open was opened, else where reading stopped.
    line : int
        The physical line (1-based) of ``byte_offset``.
    bytes_read : int
        How much of the text was read when reading stopped.
    """

    def __init__(
        self, *, open_quote: bool, ends_text: bool, byte_offset: int, line: int, bytes_read: int
    ) -> None:
        super().__init__("a quote is never closed" if open_quote else "no end of line")
        self.open_quote = open_quote
        self.ends_text = ends_text
        self.byte_offset = byte_offset
        self.line = line
        self.bytes_read = bytes_read


def delimiter_name(delimiter: str) -> str:
    """A readable name for a delimiter, e.g. ``semicolon (;)``."""
    name = _DELIMITER_NAMES.get(delimiter)
    return f"{name} ({delimiter!r})" if name else repr(delimiter)


@dataclass
class HeaderText:
    """The header row as text, and the bytes read after it (the start of the data)."""

    line: str
    rest: bytes
    bom: bool
    ends_text: bool = False  # no line break after it: the header is all the file has


_BOM = b"\xef\xbb\xbf"


class _RecordScan:
    """Finds where the first record ends, with the reader's quoting rules, as bytes arrive.

    A quote opens a quoted value only at the start of a field (elsewhere it is a character); inside
    one, a doubled quote is a quote. The scan jumps between quotes and line breaks with ``find``
    rather than looking at every byte, so a long header costs little.
    """

    def __init__(self, quote: int, delimiter: int) -> None:
        self.quote = bytes([quote])
        self.field_starts = (delimiter, 10, 13)
        self.index = 0  # where to go on from
        self.in_quotes = False
        self.opened_at = -1  # the quote that opened the quoted value we are in

    def record_end(self, buffer: bytearray, record_start: int, final: bool) -> int:
        """Index of the first line break outside quotes from ``self.index``; -1 if none yet."""
        size = len(buffer)
        while self.index < size:
            if self.in_quotes:
                close = buffer.find(self.quote, self.index)
                if close < 0 or (close + 1 == size and not final):
                    self.index = size if close < 0 else close  # a last quote may be half of a pair
                    return -1
                if close + 1 < size and buffer[close + 1] == self.quote[0]:
                    self.index = close + 2
                    continue
                self.in_quotes, self.index = False, close + 1
                continue
            breaks = [
                at for at in (buffer.find(b"\n", self.index), buffer.find(b"\r", self.index)) if at >= 0
            ]
            first_break = min(breaks) if breaks else size
            opening = buffer.find(self.quote, self.index, first_break)
            while opening >= 0 and opening != record_start and buffer[opening - 1] not in self.field_starts:
                opening = buffer.find(self.quote, opening + 1, first_break)
            if opening >= 0:
                self.in_quotes, self.opened_at, self.index = True, opening, opening + 1
                continue
            self.index = first_break
            return first_break if breaks else -1
        return -1


def read_header(stream: Readable, quote_char: str, delimiter: str) -> HeaderText | None:
    """Read the first record of a CSV text stream (quote-aware); None if the text is blank.

    A UTF-8 byte order mark and leading blank lines are skipped.

    Raises
    ------
    HeaderError
        When no end of record is found in the first 16 MiB, or the text ends inside quotes (with
        where: the quote still open, or where reading stopped).
    UnicodeDecodeError
        When the header is not UTF-8.
    """
    buffer = bytearray()  # grows by appending: a long header costs linear time, not quadratic
    scan = _RecordScan(ord(quote_char), ord(delimiter))
    bom: bool | None = None
    start = 0
    at_eof = False
    while True:
        chunk = b"" if at_eof else stream.read(64 << 10)
        at_eof = at_eof or not chunk
        buffer += chunk
        if bom is None:
            if len(buffer) < len(_BOM) and not at_eof:
                continue
            bom = buffer.startswith(_BOM)
            start = scan.index = len(_BOM) if bom else 0
        while (end := scan.record_end(buffer, start, at_eof)) >= 0:
            if buffer[end] == 13 and end + 1 == len(buffer) and not at_eof:
                break  # a CR at the end of what we have may be half of a CRLF: read on first
            stop = end + (2 if buffer[end : end + 2] == b"\r\n" else 1)
            record = buffer[start:end]
            if record.strip(b" \t"):
                return HeaderText(line=record.decode("utf-8"), rest=bytes(buffer[stop:]), bom=bom)
            start = scan.index = stop  # a blank line before the header
        if at_eof and not scan.in_quotes:
            record = buffer[start:]
            if not record.strip():
                return None
            return HeaderText(line=record.decode("utf-8"), rest=b"", bom=bom, ends_text=True)
        if at_eof or len(buffer) - start > MAX_HEADER_BYTES:
            at = scan.opened_at if scan.in_quotes else len(buffer)
            line = buffer.count(b"\n", 0, at) + 1
            raise HeaderError(
                open_quote=scan.in_quotes, ends_text=at_eof, byte_offset=at, line=line, bytes_read=len(buffer)
            )


def split_header(line: str, delimiter: str, quote_char: str) -> list[str]:
    """Split a header row into column names, with the quoting rules of the CSV reader.

    A quote opens a quoted name only at the start of a field; inside one, a doubled quote is a quote.
    Unlike the ``csv`` module, no name is too long to split (it stops at 128 KiB per field).
    """
    if quote_char not in line:
        return line.split(delimiter)
    names: list[str] = []
    index, end = 0, len(line)
    while True:
        parts: list[str] = []
        if line.startswith(quote_char, index):
            index += 1
            while True:
                close = line.find(quote_char, index)
                if close < 0:  # read_header never returns an open quote; be total anyway
                    parts.append(line[index:])
                    index = end
                    break
                parts.append(line[index:close])
                if line.startswith(quote_char, close + 1):
                    parts.append(quote_char)
                    index = close + 2
                    continue
                index = close + 1
                break
        stop = line.find(delimiter, index)
        stop = end if stop < 0 else stop
        parts.append(line[index:stop])
        names.append("".join(parts))
        if stop >= end:
            return names
        index = stop + len(delimiter)


def as_listed(name: str) -> str:
    """A column name as reports list it: as read, unless it is longer than any declared name can be."""
    return name if len(name) <= MAX_NAME_CHARS else str(json_value(name))


def shown(name: str) -> str:
    """A column name as messages quote it: repr, cut if it is longer than any declared name can be."""
    if len(name) <= MAX_NAME_CHARS:
        return repr(name)
    return f"{name[:40]!r}... ({len(name):,} characters)"


def guess_delimiter(line: str, contract: DatasetContract) -> str | None:
    """The delimiter the header seems to use if it is not the contract's, else None.

    A delimiter "fits" by the number of declared column names it produces; another delimiter is
    suggested only when it produces more of them than the contract's delimiter.
    """
    declared = set(contract.column_names)
    quote = contract.csv.quote_char

    def fit(delimiter: str) -> int:
        return len(declared & {name.strip() for name in split_header(line, delimiter, quote)})

    expected = fit(contract.csv.delimiter)
    best = max((d for d in CANDIDATE_DELIMITERS if d != contract.csv.delimiter), key=fit)
    if fit(best) > expected and fit(best) >= 2:
        return best
    if expected == 0 and len(declared) > 1 and len(split_header(line, contract.csv.delimiter, quote)) == 1:
        # Nothing matches and nothing splits: still say which delimiter appears most.
        counts = {d: line.count(d) for d in CANDIDATE_DELIMITERS if d != contract.csv.delimiter}
        common = max(counts, key=lambda d: counts[d])
        return common if counts[common] > 0 else None
    return None
