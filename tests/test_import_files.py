"""Importing models from files: NumPy .npz, safetensors, ONNX and Keras, and refusing hostile files.

Every import is checked by running the imported network (nncalc's own forward pass, in
float64) against an independent reference: a NumPy forward pass written here, ONNX
Runtime on float64 models, Keras's own prediction. The files are made in the tests: by
NumPy, by hand (safetensors with struct and json, ONNX as raw protobuf bytes, so that the
readers are tested with no framework installed), and by the frameworks where installed.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
import time
import warnings
import zipfile

import numpy as np
import pytest
import yaml

from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.importers import keras_file, npz, onnx, safetensors
from nncalc.importers.files import import_file
from nncalc.loader import parse_network

RNG = np.random.default_rng(20240601)


# --- references ---


def _network_output(document: dict, x: np.ndarray) -> np.ndarray:
    """The imported network run by nncalc, after a round trip through the YAML text it would be saved as."""
    network = parse_network(yaml.safe_dump(document, sort_keys=False), "<import>")
    return forward(network, x).output


def _relu(z):
    return np.maximum(z, 0.0)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_forward(layers, x):
    """Layers as (weights (neurons, inputs), biases or None, function), applied in order."""
    a = x
    for w, b, f in layers:
        a = f(a @ np.asarray(w, dtype=np.float64).T + (0.0 if b is None else np.asarray(b, dtype=np.float64)))
    return a


def _same(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-9)


def _refused(call, *args, **kwargs) -> str:
    """The one located message an import gives, checked to come at once and name the file."""
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    assert time.perf_counter() - started < 2.0
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].location is not None
    return str(problems[0])


# --- NumPy archives ---


def test_npz_pytorch_keys_match_a_numpy_forward_pass(tmp_path):
    w1, b1, w2, b2 = RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=(2, 4)), RNG.normal(size=2)
    path = tmp_path / "state.npz"
    np.savez(path, **{"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2})
    document = npz.network_dict(path, ["relu", "softmax"])
    assert document["inputs"] == 3
    assert document["layers"][0]["weights"] == w1.tolist()  # (out, in) kept as it is, bit for bit
    assert [layer["activation"] for layer in document["layers"]] == ["relu", "softmax"]
    x = RNG.normal(size=(5, 3))
    _same(_network_output(document, x), _numpy_forward([(w1, b1, _relu), (w2, b2, _softmax)], x))


def test_npz_layers_follow_the_numbers_in_their_names_not_the_file_order(tmp_path):
    w = {1: RNG.normal(size=(5, 3)), 2: RNG.normal(size=(4, 5)), 10: RNG.normal(size=(2, 4))}
    path = tmp_path / "fc.npz"
    np.savez(path, **{"fc10.weight": w[10], "fc2.weight": w[2], "fc1.weight": w[1]})
    document = npz.network_dict(path, ["tanh"])
    assert [layer["name"] for layer in document["layers"]] == ["fc1", "fc2", "fc10"]
    assert all(layer["activation"] == "tanh" for layer in document["layers"])
    x = RNG.normal(size=(3, 3))
    _same(_network_output(document, x), _numpy_forward([(w[k], None, np.tanh) for k in (1, 2, 10)], x))


def test_npz_plain_w_b_pairs_are_inputs_by_neurons_and_get_transposed(tmp_path):
    w1, b1, w2, b2 = RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(4, 4)), RNG.normal(size=4)
    path = tmp_path / "plain.npz"
    np.savez(path, W1=w1, b1=b1, W2=w2, b2=b2)
    document = npz.network_dict(path, ["sigmoid", "identity"])
    assert document["layers"][0]["weights"] == w1.T.tolist()
    assert document["layers"][1]["weights"] == w2.T.tolist()  # square: the name's convention decides
    x = RNG.normal(size=(4, 3))
    _same(_network_output(document, x), _sigmoid(x @ w1 + b1) @ w2 + b2)


def test_npz_a_matrix_that_fits_only_the_other_way_round_is_turned(tmp_path):
    # saved (inputs, neurons) under PyTorch's name: the bias (4) and the next layer (2, 4) say so
    w1, b1, w2 = RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(2, 4))
    path = tmp_path / "turned.npz"
    np.savez(path, **{"a.weight": w1, "a.bias": b1, "b.weight": w2})
    document = npz.network_dict(path, ["relu", "identity"])
    assert document["layers"][0]["weights"] == w1.T.tolist()
    x = RNG.normal(size=(2, 3))
    _same(_network_output(document, x), _relu(x @ w1 + b1) @ w2.T)


def test_npz_a_later_matrix_saved_the_other_way_round_is_turned(tmp_path):
    w1, w2, b2 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2)), RNG.normal(size=2)
    path = tmp_path / "later.npz"
    np.savez(path, **{"a.weight": w1, "b.weight": w2, "b.bias": b2})  # b.weight is (inputs, neurons)
    document = npz.network_dict(path, ["tanh", "identity"])
    assert document["layers"][1]["weights"] == w2.T.tolist()
    x = RNG.normal(size=(2, 3))
    _same(_network_output(document, x), np.tanh(x @ w1.T) @ w2 + b2)


def test_npz_unnamed_arrays_are_taken_in_order(tmp_path):
    w1, b1, w2 = RNG.normal(size=(2, 3)), RNG.normal(size=2), RNG.normal(size=(1, 2))
    path = tmp_path / "unnamed.npz"
    np.savez(path, w1, b1, w2)
    document = npz.network_dict(path, ["relu", "sigmoid"])
    x = RNG.normal(size=(3, 3))
    _same(_network_output(document, x), _numpy_forward([(w1, b1, _relu), (w2, None, _sigmoid)], x))


def test_npz_without_activations_asks_for_them_naming_the_layer_count(tmp_path):
    path = tmp_path / "state.npz"
    np.savez(path, **{"0.weight": np.ones((2, 2)), "1.weight": np.ones((1, 2))})
    message = _refused(npz.network_dict, path, None)
    assert str(path) in message and "--activation" in message and "2 layers" in message


def test_npz_activation_count_and_names_are_checked(tmp_path):
    path = tmp_path / "state.npz"
    np.savez(path, **{"0.weight": np.ones((2, 2)), "1.weight": np.ones((1, 2))})
    assert "3 activations given for 2 layers" in _refused(npz.network_dict, path, ["relu", "relu", "relu"])
    assert "unknown activation 'rleu'" in _refused(npz.network_dict, path, ["rleu"])
    document = npz.network_dict(path, ["LeakyReLU", "Hardsigmoid"])  # as PyTorch users write them
    assert [layer["activation"] for layer in document["layers"]] == ["leaky_relu", "hard_sigmoid"]


def test_npz_keys_of_other_layers_are_refused_by_name(tmp_path):
    path = tmp_path / "bn.npz"
    np.savez(path, **{"fc.weight": np.ones((2, 2)), "bn.running_mean": np.zeros(2)})
    assert "'bn.running_mean' is not a weight or a bias" in _refused(npz.network_dict, path, ["relu"])
    np.savez(path, **{"conv.weight": np.ones((2, 1, 3, 3))})
    message = _refused(npz.network_dict, path, ["relu"])
    assert "'conv.weight' has shape (2, 1, 3, 3)" in message and "import the model as ONNX or Keras" in message


def test_npz_layers_that_do_not_chain_are_refused(tmp_path):
    path = tmp_path / "gap.npz"
    np.savez(path, **{"0.weight": np.ones((4, 3)), "1.weight": np.ones((2, 5))})
    assert "layer '1' has weights of shape (2, 5)" in _refused(npz.network_dict, path, ["relu"])


def test_npz_non_finite_weights_are_refused(tmp_path):
    path = tmp_path / "nan.npz"
    np.savez(path, **{"0.weight": np.array([[1.0, math.nan]])})
    assert "NaN or infinite" in _refused(npz.network_dict, path, ["relu"])


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, W1=np.array([{"x": 1}], dtype=object))
    assert "Python objects" in _refused(npz.network_dict, path, ["relu"])


def test_npz_a_header_declaring_more_than_the_member_holds_is_refused_unallocated(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 10), }"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + header.ljust(117).encode() + b"\n" + bytes(80)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W1.npy", npy)
    assert "declares 8,000,000,000,000 bytes" in _refused(npz.network_dict, path, ["relu"])


def test_npz_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 but nothing else")
    assert "not a NumPy .npz archive" in _refused(npz.network_dict, path, ["relu"])


def test_npz_members_unpacking_past_the_limit_are_refused(tmp_path):
    path = tmp_path / "big.npz"
    np.savez_compressed(path, W1=np.zeros((1000, 1000)))  # 8 MB of zeros, a few kilobytes packed
    assert path.stat().st_size < 100_000
    assert "unpacks to 8,000,128 bytes" in _refused(npz.network_dict, path, ["relu"], max_bytes=1_000_000)


# --- safetensors, written by hand ---


def _safetensors_bytes(tensors: dict[str, np.ndarray], dtypes: dict[str, str] | None = None) -> bytes:
    """The safetensors format by its specification: header length, JSON header, raw little-endian data."""
    header, chunks, offset = {}, [], 0
    for key, array in tensors.items():
        code = (dtypes or {}).get(key) or {"float64": "F64", "float32": "F32", "float16": "F16"}[array.dtype.name]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[key] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def test_safetensors_by_hand_match_a_numpy_forward_pass(tmp_path):
    w1, b1 = RNG.normal(size=(4, 3)).astype(np.float32), RNG.normal(size=4).astype(np.float32)
    w2, b2 = RNG.normal(size=(2, 4)), RNG.normal(size=2)
    path = tmp_path / "model.safetensors"
    path.write_bytes(_safetensors_bytes({"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}))
    document = safetensors.network_dict(path, ["relu", "softmax"])
    assert document["layers"][0]["weights"] == w1.astype(np.float64).tolist()  # float32 widened exactly
    x = RNG.normal(size=(6, 3))
    _same(_network_output(document, x), _numpy_forward([(w1, b1, _relu), (w2, b2, _softmax)], x))


def test_safetensors_half_precision_and_bfloat16_are_widened(tmp_path):
    # F16 1.0 = 0x3C00, -2.5 = 0xC100; BF16 (the top half of float32) 1.0 = 0x3F80, 0.5 = 0x3F00, -3.0 = 0xC040
    half = np.array([[0x3C00, 0xC100]], dtype="<u2")
    brain = np.array([[0x3F80], [0x3F00], [0xC040]], dtype="<u2")
    path = tmp_path / "half.safetensors"
    path.write_bytes(_safetensors_bytes({"0.weight": half, "1.weight": brain}, {"0.weight": "F16", "1.weight": "BF16"}))
    document = safetensors.network_dict(path, ["identity"])
    assert document["layers"][0]["weights"] == [[1.0, -2.5]]
    assert document["layers"][1]["weights"] == [[1.0], [0.5], [-3.0]]


def test_safetensors_reader_agrees_with_the_safetensors_package(tmp_path):
    numpy_io = pytest.importorskip("safetensors.numpy")
    tensors = {
        "layers.0.weight": RNG.normal(size=(3, 2)).astype(np.float32),
        "layers.0.bias": RNG.normal(size=3).astype(np.float16),
        "layers.10.weight": RNG.normal(size=(1, 3)),
    }
    path = tmp_path / "package.safetensors"
    numpy_io.save_file(tensors, str(path), metadata={"format": "np"})
    read = dict(safetensors.read_tensors(path.read_bytes(), str(path)))
    assert set(read) == set(tensors)
    for key, array in tensors.items():
        assert read[key].dtype == array.dtype and np.array_equal(read[key], array)
    hand = tmp_path / "hand.safetensors"
    hand.write_bytes(_safetensors_bytes(tensors))
    for key, array in numpy_io.load_file(str(hand)).items():  # the hand-written file is a real one
        assert np.array_equal(array, tensors[key])


def _header_file(tmp_path, header: bytes | None, data: bytes = b"", length: int | None = None):
    path = tmp_path / "hostile.safetensors"
    if header is None:  # too short for the header's length
        path.write_bytes(b"\x02\0\0")
        return path
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "length", "expected"),
    [
        (None, b"", None, "3 bytes, fewer than the 8"),
        (b"{}", b"", 2**63, "more than the limit of 104,857,600"),
        (b"{}", b"", 1000, "the header declares 1,000 bytes, but only 2 follow"),
        (b"{not json", b"", None, "the header is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, b"", None, "nests too deeply"),
        (b'{"a": 1, "a": 2}', b"", None, "appears twice"),
        (b"[1]", b"", None, "not a JSON object"),
        (b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', b"\0" * 4, None, "lie outside the 4"),
        (b'{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', b"\0" * 8, None, "takes 12 bytes"),
        (
            b'{"w": {"dtype": "F32", "shape": [1000000000000], "data_offsets": [0, 4000000000000]}}',
            b"",
            None,
            "lie outside",
        ),
        (b'{"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}', b"\0" * 8, None, "holds I64 numbers"),
        (b'{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}', b"", None, "not a list of counts"),
        (b'{"w": {"dtype": "F32", "shape": [2]}}', b"", None, "not an object of dtype, shape and data_offsets"),
        (
            b'{"a.weight": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]},'
            b' "a.bias": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
            b"\0" * 8,
            None,
            "overlap",
        ),
    ],
)
def test_safetensors_hostile_headers_give_one_located_error(tmp_path, header, data, length, expected):
    path = _header_file(tmp_path, header, data, length)
    message = _refused(safetensors.network_dict, path, ["relu"])
    assert message.startswith(f"{path}: ") and expected in message


def test_safetensors_larger_than_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(_safetensors_bytes({"0.weight": np.zeros((100, 100))}))
    assert "more than the limit of 1,000" in _refused(safetensors.network_dict, path, ["relu"], max_bytes=1000)


# --- ONNX, as protobuf bytes written by hand ---


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _text_field(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _tensor_proto(name: str, array: np.ndarray, raw: bool = False) -> bytes:
    """TensorProto: dims (1), data_type (2: FLOAT 1, DOUBLE 11), name (8), packed data (4/10) or raw_data (9)."""
    double = array.dtype == np.float64
    body = b"".join(_int_field(1, d) for d in array.shape) + _int_field(2, 11 if double else 1) + _text_field(8, name)
    data = array.astype("<f8" if double else "<f4").tobytes()
    return body + _field(9 if raw else (10 if double else 4), data)


def _attribute_proto(name: str, value: float | int) -> bytes:
    """AttributeProto: name (1), f (2, fixed32) or i (3), type (20: FLOAT 1, INT 2)."""
    if isinstance(value, float):
        return _text_field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int_field(20, 1)
    return _text_field(1, name) + _int_field(3, value) + _int_field(20, 2)


def _node_proto(op: str, inputs: list[str], outputs: list[str], name: str = "", **attributes) -> bytes:
    """NodeProto: input (1), output (2), name (3), op_type (4), attribute (5)."""
    body = b"".join(_text_field(1, i) for i in inputs) + b"".join(_text_field(2, o) for o in outputs)
    body += _text_field(3, name) + _text_field(4, op)
    return body + b"".join(_field(5, _attribute_proto(k, v)) for k, v in attributes.items())


def _value_info(name: str, width: int) -> bytes:
    """ValueInfoProto: name (1), type (2) = TypeProto.tensor_type (1) {elem_type (1) DOUBLE, shape (2)}."""
    dims = _field(1, _text_field(2, "N")) + _field(1, _int_field(1, width))
    return _text_field(1, name) + _field(2, _field(1, _int_field(1, 11) + _field(2, dims)))


def _model_proto(nodes: list[bytes], initializers: list[bytes], width_in: int, width_out: int) -> bytes:
    """ModelProto: ir_version (1), opset_import (8) {version (2) 17}, graph (7) with input x, output y."""
    graph = b"".join(_field(1, n) for n in nodes) + _text_field(2, "hand")
    graph += b"".join(_field(5, t) for t in initializers)
    graph += _field(11, _value_info("x", width_in)) + _field(12, _value_info("y", width_out))
    return _int_field(1, 8) + _field(8, _int_field(2, 17)) + _field(7, graph)


def _hand_model():
    """x → Gemm(transB=1) → Relu → MatMul → Add → Softmax → y; the weights, and the file's bytes."""
    w1, b1 = RNG.normal(size=(4, 3)), RNG.normal(size=4)
    w2, b2 = RNG.normal(size=(4, 2)), RNG.normal(size=2).astype(np.float32)
    nodes = [
        _node_proto("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], "fc1", transB=1),
        _node_proto("Relu", ["h"], ["a"]),
        _node_proto("MatMul", ["a", "W2"], ["z2"]),
        _node_proto("Add", ["z2", "b2"], ["s2"]),
        _node_proto("Softmax", ["s2"], ["y"], axis=-1),
    ]
    inits = [
        _tensor_proto("fc1.weight", w1),
        _tensor_proto("fc1.bias", b1, raw=True),
        _tensor_proto("W2", w2),
        _tensor_proto("b2", b2.astype(np.float64)),
    ]
    return (w1, b1, w2, b2), _model_proto(nodes, inits, 3, 2)


def test_onnx_written_by_hand_matches_a_numpy_forward_pass(tmp_path):
    (w1, b1, w2, b2), data = _hand_model()
    path = tmp_path / "hand.onnx"
    path.write_bytes(data)
    document = onnx.network_dict(path)
    assert document["name"] == "hand" and document["inputs"] == 3
    assert document["layers"][0]["name"] == "fc1"
    assert document["layers"][0]["weights"] == w1.tolist()
    assert document["layers"][1]["weights"] == w2.T.tolist()
    x = RNG.normal(size=(5, 3))
    expected = _numpy_forward([(w1, b1, _relu), (w2.T, b2.astype(np.float64), _softmax)], x)
    _same(_network_output(document, x), expected)


def test_onnx_written_by_hand_is_a_real_model_that_onnxruntime_agrees_with(tmp_path):
    onnx_package = pytest.importorskip("onnx")
    runtime = pytest.importorskip("onnxruntime")
    _, data = _hand_model()
    onnx_package.checker.check_model(onnx_package.load_from_string(data), full_check=True)
    path = tmp_path / "hand.onnx"
    path.write_bytes(data)
    x = RNG.normal(size=(7, 3))
    session = runtime.InferenceSession(data, providers=["CPUExecutionProvider"])
    _same(_network_output(onnx.network_dict(path), x), session.run(None, {"x": x})[0])


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda data: data[: len(data) // 2], "runs past the end"),
        (lambda data: b"\x08" + b"\xff" * 11, "varint longer than 10 bytes"),
        (lambda data: b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", "larger than 64 bits"),
        (lambda data: b"\x08\x01\x3a\xff\xff\xff\xff\x0f", "runs past the end"),
        (lambda data: b"\x08\x01\x0b", "groups are not supported"),
        (lambda data: b"\x08\x01\x3a\x02\x0f\x00", "unknown wire type 7"),
        (lambda data: b"\x08\x01", "no graph"),
        (lambda data: b"\x08", "truncated varint at byte 1"),
    ],
)
def test_onnx_damaged_protobuf_gives_one_located_error(tmp_path, cut, expected):
    _, data = _hand_model()
    path = tmp_path / "bad.onnx"
    path.write_bytes(cut(data))
    message = _refused(onnx.network_dict, path)
    assert message.startswith(f"{path}: not a valid ONNX file") and expected in message


def test_onnx_huge_declared_dims_without_data_are_refused_unallocated(tmp_path):
    huge = _int_field(1, 10**12) + _int_field(1, 10**6) + _int_field(2, 11) + _text_field(8, "W")
    data = _model_proto([_node_proto("MatMul", ["x", "W"], ["y"])], [huge], 3, 2)
    path = tmp_path / "huge.onnx"
    path.write_bytes(data)
    assert "has 0 values for dims [1000000000000, 1000000]" in _refused(onnx.network_dict, path)


def test_onnx_weights_in_an_external_file_are_refused(tmp_path):
    external = _int_field(1, 3) + _int_field(1, 2) + _int_field(2, 1) + _text_field(8, "W") + _int_field(14, 1)
    path = tmp_path / "external.onnx"
    path.write_bytes(_model_proto([_node_proto("MatMul", ["x", "W"], ["y"])], [external], 3, 2))
    message = _refused(onnx.network_dict, path)
    assert message.endswith(
        "cannot import: tensor 'W' is stored in an external file; nncalc reads self-contained models"
    )


def test_onnx_node_with_too_few_inputs_is_refused_by_name(tmp_path):
    data = _model_proto([_node_proto("MatMul", ["x"], ["y"], "lonely")], [], 3, 2)
    path = tmp_path / "lonely.onnx"
    path.write_bytes(data)
    assert "cannot import: node 'lonely' (MatMul) has 1 inputs and 1 outputs" in _refused(onnx.network_dict, path)


# --- ONNX, built with the onnx package and checked against ONNX Runtime in float64 ---


def _onnx_model(nodes, initializers: dict[str, np.ndarray], width_in: int, width_out: int, dtype=np.float64):
    onnx_package = pytest.importorskip("onnx")
    helper, numpy_helper = onnx_package.helper, onnx_package.numpy_helper
    kind = onnx_package.TensorProto.DOUBLE if dtype == np.float64 else onnx_package.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "graph",
        [helper.make_tensor_value_info("x", kind, [None, width_in])],
        [helper.make_tensor_value_info("y", kind, [None, width_out])],
        [numpy_helper.from_array(np.asarray(v, dtype=dtype), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    onnx_package.checker.check_model(model)
    return model.SerializeToString()


def _run_onnxruntime(data: bytes, x: np.ndarray) -> np.ndarray:
    runtime = pytest.importorskip("onnxruntime")
    session = runtime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def _imported(tmp_path, data: bytes, name: str = "model.onnx") -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return onnx.network_dict(path)


@pytest.mark.parametrize("trans_b", [0, 1])
def test_onnx_gemm_chains_match_onnxruntime_in_float64(tmp_path, trans_b):
    helper = pytest.importorskip("onnx").helper
    w1 = RNG.normal(size=(3, 5)) if not trans_b else RNG.normal(size=(5, 3))
    inits = {"W1": w1, "B1": RNG.normal(size=5), "W2": RNG.normal(size=(5, 4)), "B2": RNG.normal(size=(1, 4))}
    inits |= {"W3": RNG.normal(size=(4, 3)), "B3": RNG.normal(size=3)}
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "W1", "B1"], ["z1"], transB=trans_b),
        helper.make_node("Tanh", ["z1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "W2", "B2"], ["z2"]),
        helper.make_node("Sigmoid", ["z2"], ["a2"]),
        helper.make_node("Dropout", ["a2"], ["d2"]),  # inference mode: no training_mode input
        helper.make_node("Identity", ["d2"], ["i2"]),
        helper.make_node("Gemm", ["i2", "W3", "B3"], ["z3"]),
        helper.make_node("Softmax", ["z3"], ["y"], axis=1),
    ]
    data = _onnx_model(nodes, inits, 3, 3)
    document = _imported(tmp_path, data)
    assert [layer["activation"] for layer in document["layers"]] == ["tanh", "sigmoid", "softmax"]
    x = RNG.normal(size=(9, 3))
    _same(_network_output(document, x), _run_onnxruntime(data, x))


def test_onnx_gemm_alpha_and_beta_scale_the_weights(tmp_path):
    helper = pytest.importorskip("onnx").helper
    inits = {"W": RNG.normal(size=(3, 2)), "B": RNG.normal(size=2)}
    nodes = [
        helper.make_node("Gemm", ["x", "W", "B"], ["z"], alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["z"], ["y"]),
    ]
    data = _onnx_model(nodes, inits, 3, 2)
    document = _imported(tmp_path, data)
    assert document["layers"][0]["weights"] == (inits["W"].T * 0.5).tolist()
    assert document["layers"][0]["biases"] == (inits["B"] * 2.0).tolist()
    x = RNG.normal(size=(4, 3))
    _same(_network_output(document, x), _run_onnxruntime(data, x))


def test_onnx_matmul_add_with_a_bias_added_first_matches_onnxruntime(tmp_path):
    helper = pytest.importorskip("onnx").helper
    inits = {"W": RNG.normal(size=(3, 2)), "B": RNG.normal(size=2), "shape": np.array([-1, 3])}
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("MatMul", ["r", "W"], ["m"]),
        helper.make_node("Add", ["B", "m"], ["z"]),  # the constant first: Add commutes
        helper.make_node("Sigmoid", ["z"], ["y"]),
    ]
    onnx_package = pytest.importorskip("onnx")
    helper = onnx_package.helper
    graph = helper.make_graph(
        nodes,
        "graph",
        [helper.make_tensor_value_info("x", onnx_package.TensorProto.DOUBLE, [None, 3])],
        [helper.make_tensor_value_info("y", onnx_package.TensorProto.DOUBLE, [None, 2])],
        [
            onnx_package.numpy_helper.from_array(inits["W"], "W"),
            onnx_package.numpy_helper.from_array(inits["B"], "B"),
            onnx_package.numpy_helper.from_array(inits["shape"].astype(np.int64), "shape"),
        ],
    )
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]).SerializeToString()
    document = _imported(tmp_path, data)
    x = RNG.normal(size=(4, 3))
    _same(_network_output(document, x), _run_onnxruntime(data, x))


@pytest.mark.parametrize(
    ("op", "attributes", "expected"),
    [
        ("LeakyRelu", {"alpha": 0.2}, {"name": "leaky_relu", "negative_slope": 0.2}),
        ("LeakyRelu", {}, {"name": "leaky_relu", "negative_slope": 0.01}),
        ("Elu", {"alpha": 0.5}, {"name": "elu", "alpha": 0.5}),
        ("Elu", {}, "elu"),
        ("Selu", {}, "selu"),
        ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, "hard_sigmoid"),
        ("Softplus", {}, "softplus"),
        ("Softsign", {}, "softsign"),
        ("Gelu", {}, "gelu"),
        ("Gelu", {"approximate": "tanh"}, {"name": "gelu", "approximate": "tanh"}),
        ("Mish", {}, "mish"),
    ],
)
def test_onnx_activations_with_their_parameters_match_onnxruntime(tmp_path, op, attributes, expected):
    # ONNX Runtime computes these in float32 only: compared at float32's precision
    helper = pytest.importorskip("onnx").helper
    inits = {"W": RNG.normal(size=(3, 4)), "B": RNG.normal(size=4)}
    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["z"]), helper.make_node(op, ["z"], ["y"], **attributes)]
    data = _onnx_model(nodes, inits, 3, 4, dtype=np.float32)
    document = _imported(tmp_path, data)
    assert document["layers"][0]["activation"] == expected
    x = (RNG.normal(size=(50, 3)) * 2).astype(np.float32)
    np.testing.assert_allclose(_network_output(document, x.astype(np.float64)), _run_onnxruntime(data, x), atol=2e-5)


def test_onnx_clip_to_zero_and_six_is_relu6(tmp_path):
    helper = pytest.importorskip("onnx").helper
    inits = {"W": RNG.normal(size=(3, 4)) * 5, "lo": np.array(0.0), "hi": np.array(6.0)}
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"]), helper.make_node("Clip", ["z", "lo", "hi"], ["y"])]
    data = _onnx_model(nodes, inits, 3, 4)
    document = _imported(tmp_path, data)
    assert document["layers"][0]["activation"] == "relu6"
    x = RNG.normal(size=(20, 3))
    _same(_network_output(document, x), _run_onnxruntime(data, x))


def test_onnx_exported_by_pytorch_matches_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(3)
    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(3, 5),
        nn.Hardsigmoid(),
        nn.Linear(5, 4),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(4, 2),
        nn.Softmax(1),
    )
    model = model.double().eval()
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():  # the TorchScript exporter warns that it is deprecated
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 3, dtype=torch.float64),), str(path), dynamo=False,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}},
        )  # fmt: skip
    document = onnx.network_dict(path)
    assert [layer["activation"] for layer in document["layers"]] == [
        "hard_sigmoid",
        {"name": "leaky_relu", "negative_slope": 0.2},  # the float32 attribute read back as PyTorch's 0.2
        "softmax",
    ]
    x = RNG.normal(size=(10, 3)) * 4
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    _same(_network_output(document, x), expected)


def _refused_onnx(tmp_path, nodes, inits, width_out=4) -> str:
    data = _onnx_model(nodes, inits, 3, width_out)
    path = tmp_path / "refused.onnx"
    path.write_bytes(data)
    return _refused(onnx.network_dict, path)


def test_onnx_hard_sigmoid_with_onnx_defaults_is_refused(tmp_path):
    helper = pytest.importorskip("onnx").helper
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"]), helper.make_node("HardSigmoid", ["z"], ["y"], name="hs")]
    message = _refused_onnx(tmp_path, nodes, {"W": np.ones((3, 4))})
    assert "node 'hs' (HardSigmoid)" in message and "0.2·z + 0.5" in message and "z/6 + 1/2" in message


def test_onnx_selu_with_its_own_constants_is_refused(tmp_path):
    helper = pytest.importorskip("onnx").helper
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"]), helper.make_node("Selu", ["z"], ["y"], alpha=2.0)]
    assert "(Selu) has its own alpha or gamma" in _refused_onnx(tmp_path, nodes, {"W": np.ones((3, 4))})


def test_onnx_residual_add_is_refused_naming_the_node(tmp_path):
    helper = pytest.importorskip("onnx").helper
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["z"], name="mm"),
        helper.make_node("Relu", ["z"], ["a"], name="act"),
        helper.make_node("Add", ["a", "z"], ["y"], name="skip"),
    ]
    message = _refused_onnx(tmp_path, nodes, {"W": np.ones((3, 4))})
    assert "cannot import: node 'skip' (Add) also reads 'z': the graph branches there" in message


def test_onnx_batch_normalization_is_refused_naming_the_node(tmp_path):
    helper = pytest.importorskip("onnx").helper
    inits = {"W": np.ones((3, 4)), "s": np.ones(4), "b": np.zeros(4), "m": np.zeros(4), "v": np.ones(4)}
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["z"], name="mm"),
        helper.make_node("BatchNormalization", ["z", "s", "b", "m", "v"], ["y"], name="bn1"),
    ]
    message = _refused_onnx(tmp_path, nodes, inits)
    assert "cannot import: node 'bn1' (BatchNormalization) is not a layer or an activation" in message


def test_onnx_two_activations_on_one_layer_are_refused(tmp_path):
    helper = pytest.importorskip("onnx").helper
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["z"]),
        helper.make_node("Relu", ["z"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["y"], name="second"),
    ]
    message = _refused_onnx(tmp_path, nodes, {"W": np.ones((3, 4))})
    assert "node 'second' (Sigmoid) is a second activation on one layer" in message


def test_onnx_activations_are_not_taken_from_the_user(tmp_path):
    _, data = _hand_model()
    path = tmp_path / "hand.onnx"
    path.write_bytes(data)
    assert "leave out --activation" in _refused(import_file, path, ["relu"])


# --- Keras ---


# Keras's torch backend turns tensors into arrays the way NumPy 2 deprecates
_KERAS_WARNINGS = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    pytest.importorskip("h5py")
    keras.config.set_floatx("float64")
    return keras


def _keras_predict(model, x):
    return np.asarray(model.predict(x, verbose=0), dtype=np.float64)


def _weights(model, name):
    """A Keras layer's kernel and bias (or None), as float64 arrays."""
    arrays = [np.asarray(a, dtype=np.float64) for a in model.get_layer(name).get_weights()]
    return arrays[0], arrays[1] if len(arrays) > 1 else None


def _matches_keras(document, model, x, reference):
    """The import equals a float64 NumPy forward pass on the model's weights to 1e-9, and Keras's own
    prediction to float32's precision: Keras's torch backend computes float64 models in float32."""
    output = _network_output(document, x)
    _same(output, reference)
    np.testing.assert_allclose(output, _keras_predict(model, x), rtol=0, atol=1e-6)


@_KERAS_WARNINGS
def test_keras_sequential_file_matches_keras(tmp_path, keras):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(5, activation="relu", name="d1"),
            layers.Dense(4, use_bias=False, name="d2"),
            layers.LeakyReLU(negative_slope=0.25),
            layers.Dropout(0.5),
            layers.Dense(4, activation="tanh", name="d3"),
            layers.Dense(2, name="d4"),
            layers.Activation("softmax"),
        ]
    )
    for variable in model.weights:  # non-zero biases, so that they are tested too
        variable.assign(RNG.normal(size=variable.shape))
    path = tmp_path / "model.keras"
    model.save(path)
    document = keras_file.network_dict(path)
    specs = [layer["activation"] for layer in document["layers"]]
    assert specs == ["relu", {"name": "leaky_relu", "negative_slope": 0.25}, "tanh", "softmax"]
    assert "biases" not in document["layers"][1]
    (k1, b1), (k2, _), (k3, b3), (k4, b4) = (_weights(model, name) for name in ("d1", "d2", "d3", "d4"))
    x = RNG.normal(size=(8, 3))
    z2 = _relu(x @ k1 + b1) @ k2
    _matches_keras(document, model, x, _softmax(np.tanh(np.where(z2 > 0, z2, 0.25 * z2) @ k3 + b3) @ k4 + b4))


@_KERAS_WARNINGS
def test_keras_functional_file_and_legacy_h5_match_keras(tmp_path, keras):
    layers = keras.layers
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, activation="sigmoid", name="hid")(inputs)
    hidden = layers.ReLU(max_value=6.0)(layers.Dense(3, name="mid")(hidden))
    outputs = layers.Dense(2, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    for variable in model.weights:
        variable.assign(RNG.normal(size=variable.shape) * 2)
    (k1, b1), (k2, b2), (k3, b3) = (_weights(model, name) for name in ("hid", "mid", "out"))
    x = RNG.normal(size=(6, 4))
    reference = _softmax(np.clip(_sigmoid(x @ k1 + b1) @ k2 + b2, 0, 6) @ k3 + b3)
    for name in ("functional.keras", "legacy.h5"):
        path = tmp_path / name
        model.save(path)
        document = import_file(path)
        assert [layer["name"] for layer in document["layers"]] == ["hid", "mid", "out"]
        assert [layer["activation"] for layer in document["layers"]] == ["sigmoid", "relu6", "softmax"]
        _matches_keras(document, model, x, reference)


@_KERAS_WARNINGS
def test_keras_layers_nncalc_cannot_express_are_refused_by_name(tmp_path, keras):
    layers = keras.layers
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4), layers.BatchNormalization(name="bn"), layers.Dense(1)]
    )
    path = tmp_path / "bn.keras"
    model.save(path)
    message = _refused(keras_file.network_dict, path)
    assert "cannot import: layer 2 'bn' (BatchNormalization) is not a layer or an activation" in message


@_KERAS_WARNINGS
def test_keras_branching_model_is_refused(tmp_path, keras):
    layers = keras.layers
    inputs = keras.Input((3,))
    a = layers.Dense(3, name="a")(inputs)
    b = layers.Dense(3, name="b")(a)
    model = keras.Model(inputs, layers.Add(name="sum")([a, b]))
    path = tmp_path / "branch.keras"
    model.save(path)
    message = _refused(keras_file.network_dict, path)
    assert "cannot import: the layer 'sum' takes more than one input" in message


@_KERAS_WARNINGS
def test_keras_activation_names_match_keras(tmp_path, keras):
    names = ["linear", "sigmoid", "tanh", "relu", "relu6", "elu", "selu", "gelu", "softplus", "softsign"]
    names += ["swish", "silu", "mish", "hard_sigmoid", "leaky_relu", "softmax"]
    x = RNG.normal(size=(40, 3)) * 3
    for name in names:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=name)])
        path = tmp_path / f"{name}.keras"
        model.save(path)
        output = _network_output(keras_file.network_dict(path), x)
        np.testing.assert_allclose(output, _keras_predict(model, x), rtol=0, atol=1e-5, err_msg=name)


def _keras2_h5(path, activation: str = "sigmoid", version: str = "2.15.0"):
    """A legacy HDF5 file as Keras 2 wrote it: Functional config, LeakyReLU's "alpha", kernel:0 names."""
    h5py = pytest.importorskip("h5py")

    def layer(kind, name, config, parent):
        nodes = [[[parent, 0, 0, {}]]] if parent else []
        return {"class_name": kind, "config": {"name": name, **config}, "name": name, "inbound_nodes": nodes}

    layers = [
        layer("InputLayer", "input_1", {"batch_input_shape": [None, 2]}, None),
        layer("Dense", "dense", {"units": 3, "activation": "linear", "use_bias": True}, "input_1"),
        layer("LeakyReLU", "leaky", {"alpha": 0.3}, "dense"),
        layer("Dense", "dense_1", {"units": 1, "activation": activation, "use_bias": True}, "leaky"),
    ]
    config = {"input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]], "layers": layers}
    k1, b1, k2, b2 = RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=(3, 1)), RNG.normal(size=1)
    with h5py.File(path, "w") as file:
        file.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": config})
        file.attrs["keras_version"] = version
        weights = file.create_group("model_weights")
        for name, arrays in (("dense", (k1, b1)), ("dense_1", (k2, b2)), ("leaky", ())):
            group = weights.create_group(name)
            group.attrs["weight_names"] = [f"{name}/{kind}:0".encode() for kind in ("kernel", "bias")[: len(arrays)]]
            for kind, array in zip(("kernel", "bias"), arrays, strict=False):
                group.create_dataset(f"{name}/{kind}:0", data=array)
    return path, (k1, b1, k2, b2)


def test_keras2_legacy_h5_written_by_hand_matches_a_numpy_forward_pass(tmp_path):
    path, (k1, b1, k2, b2) = _keras2_h5(tmp_path / "keras2.h5")
    document = import_file(path)
    assert document["layers"][0]["activation"] == {"name": "leaky_relu", "negative_slope": 0.3}
    x = RNG.normal(size=(5, 2))
    z1 = x @ k1 + b1
    _same(_network_output(document, x), _sigmoid(np.where(z1 > 0, z1, 0.3 * z1) @ k2 + b2))


def test_keras2_hard_sigmoid_is_refused_as_not_pytorchs(tmp_path):
    path, _ = _keras2_h5(tmp_path / "keras2.h5", activation="hard_sigmoid")
    message = _refused(import_file, path)
    assert "layer 3 'dense_1' (Dense) uses Keras 2's hard_sigmoid, 0.2z + 0.5" in message


def test_keras_exponential_activation_is_exp(tmp_path):
    from nncalc.activations import lookup

    if lookup("exp") is None:
        pytest.skip("nncalc has no exp activation yet")
    path, (k1, b1, k2, b2) = _keras2_h5(tmp_path / "exp.h5", activation="exponential")
    document = import_file(path)
    assert document["layers"][1]["activation"] == "exp"
    x = RNG.normal(size=(5, 2))
    z1 = x @ k1 + b1
    _same(_network_output(document, x), np.exp(np.where(z1 > 0, z1, 0.3 * z1) @ k2 + b2))


def test_keras_archive_with_damaged_weights_is_one_located_error(tmp_path):
    pytest.importorskip("h5py")
    config = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"}}]}}
    path = _keras_archive(tmp_path / "damaged.keras", json.dumps(config).encode(), b"\x89HDF\r\n\x1a\n" + bytes(100))
    assert "not a readable Keras file" in _refused(import_file, path)


def test_keras_archive_cut_short_is_one_located_error(tmp_path):
    pytest.importorskip("h5py")
    path = _keras_archive(tmp_path / "whole.keras", b"{}", RNG.bytes(5000))  # incompressible
    cut = tmp_path / "cut.keras"
    cut.write_bytes(path.read_bytes()[:3000])
    assert "not a .keras file: not a zip archive" in _refused(import_file, cut)


def _keras_archive(path, config: bytes, weights: bytes = b"", compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compress) as archive:
        archive.writestr("config.json", config)
        archive.writestr("model.weights.h5", weights)
    return path


def test_keras_config_that_unpacks_past_its_cap_is_refused_fast(tmp_path):
    path = _keras_archive(tmp_path / "bomb.keras", b" " * (keras_file.CONFIG_LIMIT + 1))
    assert path.stat().st_size < 100_000
    message = _refused(import_file, path)
    assert "config.json unpacks to 16,777,217 bytes, more than the limit" in message


def test_keras_config_whose_declared_size_lies_is_still_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_file, "CONFIG_LIMIT", 1000)
    path = _keras_archive(tmp_path / "liar.keras", b"[" * 5000, compress=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    # the central directory's uncompressed size (offset 24 in its entry) says 10 bytes
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 10)
    path.write_bytes(bytes(data))
    _refused(keras_file.network_dict, path)


def test_keras_file_that_is_not_a_zip_is_refused(tmp_path):
    pytest.importorskip("h5py")
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip at all")
    assert "not a .keras file: not a zip archive" in _refused(import_file, path)


def test_keras_without_h5py_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    path = _keras_archive(tmp_path / "model.keras", b"{}")
    assert _refused(import_file, path) == f"{path}: reading .keras files needs h5py: pip install 'nncalc[keras]'"


def test_keras_weights_only_h5_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("dense/kernel", data=np.ones((2, 2)))
    assert "weights only" in _refused(import_file, path)


# --- telling the format ---


def test_formats_are_told_by_their_bytes_whatever_the_suffix(tmp_path):
    w = RNG.normal(size=(2, 3))
    npz_path = tmp_path / "really-npz.onnx"
    with open(npz_path, "wb") as stream:
        np.savez(stream, **{"0.weight": w})
    safetensors_path = tmp_path / "weights"
    safetensors_path.write_bytes(_safetensors_bytes({"0.weight": w}))
    (_, _, _, _), onnx_data = _hand_model()
    onnx_path = tmp_path / "model.bin"
    onnx_path.write_bytes(onnx_data)
    for path in (npz_path, safetensors_path):
        assert import_file(path, ["relu"])["layers"][0]["weights"] == w.tolist()
    assert import_file(onnx_path)["layers"][1]["activation"] == "softmax"


def test_an_unknown_format_is_refused_naming_the_supported_ones(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x02}q\x00.")  # a pickle: never read
    message = _refused(import_file, path)
    assert ".npz" in message and ".safetensors" in message and ".onnx" in message and ".keras" in message


def test_a_missing_file_is_one_located_error(tmp_path):
    assert _refused(import_file, tmp_path / "nowhere.onnx").endswith("no such file")


def test_the_network_name_defaults_to_the_file_name_and_can_be_given(tmp_path):
    path = tmp_path / "digits.npz"
    np.savez(path, W1=np.ones((2, 1)))
    assert import_file(path, ["relu"])["name"] == "digits"
    assert import_file(path, ["relu"], name="Digits classifier")["name"] == "Digits classifier"


def test_an_imported_document_reads_back_to_the_same_bits(tmp_path):
    # every weight a Python float: YAML writes its repr, which reads back exactly
    w = RNG.normal(size=(3, 2))
    path = tmp_path / "bits.npz"
    np.savez(path, W1=w)
    text = yaml.safe_dump(import_file(path, ["identity"]), sort_keys=False)
    network = parse_network(text, "<import>")
    x = np.eye(3)
    assert np.array_equal(forward(network, x).output, x @ w)
    assert all(type(v) is float for row in yaml.safe_load(io.StringIO(text))["layers"][0]["weights"] for v in row)


# --- damaged files, at random ---


def _damaged(data: bytes, rng: np.random.Generator) -> bytes:
    """``data`` cut short, or with a few bytes changed."""
    if rng.random() < 0.5:
        return data[: rng.integers(0, len(data))]
    damaged = bytearray(data)
    for _ in range(rng.integers(1, 4)):
        damaged[rng.integers(0, len(damaged))] = rng.integers(0, 256)
    return bytes(damaged)


def test_damaged_files_give_a_network_or_one_located_error(tmp_path):
    w1, b1, w2 = RNG.normal(size=(3, 2)), RNG.normal(size=3), RNG.normal(size=(1, 3))
    buffer = io.BytesIO()
    np.savez(buffer, **{"0.weight": w1, "0.bias": b1, "1.weight": w2})
    originals = {
        "model.npz": buffer.getvalue(),
        "model.safetensors": _safetensors_bytes({"0.weight": w1, "0.bias": b1, "1.weight": w2}),
        "model.onnx": _hand_model()[1],
    }
    rng = np.random.default_rng(7)
    for name, data in originals.items():
        for attempt in range(150):
            path = tmp_path / f"{attempt}-{name}"
            path.write_bytes(_damaged(data, rng))
            try:
                document = import_file(path, None if name.endswith(".onnx") else ["relu"])
            except InputError as error:
                assert len(error.problems) == 1 and error.problems[0].location is not None, str(error)
            else:
                assert document["layers"]
