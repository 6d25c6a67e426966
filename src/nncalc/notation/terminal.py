"""The terminal notation: a document as Rich renderables, built apart from printing.

``renderables(document)`` gives a ``rich.console.Group`` that the command line prints
(``console.print(group, crop=False, soft_wrap=True)``: a derivation is never folded and a
table never cut; the terminal wraps a long line instead of nncalc cutting a digit off).
Formulas are written by ``TextWriter``, as a person writes them on paper.

Layout, the same for every page: a level-2 heading carries the page's title before it
("Classic 2-2-2 — input: i1 = 0.05"); a blank line comes before every other heading and
before a note that reports a result (output, right, wrong) unless a note of that kind is
just above it; steps and "detail" notes are indented under what they explain.

A step holding a matrix is laid out as a block of lines: each matrix with its rows one under
another in aligned columns, between brackets drawn over its lines (┌ ┐, │ │, └ ┘; [ ] for one
row), its shape centred beneath, and everything else in the chain on the matrices' middle
row. A chain too wide for one block continues on the next, its relation under the first.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

from nncalc.document import Document, Grid, Grids, Heading, Note, Steps, Styled, Table
from nncalc.expr import Call, Chain, Dots, Expr, Matrix, Num, has_matrix
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
        if any(has_matrix(c) for c in step.chains):
            lines.extend(_matrix_step(step.chains, step.label, after, writer.precision))
            continue
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


# -- steps holding matrices: blocks of lines ---------------------------------------------------

ROW_WIDTH = 80  # a chain of matrices wider than this continues on the next block, at a relation
_PLACE = "\ue000"  # where a matrix stands in a chain written on one line, before it is laid out
_OPEN, _CLOSE = "\ue001", "\ue002"  # parentheses around a matrix, drawn as tall as the matrices
_PLACES = re.compile(f"{_PLACE}(\\d+){_PLACE}|{_OPEN}|{_CLOSE}")
_TALL = {_OPEN: ("(", "⎛ ", "⎜ ", "⎝ "), _CLOSE: (")", " ⎞", " ⎟", " ⎠")}


class _PlacingWriter(TextWriter):
    """Plain text in which each matrix is a marker, to be replaced by its block of lines."""

    def __init__(self, precision: int):
        super().__init__(precision)
        self.matrices: list[Matrix] = []

    def matrix(self, node: Matrix) -> str:
        self.matrices.append(node)
        return f"{_PLACE}{len(self.matrices) - 1}{_PLACE}"

    def parens(self, text: str) -> str:
        return f"{_OPEN}{text}{_CLOSE}" if _PLACE in text else super().parens(text)

    def call(self, node: Call) -> str:
        if node.name in ("sqrt", "abs") or not any(has_matrix(a) for a in node.args):
            return super().call(node)
        return node.name + self.parens(", ".join(self.write(a) for a in node.args))


class _Box:
    """Lines of equal width, and which of them is the middle row that the text beside them sits on."""

    def __init__(self, lines: list[str], middle: int):
        self.width = max((cell_len(line) for line in lines), default=0)
        self.lines = [line + " " * (self.width - cell_len(line)) for line in lines]
        self.middle = middle


def matrix_lines(node: Matrix, writer: TextWriter) -> tuple[list[str], int]:
    """A matrix as lines: its columns aligned (numbers to the right, dots centred), brackets drawn
    over its rows, its shape centred beneath; and the index of its middle row."""
    cells = [[visible(writer.write(cell)) for cell in row] for row in node.rows]
    count = max((len(row) for row in cells), default=0)
    widths = [max((cell_len(row[k]) for row in cells if k < len(row)), default=0) for k in range(count)]

    def fit(cell: Expr, text: str, width: int) -> str:
        room = width - cell_len(text)
        if isinstance(cell, Dots):
            return " " * (room // 2) + text + " " * (room - room // 2)
        return " " * room + text

    body = [
        "  ".join(fit(node.rows[r][k], text, widths[k]) for k, text in enumerate(row)) for r, row in enumerate(cells)
    ]
    if len(body) == 1:
        lines = [f"[ {body[0]} ]"]
    else:
        lines = [
            f"{'┌' if r == 0 else '└' if r == len(body) - 1 else '│'} {line} "
            f"{'┐' if r == 0 else '┘' if r == len(body) - 1 else '│'}"
            for r, line in enumerate(body)
        ]
    width = cell_len(lines[0])
    shape = f"{node.shape[0]}×{node.shape[1]}"
    lines.append(shape.center(width).rstrip())
    return lines, (len(body) - 1) // 2


def _laid_out(text: str, matrices: list[Matrix], writer: TextWriter) -> _Box:
    """A chain's text with its matrix markers replaced by their blocks, all on one middle row;
    parentheses around matrices as tall as the tallest matrix of the row."""
    found = list(_PLACES.finditer(text))
    laid = {k: matrix_lines(matrices[int(f.group(1))], writer) for k, f in enumerate(found) if f.group(1)}
    top = max((middle for _, middle in laid.values()), default=0)
    bottom = max((len(lines) - 2 - middle for lines, middle in laid.values()), default=0)  # the shape aside
    boxes: list[_Box] = []
    at = 0
    for k, place in enumerate(found):
        if place.start() > at:
            boxes.append(_Box([visible(text[at : place.start()])], 0))
        if k in laid:
            boxes.append(_Box(*laid[k]))
        else:
            one, first, inner, last = _TALL[place.group()]
            height = top + bottom + 1
            lines = [one] if height == 1 else [first, *[inner] * (height - 2), last]
            boxes.append(_Box(lines, top))
        at = place.end()
    if at < len(text) or not boxes:
        boxes.append(_Box([visible(text[at:])], 0))
    above = max(box.middle for box in boxes)
    below = max(len(box.lines) - box.middle - 1 for box in boxes)
    lines = []
    for row in range(-above, below + 1):
        parts = []
        for box in boxes:
            k = box.middle + row
            parts.append(box.lines[k] if 0 <= k < len(box.lines) else " " * box.width)
        lines.append("".join(parts))
    return _Box(lines, above)


def _matrix_step(chains: tuple[Chain, ...], label: str | None, after: Text, precision: int) -> list[Text]:
    """Each chain as a block of lines (see the module docstring), ``after`` on the last one's middle row."""
    writer = _PlacingWriter(precision)
    out: list[Text] = []
    for n, chain in enumerate(chains):
        head = (visible(label) + "  " if label is not None and n == 0 else "") + writer.write(chain.parts[0])
        rows = [head]
        for relation, part in zip(chain.relations, chain.parts[1:], strict=True):
            piece = writer.relation(relation) + writer.write(part)
            if (len(rows) == 1 and not has_matrix(part)) or _width(rows[-1] + piece, writer) <= ROW_WIDTH:
                rows[-1] += piece
            else:
                rows.append(" " * cell_len(visible(head)) + piece)
        for k, row in enumerate(rows):
            box = _laid_out(row, writer.matrices, writer)
            for r, line in enumerate(box.lines):
                text = Text("  " + line.rstrip())
                if n == len(chains) - 1 and k == len(rows) - 1 and r == box.middle:
                    text.append_text(after)
                out.append(text)
    return out


def _width(text: str, writer: _PlacingWriter) -> int:
    return _laid_out(text, writer.matrices, writer).width


def write_terminal(document: Document, stream) -> None:
    """Print ``document`` to ``stream``: colour only on a terminal, tables at their natural width."""
    from nncalc.notation.console import make_console

    make_console(stream).print(renderables(document), crop=False, soft_wrap=True)
