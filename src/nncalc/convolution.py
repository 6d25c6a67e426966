"""The arithmetic of spatial layers: 2-D convolution and max/average pooling over a batch.

Every function takes and returns a batch as the engine keeps it, one row per sample of
C·H·W values in PyTorch's flatten order (channels, then rows, then columns), and the
shape that row stands for. Definitions and defaults are PyTorch's
(``torch.nn.functional.conv2d``, ``max_pool2d``, ``avg_pool2d`` with
``count_include_pad=True``, no dilation, no ``ceil_mode``).

No loop runs over cells or samples' values. A convolution is one matrix product per
block of samples: the windows are laid out as rows (im2col, from a strided view of the
maps) and multiplied by the kernels as a dense layer's inputs are, by
``nncalc.engine.linear``, so each cell's bits do not depend on the batch it is computed in.
Pooling loops over the kernel's offsets only (kh·kw array operations), in row-major order,
as PyTorch sums a window; the max and the mean of a window are then the same bits in any
batch.
"""

from __future__ import annotations

from math import prod

import numpy as np

Shape3 = tuple[int, int, int]
Pair = tuple[int, int]

IM2COL_VALUES = 1 << 18  # values of windows laid out at a time (2 MB), so memory stays flat
WINNER_VALUES = 1 << 15  # values of max-pooling windows copied at a time to find their winners (256 kB)


def output_length(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a kernel takes along one axis: ⌊(size + 2·padding − kernel) / stride⌋ + 1.

    Zero or less when the kernel does not fit in the padded input.
    """
    return (size + 2 * padding - kernel) // stride + 1


def conv2d(
    x: np.ndarray, shape: Shape3, weights: np.ndarray, biases: np.ndarray, stride: Pair, padding: Pair
) -> np.ndarray:
    """Cross-correlation as PyTorch's ``conv2d``: (samples, C·H·W) → (samples, O·H′·W′).

    ``weights`` are (O, C, kh, kw), ``biases`` (O,); padding is with zeros.
    """
    from nncalc.engine import linear

    channels, height, width = shape
    out_channels, _, kh, kw = weights.shape
    (sh, sw), (ph, pw) = stride, padding
    rows_out, cols_out = output_length(height, kh, sh, ph), output_length(width, kw, sw, pw)
    samples = x.shape[0]
    maps = x.reshape(samples, channels, height, width)
    flat_weights = weights.reshape(out_channels, channels * kh * kw)  # one row per output channel
    cells = rows_out * cols_out
    out = np.empty((samples, out_channels, rows_out, cols_out), dtype=np.float64)
    per_block = max(1, IM2COL_VALUES // (cells * flat_weights.shape[1]))  # whole samples at a time
    for start in range(0, samples, per_block):
        block = maps[start : start + per_block]
        if ph or pw:  # zeros around each map, a block at a time
            block = np.pad(block, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        n = block.shape[0]
        columns = _columns(block, (kh, kw), (sh, sw), rows_out, cols_out)
        z = linear(columns, flat_weights, biases)
        out[start : start + n] = z.reshape(n, rows_out, cols_out, out_channels).transpose(0, 3, 1, 2)
    return out.reshape(samples, -1)


def _windows(maps: np.ndarray, kernel: Pair, stride: Pair, rows_out: int, cols_out: int) -> np.ndarray:
    """Every window of ``maps`` (n, C, H, W) at the stride: a read-only view (n, C, H′, W′, kh, kw).

    It is the view ``sliding_window_view`` and a slice by the stride give, made here directly
    from the strides (at a tenth of the cost, which counts for small maps)."""
    (kh, kw), (sh, sw) = kernel, stride
    maps = np.ascontiguousarray(maps)
    n, channels, _, _ = maps.shape
    s0, s1, s2, s3 = maps.strides
    shape = (n, channels, rows_out, cols_out, kh, kw)
    windows = np.ndarray(shape, maps.dtype, maps, 0, (s0, s1, s2 * sh, s3 * sw, s2, s3))
    windows.flags.writeable = False
    return windows


def _columns(maps: np.ndarray, kernel: Pair, stride: Pair, rows_out: int, cols_out: int) -> np.ndarray:
    """The windows of ``maps`` (n, C, H, W) laid out as rows (im2col), one copy of ``_windows``:
    (n·H′·W′, C·kh·kw), one row per window, channels then kernel rows."""
    windows = _windows(maps, kernel, stride, rows_out, cols_out)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(maps.shape[0] * rows_out * cols_out, -1)


def pool2d(x: np.ndarray, shape: Shape3, kernel: Pair, stride: Pair, padding: Pair, mode: str) -> np.ndarray:
    """Max (``mode="max"``) or average (``"avg"``) pooling of each channel: (samples, C·H·W) → (samples, C·H′·W′).

    Max pooling pads with −∞ (padding never wins) and passes a NaN on; average pooling pads
    with zeros and divides by kh·kw, padding included (PyTorch's ``count_include_pad=True``).
    """
    channels, height, width = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    rows_out, cols_out = output_length(height, kh, sh, ph), output_length(width, kw, sw, pw)
    samples = x.shape[0]
    maps = x.reshape(samples, channels, height, width)
    if ph or pw:
        fill = -np.inf if mode == "max" else 0.0
        maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    combine = np.maximum if mode == "max" else np.add
    out: np.ndarray | None = None
    for i in range(kh):
        for j in range(kw):
            view = maps[:, :, i : i + (rows_out - 1) * sh + 1 : sh, j : j + (cols_out - 1) * sw + 1 : sw]
            if out is None:
                out = np.array(view, dtype=np.float64)
            else:
                combine(out, view, out=out)
    assert out is not None
    if mode == "avg":
        out /= kh * kw
    return out.reshape(samples, -1)


# -- backward: the gradients that flow back through a layer -------------------------------------


def _windows_at(maps: np.ndarray, i: int, j: int, rows_out: int, cols_out: int, stride: Pair) -> np.ndarray:
    """The cells at kernel offset (i, j) of every window: (samples, C, H′, W′), a view of ``maps``.

    For one offset, distinct windows take distinct cells, so adding into this view is safe."""
    sh, sw = stride
    return maps[:, :, i : i + (rows_out - 1) * sh + 1 : sh, j : j + (cols_out - 1) * sw + 1 : sw]


def _cropped(padded: np.ndarray, padding: Pair) -> np.ndarray:
    """The padded maps without their padding, flattened back to (samples, C·H·W)."""
    ph, pw = padding
    if not (ph or pw):
        return padded.reshape(padded.shape[0], -1)
    height, width = padded.shape[2] - 2 * ph, padded.shape[3] - 2 * pw
    return np.ascontiguousarray(padded[:, :, ph : ph + height, pw : pw + width]).reshape(padded.shape[0], -1)


def conv2d_input_gradient(
    delta: np.ndarray, shape: Shape3, weights: np.ndarray, stride: Pair, padding: Pair
) -> np.ndarray:
    """∂L/∂x for a convolution: (samples, O·H′·W′) δ → (samples, C·H·W), the transposed convolution.

    Each window's gradient is δ·W (one row per window, as im2col laid them out); each is then
    added back where its window was read (col2im), one kernel offset at a time; the gradient
    that falls on padding is dropped.
    """
    channels, height, width = shape
    out_channels, _, kh, kw = weights.shape
    (ph, pw) = padding
    rows_out, cols_out = output_length(height, kh, stride[0], ph), output_length(width, kw, stride[1], pw)
    samples = delta.shape[0]
    flat_weights = weights.reshape(out_channels, channels * kh * kw)
    padded = np.zeros((samples, channels, height + 2 * ph, width + 2 * pw))
    cells = rows_out * cols_out
    per_block = max(1, IM2COL_VALUES // (cells * flat_weights.shape[1]))
    for start in range(0, samples, per_block):
        block = delta[start : start + per_block].reshape(-1, out_channels, rows_out, cols_out)
        n = block.shape[0]
        rows = block.transpose(0, 2, 3, 1).reshape(n * cells, out_channels)  # one row per window
        columns = (rows @ flat_weights).reshape(n, rows_out, cols_out, channels, kh, kw)
        target = padded[start : start + n]
        for i in range(kh):
            for j in range(kw):
                _windows_at(target, i, j, rows_out, cols_out, stride)[...] += columns[..., i, j].transpose(0, 3, 1, 2)
    return _cropped(padded, padding)


def conv2d_parameter_gradients(
    x: np.ndarray, shape: Shape3, delta: np.ndarray, kernel: tuple[int, int, int, int], stride: Pair, padding: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """Σ over samples and positions of δ ⊗ window, (O, C, kh, kw), and of δ, (O,): the kernel's and
    the biases' gradients summed over the batch (the caller takes the mean).

    The windows are laid out as rows (im2col, as ``conv2d`` does) and ∂L/∂W is δᵀ·columns.
    """
    channels, height, width = shape
    out_channels, _, kh, kw = kernel
    (sh, sw), (ph, pw) = stride, padding
    rows_out, cols_out = output_length(height, kh, sh, ph), output_length(width, kw, sw, pw)
    samples = x.shape[0]
    maps = x.reshape(samples, channels, height, width)
    cells = rows_out * cols_out
    grad_w = np.zeros((out_channels, channels * kh * kw))
    per_block = max(1, IM2COL_VALUES // (cells * channels * kh * kw))
    for start in range(0, samples, per_block):
        block = maps[start : start + per_block]
        if ph or pw:
            block = np.pad(block, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        n = block.shape[0]
        columns = _columns(block, (kh, kw), (sh, sw), rows_out, cols_out)
        rows = delta[start : start + n].reshape(n, out_channels, cells).transpose(0, 2, 1).reshape(n * cells, -1)
        grad_w += rows.T @ columns
    grad_b = delta.reshape(samples, out_channels, cells).sum(axis=(0, 2))
    return grad_w.reshape(out_channels, channels, kh, kw), grad_b


def pool2d_input_gradient(
    delta: np.ndarray,
    x: np.ndarray,
    shape: Shape3,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    mode: str,
    combine: str = "sum",
) -> np.ndarray:
    """∂L/∂x for a pooling of ``x``: (samples, C·H′·W′) δ → (samples, C·H·W).

    Max pooling sends each window's δ to the cell that won it: the first largest in the order
    the window is scanned (rows, then columns: PyTorch's rule for ties), or the last NaN of a
    window that holds one (PyTorch's rule, val > max or isnan(val)), found again from ``x``.
    Average pooling sends δ/(kh·kw) to every cell of the window, padding included
    (``count_include_pad=True``), and what falls on padding is dropped.

    ``combine`` is how a max pool's cell that wins several windows (overlapping windows) takes
    their δ: their sum ("sum", the gradient), or only one window's, the first or the last in
    the order of the window offsets ("first", "last"): a person's slip that grading names.
    """
    channels, height, width = shape
    (kh, kw), (ph, pw) = kernel, padding
    rows_out, cols_out = output_length(height, kh, stride[0], ph), output_length(width, kw, stride[1], pw)
    samples = x.shape[0]
    back = delta.reshape(samples, channels, rows_out, cols_out)
    padded = np.zeros((samples, channels, height + 2 * ph, width + 2 * pw))
    if mode == "avg":
        share = back / (kh * kw)
        for i in range(kh):
            for j in range(kw):
                _windows_at(padded, i, j, rows_out, cols_out, stride)[...] += share
        return _cropped(padded, padding)
    winner = max_pool_winners(x, shape, kernel, stride, padding)
    if combine != "sum":
        taken = np.zeros(padded.shape, dtype=bool)
        for i in range(kh):
            for j in range(kw):
                cells, seen = (_windows_at(a, i, j, rows_out, cols_out, stride) for a in (padded, taken))
                hit = (winner == i * kw + j) & (~seen if combine == "first" else True)
                cells[...] = np.where(hit, back, cells)
                seen |= hit
        return _cropped(padded, padding)
    for i in range(kh):
        for j in range(kw):
            # δ where the window's winner is here, else +0: a cell, from +0 by sums, is never −0, so adding
            # +0 changes no bit (and costs less than adding where the winner is)
            _windows_at(padded, i, j, rows_out, cols_out, stride)[...] += np.where(winner == i * kw + j, back, 0.0)
    return _cropped(padded, padding)


def max_pool_winners(x: np.ndarray, shape: Shape3, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """The cell each max-pooling window of ``x`` (samples, C·H·W) sends its δ to: the offset
    i·kw + j inside the window, (samples, C, H′, W′), by the rule of :func:`_max_winners`
    (padding is −∞, so it never wins). The backward pass routes δ by it; the worked
    solution names the same cells."""
    channels, height, width = shape
    (kh, kw), (ph, pw) = kernel, padding
    rows_out, cols_out = output_length(height, kh, stride[0], ph), output_length(width, kw, stride[1], pw)
    maps = x.reshape(x.shape[0], channels, height, width)
    if ph or pw:
        maps = np.pad(maps, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    return _max_winners(maps, kernel, stride, rows_out, cols_out)


def _max_winners(maps: np.ndarray, kernel: Pair, stride: Pair, rows_out: int, cols_out: int) -> np.ndarray:
    """The offset i·kw + j of each max-pooling window's winner, (n, C, H′, W′), by PyTorch's test
    as it scans a window (val > max or isnan(val)): the first largest, or the last NaN of a window
    that holds one.

    One argmax (the first largest) over a copy of the windows, WINNER_VALUES at a time so that the
    copy stays small and in cache; where a window holds a NaN, its last NaN instead."""
    kh, kw = kernel
    windows = _windows(maps, kernel, stride, rows_out, cols_out)
    winner = np.empty(windows.shape[:4], dtype=np.intp)
    per_block = max(1, WINNER_VALUES // max(1, prod(windows.shape[1:])))  # whole samples at a time
    for start in range(0, windows.shape[0], per_block):
        block = windows[start : start + per_block]
        cells = block.reshape(*block.shape[:4], kh * kw)
        found = cells.argmax(axis=-1)
        nan = np.isnan(cells)
        if nan.any():
            found = np.where(nan.any(axis=-1), kh * kw - 1 - nan[..., ::-1].argmax(axis=-1), found)
        winner[start : start + per_block] = found
    return winner
