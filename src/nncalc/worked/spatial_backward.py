"""A gradient-descent step through convolution, pooling and flatten, worked as maps.

Each spatial layer's δ is a grid per channel (beside f′(z) for a convolution with an
activation), per sample; a convolution's kernel gradient beside its updated kernel, a grid
per (output, input) channel pair, and its biases in a table. With steps, one δ cell by the
chain rule (``δ = ∂L/∂a · f′(z)``, ∂L/∂a as the layer above passed it down), the first kernel
weight's gradient is written out as the sum it is, ``∂L/∂w[0,0,0,0] = Σ δ[r,k] · x[r,k]
= 0.5 · 2 + … = 1.25``, with its update, and the first bias's; a note says how δ reaches
the layer below (the cell that won a max, an equal share of an average, the transposed
convolution), the rule each δ map follows.
With ``--steps matrix`` those steps are written with matrices instead, a map or a kernel at
once (``nncalc.worked.spatial_backward_matrix``).

Nothing is computed here: every δ, f′(z), gradient and updated weight is the backward
result's; every input cell the trace's, picked by index (padding is the zero the
convolution's definition puts there).
"""

from __future__ import annotations

from nncalc.backprop import BackwardResult
from nncalc.document import Column, Grid, Grids, Heading, Note, Step, Steps, Table
from nncalc.expr import Chain, Derivative, Expr, Frac, Name, Num, Product, Sigma, call, total
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten
from nncalc.worked import View
from nncalc.worked.backward import minus, times
from nncalc.worked.forward import LARGE_LAYER, layer_title, received
from nncalc.worked.numbers import checked, written
from nncalc.worked.spatial import CONV_TERMS, ZERO, grid_columns, map_blocks, map_title

RULES = {
    "conv2d": (
        "δ = f′(z) ⊙ the gradient the layer above passes down; ∂L/∂w sums δ times the cell each "
        "weight covered over every position of the map (the mean over samples), ∂L/∂b sums δ; "
        "the layer below gets δ spread back through the kernel (a transposed convolution)"
    ),
    "maxpool2d": (
        "a = z, so δ is the gradient from above; the layer below gets each window's δ in the cell "
        "that held the window's max (the first in row order on a tie) and 0 elsewhere"
    ),
    "avgpool2d": (
        "a = z, so δ is the gradient from above; the layer below gets δ/(kh·kw) in every cell of "
        "each window (padding included), a cell in several windows the sum of their shares"
    ),
    "flatten": "δ is the layer above's, folded back into maps in the flatten order for the layer below",
}


def spatial_backward_blocks(network: Network, result: BackwardResult, index: int, view: View, show_steps: bool) -> list:
    """One spatial layer's backward pass: the rule, its δ maps per sample, a convolution's gradients and update."""
    layer = network.layers[index]
    grads = result.layers[index]
    p = view.precision
    blocks: list = [Heading(3, layer_title(network, index, "backward: ")), Note((RULES[layer.kind],), kind="detail")]
    if layer.n_neurons > LARGE_LAYER and not view.all_rows:
        blocks.append(Note((f"{layer.n_neurons} values: δ, gradients and updates in --format json",), kind="detail"))
    else:
        blocks.extend(_delta_maps(layer, grads, p))
    matrices = show_steps and view.form == "matrix"
    if isinstance(layer, Conv2d):
        if show_steps and not matrices and grads.upstream is not None:
            blocks.append(_delta_step(layer, grads, p))
        blocks.extend(_kernel_blocks(layer, result, index, p))
        if show_steps and not matrices:
            blocks.append(_gradient_steps(network, result, index, p))
    if matrices:  # the maps, kernels and what is passed down as matrices
        from nncalc.worked.spatial_backward_matrix import spatial_backward_matrix

        blocks.extend(spatial_backward_matrix(network, result, index, view))
    return blocks


def _delta_step(layer: Conv2d, grads, p: int) -> Steps:
    """One δ cell of the first sample by the chain rule: ``δ[0,1,2] = ∂L/∂a · f′(z) = 0.25 · 1 = 0.25``,
    the first cell whose δ is not 0 (the first cell where all are)."""
    nonzero = [j for j, v in enumerate(grads.delta[0]) if v != 0]
    flat = nonzero[0] if nonzero else 0
    _, height, width = layer.output_shape
    c, rest = divmod(flat, height * width)
    r, k = divmod(rest, width)
    where = f"{c},{r},{k}"
    upstream, derivative = Num(float(grads.upstream[0, flat])), Num(float(grads.derivative[0, flat]))
    symbols = times(Derivative(Name("L"), Name("a", where)), call("f′", Name("z", where)))
    delta = Num(float(grads.delta[0, flat]))
    return Steps((Step((checked((Name("δ", where), symbols, times(upstream, derivative), delta), p),)),))


def _delta_maps(layer, grads, p: int) -> list:
    """Each sample's δ, a grid per channel, beside f′(z) for a convolution with an activation."""
    shape = layer.input_shape if isinstance(layer, Flatten) else layer.output_shape
    samples = grads.delta.shape[0]
    with_derivative = isinstance(layer, Conv2d) and layer.activation.name != "identity"
    blocks: list = []
    for s in range(samples):
        if samples > 1:
            blocks.append(Note((f"sample {s + 1}:",), kind="detail"))
        deltas = [Num(float(v)) for v in grads.delta[s]]
        derivatives = [Num(float(v)) for v in grads.derivative[s]]
        for c in range(shape[0]):
            maps = [(map_title("δ", shape, c), deltas)]
            if with_derivative:
                maps.insert(0, (map_title("f′(z)", shape, c), derivatives))
            blocks.extend(map_blocks(maps, shape, c, p))
    return blocks


def _kernel_title(layer: Conv2d, symbol: str, out: int, channel: int) -> str:
    if layer.out_channels == 1 and layer.input_shape[0] == 1:
        return symbol
    return f"{symbol} [{out},{channel}]"


def _kernel_blocks(layer: Conv2d, result: BackwardResult, index: int, p: int) -> list:
    """Per (output, input) channel pair, ∂L/∂W beside W′; then the biases' gradients and updates."""
    grads = result.layers[index]
    kh, kw = layer.kernel_size
    side_by_side = 2 * kw <= grid_columns(p)
    rows, columns = tuple(map(str, range(kh))), tuple(map(str, range(kw)))
    blocks: list = []
    for out in range(layer.out_channels):
        for c in range(layer.input_shape[0]):
            pair = [
                Grid(
                    (_kernel_title(layer, symbol, out, c),),
                    tuple(tuple(Num(float(values[out, c, r, k])) for k in range(kw)) for r in range(kh)),
                    rows,
                    columns,
                )
                for symbol, values in (("∂L/∂W", grads.grad_weights), ("W′", grads.weights))
            ]
            blocks.extend([Grids(tuple(pair))] if side_by_side else [Grids((grid,)) for grid in pair])
    bias_rows = tuple(
        (
            str(out),
            Num(float(grads.grad_biases[out])),
            written(layer.bias_text[out], float(layer.biases[out])),
            Num(float(grads.biases[out])),
        )
        for out in range(layer.out_channels)
    )
    columns_b = (Column(("map",), numeric=False), Column(("∂L/∂b",)), Column(("b",)), Column(("b′",)))
    blocks.append(Table(columns_b, bias_rows))
    if result.freeze_biases:
        blocks.append(Note(("biases frozen: b′ = b",), kind="detail"))
    return blocks


def _offset(stride: int, shift: int, var: str) -> str:
    """``r``, ``2r``, ``r+1``, ``2r-1``: the input row (or column) that output ``var`` reads at a kernel offset."""
    text = var if stride == 1 else f"{stride}{var}"
    return text if shift == 0 else f"{text}{shift:+d}"


def _gradient_steps(network: Network, result: BackwardResult, index: int, p: int) -> Steps:
    """The first kernel weight's gradient as the sum over the map it is, its update, and the first bias's."""
    layer = network.layers[index]
    assert isinstance(layer, Conv2d)
    grads = result.layers[index]
    samples = grads.delta.shape[0]
    out_shape = layer.output_shape
    _, height, width = layer.input_shape
    _, rows_out, cols_out = out_shape
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    where = "0,0,0,0"
    cell = Name("x", f"{_offset(sh, -ph, 'r')},{_offset(sw, -pw, 'k')}")
    symbols: Expr = Sigma("r,k", times(Name("δ", "r,k"), cell))
    if samples > 1:
        symbols = times(Frac(Num(1.0), Num(float(samples))), Sigma("s", symbols))
    lhs = Derivative(Name("L"), Name("w", where))
    gradient = Num(float(grads.grad_weights[0, 0, 0, 0]))
    if samples == 1 and rows_out * cols_out <= CONV_TERMS:
        inputs = received(network, result.trace, index, 0, None)
        terms = []
        for r in range(rows_out):
            for k in range(cols_out):
                y, x = r * sh - ph, k * sw - pw
                value = inputs[y * width + x] if 0 <= y < height and 0 <= x < width else ZERO
                terms.append(Product((Num(float(grads.delta[0, r * cols_out + k])), value), "·"))
        grad = checked((lhs, symbols, total(terms), gradient), p)
    else:
        grad = Chain((lhs, symbols, gradient), ("=", "="))
    old = written(layer.weight_text[0][0][0][0], float(layer.weights[0, 0, 0, 0]))
    items = [Step((grad,), label="w[0,0,0,0]")]
    if result.optimizer is None:
        new = Num(float(grads.weights[0, 0, 0, 0]))
        items.append(Step((checked((Name("w", mark="prime"), minus(old, Num(result.lr), gradient), new), p),)))
    else:
        items.append(Step((Chain((Name("w", mark="prime"), Num(float(grads.weights[0, 0, 0, 0]))), ("=",)),)))
    bias_symbols: Expr = Sigma("r,k", Name("δ", "0,r,k"))
    if samples > 1:
        bias_symbols = times(Frac(Num(1.0), Num(float(samples))), Sigma("s", bias_symbols))
    bias = Chain((Derivative(Name("L"), Name("b", "0")), bias_symbols, Num(float(grads.grad_biases[0]))), ("=", "="))
    items.append(Step((bias,), label="b[0]"))
    return Steps(tuple(items))
