"""ONNX floods: fields repeated by the million are skipped or refused at a named limit, in bounded memory.

A protobuf field can be two bytes of file (a key and a zero length), and a reader that kept a
Python object for each (a tuple, a memoryview, a string, a node) spent about 100 to 300 bytes
of memory per byte of such a file. Here each flood is written by a small encoder independent
of the reader (the protobuf documentation's varint, a key being field number << 3 | wire
type), its peak memory while importing is measured with tracemalloc, and the bound is a
multiple of the file's size far below what a kept object per field costs. Fields the importer
never reads (unknown ones, doc strings, metadata) cost nothing; repeated parts it keeps
(nodes, names, attributes) are refused past a limit, with one located message naming it.
"""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest

from nncalc.errors import InputError
from nncalc.importers import onnx

RNG = np.random.default_rng(20261203)
LENGTH, FIXED32 = 2, 5


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _field(number: int, payload: bytes) -> bytes:
    return _key(number, LENGTH) + _varint(len(payload)) + payload


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _text(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _value_info(name: str, dims: list[int], extra: bytes = b"") -> bytes:
    """ValueInfoProto: name (1), type (2) → tensor_type (1) {elem_type (1) FLOAT, shape (2) → dim (1) dim_value (1)}."""
    shape = b"".join(_field(1, _int(1, d)) for d in dims)
    return _text(1, name) + _field(2, _field(1, _int(1, 1) + _field(2, shape))) + extra


def _model(weights: np.ndarray, extra: dict[str, bytes] | None = None, relu: bytes | None = None) -> bytes:
    """x (1, inputs) → MatMul with the constant W (inputs, neurons) → Relu → y: ModelProto with ``extra`` bytes
    added to the message each key names (model, graph, node, tensor, input)."""
    extra = extra or {}
    tensor = b"".join(_int(1, d) for d in weights.shape) + _int(2, 1) + _text(8, "W")
    tensor += _field(9, weights.astype("<f4").tobytes()) + extra.get("tensor", b"")
    matmul = (
        _text(1, "x") + _text(1, "W") + _text(2, "z") + _text(3, "fc") + _text(4, "MatMul") + extra.get("node", b"")
    )
    relu = _text(1, "z") + _text(2, "y") + _text(4, "Relu") if relu is None else relu
    graph = _field(1, matmul) + _field(1, relu) + _text(2, "flooded") + _field(5, tensor)
    graph += _field(11, _value_info("x", [1, weights.shape[0]], extra.get("input", b"")))
    graph += _field(12, _value_info("y", [1, weights.shape[1]])) + extra.get("graph", b"")
    return _int(1, 8) + _field(8, _int(2, 13)) + _field(7, graph) + extra.get("model", b"")


def _peak(read, *args):
    """(what ``read(*args)`` returned or the InputError it raised, its peak of traced memory in bytes)."""
    tracemalloc.start()
    try:
        outcome = read(*args)
    except InputError as error:
        outcome = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


def _imports(data: bytes, weights: np.ndarray) -> int:
    """Import ``data`` as the MatMul-Relu model of ``weights``, checking what is read; the peak memory."""
    document, peak = _peak(onnx.from_bytes, data, "flood.onnx", "flood")
    assert not isinstance(document, InputError), str(document)
    (layer,) = document["layers"]
    assert layer["weights"] == weights.astype(np.float32).astype(np.float64).T.tolist()
    assert layer["activation"] == "relu" and document["inputs"] == weights.shape[0]
    return peak


WEIGHTS = RNG.normal(size=(3, 2))


def test_the_model_written_here_is_a_valid_onnx_model():
    onnx_package = pytest.importorskip("onnx")
    data = _model(WEIGHTS)
    onnx_package.checker.check_model(onnx_package.load_from_string(data), full_check=True)
    _imports(data, WEIGHTS)


# --- fields the importer never reads cost nothing ---

UNKNOWN = _field(100, b"")  # three bytes: a key of two bytes and an empty length


@pytest.mark.parametrize("where", ["model", "graph", "node", "tensor", "input"])
def test_a_flood_of_unknown_fields_is_skipped_as_it_is_read(where):
    data = _model(WEIGHTS, {where: UNKNOWN * 40_000})
    # a kept tuple and memoryview per field was about 96 bytes per byte; skipped, the peak is the model's own
    assert _imports(data, WEIGHTS) < len(data)


def test_doc_strings_and_metadata_however_many_or_long_cost_nothing():
    metadata = _field(14, _text(1, "key") + _text(2, "value")) * 5_000
    extra = {
        "model": _text(6, "") * 10_000 + _text(6, "x" * 1_000_000) + metadata,  # doc_string (6), metadata_props (14)
        "graph": _text(10, "") * 10_000 + _text(10, "y" * 1_000_000),  # GraphProto doc_string (10)
        "node": _text(6, "") * 10_000 + _field(9, _text(1, "k")) * 5_000,  # NodeProto doc_string, metadata_props
        "tensor": _text(12, "") * 10_000,  # TensorProto doc_string
        "input": _text(3, "") * 10_000,  # ValueInfoProto doc_string
    }
    data = _model(WEIGHTS, extra)
    assert len(data) > 2_000_000
    assert _imports(data, WEIGHTS) < len(data) // 20


def test_a_single_field_written_over_and_over_keeps_only_the_last():
    # protobuf reads the last of a repeated single field: op_type Tanh 50,000 times, then Relu
    relu = _text(1, "z") + _text(2, "y") + _text(4, "Tanh") * 50_000 + _text(4, "Relu")
    data = _model(WEIGHTS, relu=relu)
    assert _imports(data, WEIGHTS) < len(data)


# --- repeated parts the importer keeps: refused past a limit, located, before they are held ---


def _refused(data: bytes) -> tuple[str, int]:
    error, peak = _peak(onnx.from_bytes, data, "flood.onnx", "flood")
    assert isinstance(error, InputError), "read without a refusal"
    return str(error), peak


def _graph_of(payload: bytes) -> tuple[bytes, int]:
    """A ModelProto holding only the graph ``payload``, and the file offset where the payload starts."""
    head = _key(7, LENGTH) + _varint(len(payload))
    return head + payload, len(head)


def test_a_million_empty_nodes_are_refused_at_the_node_limit():
    data, at = _graph_of(_field(1, b"") * 1_000_000)
    message, peak = _refused(data)
    # node 10,001's value: past 10,000 fields of two bytes and its own key and length
    assert message == (
        "flood.onnx: cannot import: the model has more than 10,000 nodes, the most nncalc reads "
        f"(past it at byte {at + 10_000 * 2 + 2})"
    )
    assert peak < 4 * len(data)  # a node object each was about 300 bytes per byte


def test_exactly_the_limit_of_nodes_is_read():
    data, _ = _graph_of(_field(1, b"") * 10_000)
    message, _ = _refused(data)
    assert "the graph has 0 inputs" in message  # read, then refused for what it is


def _node(payload: bytes) -> bytes:
    return _graph_of(_field(1, payload))[0]


@pytest.mark.parametrize(
    ("node", "limit", "counted"),
    [
        (_text(1, "") * 3_000_000, "100,000", "node inputs and outputs"),  # empty input names
        (_text(2, "") * 1_500_000 + _text(1, "") * 1_500_000, "100,000", "node inputs and outputs"),
        (_field(5, b"") * 3_000_000, "100,000", "node attributes"),
    ],
    ids=["inputs", "outputs-and-inputs", "attributes"],
)
def test_one_node_with_millions_of_parts_is_refused_at_a_limit(node, limit, counted):
    data = _node(node)
    message, peak = _refused(data)
    assert f"cannot import: the model has more than {limit} {counted}, the most nncalc reads" in message
    assert peak < 10 * len(data)  # a string or attribute kept each was about 180 bytes per byte


def test_many_nodes_share_one_limit_of_inputs_and_outputs():
    node = _field(1, _text(1, "a") * 20 + _text(2, "b") * 20)  # 40 names each, 5,000 nodes: 200,000 in all
    data, at = _graph_of(node * 5_000)
    message, _ = _refused(data)
    assert "more than 100,000 node inputs and outputs" in message
    # the 100,001st name is the first of node 2,501
    node_at = at + 2_500 * len(node) + len(_key(1, LENGTH) + _varint(len(node) - 2))
    assert message.endswith(f"(past it at byte {node_at + 2})")


def test_a_tensor_with_its_dims_written_in_millions_of_empty_pieces_is_refused():
    tensor = _field(1, b"") * 3_000_000  # dims (1) packed, empty, over and over
    data, _ = _graph_of(_field(5, tensor))
    message, peak = _refused(data)
    assert "more than 100,000 pieces of number lists" in message
    assert peak < 10 * len(data)


def test_an_attribute_list_of_millions_of_numbers_is_refused():
    numbers = _field(8, b"\x01" * 1_000_001)  # ints (8), packed: a million and one 1s
    attribute = _text(1, "pads") + numbers + _int(20, 7)
    data, _ = _graph_of(_field(1, _field(5, attribute)))
    message, peak = _refused(data)
    assert message.endswith(
        "cannot import: the model has more than 1,000,000 numbers in attribute lists, the most nncalc reads "
        f"(past it at byte {data.index(numbers) + len(numbers) - 1_000_001})"
    )
    assert peak < 20 * len(data)  # a list of a million Python ints is 8 MB at least


def test_a_float_attribute_list_is_read_as_python_floats():
    # FLOATS (type 6), packed: the float32 values widened exactly
    values = np.array([0.5, -1.25, 3.0e-8], dtype="<f4")
    attribute = _text(1, "scales") + _field(7, values.tobytes()) + _int(20, 6)
    alone = _text(1, "scales") + _key(7, FIXED32) + struct.pack("<f", 0.5) + _int(20, 6)
    data = _node(_text(4, "Relu") + _field(5, attribute))
    graph = onnx._read_model(data)
    assert graph.nodes[0].attributes["scales"] == [0.5, -1.25, float(np.float32(3.0e-8))]
    graph = onnx._read_model(_node(_text(4, "Relu") + _field(5, alone)))
    assert graph.nodes[0].attributes["scales"] == [0.5]


def test_a_skipped_field_is_still_checked_as_well_formed():
    # an unknown field at the end of the graph whose length (50) runs past the graph's end
    data = _model(WEIGHTS, {"graph": _key(100, LENGTH) + _varint(50)})
    error, _ = _peak(onnx.from_bytes, data, "flood.onnx", "flood")
    assert str(error) == (
        f"flood.onnx: not a valid ONNX file: length 50 runs past the end of its message at byte {len(data) - 1}"
    )
