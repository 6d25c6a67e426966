"""Training a network with convolution, pooling and flatten layers over bare arrays.

``train`` makes a spatial network's steps after the first as it makes a dense one's, without
a ``backward`` call at every step; the reference here is what it replaces: ``backward`` called
again and again, each step from the network (and the optimizer's state) the last one returned.
Weights, biases and losses are compared with ``np.array_equal`` and by their bytes, so that
even the sign of a zero must agree; errors must name the step ``backward`` repeated names.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nncalc import backprop
from nncalc.backprop import CHECK_EVERY, BackwardResult, backward, batch_loss, train
from nncalc.errors import ComputationError, InputError
from nncalc.loader import load_network, parse_network
from nncalc.network import Network
from nncalc.optimizers import parse_optimizer
from tests.conftest import CONFIGS

TEXTBOOK = CONFIGS / "conv-textbook.yaml"
IMAGE = np.array([[2, 3, 3, 0, 1, 3, 2, 3, 1, 0, 3, 3, 2, 0, 0, 2, 3, 3, 1, 0, 3, 2, 3, 0, 1]], dtype=np.float64)
EDGE = np.array([[0.0, 1.0]])


def cnn(kind: str, seed: int = 0) -> Network:
    """Small CNNs, each with a feature of its own."""
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> list:
        return rng.normal(scale=0.5, size=shape).round(3).tolist()

    if kind == "avgpool":  # 2×6×6 → conv 3×(3×3) stride 2 padding 1 → avg 2 s1 p1 → flatten → relu → softmax
        shape = [2, 6, 6]
        layers = [
            {"type": "conv2d", "weights": r(3, 2, 3, 3), "biases": r(3), "stride": 2, "padding": 1},
            {"type": "avgpool2d", "kernel_size": 2, "stride": 1, "padding": 1},
            {"type": "flatten"},
            {"weights": r(5, 48), "biases": r(5), "activation": "relu"},
            {"weights": r(3, 5), "biases": r(3), "activation": "softmax"},
        ]
        layers[0]["activation"] = "relu"
    elif kind == "deep":  # 2×6×7 → conv stride (2,1) pad 1 (tanh) → max 2 s1 p1 → avg 2 s2 p1 → flatten → softmax
        shape = [2, 6, 7]
        layers = [
            {"type": "conv2d", "weights": r(3, 2, 3, 2), "biases": r(3), "stride": [2, 1], "padding": 1},
            {"type": "maxpool2d", "kernel_size": 2, "stride": 1, "padding": 1},
            {"type": "avgpool2d", "kernel_size": 2, "stride": 2, "padding": 1},
            {"type": "flatten"},
            {"weights": r(4, 45), "biases": r(4), "activation": "softmax"},
        ]
        layers[0]["activation"] = "tanh"
    elif kind == "two-convs":  # a convolution above a convolution: δ passes back through the moving kernel
        shape = [1, 5, 5]
        layers = [
            {"type": "conv2d", "weights": r(2, 1, 3, 3), "biases": r(2), "padding": 1, "activation": "relu"},
            {"type": "conv2d", "weights": r(3, 2, 2, 2), "biases": r(3), "stride": 2, "activation": "sigmoid"},
            {"type": "flatten"},
            {"weights": r(2, 12), "biases": r(2), "activation": "sigmoid"},
        ]
    elif kind == "pool-first":  # no convolution: max pooling and a flatten before the only weights
        shape = [2, 4, 4]
        layers = [
            {"type": "maxpool2d", "kernel_size": 2, "stride": 1},
            {"type": "flatten"},
            {"weights": r(3, 18), "biases": r(3), "activation": "softmax"},
        ]
    else:  # "ties": integer kernels on integer images, so windows of the max pooling tie
        shape = [1, 5, 5]
        layers = [
            {"type": "conv2d", "weights": [[[[1, 1], [0, 0]]], [[[0, 1], [1, 0]]]], "biases": [0, 1]},
            {"type": "maxpool2d", "kernel_size": 2, "stride": 1},
            {"type": "flatten"},
            {"weights": r(2, 18), "biases": r(2), "activation": "softmax"},
        ]
    return Network.from_dict({"inputs": {"shape": shape}, "layers": layers}, f"<{kind}>")


def images(net: Network, samples: int, integers: bool = False, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if integers:
        return rng.integers(0, 3, size=(samples, net.n_inputs)).astype(np.float64)
    return rng.normal(size=(samples, net.n_inputs))


def one_hot(net: Network, samples: int) -> np.ndarray:
    n = len(net.outputs)
    return np.eye(n)[np.arange(samples) % n]


def case(name: str) -> tuple[Network, np.ndarray, np.ndarray, str]:
    """A network, a batch, its targets and the loss."""
    if name == "textbook":  # conv → relu → max pool → flatten → dense softmax, one image
        return load_network(TEXTBOOK), IMAGE, EDGE, "cross_entropy"
    if name == "two-convs":
        net = cnn(name)
        return net, images(net, 3), np.random.default_rng(2).random((3, 2)), "half_sse"
    net = cnn(name)
    integers = name == "ties"
    return net, images(net, 4, integers), one_hot(net, 4), "cross_entropy"


CASES = ("textbook", "avgpool", "deep", "two-convs", "ties", "pool-first")


def _pair(layer) -> tuple[np.ndarray, np.ndarray]:
    return (layer.weights, layer.biases) if layer.dense else layer.parameter_arrays


def stepwise(net, x, t, loss, lr, iterations, freeze=False, decimals=None, round_z=False, optimizer=None):
    """``backward`` repeated: every step's result, the final network, its loss and the optimizer's state."""
    results, current, state = [], net, None
    for _ in range(iterations):
        results.append(backward(current, x, t, loss, lr, freeze, decimals, round_z, optimizer, state))
        current, state = results[-1].network, results[-1].state
    return results, current, batch_loss(current, x, t, loss, decimals, round_z), state


def stepwise_error(net, x, t, loss, lr, iterations) -> str:
    """The message ``backward`` repeated stops with, named by step as ``train`` names it."""
    current = net
    for index in range(iterations):
        try:
            current = backward(current, x, t, loss, lr).network
        except ComputationError as error:
            return f"step {index + 1}: {error}"
        except InputError as error:
            return f"after {index} step{'' if index == 1 else 's'}: {error}"
    raise AssertionError("no step failed")


def assert_same_run(training, results, final, final_loss, state=None):
    losses = np.array([r.loss for r in results] + [final_loss])
    assert np.array_equal(training.losses, losses) and training.losses.tobytes() == losses.tobytes()
    for mine, theirs in zip(training.network.layers, final.layers, strict=True):
        for got, want in zip(_pair(mine), _pair(theirs), strict=True):
            assert np.array_equal(got, want) and got.tobytes() == want.tobytes()
    assert training.network == final  # names, layouts and every number's text too
    assert training.state == state


# -- every step is backward's, to the bit -----------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_training_is_backward_repeated_bit_for_bit(name):
    """Over more steps than one run of the lean loop, so that its runs join up too."""
    net, x, t, loss = case(name)
    iterations = CHECK_EVERY + 7
    results, final, final_loss, _ = stepwise(net, x, t, loss, 0.05, iterations)
    assert results[-1].loss < results[0].loss  # it learns: the steps are not all alike
    assert_same_run(train(net, x, t, loss, 0.05, iterations), results, final, final_loss)


@pytest.mark.parametrize("name", ["textbook", "avgpool", "two-convs"])
@pytest.mark.parametrize(("freeze", "decimals", "round_z"), [(True, None, False), (False, 3, False), (False, 4, True)])
def test_frozen_biases_and_rounded_values_are_backwards(name, freeze, decimals, round_z):
    net, x, t, loss = case(name)
    iterations = CHECK_EVERY + 3
    results, final, final_loss, _ = stepwise(net, x, t, loss, 0.05, iterations, freeze, decimals, round_z)
    training = train(net, x, t, loss, 0.05, iterations, freeze, decimals=decimals, round_z=round_z)
    assert_same_run(training, results, final, final_loss)


OPTIMIZERS = [
    "{name: sgd, momentum: 0.9, nesterov: true, weight_decay: 0.01}",
    "{name: sgd, momentum: 0.5, dampening: 0.3}",
    "{name: adam, betas: [0.8, 0.99], amsgrad: true}",
    "{name: adamw, weight_decay: 0.05}",
    "{name: rmsprop, centered: true, momentum: 0.9, weight_decay: 0.01}",
    "rmsprop",
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(("name", "freeze", "decimals"), [("deep", False, None), ("two-convs", True, 4)])
def test_training_with_each_optimizer_is_backward_repeated_bit_for_bit(optimizer, name, freeze, decimals):
    net, x, t, loss = case(name)
    bound = parse_optimizer(optimizer)
    iterations = CHECK_EVERY + 3
    results, final, final_loss, state = stepwise(net, x, t, loss, 0.01, iterations, freeze, decimals, False, bound)
    training = train(net, x, t, loss, 0.01, iterations, freeze, decimals=decimals, optimizer=bound)
    assert_same_run(training, results, final, final_loss, state)


def test_one_step_and_no_steps():
    net, x, t, loss = case("deep")
    results, final, final_loss, _ = stepwise(net, x, t, loss, 0.05, 1)
    assert_same_run(train(net, x, t, loss, 0.05, 1), results, final, final_loss)
    assert train(net, x, t, loss, 0.05, 0).network is net


# -- what a step costs: no backward, no Network, unless asked -----------------------------------------


def test_a_spatial_network_trains_without_backward_at_every_step(monkeypatch):
    calls, made = [], []
    original, with_parameters = backprop.backward, Network.with_parameters
    monkeypatch.setattr(backprop, "backward", lambda *args: calls.append(1) or original(*args))
    monkeypatch.setattr(Network, "with_parameters", lambda self, w, b: made.append(1) or with_parameters(self, w, b))
    seen = []
    net, x, t, loss = case("textbook")
    train(net, x, t, loss, 0.01, 300, on_step=lambda i, result: seen.append((i, result.loss)))
    assert [i for i, _ in seen] == list(range(300))
    assert len(calls) == 1  # the first step's, which checks the arguments
    assert len(made) <= 2  # the first step's network and the final one


@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_each_steps_result_is_backwards_when_read(optimizer):
    """on_step gets, for every step, what backward gave: loss, trace, δ, gradients, the updated
    network and the optimizer's state; the last one's network is the one train returns."""
    net, x, t, loss = case("avgpool")
    bound = None if optimizer is None else parse_optimizer(optimizer)
    iterations = CHECK_EVERY + 4
    results, _, _, _ = stepwise(net, x, t, loss, 0.05, iterations, optimizer=bound)
    seen: list[BackwardResult] = []
    training = train(net, x, t, loss, 0.05, iterations, on_step=lambda i, r: seen.append(r), optimizer=bound)
    assert len(seen) == iterations
    for mine, theirs in zip(seen, results, strict=True):
        assert mine == theirs and theirs == mine
        for a, b in zip(mine.layers, theirs.layers, strict=True):
            for field in ("delta", "grad_weights", "grad_biases", "weights", "biases", "upstream"):
                got, want = getattr(a, field), getattr(b, field)
                assert (got is None and want is None) or got.tobytes() == want.tobytes()
    assert seen[-1].network is training.network


# -- errors: the step named is the step where it happened ---------------------------------------------

# a 1×1 image through a 1×1 kernel of one weight, 1×1 max and average poolings and a flatten: a = w·x + b
POINT = """
inputs: {shape: [1, 1, 1]}
layers:
  - {type: conv2d, weights: [[[[WEIGHT]]]], biases: [0], activation: ACTIVATION}
  - {type: maxpool2d, kernel_size: 1}
  - {type: avgpool2d, kernel_size: 1}
  - {type: flatten}
"""


def point(activation: str, weight: float) -> Network:
    return parse_network(POINT.replace("ACTIVATION", activation).replace("WEIGHT", repr(weight)))


def test_a_loss_overflowing_is_found_at_its_step():
    """a = w·1 + b, t = 0, half-SSE, lr 1.25: w and b both move by 1.25·a, so a becomes −1.5·a at
    each step, and ½a² overflows long before a does. The step is worked out with Python's floats."""
    w, b, step = 1.0, 0.0, 1
    while 0.5 * ((w + b) * (w + b)) != math.inf:
        w, b = w - 1.25 * (w + b), b - 1.25 * (w + b)
        step += 1
    assert step > 5 * CHECK_EVERY
    net, x, t = point("identity", 1.0), np.array([[1.0]]), np.array([[0.0]])
    message = f"step {step}: the loss half_sse is not finite (inf or NaN)"
    assert stepwise_error(net, x, t, "half_sse", 1.25, 2 * step) == message
    with pytest.raises(ComputationError) as raised:
        train(net, x, t, "half_sse", 1.25, 2 * step)
    assert str(raised.value) == message


def test_an_overflowing_z_that_its_sigmoid_hides_is_found_at_its_step():
    """A sigmoid convolution, w = 0.5, b = 0, images x = 1 and x = 1e308, both with target 1, lr 2: image 2
    saturates (a = 1 = t, δ = 0) while image 1 pushes w and b up until w·1e308 + b overflows:
    z = inf but a = 1, so only z shows it. The step is worked out with Python's floats."""
    w, b, step = 0.5, 0.0, 1
    while w * 1e308 + b != math.inf:
        a = 1.0 / (1.0 + math.exp(-(w + b)))
        gradient = (a - 1.0) * (a * (1.0 - a)) / 2.0
        w, b = w - 2.0 * gradient, b - 2.0 * gradient
        step += 1
    assert step > CHECK_EVERY + 1  # in the lean loop's second run of steps
    net, x, t = point("sigmoid", 0.5), np.array([[1.0], [1e308]]), np.array([[1.0], [1.0]])
    message = stepwise_error(net, x, t, "half_sse", 2.0, 1000)
    assert message.startswith(f"step {step}: layer 1 ") and "z is an overflow (inf)" in message
    with pytest.raises(ComputationError) as raised:
        train(net, x, t, "half_sse", 2.0, 1000)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("lr", "problem"),
    [
        (0.02, "the loss half_sse is not finite"),
        (0.2, "layer 1 (conv): the gradients overflowed"),
        (0.5, "layer 4 (output), neuron o1, sample 1: z is an overflow"),
    ],
)
def test_a_diverging_textbook_run_names_the_same_step_as_backward_repeated(lr, problem):
    """The textbook CNN with identity activations and half-SSE diverges within a few steps; what
    overflows first depends on the learning rate."""
    text = TEXTBOOK.read_text(encoding="utf-8")
    net = parse_network(text.replace("activation: softmax", "activation: identity").replace("relu", "identity"))
    message = stepwise_error(net, IMAGE, EDGE, "half_sse", lr, 1000)
    assert message.startswith("step ") and problem in message and int(message.split()[1].rstrip(":")) > 2
    with pytest.raises(ComputationError) as raised:
        train(net, IMAGE, EDGE, "half_sse", lr, 1000)
    assert str(raised.value) == message


# -- the command line ---------------------------------------------------------------------------------


def test_backward_with_iterations_on_a_cnn_prints_backwards_losses(nncalc):
    result = nncalc(
        "backward", str(TEXTBOOK), "--inputs", str(CONFIGS / "conv-image.yaml"), "--target", "0,1",
        "--loss", "cross_entropy", "--lr", "0.01", "-n", "300", "-f", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    results, _, final_loss, _ = stepwise(load_network(TEXTBOOK), IMAGE, EDGE, "cross_entropy", 0.01, 300)
    assert json.loads(result.out)["losses"] == [r.loss for r in results] + [final_loss]
