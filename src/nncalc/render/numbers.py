"""How numbers are shown to a person, by one rule, and how a shown step is checked against it.

:func:`show` is the one formatter of every human notation (tables, derivations, Markdown,
LaTeX, diagrams); :func:`unicode_minus` gives the text
derivations their one minus sign, and :func:`relation` says whether a step written with
shown numbers comes out to its shown result (``=``) or only nearly (``≈``).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

_CONTEXT = Context(prec=80)  # room for 10**15 with 15 decimals and more; no rounding of its own
FLOAT_DIGITS = 15  # significant decimal digits that every float64 holds exactly
HUGE = 1e15  # from here on a value is shown in scientific notation
PLAIN_DOWN_TO = -4  # significant digits from 10**-4 up are written in plain decimals (0.00012)


def show(value: float, precision: int = 4) -> str:
    """A number as a person reads it, by one rule in every human notation.

    A value is taken to 15 significant digits, all that a float holds for certain (so
    0.1 + 0.2 is 0.3, and 0.15 × 0.1 + 0.4 is 0.415). Then, with p = ``precision``:

    1. A value that is a decimal of at most p decimals is shown as it is: 0.415, 2, -0.5.
    2. Any other value of magnitude at least 10^-p (one unit in the p-th decimal) and below
       10^15 is rounded to exactly p decimals: 0.6023, 0.5000, 1.
    3. A non-zero value below 10^-p would keep no significant digit that way, so it is shown
       to max(p, 1) significant digits instead (fewer where it has fewer): in plain decimals
       from 0.0001 up (0.4 stays 0.4 and 0.5075 is 0.5 at p = 0; 0.03 at p = 1; 0.0012345 is
       0.0012 at p = 2), in scientific
       notation below that (1.234e-05 at p = 4; 3e-05 where the value is exactly that).
    4. A value of magnitude 10^15 or more is shown to max(p, 1) significant digits in
       scientific notation: 1.235e+15.

    Rounding is as on paper, half away from zero (0.5075 is 0.508 at p = 3). Zero is 0; NaN
    and infinities are nan, inf and -inf. No non-zero value is ever shown as 0. Arithmetic
    is never rounded; only what is shown is.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    written = Decimal(f"{value:.{FLOAT_DIGITS}g}").normalize(_CONTEXT)
    magnitude = abs(value)
    if magnitude >= HUGE:
        return _significant(written, max(precision, 1), scientific=True)
    if -written.as_tuple().exponent <= precision:
        return _plain(written)
    if magnitude >= 10.0**-precision:
        return _plain(written.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP, context=_CONTEXT))
    return _significant(written, max(precision, 1), scientific=False)


def _plain(number: Decimal) -> str:
    """``0.00012``, ``1``: a decimal without exponent, keeping the zeros it has."""
    return format(number, "f")


def _significant(number: Decimal, digits: int, scientific: bool) -> str:
    """``number`` to ``digits`` significant digits (fewer where it has fewer), rounded half away from zero.

    Plain decimals from 10**PLAIN_DOWN_TO up unless ``scientific``; else ``1.234e-05``.
    """
    if len(number.as_tuple().digits) > digits:
        unit = Decimal(1).scaleb(number.adjusted() - digits + 1)
        rounded = number.quantize(unit, rounding=ROUND_HALF_UP, context=_CONTEXT)
        if rounded.adjusted() > number.adjusted():  # 9.99… carried to 10.0…: one digit fewer after the point
            rounded = number.quantize(unit.scaleb(1), rounding=ROUND_HALF_UP, context=_CONTEXT)
        number = rounded
    if not scientific and number.adjusted() >= PLAIN_DOWN_TO:
        return _plain(number)
    sign, digit_tuple, _ = number.as_tuple()
    mantissa = "".join(map(str, digit_tuple))
    if len(mantissa) > 1:
        mantissa = f"{mantissa[0]}.{mantissa[1:]}"
    return f"{'-' if sign else ''}{mantissa}e{number.adjusted():+03d}"


MINUS = "\u2212"  # −, the minus sign of the text derivations


def unicode_minus(text: str) -> str:
    """A number's text as the text derivations write it: a leading ``-`` becomes the minus sign ``−``.

    Tables and data keep the ASCII hyphen (it is what calculators and programs read); the
    text derivations write subtraction with ``−``, so a negative number there uses the same
    sign. The exponent of scientific notation (``1.2e-05``) is part of the notation and is kept.
    """
    return MINUS + text[1:] if text.startswith("-") else text


def value_of(text: str) -> Fraction | None:
    """The exact number a shown or written text stands for (``0.1385``, ``−1/2``, ``1e-3``); None for nan, inf."""
    try:
        return Fraction(text.strip().replace(MINUS, "-"))
    except (ValueError, ZeroDivisionError):
        return None


def agrees(value: Fraction | float | None, shown: str, precision: int) -> bool:
    """Whether ``value``, worked out from a step's shown operands, comes out as the ``shown`` result.

    The comparison is at the precision :func:`show` gives the result: one unit in the p-th
    decimal, or in its last significant digit where it is shown to significant digits (a
    value below 10^-p, or of 10^15 and more), rounding half away from zero as show() does.
    Where there is nothing to check (``value`` is None, or the result is nan or inf) it agrees.
    """
    target = value_of(shown)
    if target is None or value is None:
        return True
    if isinstance(value, float):
        if not math.isfinite(value):
            return False
        value = Fraction(f"{value:.{FLOAT_DIGITS}g}")  # as show() reads a float
    unit = _unit(Decimal(shown.strip().replace(MINUS, "-")), precision)
    return _round_half_away(value / unit) == target / unit


def _unit(shown: Decimal, precision: int) -> Fraction:
    """One unit of the last digit that show() gives a result at ``precision`` (never coarser than the text's own)."""
    exponent = -precision
    if shown != 0 and (abs(shown) >= HUGE or abs(shown) < Decimal(1).scaleb(-precision)):
        exponent = shown.adjusted() - max(precision, 1) + 1  # shown to significant digits
    written = shown.as_tuple().exponent
    return Fraction(10) ** min(exponent, written if isinstance(written, int) else exponent)


def _round_half_away(value: Fraction) -> int:
    """The whole number nearest ``value``, halves away from zero."""
    whole = math.floor(abs(value) + Fraction(1, 2))
    return whole if value >= 0 else -whole


def relation(value: Fraction | float | None, shown: str, precision: int) -> str:
    """``=`` where the shown operands give the shown result (see :func:`agrees`), else ``≈``."""
    return "=" if agrees(value, shown, precision) else "≈"
