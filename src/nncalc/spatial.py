"""Spatial layers: 2-D convolution, max and average pooling, and flatten.

They sit in ``Network.layers`` beside dense ``Layer``s and answer the same questions: a
``kind`` (the file's ``type:``), ``input_shape`` and ``output_shape``, ``n_inputs`` and
``n_neurons`` (C·H·W values in and out), ``neurons`` (the names of the values out),
``n_params``, an ``activation``, and ``pre_activation(a)``, the z the engine computes from
the batch before the layer. The engine keeps every layer's z and a 2-D, (samples, C·H·W),
in PyTorch's flatten order (channels, then rows, then columns); a layer's ``output_shape``
says how to fold a row back into maps for tables and JSON.

Conventions:
- A cell of a map is named ``channel.row.column``, counting from 0 as PyTorch indexes it
  (``0.1.2``); a CSV column with ``--trace`` is ``LAYER.channel.row.column.z``.
- Pooling and flatten have no activation: their a is their z (``has_activation`` is
  False, and ``activation`` is the identity, for what describes a layer).
- Flatten's z is its input as it stands (the engine already keeps it flat); its values
  are named after the cells they come from, which shows the order.

A new layer type is a record here, answering the same questions, and one entry in
``nncalc.spatial_format.FORMATS`` (its class, keys, reader, writer and schema), by the
name a file gives in ``type:``.
"""

from __future__ import annotations

from functools import cached_property
from math import prod
from typing import Any

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.convolution import (
    Pair,
    Shape3,
    conv2d,
    conv2d_input_gradient,
    conv2d_parameter_gradients,
    output_length,
    pool2d,
    pool2d_input_gradient,
)
from nncalc.records import default, record, replace


def cell_names(shape: tuple[int, ...]) -> tuple[str, ...]:
    """``0.0.0``, ``0.0.1``, …: the names of a (channels, height, width) map's cells, in flatten order."""
    channels, height, width = shape
    return tuple(f"{c}.{r}.{k}" for c in range(channels) for r in range(height) for k in range(width))


def input_names(shape: tuple[int, ...]) -> tuple[str, ...]:
    """``x.0.0.0``, ``x.0.0.1``, …: the default names of an image input's values, in flatten order."""
    return tuple(f"x.{name}" for name in cell_names(shape))


def frozen(values: object) -> np.ndarray:
    """A float64 copy that cannot be written to, as layers hold their parameters."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def exact_text(values: np.ndarray) -> Any:
    """Each number's exact text (``repr``), nested as ``values`` is: the text of numbers not read from a file."""
    if values.ndim == 0:
        return repr(float(values))
    return tuple(exact_text(v) for v in values)


def describe_shape(shape: tuple[int, ...]) -> str:
    """``1×5×5``: a shape as messages and headings write it."""
    return "×".join(str(n) for n in shape)


@record
class SpatialLayout:
    """How a spatial layer was written in its file, so it can be written back the same way.

    weights: "weights" (PyTorch's (out, in, kh, kw)) or "kernel" (Keras's (kh, kw, in, out)).
    biases: "absent", "scalar" or "list".
    pairs: the keys (kernel_size, stride, padding) written as a pair rather than one number.
    given: the optional keys written (stride, padding), so defaults are not written back.
    """

    weights: str = "weights"
    biases: str = "list"
    pairs: tuple[str, ...] = ()
    given: tuple[str, ...] = ()
    name_given: bool = False
    activation_given: bool = False


class SpatialLayer:
    """What every spatial layer answers; the records below add their fields."""

    kind = ""
    dense = False  # not a fully connected layer: code written for those refuses it
    has_activation = True
    input_shape: tuple[int, ...]

    @property
    def output_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def spatial_output(self) -> bool:
        """Whether the layer's values are maps (channels, height, width) rather than a vector."""
        return len(self.output_shape) == 3

    @property
    def n_inputs(self) -> int:
        return prod(self.input_shape)

    @property
    def n_neurons(self) -> int:
        """How many values the layer gives (C·H·W for a map)."""
        return prod(self.output_shape)

    @property
    def n_params(self) -> int:
        return 0

    @cached_property
    def neurons(self) -> tuple[str, ...]:
        """The names of the values the layer gives, in flatten order (``channel.row.column``)."""
        return cell_names(self.output_shape)

    def pre_activation(self, a: np.ndarray) -> np.ndarray:
        """The layer's z for the batch ``a`` (samples, n_inputs): (samples, n_neurons)."""
        raise NotImplementedError

    def pre_activation_with(self, a: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
        """``pre_activation`` with these weights and biases instead of the layer's (as ``parameter_arrays``
        holds them): how a training run steps the layer without making it again; ignored without any."""
        return self.pre_activation(a)

    def input_gradient(self, delta: np.ndarray, received: np.ndarray) -> np.ndarray:
        """∂L/∂(the layer's input) per sample, (samples, n_inputs), from its δ = ∂L/∂z
        (samples, n_neurons) and the input it received: what backpropagation passes down."""
        raise NotImplementedError

    def input_gradient_with(self, delta: np.ndarray, received: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``input_gradient`` with these weights instead of the layer's; ignored by a layer without any."""
        return self.input_gradient(delta, received)

    def parameter_gradients(self, delta: np.ndarray, received: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weights' and biases' gradients summed over the batch (the caller takes the mean);
        empty arrays for a layer without parameters."""
        return NO_PARAMETERS, NO_PARAMETERS

    @property
    def parameter_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The layer's weights and biases as an optimizer steps them; empty for pooling and flatten."""
        return NO_PARAMETERS, NO_PARAMETERS

    def with_parameters(self, weights: np.ndarray, biases: np.ndarray) -> SpatialLayer:
        """The same layer with new weights and biases (their text the exact value); itself when it has none."""
        return self


IDENTITY = BoundActivation.named("identity")
NO_PARAMETERS = frozen(np.zeros(0))  # what a pooling or a flatten has to update


@record
class Conv2d(SpatialLayer):
    """A 2-D convolution (PyTorch's ``Conv2d``): z = Σ W ⋆ window + b per output channel, a = f(z).

    weights (out_channels, in_channels, kh, kw) and biases (out_channels,) are float64 and
    read-only; ``weight_text`` and ``bias_text`` keep each number's text as written, nested
    as the weights are. Padding is with zeros.
    """

    kind = "conv2d"

    name: str
    input_shape: Shape3
    weights: np.ndarray
    biases: np.ndarray
    stride: Pair
    padding: Pair
    activation: BoundActivation
    weight_text: tuple[Any, ...]
    bias_text: tuple[str, ...]
    layout: SpatialLayout = default(SpatialLayout)

    @classmethod
    def build(
        cls,
        name: str,
        input_shape: Shape3,
        weights: object,
        biases: object,
        stride: Pair = (1, 1),
        padding: Pair = (0, 0),
        activation: BoundActivation | None = None,
    ) -> Conv2d:
        """A convolution from arrays (an import, a test): float64 read-only copies, exact text, identity
        activation unless one is given."""
        w, b = frozen(weights), frozen(biases)
        return cls(
            name=name,
            input_shape=tuple(int(n) for n in input_shape),
            weights=w,
            biases=b,
            stride=tuple(int(n) for n in stride),
            padding=tuple(int(n) for n in padding),
            activation=activation or IDENTITY,
            weight_text=exact_text(w),
            bias_text=exact_text(b),
        )

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[0])

    @property
    def kernel_size(self) -> Pair:
        return int(self.weights.shape[2]), int(self.weights.shape[3])

    @property
    def output_shape(self) -> Shape3:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        _, height, width = self.input_shape
        return self.out_channels, output_length(height, kh, sh, ph), output_length(width, kw, sw, pw)

    @property
    def n_params(self) -> int:
        return int(self.weights.size + self.biases.size)

    def pre_activation(self, a: np.ndarray) -> np.ndarray:
        return self.pre_activation_with(a, self.weights, self.biases)

    def pre_activation_with(self, a: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
        return conv2d(a, self.input_shape, weights, biases, self.stride, self.padding)

    def input_gradient(self, delta: np.ndarray, received: np.ndarray) -> np.ndarray:
        return self.input_gradient_with(delta, received, self.weights)

    def input_gradient_with(self, delta: np.ndarray, received: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return conv2d_input_gradient(delta, self.input_shape, weights, self.stride, self.padding)

    def parameter_gradients(self, delta: np.ndarray, received: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shape = self.weights.shape
        return conv2d_parameter_gradients(received, self.input_shape, delta, shape, self.stride, self.padding)

    @property
    def parameter_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.weights, self.biases

    def with_parameters(self, weights: np.ndarray, biases: np.ndarray) -> Conv2d:
        w, b = frozen(weights), frozen(biases)
        return replace(self, weights=w, biases=b, weight_text=exact_text(w), bias_text=exact_text(b))


class _Pooling(SpatialLayer):
    """What max and average pooling share; a = z. Each record below has the same fields."""

    has_activation = False
    activation = IDENTITY
    mode = ""
    input_shape: Shape3
    kernel_size: Pair
    stride: Pair
    padding: Pair

    @property
    def output_shape(self) -> Shape3:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        channels, height, width = self.input_shape
        return channels, output_length(height, kh, sh, ph), output_length(width, kw, sw, pw)

    def pre_activation(self, a: np.ndarray) -> np.ndarray:
        return pool2d(a, self.input_shape, self.kernel_size, self.stride, self.padding, self.mode)

    def input_gradient(self, delta: np.ndarray, received: np.ndarray) -> np.ndarray:
        return pool2d_input_gradient(
            delta, received, self.input_shape, self.kernel_size, self.stride, self.padding, self.mode
        )


@record
class MaxPool2d(_Pooling):
    """The largest value of each window (PyTorch's ``MaxPool2d``); padding is −∞, so it never wins."""

    kind = "maxpool2d"
    mode = "max"

    name: str
    input_shape: Shape3
    kernel_size: Pair
    stride: Pair
    padding: Pair = (0, 0)
    layout: SpatialLayout = default(SpatialLayout)


@record
class AvgPool2d(_Pooling):
    """The mean of each window (PyTorch's ``AvgPool2d``): zero padding counted (``count_include_pad=True``)."""

    kind = "avgpool2d"
    mode = "avg"

    name: str
    input_shape: Shape3
    kernel_size: Pair
    stride: Pair
    padding: Pair = (0, 0)
    layout: SpatialLayout = default(SpatialLayout)


@record
class Flatten(SpatialLayer):
    """Maps to a vector, channels then rows then columns (PyTorch's ``Flatten``); a = z = the input."""

    kind = "flatten"

    name: str
    input_shape: Shape3
    layout: SpatialLayout = default(SpatialLayout)

    has_activation = False
    activation = IDENTITY

    @property
    def output_shape(self) -> tuple[int]:
        return (prod(self.input_shape),)

    @cached_property
    def neurons(self) -> tuple[str, ...]:
        return cell_names(self.input_shape)

    def pre_activation(self, a: np.ndarray) -> np.ndarray:
        return a

    def input_gradient(self, delta: np.ndarray, received: np.ndarray) -> np.ndarray:
        return delta  # the same values in the same order: only the shape they stand for changes
