"""Strict reading of numbers as people write them: decimals, scientific notation, fractions.

Only text that plainly is a number becomes one: ``0.15``, ``-.5``, ``1.5e-3``, ``1/3``.
Everything else (``no``, ``1:30``, ``0x1F``, ``1_000``, ``nan``, ``inf``, dates) is
refused with a reason, so no file or option is ever silently read as another number.
"""

from __future__ import annotations

import math
import re

DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
FRACTION = r"[+-]?\d+/\d+"
_DECIMAL_RE = re.compile(DECIMAL, re.ASCII)  # ASCII: no other script's digits become numbers
_FRACTION_RE = re.compile(FRACTION, re.ASCII)
_INTEGER_RE = re.compile(r"[+-]?\d+", re.ASCII)
_NON_FINITE_RE = re.compile(r"[+-]?\.?(?:nan|inf|infinity)", re.IGNORECASE)


class NotANumber(ValueError):
    """Text that is not a number; the message says why, for the user."""


# A decimal whose digits before the exponent are not all 0: it means a number other than 0.
_NON_ZERO_DECIMAL_RE = re.compile(r"[^eE]*[1-9]")

MAX_DIGITS = 4300  # each side of a fraction's /; Python's own limit for reading a whole number
TOO_SMALL = "too small for a 64-bit float: it would be read as 0 (the smallest above 0 is about 4.9e-324)"
TOO_LARGE = "too large for a 64-bit float"


def parse_number(text: str) -> float:
    """Read one number written as a decimal, in scientific notation, or as a fraction ``p/q``.

    A number a float cannot hold is refused, never rounded to 0 or to infinity: ``1e400``
    is too large, ``2e-400`` and ``1/10…0`` (400 zeros) too small.
    """
    if _DECIMAL_RE.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise NotANumber(f"{_short(text)} is {TOO_LARGE}")
        if value == 0.0 and _NON_ZERO_DECIMAL_RE.match(text):
            raise NotANumber(f"{_short(text)} is {TOO_SMALL}")
        return value
    if _FRACTION_RE.fullmatch(text):
        return _fraction(text)
    if _NON_FINITE_RE.fullmatch(text.strip()):
        raise NotANumber(f"{_short(text)} is not a finite number (NaN and infinities are refused)")
    if text.strip() == "":
        raise NotANumber("an empty value is not a number")
    raise NotANumber(f"{_short(text)} is not a number")


def _fraction(text: str) -> float:
    """``p/q`` as the float nearest its exact value; refused when no float holds it.

    The digits alone bound the value: with n digits above and d below the line it lies
    between 10^(n-d-1) and 10^(n-d+1), so a huge denominator is known to be too small (and
    a huge numerator too large) before any long division, and without reading numbers
    longer than Python reads.
    """
    numerator, denominator = text.split("/")
    if not denominator.strip("0"):
        raise NotANumber(f"{_short(text)} divides by zero")
    above = len(numerator.lstrip("+-").lstrip("0"))
    below = len(denominator.lstrip("0"))
    if above == 0:
        return 0.0
    if above - below + 1 <= -324:  # below 10^-324, under half the smallest float
        raise NotANumber(f"{_short(text)} is {TOO_SMALL}")
    if above - below - 1 >= 309:  # above 10^309, over the largest float
        raise NotANumber(f"{_short(text)} is {TOO_LARGE}")
    if max(above, below) > MAX_DIGITS:
        raise NotANumber(f"{_short(text)} has too many digits (at most {MAX_DIGITS:,} on each side of the /)")
    from fractions import Fraction  # rare: imported only when a fraction is written

    try:
        value = float(Fraction(int(numerator), int(denominator)))
    except OverflowError:
        raise NotANumber(f"{_short(text)} is {TOO_LARGE}") from None
    except ValueError:  # the interpreter set to read fewer digits than MAX_DIGITS
        raise NotANumber(f"{_short(text)} has too many digits") from None
    if value == 0.0:
        raise NotANumber(f"{_short(text)} is {TOO_SMALL}")
    return value


MAX_COUNT = 10_000_000  # inputs or neurons of one layer; far beyond any network written by hand


def parse_count(text: str) -> int:
    """Read a whole number written in decimal digits (``3``), nothing else, at most MAX_COUNT."""
    if not _INTEGER_RE.fullmatch(text):
        raise NotANumber(f"{_short(text)} is not a whole number")
    if len(text.lstrip("+-0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        raise NotANumber(f"{_short(text)} is too large (at most {MAX_COUNT:,})")
    return int(text)


def short_text(text: str) -> str:
    """A value for a message, quoted: long ones cut to their first characters."""
    return repr(text) if len(text) <= 40 else repr(text[:40] + "…")


_short = short_text


def is_number(text: str) -> bool:
    """True where :func:`parse_number` would accept the text."""
    try:
        parse_number(text)
    except NotANumber:
        return False
    return True


def decimals_written(text: str) -> int | None:
    """How many decimals a number's text claims (``0.60`` claims 2); None for fractions."""
    if "/" in text:
        return None
    mantissa, _, exponent = text.lower().partition("e")
    digits = len(mantissa.partition(".")[2])
    return digits - (int(exponent) if exponent else 0)
