"""Which iterations of a training run to show: all of a short run, else a 1-2-5 series."""

from __future__ import annotations


def selected_iterations(iterations: int, rows: int = 12) -> list[int]:
    """Iteration numbers from 0 to ``iterations``: every one when few, else 0, 1, 2, 5, 10, 20, 50, … and the last."""
    if iterations + 1 <= rows:
        return list(range(iterations + 1))
    chosen = {0, iterations}
    scale = 1
    while scale <= iterations:
        chosen.update(m * scale for m in (1, 2, 5) if m * scale <= iterations)
        scale *= 10
    return sorted(chosen)
