"""Worked solutions: the engine's results turned into documents a person reads.

Each builder takes what the core computed (a forward trace, a backward step, a graded
sheet, a training run, a checked network) and decides, in one place, everything a page
holds: which tables, which derivations (``--steps``), what a large layer is summarised
to (``--all``), a heading per sample, the precision numbers are shown at, and whether a
step's shown numbers give its shown result (``=``) or only nearly (``≈``). The result is
a ``nncalc.document.Document``; the notations write it. Nothing here prints or formats a
page, and nothing here computes a value the core did not.
"""

from __future__ import annotations

from nncalc.records import record

STEP_FORMS = ("neurons", "matrix")  # the forms of the derivations: each neuron's sums, or a layer at once


@record
class View:
    """What a person asked to see: the precision, the derivations (None: where readable), every row,
    and the form of the derivations: "neurons" (each neuron's sums) or "matrix" (a layer at once)."""

    precision: int = 4
    steps: bool | None = None
    all_rows: bool = False
    form: str = "neurons"
