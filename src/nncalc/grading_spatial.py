"""The likely slips behind wrong cells of a convolution, pooling or flatten layer.

``nncalc.grading`` marks a spatial layer as it marks a dense one: each cell recomputed
from the person's own previous map by the layer's own arithmetic. For the cells that are
wrong, this module looks for what a person commonly does instead, each alternative
computed once for the whole map from the same values (vectorised, as the layer is):

- a convolution: the kernel flipped (a true convolution; PyTorch's ``conv2d`` is a
  cross-correlation and does not flip it), the kernel transposed, the bias left out or
  subtracted, the sign flipped, the padding left out, stride 1 for the given stride, the
  window one place off (a neighbouring cell's value);
- its activation: left out (a = z), applied twice, another activation;
- pooling: max for mean or mean for max, a mean not divided, the window pooled from z
  (before the activation) instead of a, the stride misread, the window one place off;
- flatten: channels last (Keras's order) or columns before rows.

The first alternative within the mark's tolerance names the slip; else a rounding slip
is looked for, as for dense layers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.convolution import conv2d, output_length, pool2d
from nncalc.grading import Mark, first_match
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten

Candidates = list[tuple[str, Callable[[], float]]]
Maps = list[tuple[str, Callable[[], np.ndarray]]]
OTHER_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


def diagnose(
    network: Network,
    index: int,
    z_marks: tuple[Mark, ...],
    a_marks: tuple[Mark, ...],
    received: np.ndarray,
    z_used: np.ndarray,
    before: np.ndarray | None,
) -> tuple[tuple[Mark, ...], tuple[Mark, ...]]:
    """The layer's marks with a diagnosis on each wrong one where a slip can be told.

    ``received`` is the map the layer read (the person's where written), ``z_used`` the z
    its a was recomputed from, ``before`` the previous layer's z as used (for a pooling of
    z instead of a); all flat, in PyTorch's order.
    """
    layer = network.layers[index]
    if not any(m.correct is False for m in (*z_marks, *a_marks)):
        return z_marks, a_marks
    z_maps = _z_maps(network, index, received, before)
    a_maps = _a_maps(layer.activation, z_used) if layer.activation.name != "identity" else []
    shape = layer.output_shape if layer.spatial_output else None
    z_expected = np.array([m.expected for m in z_marks])
    z_out = tuple(_judged(m, z_maps, shape, z_expected) for m in z_marks)
    if not layer.has_activation:  # pooling, flatten: a is z, and is slipped the ways z is
        a_out = tuple(_judged(m, z_maps, shape, z_expected) for m in a_marks)
    else:
        a_out = tuple(_judged(m, a_maps, None, z_expected) for m in a_marks)
    return z_out, a_out


def _judged(mark: Mark, maps: Maps, shape: tuple[int, ...] | None, expected: np.ndarray) -> Mark:
    """A wrong mark matched against each alternative map's value at its cell, then a neighbour's."""
    if mark.correct is not False:
        return mark
    j = mark.neuron
    candidates: Candidates = [(words, lambda values=values: _at(values(), j, shape)) for words, values in maps]
    if shape is not None:
        candidates.extend(_neighbours(j, shape, expected))
    return first_match(mark, candidates)


def _at(values: np.ndarray, j: int, shape: tuple[int, ...] | None) -> float:
    """Cell ``j`` of the layer (flat, in ``shape``) in an alternative map, which may be of another
    (channels, rows, columns) shape: the same channel, row and column; NaN where it has no such cell."""
    if shape is None:
        return float(values[j]) if j < values.size else float("nan")
    _, height, width = shape
    c, rest = divmod(j, height * width)
    r, k = divmod(rest, width)
    inside = c < values.shape[0] and r < values.shape[1] and k < values.shape[2]
    return float(values[c, r, k]) if inside else float("nan")


def _neighbours(j: int, shape: tuple[int, ...], expected: np.ndarray) -> Candidates:
    """The recomputed values of the cells beside cell ``j``: the window slid one place too far or too short."""
    _, height, width = shape
    c, rest = divmod(j, height * width)
    r, k = divmod(rest, width)
    out: Candidates = []
    for dr, dk in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        rr, kk = r + dr, k + dk
        if 0 <= rr < height and 0 <= kk < width:
            cell = f"[{rr},{kk}]" if shape[0] == 1 else f"[{c},{rr},{kk}]"
            flat = c * height * width + rr * width + kk
            out.append((f"this is cell {cell}'s value (the window one place off)", lambda f=flat: expected[f]))
    return out


def _z_maps(network: Network, index: int, received: np.ndarray, before: np.ndarray | None) -> Maps:
    """The alternative z maps of a spatial layer, each computed once when first asked for."""
    layer = network.layers[index]
    x = received[None, :]
    maps: Maps = []
    if isinstance(layer, Conv2d):
        w, b = layer.weights, layer.biases
        shape, stride, padding = layer.input_shape, layer.stride, layer.padding

        def conv(weights=w, biases=b, s=stride, p=padding) -> Callable[[], np.ndarray]:
            out = _out_shape(shape, weights.shape[0], weights.shape[2:], s, p)
            return cache(lambda: conv2d(x, shape, weights, biases, s, p)[0].reshape(out))

        flipped = w[:, :, ::-1, ::-1]
        if not np.array_equal(flipped, w):
            maps.append(("the kernel is flipped: a true convolution, but conv2d does not flip it", conv(flipped)))
        if w.shape[2] == w.shape[3] and not np.array_equal(w.transpose(0, 1, 3, 2), w):
            maps.append(("the kernel is transposed (its rows read as columns)", conv(w.transpose(0, 1, 3, 2))))
        if np.any(b != 0):
            maps.append(("the bias is missing", conv(w, np.zeros_like(b))))
            maps.append(("the bias is subtracted instead of added", conv(w, -b)))
        maps.append(("the sign is flipped", cache(lambda: -conv()())))
        if padding != (0, 0) and _fits(layer, shape, (0, 0), stride):
            maps.append((f"the padding of {_pair(padding)} was left out", conv(p=(0, 0))))
        if stride != (1, 1):
            maps.append((f"the window moved by 1, not by the stride {_pair(stride)}", conv(s=(1, 1))))
        return maps
    if isinstance(layer, Flatten):
        c, h, w_ = layer.input_shape
        grid = received.reshape(c, h, w_)
        if c > 1:
            maps.append(
                ("flattened channels last (Keras's order), not channels first", lambda: grid.transpose(1, 2, 0).ravel())
            )
        if h > 1 and w_ > 1:
            maps.append(("flattened columns before rows", lambda: grid.transpose(0, 2, 1).ravel()))
        return maps
    shape, kernel, stride, padding = layer.input_shape, layer.kernel_size, layer.stride, layer.padding

    def pool(mode: str, s=stride, values=x) -> Callable[[], np.ndarray]:
        out = _out_shape(shape, shape[0], kernel, s, padding)
        return cache(lambda: pool2d(values, shape, kernel, s, padding, mode)[0].reshape(out))

    if layer.mode == "max":
        maps.append(("the mean of the window was taken, not its max (average for max pooling)", pool("avg")))
    else:
        maps.append(("the max of the window was taken, not its mean (max for average pooling)", pool("max")))
        n = kernel[0] * kernel[1]
        maps.append((f"the window's sum was not divided by {n}", cache(lambda: pool("avg")() * n)))
    previous = network.layers[index - 1] if index else None
    if (
        before is not None
        and previous is not None
        and previous.has_activation
        and previous.activation.name != "identity"
    ):
        maps.append(
            (
                f"the window was pooled from z, before {previous.activation.name}, not from a",
                pool(layer.mode, values=before[None, :]),
            )
        )
    if stride != (1, 1):
        maps.append((f"the window moved by 1, not by the stride {_pair(stride)}", pool(layer.mode, s=(1, 1))))
    if stride != kernel:
        maps.append(
            (
                f"the window moved by its size {_pair(kernel)}, not by the stride {_pair(stride)}",
                pool(layer.mode, s=kernel),
            )
        )
    return maps


def _out_shape(
    shape: tuple[int, ...], channels: int, kernel: tuple[int, ...], stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[int, int, int]:
    """The (channels, rows, columns) a convolution or pooling with these settings gives."""
    rows = output_length(shape[1], kernel[0], stride[0], padding[0])
    columns = output_length(shape[2], kernel[1], stride[1], padding[1])
    return channels, rows, columns


def _fits(layer: Conv2d, shape: tuple[int, ...], padding: tuple[int, int], stride: tuple[int, int]) -> bool:
    """Whether the kernel fits the input with this padding and stride (else there is no such map)."""
    (kh, kw) = layer.kernel_size
    return (
        output_length(shape[1], kh, stride[0], padding[0]) > 0
        and output_length(shape[2], kw, stride[1], padding[1]) > 0
    )


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


def _a_maps(activation: BoundActivation, z_used: np.ndarray) -> Maps:
    """The alternative a maps of a convolution: its activation left out, applied twice, another one."""
    z = z_used[None, :]
    maps: Maps = [
        (f"{activation.name} was not applied (a = z)", lambda: z_used),
        (f"{activation.name} was applied twice", cache(lambda: activation(activation(z))[0])),
    ]
    for name in OTHER_ACTIVATIONS:
        if name != activation.name:
            other = BoundActivation.named(name)
            maps.append((f"{name} was used instead of {activation.describe()}", cache(lambda o=other: o(z)[0])))
    return maps
