"""One document of blocks: what a worked solution shows, before any notation writes it.

A page is a sequence of blocks: headings, tables, steps (derivations) and notes. Text in
a block is *inline*: a sequence of plain words (``str``), formulas (``Expr``: a number, a
name, ...), derivations (``Chain``: ``i1 = 0.05``) and emphasised words (``Styled``), so
that a heading such as "input: x1 = 0.1" keeps its maths as maths in every notation. The
worked-solution builders (``nncalc.worked``) decide everything a page holds: which tables,
which steps, what is summarised, the precision numbers are shown at. The notations
(``nncalc.notation``) only write it, each in its own way; none of them computes.

Conventions every notation follows:

- ``Heading`` level 1 is the page's title (the network's name; may be empty), level 2 a
  sample ("input: …" or "sample 2 of 3: …"), level 3 a layer or a part of the work.
- A ``Table`` cell is a word (``str``, written as it is), a number (``Num``: its text where
  it has one, as the person wrote it; else written by the one formatter at the document's
  precision, with an ASCII hyphen: tables are for copying),
  a formula (``Expr``) or a ``Styled`` word. A numeric column is aligned right.
- A ``Step`` with a label (a neuron's name) writes its chains one under another, the label
  before the first (in LaTeX, where there is no label column, the label becomes the
  subscript of each chain's left-hand name). A step without a label writes its chains on
  one line, separated. ``Step.after`` is inline text that follows the last chain (", not
  0.7153").
- A ``Grids`` block is one or more ``Grid``s side by side, read together (a map's z beside
  its a, a window beside its kernel); a notation puts the next grid under the others where
  they do not fit on one line. A grid's cells are table cells; its row and column labels,
  where it has them, are written beside and above it (a map's row and column indices).
- A ``Note`` is a line of text; ``lead`` is its first words, emphasised ("output:"), and
  ``kind`` what it is for, which a notation may colour: "info", "output", "right", "wrong".
"""

from __future__ import annotations

from collections.abc import Sequence

from nncalc.expr import Chain
from nncalc.records import record


@record
class Styled:
    """Words with a meaning a notation may show (colour, weight): ``kind`` as for ``Note``."""

    text: str
    kind: str = "strong"  # "strong" | "right" | "wrong" | "output" | "info"


Piece = "str | Expr | Chain | Styled"
Inline = tuple  # of pieces, in order: see the module docstring


@record
class Heading:
    """A heading; level 1 is the page's title, 2 a sample, 3 a layer or a part of the work."""

    level: int
    text: Inline


@record
class Column:
    """A table column: its title, and whether it holds numbers (aligned right)."""

    title: Inline
    numeric: bool = True


@record
class Table:
    """Rows of cells under titled columns (see the module docstring for what a cell is)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]


@record
class Step:
    """One piece of working: its chains, labelled with a neuron's name where it helps."""

    chains: tuple[Chain, ...]
    label: str | None = None
    after: Inline = ()


@record
class Steps:
    """Derivations one under the other."""

    items: tuple[Step, ...]


@record
class Grid:
    """A matrix of cells under a title: a feature map, a window of one, a kernel.

    ``row_labels`` and ``column_labels`` are written beside and above the cells (empty: none).
    """

    title: Inline
    rows: tuple[tuple, ...]
    row_labels: tuple[str, ...] = ()
    column_labels: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """How many cells a row holds."""
        return max((len(row) for row in self.rows), default=0)


@record
class Grids:
    """Grids side by side, read together (see the module docstring)."""

    items: tuple[Grid, ...]


@record
class Note:
    """A line of text, its ``lead`` words emphasised; ``kind`` says what it is for."""

    text: Inline
    kind: str = "info"
    lead: str = ""


Block = Heading | Table | Grids | Steps | Note


@record
class Document:
    """A worked solution: its title, blocks, and the precision its numbers are shown at."""

    title: str
    blocks: tuple[Block, ...]
    precision: int = 4


def joined(items: Sequence[Inline], separator: str = ", ") -> Inline:
    """Several inline texts as one, with ``separator`` between them."""
    out: list = []
    for k, item in enumerate(items):
        if k:
            out.append(separator)
        out.extend(item)
    return tuple(out)
