"""ONNX attributes of the wrong type: refused by name, never multiplied into weights or printed whole.

A file may give any attribute any type: a LeakyRelu's alpha as a list of a million numbers,
a Gemm's alpha as text, a Softmax's axis as a fraction. Each is one located ``cannot import``
line naming the attribute, its value cut short. The models are written by the protobuf
encoder of ``test_import_onnx_floods`` (independent of the reader); the right-typed model
beside each wrong one imports, so the test can tell a refusal from a model that never loads.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from nncalc.errors import InputError
from nncalc.importers import onnx
from tests.test_import_onnx_floods import FIXED32, _field, _int, _key, _model, _text, _varint

WEIGHTS = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])  # 3 inputs, 2 neurons
FLOAT, INT, STRING, TENSOR, FLOATS, INTS = 1, 2, 3, 4, 6, 7


def attribute(name: str, kind: int, value) -> bytes:
    """An AttributeProto: name (1), the value's field by its type, and the type (20)."""
    body = _text(1, name)
    if kind == FLOAT:
        body += _key(2, FIXED32) + struct.pack("<f", value)
    elif kind == INT:
        body += _int(3, value)
    elif kind == STRING:
        body += _field(4, value.encode())
    elif kind == TENSOR:
        body += _field(5, _int(1, 2) + _int(2, 1) + _field(9, np.array(value, "<f4").tobytes()))
    elif kind == FLOATS:
        body += _field(7, np.array(value, "<f4").tobytes())
    elif kind == INTS:
        body += _field(8, b"".join(_varint(v) for v in value))
    return _field(5, body + _int(20, kind))  # NodeProto's attribute is field 5


def activation(op: str, *attributes: bytes) -> bytes:
    """The node after the MatMul: z → ``op`` → y, with its attributes."""
    return _text(1, "z") + _text(2, "y") + _text(4, op) + b"".join(attributes)


def imported(node: bytes) -> dict:
    return onnx.from_bytes(_model(WEIGHTS, relu=node), "model.onnx", "model")


def refusal(node: bytes) -> str:
    with pytest.raises(InputError) as caught:
        imported(node)
    (problem,) = caught.value.problems
    return str(problem)


def test_a_leaky_relu_with_a_float_alpha_imports():
    (layer,) = imported(activation("LeakyRelu", attribute("alpha", FLOAT, 0.25)))["layers"]
    assert layer["activation"] == {"name": "leaky_relu", "negative_slope": 0.25}


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        (INTS, [1, 2, 3], "[1, 2, 3]"),
        (FLOATS, [0.5, 0.25], "[0.5, 0.25]"),
        (STRING, "0.2", "'0.2'"),
        (TENSOR, [0.1, 0.2], "(a tensor of shape (2,))"),
    ],
)
def test_an_alpha_that_is_not_one_number_is_refused_by_name(kind, value, shown):
    message = refusal(activation("LeakyRelu", attribute("alpha", kind, value)))
    assert message == f"model.onnx: cannot import: node 2 (LeakyRelu) has alpha {shown}, which is not a finite number"


def test_a_million_numbers_for_an_alpha_are_not_printed():
    message = refusal(activation("Elu", attribute("alpha", FLOATS, np.zeros(1_000_000))))
    assert "has alpha [0.0, 0.0" in message and message.endswith("…, which is not a finite number")
    assert len(message) < 200


def test_a_softmax_axis_that_is_not_a_whole_number_is_refused():
    message = refusal(activation("Softmax", attribute("axis", FLOAT, 1.0)))
    assert message.endswith("node 2 (Softmax) has axis 1.0, which is not a whole number")
    (layer,) = imported(activation("Softmax", attribute("axis", INT, 1)))["layers"]
    assert layer["activation"] == "softmax"


def test_a_clip_bound_given_as_a_list_is_refused_not_compared():
    """Clip's min and max (attributes before opset 11) are numbers; a list there was compared as a list."""
    message = refusal(activation("Clip", attribute("min", INTS, [0] * 100_000), attribute("max", FLOAT, 6.0)))
    assert "has min [0, 0, 0" in message and len(message) < 200
    (layer,) = imported(activation("Clip", attribute("min", FLOAT, 0.0), attribute("max", FLOAT, 6.0)))["layers"]
    assert layer["activation"] == "relu6"


def gemm(*attributes: bytes) -> bytes:
    """x (1, 3) → Gemm with the constant B (3, 2) and attributes → y."""
    tensor = _int(1, 3) + _int(1, 2) + _int(2, 1) + _text(8, "B") + _field(9, WEIGHTS.astype("<f4").tobytes())
    node = _text(1, "x") + _text(1, "B") + _text(2, "y") + _text(4, "Gemm") + b"".join(attributes)
    graph = _field(1, node) + _text(2, "gemm") + _field(5, tensor)
    dims = [_field(1, _int(1, 1)), _field(1, _int(1, 3))]
    graph += _field(11, _text(1, "x") + _field(2, _field(1, _int(1, 1) + _field(2, b"".join(dims)))))
    out = [_field(1, _int(1, 1)), _field(1, _int(1, 2))]
    graph += _field(12, _text(1, "y") + _field(2, _field(1, _int(1, 1) + _field(2, b"".join(out)))))
    return _int(1, 8) + _field(8, _int(2, 13)) + _field(7, graph)


def test_a_gemm_alpha_multiplies_the_weights_only_when_it_is_a_number():
    (layer,) = onnx.from_bytes(gemm(attribute("alpha", FLOAT, 2.0)), "gemm.onnx", "gemm")["layers"]
    assert layer["weights"] == (2 * WEIGHTS.astype(np.float32).astype(np.float64).T).tolist()
    with pytest.raises(InputError, match=r"node 1 \(Gemm\) has alpha \[2, 3\], which is not a finite number"):
        onnx.from_bytes(gemm(attribute("alpha", INTS, [2, 3])), "gemm.onnx", "gemm")
    with pytest.raises(InputError, match=r"has transB 'yes', which is not a whole number"):
        onnx.from_bytes(gemm(attribute("transB", STRING, "yes")), "gemm.onnx", "gemm")
