"""The header: read it, and compare the columns a file has with the ones its contract declares.

The same comparison serves CSV headers and Parquet schemas. A misspelled column shows up as one
finding ("'tenure_months' is missing; the file has 'tenure_month'"), not as a missing plus an
unexplained extra column.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field

from domain.contract import DatasetContract
from domain.validation import findings as f
from domain.validation.findings import Finding, error
from domain.validation.stream import Readable

MAX_HEADER_BYTES = 16 << 20
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}


class HeaderError(Exception):
    """The header row could not be read (too long, or the file ends inside a quoted name)."""


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


_BOM = b"\xef\xbb\xbf"


def _record_end(buffer: bytes, start: int, quote: int, in_quotes: bool) -> tuple[int, bool]:
    """Index of the first line break outside quotes at or after ``start`` (-1 if none), and the quote state.

    Jumps between quote characters and line breaks with ``bytes.find`` rather than looking at every
    byte, so a long header costs little.
    """
    quote_byte = bytes([quote])
    index = start
    while index < len(buffer):
        if in_quotes:
            close = buffer.find(quote_byte, index)
            if close < 0:
                return -1, True
            in_quotes, index = False, close + 1
            continue
        breaks = [i for i in (buffer.find(b"\n", index), buffer.find(b"\r", index)) if i >= 0]
        opening = buffer.find(quote_byte, index)
        first_break = min(breaks) if breaks else -1
        if opening >= 0 and (first_break < 0 or opening < first_break):
            in_quotes, index = True, opening + 1
            continue
        return first_break, False
    return -1, in_quotes


def read_header(stream: Readable, quote_char: str) -> HeaderText | None:
    """Read the first record of a CSV text stream (quote-aware); None if the text is blank.

    A UTF-8 byte order mark and leading blank lines are skipped.

    Raises
    ------
    HeaderError
        When no end of record is found in the first 16 MiB, or the text ends inside quotes.
    UnicodeDecodeError
        When the header is not UTF-8.
    """
    buffer = b""
    quote = ord(quote_char)
    bom: bool | None = None
    start = scanned = 0
    in_quotes = at_eof = False
    while True:
        chunk = b"" if at_eof else stream.read(64 << 10)
        at_eof = at_eof or not chunk
        buffer += chunk
        if bom is None:
            if len(buffer) < len(_BOM) and not at_eof:
                continue
            bom = buffer.startswith(_BOM)
            start = scanned = len(_BOM) if bom else 0
        while True:
            end, state = _record_end(buffer, scanned, quote, in_quotes)
            if end < 0:
                scanned, in_quotes = len(buffer), state
                break
            if buffer[end] == 13 and end + 1 == len(buffer) and not at_eof:
                break  # a CR at the end of what we have may be half of a CRLF: read on first
            stop = end + (2 if buffer[end : end + 2] == b"\r\n" else 1)
            record = buffer[start:end]
            if record.strip(b" \t"):
                return HeaderText(line=record.decode("utf-8"), rest=buffer[stop:], bom=bom)
            start = scanned = stop  # a blank line before the header
        if at_eof:
            if in_quotes:
                raise HeaderError("the file ends inside a quoted column name")
            record = buffer[start:]
            return HeaderText(line=record.decode("utf-8"), rest=b"", bom=bom) if record.strip() else None
        if len(buffer) - start > MAX_HEADER_BYTES:
            raise HeaderError(f"no end of line in the first {MAX_HEADER_BYTES >> 20} MiB")


def split_header(line: str, delimiter: str, quote_char: str) -> list[str]:
    """Split a header row into column names (CSV quoting rules)."""
    reader = csv.reader(io.StringIO(line), delimiter=delimiter, quotechar=quote_char, strict=False)
    return next(reader, [])


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


@dataclass
class ColumnMatch:
    """How the columns of a file map onto the contract."""

    positions: dict[str, int] = field(default_factory=dict)  # declared name -> index in the file
    findings: list[Finding] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        """Whether a header problem rejects the file."""
        return any(finding.severity == "error" for finding in self.findings)


def _close_name(name: str, candidates: list[str]) -> str | None:
    lowered = {candidate.strip().lower(): candidate for candidate in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return matches[0] if matches else None


def match_columns(header: list[str], contract: DatasetContract) -> ColumnMatch:
    """Compare the file's column names with the contract's.

    Parameters
    ----------
    header : list of str
        Column names as read, in file order.
    contract : DatasetContract

    Returns
    -------
    ColumnMatch
        Where each declared column is in the file (first occurrence), and the header findings:
        missing (with a close-name suggestion), extra (per ``extra_columns``), duplicated columns,
        and too many columns.
    """
    match = ColumnMatch()
    first: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        if name in first:
            duplicates.setdefault(name, [first[name]]).append(index)
        else:
            first[name] = index
    declared = contract.column_names
    extra = [name for name in first if name not in set(declared)]
    explained: set[str] = set()
    for name in declared:
        if name in first:
            match.positions[name] = first[name]
            continue
        close = _close_name(name, [e for e in extra if e not in explained])
        hint = ""
        if close is not None:
            explained.add(close)
            hint = f" The file has a column {close!r}: if that is it, rename it to {name!r}."
        message = f"Column {name!r} is declared in the contract but is not in the file.{hint}"
        examples = [{"line": 1, "value": close}] if close else []
        match.findings.append(error(f.HEADER_MISSING_COLUMN, message, examples, column=name))
    for name, positions in duplicates.items():
        where = ", ".join(str(p + 1) for p in positions)
        message = (
            f"Column {name!r} appears {len(positions)} times in the header (positions {where}); each column "
            "must appear once. Remove or rename the copies."
        )
        examples = [{"line": 1, "value": name}]
        match.findings.append(
            error(f.HEADER_DUPLICATE_COLUMN, message, examples, column=name, count=len(positions))
        )
    unexplained = [name for name in extra if name not in explained]
    if unexplained and contract.extra_columns != "ignore":
        severity: f.Severity = "error" if contract.extra_columns == "reject" else "warning"
        consequence = (
            "The contract rejects undeclared columns: remove them from the file or declare them."
            if severity == "error"
            else "They are not kept in the dataset version."
        )
        for name in unexplained:
            message = (
                f"Column {name!r} (position {first[name] + 1}) is not declared in the contract. {consequence}"
            )
            examples = [{"line": 1, "value": name}]
            match.findings.append(Finding(f.HEADER_EXTRA_COLUMN, severity, name, 1, message, examples))
    if len(header) > contract.limits.max_columns:
        message = (
            f"The file has {len(header)} columns, more than the contract's limit of "
            f"{contract.limits.max_columns}. Check the delimiter, or raise limits.max_columns."
        )
        examples = [{"line": 1, "value": len(header)}]
        match.findings.append(error(f.HEADER_TOO_MANY_COLUMNS, message, examples, count=len(header)))
    return match
