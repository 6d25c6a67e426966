"""ONNX tensors' numbers: varints decoded with NumPy, right to the bit, located when damaged, and in bounded memory.

The expected values are worked by hand from the protobuf wire format (a varint is 7 bits a
byte, least significant first, the top bit saying another byte follows; an int64 is its
64-bit two's complement, so a negative one takes 10 bytes) or encoded here by a writer
independent of the reader; where the ``onnx`` package is installed, its own reader is
the reference.
"""

from __future__ import annotations

import struct
import tracemalloc

import numpy as np
import pytest

from nncalc.errors import InputError
from nncalc.importers import onnx
from nncalc.importers.protobuf import WireError, packed_varints, varints

RNG = np.random.default_rng(20261202)


def _varint(value: int) -> bytes:
    """One varint, written a byte at a time (the protobuf documentation's algorithm)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _model(tensor: bytes) -> bytes:
    """ModelProto: ir_version (1), graph (7) holding one initializer (5)."""
    return _int_field(1, 8) + _field(7, _field(5, tensor))


def _int64_tensor(name: str, dims: list[int], data: bytes) -> bytes:
    """TensorProto: dims (1), data_type (2) INT64 = 7, name (8), int64_data (7) as the packed ``data``."""
    return b"".join(_int_field(1, d) for d in dims) + _int_field(2, 7) + _field(8, name.encode()) + _field(7, data)


# --- the decoder against hand-worked bytes ---

HAND_WORKED = [
    (b"\x00", 0),
    (b"\x01", 1),
    (b"\x7f", 127),
    (b"\x80\x01", 128),
    (b"\x96\x01", 150),  # the protobuf documentation's example: 0x16 + (1 << 7)
    (b"\xac\x02", 300),  # 0x2c + (2 << 7)
    (b"\xff\xff\x03", 65535),  # 0x7f + (0x7f << 7) + (3 << 14)
    (b"\xff" * 8 + b"\x7f", 2**63 - 1),  # 63 one bits in 9 bytes
    (b"\xff" * 9 + b"\x01", -1),  # 64 one bits: 10 bytes
    (b"\xfe" + b"\xff" * 8 + b"\x01", -2),
    (b"\x80" * 9 + b"\x01", -(2**63)),  # only bit 63
    (b"\x80\x80\x00", 0),  # padded with continuation bytes: still 0
]


def test_varints_match_hand_worked_values_one_at_a_time_and_packed_together():
    for encoded, value in HAND_WORKED:
        assert varints(encoded).view(np.int64).tolist() == [value], encoded
    packed = b"".join(encoded for encoded, _ in HAND_WORKED)
    decoded = varints(packed)
    assert decoded.dtype == np.uint64
    assert decoded.view(np.int64).tolist() == [value for _, value in HAND_WORKED]
    assert varints(b"").size == 0


def test_varints_match_an_independent_encoder_across_many_chunks():
    # every length from 1 to 10 bytes, negative int64s among them, over several 64 KiB chunks,
    # so that varints straddle the chunks' edges
    values = np.concatenate(
        [
            RNG.integers(0, 128, 20000),
            RNG.integers(128, 2**14, 20000),
            RNG.integers(-(2**63), 2**63 - 1, 20000, dtype=np.int64),
            RNG.integers(2**40, 2**56, 20000),
            -RNG.integers(1, 1000, 20000),
        ]
    )
    RNG.shuffle(values)
    packed = b"".join(_varint(int(v)) for v in values)
    assert len(packed) > 4 * 65536
    assert np.array_equal(varints(packed).view(np.int64), values)


def test_packed_varints_are_an_array_packed_or_not():
    packed = packed_varints(memoryview(b"\xac\x02\x01"), 2, 0)
    assert isinstance(packed, np.ndarray) and packed.tolist() == [300, 1]
    assert packed_varints(300, 0, 0).tolist() == [300]


# --- damaged varints: the first in file order, at its file offset ---


@pytest.mark.parametrize(
    ("data", "reason", "at"),
    [
        (b"\x01\x96", "truncated varint", 2),  # cut off: the offset is the end of the run
        (b"\x01" + b"\xff" * 9, "truncated varint", 10),
        (b"\x01" + b"\xff" * 10 + b"\x01", "varint longer than 10 bytes", 1),
        (b"\x01" + b"\xff" * 9 + b"\x02", "varint larger than 64 bits", 1),
        (b"\x01\x02" + b"\xff" * 9 + b"\x7f" + b"\xff" * 12, "varint larger than 64 bits", 2),  # the first of two
        (b"\x05" * 70000 + b"\xff" * 20 + b"\x01", "varint longer than 10 bytes", 70000),  # in a later chunk
        (b"\x05" * 65530 + b"\xff" * 9, "truncated varint", 65539),  # across a chunk's edge
        (b"\x05" * 65530 + b"\xff" * 10, "varint longer than 10 bytes", 65530),  # 10 bytes, none the last
        (b"\x05" * 65530 + b"\xff" * 11 + b"\x01", "varint longer than 10 bytes", 65530),
    ],
)
def test_damaged_varints_name_the_first_bad_one_at_its_file_offset(data, reason, at):
    with pytest.raises(WireError) as raised:
        varints(data, base=1000)
    assert (raised.value.reason, raised.value.offset) == (reason, 1000 + at)


def test_a_truncated_int64_initializer_is_one_located_error(tmp_path):
    good = _varint(-5) + _varint(300)
    model = _model(_int64_tensor("shape", [3], good + b"\xff\xff"))
    path = tmp_path / "cut.onnx"
    path.write_bytes(model)
    with pytest.raises(InputError) as raised:
        onnx.network_dict(path)
    # the run ends with the file: the offset is the file's length
    assert str(raised.value).endswith(f"{path}: not a valid ONNX file: truncated varint at byte {len(model)}")


# --- tensors ---


def test_int64_tensors_packed_or_not_decode_to_int64_arrays_with_negative_values():
    values = [-1, 0, 300, -(2**63), 2**63 - 1, 7]
    packed = _int64_tensor("a", [2, 3], b"".join(_varint(v) for v in values))
    unpacked = b"".join(_int_field(1, d) for d in (3, 2)) + _int_field(2, 7) + _field(8, b"b")
    unpacked += b"".join(_int_field(7, v) for v in values)
    graph = onnx._read_model(_model(packed) + _field(7, _field(5, packed) + _field(5, unpacked)))
    for name, shape in (("a", (2, 3)), ("b", (3, 2))):
        array = graph.constants[name]
        assert array.dtype == np.int64 and array.shape == shape
        assert array.reshape(-1).tolist() == values


def test_float_tensors_unpacked_packed_and_mixed_keep_the_file_order():
    # float_data (4) as fixed32 fields one by one, a packed run, and one more; double_data (10) likewise
    floats, doubles = [1.5, -2.0, 0.25, 3.0, -0.5], [0.1, -1e300, 2.0]
    tensor = _int_field(1, 5) + _int_field(2, 1) + _field(8, b"f")
    tensor += b"".join(_varint(4 << 3 | 5) + struct.pack("<f", v) for v in floats[:2])
    tensor += _field(4, struct.pack("<2f", *floats[2:4])) + _varint(4 << 3 | 5) + struct.pack("<f", floats[4])
    double = _int_field(1, 3) + _int_field(2, 11) + _field(8, b"d")
    double += _varint(10 << 3 | 1) + struct.pack("<d", doubles[0]) + _field(10, struct.pack("<2d", *doubles[1:]))
    graph = onnx._read_model(_int_field(1, 8) + _field(7, _field(5, tensor) + _field(5, double)))
    assert graph.constants["f"].dtype == np.float32 and graph.constants["f"].tolist() == floats
    assert graph.constants["d"].dtype == np.float64 and graph.constants["d"].tolist() == doubles


def test_a_scalar_field_given_again_reads_as_its_last_value():
    # data_type (2) FLOAT then INT64: protobuf keeps the last, so int64_data (7) is read
    tensor = _int_field(1, 2) + _int_field(2, 1) + _int_field(2, 7) + _field(8, b"t") + _field(7, b"\x05\x7f")
    name, array = onnx._read_tensor(memoryview(tensor), 0)
    assert name == "t" and array.dtype == np.int64 and array.tolist() == [5, 127]


def test_int64_tensor_with_the_wrong_count_is_refused():
    graph = _model(_int64_tensor("shape", [4], _varint(1) + _varint(2)))
    with pytest.raises(InputError, match="tensor 'shape' has 2 values for dims \\[4\\]"):
        onnx.from_bytes(graph, "m.onnx", "m")


@pytest.mark.parametrize("count", [65, 1_000_000])
def test_a_tensor_with_more_dimensions_than_numpy_holds_is_refused_by_name(tmp_path, count):
    # 65 dims of 1 and one value: the counts agree, and NumPy's reshape would raise a ValueError
    dims = _field(1, b"\x01" * count)  # packed, as the onnx package writes them
    path = tmp_path / "deep.onnx"
    path.write_bytes(_model(dims + _int_field(2, 7) + _field(8, b"t") + _field(7, _varint(3))))
    with pytest.raises(InputError) as raised:
        onnx.network_dict(path)
    expected = f"{path}: cannot import: tensor 't' has {count:,} dimensions; NumPy's arrays have at most 64"
    assert str(raised.value).endswith(expected)


def test_a_tensor_with_64_dimensions_is_read():
    tensor = _field(1, b"\x01" * 63 + b"\x02") + _int_field(2, 7) + _field(8, b"t") + _field(7, b"\x03\x7f")
    _, array = onnx._read_tensor(memoryview(tensor), 0)
    assert array.shape == (1,) * 63 + (2,) and array.reshape(-1).tolist() == [3, 127]


@pytest.mark.parametrize("kind", ["int64", "float", "unpacked int64", "unpacked float"])
def test_a_large_initializer_is_read_without_an_object_per_value(kind):
    # Packed: 1,000,000 values in 2 MB of varints (each 2 bytes: 128 ≤ v < 16384) or 4 MB of
    # float32. An int per value cost ~28 bytes per file byte (57 MB here); the int64 array is
    # 8 bytes per value = 4 per file byte, the float32 one a view of the file. Unpacked (a key
    # before each value, 100,000 of them): a tuple and two ints per field cost ~54 bytes per
    # file byte; a run of them in an array('Q') 8 bytes per value.
    count = 1_000_000 if kind in ("int64", "float") else 100_000
    if "int64" in kind:
        values = RNG.integers(128, 2**14, count)
        if kind == "int64":
            pairs = np.stack([(values & 0x7F) | 0x80, values >> 7], axis=1).astype(np.uint8)
            tensor = _int64_tensor("big", [count], pairs.tobytes())
        else:
            fields = np.stack([np.full(count, 7 << 3), (values & 0x7F) | 0x80, values >> 7], axis=1)
            tensor = _int_field(1, count) + _int_field(2, 7) + _field(8, b"big") + fields.astype(np.uint8).tobytes()
    else:
        values = RNG.normal(size=count).astype(np.float32)
        if kind == "float":
            data = _field(4, values.astype("<f4").tobytes())
        else:
            record = np.dtype([("key", "u1"), ("value", "<f4")])
            data = np.rec.fromarrays([np.full(count, 4 << 3 | 5), values], dtype=record).tobytes()
        tensor = _int_field(1, count) + _int_field(2, 1) + _field(8, b"big") + data
    data = _model(tensor)
    tracemalloc.start()
    try:
        graph = onnx._read_model(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(graph.constants["big"], values)
    assert peak < 8 * len(data), f"{peak:,} bytes at the peak to read {len(data):,}"


def test_integer_and_float_tensors_agree_with_the_onnx_package():
    onnx_package = pytest.importorskip("onnx")
    helper, numpy_helper, TensorProto = onnx_package.helper, onnx_package.numpy_helper, onnx_package.TensorProto
    int64s = np.array([[-1, 0, 1], [-(2**63), 2**63 - 1, 300]], dtype=np.int64)
    int32s = np.array([-(2**31), -7, 2**31 - 1, 128], dtype=np.int32)
    floats = RNG.normal(size=(3, 2)).astype(np.float32)
    doubles = RNG.normal(size=5)
    tensors = [
        helper.make_tensor("i64", TensorProto.INT64, int64s.shape, int64s.reshape(-1).tolist()),  # int64_data
        helper.make_tensor("i32", TensorProto.INT32, int32s.shape, int32s.tolist()),  # int32_data
        helper.make_tensor("f32", TensorProto.FLOAT, floats.shape, floats.reshape(-1).tolist()),  # float_data
        helper.make_tensor("f64", TensorProto.DOUBLE, doubles.shape, doubles.tolist()),  # double_data
        numpy_helper.from_array(int64s, "i64raw"),  # raw_data
    ]
    for tensor in tensors:
        data = tensor.SerializeToString()
        name, array = onnx._read_tensor(memoryview(data), 0)
        expected = numpy_helper.to_array(tensor)
        assert name == tensor.name
        assert array.shape == expected.shape and np.array_equal(array, expected), name
