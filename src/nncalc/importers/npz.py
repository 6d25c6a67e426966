"""Importing a NumPy ``.npz`` archive of weights: a state dict saved with ``np.savez``.

The archive holds named arrays and nothing else: which arrays make which layer comes from
their names (see :func:`nncalc.importers.files.dense_layers`), the activations from the
user. Arrays are read with ``allow_pickle=False``, so nothing in the file is executed, and
each member's header is checked before its data is read: a declared shape larger than the
member's bytes, or members that unpack past ``max_bytes`` in all, are refused up front,
never allocated.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers.files import (
    DEFAULT_MAX_BYTES,
    ZIP_ERRORS,
    ActivationSpec,
    build_network,
    dense_layers,
    read_bytes,
    with_activations,
)
from nncalc.text import visible

_HEADER_LIMIT = 10_000  # bytes of a .npy header (NumPy's own default cap)


def network_dict(
    path: str | Path,
    activations: Sequence[ActivationSpec] | None,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """The network file (as a dict) for the weights in a ``.npz`` archive, with the given activations.

    ``activations``: one name for every layer, or one per layer; None is refused with a
    message asking for ``--activation`` and naming the number of layers.
    """
    data = read_bytes(Path(path), max_bytes)
    return from_bytes(data, str(path), activations, Path(path).stem if name is None else name, max_bytes)


def from_bytes(
    data: bytes,
    source: str,
    activations: Sequence[ActivationSpec] | None,
    name: str | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """:func:`network_dict` for an archive already read; ``source`` names it in messages."""
    layers = dense_layers(read_arrays(data, source, max_bytes), source)
    return build_network(name, with_activations(layers, activations, source))


def read_arrays(data: bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[tuple[str, np.ndarray]]:
    """The archive's arrays by name, in the archive's order, each checked before it is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except ZIP_ERRORS as exc:
        raise InputError(f"not a NumPy .npz archive: {exc}", Location(source)) from None
    unpacked = sum(info.file_size for info in members)
    if unpacked > max_bytes:
        raise InputError(
            f"the archive unpacks to {unpacked:,} bytes, more than the limit of {max_bytes:,} "
            "(raise it with --max-file-size)",
            Location(source),
        )
    arrays = []
    for info in members:
        if not info.filename.endswith(".npy"):
            raise InputError(f"the archive member {visible(info.filename)!r} is not a .npy array", Location(source))
        arrays.append((info.filename[: -len(".npy")], _read_member(archive, info, source)))
    return arrays


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> np.ndarray:
    """One member's array, after checking that its header declares no more data than the member holds."""
    member = visible(info.filename)
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=_HEADER_LIMIT)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=_HEADER_LIMIT)
            else:
                raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")
            if dtype.hasobject:
                raise ValueError("it holds Python objects, which nncalc never unpickles")
            declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if declared > info.file_size:
                raise ValueError(f"its header declares {declared:,} bytes of data but it holds {info.file_size:,}")
        with archive.open(info) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)
    except ZIP_ERRORS as exc:
        raise InputError(f"the archive member {member!r} is not a readable array: {exc}", Location(source)) from None
