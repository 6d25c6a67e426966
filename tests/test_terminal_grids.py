"""Grids in the terminal notation: drawn line by line, they look exactly as Rich draws a table.

A feature map, a window or a kernel is a small table; a page of convolution steps holds
hundreds of them, so the terminal notation draws them itself rather than through Rich's
table layout. The reference here is Rich's own table with the settings a grid had when Rich
drew it (a heavy head, right-aligned cells, dim row labels, grids side by side three spaces
apart): every character and the style of every character that is not a space must agree.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, Group
from rich.table import Table as RichTable
from rich.text import Text

from nncalc.document import Grid, Grids, Styled
from nncalc.expr import Num
from nncalc.notation.formula import TextWriter
from nncalc.notation.terminal import STYLES, Whole, _grids


def rich_grid(grid: Grid) -> Group:
    """A grid as Rich's table draws it: the reference, written from Rich's documented options."""
    title = Text("".join(grid.title), style="bold")
    table = RichTable(show_header=bool(grid.column_labels), show_edge=True)
    if grid.row_labels:
        table.add_column("", justify="right", style="dim", no_wrap=True)
    for k in range(grid.width):
        label = grid.column_labels[k] if k < len(grid.column_labels) else ""
        table.add_column(Text(label, style="dim"), justify="right", no_wrap=True)
    for r, row in enumerate(grid.rows):
        cells = [cell_text(cell) for cell in row]
        if grid.row_labels:
            cells.insert(0, Text(grid.row_labels[r]))
        table.add_row(*cells)
    return Group(title, table)


def cell_text(cell: object) -> Text:
    if isinstance(cell, Styled):
        return Text(cell.text, style=STYLES[cell.kind])
    return Text(str(cell))


def rich_grids(block: Grids) -> RichTable:
    row = RichTable.grid(padding=(0, 3))
    for _ in block.items:
        row.add_column(vertical="top", no_wrap=True)
    row.add_row(*(rich_grid(grid) for grid in block.items))
    return row


def printed(renderable, color: bool) -> str:
    stream = io.StringIO()
    console = Console(file=stream, width=60, color_system="truecolor" if color else None, force_terminal=color)
    console.print(Whole(renderable), crop=False, soft_wrap=True)
    return stream.getvalue()


def styled_characters(ansi: str) -> list:
    """Each character with the styles it is drawn in; a space only as a space (its style is not seen)."""
    drawn = []
    for line in ansi.split("\n"):
        text = Text.from_ansi(line)
        for index, character in enumerate(text.plain):
            if character == " ":
                drawn.append(" ")
                continue
            names = " ".join(str(span.style) for span in text.spans if span.start <= index < span.end)
            drawn.append((character, frozenset(names.split())))
        drawn.append("\n")
    return drawn


cell_words = st.one_of(
    st.integers(-999, 9999).map(str),
    st.sampled_from(["0.5", "-1", "−0.25", "好", "x̄", "", "1e-05"]),
)
styled_cells = st.one_of(cell_words, st.builds(Styled, cell_words, st.sampled_from(["right", "wrong", "strong"])))


@st.composite
def grids(draw) -> Grid:
    height = draw(st.integers(1, 4))
    width = draw(st.integers(1, 4))
    rows = tuple(tuple(draw(st.lists(styled_cells, min_size=width, max_size=width))) for _ in range(height))
    row_labels = tuple(draw(st.lists(cell_words, min_size=height, max_size=height))) if draw(st.booleans()) else ()
    column_labels = tuple(draw(st.lists(cell_words, min_size=1, max_size=width))) if draw(st.booleans()) else ()
    title = draw(st.sampled_from(["z", "a", "window: rows 0–2, columns 0–2", "kernel (c 1)", "δ map 好"]))
    return Grid((title,), rows, row_labels, column_labels)


@settings(max_examples=150, deadline=None)
@given(st.lists(grids(), min_size=1, max_size=3))
def test_grids_look_as_richs_tables_draw_them(items):
    block = Grids(tuple(items))
    ours = _grids(block, TextWriter(4))
    reference = rich_grids(block)
    assert printed(ours, color=False) == printed(reference, color=False)
    assert styled_characters(printed(ours, color=True)) == styled_characters(printed(reference, color=True))


def test_a_grid_of_numbers_is_right_aligned_under_a_heavy_head():
    grid = Grid(("z",), ((Num(0.0, "0"), Num(7.0, "7")), (Num(-1.0, "-1"), Num(12.0, "12"))), ("0", "1"), ("0", "1"))
    assert printed(_grids(Grids((grid,)), TextWriter(4)), color=False).splitlines() == [
        "z              ",
        "┏━━━┳━━━━┳━━━━┓",
        "┃   ┃  0 ┃  1 ┃",
        "┡━━━╇━━━━╇━━━━┩",
        "│ 0 │  0 │  7 │",
        "│ 1 │ -1 │ 12 │",
        "└───┴────┴────┘",
    ]


def test_control_characters_in_a_grid_are_shown_not_obeyed():
    grid = Grid(("map\x1b[31m",), (("1",),), ("r\x07",), ("c\r",))
    drawn = printed(_grids(Grids((grid,)), TextWriter(4)), color=True)
    assert "\x07" not in drawn and "\r" not in drawn and "\x1b[31m" not in drawn


class ClosedAfterOneWrite(io.StringIO):
    """A pipe whose reader goes away after the first write: that write is kept, the next one fails."""

    def write(self, text: str) -> int:
        if self.getvalue():
            raise BrokenPipeError
        return super().write(text)


def test_a_page_is_printed_as_it_is_built_so_a_closed_pipe_stops_it_early():
    """Each block goes out when it is drawn: a reader that stops after the first line
    (``| head -1``) ends the page there, before the rest of it is drawn."""
    from nncalc.document import Document, Heading, Note
    from nncalc.notation.terminal import write_terminal

    blocks = tuple(block for k in range(200) for block in (Heading(2, (f"sample {k}",)), Note((f"note {k}",))))
    stream = ClosedAfterOneWrite()
    with pytest.raises(BrokenPipeError):
        write_terminal(Document("Page", blocks, 4), stream)
    assert "sample 0" in stream.getvalue()
    assert "sample 1" not in stream.getvalue()
