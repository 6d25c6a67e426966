"""Importing a model from a file: which format it is, and the parts the weight-file formats share.

:func:`import_file` reads the file once (never more than ``max_bytes``), tells its format
by its first bytes, or by its suffix where the bytes say nothing certain, and hands the
bytes to that format's reader. Nothing in a file is ever executed: NumPy archives are read
with ``allow_pickle=False``, the rest by hand or with h5py.

NumPy archives and safetensors files hold bare tensors, named, without activations:
:func:`dense_layers` groups their names into layers (``0.weight``/``0.bias``,
``fc1.weight``/``fc1.bias``, ``W1``/``b1``, ``dense/kernel``/``dense/bias``) and turns each
matrix the way nncalc writes it (one row per neuron); :func:`build_network` makes the
network file's dict, with the activations the user names.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nncalc.activations import known_names, lookup
from nncalc.errors import InputError, Location
from nncalc.records import record
from nncalc.text import visible

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # as the CLI's --max-file-size
SUPPORTED = ".npz (NumPy), .safetensors, .onnx, .keras and .h5 (Keras)"
_SUFFIXES = {
    ".npz": "npz",
    ".safetensors": "safetensors",
    ".onnx": "onnx",
    ".keras": "keras",
    ".h5": "h5",
    ".hdf5": "h5",
}
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# every way the zipfile module fails on a damaged archive: bad structure, a bad CRC or
# deflate stream, a compression method or version it lacks, an encrypted member
ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, NotImplementedError, RuntimeError)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

ActivationSpec = str | dict


@record
class Dense:
    """One dense layer as nncalc writes it: ``weights`` (neurons, inputs), ``biases`` or None, an activation."""

    name: str | None
    weights: np.ndarray
    biases: np.ndarray | None = None
    activation: ActivationSpec | None = None


def import_file(
    path: str | Path,
    activations: Sequence[ActivationSpec] | None = None,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    input_shape: Sequence[int] | None = None,
) -> dict:
    """The network file (as a dict) for the model in ``path``: NumPy, safetensors, ONNX or Keras.

    ``activations`` (one for every layer, or one per layer) is needed, and only allowed, for
    the formats that store none (.npz, .safetensors). ``name`` names the network (default:
    the file's name without its suffix). ``input_shape`` (C, H, W) gives the picture size of
    an ONNX or Keras model of convolutions that leaves it open (the weight-only formats hold
    dense layers, which take none). A file larger than ``max_bytes`` is refused.
    """
    from nncalc.importers import keras_file, npz, onnx, safetensors

    source = str(path)
    data = read_bytes(Path(path), max_bytes)
    kind = detect_format(data) or _SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(f"not a model file nncalc can read; it reads {SUPPORTED}", Location(source))
    if kind in ("onnx", "keras", "h5") and activations:
        raise InputError(
            f"the file is {kind.upper() if kind == 'onnx' else 'Keras'}, which stores its activations: "
            "leave out --activation",
            Location("--activation"),
        )
    if input_shape is not None and kind not in ("onnx", "keras", "h5"):
        raise InputError(
            "the file holds dense layers only, whose inputs have no picture shape: leave out --input-shape",
            Location("--input-shape"),
        )
    name = name if name is not None else Path(path).stem
    if kind == "npz":
        return npz.from_bytes(data, source, activations, name, max_bytes)
    if kind == "safetensors":
        return safetensors.from_bytes(data, source, activations, name)
    if kind == "onnx":
        return onnx.from_bytes(data, source, name, input_shape)
    return keras_file.from_bytes(data, source, name, max_bytes, legacy=kind == "h5", input_shape=input_shape)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The whole file, refused with a located error if missing, unreadable or larger than ``max_bytes``.

    As for network files (the same reader), the cap holds while reading too: a pipe or a
    device reports no size.
    """
    from nncalc.yamlsource import read_capped

    return read_capped(path, max_bytes)


def detect_format(data: bytes) -> str | None:
    """The format the bytes themselves show ("npz", "keras", "h5", "safetensors", "onnx"), or None.

    A zip archive is a Keras file when it holds config.json and a NumPy archive when it
    holds .npy members; HDF5 has its signature; safetensors starts with an 8-byte header
    length and a JSON object; ONNX (protobuf has no signature) is a message whose fields
    parse and include field 7, the graph.
    """
    if data.startswith(ZIP_MAGIC):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except ZIP_ERRORS:
            return None
        if "config.json" in names:
            return "keras"
        return "npz" if any(n.endswith(".npy") for n in names) else None
    if data.startswith(HDF5_MAGIC):
        return "h5"
    if len(data) > 9:
        (length,) = struct.unpack("<Q", data[:8])
        if 2 <= length <= len(data) - 8 and data[8:9] == b"{":
            return "safetensors"
    if data[:1] == b"\x08" and _looks_like_onnx(data):
        return "onnx"
    return None


def _looks_like_onnx(data: bytes) -> bool:
    """True when the top level parses as protobuf fields and holds a graph (field 7, length-delimited)."""
    from nncalc.importers.protobuf import LENGTH, WireError, fields

    try:
        return any(number == 7 and wire == LENGTH for number, wire, _, _ in fields(data))
    except WireError:
        return False


# --- activations the user names (the weight-only formats store none) ---


def activation_specs(given: Sequence[ActivationSpec] | None, count: int, source: str) -> list[ActivationSpec]:
    """One activation per layer from ``given``: one for all layers, or exactly one per layer.

    A name is checked against nncalc's registry and written as the registry names it; a
    mapping (a name with parameters) is passed on for the network loader to check.
    """
    layers = f"{count} layer{'s' * (count != 1)}"
    if not given:
        example = ",".join(["relu"] * (count - 1) + ["softmax"]) if count > 1 else "sigmoid"
        raise InputError(
            f"the file stores weights but no activations: give --activation with one name for all "
            f"{layers} or one per layer, e.g. --activation {example}",
            Location(source),
        )
    if len(given) not in (1, count):
        raise InputError(
            f"{len(given)} activations given for {layers}: give one for all layers or one per layer",
            Location("--activation"),
        )
    specs = [_activation_spec(spec) for spec in given]
    return specs * count if len(specs) == 1 else specs


def with_activations(layers: Sequence[Dense], given: Sequence[ActivationSpec] | None, source: str) -> list[Dense]:
    """``layers`` with the activations the user named (see :func:`activation_specs`)."""
    specs = activation_specs(given, len(layers), source)
    return [Dense(layer.name, layer.weights, layer.biases, spec) for layer, spec in zip(layers, specs, strict=True)]


def _activation_spec(spec: ActivationSpec) -> ActivationSpec:
    """A registry name for a name the user wrote (any case, '-' or '_'); a mapping unchanged."""
    if isinstance(spec, dict):
        return spec
    found = lookup(spec.strip())
    if found is None:
        raise InputError(
            f"unknown activation {visible(spec)!r}; nncalc knows {', '.join(known_names())}",
            Location("--activation"),
        )
    return found.name


# --- the network file ---


def build_network(name: str | None, layers: Sequence[Dense | dict], inputs: int | dict | None = None) -> dict:
    """The network file as a dict: every number a Python float, every layer's activation written out.

    A spatial layer comes already written (a dict from :mod:`nncalc.importers.spatial`), and
    a model with one needs its ``inputs`` (``{"shape": [C, H, W]}``); without them the inputs
    are counted from the first dense layer.
    """
    result: dict = {}
    if name:
        result["name"] = name
    result["inputs"] = int(layers[0].weights.shape[1]) if inputs is None else inputs
    result["layers"] = [layer if isinstance(layer, dict) else _layer_dict(layer) for layer in layers]
    return result


def _layer_dict(layer: Dense) -> dict:
    entry: dict = {}
    if layer.name:
        entry["name"] = layer.name
    entry["weights"] = np.asarray(layer.weights, dtype=np.float64).tolist()
    if layer.biases is not None:
        entry["biases"] = np.asarray(layer.biases, dtype=np.float64).tolist()
    entry["activation"] = layer.activation if layer.activation is not None else "identity"
    return entry


def as_float64(array: np.ndarray, what: str, source: str) -> np.ndarray:
    """A tensor's numbers as float64, refusing anything that is not finite real numbers."""
    if array.dtype.kind not in "fiu":
        raise InputError(f"{what} holds {array.dtype} values, not real numbers", Location(source))
    values = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise InputError(f"{what} holds NaN or infinite values", Location(source))
    return values


# --- tensors named by key: which layer each belongs to, and which way round it is ---

_TF_SUFFIX = re.compile(r":\d+$")  # TensorFlow's "dense/kernel:0"
_PLAIN_KEY = re.compile(r"(?P<leaf>weights?|kernel|W|w|bias(?:es)?|b)_?(?P<index>\d*)")
_POSITIONAL_KEY = re.compile(r"arr_(\d+)")  # np.savez(path, *arrays)
# a leaf word and the matrix's orientation: "out_in" is PyTorch's (neurons, inputs)
_LEAVES = {
    "weight": "out_in",
    "weights": "out_in",
    "kernel": "in_out",
    "W": "in_out",
    "w": "in_out",
    "bias": "bias",
    "biases": "bias",
    "b": "bias",
}
KEY_FORMS = "0.weight/0.bias, fc1.weight/fc1.bias, W1/b1 or dense/kernel/dense/bias"


@record
class _Group:
    """The tensors of one layer while grouping: a matrix with its orientation, and a bias."""

    name: str
    matrix: np.ndarray | None = None
    orientation: str = "out_in"
    bias: np.ndarray | None = None
    matrix_key: str = ""


def dense_layers(tensors: Sequence[tuple[str, np.ndarray]], source: str) -> list[Dense]:
    """Layers from named tensors, in order, each matrix turned to (neurons, inputs).

    Names are grouped by prefix: ``0.weight``, ``fc1.bias``, ``net.2.weight``,
    ``dense/kernel:0``, or plain ``W1``/``b1``, ``w0``/``b0``; ``arr_0``, ``arr_1`` … (an
    unnamed ``np.savez``) are taken in order, each matrix starting a layer. The layers go
    in the order of the numbers in their names where every name has one (``fc2`` before
    ``fc10``), else in the file's order.

    Orientation: a ``weight`` is PyTorch's (neurons, inputs); a ``W``/``w``/``kernel`` is
    (inputs, neurons), as Keras and most NumPy code write it. Shapes decide where they
    can: each layer must take the previous layer's outputs and match its bias, so a matrix
    that fits only the other way round is transposed. A square matrix fits both ways and
    follows its name's convention.
    """
    groups = _grouped(tensors, source)
    if not groups:
        raise InputError(f"the file holds no weights; expected keys such as {KEY_FORMS}", Location(source))
    return _oriented(groups, source)


def _grouped(tensors: Sequence[tuple[str, np.ndarray]], source: str) -> list[_Group]:
    """The tensors gathered into layers, ordered; a key that fits no pattern is refused."""
    if tensors and all(_POSITIONAL_KEY.fullmatch(key) for key, _ in tensors):
        return _grouped_by_position(tensors, source)
    groups: dict[str, _Group] = {}
    for key, array in tensors:
        parsed = _parse_key(key)
        if parsed is None:
            raise InputError(
                f"cannot import: {visible(key)!r} is not a weight or a bias of a dense layer "
                f"(expected keys such as {KEY_FORMS})",
                Location(source),
            )
        prefix, role = parsed
        group = groups.setdefault(prefix, _Group(prefix))
        groups[prefix] = _with_tensor(group, key, role, array, source)
    ordered = list(groups.values())
    if all(re.search(r"\d", g.name) for g in ordered):
        ordered.sort(key=lambda g: _natural_key(g.name))
    for group in ordered:
        if group.matrix is None:
            raise InputError(f"layer {visible(group.name)!r} has a bias but no weights", Location(source))
    return ordered


def _grouped_by_position(tensors: Sequence[tuple[str, np.ndarray]], source: str) -> list[_Group]:
    """Unnamed arrays in order: a matrix starts a layer, a vector after it is its bias."""
    ordered = sorted(tensors, key=lambda item: int(item[0][4:]))
    groups: list[_Group] = []
    for key, array in ordered:
        if array.ndim == 2:
            groups.append(_Group(str(len(groups) + 1), matrix=array, matrix_key=key))
        elif array.ndim == 1 and groups and groups[-1].bias is None:
            last = groups[-1]
            groups[-1] = _Group(last.name, last.matrix, last.orientation, array, last.matrix_key)
        else:
            raise InputError(
                f"cannot import: {key} (shape {array.shape}) is neither a layer's matrix nor the bias after one",
                Location(source),
            )
    return groups


def _parse_key(key: str) -> tuple[str, str] | None:
    """(layer prefix, role) for a tensor's name, role one of out_in, in_out, bias; None if unknown."""
    stripped = _TF_SUFFIX.sub("", key)
    cut = max(stripped.rfind("."), stripped.rfind("/"))
    if cut >= 0:
        role = _LEAVES.get(stripped[cut + 1 :])
        return (stripped[:cut], role) if role and cut > 0 else None
    match = _PLAIN_KEY.fullmatch(stripped)
    if match is None:
        return None
    return match["index"], _LEAVES[match["leaf"]]


def _with_tensor(group: _Group, key: str, role: str, array: np.ndarray, source: str) -> _Group:
    """``group`` with the tensor ``key`` added as its matrix or its bias, checked for shape and once only."""
    what = visible(key)
    if role == "bias":
        if group.bias is not None:
            raise InputError(f"layer {visible(group.name)!r} has two biases (the second: {what!r})", Location(source))
        if array.ndim != 1:
            raise InputError(
                f"cannot import: the bias {what!r} has shape {array.shape}, not one number per neuron",
                Location(source),
            )
        return _Group(group.name, group.matrix, group.orientation, array, group.matrix_key)
    if group.matrix is not None:
        raise InputError(
            f"layer {visible(group.name)!r} has two weight matrices (the second: {what!r})", Location(source)
        )
    if array.ndim != 2:
        raise InputError(
            f"cannot import: {what!r} has shape {array.shape}; a dense layer's weights are a matrix, and "
            "weights alone do not say a convolution's stride, padding or pooling: import the model as "
            "ONNX or Keras, or live with nncalc.from_torch",
            Location(source),
        )
    return _Group(group.name, array, role, group.bias, key)


def layer_label(key: str) -> str | None:
    """The layer name a tensor's key gives: 'fc1' for 'fc1.weight'; None for a bare number ('0.weight', 'W1')."""
    parsed = _parse_key(key)
    prefix = parsed[0] if parsed else None
    return prefix if prefix and not prefix.isdigit() else None


def _natural_key(name: str) -> list:
    """Sort key putting ``fc2`` before ``fc10`` and ``layers.2`` before ``layers.10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _oriented(groups: Sequence[_Group], source: str) -> list[Dense]:
    """The layers with every matrix (neurons, inputs), chained; the first matrix may go either way."""
    first = groups[0]
    ways = [False, True] if first.matrix.shape[0] != first.matrix.shape[1] else [False]
    failure: InputError | None = None
    for flip in ways:
        try:
            return _chained(groups, flip, source)
        except InputError as error:
            failure = failure or error
    raise failure


def _chained(groups: Sequence[_Group], flip_first: bool, source: str) -> list[Dense]:
    """Each layer turned so that it takes the previous one's outputs; refused where none fits."""
    layers: list[Dense] = []
    width: int | None = None
    for index, group in enumerate(groups):
        natural = group.matrix if group.orientation == "out_in" else group.matrix.T
        candidates = [natural.T if flip_first else natural] if index == 0 else [natural, natural.T]
        chosen = next((m for m in candidates if _fits(m, group.bias, width)), None)
        if chosen is None:
            raise InputError(_misfit(group, width), Location(source))
        weights = as_float64(chosen, visible(group.matrix_key), source)
        biases = None if group.bias is None else as_float64(group.bias, f"the bias of {visible(group.name)!r}", source)
        layers.append(Dense(layer_label(group.matrix_key), weights, biases))
        width = chosen.shape[0]
    return layers


def _fits(weights: np.ndarray, bias: np.ndarray | None, width: int | None) -> bool:
    """True when (neurons, inputs) ``weights`` takes ``width`` inputs and matches its bias."""
    return (width is None or weights.shape[1] == width) and (bias is None or bias.shape[0] == weights.shape[0])


def _misfit(group: _Group, width: int | None) -> str:
    """Why a layer's matrix fits neither way round."""
    shape = tuple(group.matrix.shape)
    bias = "" if group.bias is None else f" and a bias of {group.bias.shape[0]}"
    takes = "" if width is None else f" after a layer of {width} outputs"
    return (
        f"cannot import: layer {visible(group.name)!r} has weights of shape {shape}{bias}, "
        f"which fit neither way round{takes}"
    )
