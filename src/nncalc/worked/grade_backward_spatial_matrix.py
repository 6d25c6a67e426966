"""The first wrong value of a spatial layer's backward pass in the matrix form (``grade --steps matrix``).

Where the value-by-value form works the one wrong cell, this writes its map at once, from
the person's own values, as ``nncalc.worked.grade_matrix`` does for a dense layer:

- a δ: ``δ_1 = ∂L/∂A_1 ⊙ f′(Z_1) = [passed down] ⊙ [f′] = [δ]``, the map of the wrong
  cell's channel (and sample), with the rule by which the layer above passed ∂L/∂A down;
- a kernel's gradient: the wrong entry as the forward form writes a convolution's cell,
  ``∂L/∂K_1[0,1] = sum(X[0:3,1:4] ⊙ δ_1) = sum([window] ⊙ [δ]) = …`` (the mean over the
  samples of a batch), then the whole kernel gradient as a matrix;
- a bias's gradient: ``∂L/∂b_1 = sum(δ_1) = sum([δ]) = …``;
- a kernel's update: ``K′_1 = K_1 − η · ∂L/∂K_1 = [K] − lr · [gradient] = [K′]``.

A wrong entry is named by its row and column. A kernel's gradient of a strided or padded
convolution, a bias's update (one number per channel, which the value-by-value step writes
whole) and an update by an optimizer keep the value-by-value form: ``None`` here.
Nothing is computed: every number is the grader's; ``=`` or ``≈`` is checked from the shown
numbers by :func:`nncalc.worked.matrix.checked`.
"""

from __future__ import annotations

from collections.abc import Callable

from nncalc.answers_spatial import map_shape
from nncalc.document import Note, Step, Steps
from nncalc.expr import Call, Chain, Derivative, Expr, Frac, Index, Name, Neg, Num, Product, Sigma, Sum
from nncalc.grading_backward import BackMark, BackwardGrade
from nncalc.network import Network
from nncalc.render.numbers import show
from nncalc.spatial import Conv2d
from nncalc.worked import View
from nncalc.worked.grade import expected_text
from nncalc.worked.grade_backward_spatial import PASSED_DOWN
from nncalc.worked.grade_matrix import entry_note
from nncalc.worked.matrix import MAX_LISTED_SAMPLES, checked, grid
from nncalc.worked.numbers import written
from nncalc.worked.spatial_matrix import channel_of, map_name


def spatial_backward_wrong(network: Network, grade: BackwardGrade, mark: BackMark, view: View, work) -> list | None:
    """The wrong value's map (or kernel) worked at once, and its wrong entry named; None where the
    value-by-value form is kept. ``work`` gives the person's values as the value-by-value form uses them."""
    maker = _Maps(network, grade, view, work)
    found = getattr(maker, mark.quantity)(mark)
    if found is None:
        return None
    chains, notes = found
    steps = [Step((chain,)) for chain in chains]
    if not notes:  # one number (a bias's gradient): the value written after it, as the value-by-value step has it
        steps[0] = Step((chains[0],), after=(f", not {mark.given.text}",))
    return [Steps(tuple(steps)), *notes]


class _Maps:
    def __init__(self, network: Network, grade: BackwardGrade, view: View, work):
        self.network, self.grade, self.view, self.work = network, grade, view, work
        self.p = view.precision
        self.samples = len(grade.forward)

    def _matrix(self, shape: tuple[int, int], cell: Callable[[int, int], Expr]):
        return grid(shape, cell, self.view.all_rows)

    def _expected(self, mark: BackMark) -> Num:
        return Num(float(mark.expected), expected_text(mark, self.p) if mark.given is not None else None)

    def _entry(self, what: Expr, mark: BackMark, row: int, column: int, sample: int | None = None) -> Note:
        note = entry_note(what, mark, str(row), str(column), self.p)
        if sample is None or self.samples == 1:
            return note
        return Note((f"sample {sample + 1}, ", *note.text), kind=note.kind, lead=note.lead)

    def _over_samples(self, symbol: Expr, sums: list[Expr]) -> tuple[Expr, Expr]:
        """A gradient's symbol and numbers over the batch: one sample's sum as it is; several
        summed (Σ_s), and averaged (1/m) where the batch is."""
        numbers: Expr = sums[0] if len(sums) == 1 else Sum(tuple(sums))
        if self.samples > 1:
            symbol = Sigma("s", symbol)
        mean = self._mean()
        if mean is not None:
            symbol, numbers = Product((mean, symbol)), Product((mean, numbers))
        return symbol, numbers

    def _mean(self) -> Frac | None:
        if self.samples > 1 and self.grade.settings.batch == "mean":
            return Frac(Num(1.0), Num(float(self.samples)))
        return None

    def _signed(self, node: Expr) -> Expr:
        return Neg(node) if self.grade.settings.error == "t-a" else node

    # -- δ ----------------------------------------------------------------------------------------

    def delta(self, mark: BackMark):
        k, (s, j) = mark.layer, mark.index
        network, graded = self.network, self.grade.layers[k]
        if graded.upstream is None:
            return None
        layer, above = network.layers[k], network.layers[k + 1]
        shape = map_shape(layer)
        _, height, width = shape
        c, cell = divmod(j, height * width)
        start = s * layer.n_neurons + c * height * width
        number = str(k + 1)

        text = mark.given.text if mark.given is not None else ""
        decimals = len(text.split(".")[1]) if "." in text else self.p

        def at(values, y: int, x: int) -> Num:  # a factor, shown to the decimals of the value written
            value = float(values[s, c * height * width + y * width + x])
            return Num(value, show(value, decimals))

        passed = self._matrix((height, width), lambda y, x: at(graded.upstream, y, x))
        result = self._matrix((height, width), lambda y, x: self._expected(graded.delta[start + y * width + x]))
        lhs = channel_of(Name("δ", number), shape, c)
        symbol = Derivative(Name("L"), channel_of(Name("A", number), shape, c))
        if layer.has_activation and layer.activation.name != "identity":
            derivative = self._matrix((height, width), lambda y, x: at(graded.derivative, y, x))
            f_symbol = Call("f′", (channel_of(Name("Z", number), shape, c),))
            parts: tuple[Expr, ...] = (
                lhs,
                Product((symbol, f_symbol), "⊙"),
                Product((passed, derivative), "⊙"),
                result,
            )
        else:
            parts = (lhs, symbol, passed, result)
        rule = "Wᵀ · δ of the layer above, read back into the maps" if above.dense else PASSED_DOWN[above.kind]
        note = Note((f"∂L/∂A_{number}, passed down by {network.layer_label(k + 1)}: {rule}",), kind="detail")
        return [checked(parts, self.p)], [note, self._entry(lhs, mark, cell // width, cell % width, s)]

    # -- a kernel's gradient, a bias's gradient -----------------------------------------------------

    def grad_weights(self, mark: BackMark):
        k, (o, i, r, c) = mark.layer, mark.index
        layer = self.network.layers[k]
        if not isinstance(layer, Conv2d) or layer.stride != (1, 1) or layer.padding != (0, 0):
            return None
        if self.samples > MAX_LISTED_SAMPLES:
            return None
        _, height, width = layer.input_shape
        out_shape = layer.output_shape
        _, rows, columns = out_shape
        number = str(k + 1)
        single = layer.weights.shape[0] * layer.weights.shape[1] == 1
        kernel = Name("K", number) if single else Index(Name("K", number), f"{o},{i}")
        rows_text = f"{r}:{r + rows},{c}:{c + columns}"
        window_name = Index(map_name(self.network, k), rows_text if layer.input_shape[0] == 1 else f"{i},{rows_text}")
        delta_name = channel_of(Name("δ", number), out_shape, o)
        symbol: Expr = Call("sum", (Product((window_name, delta_name), "⊙"),))
        sums: list[Expr] = []
        for s in range(self.samples):
            inputs = self.work.received(k, s)
            window = self._matrix(
                (rows, columns), lambda y, x, inputs=inputs: inputs[i * height * width + (r + y) * width + c + x]
            )
            deltas = self._matrix(
                (rows, columns), lambda y, x, s=s: self.work.delta_used(k, (o * rows + y) * columns + x, s)
            )
            sums.append(Call("sum", (Product((window, deltas), "⊙"),)))
        symbol, numbers = self._over_samples(symbol, sums)
        where = f"{r},{c}" if single else f"{o},{i},{r},{c}"
        lhs = Derivative(Name("L"), Index(Name("K", number), where))
        entry_chain = checked((lhs, self._signed(symbol), self._signed(numbers), self._expected(mark)), self.p)
        marks = self.grade.layers[k].grad_weights
        first = (o * layer.weights.shape[1] + i) * layer.kernel_size[0] * layer.kernel_size[1]
        kh, kw = layer.kernel_size
        whole = Chain(
            (
                Derivative(Name("L"), kernel),
                self._matrix((kh, kw), lambda y, x: self._expected(marks[first + y * kw + x])),
            ),
            ("=",),
        )
        note = (
            "each entry of the kernel's gradient is the window of the input that kernel value covered, "
            "times δ, summed: the cross-correlation of the input with δ"
        )
        entry = self._entry(Derivative(Name("L"), kernel), mark, r, c)
        return [entry_chain, whole], [Note((note,), kind="detail"), entry]

    def grad_biases(self, mark: BackMark):
        k, (o,) = mark.layer, mark.index
        layer = self.network.layers[k]
        if self.samples > MAX_LISTED_SAMPLES:
            return None
        out_shape = layer.output_shape
        _, rows, columns = out_shape
        number = str(k + 1)
        delta_name = channel_of(Name("δ", number), out_shape, o)
        symbol: Expr = Call("sum", (delta_name,))
        sums = [
            Call(
                "sum",
                (
                    self._matrix(
                        (rows, columns), lambda y, x, s=s: self.work.delta_used(k, (o * rows + y) * columns + x, s)
                    ),
                ),
            )
            for s in range(self.samples)
        ]
        symbol, numbers = self._over_samples(symbol, sums)
        bias = Name("b", number) if layer.out_channels == 1 else Index(Name("b", number), str(o))
        lhs = Derivative(Name("L"), bias)
        return [checked((lhs, self._signed(symbol), self._signed(numbers), self._expected(mark)), self.p)], []

    # -- the updates ----------------------------------------------------------------------------------

    def weights(self, mark: BackMark):
        if self.grade.settings.optimizer is not None:
            return None
        k, (o, i, r, c) = mark.layer, mark.index
        layer = self.network.layers[k]
        graded = self.grade.layers[k]
        kh, kw = layer.kernel_size
        number = str(k + 1)
        single = layer.weights.shape[0] * layer.weights.shape[1] == 1
        kernel = Name("K", number) if single else Index(Name("K", number), f"{o},{i}")
        first = (o * layer.weights.shape[1] + i) * kh * kw
        old = self._matrix(
            (kh, kw), lambda y, x: written(layer.weight_text[o][i][y][x], float(layer.weights[o, i, y, x]))
        )
        gradient = self._matrix(
            (kh, kw),
            lambda y, x: Num(
                float(graded.grad_weights_used[o, i, y, x]), _text(graded.grad_weights[first + y * kw + x])
            ),
        )
        result = self._matrix((kh, kw), lambda y, x: self._expected(graded.weights[first + y * kw + x]))
        primed = Name("K", number, "prime") if single else Index(Name("K", number, "prime"), f"{o},{i}")
        symbols = Sum((kernel, Neg(Product((Name("η"), Derivative(Name("L"), kernel))))))
        numbers = Sum((old, Neg(Product((Num(self.grade.settings.lr), gradient)))))
        return [checked((primed, symbols, numbers, result), self.p)], [self._entry(primed, mark, r, c)]

    def biases(self, mark: BackMark):
        return None  # one number per out channel: the value-by-value step is the whole of it


def _text(mark: BackMark) -> str | None:
    return mark.given.text if mark.given is not None else None
