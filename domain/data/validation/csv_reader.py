"""CSV: header checks, then one streaming pass of Arrow's CSV reader with the contract's types.

The reader is told everything up front (column types, null spellings, which columns to keep), so it
never infers anything and never converts undeclared columns. Rows with the wrong number of fields
are skipped and counted through ``invalid_row_handler``. A value the reader cannot convert aborts the
fast pass with :class:`ConversionFailedError`; the caller then runs a diagnostic pass
(``as_text=True``) that reads declared columns as text and names every bad value.

Every way the reader can give up becomes one of this module's exceptions (never the reader's own,
whose text means nothing to the person who uploaded the file); an error raised while checking the
rows that were read is not the file's fault and is left to propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from domain.data.contract import DatasetContract
from domain.data.validation import findings as f
from domain.data.validation.checks import RowNumbers
from domain.data.validation.columns import BatchProcessor
from domain.data.validation.convert import read_type
from domain.data.validation.findings import MAX_EXAMPLES, Finding, ValueIssues, error, json_value
from domain.data.validation.header import (
    MAX_NAME_CHARS,
    HeaderError,
    guess_delimiter,
    read_header,
    split_header,
)
from domain.data.validation.messages import blank, header_unreadable, not_a_header, wrong_delimiter
from domain.data.validation.schema_match import match_columns
from domain.data.validation.stream import FullReader, PrefixedReader, QuoteCounter, Readable

BLOCK_SIZE = 1 << 20  # measured: 1 MiB blocks parse fastest (cache-sized) on one core
MAX_BLOCK_SIZE = 64 << 20
GROUP_BYTES = 8 << 20  # batches are checked in groups: fewer calls into Arrow per row


class ConversionFailedError(Exception):
    """The fast pass met a value it cannot convert to its column's type."""


class ReaderStoppedError(Exception):
    """The CSV reader gave up; ``rows`` data rows had been read before (the trouble is after them)."""

    def __init__(self, rows: int) -> None:
        super().__init__(f"the CSV reader stopped after {rows} data rows")
        self.rows = rows


class RowTooLongError(ReaderStoppedError):
    """A row does not fit in a parser block; retry with a larger block."""


class UnparsableError(ReaderStoppedError):
    """The reader gave up for another reason (its quoting and chunking disagree about a record)."""


@dataclass
class CsvOutcome:
    """What one pass over a CSV file found."""

    header: list[str] | None = None
    findings: list[Finding] = field(default_factory=list)
    processor: BatchProcessor | None = None
    parsed: bool = False  # whether rows were read (so a profile exists)
    odd_quotes: bool = False  # an odd number of quote characters: the text may end inside quotes


class _MalformedRows:
    """The ``invalid_row_handler``: counts rows with the wrong number of fields and skips them."""

    def __init__(self, rows: RowNumbers) -> None:
        self.count = 0
        self.examples: list[dict[str, Any]] = []
        self.widths: dict[int, int] = {}
        self._rows = rows

    def __call__(self, row: Any) -> str:
        self.count += 1
        self.widths[row.actual_columns] = self.widths.get(row.actual_columns, 0) + 1
        if row.number is not None:
            self._rows.skip(row.number)
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(
                {"row": row.number, "value": json_value(row.text), "fields": row.actual_columns}
            )
        return "skip"

    def finding(self, expected: int) -> Finding | None:
        if not self.count:
            return None
        widths = ", ".join(f"{n:,} with {w}" for w, n in sorted(self.widths.items(), key=lambda i: -i[1])[:3])
        return error(
            f.ROWS_MALFORMED,
            f"{self.count:,} rows do not have the {expected} fields of the header ({widths}). Check for "
            "unquoted delimiters or quotes in values, or a truncated file: each row needs one value "
            "per column.",
            self.examples,
            count=self.count,
        )


def _arrow_options(
    contract: DatasetContract,
    header: list[str],
    positions: dict[str, int],
    *,
    as_text: bool,
    block_size: int,
    on_invalid_row: Callable[[Any], str],
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    dialect = contract.csv
    ids = [f"f{i}" for i in range(len(header))]  # positional ids: header names may repeat or be empty
    include = [f"f{positions[c.name]}" for c in contract.columns if c.name in positions]
    types = {
        f"f{positions[c.name]}": pa.string() if as_text else read_type(c)
        for c in contract.columns
        if c.name in positions
    }
    read = pacsv.ReadOptions(use_threads=False, block_size=block_size, column_names=ids)
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char=dialect.quote_char,
        double_quote=True,
        newlines_in_values=True,
        invalid_row_handler=on_invalid_row,
    )
    convert = pacsv.ConvertOptions(
        column_types=types,
        include_columns=include,
        null_values=dialect.null_values,
        true_values=dialect.true_values,
        false_values=dialect.false_values,
        strings_can_be_null=True,
        check_utf8=False,
    )
    return read, parse, convert


def scan_csv(
    text: Readable,
    contract: DatasetContract,
    issues: ValueIssues,
    *,
    as_text: bool = False,
    block_size: int = BLOCK_SIZE,
    on_batch: Callable[[pa.Table], None] | None = None,
) -> CsvOutcome:
    """Check the header, then stream, check and profile every row of a CSV text stream.

    Parameters
    ----------
    text : Readable
        Decompressed, UTF-8-checked text.
    contract : DatasetContract
    issues : ValueIssues
        Collects value-level problems.
    as_text : bool
        Diagnostic pass: read declared columns as text and convert them here.
    block_size : int
        Bytes per parser block.
    on_batch : callable, optional
        Receives each normalized batch (contract order and types), e.g. to write the snapshot.

    Returns
    -------
    CsvOutcome

    Raises
    ------
    ConversionFailedError
        On the fast pass, when a value does not convert.
    RowTooLongError
        When one row is larger than ``block_size``.
    UnparsableError
        When the reader gives up on the file for another reason.
    """
    outcome = CsvOutcome()
    dialect = contract.csv
    try:
        head = read_header(text, dialect.quote_char, dialect.delimiter)
    except HeaderError as problem:
        outcome.findings.append(header_unreadable(problem))
        return outcome
    if head is None:
        outcome.findings.append(blank())
        return outcome
    header = split_header(head.line, dialect.delimiter, dialect.quote_char)
    outcome.header = header
    longest = max(range(len(header)), key=lambda i: len(header[i]))
    if len(header[longest]) > MAX_NAME_CHARS:
        outcome.findings.append(not_a_header(header, longest, len(head.line.encode()), head.ends_text))
        return outcome
    guess = guess_delimiter(head.line, contract)
    if guess is not None:
        outcome.findings.append(wrong_delimiter(guess, dialect.delimiter, head.line))
        return outcome
    match = match_columns(header, contract, delimiter=dialect.delimiter)
    outcome.findings.extend(match.findings)
    if not match.positions or any(x.check == f.HEADER_TOO_MANY_COLUMNS for x in match.findings):
        return outcome  # no declared column to read (and Arrow would read them all), or far too wide
    rows = RowNumbers()
    malformed = _MalformedRows(rows)
    options = _arrow_options(
        contract, header, match.positions, as_text=as_text, block_size=block_size, on_invalid_row=malformed
    )
    present = [c.name for c in contract.columns if c.name in match.positions]
    processor = BatchProcessor(contract, present, issues, rows)
    outcome.processor = processor
    outcome.parsed = True
    body = QuoteCounter(FullReader(PrefixedReader(head.rest, text)), dialect.quote_char)
    try:
        reader = pacsv.open_csv(
            body, read_options=options[0], parse_options=options[1], convert_options=options[2]
        )
    except pa.ArrowInvalid as problem:
        if "Empty CSV file" in str(problem):
            return _finish(outcome, malformed, header, body)  # a header and no rows
        raise _translate(problem, malformed.count) from None
    group: list[pa.RecordBatch] = []
    group_bytes = read = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as problem:
            raise _translate(problem, read + malformed.count) from None
        group.append(batch)
        group_bytes += batch.nbytes
        read += batch.num_rows
        if group_bytes >= GROUP_BYTES:
            _process(processor, group, present, as_text, on_batch)
            group, group_bytes = [], 0
    if group:
        _process(processor, group, present, as_text, on_batch)
    return _finish(outcome, malformed, header, body)


def _process(
    processor: BatchProcessor,
    group: list[pa.RecordBatch],
    names: list[str],
    as_text: bool,
    on_batch: Callable[[pa.Table], None] | None,
) -> None:
    table = pa.Table.from_batches(group).rename_columns(names)
    normalized = processor.process(table, as_text=as_text)
    if on_batch is not None:
        on_batch(normalized)


def _finish(
    outcome: CsvOutcome, malformed: _MalformedRows, header: list[str], body: QuoteCounter
) -> CsvOutcome:
    problem = malformed.finding(len(header))
    if problem is not None:
        outcome.findings.append(problem)
    outcome.odd_quotes = body.count % 2 == 1
    return outcome


def _translate(error: pa.ArrowInvalid, rows: int) -> Exception:
    """The reader's error as ours: the reader's text is matched here and goes no further."""
    message = str(error)
    if "conversion error" in message:
        return ConversionFailedError()
    if "straddl" in message:
        return RowTooLongError(rows)
    return UnparsableError(rows)
