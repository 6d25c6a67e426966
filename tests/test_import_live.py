"""Importing live models: scikit-learn MLPs, PyTorch Sequentials, Keras chains, the course lab's dict.

Each imported network is written with ``yaml.safe_dump``, read back by the loader, and run
by nncalc's engine; its output must equal the framework's own, computed in float64, to
1e-9 on random inputs. A model nncalc cannot express is refused with one message naming
the layer. The frameworks are optional: their tests skip without them; the lab's always run.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import types
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import yaml

from nncalc.activations import lookup
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.importers import keras as keras_import
from nncalc.importers import lab as lab_import
from nncalc.importers import sklearn as sklearn_import
from nncalc.importers import torch as torch_import
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


# -- no framework is imported with the importers ----------------------------------------------


def test_importers_import_no_framework():
    """``nncalc.importers.torch`` and the rest read models by duck typing: no framework loads with them."""
    code = (
        "import sys, json\n"
        "import nncalc.importers, nncalc.importers.torch, nncalc.importers.keras\n"
        "import nncalc.importers.sklearn, nncalc.importers.lab\n"
        "print(json.dumps(sorted(m for m in ('torch', 'keras', 'sklearn', 'tensorflow', 'jax', 'tf_keras')"
        " if m in sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout) == []


# -- scikit-learn --------------------------------------------------------------------------------


@pytest.fixture
def sklearn_nn():
    """scikit-learn's neural_network module, with brief training's ConvergenceWarning silenced."""
    pytest.importorskip("sklearn")
    from sklearn import neural_network
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield neural_network


def _data(seed: int, n_in: int = 3, n: int = 60) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n_in))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_sklearn_multiclass_equals_predict_proba(sklearn_nn, activation, seed):
    """3-5-4-3 classifier: the softmax output is predict_proba, columns in classes_ order."""
    X = _data(seed)
    y = np.array(["setosa", "versicolor", "virginica"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    model = sklearn_nn.MLPClassifier((5, 4), activation=activation, max_iter=30, random_state=seed).fit(X, y)
    d = sklearn_import.network_dict(model)
    assert [layer["activation"] for layer in d["layers"]] == [
        {"logistic": "sigmoid"}.get(activation, activation)
    ] * 2 + ["softmax"]
    assert d["layers"][-1]["neurons"] == ["setosa", "versicolor", "virginica"]
    x = samples(seed, 3)
    same(run(d, x), model.predict_proba(x))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_sklearn_binary_one_logistic_neuron_is_the_positive_class(sklearn_nn, activation, seed):
    X = _data(seed)
    y = np.where(X[:, 0] + X[:, 2] > 0, "yes", "no")
    model = sklearn_nn.MLPClassifier((5, 4), activation=activation, max_iter=30, random_state=seed).fit(X, y)
    d = sklearn_import.network_dict(model)
    assert d["layers"][-1]["activation"] == "sigmoid"
    assert d["layers"][-1]["neurons"] == ["yes"]  # classes_ is [no, yes]; the neuron gives P(yes)
    x = samples(seed, 3)
    same(run(d, x)[:, 0], model.predict_proba(x)[:, 1])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_sklearn_regressor_equals_predict(sklearn_nn, activation, seed):
    X = _data(seed)
    y = np.column_stack([X[:, 0] * 2 - X[:, 1], np.sin(X[:, 2])])
    model = sklearn_nn.MLPRegressor(
        hidden_layer_sizes=(5, 4), activation=activation, max_iter=30, random_state=seed
    ).fit(X, y)
    d = sklearn_import.network_dict(model)
    assert d["layers"][-1]["activation"] == "identity"
    assert d["layers"][-1]["neurons"] == 2
    x = samples(seed, 3)
    same(run(d, x), model.predict(x))


def test_sklearn_multilabel_outputs_are_logistic_neurons_named_by_label(sklearn_nn):
    X = _data(3)
    y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0]).astype(int)
    model = sklearn_nn.MLPClassifier((4,), max_iter=30, random_state=0).fit(X, y)
    d = sklearn_import.network_dict(model)
    assert d["layers"][-1]["activation"] == "sigmoid"
    assert d["layers"][-1]["neurons"] == ["0", "1", "2"]
    x = samples(3, 3)
    same(run(d, x), model.predict_proba(x))


def test_sklearn_poisson_regressor_uses_exp(sklearn_nn):
    X = _data(4)
    y = np.random.default_rng(4).poisson(np.exp(X[:, 0] / 2))
    model = sklearn_nn.MLPRegressor(hidden_layer_sizes=(5,), loss="poisson", max_iter=30, random_state=0).fit(X, y)
    d = sklearn_import.network_dict(model)
    assert d["layers"][-1]["activation"] == "exp"
    if not HAS_EXP:
        pytest.skip("nncalc has no exp activation yet")
    x = samples(4, 3, scale=1.0)
    same(run(d, x)[:, 0], model.predict(x))


def test_sklearn_weights_read_back_to_the_same_bits(sklearn_nn):
    model = sklearn_nn.MLPRegressor(hidden_layer_sizes=(5, 4), max_iter=30, random_state=0).fit(
        _data(5), _data(6)[:, 0]
    )
    network = load(sklearn_import.network_dict(model))
    for layer, coef, intercept in zip(network.layers, model.coefs_, model.intercepts_, strict=True):
        np.testing.assert_array_equal(layer.weights, coef.T)
        np.testing.assert_array_equal(layer.biases, intercept)


def test_sklearn_feature_names_and_network_name(sklearn_nn):
    polars = pytest.importorskip("polars")
    X = _data(8)
    frame = polars.DataFrame(X, schema=["sepal length", "sepal width", "petal length"])
    model = sklearn_nn.MLPClassifier((4,), max_iter=30, random_state=0).fit(frame, np.arange(60) % 3)
    d = sklearn_import.network_dict(model, name="iris")
    network = load(d)
    assert network.name == "iris"
    assert network.inputs == ("sepal length", "sepal width", "petal length")
    assert network.layers[-1].neurons == ("0", "1", "2")
    assert all(type(n) is str for n in d["inputs"] + d["layers"][-1]["neurons"])


def test_sklearn_refuses_other_models_and_unfitted_ones(sklearn_nn):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(InputError, match=r"^<sklearn>: cannot import: the model is a LogisticRegression"):
        sklearn_import.network_dict(LogisticRegression())
    with pytest.raises(InputError, match="the MLPClassifier is not fitted"):
        sklearn_import.network_dict(sklearn_nn.MLPClassifier())


# -- PyTorch -------------------------------------------------------------------------------------


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _torch_activations(nn):
    """Every activation module the importer takes, with non-default parameters where it has them."""
    return {
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "leaky_relu": lambda: nn.LeakyReLU(0.2),
        "elu": lambda: nn.ELU(alpha=0.7),
        "selu": nn.SELU,
        "gelu": nn.GELU,
        "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
        "softplus": lambda: nn.Softplus(beta=2.0, threshold=5.0),
        "silu": nn.SiLU,
        "mish": nn.Mish,
        "softsign": nn.Softsign,
        "relu6": nn.ReLU6,
        "hard_sigmoid": nn.Hardsigmoid,
        "softmax": lambda: nn.Softmax(dim=-1),
    }


TORCH_ACTIVATIONS = [
    "relu",
    "sigmoid",
    "tanh",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "softplus",
    "silu",
    "mish",
    "softsign",
    "relu6",
    "hard_sigmoid",
    "softmax",
]


def _torch_same(torch, model, d, seed: int, n_in: int) -> None:
    x = samples(seed, n_in)
    with torch.no_grad():
        expected = model.double()(torch.from_numpy(x)).numpy()
    same(run(d, x), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", TORCH_ACTIVATIONS)
def test_torch_mlp_equals_pytorch(torch, activation, seed):
    """3-5-4-2 with the activation after every Linear (and Softmax(dim=1) at the end for classes)."""
    nn = torch.nn
    make = _torch_activations(nn)[activation]
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), make(), nn.Linear(5, 4), make(), nn.Linear(4, 2), nn.Softmax(dim=1))
    model = model.double().eval()
    d = torch_import.network_dict(model)
    _torch_same(torch, model, d, seed, 3)


def test_torch_activation_parameters_are_carried(torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Linear(2, 2), nn.LeakyReLU(0.2), nn.Linear(2, 2), nn.Softplus(beta=2.0, threshold=5.0), nn.Linear(2, 2)
    )
    activations = [layer["activation"] for layer in torch_import.network_dict(model)["layers"]]
    assert activations == [
        {"name": "leaky_relu", "negative_slope": 0.2},
        {"name": "softplus", "beta": 2.0, "threshold": 5.0},
        "identity",
    ]


def test_torch_nested_flatten_dropout_identity_and_no_bias(torch):
    """Nested Sequentials open in place; Flatten first, eval-mode Dropout and Identity do nothing."""
    nn = torch.nn
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(3, 5, bias=False), nn.Dropout(0.5), nn.Tanh()),
        nn.Identity(),
        nn.Sequential(nn.Sequential(nn.Linear(5, 4)), nn.Linear(4, 2)),
    ).double()
    model.eval()
    d = torch_import.network_dict(model)
    assert "biases" not in d["layers"][0]
    assert [layer["activation"] for layer in d["layers"]] == ["tanh", "identity", "identity"]
    _torch_same(torch, model, d, 3, 3)


def test_torch_float32_weights_widen_exactly(torch):
    nn = torch.nn
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    weights = [model[0].weight.detach().numpy().astype(np.float64), model[2].weight.detach().numpy().astype(np.float64)]
    network = load(torch_import.network_dict(model))
    for layer, expected in zip(network.layers, weights, strict=True):
        np.testing.assert_array_equal(layer.weights, expected)
    _torch_same(torch, model, torch_import.network_dict(model), 4, 3)


def test_torch_names_are_carried(torch):
    nn = torch.nn
    model = nn.Sequential(
        OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Sigmoid()), ("out", nn.Linear(3, 1))])
    ).double()
    d = torch_import.network_dict(model, input_names=["age", "dose"], name="dosage")
    network = load(d)
    assert network.name == "dosage"
    assert network.inputs == ("age", "dose")
    assert [layer.name for layer in network.layers] == ["hidden", "out"]
    with pytest.raises(InputError, match="3 input names given, but the model takes 2 inputs"):
        torch_import.network_dict(model, input_names=["a", "b", "c"])


def test_torch_lone_linear_is_one_layer(torch):
    torch.manual_seed(5)
    model = torch.nn.Linear(3, 2).double()
    _torch_same(torch, model, torch_import.network_dict(model), 5, 3)


def _torch_refused(nn):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(4, 4)

        def forward(self, x):
            return x + self.inner(x)

    class ReLU(nn.Module):  # a user's module that shares a name with PyTorch's
        def forward(self, x):
            return x * 2

    train_dropout = nn.Dropout(0.3)
    train_dropout.train()
    return [
        (nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), "layer 1 (BatchNorm1d) is not a layer or an activation"),
        (
            nn.Sequential(nn.Conv2d(1, 1, 3), nn.Linear(3, 4)),
            "layer 0 (Conv2d) is a convolution, and the shape of the model's input",
        ),
        (nn.Sequential(nn.Linear(3, 4), Residual()), "layer 1 (Residual) is not a layer or an activation"),
        (nn.Sequential(nn.Linear(3, 4), ReLU()), "layer 1 (ReLU) is not a layer or an activation"),
        (nn.Sequential(nn.ReLU(), nn.Linear(3, 4)), "layer 0 (ReLU) is an activation with no Linear layer before it"),
        (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh()), "layer 2 (Tanh) is a second activation in a row"),
        (nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.PReLU())), "layer 1.1 (PReLU) is not a layer"),
        (nn.Sequential(nn.Linear(3, 4), train_dropout), "layer 1 (Dropout, p=0.3) is in training mode"),
        (nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0)), "layer 1 (Softmax) is taken over dim=0"),
        (
            nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)),
            "layer 1 (Linear) takes 5 inputs but the layer before gives 4",
        ),
        (nn.Sequential(nn.Linear(3, 4), nn.Flatten()), "layer 1 (Flatten) flattens after a Linear layer"),
        (Residual(), "the model is a Residual"),
        (nn.Sequential(), "the model has no Linear or Conv2d layer"),
    ]


def test_torch_refusals_name_the_module(torch):
    for model, says in _torch_refused(torch.nn):
        with pytest.raises(InputError) as caught:
            torch_import.network_dict(model)
        assert str(caught.value).startswith("<torch>: cannot import: ")
        assert says in str(caught.value)


def test_torch_refusal_names_the_source_given(torch):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    with pytest.raises(InputError) as caught:
        torch_import.network_dict(model, source="model.pt")
    assert str(caught.value) == (
        "model.pt: cannot import: layer 1 (LayerNorm) is not a layer or an activation nncalc knows"
    )


# -- Keras ---------------------------------------------------------------------------------------


@pytest.fixture
def keras(monkeypatch):
    """Keras 3 on the PyTorch backend, computing float64 in float64.

    Keras 3 follows JAX and computes float64 tensors in float32 on every backend but
    TensorFlow's (``BIT64_TO_BIT32_DTYPE``); the comparison to 1e-9 needs the model's own
    float64, so that one promotion rule is switched off for the test, and checked.
    """
    if "KERAS_BACKEND" not in os.environ:  # read once, when Keras is first imported
        monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    dtypes = pytest.importorskip("keras.src.backend.common.dtypes")
    if hasattr(dtypes, "BIT64_TO_BIT32_DTYPE"):
        monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    probe = keras.ops.matmul(np.ones((1, 1)), np.ones((1, 1)))
    if keras.backend.standardize_dtype(probe.dtype) != "float64":
        keras.config.set_floatx(floatx)
        pytest.skip("this Keras computes float64 in float32")
    yield keras
    keras.config.set_floatx(floatx)


def _keras_same(keras, model, d, seed: int, n_in: int = 3) -> None:
    x = samples(seed, n_in)
    out = model(x)  # a backend tensor: PyTorch's here, read as PyTorch reads it
    same(run(d, x), out.detach().cpu().numpy() if hasattr(out, "detach") else keras.ops.convert_to_numpy(out))


KERAS_ACTIVATIONS = [name for name in keras_import.ACTIVATIONS if name != "exponential"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("activation", KERAS_ACTIVATIONS)
def test_keras_dense_activation_equals_keras(keras, activation, seed):
    """3-5-4-2, every Dense with the activation; Keras's own definitions (hard_sigmoid, leaky_relu 0.2)."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(5, activation=activation, bias_initializer="glorot_uniform"),
            layers.Dense(4, activation=activation, bias_initializer="glorot_uniform"),
            layers.Dense(2, activation=activation),
        ]
    )
    d = keras_import.network_dict(model)
    assert d["layers"][0]["activation"] == keras_import.ACTIVATIONS[activation]
    _keras_same(keras, model, d, seed)


def test_keras_exponential_is_exp(keras):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="exponential")])
    d = keras_import.network_dict(model)
    assert d["layers"][0]["activation"] == "exp"
    if not HAS_EXP:
        pytest.skip("nncalc has no exp activation yet")
    _keras_same(keras, model, d, 0, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_keras_activation_layers_fold_into_the_dense_before(keras, seed):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Flatten(),
            layers.Dense(5),
            layers.LeakyReLU(),
            layers.Dense(5),
            layers.ReLU(max_value=6.0),
            layers.Dropout(0.5),
            layers.Dense(5),
            layers.ReLU(negative_slope=0.1),
            layers.Dense(4),
            layers.ELU(alpha=0.5),
            layers.Dense(4),
            layers.Activation("gelu"),
            layers.Dense(4, use_bias=False),
            layers.ReLU(),
            layers.Dense(2),
            layers.Softmax(),
        ]
    )
    d = keras_import.network_dict(model)
    assert [layer["activation"] for layer in d["layers"]] == [
        {"name": "leaky_relu", "negative_slope": 0.3},  # Keras 3's LeakyReLU layer default
        "relu6",
        {"name": "leaky_relu", "negative_slope": 0.1},
        {"name": "elu", "alpha": 0.5},
        "gelu",
        "relu",
        "softmax",
    ]
    assert "biases" not in d["layers"][5]
    _keras_same(keras, model, d, seed)


def test_keras_functional_chain_nested_model_and_names(keras):
    keras.utils.set_random_seed(6)
    layers = keras.layers
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(4, activation="tanh", name="inner")])
    inputs = keras.Input((3,))
    hidden = layers.Dense(4, activation="relu", name="hidden")(inputs)
    unused = layers.Dense(7, name="unused")(hidden)  # a branch that does not reach the output
    assert unused is not None
    outputs = layers.Dense(2, activation="sigmoid", name="out")(inner(hidden))
    model = keras.Model(inputs, outputs)
    d = keras_import.network_dict(model, name="chain", input_names=["a", "b", "c"])
    network = load(d)
    assert network.name == "chain"
    assert network.inputs == ("a", "b", "c")
    assert [layer.name for layer in network.layers] == ["hidden", "inner", "out"]
    _keras_same(keras, model, d, 6)


def test_keras_weights_read_back_to_the_same_bits(keras):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, dtype="float32"), keras.layers.Dense(2)])
    network = load(keras_import.network_dict(model))
    for layer, keras_layer in zip(network.layers, model.layers, strict=True):
        # read straight from the backend's tensors, not through get_weights() as the importer does
        kernel, bias = (v.value.detach().cpu().numpy() for v in (keras_layer.kernel, keras_layer.bias))
        np.testing.assert_array_equal(layer.weights, kernel.astype(np.float64).T)
        np.testing.assert_array_equal(layer.biases, bias.astype(np.float64))


def _keras_refused(keras):
    layers = keras.layers
    inputs = keras.Input((3,))
    hidden = layers.Dense(4, name="h")(inputs)
    added = layers.Add(name="skip")([hidden, layers.Dense(4, name="h2")(hidden)])
    residual = keras.Model(inputs, layers.Dense(1)(added))
    two_in = [keras.Input((2,)), keras.Input((2,))]
    two_inputs = keras.Model(two_in, layers.Dense(1)(layers.Concatenate()(two_in)))

    def chain(*middle):
        return keras.Sequential([keras.Input((3,)), *middle])

    return [
        (
            chain(layers.Dense(4), layers.BatchNormalization(name="bn")),
            "layer 'bn' (BatchNormalization) is not a layer",
        ),
        (residual, "layer 'skip' (Add) takes 2 tensors"),
        (two_inputs, "the model has 2 inputs and 1 outputs"),
        (chain(layers.Dense(4, activation="relu"), layers.ReLU(name="r")), "layer 'r' (ReLU) is a second activation"),
        (chain(layers.ReLU(name="r0"), layers.Dense(4)), "layer 'r0' (ReLU) is an activation with no Dense layer"),
        (chain(layers.Dense(4), layers.ReLU(threshold=1.0, name="t")), "layer 't' (ReLU) has max_value=None"),
        (
            chain(layers.Dense(4, name="c", activation=lambda x: x * 2)),
            "layer 'c' (Dense) uses the activation '<lambda>'",
        ),
        (chain(layers.Dense(4, name="p", activation="hard_silu")), "layer 'p' (Dense) uses the activation 'hard_silu'"),
        (chain(layers.Dense(4), layers.Softmax(axis=0, name="s")), "layer 's' (Softmax) is taken over axis 0"),
        (chain(layers.Dense(4), layers.PReLU(name="pr")), "layer 'pr' (PReLU) is not a layer or an activation"),
        (keras.Sequential([layers.Dense(4, name="lazy")]), "layer 'lazy' (Dense) has no weights yet"),
        (object(), "the model is a object"),
    ]


def test_keras_refusals_name_the_layer(keras):
    for model, says in _keras_refused(keras):
        with pytest.raises(InputError) as caught:
            keras_import.network_dict(model)
        assert str(caught.value).startswith("<keras>: cannot import: ")
        assert says in str(caught.value)


def test_keras_2_hard_sigmoid_is_refused(monkeypatch):
    """Keras 2's hard_sigmoid was 0.2z + 0.5, not PyTorch's z/6 + 1/2: a model from Keras 2 using it is refused.

    Built from stand-ins (the importer reads by duck typing), so no Keras 2 is needed.
    """
    package = types.ModuleType("tf_keras")
    package.__version__ = "2.15.1"
    monkeypatch.setitem(sys.modules, "tf_keras", package)

    def hard_sigmoid(x):
        return np.clip(0.2 * x + 0.5, 0, 1)

    def relu(x):
        return np.maximum(x, 0)

    hard_sigmoid.__module__ = relu.__module__ = "tf_keras.src.activations"
    Dense = type("Dense", (), {"__module__": "tf_keras.src.layers.core.dense"})
    Sequential = type("Sequential", (), {"__module__": "tf_keras.src.engine.sequential"})

    def dense(name, activation):
        layer = Dense()
        layer.name, layer.use_bias, layer.activation = name, True, activation
        layer.get_weights = lambda: [np.ones((2, 1)), np.zeros(1)]
        return layer

    model = Sequential()
    model.layers = [dense("d0", relu)]
    assert keras_import.network_dict(model)["layers"][0]["activation"] == "relu"
    model.layers = [dense("d1", hard_sigmoid)]
    with pytest.raises(InputError, match="layer 'd1' \\(Dense\\) uses Keras 2's hard_sigmoid"):
        keras_import.network_dict(model)
