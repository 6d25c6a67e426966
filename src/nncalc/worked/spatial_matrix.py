"""Convolution, pooling and flatten in the matrix form (``--steps matrix``): windows and kernels as matrices.

A convolution's cell is the window it reads times the kernel, element by element, summed, plus
the bias, as courses write it (and NumPy: ``(X[0:3,0:3] * K).sum() + b``)::

    Z_1[0,0] = sum(X[0:3,0:3] ⊙ K_1) + b_1 = sum([window] ⊙ [kernel]) + 0 = 0

with one ``sum(…)`` per input channel where there are several; then each output map at once,
the activation applied element-wise, ``A_1 = ReLU(Z_1) = ReLU([…]) = […]``. A pooling cell is
``A_2[0,0] = max(A_1[0:2,0:2]) = max([…]) = 7`` (an average ``sum(…) / 4``), then the pooled
map as a matrix; a flatten is ``a_3 = flatten(A_2) = flatten([…]) = […]`` (the maps left out when
side by side they would be too wide for a line), its order stated, and
the dense layers after it are written as ``nncalc.worked.matrix`` writes them (``z_4 = W_4 · a_3 + b_4``).

Names follow the dense matrix form: layers numbered from 1, the image ``X``, a layer's maps ``Z_l``
and ``A_l`` (``Z_l[c]`` for map c of several), its kernel ``K_l`` (``K_l[o,c]``: output map o, input
channel c), its bias ``b_l``; a window is named by its rows and columns, the end left out as in
Python (``0:3`` is rows 0 to 2). Where a convolution pads, the window is one of the padded input
``pad(X)``, numbered from its corner; a max leaves the padding out and names the cells it reads.

Which cells are worked follows ``nncalc.worked.spatial``: every cell of a small map (``--steps``),
the first of each map where the layer is large, whose matrices are elided in the middle as the
dense matrix form elides them (``--all`` writes them whole).

Nothing is computed here: every z and a is the trace's, every weight and bias as the file wrote it,
windows picked from the layer's input by index; ``=`` or ``≈`` is decided by
:func:`nncalc.worked.matrix.checked` from the shown numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc.document import Step, Steps
from nncalc.engine import Trace
from nncalc.expr import Call, Chain, Expr, Frac, Index, Matrix, Name, Num, Product, Sigma, total
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten
from nncalc.worked import View
from nncalc.worked.forward import activation_of_shown, received
from nncalc.worked.matrix import applied_to, checked, grid
from nncalc.worked.numbers import shown_by, signed_term
from nncalc.worked.spatial import ZERO, cell_label, kernel_number, window_cells

MAX_FLATTENED_COLUMNS = 8  # columns of the maps, side by side, that a flatten writes out on its one line
MAX_CHANNEL_TERMS = (
    3  # beyond this many input channels, a cell is written with Σᵢ over them (i: the channel), its matrices left out
)


def matrix_blocks(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, view: View, cells: str
) -> list:
    """The worked part of a spatial layer in the matrix form: its cells ("all", or the "first" of
    each map, as ``nncalc.worked.spatial`` decides), then its maps at once."""
    layer = network.layers[index]
    inputs = received(network, trace, index, sample, texts)
    if isinstance(layer, Flatten):
        return [flatten_steps(network, trace, index, sample, inputs, view)]
    if isinstance(layer, Conv2d):
        return conv_steps(network, trace, index, sample, inputs, view, cells)
    return pool_steps(network, trace, index, sample, inputs, view, cells)


# -- names ------------------------------------------------------------------------------------------


def map_name(network: Network, index: int) -> Name:
    """What layer ``index`` (0-based) receives, as maps: the image X, else the previous layer's A."""
    return Name("X") if index == 0 else Name("A", str(index))


def channel_of(name: Expr, shape: tuple[int, ...], channel: int) -> Expr:
    """``A_1`` where a layer has one map, ``A_1[2]`` for map 2 of several."""
    return name if shape[0] == 1 else Index(name, str(channel))


def _where(shape: tuple[int, ...], channel: int, rows: str) -> str:
    """A position in a (C, H, W) map: ``0:3,0:3``, or ``1,0:3,0:3`` in channel 1 of several."""
    return rows if shape[0] == 1 else f"{channel},{rows}"


def _cell_index(shape: tuple[int, ...], flat: int) -> str:
    return cell_label(shape, flat)[1:-1]


def _slices(top: int, left: int, height: int, width: int) -> str:
    return f"{top}:{top + height},{left}:{left + width}"


def _cells(shape: tuple[int, ...], cells: str) -> list[tuple[int, int]]:
    _, height, width = shape
    return [(0, 0)] if cells == "first" else [(r, k) for r in range(height) for k in range(width)]


def map_matrix(values: Sequence[Expr], shape: tuple[int, ...], channel: int, view: View) -> Matrix:
    """Channel ``channel`` of a (C, H, W) map whose values are in flatten order, as a matrix."""
    _, height, width = shape
    start = channel * height * width
    return grid((height, width), lambda r, k: values[start + r * width + k], view.all_rows)


def window_matrix(cells: list[list[Expr | None]], view: View) -> Matrix:
    return grid((len(cells), len(cells[0])), lambda r, k: cells[r][k], view.all_rows)  # type: ignore[return-value]


# -- convolution ------------------------------------------------------------------------------------


def conv_steps(
    network: Network, trace: Trace, index: int, sample: int, inputs: Sequence[Expr], view: View, cells: str
) -> list:
    """Per output map: each worked cell (window ⊙ kernel, summed, plus the bias), then ``A = f(Z)`` at once."""
    layer = network.layers[index]
    assert isinstance(layer, Conv2d)
    shape = layer.output_shape
    _, height, width = shape
    z = trace.layers[index].z[sample]
    zs = [Num(float(v)) for v in z]
    activations = [Num(float(v)) for v in trace.layers[index].a[sample]]
    exact = activation_of_shown(layer.activation, [shown_by(view.precision)(v) for v in zs])
    number = str(index + 1)
    blocks: list = []
    for c in range(shape[0]):
        items = []
        for row, column in _cells(shape, cells):
            flat = c * height * width + row * width + column
            items.append(Step((conv_cell(network, index, inputs, c, row, column, zs[flat], view),)))
        z_map, a_map = map_matrix(zs, shape, c, view), map_matrix(activations, shape, c, view)
        z_name = channel_of(Name("Z", number), shape, c)
        applied = applied_to(layer.activation, z_name, z_map)  # type: ignore[arg-type]
        worked = None
        if exact is not None and np.all(np.isfinite(exact)):
            start = c * height * width
            worked = np.array([[float(v)] for v in exact[start : start + height * width]], dtype=object)
            worked = worked.reshape(height, width)
        if len(applied) == 1:  # the identity: A = Z, written out once
            parts: tuple[Expr, ...] = (channel_of(Name("A", number), shape, c), z_name, a_map)
        else:
            parts = (channel_of(Name("A", number), shape, c), *applied, a_map)
        items.append(Step((checked(parts, view.precision, worked),)))
        blocks.append(Steps(tuple(items)))
    return blocks


def conv_cell(
    network: Network, index: int, inputs: Sequence[Expr], out: int, row: int, column: int, z: Num, view: View
) -> Chain:
    """``Z_1[0,0] = sum(X[0:3,0:3] ⊙ K_1) + b_1 = sum([…] ⊙ […]) + 0 = 0``: per input channel, the
    window of the (padded) input beside the kernel that weighs it."""
    layer = network.layers[index]
    assert isinstance(layer, Conv2d)
    channels, _, _ = layer.input_shape
    kh, kw = layer.kernel_size
    (sh, sw), (ph, pw) = layer.stride, layer.padding
    number = str(index + 1)
    source: Expr = map_name(network, index)
    if ph or pw:
        source = Call("pad", (source,))
    rows = _slices(row * sh, column * sw, kh, kw)  # in the padded input's numbering
    kernel = Name("K", number)
    bias_shown = layer.layout.biases != "absent" or layer.biases[out] != 0
    bias_name: Expr = Name("b", number) if layer.out_channels == 1 else Index(Name("b", number), str(out))
    _, height, width = layer.output_shape
    lhs = Index(Name("Z", number), _cell_index(layer.output_shape, (out * height + row) * width + column))

    def kernel_of(c: int) -> Expr:
        return kernel if channels == 1 and layer.out_channels == 1 else Index(kernel, f"{out},{c}")

    def window_of(c: int) -> Expr:
        return Index(source, _where(layer.input_shape, c, rows))

    if channels > MAX_CHANNEL_TERMS:
        each = Product((Index(source, f"i,{rows}"), Index(kernel, f"{out},i")), "⊙")  # i: the input channel
        body = Sigma("i", Call("sum", (each,)))
        return Chain((lhs, total([body, bias_name] if bias_shown else [body]), z), ("=", "="))
    symbols: list[Expr] = [Call("sum", (Product((window_of(c), kernel_of(c)), "⊙"),)) for c in range(channels)]
    written: list[Expr] = []
    for c in range(channels):
        window = window_matrix(window_cells(layer, inputs, c, row, column, ZERO), view)
        weights = grid((kh, kw), lambda r, k, c=c: kernel_number(layer, out, c, r, k), view.all_rows)
        written.append(Call("sum", (Product((window, weights), "⊙"),)))
    if bias_shown:
        symbols.append(bias_name)
        written.append(signed_term(layer.bias_text[out], float(layer.biases[out])))
    return checked((lhs, total(symbols), total(written), z), view.precision)


# -- pooling ----------------------------------------------------------------------------------------


def pool_steps(
    network: Network, trace: Trace, index: int, sample: int, inputs: Sequence[Expr], view: View, cells: str
) -> list:
    """Per map: each worked window, ``max([…])`` or ``sum([…]) / n``, then the pooled map as a matrix."""
    layer = network.layers[index]
    shape = layer.output_shape
    _, height, width = shape
    values = [Num(float(v)) for v in trace.layers[index].a[sample]]
    number = str(index + 1)
    kind = "maxpool" if layer.mode == "max" else "avgpool"  # type: ignore[attr-defined]
    blocks: list = []
    for c in range(shape[0]):
        items = []
        for row, column in _cells(shape, cells):
            flat = c * height * width + row * width + column
            items.append(Step((pool_cell(network, index, inputs, c, row, column, values[flat], view),)))
        name = channel_of(Name("A", number), shape, c)
        source = channel_of(map_name(network, index), layer.input_shape, c)
        items.append(Step((Chain((name, Call(kind, (source,)), map_matrix(values, shape, c, view)), ("=", "=")),)))
        blocks.append(Steps(tuple(items)))
    return blocks


def pool_cell(
    network: Network, index: int, inputs: Sequence[Expr], channel: int, row: int, column: int, a: Num, view: View
) -> Chain:
    """``A_2[0,0] = max(A_1[0:2,0:2]) = max([…]) = 7``, or ``sum(…) / 4`` for an average.

    A max leaves the padding out (it never wins), so its window is the cells it reads; an average
    counts the padding as zeros and divides by the whole window (PyTorch's ``count_include_pad``)."""
    layer = network.layers[index]
    kh, kw = layer.kernel_size  # type: ignore[attr-defined]
    (sh, sw), (ph, pw) = layer.stride, layer.padding  # type: ignore[attr-defined]
    number = str(index + 1)
    shape = layer.output_shape
    lhs = Index(Name("A", number), _cell_index(shape, (channel * shape[1] + row) * shape[2] + column))
    source: Expr = map_name(network, index)
    if layer.mode == "max":  # type: ignore[attr-defined]
        window = window_cells(layer, inputs, channel, row, column, None)
        kept = [[cell for cell in line if cell is not None] for line in window]
        kept = [line for line in kept if line]
        top, left = max(row * sh - ph, 0), max(column * sw - pw, 0)
        symbol = Index(source, _where(layer.input_shape, channel, _slices(top, left, len(kept), len(kept[0]))))
        return checked((lhs, Call("max", (symbol,)), Call("max", (window_matrix(kept, view),)), a), view.precision)  # type: ignore[arg-type]
    if ph or pw:
        source = Call("pad", (source,))
    symbol = Index(source, _where(layer.input_shape, channel, _slices(row * sh, column * sw, kh, kw)))
    size = Num(float(kh * kw), str(kh * kw))
    cells = window_matrix(window_cells(layer, inputs, channel, row, column, ZERO), view)
    return checked((lhs, Frac(Call("sum", (symbol,)), size), Frac(Call("sum", (cells,)), size), a), view.precision)


# -- flatten ----------------------------------------------------------------------------------------


def flatten_steps(network: Network, trace: Trace, index: int, sample: int, inputs: Sequence[Expr], view: View) -> Steps:
    """``a_3 = flatten(A_2) = flatten([…]) = […]``: the maps, channel by channel, become one column."""
    layer = network.layers[index]
    assert isinstance(layer, Flatten)
    shape = layer.input_shape
    a = trace.layers[index].a[sample]
    column = grid((len(a), 1), lambda r, _: Num(float(a[r])), view.all_rows)
    source = map_name(network, index)
    parts: list[Expr] = [Name("a", str(index + 1)), Call("flatten", (source,))]
    matrices = tuple(map_matrix(inputs, shape, c, view) for c in range(shape[0]))
    if sum(len(matrix.rows[0]) for matrix in matrices) <= MAX_FLATTENED_COLUMNS:  # else one line is too wide
        parts.append(Call("flatten", matrices))
    parts.append(column)
    return Steps((Step((Chain(tuple(parts), ("=",) * (len(parts) - 1)),)),))
