"""A graded answer sheet of a network with convolution, pooling or flatten layers, worked out.

Each map the person wrote is shown as they wrote it, a grid per channel, each cell
marked ✓ or ✗; where a cell is wrong, the grid of the expected values (recomputed from
their own previous map) stands beside it. A flatten's values and the dense layers after
it are marked in tables, as for a dense network. The first wrong value is then worked
with the person's own numbers: for a convolution, the window they read beside the
kernel and the sum; for a pooling, the window's max or mean; for a flatten, the cell it
copies; for a dense layer, its sum as usual. Nothing is computed here: every expected
value is the grade's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc.document import Column, Document, Grid, Grids, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Chain, Expr, Name, Num
from nncalc.layer_text import describe, shapes
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten, describe_shape
from nncalc.worked import View
from nncalc.worked.forward import LARGE_LAYER, a_chain, activation_of_shown, layer_title
from nncalc.worked.grade import expected_text, graded_chain, marks_table, slip_notes, verdict
from nncalc.worked.numbers import shown_by
from nncalc.worked.spatial import (
    cell_label,
    conv_chain,
    conv_window_grids,
    grid_columns,
    image_blocks,
    map_title,
    pool_chain,
)


def spatial_grade_document(network: Network, grade, answers_source: str, view: View) -> Document:
    """The image, each layer's marks (grids per channel for maps, tables otherwise), the first
    wrong value worked out with the person's numbers, and the tally."""
    p = view.precision
    blocks: list = []
    if network.name:
        blocks.append(Heading(1, (network.name,)))
    if network.input_shape is not None:
        heading = (Styled("grading"), f" {answers_source} for a {describe_shape(network.input_shape)} image")
        blocks.append(Heading(2, heading))
        if network.n_inputs <= LARGE_LAYER or view.all_rows:  # a large image is not printed back
            blocks.extend(image_blocks(network, grade.exact, 0, grade.input_texts, "", view)[1:])
    else:
        blocks.append(Heading(2, (Styled("grading"), f" {answers_source}")))
    for index in range(len(network.layers)):
        blocks.extend(layer_marks(network, grade, index, view))
    first = grade.first_wrong
    if first is not None:
        blocks.extend(first_wrong_blocks(network, grade, first, p, view.steps is not False))
    right, wrong = len(grade.right), len(grade.wrong)
    blank = sum(1 for m in grade.marks if m.correct is None and _asked(network, grade, m))
    tally = f"{right} right, {wrong} wrong" + (f", {blank} left out" if blank else "")
    blocks.append(Note((tally,), kind="wrong" if wrong else "right"))
    return Document(network.name or "", tuple(blocks), p)


def _asked(network: Network, grade, mark) -> bool:
    """Whether a value not written counts as left out: a pooling's or a flatten's z is its a,
    asked once (counted on the a, and only where the z is not written either)."""
    if network.layers[mark.layer].has_activation:
        return True
    return mark.quantity == "a" and grade.layers[mark.layer].z[mark.neuron].given is None


# -- each layer's marks --------------------------------------------------------------------------


def layer_marks(network: Network, grade, index: int, view: View) -> list:
    """One layer's heading and marks: grids per channel for a map, a table for a flatten or a dense layer."""
    layer = network.layers[index]
    graded = grade.layers[index]
    p = view.precision
    if layer.dense:
        heading = Heading(3, layer_title(network, index))
    else:
        activation = f" · {layer.activation.describe()}" if layer.has_activation else ""
        heading = Heading(3, (f"{network.layer_label(index)} · {describe(layer)}{activation} · {shapes(layer)}",))
    written = [m for m in (*graded.z, *graded.a) if m.given is not None]
    if not written:
        after = "the layers after it are marked from the values computed here"
        return [heading, Note((f"nothing written for this layer: {after}",), kind="detail")]
    if layer.dense:
        return [heading, marks_table(layer.neurons, graded, p)]
    if isinstance(layer, Flatten):
        names = tuple(f"{j} ← {cell_label(layer.input_shape, j)}" for j in range(layer.n_neurons))
        return [heading, marks_table(names, graded, p, "value ← cell", written_only=True)]
    shape = layer.output_shape
    if (layer.n_neurons > LARGE_LAYER and not view.all_rows) or shape[2] > grid_columns(p):
        return [heading, *_large_marks(layer, graded, p)]
    blocks: list = [heading]
    for c in range(shape[0]):
        grids: list[Grid] = []
        for quantity in ("z", "a"):
            marks = getattr(graded, quantity)
            cells = channel_marks(marks, shape, c)
            if all(m.given is None for row in cells for m in row):
                continue
            grids.append(marks_grid(f"{map_title(quantity, shape, c)}, yours", cells, marked_cell))
            if any(m.correct is False for row in cells for m in row):
                grids.append(
                    marks_grid(f"{map_title(quantity, shape, c)}, expected", cells, lambda m: expected_cell(m, p))
                )
        if grids:
            blocks.append(Grids(tuple(grids)))
    return blocks


def channel_marks(marks: Sequence, shape: tuple[int, ...], channel: int) -> list[list]:
    """Channel ``channel`` of a map's marks (in flatten order) as rows of marks."""
    _, height, width = shape
    start = channel * height * width
    return [[marks[start + r * width + k] for k in range(width)] for r in range(height)]


def marks_grid(title: str, cells: list[list], write) -> Grid:
    rows = tuple(tuple(write(m) for m in row) for row in cells)
    return Grid((title,), rows, tuple(map(str, range(len(cells)))), tuple(map(str, range(len(cells[0])))))


def marked_cell(mark) -> object:
    """A cell as written, with its mark: ``7 ✓``, ``9 ✗``; ``—`` where nothing is written."""
    if mark.given is None:
        return "—"
    return f"{mark.given.text} ✓" if mark.correct else Styled(f"{mark.given.text} ✗", "wrong")  # the ✗ stands out


def expected_cell(mark, p: int) -> object:
    """The expected value of a cell, emphasised where the person's is wrong."""
    text = expected_text(mark, p)
    return Styled(text, "wrong") if mark.correct is False else text


def _large_marks(layer, graded, p: int) -> list:
    """A map too large for grids: how many cells are right, and a table of the wrong ones."""
    marks = [m for m in (*graded.z, *graded.a) if m.given is not None]
    wrong = [m for m in marks if m.correct is False]
    note = Note((f"{len(marks)} values written, {len(marks) - len(wrong)} right, {len(wrong)} wrong",))
    if not wrong:
        return [note]
    columns = (
        Column(("cell",), numeric=False),
        Column(("",), numeric=False),
        Column(("yours",)),
        Column(("expected",)),
        Column(("mark",), numeric=False),
    )
    shape = layer.output_shape
    rows = tuple(
        (cell_label(shape, m.neuron), m.quantity, m.given.text, expected_text(m, p), verdict(m.correct)) for m in wrong
    )
    return [note, Table(columns, rows)]


# -- the first wrong value -----------------------------------------------------------------------


def where_text(network: Network, mark) -> str:
    """``z of cell [0,1] in layer 1 (conv), at answers.yaml:2:13``: where a wrong value is and was written."""
    layer = network.layers[mark.layer]
    if layer.dense:
        of = layer.neurons[mark.neuron]
    elif isinstance(layer, Flatten):
        of = f"value {mark.neuron} (cell {cell_label(layer.input_shape, mark.neuron)})"
    else:
        of = f"cell {cell_label(layer.output_shape, mark.neuron)}"
    return f"{mark.quantity} of {of} in {network.layer_label(mark.layer)}, at {mark.given.location}"


def first_wrong_blocks(network: Network, grade, mark, p: int, working: bool = True) -> list:
    """The first wrong value: where it is, its working with the person's own earlier numbers
    (unless ``working`` is False: ``--no-steps``), the likely slip."""
    blocks: list = [Note((where_text(network, mark),), kind="wrong", lead="first wrong value:")]
    layer = network.layers[mark.layer]
    not_given = (f", not {mark.given.text}",)
    if working and layer.dense:
        blocks.append(Steps((Step((graded_chain(network, grade, mark, p),), after=not_given),)))
    elif working:
        blocks.extend(_spatial_working(network, grade, mark, p, not_given))
    blocks.extend(slip_notes(mark, p))
    return blocks


def _received(grade, index: int) -> list[Expr]:
    """What layer ``index`` read, as numbers written as the person wrote them (the inputs as given)."""
    graded = grade.layers[index]
    if index == 0:
        return [Num(float(v), t) for v, t in zip(grade.exact.inputs[0], grade.input_texts, strict=True)]
    return [
        Num(float(v), answer.text if answer is not None else None)
        for answer, v in zip(graded.received_given, graded.received, strict=True)
    ]


def _spatial_working(network: Network, grade, mark, p: int, after: tuple) -> list:
    """A wrong cell's working: the window beside the kernel and the sum, the activation, the pool, the copy."""
    index, j = mark.layer, mark.neuron
    layer = network.layers[index]
    graded = grade.layers[index]
    inputs = _received(grade, index)
    if isinstance(layer, Flatten):  # a copy of the cell of the map before it
        where = f"  (cell {cell_label(layer.input_shape, j)} of {network.layer_label(index - 1)})" if index else ""
        return [Steps((Step((Chain((Name("a"), inputs[j]), ("=",)),), label=str(j), after=(*after, where)),))]
    shape = layer.output_shape
    _, height, width = shape
    c, rest = divmod(j, height * width)
    r, k = divmod(rest, width)
    label = cell_label(shape, j)
    if mark.quantity == "a" and (layer.has_activation or graded.z[j].given is not None):
        zs = [
            Num(float(v), m.given.text if m.given is not None else None)
            for m, v in zip(graded.z, graded.z_used, strict=True)
        ]
        exact = activation_of_shown(layer.activation, [shown_by(p)(v) for v in zs])
        chain = a_chain(network, index, j, zs, float(mark.expected), p, None if exact is None else np.asarray(exact)[j])
        return [Steps((Step((chain,), label=label, after=after),))]
    if isinstance(layer, Conv2d):
        return [
            Grids(tuple(conv_window_grids(layer, inputs, c, r, k))),
            Steps((Step((conv_chain(layer, inputs, c, r, k, float(mark.expected), p),), label=label, after=after),)),
        ]
    return [Steps((Step((pool_chain(layer, inputs, c, r, k, float(mark.expected), p),), label=label, after=after),))]
