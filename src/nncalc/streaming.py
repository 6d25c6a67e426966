"""Samples from a CSV stream in chunks, so a pipeline of any length runs in bounded memory.

Each chunk of lines is parsed by polars' CSV reader (fast, and as strict as nncalc about
what a number is); a chunk it cannot read exactly (a fraction, a blank line, NaN or an
infinity, a malformed row) is read again by nncalc's own strict parser, which accepts what
it should and otherwise names the line and column. polars is imported only here.

What is read is checked as it arrives: a NUL byte (not text) or a line longer than
``MAX_LINE_BYTES`` (not a CSV of samples) ends the reading with a located error, so an
endless input such as /dev/zero is refused at once, and memory stays bounded.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.inputs import LONG_LINE_MESSAGE, MAX_LINE_BYTES, NUL_MESSAGE, field_places, parse_rows, resolve_columns
from nncalc.records import record

DEFAULT_CHUNK_ROWS = 100_000


@record
class Chunk:
    """A block of consecutive samples: inputs (rows, inputs), the line each sample is on, how much was read.

    ``lines`` holds each sample's 1-based line in the input (blank lines hold no sample);
    ``first_line`` is the first of them; ``bytes_read`` counts the input read so far.
    """

    inputs: np.ndarray
    lines: np.ndarray
    first_line: int
    bytes_read: int


def _text(raw: bytes, source: str, line: int) -> str:
    try:
        return raw.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError:
        raise InputError("the input is not UTF-8 text", Location(source, line)) from None


def _fields(text: str, source: str, line: int) -> list[str]:
    try:
        return [field.strip() for field in next(csv.reader([text]), [])]
    except csv.Error as exc:
        raise InputError(f"CSV error: {exc}", Location(source, line)) from None


def _strict(lines: list[bytes], first_line: int, columns: Sequence[str], source: str) -> tuple[np.ndarray, np.ndarray]:
    """The values of every non-blank line, each bad one located, and the line of each row."""
    rows = []
    for offset, raw in enumerate(lines):
        line = first_line + offset
        text = _text(raw, source, line)
        fields = _fields(text, source, line)
        if fields and any(fields):
            rows.append((line, fields, text))
    values, _ = parse_rows(rows, columns, source)
    return values, np.array([line for line, _, _ in rows], dtype=np.int64)


def _fast(block: bytes, width: int, lines: int) -> np.ndarray | None:
    """polars' reading of a block of ``lines`` lines, or None when it is not certainly exact (then the
    strict path decides): one row a line, every value a finite float."""
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
    if frame.height != lines or frame.null_count().sum_horizontal().item() != 0:
        return None
    values = frame.to_numpy()
    if values.dtype != np.float64 or not np.isfinite(values).all():
        return None
    if (values == 0).any() and _may_underflow(block):
        return None  # polars reads 1e-400 as 0; the strict reader refuses it by name
    return values


def _may_underflow(block: bytes) -> bool:
    """Whether a block may hold a non-zero number too small for a float: a negative exponent, or a long run of zeros."""
    return b"e-" in block or b"E-" in block or b"0" * 300 in block


READ_BYTES = 4 << 20


def _read_some(stream: BinaryIO) -> bytes:
    """What the stream has ready, up to READ_BYTES, without waiting for more (pipes stay live)."""
    read1 = getattr(stream, "read1", None)
    return read1(READ_BYTES) if read1 is not None else stream.read(READ_BYTES)


def _one_newline(data: bytes, ending: bool) -> bytes:
    """``data`` with CRLF and lone CR turned into LF; a CR at the very end is kept unless the input ends."""
    if b"\r" not in data:
        return data
    tail = b"" if ending or not data.endswith(b"\r") else b"\r"
    body = data[: len(data) - len(tail)]
    return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail


class _Pending:
    """Bytes read but not yet taken, checked as they arrive: where each line is, and that it may be CSV."""

    def __init__(self, stream: BinaryIO, source: str):
        self.stream = stream
        self.source = source
        self.data = bytearray()
        self.line = 1  # the line the first pending byte is on
        self.complete = 0  # pending lines that have their newline
        self.consumed = 0
        self.ended = False
        self.carried_cr = False  # a CR that ended the last read: its LF may be the next byte

    def fill(self) -> None:
        """Read what the stream has ready; refuse a NUL byte or an overlong line in it.

        Every line ending, CRLF, LF or a lone CR (old Mac files), is taken as one LF, as a text
        file opened by Python or a spreadsheet takes them.
        """
        raw = _read_some(self.stream)
        self.consumed += len(raw)
        data = _one_newline(b"\r" + raw if self.carried_cr else raw, ending=not raw)
        self.carried_cr = bool(raw) and data.endswith(b"\r")
        if self.carried_cr:
            data = data[:-1]
        if not raw and not data:
            self.ended = True
            return
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        self._check(data, newlines)
        self.data += data
        self.complete += len(newlines)

    def _check(self, data: bytes, newlines: np.ndarray) -> None:
        carried = len(self.data) - (self.data.rfind(b"\n") + 1)  # the unfinished line read before
        line = self.line + self.complete  # the line ``data`` starts on
        nul = data.find(b"\0")
        if nul >= 0:
            before = int(np.searchsorted(newlines, nul))
            start = int(newlines[before - 1]) + 1 if before else 0
            prefix = data[start:nul] if before else bytes(self.data[len(self.data) - carried :]) + data[:nul]
            column = len(prefix.decode("utf-8", errors="replace")) + 1
            raise InputError(NUL_MESSAGE, Location(self.source, line + before, column))
        ends = np.concatenate(([-1 - carried], newlines, [len(data)]))
        lengths = np.diff(ends) - 1  # each line's bytes, its newline not counted; the last is unfinished
        too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if len(too_long):
            raise InputError(LONG_LINE_MESSAGE, Location(self.source, line + int(too_long[0])))

    def first_line(self) -> bytes | None:
        """The first pending line (with its newline, unless the input ends without one); None at the end."""
        while not self.complete and not self.ended:
            self.fill()
        if self.complete:
            return bytes(self.data[: self.data.find(b"\n") + 1])
        return bytes(self.data) or None

    def drop_line(self) -> None:
        """Forget the first pending line."""
        cut = self.data.find(b"\n") + 1 if self.complete else len(self.data)
        del self.data[:cut]
        self.complete = max(self.complete - 1, 0)
        self.line += 1

    def take_lines(self) -> tuple[bytes, int, int]:
        """Every complete pending line, and at the end the rest with a newline added: (block, first line, lines)."""
        if self.ended and self.data and not self.data.endswith(b"\n"):
            self.data += b"\n"
            self.complete += 1
        cut = self.data.rfind(b"\n") + 1
        block = bytes(self.data[:cut])
        del self.data[:cut]
        first, count = self.line, self.complete
        self.line += count
        self.complete = 0
        return block, first, count


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
    that many lines plus one read, whatever the length of the input. ``extra`` names columns
    a header may hold besides the inputs (the targets); they are not read.
    """
    pending = _Pending(stream, source)
    while True:
        raw = pending.first_line()
        if raw is None:
            raise InputError("no samples: the input is empty", Location(source))
        text = _text(raw, source, pending.line)
        first = _fields(text, source, pending.line)
        if first and any(first):
            break
        pending.drop_line()
    header_line = pending.line
    columns, has_header = resolve_columns(first, names, extra, source, header_line, field_places(text, header_line))
    input_idx = [columns.index(n) for n in names]
    if has_header:
        pending.drop_line()
    row_bytes = None if has_header else len(raw)
    any_rows = False
    while not pending.ended or pending.data:
        if row_bytes is None and pending.complete:
            row_bytes = pending.data.find(b"\n") + 1
        enough = pending.complete and (chunk_rows == 1 or len(pending.data) >= chunk_rows * (row_bytes or 1))
        if not enough and not pending.ended:
            pending.fill()
            continue
        block, first_line, count = pending.take_lines()
        if not count:
            continue
        values = _fast(block, len(columns), count)
        if values is None:
            values, lines = _strict(block.split(b"\n")[:-1], first_line, columns, source)
        else:
            lines = np.arange(first_line, first_line + count, dtype=np.int64)
        if len(values):
            any_rows = True
            yield Chunk(
                inputs=values[:, input_idx],
                lines=lines,
                first_line=int(lines[0]),
                bytes_read=pending.consumed,
            )
    if not any_rows:
        raise InputError("no samples: only a header row", Location(source, header_line))


@contextlib.contextmanager
def open_sample_bytes(name: str, stdin: object = None) -> Iterator[tuple[BinaryIO, str, int | None]]:
    """The bytes of a samples source for ``stream_samples``: a file, or standard input for ``-``.

    Yields ``(stream, source, size)``: ``source`` is the name messages give (``<stdin>`` for
    ``-``) and ``size`` the file's size for a progress bar, None where it is not known. A
    missing file, a folder or a closed standard input is one located ``InputError``.
    """
    from pathlib import Path

    from nncalc.files import reading

    if name == "-":
        if stdin is None or getattr(stdin, "closed", True):
            raise InputError("standard input is closed", Location("<stdin>"))
        yield getattr(stdin, "buffer", None) or _BytesFromText(stdin), "<stdin>", None
        return
    path = Path(name)
    with reading(name):
        if path.is_dir():
            raise IsADirectoryError(name)
        size = path.stat().st_size or None
        opened = path.open("rb")
    with opened:
        yield opened, name, size


class _BytesFromText:
    """A text stream read as UTF-8 bytes, line by line (standard input replaced by a text-only stream)."""

    def __init__(self, text):
        self.text = text

    def readline(self) -> bytes:
        return self.text.readline().encode("utf-8")

    def read1(self, size: int = -1) -> bytes:
        return self.text.readline().encode("utf-8")
