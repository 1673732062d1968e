"""File-level findings and their wording: what went wrong with the file as a whole, and what to do."""

from __future__ import annotations

from domain.data.validation import findings as f
from domain.data.validation.findings import Finding, error, json_value
from domain.data.validation.header import MAX_NAME_CHARS, HeaderError, delimiter_name
from domain.data.validation.records import RecordProblem
from domain.data.validation.stream import GzipError

_CSV_SHAPE = (
    "A CSV file starts with one line naming the columns, then one line per row, each ending with a "
    "line break."
)


def mib(size: int) -> str:
    """A size in MiB for messages."""
    return f"{size / (1 << 20):,.1f} MiB"


def empty() -> Finding:
    """``file.empty``: zero bytes."""
    return error(f.FILE_EMPTY, "The file is empty (0 bytes): upload the data with a header row.")


def blank() -> Finding:
    """``file.empty`` for text that is only blank lines."""
    return error(f.FILE_EMPTY, "The file is empty (or only blank lines): upload the data with a header row.")


def wrong_delimiter(guess: str, expected: str, header: str) -> Finding:
    """``header.wrong_delimiter``, naming the delimiter the header seems to use."""
    return error(
        f.HEADER_WRONG_DELIMITER,
        f"The header looks {delimiter_name(guess)}-separated, but the contract expects "
        f"{delimiter_name(expected)}. Re-export the file with {delimiter_name(expected)} as the delimiter, "
        "or set csv.delimiter in the contract.",
        [{"line": 1, "value": json_value(header)}],
    )


def too_large(limit: int, *, announced: int | None = None, read: int | None = None) -> Finding:
    """``file.too_large``: announced before reading, or found while reading."""
    if announced is not None:
        what = f"The file is {mib(announced)}, over the contract's limit of {mib(limit)}"
    else:
        stopped = f" after {mib(read)}" if read is not None else ""
        what = f"The file is larger than the contract's limit of {mib(limit)}; reading stopped{stopped}"
    return error(
        f.FILE_TOO_LARGE,
        f"{what} (limits.max_file_bytes). Split it into several uploads, or raise the limit.",
        [{"byte_offset": limit}],
    )


def too_large_expanded(limit: int, *, stopped_at: int = 0, expanded: int | None = None) -> Finding:
    """``file.too_large`` for compressed data past the limit once expanded.

    ``expanded``: the size the file's own metadata gives its data (Parquet); else decompression
    stopped past the limit, at byte ``stopped_at`` of the compressed file (gzip).
    """
    if expanded is not None:
        what = f"The file's data takes {mib(expanded)} uncompressed (as its metadata says), more than"
        where = ""
    else:
        what = "The file expands to more than"
        where = f"; decompression stopped there, at byte {stopped_at:,} of the compressed file"
    when = " when decompressed" if expanded is None else ""
    return error(
        f.FILE_TOO_LARGE,
        f"{what} the contract's limit of {mib(limit)}{when} (limits.max_file_bytes applies to the data, "
        f"compressed or not){where}. Split the data into several uploads, or raise the limit.",
        [{"byte_offset": limit}],
    )


def snapshot_too_large(limit: int) -> Finding:
    """``file.too_large`` for data whose snapshot (the platform's Parquet copy) takes more than ``limit``."""
    return error(
        f.FILE_TOO_LARGE,
        f"The data, stored as the platform keeps it (Parquet, in the contract's types), takes more than the "
        f"contract's limit of {mib(limit)} (limits.max_file_bytes applies to the data as stored, too: the "
        "validation function holds an upload and its snapshot, each up to that limit). Split the data into "
        "several uploads, or raise the limit.",
    )


def binary() -> Finding:
    """``file.unreadable``: not text, not gzip, not Parquet."""
    return error(
        f.FILE_UNREADABLE,
        "The file is neither CSV nor Parquet: it contains binary data. Upload the dataset as CSV "
        "(UTF-8, optionally gzip-compressed) or Parquet.",
        [{"byte_offset": 0}],
    )


def gzip_failed(problem: GzipError) -> Finding:
    """``file.gzip_truncated`` or ``file.unreadable`` for a gzip stream that cannot be decompressed."""
    if problem.truncated:
        check, advice = (
            f.FILE_GZIP_TRUNCATED,
            "compress and upload it again (the upload may have been cut short)",
        )
    else:
        check, advice = f.FILE_UNREADABLE, "compress the file again with gzip"
    what = (
        "the gzip data ends before its end marker: the file is truncated"
        if problem.truncated
        else "the gzip data is corrupt"
    )
    return error(
        check,
        f"The gzip file cannot be read: {what} (around byte {problem.offset:,} of the compressed file); "
        f"{advice}.",
        [{"byte_offset": problem.offset}],
    )


def header_unreadable(problem: HeaderError) -> Finding:
    """``file.unreadable`` for a header that never ends: a quote never closed, or no line break."""
    where = {"line": problem.line, "byte_offset": problem.byte_offset}
    if problem.open_quote:
        end = "the file ends" if problem.ends_text else f"the first {mib(problem.bytes_read)} of the file end"
        message = (
            f"The header row cannot be read: a quote opened at line {problem.line} (byte "
            f"{problem.byte_offset:,}) is never closed, and {end} inside it. Close the quote around that "
            "column name (a quote inside a quoted name is written twice), or remove it."
        )
    else:
        message = (
            "The header row cannot be read: the file has no line break in its first "
            f"{mib(problem.bytes_read)}, so its first line is not a header row. {_CSV_SHAPE} Check that "
            "the file is CSV and that its lines end with line breaks (\\n or \\r\\n)."
        )
    return error(f.FILE_UNREADABLE, message, [where])


def not_a_header(header: list[str], index: int, line_bytes: int, ends_text: bool) -> Finding:
    """``file.unreadable`` for a first line with a "name" longer than any column name can be."""
    length = len(header[index])
    first_line = (
        f"The file has no line break at all: it is one line of {mib(line_bytes)}"
        if ends_text
        else f"Its first line is {mib(line_bytes)} long"
    )
    message = (
        f"The first line should name the columns, but field {index + 1} of it is {length:,} characters "
        f"long, more than a column name can be ({MAX_NAME_CHARS}). {first_line}. {_CSV_SHAPE} Check that "
        "the file is CSV, with the delimiter and line breaks the contract expects."
    )
    return error(f.FILE_UNREADABLE, message, [{"line": 1, "value": json_value(header[index])}])


def record_problem(problem: RecordProblem, limit: int) -> Finding:
    """``rows.unclosed_quote`` or ``rows.malformed`` for a record the reader cannot delimit.

    ``limit`` is the length of row the reader is sure to read (a ``too_long`` record is longer).
    """
    start = f"line {problem.line:,} (byte {problem.byte_offset:,})"
    if problem.quote_line is not None:
        opened = f"line {problem.quote_line:,} (byte {problem.quote_offset:,})"
        if problem.kind == "unclosed_quote":
            what = f"The file ends inside a quoted value: the quote opened at {opened} is never closed"
            consequence = (
                "so everything after it would be read as one value. The upload may be cut short, or a "
                "closing quote is missing"
            )
        else:
            what = f"A quote opened at {opened} is not closed within {mib(limit)}"
            consequence = (
                f"so the row it is in is longer than the validator reads ({mib(limit)}). A closing quote "
                "is probably missing"
            )
        return error(
            f.ROWS_UNCLOSED_QUOTE,
            f"{what}, {consequence}: close the quote (a quote inside a quoted value is written twice) "
            "and upload the file again.",
            [{"line": problem.quote_line, "byte_offset": problem.quote_offset}],
        )
    return error(
        f.ROWS_MALFORMED,
        f"The row starting at {start} has no line break in {mib(limit)}, longer than the validator reads: "
        f"no row after it can be read. {_CSV_SHAPE} Check the line breaks around that row.",
        [{"line": problem.line, "byte_offset": problem.byte_offset}],
    )


def row_too_long(limit: int, rows: int) -> Finding:
    """``rows.malformed`` for a record longer than the largest parser block, not located."""
    return error(
        f.ROWS_MALFORMED,
        f"A row after data row {rows:,} is longer than {mib(limit)}, which usually means a quote is never "
        "closed or the line breaks are missing. Check the quoting and the line breaks of the file.",
        [{"row": rows + 1}],
    )


def unparsable(rows: int, delimiter: str) -> Finding:
    """``rows.malformed`` for a CSV the reader gives up on, for a reason it does not locate."""
    return error(
        f.ROWS_MALFORMED,
        f"The CSV cannot be read past data row {rows:,}: the rows after it cannot be told apart. This "
        f"usually comes from a quote that is opened in the middle of a value or never closed. Check the "
        f"quoting of the rows after row {rows:,} and that the delimiter is {delimiter_name(delimiter)}.",
        [{"row": rows + 1}],
    )


def too_few_rows(rows: int, minimum: int) -> Finding:
    """``rows.too_few``."""
    detail = "has a header but no data rows" if rows == 0 else f"has {rows:,} data rows"
    return error(
        f.ROWS_TOO_FEW,
        f"The file {detail}; the contract requires at least {minimum:,}. Upload the complete dataset.",
        count=rows,
    )
