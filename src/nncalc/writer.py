"""``Network`` → YAML text in nncalc's file format, laid out the way the network was read.

Used to save a network (e.g. after a training step) so that ``parse_network`` reads back the
same names, activations and float64 values bit for bit. The text is written by hand, not by
``yaml.dump``, to keep the readable layout of README.md ("The network file").

Given the text the network was read from, the writer edits that text instead: only the
numbers of weights and biases that changed are replaced, so comments, key order, spacing,
line breaks and numbers written as fractions stay as the person wrote them. The edited text
is read back and compared bit for bit before it is returned; if anything differs, or the
text is of another network, the plain form is written instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.errors import InputError
from nncalc.loader import DocumentChecker, parse_network
from nncalc.network import Layer, Network
from nncalc.yamlsource import LINE_BREAK, Collection, MapNode, Node, NumberRow, ScalarNode, line_offsets, load_yaml

HEADER = "# written by nncalc"

# Text that YAML (1.1 or 1.2, block or flow context) reads back as the same string when unquoted:
# a letter or underscore first, then letters, digits, "_", "-", "." with single inner spaces.
_PLAIN = re.compile(r"[^\W\d][\w.\-]*(?: [\w.\-]+)*")
# Words YAML 1.1 reads as booleans or null, in any case.
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
# Characters written as themselves inside double quotes: printable, not a YAML line break, and
# none that reorders or hides text (U+200B-U+200F, U+202A-U+202E, U+2060-U+2069: nncalc.text),
# so a file shown on a terminal shows its names as they read back.
_RAW = re.compile(
    r"[\x20-\x7e\xa0-\u200a\u2010-\u2027\u202f-\u205f\u206a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def dump_network(network: Network, original_text: str | None = None) -> str:
    """The network as YAML text that ``parse_network`` reads back as the same network, bit for bit.

    Given ``original_text``, the file the network was read from (the same names, layout and
    activations; only weights and biases may differ), the result is that text with just the
    numbers that changed replaced: comments, key order, spacing and line breaks are kept. A
    bias the file left out and that is no longer 0 is added beside its weights. When that is
    impossible (the text is of another network, or is not one) the plain form is written.
    """
    if original_text is not None:
        edited = _edit_in_place(network, original_text)
        if edited is not None:
            return edited
    return _plain(network)


def _plain(network: Network) -> str:
    """The network written afresh in the layout it was read in, under ``HEADER``."""
    lines = [HEADER]
    if network.name is not None:
        lines.append(f"name: {yaml_string(network.name)}")
    if network.description is not None:
        lines.append(f"description: {yaml_string(network.description)}")
    if network.input_shape is not None:
        lines.append(f"inputs: {_input_shape(network)}")
    elif network.inputs_given_as_names:
        lines.append(f"inputs: {_flow(yaml_string(name) for name in network.inputs)}")
    else:
        lines.append(f"inputs: {network.n_inputs}")
    if network.activation is not None:
        lines.append(f"activation: {yaml_activation(network.activation)}")
    lines.append("layers:")
    for layer in network.layers:
        lines.extend(_layer(layer))
    return "\n".join(lines) + "\n"


def _input_shape(network: Network) -> str:
    """``{shape: [1, 5, 5]}``, with the channels' names when the file gave them."""
    shape = network.input_shape
    text = f"shape: {_flow(str(n) for n in shape)}"
    if network.inputs_given_as_names:
        per_channel = shape[1] * shape[2]
        channels = (network.inputs[c * per_channel].rsplit(".", 2)[0] for c in range(shape[0]))
        text += f", names: {_flow(yaml_string(name) for name in channels)}"
    return "{" + text + "}"


def _layer(layer: Layer) -> list[str]:
    """A layer's lines, as an item of ``layers:`` (keys indented under ``  - ``)."""
    if not layer.dense:
        from nncalc.spatial_format import FORMATS

        body = FORMATS[layer.kind].write(layer)
        return [("  - " if i == 0 else "    ") + line for i, line in enumerate(body)]
    layout = layer.layout
    body: list[str] = []
    if layout.name_given:
        body.append(f"name: {yaml_string(layer.name)}")
    if layout.weights == "neurons":
        body.append("neurons:")
        for name, row, bias in zip(layer.neurons, layer.weights, layer.biases, strict=True):
            body.append(f"  - {{name: {yaml_string(name)}, weights: {yaml_numbers(row)}, bias: {yaml_number(bias)}}}")
    else:
        if layout.neurons == "count":
            body.append(f"neurons: {layer.n_neurons}")
        elif layout.neurons == "names":
            body.append(f"neurons: {_flow(yaml_string(name) for name in layer.neurons)}")
        body.extend(_weights(layer))
        biases = _biases(layer)
        if biases is not None:
            body.append(f"biases: {biases}")
    if layout.activation_given:
        body.append(f"activation: {yaml_activation(layer.activation)}")
    return [("  - " if i == 0 else "    ") + line for i, line in enumerate(body)]


def _weights(layer: Layer) -> list[str]:
    """``weights``/``kernel`` in the layer's form, or a matrix when the values no longer fit it."""
    weights, form = layer.weights, layer.layout.weights
    if form == "scalar" and weights.shape == (1, 1):
        return [f"weights: {yaml_number(weights[0, 0])}"]
    if form == "flat" and weights.shape[0] == 1:
        return [f"weights: {yaml_numbers(weights[0])}"]
    key, rows = ("kernel", weights.T) if form == "kernel" else ("weights", weights)
    return [f"{key}:", *(f"  - {yaml_numbers(row)}" for row in rows)]


def _biases(layer: Layer) -> str | None:
    """``biases`` as written (absent, one number, a list), or the smallest form that holds them now."""
    texts = [yaml_number(b) for b in layer.biases]
    all_zero = all(text == "0.0" for text in texts)  # +0.0 only: absent reads back as +0.0
    shared = len(set(texts)) == 1
    form = layer.layout.biases
    if form == "absent" and all_zero:
        return None
    if form == "list" or not shared:
        return _flow(texts)
    return texts[0]


def yaml_activation(activation: BoundActivation) -> str:
    """``relu``, or ``{name: leaky_relu, negative_slope: 0.3}`` when parameters differ from defaults."""
    changed = activation.changed_params
    if not changed:
        return activation.name
    params = ", ".join(
        f"{key}: {yaml_string(value) if isinstance(value, str) else yaml_number(value)}"
        for key, value in changed.items()
    )
    return f"{{name: {activation.name}, {params}}}"


def yaml_number(value: float) -> str:
    """The shortest text that reads back as the same float64; NaN and infinities cannot be written."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot write {number!r}: a network file holds finite numbers only")
    text = repr(number)
    mantissa, e, exponent = text.partition("e")
    if e:
        # 1.0e-05 rather than 1e-05: the same float, and a number to YAML 1.1 readers too
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text


def yaml_numbers(values: Iterable[float] | np.ndarray) -> str:
    return _flow(yaml_number(v) for v in values)


def _flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(items) + "]"


def yaml_string(text: str) -> str:
    """Text as a YAML scalar that reads back as the same string: plain when safe, else double-quoted."""
    if text == "":
        raise ValueError("cannot write an empty name: a network file needs some text")
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML11_WORDS:
        return text
    return '"' + "".join(_escape(char) for char in text) + '"'


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if _RAW.fullmatch(char):
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# -- writing into the original text -------------------------------------------------------


class _Edits:
    """Changes to a text, each a span replaced by new text, applied all at once from the end."""

    def __init__(self, text: str):
        self.text = text
        self.starts = line_offsets(text)
        match = LINE_BREAK.search(text)
        self.newline = match.group() if match else "\n"  # the file's own line break, for added lines
        self.changes: list[tuple[int, int, str]] = []

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def replace(self, node: Node, new: str) -> bool:
        """Replace a plain scalar's text; False when the text at its place is not what it holds."""
        if not isinstance(node, ScalarNode) or node.quoted:
            return False
        start = self.offset(node.line, node.column)
        if self.text[start : start + len(node.text)] != node.text:
            return False
        self.changes.append((start, start + len(node.text), new))
        return True

    def insert(self, offset: int, new: str) -> None:
        self.changes.append((offset, offset, new))

    def end_of(self, node: Node) -> int | None:
        """Where a value written on one line ends (a scalar, or a flow list or mapping), else None."""
        if isinstance(node, ScalarNode) and not node.quoted:
            return self.offset(node.line, node.column) + len(node.text)
        if isinstance(node, Collection) and node.flow and node.end is not None:
            end = self.offset(*node.end)
            return end if self.text[end - 1 : end] in ("]", "}") else None
        return None

    def line_end(self, offset: int) -> int:
        match = LINE_BREAK.search(self.text, offset)
        return match.start() if match else len(self.text)

    def only_spaces_before(self, node: Node) -> bool:
        start = self.offset(node.line, node.column)
        return self.text[self.starts[node.line - 1] : start].strip(" ") == ""

    def applied(self) -> str:
        pieces, end = [], len(self.text)
        for start, stop, new in sorted(self.changes, reverse=True):
            if stop > end:
                raise ValueError("overlapping edits")
            pieces.append(self.text[stop:end])
            pieces.append(new)
            end = start
        pieces.append(self.text[:end])
        return "".join(reversed(pieces))


def _edit_in_place(network: Network, text: str) -> str | None:
    """``text`` with the network's weights and biases put in place of its numbers, or None.

    None when the text does not hold this network's structure, when a number's place cannot
    be edited safely, or when the edited text would not read back as ``network`` bit for bit.
    """
    if network.spatial:  # written afresh: only a dense network's numbers are edited in place
        return None
    checker = DocumentChecker(network.source)
    try:
        root = load_yaml(text, network.source, problems=checker.problems)
        original = checker.network(root)
    except InputError:
        return None
    if checker.problems or original is None or not _same_structure(original, network):
        return None
    edits = _Edits(text)
    layer_nodes = root.entries["layers"][1].items
    try:
        for layer_node, old, new in zip(layer_nodes, original.layers, network.layers, strict=True):
            if not _edit_layer(edits, layer_node, old, new):
                return None
        edited = edits.applied()
        read_back = parse_network(edited, network.source)
    except (InputError, ValueError, IndexError, KeyError, AttributeError):
        return None
    if not _same_structure(read_back, network) or not all(
        _same_bits(got.weights, want.weights) and _same_bits(got.biases, want.biases)
        for got, want in zip(read_back.layers, network.layers, strict=True)
    ):
        return None
    return edited


def _same_structure(a: Network, b: Network) -> bool:
    """The same network but for weights and biases: names, inputs, activations, shapes, layout."""
    if (a.inputs, a.inputs_given_as_names, a.name, a.description, a.activation) != (
        b.inputs,
        b.inputs_given_as_names,
        b.name,
        b.description,
        b.activation,
    ) or len(a.layers) != len(b.layers):
        return False
    return all(
        (x.name, x.neurons, x.activation, x.weights.shape, x.biases.shape)
        == (y.name, y.neurons, y.activation, y.weights.shape, y.biases.shape)
        and (x.layout.weights, x.layout.neurons, x.layout.name_given, x.layout.activation_given)
        == (y.layout.weights, y.layout.neurons, y.layout.name_given, y.layout.activation_given)
        for x, y in zip(a.layers, b.layers, strict=True)
    )


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as float64 bit patterns: -0.0 differs from 0.0, as it would once written."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def _same_float(a: float, b: float) -> bool:
    """Equal, and of the same sign (so -0.0 is not 0.0): equal bit for bit, for finite floats."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _edit_layer(edits: _Edits, node: MapNode, old: Layer, new: Layer) -> bool:
    """Queue the edits of one layer's numbers; False when one of them cannot be made."""
    entries = node.entries
    form = old.layout.weights
    if form == "neurons":
        return all(
            _edit_neuron(edits, item, old_row, new_row, old_bias, new_bias)
            for item, old_row, new_row, old_bias, new_bias in zip(
                entries["neurons"][1].items,
                old.weights.tolist(),
                new.weights.tolist(),
                old.biases.tolist(),
                new.biases.tolist(),
                strict=True,
            )
        )
    key = "kernel" if form == "kernel" else "weights"
    value = entries[key][1]
    old_rows, new_rows = old.weights.tolist(), new.weights.tolist()
    if form == "kernel":  # one row per input: the transpose
        old_rows, new_rows = old.weights.T.tolist(), new.weights.T.tolist()
    if isinstance(value, ScalarNode):
        done = _edit_number(edits, value, old_rows[0][0], new_rows[0][0])
    elif form == "flat":
        done = _edit_row(edits, value, old_rows[0], new_rows[0])
    else:
        done = all(_edit_row(edits, *row) for row in zip(value.items, old_rows, new_rows, strict=True))
    return done and _edit_biases(edits, node, key, old, new)


def _edit_number(edits: _Edits, node: Node, old: float, new: float) -> bool:
    """Put ``new`` in place of a number; one that has not changed keeps its text (``1/3`` stays)."""
    return _same_float(old, new) or edits.replace(node, yaml_number(new))


def _edit_row(edits: _Edits, node: Node, old: list[float], new: list[float]) -> bool:
    """A list of numbers, each changed one put in place, spacing kept; a one-line row in one edit."""
    if not isinstance(node, NumberRow):
        return all(_edit_number(edits, item, a, b) for item, a, b in zip(node.items, old, new, strict=True))
    pieces = node.written.split(",")
    changed = False
    for k, (piece, a, b) in enumerate(zip(pieces, old, new, strict=True)):
        if not _same_float(a, b):
            number = piece.strip(" ")
            pieces[k] = piece.replace(number, yaml_number(b), 1)
            changed = True
    if not changed:
        return True
    start = edits.offset(node.line, node.column) + 1  # just inside the [
    if edits.text[start : start + len(node.written)] != node.written:
        return False
    edits.changes.append((start, start + len(node.written), ",".join(pieces)))
    return True


def _edit_biases(edits: _Edits, node: MapNode, weights_key: str, old: Layer, new: Layer) -> bool:
    """The layer's biases in their form: a list edited number by number, one shared number, or none."""
    if _same_bits(old.biases, new.biases):
        return True
    form = old.layout.biases
    texts = [yaml_number(b) for b in new.biases]
    if form == "list":
        return _edit_row(edits, node.entries["biases"][1], old.biases.tolist(), new.biases.tolist())
    shared = texts[0] if len(set(texts)) == 1 else _flow(texts)
    if form == "scalar":
        return edits.replace(node.entries["biases"][1], shared)
    return _add_key(edits, node, weights_key, "biases", shared)


def _edit_neuron(
    edits: _Edits, node: MapNode, old_row: list[float], new_row: list[float], old_bias: float, new_bias: float
) -> bool:
    """One neuron's mapping: its weights (a number or a list) and its bias, added if it had none."""
    value = node.entries["weights"][1]
    if isinstance(value, ScalarNode):
        done = _edit_number(edits, value, old_row[0], new_row[0])
    else:
        done = _edit_row(edits, value, old_row, new_row)
    if not done:
        return False
    if _same_float(old_bias, new_bias):
        return True
    if "bias" in node.entries:
        return edits.replace(node.entries["bias"][1], yaml_number(new_bias))
    return _add_key(edits, node, "weights", "bias", yaml_number(new_bias))


def _add_key(edits: _Edits, mapping: MapNode, after: str, key: str, value: str) -> bool:
    """Add ``key: value`` to a mapping, right after the entry ``after`` where that can be found.

    In flow style (``{...}``) it follows that entry's value; in block style it goes on a
    line of its own, before the next key or after a one-line value, with the keys' indentation.
    """
    key_node, value_node = mapping.entries[after]
    end = edits.end_of(value_node)
    if mapping.flow:
        if end is not None:
            edits.insert(end, f", {key}: {value}")
        else:
            edits.insert(edits.offset(key_node.line, key_node.column), f"{key}: {value}, ")
        return True
    indent = " " * (key_node.column - 1)
    keys = list(mapping.entries)
    following = keys[keys.index(after) + 1] if keys.index(after) + 1 < len(keys) else None
    if following is not None and edits.only_spaces_before(mapping.entries[following][0]):
        next_key = mapping.entries[following][0]
        edits.insert(edits.starts[next_key.line - 1], f"{indent}{key}: {value}{edits.newline}")
    elif end is not None and value_node.line == key_node.line:
        edits.insert(edits.line_end(end), f"{edits.newline}{indent}{key}: {value}")
    else:
        edits.insert(edits.offset(key_node.line, key_node.column), f"{key}: {value}{edits.newline}{indent}")
    return True
