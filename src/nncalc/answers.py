"""A person's worked answers, read from YAML with every value's text and location kept.

The format (see README.md, "nncalc grade")::

    layers:
      - z: [0.415]          # one value per neuron, in order; ~ leaves one out
        a: [0.6023]
      - {}                  # a layer left out entirely
      - o1: {z: 0.6506, a: 0.7153}   # or neuron by neuron, by name

A layer is written one way or the other, never both. Under a layer, a key whose value is
a mapping is a neuron (so neurons called ``z`` or ``a`` can be answered by name); a list,
a number or ~ is the quantity z or a.

The number text matters: ``0.60`` claims two decimals, ``0.6`` one, and grading uses it.
"""

from __future__ import annotations

from pathlib import Path

from nncalc.errors import InputError, Location
from nncalc.loader import DocumentChecker, suggest
from nncalc.network import Network
from nncalc.records import record
from nncalc.yamlsource import DEFAULT_MAX_BYTES, MapNode, Node, ScalarNode, SeqNode, load_yaml, read_text

ANSWER_KEYS = ("name", "description", "layers")
QUANTITIES = ("z", "a")
MISSING = ("~", "null", "")


@record
class Answer:
    """One value a person wrote: the number, its text as written, and where it is."""

    value: float
    text: str
    location: Location


@record
class LayerAnswers:
    """A layer's answers, one slot per neuron for z and for a (None where left out)."""

    z: tuple[Answer | None, ...]
    a: tuple[Answer | None, ...]


def load_answers(path: str | Path, network: Network, max_bytes: int = DEFAULT_MAX_BYTES) -> list[LayerAnswers]:
    """Read an answers file for ``network``; raise ``InputError`` listing every problem."""
    path = Path(path)
    return parse_answers(read_text(path, max_bytes), network, str(path))


def parse_answers(text: str, network: Network, source: str = "<answers>") -> list[LayerAnswers]:
    """Validate answers given as YAML text against the network's layers and neuron names."""
    network.refuse_spatial("grade")
    root = load_yaml(text, source)
    checker = _AnswersChecker(source)
    layers = checker.answers(root, network)
    if checker.problems or layers is None:
        raise InputError(checker.problems or [f"{source}: no answers"])
    return layers


class _AnswersChecker(DocumentChecker):
    def answers(self, root: Node, network: Network) -> list[LayerAnswers] | None:
        entries = self.entries(root, ANSWER_KEYS, "the answers file", "")
        if entries is None:
            return None
        if "layers" not in entries:
            self.error(root, "missing key 'layers' (your z and a values, layer by layer)")
            return None
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
        result = []
        for index, layer in enumerate(network.layers):
            if index < len(node.items):
                result.append(self.layer(node.items[index], network, index))
            else:
                empty = (None,) * layer.n_neurons
                result.append(LayerAnswers(empty, empty))
        return result

    def layer(self, node: Node, network: Network, index: int) -> LayerAnswers:
        layer = network.layers[index]
        label = network.layer_label(index)
        n = layer.n_neurons
        slots: dict[str, list[Answer | None]] = {q: [None] * n for q in QUANTITIES}
        if isinstance(node, ScalarNode) and node.text in MISSING and not node.quoted:
            return LayerAnswers(tuple(slots["z"]), tuple(slots["a"]))
        if not isinstance(node, MapNode):
            self.error(node, f"{label}: answers must be a mapping such as {{z: [...], a: [...]}}, got {node.kind}")
            return LayerAnswers(tuple(slots["z"]), tuple(slots["a"]))
        forms = {key: self.form(key, value, layer.neurons) for key, (_, value) in node.entries.items()}
        first = next((form for form in forms.values() if form is not None), None)
        for key, (key_node, value) in node.entries.items():
            form = forms[key]
            if form is None:
                allowed = [*layer.neurons] if isinstance(value, MapNode) else [*layer.neurons, *QUANTITIES]
                hint = suggest(key, allowed) or f" (this layer's neurons: {', '.join(layer.neurons)})"
                self.error(key_node, f"{label}: unknown neuron or key {key!r}{hint}")
            elif form != first:
                self.error(
                    key_node,
                    f"{label}: a layer's answers are written either as z/a lists or neuron by neuron, not both",
                )
            elif form == "lists":
                self.vector(value, slots[key], f"{label}: {key}")
            else:
                self.neuron(key, value, layer.neurons.index(key), slots, label)
        return LayerAnswers(tuple(slots["z"]), tuple(slots["a"]))

    @staticmethod
    def form(key: str, value: Node, neurons: tuple[str, ...]) -> str | None:
        """How one entry of a layer is written: "lists" (``z: [...]``), "neurons" (``h1: {...}``), None: neither.

        The key alone cannot tell when a neuron is called ``z`` or ``a``; the value can: a
        neuron's answers are a mapping, a quantity's a list (or one number, or ~).
        """
        if key in neurons and (isinstance(value, MapNode) or key not in QUANTITIES):
            return "neurons"
        if key in QUANTITIES:
            return "lists"
        return None

    def neuron(self, key: str, value: Node, j: int, slots: dict[str, list[Answer | None]], label: str) -> None:
        """Neuron ``key``'s answers, ``h1: {z: 0.4, a: 0.6}``, into slot ``j`` of z and of a."""
        values = self.entries(value, QUANTITIES, f"neuron {key}", f"{label}: {key}: ")
        if values is None:
            return
        for quantity in QUANTITIES:
            if quantity in values:
                slots[quantity][j] = self.answer(values[quantity][1], f"{label}: {key}: {quantity}")

    def vector(self, node: Node, slots: list[Answer | None], what: str) -> None:
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
                "(one per neuron; write ~ for one you left out)",
            )
            return
        for j, item in enumerate(items):
            slots[j] = self.answer(item, f"{what}, value {j + 1}")

    def answer(self, node: Node, what: str) -> Answer | None:
        if isinstance(node, ScalarNode) and not node.quoted and node.text in MISSING:
            return None
        number = self.number(node, what)
        if number is None:
            return None
        return Answer(number[0], number[1], node.location)
