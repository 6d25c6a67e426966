"""The arithmetic of spatial layers: 2-D convolution and max/average pooling over a batch.

Every function takes and returns a batch as the engine keeps it, one row per sample of
C·H·W values in PyTorch's flatten order (channels, then rows, then columns), and the
shape that row stands for. Definitions and defaults are PyTorch's
(``torch.nn.functional.conv2d``, ``max_pool2d``, ``avg_pool2d`` with
``count_include_pad=True``, no dilation, no ``ceil_mode``).

No loop runs over cells or samples' values. A convolution is one matrix product per
block of samples: the windows are laid out as rows (im2col, through
``numpy.lib.stride_tricks.sliding_window_view``) and multiplied by the kernels as a
dense layer's inputs are, by ``nncalc.engine.linear``, so each cell's bits do not depend
on the batch it is computed in. Pooling loops over the kernel's offsets only (kh·kw array
operations), in row-major order, as PyTorch sums a window; the max and the mean of a
window are then the same bits in any batch.
"""

from __future__ import annotations

import numpy as np

Shape3 = tuple[int, int, int]
Pair = tuple[int, int]

IM2COL_VALUES = 1 << 18  # values of windows laid out at a time (2 MB), so memory stays flat


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
        windows = np.lib.stride_tricks.sliding_window_view(block, (kh, kw), axis=(2, 3))
        windows = windows[:, :, : (rows_out - 1) * sh + 1 : sh, : (cols_out - 1) * sw + 1 : sw]
        # (n, C, H′, W′, kh, kw) → one row per window: (n·H′·W′, C·kh·kw), channels then kernel rows
        columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * cells, -1)
        z = linear(columns, flat_weights, biases)
        out[start : start + n] = z.reshape(n, rows_out, cols_out, out_channels).transpose(0, 3, 1, 2)
    return out.reshape(samples, -1)


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
