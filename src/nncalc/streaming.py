"""Samples from a CSV stream in chunks, so a pipeline of any length runs in bounded memory.

Each chunk of lines is parsed by polars' CSV reader (fast, and as strict as nncalc about
what a number is); a chunk it cannot read exactly (a fraction, a blank line, NaN or an
infinity, a malformed row) is read again by nncalc's own strict parser, which accepts what
it should and otherwise names the line and column. polars is imported only here.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.inputs import parse_rows, resolve_columns

DEFAULT_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Chunk:
    """A block of consecutive samples: inputs (rows, inputs), targets if the file has them, where it starts."""

    inputs: np.ndarray
    extra: np.ndarray | None
    first_line: int
    bytes_read: int


def _fields(raw: bytes, source: str, line: int) -> list[str]:
    try:
        text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError:
        raise InputError("the input is not UTF-8 text", Location(source, line)) from None
    try:
        return [field.strip() for field in next(csv.reader([text]), [])]
    except csv.Error as exc:
        raise InputError(f"CSV error: {exc}", Location(source, line)) from None


def _strict(lines: list[bytes], first_line: int, columns: Sequence[str], source: str) -> np.ndarray:
    rows = []
    for offset, raw in enumerate(lines):
        fields = _fields(raw, source, first_line + offset)
        if fields and any(fields):
            rows.append((first_line + offset, fields))
    values, _ = parse_rows(rows, columns, source)
    return values


def _fast(lines: list[bytes], width: int) -> np.ndarray | None:
    """polars' reading of a block, or None when it is not certainly exact (then the strict path decides)."""
    import polars as pl

    try:
        frame = pl.read_csv(
            io.BytesIO(b"".join(lines)),
            has_header=False,
            schema={f"c{k}": pl.Float64 for k in range(width)},
            truncate_ragged_lines=False,
        )
    except Exception:  # any parse failure: the strict reader finds and names it
        return None
    if frame.height != len(lines) or frame.null_count().sum_horizontal().item() != 0:
        return None
    values = frame.to_numpy()
    if values.dtype != np.float64 or not np.isfinite(values).all():
        return None
    return values


def stream_samples(
    stream: BinaryIO,
    source: str,
    names: Sequence[str],
    extra: Sequence[str] = (),
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[Chunk]:
    """Yield the samples of a CSV stream chunk by chunk (header row optional, as ``read_samples_csv``)."""
    lines: Iterable[bytes] = iter(stream)
    line = 0
    first: list[str] | None = None
    first_raw = b""
    for raw in lines:
        line += 1
        fields = _fields(raw, source, line)
        if fields and any(fields):
            first, first_raw = fields, raw
            break
    if first is None:
        raise InputError("no samples: the input is empty", Location(source))
    columns, has_header = resolve_columns(first, names, extra, source, line)
    pending: list[bytes] = [] if has_header else [first_raw]
    next_line = line + 1 if has_header else line
    input_idx = [columns.index(n) for n in names]
    extra_idx = [columns.index(n) for n in extra if n in columns]
    any_rows = False
    bytes_read = len(first_raw)
    while True:
        block = pending + list(itertools.islice(lines, chunk_rows - len(pending)))
        pending = []
        if not block:
            break
        bytes_read += sum(len(raw) for raw in block) - (0 if has_header or any_rows else len(first_raw))
        if block[-1][-1:] != b"\n":
            block[-1] = block[-1] + b"\n"
        values = _fast(block, len(columns))
        if values is None:
            values = _strict(block, next_line, columns, source)
        if len(values):
            any_rows = True
            yield Chunk(
                inputs=values[:, input_idx],
                extra=values[:, extra_idx] if extra_idx else None,
                first_line=next_line,
                bytes_read=bytes_read,
            )
        next_line += len(block)
    if not any_rows:
        raise InputError("no samples: only a header row", Location(source, line))
