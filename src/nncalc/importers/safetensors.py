"""Importing a ``.safetensors`` file of weights, read by hand: no ``safetensors`` package needed.

The format: 8 bytes, little-endian, the length N of a JSON header; N bytes of header, an
object ``{name: {"dtype": "F32", "shape": [4, 3], "data_offsets": [begin, end]}}`` (and
perhaps ``"__metadata__"``: text only); then the tensors' raw little-endian bytes, with
offsets counted from the end of the header. Every number the header declares is checked
against the file before anything is read: a header longer than :data:`HEADER_LIMIT` or
than the file, offsets outside the data, a size that does not match the shape, tensors
that overlap. Each gives one located error; nothing larger than the file is allocated.

As with NumPy archives, the file stores no activations: the user names them.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers.files import (
    DEFAULT_MAX_BYTES,
    ActivationSpec,
    build_network,
    dense_layers,
    read_bytes,
    with_activations,
)
from nncalc.text import visible

HEADER_LIMIT = 100 * 1024 * 1024  # bytes; the safetensors library's own limit
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}  # BF16: bits, widened below
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def network_dict(
    path: str | Path,
    activations: Sequence[ActivationSpec] | None,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """The network file (as a dict) for the weights in a ``.safetensors`` file, with the given activations.

    Keys are grouped into layers as for NumPy archives (``0.weight``, ``fc1.bias``, ``W1``
    …); ``activations`` is one name for every layer or one per layer. A file larger than
    ``max_bytes`` is refused before it is read.
    """
    data = read_bytes(Path(path), max_bytes)
    return from_bytes(data, str(path), activations, Path(path).stem if name is None else name)


def from_bytes(data: bytes, source: str, activations: Sequence[ActivationSpec] | None, name: str | None) -> dict:
    """:func:`network_dict` for a file already read; ``source`` names it in messages."""
    layers = dense_layers(read_tensors(data, source), source)
    return build_network(name, with_activations(layers, activations, source))


def read_tensors(data: bytes, source: str) -> list[tuple[str, np.ndarray]]:
    """The file's tensors by name, in the header's order, as float arrays (BF16 widened to float32)."""
    header, start = _header(data, source)
    data_size = len(data) - start
    entries = []
    for key, entry in header.items():
        if key == "__metadata__":
            if not isinstance(entry, dict):
                raise _error(source, "the header's __metadata__ is not an object")
            continue
        entries.append((key, *_checked_entry(key, entry, data_size, source)))
    _check_no_overlap(entries, source)
    tensors = []
    for key, dtype, shape, (begin, _) in entries:
        flat = np.frombuffer(data, dtype=_DTYPES[dtype], count=math.prod(shape), offset=start + begin)
        if dtype == "BF16":
            flat = (flat.astype(np.uint32) << 16).view(np.float32)
        tensors.append((key, flat.reshape(shape)))
    return tensors


def _error(source: str, message: str) -> InputError:
    """A located error about this file's safetensors structure."""
    return InputError(f"not a valid safetensors file: {message}", Location(source))


def _header(data: bytes, source: str) -> tuple[dict, int]:
    """The parsed JSON header and the offset where the tensors' data starts."""
    if len(data) < 8:
        raise _error(source, f"{len(data)} bytes, fewer than the 8 of the header's length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > HEADER_LIMIT:
        raise _error(source, f"the header declares {length:,} bytes, more than the limit of {HEADER_LIMIT:,}")
    if length > len(data) - 8:
        raise _error(source, f"the header declares {length:,} bytes, but only {len(data) - 8:,} follow")
    raw = data[8 : 8 + length]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(source, f"the header is not UTF-8 text (byte {8 + exc.start})") from None
    try:
        header = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise _error(source, f"the header is not JSON: {exc.msg} (header character {exc.pos + 1})") from None
    except RecursionError:
        raise _error(source, "the header's JSON nests too deeply") from None
    except ValueError as exc:  # a duplicate key, or an integer too long to convert
        raise _error(source, f"the header: {visible(str(exc))}") from None
    if not isinstance(header, dict):
        raise _error(source, "the header is not a JSON object")
    return header, 8 + length


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, refusing a key given twice (which tensor would it be?)."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _checked_entry(key: str, entry: object, data_size: int, source: str) -> tuple[str, list[int], tuple[int, int]]:
    """(dtype, shape, (begin, end)) of one tensor, each checked against the data that follows the header."""
    what = f"tensor {visible(key)!r}"
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise _error(source, f"{what} is not an object of dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPES:
        raise InputError(
            f"cannot import: {what} holds {visible(str(dtype))} numbers; nncalc reads F64, F32, F16 and BF16",
            Location(source),
        )
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise _error(source, f"{what}: its shape is not a list of counts")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(n) for n in offsets):
        raise _error(source, f"{what}: its data_offsets are not two byte offsets")
    begin, end = offsets
    if not begin <= end <= data_size:
        raise _error(source, f"{what}: its data_offsets [{begin}, {end}] lie outside the {data_size:,} bytes of data")
    size = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
    if end - begin != size:
        raise _error(source, f"{what}: shape {shape} of {dtype} takes {size:,} bytes, its offsets give {end - begin:,}")
    return dtype, shape, (begin, end)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_no_overlap(entries: list[tuple[str, str, list[int], tuple[int, int]]], source: str) -> None:
    """Refuse two tensors whose bytes overlap: a file that means two things at once."""
    spans = sorted((begin, end, key) for key, _, _, (begin, end) in entries if end > begin)
    for (_, end, first), (begin, _, second) in itertools.pairwise(spans):
        if begin < end:
            raise _error(source, f"tensors {visible(first)!r} and {visible(second)!r} overlap in the data")
