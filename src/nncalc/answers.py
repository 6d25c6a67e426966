"""A person's worked answers, read from YAML with every value's text and location kept.

The format (see README.md, "nncalc grade")::

    layers:
      - z: [0.415]          # one value per neuron, in order; ~ leaves one out
        a: [0.6023]
      - {}                  # a layer left out entirely
      - o1: {z: 0.6506, a: 0.7153}   # or neuron by neuron, by name

A layer is written one way or the other, never both. Under a layer, a key whose value is
a mapping is a neuron (so neurons called ``z`` or ``a`` can be answered by name); a list,
a number or ~ is a quantity.

A sheet of the backward pass adds a top-level ``loss`` and, per layer, ``delta`` (per
neuron, as z and a), ``grad_weights`` and ``weights`` (the updated values; shaped as the
network file's weights: a row per neuron, a value per input), ``grad_biases`` and
``biases``. A quantity may also be given by name, ``delta: {o1: 0.1385}``,
``grad_weights: {w(h1→o1): 0.0822, h2->o1: 0.0827}``, and a neuron's incoming weights by
their source, ``o1: {weights: {h1: 0.3589}}``. With several samples, z, a and δ are a row
per sample. ``conventions: {error: t-a, batch: sum, loss: half-sse}`` names the course's
conventions (see ``nncalc.grading_backward``).

With an optimizer, a layer may also give the values of its step, named as ``backward``'s
JSON ``optimizer_state`` names them, for its weights and its biases (each shaped, or named,
as the weights and biases are)::

    optimizer_state:
      weights: {exp_avg: [[...]], exp_avg_sq: [[...]], m_hat: [[...]], v_hat: [[...]]}
      biases: {exp_avg: [...], ...}

(``momentum_buffer`` for SGD's and RMSprop's momentum, ``square_avg`` and ``grad_avg`` for
RMSprop; see ``nncalc.grading_optimizer``). Which of them the optimizer has is checked when
it is known, by ``grading_backward``.

A convolution, pooling or flatten layer has z, a and δ, each a matrix per channel, and a
convolution its kernels and biases (see ``nncalc.answers_spatial``), and under
``optimizer_state`` its step's values, written as its kernels and biases are.

The number text matters: ``0.60`` claims two decimals, ``0.6`` one, and grading uses it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from nncalc import losses
from nncalc.activations import name_key
from nncalc.answers_spatial import SpatialAnswers, left_out, parameter_slots
from nncalc.errors import InputError, Location
from nncalc.grading_optimizer import KEYS as STATE_KEYS
from nncalc.grading_optimizer import LETTERS
from nncalc.loader import DocumentChecker, suggest
from nncalc.network import Network
from nncalc.numbers import short_text
from nncalc.records import record
from nncalc.yamlsource import DEFAULT_MAX_BYTES, MapNode, Node, ScalarNode, SeqNode, load_yaml, read_text

ANSWER_KEYS = ("name", "description", "conventions", "loss", "layers")
FORWARD = ("z", "a")
PER_SAMPLE = ("z", "a", "delta")  # one value per neuron, for each sample
PER_NEURON = ("grad_biases", "biases")  # one value per neuron
PER_WEIGHT = ("grad_weights", "weights")  # one value per weight: rows per neuron, as in the network file
BACKWARD = ("delta", "grad_weights", "grad_biases", "weights", "biases")
QUANTITIES = FORWARD + BACKWARD
# The conventions an answers file may name, and the values each takes (None: a loss's name).
CONVENTIONS: dict[str, tuple[str, ...] | None] = {"error": ("a-t", "t-a"), "batch": ("mean", "sum"), "loss": None}


@record
class Answer:
    """One value a person wrote: the number, its text as written, and where it is."""

    value: float
    text: str
    location: Location


Slot = Answer | None


@record
class LayerAnswers:
    """A layer's answers, one slot per neuron for z and for a (None where left out)."""

    z: tuple[Answer | None, ...]
    a: tuple[Answer | None, ...]


@record
class StateAnswers:
    """The values written for one of an optimizer's values of a layer's weights or biases:
    ``exp_avg`` of ``weights``, slots shaped as the parameter, and where the key is written."""

    param: str  # "weights" or "biases"
    key: str  # one of grading_optimizer.KEYS
    slots: tuple
    location: Location


@record
class LayerSheet:
    """Everything written for one layer: z, a and δ per sample and neuron ([sample][neuron]),
    the gradients and updated values of the weights ([neuron][source]) and of the biases."""

    z: tuple[tuple[Slot, ...], ...]
    a: tuple[tuple[Slot, ...], ...]
    delta: tuple[tuple[Slot, ...], ...]
    grad_weights: tuple[tuple[Slot, ...], ...]
    grad_biases: tuple[Slot, ...]
    weights: tuple[tuple[Slot, ...], ...]
    biases: tuple[Slot, ...]
    optimizer: tuple[StateAnswers, ...] = ()  # the optimizer's values (``optimizer_state``), as written

    def written(self, quantity: str) -> list[Answer]:
        """The answers written for ``quantity``, in order (a convolution's kernels nest deeper)."""

        def flat(slots) -> list:
            return [a for s in slots for a in flat(s)] if isinstance(slots, tuple) else [slots]

        return [slot for slot in flat(getattr(self, quantity)) if slot is not None]


@record
class Convention:
    """A convention the answers file names: ``error: t-a``, where it is written."""

    key: str
    value: str
    location: Location


@record
class Sheet:
    """A whole answer sheet: each layer's values, the loss, and the conventions it names."""

    layers: tuple[LayerSheet, ...]
    loss: Answer | None = None
    conventions: tuple[Convention, ...] = ()
    samples: int = 1

    def forward(self, sample: int = 0) -> list[LayerAnswers]:
        """One sample's z and a, as forward grading reads them."""
        return [LayerAnswers(layer.z[sample], layer.a[sample]) for layer in self.layers]

    def convention(self, key: str) -> Convention | None:
        """The convention ``key`` named in the file, or None."""
        return next((c for c in self.conventions if c.key == key), None)

    def first_backward(self) -> Location | None:
        """Where the first value of the backward pass (the loss, a δ, a gradient, an update) is written."""
        if self.loss is not None:
            return self.loss.location
        for layer in self.layers:
            for quantity in BACKWARD:
                written = layer.written(quantity)
                if written:
                    return written[0].location
            if layer.optimizer:
                return layer.optimizer[0].location
        return None


def load_answers(path: str | Path, network: Network, max_bytes: int = DEFAULT_MAX_BYTES) -> list[LayerAnswers]:
    """Read an answers file for ``network``; raise ``InputError`` listing every problem."""
    return load_sheet(path, network, max_bytes=max_bytes).forward(0)


def parse_answers(text: str, network: Network, source: str = "<answers>") -> list[LayerAnswers]:
    """Validate answers given as YAML text against the network's layers and neuron names."""
    return parse_sheet(text, network, source).forward(0)


def load_sheet(path: str | Path, network: Network, samples: int = 1, max_bytes: int = DEFAULT_MAX_BYTES) -> Sheet:
    """Read a whole answer sheet (forward and backward pass) for ``samples`` samples.

    A sheet is parsed whole into located YAML nodes, as a YAML samples file is, and is held
    to the same share of ``max_bytes`` (``sample_yaml.YAML_SHARE``): at the full limit its
    nodes could take gigabytes, and a sheet a person writes is a few kilobytes.
    """
    from nncalc.errors import TooLargeError
    from nncalc.sample_yaml import YAML_SHARE

    path = Path(path)
    limit = max(max_bytes // YAML_SHARE, 1)
    try:
        text = read_text(path, limit)
    except TooLargeError:
        raise InputError(
            f"an answer sheet is read whole, and this one is more than {limit:,} bytes (1/{YAML_SHARE} of "
            f"the limit of {max_bytes:,} bytes that --max-file-size sets)",
            Location(str(path)),
        ) from None
    return parse_sheet(text, network, str(path), samples)


def parse_sheet(text: str, network: Network, source: str = "<answers>", samples: int = 1) -> Sheet:
    """Validate a whole answer sheet given as YAML text; raise ``InputError`` listing every problem.

    With several samples, z, a and δ are written one row per sample (by position) or one
    list of a value per sample (by name); the gradients, updates and loss are the batch's.
    """
    root = load_yaml(text, source)
    checker = _AnswersChecker(source)
    sheet = checker.sheet(root, network, samples)
    if checker.problems or sheet is None:
        raise InputError(checker.problems or [f"{source}: no answers"])
    return sheet


def _weight_key(text: str) -> tuple[str, str] | None:
    """``w(h1→o1)``, ``w(h1->o1)``, ``h1→o1`` or ``h1->o1`` as (source, neuron); None for anything else."""
    inner = text.strip()
    if inner.startswith("w(") and inner.endswith(")"):
        inner = inner[2:-1]
    parts = re.split(r"\s*(?:→|->)\s*", inner.strip())
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


class _Shape(NamedTuple):
    """What a layer's answers are checked against."""

    layer: str  # the layer's name
    label: str
    neurons: tuple[str, ...]
    below: tuple[str, ...]
    samples: int


class _AnswersChecker(DocumentChecker, SpatialAnswers):
    def sheet(self, root: Node, network: Network, samples: int) -> Sheet | None:
        entries = self.entries(root, ANSWER_KEYS, "the answers file", "")
        if entries is None:
            return None
        loss = self.answer(entries["loss"][1], "loss") if "loss" in entries else None
        conventions = self.conventions(entries["conventions"][1]) if "conventions" in entries else ()
        if "layers" not in entries:
            if loss is None:
                self.error(root, "missing key 'layers' (your z and a values, layer by layer)")
                return None
            layers = [self.layer(None, network, index, samples) for index in range(len(network.layers))]
            return Sheet(tuple(layers), loss, conventions, samples)
        node = entries["layers"][1]
        if not isinstance(node, SeqNode):
            self.error(node, f"layers must be a list, one entry per layer, got {node.kind}")
            return None
        if len(node.items) > len(network.layers):
            self.error(
                node.items[len(network.layers)],
                f"there are {len(node.items)} layers of answers, but the network has {len(network.layers)}",
            )
            return None
        layers = [
            self.layer(node.items[index] if index < len(node.items) else None, network, index, samples)
            for index in range(len(network.layers))
        ]
        return Sheet(tuple(layers), loss, conventions, samples)

    def conventions(self, node: Node) -> tuple[Convention, ...]:
        """``conventions: {error: t-a, batch: sum, loss: half-sse}``, each value checked."""
        entries = self.entries(node, tuple(CONVENTIONS), "conventions", "conventions: ")
        found = []
        for key, (_, value) in (entries or {}).items():
            if key not in CONVENTIONS:
                continue
            text = self.text(value, f"conventions: {key}")
            if text is None:
                continue
            choice = convention_value(key, text)
            if choice is None:
                allowed = CONVENTIONS[key] or tuple(losses.known_names())
                self.error(
                    value,
                    f"conventions: {key}: unknown {key} {text!r}{suggest(text, allowed)} (known: {', '.join(allowed)})",
                )
                continue
            found.append(Convention(key, choice, value.location))
        return tuple(found)

    def layer(self, node: Node | None, network: Network, index: int, samples: int) -> LayerSheet:
        layer = network.layers[index]
        below = tuple(network.inputs) if index == 0 else network.layers[index - 1].neurons
        shape = _Shape(layer.name, network.layer_label(index), tuple(layer.neurons), below, samples)
        n, n_in = layer.n_neurons, layer.n_inputs
        slots: dict[str, list] = {q: [[None] * n for _ in range(samples)] for q in PER_SAMPLE}
        if layer.dense:
            slots.update({q: [[None] * n_in for _ in range(n)] for q in PER_WEIGHT})
            slots.update({q: [None] * n for q in PER_NEURON})
        else:  # a convolution's kernels (out, in, rows, columns) and a bias per out channel; none for the others
            for weights, biases in zip(PER_WEIGHT, PER_NEURON, strict=True):
                slots[weights], slots[biases] = parameter_slots(layer)
        if node is None or left_out(node):
            return _layer_sheet(slots)
        if not isinstance(node, MapNode):
            self.error(
                node, f"{shape.label}: answers must be a mapping such as {{z: [...], a: [...]}}, got {node.kind}"
            )
            return _layer_sheet(slots)
        optimizer: tuple[StateAnswers, ...] = ()
        if "optimizer_state" in node.entries:
            key_node, value = node.entries["optimizer_state"]
            if layer.dense or layer.kind == "conv2d":
                optimizer = self.optimizer_state(value, shape, layer)
            else:
                self.error(
                    key_node,
                    f"{shape.label}: the {layer.kind} layer has no weights or biases, so no values of an "
                    "optimizer's step (optimizer_state is for dense and conv2d layers)",
                )
            rest = MapNode(node.source, node.line, node.column)
            rest.entries.update({k: v for k, v in node.entries.items() if k != "optimizer_state"})
            node = rest
        if not layer.dense:
            self.spatial_layer(node, layer, shape.label, slots)
            return _layer_sheet(slots, optimizer)
        forms = {key: self.form(key, value, layer.neurons) for key, (_, value) in node.entries.items()}
        first = next((form for form in forms.values() if form is not None), None)
        for key, (key_node, value) in node.entries.items():
            form = forms[key]
            if form is None:
                allowed = [*layer.neurons, *([] if isinstance(value, MapNode) else QUANTITIES), "optimizer_state"]
                hint = suggest(key, allowed) or f" (this layer's neurons: {', '.join(layer.neurons)})"
                self.error(key_node, f"{shape.label}: unknown neuron or key {short_text(key)}{hint}")
            elif form != first:
                self.error(
                    key_node,
                    f"{shape.label}: a layer's answers are written either as z/a lists or neuron by neuron, not both",
                )
            elif form == "lists":
                self.quantity(key, value, slots[key], shape)
            else:
                self.neuron(key, value, layer.neurons.index(key), slots, shape)
        return _layer_sheet(slots, optimizer)

    def optimizer_state(self, node: Node, shape: _Shape, layer) -> tuple[StateAnswers, ...]:
        """``optimizer_state: {weights: {exp_avg: ...}, biases: {...}}``, as ``backward``'s JSON writes a
        layer's (its ``name``, where given, must be the layer's); each value shaped or named as the
        weights or biases are (a convolution's as its kernels and a value per out channel, as its
        ``grad_weights`` and ``grad_biases``). Whether the optimizer has such a value is checked when
        it is known."""
        prefix = f"{shape.label}: optimizer_state: "
        entries = self.entries(node, ("name", "weights", "biases"), "optimizer_state", f"{shape.label}: ")
        found = []
        for param, (_, value) in (entries or {}).items():
            if param == "name":
                name = self.text(value, f"{prefix}name")
                if name is not None and name != shape.layer:
                    self.error(value, f"{prefix}name is {name!r}, but this layer is {shape.layer!r}")
                continue
            if param not in ("weights", "biases"):
                continue
            if not isinstance(value, MapNode):
                self.error(value, f"{prefix}{param} must be a mapping such as {{exp_avg: ...}}, got {value.kind}")
                continue
            for key, (key_node, item) in value.entries.items():
                if key not in STATE_KEYS:
                    self.error(key_node, f"{prefix}{param}: unknown key {key!r}{_state_hint(key)}")
                    continue
                what = f"{prefix}{param}: {key}"
                if not layer.dense:  # a convolution's: (out, in, rows, columns) kernels, a value per out channel
                    kernels, channels = parameter_slots(layer)
                    slot = kernels if param == "weights" else channels
                    read = self.kernels if param == "weights" else self.channel_values
                    read(item, layer, what, slot)
                    found.append(StateAnswers(param, key, _frozen(slot), key_node.location))
                    continue
                slot = (
                    [[None] * len(shape.below) for _ in shape.neurons]
                    if param == "weights"
                    else [None] * len(shape.neurons)
                )
                self.quantity(param, item, slot, shape, what)
                found.append(StateAnswers(param, key, _frozen(slot), key_node.location))
        return tuple(found)

    @staticmethod
    def form(key: str, value: Node, neurons: tuple[str, ...]) -> str | None:
        """How one entry of a layer is written: "lists" (``z: [...]``), "neurons" (``h1: {...}``), None: neither.

        The key alone cannot tell when a neuron is called ``z`` or ``a``; the value can: a
        neuron's answers are a mapping, a quantity's a list (or one number, or ~). A quantity
        may be a mapping too, by name (``delta: {o1: 0.1385}``), where no neuron has its name.
        """
        if key in neurons and (isinstance(value, MapNode) or key not in QUANTITIES):
            return "neurons"
        if key in QUANTITIES:
            return "lists"
        return None

    def quantity(self, key: str, node: Node, slot: list, shape: _Shape, what: str | None = None) -> None:
        """A quantity of a layer, by position (shaped as in the network file) or by name (``what``:
        how messages name it, the quantity under the layer by default)."""
        what = f"{shape.label}: {key}" if what is None else what
        if isinstance(node, MapNode):
            for name, (key_node, value) in node.entries.items():
                if key in PER_WEIGHT:
                    pair = self.weight(name, key_node, shape, what)
                    if pair is not None:
                        slot[pair[0]][pair[1]] = self.answer(value, f"{what}: {name}")
                    continue
                if name not in shape.neurons:
                    hint = suggest(name, shape.neurons) or f" (this layer's neurons: {', '.join(shape.neurons)})"
                    self.error(key_node, f"{what}: unknown neuron {name!r}{hint}")
                    continue
                j = shape.neurons.index(name)
                if key in PER_SAMPLE:
                    self.per_sample(value, slot, j, f"{what}: {name}", shape.samples)
                else:
                    slot[j] = self.answer(value, f"{what}: {name}")
            return
        if key in PER_SAMPLE:
            if shape.samples == 1:
                self.vector(node, slot[0], what)
            else:
                self.rows(node, slot, what, "sample", "neuron")
        elif key in PER_NEURON:
            self.vector(node, slot, what)
        else:
            self.weights(node, slot, what, shape)

    def weights(self, node: Node, slot: list, what: str, shape: _Shape) -> None:
        """Weights by position, as the network file writes them: a row per neuron, a flat list
        for a one-neuron layer, one number for one neuron with one input."""
        n, n_in = len(shape.neurons), len(shape.below)
        if isinstance(node, ScalarNode):
            if (n == 1 and n_in == 1) or left_out(node):
                slot[0][0] = self.answer(node, what)
            else:
                self.error(
                    node, f"{what}: one number is for a layer of one neuron with one input; write a row per neuron"
                )
            return
        if isinstance(node, SeqNode) and all(isinstance(item, ScalarNode) for item in node.items):
            if n == 1:
                self.vector(node, slot[0], what, "input")
            else:
                self.error(
                    node,
                    f"{what}: a flat list is for a one-neuron layer, and this layer has {n} neurons: "
                    "write one row per neuron, e.g. [[0.1, 0.2], [0.3, 0.4]]",
                )
            return
        self.rows(node, slot, what, "neuron", "input")

    def rows(self, node: Node, slot: list, what: str, row_word: str, value_word: str) -> None:
        """A list of rows, one per ``row_word``, each of a value per ``value_word``."""
        if not isinstance(node, SeqNode) or not all(isinstance(item, SeqNode) for item in node.items):
            if not isinstance(node, SeqNode):
                kind = node.kind
            elif all(isinstance(item, ScalarNode) for item in node.items):
                kind = "a list of numbers"
            else:
                kind = "numbers and rows mixed"
            self.error(node, f"{what} must be a list of rows, one per {row_word}, got {kind}")
            return
        if len(node.items) != len(slot):
            rows = f"{len(node.items)} row{'s' if len(node.items) != 1 else ''}"
            self.error(node, f"{what} has {rows}, expected {len(slot)} (one per {row_word})")
            return
        for r, (item, row) in enumerate(zip(node.items, slot, strict=True), 1):
            self.vector(item, row, f"{what}, row {r}", value_word)

    def per_sample(self, node: Node, slot: list, j: int, what: str, samples: int) -> None:
        """One neuron's value of a per-sample quantity: a number, or a list of one per sample."""
        if samples == 1:
            slot[0][j] = self.answer(node, what)
            return
        column: list[Slot] = [None] * samples
        self.vector(node, column, what, "sample")
        for s in range(samples):
            slot[s][j] = column[s]

    def weight(self, name: str, node: Node, shape: _Shape, what: str) -> tuple[int, int] | None:
        """(neuron, source) of a weight named ``w(h1→o1)`` or ``h1->o1``; None (reported) if unknown."""
        pair = _weight_key(name)
        if pair is not None and pair[0] in shape.below and pair[1] in shape.neurons:
            return shape.neurons.index(pair[1]), shape.below.index(pair[0])
        names = [f"w({b}→{n})" for n in shape.neurons for b in shape.below]
        hint = (
            suggest(name, names)
            or f" (write w(source→neuron), e.g. {names[0]}, or {shape.below[0]}->{shape.neurons[0]})"
        )
        self.error(node, f"{what}: unknown weight {name!r}{hint}")
        return None

    def neuron(self, key: str, value: Node, j: int, slots: dict[str, list], shape: _Shape) -> None:
        """Neuron ``key``'s answers, ``h1: {z: 0.4, a: 0.6, delta: 0.01}``, into its slots."""
        label = f"{shape.label}: {key}"
        values = self.entries(value, QUANTITIES, f"neuron {key}", f"{label}: ")
        if values is None:
            return
        for quantity, (_, node) in values.items():
            what = f"{label}: {quantity}"
            if quantity in PER_SAMPLE:
                self.per_sample(node, slots[quantity], j, what, shape.samples)
            elif quantity in PER_NEURON:
                slots[quantity][j] = self.answer(node, what)
            elif quantity in PER_WEIGHT:
                self.neuron_weights(node, slots[quantity][j], key, what, shape)

    def neuron_weights(self, node: Node, row: list, neuron: str, what: str, shape: _Shape) -> None:
        """A neuron's incoming weights: a value per source in order, or by source (``h1``, ``w(h1→o1)``)."""
        if not isinstance(node, MapNode):
            self.vector(node, row, what, "input")
            return
        for name, (key_node, value) in node.entries.items():
            pair = _weight_key(name)
            source = pair[0] if pair is not None and pair[1] == neuron else name
            if source not in shape.below:
                names = [*shape.below, *(f"w({b}→{neuron})" for b in shape.below)]
                hint = suggest(name, names) or f" (the sources: {', '.join(shape.below)})"
                self.error(key_node, f"{what}: unknown weight {name!r}{hint}")
                continue
            row[shape.below.index(source)] = self.answer(value, f"{what}: {name}")

    def vector(self, node: Node, slots: list[Answer | None], what: str, per: str = "neuron") -> None:
        if left_out(node):  # ~ for the whole quantity: none of it written
            return
        if isinstance(node, ScalarNode):
            items = [node]
        elif isinstance(node, SeqNode):
            items = node.items
        else:
            self.error(node, f"{what} must be a list of numbers, got {node.kind}")
            return
        if len(items) != len(slots):
            self.error(
                node,
                f"{what} has {len(items)} value{'s' if len(items) != 1 else ''}, expected {len(slots)} "
                f"(one per {per}; write ~ for one you left out)",
            )
            return
        for j, item in enumerate(items):
            slots[j] = self.answer(item, f"{what}, value {j + 1}")

    def answer(self, node: Node, what: str) -> Answer | None:
        if left_out(node):
            return None
        number = self.number(node, what)
        if number is None:
            return None
        return Answer(number[0], number[1], node.location)


def _frozen(value: list) -> tuple:
    return tuple(_frozen(v) if isinstance(v, list) else v for v in value)


def _layer_sheet(slots: dict[str, list], optimizer: tuple[StateAnswers, ...] = ()) -> LayerSheet:
    return LayerSheet(**{q: _frozen(slots[q]) for q in QUANTITIES}, optimizer=optimizer)


def _state_hint(key: str) -> str:
    """``; did you mean 'exp_avg'?``, or what a course's letter is written as, or the names known."""
    close = suggest(key, STATE_KEYS)
    if close:
        return close
    meant = [
        f"{kind}'s {letter} is {name}"
        for kind, letters in LETTERS.items()
        for letter, name in letters.items()
        if name_key(letter) == name_key(key)
    ]
    if meant:
        return f" (named as backward's JSON optimizer_state names them: {'; '.join(meant)})"
    return f" (known: {', '.join(STATE_KEYS)})"


def convention_value(key: str, text: str) -> str | None:
    """A convention's value as nncalc names it: ``t−a`` → ``t-a``, ``Half-SSE`` → ``half_sse``; None if unknown."""
    if CONVENTIONS.get(key) is None:
        return {name_key(n): n for n in losses.known_names()}.get(name_key(text))
    plain = text.strip().lower().replace("−", "-").replace("–", "-").replace(" ", "")
    return plain if plain in (CONVENTIONS[key] or ()) else None
