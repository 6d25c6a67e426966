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


def parse_number(text: str) -> float:
    """Read one number written as a decimal, in scientific notation, or as a fraction ``p/q``."""
    if _DECIMAL_RE.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise NotANumber(f"{text!r} is too large for a 64-bit float")
        return value
    if _FRACTION_RE.fullmatch(text):
        numerator, denominator = text.split("/")
        if not denominator.strip("0"):
            raise NotANumber(f"{_short(text)} divides by zero")
        from fractions import Fraction  # rare: imported only when a fraction is written

        try:
            return float(Fraction(int(numerator), int(denominator)))
        except (OverflowError, ValueError):  # beyond a float, or more digits than Python reads
            raise NotANumber(f"{_short(text)} is too large for a 64-bit float") from None
    if _NON_FINITE_RE.fullmatch(text.strip()):
        raise NotANumber(f"{text!r} is not a finite number (NaN and infinities are refused)")
    if text.strip() == "":
        raise NotANumber("an empty value is not a number")
    raise NotANumber(f"{text!r} is not a number")


MAX_COUNT = 10_000_000  # inputs or neurons of one layer; far beyond any network written by hand


def parse_count(text: str) -> int:
    """Read a whole number written in decimal digits (``3``), nothing else, at most MAX_COUNT."""
    if not _INTEGER_RE.fullmatch(text):
        raise NotANumber(f"{_short(text)} is not a whole number")
    if len(text.lstrip("+-0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        raise NotANumber(f"{_short(text)} is too large (at most {MAX_COUNT:,})")
    return int(text)


def _short(text: str) -> str:
    """A value for a message: long ones cut to their first digits."""
    return repr(text) if len(text) <= 40 else repr(text[:40] + "…")


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
