"""Markdown for a document (``nncalc.document``): for notes, READMEs and notebooks.

Headings are ``#``, ``##``, ``###``; tables are GitHub pipe tables (numeric columns ``---:``);
maths is LaTeX between single ``$`` (as GitHub, JupyterLab, VS Code and Colab render it),
written by the same LaTeX writer as the LaTeX notation. A labelled step is a list item
``- h1: $z = …$, $a = …$``; an unlabelled one ``- $…$, $…$``. For notebooks, where Colab
shows inline maths in list items raw, ``display_math`` writes each step as ``$$…$$`` blocks,
as every step holding a matrix (``bmatrix``) is written.

Words from a user's file are made visible (:func:`nncalc.text.visible`) and escaped, so no
name can start a link, emphasis, a table cell, HTML, code or a formula. Inside maths a
name is written so that MathJax and KaTeX alike show it as written (MathJax shows the
inside of ``\\text{…}`` literally) and GitHub's Markdown leaves it alone: plain characters in
``\\text{…}``, the others as maths symbols (``\\vert``, ``\\ast``) or full-width forms (``＿``),
never a raw ``|``, ``*``, ``_``, backtick or ``$``, nor a backslash before punctuation.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TextIO

from nncalc.document import Document, Grids, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Chain, Num, has_matrix
from nncalc.notation.latex import DocumentLatexWriter, labelled_chains
from nncalc.text import visible

_ALWAYS = set("\\`*_[]<>|$~&#@")  # punctuation Markdown or GitHub may act on anywhere in a line
_SCHEME = re.compile(r":(?=/)")  # a colon that could make a link of http://…
_LINE_BREAKS = re.compile("\r\n|[\n\r\t\v\f\u2028\u2029]")
_LINE_START = re.compile(r"^(?:[-+=]|\d+[.)])")  # a list item, setext underline or numbered item


def escape_markdown(text: str, line_start: bool = False) -> str:
    """``text`` as Markdown shows it literally, on one line, safe in headings, table cells and
    (with ``line_start``, where it opens a line or a list item's text) where a line begins.

    Line breaks and tabs become spaces; other control characters are shown as pictures by
    :func:`nncalc.text.visible` (ESC as ␛), never written raw."""
    flat = visible(_LINE_BREAKS.sub(" ", text))
    escaped = _SCHEME.sub(r"\:", "".join("\\" + ch if ch in _ALWAYS else ch for ch in flat))
    match = _LINE_START.match(escaped) if line_start else None
    if match:
        head = match.group()
        escaped = head[:-1] + "\\" + head[-1] + escaped[len(head) :]
    return escaped


# Inside maths, characters that \text{…} does not show as themselves in MathJax or KaTeX, or that
# GitHub's Markdown acts on even between dollars (it removes a backslash before punctuation, and
# reads emphasis, code, links, HTML and references there), are written as maths symbols named by
# letters, or, where no such symbol exists in both MathJax and KaTeX, as their full-width forms.
_MATH_ESCAPES = {
    "\\": r"\backslash",
    "{": r"\lbrace",
    "}": r"\rbrace",
    "[": r"\lbrack",
    "]": r"\rbrack",
    "|": r"\vert",
    "*": r"\ast",
    "<": r"\lt",
    ">": r"\gt",
    "~": r"\sim",
    "^": r"\hat{}",
    "`": r"\backprime",
}
_FULL_WIDTH = str.maketrans({ch: chr(ord(ch) + 0xFEE0) for ch in "_%&#$@"})


class MarkdownMathWriter(DocumentLatexWriter):
    """LaTeX maths for Markdown: names spelled so that MathJax and KaTeX both show them as written.

    A matrix's rows end with ``\\cr``, which MathJax and KaTeX read as ``\\\\``: GitHub's Markdown
    may take a backslash before a backslash as an escape, never one before a letter."""

    row_end = r" \cr "

    def name_text(self, text: str) -> str:
        out: list[str] = []
        run: list[str] = []
        for ch in visible(text).translate(_FULL_WIDTH):
            if ch in _MATH_ESCAPES:
                if run:
                    out.append(rf"\text{{{''.join(run)}}}")
                    run = []
                out.append(_MATH_ESCAPES[ch])
            else:
                run.append(ch)
        if run:
            out.append(rf"\text{{{''.join(run)}}}")
        return "".join(out) or r"\text{}"


class _MarkdownPage:
    """Writes one document's blocks as Markdown, through one formula writer at its precision."""

    def __init__(self, document: Document, display_math: bool):
        self.document = document
        self.display_math = display_math
        self.writer = MarkdownMathWriter(document.precision)

    def blocks(self) -> Iterable[str]:
        for block in self.document.blocks:
            if isinstance(block, Heading):
                text = self.inline(block.text)
                if text:
                    yield "#" * min(max(block.level, 1), 6) + " " + text
            elif isinstance(block, Table):
                yield self.table(block)
            elif isinstance(block, Grids):
                yield self.grids(block)
            elif isinstance(block, Steps):
                if block.items:
                    display = self.display_math or any(has_matrix(c) for step in block.items for c in step.chains)
                    yield "\n\n".join(map(self.display, block.items)) if display else self.items(block)
            elif isinstance(block, Note):
                yield self.note(block)
            else:  # pragma: no cover - the document model has no other block
                raise TypeError(f"no Markdown for {type(block).__name__}")

    def maths(self, piece) -> str:
        return self.writer.chain(piece) if isinstance(piece, Chain) else self.writer.write(piece)

    def inline(self, pieces: Iterable, line_start: bool = False) -> str:
        """Inline text: words escaped, formulas and chains in ``$…$``, emphasis in bold."""
        out = []
        for k, piece in enumerate(pieces):
            if isinstance(piece, str):
                out.append(escape_markdown(piece, line_start=line_start and k == 0))
            elif isinstance(piece, Styled):
                out.append(f"**{escape_markdown(piece.text)}**" if piece.text else "")
            else:
                out.append(f"${self.maths(piece)}$")
        return "".join(out)

    def cell(self, cell) -> str:
        if isinstance(cell, Num):
            return escape_markdown(self.writer.shown(cell))
        if cell is None:
            return ""
        return self.inline((cell,))

    def table(self, table: Table) -> str:
        lines = [
            "| " + " | ".join(self.inline(column.title) for column in table.columns) + " |",
            "| " + " | ".join("---:" if column.numeric else "---" for column in table.columns) + " |",
        ]
        lines.extend("| " + " | ".join(self.cell(cell) for cell in row) + " |" for row in table.rows)
        return "\n".join(lines)

    def grids(self, grids: Grids) -> str:
        """Grids side by side as one pipe table: per grid, its title over its row labels, then its
        columns (headed by their labels); an empty column between two grids."""
        height = max(len(grid.rows) for grid in grids.items)
        head: list[str] = []
        rule: list[str] = []
        body: list[list[str]] = [[] for _ in range(height)]
        for k, grid in enumerate(grids.items):
            if k:
                head.append(" ")
                rule.append("---")
                for line in body:
                    line.append(" ")
            head.append(self.inline(grid.title))
            rule.append("---")
            head.extend(escape_markdown(label) for label in grid.column_labels)
            head.extend(" " for _ in range(grid.width - len(grid.column_labels)))
            rule.extend("---:" for _ in range(grid.width))
            for r, line in enumerate(body):
                row = grid.rows[r] if r < len(grid.rows) else ()
                label = grid.row_labels[r] if r < len(grid.row_labels) and r < len(grid.rows) else ""
                line.append(escape_markdown(label) if label else " ")
                line.extend(self.cell(cell) for cell in row)
                line.extend(" " for _ in range(grid.width - len(row)))
        lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
        lines.extend("| " + " | ".join(line) + " |" for line in body)
        return "\n".join(lines)

    def items(self, steps: Steps) -> str:
        """Each step as a list item: its label, then its chains in ``$…$`` separated by commas."""
        lines = []
        for step in steps.items:
            label = f"{escape_markdown(step.label, line_start=True)}: " if step.label is not None else ""
            chains = ", ".join(f"${self.writer.chain(chain)}$" for chain in step.chains)
            lines.append(f"- {label}{chains}{self.inline(step.after)}")
        return "\n".join(lines)

    def display(self, step: Step) -> str:
        """A step as ``$$…$$`` blocks: one per chain (the label as a subscript), or one for an unlabelled step."""
        written = []
        for chain, label in labelled_chains(step):
            head = rf"{self.writer.name_text(label + ':')}\ " if label is not None else ""
            written.append(head + self.writer.chain(chain))
        after = "".join(
            self.writer.name_text(p if isinstance(p, str) else p.text)
            if isinstance(p, (str, Styled))
            else self.maths(p)
            for p in step.after
        )
        if step.label is None:
            return "$$" + r", \quad ".join(written) + after + "$$"
        written[-1] += after
        return "\n\n".join(f"$${line}$$" for line in written)

    def note(self, note: Note) -> str:
        if note.lead:
            return f"**{escape_markdown(note.lead)}** {self.inline(note.text)}"
        return self.inline(note.text, line_start=True)


def write_markdown(document: Document, stream: TextIO, *, display_math: bool = False) -> None:
    """``document`` as Markdown; with ``display_math`` its steps as ``$$…$$`` blocks (for notebooks)."""
    stream.write("\n\n".join(_MarkdownPage(document, display_math).blocks()) + "\n")


def markdown_text(document: Document, display_math: bool = False) -> str:
    """``document`` as Markdown text (see :func:`write_markdown`)."""
    out = io.StringIO()
    write_markdown(document, out, display_math=display_math)
    return out.getvalue()
