"""The network writer: dump → parse gives the same network, bit for bit, in the form it was written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from nncalc.loader import load_network, parse_network
from nncalc.network import Network
from nncalc.records import replace
from nncalc.writer import dump_network
from tests.conftest import CONFIGS, DENSE_CONFIGS, NETWORK_CONFIGS

NETWORK_FILES = NETWORK_CONFIGS

# Values whose shortest text is long, tiny, huge, subnormal or signed zero.
SPECIAL = [
    1e-300,
    -0.0,
    0.0,
    123456789.123,
    1 / 3,
    -2 / 3,
    0.1 + 0.2,
    5e-324,
    2.2250738585072014e-308,
    -1.7976931348623157e308,
    1e16,
    1e22,
    -2.5e-08,
    float(np.nextafter(1.0, 2.0)),
]

AWKWARD = [
    "yes",
    "1:30",
    "null",
    "h#1",
    "a: b",
    "[x]",
    " lead",
    "σ1",
    "trail ",
    "No",
    "~",
    "0x1F",
    "1e3",
    ".5",
    "-",
    "- a",
    "#",
    "'q'",
    '"dq"',
    "back\\slash",
    "a, b",
    "{x}",
    "&anchor",
    "*alias",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "|",
    ">",
    "? q",
    "<<",
    "=",
    "2001-12-14",
    "ON",
    "tab\there",
    "x\u2028y",
    "nel\x85",
    "😀",
    "Σ",
]


def _round_trip(network: Network) -> tuple[str, Network]:
    text = dump_network(network)
    return text, parse_network(text, "<dumped>")


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as float64 bit patterns: -0.0 differs from 0.0, unlike ==."""
    assert a.dtype == np.float64 and b.dtype == np.float64
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def _activation(activation) -> tuple[str, dict] | None:
    return None if activation is None else (activation.name, dict(activation.params))


def assert_same_network(got: Network, want: Network, layouts: bool = True) -> None:
    assert got.name == want.name
    assert got.description == want.description
    assert got.inputs == want.inputs
    assert got.inputs_given_as_names == want.inputs_given_as_names
    assert _activation(got.activation) == _activation(want.activation)
    assert len(got.layers) == len(want.layers)
    assert got.input_shape == want.input_shape
    for mine, theirs in zip(got.layers, want.layers, strict=True):
        assert mine.name == theirs.name
        assert mine.neurons == theirs.neurons
        if not theirs.dense:  # a spatial layer: its type, shapes, parameters and how it was written
            assert (mine.kind, mine.input_shape, mine.output_shape) == (
                theirs.kind,
                theirs.input_shape,
                theirs.output_shape,
            )
            assert _activation(mine.activation) == _activation(theirs.activation)
            for key in ("weights", "biases"):
                if hasattr(theirs, key):
                    assert _same_bits(getattr(mine, key), getattr(theirs, key)), key
            for key in ("stride", "padding", "kernel_size"):
                assert getattr(mine, key, None) == getattr(theirs, key, None), key
            if layouts:
                assert mine.layout == theirs.layout
            continue
        assert _activation(mine.activation) == _activation(theirs.activation)
        assert np.array_equal(mine.weights, theirs.weights)
        assert np.array_equal(mine.biases, theirs.biases)
        assert _same_bits(mine.weights, theirs.weights), (mine.weights, theirs.weights)
        assert _same_bits(mine.biases, theirs.biases), (mine.biases, theirs.biases)
        if layouts:
            assert mine.layout == theirs.layout


def _kind(value) -> str:
    """How a value is written, as YAML reads it: a scalar, a flat list, rows, mappings, a mapping."""
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        if all(isinstance(item, list) for item in value):
            return "rows"
        if all(isinstance(item, dict) for item in value):
            return "mappings"
        return "list"
    return "scalar"


# -- the example files ---------------------------------------------------------------------


def test_there_are_example_files():
    assert len(NETWORK_FILES) >= 5


@pytest.mark.parametrize("path", NETWORK_FILES, ids=lambda p: p.name)
def test_example_file_round_trip(path):
    """Every example reads back as the same network, and writing it again gives the same text."""
    network = load_network(path)
    text, again = _round_trip(network)
    assert text.startswith("# ")
    assert_same_network(again, network)
    assert dump_network(again) == text


@pytest.mark.parametrize("path", NETWORK_FILES, ids=lambda p: p.name)
def test_example_file_keeps_its_form(path):
    """Same keys, each written the same way (count or names, scalar, flat, rows, per neuron, kernel)."""
    original = yaml.safe_load(path.read_text(encoding="utf-8"))
    written = yaml.safe_load(dump_network(load_network(path)))
    assert set(written) == set(original)
    for key in original:
        if key != "layers":
            assert _kind(written[key]) == _kind(original[key]), key
    assert written["inputs"] == original["inputs"]
    for mine, theirs in zip(written["layers"], original["layers"], strict=True):
        per_neuron = _kind(theirs.get("neurons")) == "mappings"
        extra = {"activation"} if per_neuron else set()  # see test_per_neuron_layer_without_activation
        assert set(theirs) <= set(mine) <= set(theirs) | extra
        for key in theirs:
            assert _kind(mine[key]) == _kind(theirs[key]), key
        if "name" in theirs:
            assert mine["name"] == theirs["name"]
        if "neurons" in theirs and not per_neuron:
            assert mine["neurons"] == theirs["neurons"]
        if per_neuron:
            assert [n["name"] for n in mine["neurons"]] == [n["name"] for n in theirs["neurons"] if "name" in n]


def test_per_neuron_layer_without_activation():
    written = yaml.safe_load(dump_network(load_network(CONFIGS / "per-neuron.yaml")))
    assert "activation" not in written["layers"][0]


def test_layout_by_hand_exact():
    """A network read from a file is written back line by line as README.md lays it out."""
    source = """\
name: Two by two
description: A small network
inputs: [i1, i2]
activation: tanh
layers:
  - name: hidden
    neurons: [h1, h2]
    weights:
      - [0.15, 0.20]
      - [1/4, 3e-1]
    biases: 0.35
  - neurons: 1
    weights: [0.40, -.5]
    activation: {name: leaky_relu, negative_slope: 0.2}
  - kernel:
      - [1, 2]
    biases: [0, 1e-5]
    activation: relu
  - weights: [[2, 3]]
  - weights: 2
"""
    expected = """\
name: Two by two
description: A small network
inputs: [i1, i2]
activation: tanh
layers:
  - name: hidden
    neurons: [h1, h2]
    weights:
      - [0.15, 0.2]
      - [0.25, 0.3]
    biases: 0.35
  - neurons: 1
    weights: [0.4, -0.5]
    activation: {name: leaky_relu, negative_slope: 0.2}
  - kernel:
      - [1.0, 2.0]
    biases: [0.0, 1.0e-05]
    activation: relu
  - weights:
      - [2.0, 3.0]
  - weights: 2.0
"""
    text = dump_network(parse_network(source))
    header, _, body = text.partition("\n")
    assert header.startswith("#")
    assert body == expected


# -- new parameters ------------------------------------------------------------------------


def _random_parameters(network: Network, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random weights and biases of every scale, with the special values put in at random places."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for layer in network.layers:
        w = rng.normal(size=layer.weights.shape) * 10.0 ** rng.uniform(-8, 8, size=layer.weights.shape)
        b = rng.normal(size=layer.biases.shape) * 10.0 ** rng.uniform(-8, 8, size=layer.biases.shape)
        weights.append(w)
        biases.append(b)
    slots = [
        (kind, i, index)
        for i, (w, b) in enumerate(zip(weights, biases, strict=True))
        for kind, array in (("w", w), ("b", b))
        for index in np.ndindex(array.shape)
    ]
    for value, slot in zip(SPECIAL, rng.permutation(len(slots)), strict=False):
        kind, i, index = slots[slot]
        (weights if kind == "w" else biases)[i][index] = value
    return weights, biases


def _expected_bias_form(original: str, biases: np.ndarray) -> str:
    """The brief's rule: keep the form while it holds the values, else the smallest that does."""
    texts = {repr(float(b)) for b in biases}
    if original in ("list", "neurons"):
        return original
    if original == "absent" and texts == {"0.0"}:
        return "absent"
    return "scalar" if len(texts) == 1 else "list"


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("path", DENSE_CONFIGS, ids=lambda p: p.name)
def test_random_parameters_round_trip(path, seed):
    """After with_parameters, every float comes back bit for bit and each layer keeps its form."""
    original = load_network(path)
    weights, biases = _random_parameters(original, seed)
    network = original.with_parameters(weights, biases)
    text, again = _round_trip(network)
    assert_same_network(again, network, layouts=False)
    for i, (mine, theirs) in enumerate(zip(again.layers, network.layers, strict=True)):
        assert _same_bits(mine.weights, np.asarray(weights[i], dtype=np.float64))
        assert _same_bits(mine.biases, np.asarray(biases[i], dtype=np.float64))
        assert replace(mine.layout, biases="?") == replace(theirs.layout, biases="?")
        assert mine.layout.biases == _expected_bias_form(theirs.layout.biases, biases[i])
    assert dump_network(again) == text


@pytest.mark.parametrize("value", SPECIAL, ids=repr)
@pytest.mark.parametrize("path", DENSE_CONFIGS, ids=lambda p: p.name)
def test_special_value_everywhere(path, value):
    """A value written everywhere (scalar, flat, rows, kernel, per neuron, shared bias) reads back exactly."""
    original = load_network(path)
    network = original.with_parameters(
        [np.full(layer.weights.shape, value) for layer in original.layers],
        [np.full(layer.biases.shape, value) for layer in original.layers],
    )
    _, again = _round_trip(network)
    assert_same_network(again, network, layouts=False)
    for mine, theirs in zip(again.layers, original.layers, strict=True):
        assert np.signbit(mine.weights).all() == np.signbit(value)
        assert mine.layout.weights == theirs.layout.weights
        assert mine.layout.biases == _expected_bias_form(theirs.layout.biases, np.full(3, value))


def test_special_values_are_written_as_their_shortest_text():
    network = load_network(CONFIGS / "keras-kernel.yaml")
    w = [np.array([[1e-300, -0.0, 1 / 3], [123456789.123, 5e-324, 1e22]]).T, np.zeros((3, 2))]
    b = [np.array([-0.0, 1e-05]), np.array([0.1, 0.2, 0.30000000000000004])]
    written = dump_network(network.with_parameters([w[0].T, w[1]], b))
    assert "- [1.0e-300, 123456789.123]" in written
    assert "- [-0.0, 5.0e-324]" in written
    assert "- [0.3333333333333333, 1.0e+22]" in written
    assert "biases: [-0.0, 1.0e-05]" in written
    assert "biases: [0.1, 0.2, 0.30000000000000004]" in written


def test_kernel_is_written_in_keras_orientation():
    """kernel rows are the inputs: the transpose of the weights the network holds."""
    network = load_network(CONFIGS / "keras-kernel.yaml")
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=layer.weights.shape) for layer in network.layers]
    biases = [layer.biases for layer in network.layers]
    written = yaml.safe_load(dump_network(network.with_parameters(weights, biases)))
    assert written["layers"][0]["kernel"] == weights[0].T.tolist()
    assert len(written["layers"][0]["kernel"]) == 3  # one row per input x1, x2, x3
    assert written["layers"][1]["weights"] == weights[1].tolist()


def test_per_neuron_layers_stay_per_neuron():
    network = load_network(CONFIGS / "per-neuron.yaml")
    weights = [np.array([[1.5, -2.0], [0.0, 1e-3]]), np.array([[3.0, 4.0], [5.0, 6.0]])]
    biases = [np.array([0.25, -0.25]), np.array([7.0, 7.0])]
    written = yaml.safe_load(dump_network(network.with_parameters(weights, biases)))
    assert written["layers"][0]["neurons"] == [
        {"name": "h1", "weights": [1.5, -2.0], "bias": 0.25},
        {"name": "h2", "weights": [0.0, 0.001], "bias": -0.25},
    ]
    assert written["layers"][1]["neurons"] == [
        {"name": "o1", "weights": [3.0, 4.0], "bias": 7.0},
        {"name": "o2", "weights": [5.0, 6.0], "bias": 7.0},
    ]
    assert not {"weights", "kernel", "biases"} & set(written["layers"][0])


# -- biases that no longer fit their form --------------------------------------------------


def test_shared_bias_falls_back_to_a_list():
    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    assert [layer.layout.biases for layer in network.layers] == ["scalar", "scalar"]
    weights = [layer.weights for layer in network.layers]
    text, again = _round_trip(network.with_parameters(weights, [np.array([0.1, 0.2]), np.array([0.3, 0.3])]))
    written = yaml.safe_load(text)
    assert written["layers"][0]["biases"] == [0.1, 0.2]
    assert written["layers"][1]["biases"] == 0.3
    assert [layer.layout.biases for layer in again.layers] == ["list", "scalar"]
    assert again.layers[0].biases.tolist() == [0.1, 0.2]
    assert again.layers[1].biases.tolist() == [0.3, 0.3]


ABSENT_BIASES = "inputs: 2\nlayers:\n  - weights: [[1, 2], [3, 4]]\n  - weights: [5, 6]\n"


@pytest.mark.parametrize(
    ("first", "form", "line"),
    [
        ([0.0, 0.0], "absent", None),
        ([0.5, 0.5], "scalar", "    biases: 0.5"),
        ([0.5, -1.0], "list", "    biases: [0.5, -1.0]"),
        ([-0.0, -0.0], "scalar", "    biases: -0.0"),  # -0.0 is not what an absent bias reads back as
        ([0.0, -0.0], "list", "    biases: [0.0, -0.0]"),
        ([1e-300, 0.0], "list", "    biases: [1.0e-300, 0.0]"),
    ],
)
def test_absent_biases(first, form, line):
    network = parse_network(ABSENT_BIASES)
    assert [layer.layout.biases for layer in network.layers] == ["absent", "absent"]
    weights = [layer.weights for layer in network.layers]
    changed = network.with_parameters(weights, [np.array(first), np.array([0.0])])
    text, again = _round_trip(changed)
    bias_lines = [text_line for text_line in text.splitlines() if "biases" in text_line]
    assert bias_lines == ([] if line is None else [line])
    assert again.layers[0].layout.biases == form
    assert again.layers[1].layout.biases == "absent"
    assert _same_bits(again.layers[0].biases, np.array(first, dtype=np.float64))
    assert np.signbit(again.layers[0].biases).tolist() == np.signbit(first).tolist()


def test_absent_bias_of_one_neuron_becomes_a_number():
    network = parse_network(ABSENT_BIASES)
    weights = [layer.weights for layer in network.layers]
    text, again = _round_trip(network.with_parameters(weights, [np.zeros(2), np.array([2.5])]))
    assert yaml.safe_load(text)["layers"][1]["biases"] == 2.5
    assert again.layers[1].biases.tolist() == [2.5]


# -- names and text ------------------------------------------------------------------------


DESCRIPTION = "two lines:\n  # not a comment, 'quotes' \"too\"\t"


def _quote(text: str) -> str:
    """A YAML double-quoted scalar, escaped as JSON escapes it except characters beyond U+FFFF.

    YAML's \\u escapes are code points, so JSON's surrogate pairs for them are invalid YAML.
    """
    return '"' + "".join(c if ord(c) > 0xFFFF else json.dumps(c)[1:-1] for c in text) + '"'


def _awkward_network() -> str:
    def q(value) -> str:
        return _quote(value) if isinstance(value, str) else "[" + ", ".join(map(q, value)) + "]"

    per_neuron = "\n".join(
        f"      - {{name: {q(name)}, weights: [{i}, 1], bias: 0.5}}" for i, name in enumerate(AWKWARD[:6])
    )
    return f"""\
name: {q(AWKWARD[0])}
description: {q(DESCRIPTION)}
inputs: {q(AWKWARD)}
layers:
  - name: {q("null")}
    neurons: {q(AWKWARD[6:8])}
    weights: {json.dumps([[1] * len(AWKWARD)] * 2)}
  - name: {q("1:30")}
    neurons:
{per_neuron}
  - name: {q(" lead")}
    neurons: [{q("σ1")}]
    weights: [1, 2, 3, 4, 5, 6]
"""


def test_awkward_names_survive():
    """Names YAML might read as something else come back as the same text, for nncalc and for PyYAML."""
    network = parse_network(_awkward_network())
    assert network.inputs == tuple(AWKWARD)  # the loader read them as given
    text, again = _round_trip(network)
    assert_same_network(again, network)
    assert again.name == "yes"
    assert again.description == DESCRIPTION
    assert [layer.name for layer in again.layers] == ["null", "1:30", " lead"]
    assert again.layers[0].neurons == (" lead", "σ1")
    assert again.layers[1].neurons == tuple(AWKWARD[:6])
    assert again.layers[2].neurons == ("σ1",)

    # PyYAML's YAML 1.1 resolver sees the same strings: nothing becomes a bool, a number or null.
    written = yaml.safe_load(text)
    assert written["name"] == "yes"
    assert written["inputs"] == AWKWARD
    assert [layer["name"] for layer in written["layers"]] == ["null", "1:30", " lead"]
    assert [n["name"] for n in written["layers"][1]["neurons"]] == AWKWARD[:6]
    assert dump_network(again) == text


@pytest.mark.parametrize("name", AWKWARD, ids=repr)
def test_each_awkward_name_as_network_and_layer_name(name):
    quoted = _quote(name)
    network = parse_network(f"name: {quoted}\ninputs: 1\nlayers:\n  - name: {quoted}\n    weights: 1\n")
    text, again = _round_trip(network)
    assert again.name == name
    assert again.layers[0].name == name
    assert yaml.safe_load(text)["name"] == name


@pytest.mark.parametrize("char", ["\u200b", "\u200f", "\u202a", "\u202e", "\u2060", "\u2069", "\ufeff", "\x9b", "\x1b"])
def test_reordering_and_control_characters_are_written_as_escapes(char):
    """What a terminal would obey or reorder (``import`` prints the file) is an escape, read back the same."""
    from nncalc.text import visible

    name = f"h{char}1"
    network = parse_network(f"inputs: 1\nlayers:\n  - name: {_quote(name)}\n    weights: 1\n")
    text, again = _round_trip(network)
    assert all(visible(line) == line for line in text.splitlines())  # nothing for visible() to replace
    assert again.layers[0].name == name
    assert yaml.safe_load(text)["layers"][0]["name"] == name


@pytest.mark.parametrize("name", ["h1", "Classic 2-2-2 sigmoid network", "x_1.b", "σ1", "hidden layer"])
def test_plain_names_stay_plain(name):
    text = dump_network(parse_network(f"name: {name}\ninputs: 1\nlayers:\n  - weights: 1\n"))
    assert f"\nname: {name}\n" in text


def test_names_need_no_quotes_for_yaml_1_1_words_in_other_case():
    for word in ["Yes", "NO", "off", "On", "TRUE", "Null", "y", "N"]:
        text = dump_network(parse_network(f"name: {_quote(word)}\ninputs: 1\nlayers:\n  - weights: 1\n"))
        assert yaml.safe_load(text)["name"] == word


def test_neuron_name_starting_with_hash():
    network = parse_network('inputs: 2\nlayers:\n  - neurons: ["#a", b]\n    weights: [[1, 2], [3, 4]]\n')
    _, again = _round_trip(network)
    assert again.layers[0].neurons == ("#a", "b")


# -- activations ---------------------------------------------------------------------------


def test_activations_with_parameters():
    source = """\
inputs: 1
activation: {name: leaky_relu, negative_slope: 0.2}
layers:
  - weights: 1
  - weights: 1
    activation: {name: gelu, approximate: tanh}
  - weights: 1
    activation: {name: softplus, beta: 2, threshold: 1/3}
  - weights: 1
    activation: {name: elu, alpha: 1.0}
  - weights: 1
    activation: linear
  - weights: 1
    activation: {name: step, at_zero: -0.0}
  - weights: 1
    activation: {name: leaky_relu}
"""
    network = parse_network(source)
    text, again = _round_trip(network)
    assert_same_network(again, network)
    written = yaml.safe_load(text)
    assert written["activation"] == {"name": "leaky_relu", "negative_slope": 0.2}
    assert [layer.get("activation") for layer in written["layers"]] == [
        None,
        {"name": "gelu", "approximate": "tanh"},
        {"name": "softplus", "beta": 2.0, "threshold": 1 / 3},
        "elu",
        "identity",
        {"name": "step", "at_zero": -0.0},
        "leaky_relu",
    ]
    assert again.layers[0].activation.params["negative_slope"] == 0.2
    assert not again.layers[0].layout.activation_given
    assert np.signbit(again.layers[5].activation.params["at_zero"])
    assert again.layers[6].activation.params["negative_slope"] == 0.01


def test_no_network_activation_is_invented():
    network = load_network(CONFIGS / "course-note.yaml")
    assert network.activation is None
    written = yaml.safe_load(dump_network(network))
    assert "activation" not in written
    assert all("activation" not in layer for layer in written["layers"])


# -- what cannot be written ----------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(value):
    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    weights = [layer.weights.copy() for layer in network.layers]
    weights[1][0, 1] = value
    with pytest.raises(ValueError, match="finite"):
        dump_network(network.with_parameters(weights, [layer.biases for layer in network.layers]))
