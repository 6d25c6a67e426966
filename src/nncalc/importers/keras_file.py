"""Importing a saved Keras model: a ``.keras`` archive, or a legacy Keras HDF5 ``.h5`` file.

A ``.keras`` file is a zip archive of ``config.json`` (the model's architecture) and
``model.weights.h5`` (its weights, HDF5). A legacy ``.h5`` holds both in one HDF5 file:
the architecture as JSON in the ``model_config`` attribute, the weights under
``model_weights``. Nothing in either is executed: the JSON is read as data, the weights
with h5py (the optional extra ``nncalc[keras]``).

The model must be a chain (a ``Sequential``, or a ``Functional`` model whose layers each
take the one before) of layers and activations, as for a live Keras model
(:mod:`nncalc.importers.keras` says how each is read): a ``Dense`` or ``Conv2D`` with its
``activation`` and ``use_bias``; ``MaxPooling2D``, ``AveragePooling2D`` and a ``Flatten``
of maps, whose next ``Dense`` gets its columns in nncalc's (C, H, W) order; ``Activation``,
``ReLU``, ``LeakyReLU``, ``ELU`` and ``Softmax`` layers fold into the layer before them when
its activation is linear. The input's shape (batch, H, W, C) is read from the
``InputLayer``'s ``batch_shape`` (or Keras 2's ``batch_input_shape``).
``InputLayer``, a ``Flatten`` before the first ``Dense`` and ``Dropout`` (inactive
when a saved model predicts) change nothing and are skipped; anything else is refused,
naming the layer.

Keras's own definitions where they differ from PyTorch's: the ``leaky_relu`` function's
slope is 0.2; a ``LeakyReLU`` layer's is in its config; Keras 3's ``hard_sigmoid`` is
PyTorch's (relu6(z + 3) / 6), Keras 2's (0.2z + 0.5) is not, and is refused. Keras's
``softplus`` has no threshold: above z = 20 it differs from nncalc's by less than 2·10⁻⁹.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers.files import (
    DEFAULT_MAX_BYTES,
    HDF5_MAGIC,
    ZIP_ERRORS,
    Dense,
    as_float64,
    build_network,
    read_bytes,
)
from nncalc.importers.keras import ACTIVATIONS, KERAS_AXES  # one table of Keras names, live model or file
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
from nncalc.text import visible

CONFIG_LIMIT = 16 * 1024 * 1024  # bytes of config.json: a model's architecture is a few kilobytes
_H5PY_MISSING = "reading .keras files needs h5py: pip install 'nncalc[keras]'"
_SKIPPED = {"InputLayer", "Dropout"}
_POOLS = {"MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"}
_GLOBAL_POOLS = {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D"}
_INBOUND_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)

Weights = Callable[[str], list[np.ndarray]]  # a layer's name → its arrays, kernel first


def network_dict(
    path: str | Path,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    input_shape: Sequence[int] | None = None,
) -> dict:
    """The network file (as a dict) for the Keras model saved in ``path`` (``.keras``, or legacy ``.h5``).

    ``input_shape`` (C, H, W) gives the picture size where the model leaves it open.
    """
    data = read_bytes(Path(path), max_bytes)
    legacy = data.startswith(HDF5_MAGIC)
    return from_bytes(data, str(path), Path(path).stem if name is None else name, max_bytes, legacy, input_shape)


def from_bytes(
    data: bytes,
    source: str,
    name: str | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    legacy=False,
    input_shape: Sequence[int] | None = None,
) -> dict:
    """:func:`network_dict` for a file already read: ``legacy`` for an HDF5 ``.h5``, else a ``.keras`` archive."""
    try:
        if legacy:
            return _from_legacy_h5(data, source, name, max_bytes, input_shape)
        return _from_archive(data, source, name, max_bytes, input_shape)
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:  # a damaged or hostile file
        raise InputError(f"not a readable Keras file: {visible(str(exc))}", Location(source)) from None


def _h5py(source: str):
    """The h5py module, or an error saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise InputError(_H5PY_MISSING, Location(source)) from None
    return h5py


# --- the .keras archive ---


def _from_archive(data: bytes, source: str, name: str | None, max_bytes: int, input_shape=None) -> dict:
    """config.json and model.weights.h5 from the zip archive, each read within its cap (h5py only for the weights)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS:
        raise InputError("not a .keras file: not a zip archive", Location(source)) from None
    config = _parse_json(_member(archive, "config.json", CONFIG_LIMIT, source), "config.json", source)
    h5py = _h5py(source)
    weights_file = h5py.File(io.BytesIO(_member(archive, "model.weights.h5", max_bytes, source)), "r")
    with weights_file:
        weights = _archive_weights(weights_file, max_bytes, source)
        return build_network(name, *_chain(config, weights, source, True, input_shape))


def _member(archive: zipfile.ZipFile, member: str, limit: int, source: str) -> bytes:
    """One member's bytes, refused if it is missing or unpacks (as declared, or in fact) past ``limit``."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise InputError(f"not a .keras file: it has no {member}", Location(source)) from None
    if info.file_size > limit:
        raise InputError(
            f"{member} unpacks to {info.file_size:,} bytes, more than the limit of {limit:,}", Location(source)
        )
    try:
        with archive.open(info) as stream:
            content = stream.read(limit + 1)
    except ZIP_ERRORS as exc:
        raise InputError(f"{member} cannot be unpacked: {visible(str(exc))}", Location(source)) from None
    if len(content) > limit:
        raise InputError(f"{member} unpacks to more than the limit of {limit:,} bytes", Location(source))
    return content


def _parse_json(raw: bytes | str, what: str, source: str) -> object:
    """JSON text read as data; any fault in it one located error."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text)
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        reason = "it nests too deeply" if isinstance(exc, RecursionError) else visible(str(exc))
        raise InputError(f"{what} is not readable JSON: {reason}", Location(source)) from None


def _archive_weights(weights_file, max_bytes: int, source: str) -> Weights:
    """A layer's arrays in model.weights.h5: ``layers/<key>/vars/0, 1, …``, the key's vars named by the layer."""
    by_name = {}
    layers = weights_file.get("layers")
    for key in layers.keys() if layers is not None else ():
        variables = layers[key].get("vars")
        if variables is not None:
            label = variables.attrs.get("name", key)
            by_name[label.decode() if isinstance(label, bytes) else str(label)] = variables

    def arrays(layer: str) -> list[np.ndarray]:
        variables = by_name.get(layer)
        if variables is None:
            raise InputError(f"model.weights.h5 has no weights for the layer {visible(layer)!r}", Location(source))
        return [_dataset(variables[str(i)], f"{layer}/vars/{i}", max_bytes, source) for i in range(len(variables))]

    return arrays


def _dataset(dataset, what: str, max_bytes: int, source: str) -> np.ndarray:
    """An HDF5 dataset's numbers, its declared size checked before anything is read."""
    if not hasattr(dataset, "shape") or dataset.dtype.kind not in "fiu":
        raise InputError(f"the weights {visible(what)!r} are not an array of numbers", Location(source))
    if dataset.size * 8 > max_bytes:
        raise InputError(
            f"the weights {visible(what)!r} declare {dataset.size:,} numbers, more than the limit allows",
            Location(source),
        )
    return as_float64(np.asarray(dataset[()]), f"the weights {visible(what)!r}", source)


# --- the legacy HDF5 file ---


def _from_legacy_h5(data: bytes, source: str, name: str | None, max_bytes: int, input_shape=None) -> dict:
    """The architecture from the ``model_config`` attribute, the weights from ``model_weights``."""
    h5py = _h5py(source)
    with h5py.File(io.BytesIO(data), "r") as file:
        raw = file.attrs.get("model_config")
        if raw is None:
            raise InputError(
                "the HDF5 file holds no model_config: it is weights only; save the whole model (model.save)",
                Location(source),
            )
        config = _parse_json(raw, "model_config", source)
        version = file.attrs.get("keras_version", b"")
        keras3 = str(version.decode() if isinstance(version, bytes) else version).startswith("3")
        weights = file.get("model_weights")
        if weights is None:
            raise InputError("the HDF5 file holds no model_weights", Location(source))
        arrays = _legacy_weights(weights, max_bytes, source)
        return build_network(name, *_chain(config, arrays, source, keras3, input_shape))


def _legacy_weights(weights, max_bytes: int, source: str) -> Weights:
    """A layer's arrays in ``model_weights/<layer>``, in the order of its ``weight_names`` attribute."""

    def arrays(layer: str) -> list[np.ndarray]:
        group = weights.get(layer)
        if group is None:
            raise InputError(f"model_weights has no weights for the layer {visible(layer)!r}", Location(source))
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])]
        return [_dataset(group[n], n, max_bytes, source) for n in names]

    return arrays


# --- the architecture: a chain of layers ---


def _chain(
    config: object, weights: Weights, source: str, keras3: bool, input_shape: Sequence[int] | None = None
) -> tuple[list[Dense | dict], dict | None]:
    """The model's layers in order, folded into dense layers with their activations.

    Layers are numbered from 1 as ``model.summary()`` lists them, without the InputLayer.
    """
    layers = _ordered_layers(config, source)
    try:
        maps = picture_shape(_declared_maps(layers), input_shape)
    except ShapeError as error:
        raise InputError(f"cannot import: the model's input {error}", Location(source)) from None
    builder = _Builder(weights, source, keras3, maps)
    counted = [layer for layer in layers if layer.get("class_name") != "InputLayer"]  # as model.summary() lists them
    for index, layer in enumerate(counted, start=1):
        builder.take(index, layer)
    return builder.finish(), builder.inputs()


def _declared_maps(layers: list[dict]) -> tuple[int | None, int | None, int | None] | None:
    """(C, H, W), None where open, from the model's input shape (batch, H, W, C): an InputLayer's
    ``batch_shape`` (Keras 3) or ``batch_input_shape`` (Keras 2, also on a Sequential's first layer);
    None for an input that is not pictures."""
    for layer in layers[:1]:
        config = layer.get("config")
        if not isinstance(config, dict):
            return None
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        if not isinstance(shape, list) or len(shape) != 4:
            return None
        sizes = [n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None for n in shape[1:]]
        height, width, channels = sizes
        return channels, height, width
    return None


def _ordered_layers(config: object, source: str) -> list[dict]:
    """A Sequential's layers as listed; a Functional model's from its input, each taking the one before."""
    if not isinstance(config, dict) or not isinstance(config.get("config"), (dict, list)):
        raise InputError("the model config is not a Keras model", Location(source))
    kind, body = config.get("class_name"), config["config"]
    layers = body if isinstance(body, list) else body.get("layers")
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise InputError(f"cannot import: the model ({visible(str(kind))}) lists no layers", Location(source))
    if kind == "Sequential":
        return layers
    if kind in ("Functional", "Model"):
        return _functional_chain(layers, source)
    raise InputError(
        f"cannot import: a {visible(str(kind))} model is neither Sequential nor Functional", Location(source)
    )


def _functional_chain(layers: list[dict], source: str) -> list[dict]:
    """The layers of a Functional model in the order they are called; refused unless they form one chain."""
    ordered = [layer for layer in layers if layer.get("class_name") == "InputLayer"]
    if len(ordered) != 1:
        raise InputError(
            f"cannot import: the model has {len(ordered)} inputs; nncalc imports a chain from one", Location(source)
        )
    readers: dict[str, list[dict]] = {}
    for layer in layers:
        for parent in _inbound(layer, source):
            readers.setdefault(parent, []).append(layer)
    current = ordered[0]
    while readers.get(_layer_name(current)):
        following = readers[_layer_name(current)]
        if len(following) > 1:
            raise InputError(
                f"cannot import: the layers {visible(_layer_name(following[0]))!r} and "
                f"{visible(_layer_name(following[1]))!r} both take {visible(_layer_name(current))!r}: "
                "the model branches there",
                Location(source),
            )
        current = following[0]
        ordered.append(current)
    if len(ordered) != len(layers):
        left = next(layer for layer in layers if all(layer is not seen for seen in ordered))
        raise InputError(
            f"cannot import: the layer {visible(_layer_name(left))!r} is not on the chain from the input",
            Location(source),
        )
    return ordered


def _layer_name(layer: dict) -> str:
    config = layer.get("config")
    return str(layer.get("name") or (config.get("name") if isinstance(config, dict) else "") or "")


def _inbound(layer: dict, source: str) -> list[str]:
    """The names of the layers whose outputs ``layer`` takes; a layer called twice or on two inputs is refused."""
    nodes = layer.get("inbound_nodes") or []
    if not nodes:
        return []
    try:
        if len(nodes) == 1:
            node = nodes[0]
            if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}} holding __keras_tensor__s
                parents = [history[0] for history in _keras_histories(node)]
            else:  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
                parents = [entry[0] for entry in node]
            if len(parents) == 1 and isinstance(parents[0], str):
                return parents
    except _INBOUND_ERRORS:
        pass
    raise InputError(
        f"cannot import: the layer {visible(_layer_name(layer))!r} takes more than one input or is called "
        "more than once; nncalc imports a chain",
        Location(source),
    )


def _keras_histories(value: object, depth: int = 0) -> list[list]:
    """Every ``keras_history`` in a Keras 3 call's arguments."""
    if depth > 20:
        raise ValueError("nested too deeply")
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"]]
        return [h for item in value.values() for h in _keras_histories(item, depth + 1)]
    if isinstance(value, list):
        return [h for item in value for h in _keras_histories(item, depth + 1)]
    return []


class _Builder:
    """Layers folded one at a time: a Dense or Conv2D opens a layer, an activation layer closes it."""

    def __init__(self, weights: Weights, source: str, keras3: bool, maps: tuple[int, int, int] | None = None):
        self.weights = weights
        self.source = source
        self.keras3 = keras3
        self.shapes = Shapes(maps)
        self.done: list[Dense | dict] = []
        self.open: Dense | dict | None = None  # a Dense or Conv2D whose activation is still linear
        self.flattened: tuple | None = None  # the maps a Flatten just made a vector, in Keras's order

    def refuse(self, index: int, layer: dict, why: str = "is not a layer or an activation nncalc knows"):
        kind = visible(str(layer.get("class_name")))
        return InputError(
            f"cannot import: layer {index} {visible(_layer_name(layer))!r} ({kind}) {why}", Location(self.source)
        )

    def inputs(self) -> dict | None:
        """``{"shape": [C, H, W]}`` for a model of images; None for vectors (counted from the first Dense)."""
        shape = self.shapes.input
        return {"shape": list(shape)} if shape is not None and len(shape) == 3 else None

    def take(self, index: int, layer: dict) -> None:
        kind, config = layer.get("class_name"), layer.get("config")
        if not isinstance(config, dict):
            raise self.refuse(index, layer, "has no config")
        if kind in _SKIPPED:
            return
        try:
            if kind == "Flatten" and (self.shapes.maps or (not self.done and self.open is None)):
                if self.shapes.maps:
                    self.flatten(layer, config)
                return
            if kind == "Dense":
                self.dense(index, layer, config)
                return
            if kind == "Conv2D":
                self.conv(index, layer, config)
                return
            if kind in _POOLS:
                self.pool(index, layer, config)
                return
            if kind in _GLOBAL_POOLS:
                self.close()
                self.done.extend(global_pool_entries(config, _layer_name(layer) or None, str(kind), self.shapes))
                self.flattened = None
                return
        except ShapeError as error:
            raise self.refuse(index, layer, str(error)) from None
        if isinstance(self.open, dict) and kind in ("Softmax", "Activation"):
            spec = self.maps_activation(index, layer, config)
        else:
            spec = self.activation_layer(index, layer, config)
        if spec == "identity":
            return
        if self.open is None:
            if self.done:
                why = "follows a layer that has its activation already, or one that takes none"
            else:
                why = "comes before any Dense layer"
            raise self.refuse(index, layer, f"{why}; each of nncalc's layers has one activation")
        self.close(spec)

    def dense(self, index: int, layer: dict, config: dict) -> None:
        """A Dense layer: kernel (inputs, units) turned to nncalc's (units, inputs), its bias, its activation."""
        if config.get("lora_rank") or config.get("quantization_config"):
            raise self.refuse(index, layer, "is quantized or has LoRA weights")
        self.close()
        arrays = self.weights(_layer_name(layer))
        use_bias = config.get("use_bias", True)
        units = config.get("units")
        if len(arrays) != (2 if use_bias else 1) or arrays[0].ndim != 2 or arrays[0].shape[1] != units:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise self.refuse(index, layer, f"has weights of shapes [{shapes}], not a kernel for {units} units")
        kernel, biases = arrays[0], arrays[1] if use_bias else None
        if biases is not None and biases.shape != (units,):
            raise self.refuse(index, layer, f"has a bias of shape {biases.shape} for {units} units")
        self.shapes.dense(kernel.shape[0], kernel.shape[1])
        weights = kernel.T if self.flattened is None else keras_columns(kernel, self.flattened)
        self.flattened = None
        spec = self.activation(index, layer, config.get("activation", "linear"))
        self.open = Dense(_layer_name(layer) or None, weights, biases, "identity")
        if spec != "identity":
            self.close(spec)

    def conv(self, index: int, layer: dict, config: dict) -> None:
        """A Conv2D, channels last: its kernel (kh, kw, in, out) written as Keras keeps it, under ``kernel``."""
        self.channels_last(index, layer, config)
        self.close()
        if pair(config.get("dilation_rate", 1)) != (1, 1) or config.get("groups", 1) != 1:
            raise self.refuse(index, layer, "has a dilation_rate or groups; nncalc's conv2d has neither")
        if config.get("lora_rank") or config.get("quantization_config"):
            raise self.refuse(index, layer, "is quantized or has LoRA weights")
        arrays = self.weights(_layer_name(layer))
        use_bias = config.get("use_bias", True)
        filters = config.get("filters")
        if len(arrays) != (2 if use_bias else 1) or arrays[0].ndim != 4 or arrays[0].shape[3] != filters:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise self.refuse(index, layer, f"has weights of shapes [{shapes}], not a kernel for {filters} filters")
        kernel, biases = arrays[0], arrays[1] if use_bias else None
        if biases is not None and biases.shape != (filters,):
            raise self.refuse(index, layer, f"has a bias of shape {biases.shape} for {filters} filters")
        size, stride = pair(kernel.shape[:2]), pair(config.get("strides", 1))
        padding = self.padding(index, layer, config, size, stride)
        self.shapes.conv(kernel.shape[2], kernel.shape[3], size, stride, padding)
        spec = self.activation(index, layer, config.get("activation", "linear"))
        if spec == "softmax":  # over the channels, Keras's last axis
            softmax_on_maps(self.shapes.shape, 0)
        self.open = conv_entry(_layer_name(layer) or None, biases, stride, padding, "identity", kernel=kernel)
        if spec != "identity":
            self.close(spec)

    def pool(self, index: int, layer: dict, config: dict) -> None:
        """MaxPooling2D or AveragePooling2D; 'same' padding only where it adds no cells to an average."""
        self.channels_last(index, layer, config)
        self.close()
        kind = "maxpool2d" if layer.get("class_name") in ("MaxPooling2D", "MaxPool2D") else "avgpool2d"
        size = pair(config.get("pool_size", 2))
        stride = pair(config["strides"]) if config.get("strides") is not None else size
        padding = self.padding(index, layer, config, size, stride)
        if padding != (0, 0) and kind == "avgpool2d":
            raise self.refuse(
                index, layer, "has padding 'same' that adds cells, which Keras leaves out of the mean and nncalc counts"
            )
        self.shapes.pool(kind, size, stride, padding)
        self.done.append(pool_entry(kind, _layer_name(layer) or None, size, stride, padding))

    def flatten(self, layer: dict, config: dict) -> None:
        """A Flatten of maps: Keras's order (H, W, C) unless it is told the maps are channels first."""
        self.close()
        if config.get("data_format") != "channels_first":
            self.flattened = self.shapes.shape
        self.shapes.flatten()
        self.done.append(flatten_entry(_layer_name(layer) or None))

    def maps_activation(self, index: int, layer: dict, config: dict) -> str | dict:
        """An Activation or Softmax layer after a Conv2D: its activation, but a softmax there, over one axis
        of the (batch, H, W, C) maps (the channels unless a Softmax says otherwise), is refused."""
        if layer.get("class_name") == "Activation":
            spec, axis = self.activation(index, layer, config.get("activation")), -1
        else:
            spec, axis = "softmax", config.get("axis", -1)
            axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if spec == "softmax":
            try:
                if axis not in KERAS_AXES:
                    raise ShapeError(f"is taken over axis {visible(str(axis))} of maps")
                softmax_on_maps(self.shapes.shape, KERAS_AXES[axis])
            except ShapeError as error:
                raise self.refuse(index, layer, str(error)) from None
        return spec

    def channels_last(self, index: int, layer: dict, config: dict) -> None:
        if config.get("data_format", "channels_last") not in (None, "channels_last"):
            raise self.refuse(index, layer, "works on channels-first maps; nncalc imports Keras models channels last")

    def padding(self, index: int, layer: dict, config: dict, size: tuple, stride: tuple) -> tuple[int, int]:
        """'valid' is no padding; 'same' is zero padding where it pads both sides alike."""
        mode = config.get("padding", "valid")
        if mode == "valid":
            return 0, 0
        sizes = self.shapes.shape[1:] if self.shapes.maps else (0, 0)
        found = [same_padding(n, k, s) for n, k, s in zip(sizes, size, stride, strict=True)]
        if mode != "same" or None in found:
            raise self.refuse(
                index, layer, f"has padding {visible(str(mode))!r}, which pads one side more than the other here"
            )
        return found[0], found[1]

    def close(self, spec: str | dict = "identity") -> None:
        """The open layer, if any, done with the activation ``spec`` (its linear one by default)."""
        if isinstance(self.open, dict):
            self.open["activation"] = spec
            self.done.append(self.open)
        elif self.open is not None:
            self.done.append(Dense(self.open.name, self.open.weights, self.open.biases, spec))
        self.open = None

    def finish(self) -> list[Dense | dict]:
        self.close()
        if not self.done:
            raise InputError("cannot import: the model has no Dense layer", Location(self.source))
        return self.done

    def activation(self, index: int, layer: dict, value: object) -> str | dict:
        """nncalc's activation for a Keras activation name (or its serialized function)."""
        if isinstance(value, dict) and value.get("class_name") == "function":
            value = value.get("config")
        if not isinstance(value, str):
            raise self.refuse(index, layer, "has an activation nncalc cannot read (a custom function?)")
        if value == "hard_sigmoid" and not self.keras3:
            raise self.refuse(index, layer, "uses Keras 2's hard_sigmoid, 0.2z + 0.5, which is not PyTorch's z/6 + 1/2")
        if value not in ACTIVATIONS:
            raise self.refuse(index, layer, f"has the activation {visible(value)!r}, which nncalc does not have")
        return ACTIVATIONS[value]

    def activation_layer(self, index: int, layer: dict, config: dict) -> str | dict:
        """nncalc's activation for an activation layer (Activation, ReLU, LeakyReLU, ELU, Softmax)."""
        kind = layer.get("class_name")
        if kind == "Activation":
            return self.activation(index, layer, config.get("activation"))
        if kind == "ReLU":
            return self.relu(index, layer, config)
        if kind == "LeakyReLU":
            slope = config.get("negative_slope", config.get("alpha", 0.3))
            return {"name": "leaky_relu", "negative_slope": _number(slope)}
        if kind == "ELU":
            alpha = _number(config.get("alpha", 1.0))
            return "elu" if alpha == 1.0 else {"name": "elu", "alpha": alpha}
        if kind == "Softmax":
            if config.get("axis", -1) not in (-1, 1):
                raise self.refuse(index, layer, "is not over the neurons (axis -1)")
            return "softmax"
        raise self.refuse(index, layer)

    def relu(self, index: int, layer: dict, config: dict) -> str | dict:
        """ReLU(max_value, negative_slope, threshold): relu, relu6 or leaky_relu; other settings are refused."""
        top, slope, threshold = config.get("max_value"), config.get("negative_slope") or 0, config.get("threshold") or 0
        if threshold == 0 and slope == 0 and top in (None, 6, 6.0):
            return "relu" if top is None else "relu6"
        if threshold == 0 and top is None and isinstance(slope, (int, float)):
            return {"name": "leaky_relu", "negative_slope": float(slope)}
        raise self.refuse(index, layer, f"has max_value={top}, negative_slope={slope}, threshold={threshold}")


def _number(value: object) -> float:
    """A number from the config, as a float; anything else is not a parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return float(value)
