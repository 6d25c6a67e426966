"""Input samples from a YAML file, where an image can be written as it is printed: a matrix per channel.

    samples:
      - [[1, 2, 0],          # one sample of a 1×3×3 network: its one channel as a matrix
         [0, 1, 2],
         [3, 1, 0]]
      - [[[1, 2], [0, 1]],   # or a list of matrices, one per channel (a 2×2×2 network)
         [[3, 1], [0, 2]]]
      - [1, 2, 0, 1, 2, 3]   # or the C·H·W values flat, in PyTorch's order, as --input takes them

A sample's nesting says which it is; a matrix alone is taken only for one-channel images.
A network of plain inputs takes flat lists. Each sample keeps its values' text and the line
it starts on; every mistake is reported, located, in one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nncalc.errors import InputError, Location, Problem, TooLargeError
from nncalc.numbers import NotANumber, parse_number
from nncalc.yamlsource import MapNode, Node, NumberRow, ScalarNode, SeqNode, load_yaml, read_text

SUFFIXES = (".yaml", ".yml")
YAML_SHARE = 16
"""A YAML samples file may be this fraction of --max-file-size (4 MiB of the default 64 MiB).

YAML is parsed whole into located nodes, about 90 bytes of memory per byte of text, where
CSV is read as it streams: at the full file limit a YAML file could take gigabytes."""


def is_yaml(name: str) -> bool:
    """Whether a samples file is read as YAML (by its suffix) rather than as CSV."""
    return Path(name).suffix.lower() in SUFFIXES


def read_samples_yaml(
    path: str, names: Sequence[str], shape: tuple[int, ...] | None, max_bytes: int
) -> tuple[np.ndarray, tuple[tuple[str, ...], ...], np.ndarray]:
    """The samples of a YAML file: values (samples, len(names)), each value's text, each sample's line."""
    limit = max(max_bytes // YAML_SHARE, 1)
    try:
        text = read_text(Path(path), max_bytes=limit)
    except TooLargeError:
        raise InputError(
            f"a YAML samples file is read whole, and this one is more than {limit:,} bytes (1/{YAML_SHARE} "
            f"of the limit of {max_bytes:,} bytes that --max-file-size sets): write the samples as CSV, "
            "one per line, which is read as it streams",
            Location(path),
        ) from None
    problems: list[Problem] = []
    root = load_yaml(text, path, problems=problems)
    reader = _Reader(path, len(names), shape, problems)
    samples = reader.samples(root)
    if problems or samples is None:
        raise InputError(problems or [Problem("no samples", Location(path))])
    values, texts, lines = samples
    return np.array(values, dtype=np.float64).reshape(len(values), len(names)), texts, np.array(lines)


class _Reader:
    def __init__(self, source: str, width: int, shape: tuple[int, ...] | None, problems: list[Problem]):
        self.source, self.width, self.shape, self.problems = source, width, shape, problems

    def error(self, node: Node, message: str) -> None:
        self.problems.append(Problem(message, node.location))

    def samples(self, root: Node):
        if not isinstance(root, MapNode) or "samples" not in root.entries:
            self.error(root, "a samples file is a mapping with the key 'samples' (a list of samples)")
            return None
        for key, (key_node, _) in root.entries.items():
            if key != "samples":
                self.error(key_node, f"unknown key {key!r} (a samples file has only 'samples')")
        node = root.entries["samples"][1]
        if not isinstance(node, SeqNode) or not node.items:
            self.error(node, "samples must be a list of samples, one item each")
            return None
        values, texts, lines = [], [], []
        for index, item in enumerate(node.items, 1):
            sample = self.sample(item, f"sample {index}")
            if sample is not None:
                values.append(sample[0])
                texts.append(tuple(sample[1]))
                lines.append(item.line)
        return values, tuple(texts), lines

    def sample(self, node: Node, what: str) -> tuple[list[float], list[str]] | None:
        depth = _depth(node)
        expected = self._expected(depth)
        if expected is None:
            self.error(node, f"{what}: {self._forms()}")
            return None
        found = self.nested(node, len(expected), what)
        if found is None:
            return None
        values, texts, shape = found
        if tuple(shape) != expected:
            got = "×".join(str(n) for n in shape)
            want = "×".join(str(n) for n in expected)
            self.error(node, f"{what}: {got} values, expected {want} ({self._forms()})")
            return None
        return values, texts

    def _expected(self, depth: int) -> tuple[int, ...] | None:
        if depth == 1:
            return (self.width,)
        if self.shape is None:
            return None
        channels, height, width = self.shape
        if depth == 2 and channels == 1:
            return (height, width)
        if depth == 3:
            return (channels, height, width)
        return None

    def _forms(self) -> str:
        if self.shape is None:
            return f"write a list of {self.width} values"
        channels, height, width = self.shape
        matrix = f"a {height}×{width} matrix (one row per list)"
        per_channel = matrix if channels == 1 else f"a list of {channels} matrices, each {height}×{width}"
        return f"write {per_channel}, or a flat list of {self.width} values"

    def nested(self, node: Node, depth: int, what: str) -> tuple[list[float], list[str], list[int]] | None:
        """Every number of a regular nested list, its text, and its shape; None (reported) when ragged."""
        values: list[float] = []
        texts: list[str] = []
        shape: list[int | None] = [None] * depth
        before = len(self.problems)

        def walk(item: Node, level: int) -> None:
            if not isinstance(item, SeqNode) or not item.items:
                self.error(item, f"{what}: expected a list of {'numbers' if level == depth - 1 else 'lists'}")
                return
            if shape[level] is None:
                shape[level] = len(item.items)
            elif len(item.items) != shape[level]:
                self.error(item, f"{what}: {len(item.items)} items here, expected {shape[level]} (as the first has)")
                return
            if level < depth - 1:
                for sub in item.items:
                    walk(sub, level + 1)
                return
            if isinstance(item, NumberRow):
                values.extend(item.values)
                texts.extend(item.texts)
                return
            for number in item.items:
                if not isinstance(number, ScalarNode) or number.quoted:
                    self.error(number, f"{what}: expected a number, got {number.kind}")
                    continue
                try:
                    values.append(parse_number(number.text))
                    texts.append(number.text)
                except NotANumber as exc:
                    self.error(number, f"{what}: {exc}")

        walk(node, 0)
        if len(self.problems) > before:
            return None
        return values, texts, [int(n) for n in shape]  # type: ignore[arg-type]


def _depth(node: Node) -> int:
    """How deeply lists nest at the start of ``node`` (a number is 0)."""
    depth = 0
    while isinstance(node, SeqNode) and node.items:
        if isinstance(node, NumberRow):  # numbers, read already: no nodes built to look at the first
            return depth + 1
        depth += 1
        node = node.items[0]
    return depth
