"""Read a YAML file into plain, located nodes, safely.

The document is built here from the parser's event stream, not by PyYAML's
constructors, so that by construction: no tag constructs an object, no alias or
merge key expands, nesting depth is capped before anything recursive runs, duplicate
keys are caught at the second one, and every scalar keeps its text as written (the
caller decides what is a number; YAML 1.1's ``no``/``1:30``/``017`` never become one)
along with the line and column it was written at.

Rows of plain numbers written on one line (``[0.1, -2e-3, .5]``, the bulk of any large
network file) are read in one go rather than scalar by scalar: the text is scanned for
them first, and the parser sees each one blanked out (``[    ]``, the same length, so
every other position stays as it was). That is only kept if the parser found a flow
sequence at every blanked place; otherwise the original text is parsed as it stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from nncalc.errors import InputError, Location, Problem, TooLargeError
from nncalc.numbers import is_number

# libyaml's C parser when PyYAML was built with it: the same events, much faster.
# Only its event stream is used; its constructors never run.
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
MAX_NODES = 500_000
"""The most values (numbers, names, lists, mappings) a YAML document may hold outside one-line rows
of numbers, which are read in one go and count as one value each.

A located node costs a few hundred bytes of memory, so a file of two-byte values (``[~,~,~…]``)
took 350 bytes of memory per byte of text, and a 64 MiB one would take gigabytes. A network of
half a million weights written one per line is 4 MB of text; written in rows, as nncalc writes
and imports networks, it holds a few thousand values, whatever its number of weights."""


# The node classes are written out rather than made with @dataclass: they are defined at
# every start of the program, where each dataclass pays for generating its methods.


class Node:
    """A value in the document, with its source position (1-based)."""

    __slots__ = ("column", "line", "source")
    kind = "value"

    def __init__(self, source: str, line: int, column: int):
        self.source, self.line, self.column = source, line, column

    @property
    def location(self) -> Location:
        return Location(self.source, self.line, self.column)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source}:{self.line}:{self.column})"


class ScalarNode(Node):
    """A scalar as written: its text, and whether it was quoted (quoted text is never a number)."""

    __slots__ = ("quoted", "text")

    def __init__(self, source: str, line: int, column: int, text: str = "", quoted: bool = False):
        super().__init__(source, line, column)
        self.text, self.quoted = text, quoted

    @property
    def kind(self) -> str:
        return "text" if self.quoted else "a single value"


class Collection(Node):
    """A sequence or a mapping: whether it was written in flow style (``[...]``, ``{...}``), and
    where it ends (1-based line and column just past it; for a block, where the next thing starts)."""

    __slots__ = ("end", "flow")

    def __init__(self, source: str, line: int, column: int):
        super().__init__(source, line, column)
        self.flow = False
        self.end: tuple[int, int] | None = None


class SeqNode(Collection):
    """A sequence and its items, in order."""

    __slots__ = ("items",)
    kind = "a list"

    def __init__(self, source: str, line: int, column: int, items: list[Node] | None = None):
        super().__init__(source, line, column)
        self.items = [] if items is None else items


class NumberRow(SeqNode):
    """A flow sequence of plain decimal numbers on one line, read in one go.

    ``values`` and ``texts`` hold every number and its text as written; ``items`` gives
    the same row as located ``ScalarNode``s, made only when something asks for them.
    """

    __slots__ = ("texts", "values", "written")

    def __init__(self, source: str, line: int, column: int, values: list[float], texts: list[str], written: str):
        super().__init__(source, line, column)
        self.values, self.texts = values, texts
        self.written = written  # the text between the brackets, for each number's column
        self.items = _RowItems(self)


class _RowItems(Sequence):
    """The scalars of a ``NumberRow``, built on first use (most rows are only read as numbers)."""

    __slots__ = ("_nodes", "_row")

    def __init__(self, row: NumberRow):
        self._row = row
        self._nodes: list[ScalarNode] | None = None

    def _built(self) -> list[ScalarNode]:
        if self._nodes is None:
            row = self._row
            self._nodes, column = [], row.column + 1
            for piece, text in zip(row.written.split(","), row.texts, strict=True):
                start = column + len(piece) - len(piece.lstrip(" "))
                self._nodes.append(ScalarNode(row.source, row.line, start, text=text))
                column += len(piece) + 1
        return self._nodes

    def __len__(self) -> int:
        return len(self._row.texts)

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self) -> Iterator[ScalarNode]:
        return iter(self._built())


class MapNode(Collection):
    """A mapping: each key's text to its key node and value node, in the order written."""

    __slots__ = ("_discard_next", "_pending", "entries")
    kind = "a mapping"

    def __init__(self, source: str, line: int, column: int):
        super().__init__(source, line, column)
        self.entries: dict[str, tuple[ScalarNode, Node]] = {}
        self._pending: ScalarNode | None = None
        self._discard_next = False


READ_CHUNK_BYTES = 1 << 20


def read_capped(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A whole file's bytes, refusing what is missing, unreadable or larger than ``max_bytes``.

    The cap holds while reading, not only by the size the file reports: a device or a pipe
    reports 0 (``/dev/zero`` never ends), and a file may grow. Reading goes in chunks, so
    Ctrl-C stops it between any two of them.
    """
    from nncalc.files import reading, refuse_too_large

    source = str(path)
    with reading(source):
        if path.is_dir():
            raise IsADirectoryError(source)
        with open(path, "rb", buffering=0) as stream:
            size = refuse_too_large(stream.fileno(), source, max_bytes)
            return bytes(_read_at_most(stream, size, max_bytes, source))


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a UTF-8 file, refusing what is missing, too large or not text, with a located reason.

    The size limit is kept as :func:`read_capped` keeps it.
    """
    source = str(path)
    data = read_capped(path, max_bytes)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line, column = line_and_column(before, len(before))
        raise InputError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            Location(source, line, column),
        ) from None


def _read_at_most(stream, size_hint: int, max_bytes: int, source: str) -> bytearray:
    """Everything ``stream`` holds, read in chunks; refused as soon as it passes ``max_bytes``.

    The buffer starts at the size the file reports (one read into it, no copies, for a
    regular file) and grows by doubling, never past ``max_bytes`` + 1: that last byte only
    tells whether more follows.
    """
    limit = max_bytes + 1
    data = bytearray(min(size_hint, max_bytes) + 1)
    filled = 0
    while True:
        if filled == len(data):  # full: grow (a device or a pipe says 0; a file may have grown)
            data += bytes(min(max(len(data), READ_CHUNK_BYTES), limit - len(data)))
        with memoryview(data) as view, view[filled : filled + READ_CHUNK_BYTES] as free:
            count = stream.readinto(free)
        if not count:
            del data[filled:]
            return data
        filled += count
        if filled > max_bytes:
            raise TooLargeError(
                f"the file holds more than the limit of {max_bytes:,} bytes (raise it with --max-file-size)",
                Location(source),
            )


def load_yaml(
    text: str, source: str, max_depth: int = DEFAULT_MAX_DEPTH, problems: list[Problem] | None = None
) -> Node:
    """Parse one YAML document into located nodes; raise ``InputError`` listing every problem.

    Given a ``problems`` list, problems that leave the document readable (a duplicate key,
    an alias, a tag) are added to it instead, so the caller can go on and list its own too.
    """
    collect = problems is not None
    problems = problems if problems is not None else []
    fast = _read_fast(text, source, max_depth)
    if fast is not None:
        root, found = fast
        problems.extend(found)
    else:
        root = _read_located(text, source, max_depth, problems)
    if problems and (not collect or root is None):
        raise InputError(problems)
    if root is None:
        raise InputError("the file is empty", Location(source, 1, 1))
    if isinstance(root, ScalarNode) and not root.quoted and root.text == "":  # "---" and nothing more
        raise InputError("the file holds an empty YAML document: nothing after ---", Location(source, 1, 1))
    return root


# One flow row on one line, and its content when it is nothing but plain decimal numbers
# separated by commas and spaces (no tabs, comments, quotes, tags or anything else YAML
# could read another way). Within these characters float() accepts exactly the decimal
# numbers of nncalc.numbers.DECIMAL, with spaces around them; anything else ("1 2", "1e",
# ".", "+-1", an empty value) makes it raise, and the row is left to the located path, as
# is an infinite value (1e999) or one too small for a float (1e-999, which float() makes 0).
_FLOW_ROW = re.compile(r"\[([^\[\]\n]*)\]")
_NUMBER_CHARACTERS = re.compile(r"[0-9eE+\-., ]*")
_INFINITIES = (float("inf"), float("-inf"))


def _number_rows(text: str) -> dict[int, tuple[str, list[float], list[str]]]:
    """Every one-line row of plain numbers, by the offset of its ``[``: what is written, values, texts."""
    rows = {}
    for match in _FLOW_ROW.finditer(text):
        content = match.group(1)
        if not _NUMBER_CHARACTERS.fullmatch(content):
            continue
        try:
            values = list(map(float, content.split(",")))
        except ValueError:
            continue
        if _INFINITIES[0] in values or _INFINITIES[1] in values:
            continue
        texts = content.replace(" ", "").split(",")  # no space inside a number: float() said so
        if 0.0 in values and not all(is_number(t) for t, v in zip(texts, values, strict=True) if v == 0.0):
            continue  # a number too small for a float, read as 0: refused on the located path
        rows[match.start()] = (content, values, texts)
    return rows


def _read_fast(text: str, source: str, max_depth: int) -> tuple[Node | None, list[Problem]] | None:
    """The document with its number rows read in one go, or None where that cannot be trusted."""
    rows = _number_rows(text)
    if not rows:
        return None
    pieces, end = [], 0
    for start, (written, _, _) in rows.items():
        pieces.append(text[end : start + 1])
        pieces.append(" " * len(written))
        end = start + 1 + len(written)
    pieces.append(text[end:])
    problems: list[Problem] = []
    try:
        root, consumed = _compose(_Parser("".join(pieces)), source, max_depth, problems, rows)
    except (yaml.YAMLError, ValueError):
        return None  # the located path reports it, at the place the person wrote it
    if consumed != len(rows):
        return None  # a blanked row was not a flow sequence (inside quotes, say): read it as written
    return root, problems


def _read_located(text: str, source: str, max_depth: int, problems: list[Problem]) -> Node | None:
    """Parse the text as it stands, turning every parser error into a located ``InputError``."""
    try:
        return _compose(_Parser(text), source, max_depth, problems)[0]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        location = _within_text(text, source, mark.line, mark.column) if mark else Location(source)
        tab = _indentation_tab(text, mark.line, mark.column) if mark else None
        if tab is not None:
            message = "YAML indents with spaces, not tabs: replace this tab with spaces"
            location = Location(source, mark.line + 1, tab + 1)
        raise InputError(message, location) from None
    except yaml.reader.ReaderError as exc:
        position = exc.position if isinstance(exc.position, int) else 0
        if _Parser is not yaml.SafeLoader:  # libyaml counts bytes of the UTF-8 text, not characters
            position = len(text.encode("utf-8", errors="surrogatepass")[:position].decode("utf-8", errors="ignore"))
        line, column = line_and_column(text, position)
        raise InputError(
            f"YAML error: {exc.reason} {_describe(exc.character)}", Location(source, line, column)
        ) from None
    except UnicodeEncodeError as exc:  # a lone surrogate, which no file can hold but a str can
        line, column = line_and_column(text, exc.start)
        raise InputError(
            "the text holds a character that is not valid Unicode", Location(source, line, column)
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {str(exc).splitlines()[0]}", Location(source)) from None


# A line's indentation as the parser reads it: spaces, and the block indicators "- ", "? ",
# ": " that may open a line. A tab among them is what libyaml reports as "found character
# that cannot start any token" or "a tab character that violates indentation".
_INDENTATION = re.compile(r"(?:[ \t]|[-?:](?=[ \t]))*")


# The line breaks of YAML 1.1, as libyaml counts lines: LF, CR LF, a lone CR (old Mac
# files), NEL, and Unicode's line and paragraph separators. Every line and column this
# module reports is counted the same way, so it agrees with the parser's own marks.
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """The text's lines, without their breaks, split where the YAML parser breaks lines."""
    return LINE_BREAK.split(text)


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of the character at ``offset``, lines as the parser counts them."""
    before = text[:offset]
    breaks = list(LINE_BREAK.finditer(before))
    if before.endswith("\r") and text[offset : offset + 1] == "\n":
        breaks.pop()  # the offset is inside a CR LF: it is still on the line the CR ends
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, offset - line_start + 1


def line_offsets(text: str) -> list[int]:
    """Where each line starts in ``text`` (index 0 is line 1), lines as the parser counts them."""
    return [0, *(match.end() for match in LINE_BREAK.finditer(text))]


def _indentation_tab(text: str, line: int, column: int) -> int | None:
    """The 0-based column of a tab in the indentation of ``line`` (0-based), when the error is there.

    Only when the parser stopped within that indentation (or just after it) is the tab the
    cause; a tab between a key and its value, which YAML allows, is never blamed.
    """
    lines = split_lines(text)
    if line >= len(lines):
        return None
    indentation = _INDENTATION.match(lines[line]).group()
    tab = indentation.find("\t")
    if tab < 0 or column > len(indentation):
        return None
    return tab


def _within_text(text: str, source: str, line: int, column: int) -> Location:
    """A 0-based mark as a 1-based location; one past the end (libyaml's end of stream) is the text's last place."""
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    if lines and line >= len(lines):
        return Location(source, len(lines), len(lines[-1]) + 1)
    return Location(source, line + 1, column + 1)


def _describe(character) -> str:
    if isinstance(character, str):
        return f"(character U+{ord(character):04X})"
    if isinstance(character, int):
        return f"(byte 0x{character:02x})"
    return ""


def _compose(
    parser, source: str, max_depth: int, problems: list[Problem], rows: dict | None = None
) -> tuple[Node | None, int]:
    """Turn the event stream into nodes, iteratively (no recursion, whatever the nesting).

    ``rows`` are number rows read beforehand, by the offset of their ``[``: a flow sequence
    starting there becomes a ``NumberRow``. Returns the root and how many rows were used.
    """
    root: Node | None = None
    stack: list[Node] = []
    documents = 0
    consumed = 0
    nodes = 0  # values made so far, against MAX_NODES
    rows = rows or {}

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1]
        if isinstance(parent, SeqNode):
            parent.items.append(node)
            return
        assert isinstance(parent, MapNode)
        if parent._pending is None and not parent._discard_next:
            if not isinstance(node, ScalarNode):
                problems.append(Problem("a key must be a plain name", node.location))
                parent._discard_next = True
            elif node.text == "<<" and not node.quoted:
                problems.append(Problem("merge keys (<<) are not allowed", node.location))
                parent._discard_next = True
            elif node.text in parent.entries:
                first = parent.entries[node.text][0]
                problems.append(
                    Problem(
                        f"duplicate key {node.text!r} (first given at line {first.line})",
                        node.location,
                    )
                )
                parent._discard_next = True
            else:
                parent._pending = node
            return
        if parent._discard_next:
            parent._discard_next = False
            return
        key = parent._pending
        parent._pending = None
        parent.entries[key.text] = (key, node)

    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            kind = type(event)
            if kind is yaml.StreamEndEvent:
                break
            if kind is yaml.StreamStartEvent or kind is yaml.DocumentEndEvent:
                continue
            mark = event.start_mark
            line, column = mark.line + 1, mark.column + 1
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    problems.append(
                        Problem(
                            "the file holds more than one YAML document (---); keep one",
                            Location(source, line, column),
                        )
                    )
                    break
                continue
            if kind is yaml.AliasEvent:
                problems.append(Problem("aliases (*name) are not allowed", Location(source, line, column)))
                node = ScalarNode(source, line, column, text="", quoted=True)
                attach(node)
                continue
            if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                end = event.end_mark
                stack.pop().end = (end.line + 1, end.column + 1)
                continue
            if event.anchor is not None:
                problems.append(Problem("anchors (&name) are not allowed", Location(source, line, column)))
            tag = event.tag
            if tag is not None and tag != "!":
                problems.append(
                    Problem(
                        f"tags such as {tag!r} are not allowed; write plain values",
                        Location(source, line, column),
                    )
                )
            nodes += 1
            if nodes > MAX_NODES:
                problems.append(
                    Problem(
                        f"the file holds more than {MAX_NODES:,} YAML values outside one-line rows of numbers; "
                        "write each row of numbers on one line, [0.1, 0.2, …], which is read in one go",
                        Location(source, line, column),
                    )
                )
                return None, consumed
            if kind is yaml.ScalarEvent:
                attach(ScalarNode(source, line, column, text=event.value, quoted=bool(event.style)))
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                if kind is yaml.SequenceStartEvent and mark.index in rows:
                    written, values, texts = rows[mark.index]
                    node = NumberRow(source, line, column, values=values, texts=texts, written=written)
                    consumed += 1
                else:
                    node = (SeqNode if kind is yaml.SequenceStartEvent else MapNode)(source, line, column)
                node.flow = bool(event.flow_style)
                attach(node)
                stack.append(node)
                if len(stack) > max_depth:
                    problems.append(
                        Problem(
                            f"nesting is deeper than {max_depth} levels",
                            Location(source, line, column),
                        )
                    )
                    return None, consumed
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return root, consumed
