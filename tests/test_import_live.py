"""Importing live models: scikit-learn MLPs, PyTorch Sequentials, Keras chains, the course lab's dict.

Each imported network is written with ``yaml.safe_dump``, read back by the loader, and run
by nncalc's engine; its output must equal the framework's own, computed in float64, to
1e-9 on random inputs. A model nncalc cannot express is refused with one message naming
the layer. The frameworks are optional: their tests skip without them; the lab's always run.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import yaml

from nncalc.activations import lookup
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.importers import lab as lab_import
from nncalc.loader import parse_network

SEEDS = (0, 1, 2)
HAS_EXP = lookup("exp") is not None


def load(d: dict):
    """The network a dict describes, read back as nncalc reads a file."""
    return parse_network(yaml.safe_dump(d, sort_keys=False), "<import>")


def run(d: dict, x: np.ndarray) -> np.ndarray:
    """nncalc's output for the samples ``x`` through the imported network ``d``."""
    return forward(load(d), x).output


def samples(seed: int, n_in: int, scale: float = 3.0) -> np.ndarray:
    """Random inputs wide enough to reach every activation's kinks and saturation."""
    return np.random.default_rng(seed + 100).normal(scale=scale, size=(16, n_in))


def same(ours: np.ndarray, theirs: np.ndarray) -> None:
    np.testing.assert_allclose(ours, np.asarray(theirs, dtype=np.float64), rtol=0, atol=1e-9)


# -- the course lab's dict: no framework needed ----------------------------------------------


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


COURSE_CHAIN = {
    "layer_1": {"node_1": {"weights": [0.15], "bias": [0.4]}},
    "output": {"node_1": {"weights": [0.45], "bias": [0.65]}},
}


def test_lab_course_chain_gives_the_hand_worked_values():
    """x = 0.1: z1 = 0.15 × 0.1 + 0.4 = 0.415, a1 = σ(0.415) = 0.6023; z2 = 0.45 × a1 + 0.65, a2 = 0.7153."""
    trace = forward(load(lab_import.network_dict(COURSE_CHAIN)), np.array([[0.1]]))
    hidden, output = trace.layers[0].a[0, 0], trace.layers[1].a[0, 0]
    assert round(hidden, 4) == 0.6023
    assert round(output, 4) == 0.7153
    assert hidden == pytest.approx(sigma(0.415), abs=1e-15)
    assert output == pytest.approx(sigma(0.45 * sigma(0.415) + 0.65), abs=1e-15)


def test_lab_names_and_sigmoid_everywhere():
    d = lab_import.network_dict(COURSE_CHAIN, name="course lab")
    network = load(d)
    assert network.name == "course lab"
    assert [layer.name for layer in network.layers] == ["layer_1", "output"]
    assert [layer.neurons for layer in network.layers] == [("node_1",), ("node_1",)]
    assert {layer.activation.name for layer in network.layers} == {"sigmoid"}


def _lab_forward(network: dict, inputs: list[float]) -> list[float]:
    """The lab's own forward propagation, as its notebook writes it (node by node)."""
    keys = [*sorted((k for k in network if k != "output"), key=lambda k: int(k.split("_")[1])), "output"]
    values = np.array(inputs)
    for key in keys:
        outputs = []
        for node in network[key].values():
            z = np.sum(values * node["weights"]) + node["bias"]
            outputs.append(1.0 / (1.0 + np.exp(-1 * z)))
        values = np.array(outputs).reshape(-1)
    return values.tolist()


def test_lab_network_made_like_initialize_network_matches_the_labs_forward():
    """The lab's ``initialize_network``: NumPy arrays for weights, a one-element array for each bias."""
    rng = np.random.default_rng(7)
    widths = [5, 3, 2, 3]  # 5 inputs, hidden layers of 3 and 2, 3 outputs
    network = {}
    for index, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        key = "output" if index == len(widths) - 2 else f"layer_{index + 1}"
        network[key] = {
            f"node_{j + 1}": {
                "weights": np.around(rng.uniform(size=n_in), decimals=2),
                "bias": np.around(rng.uniform(size=1), decimals=2),
            }
            for j in range(n_out)
        }
    d = lab_import.network_dict(network)
    assert d["inputs"] == 5
    for seed in SEEDS:
        x = samples(seed, 5)
        expected = [_lab_forward(network, list(row)) for row in x]
        same(run(d, x), expected)


def test_lab_layers_run_in_number_order_and_a_bias_may_be_a_number():
    """layer_10 comes after layer_9 (not after layer_1), whatever order the dict holds them in."""
    network = {"output": {"o": {"weights": [1.0], "bias": 0.0}}}
    for k in range(1, 11):
        network[f"layer_{k}"] = {"n": {"weights": [float(k)], "bias": -1.0}}
    d = lab_import.network_dict(network)
    assert [layer["name"] for layer in d["layers"]] == [f"layer_{k}" for k in range(1, 11)] + ["output"]
    value = 0.5
    for k in range(1, 11):
        value = sigma(k * value - 1.0)
    assert run(d, np.array([[0.5]]))[0, 0] == pytest.approx(sigma(value), abs=1e-15)


@pytest.mark.parametrize(
    ("network", "says"),
    [
        ({"layer_1": {"node_1": {"weights": [0.1], "bias": [0.2]}}}, "no 'output' layer"),
        ({"hidden": {}, "output": {"node_1": {"weights": [0.1], "bias": [0.2]}}}, "unexpected key 'hidden'"),
        (
            {"layer_2": {"n": {"weights": [0.1], "bias": 0.2}}, "output": {"n": {"weights": [0.1], "bias": 0.2}}},
            "'layer_2' comes with no 'layer_1' before it",
        ),
        ({"output": {"node_1": {"weights": [0.1]}}}, "output → node_1 must be {'weights': [...], 'bias': [...]}"),
        ({"output": {"node_1": {"weights": [0.1], "bias": [0.2, 0.3]}}}, "output → node_1 → bias must be one number"),
        ({"output": {"node_1": {"weights": ["0.1"], "bias": [0.2]}}}, "output → node_1 → weights must hold finite"),
        ({"output": {"node_1": {"weights": [], "bias": [0.2]}}}, "output → node_1 → weights is empty"),
        ({"output": []}, "output must be a dict of nodes"),
        (
            {
                "layer_1": {"node_1": {"weights": [0.1, 0.2], "bias": 0}, "node_2": {"weights": [0.1], "bias": 0}},
                "output": {"node_1": {"weights": [0.1, 0.2], "bias": 0}},
            },
            "layer_1 → node_2 → weights has 1 numbers, but the layer takes 2 inputs",
        ),
        (
            {
                "layer_1": {"node_1": {"weights": [0.1, 0.2], "bias": 0}},
                "output": {"node_1": {"weights": [0.1, 0.2], "bias": 0}},
            },
            "output → node_1 → weights has 2 numbers, but the layer takes 1 inputs",
        ),
    ],
)
def test_lab_malformed_dict_says_which_key(network, says):
    with pytest.raises(InputError) as caught:
        lab_import.network_dict(network)
    assert says in str(caught.value)
    assert str(caught.value).startswith("<lab>: lab network: ")
