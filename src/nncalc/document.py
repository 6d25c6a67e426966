"""One document of blocks: what a worked solution shows, before any notation writes it.

A page is a sequence of blocks: headings, tables, steps (derivations), notes. Text in a
block is a sequence of inline pieces, plain words and formulas (``Expr``), so that a
heading such as "input: x1 = 0.1" keeps its maths as maths in every notation. The
worked-solution builders (``nncalc.solution``) decide everything a page holds: which
tables, which steps, what is summarised, the precision numbers are shown at. The
notations (``nncalc.notation``) only write it, each in its own way.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncalc.expr import Chain, Expr
from nncalc.records import record

Inline = tuple["str | Expr", ...]  # words and formulas, in order


@record
class Heading:
    """A heading; level 1 is the page's title, 2 a sample, 3 a layer."""

    level: int
    text: Inline


@record
class Column:
    """A table column: its title, and whether it holds numbers (aligned right)."""

    title: Inline
    numeric: bool = True


@record
class Table:
    """Rows of cells under titled columns; a cell is a word, a formula or a number (``Num``)."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str | Expr, ...], ...]
    caption: Inline = ()


@record
class Step:
    """One derivation, with a label where it helps (the neuron's name)."""

    chain: Chain
    label: str | None = None


@record
class Steps:
    """Derivations one under the other, their relations aligned where the notation can."""

    items: tuple[Step, ...]


@record
class Note:
    """A line of text; ``kind`` says what it is for: "info", "output" (a result), "warning", "right", "wrong"."""

    text: Inline
    kind: str = "info"


Block = Heading | Table | Steps | Note


@record
class Document:
    """A worked solution: its blocks, and the precision its numbers are shown at."""

    title: str
    blocks: tuple[Block, ...]
    precision: int = 4


def inline(*parts: str | Expr) -> Inline:
    """Inline text from words and formulas."""
    return tuple(parts)


def joined(items: Sequence[Inline], separator: str = ", ") -> Inline:
    """Several inline texts as one, with ``separator`` between them."""
    out: list[str | Expr] = []
    for k, item in enumerate(items):
        if k:
            out.append(separator)
        out.extend(item)
    return tuple(out)
