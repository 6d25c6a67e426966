"""Tests that kill mutants which survived a mutation-testing run over the engine, activations and losses.

Each test states the mutation it guards against. Expected values come from hand working,
the ``math`` module or published worked examples, never from nncalc's own output.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from nncalc import losses, records
from nncalc.activations import Activation, BoundActivation, softplus
from nncalc.backprop import backward, batch_loss, train
from nncalc.engine import LayerTrace, Trace, first_non_finite, forward, round_half_up
from nncalc.errors import ComputationError, InputError
from nncalc.expr import Num, Product
from nncalc.loader import load_network, parse_network
from nncalc.notation.formula import LatexWriter, TextWriter
from nncalc.worked.backward import delta_chain
from tests.conftest import CONFIGS

CLASSIC_X = np.array([[0.05, 0.10]])
CLASSIC_T = np.array([[0.01, 0.99]])
# The classic 2-2-2 example's published numbers after one step with lr 0.5 and ½Σ(t − a)².
CLASSIC_LOSS = 0.298371109
CLASSIC_OUTPUT_WEIGHTS = [[0.35891648, 0.408666186], [0.511301270, 0.561370121]]
CLASSIC_HIDDEN_WEIGHTS = [[0.149780716, 0.19956143], [0.24975114, 0.29950229]]
CLASSIC_DELTA_O = [0.138498562, -0.217071535 * 0.175510053]


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def one_neuron(weight: str = "1", bias: str = "0", activation: str = "identity"):
    """One input, one neuron: a = f(weight·x + bias)."""
    layer = f"  - weights: [[{weight}]]\n    biases: [{bias}]\n    activation: {activation}\n"
    return parse_network("inputs: 1\nlayers:\n" + layer)


@contextmanager
def no_warnings():
    """Any warning (e.g. NumPy's RuntimeWarning) fails the test, whatever pytest's configuration."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- engine.forward ----------------------------------------------------------------------------


def test_round_z_rounds_z_before_the_activation():
    """decimals=2, round_z: z1 = 0.415 → 0.42, a1 = σ(0.42) = 0.6035 → 0.60, z2 = 0.45·0.60 + 0.65 = 0.92,
    a2 = σ(0.92) = 0.7150 → 0.72. Kills: the round_z branch dropped, inverted or fed None."""
    net = load_network(CONFIGS / "course-chain.yaml")
    trace = forward(net, np.array([[0.1]]), decimals=2, round_z=True)
    assert round(sigma(0.42), 4) == 0.6035 and round(sigma(0.92), 4) == 0.7150  # the hand working
    assert trace.layers[0].z[0, 0] == 0.42
    assert trace.layers[0].a[0, 0] == 0.60
    assert trace.layers[1].z[0, 0] == pytest.approx(0.92, abs=1e-15)
    assert trace.layers[1].a[0, 0] == 0.72
    # without round_z, z keeps its exact value and only a is rounded
    plain = forward(net, np.array([[0.1]]), decimals=2)
    assert plain.layers[0].z[0, 0] == pytest.approx(0.415, abs=1e-15)


def test_forward_stores_integer_inputs_as_float64():
    """Inputs are converted to float64 (kills dtype=np.float64 → None / dropped)."""
    net = parse_network("inputs: 2\nlayers:\n  - weights: [[1, 2]]\n    activation: identity\n")
    trace = forward(net, [[1, 2], [3, 4]])
    assert trace.inputs.dtype == np.float64
    assert trace.output.tolist() == [[5.0], [11.0]]


def test_forward_refuses_the_wrong_number_of_inputs_with_its_own_message():
    """A row of 3 values for a 2-input network is refused before any arithmetic (kills `or` → `and`)."""
    net = parse_network("inputs: 2\nlayers:\n  - weights: [[1, 2]]\n    activation: identity\n")
    with pytest.raises(ValueError, match=r"inputs must have shape \(samples, 2\), got \(1, 3\)"):
        forward(net, np.array([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match=r"inputs must have shape \(samples, 2\), got \(2,\)"):
        forward(net, np.array([1.0, 2.0]))


def test_forward_overflow_into_softmax_and_matmul_raises_no_warning():
    """z = [10·1e308, 10] overflows; softmax then computes inf − inf, and a following layer
    1·inf − 1·inf. Both are invalid operations that forward must silence and leave to
    first_non_finite (kills errstate(invalid="ignore") → None / dropped)."""
    softmax_net = parse_network("inputs: 1\nlayers:\n  - weights: [[1e308], [1]]\n    activation: softmax\n")
    chain = parse_network(
        "inputs: 1\nlayers:\n  - weights: [[1e308], [1e308]]\n    activation: identity\n"
        "  - weights: [[1, -1]]\n    activation: identity\n"
    )
    with no_warnings():
        soft = forward(softmax_net, np.array([[10.0]]))
        nan = forward(chain, np.array([[10.0]]))
    bad = first_non_finite(soft)
    assert (bad.layer, bad.sample, bad.neuron, bad.quantity) == (0, 0, 0, "z") and math.isinf(bad.value)
    bad = first_non_finite(nan)  # layer 1's z = (inf, inf) comes first; layer 2 then computes inf − inf
    assert (bad.layer, bad.sample, bad.neuron, bad.quantity) == (0, 0, 0, "z") and math.isinf(bad.value)
    assert math.isnan(nan.output[0, 0])


@pytest.mark.parametrize("rows", [0, 1, 1023, 1024, 1025, 2049])
def test_forward_of_large_batches_is_exact_in_every_row(rows):
    """Batches are multiplied in blocks of 1024 rows (the last one padded). z = 0.5·x₁ − 0.25·x₂ + 0.125
    with x = (i, 1) is 0.5·i − 0.125, exact in binary for every row i, so every row of every block
    must match (kills the block loop's bounds or step mutated, and the padded tail mis-sliced)."""
    net = parse_network(
        "inputs: 2\nlayers:\n  - weights: [[0.5, -0.25]]\n    biases: [0.125]\n    activation: identity\n"
    )
    x = np.column_stack([np.arange(rows, dtype=np.float64), np.ones(rows)])
    out = forward(net, x).output
    assert out.shape == (rows, 1)
    assert out[:, 0].tolist() == [0.5 * i - 0.125 for i in range(rows)]


def test_a_sample_gives_the_same_bits_alone_and_in_a_large_batch():
    """1500 random samples (one full block and a padded tail): each row of the batch is bit for bit
    what that sample gives alone."""
    rng = np.random.default_rng(7)
    net = parse_network(
        "inputs: 3\nlayers:\n  - weights: [[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]]\n    biases: [0.05, -0.3]\n"
        "    activation: tanh\n  - weights: [[1.5, -0.5]]\n    activation: sigmoid\n"
    )
    x = rng.normal(size=(1500, 3))
    batch = forward(net, x).output
    for s in (0, 1, 1023, 1024, 1025, 1499):
        assert batch[s].tolist() == forward(net, x[s : s + 1]).output[0].tolist()


def test_first_non_finite_names_a_when_only_a_is_bad():
    """z finite and a NaN: the quantity is "a" (kills the "a" label mutated)."""
    trace = Trace(
        inputs=np.zeros((2, 1)),
        layers=(
            LayerTrace(z=np.ones((2, 2)), a=np.ones((2, 2))),
            LayerTrace(z=np.ones((2, 2)), a=np.array([[1.0, 1.0], [1.0, np.nan]])),
        ),
    )
    bad = first_non_finite(trace)
    assert (bad.layer, bad.sample, bad.neuron, bad.quantity) == (1, 1, 1, "a")
    assert math.isnan(bad.value)


# -- activations --------------------------------------------------------------------------------


def test_softplus_function_defaults_are_pytorchs():
    """softplus(z) called without parameters uses beta = 1 and threshold = 20:
    softplus(0) = ln 2 and, past the threshold, softplus(20.5) is exactly 20.5."""
    out = softplus(np.array([[0.0, 20.5, 19.5]]))
    assert out[0, 0] == pytest.approx(math.log(2.0), rel=1e-15)
    assert out[0, 1] == 20.5
    assert out[0, 2] == pytest.approx(math.log1p(math.exp(19.5)), rel=1e-15)


@pytest.mark.parametrize(("params", "z"), [({}, 20.0), ({"beta": 2.0}, 10.0), ({"threshold": 5.0}, 5.0)])
def test_softplus_derivative_at_the_threshold_is_the_sigmoid(params, z):
    """At β·z = threshold exactly, softplus is still (1/β) ln(1 + e^(βz)) (the switch is β·z > threshold),
    so its slope there is σ(βz), not 1 (kills > → >= in the derivative)."""
    act = BoundActivation.named("softplus", **params)
    beta = params.get("beta", 1.0)
    zz = np.array([[z]])
    assert act(zz)[0, 0] == pytest.approx(math.log1p(math.exp(beta * z)) / beta, rel=1e-15)
    assert act.derivative(zz, act(zz))[0, 0] == pytest.approx(sigma(beta * z), rel=1e-15)
    assert act.derivative(zz, act(zz))[0, 0] != 1.0


def test_heaviside_is_an_alias_of_step():
    """`heaviside` names the step function, in code and in a network file (kills the alias mutated)."""
    assert BoundActivation.named("heaviside").name == "step"
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1\n    activation: heaviside\n")
    assert forward(net, np.array([[-0.5], [0.0], [0.5]])).output.tolist() == [[0.0], [1.0], [1.0]]


def test_gelu_approximate_none_is_accepted_in_a_file():
    """`approximate: none` (the default, written out) is a valid choice: GELU(1) = ½(1 + erf(1/√2))
    (kills the "none" choice mutated)."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1\n    activation: {name: gelu, approximate: none}\n")
    assert net.layers[0].activation.params["approximate"] == "none"
    out = forward(net, np.array([[1.0]])).output[0, 0]
    assert out == pytest.approx(0.5 * (1.0 + math.erf(1.0 / math.sqrt(2.0))), rel=1e-15)


# -- losses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "shown"), [(0.0, "0"), (1.0, "1")])
def test_bce_refuses_outputs_of_exactly_0_and_1(x, shown):
    """ln 0 is −∞: an output of exactly 0 or 1 is outside BCE's domain (kills <= → <, >= → >)."""
    net = one_neuron()
    with pytest.raises(InputError, match=rf"bce cannot apply.*strictly between 0 and 1.*output 1 is {shown}$"):
        backward(net, np.array([[x]]), np.array([[0.5]]), "bce")
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        batch_loss(net, np.array([[x]]), np.array([[0.5]]), "bce")


def test_cross_entropy_gradient_is_zero_where_output_and_target_are_zero():
    """∂(−Σ t ln a)/∂a is −t/a, taken as 0 where t = 0, even where a = 0 (kills t > 0 → t >= 0,
    which divides 0 by 0)."""
    with no_warnings():
        grad = losses.REGISTRY["cross_entropy"].gradient(np.array([[0.0, 1.0, 0.5]]), np.array([[0.0, 1.0, 0.0]]))
    assert grad.tolist() == [[0.0, -1.0, 0.0]]


def test_cross_entropy_on_relu_output_with_a_zero_output():
    """ReLU output (z = −1 → a = 0; z = 1 → a = 1), targets (0, 1): loss −ln 1 = 0; δ = −t/a·relu'(z) = (0, −1)."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[-1], [1]]\n    activation: relu\n")
    with no_warnings():
        result = backward(net, np.array([[1.0]]), np.array([[0.0, 1.0]]), "cross_entropy", 0.5)
    assert result.loss == 0.0
    assert result.layers[0].delta.tolist() == [[0.0, -1.0]]


# -- backprop: the combined output rules are needed where the chain rule overflows ----------------


def test_softmax_cross_entropy_uses_a_minus_t_when_a_is_tiny():
    """Softmax of z = (0, −720): a ≈ (1, e^−720), a₂ is subnormal. Target (0, 1).
    δ = a − t = (1, e^−720 − 1) = (1, −1); the chain rule's −t/a would overflow to −∞.
    Loss = −ln a₂ = 720 + ln(1 + e^−720) = 720. ∂L/∂W = δᵀx = (720, −720); W' = (0, −1) − 0.1·(720, −720).
    Kills: combined_rule's names or results mutated, output_delta's rule lookup mutated."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[0], [-1]]\n    activation: softmax\n")
    result = backward(net, np.array([[720.0]]), np.array([[0.0, 1.0]]), "cross_entropy", 0.1)
    layer = result.layers[0]
    assert layer.delta[0].tolist() == pytest.approx([1.0, math.exp(-720.0) - 1.0], abs=1e-15)
    assert result.loss == pytest.approx(720.0, rel=1e-12)
    np.testing.assert_allclose(layer.grad_weights, [[720.0], [-720.0]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(layer.weights, [[-72.0], [71.0]], rtol=1e-15, atol=0)


def test_sigmoid_bce_uses_a_minus_t_over_n_when_a_is_tiny():
    """Sigmoid at z = −720: a = e^−720/(1 + e^−720) (subnormal), target 1, one output.
    δ = (a − t)/n = −1; the chain rule's (a − t)/(a(1 − a)) would overflow. Loss = −ln a = 720."""
    net = one_neuron("-1", "0", "sigmoid")
    result = backward(net, np.array([[720.0]]), np.array([[1.0]]), "bce", 0.1)
    np.testing.assert_allclose(result.layers[0].delta, [[-1.0]], rtol=0, atol=1e-15)
    assert result.loss == pytest.approx(720.0, rel=1e-12)
    np.testing.assert_allclose(result.layers[0].weights, [[-1.0 + 0.1 * 720.0]], rtol=1e-15, atol=0)


# -- backprop: defaults, learning rate, what the result carries ---------------------------------


def test_backward_defaults_are_half_sse_lr_half_and_biases_updated():
    """backward(net, x, t) is one step of ½Σ(t − a)² with lr 0.5, biases updated: the published
    weights, and each output bias moved by −0.5·δ (kills the lr default mutated)."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    result = backward(net, CLASSIC_X, CLASSIC_T)
    assert result.loss == pytest.approx(CLASSIC_LOSS, abs=1e-9)
    np.testing.assert_allclose(result.layers[1].weights, CLASSIC_OUTPUT_WEIGHTS, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.layers[0].weights, CLASSIC_HIDDEN_WEIGHTS, rtol=0, atol=1e-8)
    assert result.layers[1].biases.tolist() == pytest.approx([0.6 - 0.5 * d for d in CLASSIC_DELTA_O], abs=1e-9)
    assert (result.loss_name, result.lr, result.freeze_biases) == ("half_sse", 0.5, False)


def test_train_defaults_are_one_step_of_half_sse_lr_half_biases_updated():
    """train(net, x, t) without options: one step (two losses), the published weights, biases moved
    (kills the loss, lr, iterations and freeze_biases defaults mutated)."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    final, history = train(net, CLASSIC_X, CLASSIC_T)
    assert len(history) == 2
    assert history[0] == pytest.approx(CLASSIC_LOSS, abs=1e-9)
    np.testing.assert_allclose(final.layers[1].weights, CLASSIC_OUTPUT_WEIGHTS, rtol=0, atol=1e-8)
    assert final.layers[1].biases.tolist() == pytest.approx([0.6 - 0.5 * d for d in CLASSIC_DELTA_O], abs=1e-9)


def test_learning_rate_zero_is_allowed_and_changes_nothing():
    """lr must be ≥ 0, so 0 is accepted: gradients are computed, parameters stay (kills < → <=)."""
    net = one_neuron("2", "1")
    result = backward(net, np.array([[3.0]]), np.array([[4.0]]), "half_sse", 0.0)
    # a = 2·3 + 1 = 7, δ = a − t = 3, ∂L/∂w = δ·x = 9, ∂L/∂b = 3
    assert result.layers[0].grad_weights.tolist() == [[9.0]]
    assert result.layers[0].grad_biases.tolist() == [3.0]
    assert result.layers[0].weights.tolist() == [[2.0]]
    assert result.layers[0].biases.tolist() == [1.0]
    assert result.lr == 0.0


def test_backward_result_carries_its_inputs():
    """The result records the trace, targets (as float64), loss name, lr and freeze flag it was made with."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    result = backward(net, CLASSIC_X, [[0, 1]], "mse", 0.25, freeze_biases=True)
    assert result.trace.output[0].tolist() == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    assert result.targets.dtype == np.float64
    assert result.targets.tolist() == [[0.0, 1.0]]
    assert result.loss_name == "mse"
    assert result.lr == 0.25
    assert result.freeze_biases is True
    assert result.layers[1].biases.tolist() == [0.6, 0.6]


def test_results_are_read_only():
    """Every array a step or a training run returns is read-only, so later steps cannot be corrupted."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    result = backward(net, CLASSIC_X, CLASSIC_T)
    arrays = [result.targets, result.sample_losses]
    for layer in result.layers:
        arrays += [layer.delta, layer.grad_weights, layer.grad_biases, layer.weights, layer.biases]
    arrays.append(train(net, CLASSIC_X, CLASSIC_T, iterations=2).losses)
    for array in arrays:
        assert array.flags.writeable is False
        with pytest.raises(ValueError):
            array[...] = 0.0


def test_train_final_loss_uses_the_chosen_loss():
    """a = w·x + b with w = 1, b = 0, x = 1, t = 3, MSE, lr 0.125: loss (3 − 1)² = 4; δ = 2(a − t) = −4,
    w' = 1.5, b' = 0.5, a' = 2, final MSE (3 − 2)² = 1 (½Σ would give 0.5). Kills the loss dropped
    from the final batch_loss call."""
    final, history = train(one_neuron(), np.array([[1.0]]), np.array([[3.0]]), "mse", 0.125, 1)
    assert history.tolist() == [4.0, 1.0]
    assert final.layers[0].weights.tolist() == [[1.5]]
    assert final.layers[0].biases.tolist() == [0.5]


@pytest.mark.parametrize("iterations", [True, 1.5, "2"])
def test_train_refuses_iterations_that_are_not_whole_numbers(iterations):
    """iterations must be an int ≥ 0; True and 1.5 are refused (kills the first `or` → `and`)."""
    with pytest.raises(InputError, match="iterations must be a whole number"):
        train(one_neuron(), np.array([[1.0]]), np.array([[3.0]]), "half_sse", 0.1, iterations)


def test_train_accepts_numpy_integer_iterations():
    _, history = train(one_neuron(), np.array([[1.0]]), np.array([[3.0]]), "half_sse", 0.125, np.int64(2))
    assert len(history) == 3


def test_train_mistakes_in_the_arguments_stay_input_errors():
    """Targets of the wrong shape fail the first step: that is the user's InputError, not a
    ComputationError "after 0 steps" (kills i == 0 → i != 0); likewise with zero iterations."""
    for iterations in (0, 3):
        with pytest.raises(InputError, match="expected 1 target per sample"):
            train(one_neuron(), np.array([[1.0]]), np.array([[3.0, 4.0]]), "half_sse", 0.1, iterations)


def test_train_leaving_the_loss_domain_after_a_step_is_a_computation_error():
    """Identity output, BCE, x = 0.5, t = 1, lr 1: a = 0.5; ∂L/∂a = (a − t)/(a(1 − a)) = −2 = δ;
    w' = 1 − 1·(−2·0.5) = 2, b' = 0 − 1·(−2) = 2, a' = 0.5·2 + 2 = 3, outside (0, 1).
    With one iteration the final loss fails ("after 1 step"); with two the second step does
    ("after 1 step"). Both are ComputationErrors (kills i == 0 → i == 1 and iterations == 0 → != / == 1)."""
    x, t = np.array([[0.5]]), np.array([[1.0]])
    with pytest.raises(ComputationError, match=r"^after 1 step: the loss bce cannot apply: .* is 3$"):
        train(one_neuron(), x, t, "bce", 1.0, 1)
    with pytest.raises(ComputationError, match=r"^after 1 step: the loss bce cannot apply: .* is 3$"):
        train(one_neuron(), x, t, "bce", 1.0, 2)


# -- backprop: overflow is reported as a ComputationError, never as a warning --------------------


def test_forward_overflow_in_backward_is_located():
    """Sample 2 gives z = 1e308·10 = inf: a ComputationError naming layer, neuron and sample
    (kills the location dropped or shifted, and the NaN/overflow wording swapped)."""
    net = one_neuron("1e308")
    with pytest.raises(ComputationError, match=r"^layer 1 \(output\), neuron o1, sample 2: z is an overflow \(inf\)$"):
        backward(net, np.array([[1.0], [10.0]]), np.array([[0.0], [0.0]]))
    chain = parse_network(
        "inputs: 1\nlayers:\n  - weights: [[1e308], [1e308]]\n    activation: identity\n"
        "  - weights: [[1, -1]]\n    activation: identity\n"
    )
    with pytest.raises(ComputationError, match=r"^layer 1 \(hidden\), neuron h1, sample 1: z is an overflow \(inf\)$"):
        batch_loss(chain, np.array([[10.0]]), np.array([[0.0]]))


def test_nan_in_forward_is_named_nan():
    """A NaN in z (here from a NaN input: NaN·1 + 0) is reported as NaN, not as an overflow."""
    with pytest.raises(ComputationError, match=r"^layer 1 \(output\), neuron o1, sample 1: z is NaN$"):
        backward(one_neuron(), np.array([[math.nan]]), np.array([[0.0]]))


def test_gradient_overflow_in_weights_only_is_caught():
    """z = 1e-308·1.5e308 = 1.5, δ = 1.5 − (−1) = 2.5, ∂L/∂w = δ·x = 2.5·1.5e308 = inf while ∂L/∂b = 2.5
    stays finite: still a ComputationError (kills `and … and` → `and … or`)."""
    net = one_neuron("1e-308")
    with pytest.raises(ComputationError, match=r"^layer 1 \(output\): the gradients overflowed"):
        backward(net, np.array([[1.5e308]]), np.array([[-1.0]]), "half_sse", 0.5)


def test_gradient_overflow_in_biases_only_is_caught():
    """ReLU output a = 1e-308 for two samples, target 1, cross-entropy: δ = −t/a = −1e308 per sample,
    ∂L/∂b = (−1e308 − 1e308)/2 = −inf while ∂L/∂w = δᵀ·0 = 0; the loss −ln 1e-308 ≈ 709.2 is finite.
    Still a ComputationError (kills `W ok and b ok …` → `W ok or …`)."""
    net = one_neuron("0", "1e-308", "relu")
    with pytest.raises(ComputationError, match=r"^layer 1 \(output\): the gradients overflowed"):
        backward(net, np.zeros((2, 1)), np.ones((2, 1)), "cross_entropy", 0.5)


def test_backward_nan_gradient_raises_no_warning():
    """Hidden ReLU at z = −1 (a = 0, slope 0) feeding two outputs with weight 1e308: δ_out = a − t = (2, 2),
    δ_out·W = 4e308 = inf, times slope 0 = NaN. A ComputationError, with no RuntimeWarning on the way
    (kills errstate(invalid="ignore") → None / dropped in backward)."""
    net = parse_network(
        "inputs: 1\nlayers:\n  - weights: [[1]]\n    biases: [-1]\n    activation: relu\n"
        "  - weights: [[1e308], [1e308]]\n    activation: identity\n"
    )
    with no_warnings(), pytest.raises(ComputationError, match=r"^layer 1 \(hidden\): the gradients overflowed"):
        backward(net, np.array([[0.0]]), np.array([[-2.0, -2.0]]), "half_sse", 0.5)


def test_batch_loss_overflow_is_a_computation_error_without_warning():
    """a = 1e200, t = 0: ½(t − a)² = 5e399 overflows. A ComputationError, no RuntimeWarning
    (kills errstate(over="ignore") dropped in batch_loss, and its message replaced)."""
    net = one_neuron("1e200")
    with no_warnings(), pytest.raises(ComputationError, match=r"^the loss half_sse is not finite \(inf or NaN\)$"):
        batch_loss(net, np.array([[1.0]]), np.array([[0.0]]))


# -- engine: the row blocks, seen through BLAS ------------------------------------------------------


@pytest.mark.parametrize("rows", [1024, 1500])
def test_a_sample_gives_the_same_bits_alone_and_in_a_batch_with_16_inputs(rows):
    """The same property as above with 16 inputs and 4 neurons, where OpenBLAS's routes do differ
    in the last bit: a one-row product (the matrix-vector route) and the leftover row of a 1025-row
    product both give other bits than row 0 of a full 1024-row block. Every row of the batch must be
    bit for bit what that sample gives alone. With 1024 rows this kills the block loop stepping by 1
    (the last row then comes from a one-row product); with 1500 rows, BLOCK_ROWS = 1025 (sample 1024
    is then the leftover row of a 1025-row product, alone it is row 0)."""
    rng = np.random.default_rng(11)
    weights = rng.normal(size=(4, 16))
    rows_text = ", ".join("[" + ", ".join(repr(float(w)) for w in row) + "]" for row in weights)
    net = parse_network(f"inputs: 16\nlayers:\n  - weights: [{rows_text}]\n    activation: identity\n")
    x = rng.normal(size=(rows, 16))
    batch = forward(net, x).output
    differing = [s for s in range(rows) if batch[s].tolist() != forward(net, x[s : s + 1]).output[0].tolist()]
    assert differing == []


def test_round_half_up_drops_the_binary_noise_just_below_a_half():
    """On paper 99999.77775 → 99999.7778 (4 decimals), 5000000.225 → 5000000.23 and 10000000.995 →
    10000001.00 (2 decimals): the reference is decimal.Decimal's ROUND_HALF_UP on the written text.
    Each float is a little below its decimal value, and value·10^decimals carries that noise near
    the 7th decimal (999997777.4999999…), so only rounding the scaled value to 6 decimals snaps it
    back to the half (kills np.round(…, 6) → 7)."""
    for text, decimals in (("99999.77775", 4), ("5000000.225", 2), ("10000000.995", 2)):
        paper = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        assert Decimal(float(text)) < Decimal(text)  # the stored binary value is below the half
        assert round_half_up(np.array([float(text)]), decimals)[0] == float(paper)
        assert round_half_up(np.array([-float(text)]), decimals)[0] == -float(paper)
    trace = forward(one_neuron(), np.array([[99999.77775]]), decimals=4)
    assert trace.output[0, 0] == 99999.7778


# -- activations: what a derivation shows ----------------------------------------------------------


def written(act: BoundActivation, z: str, zs: tuple[str, ...] = ()) -> tuple[str, str]:
    """``act``'s formula applied to the written number ``z`` (and its layer's ``zs``), as text and LaTeX."""
    number = lambda text: Num(float(text.replace("−", "-")), text)  # noqa: E731
    forms = act.activation.formula(number(z), tuple(number(v) for v in zs), act.params)
    return TextWriter().chain(forms), LatexWriter().chain(forms)


def test_sigmoid_formula_puts_a_negative_number_in_parentheses():
    """e^−z with z = −0.5 is written e^−(−0.5), whether the file wrote an ASCII or a Unicode minus;
    a positive z is not wrapped."""
    sig = BoundActivation.named("sigmoid")
    assert written(sig, "-0.5") == ("σ(−0.5) = 1 / (1 + e^−(−0.5))", r"\sigma(-0.5) = \frac{1}{1 + e^{-(-0.5)}}")
    assert written(sig, "−0.5") == written(sig, "-0.5")
    assert written(sig, "0.5") == ("σ(0.5) = 1 / (1 + e^−0.5)", r"\sigma(0.5) = \frac{1}{1 + e^{-0.5}}")


def test_softmax_formula_writes_out_up_to_six_terms():
    """softmax(zᵢ) = e^zᵢ / (e^z₁ + … + e^zₙ) with every term written for up to 6 neurons, and
    Σⱼ e^zⱼ from 7 on (kills the `<= 6` bound and the sum's terms mutated, in text and LaTeX)."""
    soft = BoundActivation.named("softmax")
    assert written(soft, "0.5", ("0.5", "-1")) == (
        "softmax(0.5) = e^0.5 / (e^0.5 + e^(−1))",
        r"\operatorname{softmax}(0.5) = \frac{e^{0.5}}{e^{0.5} + e^{-1}}",
    )
    six, seven = ("1", "2", "3", "4", "5", "6"), ("1", "2", "3", "4", "5", "6", "7")
    terms = r"e^{1} + e^{2} + e^{3} + e^{4} + e^{5} + e^{6}"
    assert written(soft, "1", six) == (
        "softmax(1) = e^1 / (e^1 + e^2 + e^3 + e^4 + e^5 + e^6)",
        r"\operatorname{softmax}(1) = \frac{e^{1}}{" + terms + "}",
    )
    text, latex = written(soft, "1", seven)
    assert text == "softmax(1) = e^1 / Σⱼ e^z_j"
    assert latex == r"\operatorname{softmax}(1) = \frac{e^{1}}{\sum_{j} e^{z_{j}}}"
    assert written(soft, "1", ("1",))[1] == r"\operatorname{softmax}(1) = \frac{e^{1}}{e^{1}}"  # one neuron: 1


def test_a_seven_neuron_softmax_layer_writes_its_sum_with_sigma(nncalc, write):
    """A page never writes a softmax over seven neurons as if its denominator were one term."""
    net = write(
        "seven.yaml",
        "inputs: 1\nlayers:\n  - activation: softmax\n    weights: [[0.1], [0.2], [0.3], [0.4], [0.5], [0.6], [0.7]]\n",
    )
    result = nncalc("forward", net, "-i", "1", "-f", "table", "--steps")
    assert result.code == 0, result.err
    # z = 0.1 … 0.7; a1 = e^0.1 / Σ e^zⱼ
    total = sum(math.exp(k / 10) for k in range(1, 8))
    assert f"a = softmax(0.1) = e^0.1 / Σⱼ e^z_j = {math.exp(0.1) / total:.4f}" in result.out, result.out
    assert "/ (e^0.1)" not in result.out


def test_softplus_formula_has_the_short_form_only_for_beta_1():
    """β = 1: Softplus(z) = ln(1 + e^z); any other β: (1/β) ln(1 + e^(βz)) (kills `beta == 1` → != / == 2,
    in text and LaTeX)."""
    one, two = BoundActivation.named("softplus"), BoundActivation.named("softplus", beta=2.0)
    assert written(one, "0.5") == ("Softplus(0.5) = ln(1 + e^0.5)", r"\operatorname{Softplus}(0.5) = \ln(1 + e^{0.5})")
    assert written(two, "0.5") == (
        "Softplus(0.5) = (1 / 2) × ln(1 + e^(2 × 0.5))",
        r"\operatorname{Softplus}(0.5) = \frac{1}{2} \cdot \ln(1 + e^{2 \cdot 0.5})",
    )


def test_derivative_formula_is_given_z_a_d_and_the_parameters():
    """An entry's derivative_formula is handed z, a, f′(z) and the bound parameters, in that order:
    sigmoid writes a · (1 − a), tanh 1 − a², ReLU the value itself; and the δ step of a layer passes
    each of them, as symbols and as numbers (an entry that reads all four sees each)."""
    derivative = {
        name: lambda z, a, d, name=name: TextWriter().write(
            BoundActivation.named(name).activation.derivative_formula(z, a, d, BoundActivation.named(name).params)
        )
        for name in ("sigmoid", "tanh", "relu")
    }
    z, a, d = Num(0.415, "0.415"), Num(0.6023, "0.6023"), Num(0.2395, "0.2395")
    assert derivative["sigmoid"](z, a, d) == "0.6023 · (1 − 0.6023)"
    assert derivative["tanh"](z, a, d) == "1 − 0.6023²"
    assert derivative["relu"](z, a, d) == "0.2395"
    probe = Activation(
        name="probe",
        forward=lambda z, p: 2.0 * z,
        derivative=lambda z, a, p: np.full_like(z, 2.0),
        derivative_formula=lambda z, a, d, p: Product((z, a, d, Num(float(p["k"])))),
    )
    net = parse_network("inputs: [x]\nlayers:\n  - {neurons: [y], weights: 0.5, biases: 0.05, activation: identity}\n")
    layer = records.replace(net.layers[0], activation=BoundActivation(probe, {"k": 3}))
    net = records.replace(net, layers=(layer,))
    # z = 0.5 · 0.5 + 0.05 = 0.3, a = 2z = 0.6, f′ = 2; δ = (a − t) · f′ = (0.6 − 0.1) · 2 = 1
    result = backward(net, np.array([[0.5]]), np.array([[0.1]]))
    step = TextWriter().chain(delta_chain(net, result, 0, 0, 0, 4))
    assert step == "δ_y = (a_y − t_y) · z_y · a_y · f′(z_y) · 3 = (0.6 − 0.1) · 0.3 · 0.6 · 2 · 3 ≈ 1", step


def test_unknown_activation_name_is_the_key_error():
    """BoundActivation.named raises KeyError carrying the unknown name (kills KeyError(None))."""
    with pytest.raises(KeyError) as info:
        BoundActivation.named("sigmoidd")
    assert info.value.args == ("sigmoidd",)


# -- backprop: the user's messages ---------------------------------------------------------------------


def test_no_samples_is_refused_with_its_message():
    """Zero input rows: nothing to average over (kills the message mutated)."""
    with pytest.raises(InputError, match=r"^no samples: give at least one input row and its targets$"):
        backward(one_neuron(), np.zeros((0, 1)), np.zeros((0, 1)))


def test_targets_for_another_number_of_samples_names_both_counts():
    """3 target rows for 2 input rows of a one-output network: the message counts rows, not the
    1 column (kills t.shape[0] → t.shape[1])."""
    message = r"^got targets for 3 samples but inputs for 2; give one target row per input$"
    with pytest.raises(InputError, match=message):
        backward(one_neuron(), np.array([[1.0], [2.0]]), np.array([[1.0], [2.0], [3.0]]))


def test_batch_loss_of_a_loss_that_takes_the_log_of_a_negative_raises_no_warning():
    """A Loss whose value is ln a, on an output a = −1: ln(−1) is undefined (math.log raises), NumPy's
    log gives NaN and flags an invalid operation. batch_loss reports a ComputationError, with no
    RuntimeWarning on the way (kills errstate(invalid="ignore") → None / dropped in batch_loss)."""
    with pytest.raises(ValueError):
        math.log(-1.0)
    log_loss = losses.Loss(
        name="log_output",
        value=lambda a, t: np.log(a[:, 0]),
        gradient=lambda a, t: 1.0 / a,
        check=lambda a, t: None,
    )
    with no_warnings(), pytest.raises(ComputationError, match=r"^the loss log_output is not finite \(inf or NaN\)$"):
        batch_loss(one_neuron(), np.array([[-1.0]]), np.array([[0.0]]), log_loss)


def test_train_leaving_the_loss_domain_after_two_steps_says_steps():
    """Identity output, BCE, x = 0 (so a = b), t = 1, lr 3/16: δ = (a − 1)/(a(1 − a)) = −1/a, so
    b ← b + (3/16)/b: b = 1/2 → 7/8 → 7/8 + 3/14 = 61/56 ≈ 1.0892857, outside (0, 1). The third step
    fails: "after 2 steps" (kills the plural's condition and its "s" mutated)."""
    assert math.isclose(0.875 + 0.1875 / 0.875, 61 / 56, rel_tol=1e-15)
    with pytest.raises(ComputationError, match=r"^after 2 steps: the loss bce cannot apply: .* is 1\.08928571"):
        train(one_neuron("1", "0.5"), np.array([[0.0]]), np.array([[1.0]]), "bce", 0.1875, 3)


def test_train_overflow_names_the_step_or_the_final_loss():
    """a = w·x with w = 1, x = 1e154, t = 0, ½Σ(t − a)², lr 1: δ = 1e154, ∂L/∂w = 1e308 (finite), so
    w' = 1 − 1e308 = −1e308 and the next forward pass gives z = −1e308·1e154 = −inf. With two
    iterations step 2 fails ("step 2: …"); with one, the final loss does ("after 1 step: …")
    (kills i + 1 → i − 1 / i + 2, and the final message replaced by None)."""
    located = r"layer 1 \(output\), neuron o1, sample 1: z is an overflow \(inf\)$"
    x, t = np.array([[1e154]]), np.array([[0.0]])
    with pytest.raises(ComputationError, match=r"^step 2: " + located):
        train(one_neuron(), x, t, "half_sse", 1.0, 2)
    with pytest.raises(ComputationError, match=r"^after 1 step: " + located):
        train(one_neuron(), x, t, "half_sse", 1.0, 1)


# -- losses: the reasons a loss cannot apply --------------------------------------------------------


def test_cross_entropy_names_the_sample_whose_targets_do_not_sum_to_1():
    """Targets (0.5, 0.5) sum to 1, (0.5, 0.4) to 0.9: sample 2 is named (kills argmax(off) → argmax(None))."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[1], [1]]\n    activation: softmax\n")
    with pytest.raises(InputError, match=r"must sum to 1 \(a probability distribution\); sample 2's sum to 0\.9$"):
        backward(net, np.array([[0.0], [0.0]]), np.array([[0.5, 0.5], [0.5, 0.4]]), "cross_entropy")


def test_cross_entropy_names_the_first_negative_output():
    """Identity outputs a = (−1, −0.5)·x: x = −0.5 gives (0.5, 0.25), x = 0.5 gives (−0.5, −0.25).
    The first negative output is sample 2, output 1, −0.5 (kills the location and the value mutated)."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[-1], [-0.5]]\n    activation: identity\n")
    with pytest.raises(InputError, match=r"not negative; sample 2, output 1 is -0\.5$"):
        backward(net, np.array([[-0.5], [0.5]]), np.array([[0.5, 0.5], [0.5, 0.5]]), "cross_entropy")


def test_loss_check_names_the_first_non_finite_target_and_output():
    """Loss.check on its own (the backward pass refuses these earlier, with its own messages): the first
    non-finite value in row order is named with its place and value; t = ((1, NaN), (inf, 2)) → sample 1,
    output 2, nan; a = ((0, 1), (−inf, NaN)) → sample 2, output 1, -inf (kills the masks and values mutated)."""
    check = losses.REGISTRY["half_sse"].check
    finite = np.zeros((2, 2))
    targets = np.array([[1.0, math.nan], [math.inf, 2.0]])
    outputs = np.array([[0.0, 1.0], [-math.inf, math.nan]])
    assert check(finite, targets) == "targets must be finite numbers; sample 1, output 2 is nan"
    assert check(outputs, finite) == "outputs must be finite numbers; sample 2, output 1 is -inf"
    assert check(finite, finite) is None
