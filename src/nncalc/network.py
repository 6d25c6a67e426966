"""The validated network: names, float64 weight matrices and biases, activations.

A ``Network`` is what every command works on; it is built only by ``nncalc.loader``
(from a file) or by ``Network.with_parameters`` (after a training step). Weights follow
PyTorch's ``Linear.weight``: one row per neuron, one column per input to the layer.
The numbers' text as written in the file is kept too, so derivations can show ``1/3``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.records import default, record, replace

if TYPE_CHECKING:
    from nncalc.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d


@record
class LayerLayout:
    """How a layer was written in its file, so it can be written back the same way.

    weights: "matrix", "kernel", "scalar", "flat" or "neurons" (one mapping per neuron).
    neurons: "absent", "count" or "names" (how the neurons key was given).
    biases: "absent", "scalar", "list" (or "neurons" with per-neuron mappings).
    """

    weights: str = "matrix"
    neurons: str = "absent"
    biases: str = "list"
    name_given: bool = False
    activation_given: bool = False


@record
class Layer:
    """One fully connected layer: z = W·a_prev + b, a = f(z).

    Every layer type answers ``kind``, ``input_shape``, ``output_shape``, ``n_inputs``,
    ``n_neurons``, ``neurons``, ``n_params``, ``activation`` and ``pre_activation``; the
    spatial ones are in ``nncalc.spatial``.
    """

    kind = "dense"
    dense = True  # code written for fully connected layers only checks this (see Network.refuse_spatial)
    has_activation = True
    spatial_output = False

    name: str
    neurons: tuple[str, ...]
    weights: np.ndarray
    biases: np.ndarray
    activation: BoundActivation
    weight_text: tuple[tuple[str, ...], ...]
    bias_text: tuple[str, ...]
    layout: LayerLayout = default(LayerLayout)

    @property
    def n_inputs(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_neurons(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_params(self) -> int:
        return int(self.weights.size + self.biases.size)

    @property
    def input_shape(self) -> tuple[int]:
        return (self.n_inputs,)

    @property
    def output_shape(self) -> tuple[int]:
        return (self.n_neurons,)

    def pre_activation(self, a: np.ndarray) -> np.ndarray:
        """z = A·Wᵀ + b for the batch ``a`` (samples, n_inputs), each sample's bits independent of the batch."""
        from nncalc.engine import linear

        return linear(a, self.weights, self.biases)


AnyLayer = Union[Layer, "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten"]
"""Any layer a network holds: dense (``Layer``) or one of ``nncalc.spatial``'s."""


@record
class Network:
    """A feed-forward network: its inputs' names and its layers, in order.

    ``input_shape`` is (channels, height, width) when the inputs are an image (``inputs:
    {shape: [C, H, W]}``), their values given in PyTorch's flatten order, and None when
    they are a vector; ``inputs`` always names every value.
    """

    inputs: tuple[str, ...]
    layers: tuple[AnyLayer, ...]
    name: str | None = None
    description: str | None = None
    activation: BoundActivation | None = None
    inputs_given_as_names: bool = False
    source: str = "<network>"
    input_shape: tuple[int, ...] | None = None

    @property
    def n_inputs(self) -> int:
        """How many inputs the network takes."""
        return len(self.inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output neurons' names."""
        return self.layers[-1].neurons

    @property
    def n_params(self) -> int:
        """How many weights and biases the network has."""
        return sum(layer.n_params for layer in self.layers)

    @property
    def spatial(self) -> bool:
        """Whether any layer is not fully connected (convolution, pooling, flatten)."""
        return any(not layer.dense for layer in self.layers)

    def refuse_spatial(self, what: str) -> None:
        """Raise ``InputError`` (exit 2) naming the first layer ``what`` cannot work on yet.

        ``what`` is the command or the use, e.g. "backward": "backward does not support
        conv2d layers yet (layer 1 (conv1))". Code written for dense layers calls this first.
        """
        for index, layer in enumerate(self.layers):
            if not layer.dense:
                from nncalc.errors import InputError, Location

                raise InputError(
                    f"{what} does not support {layer.kind} layers yet ({self.layer_label(index)})",
                    Location(self.source),
                )

    def layer_label(self, index: int) -> str:
        """``layer 2 (output)``: how messages and headings name a layer (index from 0)."""
        return f"layer {index + 1} ({self.layers[index].name})"

    def with_parameters(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> Network:
        """The same network with new weights and biases (their text becomes the exact value).

        One weights and one biases array per layer, in order; a convolution's are shaped as its
        kernel and biases, and a pooling's or flatten's (which have none) are ignored."""
        layers = []
        for layer, w, b in zip(self.layers, weights, biases, strict=True):
            if not layer.dense:
                layers.append(layer.with_parameters(w, b))
                continue
            w = np.array(w, dtype=np.float64)
            b = np.array(b, dtype=np.float64)
            w.flags.writeable = False
            b.flags.writeable = False
            layers.append(
                replace(
                    layer,
                    weights=w,
                    biases=b,
                    weight_text=tuple(tuple(repr(float(v)) for v in row) for row in w),
                    bias_text=tuple(repr(float(v)) for v in b),
                )
            )
        return replace(self, layers=tuple(layers))

    # -- the library's use of a network: each delegates to nncalc.api, imported only when used --

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> Network:
        """A network from the file format as a dict, validated as a file is (raises ``NncalcError``)."""
        from nncalc.api import network_from_dict

        return network_from_dict(data, source)

    def forward(self, inputs: Any, **options: Any) -> Any:
        """Run one sample or a batch through the network: a ``nncalc.api.ForwardResult``."""
        from nncalc.api import forward

        return forward(self, inputs, **options)

    def backward(self, inputs: Any, target: Any, **options: Any) -> Any:
        """One step of gradient descent (``lr``, ``loss``, ...): a ``nncalc.api.BackwardResult``."""
        from nncalc.api import backward

        return backward(self, inputs, target, **options)

    def grade(self, inputs: Any, answers: Any, **options: Any) -> Any:
        """Mark worked answers for one sample: ``nncalc.api.Marks``."""
        from nncalc.api import grade

        return grade(self, inputs, answers, **options)

    def save(self, path: Any, force: bool = True) -> None:
        """Write the network in the file format; ``nncalc.load`` reads it back to the same bits."""
        from nncalc.api import save

        save(self, path, force)

    def __repr__(self) -> str:
        if self.spatial:  # <Network 'x': 1×5×5 → conv2d 1×3×3 (relu) → maxpool2d 1×2×2 → flatten 4 → 2 (softmax), …>
            steps = ["×".join(map(str, self.input_shape or (self.n_inputs,)))]
            for layer in self.layers:
                step = ("" if layer.dense else f"{layer.kind} ") + "×".join(map(str, layer.output_shape))
                steps.append(step + (f" ({layer.activation.describe()})" if layer.has_activation else ""))
            return f"<Network {self.name or self.source!r}: {' → '.join(steps)}, {self.n_params} parameters>"
        shape = "-".join(str(n) for n in (self.n_inputs, *(layer.n_neurons for layer in self.layers)))
        activations = ", ".join(layer.activation.describe() for layer in self.layers)
        return f"<Network {self.name or self.source!r}: {shape} ({activations}), {self.n_params} parameters>"
