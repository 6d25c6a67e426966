"""Convolution, pooling and flatten layers as importers write them, and the shapes through a chain.

Every importer that takes spatial layers (PyTorch, Keras, ONNX) writes them with the
functions here, so the network files they make read alike: a ``conv2d`` with its
``weights`` (PyTorch's (out, in, kh, kw)) or ``kernel`` (Keras's (kh, kw, in, out)),
``biases``, ``stride`` and ``padding`` (one number when both sides agree, else a pair,
left out when they are the defaults 1 and 0), and its activation; a ``maxpool2d`` or
``avgpool2d`` with its ``kernel_size`` (and ``stride`` only where it is not the kernel
size, ``padding`` only where it is not 0); a ``flatten``.

:class:`Shapes` follows the shape of the values from layer to layer while a model is
read, as the network file's loader will, so that an importer can refuse a model nncalc
cannot run at the layer where it goes wrong, in its own words (a :class:`ShapeError`'s
text), and can tell a Keras ``Dense`` after a ``Flatten`` the maps it flattens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from nncalc.convolution import output_length

Pair = tuple[int, int]
Shape = tuple[int, ...]


class ShapeError(ValueError):
    """A layer that does not fit the values before it; the text says why, for the importer's refusal."""


class UnknownShape(ShapeError):
    """A layer that needs maps while the model's input shape is not known (a live PyTorch model without one)."""


def pair(value: Any) -> Pair:
    """Two ints from one (``3``) or two (``(3, 2)``, ``[3, 2]``) numbers."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    first, second = (int(v) for v in value)
    return first, second


def written_pair(values: Pair) -> int | list[int]:
    """A pair as the file writes it: one number when both are the same."""
    return int(values[0]) if values[0] == values[1] else [int(values[0]), int(values[1])]


def shape_text(shape: Sequence[int]) -> str:
    """``1×28×28``: a shape as messages write it."""
    return "×".join(str(n) for n in shape)


def conv_entry(
    name: str | None,
    biases: np.ndarray | None,
    stride: Pair,
    padding: Pair,
    activation: str | dict,
    *,
    weights: np.ndarray | None = None,
    kernel: np.ndarray | None = None,
) -> dict:
    """A ``conv2d`` layer: ``weights`` (out, in, kh, kw) or ``kernel`` (kh, kw, in, out), as given."""
    entry: dict[str, Any] = {"type": "conv2d"}
    if name:
        entry["name"] = name
    if weights is not None:
        entry["weights"] = np.asarray(weights, dtype=np.float64).tolist()
    else:
        entry["kernel"] = np.asarray(kernel, dtype=np.float64).tolist()
    if biases is not None:
        entry["biases"] = np.asarray(biases, dtype=np.float64).reshape(-1).tolist()
    if tuple(stride) != (1, 1):
        entry["stride"] = written_pair(stride)
    if tuple(padding) != (0, 0):
        entry["padding"] = written_pair(padding)
    entry["activation"] = activation
    return entry


def pool_entry(kind: str, name: str | None, kernel_size: Pair, stride: Pair, padding: Pair) -> dict:
    """A ``maxpool2d`` or ``avgpool2d`` layer (``kind``); stride and padding only where not their defaults."""
    entry: dict[str, Any] = {"type": kind}
    if name:
        entry["name"] = name
    entry["kernel_size"] = written_pair(kernel_size)
    if tuple(stride) != tuple(kernel_size):
        entry["stride"] = written_pair(stride)
    if tuple(padding) != (0, 0):
        entry["padding"] = written_pair(padding)
    return entry


def flatten_entry(name: str | None = None) -> dict:
    """A ``flatten`` layer: maps to a vector, channels then rows then columns."""
    return {"type": "flatten", "name": name} if name else {"type": "flatten"}


def global_pool_entries(config: dict, name: str | None, kind: str, shapes: Shapes) -> list[dict]:
    """A Keras global pooling (``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``) of channels-last maps: one
    window the size of the maps, then, unless ``keepdims``, a flatten of the 1×1 maps (the channels in order,
    in Keras and nncalc alike)."""
    if config.get("data_format", "channels_last") not in (None, "channels_last"):
        raise ShapeError(f"has data_format={config['data_format']!r}; nncalc imports Keras models with channels last")
    _, height, width = shapes.need_maps("global pooling")
    pool = "maxpool2d" if "Max" in kind else "avgpool2d"
    shapes.pool(pool, (height, width), (height, width), (0, 0))
    entries = [pool_entry(pool, name, (height, width), (height, width), (0, 0))]
    if not config.get("keepdims", False):
        shapes.flatten()
        entries.append(flatten_entry(f"{name}_flatten" if name else None))
    return entries


def keras_columns(kernel: np.ndarray, maps: Shape) -> np.ndarray:
    """A Keras ``Dense`` kernel after a ``Flatten`` of ``maps`` (C, H, W), as nncalc's weights (neurons, C·H·W).

    Keras keeps maps channels last and flattens (H, W, C): its input i = (h·W + w)·C + c.
    nncalc flattens (C, H, W) as PyTorch does: c·H·W + h·W + w. The kernel's rows are put
    in nncalc's order, so that the same picture gives the same outputs.
    """
    channels, height, width = maps
    units = kernel.shape[1]
    return kernel.reshape(height, width, channels, units).transpose(2, 0, 1, 3).reshape(-1, units).T


def softmax_on_maps(shape: Shape, axis: int) -> NoReturn:
    """Refuse a softmax after a convolution, over one ``axis`` of its (C, H, W) maps (0, 1, 2 or −3, −2, −1).

    A framework's softmax there is over one axis (the channels, in PyTorch's
    ``Softmax(dim=1)`` and Keras's ``activation='softmax'``), at each position on its own;
    nncalc's conv2d takes an elementwise activation, and its softmax belongs to a dense
    layer, over all of its values.
    """
    names = ("channels", "rows", "columns")
    raise ShapeError(
        f"is a softmax over the {names[axis % 3]} of {shape_text(shape)} maps, at each position on its own; "
        "nncalc's conv2d takes an elementwise activation (a softmax goes on a dense layer after a flatten)"
    )


def same_padding(size: int, kernel: int, stride: int) -> int | None:
    """The zero padding on each side that TensorFlow's ``padding='same'`` adds, or None where it is uneven.

    'same' gives ⌈size / stride⌉ positions, padding (positions − 1)·stride + kernel − size
    in all, the smaller half before: one padding on both sides when that total is even.
    """
    positions = -(-size // stride)
    total = max((positions - 1) * stride + kernel - size, 0)
    return total // 2 if total % 2 == 0 else None


class Shapes:
    """The shape of the values between layers: maps (C, H, W), a vector (n,), or None before it is known."""

    def __init__(self, shape: Sequence[int] | None = None):
        self.input: Shape | None = tuple(int(n) for n in shape) if shape is not None else None
        self.shape: Shape | None = self.input

    @property
    def maps(self) -> bool:
        return self.shape is not None and len(self.shape) == 3

    def conv(self, in_channels: int, out_channels: int, kernel: Pair, stride: Pair, padding: Pair) -> Shape:
        """The maps a convolution gives; refused unless it gets maps of ``in_channels`` it fits in."""
        channels, height, width = self.need_maps("a convolution")
        if channels != in_channels:
            before = shape_text(self.shape or ())
            raise ShapeError(f"takes {in_channels} channels, and the maps before it ({before}) have {channels}")
        return self._slide("conv2d", out_channels, (height, width), kernel, stride, padding)

    def pool(self, kind: str, kernel: Pair, stride: Pair, padding: Pair) -> Shape:
        """The maps a pooling gives: as many channels as it gets."""
        channels, height, width = self.need_maps("pooling")
        for size, pad in zip(kernel, padding, strict=True):
            if pad * 2 > size:
                raise ShapeError(f"pads by {pad}, more than half its {size}-wide window (PyTorch refuses it too)")
        return self._slide(kind, channels, (height, width), kernel, stride, padding)

    def flatten(self) -> Shape:
        """The vector a flatten gives: C·H·W values."""
        channels, height, width = self.need_maps("a flatten")
        self.shape = (channels * height * width,)
        return self.shape

    def dense(self, n_inputs: int, n_outputs: int) -> Shape:
        """The vector a dense layer gives; refused on maps (they need a flatten first) or the wrong width."""
        if self.shape is None:
            self.input = (n_inputs,)
        elif self.maps:
            raise ShapeError(f"is a dense layer on {shape_text(self.shape)} maps; flatten them first")
        elif self.shape[0] != n_inputs:
            raise ShapeError(f"takes {n_inputs} inputs but the layer before gives {self.shape[0]}")
        self.shape = (int(n_outputs),)
        return self.shape

    def need_maps(self, what: str) -> Shape:
        """The maps' (C, H, W); refused when the values are a vector or their shape is unknown."""
        if self.shape is None:
            raise UnknownShape(f"is {what}, and the shape of the model's input (channels, height, width) is not known")
        if not self.maps:
            raise ShapeError(f"is {what} on a vector of {self.shape[0]} values, not on maps")
        return self.shape

    def _slide(self, kind: str, channels: int, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Shape:
        """Where a window slid over ``size`` lands (PyTorch's arithmetic); refused where it does not fit."""
        if min(stride) < 1 or min(kernel) < 1 or min(padding) < 0:
            raise ShapeError(f"has kernel {shape_text(kernel)}, stride {stride} and padding {padding}")
        rows, cols = (output_length(n, k, s, p) for n, k, s, p in zip(size, kernel, stride, padding, strict=True))
        if rows < 1 or cols < 1:
            raise ShapeError(
                f"does not fit: {kind} on a {shape_text(size)} input, {shape_text(kernel)} kernel, "
                f"stride {written_pair(stride)}, padding {written_pair(padding)} gives no output"
            )
        self.shape = (int(channels), rows, cols)
        return self.shape


GIVE_SHAPE = "give it with --input-shape C,H,W (input_shape= in Python)"


def picture_shape(declared: Sequence[int | None] | None, given: Sequence[int] | None) -> tuple[int, int, int] | None:
    """One picture's (C, H, W): what the file declares (None where it leaves a size open), or what the
    user gives, which must agree with every size the file fixes. None for a model of vectors.

    The text of a :class:`ShapeError` completes "the model's input ...".
    """
    if given is not None:
        given = tuple(int(n) for n in given)
        if len(given) != 3 or min(given) < 1:
            raise ShapeError(f"is given the shape {list(given)}; --input-shape takes channels, height and width")
        if declared is None:
            raise ShapeError("is not declared as pictures (batch, channels, height, width), so it takes no shape")
        if any(d is not None and d != g for d, g in zip(declared, given, strict=True)):
            raise ShapeError(f"is declared {_open_text(declared)}, and the shape given is {shape_text(given)}")
        return given  # type: ignore[return-value]
    if declared is None:
        return None
    if any(d is None for d in declared):
        raise ShapeError(f"is declared {_open_text(declared)}: nncalc needs one picture's size; {GIVE_SHAPE}")
    return tuple(int(d) for d in declared)  # type: ignore[return-value]


def _open_text(dims: Sequence[int | None]) -> str:
    """(C, H, W) with the open sizes as ``?``: ``3×?×?``."""
    return "×".join("?" if d is None else str(d) for d in dims)


def inputs_entry(shapes: Shapes, names: Sequence[str] | None = None) -> int | list[str] | dict:
    """The network file's ``inputs``: a count or names for a vector, ``{shape: [C, H, W]}`` for maps
    (``names`` then name the channels)."""
    shape = shapes.input
    assert shape is not None
    if len(shape) == 3:
        entry: dict[str, Any] = {"shape": [int(n) for n in shape]}
        if names is not None:
            entry["names"] = [str(n) for n in names]
        return entry
    if names is None:
        return int(shape[0])
    return [str(n) for n in names]
