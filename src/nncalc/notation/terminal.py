"""The terminal notation: a document as Rich renderables, built apart from printing.

``renderables(document)`` gives a ``rich.console.Group`` that the command line prints
(``console.print(group, crop=False, soft_wrap=True)``: a derivation is never folded and a
table never cut; the terminal wraps a long line instead of nncalc cutting a digit off).
Formulas are written by ``TextWriter``, as a person writes them on paper.

Layout, the same for every page: a level-2 heading carries the page's title before it
("Classic 2-2-2 — input: i1 = 0.05"); a blank line comes before every other heading and
before a note that reports a result (output, right, wrong) unless a note of that kind is
just above it; steps and "detail" notes are indented under what they explain.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from nncalc.document import Document, Grid, Grids, Heading, Note, Steps, Styled, Table
from nncalc.expr import Chain, Expr, Num
from nncalc.notation.formula import InlineTextWriter, TextWriter
from nncalc.render.numbers import show
from nncalc.text import visible

STYLES = {
    "strong": "bold",
    "right": "green",
    "wrong": "bold red",
    "output": "bold green",
    "info": "",
}
NOTE_STYLES = {"output": "bold green", "right": "bold green", "wrong": "bold red", "info": "", "detail": ""}
HEADING_STYLES = {1: "bold", 2: "", 3: "bold cyan"}
RESULT_KINDS = ("output", "right", "wrong")


class Whole:
    """A table at its natural width even where the terminal is narrower: no number is cut or folded."""

    def __init__(self, table: RichTable):
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        natural = Measurement.get(console, options.update_width(10_000), self.table).maximum
        yield from console.render(self.table, options.update_width(max(natural, options.max_width)))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options.update_width(10_000), self.table)


def renderables(document: Document) -> Group:
    """Every block of ``document`` as Rich renderables, in order."""
    writer = TextWriter(document.precision)
    items: list = []
    title = document.title
    previous = None
    for block in document.blocks:
        if isinstance(block, Heading):
            if block.level == 1:
                if not _next_is_sample(document, block):
                    items.extend(_spaced(items, _heading(block, writer, "")))
                previous = block
                continue
            items.extend(_spaced(items, _heading(block, writer, title if block.level == 2 else "")))
        elif isinstance(block, Table):
            items.append(Whole(_table(block, writer)))
        elif isinstance(block, Grids):
            items.append(Whole(_grids(block, writer)))
        elif isinstance(block, Steps):
            items.extend(_steps(block, writer))
        elif isinstance(block, Note):
            text = _note(block, writer)
            same = isinstance(previous, Note) and previous.kind == block.kind
            if block.kind in RESULT_KINDS and not same:
                items.extend(_spaced(items, text))
            else:
                items.append(text)
        previous = block
    return Group(*items)


def _next_is_sample(document: Document, block: Heading) -> bool:
    """A title followed by a sample's heading is written on that heading's line."""
    blocks = document.blocks
    position = blocks.index(block)
    following = blocks[position + 1] if position + 1 < len(blocks) else None
    return isinstance(following, Heading) and following.level == 2


def _spaced(items: list, renderable) -> list:
    """``renderable`` with a blank line before it, unless it starts the page."""
    return [Text(""), renderable] if items else [renderable]


def _heading(block: Heading, writer: TextWriter, title: str) -> Text:
    text = Text(style=HEADING_STYLES.get(block.level, "bold"))
    if title:
        text.append(visible(title), style="bold")
        text.append(" — ")
    _inline(text, block.text, writer)
    return text


def _note(block: Note, writer: TextWriter) -> Text:
    text = Text("  " if block.kind == "detail" else "", style=NOTE_STYLES.get(block.kind, ""))
    if block.lead:
        text.append(block.lead + " ", style="bold" if block.kind in ("info", "detail") else "")
    _inline(text, block.text, writer)
    return text


def _inline(text: Text, pieces: tuple, writer: TextWriter) -> None:
    for piece in pieces:
        if isinstance(piece, Styled):
            text.append(visible(piece.text), style=STYLES.get(piece.kind, ""))
        elif isinstance(piece, Chain):
            text.append(visible(InlineTextWriter(writer.precision).chain(piece)))
        elif isinstance(piece, Expr):
            text.append(visible(InlineTextWriter(writer.precision).write(piece)))
        else:
            text.append(visible(str(piece)))


def _cell(cell: object, writer: TextWriter) -> Text:
    if isinstance(cell, Styled):
        return Text(visible(cell.text), style=STYLES.get(cell.kind, ""))
    if isinstance(cell, Num):
        return Text(cell.text if cell.text is not None else show(cell.value, writer.precision))
    if isinstance(cell, Expr):
        return Text(visible(writer.write(cell)))
    return Text(visible(str(cell)))


def _table(block: Table, writer: TextWriter) -> RichTable:
    table = RichTable(show_edge=True, pad_edge=True, expand=False)
    for column in block.columns:
        title = Text()
        _inline(title, column.title, writer)
        table.add_column(title, justify="right" if column.numeric else "left", no_wrap=True)
    for row in block.rows:
        table.add_row(*(_cell(cell, writer) for cell in row))
    return table


def _grid(grid: Grid, writer: TextWriter) -> Group:
    """One grid: its title above (never cut to the grid's width), its column labels as a header,
    its row labels dim on the left."""
    title = Text(style="bold")
    _inline(title, grid.title, writer)
    table = RichTable(show_header=bool(grid.column_labels), show_edge=True)
    if grid.row_labels:
        table.add_column("", justify="right", style="dim", no_wrap=True)
    for k in range(grid.width):
        label = grid.column_labels[k] if k < len(grid.column_labels) else ""
        table.add_column(Text(visible(label), style="dim"), justify="right", no_wrap=True)
    for r, row in enumerate(grid.rows):
        cells = [_cell(cell, writer) for cell in row]
        if grid.row_labels:
            cells.insert(0, Text(visible(grid.row_labels[r])))
        table.add_row(*cells)
    return Group(title, table)


def _grids(block: Grids, writer: TextWriter) -> RichTable:
    """The grids side by side, tops aligned, a few spaces apart."""
    row = RichTable.grid(padding=(0, 3))
    for _ in block.items:
        row.add_column(vertical="top", no_wrap=True)
    row.add_row(*(_grid(grid, writer) for grid in block.items))
    return row


def _steps(block: Steps, writer: TextWriter) -> list[Text]:
    """Labelled steps: the label, then each chain under the one before; others on one line each."""
    width = max((len(visible(step.label)) for step in block.items if step.label is not None), default=0)
    lines: list[Text] = []
    for step in block.items:
        after = Text()
        _inline(after, step.after, writer)
        if step.label is None:
            line = Text("  " + ";  ".join(visible(writer.chain(c)) for c in step.chains))
            line.append_text(after)
            lines.append(line)
            continue
        for k, chain in enumerate(step.chains):
            label = visible(step.label) if k == 0 else ""
            line = Text(f"  {label.ljust(width)}  {visible(writer.chain(chain))}")
            if k == len(step.chains) - 1:
                line.append_text(after)
            lines.append(line)
    return lines


def write_terminal(document: Document, stream) -> None:
    """Print ``document`` to ``stream``: colour only on a terminal, tables at their natural width."""
    from nncalc.notation.console import make_console

    make_console(stream).print(renderables(document), crop=False, soft_wrap=True)
