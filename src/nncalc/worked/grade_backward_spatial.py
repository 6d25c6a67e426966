"""A graded backward pass through convolution, pooling and flatten layers, worked out.

The forward marks are shown as ``nncalc grade`` shows a spatial sheet (a grid per
channel); then the loss, and each layer from the output back: a dense layer's table as
``nncalc.worked.grade_backward`` writes it; a spatial layer's δ as the person wrote it, a
grid per channel with each cell marked, the expected grid beside it where a cell is
wrong; a convolution's kernel gradients and updated kernels the same way, a grid per
(out, in) channel pair, and its biases in a table. The first wrong value is then worked
with the person's own numbers: a δ cell as ∂L/∂a · f′(z), with the rule by which the
layer above passed ∂L/∂a down; a kernel value as the sum Σ δ · a over the map; a bias's
gradient as the sum of δ; an update as w − lr · ∂L/∂w (with ``--steps matrix``, its whole
map or kernel at once: ``nncalc.worked.grade_backward_spatial_matrix``). In a batch each sample's image,
maps and δ come in turn, and a gradient's sum runs over every sample's map too (times 1/n
where the batch is averaged).

Nothing is computed here: every expected value, δ used and ∂L/∂a passed down is the
grade's; the cells a kernel value's sum reads are picked by index.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncalc.answers_spatial import map_shape
from nncalc.document import Column, Document, Grids, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Chain, Derivative, Expr, Frac, Name, Num, Product, Sigma, call, total
from nncalc.grading import Mark
from nncalc.grading_backward import BackMark, BackwardGrade
from nncalc.grading_optimizer import family
from nncalc.layer_text import describe, shapes
from nncalc.network import Network
from nncalc.render.numbers import show
from nncalc.spatial import Conv2d, describe_shape
from nncalc.worked import View
from nncalc.worked.backward import MAX_TERMS, minus, times
from nncalc.worked.forward import LARGE_LAYER, assignments
from nncalc.worked.grade import expected_text, slip_notes
from nncalc.worked.grade_backward import (
    LETTERS,
    back_mark_row,
    backward_layer_table,
    closing_notes,
    first_wrong_backward,
    loss_table,
    state_name,
)
from nncalc.worked.grade_backward import _Work as _DenseWork
from nncalc.worked.grade_spatial import channel_marks, expected_cell, layer_marks, marked_cell, marks_grid
from nncalc.worked.grade_spatial import first_wrong_blocks as forward_wrong
from nncalc.worked.numbers import checked, signed_term, written
from nncalc.worked.spatial import CONV_TERMS, ZERO, cell_label, grid_columns, image_blocks

SYMBOLS = {"grad_weights": "∂L/∂W", "weights": "W′", "grad_biases": "∂L/∂b", "biases": "b′"}
# How each kind of layer passes ∂L/∂a down to the layer below: the part of its rule that explains
# a value of the layer below (its own δ and gradients are another matter)
PASSED_DOWN = {
    "conv2d": "δ spread back through the kernel (a transposed convolution: each cell gets Σ w · δ over the "
    "windows it lay in, for the kernel weights it met)",
    "maxpool2d": "each window's δ goes to the cell that held the window's max (the first in row order on a "
    "tie), 0 to the others",
    "avgpool2d": "each cell of a window gets δ/(kh·kw) (padding included), a cell in several windows the sum "
    "of their shares",
    "flatten": "the layer above's δ, folded back into maps in the flatten order",
}


def spatial_backward_grade_document(
    network: Network,
    grade: BackwardGrade,
    answers_source: str,
    input_texts: Sequence[Sequence[str]],
    target_texts: Sequence[Sequence[str]],
    view: View,
) -> Document:
    """The image, the forward marks, the loss, each layer's backward marks from the output back,
    the first wrong value worked out, the settings graded under and the tally."""
    p = view.precision
    samples = len(grade.forward)
    blocks: list = []
    if network.name:
        blocks.append(Heading(1, (network.name,)))
    image = describe_shape(network.input_shape) if network.input_shape is not None else None
    if samples == 1:
        what = f" for a {image} image" if image is not None else ""
        heading = (
            Styled("grading"),
            f" {answers_source}{what}, target ",
            *assignments(network.outputs, grade.targets[0], target_texts[0]),
        )
    else:
        what = f" ({image} images)" if image is not None else ""
        heading = (Styled("grading"), f" {answers_source} for a batch of {samples} samples{what}")
    blocks.append(Heading(2, heading))
    for s, forward in enumerate(grade.forward):
        if samples > 1:
            targets = assignments(network.outputs, grade.targets[s], target_texts[s])
            blocks.append(Heading(3, (f"sample {s + 1}, target ", *targets)))
        if network.input_shape is not None and (network.n_inputs <= LARGE_LAYER or view.all_rows):
            blocks.extend(image_blocks(network, forward.exact, 0, forward.input_texts, "", view)[1:])
        for index in range(len(network.layers)):
            graded = forward.layers[index]
            if any(m.given is not None for m in (*graded.z, *graded.a)):
                blocks.extend(layer_marks(network, forward, index, view))
    blocks.extend(loss_table(grade, p))
    for k in range(len(network.layers) - 1, -1, -1):
        if network.layers[k].dense:
            blocks.extend(backward_layer_table(network, grade, k, p))
        else:
            blocks.extend(_spatial_marks(network, grade, k, view))
    first = grade.first_wrong
    if isinstance(first, Mark):
        sample = next(s for s, g in enumerate(grade.forward) if any(m is first for m in g.marks))
        found = forward_wrong(network, grade.forward[sample], first, p, view.steps is not False)
        if samples > 1:  # which sample's value: the first line says where it is
            found[0] = Note((f"sample {sample + 1}: ", *found[0].text), kind=found[0].kind, lead=found[0].lead)
        blocks.extend(found)
    elif first is not None and (first.layer is None or network.layers[first.layer].dense):
        blocks.extend(first_wrong_backward(network, grade, first, input_texts, target_texts, view))
    elif first is not None:
        blocks.extend(_first_wrong(network, grade, first, input_texts, target_texts, view))
    blank = sum(1 for g in grade.forward for m in g.marks if m.correct is None and _asked(network, g, m))
    blank += sum(1 for m in grade.backward_marks if m.correct is None)
    blocks.extend(closing_notes(grade, blank))
    return Document(network.name or "", tuple(blocks), p)


def _asked(network: Network, forward, mark: Mark) -> bool:
    """Whether a forward value not written counts as left out: a pooling's or flatten's z is its a
    (counted once). ``forward`` is the grade of the mark's sample."""
    if network.layers[mark.layer].has_activation:
        return True
    return mark.quantity == "a" and forward.layers[mark.layer].z[mark.neuron].given is None


# -- each spatial layer's marks ----------------------------------------------------------------


def _spatial_marks(network: Network, grade: BackwardGrade, k: int, view: View) -> list:
    """A spatial layer's δ grids per channel, a convolution's kernel grids and bias table; nothing
    where nothing of its backward pass is written."""
    layer, graded = network.layers[k], grade.layers[k]
    p = view.precision
    quantities = ("delta", "grad_weights", "state_weights", "weights", "grad_biases", "state_biases", "biases")
    marks = [m for q in quantities for m in getattr(graded, q)]
    if not any(m.given is not None for m in marks):
        return []
    activation = f" · {layer.activation.describe()}" if layer.has_activation else ""
    title = f"backward: {network.layer_label(k)} · {describe(layer)}{activation} · {shapes(layer)}"
    blocks: list = [Heading(3, (title,))]
    shape = map_shape(layer)
    samples = len(grade.forward)
    if any(m.given is not None for m in graded.delta):
        if (layer.n_neurons > LARGE_LAYER and not view.all_rows) or shape[2] > grid_columns(p):
            blocks.extend(_large(network, graded.delta, p, samples))
        else:
            for sample in range(samples):  # the marks of a batch: each sample's map in turn
                deltas = graded.delta[sample * layer.n_neurons : (sample + 1) * layer.n_neurons]
                of = f", sample {sample + 1}" if samples > 1 else ""
                for c in range(shape[0]):
                    cells = channel_marks(deltas, shape, c)
                    blocks.extend(_pair(_title("δ", shape[0], c) + of, cells, p))
    if isinstance(layer, Conv2d):
        out, into, rows, columns = layer.weights.shape
        # the kernels in the order a person works them: ∂L/∂W, the optimizer's values of the step, W′
        kernel_grids = [(SYMBOLS["grad_weights"], graded.grad_weights)]
        for key in dict.fromkeys(m.quantity for m in graded.state_weights):
            kernel_grids.append((_letter(grade, key) + " of W", [m for m in graded.state_weights if m.quantity == key]))
        kernel_grids.append((SYMBOLS["weights"], graded.weights))
        for symbol, kernels in kernel_grids:
            for o in range(out):
                for i in range(into):
                    start = (o * into + i) * rows * columns
                    cells = [[kernels[start + r * columns + c] for c in range(columns)] for r in range(rows)]
                    title = symbol if out * into == 1 else f"{symbol} [{o},{i}]"
                    blocks.extend(_pair(title, cells, p))
        rows_b = [
            back_mark_row(_name(network, m, settings=grade.settings), m, 1, p)
            for o in range(out)
            for m in (graded.grad_biases[o], *(m for m in graded.state_biases if m.index == (o,)), graded.biases[o])
            if m.given is not None
        ]
        if rows_b:
            columns_b = (
                Column(("",), numeric=False),
                Column(("yours",)),
                Column(("expected",)),
                Column(("mark",), numeric=False),
            )
            blocks.append(Table(columns_b, tuple(rows_b)))
    return blocks


def _title(symbol: str, channels: int, c: int) -> str:
    return symbol if channels == 1 else f"{symbol}, map {c}"


def _pair(title: str, cells: list[list], p: int) -> list:
    """The grid as written, marked, and the expected grid beside it where a cell is wrong; none if none written."""
    if all(m.given is None for row in cells for m in row):
        return []
    grids = [marks_grid(f"{title}, yours", cells, marked_cell)]
    if any(m.correct is False for row in cells for m in row):
        grids.append(marks_grid(f"{title}, expected", cells, lambda m: expected_cell(m, p)))
    return [Grids(tuple(grids))]


def _large(network: Network, marks: Sequence[BackMark], p: int, samples: int) -> list:
    """A δ map too large for grids: how many cells are right, and a table of the wrong ones."""
    written_marks = [m for m in marks if m.given is not None]
    wrong = [m for m in written_marks if m.correct is False]
    counts = f"{len(written_marks)} values written, {len(written_marks) - len(wrong)} right, {len(wrong)} wrong"
    blocks: list = [Note((counts,))]
    if wrong:
        columns = (
            Column(("cell",), numeric=False),
            Column(("yours",)),
            Column(("expected",)),
            Column(("mark",), numeric=False),
        )
        blocks.append(
            Table(columns, tuple((_name(network, m, samples), *back_mark_row("", m, 1, p)[1:]) for m in wrong))
        )
    return blocks


def _name(network: Network, mark: BackMark, samples: int = 1, settings=None) -> str:
    """``δ[0,1]``, ``δ[0,1] of sample 2`` (in a batch), ``∂L/∂W[0,0,1,2]``, ``b′[0]``, ``m̂ of W[0,0,1,2]``
    (an optimizer's value, with the ``settings`` graded under): a spatial value as the page names it."""
    layer = network.layers[mark.layer]
    if mark.quantity == "delta":
        of = f" of sample {mark.index[0] + 1}" if samples > 1 else ""
        return f"δ{cell_label(map_shape(layer), mark.index[1])}{of}"
    if mark.param is not None and settings is not None:
        return state_name(network, settings, mark)
    return f"{SYMBOLS[mark.quantity]}[{','.join(map(str, mark.index))}]"


def _letter(grade: BackwardGrade, key: str) -> str:
    """An optimizer's value as its working writes it: ``m′``, ``v̂``, ``u′``."""
    assert grade.settings.optimizer is not None
    return LETTERS[family(grade.settings.optimizer)].get(key, key)


# -- the first wrong value -----------------------------------------------------------------------


def _first_wrong(
    network: Network,
    grade: BackwardGrade,
    mark: BackMark,
    input_texts: Sequence[Sequence[str]],
    target_texts: Sequence[Sequence[str]],
    view: View,
) -> list:
    """Where the wrong value is, its working with the person's numbers (unless --no-steps), the likely slip.

    Under an optimizer, a wrong kernel value or bias, new or of the step (m′, v̂, …), is worked as
    a dense layer's is (``nncalc.worked.grade_backward``): the step as ``backward --optimizer``
    writes it, up to the wrong value's line."""
    name = _name(network, mark, len(grade.forward), grade.settings)
    where = f"{name} in {network.layer_label(mark.layer)}, at {mark.given.location}"
    blocks: list = [Note((where,), kind="wrong", lead="first wrong value:")]
    stepped = mark.param is not None or mark.quantity in ("weights", "biases")
    if view.steps is not False and grade.settings.optimizer is not None and stepped:
        work = _DenseWork(network, grade, input_texts, target_texts, view.precision)
        blocks.extend(work.optimizer_steps(mark))
    elif view.steps is not False:
        work = _Work(network, grade, view.precision)
        at_once = None
        if view.form == "matrix":  # the wrong value's map or kernel at once, where the form has one
            from nncalc.worked.grade_backward_spatial_matrix import spatial_backward_wrong

            at_once = spatial_backward_wrong(network, grade, mark, view, work)
        if at_once is not None:
            blocks.extend(at_once)
        else:
            chain, notes = getattr(work, mark.quantity)(mark)
            blocks.append(Steps((Step((chain,), after=(f", not {mark.given.text}",)),)))
            blocks.extend(Note((note,), kind="detail") for note in notes)
    blocks.extend(slip_notes(mark, view.precision))
    return blocks


def _text(answer) -> str | None:
    return answer.text if answer is not None else None


class _Work:
    """The step behind a spatial layer's graded value, with the person's own numbers where written."""

    def __init__(self, network: Network, grade: BackwardGrade, p: int):
        self.network, self.grade, self.p = network, grade, p
        self.samples = len(grade.forward)

    def result(self, mark: BackMark) -> Num:
        return Num(mark.expected, expected_text(mark, self.p))

    def delta_used(self, k: int, flat: int, sample: int = 0) -> Num:
        """δ of cell ``flat`` of layer ``k`` for ``sample``, as used (the person's, as written)."""
        graded = self.grade.layers[k]
        mark = graded.delta[sample * self.network.layers[k].n_neurons + flat]
        return Num(float(graded.delta_used[sample, flat]), _text(mark.given))

    def delta(self, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        k, s, j = mark.layer, mark.index[0], mark.index[1]
        network, graded = self.network, self.grade.layers[k]
        layer = network.layers[k]
        where = cell_label(map_shape(layer), j).strip("[]")
        lhs = Name("δ", where)
        if graded.upstream is None:  # the output layer: no rule of a layer above
            return Chain((lhs, self.result(mark)), ("=",)), ()
        above = network.layers[k + 1]
        result = self.result(mark)
        upstream = Num(float(graded.upstream[s, j]), _like(float(graded.upstream[s, j]), result))
        passed: Expr = upstream
        if above.dense and above.n_neurons <= MAX_TERMS:  # Σ w · δ over the neurons above
            passed = total(
                [
                    signed_term(above.weight_text[m][j], float(above.weights[m, j]), self.delta_used(k + 1, m, s), "·")
                    for m in range(above.n_neurons)
                ]
            )
        rule = (
            "Σ w · δ of the layer above, for the weights this value feeds" if above.dense else PASSED_DOWN[above.kind]
        )
        notes = (f"∂L/∂a{cell_label(map_shape(layer), j)}, passed down by {network.layer_label(k + 1)}: {rule}",)
        symbol = Derivative(Name("L"), Name("a", where))
        if layer.has_activation and layer.activation.name != "identity":
            value = float(graded.derivative[s, j])
            derivative = Num(value, _like(value, result))
            symbols = times(symbol, call("f′", Name("z", where)))
            return checked((lhs, symbols, times(passed, derivative), result), self.p), notes
        if passed is upstream:
            return checked((lhs, symbol, result), self.p), notes
        return checked((lhs, symbol, passed, result), self.p), notes

    def received(self, k: int, sample: int = 0) -> list[Num]:
        """What layer ``k`` read for ``sample``, as the person wrote it where they did (the inputs as given)."""
        forward = self.grade.forward[sample]
        graded = forward.layers[k]
        texts = forward.input_texts if k == 0 else [_text(a) for a in graded.received_given]
        return [Num(float(v), t) for v, t in zip(graded.received, texts, strict=True)]

    def batched(self, symbols: Expr, per_sample: list[list[Expr]]) -> tuple[Expr, Expr]:
        """A gradient's sum over the map, and for a batch over the samples too, (1/n)·Σ for the mean;
        ``per_sample`` the terms of each sample's sum, written as one sum."""
        terms = [term for sample in per_sample for term in sample]
        numbers: Expr = total(terms)
        if self.samples > 1:
            symbols = Sigma("s", symbols)
            if self.grade.settings.batch == "mean":
                mean = Frac(Num(1.0), Num(float(self.samples)))
                symbols, numbers = times(mean, symbols), times(mean, numbers)
        if self.grade.settings.error == "t-a":
            symbols, numbers = times(Num(-1.0), symbols), times(Num(-1.0), numbers)
        return symbols, numbers

    def grad_weights(self, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        k = mark.layer
        layer = self.network.layers[k]
        assert isinstance(layer, Conv2d)
        o, i, r, c = mark.index
        where = f"{o},{i},{r},{c}"
        lhs = Derivative(Name("L"), Name("w", where))
        _, height, width = layer.input_shape
        _, rows_out, cols_out = layer.output_shape
        (sh, sw), (ph, pw) = layer.stride, layer.padding
        cell = Name("a", f"{i},{_offset(sh, r - ph, 'y')},{_offset(sw, c - pw, 'x')}")
        per_sample = []
        for s in range(self.samples if self.samples * rows_out * cols_out <= CONV_TERMS else 0):
            inputs = self.received(k, s)
            terms: list[Expr] = []
            for y in range(rows_out):
                for x in range(cols_out):
                    row, column = y * sh + r - ph, x * sw + c - pw
                    inside = 0 <= row < height and 0 <= column < width
                    value = inputs[i * height * width + row * width + column] if inside else ZERO
                    terms.append(Product((self.delta_used(k, (o * rows_out + y) * cols_out + x, s), value), "·"))
            per_sample.append(terms)
        symbols, numbers = self.batched(Sigma("y,x", times(Name("δ", f"{o},y,x"), cell)), per_sample)
        if not per_sample:
            return checked((lhs, symbols, self.result(mark)), self.p), ()
        note = "the cross-correlation of the layer's input with δ: each kernel value meets the cells it covered"
        if self.samples > 1:
            note += f"; summed over the {self.samples} samples" + (
                " and averaged" if self.grade.settings.batch == "mean" else ""
            )
        return checked((lhs, symbols, numbers, self.result(mark)), self.p), (note,)

    def grad_biases(self, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        k, (o,) = mark.layer, mark.index
        layer = self.network.layers[k]
        _, rows_out, cols_out = layer.output_shape
        lhs = Derivative(Name("L"), Name("b", str(o)))
        cells = rows_out * cols_out
        shown = self.samples if self.samples * cells <= CONV_TERMS else 0
        per_sample = [[self.delta_used(k, o * cells + n, s) for n in range(cells)] for s in range(shown)]
        symbols, numbers = self.batched(Sigma("y,x", Name("δ", f"{o},y,x")), per_sample)
        if not per_sample:
            return checked((lhs, symbols, self.result(mark)), self.p), ()
        return checked((lhs, symbols, numbers, self.result(mark)), self.p), ()

    def weights(self, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        layer = self.network.layers[mark.layer]
        graded = self.grade.layers[mark.layer]
        o, i, r, c = mark.index
        old = written(layer.weight_text[o][i][r][c], float(layer.weights[o, i, r, c]))
        position = ((o * layer.weights.shape[1] + i) * layer.weights.shape[2] + r) * layer.weights.shape[3] + c
        gradient = Num(float(graded.grad_weights_used[o, i, r, c]), _text(graded.grad_weights[position].given))
        return self._update(Name("w", f"{o},{i},{r},{c}", "prime"), old, gradient, mark)

    def biases(self, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        layer = self.network.layers[mark.layer]
        graded = self.grade.layers[mark.layer]
        (o,) = mark.index
        old = written(layer.bias_text[o], float(layer.biases[o]))
        if self.grade.settings.freeze_biases:
            return Chain((Name("b", str(o), "prime"), old), ("=",)), ("biases frozen: b′ = b",)
        gradient = Num(float(graded.grad_biases_used[o]), _text(graded.grad_biases[o].given))
        return self._update(Name("b", str(o), "prime"), old, gradient, mark)

    def _update(self, lhs: Name, old: Expr, gradient: Num, mark: BackMark) -> tuple[Chain, tuple[str, ...]]:
        """w − lr · ∂L/∂w; an optimizer's step is worked by ``_first_wrong`` as a dense layer's is."""
        settings = self.grade.settings
        return checked((lhs, minus(old, Num(settings.lr), gradient), self.result(mark)), self.p), ()


def _like(value: float, result: Num) -> str:
    """``value`` shown to as many decimals as the result beside it (a factor of a step, not a new value)."""
    text = result.text or ""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return show(value, decimals)


def _offset(stride: int, shift: int, var: str) -> str:
    """``y``, ``2y``, ``y+1``: the input row (or column) output ``var`` reads at a kernel offset."""
    text = var if stride == 1 else f"{stride}{var}"
    return text if shift == 0 else f"{text}{shift:+d}"
