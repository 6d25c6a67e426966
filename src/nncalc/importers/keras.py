"""A Keras ``Sequential`` model, or a functional model that is a chain, as a network file.

Each ``Dense`` layer is a layer: its ``kernel`` (one row per input) is transposed into
nncalc's one row per neuron, and its activation is mapped to nncalc's name. Each
``Conv2D`` (channels last, no dilation, one group) is a conv2d layer whose ``kernel``
(kh, kw, in, out) is written as Keras keeps it; ``MaxPooling2D`` and ``AveragePooling2D``
are pooling layers (``GlobalAveragePooling2D`` and ``GlobalMaxPooling2D`` one window over
the whole maps, then a flatten) and a ``Flatten`` of maps a flatten layer. The input's shape is the
model's own (height, width, channels), written as nncalc's (channels, height, width).
Keras flattens maps (height, width, channels) where nncalc, as PyTorch, flattens
(channels, height, width): the ``Dense`` after a ``Flatten`` has its weights' columns put
in nncalc's order, so the same picture gives the same outputs. ``padding='same'`` is zero
padding where it pads both sides alike (an odd kernel at stride 1, and wherever the
arithmetic comes out even); where TensorFlow would pad one side more it is refused, and
so is an average pooling whose 'same' padding adds cells (Keras leaves them out of the
mean). An activation layer right after a ``Dense`` or ``Conv2D`` whose own activation is ``linear`` becomes that
layer's activation: ``Activation``, ``ReLU`` (``max_value=6`` is relu6; a
``negative_slope`` alone is leaky ReLU), ``LeakyReLU`` (Keras 3's default slope is 0.3,
while the ``leaky_relu`` activation function's is 0.2: each is carried as written),
``ELU`` and ``Softmax`` over the last axis. ``InputLayer`` is skipped, and so are a
``Flatten`` before the first ``Dense`` and ``Dropout`` (Keras drops only when a model is
called with ``training=True``, never in ``predict``). Anything else is refused, naming
the layer: branches, normalisation, recurrence, two activations in a row.

Keras 3 definitions, checked against the installed Keras 3.15: ``gelu`` is exact
(``approximate=False``), ``hard_sigmoid`` is relu6(z + 3)/6, PyTorch's ``Hardsigmoid``;
``softplus`` is ln(1 + e^z), which PyTorch's (and so nncalc's, and Keras's own on its
torch backend) replaces by z above z = 20, less than 2.1e-9 away. Keras 2's
``hard_sigmoid`` was 0.2z + 0.5, which nncalc does not have, so it is refused from a
Keras older than 3.

Keras is never imported here: layers are recognised by class name (and the class coming
from Keras) and their weights read with ``get_weights()``, which gives NumPy arrays.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers import live_network
from nncalc.importers.spatial import (
    ShapeError,
    Shapes,
    conv_entry,
    flatten_entry,
    global_pool_entries,
    keras_columns,
    pair,
    picture_shape,
    pool_entry,
    same_padding,
    softmax_on_maps,
)

_PACKAGES = ("keras", "tf_keras")  # Keras 3 and 2, and TensorFlow's legacy Keras 2

#: Keras's activation functions (by ``__name__``) to nncalc's activations.
ACTIVATIONS: dict[str, str | dict] = {
    "linear": "identity",
    "relu": "relu",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "softplus": "softplus",
    "softsign": "softsign",
    "silu": "silu",
    "swish": "silu",
    "mish": "mish",
    "relu6": "relu6",
    "hard_sigmoid": "hard_sigmoid",
    "leaky_relu": {"name": "leaky_relu", "negative_slope": 0.2},
    "exponential": "exp",
}

#: Activations whose Keras 2 definition differs from Keras 3's (and PyTorch's).
_KERAS_3_ONLY = ("hard_sigmoid", "leaky_relu")

_UNKNOWN = "is not a layer or an activation nncalc knows"
_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax")
_MODELS = ("Sequential", "Functional")


def network_dict(
    model: Any,
    name: str | None = None,
    input_names: Sequence[str] | None = None,
    *,
    input_shape: Sequence[int] | None = None,
    source: str = "<keras>",
) -> dict:
    """The network file (as a dict) of a Keras ``Sequential`` or functional chain of layers.

    Layers keep their Keras names. ``input_names`` names the inputs (as many as the first
    ``Dense`` layer takes, or one per channel of pictures); without it they are counted.
    ``input_shape`` is one picture's (channels, height, width), nncalc's order, for a model
    whose input leaves its size open. ``source`` is where an error says the model came from.
    """
    where = Location(source)
    if not _is_keras(model, *_MODELS):
        kind = type(model)
        raise InputError(
            f"cannot import: the model is a {kind.__name__} ({kind.__module__}), not a Keras Sequential "
            "or functional model; nncalc cannot see what its call() does",
            where,
        )
    try:
        shapes = Shapes(picture_shape(_declared_maps(model), input_shape))
    except ShapeError as error:
        raise InputError(f"cannot import: the model's input {error}", where) from None
    layers: list[dict] = []
    pending: dict | None = None  # the last Dense or Conv2D layer while it may still take an activation layer
    flattened: tuple | None = None  # the maps a Flatten just turned into a vector, in Keras's order
    for layer in _layers(model, where):
        kind = type(layer).__name__
        if kind == "InputLayer" or kind == "Dropout":
            continue
        try:
            if kind == "Flatten" and (shapes.maps or not layers):
                if shapes.maps:
                    flattened = _keras_order(layer, shapes.shape)
                    shapes.flatten()
                    layers.append(flatten_entry(str(layer.name)))
                    pending = None
                continue
            if kind in _GLOBAL_POOLS:
                layers.extend(_global_pool(layer, shapes))
                pending = flattened = None
                continue
            if kind in _SPATIAL:
                entry = _SPATIAL[kind](layer, shapes, where)
                layers.append(entry)
                pending = entry if entry.get("activation") == "identity" else None
                continue
            if kind == "Dense":
                entry, kernel = _dense(layer, where)
                shapes.dense(kernel.shape[0], kernel.shape[1])
                if flattened is not None:
                    entry["weights"] = keras_columns(kernel, flattened).tolist()
                layers.append(entry)
                pending = entry if entry["activation"] == "identity" else None
                flattened = None
                continue
        except ShapeError as error:
            raise InputError(f"cannot import: {_label(layer)} {error}", where) from None
        if kind in _ACTIVATION_LAYERS and pending is not None:
            if pending.get("type") == "conv2d" and kind in ("Softmax", "Activation"):
                spec = _maps_activation(layer, shapes, where)
            else:
                spec = _activation_layer(layer, where)
            pending["activation"] = spec
            pending = None
            continue
        raise InputError(f"cannot import: {_label(layer)} {_why(kind, layers)}", where)
    if not layers:
        raise InputError("cannot import: the model has no Dense or Conv2D layer", where)
    return live_network(layers, shapes, input_names, name, where)


def _declared_maps(model: Any) -> tuple[int | None, int | None, int | None] | None:
    """(C, H, W), None where open, from the model's input (batch, H, W, C); None for any other input."""
    try:
        shape = tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    if len(shape) != 4:
        return None
    height, width, channels = (None if n is None else int(n) for n in shape[1:])
    return channels, height, width


def _keras_order(layer: Any, maps: tuple) -> tuple | None:
    """The maps (C, H, W) whose Keras flattening (H, W, C) the next Dense reads; None when Keras flattens (C, H, W)."""
    return None if layer.get_config().get("data_format") == "channels_first" else maps


def _channels_last(layer: Any, config: dict, where: Location) -> None:
    """Refuse a layer working on channels-first maps: nncalc reads Keras's maps as (height, width, channels)."""
    if config.get("data_format", "channels_last") not in (None, "channels_last"):
        raise InputError(
            f"cannot import: {_label(layer)} has data_format={config['data_format']!r}; "
            "nncalc imports Keras models with channels last",
            where,
        )


def _padding(layer: Any, config: dict, shapes: Shapes, kernel: tuple, stride: tuple, where: Location) -> tuple:
    """Keras's 'valid' (no padding) or 'same' as zero padding on each side; uneven 'same' padding is refused."""
    if config.get("padding", "valid") == "valid":
        return 0, 0
    sizes = shapes.shape[1:] if shapes.maps else (0, 0)
    found = [same_padding(n, k, s) for n, k, s in zip(sizes, kernel, stride, strict=True)]
    if config.get("padding") != "same" or None in found:
        raise InputError(
            f"cannot import: {_label(layer)} has padding={config.get('padding')!r}, which pads one side more "
            f"than the other here; nncalc pads both sides alike",
            where,
        )
    return found[0], found[1]


def _conv(layer: Any, shapes: Shapes, where: Location) -> dict:
    """A ``Conv2D`` as a layer: its kernel (kh, kw, in, out) written as Keras keeps it, under ``kernel``."""
    config = layer.get_config()
    _channels_last(layer, config, where)
    kernel_size, stride = pair(config["kernel_size"]), pair(config["strides"])
    if pair(config.get("dilation_rate", 1)) != (1, 1) or int(config.get("groups", 1)) != 1:
        raise InputError(
            f"cannot import: {_label(layer)} has dilation_rate={config.get('dilation_rate')} and "
            f"groups={config.get('groups', 1)}; nncalc's conv2d has neither",
            where,
        )
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None) is not None:
        raise InputError(f"cannot import: {_label(layer)} is quantized or has LoRA weights", where)
    use_bias = bool(config.get("use_bias", True))
    values = [np.asarray(v, dtype=np.float64) for v in _weights(layer)]
    if len(values) != (2 if use_bias else 1) or values[0].ndim != 4:
        raise InputError(f"cannot import: {_label(layer)} has no weights yet; build the model first", where)
    kernel = values[0]
    padding = _padding(layer, config, shapes, kernel_size, stride, where)
    shapes.conv(kernel.shape[2], kernel.shape[3], kernel_size, stride, padding)
    activation = _activation(layer.activation, layer, where)
    if activation == "softmax":  # over the channels, Keras's last axis
        softmax_on_maps(shapes.shape, 0)
    biases = values[1] if use_bias else None
    return conv_entry(str(layer.name), biases, stride, padding, activation, kernel=kernel)


def _pool(layer: Any, shapes: Shapes, where: Location) -> dict:
    """A ``MaxPooling2D`` or ``AveragePooling2D`` as a layer.

    Keras's 'same' padding ignores the cells it adds (a mean over fewer cells), so it is
    taken only where it adds none, or, for max pooling, the same number on each side.
    """
    config = layer.get_config()
    _channels_last(layer, config, where)
    kind = "maxpool2d" if type(layer).__name__ in ("MaxPooling2D", "MaxPool2D") else "avgpool2d"
    kernel = pair(config["pool_size"])
    stride = pair(config["strides"]) if config.get("strides") is not None else kernel
    padding = _padding(layer, config, shapes, kernel, stride, where)
    if padding != (0, 0) and kind == "avgpool2d":
        raise InputError(
            f"cannot import: {_label(layer)} has padding='same' that adds cells here, and Keras leaves them "
            "out of the mean; nncalc's avgpool2d counts them, as PyTorch does by default",
            where,
        )
    shapes.pool(kind, kernel, stride, padding)
    return pool_entry(kind, str(layer.name), kernel, stride, padding)


def _maps_activation(layer: Any, shapes: Shapes, where: Location) -> str | dict:
    """An ``Activation`` or ``Softmax`` layer after a ``Conv2D``: its activation, but a softmax there, over
    one axis of the (batch, H, W, C) maps (the channels unless a Softmax says otherwise), is refused."""
    if type(layer).__name__ == "Activation":
        spec = _activation(layer.activation, layer, where)
        axis = -1
    else:
        spec, axis = "softmax", layer.get_config().get("axis", -1)
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if spec == "softmax":
        try:
            if axis not in KERAS_AXES:
                raise ShapeError(f"is taken over axis {axis} of maps")
            softmax_on_maps(shapes.shape, KERAS_AXES[axis])
        except ShapeError as error:
            raise InputError(f"cannot import: {_label(layer)} {error}", where) from None
    return spec


KERAS_AXES = {3: 0, 1: 1, 2: 2, -1: 0, -3: 1, -2: 2}  # an axis of (batch, H, W, C) → the axis of (C, H, W)


def _global_pool(layer: Any, shapes: Shapes) -> list[dict]:
    """``GlobalAveragePooling2D``/``GlobalMaxPooling2D``: one window the size of the maps, then (unless
    ``keepdims``) a flatten of the 1×1 maps, whose order is the channels' in Keras and nncalc alike."""
    return global_pool_entries(layer.get_config(), str(layer.name), type(layer).__name__, shapes)


_GLOBAL_POOLS = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D")

_SPATIAL = {
    "Conv2D": _conv,
    "MaxPooling2D": _pool,
    "MaxPool2D": _pool,
    "AveragePooling2D": _pool,
    "AvgPool2D": _pool,
}


def _is_keras(obj: Any, *kinds: str) -> bool:
    """Whether ``obj`` is one of Keras's own classes ``kinds`` (not a user's class of the same name)."""
    kind = type(obj)
    return kind.__name__ in kinds and kind.__module__.split(".")[0] in _PACKAGES


def _label(layer: Any) -> str:
    """A layer as a refusal names it: its Keras name and class."""
    return f"layer {getattr(layer, 'name', '?')!r} ({type(layer).__name__})"


def _layers(model: Any, where: Location) -> Iterator[Any]:
    """The layers of ``model`` in the order they run, nested models opened in place."""
    steps = list(model.layers) if _is_keras(model, "Sequential") else _chain(model, where)
    for layer in steps:
        if _is_keras(layer, *_MODELS):
            yield from _layers(layer, where)
        else:
            yield layer


def _chain(model: Any, where: Location) -> list[Any]:
    """A functional model's operations from input to output, refusing anything but a single chain.

    Walks back from the one output tensor: every operation on the way must take exactly
    one tensor, until the model's one input is reached.
    """
    inputs, outputs = list(model.inputs), list(model.outputs)
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(
            f"cannot import: the model has {len(inputs)} inputs and {len(outputs)} outputs; "
            "nncalc takes a chain from one input to one output",
            where,
        )
    steps = []
    tensor = outputs[0]
    while tensor is not inputs[0]:
        operation, node_index, _ = tensor._keras_history
        arguments = list(operation._inbound_nodes[node_index].input_tensors)
        if len(arguments) != 1:
            raise InputError(
                f"cannot import: {_label(operation)} takes {len(arguments)} tensors; "
                "nncalc's network is a chain, one layer after another",
                where,
            )
        steps.append(operation)
        tensor = arguments[0]
    return steps[::-1]


def _dense(layer: Any, where: Location) -> tuple[dict, np.ndarray]:
    """A ``Dense`` layer as a layer dict (weights one row per neuron) and its kernel (inputs, units)."""
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None) is not None:
        raise InputError(f"cannot import: {_label(layer)} is quantized or has LoRA weights", where)
    values = [np.asarray(v, dtype=np.float64) for v in _weights(layer)]
    use_bias = bool(getattr(layer, "use_bias", True))
    if len(values) != (2 if use_bias else 1):
        raise InputError(f"cannot import: {_label(layer)} has no weights yet; build the model first", where)
    kernel = values[0]
    entry: dict[str, Any] = {"name": str(layer.name), "weights": kernel.T.tolist()}
    if use_bias:
        entry["biases"] = values[1].reshape(-1).tolist()
    entry["activation"] = _activation(layer.activation, layer, where)
    return entry, kernel


def _weights(layer: Any) -> list:
    """A layer's weights as NumPy arrays (``get_weights()``), without Keras's own NumPy 2 complaint.

    Keras 3's variables convert themselves with ``np.array(self)`` through an ``__array__``
    that takes no ``copy`` keyword, and NumPy 2 warns about it on every call: noise about
    Keras's code, not the user's model, so that one warning is kept quiet here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"__array__ implementation doesn't accept a copy keyword")
        return list(layer.get_weights())


def _activation(function: Any, layer: Any, where: Location) -> str | dict:
    """nncalc's activation for one of Keras's activation functions (a layer's ``activation``)."""
    written = getattr(function, "__name__", None)
    package = str(getattr(function, "__module__", "")).split(".")[0]
    if package not in _PACKAGES or written not in ACTIVATIONS:
        shown = written if written is not None else type(function).__name__
        raise InputError(
            f"cannot import: {_label(layer)} uses the activation {shown!r}, which nncalc does not know "
            f"(known: {', '.join(ACTIVATIONS)})",
            where,
        )
    if written in _KERAS_3_ONLY and _major_version(package) < 3:
        raise InputError(
            f"cannot import: {_label(layer)} uses Keras 2's {written}, whose definition differs "
            "from Keras 3's and PyTorch's",
            where,
        )
    found = ACTIVATIONS[written]
    return dict(found) if isinstance(found, dict) else found  # its own copy: a shared one dumps as a YAML alias


def _major_version(package: str) -> int:
    """The major version of the Keras the model came from (0 if it cannot be told)."""
    version = str(getattr(sys.modules.get(package), "__version__", "0"))
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


def _activation_layer(layer: Any, where: Location) -> str | dict:
    """nncalc's activation for an activation layer, with its parameters."""
    kind = type(layer).__name__
    config = layer.get_config()
    if kind == "Activation":
        return _activation(layer.activation, layer, where)
    if kind == "LeakyReLU":  # Keras 2 called the slope alpha
        slope = config.get("negative_slope", config.get("alpha"))
        return {"name": "leaky_relu", "negative_slope": float(slope)}
    if kind == "ELU":
        return {"name": "elu", "alpha": float(config.get("alpha", 1.0))}
    if kind == "Softmax":
        if config.get("axis", -1) not in (-1, 1, [-1], [1]):
            raise InputError(
                f"cannot import: {_label(layer)} is taken over axis {config.get('axis')}; "
                "nncalc's softmax is over a layer's neurons (axis -1)",
                where,
            )
        return "softmax"
    return _relu_layer(layer, config, where)


def _relu_layer(layer: Any, config: dict, where: Location) -> str | dict:
    """A ``ReLU`` layer: plain, capped at 6 (relu6), or with a slope below zero (leaky ReLU)."""
    cap = config.get("max_value")
    slope = float(config.get("negative_slope") or 0.0)
    threshold = float(config.get("threshold") or 0.0)
    if threshold == 0.0 and cap is None:
        return "relu" if slope == 0.0 else {"name": "leaky_relu", "negative_slope": slope}
    if threshold == 0.0 and slope == 0.0 and float(cap) == 6.0:
        return "relu6"
    raise InputError(
        f"cannot import: {_label(layer)} has max_value={cap}, negative_slope={slope}, threshold={threshold}; "
        "nncalc has relu, relu6 (max_value=6) and leaky_relu (negative_slope)",
        where,
    )


def _why(kind: str, layers: list[dict]) -> str:
    """Why a layer was refused, in the refusal's words."""
    if kind in _ACTIVATION_LAYERS:
        if not layers:
            return "is an activation with no Dense layer before it"
        return "is a second activation in a row; nncalc's layer takes one"
    return _UNKNOWN
