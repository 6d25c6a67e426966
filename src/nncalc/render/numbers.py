"""How numbers are shown to a person: exact where short, else rounded to the precision."""

from __future__ import annotations

import math


def show(value: float, precision: int = 4) -> str:
    """``0.415`` when the value is exactly that short, else ``0.6023``; tiny or huge in e-notation.

    Arithmetic is never rounded; only what is shown is.
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    short = f"{value:.12g}"
    if "e" not in short and len(short.partition(".")[2]) <= precision:
        return short
    magnitude = abs(value)
    if magnitude < 0.5 * 10.0**-precision or magnitude >= 1e15:
        return f"{value:.{max(precision - 1, 1)}e}"
    return f"{value:.{precision}f}"


def exact(value: float) -> str:
    """The shortest text that reads back as exactly the same float (for data formats)."""
    return repr(float(value))
