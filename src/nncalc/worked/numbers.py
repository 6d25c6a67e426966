"""Numbers in a worked solution: as a person wrote them, or as they are shown; and = or ≈."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from nncalc.expr import Chain, Expr, Neg, Num, evaluate
from nncalc.render.numbers import relation, show


def written(text: str, value: float) -> Expr:
    """A number as it was written in a file or on the command line: ``0.15``, ``-0.5`` as −0.5, ``+2`` as 2."""
    text = text.strip()
    if text.startswith("+"):
        text = text[1:]
    return Num(value, text)


def unsigned(text: str, value: float) -> tuple[bool, Expr]:
    """``(negative, magnitude)`` of a written number, for a sum that subtracts it: ``− 0.5``."""
    text = text.strip()
    if text.startswith("-") and not text.startswith("--"):
        return True, Num(-value, text[1:])
    return False, written(text, value)


def signed_term(text: str, value: float, factor: Expr | None = None, sign: str = "×") -> Expr:
    """A term of a sum from a written number (times ``factor``, with the multiplication ``sign``):
    negative numbers are subtracted, ``0.3 · δ_p − 0.5 · δ_q``, as a person writes them."""
    from nncalc.expr import Product

    negative, magnitude = unsigned(text, value)
    term = magnitude if factor is None else Product((magnitude, factor), sign)
    return Neg(term) if negative else term


def shown_by(precision: int) -> Callable[[Num], str]:
    """How a number reads on the page: as written, else by the one formatter at ``precision``."""
    return lambda number: number.text if number.text is not None else show(number.value, precision)


def checked(parts: tuple[Expr, ...], precision: int, exact: float | Fraction | None = None) -> Chain:
    """A chain whose relations are ``=``, except the last, which is ``≈`` where the part before
    the result, worked out from its shown numbers (or ``exact``, where given, a value the
    caller worked out from them), does not come out as the shown result at ``precision``."""
    relations = ["="] * (len(parts) - 1)
    if len(parts) >= 2:
        result = parts[-1]
        value = exact if exact is not None else evaluate(parts[-2], shown_by(precision))
        if isinstance(result, Num) and value is not None:
            relations[-1] = relation(value, shown_by(precision)(result), precision)
    return Chain(parts, tuple(relations))
