"""The record scan that locates an unclosed quote or an over-long row, against a byte-by-byte reference."""

from __future__ import annotations

import io
import random

import pytest

from domain.data.validation.records import RecordProblem, find_record_problem
from tests.unit.conftest import StreamingBody


def reference_open_quote(text: bytes) -> tuple[int, int] | None:
    """Byte by byte, with the reader's rules: (line, offset) of a quote still open at the end, or None."""
    in_quotes, at_field_start, line, opened = False, True, 1, None
    index = 3 if text.startswith(b"\xef\xbb\xbf") else 0
    while index < len(text):
        byte = text[index : index + 1]
        if in_quotes:
            if byte == b'"':
                if text[index + 1 : index + 2] == b'"':
                    index += 1
                else:
                    in_quotes = False
        elif byte == b'"' and at_field_start:
            in_quotes, opened = True, (line, index)
        at_field_start = not in_quotes and byte in (b",", b"\n", b"\r")
        line += byte == b"\n"
        index += 1
    return opened if in_quotes else None


def scan(text: bytes, chunk: int = 1 << 20, limit: int = 1 << 30) -> RecordProblem | None:
    return find_record_problem(
        StreamingBody(text, chunk), quote_char='"', delimiter=",", max_record_bytes=limit
    )


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_the_open_quote_is_found_where_the_reference_finds_it(chunk: int) -> None:
    generator = random.Random(chunk)
    for _ in range(400):
        text = bytes(generator.choice(b'ab,"\n') for _ in range(generator.randrange(0, 40)))
        expected = reference_open_quote(text)

        found = scan(text, chunk)

        if expected is None:
            assert found is None, text
        else:
            assert found is not None and found.kind == "unclosed_quote", text
            assert (found.quote_line, found.quote_offset) == expected, text


def test_a_truncated_quoted_value_names_the_line_and_byte_of_its_quote() -> None:
    text = b'id,note\n1,"fine"\n2,"two\nlines"\n3,"cut sho'

    found = scan(text)

    assert found is not None and found.kind == "unclosed_quote"
    assert (found.quote_line, found.quote_offset) == (5, text.index(b'"cut'))
    assert (found.line, found.byte_offset) == (5, text.index(b"3,"))


def test_quotes_inside_unquoted_values_and_doubled_quotes_are_not_openings() -> None:
    text = b'id,size,note\n1,12" pizza,"say ""hi"""\n2,3,"a ""quoted"" word"\n'
    assert scan(text, chunk=5) is None


def test_a_row_longer_than_the_limit_is_located_at_its_start() -> None:
    text = b"id,note\n1,short\n2," + b"x" * 5000 + b"\n3,short\n"

    found = scan(text, chunk=256, limit=1000)

    assert found is not None and found.kind == "too_long"
    assert (found.line, found.byte_offset) == (3, text.index(b"2,"))
    assert found.quote_line is None


def test_a_quote_left_open_makes_a_long_row_and_is_named() -> None:
    text = b'id,note\n1,"opened here\n' + b"2,more\n" * 500

    found = scan(text, chunk=100, limit=1000)

    assert found is not None and found.kind == "too_long"
    assert (found.quote_line, found.quote_offset) == (2, text.index(b'"opened'))


def test_a_byte_order_mark_does_not_hide_a_quote_at_the_start() -> None:
    assert reference_open_quote(b'\xef\xbb\xbf"id,note\n') == (1, 3)
    found = scan(b'\xef\xbb\xbf"id,note\n', chunk=2)
    assert found is not None and (found.quote_line, found.quote_offset) == (1, 3)


def test_crlf_and_bare_cr_end_records() -> None:
    assert scan(b'a,b\r\n"x",1\r"y",2\r\n') is None
    found = scan(b'a,b\r\n1,2\r"y', chunk=3)
    assert found is not None and (found.quote_line, found.quote_offset) == (2, 9)


def test_the_scan_reads_in_bounded_chunks() -> None:
    class Counting(io.BytesIO):
        largest = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            Counting.largest = max(Counting.largest, len(data))
            return data

    find_record_problem(
        Counting(b"a,b\n" * 1_000_000), quote_char='"', delimiter=",", max_record_bytes=1 << 20
    )
    assert 0 < Counting.largest <= 1 << 20
