"""Network file → validated ``Network``, with every mistake located and all of them listed.

The file format is documented in README.md ("The network file"). Reading goes through
``nncalc.yamlsource`` (safe, located nodes); this module checks the structure, turns
number text into float64 arrays and reports each problem as ``FILE:LINE:COL: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nncalc.activations import REGISTRY, BoundActivation, known_names, lookup, name_key
from nncalc.errors import InputError, Location, Problem
from nncalc.network import Layer, LayerLayout, Network
from nncalc.numbers import NotANumber, parse_count, parse_number
from nncalc.records import replace
from nncalc.spatial import describe_shape
from nncalc.text import visible
from nncalc.yamlsource import (
    DEFAULT_MAX_BYTES,
    MapNode,
    Node,
    NumberRow,
    ScalarNode,
    SeqNode,
    load_yaml,
    read_text,
)

NETWORK_KEYS = ("name", "description", "inputs", "activation", "layers")
LAYER_KEYS = ("type", "name", "neurons", "weights", "kernel", "biases", "activation")  # a dense layer's
INPUT_SHAPE_KEYS = ("shape", "names")  # inputs: {shape: [channels, height, width], names: [one per channel]}
NEURON_KEYS = ("name", "weights", "bias")
DEFAULT_ACTIVATION = "sigmoid"


def load_network(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Network:
    """Read and validate a network file; raise ``InputError`` listing every problem found."""
    path = Path(path)
    text = read_text(path, max_bytes=max_bytes)
    return parse_network(text, str(path))


def parse_network(text: str, source: str = "<network>") -> Network:
    """Validate a network given as YAML text (``source`` names it in messages)."""
    checker = DocumentChecker(source)
    root = load_yaml(text, source, problems=checker.problems)
    network = checker.network(root)
    if checker.problems or network is None:
        problems = sorted(checker.problems, key=_position) or [Problem("invalid network", Location(source))]
        raise InputError(problems)
    return network


def _position(problem: Problem) -> tuple[int, int]:
    location = problem.location
    if location is None:
        return (0, 0)
    return (location.line or 0, location.column or 0)


def suggest(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'layers'?`` when a close match exists, else nothing.

    Words are compared as activation names are matched (``name_key``: case, '-', '_' and
    spaces aside), so ``LeakyReLo`` finds ``leaky_relu``; the first choice of a key is shown.
    """
    by_key: dict[str, str] = {}
    for choice in choices:
        by_key.setdefault(name_key(choice), choice)
    close = difflib.get_close_matches(name_key(word), list(by_key), n=1, cutoff=0.6)
    return f"; did you mean {by_key[close[0]]!r}?" if close else ""


class _Matrix(NamedTuple):
    """Numbers read from a weights entry, rows as written, with their nodes for messages."""

    values: list[list[float]]
    texts: list[list[str]]
    row_nodes: list[Node]
    form: str  # "scalar", "flat" or "matrix"


class DocumentChecker:
    """Walks the located document, collecting problems instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    # -- helpers --------------------------------------------------------------------------

    def error(self, where: Node | Location | None, message: str) -> None:
        if isinstance(where, Node):
            where = where.location
        self.problems.append(Problem(message, where or Location(self.source)))

    def entries(
        self, node: Node, allowed: tuple[str, ...], what: str, prefix: str
    ) -> dict[str, tuple[ScalarNode, Node]] | None:
        if not isinstance(node, MapNode):
            self.error(node, f"{prefix}{what} must be a mapping of keys, got {node.kind}")
            return None
        for key, (key_node, _) in node.entries.items():
            if key not in allowed:
                self.error(
                    key_node,
                    f"{prefix}unknown key {key!r}{suggest(key, allowed)}"
                    + ("" if suggest(key, allowed) else f" (allowed: {', '.join(allowed)})"),
                )
        return node.entries

    def number(self, node: Node, what: str) -> tuple[float, str] | None:
        if not isinstance(node, ScalarNode):
            self.error(node, f"{what} must be a number, got {node.kind}")
            return None
        if node.quoted:
            try:
                parse_number(node.text)
            except NotANumber:
                self.error(node, f"{what} must be a number, got the text {node.text!r}")
            else:
                self.error(node, f"{what}: {node.text!r} is quoted; write the number without quotes")
            return None
        try:
            return parse_number(node.text), node.text
        except NotANumber as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.text == "":
            self.error(
                node,
                f"{what} must be a name, got {node.kind if node.text != '' else 'nothing'}"
                if isinstance(node, ScalarNode)
                else f"{what} must be a name, got {node.kind}",
            )
            return None
        return node.text

    def names(self, node: SeqNode, what: str) -> list[str] | None:
        names: list[str] = []
        ok = True
        for i, item in enumerate(node.items, 1):
            name = self.text(item, f"{what} {i}")
            if name is None:
                ok = False
            elif name in names:
                self.error(item, f"{what} {i}: the name {name!r} is used twice")
                ok = False
            else:
                names.append(name)
        return names if ok else None

    # -- the network ----------------------------------------------------------------------

    def network(self, root: Node) -> Network | None:
        entries = self.entries(root, NETWORK_KEYS, "the network file", "")
        if entries is None:
            return None
        name = self._optional_text(entries, "name", "name")
        description = self._optional_text(entries, "description", "description")

        inputs = self.inputs(entries, root)
        default = BoundActivation.named(DEFAULT_ACTIVATION)
        network_activation: BoundActivation | None = None
        if "activation" in entries:
            network_activation = self.activation(entries["activation"][1], "activation")

        if "layers" not in entries:
            self.error(root, "missing key 'layers' (the list of layers)")
            return None
        layers_node = entries["layers"][1]
        if not isinstance(layers_node, SeqNode):
            self.error(layers_node, f"layers must be a list of layers, got {layers_node.kind}")
            return None
        if not layers_node.items:
            self.error(layers_node, "the network has no layers; give at least one")
            return None

        shape: tuple[int, ...] | None = None
        if inputs is not None:
            shape = inputs[2] or (len(inputs[0]),)
        how, feeds = "", "the inputs"
        drafts: list = []
        for index, layer_node in enumerate(layers_node.items):
            kind = self._layer_type(layer_node, index)
            label = _label(layer_node, index)
            if kind is None:
                draft, shape, how = None, None, ""
            elif kind == "dense":
                n_in = None
                if shape is not None and len(shape) != 1:
                    self.error(
                        layer_node,
                        f"{label}: a dense layer takes a vector, and {feeds} give{'' if index == 0 else 's'} "
                        f"{describe_shape(shape)} maps: "
                        "put a layer of type: flatten before it",
                    )
                elif shape is not None:
                    n_in = shape[0]
                draft, n_out = self.layer(layer_node, index, n_in, network_activation or default, how)
                shape, how = ((n_out,) if n_out is not None else None), ""
            else:
                draft, shape, how = self._spatial_layer(
                    layer_node, kind, label, shape, feeds, network_activation or default
                )
            drafts.append(draft)
            feeds = label if "(" in label else f"{label} ({kind})"

        if self.problems or inputs is None or any(d is None for d in drafts):
            return None
        layers = self._name_layers(drafts)
        self._refuse_repeated_names(layers, layers_node.items)
        if self.problems:
            return None
        return Network(
            inputs=tuple(inputs[0]),
            layers=layers,
            name=name,
            description=description,
            activation=network_activation,
            inputs_given_as_names=inputs[1],
            source=self.source,
            input_shape=inputs[2],
        )

    def _layer_type(self, node: Node, index: int) -> str | None:
        """A layer's ``type:`` ("dense" when absent), or None (reported) when it names no layer type."""
        from nncalc.spatial_format import FORMATS

        if not isinstance(node, MapNode) or "type" not in node.entries:
            return "dense"
        type_node = node.entries["type"][1]
        kinds = ("dense", *FORMATS)
        if not isinstance(type_node, ScalarNode):
            self.error(type_node, f"{_label(node, index)}: type must be a name ({', '.join(kinds)})")
            return None
        text = type_node.text
        if text not in kinds:
            self.error(
                type_node,
                f"{_label(node, index)}: unknown layer type {text!r}{suggest(text, kinds)} (known: {', '.join(kinds)})",
            )
            return None
        return text

    def _spatial_layer(self, node: Node, kind: str, label: str, shape, feeds: str, activation: BoundActivation):
        """A convolution, pooling or flatten layer, read by its format (``nncalc.spatial_format``):
        the layer (None when wrong), the shape it gives and how, for the layers after it."""
        from nncalc.spatial_format import FORMATS, Context

        layer_format = FORMATS[kind]
        entries = self.entries(node, layer_format.keys, "a layer", f"{label}: ")
        if entries is None:
            return None, None, ""
        before = len(self.problems)
        name = self._optional_text(entries, "name", f"{label}: name")
        read = layer_format.read(Context(self, node, entries, label, shape, feeds, activation))
        if read.layer is None or len(self.problems) > before:
            return None, read.shape, read.how
        return _SpatialDraft(name, kind, read.layer), read.shape, read.how

    def _optional_text(self, entries, key: str, what: str) -> str | None:
        if key not in entries:
            return None
        return self.text(entries[key][1], what)

    def inputs(self, entries, root: Node) -> tuple[list[str] | _DefaultNames, bool, tuple[int, ...] | None] | None:
        """The inputs' names, whether they were written as names, and their (C, H, W) shape for images."""
        if "inputs" not in entries:
            self.error(root, "missing key 'inputs' (the number of inputs, or their names)")
            return None
        node = entries["inputs"][1]
        if isinstance(node, MapNode):
            return self._input_shape(node)
        if isinstance(node, SeqNode):
            if not node.items:
                self.error(node, "inputs: the list of names is empty")
                return None
            names = self.names(node, "input")
            return (names, True, None) if names is not None else None
        if isinstance(node, ScalarNode) and not node.quoted:
            try:
                count = parse_count(node.text)
            except NotANumber as exc:
                reason = f": {exc}" if "too large" in str(exc) else f", got {node.text!r}"
                self.error(node, f"inputs must be a count or a list of names{reason}")
                return None
            if count < 1:
                self.error(node, f"inputs must be at least 1, got {count}")
                return None
            return _DefaultNames("x", count), False, None
        self.error(node, f"inputs must be a count or a list of names, got {node.kind}")
        return None

    def _input_shape(self, node: MapNode) -> tuple[list[str], bool, tuple[int, ...]] | None:
        """``inputs: {shape: [C, H, W], names: [...]}``: images of C channels (named ``x`` unless ``names``
        gives one name per channel); their values are named ``channel.row.column`` in flatten order."""
        from nncalc.spatial import cell_names, input_names
        from nncalc.spatial_format import MAX_VALUES, too_large

        entries = self.entries(node, INPUT_SHAPE_KEYS, "inputs", "inputs: ")
        if entries is None:
            return None
        if "shape" not in entries:
            self.error(node, "inputs: missing key 'shape' ([channels, height, width])")
            return None
        shape_node = entries["shape"][1]
        if not isinstance(shape_node, SeqNode) or len(shape_node.items) != 3:
            got = f"{len(shape_node.items)} values" if isinstance(shape_node, SeqNode) else shape_node.kind
            self.error(shape_node, f"inputs: shape must be [channels, height, width], got {got}")
            return None
        shape = []
        for what, item in zip(("channels", "height", "width"), shape_node.items, strict=True):
            try:  # each size is its own mistake: all three are reported before giving up
                if not isinstance(item, ScalarNode) or item.quoted:
                    raise NotANumber(f"{item.kind} is not a whole number")
                value = parse_count(item.text)
            except NotANumber as exc:
                self.error(item, f"inputs: shape: {what}: {exc}")
                continue
            if value < 1:
                self.error(item, f"inputs: shape: {what} must be at least 1, got {value}")
                continue
            shape.append(value)
        if len(shape) != 3:
            return None
        shape_tuple = tuple(shape)
        if shape[0] * shape[1] * shape[2] > MAX_VALUES:
            self.error(shape_node, f"inputs: shape {describe_shape(shape_tuple)}: its values {too_large(shape_tuple)}")
            return None
        if "names" not in entries:
            return list(input_names(shape_tuple)), False, shape_tuple
        names_node = entries["names"][1]
        if not isinstance(names_node, SeqNode) or len(names_node.items) != shape[0]:
            self.error(names_node, f"inputs: names must be a list of {shape[0]} (one per channel)")
            return None
        channels = self.names(names_node, "inputs: channel")
        if channels is None:
            return None
        cells = cell_names((1, shape[1], shape[2]))
        names = [f"{channel}.{cell[2:]}" for channel in channels for cell in cells]
        return names, True, shape_tuple

    def activation(self, node: Node, what: str) -> BoundActivation | None:
        if isinstance(node, ScalarNode):
            name_node, params = node, {}
        elif isinstance(node, MapNode):
            if "name" not in node.entries:
                self.error(node, f"{what}: missing 'name' (e.g. {{name: leaky_relu, negative_slope: 0.2}})")
                return None
            name_node = node.entries["name"][1]
            params = {k: v for k, v in node.entries.items() if k != "name"}
        else:
            self.error(node, f"{what} must be a name or a mapping with a name, got {node.kind}")
            return None
        if not isinstance(name_node, ScalarNode):
            self.error(name_node, f"{what}: the name must be text, got {name_node.kind}")
            return None
        activation = lookup(name_node.text)
        if activation is None:
            self.error(
                name_node,
                f"{what}: unknown activation {name_node.text!r}{suggest(name_node.text, known_names())}"
                f" (known: {', '.join(REGISTRY)})",
            )
            return None
        values: dict[str, float | str] = {}
        ok = True
        for key, (key_node, value_node) in params.items():
            if key not in activation.defaults:
                takes = f"its parameters: {', '.join(activation.defaults)}" if activation.defaults else "it takes none"
                self.error(
                    key_node,
                    f"{what}: {activation.name} has no parameter {key!r}{suggest(key, activation.defaults)} ({takes})",
                )
                ok = False
                continue
            if key in activation.choices:
                allowed = activation.choices[key]
                if not isinstance(value_node, ScalarNode) or value_node.text not in allowed:
                    shown = value_node.text if isinstance(value_node, ScalarNode) else value_node.kind
                    self.error(
                        value_node,
                        f"{what}: {key} must be one of {', '.join(allowed)}, got {shown!r}",
                    )
                    ok = False
                else:
                    values[key] = value_node.text
                continue
            parsed = self.number(value_node, f"{what}: {key}")
            if parsed is None:
                ok = False
                continue
            if activation.name == "softplus" and key == "beta" and parsed[0] == 0:
                self.error(value_node, f"{what}: beta must not be 0")
                ok = False
                continue
            values[key] = parsed[0]
        if not ok:
            return None
        return BoundActivation.named(activation.name, **values)

    # -- layers ---------------------------------------------------------------------------

    def layer(
        self, node: Node, index: int, n_in: int | None, default: BoundActivation, how: str = ""
    ) -> tuple[_LayerDraft | None, int | None]:
        """Check one layer; return it (None if anything is wrong) and its width for the next layer.

        A mistake here does not stop the checks that do not depend on it, and the width goes
        on whenever the layer declares it (its neurons, else its rows of weights), so the next
        layer is checked against it: every independent mistake is reported in one run.
        """
        label = f"layer {index + 1}"
        if isinstance(node, MapNode) and "name" in node.entries:
            name_node = node.entries["name"][1]
            if isinstance(name_node, ScalarNode):
                label += f" ({visible(name_node.text)})"
        prefix = f"{label}: "
        entries = self.entries(node, LAYER_KEYS, "a layer", prefix)
        if entries is None:
            return None, None
        before = len(self.problems)
        name = self._optional_text(entries, "name", f"{label}: name")
        activation = default
        if "activation" in entries:
            activation = self.activation(entries["activation"][1], f"{label}: activation")
        neurons = self._neurons(entries, label, prefix)

        if neurons.per_neuron is not None:
            for key in ("weights", "kernel", "biases"):
                if key in entries:
                    self.error(
                        entries[key][0],
                        f"{prefix}{key} is given both per neuron and for the layer; keep one",
                    )
            draft = self._per_neuron_layer(
                neurons.per_neuron, label, n_in, index, name, activation, neurons.form, "activation" in entries
            )
            return (draft if len(self.problems) == before else None), neurons.count

        if "weights" in entries and "kernel" in entries:
            self.error(entries["kernel"][0], f"{prefix}give weights or kernel, not both")
            n_out = neurons.count if neurons.count is not None else _rows_written(entries["weights"][1], False)
            self._check_bias_values(entries.get("biases"), n_out, prefix)
            return None, n_out
        if "weights" not in entries and "kernel" not in entries:
            self.error(node, f"{prefix}missing key 'weights' (one row per neuron, one column per input)")
            self._check_bias_values(entries.get("biases"), neurons.count, prefix)
            return None, neurons.count
        kernel = "kernel" in entries
        key = "kernel" if kernel else "weights"
        matrix = self.matrix(entries[key][1], f"{prefix}{key}", allow_flat=not kernel)
        if matrix is None:  # a value or a row is wrong; its rows may still say how many neurons there are
            n_out = neurons.count if neurons.count is not None else _rows_written(entries[key][1], kernel)
            self._check_bias_values(entries.get("biases"), n_out, prefix)  # so its mistakes are listed too
            return None, n_out
        why = _why_width(index, n_in, how)
        if kernel:
            checked = self._kernel(matrix, entries[key][1], n_in, neurons.count, prefix, why)
            written = len(matrix.values[0])  # a kernel's columns are its neurons
        else:
            checked = self._weights(matrix, entries[key][1], n_in, neurons.count, prefix, why)
            written = len(matrix.values)
        n_out = neurons.count if neurons.count is not None else written

        biases = self.biases(entries.get("biases"), n_out, prefix)
        if checked is None or biases is None or activation is None or len(self.problems) > before:
            return None, n_out
        values, texts = checked
        bias_values, bias_text, biases_form = biases
        layout = LayerLayout(
            weights="kernel" if kernel else matrix.form,
            neurons=neurons.form,
            biases=biases_form,
            name_given=name is not None,
            activation_given="activation" in entries,
        )
        return _LayerDraft(
            name,
            neurons.names,
            values,
            texts,
            bias_values,
            bias_text,
            activation,
            layout,
            len(values[0]),
            n_out,
        ), n_out

    def _neurons(self, entries, label: str, prefix: str) -> _Neurons:
        """The ``neurons`` key: its form, the count it declares (None if unknown), names, mappings."""
        if "neurons" not in entries:
            return _Neurons("absent", None)
        node = entries["neurons"][1]
        if isinstance(node, ScalarNode) and not node.quoted:
            try:
                count = parse_count(node.text)
            except NotANumber as exc:
                reason = f": {exc}" if "too large" in str(exc) else f", got {node.text!r}"
                self.error(node, f"{prefix}neurons must be a count or a list{reason}")
                return _Neurons("count", None)
            if count < 1:
                self.error(node, f"{prefix}neurons must be at least 1, got {count}")
                return _Neurons("count", None)
            return _Neurons("count", count)
        if isinstance(node, SeqNode) and node.items:
            if all(isinstance(item, MapNode) for item in node.items):
                return _Neurons("names", len(node.items), per_neuron=node.items)
            if all(isinstance(item, ScalarNode) for item in node.items):
                # a name given twice is wrong, but the count still says how wide the layer is
                return _Neurons("names", len(node.items), names=self.names(node, f"{label}: neuron"))
            self.error(node, f"{prefix}neurons mixes names and neuron mappings; use one or the other")
            return _Neurons("names", len(node.items))
        self.error(node, f"{prefix}neurons must be a count, a list of names or a list of neurons")
        return _Neurons("absent", None)

    def _kernel(
        self, matrix: _Matrix, node: Node, n_in: int | None, n_out: int | None, prefix: str, why: str
    ) -> tuple[list[list[float]], list[list[str]]] | None:
        """Keras's orientation (one row per input, one column per neuron) checked and turned into
        weights' rows; None (with every mistake reported) when its shape is wrong."""
        values, texts = matrix.values, matrix.texts
        ok = True
        if n_in is not None and len(values) != n_in:
            self.error(node, f"{prefix}kernel has {_count(len(values), 'row')}, expected {n_in} ({why})")
            ok = False
        width = n_out if n_out is not None else len(values[0])
        for r, (row, row_node) in enumerate(zip(values, matrix.row_nodes, strict=True), 1):
            if len(row) != width:
                self.error(
                    row_node,
                    f"{prefix}row {r} of kernel has {_count(len(row), 'value')}, expected {width} (one per neuron)",
                )
                ok = False
        if not ok:
            return None
        return [list(col) for col in zip(*values, strict=True)], [list(col) for col in zip(*texts, strict=True)]

    def _weights(
        self, matrix: _Matrix, node: Node, n_in: int | None, n_out: int | None, prefix: str, why: str
    ) -> tuple[list[list[float]], list[list[str]]] | None:
        """PyTorch's orientation (one row per neuron, one column per input): the rows, or None (with
        every mistake reported) when their number or lengths are wrong."""
        values = matrix.values
        problems = len(self.problems)
        if matrix.form == "flat" and n_out is not None and n_out != 1:
            self.error(
                node,
                f"{prefix}a flat list of weights is for a one-neuron layer, and this layer has "
                f"{n_out} neurons: write one row per neuron, e.g. [[0.1, 0.2], [0.3, 0.4]]",
            )
        elif n_out is not None and len(values) != n_out:
            self.error(node, f"{prefix}weights has {_count(len(values), 'row')}, expected {n_out} (one per neuron)")
        expected = n_in if n_in is not None else len(values[0])
        for r, (row, row_node) in enumerate(zip(values, matrix.row_nodes, strict=True), 1):
            if len(row) != expected:
                where = f"row {r} of weights" if matrix.form == "matrix" else "weights"
                self.error(row_node, f"{prefix}{where} has {_count(len(row), 'value')}, expected {expected} ({why})")
        return (values, matrix.texts) if len(self.problems) == problems else None

    def matrix(self, node: Node, what: str, allow_flat: bool) -> _Matrix | None:
        if isinstance(node, ScalarNode):
            number = self.number(node, what)
            if number is None:
                return None
            return _Matrix([[number[0]]], [[number[1]]], [node], "scalar")
        if not isinstance(node, SeqNode):
            self.error(node, f"{what} must be a list of rows, got {node.kind}")
            return None
        if not node.items:
            self.error(node, f"{what} is empty")
            return None
        if isinstance(node, NumberRow) or all(isinstance(item, ScalarNode) for item in node.items):
            if not allow_flat:
                self.error(node, f"{what} must be a list of rows (one per input), e.g. [[0.1, 0.2]]")
                return None
            row = self.row(node, what)
            return None if row is None else _Matrix([row[0]], [row[1]], [node], "flat")
        if not all(isinstance(item, SeqNode) for item in node.items):
            self.error(node, f"{what} mixes numbers and rows; write one row (a list) per neuron")
            return None
        values, texts, ok = [], [], True
        for r, item in enumerate(node.items, 1):
            if not item.items:
                self.error(item, f"{what}: row {r} is empty")
                ok = False
                continue
            row = self.row(item, f"{what}: row {r}")
            if row is None:
                ok = False
                continue
            values.append(row[0])
            texts.append(row[1])
        if not ok:
            return None
        return _Matrix(values, texts, list(node.items), "matrix")

    def row(self, node: SeqNode, what: str) -> tuple[list[float], list[str]] | None:
        if isinstance(node, NumberRow):  # already read and checked as plain finite numbers
            return node.values, node.texts
        values, texts, ok = [], [], True
        for c, item in enumerate(node.items, 1):
            number = self.number(item, f"{what}, value {c}")
            if number is None:
                ok = False
            else:
                values.append(number[0])
                texts.append(number[1])
        return (values, texts) if ok else None

    def _check_bias_values(self, entry, n_out: int | None, prefix: str) -> None:
        """Check the biases of a layer whose weights are wrong: their count too, where the layer declares it."""
        if entry is None:
            return
        if n_out is not None:
            self.biases(entry, n_out, prefix)
            return
        node = entry[1]
        if isinstance(node, SeqNode):
            self.row(node, f"{prefix}biases")
        else:
            self.number(node, f"{prefix}biases")

    def biases(self, entry, n_out: int, prefix: str):
        if entry is None:
            return [0.0] * n_out, ["0"] * n_out, "absent"
        node = entry[1]
        if isinstance(node, ScalarNode):
            number = self.number(node, f"{prefix}biases")
            if number is None:
                return None
            return [number[0]] * n_out, [number[1]] * n_out, "scalar"
        if not isinstance(node, SeqNode):
            self.error(node, f"{prefix}biases must be a number or a list, got {node.kind}")
            return None
        row = self.row(node, f"{prefix}biases")
        if row is None:
            return None
        if len(row[0]) != n_out:
            self.error(
                node,
                f"{prefix}biases has {_count(len(row[0]), 'value')}, expected {n_out} (one per neuron)",
            )
            return None
        return row[0], row[1], "list"

    def _per_neuron_layer(self, items, label, n_in, index, name, activation, neurons_form, activation_given):
        """A layer written neuron by neuron; every neuron's mistakes are reported, each check on its own."""
        names, values, texts, bias_values, bias_text = [], [], [], [], []
        ok = True
        expected, why = n_in, "one per input to the layer"
        for j, item in enumerate(items, 1):
            neuron_label = f"{label}: neuron {j}"
            entries = self.entries(item, NEURON_KEYS, "a neuron", f"{neuron_label}: ")
            if entries is None:
                ok = False
                continue
            neuron_name = self._optional_text(entries, "name", f"{neuron_label}: name")
            if neuron_name is not None:
                neuron_label += f" ({visible(neuron_name)})"
                if neuron_name in names:
                    self.error(
                        entries["name"][1],
                        f"{neuron_label}: the name {neuron_name!r} is used twice",
                    )
                    ok = False
            names.append(neuron_name)
            bias = (0.0, "0")
            if "bias" in entries:
                bias = self.number(entries["bias"][1], f"{neuron_label}: bias")
                ok = ok and bias is not None
            if "weights" not in entries:
                self.error(item, f"{neuron_label}: missing key 'weights' (one per input to the layer)")
                ok = False
                continue
            matrix = self.matrix(entries["weights"][1], f"{neuron_label}: weights", allow_flat=True)
            if matrix is None:
                ok = False
                continue
            if matrix.form == "matrix":
                self.error(entries["weights"][1], f"{neuron_label}: weights must be one list of numbers")
                ok = False
                continue
            row, row_text = matrix.values[0], matrix.texts[0]
            if expected is None:  # the width before is unknown: the neurons must at least agree
                expected = len(row)
                unknown = "the number of inputs" if index == 0 else f"layer {index}'s width"
                why = f"as neuron {j} has; {unknown} is unknown"
            if len(row) != expected:
                self.error(
                    entries["weights"][1],
                    f"{neuron_label}: weights has {_count(len(row), 'value')}, expected {expected} ({why})",
                )
                ok = False
                continue
            if ok:
                values.append(row)
                texts.append(row_text)
                bias_values.append(bias[0])
                bias_text.append(bias[1])
        if not ok or activation is None:
            return None
        neuron_names = names if any(n is not None for n in names) else None
        layout = LayerLayout(
            weights="neurons",
            neurons=neurons_form,
            biases="neurons",
            name_given=name is not None,
            activation_given=activation_given,
        )
        return _LayerDraft(
            name,
            neuron_names,
            values,
            texts,
            bias_values,
            bias_text,
            activation,
            layout,
            len(values[0]),
            len(values),
        )

    def _name_layers(self, drafts: list) -> tuple:
        """The layers with their names: as given, else ``hidden``/``hidden2``/``output`` for dense
        layers and the type's name and position (``conv1``, ``pool2``) for the others."""
        from nncalc.spatial_format import FORMATS

        count = len(drafts)
        hidden = sum(isinstance(d, _LayerDraft) for d in drafts) - 1
        layers = []
        for index, draft in enumerate(drafts):
            if isinstance(draft, _SpatialDraft):
                name = draft.name or f"{FORMATS[draft.kind].default_name}{index + 1}"
                layers.append(replace(draft.layer, name=name))
                continue
            last = index == count - 1
            if draft.name is not None:
                name = draft.name
            elif last:
                name = "output"
            else:
                name = "hidden" if hidden == 1 else f"hidden{index + 1}"
            prefix = "o" if last else ("h" if hidden == 1 else f"h{index + 1}_")
            given = draft.neuron_names or [None] * draft.n_out
            # neurons left unnamed (in a layer written neuron by neuron) get the default name of their place
            neurons = tuple(n if n is not None else f"{prefix}{j}" for j, n in enumerate(given, 1))
            if len(set(neurons)) != len(neurons):
                self.error(None, f"layer {index + 1}: neuron names repeat: {visible(', '.join(neurons))}")
            weights = np.array(draft.values, dtype=np.float64)
            biases = np.array(draft.bias_values, dtype=np.float64)
            weights.flags.writeable = False
            biases.flags.writeable = False
            layers.append(
                Layer(
                    name=name,
                    neurons=neurons,
                    weights=weights,
                    biases=biases,
                    activation=draft.activation,
                    weight_text=tuple(tuple(row) for row in draft.texts),
                    bias_text=tuple(draft.bias_text),
                    layout=draft.layout,
                )
            )
        return tuple(layers)

    def _refuse_repeated_names(self, layers: Sequence, nodes: Sequence[Node]) -> None:
        """Each layer's name once: tables, headings, answers and CSV columns (``h.n1.z``) tell layers
        apart by name. A repeat is located at its ``name:`` (or at the layer, for a default name)."""
        first: dict[str, int] = {}
        for index, (layer, node) in enumerate(zip(layers, nodes, strict=True)):
            if layer.name in first:
                named = node.entries["name"][1] if isinstance(node, MapNode) and "name" in node.entries else node
                self.error(
                    named,
                    f"layer {index + 1}: the name {visible(layer.name)!r} is layer {first[layer.name] + 1}'s too; "
                    "give each layer its own name",
                )
            else:
                first[layer.name] = index


class _DefaultNames:
    """x1 … xN, made only when needed: a file may claim a count far larger than it holds."""

    def __init__(self, prefix: str, count: int):
        self.prefix, self.count = prefix, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return (f"{self.prefix}{i}" for i in range(1, self.count + 1))


class _LayerDraft(NamedTuple):
    name: str | None
    neuron_names: list[str | None] | None
    values: list[list[float]]
    texts: list[list[str]]
    bias_values: list[float]
    bias_text: list[str]
    activation: BoundActivation
    layout: LayerLayout
    n_in: int
    n_out: int


class _SpatialDraft(NamedTuple):
    name: str | None
    kind: str
    layer: object  # a record of nncalc.spatial, named once every layer is read


class _Neurons(NamedTuple):
    """A layer's ``neurons`` key as read: how it was written and how many neurons it declares."""

    form: str  # "absent", "count" or "names"
    count: int | None  # None when absent or wrong
    names: list[str] | None = None
    per_neuron: list[Node] | None = None


def _rows_written(node: Node, kernel: bool) -> int | None:
    """How many neurons a weights (or kernel) entry is written for, whatever its values; None if unclear."""
    if isinstance(node, ScalarNode):
        return 1
    if not isinstance(node, SeqNode) or not node.items:
        return None
    if all(isinstance(item, SeqNode) for item in node.items):
        return len(node.items[0].items) if kernel else len(node.items)
    if all(isinstance(item, ScalarNode) for item in node.items):
        return None if kernel else 1  # a flat list is one neuron's weights
    return None


def _why_width(index: int, n_in: int | None, how: str = "") -> str:
    """Why a layer's rows need the length they need: what feeds the layer (``how`` its shape comes
    about, after a spatial layer), or that it is unknown."""
    if how and n_in is not None:
        return f"one per value of layer {index}: {how}"
    if n_in is None:
        unknown = "the number of inputs is unknown" if index == 0 else f"layer {index}'s width is unknown"
        return f"as row 1 has; {unknown}"
    return "one per input" if index == 0 else f"one per neuron of layer {index}"


def _label(node: Node, index: int) -> str:
    """``layer 2``, or ``layer 2 (pool)`` when the layer is named: how messages name a layer."""
    label = f"layer {index + 1}"
    if isinstance(node, MapNode) and "name" in node.entries:
        name_node = node.entries["name"][1]
        if isinstance(name_node, ScalarNode):
            label += f" ({visible(name_node.text)})"
    return label


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
