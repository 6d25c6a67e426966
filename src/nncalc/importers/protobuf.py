"""A minimal reader of the protobuf wire format, enough for ONNX files, with every bound checked.

Why not a package: the ``protobuf`` package with ONNX's generated classes (the ``onnx``
package) is tens of megabytes and compiled code, to read a handful of fields. The wire
format is small: a message is a run of fields, each a varint key (field number << 3 |
wire type) then a value: a varint (type 0), 8 bytes (type 1), a varint length and that
many bytes (type 2: strings, bytes, sub-messages, packed repeated numbers) or 4 bytes
(type 5). Groups (types 3 and 4) are long deprecated and ONNX uses none: they are refused.

Every read is checked against the end of its buffer, so a truncated or hostile file gives
one :class:`WireError` naming the byte where it went wrong, never an IndexError or a huge
allocation (a length is only ever a slice of bytes that exist).
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence

import numpy as np

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_MAX_VARINT_BYTES = 10  # 64 bits, 7 at a time


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message; ``offset`` is the file offset where reading failed."""

    def __init__(self, reason: str, offset: int):
        super().__init__(f"{reason} at byte {offset}")
        self.reason = reason
        self.offset = offset


def read_varint(data: memoryview, pos: int, end: int, base: int = 0) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it; at most 10 bytes, at most 64 bits.

    ``base`` is the file offset of ``data``, for the error's offset.
    """
    result = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= end:
            raise WireError("truncated varint", base + pos + i)
        byte = data[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if result >> 64:
                raise WireError("varint larger than 64 bits", base + pos)
            return result, pos + i + 1
    raise WireError("varint longer than 10 bytes", base + pos)


def signed64(value: int) -> int:
    """An int64 field's value: varints carry negative numbers as their 64-bit two's complement."""
    return value - (1 << 64) if value >> 63 else value


def fields(
    data: bytes | memoryview, base: int = 0, wanted: Container[int] | None = None
) -> Iterator[tuple[int, int, int | memoryview, int]]:
    """Each field of one message as (field number, wire type, value, file offset of the value).

    A varint, fixed64 or fixed32 value is an unsigned int (fixed ones little-endian); a
    length-delimited value is a memoryview of its bytes (parse it again for a sub-message,
    with its offset as ``base``). ``base`` is the file offset of ``data``, so that errors
    name file offsets. With ``wanted``, only fields of those numbers are given: the others
    are checked as well formed and passed over without making their values, so that a
    reader's unknown fields cost it neither memory nor much time.
    """
    view = memoryview(data)
    pos, end = 0, len(view)
    while pos < end:
        key = view[pos]  # keys of fields 1 to 15 are one byte, up to 2047 two: read here, without a call
        if key < 0x80:
            start = pos + 1
        elif pos + 1 < end and view[pos + 1] < 0x80:
            key, start = key & 0x7F | view[pos + 1] << 7, pos + 2
        else:
            key, start = read_varint(view, pos, end, base)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0", base + pos)
        if wire == VARINT:
            value, pos = read_varint(view, start, end, base)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if start + size > end:
                raise WireError(f"truncated {size * 8}-bit value", base + start)
            pos = start + size
            if wanted is not None and number not in wanted:
                continue
            value = int.from_bytes(view[start:pos], "little")
        elif wire == LENGTH:
            length = view[start] if start < end else 0x80
            if length < 0x80:
                after = start + 1
            else:
                length, after = read_varint(view, start, end, base)
            if length > end - after:
                raise WireError(f"length {length:,} runs past the end of its message", base + start)
            start, pos = after, after + length
            if wanted is not None and number not in wanted:
                continue
            value = view[start:pos]
        else:
            kind = "groups are not supported" if wire in (3, 4) else f"unknown wire type {wire}"
            raise WireError(f"field {number}: {kind}", base + pos)
        if wanted is None or number in wanted:
            yield number, wire, value, base + start


def packed_varints(value: int | Sequence[int] | memoryview, wire: int, offset: int) -> np.ndarray:
    """A repeated varint field's values as uint64: packed (one length-delimited run) or unpacked values
    (one int, or a run of them, as an ``array('Q')``).

    An int64 field's values are ``.view(np.int64)`` of these (two's complement, as :func:`signed64`).
    """
    if wire == VARINT:
        return np.atleast_1d(np.asarray(value, dtype=np.uint64))
    if wire != LENGTH:
        raise WireError(f"a varint expected, wire type {wire} found", offset)
    return varints(value, offset)


_CHUNK = 1 << 16  # bytes of packed varints decoded at once: bounds the temporary arrays to a few MB


def varints(data: bytes | memoryview, base: int = 0) -> np.ndarray:
    """Every varint packed in ``data``, as uint64, decoded with NumPy a chunk of bytes at a time.

    Why: a packed field can be most of a file, and a Python int per value costs some 30
    bytes per byte read. Here the memory is the result (8 bytes a value) and temporaries
    for one chunk. A varint ends at its first byte below 0x80; its bytes' low 7 bits,
    least significant first, are its value. A bad one (over 10 bytes, over 64 bits, cut
    off at the end) raises :func:`read_varint`'s error for the first in file order, ``base``
    being the file offset of ``data``.
    """
    view = memoryview(data)
    raw = np.frombuffer(view, dtype=np.uint8)
    size = raw.size
    count = sum(int(np.count_nonzero(raw[at : at + _CHUNK] < 0x80)) for at in range(0, size, _CHUNK))
    out = np.empty(count, dtype=np.uint64)
    pos = filled = 0
    while pos < size:
        chunk = raw[pos : pos + _CHUNK]
        ends = np.flatnonzero(chunk < 0x80)  # each complete varint's last byte
        if not ends.size:  # the varint at pos is longer than a chunk (≥ 10 bytes) or cut off at the end
            read_varint(view, pos, size, base)
            raise AssertionError("read_varint accepted a varint with no last byte")  # pragma: no cover
        starts = np.concatenate(([0], ends[:-1] + 1))
        lengths = ends - starts + 1
        bad = (lengths > _MAX_VARINT_BYTES) | ((lengths == _MAX_VARINT_BYTES) & (chunk[ends] > 1))
        if bad.any():
            read_varint(view, pos + int(starts[np.argmax(bad)]), size, base)
            raise AssertionError("read_varint accepted a bad varint")  # pragma: no cover
        values = (chunk[starts] & 0x7F).astype(np.uint64)
        for k in range(1, int(lengths.max())):
            longer = np.flatnonzero(lengths > k)
            values[longer] |= (chunk[starts[longer] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        out[filled : filled + values.size] = values
        filled += values.size
        pos += int(ends[-1]) + 1
    return out


def packed_floats(value: int | Sequence[int] | memoryview, wire: int, dtype: str, offset: int) -> np.ndarray:
    """A repeated float (``'<f4'``) or double (``'<f8'``) field's values, packed (a view of the file's bytes)
    or unpacked: one fixed32/fixed64 value as :func:`fields` gives it (an unsigned int), or a run of them."""
    size = np.dtype(dtype).itemsize
    if wire == LENGTH:
        if len(value) % size:
            raise WireError(f"packed {size * 8}-bit numbers: {len(value)} bytes is not a multiple of {size}", offset)
        return np.frombuffer(value, dtype=dtype)
    if wire != (FIXED32 if size == 4 else FIXED64):
        raise WireError(f"a {size * 8}-bit number expected, wire type {wire} found", offset)
    return np.atleast_1d(np.asarray(value, dtype=np.uint64)).astype(f"<u{size}").view(dtype)
