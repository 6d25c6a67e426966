"""Convolution, pooling and flatten worked out as on paper: maps as grids, a cell's sum beside its window.

For a convolution, each output map's z and a are grids side by side, and a cell is worked
as a person writes it: the window of the input it reads, beside the kernel, then
``z = 1 × 1 + 0 × 2 + (−1) × 0 + … + 0.5 = 2.5`` and ``a = max(0, 2.5) = 2.5``. For a
pooling layer, each map is a grid and a cell is ``a = max(2.5, 0, 1.5, 0) = 2.5`` or
``a = (2.5 + 0 + 1.5 + 0) / 4 = 1``, then the rows and columns of its window. A
flatten lists which cell becomes which value. An image input is shown as a grid per channel.

The first cell of each map is worked by default, every cell with ``--steps``, none with
``--no-steps``. ``--steps matrix`` writes the cells with the window and the kernel as matrices
instead, and each map at once (``nncalc.worked.spatial_matrix``). A layer of more than
``LARGE_LAYER`` values is summarised unless every row is asked for (``--all``), as a large
dense layer is.

Nothing is computed here: every z and a is the trace's, every weight, stride and padding
the layer's; a window's cells are picked from the layer's input by their index (padding
is the zero, or for max pooling the nothing, that the layer's definition puts there).
Whether a shown sum gives the shown result (= or ≈) is decided by ``checked``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncalc.document import Column, Grid, Grids, Heading, Note, Step, Steps, Styled, Table, joined
from nncalc.engine import Trace
from nncalc.expr import Call, Chain, Expr, Frac, Name, Num, Product, Sigma, chain, total
from nncalc.layer_text import describe, shapes
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten, SpatialLayer, describe_shape
from nncalc.summary import summarize_layer
from nncalc.worked import View
from nncalc.worked.forward import LARGE_LAYER, a_chain, activation_of_shown, received
from nncalc.worked.numbers import checked, shown_by, signed_term, written

LINE_DIGITS = 58  # what a LaTeX line holds beside a grid's row labels, in digits (half an em)
CONV_TERMS = 27  # beyond this many products (three channels of a 3×3 kernel), a cell's sum is written with Σ
FLATTEN_SHOWN = 3  # a large flatten names this many cells at each end of its order

ZERO = Num(0.0, "0")  # a zero of padding, as a person writes it


def cell_label(shape: tuple[int, ...], flat: int) -> str:
    """``[0,1]`` (one channel) or ``[2,0,1]``: where value ``flat`` of a (C, H, W) map sits."""
    channels, height, width = shape
    c, rest = divmod(flat, height * width)
    r, k = divmod(rest, width)
    return f"[{r},{k}]" if channels == 1 else f"[{c},{r},{k}]"


def map_grid(
    title: str, values: Sequence[Expr], shape: tuple[int, ...], channel: int, columns: range | None = None
) -> Grid:
    """Channel ``channel`` of a (C, H, W) map whose values are in flatten order, rows and columns
    numbered; only ``columns`` where given."""
    _, height, width = shape
    columns = columns if columns is not None else range(width)
    start = channel * height * width
    rows = tuple(tuple(values[start + r * width + k] for k in columns) for r in range(height))
    return Grid((title,), rows, tuple(map(str, range(height))), tuple(map(str, columns)))


def grid_columns(precision: int) -> int:
    """How many columns of numbers at ``precision`` fit one line of a page: ``−0.1234`` is 7 digits
    wide, and a column adds about 2.4 of space (six columns at 4 decimals, ten at none)."""
    return max(2, int(LINE_DIGITS // (precision + 5.4)))


def map_blocks(
    maps: Sequence[tuple[str, Sequence[Expr]]], shape: tuple[int, ...], channel: int, precision: int
) -> list[Grids]:
    """One channel of several maps side by side (z beside a); a map wider than a line holds
    (``grid_columns``) in bands of columns, each band of every map side by side."""
    width, step = shape[2], grid_columns(precision)
    bands = [range(start, min(start + step, width)) for start in range(0, width, step)]
    out = []
    for band in bands:
        titled = [(title if len(bands) == 1 else f"{title}, columns {band[0]}–{band[-1]}", v) for title, v in maps]
        out.append(Grids(tuple(map_grid(title, values, shape, channel, band) for title, values in titled)))
    return out


def map_title(symbol: str, shape: tuple[int, ...], channel: int) -> str:
    """``z`` for a single map, ``z, map 2`` where there are several."""
    return symbol if shape[0] == 1 else f"{symbol}, map {channel}"


# -- the sample's image -------------------------------------------------------------------------


def image_blocks(
    network: Network, trace: Trace, sample: int, texts: Sequence[str] | None, lead: str, view: View
) -> list:
    """A sample whose input is an image: its heading, then each channel as a grid, the values as written."""
    shape = network.input_shape
    assert shape is not None
    heading = Heading(2, (Styled(lead), f" a {describe_shape(shape)} image"))
    if network.n_inputs > LARGE_LAYER and not view.all_rows:
        return [heading, Note((f"{network.n_inputs} values  (--all shows every one)",))]
    values = received(network, trace, 0, sample, texts)
    bands = [map_blocks([(map_title("x", shape, c), values)], shape, c, view.precision) for c in range(shape[0])]
    if all(len(channel) == 1 for channel in bands):  # the channels side by side
        return [heading, Grids(tuple(channel[0].items[0] for channel in bands))]
    return [heading, *(block for channel in bands for block in channel)]


# -- a layer -------------------------------------------------------------------------------------


def spatial_blocks(
    network: Network,
    trace: Trace,
    index: int,
    sample: int,
    texts: Sequence[str] | None,
    view: View,
    show_steps: bool,
) -> list:
    """One spatial layer of one sample: its heading, its maps (or a summary), the cells worked."""
    layer = network.layers[index]
    activation = f" · {layer.activation.describe()}" if layer.has_activation else ""
    heading = Heading(3, (f"{network.layer_label(index)} · {describe(layer)}{activation} · {shapes(layer)}",))
    large = layer.n_neurons > LARGE_LAYER and not view.all_rows
    if view.form == "matrix" and view.steps is not False:  # windows and kernels as matrices
        from nncalc.worked.spatial_matrix import matrix_blocks

        cells = "all" if view.steps and not large else "first"
        worked = matrix_blocks(network, trace, index, sample, texts, view, cells)
        if isinstance(layer, Flatten):  # the order, then the column (which replaces the table of values)
            order, *ends = flatten_blocks(layer, trace, index, sample, large)
            return [heading, order, *(ends if large else []), *worked]
        if large:
            return [heading, *summary_blocks(layer, trace, index, sample), *worked]
        builder = conv_blocks if isinstance(layer, Conv2d) else pool_blocks
        return [heading, *builder(network, trace, index, sample, texts, view.precision, "none"), *worked]
    if isinstance(layer, Flatten):
        return [heading, *flatten_blocks(layer, trace, index, sample, large)]
    if large:
        return [heading, *summary_blocks(layer, trace, index, sample)]
    cells: str = "all" if view.steps else ("none" if view.steps is False else "first")
    if isinstance(layer, Conv2d):
        return [heading, *conv_blocks(network, trace, index, sample, texts, view.precision, cells)]
    return [heading, *pool_blocks(network, trace, index, sample, texts, view.precision, cells)]


def worked_cells(shape: tuple[int, ...], cells: str) -> list[tuple[int, int]]:
    """The (row, column) positions of one map worked out: all, the first, or none."""
    if cells == "none":
        return []
    if cells == "first":
        return [(0, 0)]
    _, height, width = shape
    return [(r, k) for r in range(height) for k in range(width)]


def window_cells(
    layer: SpatialLayer, inputs: Sequence[Expr], channel: int, row: int, column: int, pad: Expr | None
) -> list[list[Expr | None]]:
    """The window that output cell (``row``, ``column``) reads in input ``channel``: its cells by index.

    A position in the padding is ``pad`` (zero for a convolution and an average, None for a max).
    """
    _, height, width = layer.input_shape
    kh, kw = layer.kernel_size  # type: ignore[attr-defined]
    (sh, sw), (ph, pw) = layer.stride, layer.padding  # type: ignore[attr-defined]
    top, left = row * sh - ph, column * sw - pw
    start = channel * height * width
    inside = [[0 <= y < height and 0 <= x < width for x in range(left, left + kw)] for y in range(top, top + kh)]
    return [
        [inputs[start + (top + r) * width + left + k] if inside[r][k] else pad for k in range(kw)] for r in range(kh)
    ]


def window_words(layer: SpatialLayer, row: int, column: int) -> str:
    """``rows 0–2, columns 1–3``: where a window lies in the layer's input (negative in the padding)."""
    kh, kw = layer.kernel_size  # type: ignore[attr-defined]
    (sh, sw), (ph, pw) = layer.stride, layer.padding  # type: ignore[attr-defined]
    top, left = row * sh - ph, column * sw - pw
    return f"rows {_span(top, top + kh - 1)}, columns {_span(left, left + kw - 1)}"


def _span(first: int, last: int) -> str:
    """``0–2``; ``−1 to 1`` where the window starts in the padding (a dash would read as a minus)."""
    if first == last:
        return _index(first)
    return f"{_index(first)} to {_index(last)}" if first < 0 else f"{first}–{last}"


def _index(n: int) -> str:
    return f"−{-n}" if n < 0 else str(n)


# -- convolution ---------------------------------------------------------------------------------


def conv_blocks(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, p: int, cells: str
) -> list:
    """Each output map's z beside its a, then its worked cells: window beside kernel, then z and a."""
    layer = network.layers[index]
    assert isinstance(layer, Conv2d)
    shape = layer.output_shape
    z = trace.layers[index].z[sample]
    a = trace.layers[index].a[sample]
    zs = [Num(float(v)) for v in z]
    activations = [Num(float(v)) for v in a]
    inputs = received(network, trace, index, sample, texts)
    exact = activation_of_shown(layer.activation, [shown_by(p)(v) for v in zs]) if cells != "none" else None
    _, height, width = shape
    blocks: list = []
    for c in range(shape[0]):
        maps = [(map_title("z", shape, c), zs), (map_title("a", shape, c), activations)]
        blocks.extend(map_blocks(maps, shape, c, p))
        for row, column in worked_cells(shape, cells):
            flat = c * height * width + row * width + column
            blocks.append(Grids(tuple(conv_window_grids(layer, inputs, c, row, column))))
            chains = (
                conv_chain(layer, inputs, c, row, column, float(z[flat]), p),
                a_chain(network, index, flat, zs, float(a[flat]), p, exact[flat] if exact is not None else None),
            )
            blocks.append(Steps((Step(chains, label=cell_label(shape, flat)),)))
    return blocks


def kernel_number(layer: Conv2d, out: int, channel: int, r: int, k: int) -> Num:
    """A kernel weight as the file wrote it."""
    return written(layer.weight_text[out][channel][r][k], float(layer.weights[out, channel, r, k]))  # type: ignore[return-value]


def conv_window_grids(layer: Conv2d, inputs: Sequence[Expr], out: int, row: int, column: int) -> list[Grid]:
    """Per input channel, the window output cell (``row``, ``column``) reads, beside the kernel that weighs it."""
    channels = layer.input_shape[0]
    kh, kw = layer.kernel_size
    grids = []
    for c in range(channels):
        window = window_cells(layer, inputs, c, row, column, ZERO)
        where = window_words(layer, row, column)
        grids.append(Grid((f"window: {where}" if channels == 1 else f"channel {c}: {where}",), _rows(window)))
        kernel = tuple(tuple(kernel_number(layer, out, c, r, k) for k in range(kw)) for r in range(kh))
        title = "kernel" if channels == 1 and layer.out_channels == 1 else f"kernel [{out},{c}]"
        grids.append(Grid((title,), kernel))
    return grids


def _rows(cells: list[list[Expr | None]]) -> tuple[tuple, ...]:
    return tuple(tuple(cell if cell is not None else "" for cell in row) for row in cells)


def conv_chain(layer: Conv2d, inputs: Sequence[Expr], out: int, row: int, column: int, z: float, p: int) -> Chain:
    """``z = 1 × 1 + 0 × 2 + (−1) × 0 + … + 0.5 = 2.5``: each kernel weight as written times the
    cell it covers, channel by channel, row by row; Σ beyond ``CONV_TERMS`` products."""
    channels = layer.input_shape[0]
    kh, kw = layer.kernel_size
    bias_shown = layer.layout.biases != "absent" or layer.biases[out] != 0
    bias = signed_term(layer.bias_text[out], float(layer.biases[out]))
    if channels * kh * kw > CONV_TERMS:
        body: list[Expr] = [Sigma("i", Name("w", "i") * Name("x", "i"))]
        return Chain((Name("z"), total([*body, bias] if bias_shown else body), Num(z)), ("=", "="))
    terms: list[Expr] = []
    for c in range(channels):
        window = window_cells(layer, inputs, c, row, column, ZERO)
        for r in range(kh):
            for k in range(kw):
                cell = window[r][k]
                assert cell is not None
                terms.append(Product((kernel_number(layer, out, c, r, k), cell), "×"))
    if bias_shown:
        terms.append(bias)
    return checked((Name("z"), total(terms), Num(z)), p)


# -- pooling -------------------------------------------------------------------------------------


def pool_blocks(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, p: int, cells: str
) -> list:
    """Each map as a grid (pooling's a is its z), then its worked windows: ``a = max(…) = …``."""
    layer = network.layers[index]
    shape = layer.output_shape
    a = trace.layers[index].a[sample]
    values = [Num(float(v)) for v in a]
    inputs = received(network, trace, index, sample, texts)
    _, height, width = shape
    blocks: list = []
    for c in range(shape[0]):
        blocks.extend(map_blocks([(map_title("a", shape, c), values)], shape, c, p))
        steps = []
        for row, column in worked_cells(shape, cells):
            flat = c * height * width + row * width + column
            steps.append(
                Step(
                    (pool_chain(layer, inputs, c, row, column, float(a[flat]), p),),
                    label=cell_label(shape, flat),
                    after=(f"  ({window_words(layer, row, column)})",),  # short: LaTeX sets it on the chain's line
                )
            )
        if steps:
            blocks.append(Steps(tuple(steps)))
    return blocks


def pool_chain(
    layer: SpatialLayer, inputs: Sequence[Expr], channel: int, row: int, column: int, a: float, p: int
) -> Chain:
    """``a = max(2.5, 0, 1.5, 0) = 2.5`` or ``a = (2.5 + 0 + 1.5 + 0) / 4 = 1``: the window's cells, row by row.

    Padding never wins a max, so it is left out of one; an average counts it as zeros and
    divides by the whole window (PyTorch's ``count_include_pad``)."""
    maximum = layer.mode == "max"  # type: ignore[attr-defined]
    window = window_cells(layer, inputs, channel, row, column, None if maximum else ZERO)
    cells = [cell for line in window for cell in line if cell is not None]
    if maximum:
        formula: Expr = Call("max", tuple(cells))
    else:
        kh, kw = layer.kernel_size  # type: ignore[attr-defined]
        formula = Frac(total(cells), Num(float(kh * kw), str(kh * kw)))
    return checked((Name("a"), formula, Num(a)), p)


# -- flatten -------------------------------------------------------------------------------------


def flatten_blocks(layer: Flatten, trace: Trace, index: int, sample: int, large: bool) -> list:
    """Which cell becomes which value: a table (or, for a large layer, the rule and both ends of the order)."""
    shape = layer.input_shape
    channels, height, width = shape
    a = trace.layers[index].a[sample]
    if channels == 1:
        rule = f"rows, then columns (PyTorch's order): cell [r,k] becomes value {width}·r + k"
    else:
        order = "channels, then rows, then columns (PyTorch's order)"
        rule = f"{order}: cell [c,r,k] becomes value {height * width}·c + {width}·r + k"
    lead = Note((rule,), lead="order:")
    n = layer.n_neurons
    if not large:
        rows = tuple((str(j), cell_label(shape, j), Num(float(a[j]))) for j in range(n))
        table = Table((Column(("value",), numeric=False), Column(("cell",), numeric=False), Column(("a",))), rows)
        return [lead, table]
    ends = [*range(FLATTEN_SHOWN), *range(n - FLATTEN_SHOWN, n)]
    items = [(f"{cell_label(shape, j)} → {j}",) for j in ends]
    shown = (*joined(items[:FLATTEN_SHOWN]), ", …, ", *joined(items[FLATTEN_SHOWN:]))
    return [lead, Note((*shown, f"  ({n} values; --all lists every one)"))]


# -- a large map ---------------------------------------------------------------------------------


def summary_blocks(layer: SpatialLayer, trace: Trace, index: int, sample: int) -> list:
    """A large map layer in a few figures: the range and mean of z and a, and its most active cells."""
    shape = layer.output_shape
    summary = summarize_layer(trace, index, sample)
    rows = [("a", Num(summary.a_min), Num(summary.a_max), Num(summary.a_mean))]
    if layer.has_activation:
        rows.insert(0, ("z", Num(summary.z_min), Num(summary.z_max), Num(summary.z_mean)))
    table = Table(
        (Column(("",), numeric=False), Column(("min",)), Column(("max",)), Column(("mean",))),
        tuple(rows),
    )
    top = joined([(chain(Name(cell_label(shape, j)), Num(a)),) for j, _, a in summary.top])
    maps = f"{shape[0]} map{'' if shape[0] == 1 else 's'} of {shape[1]}×{shape[2]}"
    return [table, Note((f"{maps} ({layer.n_neurons} values); highest a: ", *top, "  (--all shows every map)"))]
