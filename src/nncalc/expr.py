"""Formulas as small expressions that every notation writes: one formula, written once.

A derivation such as ``a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023`` is a chain of
expressions built from a few kinds of node: numbers, names, sums, products, fractions,
powers and function applications. An activation or a loss states its formula once, as
such a tree; the plain-text, LaTeX (and so Markdown) and HTML notations each know how to
write every kind of node, so a new formula needs no new code in any notation, and a new
notation is one writer of these few kinds.

Numbers carry their value, and the text they were written with where a person wrote them
(a weight from the network file keeps its ``0.15``); others are shown by
``nncalc.render.numbers.show`` at the document's precision. Parentheses are not stored:
each writer adds them where precedence needs them, the same way in every notation.

:func:`evaluate` works a chain out again from the numbers as shown, exactly, so that a
derivation can say ``=`` where a person checking it by hand gets the shown result, and
``≈`` where they would not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nncalc.records import record

if TYPE_CHECKING:  # fractions is imported only where a chain is worked out again
    from fractions import Fraction


class Expr:
    """A node of a formula (see the module docstring). Operators build sums and products."""

    __slots__ = ()

    def __add__(self, other: Expr | float) -> Sum:
        return Sum((self, as_expr(other)))

    def __sub__(self, other: Expr | float) -> Sum:
        return Sum((self, Neg(as_expr(other))))

    def __mul__(self, other: Expr | float) -> Product:
        return Product((self, as_expr(other)))

    def __truediv__(self, other: Expr | float) -> Frac:
        return Frac(self, as_expr(other))

    def __neg__(self) -> Neg:
        return Neg(self)

    def __pow__(self, other: Expr | float) -> Power:
        return Power(self, as_expr(other))


@record
class Num(Expr):
    """A number: ``value``, shown as ``text`` where that is how a person wrote it."""

    value: float
    text: str | None = None


@record
class Name(Expr):
    """A symbol: ``z``, ``a`` with a subscript (``a_o1``), primed (``w′``) or with a hat (``m̂``)."""

    text: str
    sub: str | None = None
    mark: str = ""  # "" | "prime" | "hat"


@record
class Word(Expr):
    """Words inside a formula, written upright: ``if``, ``otherwise``."""

    text: str


@record
class Sum(Expr):
    """``t₁ + t₂ + …``; a ``Neg`` term is subtracted: ``a − b``."""

    terms: tuple[Expr, ...]


@record
class Neg(Expr):
    """``−x``."""

    operand: Expr


@record
class Product(Expr):
    """``f₁ · f₂ · …``; ``sign`` is the multiplication sign a person uses there (· or ×)."""

    factors: tuple[Expr, ...]
    sign: str = "·"


@record
class Frac(Expr):
    """``numerator / denominator``: a fraction bar in LaTeX and HTML, a slash in text."""

    numerator: Expr
    denominator: Expr


@record
class Power(Expr):
    """``base^exponent``; e^x is ``Power(Name("e"), x)``."""

    base: Expr
    exponent: Expr


@record
class Call(Expr):
    """A function applied: ``σ(z)``, ``ln(a)``, ``max(0, z)``, ``√x`` (``name`` "sqrt")."""

    name: str
    args: tuple[Expr, ...]


@record
class Sigma(Expr):
    """A sum written with Σ over an index, for a sum too long to write out: ``Σᵢ wᵢ · xᵢ``."""

    index: str
    body: Expr


@record
class Edge(Expr):
    """A weight named by the connection it sits on: ``w(h1→o1)``, from ``source`` to ``target``."""

    text: str
    source: str
    target: str


@record
class Derivative(Expr):
    """A partial derivative: ``∂L/∂w(h1→o1)``."""

    of: Expr
    by: Expr


@record
class Matrix(Expr):
    """A matrix written out, ``rows`` of entries (numbers, or ``Dots`` where the middle is left out).

    ``shape`` is the whole matrix's (rows, columns), which an elided matrix shows fewer of; every
    notation writes it beside the matrix (``2×2``), as exercise sheets ask for it. A column vector
    is a matrix of one column.
    """

    rows: tuple[tuple[Expr, ...], ...]
    shape: tuple[int, int]


@record
class Dots(Expr):
    """Entries left out of a large matrix: ``⋯`` along a row, ``⋮`` down a column, ``⋱`` at the crossing."""

    text: str  # "⋯" | "⋮" | "⋱"


@record
class Index(Expr):
    """Part of a matrix or a map by position, as courses write it: ``X[0:3,0:3]`` (a window, rows 0 to
    2 and columns 0 to 2, the end left out as in Python and NumPy), ``Z_1[0,1]`` (one cell)."""

    base: Expr
    index: str


@record
class Chain:
    """A derivation: ``parts[0] rel[0] parts[1] rel[1] …``, such as ``z = 0.15 · 0.1 + 0.4 = 0.415``."""

    parts: tuple[Expr, ...]
    relations: tuple[str, ...]  # "=" or "≈" (or "←" for an update), one fewer than parts


def has_matrix(node: Expr | Chain) -> bool:
    """Whether ``node`` (or a chain's parts) holds a written-out matrix: such a formula needs more than one line."""
    if isinstance(node, Chain):
        return any(has_matrix(part) for part in node.parts)
    if isinstance(node, Matrix):
        return True
    if isinstance(node, Sum):
        return any(has_matrix(t) for t in node.terms)
    if isinstance(node, Product):
        return any(has_matrix(f) for f in node.factors)
    if isinstance(node, Neg):
        return has_matrix(node.operand)
    if isinstance(node, (Frac, Power)):
        first, second = (node.numerator, node.denominator) if isinstance(node, Frac) else (node.base, node.exponent)
        return has_matrix(first) or has_matrix(second)
    if isinstance(node, Call):
        return any(has_matrix(a) for a in node.args)
    if isinstance(node, Sigma):
        return has_matrix(node.body)
    return False


def as_expr(value: Expr | float | int) -> Expr:
    """An expression as it is; a Python number as a ``Num``."""
    return value if isinstance(value, Expr) else Num(float(value))


def chain(*parts: Expr | float, relation: str = "=") -> Chain:
    """``parts`` joined by one relation: ``chain(Name("z"), formula, Num(0.415))``."""
    items = tuple(as_expr(p) for p in parts)
    return Chain(items, (relation,) * (len(items) - 1))


def exp(x: Expr) -> Power:
    """``e^x``."""
    return Power(Name("e"), x)


def call(name: str, *args: Expr | float) -> Call:
    """``name(args…)``."""
    return Call(name, tuple(as_expr(a) for a in args))


def total(terms: Sequence[Expr]) -> Expr:
    """The sum of ``terms`` (one term is itself)."""
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))


# -- precedence: where every notation puts parentheses ------------------------------------------

ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1


def precedence(node: Expr, shown: Callable[[Num], str] | None = None) -> int:
    """How tightly ``node`` binds; a negative number binds as a unary minus (``−0.5``)."""
    if isinstance(node, Num):
        text = shown(node) if shown is not None else (node.text or repr(node.value))
        return UNARY if text.lstrip().startswith(("-", "−")) else ATOM
    if isinstance(node, Sum):
        return SUM
    if isinstance(node, Neg):
        return UNARY
    if isinstance(node, Product):
        return PRODUCT
    if isinstance(node, Frac):
        return PRODUCT
    if isinstance(node, Power):
        return POWER
    return ATOM


# -- working a formula out again from its shown numbers ----------------------------------------

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "σ": lambda x: 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x)),
    "tanh": math.tanh,
    "ln": math.log,
    "exp": math.exp,
    "erf": math.erf,
    "sqrt": math.sqrt,
    "max": max,
    "min": min,
    "abs": abs,
}


def evaluate(node: Expr, shown: Callable[[Num], str]) -> Fraction | float | None:
    """The value of ``node`` computed from each number as ``shown`` writes it.

    Sums, products and quotients of shown numbers are exact (``Fraction``), so a step that
    a person checks by hand is judged as they would judge it; functions (e^x, σ, ln) give
    floats. None where a node cannot be worked out (a name, a Σ, an unknown function).
    """
    try:
        return _evaluate(node, shown)
    except (ArithmeticError, ValueError, TypeError):
        return None


def _evaluate(node: Expr, shown: Callable[[Num], str]) -> Fraction | float | None:
    from fractions import Fraction

    if isinstance(node, Num):
        text = shown(node).replace("−", "-").strip()
        try:
            return Fraction(text)
        except ValueError:
            return None
    if isinstance(node, Name):
        return math.e if node.text == "e" and node.sub is None and not node.mark else None
    if isinstance(node, Neg):
        inner = _evaluate(node.operand, shown)
        return None if inner is None else -inner
    if isinstance(node, (Sum, Product)):
        items = [_evaluate(item, shown) for item in (node.terms if isinstance(node, Sum) else node.factors)]
        if any(item is None for item in items):
            return None
        result = items[0]
        for item in items[1:]:
            result = _combine(result, item, isinstance(node, Sum))
        return result
    if isinstance(node, Frac):
        top, bottom = _evaluate(node.numerator, shown), _evaluate(node.denominator, shown)
        if top is None or bottom is None:
            return None
        if isinstance(top, Fraction) and isinstance(bottom, Fraction):
            return top / bottom
        return float(top) / float(bottom)
    if isinstance(node, Power):
        base, exponent = _evaluate(node.base, shown), _evaluate(node.exponent, shown)
        if base is None or exponent is None:
            return None
        if isinstance(base, Fraction) and isinstance(exponent, Fraction) and exponent.denominator == 1:
            return base ** int(exponent)
        return float(base) ** float(exponent)
    if isinstance(node, Call):
        function = _FUNCTIONS.get(node.name)
        args = [_evaluate(arg, shown) for arg in node.args]
        if function is None or any(arg is None for arg in args):
            return None
        if node.name in ("max", "min", "abs"):
            return function(*args)
        return function(*(float(arg) for arg in args))
    return None


def _combine(left: Fraction | float, right: Fraction | float, adding: bool) -> Fraction | float:
    from fractions import Fraction

    if isinstance(left, Fraction) and isinstance(right, Fraction):
        return left + right if adding else left * right
    return float(left) + float(right) if adding else float(left) * float(right)
