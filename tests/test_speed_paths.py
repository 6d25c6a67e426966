"""The fast paths give the slow paths' results, bit for bit.

``train`` makes its steps over bare arrays instead of calling ``backward`` at every step; the
reference here is the definition it replaces: ``backward`` called again and again, each step
starting from the network the last one returned, with its errors named by step. Arrays are
compared by their bytes, so that even the sign of a zero must agree.
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
from tests.conftest import CONFIGS

CLASSIC_X = np.array([[0.05, 0.10]])
CLASSIC_T = np.array([[0.01, 0.99]])


def stepwise(network, x, t, loss, lr, iterations, freeze_biases=False, decimals=None, round_z=False):
    """``backward`` repeated: every step's result, and the final network's loss."""
    results, current = [], network
    for _ in range(iterations):
        results.append(backward(current, x, t, loss, lr, freeze_biases, decimals, round_z))
        current = results[-1].network
    return results, batch_loss(current, x, t, loss, decimals, round_z)


def stepwise_error(network, x, t, loss, lr, iterations, freeze_biases=False) -> str:
    """The message of the error ``backward`` repeated stops with, named by step as ``train`` names it."""
    current = network
    for index in range(iterations):
        try:
            current = backward(current, x, t, loss, lr, freeze_biases).network
        except ComputationError as error:
            return f"step {index + 1}: {error}"
        except InputError as error:
            return f"after {index} step{'' if index == 1 else 's'}: {error}"
    raise AssertionError("no step failed")


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def assert_same_run(training, results, final_loss):
    losses = np.array([r.loss for r in results] + [final_loss])
    assert same_bits(training.losses, losses)
    expected = results[-1].network
    for mine, theirs in zip(training.network.layers, expected.layers, strict=True):
        assert same_bits(mine.weights, theirs.weights)
        assert same_bits(mine.biases, theirs.biases)
    assert training.network == expected  # names, activations and every number's text too


def network(text: str) -> Network:
    return parse_network(text)


RELU_SOFTMAX = """
inputs: 3
layers:
  - name: hidden
    weights: [[0.2, -0.5, 0.1], [-0.3, 0.4, -0.2], [0.0, 0.3, 0.6], [0.5, -0.1, -0.4]]
    biases: [0.1, -0.2, 0.0, 0.05]
    activation: relu
  - weights: [[0.3, -0.2, 0.5, 0.1], [-0.4, 0.6, 0.2, -0.3], [0.1, 0.1, -0.5, 0.4]]
    biases: [0.0, 0.1, -0.1]
    activation: softmax
"""

SOFTMAX_HIDDEN = """
inputs: 2
layers:
  - name: hidden
    weights: [[0.4, -0.6], [0.3, 0.8], [-0.5, 0.2]]
    biases: [0.1, 0.0, -0.1]
    activation: softmax
  - weights: [[0.7, -0.2, 0.4], [0.1, 0.5, -0.6]]
    biases: [0.2, -0.3]
    activation: sigmoid
"""

BATCH3 = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7], [1.5, 1.0, 0.2]])
ONE_HOT3 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


CASES = {
    "classic, half-SSE": (lambda: load_network(CONFIGS / "classic-2-2-2.yaml"), CLASSIC_X, CLASSIC_T, "half_sse", {}),
    "classic, biases frozen": (
        lambda: load_network(CONFIGS / "classic-2-2-2.yaml"),
        CLASSIC_X,
        CLASSIC_T,
        "half_sse",
        {"freeze_biases": True},
    ),
    "classic, 4 decimals": (
        lambda: load_network(CONFIGS / "classic-2-2-2.yaml"),
        CLASSIC_X,
        CLASSIC_T,
        "half_sse",
        {"decimals": 4},
    ),
    "classic, 3 decimals, z rounded, biases frozen": (
        lambda: load_network(CONFIGS / "classic-2-2-2.yaml"),
        CLASSIC_X,
        CLASSIC_T,
        "half_sse",
        {"decimals": 3, "round_z": True, "freeze_biases": True},
    ),
    "relu and softmax, cross-entropy, 3 samples": (
        lambda: network(RELU_SOFTMAX),
        BATCH3,
        ONE_HOT3,
        "cross_entropy",
        {},
    ),
    "relu and softmax, MSE": (lambda: network(RELU_SOFTMAX), BATCH3, ONE_HOT3, "mse", {}),
    "softmax hidden, sigmoid output, BCE, 2 samples": (
        lambda: network(SOFTMAX_HIDDEN),
        np.array([[0.5, -0.5], [1.0, 2.0]]),
        np.array([[1.0, 0.0], [0.25, 0.75]]),
        "bce",
        {},
    ),
    "softmax hidden, half-SSE, 2 decimals": (
        lambda: network(SOFTMAX_HIDDEN),
        np.array([[0.5, -0.5]]),
        np.array([[0.2, 0.9]]),
        "half_sse",
        {"decimals": 2},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_train_is_backward_repeated_bit_for_bit(case):
    """Over more steps than one run of the lean loop (CHECK_EVERY), so that its runs join up too."""
    make, x, t, loss, options = CASES[case]
    net = make()
    iterations = 2 * CHECK_EVERY + 5
    results, final_loss = stepwise(net, x, t, loss, 0.5, iterations, **options)
    assert_same_run(train(net, x, t, loss, 0.5, iterations, **options), results, final_loss)


def test_every_length_of_run_from_1_to_50_steps():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    for freeze in (False, True):
        results, _ = stepwise(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 50, freeze_biases=freeze)
        for iterations in range(1, 51):
            final_loss = batch_loss(results[iterations - 1].network, CLASSIC_X, CLASSIC_T)
            training = train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, iterations, freeze_biases=freeze)
            assert_same_run(training, results[:iterations], final_loss)


def test_relu_gives_negative_zeros_and_they_are_kept():
    """A dead ReLU's δ is g·0, −0 wherever g < 0; the bias gradient is a sum over the batch, which
    starts from +0, so a bias of −0 stays −0 (−0 − lr·(+0)); were the −0 of δ taken as the sum,
    it would become +0 (−0 − lr·(−0)). Hidden neuron 2 is dead for this sample and its bias −0."""
    net = network(RELU_SOFTMAX.replace("biases: [0.1, -0.2, 0.0, 0.05]", "biases: [0.1, -0.0, 0.0, 0.05]"))
    x, t = BATCH3[:1], ONE_HOT3[1:2]
    results, final_loss = stepwise(net, x, t, "cross_entropy", 0.5, 20)
    assert any(np.signbit(r.layers[0].delta[0, 1]) for r in results)
    assert np.signbit(results[-1].network.layers[0].biases[1])
    assert_same_run(train(net, x, t, "cross_entropy", 0.5, 20), results, final_loss)


def test_more_rows_than_one_block():
    """1,030 samples: the products run through engine.linear's full blocks and its padded rest."""
    rng = np.random.default_rng(5)
    net = network(SOFTMAX_HIDDEN)
    x = rng.normal(size=(1030, 2))
    t = rng.random((1030, 2))
    results, final_loss = stepwise(net, x, t, "mse", 0.5, 4)
    assert_same_run(train(net, x, t, "mse", 0.5, 4), results, final_loss)


# -- what a step costs: no Network, no backward, no BackwardResult unless asked -------------------


def test_training_makes_the_network_once_not_at_every_step(monkeypatch):
    """Making a Network writes the text of every weight: 1,000 steps must not make 1,000 of them."""
    made = []
    original = Network.with_parameters
    monkeypatch.setattr(Network, "with_parameters", lambda self, w, b: made.append(1) or original(self, w, b))
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 1000)
    assert len(made) <= 2  # the first step's (it checks the arguments) and the final network


def test_a_progress_callback_that_reads_only_the_step_number_costs_no_backward(monkeypatch):
    calls = []
    original = backprop.backward
    monkeypatch.setattr(backprop, "backward", lambda *args: calls.append(1) or original(*args))
    seen = []
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 300, on_step=lambda i, result: seen.append(i))
    assert seen == list(range(300))
    assert len(calls) == 1


def test_each_steps_result_is_backwards_when_read():
    """on_step gets, for every step, what backward gave at that step: loss, trace, δ, f′(z), gradients,
    the updated network; the last one's network is the one train returns."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    iterations = CHECK_EVERY + 10
    results, _ = stepwise(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, iterations, freeze_biases=True)
    seen: list[tuple[int, BackwardResult]] = []
    training = train(
        net,
        CLASSIC_X,
        CLASSIC_T,
        "half_sse",
        0.5,
        iterations,
        freeze_biases=True,
        on_step=lambda i, r: seen.append((i, r)),
    )
    assert [i for i, _ in seen] == list(range(iterations))
    for (_, mine), theirs in zip(seen, results, strict=True):
        assert isinstance(mine, BackwardResult)
        assert mine.loss == theirs.loss and mine.loss_name == "half_sse" and mine.lr == 0.5 and mine.freeze_biases
        assert mine == theirs and theirs == mine
        for field in ("delta", "grad_weights", "grad_biases", "weights", "biases", "derivative"):
            for a, b in zip(mine.layers, theirs.layers, strict=True):
                assert same_bits(getattr(a, field), getattr(b, field))
        assert same_bits(mine.trace.output, theirs.trace.output)
    assert seen[-1][1].network is training.network


# -- errors: the step named is the step where it happened -----------------------------------------


def test_an_overflowing_z_that_its_sigmoid_hides_is_found_at_its_step():
    """One sigmoid neuron, w = 0.5, b = 0, samples x = 1 and x = 1e308, both with target 1, lr 2.
    Sample 2 saturates (a = 1 = t, δ = 0) while sample 1 pushes w and b up, until w·1e308 + b
    overflows: z = inf, but a = σ(inf) = 1, the loss stays finite and δ = 0, so nothing else
    shows it. The step is worked out here with Python's floats: for sample 1, a = 1 / (1 + e^−z),
    δ = (a − 1)·a(1 − a), and ∂L/∂w = ∂L/∂b = ½δ (sample 2 adds 0)."""
    w, b, step = 0.5, 0.0, 1
    while w * 1e308 + b != math.inf:
        a = 1.0 / (1.0 + math.exp(-(w + b)))
        gradient = (a - 1.0) * (a * (1.0 - a)) / 2.0
        w, b = w - 2.0 * gradient, b - 2.0 * gradient
        step += 1
    assert step > CHECK_EVERY + 1  # in the lean loop's second run of steps
    net = network("inputs: 1\nlayers:\n  - weights: [[0.5]]\n    activation: sigmoid\n")
    x, t = np.array([[1.0], [1e308]]), np.array([[1.0], [1.0]])
    message = f"step {step}: layer 1 (output), neuron o1, sample 2: z is an overflow (inf)"
    with pytest.raises(ComputationError) as raised:
        train(net, x, t, "half_sse", 2.0, 1000)
    assert str(raised.value) == message
    assert stepwise_error(net, x, t, "half_sse", 2.0, 1000) == message


def test_a_hidden_z_overflowing_with_a_saturated_sigmoid_is_found_at_step_2():
    """Hidden w = 1e-300, x = 1e300: z = 1, a = σ(1); output identity, t = 5, lr 1. The step gives
    ∂L/∂w = δ_h·1e300 ≈ −1e299, so w ≈ 1e299 and at step 2 z = 1e299·1e300 = inf, hidden a = 1."""
    net = network(
        "inputs: 1\nlayers:\n  - name: hidden\n    weights: [[1e-300]]\n    activation: sigmoid\n"
        "  - weights: [[1]]\n    activation: identity\n"
    )
    x, t = np.array([[1e300]]), np.array([[5.0]])
    with pytest.raises(ComputationError, match=r"^step 2: layer 1 \(hidden\), neuron h1, sample 1: z is an overflow"):
        train(net, x, t, "half_sse", 1.0, 300)


def test_gradients_overflowing_with_the_biases_frozen_are_found_at_their_step():
    """z = w·x + ½ with x = 1e160, t = 0, lr 3e-320, biases frozen, half-SSE: ∂L/∂w = z·x, so each
    step takes w to about w − 3w, doubling it and turning its sign. z·x overflows (z > 1.8e148)
    long before the loss ½z² does (z > 1.3e154) or z itself. The step is worked out here with
    Python's floats."""
    x, lr, w, step = 1e160, 3e-320, 1e-100, 1
    while (w * x + 0.5) * x not in (math.inf, -math.inf):
        w -= lr * ((w * x + 0.5) * x)
        step += 1
    assert step > 2 * CHECK_EVERY + 1
    net = network("inputs: 1\nlayers:\n  - weights: [[1e-100]]\n    biases: [0.5]\n    activation: identity\n")
    for iterations in (1000, step):  # also as the very last step, where no later z shows it
        with pytest.raises(ComputationError) as raised:
            train(net, np.array([[x]]), np.array([[0.0]]), "half_sse", lr, iterations, freeze_biases=True)
        assert str(raised.value) == f"step {step}: layer 1 (output): the gradients overflowed (inf or NaN)"


def test_a_loss_overflowing_while_every_z_is_finite_is_found_at_its_step():
    """a = w·1 + b, t = 0, half-SSE, lr 1.25: w and b both move by 1.25·a, so a becomes −1.5·a each
    step. ½a² overflows once |a| > 1.3e154, hundreds of steps before a itself would: only the loss
    shows it. The step is worked out here with Python's floats."""
    w, b, step = 1.0, 0.0, 1
    while 0.5 * ((w + b) * (w + b)) != math.inf:
        a = w + b
        w, b = w - 1.25 * a, b - 1.25 * a
        step += 1
    assert step > 5 * CHECK_EVERY
    net = network("inputs: 1\nlayers:\n  - weights: [[1]]\n    biases: [0]\n    activation: identity\n")
    with pytest.raises(ComputationError) as raised:
        train(net, np.array([[1.0]]), np.array([[0.0]]), "half_sse", 1.25, 2 * step)
    assert str(raised.value) == f"step {step}: the loss half_sse is not finite (inf or NaN)"


def test_cross_entropy_outputs_turning_negative_where_the_target_is_0_are_found_at_their_step():
    """Identity outputs a₁ = h, a₂ = 3 − h from one identity hidden neuron h, targets (1, 0):
    cross-entropy pushes a₁ (so h) up, and the loss (−1·ln a₁) never sees a₂ go below 0. backward
    refuses that at the step after; train must say the same."""
    net = network(
        "inputs: 1\nlayers:\n  - name: hidden\n    weights: [[1]]\n    activation: identity\n"
        "  - weights: [[1], [-1]]\n    biases: [0, 3]\n    activation: identity\n"
    )
    x, t = np.array([[1.0]]), np.array([[1.0, 0.0]])
    message = stepwise_error(net, x, t, "cross_entropy", 0.01, 1000)
    assert message.startswith("after ") and "outputs must be probabilities, not negative; sample 1, output 2" in message
    assert int(message.split()[1]) > CHECK_EVERY
    with pytest.raises(ComputationError) as raised:
        train(net, x, t, "cross_entropy", 0.01, 1000)
    assert str(raised.value) == message


def test_a_diverging_run_names_the_same_step_as_backward_repeated():
    net = network("inputs: 1\nlayers:\n  - weights: 1\n    activation: identity\n")
    x, t = np.array([[10.0]]), np.array([[0.0]])
    message = stepwise_error(net, x, t, "half_sse", 100.0, 1000)
    assert message.startswith("step ") and message.endswith("the loss half_sse is not finite (inf or NaN)")
    with pytest.raises(ComputationError) as raised:
        train(net, x, t, "half_sse", 100.0, 1000)
    assert str(raised.value) == message


# -- the command line ------------------------------------------------------------------------------


def test_backward_with_iterations_prints_backwards_losses(nncalc):
    """`nncalc backward -n 300 --format json`: every loss is the one backward repeated gives (JSON
    writes a float's shortest repr, which reads back as the same float)."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    results, final_loss = stepwise(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 300)
    r = nncalc("backward", CONFIGS / "classic-2-2-2.yaml", "-i", "0.05,0.10", "-t", "0.01,0.99", "-n", "300")
    assert r.code == 0, r.err
    document = json.loads(r.out)
    assert document["losses"] == [res.loss for res in results] + [final_loss]


# -- the engine: a short block --------------------------------------------------------------------


def test_every_short_block_gives_the_rows_of_a_full_block():
    """engine.linear on 1 to 70 rows (and 1,030: a full block and a short rest) gives, row for row,
    the bits of the same rows inside a full 1,024-row block, bias added (with OpenBLAS, a one-row
    product of this shape, its matrix-vector route, gives other bits)."""
    from nncalc.engine import BLOCK_ROWS, linear

    rng = np.random.default_rng(3)
    weights, biases = rng.normal(size=(12, 40)), rng.normal(size=12)
    x = rng.normal(size=(BLOCK_ROWS + 6, 40))
    full = x[:BLOCK_ROWS] @ weights.T + biases
    for rows in range(1, 71):
        assert same_bits(linear(x[:rows], weights, biases), full[:rows])
    whole = linear(x, weights, biases)
    assert same_bits(whole[:BLOCK_ROWS], full)
    assert same_bits(whole[BLOCK_ROWS:], linear(x[BLOCK_ROWS:], weights, biases))


def test_a_short_block_through_a_large_layer_runs_on_one_blas_thread(monkeypatch):
    """A few rows through 784 → 256 (past OpenBLAS's threading threshold) are multiplied on one
    BLAS thread, a 2 → 2 layer is left alone, and the rows keep a full block's bits."""
    import contextlib

    from nncalc import engine

    entered = []

    @contextlib.contextmanager
    def recording():
        entered.append(True)
        yield

    monkeypatch.setattr(engine, "one_blas_thread", recording)
    rng = np.random.default_rng(5)
    weights, biases = rng.normal(size=(256, 784)), rng.normal(size=256)
    x = rng.normal(size=(engine.BLOCK_ROWS, 784))
    full = x @ weights.T + biases
    engine.linear(x[:1], weights, biases)  # the shape's padding is probed once, with short products too
    entered.clear()
    for rows in (1, 3, 8):
        assert same_bits(engine.linear(x[:rows], weights, biases), full[:rows])
    assert len(entered) == 3
    engine.linear(x[:3, :2], np.eye(2), np.zeros(2))
    assert len(entered) == 3


def test_one_blas_thread_gives_back_the_threads_blas_had():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from nncalc.engine import one_blas_thread

    def threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

    before = threads()
    with one_blas_thread():
        assert set(threads()) <= {1}
    assert threads() == before
    with pytest.raises(ZeroDivisionError), one_blas_thread():
        1 / 0  # noqa: B018
    assert threads() == before
