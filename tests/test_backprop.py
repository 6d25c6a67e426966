"""Backpropagation: published and hand-worked numbers, finite differences, losses, training, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from nncalc import losses
from nncalc.activations import REGISTRY
from nncalc.backprop import backward, batch_loss, train
from nncalc.engine import forward
from nncalc.errors import ComputationError, InputError
from nncalc.loader import load_network, parse_network
from tests.conftest import CONFIGS

CLASSIC_X = np.array([[0.05, 0.10]])
CLASSIC_T = np.array([[0.01, 0.99]])


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -- the classic 2-2-2 example, against its published numbers --------------------------------


def test_classic_total_error_and_output_delta():
    """E_total = 0.298371109 (E_o1 = 0.274811083 + E_o2 = 0.023560026); δ_o1 = 0.138498562."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    result = backward(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, freeze_biases=True)
    assert result.loss == pytest.approx(0.298371109, abs=1e-9)
    assert result.sample_losses.shape == (1,)
    assert result.sample_losses[0] == pytest.approx(0.274811083 + 0.023560026, abs=1e-9)
    output, hidden = result.layers[1], result.layers[0]
    assert output.delta.shape == (1, 2) and hidden.delta.shape == (1, 2)
    assert output.delta[0, 0] == pytest.approx(0.138498562, abs=1e-9)
    # published: ∂E/∂out_o2 = −0.217071535, out_o2 (1 − out_o2) = 0.175510053
    assert output.delta[0, 1] == pytest.approx(-0.217071535 * 0.175510053, abs=1e-9)
    # published: ∂E_total/∂out_h1 = 0.036350306, out_h1 (1 − out_h1) = 0.241300709
    assert hidden.delta[0, 0] == pytest.approx(0.036350306 * 0.241300709, abs=1e-9)
    # published: ∂E_total/∂w5 = 0.082167041
    assert output.grad_weights[0, 0] == pytest.approx(0.082167041, abs=1e-9)
    assert hidden.grad_weights[0, 0] == pytest.approx(0.000438568, abs=1e-9)


def test_classic_updated_weights():
    """The published weights after one step (lr 0.5, biases not updated)."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    result = backward(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, freeze_biases=True)
    hidden, output = result.layers
    assert output.weights == pytest.approx(np.array([[0.35891648, 0.408666186], [0.511301270, 0.561370121]]), abs=1e-8)
    assert hidden.weights == pytest.approx(np.array([[0.149780716, 0.19956143], [0.24975114, 0.29950229]]), abs=1e-8)
    assert np.array_equal(hidden.biases, [0.35, 0.35]) and np.array_equal(output.biases, [0.6, 0.6])
    # the returned network carries the same values
    assert np.array_equal(result.network.layers[0].weights, hidden.weights)
    assert np.array_equal(result.network.layers[1].weights, output.weights)
    assert np.array_equal(result.network.layers[1].biases, [0.6, 0.6])
    # the original network is untouched
    assert np.array_equal(net.layers[1].weights, [[0.40, 0.45], [0.50, 0.55]])


def test_classic_biases_change_without_freeze():
    """Without freeze_biases the weights are the same and each bias moves by −lr·δ."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    frozen = backward(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, freeze_biases=True)
    free = backward(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5)
    for a, b in zip(frozen.layers, free.layers, strict=True):
        assert np.array_equal(a.weights, b.weights)
    hidden, output = free.layers
    delta_o1, delta_o2 = 0.138498562, -0.217071535 * 0.175510053
    assert output.biases == pytest.approx([0.6 - 0.5 * delta_o1, 0.6 - 0.5 * delta_o2], abs=1e-9)
    assert hidden.biases[0] == pytest.approx(0.35 - 0.5 * 0.036350306 * 0.241300709, abs=1e-9)
    assert hidden.biases[0] != hidden.biases[1]
    assert np.array_equal(free.network.layers[1].biases, output.biases)


# -- the course's chain, worked by hand -------------------------------------------------------


def test_course_chain_by_hand():
    """x = 0.1, target 0.25, lr 0.4, ½(t − a)²: every δ, gradient and new parameter by the chain rule."""
    x, w1, b1, w2, b2, t, lr = 0.1, 0.15, 0.4, 0.45, 0.65, 0.25, 0.4
    z1 = w1 * x + b1
    a1 = sigma(z1)
    z2 = w2 * a1 + b2
    a2 = sigma(z2)
    error = 0.5 * (t - a2) ** 2
    dE_da2 = a2 - t
    da2_dz2 = a2 * (1 - a2)
    delta2 = dE_da2 * da2_dz2
    dE_dw2 = delta2 * a1
    dE_db2 = delta2
    dz2_da1 = w2  # the old weight
    da1_dz1 = a1 * (1 - a1)
    delta1 = delta2 * dz2_da1 * da1_dz1
    dE_dw1 = delta1 * x
    dE_db1 = delta1

    net = load_network(CONFIGS / "course-backprop.yaml")
    result = backward(net, np.array([[0.1]]), np.array([[0.25]]), "half_sse", 0.4)
    hidden, output = result.layers
    assert result.loss == pytest.approx(error, abs=1e-15)
    assert output.delta[0, 0] == pytest.approx(delta2, abs=1e-15)
    assert output.grad_weights[0, 0] == pytest.approx(dE_dw2, abs=1e-15)
    assert output.grad_biases[0] == pytest.approx(dE_db2, abs=1e-15)
    assert hidden.delta[0, 0] == pytest.approx(delta1, abs=1e-15)
    assert hidden.grad_weights[0, 0] == pytest.approx(dE_dw1, abs=1e-15)
    assert hidden.grad_biases[0] == pytest.approx(dE_db1, abs=1e-15)
    assert output.weights[0, 0] == pytest.approx(w2 - lr * dE_dw2, abs=1e-15)
    assert output.biases[0] == pytest.approx(b2 - lr * dE_db2, abs=1e-15)
    assert hidden.weights[0, 0] == pytest.approx(w1 - lr * dE_dw1, abs=1e-15)
    assert hidden.biases[0] == pytest.approx(b1 - lr * dE_db1, abs=1e-15)
    # the rounded values written in the config's comment
    assert (round(a2, 4), round(error, 4), round(delta2, 4), round(delta1, 4)) == (0.7153, 0.1082, 0.0948, 0.0102)
    assert (round(w2 - lr * dE_dw2, 4), round(b2 - lr * dE_db2, 4)) == (0.4272, 0.6121)
    assert (round(w1 - lr * dE_dw1, 4), round(b1 - lr * dE_db1, 4)) == (0.1496, 0.3959)


# -- finite differences -----------------------------------------------------------------------

# Where each activation's derivative jumps: z must stay clear of these.
KINKS = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "elu": (0.0,),
    "selu": (0.0,),
    "relu6": (0.0, 6.0),
    "hard_sigmoid": (-3.0, 3.0),
    "step": (0.0,),
}


def kinks(activation) -> tuple[float, ...]:
    if activation.name == "softplus":  # switches to z where beta·z > threshold
        return (float(activation.params["threshold"]) / float(activation.params["beta"]),)
    return KINKS.get(activation.name, ())


MARGIN = 1e-3


def plain_loss(name: str, a: np.ndarray, t: np.ndarray) -> float:
    """The batch loss written independently of nncalc.losses."""
    if name == "half_sse":
        return float(np.mean(0.5 * np.sum((t - a) ** 2, axis=1)))
    if name == "mse":
        return float(np.mean((t - a) ** 2))  # PyTorch: mean over every element
    if name == "cross_entropy":
        return float(np.mean(-np.sum(t * np.log(a), axis=1)))
    if name == "bce":
        return float(np.mean(-(t * np.log(a) + (1 - t) * np.log(1 - a))))
    raise AssertionError(name)


def activation_yaml(spec: str | dict) -> str:
    if isinstance(spec, str):
        return spec
    inner = ", ".join(f"{k}: {v}" for k, v in spec.items())
    return "{" + inner + "}"


def random_network(activations: list, sizes: list[int], rng: np.random.Generator):
    """A network with the given layer sizes and activations and normal random weights and biases."""
    lines = [f"inputs: {sizes[0]}", "layers:"]
    for spec, n_in, n_out in zip(activations, sizes, sizes[1:], strict=False):
        lines.append(f"  - neurons: {n_out}")
        lines.append(f"    weights: {[[0.0] * n_in for _ in range(n_out)]}")
        lines.append(f"    activation: {activation_yaml(spec)}")
    template = parse_network("\n".join(lines) + "\n")
    weights = [rng.normal(0.0, 0.8, size=(n_out, n_in)) for n_in, n_out in itertools.pairwise(sizes)]
    biases = [rng.normal(0.0, 0.5, size=n_out) for n_out in sizes[1:]]
    return template.with_parameters(weights, biases)


def clear_of_kinks(net, x: np.ndarray) -> bool:
    trace = forward(net, x)
    for layer, values in zip(net.layers, trace.layers, strict=True):
        for kink in kinks(layer.activation):
            if np.min(np.abs(values.z - kink)) < MARGIN:
                return False
    return True


def numeric_gradients(net, x: np.ndarray, t: np.ndarray, loss: str, eps: float = 1e-6):
    """Central differences of the batch loss for every weight and bias."""
    weights = [layer.weights.copy() for layer in net.layers]
    biases = [layer.biases.copy() for layer in net.layers]

    def loss_at(ws, bs) -> float:
        return plain_loss(loss, forward(net.with_parameters(ws, bs), x).output, t)

    grads_w, grads_b = [], []
    for k in range(len(weights)):
        gw = np.zeros_like(weights[k])
        for index in np.ndindex(gw.shape):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[k][index] += eps
            minus[k][index] -= eps
            gw[index] = (loss_at(plus, biases) - loss_at(minus, biases)) / (2 * eps)
        gb = np.zeros_like(biases[k])
        for j in range(gb.size):
            plus = [b.copy() for b in biases]
            minus = [b.copy() for b in biases]
            plus[k][j] += eps
            minus[k][j] -= eps
            gb[j] = (loss_at(weights, plus) - loss_at(weights, minus)) / (2 * eps)
        grads_w.append(gw)
        grads_b.append(gb)
    return grads_w, grads_b


def draw(activations: list, sizes: list[int], samples: int, seed: int, targets):
    """A random network and batch whose every z is clear of the activations' kinks."""
    for attempt in range(100):
        rng = np.random.default_rng(seed * 1000 + attempt)
        net = random_network(activations, sizes, rng)
        x = rng.normal(0.0, 1.0, size=(samples, sizes[0]))
        if clear_of_kinks(net, x):
            return net, x, targets(rng, samples, sizes[-1])
    raise AssertionError("no draw clear of the kinks")


def regression_targets(rng, samples, n):
    return rng.normal(0.0, 1.0, size=(samples, n))


def distribution_targets(rng, samples, n):
    raw = rng.uniform(0.1, 1.0, size=(samples, n))
    return raw / raw.sum(axis=1, keepdims=True)


def probability_targets(rng, samples, n):
    return rng.uniform(0.0, 1.0, size=(samples, n))


def assert_matches_finite_differences(net, x, t, loss):
    result = backward(net, x, t, loss, lr=0.1)
    assert result.loss == pytest.approx(plain_loss(loss, forward(net, x).output, t), abs=1e-12)
    numeric_w, numeric_b = numeric_gradients(net, x, t, loss)
    for k, layer in enumerate(result.layers):
        assert layer.grad_weights.shape == net.layers[k].weights.shape
        assert layer.grad_biases.shape == net.layers[k].biases.shape
        assert layer.delta.shape == (x.shape[0], net.layers[k].n_neurons)
        assert np.allclose(layer.grad_weights, numeric_w[k], rtol=0, atol=1e-6), (k, layer.grad_weights, numeric_w[k])
        assert np.allclose(layer.grad_biases, numeric_b[k], rtol=0, atol=1e-6), (k, layer.grad_biases, numeric_b[k])
        # and the step uses them
        assert np.allclose(layer.weights, net.layers[k].weights - 0.1 * layer.grad_weights, rtol=0, atol=1e-15)
        assert np.allclose(layer.biases, net.layers[k].biases - 0.1 * layer.grad_biases, rtol=0, atol=1e-15)
    return result


VARIANTS = [
    *REGISTRY,
    {"name": "leaky_relu", "negative_slope": 0.2},
    {"name": "elu", "alpha": 0.5},
    {"name": "softplus", "beta": 2, "threshold": 5},
    {"name": "gelu", "approximate": "tanh"},
]


def _id(spec) -> str:
    return spec if isinstance(spec, str) else "-".join(str(v) for v in spec.values())


def test_every_activation_is_covered():
    assert set(REGISTRY) <= {v if isinstance(v, str) else v["name"] for v in VARIANTS}


@pytest.mark.parametrize("samples", [1, 3])
@pytest.mark.parametrize("loss", ["half_sse", "mse"])
@pytest.mark.parametrize("activation", VARIANTS, ids=_id)
def test_finite_differences_every_activation(activation, loss, samples):
    """Three layers, all with the activation under test, against central differences."""
    seed = sorted(REGISTRY).index(_id(activation).split("-")[0]) + 17 * samples
    layers = [activation] * 3 if activation != "exp" else ["tanh", "tanh", "exp"]  # e^e^e^z overflows
    net, x, t = draw(layers, [3, 4, 3, 2], samples, seed, regression_targets)
    result = assert_matches_finite_differences(net, x, t, loss)
    if activation == "step":
        assert all(not layer.grad_weights.any() and not layer.grad_biases.any() for layer in result.layers)


@pytest.mark.parametrize("samples", [1, 3])
@pytest.mark.parametrize("hidden", ["tanh", "relu", "softmax"])
def test_finite_differences_softmax_cross_entropy(hidden, samples):
    """Softmax output with cross-entropy: the combined δ = a − t."""
    net, x, t = draw([hidden, "softmax"], [3, 4, 3], samples, 5 + samples, distribution_targets)
    assert np.allclose(t.sum(axis=1), 1.0)
    result = assert_matches_finite_differences(net, x, t, "cross_entropy")
    assert np.allclose(result.layers[-1].delta, forward(net, x).output - t, rtol=0, atol=1e-15)


@pytest.mark.parametrize("samples", [1, 3])
def test_finite_differences_sigmoid_bce(samples):
    """Sigmoid output with BCE: the combined δ = (a − t)/n."""
    net, x, t = draw(["tanh", "sigmoid"], [3, 4, 3], samples, 7 + samples, probability_targets)
    result = assert_matches_finite_differences(net, x, t, "bce")
    assert np.allclose(result.layers[-1].delta, (forward(net, x).output - t) / 3, rtol=0, atol=1e-15)


@pytest.mark.parametrize("samples", [1, 3])
def test_finite_differences_cross_entropy_general_path(samples):
    """Cross-entropy on a sigmoid output (targets summing to 1): the chain rule through −t/a."""
    net, x, t = draw(["tanh", "sigmoid"], [3, 4, 3], samples, 11 + samples, distribution_targets)
    result = assert_matches_finite_differences(net, x, t, "cross_entropy")
    a = forward(net, x).output
    assert np.allclose(result.layers[-1].delta, -t / a * a * (1 - a), rtol=0, atol=1e-12)


@pytest.mark.parametrize("samples", [1, 3])
def test_finite_differences_bce_general_path(samples):
    """BCE on a softmax output (inside (0, 1)): the chain rule through the softmax Jacobian."""
    net, x, t = draw(["tanh", "softmax"], [3, 4, 3], samples, 13 + samples, probability_targets)
    assert_matches_finite_differences(net, x, t, "bce")


def test_batch_gradient_is_the_mean_of_sample_gradients():
    """∂L/∂W of a batch is the mean of each sample's own; δ rows are each sample's."""
    net, x, t = draw(["tanh", "sigmoid"], [3, 4, 2], 3, 23, probability_targets)
    together = backward(net, x, t, "half_sse", 0.3)
    alone = [backward(net, x[s : s + 1], t[s : s + 1], "half_sse", 0.3) for s in range(3)]
    for k, layer in enumerate(together.layers):
        mean_w = sum(r.layers[k].grad_weights for r in alone) / 3
        mean_b = sum(r.layers[k].grad_biases for r in alone) / 3
        assert np.allclose(layer.grad_weights, mean_w, rtol=0, atol=1e-15)
        assert np.allclose(layer.grad_biases, mean_b, rtol=0, atol=1e-15)
        for s in range(3):
            assert np.allclose(layer.delta[s], alone[s].layers[k].delta[0], rtol=0, atol=1e-15)
    assert together.loss == pytest.approx(np.mean([r.loss for r in alone]), abs=1e-15)
    assert np.allclose(together.sample_losses, [r.loss for r in alone], rtol=0, atol=1e-15)


# -- the losses -------------------------------------------------------------------------------


def test_loss_registry():
    """Each loss is written in symbols as the textbooks write it, in a and t (n outputs)."""
    from nncalc.notation.formula import TextWriter

    assert list(losses.REGISTRY) == ["half_sse", "mse", "cross_entropy", "bce"]
    written = {name: TextWriter().write(loss.symbols) for name, loss in losses.REGISTRY.items()}
    assert written == {
        "half_sse": "½ · Σ (t − a)²",
        "mse": "(1 / n) · Σ (t − a)²",
        "cross_entropy": "−Σ t · ln(a)",
        "bce": "(1 / n) · Σ (−(t · ln(a) + (1 − t) · ln(1 − a)))",
    }


def test_loss_values_by_hand():
    """Per-sample values of each loss for two samples, written out per scalar."""
    a = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    t = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    half = [0.5 * ((0.2) ** 2 + (0.3) ** 2 + (0.1) ** 2), 0.5 * ((0.3) ** 2 + (0.05) ** 2 + (0.25) ** 2)]
    mse = [((0.2) ** 2 + (0.3) ** 2 + (0.1) ** 2) / 3, ((0.3) ** 2 + (0.05) ** 2 + (0.25) ** 2) / 3]
    ce = [-math.log(0.7), -(0.2 * math.log(0.5) + 0.3 * math.log(0.25) + 0.5 * math.log(0.25))]

    def b(a_, t_):
        return -(t_ * math.log(a_) + (1 - t_) * math.log(1 - a_))

    bce = [(b(0.2, 0) + b(0.7, 1) + b(0.1, 0)) / 3, (b(0.5, 0.2) + b(0.25, 0.3) + b(0.25, 0.5)) / 3]
    for name, expected in (("half_sse", half), ("mse", mse), ("cross_entropy", ce), ("bce", bce)):
        loss = losses.REGISTRY[name]
        assert loss.check(a, t) is None
        values = loss.value(a, t)
        assert values.shape == (2,)
        assert values == pytest.approx(expected, abs=1e-15), name
        assert loss.batch(a, t) == pytest.approx(sum(expected) / 2, abs=1e-15), name


def test_mse_is_the_mean_over_outputs():
    """mse = (1/n)·Σ(t − a)², so with n outputs it is (2/n)·half_sse; one output: 2·half_sse."""
    a = np.array([[1.0, 2.0, 3.0]])
    t = np.zeros((1, 3))
    assert losses.REGISTRY["mse"].value(a, t)[0] == pytest.approx(14 / 3)
    assert losses.REGISTRY["half_sse"].value(a, t)[0] == pytest.approx(7.0)
    assert losses.REGISTRY["mse"].gradient(a, t) == pytest.approx(np.array([[2 / 3, 4 / 3, 2.0]]))


@pytest.mark.parametrize("name", list(losses.REGISTRY))
def test_loss_gradients_match_finite_differences(name):
    """Each loss's ∂(sample loss)/∂a against central differences of its own value."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0.1, 0.9, size=(2, 3))
    t = distribution_targets(rng, 2, 3)
    loss = losses.REGISTRY[name]
    grad = loss.gradient(a, t)
    eps = 1e-6
    for index in np.ndindex(a.shape):
        plus, minus = a.copy(), a.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric = (loss.value(plus, t)[index[0]] - loss.value(minus, t)[index[0]]) / (2 * eps)
        assert grad[index] == pytest.approx(numeric, abs=1e-7)


def test_batch_loss_is_the_mean_of_sample_losses():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    x = np.array([[0.05, 0.10], [1.0, 2.0], [-0.5, 0.3]])
    t = np.array([[0.01, 0.99], [0.5, 0.5], [0.9, 0.1]])
    result = backward(net, x, t, "mse")
    per_sample = [float(np.mean((t[s] - forward(net, x[s : s + 1]).output[0]) ** 2)) for s in range(3)]
    assert result.sample_losses == pytest.approx(per_sample, abs=1e-15)
    assert result.loss == pytest.approx(sum(per_sample) / 3, abs=1e-15)
    assert batch_loss(net, x, t, "mse") == pytest.approx(sum(per_sample) / 3, abs=1e-15)


def test_cross_entropy_accepts_zero_output_where_target_is_zero():
    """A softmax can underflow to exactly 0; with target 0 there the loss is 0·ln 0 = 0."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[0], [800]]\n    activation: softmax\n")
    result = backward(net, np.array([[1.0]]), np.array([[0.0, 1.0]]), "cross_entropy")
    assert forward(net, np.array([[1.0]])).output[0, 0] == 0.0
    assert result.loss == 0.0
    with pytest.raises(InputError, match="greater than 0 where the target is not 0"):
        backward(net, np.array([[1.0]]), np.array([[1.0, 0.0]]), "cross_entropy")


# -- training ---------------------------------------------------------------------------------


def test_train_loss_falls_on_the_classic_example():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    seen = []
    final, history = train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 100, on_step=lambda i, r: seen.append((i, r)))
    assert history.shape == (101,)
    assert history[0] == pytest.approx(0.298371109, abs=1e-9)
    assert np.all(np.diff(history) < 0)
    assert history[-1] < 0.5 * history[0]
    assert [i for i, _ in seen] == list(range(100))
    assert [r.loss for _, r in seen] == list(history[:100])
    assert seen[-1][1].network is final
    assert history[-1] == pytest.approx(batch_loss(final, CLASSIC_X, CLASSIC_T), abs=1e-15)


def test_train_zero_iterations():
    """No step: the same network, and only the initial loss."""
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    calls = []
    training = train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 0, on_step=lambda i, r: calls.append(i))
    assert training.network is net
    assert training.losses.tolist() == [pytest.approx(0.298371109, abs=1e-9)]
    assert training.initial_loss == training.final_loss
    assert calls == []


def test_train_one_iteration_is_one_backward_step():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    step = backward(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, freeze_biases=True)
    final, history = train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, 1, freeze_biases=True)
    assert len(history) == 2
    assert history[0] == step.loss
    assert history[1] == batch_loss(step.network, CLASSIC_X, CLASSIC_T)
    assert history[1] < history[0]
    for mine, theirs in zip(final.layers, step.network.layers, strict=True):
        assert np.array_equal(mine.weights, theirs.weights)
        assert np.array_equal(mine.biases, theirs.biases)
    assert final.layers[1].weights[0, 0] == pytest.approx(0.35891648, abs=1e-8)


def test_train_that_diverges_names_the_step():
    """Too large a learning rate overflows; the error says at which step, and is not the user's input."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1\n    activation: identity\n")
    with pytest.raises(ComputationError, match=r"^step \d+: .*not finite"):
        train(net, np.array([[10.0]]), np.array([[0.0]]), "half_sse", 100.0, 1000)


# -- errors -----------------------------------------------------------------------------------


def test_wrong_number_of_targets():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    with pytest.raises(InputError, match=r"expected 2 targets per sample \(one per output neuron: o1, o2\), got 1"):
        backward(net, CLASSIC_X, np.array([[0.01]]))
    with pytest.raises(InputError, match=r"expected 2 targets per sample.*got 3"):
        backward(net, CLASSIC_X, np.array([[0.01, 0.99, 0.5]]))
    with pytest.raises(InputError, match="targets for 2 samples but inputs for 1"):
        backward(net, CLASSIC_X, np.array([[0.01, 0.99], [0.5, 0.5]]))
    with pytest.raises(InputError, match=r"one row per sample of 2 values \(one per output neuron: o1, o2\)"):
        backward(net, CLASSIC_X, np.array([0.01, 0.99]))
    with pytest.raises(InputError, match="no samples"):
        backward(net, np.zeros((0, 2)), np.zeros((0, 2)))


def test_cross_entropy_targets_must_sum_to_one():
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[1], [2]]\n    activation: softmax\n")
    with pytest.raises(InputError, match=r"cross_entropy.*must sum to 1.*sample 1's sum to 1\.1"):
        backward(net, np.array([[0.5]]), np.array([[0.5, 0.6]]), "cross_entropy")
    with pytest.raises(InputError, match="between 0 and 1"):
        backward(net, np.array([[0.5]]), np.array([[1.5, -0.5]]), "cross_entropy")
    # typed decimals that sum to 1 only approximately are fine
    backward(net, np.array([[0.5]]), np.array([[0.1 + 0.2, 0.7]]), "cross_entropy")


def test_bce_outputs_must_be_inside_0_1():
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1\n    activation: identity\n")
    with pytest.raises(InputError, match=r"bce.*strictly between 0 and 1.*sample 1, output 1 is 1\.5"):
        backward(net, np.array([[1.5]]), np.array([[1.0]]), "bce")
    with pytest.raises(InputError, match="targets must be between 0 and 1"):
        backward(net, np.array([[0.5]]), np.array([[2.0]]), "bce")


def test_unknown_loss_names_the_known_ones():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    with pytest.raises(InputError, match=r"unknown loss 'mes'; did you mean 'mse'.*half_sse, mse, cross_entropy, bce"):
        backward(net, CLASSIC_X, CLASSIC_T, "mes")


def test_other_bad_arguments():
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    with pytest.raises(InputError, match="learning rate"):
        backward(net, CLASSIC_X, CLASSIC_T, lr=-0.1)
    with pytest.raises(InputError, match="learning rate"):
        backward(net, CLASSIC_X, CLASSIC_T, lr=float("nan"))
    with pytest.raises(InputError, match=r"targets must be finite.*sample 1, o2"):
        backward(net, CLASSIC_X, np.array([[0.01, float("inf")]]))
    with pytest.raises(InputError, match="iterations"):
        train(net, CLASSIC_X, CLASSIC_T, "half_sse", 0.5, -1)
