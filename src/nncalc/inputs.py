"""Input samples from ``--input`` text and from CSV files or standard input.

Values are read strictly (see ``nncalc.numbers``); each sample keeps the text it was
written with so a derivation can show ``0.10`` or ``1/3`` exactly as given.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from nncalc.errors import InputError, Location, Problem
from nncalc.numbers import NotANumber, is_number, parse_number
from nncalc.records import record

_SEPARATOR = re.compile(r"\s*,\s*|\s+")


@record
class Samples:
    """A batch: values (samples, columns) as float64, and the text of each value as written."""

    values: np.ndarray
    texts: tuple[tuple[str, ...], ...]
    columns: tuple[str, ...] = ()

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
        expected = ", ".join(names)
        raise InputError(f"{_count(len(values), 'value')} given, expected {len(names)} ({expected})", where)
    return values, texts


def samples_from_options(texts: Sequence[str], names: Sequence[str], option: str = "--input") -> Samples:
    """Every ``--input`` option as one sample each, in order."""
    rows, row_texts, problems = [], [], []
    for text in texts:
        try:
            values, written = parse_sample(text, names, f"{option} {text!r}")
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
    first: list[str], names: Sequence[str], extra: Sequence[str], source: str, line: int
) -> tuple[list[str], bool]:
    """The columns of a CSV from its first row, and whether that row is a header.

    A header names columns (it holds no number); they may come in any order and may include
    the ``extra`` names. Without a header the columns are the inputs in order, then the
    extra columns if the row is that wide.
    """
    if not any(is_number(field) for field in first):
        columns = list(first)
        known = [*names, *extra]
        problems = []
        for k, column in enumerate(columns, 1):
            if column not in known:
                problems.append(
                    Problem(
                        f"unknown column {column!r} (column {k}); the inputs are {', '.join(names)}",
                        Location(source, line),
                    )
                )
            elif columns.count(column) > 1 and columns.index(column) != k - 1:
                problems.append(Problem(f"column {column!r} appears twice", Location(source, line)))
        missing = [n for n in names if n not in columns]
        if missing:
            problems.append(Problem(f"missing input column(s): {', '.join(missing)}", Location(source, line)))
        if problems:
            raise InputError(problems)
        return columns, True
    width = len(first)
    if width == len(names):
        return list(names), False
    if extra and width == len(names) + len(extra):
        return [*names, *extra], False
    raise InputError(
        f"row has {_count(width, 'value')}, expected {len(names)} ({', '.join(names)})",
        Location(source, line),
    )


def parse_rows(
    rows: list[tuple[int, list[str]]], columns: Sequence[str], source: str, limit: int = 20
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Strictly parse numbered rows of fields into a float64 array; every bad value is located."""
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    texts: list[tuple[str, ...]] = []
    problems = []
    for r, (line, row) in enumerate(rows):
        if len(row) != len(columns):
            problems.append(
                Problem(f"row has {_count(len(row), 'value')}, expected {len(columns)}", Location(source, line))
            )
            texts.append(())
        else:
            for c, field in enumerate(row):
                try:
                    values[r, c] = parse_number(field)
                except NotANumber as exc:
                    problems.append(Problem(f"column {c + 1} ({columns[c]}): {exc}", Location(source, line)))
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
) -> tuple[Samples, Samples | None]:
    """Read a CSV of samples: an optional header row of column names, then one row per sample.

    With a header, columns may come in any order; ``extra`` names further columns that
    may appear (targets, for training), returned as a second batch. Without a header,
    rows hold the inputs in order, then the extra columns if every row has them.
    """
    reader = csv.reader(stream)
    numbered: list[tuple[int, list[str]]] = []  # (line the row starts on, its fields)
    start = 1
    try:
        for row in reader:
            if row and not all(not field.strip() for field in row):
                numbered.append((start, [field.strip() for field in row]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"CSV error: {exc}", Location(source, reader.line_num)) from None
    except UnicodeDecodeError:
        raise InputError("the input is not UTF-8 text", Location(source)) from None
    if not numbered:
        raise InputError("no samples: the input is empty", Location(source))

    first_line, first = numbered[0]
    columns, has_header = resolve_columns(first, names, extra, source, first_line)
    if has_header:
        numbered = numbered[1:]
        if not numbered:
            raise InputError("no samples: only a header row", Location(source, first_line))

    values, texts = parse_rows(numbered, columns, source)

    input_idx = [columns.index(n) for n in names]
    inputs = Samples(
        values[:, input_idx],
        tuple(tuple(t[i] for i in input_idx) for t in texts),
        tuple(names),
    )
    present_extra = [n for n in extra if n in columns]
    if not present_extra:
        return inputs, None
    extra_idx = [columns.index(n) for n in present_extra]
    return inputs, Samples(
        values[:, extra_idx],
        tuple(tuple(t[i] for i in extra_idx) for t in texts),
        tuple(present_extra),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
