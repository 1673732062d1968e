"""Finding where a file stops being UTF-8, for a message a person can act on."""

from __future__ import annotations

from typing import Any

from domain.data.validation import findings as f
from domain.data.validation.findings import MAX_EXAMPLES, Finding, error
from domain.data.validation.stream import CHUNK, Readable


def _looks_like(line: bytes) -> str:
    try:
        line.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return " It looks like Windows-1252 / Latin-1 text."


def locate_encoding_errors(text: Readable) -> Finding:
    """Scan decompressed text and report the lines that are not valid UTF-8.

    Parameters
    ----------
    text : Readable
        The decompressed file, from the start.

    Returns
    -------
    Finding
        ``file.encoding`` with the number of lines affected and up to five examples giving the
        physical line (the header is line 1), the byte offset in the decompressed text and the
        bytes around the problem.
    """
    line = 1
    offset = 0
    count = 0
    examples: list[dict[str, Any]] = []
    hint = ""
    carry = b""
    while True:
        chunk = text.read(CHUNK)
        data = carry + chunk
        if not data:
            break
        cut = len(data) if not chunk else data.rfind(b"\n") + 1
        complete, carry = data[:cut], data[cut:]
        if complete.isascii():  # the fast path: only chunks with non-ASCII bytes are split into lines
            line += complete.count(b"\n")
            offset += len(complete)
            continue
        for raw in complete.split(b"\n"):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as problem:
                count += 1
                hint = hint or _looks_like(raw)
                if len(examples) < MAX_EXAMPLES:
                    context = raw[max(0, problem.start - 20) : problem.end + 20]
                    examples.append(
                        {
                            "line": line,
                            "byte_offset": offset + problem.start,
                            "value": context.decode("utf-8", errors="backslashreplace"),
                        }
                    )
            line += 1
            offset += len(raw) + 1
        line -= 1  # the piece after the last newline is the start of the next line
        offset -= 1
    first = examples[0] if examples else {"line": "?", "byte_offset": "?"}
    lines = f"{count:,} line{'s' if count != 1 else ''}"
    message = (
        f"The file is not valid UTF-8: {lines} contain bytes that are not UTF-8, the first at line "
        f"{first['line']} (byte {first['byte_offset']}).{hint} Save or export the file as UTF-8 and upload "
        "it again."
    )
    return error(f.FILE_ENCODING, message, examples, count=max(count, 1))
