"""Writing an expression (``nncalc.expr``) in a notation: one walk of the tree, one hook per node kind.

The walk decides where parentheses go, by precedence, the same way for every notation;
a notation says only how it writes a number, a name, a sum's signs, a product, a fraction,
a power, a function and a pair of parentheses. Plain text, LaTeX and MathML are the three
writers; Markdown writes its maths in LaTeX.
"""

from __future__ import annotations

from nncalc.expr import (
    ATOM,
    POWER,
    PRODUCT,
    SUM,
    UNARY,
    Call,
    Chain,
    Derivative,
    Dots,
    Edge,
    Expr,
    Frac,
    Index,
    Matrix,
    Name,
    Neg,
    Num,
    Power,
    Product,
    Sigma,
    Sum,
    Word,
    has_matrix,
    precedence,
)
from nncalc.render.numbers import show


class FormulaWriter:
    """Writes expressions at one precision; subclasses give a notation's spelling."""

    def __init__(self, precision: int = 4):
        self.precision = precision

    # -- the walk ---------------------------------------------------------------------------

    def chain(self, chain: Chain) -> str:
        """``z = 0.15 · 0.1 + 0.4 = 0.415``."""
        out = [self.write(chain.parts[0])]
        for relation, part in zip(chain.relations, chain.parts[1:], strict=True):
            out.append(self.relation(relation))
            out.append(self.write(part))
        return "".join(out)

    def write(self, node: Expr) -> str:
        """``node`` in this notation, parenthesised inside as precedence needs."""
        if isinstance(node, Num):
            return self.number(self.shown(node))
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Word):
            return self.word(node.text)
        if isinstance(node, Edge):
            return self.edge(node)
        if isinstance(node, Sum):
            parts = [self.operand(node.terms[0], SUM, first=True)]
            for term in node.terms[1:]:
                if isinstance(term, Neg):
                    parts.append(self.minus_sign() + self.operand(term.operand, PRODUCT))
                else:
                    parts.append(self.plus_sign() + self.operand(term, PRODUCT))
            return "".join(parts)
        if isinstance(node, Neg):
            return self.negate(self.operand(node.operand, PRODUCT))
        if isinstance(node, Product):
            return self.product([self.operand(f, PRODUCT + 1, first=k == 0) for k, f in enumerate(node.factors)], node)
        if isinstance(node, Frac):
            return self.fraction(node)
        if isinstance(node, Power):
            return self.power(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Sigma):
            return self.sigma(node.index, self.operand(node.body, PRODUCT))
        if isinstance(node, Derivative):
            return self.derivative(node)
        if isinstance(node, Matrix):
            return self.matrix(node)
        if isinstance(node, Dots):
            return self.dots(node.text)
        if isinstance(node, Index):
            return self.index(node)
        raise TypeError(f"no notation for {type(node).__name__}")

    def operand(self, node: Expr, needed: int, first: bool = False) -> str:
        """``node`` where an operator needs at least ``needed`` precedence, in parentheses if it binds less.

        A negative number or a minus binds as a prefix: bare only as the first term of a sum
        (``−0.5 + 1``), in parentheses after any operator (``0.4 · (−0.5)``, ``1 − (−0.5)``).
        """
        have = self.prec(node)
        if have == UNARY:
            return self.write(node) if first and needed <= SUM else self.paren(node)
        return self.write(node) if have >= needed else self.paren(node)

    def prec(self, node: Expr) -> int:
        """How tightly ``node`` binds in this notation (a LaTeX fraction bar groups by itself)."""
        return precedence(node, self.shown)

    def paren(self, node: Expr) -> str:
        return self.parens(self.write(node))

    def shown(self, number: Num) -> str:
        """A number's text: as written, else by the one formatter at this precision."""
        return number.text if number.text is not None else show(number.value, self.precision)

    def base_operand(self, node: Expr) -> str:
        """A power's base: anything but an atom is parenthesised."""
        return self.write(node) if self.prec(node) >= ATOM else self.paren(node)

    # -- a notation's spelling ----------------------------------------------------------------

    def number(self, text: str) -> str:
        raise NotImplementedError

    def name(self, node: Name) -> str:
        raise NotImplementedError

    def word(self, text: str) -> str:
        raise NotImplementedError

    def edge(self, node: Edge) -> str:
        raise NotImplementedError

    def plus_sign(self) -> str:
        raise NotImplementedError

    def minus_sign(self) -> str:
        raise NotImplementedError

    def negate(self, operand: str) -> str:
        raise NotImplementedError

    def product(self, factors: list[str], node: Product) -> str:
        raise NotImplementedError

    def fraction(self, node: Frac) -> str:
        raise NotImplementedError

    def power(self, node: Power) -> str:
        raise NotImplementedError

    def call(self, node: Call) -> str:
        raise NotImplementedError

    def sigma(self, index: str, body: str) -> str:
        raise NotImplementedError

    def derivative(self, node: Derivative) -> str:
        raise NotImplementedError

    def parens(self, text: str) -> str:
        raise NotImplementedError

    def relation(self, relation: str) -> str:
        raise NotImplementedError

    def matrix(self, node: Matrix) -> str:
        """A matrix written out, its shape (``node.shape``) beside it."""
        raise NotImplementedError

    def dots(self, text: str) -> str:
        """Entries left out of a matrix: ``⋯``, ``⋮`` or ``⋱``."""
        raise NotImplementedError

    def index(self, node: Index) -> str:
        """Part of a matrix by position: ``X[0:3,0:3]``."""
        raise NotImplementedError


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPTS = str.maketrans("0123456789ij", "₀₁₂₃₄₅₆₇₈₉ᵢⱼ")
MARKS = {"": "", "prime": "′", "hat": "\u0302"}


def _small_whole(value: float) -> bool:
    """2 to 9: an exponent written as a superscript digit (²)."""
    return float(value).is_integer() and 2 <= value < 10


def _is_half(node: Frac) -> bool:
    """The constant ½ of a formula (1 over 2, neither written from a file)."""
    top, bottom = node.numerator, node.denominator
    return (
        isinstance(top, Num)
        and isinstance(bottom, Num)
        and top.text is None
        and bottom.text is None
        and top.value == 1.0
        and bottom.value == 2.0
    )


class TextWriter(FormulaWriter):
    """Plain Unicode text, as a person writes on paper: ``σ(0.415) = 1 / (1 + e^−0.415)``."""

    def prec(self, node: Expr) -> int:
        return ATOM if isinstance(node, Frac) and _is_half(node) else super().prec(node)

    def number(self, text: str) -> str:
        return "−" + text[1:] if text.startswith("-") and not self.ascii_numbers else text

    ascii_numbers = False  # a number's own sign stays an ASCII hyphen (values quoted in a line of text)

    def name(self, node: Name) -> str:
        head = node.text + MARKS[node.mark]
        return f"{head}_{node.sub}" if node.sub else head

    def word(self, text: str) -> str:
        return text

    def edge(self, node: Edge) -> str:
        return f"{node.text}({node.source}→{node.target})"

    def plus_sign(self) -> str:
        return " + "

    def minus_sign(self) -> str:
        return " − "

    def negate(self, operand: str) -> str:
        return "−" + operand

    def product(self, factors: list[str], node: Product) -> str:
        return f" {node.sign} ".join(factors)

    def fraction(self, node: Frac) -> str:
        if _is_half(node):
            return "½"
        return f"{self.operand(node.numerator, POWER)} / {self.base_operand(node.denominator)}"

    def power(self, node: Power) -> str:
        base = self.base_operand(node.base)
        exponent = node.exponent
        if isinstance(exponent, Num) and exponent.text is None and _small_whole(exponent.value):
            return base + str(int(exponent.value)).translate(SUPERSCRIPTS)
        if isinstance(exponent, Neg):
            return f"{base}^−{self.base_operand(exponent.operand)}"
        return f"{base}^{self.base_operand(exponent)}"

    def call(self, node: Call) -> str:
        if node.name == "sqrt":
            (arg,) = node.args
            return "√" + self.base_operand(arg)
        if node.name == "abs":
            return f"|{self.write(node.args[0])}|"
        return f"{node.name}({', '.join(self.write(a) for a in node.args)})"

    def sigma(self, index: str, body: str) -> str:
        return f"Σ{index.translate(SUBSCRIPTS)} {body}"

    def derivative(self, node: Derivative) -> str:
        return f"∂{self.write(node.of)}/∂{self.write(node.by)}"

    def parens(self, text: str) -> str:
        return f"({text})"

    def relation(self, relation: str) -> str:
        return f" {relation} "

    def matrix(self, node: Matrix) -> str:
        """On one line, rows separated by semicolons: ``[0.15, 0.2; 0.25, 0.3]``. The terminal lays a
        step holding a matrix out on several lines instead, brackets aligned, its shape beneath."""
        return "[" + "; ".join(", ".join(self.write(cell) for cell in row) for row in node.rows) + "]"

    def dots(self, text: str) -> str:
        return text

    def index(self, node: Index) -> str:
        return f"{self.base_operand(node.base)}[{node.index}]"


_LATEX_FUNCTIONS = {
    "σ": r"\sigma",
    "tanh": r"\tanh",
    "ln": r"\ln",
    "exp": r"\exp",
    "max": r"\max",
    "min": r"\min",
}
_LATEX_SYMBOLS = {
    "σ": r"\sigma",
    "δ": r"\delta",
    "η": r"\eta",
    "Σ": r"\Sigma",
    "α": r"\alpha",
    "β": r"\beta",
    "μ": r"\mu",
    "τ": r"\tau",
    "λ": r"\lambda",
    "ε": r"\epsilon",
    "⊤": r"\top",
}
_LATEX_SPECIALS = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "_": r"\_",
        "^": r"\^{}",
        "$": r"\$",
        "&": r"\&",
        "#": r"\#",
        "%": r"\%",
        "~": r"\~{}",
        "→": r"$\to$",
        "−": "-",
    }
)


def latex_text(text: str) -> str:
    """Words for LaTeX's text mode, with its special characters escaped."""
    return text.translate(_LATEX_SPECIALS)


class InlineTextWriter(TextWriter):
    """Plain text for values quoted in a line of prose (``output: o1 = -0.5``): numbers keep the
    ASCII hyphen that tables and data use, so they can be copied into a calculator."""

    ascii_numbers = True


class LatexWriter(FormulaWriter):
    """LaTeX maths: ``\\sigma(0.415) = \\frac{1}{1 + e^{-0.415}}``."""

    def prec(self, node: Expr) -> int:
        if isinstance(node, Frac):
            return ATOM
        if isinstance(node, Num) and "e" in self.shown(node).lower() and super().prec(node) == ATOM:
            return PRODUCT  # 1.2 × 10^{-5} is a product: bracketed as a factor, a base or an exponent
        return super().prec(node)

    def number(self, text: str) -> str:
        text = text.replace("−", "-")
        if "e" in text and not text.startswith("e"):
            mantissa, _, exponent = text.partition("e")
            return rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return text

    def symbol(self, text: str) -> str:
        if text in _LATEX_SYMBOLS:
            return _LATEX_SYMBOLS[text]
        return text if len(text) == 1 else rf"\text{{{latex_text(text)}}}"

    def name(self, node: Name) -> str:
        head = self.symbol(node.text)
        if node.mark == "prime":
            head += "'"
        elif node.mark == "hat":
            head = rf"\hat{{{head}}}"
        return f"{head}_{{{self.subscript(node.sub)}}}" if node.sub else head

    def subscript(self, text: str) -> str:
        return text if len(text) == 1 else rf"\text{{{latex_text(text)}}}"

    def word(self, text: str) -> str:
        return rf"\text{{{latex_text(text)}}}"

    def edge(self, node: Edge) -> str:
        return rf"{self.symbol(node.text)}_{{\text{{{latex_text(node.source)}}}\to\text{{{latex_text(node.target)}}}}}"

    def plus_sign(self) -> str:
        return " + "

    def minus_sign(self) -> str:
        return " - "

    def negate(self, operand: str) -> str:
        return "-" + operand

    def product(self, factors: list[str], node: Product) -> str:
        return (r" \odot " if node.sign == "⊙" else r" \cdot ").join(factors)

    def fraction(self, node: Frac) -> str:
        return rf"\frac{{{self.write(node.numerator)}}}{{{self.write(node.denominator)}}}"

    def power(self, node: Power) -> str:
        base = self.base_operand(node.base)
        if "'" in base:  # v' is v^{\prime}: a second superscript needs the primed name braced
            base = f"{{{base}}}"
        return f"{base}^{{{self.write(node.exponent)}}}"

    def call(self, node: Call) -> str:
        args = ", ".join(self.write(a) for a in node.args)
        if node.name == "sqrt":
            return rf"\sqrt{{{args}}}"
        if node.name == "abs":
            return rf"\lvert {args} \rvert"
        function = _LATEX_FUNCTIONS.get(node.name) or rf"\operatorname{{{latex_text(node.name)}}}"
        return rf"{function}\left({args}\right)" if self._tall(node) else f"{function}({args})"

    def _tall(self, node: Call) -> bool:
        return any(isinstance(a, (Frac, Sigma)) or has_matrix(a) for a in node.args)

    def sigma(self, index: str, body: str) -> str:
        return rf"\sum_{{{index}}} {body}" if index else rf"\sum {body}"

    def derivative(self, node: Derivative) -> str:
        return rf"\frac{{\partial {self.write(node.of)}}}{{\partial {self.write(node.by)}}}"

    def parens(self, text: str) -> str:
        tall = r"\frac" in text or r"\sum" in text or "bmatrix" in text
        return rf"\left({text}\right)" if tall else f"({text})"

    def relation(self, relation: str) -> str:
        return {"=": " = ", "≈": r" \approx ", "←": r" \leftarrow "}.get(relation, f" {relation} ")

    row_end = r" \\ "  # between a matrix's rows

    def matrix(self, node: Matrix) -> str:
        """``\\underset{2 \\times 2}{\\begin{bmatrix} … \\end{bmatrix}}``: the shape under the matrix."""
        body = self.row_end.join(" & ".join(self.write(cell) for cell in row) for row in node.rows)
        rows, columns = node.shape
        return rf"\underset{{{rows} \times {columns}}}{{\begin{{bmatrix}} {body} \end{{bmatrix}}}}"

    def dots(self, text: str) -> str:
        return {"⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots"}[text]

    def index(self, node: Index) -> str:
        """``X[0{:}3,0{:}3]``: a colon inside is ordinary, not a relation spaced apart."""
        position = latex_text(node.index).replace(":", "{:}")
        return f"{self.base_operand(node.base)}[{position}]"
