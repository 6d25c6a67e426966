"""Input samples from ``--input`` text and from CSV files or standard input.

Values are read strictly (see ``nncalc.numbers``); each sample keeps the text it was
written with so a derivation can show ``0.10`` or ``1/3`` exactly as given, and, read
from a file, the line it was written on. A reader keeps to its limits while it reads
(a line's length, the input's size), so an endless input such as /dev/zero is refused
at once instead of filling the memory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from nncalc.errors import InputError, Location, Problem, TooLargeError
from nncalc.numbers import NotANumber, is_number, parse_number, short_text
from nncalc.records import record

_SEPARATOR = re.compile(r"\s*,\s*|\s+")

MAX_LINE_BYTES = 1 << 20  # far beyond any row of numbers; a longer line is not a CSV of samples
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # as --max-file-size


@record
class Samples:
    """A batch: values (samples, columns) as float64, the text of each value as written, and for
    samples read from a file the 1-based line each sample starts on (``lines``, one per sample)."""

    values: np.ndarray
    texts: tuple[tuple[str, ...], ...]
    columns: tuple[str, ...] = ()
    lines: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])


def split_values(text: str) -> list[tuple[int, str]]:
    """Split ``"0.05, 0.10"`` (commas and/or spaces) into (column, token); a missing value is ``""``."""
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    tokens, start = [], 0
    for match in _SEPARATOR.finditer(body):
        tokens.append((lead + start + 1, body[start : match.start()]))
        start = match.end()
    tokens.append((lead + start + 1, body[start:]))
    return tokens


def parse_sample(text: str, names: Sequence[str], source: str) -> tuple[list[float], list[str]]:
    """One sample from option text such as ``"0.05,0.10"``; raise ``InputError`` on any problem."""
    tokens = split_values(text)
    where = Location(source)
    if len(tokens) == 1 and tokens[0][1] == "":
        raise InputError("no values given", where)
    problems = []
    values, texts = [], []
    for index, (column, token) in enumerate(tokens, 1):
        try:
            values.append(parse_number(token))
            texts.append(token)
        except NotANumber as exc:
            problems.append(Problem(f"value {index} (column {column}): {exc}", where))
    if problems:
        raise InputError(problems)
    if len(values) != len(names):
        expected = names_list(names)
        raise InputError(f"{_count(len(values), 'value')} given, expected {len(names)} ({expected})", where)
    return values, texts


def samples_from_options(texts: Sequence[str], names: Sequence[str], option: str = "--input") -> Samples:
    """Every ``--input`` option as one sample each, in order."""
    rows, row_texts, problems = [], [], []
    for text in texts:
        try:
            values, written = parse_sample(text, names, f"{option} {short_text(text)}")
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        rows.append(values)
        row_texts.append(tuple(written))
    if problems:
        raise InputError(problems)
    return Samples(
        np.array(rows, dtype=np.float64).reshape(len(rows), len(names)),
        tuple(row_texts),
        tuple(names),
    )


def resolve_columns(
    first: list[str],
    names: Sequence[str],
    extra: Sequence[str],
    source: str,
    line: int,
    places: Sequence[tuple[int, int]] | None = None,
    what: str = "input",
) -> tuple[list[str], bool]:
    """The columns of a CSV from its first row, and whether that row is a header.

    A header names columns (it holds no number); they may come in any order and may include
    the ``extra`` names. Without a header the columns are the inputs in order, then the
    extra columns if the row is that wide. ``places`` (see :func:`field_places`) locate a
    wrong name at its column. ``what`` is what the columns are, for messages: "input", or
    "output" for a file of targets.
    """
    if not any(is_number(field) for field in first):
        columns = list(first)
        known = [*names, *extra]
        problems = []
        for k, column in enumerate(columns):
            where = _place(source, line, places, k)
            if column not in known:
                problems.append(
                    Problem(f"unknown column {short_text(column)}; the {what}s are {names_list(names)}", where)
                )
            elif columns.count(column) > 1 and columns.index(column) != k:
                problems.append(Problem(f"column {short_text(column)} appears twice", where))
        missing = [n for n in names if n not in columns]
        if missing:
            problems.append(Problem(f"missing {what} column(s): {names_list(missing)}", Location(source, line)))
        if problems:
            raise InputError(problems)
        return columns, True
    width = len(first)
    if width == len(names):
        return list(names), False
    if extra and width == len(names) + len(extra):
        return [*names, *extra], False
    raise InputError(
        f"row has {_count(width, 'value')}, expected {len(names)} ({names_list(names)})",
        Location(source, line),
    )


def field_places(text: str, line: int) -> list[tuple[int, int]]:
    """Where each field of the CSV row ``text`` (which starts on ``line``) is: its (line, column), 1-based.

    A field's place is its first character that is not blank (fields are read stripped), or
    its start if it is blank. The row is scanned as the csv module reads it (a field that
    starts with a quote runs to the closing quote, newlines and commas included); the csv
    module tells no positions, and this is needed only for a message, so rows are scanned
    only when one of their values is wrong.
    """
    places: list[tuple[int, int]] = []
    column = 1
    begin: tuple[int, int] = (line, column)
    seen: tuple[int, int] | None = None
    state = "start"  # start | plain | quoted | quote (a quote inside a quoted field)
    for char in text:
        if state in ("start", "plain", "quote") and char in ",\r\n":
            places.append(seen or begin)
            if char != ",":
                return places
            column += 1
            begin, seen, state = (line, column), None, "start"
            continue
        if seen is None and not char.isspace():
            seen = (line, column)
        if state == "start":
            state = "quoted" if char == '"' else "plain"
        elif state == "quoted" and char == '"':
            state = "quote"
        elif state == "quote":
            state = "quoted" if char == '"' else "plain"
        if char == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    places.append(seen or begin)
    return places


def _place(source: str, line: int, places: Sequence[tuple[int, int]] | None, index: int) -> Location:
    """The location of field ``index`` of a row on ``line``: its column when known."""
    if places is not None and index < len(places):
        return Location(source, *places[index])
    return Location(source, line)


def parse_rows(
    rows: list[tuple[int, list[str], str]], columns: Sequence[str], source: str, limit: int = 20
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Strictly parse rows into a float64 array; every bad value is located at its line and column.

    Each row is (the line it starts on, its fields stripped, its text as written); the text
    is read again only to place a bad value (see :func:`field_places`).
    """
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    texts: list[tuple[str, ...]] = []
    problems = []
    for r, (line, row, written) in enumerate(rows):
        if len(row) != len(columns):
            problems.append(
                Problem(f"row has {_count(len(row), 'value')}, expected {len(columns)}", Location(source, line))
            )
            texts.append(())
        else:
            places = None
            for c, field in enumerate(row):
                try:
                    values[r, c] = parse_number(field)
                except NotANumber as exc:
                    places = places or field_places(written, line)
                    problems.append(Problem(f"{exc} (column {columns[c]})", _place(source, line, places, c)))
            texts.append(tuple(row))
        if len(problems) >= limit:
            break
    if problems:
        raise InputError(problems)
    return values, texts


def read_samples_csv(
    stream: TextIO,
    source: str,
    names: Sequence[str],
    extra: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    what: str = "input",
) -> tuple[Samples, Samples | None]:
    """Read a CSV of samples: an optional header row of column names, then one row per sample.

    With a header, columns may come in any order; ``extra`` names further columns that
    may appear (targets, for training), returned as a second batch. Without a header,
    rows hold the inputs in order, then the extra columns if every row has them. Each
    batch's ``lines`` give the line every sample starts on.

    While reading, a line longer than ``MAX_LINE_BYTES``, a NUL byte, or more than
    ``max_bytes`` in all is refused with a located error.
    """
    seen: list[str] = []  # the lines of the row just read
    reader = csv.reader(_capped_lines(stream, source, max_bytes, seen))
    numbered: list[tuple[int, list[str], str]] = []  # (line the row starts on, its fields, its text)
    start = 1
    try:
        for row in reader:
            written = seen[0] if len(seen) == 1 else "".join(seen)
            seen.clear()
            if row and not all(not field.strip() for field in row):
                numbered.append((start, [field.strip() for field in row], written))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"CSV error: {exc}", Location(source, reader.line_num)) from None
    except UnicodeDecodeError:
        raise InputError("the input is not UTF-8 text", Location(source)) from None
    if not numbered:
        raise InputError("no samples: the input is empty", Location(source))

    first_line, first, first_text = numbered[0]
    places = field_places(first_text, first_line)
    columns, has_header = resolve_columns(first, names, extra, source, first_line, places, what)
    if has_header:
        numbered = numbered[1:]
        if not numbered:
            raise InputError("no samples: only a header row", Location(source, first_line))

    values, texts = parse_rows(numbered, columns, source)
    sample_lines = np.array([line for line, _, _ in numbered], dtype=np.int64)

    input_idx = [columns.index(n) for n in names]
    inputs = Samples(
        values[:, input_idx],
        tuple(tuple(t[i] for i in input_idx) for t in texts),
        tuple(names),
        sample_lines,
    )
    present_extra = [n for n in extra if n in columns]
    if not present_extra:
        return inputs, None
    extra_idx = [columns.index(n) for n in present_extra]
    return inputs, Samples(
        values[:, extra_idx],
        tuple(tuple(t[i] for i in extra_idx) for t in texts),
        tuple(present_extra),
        sample_lines,
    )


def read_samples_source(
    name: str,
    names: Sequence[str],
    extra: Sequence[str] = (),
    stdin: TextIO | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    shape: tuple[int, ...] | None = None,
    what: str = "input",
) -> tuple[Samples, Samples | None]:
    """The samples (and targets, the ``extra`` columns) of a CSV file, or of standard input for ``-``.

    A ``.yaml`` or ``.yml`` file is read by ``nncalc.sample_yaml`` instead: samples only, an
    image written as a matrix per channel when the network's inputs have a ``shape``.

    ``stdin`` is what ``-`` reads (pass ``sys.stdin``; None is a closed standard input). A
    file is opened as UTF-8 (a BOM is skipped); one larger than ``max_bytes`` is refused
    before it is read. Every way of failing is one located ``InputError``: a missing file,
    a folder, no permission, a closed standard input, and whatever ``read_samples_csv`` refuses.
    ``what`` is what the columns are, for its messages: "input", or "output" for targets.
    """
    from nncalc.files import reading, refuse_too_large

    if name == "-":
        if stdin is None or stdin.closed:
            raise InputError("standard input is closed", Location("<stdin>"))
        with reading("<stdin>"):
            return read_samples_csv(stdin, "<stdin>", names, extra, max_bytes, what)
    from nncalc.sample_yaml import is_yaml, read_samples_yaml

    if is_yaml(name):
        with reading(name):
            values, texts, lines = read_samples_yaml(name, names, shape, max_bytes)
        return Samples(values, texts, tuple(names), lines), None
    with reading(name), Path(name).open(encoding="utf-8-sig", newline="") as stream:
        refuse_too_large(stream.fileno(), name, max_bytes)
        return read_samples_csv(stream, name, names, extra, max_bytes, what)


def _capped_lines(stream: TextIO, source: str, max_bytes: int, seen: list[str]) -> Iterator[str]:
    """The lines of a text stream for ``csv.reader``, refused as they come when they cannot be CSV.

    A line longer than ``MAX_LINE_BYTES`` (one read never takes more), a NUL byte, or more
    than ``max_bytes`` in all ends the reading with a located error. Each line is also put
    in ``seen``, so the caller has the text of the row the reader has just read.
    """
    readline = stream.readline
    total = 0
    line = 0
    while text := readline(MAX_LINE_BYTES + 1):
        line += 1
        if line == 1 and text.startswith("\ufeff"):
            text = text[1:]
        nul = text.find("\0")
        if nul >= 0:
            raise InputError(NUL_MESSAGE, Location(source, line, nul + 1))
        if len(text) > MAX_LINE_BYTES and not text.endswith("\n"):
            raise InputError(LONG_LINE_MESSAGE, Location(source, line))
        total += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if total > max_bytes:
            raise TooLargeError(
                f"the input is more than the limit of {max_bytes:,} bytes (raise it with --max-file-size)",
                Location(source),
            )
        seen.append(text)
        yield text


NUL_MESSAGE = "a NUL byte: this is not a text file"
LONG_LINE_MESSAGE = f"a line of more than {MAX_LINE_BYTES:,} bytes; is this a CSV file?"


def names_list(names: Sequence[str]) -> str:
    """``x1, x2, x3``, or ``x.0.0.0, x.0.0.1, … x.0.27.27`` when there are too many to list."""
    return ", ".join(names) if len(names) <= 12 else f"{names[0]}, {names[1]}, … {names[-1]}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
