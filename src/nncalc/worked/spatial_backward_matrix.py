"""Convolution, pooling and flatten in the backward pass's matrix form (``backward --steps matrix``).

As a person writes one image's backward pass with matrices, each map a matrix per channel:

- a convolution: ``δ_1 = ∂L/∂A_1 ⊙ f′(Z_1) = […] ⊙ […] = […]``; its kernel's gradient as the
  sum of the input's windows, each weighed by the δ of the cell it made,
  ``∂L/∂K_1 = Σ_{r,k} δ_1[r,k] · X[r:r+3,k:k+3] = 0 · […] + 0.1999 · […] + … = […]`` (the
  cross-correlation of the input with δ; ``1/m · Σ_s`` over a batch's samples); its bias's
  ``∂L/∂b_1 = sum(δ_1) = sum([…]) = …``; the update ``K′_1 = K_1 − η · ∂L/∂K_1 = […] − 0.1 · […]
  = […]`` and ``b′_1`` the same; and what it passes down, the transposed convolution,
  ``∂L/∂A_0 = conv_transpose(δ_1, K_1) = […]``, stated with its result;
- a pooling: ``δ_2 = ∂L/∂A_2 = […]`` (a = z), and what it passes down as the sum over its
  windows of δ times the window's mask, ``∂L/∂A_1 = Σ_{r,k} δ_2[r,k] · M_{r,k} = 0.1999 · […] + …
  = […]``: M_{r,k} the input-sized matrix with a 1 in the cell that held window (r,k)'s max
  (for an average, M_{r,k} holds ``1/4``, each cell's share, in every cell of the window);
- a flatten: ``δ_3 = W_4ᵀ · δ_4 = […] · […] = […]``, then ``∂L/∂A_2 = unflatten(δ_3) = […]``,
  the column folded back into the maps.

Names follow the forward matrix form (``nncalc.worked.spatial_matrix``): layers from 1, the
image X, maps ``A_l[c]`` for channel c of several, kernels ``K_l[o,c]``. The maps are the first
sample's (a note says so for a batch); the kernel's and bias's gradients are the batch's mean.
Matrices longer than the page are elided in the middle as the dense matrix form elides them
(``--all`` writes them whole); a sum of more than ``MAX_TERMS`` matrices is written with Σ alone.

Nothing is computed here: every δ, f′(z), ∂L/∂A, gradient and updated weight is the backward
result's, every input cell the trace's, each max-pooling window's winner the engine's
(:func:`nncalc.convolution.max_pool_winners`); ``=`` or ``≈`` is checked from the shown numbers by
:func:`nncalc.worked.matrix.checked`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nncalc.backprop import BackwardResult
from nncalc.convolution import max_pool_winners
from nncalc.document import Note, Step, Steps
from nncalc.expr import Call, Chain, Derivative, Expr, Frac, Index, Matrix, Name, Neg, Num, Product, Sigma, Sum
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten
from nncalc.worked import View
from nncalc.worked.forward import received
from nncalc.worked.matrix import MAX_LISTED_SAMPLES, checked, column_of, grid, transpose_of, weight_matrix
from nncalc.worked.numbers import written
from nncalc.worked.spatial import ZERO, window_cells
from nncalc.worked.spatial_matrix import channel_of, map_matrix, map_name, window_matrix

MAX_TERMS = 16  # beyond this many matrices (windows, over the samples), a sum is written with Σ alone
ONE = Num(1.0, "1")

KERNEL_GRADIENT = (
    "∂L/∂K: each window of the input times the δ of the cell it made, summed over the map "
    "(the cross-correlation of the input with δ); ∂L/∂b: the sum of δ"
)
TRANSPOSED_CONVOLUTION = (
    "conv_transpose(δ, K): each cell of δ times the kernel, added into the window of the input it was "
    "computed from (PyTorch's conv_transpose2d"
)
MAX_MASK = (
    "M_r,k: 1 in the cell of the input that held window (r,k)'s max (the first in row order on a tie), "
    "0 elsewhere; a cell that is the max of several windows gets the sum of their δ"
)
AVG_MASK = (
    "M_r,k: 1/(kh·kw) in every cell of window (r,k) inside the map, its share of the window's δ, "
    "0 elsewhere (the padding's shares are dropped); a cell in several windows gets the sum of their shares"
)


def spatial_backward_matrix(network: Network, result: BackwardResult, index: int, view: View) -> list:
    """A spatial layer's backward pass in matrices: its δ, a convolution's gradients and update,
    and what it passes down to the layer below."""
    layer = network.layers[index]
    samples = result.layers[index].delta.shape[0]
    blocks: list = []
    if samples > 1:
        text = f"the maps of sample 1 of {samples} (the others are worked the same way)"
        if isinstance(layer, Conv2d):
            text += f"; the gradients are the mean over the {samples} samples"
        blocks.append(Note((text,), kind="detail"))
    if isinstance(layer, Conv2d):
        blocks.extend(_Conv(network, result, index, view).blocks())
    elif isinstance(layer, Flatten):
        blocks.extend(_flatten(network, result, index, view))
    else:
        blocks.extend(_pooling(network, result, index, view))
    return blocks


def _numbers(values: np.ndarray) -> list[Expr]:
    return [Num(float(v)) for v in values]


def _mean(samples: int) -> Frac:
    return Frac(Num(1.0), Num(float(samples)))


def _delta_name(network: Network, index: int, channel: int) -> Expr:
    return channel_of(Name("δ", str(index + 1)), network.layers[index].output_shape, channel)


def _passed_name(network: Network, index: int, channel: int) -> Expr:
    """``∂L/∂X`` or ``∂L/∂A_1[c]``: the gradient of what layer ``index`` received, map ``channel``."""
    return Derivative(Name("L"), channel_of(map_name(network, index), network.layers[index].input_shape, channel))


def _delta_chain(network: Network, result: BackwardResult, index: int, channel: int, view: View) -> Chain:
    """``δ_1 = ∂L/∂A_1 ⊙ f′(Z_1) = […] ⊙ […] = […]``; ``δ_2 = ∂L/∂A_2 = […]`` without an activation."""
    layer = network.layers[index]
    grads = result.layers[index]
    shape = layer.output_shape
    number = str(index + 1)
    lhs = _delta_name(network, index, channel)
    delta = map_matrix(_numbers(grads.delta[0]), shape, channel, view)
    if grads.upstream is None:  # the output layer: δ from the loss
        return Chain((lhs, delta), ("=",))
    above = Derivative(Name("L"), channel_of(Name("A", number), shape, channel))
    if not layer.has_activation or layer.activation.name == "identity":
        return Chain((lhs, above, delta), ("=", "="))
    passed = map_matrix(_numbers(grads.upstream[0]), shape, channel, view)
    derivative = map_matrix(_numbers(grads.derivative[0]), shape, channel, view)
    symbols = Product((above, Call("f′", (channel_of(Name("Z", number), shape, channel),))), "⊙")
    return checked((lhs, symbols, Product((passed, derivative), "⊙"), delta), view.precision)


def _offset(stride: int, var: str) -> str:
    return var if stride == 1 else f"{stride}{var}"


class _Conv:
    """A convolution's steps: δ per output map, ∂L/∂K per kernel, ∂L/∂b, the update, ∂L/∂A below."""

    def __init__(self, network: Network, result: BackwardResult, index: int, view: View):
        self.network, self.result, self.index, self.view = network, result, index, view
        self.layer = network.layers[index]
        assert isinstance(self.layer, Conv2d)
        self.grads = result.layers[index]
        self.samples = self.grads.delta.shape[0]
        self.number = str(index + 1)
        self.single = self.layer.out_channels == 1 and self.layer.input_shape[0] == 1

    def _matrix(self, shape: tuple[int, int], cell: Callable[[int, int], Expr]) -> Matrix:
        return grid(shape, cell, self.view.all_rows)

    def kernel(self, out: int, channel: int, mark: str = "") -> Expr:
        name = Name("K", self.number, mark)
        return name if self.single else Index(name, f"{out},{channel}")

    def bias(self, out: int) -> Expr:
        return Name("b", self.number) if self.layer.out_channels == 1 else Index(Name("b", self.number), str(out))

    def blocks(self) -> list:
        layer = self.layer
        channels = layer.input_shape[0]
        outs = range(layer.out_channels)
        pairs = [(o, c) for o in outs for c in range(channels)]
        deltas = [Step((_delta_chain(self.network, self.result, self.index, o, self.view),)) for o in outs]
        gradients = [Step((self.kernel_gradient(o, c),)) for o, c in pairs]
        biases = [Step((self.bias_gradient(o),)) for o in outs]
        updates = [*(self.kernel_update(o, c) for o, c in pairs), self.bias_update()]
        blocks: list = [  # each a block of its own, aligned on its own left-hand sides
            Steps(tuple(deltas)),
            Steps(tuple(gradients)),
            Steps(tuple(biases)),
            Note((KERNEL_GRADIENT,), kind="detail"),
            Steps(tuple(updates)),
        ]
        if self.index > 0:  # what the layer below receives
            blocks.append(Steps(tuple(Step((self.passed_down(c),)) for c in range(channels))))
            (sh, sw), (ph, pw) = layer.stride, layer.padding
            how = f" with stride {sh}×{sw}" if (sh, sw) != (1, 1) else ""
            how += f", padding {ph}×{pw} cut off" if (ph, pw) != (0, 0) else ""
            if (sh, sw, ph, pw) == (1, 1, 0, 0):
                how = "; with stride 1 the full convolution of δ with the kernel turned by 180°"
            blocks.append(Note((f"{TRANSPOSED_CONVOLUTION}){how}",), kind="detail"))
        return blocks

    def kernel_gradient(self, out: int, channel: int) -> Chain:
        """``∂L/∂K_1 = Σ_{r,k} δ_1[r,k] · X[r:r+3,k:k+3] = 0 · […] + … = […]``: every window of the
        input weighed by the δ of the cell it made, summed (the mean over a batch)."""
        layer = self.layer
        kh, kw = layer.kernel_size
        (sh, sw), (ph, pw) = layer.stride, layer.padding
        out_shape = layer.output_shape
        _, rows, columns = out_shape
        source: Expr = map_name(self.network, self.index)
        if ph or pw:
            source = Call("pad", (source,))
        r_text, k_text = _offset(sh, "r"), _offset(sw, "k")
        where = f"{r_text}:{r_text}+{kh},{k_text}:{k_text}+{kw}"
        if layer.input_shape[0] > 1:
            where = f"{channel},{where}"
        delta = _delta_name(self.network, self.index, out)
        body = Product((Index(delta, "r,k"), Index(source, where)))
        symbols: Expr = Sigma("r,k", body)
        if self.samples > 1:
            symbols = Product((_mean(self.samples), Sigma("s", symbols)))
        lhs = Derivative(Name("L"), self.kernel(out, channel))
        gradient = self._matrix((kh, kw), lambda y, x: Num(float(self.grads.grad_weights[out, channel, y, x])))
        if self.samples * rows * columns > MAX_TERMS or self.samples > MAX_LISTED_SAMPLES:
            return Chain((lhs, symbols, gradient), ("=", "="))
        terms: list[Expr] = []
        for s in range(self.samples):
            inputs = received(self.network, self.result.trace, self.index, s, None)
            for r in range(rows):
                for k in range(columns):
                    window = window_matrix(window_cells(layer, inputs, channel, r, k, ZERO), self.view)
                    weight = Num(float(self.grads.delta[s, (out * rows + r) * columns + k]))
                    terms.append(Product((weight, window)))
        numbers: Expr = terms[0] if len(terms) == 1 else Sum(tuple(terms))
        if self.samples > 1:
            numbers = Product((_mean(self.samples), numbers))
        return checked((lhs, symbols, numbers, gradient), self.view.precision)

    def bias_gradient(self, out: int) -> Chain:
        """``∂L/∂b_1 = sum(δ_1) = sum([…]) = …`` (the mean over a batch)."""
        shape = self.layer.output_shape
        symbols: Expr = Call("sum", (_delta_name(self.network, self.index, out),))
        lhs = Derivative(Name("L"), self.bias(out))
        gradient = Num(float(self.grads.grad_biases[out]))
        if self.samples > 1:
            symbols = Product((_mean(self.samples), Sigma("s", symbols)))
        _, rows, columns = shape
        if self.samples > 1 and self.samples * rows * columns > MAX_TERMS:  # the maps side by side would not fit
            return Chain((lhs, symbols, gradient), ("=", "="))
        sums = [
            Call("sum", (map_matrix(_numbers(self.grads.delta[s]), shape, out, self.view),))
            for s in range(self.samples)
        ]
        numbers: Expr = sums[0] if len(sums) == 1 else Product((_mean(self.samples), Sum(tuple(sums))))
        return checked((lhs, symbols, numbers, gradient), self.view.precision)

    def kernel_update(self, out: int, channel: int) -> Step:
        """``K′_1 = K_1 − η · ∂L/∂K_1 = […] − 0.1 · […] = […]``; an optimizer's result alone."""
        layer = self.layer
        kh, kw = layer.kernel_size
        new = self._matrix((kh, kw), lambda y, x: Num(float(self.grads.weights[out, channel, y, x])))
        primed = self.kernel(out, channel, "prime")
        if self.result.optimizer is not None:
            return Step((Chain((primed, new), ("=",)),), after=(" (the optimizer's step)",))
        old = self._matrix(
            (kh, kw),
            lambda y, x: written(layer.weight_text[out][channel][y][x], float(layer.weights[out, channel, y, x])),
        )
        gradient = self._matrix((kh, kw), lambda y, x: Num(float(self.grads.grad_weights[out, channel, y, x])))
        kernel = self.kernel(out, channel)
        symbols = Sum((kernel, Neg(Product((Name("η"), Derivative(Name("L"), kernel))))))
        numbers = Sum((old, Neg(Product((Num(self.result.lr), gradient)))))
        return Step((checked((primed, symbols, numbers, new), self.view.precision),))

    def bias_update(self) -> Step:
        """``b′_1 = b_1 − η · ∂L/∂b_1`` with the biases as a column (one entry per output map)."""
        layer = self.layer
        count = layer.out_channels
        name, primed = Name("b", self.number), Name("b", self.number, "prime")
        old = self._matrix((count, 1), lambda r, _: written(layer.bias_text[r], float(layer.biases[r])))
        new = column_of(self.grads.biases, self.view)
        if self.result.freeze_biases:
            return Step((Chain((primed, name, old), ("=", "=")),), after=(" (biases frozen)",))
        if self.result.optimizer is not None:
            return Step((Chain((primed, new), ("=",)),), after=(" (the optimizer's step)",))
        gradient = column_of(self.grads.grad_biases, self.view)
        symbols = Sum((name, Neg(Product((Name("η"), Derivative(Name("L"), name))))))
        numbers = Sum((old, Neg(Product((Num(self.result.lr), gradient)))))
        return Step((checked((primed, symbols, numbers, new), self.view.precision),))

    def passed_down(self, channel: int) -> Chain:
        """``∂L/∂A_1[c] = Σ_o conv_transpose(δ_2[o], K_2[o,c]) = […]``: the layer below's ∂L/∂A."""
        layer = self.layer
        below = self.result.layers[self.index - 1].upstream
        assert below is not None
        delta = Name("δ", self.number)
        if layer.out_channels == 1:
            symbols: Expr = Call("conv_transpose", (delta, self.kernel(0, channel)))
        else:
            kernel = Index(Name("K", self.number), f"o,{channel}")
            symbols = Sigma("o", Call("conv_transpose", (Index(delta, "o"), kernel)))
        result = map_matrix(_numbers(below[0]), layer.input_shape, channel, self.view)
        return Chain((_passed_name(self.network, self.index, channel), symbols, result), ("=", "="))


# -- pooling ----------------------------------------------------------------------------------------


def _pooling(network: Network, result: BackwardResult, index: int, view: View) -> list:
    """δ per map (a = z), then what each map passes down: each window's δ into its mask, summed."""
    layer = network.layers[index]
    channels = layer.output_shape[0]
    blocks: list = [Steps(tuple(Step((_delta_chain(network, result, index, c, view),)) for c in range(channels)))]
    if index == 0:
        return blocks
    blocks.append(Steps(tuple(Step((_pool_passed(network, result, index, c, view),)) for c in range(channels))))
    blocks.append(Note((MAX_MASK if layer.mode == "max" else AVG_MASK,), kind="detail"))  # type: ignore[attr-defined]
    return blocks


def _pool_passed(network: Network, result: BackwardResult, index: int, channel: int, view: View) -> Chain:
    """``∂L/∂A_1 = Σ_{r,k} δ_2[r,k] · M_{r,k} = 0.1999 · […] + … = […]``, ``δ_2[r,k]/4 · M_{r,k}`` for an average."""
    layer = network.layers[index]
    kh, kw = layer.kernel_size  # type: ignore[attr-defined]
    (sh, sw), (ph, pw) = layer.stride, layer.padding  # type: ignore[attr-defined]
    _, height, width = layer.input_shape
    _, rows, columns = layer.output_shape
    grads = result.layers[index]
    delta = _delta_name(network, index, channel)
    is_max = layer.mode == "max"  # type: ignore[attr-defined]
    share = ONE if is_max else Num(1 / (kh * kw), f"1/{kh * kw}")  # what a cell of the window gets
    symbols = Sigma("r,k", Product((Index(delta, "r,k"), Name("M", "r,k"))))
    below = result.layers[index - 1].upstream
    assert below is not None
    lhs = _passed_name(network, index, channel)
    answer = map_matrix(_numbers(below[0]), layer.input_shape, channel, view)
    if rows * columns > MAX_TERMS:
        return Chain((lhs, symbols, answer), ("=", "="))
    if is_max:
        received_maps = result.trace.activations(index)[:1]
        winners = max_pool_winners(received_maps, layer.input_shape, layer.kernel_size, layer.stride, layer.padding)  # type: ignore[attr-defined]

    def inside(r: int, k: int) -> Callable[[int, int], bool]:
        if is_max:
            i, j = divmod(int(winners[0, channel, r, k]), kw)
            return lambda y, x: (y, x) == (r * sh - ph + i, k * sw - pw + j)
        top, left = r * sh - ph, k * sw - pw
        return lambda y, x: top <= y < top + kh and left <= x < left + kw

    terms: list[Expr] = []
    for r in range(rows):
        for k in range(columns):
            value = Num(float(grads.delta[0, (channel * rows + r) * columns + k]))
            held = inside(r, k)
            mask = grid((height, width), lambda y, x, held=held: share if held(y, x) else ZERO, view.all_rows)
            terms.append(Product((value, mask)))
    numbers = terms[0] if len(terms) == 1 else Sum(tuple(terms))
    return checked((lhs, symbols, numbers, answer), view.precision)


# -- flatten ----------------------------------------------------------------------------------------


def _flatten(network: Network, result: BackwardResult, index: int, view: View) -> list:
    """``δ_3 = W_4ᵀ · δ_4 = […] · […] = […]`` (a dense layer above), then the column folded into maps."""
    layer = network.layers[index]
    assert isinstance(layer, Flatten)
    grads = result.layers[index]
    number = str(index + 1)
    lhs = Name("δ", number)
    column = column_of(grads.delta[0], view)
    above = index + 1
    if above < len(network.layers) and network.layers[above].dense:
        symbols = Product((transpose_of(Name("W", str(above + 1))), Name("δ", str(above + 1))))
        numbers = Product(
            (weight_matrix(network, above, view, transposed=True), column_of(result.layers[above].delta[0], view))
        )
        first = checked((lhs, symbols, numbers, column), view.precision)
    elif grads.upstream is not None:
        first = Chain((lhs, Derivative(Name("L"), Name("a", number)), column), ("=", "="))
    else:
        first = Chain((lhs, column), ("=",))
    items = [Step((first,))]
    if index > 0:
        shape = layer.input_shape
        values = _numbers(grads.delta[0])
        for c in range(shape[0]):
            folded: Expr = Call("unflatten", (lhs,))
            if shape[0] > 1:
                folded = Index(folded, str(c))
            items.append(
                Step(
                    (Chain((_passed_name(network, index, c), folded, map_matrix(values, shape, c, view)), ("=", "=")),)
                )
            )
    blocks: list = [Steps(tuple(items))]
    if index > 0:
        order = "channels, then rows, then columns" if layer.input_shape[0] > 1 else "rows, then columns"
        blocks.append(
            Note((f"unflatten: the column read back into the maps in the flatten order ({order})",), kind="detail")
        )
    return blocks
