"""Importing an ONNX model: a chain of dense, convolution and pooling layers, read without the ``onnx`` package.

The file is a protobuf ``ModelProto``, read field by field with
:mod:`nncalc.importers.protobuf`: its graph's nodes, initializers (the weights), inputs
and outputs. Nothing is executed. The graph is walked from its one input as a chain:

- ``Gemm`` (y = alpha·A·B' + beta·C, B' = B or Bᵀ by ``transB``; ``transA`` must be 0) and
  ``MatMul`` followed by an optional ``Add`` of a constant are a dense layer;
- ``Relu``, ``Sigmoid``, ``Tanh``, ``Softmax`` (over the last axis), ``LeakyRelu``, ``Elu``,
  ``Selu``, ``HardSigmoid`` (PyTorch's only), ``Softplus``, ``Softsign``, ``Gelu``, ``Mish`` and
  ``Clip`` to [0, 6] or [0, ∞) are the layer's activation;
- ``Conv`` (constant weights (out, in, kh, kw) and bias, ``strides``, symmetric ``pads`` or
  ``auto_pad`` SAME that pads both sides alike, no ``dilations``, one ``group``) is a conv2d
  layer, and the activation after it its activation; ``MaxPool`` and ``AveragePool``
  (``kernel_shape``, ``strides``, ``pads``; no ``ceil_mode``; an average over padding only
  with ``count_include_pad = 1``, PyTorch's default) and ``GlobalAveragePool`` /
  ``GlobalMaxPool`` (a window the size of the maps) are pooling layers; ``Flatten`` from
  axis 1 and ``Reshape`` to (batch, C·H·W) of maps are a flatten layer. The graph's input
  must be declared (batch, C, H, W) with C, H and W fixed: that is the network's input shape;
- ``Identity``, inference-mode ``Dropout``, ``Flatten`` from axis 1, and ``Reshape`` to 2-D
  before the first layer change nothing on a batch of vectors and are skipped.

Anything else (a branch, a residual ``Add`` of two computed values, normalisation,
recurrence, an activation after pooling) is refused, naming the first node that cannot be taken.

Memory: only the fields the import uses are read (doc strings, metadata, value_info,
opsets and unknown fields are passed over), a single field keeps only its last value, and
the repeated parts kept (nodes, names, attributes, …) are counted as they are read against
the limits in :data:`_LIMITS`, so a file of small fields repeated by the million is refused
by name before it is held, not read into gigabytes of Python objects.

Numbers: weights are the file's exactly (float32 widens to float64 without rounding);
Gemm's alpha and beta multiply them only where they are not 1, with the float32 value the
file holds. Activation parameters are float32 attributes in ONNX, so a PyTorch slope of
0.2 arrives as 0.2000000030; they are read back as the shortest decimal that gives the
same float32 (0.2), the number the model's author wrote. ONNX's ``Softplus`` has no
threshold, PyTorch's (and nncalc's) returns z itself above z = 20: the two differ there
by less than e^-20 ≈ 2·10⁻⁹.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers.files import DEFAULT_MAX_BYTES, Dense, as_float64, build_network, layer_label, read_bytes
from nncalc.importers.protobuf import (
    FIXED32,
    LENGTH,
    VARINT,
    WireError,
    fields,
    packed_floats,
    packed_varints,
    signed64,
)
from nncalc.importers.spatial import (
    ShapeError,
    Shapes,
    conv_entry,
    flatten_entry,
    pair,
    picture_shape,
    pool_entry,
    same_padding,
    softmax_on_maps,
)
from nncalc.records import record
from nncalc.text import visible

# TensorProto.DataType codes and their little-endian NumPy types (FLOAT16/BFLOAT16 as bits)
_FLOAT, _INT32, _INT64, _FLOAT16, _DOUBLE, _BFLOAT16 = 1, 6, 7, 10, 11, 16
_RAW_TYPES = {_FLOAT: "<f4", _DOUBLE: "<f8", _FLOAT16: "<f2", _BFLOAT16: "<u2", _INT32: "<i4", _INT64: "<i8"}
_TYPE_NAMES = {2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 8: "STRING", 9: "BOOL", 12: "UINT32", 13: "UINT64"}
_EXTERNAL = 1  # TensorProto.DataLocation
_MAX_DIMS = 64  # NumPy's limit on an array's dimensions
_SELU_ALPHA = np.float32(1.67326319217681884765625)  # ONNX's defaults, float32
_SELU_GAMMA = np.float32(1.05070102214813232421875)
_SKIPPED = {"Identity"}
# how many inputs an operator takes (at least, at most); any other takes one
_ARITY = {
    "Gemm": (2, 3),
    "MatMul": (2, 2),
    "Add": (2, 2),
    "Reshape": (2, 2),
    "Clip": (1, 3),
    "Dropout": (1, 3),
    "Conv": (2, 3),
}
_SPATIAL_OPS = {"Flatten", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
_ACTIVATION_OPS = {"Softmax", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Gelu", "Clip"}
# AttributeProto: (value field, AttributeType) for files that leave out the type
_ATTRIBUTE_KINDS = ((2, 1), (3, 2), (4, 3), (5, 4), (7, 6), (8, 7))
_PLAIN_ACTIVATIONS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Softsign": "softsign",
    "Softplus": "softplus",
    "Mish": "mish",
}


class _Unsupported(ValueError):
    """A well-formed part of the model that nncalc does not read (external weights, integer tensors)."""


class _TooMany(_Unsupported):
    """A model with more of some part than the reader keeps (see :data:`_LIMITS`)."""


# How many of each repeated part the reader keeps, over the whole model. Each kept part is a
# Python object (a node, a name, a number) of some tens to hundreds of bytes, from as little
# as two bytes of file: without a limit a file of 64 MiB could ask for gigabytes; with them
# the parts of a model take some tens of MB at most. A model nncalc imports is a chain of
# layers, a node or two each, and exporters add Constant, Shape and Reshape nodes: some tens
# of nodes, hundreds at most. The limits are far above that, and above most real models
# nncalc refuses for their operators, so that those are still refused by name.
_LIMITS = {
    "nodes": 10_000,
    "initializers": 10_000,
    "graph inputs": 20_000,  # before IR version 4 every initializer is listed as an input too
    "graph outputs": 10_000,
    "node inputs and outputs": 100_000,
    "node attributes": 100_000,
    "numbers in attribute lists": 1_000_000,
    "pieces of number lists": 100_000,  # a tensor's dims or data, an attribute's list: one piece each, written as usual
    "dimensions in graph input shapes": 100_000,
}
_RUNS = "pieces of number lists"  # a list written packed is one piece; unpacked, each run between other fields


class _Budget:
    """The parts kept so far, by :data:`_LIMITS` kind; counted as they are read, so that a flood is refused
    before it is held."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(_LIMITS, 0)

    def count(self, kind: str, offset: int, amount: int = 1) -> None:
        """Count ``amount`` more of ``kind``, found at file offset ``offset``; past the limit, refused."""
        self.counts[kind] += amount
        limit = _LIMITS[kind]
        if self.counts[kind] > limit:
            raise _TooMany(
                f"the model has more than {limit:,} {kind}, the most nncalc reads (past it at byte {offset})"
            )


# The fields read from each message: number → (wire type, or None for a repeated number written
# packed or not; the limit it counts against, or None for a single field, of which the last counts).
_MODEL_FIELDS = {7: (LENGTH, None)}  # graph
_GRAPH_FIELDS = {
    1: (LENGTH, "nodes"),
    2: (LENGTH, None),  # name
    5: (LENGTH, "initializers"),
    11: (LENGTH, "graph inputs"),
    12: (LENGTH, "graph outputs"),
    15: (LENGTH, None),  # sparse initializers: refused
}
_NODE_FIELDS = {
    1: (LENGTH, "node inputs and outputs"),
    2: (LENGTH, "node inputs and outputs"),
    3: (LENGTH, None),  # name
    4: (LENGTH, None),  # op_type
    5: (LENGTH, "node attributes"),
    7: (LENGTH, None),  # domain
}
_ATTRIBUTE_FIELDS = {
    1: (LENGTH, None),  # name
    2: (FIXED32, None),  # f
    3: (VARINT, None),  # i
    4: (LENGTH, None),  # s
    5: (LENGTH, None),  # t
    7: (None, _RUNS),  # floats
    8: (None, _RUNS),  # ints
    20: (VARINT, None),  # type
}
_TENSOR_FIELDS = {
    1: (None, _RUNS),  # dims
    2: (VARINT, None),  # data_type
    4: (None, _RUNS),  # float_data
    5: (None, _RUNS),  # int32_data
    7: (None, _RUNS),  # int64_data
    8: (LENGTH, None),  # name
    9: (LENGTH, None),  # raw_data
    10: (None, _RUNS),  # double_data
    13: (LENGTH, None),  # external_data: refused
    14: (VARINT, None),  # data_location
}
_VALUE_INFO_FIELDS = {1: (LENGTH, None), 2: (LENGTH, None)}  # name, type
_TYPE_FIELDS = {1: (LENGTH, None)}  # TypeProto's tensor_type
_TENSOR_TYPE_FIELDS = {2: (LENGTH, None)}  # shape
_SHAPE_FIELDS = {1: (LENGTH, "dimensions in graph input shapes")}
_DIMENSION_FIELDS = {1: (VARINT, None)}  # dim_value; dim_param (2) is an unknown size, as its absence is


@record
class _Node:
    """One NodeProto: where it is (1-based), what it does, what it reads and writes."""

    index: int
    name: str
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict

    def label(self) -> str:
        """The node as a message names it: 'fc1' (Gemm), or node 3 (Gemm) when unnamed."""
        which = repr(visible(self.name)) if self.name else str(self.index)
        return f"node {which} ({visible(self.op_type)})"


@record
class _Graph:
    """The parts of a GraphProto an import needs."""

    name: str
    nodes: list[_Node]
    constants: dict[str, np.ndarray]
    inputs: list[str]
    outputs: list[str]
    input_shapes: dict[str, tuple[int | None, ...] | None]


def network_dict(
    path: str | Path,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    input_shape: Sequence[int] | None = None,
) -> dict:
    """The network file (as a dict) for the ONNX model in ``path``; refused unless it is a chain nncalc can express."""
    data = read_bytes(Path(path), max_bytes)
    return from_bytes(data, str(path), Path(path).stem if name is None else name, input_shape)


def from_bytes(data: bytes, source: str, name: str | None, input_shape: Sequence[int] | None = None) -> dict:
    """:func:`network_dict` for a file already read; ``source`` names it in messages. ``input_shape``
    (C, H, W) gives the picture size where the file leaves it open."""
    try:
        graph = _read_model(data)
    except WireError as error:
        raise InputError(f"not a valid ONNX file: {error}", Location(source)) from None
    except _Unsupported as refusal:
        raise InputError(f"cannot import: {refusal}", Location(source)) from None
    chain = _Chain(graph, source, input_shape)
    layers = chain.layers()
    return build_network(name, layers, chain.inputs())


# --- reading the protobuf messages ---

_Fields = dict[int, list[tuple[int, object, int]]]  # a message's fields read: number → [(wire type, value, offset)]


def _grouped(data: memoryview | bytes, base: int, kept: dict, budget: _Budget) -> _Fields:
    """A message's fields that ``kept`` names, by number: [(wire type, value, offset), …] in file order.

    ``kept`` maps each field number read to (its wire type, or None for a repeated number
    written packed or not; the ``budget`` kind it counts against, or None for a single field).
    Every other field is skipped as it is read: unknown fields, doc strings and metadata
    cost nothing however many a file holds. A single field keeps only its last occurrence
    (the one protobuf reads), so repeating it costs nothing either; a repeated one counts
    each occurrence against its limit before it is kept.

    A length-delimited value is a memoryview. Scalars (varint, fixed64, fixed32) one after
    another of one number and wire type are one entry: their values in an ``array('Q')``,
    at the first one's offset. A repeated number written unpacked (int64_data, float_data,
    dims) then costs 8 bytes a value, not a tuple and two ints.
    """
    found: _Fields = {}
    for number, wire, value, offset in fields(data, base, kept):
        expected, kind = kept[number]
        if expected is not None and wire != expected:
            raise WireError(f"field {number} has wire type {wire}, expected {expected}", offset)
        if kind is None:
            found[number] = [(wire, value if wire == LENGTH else array("Q", (value,)), offset)]
            continue
        entries = found.setdefault(number, [])
        if wire != LENGTH and entries and entries[-1][0] == wire:
            entries[-1][1].append(value)
        else:
            budget.count(kind, offset)
            entries.append((wire, value if wire == LENGTH else array("Q", (value,)), offset))
    return found


def _each(message: dict, number: int, wire: int) -> list[tuple[object, int]]:
    """Every (value, offset) of field ``number``, each checked to have the wire type expected (a scalar's
    value being a run of them, see :func:`_grouped`)."""
    values = []
    for found, value, offset in message.get(number, ()):
        if found != wire:
            raise WireError(f"field {number} has wire type {found}, expected {wire}", offset)
        values.append((value, offset))
    return values


def _text(message: dict, number: int) -> str:
    """A string field (the last one given, as protobuf reads it), or ''."""
    values = _each(message, number, LENGTH)
    return _decoded(*values[-1]) if values else ""


def _texts(message: dict, number: int) -> list[str]:
    return [_decoded(value, offset) for value, offset in _each(message, number, LENGTH)]


def _decoded(value: memoryview, offset: int) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("a string that is not UTF-8", offset) from None


def _integer(message: dict, number: int, default: int) -> int:
    values = _each(message, number, VARINT)
    return signed64(values[-1][0][-1]) if values else default  # the last one given, as protobuf reads it


def _read_model(data: bytes) -> _Graph:
    """The graph of a ModelProto (field 7); every other field (opset, producer, doc string, metadata) is skipped."""
    budget = _Budget()
    model = _grouped(data, 0, _MODEL_FIELDS, budget)
    graphs = _each(model, 7, LENGTH)
    if not graphs:
        raise WireError("no graph (ModelProto field 7)", 0)
    return _read_graph(*graphs[-1], budget)


def _read_graph(data: memoryview, base: int, budget: _Budget) -> _Graph:
    """Nodes (1), initializers (5), inputs (11) and outputs (12); sparse initializers (15) are refused."""
    graph = _grouped(data, base, _GRAPH_FIELDS, budget)
    if graph.get(15):
        raise WireError("sparse initializers are not supported", graph[15][0][2])
    constants = {}
    for value, offset in _each(graph, 5, LENGTH):
        name, array = _read_tensor(value, offset, budget)
        constants[name] = array
    nodes = [_read_node(value, offset, i + 1, budget) for i, (value, offset) in enumerate(_each(graph, 1, LENGTH))]
    inputs, shapes = [], {}
    for value, offset in _each(graph, 11, LENGTH):  # one at a time: a ValueInfoProto's fields are held while read
        info = _grouped(value, offset, _VALUE_INFO_FIELDS, budget)
        inputs.append(_text(info, 1))
        shapes[inputs[-1]] = _value_shape(info, budget)
    outputs = [_text(_grouped(v, o, _VALUE_INFO_FIELDS, budget), 1) for v, o in _each(graph, 12, LENGTH)]
    return _Graph(_text(graph, 2), nodes, constants, inputs, outputs, shapes)


def _value_shape(value: dict, budget: _Budget) -> tuple[int | None, ...] | None:
    """A ValueInfoProto's tensor shape: type (2) → tensor_type (1) → shape (2) → dim (1) each a
    dim_value (1) or a named dim_param (2, None here); None when the file gives no shape."""
    for kind, offset in _each(value, 2, LENGTH):
        for tensor, at in _each(_grouped(kind, offset, _TYPE_FIELDS, budget), 1, LENGTH):
            for shape, where in _each(_grouped(tensor, at, _TENSOR_TYPE_FIELDS, budget), 2, LENGTH):
                dims = _each(_grouped(shape, where, _SHAPE_FIELDS, budget), 1, LENGTH)
                return tuple(_dimension(_grouped(v, o, _DIMENSION_FIELDS, budget)) for v, o in dims)
    return None


def _dimension(dim: dict) -> int | None:
    """A Dimension's size, or None for a named (unknown) one."""
    return _integer(dim, 1, -1) if 1 in dim else None


def _read_node(data: memoryview, base: int, index: int, budget: _Budget) -> _Node:
    """A NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7)."""
    node = _grouped(data, base, _NODE_FIELDS, budget)
    attributes = dict(_read_attribute(value, offset, budget) for value, offset in _each(node, 5, LENGTH))
    return _Node(
        index,
        _text(node, 3),
        _text(node, 4),
        _text(node, 7),
        tuple(_texts(node, 1)),
        tuple(_texts(node, 2)),
        attributes,
    )


def _shown(value: object) -> str:
    """An attribute's value for a message: control characters visible, a long one cut to its start."""
    if isinstance(value, np.ndarray):
        return f"(a tensor of shape {value.shape})"
    text = visible(repr(value))
    return text if len(text) <= 60 else text[:60] + "…"


def _read_attribute(data: memoryview, base: int, budget: _Budget) -> tuple[str, object]:
    """An AttributeProto's name (1) and value: f (2), i (3), s (4), t (5), floats (7) or ints (8).

    Its type (20) says which; a writer may leave out a zero value, so the type's default
    (0.0, 0, '') stands for an absent one. Without a type (old files), the field present decides.
    """
    attribute = _grouped(data, base, _ATTRIBUTE_FIELDS, budget)
    name = _text(attribute, 1)
    kind = _integer(attribute, 20, 0) or next((k for f, k in _ATTRIBUTE_KINDS if f in attribute), 0)
    if kind == 1:
        values = _each(attribute, 2, FIXED32)
        return name, float(np.frombuffer(values[-1][0][-1].to_bytes(4, "little"), "<f4")[0]) if values else 0.0
    if kind == 2:
        return name, _integer(attribute, 3, 0)
    if kind == 3:
        return name, _text(attribute, 4)
    if kind == 4 and 5 in attribute:
        return name, _read_tensor(*_each(attribute, 5, LENGTH)[-1], budget)[1]
    if kind in (6, 7):  # a Python number each: counted before they are made
        found = attribute.get(7 if kind == 6 else 8, ())
        if kind == 6:
            numbers = _joined([packed_floats(v, wire, "<f4", o) for wire, v, o in found], "<f4")
        else:
            numbers = _int64s(found)
        budget.count("numbers in attribute lists", found[0][2] if found else base, numbers.size)
        return name, (numbers.astype(np.float64) if kind == 6 else numbers).tolist()
    return name, None  # a graph or another kind nothing here reads


def _read_tensor(data: memoryview, base: int, budget: _Budget | None = None) -> tuple[str, np.ndarray]:
    """A TensorProto's name (8) and values, shaped by dims (1): from raw_data (9) or the typed fields."""
    tensor = _grouped(data, base, _TENSOR_FIELDS, _Budget() if budget is None else budget)
    name = _text(tensor, 8)
    dims = _int64s(tensor.get(1, ()))
    kind = _integer(tensor, 2, 0)
    if (dims < 0).any():
        raise WireError(f"tensor {visible(name)!r} has a negative dimension", base)
    if _integer(tensor, 14, 0) == _EXTERNAL or 13 in tensor:
        raise _Unsupported(
            f"tensor {visible(name)!r} is stored in an external file; nncalc reads self-contained models"
        )
    if kind not in _RAW_TYPES:
        raise _Unsupported(f"tensor {visible(name)!r} holds {_TYPE_NAMES.get(kind, f'type {kind}')} values")
    if dims.size > _MAX_DIMS:  # before any list of them: a file can hold millions
        raise _Unsupported(f"tensor {visible(name)!r} has {dims.size:,} dimensions; NumPy's arrays have at most 64")
    dims = dims.tolist()
    count = int(np.prod(dims, dtype=object)) if dims else 1
    raw = _each(tensor, 9, LENGTH)
    if raw:
        values = packed_floats(raw[-1][0], LENGTH, _RAW_TYPES[kind], raw[-1][1])
    elif kind in (_FLOAT, _DOUBLE):
        dtype, number = ("<f4", 4) if kind == _FLOAT else ("<f8", 10)
        parts = [packed_floats(v, wire, dtype, o) for wire, v, o in tensor.get(number, ())]
        values = _joined(parts, dtype)
    else:  # FLOAT16 and BFLOAT16 bits and INT32 in int32_data (5), INT64 in int64_data (7)
        values = _int64s(tensor.get(7 if kind == _INT64 else 5, ()))
        if kind in (_FLOAT16, _BFLOAT16):
            values = values.astype("<u2").view("<f2" if kind == _FLOAT16 else "<u2")
    if values.size != count:
        raise WireError(f"tensor {visible(name)!r} has {values.size} values for dims {dims}", base)
    if kind == _BFLOAT16:
        values = (values.astype(np.uint32) << 16).view(np.float32)
    return name, values.reshape(dims)


def _int64s(found: list[tuple[int, object, int]]) -> np.ndarray:
    """A repeated int64 (or int32) field's values in file order, as one int64 array: each occurrence
    packed or not, negative numbers being the two's complement of their varint (as :func:`signed64`)."""
    return _joined([packed_varints(value, wire, offset) for wire, value, offset in found], np.uint64).view(np.int64)


def _joined(parts: list[np.ndarray], dtype: type | str) -> np.ndarray:
    """A repeated field's parts in file order as one array; the usual one packed run as it is, not copied
    (a float run is then a view of the file's bytes, as raw_data is)."""
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


# --- walking the graph ---


class _Chain:
    """The graph walked from its input to its output, one node at a time, into dense layers."""

    def __init__(self, graph: _Graph, source: str, input_shape: Sequence[int] | None = None):
        self.graph = graph
        self.source = source
        self.input_shape = input_shape
        self.constants = dict(graph.constants)
        for node in graph.nodes:
            if node.op_type == "Constant" and isinstance(node.attributes.get("value"), np.ndarray):
                self.constants[node.outputs[0]] = node.attributes["value"]
        self.layers_done: list[Dense | dict] = []
        self.pending: Dense | dict | None = None  # a dense or conv2d layer whose activation may still follow
        self.pending_has_activation = False
        self.shapes = Shapes(None)

    def refuse(self, node: _Node, why: str = "is not a layer or an activation nncalc knows") -> InputError:
        return InputError(f"cannot import: {node.label()} {why}", Location(self.source))

    def number(self, node: _Node, key: str, default: float) -> float:
        """An attribute that is one number (ONNX's FLOAT or INT): alpha, beta, gamma, a bound.

        A file may give any attribute any type; a list, a text or a tensor there is refused by
        name, not multiplied into the weights or compared as it stands.
        """
        value = node.attributes.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value):
            raise self.refuse(node, f"has {key} {_shown(value)}, which is not a finite number")
        return float(value)

    def integer(self, node: _Node, key: str, default: int) -> int:
        """An attribute that is one whole number (ONNX's INT): axis, group, transB, ceil_mode."""
        value = node.attributes.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.refuse(node, f"has {key} {_shown(value)}, which is not a whole number")
        return value

    def ints(self, node: _Node, key: str, default: list[int]) -> list[int]:
        """An attribute that is a list of whole numbers (ONNX's INTS): strides, pads, kernel_shape, dilations.

        A file may give any attribute any type; text or fractions there are refused, not
        rounded or compared character by character, so what is imported is what the file says.
        """
        value = node.attributes.get(key)
        if value is None or (isinstance(value, list) and not value):
            return default
        if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            raise self.refuse(node, f"has {key} {_shown(value)}, which is not a list of whole numbers")
        return value

    def layers(self) -> list[Dense]:
        """Every layer from input to output; the whole graph must be this one chain."""
        computed_inputs = [name for name in self.graph.inputs if name not in self.constants]
        if len(computed_inputs) != 1 or len(self.graph.outputs) != 1:
            raise InputError(
                f"cannot import: the graph has {len(computed_inputs)} inputs and {len(self.graph.outputs)} "
                "outputs; nncalc imports a chain from one input to one output",
                Location(self.source),
            )
        readers: dict[str, list[_Node]] = defaultdict(list)
        for node in self.graph.nodes:
            for name in dict.fromkeys(node.inputs):
                if name and name not in self.constants:
                    readers[name].append(node)
        visited = set()
        current = computed_inputs[0]
        self.shapes = Shapes(self.input_maps(current))
        while readers.get(current):
            node, *others = readers[current]
            if others:
                raise self.refuse(others[0], f"also reads {visible(current)!r}: the graph branches there")
            self.take(node, current)
            visited.add(node.index)
            current = node.outputs[0] if node.outputs else ""
        for node in self.graph.nodes:
            if node.index not in visited and node.op_type != "Constant":
                raise self.refuse(node, "is not on the chain from the input to the output")
        if current != self.graph.outputs[0]:
            raise InputError("cannot import: the chain from the input does not reach the output", Location(self.source))
        self.finish()
        if not self.layers_done:
            raise InputError(
                "cannot import: the graph has no dense layer (Gemm or MatMul) or convolution (Conv)",
                Location(self.source),
            )
        return self.layers_done

    def inputs(self) -> dict | None:
        """The network file's ``inputs`` for a model of images (``{"shape": [C, H, W]}``); None for vectors."""
        shape = self.shapes.input
        return {"shape": list(shape)} if shape is not None and len(shape) == 3 else None

    def input_maps(self, name: str) -> tuple[int, int, int] | None:
        """(C, H, W) of an input declared (batch, C, H, W), its open sizes given by ``input_shape``; None for
        any other input."""
        dims = self.graph.input_shapes.get(name)
        declared = None
        if dims is not None and len(dims) == 4:
            declared = tuple(None if d is None or d < 1 else int(d) for d in dims[1:])
        try:
            return picture_shape(declared, self.input_shape)
        except ShapeError as error:
            raise InputError(f"cannot import: the input {visible(name)!r} {error}", Location(self.source)) from None

    def take(self, node: _Node, current: str) -> None:
        """Fold one node of the chain into the layers."""
        if node.domain not in ("", "ai.onnx"):
            raise self.refuse(node, f"is from the operator set {visible(node.domain)!r}, not ONNX's own")
        if node.op_type not in _ARITY.keys() | _SKIPPED | _ACTIVATION_OPS | _PLAIN_ACTIVATIONS.keys() | _SPATIAL_OPS:
            raise self.refuse(node)
        least, most = _ARITY.get(node.op_type, (1, 1))
        if not least <= len(node.inputs) <= most or not node.outputs or not node.outputs[0] or any(node.outputs[1:]):
            raise self.refuse(node, f"has {len(node.inputs)} inputs and {len(node.outputs)} outputs, not what it takes")
        data_inputs = [name for name in node.inputs if name and name not in self.constants]
        if len(data_inputs) != 1:
            raise self.refuse(node, "combines two computed values (a branch or a residual connection)")
        if node.inputs[0] != current and node.op_type != "Add":
            raise self.refuse(node, "does not take the chain's value as its first input")
        op = node.op_type
        if op == "Gemm":
            self.start_layer(node, *self.gemm(node))
        elif op == "MatMul":
            self.start_layer(node, self.matrix(node, node.inputs[1]).T, None)
        elif op == "Add":
            self.add_bias(node, current)
        elif op in _SKIPPED or (op == "Dropout" and self.inference_dropout(node)):
            return
        elif op in ("Flatten", "Reshape"):
            self.flatten(node)
        elif op == "Conv":
            self.conv(node)
        elif op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"):
            self.pool(node)
        elif op == "Softmax" and isinstance(self.pending, dict) and not self.pending_has_activation:
            self.softmax_on_maps(node)
        else:
            self.set_activation(node, self.activation(node))

    def start_layer(self, node: _Node, weights: np.ndarray, biases: np.ndarray | None) -> None:
        self.finish()
        with self.shaped(node):
            self.shapes.dense(weights.shape[1], weights.shape[0])
        self.pending = Dense(layer_label(node.inputs[1]), weights, biases)
        self.pending_has_activation = False

    @contextmanager
    def shaped(self, node: _Node) -> Iterator[None]:
        """A layer's shape arithmetic, its :class:`ShapeError` refused as the node's."""
        try:
            yield
        except ShapeError as error:
            raise self.refuse(node, str(error)) from None

    def conv(self, node: _Node) -> None:
        """A Conv: weights (out, in, kh, kw) and bias (out,) constants; symmetric padding, no dilation, one group."""
        self.finish()
        weights = self.constants.get(node.inputs[1])
        if weights is None or weights.ndim != 4:
            shape = "computed" if weights is None else f"of shape {weights.shape}"
            raise self.refuse(node, f"needs constant 4-D weights, and {visible(node.inputs[1])!r} is {shape}")
        weights = as_float64(weights, f"the weights {visible(node.inputs[1])!r}", self.source)
        kernel = tuple(self.ints(node, "kernel_shape", list(weights.shape[2:])))
        if kernel != weights.shape[2:]:
            raise self.refuse(node, f"has kernel_shape {kernel} and weights of shape {weights.shape}")
        if self.integer(node, "group", 1) != 1 or any(d != 1 for d in self.ints(node, "dilations", [])):
            settings = f"group={self.integer(node, 'group', 1)}, dilations={self.ints(node, 'dilations', [])}"
            raise self.refuse(node, f"has {settings}; nncalc's conv2d has one group and no dilation")
        stride = self.stride(node)
        padding = self.padding(node, kernel, stride)
        biases = None
        if len(node.inputs) > 2 and node.inputs[2]:
            biases = self.bias(node, node.inputs[2], weights.shape[0])
        with self.shaped(node):
            self.shapes.conv(weights.shape[1], weights.shape[0], kernel, stride, padding)
        label = layer_label(node.inputs[1])  # "conv1" from conv1.weight; none from a position ("3.0.weight")
        name = label if label and not label.replace(".", "").isdigit() else _plain_name(node)
        self.pending = conv_entry(name, biases, stride, padding, "identity", weights=weights)
        self.pending_has_activation = False

    def stride(self, node: _Node) -> tuple[int, int]:
        strides = self.ints(node, "strides", [1, 1])
        if len(strides) != 2:
            raise self.refuse(node, f"has strides {strides}; nncalc's layers slide over two axes")
        if min(strides) < 1:  # refused here: SAME padding divides by the stride
            raise self.refuse(node, f"has strides {strides}; a window moves by at least 1")
        return pair(strides)

    def padding(self, node: _Node, kernel: tuple, stride: tuple) -> tuple[int, int]:
        """(ph, pw) from ``pads`` [top, left, bottom, right] or ``auto_pad``; padding one side more is refused."""
        auto = node.attributes.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            sizes = self.shapes.shape[1:] if self.shapes.maps else (0, 0)
            found = [same_padding(n, k, s) for n, k, s in zip(sizes, kernel, stride, strict=True)]
            if None in found:
                raise self.refuse(node, f"has auto_pad {auto}, which pads one side more than the other here")
            return found[0], found[1]
        if auto not in ("NOTSET", "VALID", ""):
            raise self.refuse(node, f"has auto_pad {_shown(auto)}")
        pads = self.ints(node, "pads", [0, 0, 0, 0])
        if auto == "VALID":
            pads = [0, 0, 0, 0]
        if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
            raise self.refuse(node, f"has pads {pads}; nncalc pads the top and bottom alike, and left and right")
        return pads[0], pads[1]

    def pool(self, node: _Node) -> None:
        """MaxPool, AveragePool (padding counted only with count_include_pad = 1), or a global pool of whole maps."""
        self.finish()
        op = node.op_type
        kind = "maxpool2d" if op in ("MaxPool", "GlobalMaxPool") else "avgpool2d"
        if op.startswith("Global"):
            if not self.shapes.maps:
                raise self.refuse(node, "is pooling, and the maps' shape is not known")
            kernel = stride = tuple(self.shapes.shape[1:])
            padding = (0, 0)
        else:
            kernel = tuple(self.ints(node, "kernel_shape", []))
            if len(kernel) != 2:
                raise self.refuse(node, f"has kernel_shape {list(kernel)}; nncalc pools 2-D windows")
            if self.integer(node, "ceil_mode", 0) or any(d != 1 for d in self.ints(node, "dilations", [])):
                raise self.refuse(node, "has ceil_mode or dilations, which nncalc's pooling does not have")
            stride = self.stride(node)
            padding = self.padding(node, kernel, stride)
            if kind == "avgpool2d" and padding != (0, 0) and not self.integer(node, "count_include_pad", 0):
                raise self.refuse(
                    node, "leaves its padding out of the mean (count_include_pad = 0); nncalc's avgpool2d counts it"
                )
        with self.shaped(node):
            self.shapes.pool(kind, pair(kernel), pair(stride), padding)
        self.layers_done.append(pool_entry(kind, _plain_name(node), pair(kernel), pair(stride), padding))

    def finish(self) -> None:
        if self.pending is not None:
            self.layers_done.append(self.pending)
            self.pending = None

    def matrix(self, node: _Node, name: str) -> np.ndarray:
        """A constant 2-D weight matrix, as float64."""
        array = self.constants.get(name)
        if array is None or array.ndim != 2:
            shape = "computed" if array is None else f"of shape {array.shape}"
            raise self.refuse(node, f"needs a constant weight matrix, and {visible(name)!r} is {shape}")
        return as_float64(array, f"the weights {visible(name)!r}", self.source)

    def gemm(self, node: _Node) -> tuple[np.ndarray, np.ndarray | None]:
        """(weights (neurons, inputs), biases) of y = alpha·x·B' + beta·C."""
        if self.integer(node, "transA", 0):
            raise self.refuse(node, "transposes its input (transA = 1)")
        b = self.matrix(node, node.inputs[1])
        weights = b if self.integer(node, "transB", 0) else b.T
        alpha, beta = self.number(node, "alpha", 1.0), self.number(node, "beta", 1.0)
        if alpha != 1.0:
            weights = weights * alpha
        if len(node.inputs) < 3 or not node.inputs[2]:
            return weights, None
        biases = self.bias(node, node.inputs[2], weights.shape[0])
        return weights, biases if beta == 1.0 else biases * beta

    def bias(self, node: _Node, name: str, count: int) -> np.ndarray:
        """A constant bias of ``count`` numbers, written (count,), (1, count) or as one number for all."""
        array = self.constants.get(name)
        if array is None:
            raise self.refuse(node, f"needs a constant bias, and {visible(name)!r} is computed")
        values = as_float64(array, f"the bias {visible(name)!r}", self.source)
        if values.ndim == 2 and values.shape[0] == 1:
            values = values[0]
        if values.size == 1:
            return np.full(count, values.reshape(-1)[0])
        if values.shape != (count,):
            raise self.refuse(node, f"adds a bias of shape {array.shape} to {count} neurons")
        return values

    def add_bias(self, node: _Node, current: str) -> None:
        """An Add of a constant right after a layer's product: that layer's bias."""
        if not isinstance(self.pending, Dense) or self.pending_has_activation:
            raise self.refuse(node, "adds a constant that does not follow a Gemm or MatMul")
        constant = next(name for name in node.inputs if name != current)
        added = self.bias(node, constant, self.pending.weights.shape[0])
        biases = added if self.pending.biases is None else self.pending.biases + added
        self.pending = Dense(self.pending.name, self.pending.weights, biases)

    def inference_dropout(self, node: _Node) -> bool:
        """True for a Dropout that does nothing: no training_mode input, or a constant false one."""
        if len(node.inputs) < 3 or not node.inputs[2]:
            return True
        mode = self.constants.get(node.inputs[2])
        if mode is not None and not np.any(mode):
            return True
        raise self.refuse(node, "may be in training mode; nncalc imports inference models only")

    def flatten(self, node: _Node) -> None:
        """Flatten from axis 1, or Reshape to (batch, C·H·W), of maps: a flatten layer. On a batch of vectors,
        Flatten from axis 1 anywhere and Reshape to 2-D before the first layer do nothing."""
        if self.shapes.maps:
            self.flatten_maps(node)
            return
        if node.op_type == "Flatten":
            if self.integer(node, "axis", 1) != 1:
                raise self.refuse(node, "flattens from an axis other than 1")
            return
        if self.pending is not None or self.layers_done:
            raise self.refuse(node, "reshapes between layers")
        if node.op_type == "Reshape":
            shape = self.constants.get(node.inputs[1]) if len(node.inputs) > 1 else None
            if shape is None or shape.size != 2:
                raise self.refuse(node, "does not reshape to a batch of vectors (2-D)")

    def softmax_on_maps(self, node: _Node) -> None:
        """A Softmax after a Conv, over one axis of (batch, C, H, W) (the last unless ``axis`` says otherwise):
        refused, naming that axis."""
        axis = self.integer(node, "axis", -1)
        with self.shaped(node):
            if axis not in (1, 2, 3, -1, -2, -3):
                raise ShapeError(f"is over axis {axis} of maps")
            softmax_on_maps(self.shapes.shape, axis - 1 if axis > 0 else axis)

    def flatten_maps(self, node: _Node) -> None:
        """Maps (C, H, W) to a vector of C·H·W, channels then rows then columns, as ONNX (row-major) does."""
        count = int(np.prod(self.shapes.shape))
        if node.op_type == "Flatten" and self.integer(node, "axis", 1) != 1:
            raise self.refuse(node, "flattens from an axis other than 1")
        if node.op_type == "Reshape":
            shape = self.constants.get(node.inputs[1])
            target = None if shape is None else [int(n) for n in shape.reshape(-1)]
            if target not in ([-1, count], [0, count], [0, -1]):
                shown = "a computed shape" if target is None else str(target)
                raise self.refuse(
                    node, f"reshapes the {_dims_text(self.shapes.shape)} maps to {shown}, not (batch, {count})"
                )
        self.finish()
        self.shapes.flatten()
        self.layers_done.append(flatten_entry(_plain_name(node)))

    def set_activation(self, node: _Node, spec: str | dict) -> None:
        if self.pending is None or self.pending_has_activation:
            if self.pending is not None:
                where = "a second activation on one layer"
            elif self.layers_done:
                where = "after a pooling or flatten layer, which takes none"
            else:
                where = "before any dense layer"
            raise self.refuse(node, f"is {where}; each of nncalc's layers has one activation")
        if isinstance(self.pending, dict):
            self.pending["activation"] = spec
        else:
            self.pending = Dense(self.pending.name, self.pending.weights, self.pending.biases, spec)
        self.pending_has_activation = True

    def activation(self, node: _Node) -> str | dict:
        """nncalc's activation for an activation node, with its parameters; refused where none matches."""
        op, attrs = node.op_type, node.attributes
        if op in _PLAIN_ACTIVATIONS:
            return _PLAIN_ACTIVATIONS[op]
        if op == "Softmax":
            axis = self.integer(node, "axis", -1)
            if axis not in (-1, 1):
                raise self.refuse(node, f"is over axis {axis}, not the neurons (axis 1 or -1)")
            return "softmax"
        if op == "LeakyRelu":
            return {"name": "leaky_relu", "negative_slope": _written(self.number(node, "alpha", 0.01))}
        if op == "Elu":
            alpha = _written(self.number(node, "alpha", 1.0))
            return "elu" if alpha == 1.0 else {"name": "elu", "alpha": alpha}
        if op == "Selu":
            if (
                np.float32(self.number(node, "alpha", _SELU_ALPHA)) != _SELU_ALPHA
                or np.float32(self.number(node, "gamma", _SELU_GAMMA)) != _SELU_GAMMA
            ):
                raise self.refuse(node, "has its own alpha or gamma; nncalc's selu has the standard ones")
            return "selu"
        if op == "HardSigmoid":
            return self.hard_sigmoid(node)
        if op == "Gelu":
            approximate = attrs.get("approximate", "none")
            if approximate not in ("none", "tanh"):
                raise self.refuse(node, f"has approximate = {_shown(approximate)}")
            return "gelu" if approximate == "none" else {"name": "gelu", "approximate": "tanh"}
        if op == "Clip":
            return self.clip(node)
        raise self.refuse(node)

    def hard_sigmoid(self, node: _Node) -> str:
        """PyTorch's Hardsigmoid, max(0, min(1, z/6 + 1/2)), exported as HardSigmoid(alpha = 1/6, beta = 0.5)."""
        alpha, beta = self.number(node, "alpha", 0.2), self.number(node, "beta", 0.5)
        if np.float32(alpha) == np.float32(1 / 6) and beta == 0.5:
            return "hard_sigmoid"
        raise self.refuse(
            node,
            f"is max(0, min(1, {_written(alpha)}·z + {_written(beta)})); nncalc's hard_sigmoid is PyTorch's, "
            "z/6 + 1/2 (alpha = 1/6, beta = 0.5), and ONNX's default (alpha = 0.2) is not it",
        )

    def clip(self, node: _Node) -> str:
        """Clip to [0, 6] is ReLU6, to [0, ∞) is ReLU: bounds from inputs (opset 11 on) or attributes."""
        bounds = []
        for position, key in ((1, "min"), (2, "max")):
            if len(node.inputs) > position and node.inputs[position]:
                value = self.constants.get(node.inputs[position])
                bounds.append(None if value is None or value.size != 1 else float(value.reshape(-1)[0]))
            else:
                bounds.append(self.number(node, key, 0.0) if key in node.attributes else None)
        if bounds == [0.0, 6.0]:
            return "relu6"
        if bounds == [0.0, None]:
            return "relu"
        raise self.refuse(node, f"clips to {bounds}; nncalc knows [0, 6] (relu6) and [0, ∞) (relu)")


def _plain_name(node: _Node) -> str | None:
    """A node's name as its layer's where a person chose it (``pool1``), not an exporter's path (``/2/MaxPool``)."""
    return node.name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", node.name) else None


def _dims_text(dims: tuple) -> str:
    """A shape with named (unknown) dimensions as ``?``: ``?×1×28×28``."""
    return "×".join("?" if d is None or d < 0 else str(d) for d in dims)


def _written(value: float) -> float:
    """A float32 attribute as its author wrote it: the shortest decimal giving the same float32."""
    return float(str(np.float32(value)))
