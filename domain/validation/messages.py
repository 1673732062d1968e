"""File-level findings and their wording: what went wrong with the file as a whole, and what to do."""

from __future__ import annotations

from domain.validation import findings as f
from domain.validation.findings import Finding, error, json_value
from domain.validation.header import delimiter_name
from domain.validation.stream import GzipError


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
    return error(
        check, f"The gzip file cannot be read: {problem}; {advice}.", [{"byte_offset": problem.offset}]
    )


def row_too_long(limit: int) -> Finding:
    """``rows.malformed`` for a record longer than the largest parser block."""
    return error(
        f.ROWS_MALFORMED,
        f"A row is longer than {mib(limit)}, which usually means a quote is never closed. "
        "Check the quoting of the file.",
    )


def unparsable(problem: Exception) -> Finding:
    """``rows.malformed`` for a CSV the parser gives up on."""
    return error(
        f.ROWS_MALFORMED,
        f"The CSV cannot be parsed: {problem}. Check the quoting and the delimiter of the file.",
    )


def too_few_rows(rows: int, minimum: int) -> Finding:
    """``rows.too_few``."""
    detail = "has a header but no data rows" if rows == 0 else f"has {rows:,} data rows"
    return error(
        f.ROWS_TOO_FEW,
        f"The file {detail}; the contract requires at least {minimum:,}. Upload the complete dataset.",
        count=rows,
    )
