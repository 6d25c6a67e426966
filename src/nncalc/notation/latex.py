"""LaTeX for a document (``nncalc.document``): sections, ``tabular`` tables, ``align*`` derivations.

Headings are ``\\section*``, ``\\subsection*`` and ``\\subsubsection*``; a table is a plain
``tabular`` (``\\hline`` rules, numeric columns right-aligned, numbers in maths); a ``Steps``
block is one ``align*`` whose relations line up at ``&``. A labelled step writes one row per
chain with the label as the subscript of the chain's left-hand name (``z_{\\text{h1}} &= …``);
an unlabelled step writes its chains on one row, joined by ``, \\quad``.

A row too wide for an article page is broken where a person would break it: before a
relation (``\\\\ &= …``), before the next chain, or, inside a long sum, before a ``+`` or
``−`` (``\\\\ &\\quad + …``). Widths are estimated from the LaTeX itself
(:func:`math_width`), in units of a digit's width, against the page's text width.

Every word from a user's file passes through :func:`nncalc.text.visible` and is escaped
for LaTeX's text mode (:func:`escape_latex`), in text and inside formulas alike; symbols
that pdflatex's ``utf8`` input cannot typeset are written as LaTeX commands. A fragment
needs amsmath (and amssymb where it shows ✓); ``standalone`` gives a whole document that
compiles with pdflatex from texlive-latex-base.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

from nncalc.document import Document, Grid, Grids, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import PRODUCT, SUM, Call, Chain, Edge, Expr, Frac, Name, Neg, Num, Product, Sigma, Sum, has_matrix
from nncalc.notation.formula import LatexWriter
from nncalc.records import record
from nncalc.text import visible

# -- text mode ------------------------------------------------------------------------------------

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",  # so a fragment also reads right in a document left in OT1
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LIGATURE_STARTS = "-`',!?<>"  # --, ``, '', ,, !` and ?` would become one glyph

# What pdflatex's utf8 input with T1/TS1 fonts typesets as it is; other characters stop it with an error.
_UNSUPPORTED_LATIN = {0x126, 0x127, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167, 0x17F}
_PUNCTUATION = set("–—‘’“”†‡•…‰‹›€™№℃")
_GREEK_COMMANDS = (
    r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi \pi \rho "
    r"\sigma \varsigma \tau \upsilon \varphi \chi \psi \omega \Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma "
    r"\Upsilon \Phi \Psi \Omega"
)
GREEK = dict(zip("αβγδεζηθικλμνξπρσςτυφχψωΓΔΘΛΞΠΣΥΦΨΩ", _GREEK_COMMANDS.split(" "), strict=True))
# The symbols nncalc's own words use, as maths commands (amssymb for \checkmark).
# Combining accents (m̂ is m and U+0302) as the text-mode accents that put them on the letter before.
_COMBINING = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0307": ".", "\u0308": '"'}
_MATH_SYMBOLS = {
    "·": r"\cdot",
    "−": "-",
    "→": r"\to",
    "←": r"\leftarrow",
    "≈": r"\approx",
    "✓": r"\checkmark",
    "✗": r"\times",
    "∂": r"\partial",
    "′": "'",
    "∑": r"\Sigma",
    "≤": r"\le",
    "≥": r"\ge",
    "∞": r"\infty",
    "√": r"\surd",
    "ο": "o",
    **GREEK,
    **{chr(0x2070 + k) if k > 3 or k == 0 else "¹²³"[k - 1]: f"^{{{k}}}" for k in range(10)},
    **{chr(0x2080 + k): f"_{{{k}}}" for k in range(10)},
    "ᵢ": "_{i}",
    "ⱼ": "_{j}",
}
# The control pictures that nncalc.text.visible writes (␛ for ESC), by their ASCII names.
_CONTROL_NAMES = (
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI"),
    *("DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"),
)
_PICTURES = {chr(0x2400 + k): name for k, name in enumerate(_CONTROL_NAMES)} | {"\u2421": "DEL"}


def escape_latex(text: str) -> str:
    """``text`` as LaTeX's text mode typesets it literally, on one line, whatever it holds.

    Control characters are first made visible (:func:`nncalc.text.visible`; ESC is written
    ``<ESC>``); LaTeX's special characters are escaped; ligatures (``--``, ``<<``) are
    broken; a line may break after a slash (a long file path); ·, −, →, ≈, ✓, ✗, ∂, ′ and
    Greek letters become maths commands; a combining accent on a letter (m̂) becomes its
    text-mode accent (``\\^{m}``); other characters
    that pdflatex cannot typeset are written as their code point, ``U+0416``.
    """
    flat = visible(text)
    breaks = _path_breaks(flat)
    out = []
    for i, ch in enumerate(flat):
        code = ord(ch)
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif code < 0x7F:
            following = flat[i + 1 : i + 2]
            ligature = ch in _LIGATURE_STARTS and following and (following == ch or (ch in "!?" and following == "`"))
            out.append(ch + "{}" if ligature else ch)
            if ch in "/\\" and i in breaks:  # a long path may break after a slash, not run into the margin
                out.append(r"\allowbreak{}")
        elif ch in _MATH_SYMBOLS:
            out.append(f"${_MATH_SYMBOLS[ch]}$")
        elif (0xA0 <= code <= 0x17F and code not in _UNSUPPORTED_LATIN) or ch in _PUNCTUATION:
            out.append(ch)
        elif ch in _PICTURES:
            out.append(rf"\texttt{{<{_PICTURES[ch]}>}}")
        elif ch in _COMBINING and out and len(out[-1]) == 1 and out[-1].isalpha():  # m̂: an accent on m
            out[-1] = f"\\{_COMBINING[ch]}{{{out[-1]}}}"
        else:
            out.append(rf"\texttt{{U+{code:04X}}}")
    return "".join(out)


LONG_WORD = 24  # a word longer than this (a file path) may break after its slashes


def _path_breaks(text: str) -> set[int]:
    """The positions of the slashes inside long words, where a line may break."""
    breaks: set[int] = set()
    start = 0
    for word in text.split(" "):
        if len(word) > LONG_WORD:
            breaks.update(start + k for k, ch in enumerate(word[:-1]) if ch in "/\\")
        start += len(word) + 1
    return breaks


# -- maths --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?P<sign>[+-]?)(?:(?P<p>\d+)/(?P<q>\d+)|(?P<m>(?:\d+(?:\.\d*)?|\.\d+))(?:[eE](?P<e>[+-]?\d+))?)")
_NON_FINITE = {"inf": r"\infty", "infinity": r"\infty", "nan": r"\mathrm{NaN}"}
_KNOWN_FUNCTIONS = {"σ", "tanh", "ln", "exp", "max", "min", "sqrt"}


@record
class _Text:
    """Part of a row that is never broken."""

    text: str


@record
class _Break:
    """Where a row may be broken: ``inline`` when it is not, ``broken`` (a new row) when it is.

    ``kind`` is "relation" (before ``=``), "chain" (before the next chain) or "term" (inside a sum).
    """

    kind: str
    inline: str
    broken: str


@record
class _Bracket:
    """A parenthesis around a sum that may be broken: ``broken`` is its spelling when it is.

    Around a matrix (``matrix``) it stays ``\\left(`` … ``\\right)`` as tall as the matrix, each
    line it spans closed with ``\\right.`` and opened with ``\\left.``."""

    group: int
    plain: str
    broken: str
    matrix: bool = False


_RELATION_BREAK = " \\\\\n&"
_CONTINUED = " \\\\\n&\\quad "


class DocumentLatexWriter(LatexWriter):
    """LaTeX maths for documents: every name from a file escaped, and rows that can be broken.

    Names of more than one letter are upright text, ``\\text{h1}``, escaped by
    :meth:`name_text` (a notation writing maths for another renderer, such as Markdown's
    MathJax, spells names its own way there). Numbers are spelled from their shown text:
    ``1/3`` as ``\\tfrac{1}{3}``, ``1e-05`` as ``1 \\times 10^{-5}``, ``inf`` as ``\\infty``.
    """

    def __init__(self, precision: int = 4):
        super().__init__(precision)
        self._groups = itertools.count()

    def name_text(self, text: str) -> str:
        """A name from a file inside maths: upright, escaped."""
        return rf"\text{{{escape_latex(text)}}}"

    def number(self, text: str) -> str:
        written = text.strip().replace("−", "-")
        bare = written.lstrip("+-").lower()
        if bare in _NON_FINITE:
            body = _NON_FINITE[bare]
            return "-" + body if written.startswith("-") and body == r"\infty" else body
        match = _NUMBER.fullmatch(written)
        if match is None:
            return self.name_text(text)
        sign = "-" if match["sign"] == "-" else ""
        if match["p"] is not None:
            return rf"{sign}\tfrac{{{match['p']}}}{{{match['q']}}}"
        if match["e"] is not None:
            return rf"{sign}{match['m']} \times 10^{{{int(match['e'])}}}"
        return sign + match["m"]

    def symbol(self, text: str) -> str:
        if text in GREEK:
            return GREEK[text]
        if text == "⊤":
            return r"\top"
        if len(text) == 1 and text.isascii() and text.isalpha():
            return text
        return self.name_text(text)

    def subscript(self, text: str) -> str:
        return text if len(text) == 1 and text.isascii() and text.isalnum() else self.name_text(text)

    def word(self, text: str) -> str:
        return self.name_text(text)

    def edge(self, node: Edge) -> str:
        return rf"{self.symbol(node.text)}_{{{self.name_text(node.source)}\to{self.name_text(node.target)}}}"

    def call(self, node: Call) -> str:
        if node.name in _KNOWN_FUNCTIONS:
            return super().call(node)
        name = node.name
        function = GREEK.get(name) or (
            rf"\operatorname{{{name}}}" if name.isascii() and name.isalnum() else self.name_text(name)
        )
        args = ", ".join(self.write(a) for a in node.args)
        tall = any(isinstance(a, (Frac, Sigma)) or has_matrix(a) for a in node.args)
        return rf"{function}\left({args}\right)" if tall else f"{function}({args})"

    # -- rows that can be broken ----------------------------------------------------------------

    def pieces(self, node: Expr) -> list:
        """``node`` as the pieces of a row: where a sum's terms (also in parentheses, as a factor) may break.

        Written without breaks, the pieces are exactly :meth:`write`'s text.
        """
        if isinstance(node, Sum):
            return self._terms(node)
        if self._matrices(node):
            return self._factors(node, "")
        if self._applied_to_matrices(node):
            return self._applied(node)  # type: ignore[arg-type]
        if isinstance(node, Product) and any(self._grouped(f) for f in node.factors):
            joiner = self.product(["", ""], node)
            out: list = []
            for k, factor in enumerate(node.factors):
                if k and has_matrix(factor) and has_matrix(node.factors[k - 1]):
                    out.extend((_Break("term", " ", _CONTINUED), _Text(joiner.lstrip())))
                elif k:
                    out.append(_Text(joiner))
                if self._grouped(factor):
                    inner = self.write(factor)
                    wrapped = self.parens(inner)
                    at = wrapped.find(inner)
                    group = next(self._groups)
                    matrix = has_matrix(factor)
                    opening, closing = wrapped[:at], wrapped[at + len(inner) :]
                    out.append(_Bracket(group, opening, _tall_bracket(opening), matrix))
                    out.extend(self._factors(factor, "") if isinstance(factor, Product) else self._terms(factor))
                    out.append(_Bracket(group, closing, _tall_bracket(closing), matrix))
                else:
                    out.append(_Text(self.operand(factor, PRODUCT + 1, first=k == 0)))
            return out
        return [_Text(self.write(node))]

    def _grouped(self, node: Expr) -> bool:
        """A sum written in parentheses as a factor of a product that a row may break inside: a
        product of matrices, or a long sum. A short sum such as ``(1 − a)`` or ``(t − a)`` is read
        as one thing, never split."""
        if isinstance(node, Product):
            return self._matrices(node)
        return isinstance(node, Sum) and self.prec(node) < PRODUCT + 1 and math_width(self.write(node)) > SHORT_GROUP

    def _terms(self, node: Sum) -> list:
        first = node.terms[0]
        if self._matrices(first):
            out: list = self._factors(first, "")
        elif self._applied_to_matrices(first):
            out = self._applied(first)  # type: ignore[arg-type]
        else:
            out = [_Text(self.operand(first, SUM, first=True))]
        for term in node.terms[1:]:
            sign = (self.minus_sign() if isinstance(term, Neg) else self.plus_sign()).lstrip()
            operand = term.operand if isinstance(term, Neg) else term
            out.append(_Break("term", " ", _CONTINUED))
            if self._matrices(operand):
                out.extend(self._factors(operand, sign))
            elif self._applied_to_matrices(operand):
                out.extend((_Text(sign), *self._applied(operand)))  # type: ignore[arg-type]
            else:
                out.append(_Text(sign + self.operand(operand, PRODUCT)))
        return out

    def _matrices(self, node: Expr) -> bool:
        """A product of matrices, none of its factors a sum: it may break between two matrices."""
        return isinstance(node, Product) and has_matrix(node) and not any(self._grouped(f) for f in node.factors)

    def _applied_to_matrices(self, node: Expr) -> bool:
        """A function of a product of matrices, ``sum(X ⊙ K)``: it may break between the matrices."""
        return isinstance(node, Call) and len(node.args) == 1 and self._matrices(node.args[0])

    def _applied(self, node: Call) -> list:
        """``f(`` … ``)`` around a product of matrices as pieces, its parentheses kept as tall as the matrices."""
        inner = self.write(node.args[0])
        whole = self.write(node)
        at = whole.find(inner)
        group = next(self._groups)
        opening, closing = whole[:at], whole[at + len(inner) :]
        return [
            _Bracket(group, opening, _tall_bracket(opening), True),
            *self._factors(node.args[0], ""),  # type: ignore[arg-type]
            _Bracket(group, closing, _tall_bracket(closing), True),
        ]

    def _factors(self, node: Product, sign: str) -> list:
        """A product of matrices as pieces, ``sign`` before it, a break before each ``\\cdot``."""
        joiner = self.product(["", ""], node)
        out: list = [_Text(sign + self.operand(node.factors[0], PRODUCT + 1, first=not sign))]
        for before, factor in zip(node.factors, node.factors[1:], strict=False):
            text = self.operand(factor, PRODUCT + 1)
            if has_matrix(before) and has_matrix(factor):  # between two matrices
                out.extend((_Break("term", " ", _CONTINUED), _Text(f"{joiner.lstrip()}{text}")))
            else:
                out.append(_Text(joiner + text))
        return out

    def chain_pieces(self, chain: Chain, first: bool) -> list:
        """A chain's right-hand side as pieces: ``= part = part …``, a break before every relation
        but the first; the chain's left-hand side too unless it is the ``first`` of its row."""
        out: list = [] if first else [_Text(self.write(chain.parts[0]) + " ")]
        for k, (relation, part) in enumerate(zip(chain.relations, chain.parts[1:], strict=True)):
            if k:
                out.append(_Break("relation", " ", _RELATION_BREAK))
            out.append(_Text(self.relation(relation).strip() + " "))
            out.extend(self.pieces(part))
        return out


def _tall_bracket(text: str) -> str:
    r"""``\left(`` as ``\bigl(``: a bracket that spans rows of an align* cannot stretch."""
    return text.replace(r"\left", r"\bigl").replace(r"\right", r"\bigr")


# -- widths ---------------------------------------------------------------------------------------

# Widths in units of a digit (half an em), with the space TeX puts around operators and relations.
_CHAR_WIDTHS = {
    ".": 0.56,
    ",": 0.9,
    ";": 0.9,
    ":": 0.56,
    "(": 0.78,
    ")": 0.78,
    "[": 0.56,
    "]": 0.56,
    "+": 2.44,
    "-": 2.44,
    "=": 2.67,
    "<": 2.67,
    ">": 2.67,
    "'": 0.6,
    "|": 0.56,
    "/": 1.0,
    " ": 0.0,
    "&": 0.0,
    "$": 0.0,
    "{": 0.0,
    "}": 0.0,
    "~": 0.66,
    "!": 0.56,
}
_COMMAND_WIDTHS = {
    "cdot": 1.44,
    "times": 2.44,
    "pm": 2.44,
    "approx": 2.67,
    "sim": 2.67,
    "le": 2.67,
    "ge": 2.67,
    "lt": 2.67,
    "gt": 2.67,
    "to": 3.1,
    "leftarrow": 3.1,
    "quad": 2.0,
    "qquad": 4.0,
    ",": 0.33,
    ";": 0.55,
    " ": 0.66,
    "!": -0.33,
    "sum": 3.2,
    "infty": 2.0,
    "partial": 1.1,
    "checkmark": 1.6,
    "vert": 0.56,
    "tanh": 4.0,
    "ln": 2.0,
    "exp": 3.0,
    "max": 3.5,
    "min": 3.2,
    "left": 0.5,  # a stretched bracket is wider than the plain one counted after it
    "right": 0.5,
    "bigl": 0.2,
    "bigr": 0.2,
    "textbackslash": 1.0,
    "textasciitilde": 1.0,
    "textasciicircum": 1.0,
    "textless": 1.0,
    "textgreater": 1.0,
    "textbar": 0.56,
    "backslash": 1.0,
    "surd": 1.7,
    "odot": 2.44,
    "cdots": 2.7,
    "vdots": 0.6,
    "ddots": 2.7,
    "top": 1.5,
}
_FRACTIONS = {"frac": 1.0, "dfrac": 1.0, "tfrac": 0.7}
_ONE_ARGUMENT = {"text", "mathrm", "operatorname", "textbf", "texttt", "hat", "mathit", "textit", "ensuremath"}
_SCRIPT = 0.8


class _Measure:
    """A recursive reading of LaTeX that adds up the estimated widths of what it typesets."""

    def __init__(self, text: str):
        self.text = text
        self.at = 0

    def group(self, closing: bool) -> float:
        width = 0.0
        while self.at < len(self.text):
            ch = self.text[self.at]
            if ch == "}":
                self.at += 1
                if closing:
                    return width
                continue
            width += self.token()
        return width

    def argument(self) -> float:
        while self.at < len(self.text) and self.text[self.at] == " ":
            self.at += 1
        return self.token() if self.at < len(self.text) else 0.0

    def token(self) -> float:
        ch = self.text[self.at]
        self.at += 1
        if ch == "{":
            return self.group(closing=True)
        if ch in "^_":
            return _SCRIPT * self.argument()
        if ch == "\\":
            return self.command()
        return _CHAR_WIDTHS.get(ch, 1.0)

    def command(self) -> float:
        match = re.compile(r"[A-Za-z]+|.").match(self.text, self.at)
        if match is None:
            return 0.0
        name = match.group()
        self.at = match.end()
        if name in _FRACTIONS:
            top, bottom = self.argument(), self.argument()
            return _FRACTIONS[name] * max(top, bottom) + 0.5
        if name == "sqrt":
            return self.argument() + 1.7
        if name == "underset":
            under, over = self.argument(), self.argument()
            return max(_SCRIPT * under, over)
        if name == "begin":
            return self.environment()
        if name in _ONE_ARGUMENT:
            return self.argument()
        if name in _COMMAND_WIDTHS:
            return _COMMAND_WIDTHS[name]
        return 1.2  # a Greek letter, an escaped character

    def environment(self) -> float:
        """A matrix (``\\begin{bmatrix} … \\end{bmatrix}``): its widest entry in each column, the
        space between columns (2 digits) and its brackets."""
        match = re.compile(r"\s*\{([A-Za-z*]+)\}").match(self.text, self.at)
        if match is None:
            return 0.0
        end = self.text.find(rf"\end{{{match.group(1)}}}", match.end())
        end = len(self.text) if end < 0 else end
        body = self.text[match.end() : end]
        self.at = min(len(self.text), end + len(match.group(1)) + 6)
        columns: list[float] = []
        for row in re.split(r"\\\\|\\cr(?![A-Za-z])", body):
            for k, cell in enumerate(row.split("&")):
                width = math_width(cell.strip())
                if k < len(columns):
                    columns[k] = max(columns[k], width)
                else:
                    columns.append(width)
        return sum(columns) + 2.0 * max(len(columns) - 1, 0) + 3.2


@functools.lru_cache(maxsize=4096)
def math_width(latex: str) -> float:
    """The estimated width of ``latex`` typeset in a display, in digits (half an em).

    Characters count by their glyph and the space around operators (``+`` counts 2.44,
    ``\\cdot`` 1.44, ``=`` 2.67); commands that typeset nothing count nothing; a fraction
    counts its wider part; sub- and superscripts count 0.8 of their width (small type is set
    relatively wide). Calibrated against pdflatex's own widths of nncalc's derivations, which it
    matches within a few per cent.
    """
    return _Measure(latex).group(closing=False)


# An article page's text width (345 pt at 10 pt) is 69 digits; the estimate errs on the wide side.
ROW_WIDTH = 66.0
SHORT_GROUP = ROW_WIDTH / 6  # a bracketed sum narrower than this is kept on one line


# -- rows -----------------------------------------------------------------------------------------


@record
class _Row:
    """One row of an ``align*``: its left-hand side (before ``&``) and the pieces after it."""

    left: str
    pieces: tuple


def _relabelled(chain: Chain, label: str) -> tuple[Chain, str | None]:
    """The chain with ``label`` as the subscript of its left-hand name; else the label to write before it."""
    head = chain.parts[0]
    if isinstance(head, Name) and head.sub is None:
        return Chain((Name(head.text, label, head.mark), *chain.parts[1:]), chain.relations), None
    return chain, label


def labelled_chains(step: Step) -> list[tuple[Chain, str | None]]:
    """A step's chains with its label made the subscript of each left-hand name (``z_{h1}``).

    Where a chain's left-hand side is not a plain name, the label is returned beside it, to be
    written before it.
    """
    if step.label is None:
        return [(c, None) for c in step.chains]
    return [_relabelled(c, step.label) for c in step.chains]


def _rows(step: Step, writer: DocumentLatexWriter, after: str) -> list[_Row]:
    """A step's rows: one per chain when labelled, else all its chains on one row."""
    chains = labelled_chains(step)
    rows = [_row([item], writer) for item in chains] if step.label is not None else [_row(chains, writer)]
    if after:
        last = rows[-1]
        rows[-1] = _Row(last.left, (*last.pieces, _Text(after)))
    return rows


def _row(chains: Sequence[tuple[Chain, str | None]], writer: DocumentLatexWriter) -> _Row:
    """Chains on one row: the first's left-hand side before ``&``, its first relation aligned."""
    first, label = chains[0]
    head = writer.write(first.parts[0])
    if label is not None:
        head = rf"{writer.name_text(label + ':')}\ {head}"
    if first.relations:
        left, pieces = head + " ", writer.chain_pieces(first, first=True)
        pieces[0] = _Text("&" + pieces[0].text)
    else:
        left, pieces = "", [_Text("&" + head)]
    for chain, extra in chains[1:]:
        pieces.append(_Break("chain", r", \quad ", ", \\\\\n&\\quad "))
        if extra is not None:
            pieces.append(_Text(rf"{writer.name_text(extra + ':')}\ "))
        pieces.extend(writer.chain_pieces(chain, first=False))
    return _Row(left, tuple(pieces))


_LEVELS = ("chain", "relation", "term")  # where a row is broken first, then next, then last


def _split(pieces: Sequence, kind: str) -> list[tuple[_Break | None, list]]:
    """The pieces split at the breaks of ``kind``: (that break, the pieces up to the next)."""
    groups: list[tuple[_Break | None, list]] = [(None, [])]
    for piece in pieces:
        if isinstance(piece, _Break) and piece.kind == kind:
            groups.append((piece, []))
        else:
            groups[-1][1].append(piece)
    return groups


def _unbroken(pieces: Sequence) -> str:
    """The pieces' text with no break taken."""
    return "".join(p.text if isinstance(p, _Text) else p.plain if isinstance(p, _Bracket) else p.inline for p in pieces)


def _continuation(brk: _Break) -> float:
    """The width a new line starts with when ``brk`` is taken (``&\\quad`` indents)."""
    return math_width(brk.broken.rpartition("&")[2])


class _Layout:
    """Where one row breaks: no line wider than ``budget``; a chain or relation is put on the line
    before it only while that line stays within ``target`` (at most ``budget``)."""

    def __init__(self, budget: float, target: float):
        self.budget = budget
        self.target = target
        self.taken: set[int] = set()  # the breaks taken, by identity

    def fit(self, pieces: Sequence, levels: Sequence[str], width: float) -> float:
        """Lay ``pieces`` out from ``width``; return the width of the last line.

        The next chain goes on a new line before any relation does, and a relation before a sum
        is broken between its terms: a finer break is used only inside a piece too wide for a line.
        """
        if not levels:
            return width + math_width(_unbroken(pieces))
        limit = self.budget if levels[0] == "term" else self.target
        for brk, group in _split(pieces, levels[0]):
            group_width = math_width(_unbroken(group))
            if brk is not None:
                inline = math_width(brk.inline)
                if width + inline + group_width <= limit:
                    width += inline + group_width
                    continue
                self.taken.add(id(brk))
                width = _continuation(brk)
            if width + group_width <= self.budget:
                width += group_width
            else:
                width = self.fit(group, levels[1:], width)
        return width


def _breaks(pieces: Sequence, budget: float) -> set[int]:
    """Which breaks to take (by identity) so that every line of the row fits in ``budget``.

    As few lines as filling each line in turn needs; among those, chains and relations are
    spread as evenly as they go (``δ = symbols`` over ``= numbers``, rather than everything on
    the first line and the result alone on the second); a long sum fills its lines in turn.
    """
    greedy = _Layout(budget, budget)
    greedy.fit(pieces, _LEVELS, 0.0)
    taken = greedy.taken
    if not taken:
        return taken
    low, high = 0.0, budget
    for _ in range(12):
        middle = (low + high) / 2
        trial = _Layout(budget, middle)
        trial.fit(pieces, _LEVELS, 0.0)
        if len(trial.taken) <= len(greedy.taken):
            high, taken = middle, trial.taken
        else:
            low = middle
    return taken


def _spell(pieces: Sequence, taken: set[int]) -> str:
    """The row's text with the ``taken`` breaks, brackets spanning a break made ``\\bigl(…\\bigr)``."""
    spanning: set[int] = set()
    open_groups: list[int] = []
    for piece in pieces:
        if isinstance(piece, _Bracket):
            if open_groups and open_groups[-1] == piece.group:
                open_groups.pop()
            else:
                open_groups.append(piece.group)
        elif isinstance(piece, _Break) and id(piece) in taken:
            spanning.update(open_groups)
    out = []
    tall: list[int] = []  # the groups around matrices open here: closed and reopened at a taken break
    for piece in pieces:
        if isinstance(piece, _Text):
            out.append(piece.text)
        elif isinstance(piece, _Bracket) and piece.matrix:
            out.append(piece.plain)
            if tall and tall[-1] == piece.group:
                tall.pop()
            else:
                tall.append(piece.group)
        elif isinstance(piece, _Bracket):
            out.append(piece.broken if piece.group in spanning else piece.plain)
        elif id(piece) in taken:
            out.append(r"\right." * len(tall) + piece.broken + r"\left." * len(tall))
        else:
            out.append(piece.inline)
    return "".join(out)


def align_rows(rows: Sequence[_Row], width: float = ROW_WIDTH) -> list[str]:
    """The rows of one ``align*``, each broken so that it fits ``width`` beside the widest left-hand side."""
    left = max((math_width(row.left) for row in rows), default=0.0)
    budget = max(width - left, width / 3)
    return [row.left + _spell(row.pieces, _breaks(row.pieces, budget)) for row in rows]


# -- the document ----------------------------------------------------------------------------------

SECTIONS = {1: "section", 2: "subsection", 3: "subsubsection"}
LONG_TABLE = 40  # a table of more rows than this may not fit a page: it is a longtable

PREAMBLE = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage[T1]{fontenc}
\IfFileExists{lmodern.sty}{\usepackage{lmodern}}{}% scalable fonts where installed
\usepackage{amsmath}
\usepackage{amssymb}
\usepackage{longtable}% tables of more than a page
\usepackage{graphicx}% a table too wide for the line, scaled to it
\allowdisplaybreaks
\setlength{\emergencystretch}{3em}% a line with a long file path stretches its spaces rather than overflow
\makeatletter% headings as article's, ragged right: a long file path in one breaks at a slash
\renewcommand\section{\@startsection{section}{1}{\z@}{-3.5ex \@plus -1ex \@minus -.2ex}{2.3ex \@plus.2ex}%
  {\normalfont\Large\bfseries\raggedright}}
\renewcommand\subsection{\@startsection{subsection}{2}{\z@}{-3.25ex\@plus -1ex \@minus -.2ex}{1.5ex \@plus .2ex}%
  {\normalfont\large\bfseries\raggedright}}
\renewcommand\subsubsection{\@startsection{subsubsection}{3}{\z@}{-3.25ex\@plus -1ex \@minus -.2ex}%
  {1.5ex \@plus .2ex}{\normalfont\normalsize\bfseries\raggedright}}
\makeatother
\begin{document}
"""


class _LatexPage:
    """Writes one document's blocks as LaTeX, through one formula writer at its precision."""

    def __init__(self, document: Document):
        self.document = document
        self.writer = DocumentLatexWriter(document.precision)

    def blocks(self) -> Iterable[str]:
        for block in self.document.blocks:
            if isinstance(block, Heading):
                text = self.inline(block.text)
                if text:
                    yield rf"\{SECTIONS.get(block.level, 'paragraph')}*{{{text}}}"
            elif isinstance(block, Table):
                yield self.table(block)
            elif isinstance(block, Grids):
                yield self.grids(block)
            elif isinstance(block, Steps):
                if block.items:
                    yield self.steps(block)
            elif isinstance(block, Note):
                yield self.note(block)
            else:  # pragma: no cover - the document model has no other block
                raise TypeError(f"no LaTeX for {type(block).__name__}")

    def inline(self, pieces: Iterable) -> str:
        """Inline text: words escaped, formulas and chains in ``$…$``, emphasis in bold."""
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(escape_latex(piece))
            elif isinstance(piece, Styled):
                out.append(rf"\textbf{{{escape_latex(piece.text)}}}")
            elif isinstance(piece, Chain):
                out.append(f"${self.writer.chain(piece)}$")
            else:
                out.append(f"${self.writer.write(piece)}$")
        return "".join(out)

    def in_maths(self, pieces: Iterable) -> str:
        """Inline text inside a formula: words as ``\\text{…}``, formulas as they are."""
        out = []
        for piece in pieces:
            if isinstance(piece, (str, Styled)):
                words = piece if isinstance(piece, str) else piece.text
                out.append(rf"\text{{{escape_latex(words)}}}")
            elif isinstance(piece, Chain):
                out.append(self.writer.chain(piece))
            else:
                out.append(self.writer.write(piece))
        return "".join(out)

    def cell(self, cell) -> str:
        if isinstance(cell, Num):
            return f"${self.writer.number(self.writer.shown(cell))}$"
        if cell is None:
            return ""
        return self.inline((cell,))

    def table(self, table: Table) -> str:
        """A ``tabular``, centred; a table longer than LONG_TABLE rows is a ``longtable``, which
        breaks across pages and repeats its header on each (a tabular cannot leave its page)."""
        spec = "".join("r" if column.numeric else "l" for column in table.columns)
        titles = [self.inline(column.title) for column in table.columns]
        cells = [[self.cell(cell) for cell in row] for row in table.rows]
        header = [r"\hline", " & ".join(titles) + r" \\", r"\hline"]
        rows = [" & ".join(row) + r" \\" for row in cells]
        fit = _narrowed([titles, *cells])
        if len(table.rows) > LONG_TABLE:
            lines = [rf"\begin{{longtable}}{{{spec}}}", *header, r"\endhead", *rows, r"\hline", r"\end{longtable}"]
            return "\n".join([r"\begingroup" + fit, *lines, r"\endgroup"] if fit else lines)
        lines = [rf"\begin{{tabular}}{{{spec}}}", *header, *rows, r"\hline", r"\end{tabular}"]
        if fit.endswith(r"\tiny"):  # smaller type is not enough: the table is scaled to the line
            lines = [r"\resizebox{\linewidth}{!}{%", *lines, "}"]
            fit = fit.removesuffix(r"\tiny")
        return "\n".join([r"\begin{center}" + fit, *lines, r"\end{center}"])

    def grid(self, grid: Grid) -> str:
        """One grid as a ``tabular`` aligned at its top: its title centred over an inner ``tabular``
        of the column labels, a rule, then the rows (row labels before a vertical rule)."""
        width = grid.width
        labelled = bool(grid.row_labels)
        spec = ("r|" if labelled else "") + "r" * width
        lines = [r"\begin{tabular}[t]{@{}c@{}}", self.inline(grid.title) + r" \\", rf"\begin{{tabular}}{{{spec}}}"]
        if grid.column_labels:
            columns = [escape_latex(label) for label in grid.column_labels]
            columns += [""] * (width - len(columns))
            lines.append(" & ".join(([""] if labelled else []) + columns) + r" \\")
        lines.append(r"\hline")
        for r, row in enumerate(grid.rows):
            cells = [self.cell(cell) for cell in row] + [""] * (width - len(row))
            if labelled:
                cells.insert(0, escape_latex(grid.row_labels[r]) if r < len(grid.row_labels) else "")
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\end{tabular}", r"\end{tabular}"]
        return "\n".join(lines)

    def grids(self, grids: Grids) -> str:
        """The grids side by side in a ``center``; the space between two is where a line may break."""
        body = "\n\\qquad\n".join(self.grid(grid) for grid in grids.items)
        return "\\begin{center}\n" + body + "\n\\end{center}"

    def steps(self, steps: Steps) -> str:
        rows = [row for step in steps.items for row in _rows(step, self.writer, self.in_maths(step.after))]
        return "\\begin{align*}\n" + " \\\\\n".join(align_rows(rows)) + "\n\\end{align*}"

    def note(self, note: Note) -> str:
        lead = rf"\textbf{{{escape_latex(note.lead)}}} " if note.lead else ""
        return rf"\noindent {lead}{self.inline(note.text)}"


TABLE_WIDTH = 0.85 * ROW_WIDTH  # a table's cells, each set apart, come out wider than math_width's estimate
COLUMN_GAP = 2.3  # the space between two columns (2 × \\tabcolsep, 12 pt), in math_width's units


# type sizes and the share of a table's width each leaves (less than the type's size: small type
# is set relatively wide); past scriptsize a tabular is scaled to the line, a longtable set tiny
SMALLER_TYPE = ((0.92, r"\small"), (0.85, r"\footnotesize"), (0.78, r"\scriptsize"), (0.0, r"\tiny"))


def _narrowed(rows: Sequence[Sequence[str]]) -> str:
    """What a table too wide for the page is set with: narrower gaps between its columns, and
    the largest smaller type that fits if that is not enough; nothing for a table that fits.
    Widths are estimated as math_width estimates a row's (say, six columns of numbers written
    with × 10⁻⁶)."""
    widths = [max(math_width(cell.replace("$", "")) for cell in column) for column in zip(*rows, strict=True)]
    if sum(widths) + COLUMN_GAP * len(widths) <= TABLE_WIDTH:
        return ""
    narrow = r"\setlength{\tabcolsep}{2pt}"
    width = sum(widths) + COLUMN_GAP / 3 * len(widths)
    if width <= TABLE_WIDTH:
        return narrow
    size = next((command for scale, command in SMALLER_TYPE if width * scale <= TABLE_WIDTH), SMALLER_TYPE[-1][1])
    return narrow + size


def write_latex(document: Document, stream: TextIO, standalone: bool = False) -> None:
    """``document`` as LaTeX: a fragment for a document that loads amsmath (amssymb for ✓,
    longtable for a table of more than LONG_TABLE rows, graphicx for a very wide one), or with
    ``standalone`` a whole document that pdflatex compiles."""
    if standalone:
        stream.write(PREAMBLE)
    stream.write("\n\n".join(_LatexPage(document).blocks()) + "\n")
    if standalone:
        stream.write("\n\\end{document}\n")


def latex_source(document: Document, standalone: bool = False) -> str:
    """``document`` as LaTeX text (see :func:`write_latex`)."""
    out = io.StringIO()
    write_latex(document, out, standalone)
    return out.getvalue()
