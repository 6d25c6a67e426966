"""A graded answer sheet worked out: each value marked, then the first mistake with the person's own numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc.document import Column, Document, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Num
from nncalc.network import Network
from nncalc.numbers import decimals_written
from nncalc.render.numbers import show, value_of
from nncalc.worked import View
from nncalc.worked.forward import a_chain, activation_of_shown, assignments, layer_title, z_chain
from nncalc.worked.numbers import shown_by

MOST_DECIMALS = 15  # an expected value is never shown to more decimals than a float holds


def grade_document(network: Network, grade, answers_source: str, view: View) -> Document:
    """A table per layer marking each written value, the first wrong value worked out, and the tally."""
    if network.spatial:  # maps marked as grids, a cell's window and kernel
        from nncalc.worked.grade_spatial import spatial_grade_document

        return spatial_grade_document(network, grade, answers_source, view)
    p = view.precision
    blocks: list = []
    if network.name:
        blocks.append(Heading(1, (network.name,)))
    texts = grade.input_texts
    heading = (
        Styled("grading"),
        f" {answers_source} for input ",
        *assignments(network.inputs, grade.exact.inputs[0], texts),
    )
    blocks.append(Heading(2, heading))
    blocks.extend(forward_tables(network, grade, p))
    first = grade.first_wrong
    if first is not None:
        blocks.extend(first_wrong_blocks(network, grade, first, view))
    right, wrong = len(grade.right), len(grade.wrong)
    blank = sum(1 for m in grade.marks if m.correct is None)
    tally = f"{right} right, {wrong} wrong" + (f", {blank} left out" if blank else "")
    blocks.append(Note((tally,), kind="wrong" if wrong else "right"))
    return Document(network.name or "", tuple(blocks), p)


def forward_tables(network: Network, grade, p: int, heading: str = "", written_only: bool = False) -> list:
    """A table per layer marking each written z and a (``heading`` before each layer's title);
    with ``written_only``, the layers where nothing is written are left out."""
    blocks: list = []
    for index, (layer, graded) in enumerate(zip(network.layers, grade.layers, strict=True)):
        if written_only and all(m.given is None for m in (*graded.z, *graded.a)):
            continue
        title = Heading(3, (*((heading,) if heading else ()), *layer_title(network, index)))
        blocks.extend([title, marks_table(layer.neurons, graded, p)])
    return blocks


def marks_table(names: Sequence[str], graded, p: int, title: str = "neuron", written_only: bool = False) -> Table:
    """One layer's z and a marked, a row each (only the written ones, with ``written_only``):
    the neuron (or cell) by ``names``, what was written, what was expected, the verdict."""
    columns = (
        Column((title,), numeric=False),
        Column(("",), numeric=False),
        Column(("yours",)),
        Column(("expected",)),
        Column(("mark",), numeric=False),
    )
    rows = tuple(
        (
            names[mark.neuron],
            mark.quantity,
            mark.given.text if mark.given is not None else "—",
            expected_text(mark, p),
            verdict(mark.correct),
        )
        for z_mark, a_mark in zip(graded.z, graded.a, strict=True)
        for mark in (z_mark, a_mark)
        if not written_only or mark.given is not None
    )
    return Table(columns, rows)


def verdict(correct: bool | None) -> object:
    if correct is None:
        return ""
    return Styled("✓ right", "right") if correct else Styled("✗ wrong", "wrong")


def expected_text(mark, precision: int) -> str:
    """The right value, shown to the table's precision or to the decimals the person wrote, whichever is more.

    A wrong answer that would read the same as the right one at those decimals (a tolerance
    tighter than the written digits) gets more decimals until the difference shows.
    """
    decimals = precision
    written = decimals_written(mark.given.text) if mark.given is not None else None
    if written is not None:
        decimals = max(decimals, min(written, MOST_DECIMALS))
    text = show(mark.expected, decimals)
    if mark.correct is False:
        given = value_of(mark.given.text)
        while decimals < MOST_DECIMALS and value_of(text) == given:
            decimals += 1
            text = show(mark.expected, decimals)
    return text


def first_wrong_blocks(network: Network, grade, mark, view: View, sample: int | None = None) -> list:
    """The first wrong value: where it is (in which ``sample`` of a batch, from 0), its step with
    the person's own earlier numbers (its layer at once with ``view.form`` "matrix"; none with
    ``view.steps`` False), and the likely slip."""
    p = view.precision
    neuron = network.layers[mark.layer].neurons[mark.neuron]
    of = f"{neuron}, sample {sample + 1}" if sample is not None else neuron
    where = f"{mark.quantity} of {of} in {network.layer_label(mark.layer)}, at {mark.given.location}"
    blocks: list = [Note((where,), kind="wrong", lead="first wrong value:")]
    if view.steps is not False and view.form == "matrix":
        from nncalc.worked.grade_matrix import forward_wrong

        blocks.extend(forward_wrong(network, grade, mark, view))
    elif view.steps is not False:
        blocks.append(Steps((Step((graded_chain(network, grade, mark, p),), after=(f", not {mark.given.text}",)),)))
    blocks.extend(slip_notes(mark, p))
    return blocks


def slip_notes(mark, p: int) -> list:
    """The likely slip behind a wrong value, and its value from exact earlier values where that differs.

    The exact value is shown to as many decimals as the person wrote, when that is more than
    the page's precision: it differs from the expected value in those digits, and at fewer
    it would read the same as the expected value beside it.
    """
    blocks: list = []
    if mark.diagnosis:
        blocks.append(Note((f"likely: {mark.diagnosis}",), kind="detail"))
    if abs(mark.expected - mark.exact) > (mark.tolerance or 0):
        digits = max(p, decimals_written(mark.given.text) or 0)
        exact = f"(from your earlier values; with exact earlier values it is {show(mark.exact, digits)})"
        blocks.append(Note((exact,), kind="detail"))
    return blocks


def graded_chain(network: Network, grade, mark, p: int):
    """The step behind a graded value, written with the person's own earlier numbers where they gave them."""
    graded = grade.layers[mark.layer]
    j = mark.neuron
    if mark.layer == 0:
        inputs = [Num(float(v), t) for v, t in zip(grade.exact.inputs[0], grade.input_texts, strict=True)]
    else:
        inputs = [
            Num(float(value), answer.text if answer is not None else None)
            for answer, value in zip(graded.received_given, graded.received, strict=True)
        ]
    if mark.quantity == "z":
        return z_chain(network, mark.layer, j, inputs, float(mark.expected), p)
    zs = [
        Num(float(v), m.given.text if m.given is not None else None)
        for m, v in zip(graded.z, graded.z_used, strict=True)
    ]
    layer = network.layers[mark.layer]
    exact = activation_of_shown(layer.activation, [shown_by(p)(v) for v in zs])
    return a_chain(
        network, mark.layer, j, zs, float(mark.expected), p, None if exact is None else float(np.asarray(exact)[j])
    )
