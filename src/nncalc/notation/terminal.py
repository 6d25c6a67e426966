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
from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table as RichTable
from rich.text import Text

from nncalc.document import Document, Grid, Grids, Heading, Note, Steps, Styled, Table
from nncalc.expr import PRODUCT, SUM, Call, Chain, Dots, Expr, Matrix, Neg, Num, Sum, has_matrix
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
    return Group(*(item for _, items in _renderables(document) for item in items))


def _renderables(document: Document) -> Iterator[tuple[object, list]]:
    """Each block of ``document`` with its renderables, block by block, so that a long page
    can be printed as it is built."""
    writer = TextWriter(document.precision)
    started = False  # whether anything is written yet: the first heading or result has no blank line before it
    title = document.title
    previous = None
    for block in document.blocks:
        items: list = []
        if isinstance(block, Heading):
            if block.level == 1:
                if not _next_is_sample(document, block):
                    items.extend(_spaced(started, _heading(block, writer, "")))
                previous = block
                yield block, items
                started = started or bool(items)
                continue
            items.extend(_spaced(started, _heading(block, writer, title if block.level == 2 else "")))
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
                items.extend(_spaced(started, text))
            else:
                items.append(text)
        previous = block
        yield block, items
        started = started or bool(items)


def _next_is_sample(document: Document, block: Heading) -> bool:
    """A title followed by a sample's heading is written on that heading's line."""
    blocks = document.blocks
    position = blocks.index(block)
    following = blocks[position + 1] if position + 1 < len(blocks) else None
    return isinstance(following, Heading) and following.level == 2


def _spaced(started: bool, renderable) -> list:
    """``renderable`` with a blank line before it, unless it starts the page."""
    return [Text(""), renderable] if started else [renderable]


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
    its row labels dim on the left.

    Drawn line by line as Rich draws a table with a heavy head (a plain box without a header),
    since a page can hold hundreds of these small tables and Rich measures a table's every
    cell each time the table is measured or drawn.
    """
    title = Text(style="bold", no_wrap=True)
    _inline(title, grid.title, writer)
    labelled = bool(grid.row_labels)
    rows = [
        ([Text(visible(grid.row_labels[r]))] if labelled else []) + [_cell(cell, writer) for cell in row]
        for r, row in enumerate(grid.rows)
    ]
    columns = (1 if labelled else 0) + grid.width
    header = None
    if grid.column_labels:
        labels = [Text(visible(label), style="dim") for label in grid.column_labels][: grid.width]
        labels += [Text("") for _ in range(grid.width - len(labels))]
        header = ([Text("")] if labelled else []) + labels
    for cells in rows:
        cells.extend(Text("") for _ in range(columns - len(cells)))
    every_row = rows + ([header] if header is not None else [])
    widths = [max((cell_len(cells[k].plain) for cells in every_row), default=0) for k in range(columns)]
    lines = [title]
    if header is not None:
        lines.append(_rule("┏", "━", "┳", "┓", widths))
        lines.append(_row(header, widths, "┃", ["bold"] * columns))
        lines.append(_rule("┡", "━", "╇", "┩", widths))
    else:
        lines.append(_rule("┌", "─", "┬", "┐", widths))
    cell_styles = (["dim"] if labelled else []) + [""] * grid.width
    lines.extend(_row(cells, widths, "│", cell_styles) for cells in rows)
    lines.append(_rule("└", "─", "┴", "┘", widths))
    return Group(*lines)


def _rule(left: str, line: str, cross: str, right: str, widths: list[int]) -> Text:
    """A border line of a grid: each column's width and its two spaces of padding."""
    return Text(left + cross.join(line * (width + 2) for width in widths) + right, no_wrap=True)


def _row(cells: list[Text], widths: list[int], bar: str, styles: list[str]) -> Text:
    """A row of a grid: each cell right-aligned in its column, a space either side, in its column's style."""
    line = Text(bar, no_wrap=True)
    for cell, width, style in zip(cells, widths, styles, strict=True):
        padded = Text(" " * (width - cell_len(cell.plain) + 1), style=style)
        padded.append_text(cell)
        padded.append(" ")
        line.append_text(padded)
        line.append(bar)
    return line


def _grids(block: Grids, writer: TextWriter) -> SideBySide:
    """The grids side by side, tops aligned, a few spaces apart."""
    return SideBySide([_grid(grid, writer) for grid in block.items], gap=GRID_GAP)


GRID_GAP = 3  # spaces between grids set side by side


class SideBySide:
    """Renderables side by side, tops aligned, ``gap`` spaces apart, each at its natural width.

    This is what a Rich grid of one row draws, drawn directly: each item is measured once and
    rendered once, then their lines are joined. A grid of nested tables is measured again for
    every cell of every nested table: a page of convolution steps (a window and its kernel
    for every cell) took three times as long to print.
    """

    def __init__(self, items: list, gap: int):
        self.items = items
        self.gap = gap

    def _widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        wide = options.update_width(10_000)
        return [Measurement.get(console, wide, item).maximum for item in self.items]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths(console, options)
        blocks = [
            console.render_lines(item, options.update_width(width), pad=True)
            for item, width in zip(self.items, widths, strict=True)
        ]
        gap = Segment(" " * self.gap)
        for row in range(max((len(lines) for lines in blocks), default=0)):
            for k, (lines, width) in enumerate(zip(blocks, widths, strict=True)):
                if k:
                    yield gap
                if row < len(lines):
                    yield from lines[row]
                else:
                    yield Segment(" " * width)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = sum(self._widths(console, options)) + self.gap * max(len(self.items) - 1, 0)
        return Measurement(width, width)


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
        indent = " " * cell_len(visible(head))
        for relation, part in zip(chain.relations, chain.parts[1:], strict=True):
            piece = writer.relation(relation) + writer.write(part)
            if (len(rows) == 1 and not has_matrix(part)) or _width(rows[-1] + piece, writer) <= ROW_WIDTH:
                rows[-1] += piece
            elif isinstance(part, Sum) and has_matrix(part) and _width(indent + piece, writer) > ROW_WIDTH:
                rows.extend(_sum_rows(indent, writer.relation(relation), part, writer))
            else:
                rows.append(indent + piece)
        for k, row in enumerate(rows):
            box = _laid_out(row, writer.matrices, writer)
            for r, line in enumerate(box.lines):
                text = Text("  " + line.rstrip())
                if n == len(chains) - 1 and k == len(rows) - 1 and r == box.middle:
                    text.append_text(after)
                out.append(text)
    return out


def _sum_rows(indent: str, relation: str, part: Sum, writer: _PlacingWriter) -> list[str]:
    """A sum of matrices too wide for one block: as many of its terms on each as fit, a later
    block starting with the sign of its first term under the relation's."""
    pieces = [relation + writer.operand(part.terms[0], SUM, first=True)]
    for term in part.terms[1:]:
        if isinstance(term, Neg):
            pieces.append(writer.minus_sign() + writer.operand(term.operand, PRODUCT))
        else:
            pieces.append(writer.plus_sign() + writer.operand(term, PRODUCT))
    rows = [indent + pieces[0]]
    for piece in pieces[1:]:
        if _width(rows[-1] + piece, writer) <= ROW_WIDTH:
            rows[-1] += piece
        else:
            rows.append(indent + piece)
    return rows


def _width(text: str, writer: _PlacingWriter) -> int:
    return _laid_out(text, writer.matrices, writer).width


def write_terminal(document: Document, stream) -> None:
    """Print ``document`` to ``stream``: colour only on a terminal, tables at their natural width.

    Each sample's part of the page is printed as soon as it is drawn: a reader that stops
    early (``| head``) ends the page there, and a long page is never held whole.
    """
    from nncalc.notation.console import make_console

    console = make_console(stream)
    pending: list = []
    for block, items in _renderables(document):
        if pending and isinstance(block, Heading) and block.level <= 2:  # a sample's part is printed whole
            console.print(Group(*pending), crop=False, soft_wrap=True)
            pending = []
        pending.extend(items)
    if pending:
        console.print(Group(*pending), crop=False, soft_wrap=True)
