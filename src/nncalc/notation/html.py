"""The HTML notation: a document as an HTML fragment for a notebook, or as a page of its own.

The fragment is one ``<div class="nncalc">`` carrying its own short stylesheet, scoped to
``.nncalc``, so that a notebook cell (JupyterLab, VS Code, Colab) shows it as it is; the
standalone page wraps the same fragment in a complete document. Neither holds a script or
refers to anything outside itself: a page opens in a browser with nothing fetched.

Formulas are written as MathML, which browsers draw natively (Chromium 109 on, Firefox,
Safari), through :class:`MathMLWriter`. Every word from the document passes through
:func:`nncalc.text.visible` (control characters become visible stand-ins) and then
``html.escape``; numbers are written as the document's precision shows them, never
computed here (see ``nncalc.document`` for the conventions every notation follows).
"""

from __future__ import annotations

import html
import re
from typing import TextIO

from nncalc.document import Document, Grid, Grids, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import (
    ATOM,
    PRODUCT,
    Call,
    Chain,
    Derivative,
    Edge,
    Expr,
    Frac,
    Index,
    Matrix,
    Name,
    Num,
    Power,
    Product,
)
from nncalc.notation.formula import FormulaWriter
from nncalc.render.numbers import show
from nncalc.text import visible

MATHML = "http://www.w3.org/1998/Math/MathML"  # a namespace name, never fetched

KINDS = ("info", "output", "right", "wrong", "strong")  # the classes a Styled word or a Note may carry

CSS = """\
.nncalc{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.45}
.nncalc h1{font-size:1.6em;margin:.2em 0 .5em}
.nncalc h2{font-size:1.25em;margin:1.2em 0 .4em;padding-bottom:.15em;border-bottom:1px solid rgba(127,127,127,.35)}
.nncalc h3{font-size:1.05em;margin:1em 0 .4em}
.nncalc table{border-collapse:collapse;margin:.4em 0 .6em}
.nncalc th,.nncalc td{border:1px solid rgba(127,127,127,.35);padding:.25em .7em;text-align:left}
.nncalc th{background:rgba(127,127,127,.1);font-weight:600}
.nncalc .num{text-align:right;font-variant-numeric:tabular-nums}
.nncalc .grids{display:flex;flex-wrap:wrap;gap:.4em 2.5em;align-items:flex-start;margin:.4em 0 .6em}
.nncalc .grids figure{margin:0}
.nncalc .grids figcaption{font-weight:600;white-space:nowrap;padding-bottom:.2em}
.nncalc .grids table{margin:0}
.nncalc .grids th{font-weight:400;opacity:.75}
.nncalc math{font-size:1.15em}
.nncalc mtd{text-align:right}
.nncalc ul.steps{list-style:none;margin:.4em 0 .8em;padding:0}
.nncalc ul.steps>li{display:flex;gap:1em;margin:.5em 0}
.nncalc .label{min-width:2.5em;font-weight:600}
.nncalc .chains{display:flex;flex-direction:column;gap:.35em}
.nncalc .line{display:flex;flex-wrap:wrap;gap:.4em 2.5em;align-items:baseline}
.nncalc .note{margin:.6em 0}
.nncalc .right{color:#1a7f37}
.nncalc .wrong{color:#cf222e}
.nncalc .output,.nncalc .strong{font-weight:600}
"""

PAGE_CSS = "body{margin:2rem auto;max-width:60rem;padding:0 1.5rem}"

# A page that may fetch nothing at all: only its own inline stylesheet is allowed.
POLICY = "default-src 'none'; style-src 'unsafe-inline'"

_SCIENTIFIC = re.compile(r"([-−]?)(\d+(?:\.\d*)?)[eE]([-+−]?\d+)")


def text(words: str) -> str:
    """Words from the document for HTML: control characters made visible, then escaped."""
    return html.escape(visible(words))


def kind_class(kind: str, fallback: str) -> str:
    """``kind`` as a class name where it is one the stylesheet knows, else ``fallback``."""
    return kind if kind in KINDS else fallback


class MathMLWriter(FormulaWriter):
    """MathML Core: ``<mi>σ</mi><mrow><mo>(</mo><mn>0.415</mn><mo>)</mo></mrow>``.

    Each hook returns a run of MathML elements; where MathML needs one element (a fraction's
    parts, a power's base and exponent) the run is wrapped in ``<mrow>``. A minus is the
    sign U+2212 in an ``<mo>``, grouped with what it negates so it is drawn as a prefix.
    """

    def prec(self, node: Expr) -> int:
        """A fraction bar groups by itself; a number in scientific notation is a product (1.2 × 10⁻⁵)."""
        if isinstance(node, Frac):
            return ATOM
        if isinstance(node, Num) and _SCIENTIFIC.fullmatch(self.shown(node).strip()) and not self._negative(node):
            return PRODUCT
        return super().prec(node)

    def _negative(self, node: Num) -> bool:
        return self.shown(node).lstrip().startswith(("-", "−"))

    def math(self, content: str, displaystyle: bool = False) -> str:
        """``content`` as an inline ``<math>`` element; with ``displaystyle`` its fractions are full size."""
        style = ' displaystyle="true"' if displaystyle else ""
        return f'<math xmlns="{MATHML}" display="inline"{style}>{content}</math>'

    def number(self, shown: str) -> str:
        shown = visible(shown.strip())
        scientific = _SCIENTIFIC.fullmatch(shown)
        if scientific:
            sign, mantissa, exponent = scientific.groups()
            power = f"<msup><mn>10</mn>{self.number(str(int(exponent.replace('−', '-'))))}</msup>"
            return self._signed(sign, f"<mrow><mn>{html.escape(mantissa)}</mn><mo>×</mo>{power}</mrow>")
        if shown[:1] in ("-", "−"):
            return self._signed("−", f"<mn>{html.escape(shown[1:])}</mn>")
        return f"<mn>{html.escape(shown)}</mn>"

    def _signed(self, sign: str, body: str) -> str:
        return f"<mrow><mo>−</mo>{body}</mrow>" if sign else body

    def identifier(self, words: str) -> str:
        """A name or a subscript: ``<mi>``, upright by MathML's rule where longer than one letter."""
        return f"<mi>{text(words)}</mi>"

    def name(self, node: Name) -> str:
        head = self.identifier(node.text)
        if node.mark == "hat":
            head = f'<mover accent="true">{head}<mo>^</mo></mover>'
        if node.mark == "prime":  # the font's prime is raised already: a superscript would shrink it away
            head = f'<mrow>{head}<mo lspace="0" rspace="0">′</mo></mrow>'
        return f"<msub>{head}{self.identifier(node.sub)}</msub>" if node.sub else head

    def word(self, words: str) -> str:
        return f"<mtext>\u00a0{text(words)}\u00a0</mtext>"

    def edge(self, node: Edge) -> str:
        connection = f"<mrow>{self.identifier(node.source)}<mo>→</mo>{self.identifier(node.target)}</mrow>"
        return f"<msub>{self.identifier(node.text)}{connection}</msub>"

    def plus_sign(self) -> str:
        return "<mo>+</mo>"

    def minus_sign(self) -> str:
        return "<mo>−</mo>"

    def negate(self, operand: str) -> str:
        return f"<mrow><mo>−</mo>{operand}</mrow>"

    def product(self, factors: list[str], node: Product) -> str:
        return f"<mo>{text(node.sign)}</mo>".join(factors)

    def fraction(self, node: Frac) -> str:
        return f"<mfrac><mrow>{self.write(node.numerator)}</mrow><mrow>{self.write(node.denominator)}</mrow></mfrac>"

    def power(self, node: Power) -> str:
        return f"<msup><mrow>{self.base_operand(node.base)}</mrow><mrow>{self.write(node.exponent)}</mrow></msup>"

    def call(self, node: Call) -> str:
        args = "<mo>,</mo>".join(self.write(a) for a in node.args)
        if node.name == "sqrt":
            return f"<msqrt>{args}</msqrt>"
        return f"{self.identifier(node.name)}{self.parens(args)}"

    def sigma(self, index: str, body: str) -> str:
        return f"<msub><mo>∑</mo>{self.identifier(index)}</msub>{body}"

    def derivative(self, node: Derivative) -> str:
        top = f"<mrow><mi>∂</mi>{self.write(node.of)}</mrow>"
        return f"<mfrac>{top}<mrow><mi>∂</mi>{self.write(node.by)}</mrow></mfrac>"

    def parens(self, inner: str) -> str:
        """Parentheses that grow only around a fraction, a Σ or a matrix (browsers space stretched ones widely)."""
        if "<mtable" in inner:  # as tall as the matrix and its shape beneath, not twice its depth
            return f'<mrow><mo symmetric="false">(</mo>{inner}<mo symmetric="false">)</mo></mrow>'
        if "<mfrac" in inner or "∑" in inner:
            return f"<mrow><mo>(</mo>{inner}<mo>)</mo></mrow>"
        return f'<mrow><mo stretchy="false">(</mo>{inner}<mo stretchy="false">)</mo></mrow>'

    def relation(self, relation: str) -> str:
        return f"<mo>{text(relation)}</mo>"

    def matrix(self, node: Matrix) -> str:
        """An ``<mtable>`` in square brackets that grow with it, its shape (``2×2``) beneath."""
        rows = "".join(
            "<mtr>" + "".join(f"<mtd>{self.write(cell)}</mtd>" for cell in row) + "</mtr>" for row in node.rows
        )
        shape = f"<mrow><mn>{node.shape[0]}</mn><mo>×</mo><mn>{node.shape[1]}</mn></mrow>"
        return f"<munder><mrow><mo>[</mo><mtable>{rows}</mtable><mo>]</mo></mrow>{shape}</munder>"

    def dots(self, words: str) -> str:
        return f"<mo>{text(words)}</mo>"

    def index(self, node: Index) -> str:
        """``X[0:3,0:3]``: brackets that never stretch, the position as written."""
        brackets = '<mo stretchy="false">[</mo>', '<mo stretchy="false">]</mo>'
        return f"<mrow>{self.base_operand(node.base)}{brackets[0]}<mtext>{text(node.index)}</mtext>{brackets[1]}</mrow>"


class HtmlWriter:
    """Writes one document's blocks as HTML, its formulas through a :class:`MathMLWriter`."""

    def __init__(self, document: Document):
        self.document = document
        self.maths = MathMLWriter(document.precision)

    def fragment(self) -> str:
        """The document as one self-contained ``<div class="nncalc">``."""
        parts = ['<div class="nncalc">', f"<style>\n{CSS}</style>"]
        parts.extend(self.block(block) for block in self.document.blocks)
        parts.append("</div>")
        return "\n".join(part for part in parts if part) + "\n"

    def page(self) -> str:
        """The fragment in a complete page, titled by the document, that fetches nothing."""
        title = text(self.document.title) or "nncalc"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
            f"{self.fragment()}</body>\n</html>\n"
        )

    # -- blocks -----------------------------------------------------------------------------

    def block(self, block: object) -> str:
        """One block in HTML; an empty heading (a network without a name) writes nothing."""
        if isinstance(block, Heading):
            return self.heading(block)
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, Grids):
            return self.grids(block)
        if isinstance(block, Steps):
            return self.steps(block)
        if isinstance(block, Note):
            return self.note(block)
        raise TypeError(f"no HTML for {type(block).__name__}")

    def heading(self, heading: Heading) -> str:
        """``<h1 class="title">`` for the page, ``h2`` a sample, ``h3`` a layer or part of the work."""
        content = self.inline(heading.text)
        if not content.strip():
            return ""
        level = min(max(heading.level, 1), 3)
        role = {1: "title", 2: "sample", 3: "part"}[level]
        return f'<h{level} class="{role}">{content}</h{level}>'

    def table(self, table: Table) -> str:
        """A ``<table>`` with a header row; numeric columns carry the class ``num`` (aligned right)."""
        numeric = [column.numeric for column in table.columns]
        head = "".join(f"<th{self._align(c.numeric)}>{self.inline(c.title)}</th>" for c in table.columns)
        rows = []
        for row in table.rows:
            cells = "".join(
                f"<td{self._align(k < len(numeric) and numeric[k])}>{self.cell(cell)}</td>"
                for k, cell in enumerate(row)
            )
            rows.append(f"<tr>{cells}</tr>")
        body = "\n".join(rows)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"

    def _align(self, numeric: bool) -> str:
        return ' class="num"' if numeric else ""

    def cell(self, cell: object) -> str:
        """A table cell: a number by the one formatter with an ASCII hyphen (tables are for copying)."""
        if isinstance(cell, Num):
            return text(cell.text if cell.text is not None else show(cell.value, self.document.precision))
        return self.piece(cell)

    def grid(self, grid: Grid) -> str:
        """One grid as a ``<figure>``: its title (never folded to the grid's width) over a ``<table>`` with the
        column labels above and the row labels as row headers."""
        lines = [f"<figure><figcaption>{self.inline(grid.title)}</figcaption>", "<table>"]
        if grid.column_labels:
            corner = "<th></th>" if grid.row_labels else ""
            labels = "".join(f'<th scope="col" class="num">{text(label)}</th>' for label in grid.column_labels)
            lines.append(f"<thead><tr>{corner}{labels}</tr></thead>")
        lines.append("<tbody>")
        for r, row in enumerate(grid.rows):
            label = grid.row_labels[r] if r < len(grid.row_labels) else None
            head = f'<th scope="row">{text(label)}</th>' if label is not None else ""
            cells = "".join(f'<td class="num">{self.cell(cell)}</td>' for cell in row)
            lines.append(f"<tr>{head}{cells}</tr>")
        lines.append("</tbody></table></figure>")
        return "\n".join(lines)

    def grids(self, grids: Grids) -> str:
        """The grids side by side (a wrapping flex row): ``<div class="grids">``."""
        return '<div class="grids">\n' + "\n".join(self.grid(grid) for grid in grids.items) + "\n</div>"

    def steps(self, steps: Steps) -> str:
        """Derivations as a list, one step an item: see :meth:`step`."""
        items = "\n".join(f"<li>{self.step(step)}</li>" for step in steps.items)
        return f'<ul class="steps">\n{items}\n</ul>'

    def step(self, step: Step) -> str:
        """A labelled step's chains one under another after its label; an unlabelled one's on one line."""
        chains = [self.maths.math(self.maths.chain(chain), displaystyle=True) for chain in step.chains]
        after = self.inline(step.after)
        if after and chains:
            chains[-1] += after
        if step.label is None:
            return f'<div class="line">{"".join(f"<span>{c}</span>" for c in chains)}</div>'
        lines = "".join(f"<div>{c}</div>" for c in chains)
        return f'<span class="label">{text(step.label)}</span><div class="chains">{lines}</div>'

    def note(self, note: Note) -> str:
        """``<p class="note KIND">`` with its lead words in ``<strong>`` first."""
        lead = f"<strong>{text(note.lead)}</strong> " if note.lead else ""
        return f'<p class="note {kind_class(note.kind, "info")}">{lead}{self.inline(note.text)}</p>'

    # -- inline text ------------------------------------------------------------------------

    def inline(self, pieces: object) -> str:
        """Inline text: words escaped, formulas and chains as inline MathML, styled words in a span."""
        if isinstance(pieces, (str, Expr, Chain, Styled)):
            pieces = (pieces,)
        return "".join(self.piece(piece) for piece in pieces)

    def piece(self, piece: object) -> str:
        if isinstance(piece, str):
            return text(piece)
        if isinstance(piece, Chain):
            return self.maths.math(self.maths.chain(piece))
        if isinstance(piece, Expr):
            return self.maths.math(self.maths.write(piece))
        if isinstance(piece, Styled):
            return f'<span class="{kind_class(piece.kind, "strong")}">{text(piece.text)}</span>'
        raise TypeError(f"no HTML for {type(piece).__name__}")


def html_fragment(document: Document) -> str:
    """The document as a self-contained HTML fragment: what a notebook's ``_repr_html_`` returns."""
    return HtmlWriter(document).fragment()


def write_html(document: Document, stream: TextIO, standalone: bool = False) -> None:
    """Write the document as HTML: a fragment, or with ``standalone`` a complete page fetching nothing."""
    writer = HtmlWriter(document)
    stream.write(writer.page() if standalone else writer.fragment())
