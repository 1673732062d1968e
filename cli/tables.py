"""The CLI's tables: identifiers stay whole on one line, the other columns give way.

A user copies identifiers (model versions, dataset versions, run and endpoint names, ARNs) from these
tables into the next command, so a table fitted to the terminal must never cut or wrap one. rich narrows
the wrapping columns first, and only when they cannot give enough does it cut every column: an identifier
column therefore does not wrap and is at least as wide as its widest line, and every other column wraps,
folding a word that does not fit. When the identifiers leave the other columns too little room (a run
name may be 80 characters long), the rows are printed as a list instead: the row's identifier on a line
of its own, then a line per other column.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text

from cli.common import console

__all__ = ["flexible", "identifier", "print_table"]

# The room a wrapping column needs to stay readable: a date (2026-11-02) or a status (SUCCEEDED).
_READABLE = 10


def identifier(header: str, **options: Any) -> Column:
    """A column of identifiers: never cut or wrapped (a cell holds one identifier per line)."""
    return Column(header, no_wrap=True, **options)


def flexible(header: str, **options: Any) -> Column:
    """A column that gives way to the identifiers: it wraps, folding words that do not fit."""
    return Column(header, overflow="fold", **options)


def print_table(table: Table, *, on: Console | None = None) -> None:
    """Print ``table`` with its :func:`identifier` columns whole, as a table or, if too narrow, a list.

    Parameters
    ----------
    table : Table
        Built from :func:`identifier` and :func:`flexible` columns.
    on : Console, optional
        Where to print (the standard output's console by default).
    """
    target = on or console
    for column in table.columns:
        if column.no_wrap:
            column.min_width = max(_widest_line(cell) for cell in [column.header, *column.cells])
    if table.show_header and _needed_width(table) > target.width:
        _print_as_list(table, target)
        return
    # Not cropped: identifiers wider than the terminal run past its edge rather than being cut.
    target.print(table, crop=False)


def _needed_width(table: Table) -> int:
    """The table's width with its identifiers whole and every other column readable."""
    top, right, bottom, left = Padding.unpack(table.padding)
    del top, bottom
    width = (2 if table.box and table.show_edge else 0) + (len(table.columns) - 1 if table.box else 0)
    width += len(table.columns) * (left + right) - (0 if table.pad_edge else left + right)
    for column in table.columns:
        if column.no_wrap:
            width += column.min_width or 0
        else:
            longest = max(_longest_word(cell) for cell in [column.header, *column.cells])
            width += min(longest, _READABLE)
    return width


def _print_as_list(table: Table, target: Console) -> None:
    """Each row as its first identifier on a line, then one line per other column: ``header value``."""
    if table.title:
        target.print(table.title, style="table.title", highlight=False)
    columns = table.columns
    lead = next((index for index, column in enumerate(columns) if column.no_wrap), 0)
    width = max((len(f"{column.header}") for i, column in enumerate(columns) if i != lead), default=0)
    for row in zip(*(column.cells for column in columns), strict=True):
        target.print(_as_text(row[lead]), highlight=False, crop=False, soft_wrap=True)
        for index, (column, cell) in enumerate(zip(columns, row, strict=True)):
            if index != lead:
                value = Text(", ").join(_as_text(cell).split("\n"))
                label = f"{column.header}".ljust(width)
                target.print(
                    Text.assemble("  ", (label, "bold"), " ", value), highlight=False, soft_wrap=True
                )
    if table.caption:
        target.print(table.caption, style="table.caption", highlight=False)


def _as_text(cell: RenderableType) -> Text:
    """A cell as text: markup read as rich would read it; a renderable that is not text by its ``str``."""
    text = Text.from_markup(cell) if isinstance(cell, str) else cell
    return text if isinstance(text, Text) else Text(str(text))


def _widest_line(cell: RenderableType) -> int:
    return max((line.cell_len for line in _as_text(cell).split("\n")), default=0)


def _longest_word(cell: RenderableType) -> int:
    return max((len(word) for word in _as_text(cell).plain.split()), default=0)
