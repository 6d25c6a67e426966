"""Samples from a CSV stream in chunks, so a pipeline of any length runs in bounded memory.

Each chunk of lines is parsed by polars' CSV reader (fast, and as strict as nncalc about
what a number is); a chunk it cannot read exactly (a fraction, a blank line, NaN or an
infinity, a malformed row) is read again by nncalc's own strict parser, which accepts what
it should and otherwise names the line and column. polars is imported only here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.inputs import parse_rows, resolve_columns
from nncalc.records import record

DEFAULT_CHUNK_ROWS = 100_000


@record
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


def _fast(block: bytes, width: int) -> np.ndarray | None:
    """polars' reading of a block, or None when it is not certainly exact (then the strict path decides)."""
    import polars as pl

    try:
        frame = pl.read_csv(
            block,
            has_header=False,
            schema={f"c{k}": pl.Float64 for k in range(width)},
            truncate_ragged_lines=False,
        )
    except Exception:  # any parse failure: the strict reader finds and names it
        return None
    # a blank line or a short row reads as nulls: the strict reader then skips or names it
    if frame.null_count().sum_horizontal().item() != 0:
        return None
    values = frame.to_numpy()
    if values.dtype != np.float64 or not np.isfinite(values).all():
        return None
    return values


READ_BYTES = 4 << 20


def _read_some(stream: BinaryIO) -> bytes:
    """What the stream has ready, up to READ_BYTES, without waiting for more (pipes stay live)."""
    read1 = getattr(stream, "read1", None)
    return read1(READ_BYTES) if read1 is not None else stream.read(READ_BYTES)


def stream_samples(
    stream: BinaryIO,
    source: str,
    names: Sequence[str],
    extra: Sequence[str] = (),
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[Chunk]:
    """Yield the samples of a CSV stream chunk by chunk (header row optional, as ``read_samples_csv``).

    A chunk is every complete line read once about ``chunk_rows`` lines are waiting (judged by
    their bytes, at the first data line's length), or the input has ended; memory stays near
    that many lines plus one read, whatever the length of the input.
    """
    line = 0
    first: list[str] | None = None
    first_raw = b""
    while first is None:
        raw = stream.readline()
        if not raw:
            raise InputError("no samples: the input is empty", Location(source))
        line += 1
        fields = _fields(raw, source, line)
        if fields and any(fields):
            first, first_raw = fields, raw
    columns, has_header = resolve_columns(first, names, extra, source, line)
    input_idx = [columns.index(n) for n in names]
    extra_idx = [columns.index(n) for n in extra if n in columns]
    pending = bytearray() if has_header else bytearray(first_raw if first_raw.endswith(b"\n") else first_raw + b"\n")
    next_line = line + 1 if has_header else line
    row_bytes = None if has_header else len(first_raw)
    consumed = len(first_raw)
    any_rows = False
    ended = False
    while not ended:
        data = _read_some(stream)
        if data:
            pending += data
            consumed += len(data)
            if row_bytes is None:
                newline = pending.find(b"\n")
                row_bytes = newline + 1 if newline >= 0 else None
            enough = row_bytes is not None and len(pending) >= chunk_rows * row_bytes
            if not enough and (chunk_rows > 1 or pending.find(b"\n") < 0):
                continue
            cut = pending.rfind(b"\n") + 1
            if cut == 0:
                continue
            block = bytes(pending[:cut])
            del pending[:cut]
        else:
            ended = True
            block = bytes(pending)
            pending.clear()
            if block and not block.endswith(b"\n"):
                block += b"\n"
        if not block:
            continue
        values = _fast(block, len(columns))
        if values is None:
            lines = block.split(b"\n")[:-1]
            values = _strict(lines, next_line, columns, source)
            next_line += len(lines)
        else:
            next_line += len(values)
        if len(values):
            any_rows = True
            yield Chunk(
                inputs=values[:, input_idx],
                extra=values[:, extra_idx] if extra_idx else None,
                first_line=next_line - len(values),
                bytes_read=consumed,
            )
    if not any_rows:
        raise InputError("no samples: only a header row", Location(source, line))
