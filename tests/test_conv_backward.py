"""Backpropagation through convolution, pooling and flatten.

Checked against central finite differences of the batch loss in NumPy (always run), against
PyTorch's autograd and optimizers in float64 where PyTorch is installed, and on the CLI: the
JSON's shapes, ``--write``, ``-n 3`` as three single steps, every notation rendering, and
the LaTeX compiling without running into the margin.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nncalc import convolution
from nncalc.backprop import backward, batch_loss, train
from nncalc.convolution import pool2d_input_gradient
from nncalc.loader import load_network
from nncalc.network import Network
from nncalc.optimizers import parse_optimizer
from tests.conftest import CONFIGS

TEXTBOOK = CONFIGS / "conv-textbook.yaml"
IMAGE = CONFIGS / "conv-image.yaml"
IMAGE_VALUES = [2, 3, 3, 0, 1, 3, 2, 3, 1, 0, 3, 3, 2, 0, 0, 2, 3, 3, 1, 0, 3, 2, 3, 0, 1]


def network(kind: str, seed: int = 0) -> Network:
    """Small CNNs with every feature: several channels, stride, padding, overlapping pooling."""
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> list:
        return rng.normal(scale=0.5, size=shape).round(3).tolist()

    if kind == "deep":  # 2×6×7 → conv 3×(3×2) stride (2,1) pad 1 → max 2 s1 p1 → avg 2 s2 p1 → flatten → dense
        layers = [
            {"type": "conv2d", "weights": r(3, 2, 3, 2), "biases": r(3), "stride": [2, 1], "padding": 1},
            {"type": "maxpool2d", "kernel_size": 2, "stride": 1, "padding": 1},
            {"type": "avgpool2d", "kernel_size": 2, "stride": 2, "padding": 1},
            {"type": "flatten"},
            {"weights": r(4, 45), "biases": r(4), "activation": "softmax"},
        ]
        layers[0]["activation"] = "tanh"
        shape = [2, 6, 7]
    elif kind == "two-convs":  # conv → relu → conv → sigmoid, then flatten to a sigmoid layer
        layers = [
            {"type": "conv2d", "weights": r(2, 1, 3, 3), "biases": r(2), "padding": 1, "activation": "relu"},
            {"type": "conv2d", "weights": r(3, 2, 2, 2), "biases": r(3), "stride": 2, "activation": "sigmoid"},
            {"type": "flatten"},
            {"weights": r(2, 12), "biases": r(2), "activation": "sigmoid"},
        ]
        shape = [1, 5, 5]
    else:  # "ties": integer kernels on integer images, so windows of the max pooling tie
        layers = [
            {"type": "conv2d", "weights": [[[[1, 1], [0, 0]]], [[[0, 1], [1, 0]]]], "biases": [0, 1]},
            {"type": "maxpool2d", "kernel_size": 2, "stride": 1},
            {"type": "flatten"},
            {"weights": r(2, 18), "biases": r(2), "activation": "softmax"},
        ]
        shape = [1, 5, 5]
    return Network.from_dict({"inputs": {"shape": shape}, "layers": layers}, f"<{kind}>")


def batch_of(net: Network, samples: int, seed: int = 1, integers: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if integers:
        return rng.integers(0, 3, size=(samples, net.n_inputs)).astype(np.float64)
    return rng.normal(size=(samples, net.n_inputs))


def targets_of(net: Network, samples: int, seed: int = 2) -> np.ndarray:
    """One-hot targets (for cross-entropy), a different class per sample."""
    n = len(net.outputs)
    return np.eye(n)[np.arange(samples) % n]


CASES = {  # network, loss, integer inputs
    "deep": ("deep", "cross_entropy", False),
    "two-convs": ("two-convs", "half_sse", False),
    "ties": ("ties", "cross_entropy", True),
}


# -- finite differences (always run) ---------------------------------------------------------------


def _central(net: Network, x: np.ndarray, t: np.ndarray, loss: str, layer: int, which: str, h: float = 1e-6):
    """The central difference of the batch loss along every entry of one layer's weights or biases."""
    layers = list(net.layers)
    base = getattr(layers[layer], which)
    out = np.empty(base.shape)
    for index in np.ndindex(base.shape):
        values = []
        for step in (h, -h):
            changed = base.copy()
            changed[index] += step
            weights = [
                changed if (k == layer and which == "weights") else _params(lay)[0] for k, lay in enumerate(layers)
            ]
            biases = [
                changed if (k == layer and which == "biases") else _params(lay)[1] for k, lay in enumerate(layers)
            ]
            values.append(batch_loss(net.with_parameters(weights, biases), x, t, loss))
        out[index] = (values[0] - values[1]) / (2 * h)
    return out


def _params(layer):
    return (layer.weights, layer.biases) if layer.dense else layer.parameter_arrays


def _same_parameters(a: Network, b: Network) -> bool:
    """Every weight and bias equal, bit for bit."""
    return all(
        np.array_equal(_params(x)[0], _params(y)[0]) and np.array_equal(_params(x)[1], _params(y)[1])
        for x, y in zip(a.layers, b.layers, strict=True)
    )


@pytest.mark.parametrize("case", ["deep", "two-convs"])
def test_every_gradient_matches_central_differences(case):
    kind, loss, integers = CASES[case]
    net = network(kind)
    x = batch_of(net, 3, integers=integers)
    t = targets_of(net, 3)
    result = backward(net, x, t, loss, lr=0.1)
    checked = 0
    for k, layer in enumerate(net.layers):
        if layer.n_params == 0:
            assert result.layers[k].grad_weights.size == 0
            continue
        for which, got in (("weights", result.layers[k].grad_weights), ("biases", result.layers[k].grad_biases)):
            want = _central(net, x, t, loss, k, which)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
            checked += 1
    assert checked >= 4


def test_the_textbook_kernel_gradient_matches_central_differences():
    net = load_network(TEXTBOOK)
    x = np.array([IMAGE_VALUES], dtype=np.float64)
    t = np.array([[0.0, 1.0]])
    result = backward(net, x, t, "cross_entropy", lr=0.1)
    grad = result.layers[0].grad_weights
    assert grad.shape == (1, 1, 3, 3) and np.abs(grad).max() > 1e-3
    np.testing.assert_allclose(grad, _central(net, x, t, "cross_entropy", 0, "weights"), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        result.layers[0].grad_biases, _central(net, x, t, "cross_entropy", 0, "biases"), rtol=1e-6, atol=1e-9
    )
    # plain gradient descent: W′ = W − lr·∂L/∂W, kernel-shaped, and the text of the new kernel
    new = result.network.layers[0]
    assert np.array_equal(new.weights, net.layers[0].weights - 0.1 * grad)
    assert new.weight_text[0][0][1][2] == repr(float(new.weights[0, 0, 1, 2]))


def test_max_pooling_sends_delta_to_the_first_max_of_a_window_by_hand():
    # one 3×3 map, 2×2 windows with stride 1: every window's max is 5, held by several cells
    x = np.array([[5, 5, 1, 5, 5, 5, 0, 5, 2]], dtype=np.float64)
    delta = np.array([[1.0, 10.0, 100.0, 1000.0]])
    got = pool2d_input_gradient(delta, x, (1, 3, 3), (2, 2), (1, 1), (0, 0), "max")
    # window [0,0] → cell (0,0); [0,1] → (0,1); [1,0] → (1,0); [1,1] → (1,1), each the first 5 it scans
    assert got.tolist() == [[1.0, 10.0, 0.0, 100.0, 1000.0, 0.0, 0.0, 0.0, 0.0]]


def test_max_pooling_sends_delta_to_the_last_nan_of_a_window_by_hand():
    # PyTorch's scan takes a value when val > max or isnan(val): a NaN wins its window, the last
    # NaN of several, and a larger number after it does not take its place
    x = np.array([[np.nan, 1, np.nan, 2, np.nan, 0]])  # a 2×3 map, 2×2 windows, stride 1
    got = pool2d_input_gradient(np.array([[1.0, 10.0]]), x, (1, 2, 3), (2, 2), (1, 1), (0, 0), "max")
    assert got.tolist() == [[0.0, 0.0, 0.0, 0.0, 11.0, 0.0]]  # both windows' last NaN is cell (1, 1)
    x = np.array([[np.nan, 5, 1, 2]])  # one 2×2 window: the NaN comes first and stays
    got = pool2d_input_gradient(np.array([[7.0]]), x, (1, 2, 2), (2, 2), (1, 1), (0, 0), "max")
    assert got.tolist() == [[7.0, 0.0, 0.0, 0.0]]


def _scanned_max_pool_gradient(delta, x, shape, kernel, stride, padding):
    """∂L/∂x of max pooling one window at a time, as PyTorch's kernel scans it (−∞ padding)."""
    channels, height, width = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    rows, cols = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    maps = x.reshape(-1, channels, height, width)
    back = delta.reshape(-1, channels, rows, cols)
    out = np.zeros(maps.shape)
    for s, c, r, k in np.ndindex(back.shape):
        best, where = None, None
        for i in range(kh):
            for j in range(kw):
                row, col = r * sh + i - ph, k * sw + j - pw
                inside = 0 <= row < height and 0 <= col < width
                value = maps[s, c, row, col] if inside else -math.inf
                if best is None or value > best or math.isnan(value):
                    best, where = value, (row, col) if inside else None
        if where is not None:
            out[s, c, where[0], where[1]] += back[s, c, r, k]
    return out.reshape(x.shape[0], -1)


@pytest.mark.parametrize("block", [None, 7])
def test_max_pooling_gradient_is_the_window_by_window_scan_with_ties_nans_and_infinities(monkeypatch, block):
    """Random maps of few distinct values (ties, NaN, ±∞, ±0), kernels, strides and paddings, against
    the scan one window at a time; δ are whole numbers, so the sums do not depend on their order.
    With ``block``, the windows' winners are found a sample or two at a time."""
    if block is not None:
        monkeypatch.setattr(convolution, "WINNER_VALUES", block)
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(300):
        shape = tuple(int(n) for n in rng.integers(1, 6, size=3))
        kernel = tuple(int(rng.integers(1, min(n, 3) + 1)) for n in shape[1:])
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        stride = tuple(int(n) for n in rng.integers(1, 3, size=2))
        rows, cols = ((n + 2 * p - k) // s + 1 for n, k, s, p in zip(shape[1:], kernel, stride, padding, strict=True))
        x = rng.choice([0.0, -0.0, 1.0, 2.0, np.nan, np.inf, -np.inf], size=(3, math.prod(shape)))
        delta = rng.integers(-5, 6, size=(3, shape[0] * rows * cols)).astype(np.float64)
        got = pool2d_input_gradient(delta, x, shape, kernel, stride, padding, "max")
        want = _scanned_max_pool_gradient(delta, x, shape, kernel, stride, padding)
        assert np.array_equal(got, want), (shape, kernel, stride, padding)
        checked += 1
    assert checked == 300


def test_average_pooling_shares_delta_padding_included_by_hand():
    x = np.zeros((1, 4))
    delta = np.array([[4.0, 8.0, 12.0, 16.0]])  # a 2×2 map, 2×2 windows, stride 2, padding 1: 2×2 out
    got = pool2d_input_gradient(delta, x, (1, 2, 2), (2, 2), (2, 2), (1, 1), "avg")
    assert got.tolist() == [[1.0, 2.0, 3.0, 4.0]]  # each cell is in one window, a quarter of its δ


def test_train_is_repeated_backward_bit_for_bit_with_and_without_an_optimizer():
    net = network("deep")
    x, t = batch_of(net, 2), targets_of(net, 2)
    for optimizer in (None, parse_optimizer("adam", "optimizer")):
        current, state = net, None
        losses = []
        for _ in range(3):
            step = backward(current, x, t, "cross_entropy", 0.05, optimizer=optimizer, state=state)
            losses.append(step.loss)
            current, state = step.network, step.state
        trained = train(net, x, t, "cross_entropy", 0.05, 3, optimizer=optimizer)
        assert trained.losses[:3].tolist() == losses
        for got, want in zip(trained.network.layers, current.layers, strict=True):
            assert np.array_equal(_params(got)[0], _params(want)[0]) and np.array_equal(
                _params(got)[1], _params(want)[1]
            )
        assert trained.losses[-1] < trained.losses[0]


def test_frozen_biases_stay_and_the_kernel_moves():
    net = network("two-convs")
    x, t = batch_of(net, 2), targets_of(net, 2)
    result = backward(net, x, t, lr=0.5, freeze_biases=True)
    for k in (0, 1):
        assert np.array_equal(result.network.layers[k].biases, net.layers[k].biases)
        assert not np.array_equal(result.network.layers[k].weights, net.layers[k].weights)


# -- PyTorch ------------------------------------------------------------------------------------


def _torch_forward(net: Network, x: np.ndarray):
    """The network in PyTorch float64, each z kept with its gradient: (output a, zs, parameters)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    a = torch.tensor(x.reshape(x.shape[0], *net.input_shape))
    zs, params, outs = [], [], []
    for layer in net.layers:
        if layer.kind == "conv2d":
            w = torch.tensor(np.array(layer.weights), requires_grad=True)
            b = torch.tensor(np.array(layer.biases), requires_grad=True)
            params.append((w, b))
            z = F.conv2d(a, w, b, stride=layer.stride, padding=layer.padding)
        elif layer.kind == "maxpool2d":
            z = F.max_pool2d(a, layer.kernel_size, layer.stride, layer.padding)
        elif layer.kind == "avgpool2d":
            z = F.avg_pool2d(a, layer.kernel_size, layer.stride, layer.padding, count_include_pad=True)
        elif layer.kind == "flatten":
            z = a.flatten(1)
        else:
            w = torch.tensor(np.array(layer.weights), requires_grad=True)
            b = torch.tensor(np.array(layer.biases), requires_grad=True)
            params.append((w, b))
            z = a @ w.T + b
        z.retain_grad()
        zs.append(z)
        name = layer.activation.name if layer.has_activation else "identity"
        a = {
            "identity": lambda v: v,
            "relu": torch.relu,
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "softmax": lambda v: torch.softmax(v, dim=1),
        }[name](z)
        if a is z:  # pooling and flatten: a is z
            a = z * 1.0
        a.retain_grad()
        outs.append(a)
    _torch_forward.outs = outs  # each layer's a, with its gradient once the loss is backpropagated
    return a, zs, params


def _torch_loss(a, t, loss: str):
    torch = pytest.importorskip("torch")
    target = torch.tensor(t)
    if loss == "cross_entropy":
        return -(target * torch.log(a)).sum(dim=1).mean()
    return 0.5 * ((a - target) ** 2).sum(dim=1).mean()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_delta_and_gradient_matches_autograd(case):
    kind, loss, integers = CASES[case]
    net = network(kind)
    samples = 3
    x, t = batch_of(net, samples, integers=integers), targets_of(net, samples)
    a, zs, params = _torch_forward(net, x)
    _torch_loss(a, t, loss).backward()
    result = backward(net, x, t, loss, lr=0.1)
    with_params = [k for k, layer in enumerate(net.layers) if layer.n_params]
    for k, z in enumerate(zs):  # δ is of each sample's loss: the batch mean's gradient times the batch
        want = (z.grad.numpy() * samples).reshape(samples, -1)
        np.testing.assert_allclose(result.layers[k].delta, want, rtol=0, atol=1e-12)
    for k, a_k in enumerate(_torch_forward.outs[:-1]):  # ∂L/∂a as the layer above passed it down
        want = (a_k.grad.numpy() * samples).reshape(samples, -1)
        np.testing.assert_allclose(result.layers[k].upstream, want, rtol=0, atol=1e-12)
    assert result.layers[-1].upstream is None
    for k, (w, b) in zip(with_params, params, strict=True):
        assert result.layers[k].grad_weights.shape == tuple(w.shape)
        np.testing.assert_allclose(result.layers[k].grad_weights, w.grad.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(result.layers[k].grad_biases, b.grad.numpy(), rtol=0, atol=1e-12)


def test_tied_windows_route_as_pytorch_does():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for kernel, stride, padding in (((2, 2), (1, 1), (0, 0)), ((3, 2), (2, 1), (1, 1)), ((3, 3), (1, 1), (1, 1))):
        x = rng.integers(0, 2, size=(2, 3 * 6 * 5)).astype(np.float64)  # mostly ties
        xt = torch.tensor(x.reshape(2, 3, 6, 5), requires_grad=True)
        out = torch.nn.functional.max_pool2d(xt, kernel, stride, padding)
        g = rng.normal(size=out.shape)
        out.backward(torch.tensor(g))
        got = pool2d_input_gradient(g.reshape(2, -1), x, (3, 6, 5), kernel, stride, padding, "max")
        # a wrong pick among tied cells is off by a whole δ; a cell in several windows sums them in another order
        np.testing.assert_allclose(got, xt.grad.numpy().reshape(2, -1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_an_optimizer_step_matches_torch_optim(optimizer):
    torch = pytest.importorskip("torch")
    net = network("deep")
    x, t = batch_of(net, 2), targets_of(net, 2)
    options = {"sgd": "{name: sgd, momentum: 0.9}", "adam": "adam"}[optimizer]
    bound = parse_optimizer(options, "optimizer")
    _, _, params = _torch_forward(net, x)
    flat = [p for pair in params for p in pair]
    made = torch.optim.SGD(flat, lr=0.05, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam(flat, lr=0.05)
    current, state = net, None
    for _ in range(2):  # the second step uses the state (momentum, m and v) of the first
        made.zero_grad()
        a, _, _ = _torch_forward_with(net, x, params)
        _torch_loss(a, t, "cross_entropy").backward()
        made.step()
        step = backward(current, x, t, "cross_entropy", 0.05, optimizer=bound, state=state)
        current, state = step.network, step.state
    moved = [k for k, layer in enumerate(net.layers) if layer.n_params]
    for k, (w, b) in zip(moved, params, strict=True):
        np.testing.assert_allclose(current.layers[k].weights, w.detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(current.layers[k].biases, b.detach().numpy(), rtol=0, atol=1e-12)


def _torch_forward_with(net: Network, x: np.ndarray, params):
    """``_torch_forward`` with the given parameter tensors (those an optimizer steps)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    a = torch.tensor(x.reshape(x.shape[0], *net.input_shape))
    pairs = iter(params)
    for layer in net.layers:
        if layer.kind == "conv2d":
            w, b = next(pairs)
            z = F.conv2d(a, w, b, stride=layer.stride, padding=layer.padding)
        elif layer.kind == "maxpool2d":
            z = F.max_pool2d(a, layer.kernel_size, layer.stride, layer.padding)
        elif layer.kind == "avgpool2d":
            z = F.avg_pool2d(a, layer.kernel_size, layer.stride, layer.padding)
        elif layer.kind == "flatten":
            z = a.flatten(1)
        else:
            w, b = next(pairs)
            z = a @ w.T + b
        name = layer.activation.name if layer.has_activation else "identity"
        a = {"identity": lambda v: v, "tanh": torch.tanh, "softmax": lambda v: torch.softmax(v, dim=1)}[name](z)
    return a, None, None


# -- the command --------------------------------------------------------------------------------


def test_the_textbook_backward_gives_maps_and_kernel_shaped_gradients(nncalc):
    result = nncalc("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "1,0", "--loss", "cross_entropy", "-f", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    conv, pool, flatten, dense = data["layers"]
    assert (conv["type"], conv["shape"]) == ("conv2d", [1, 3, 3])
    assert np.array(conv["delta"]).shape == (1, 1, 3, 3)  # a sample, then (channels, height, width)
    assert np.array(conv["grad_weights"]).shape == np.array(conv["weights"]).shape == (1, 1, 3, 3)
    assert np.array(conv["grad_biases"]).shape == (1,)
    assert np.array(pool["delta"]).shape == (1, 1, 2, 2) and "grad_weights" not in pool
    assert np.array(flatten["delta"]).shape == (1, 4)
    assert np.array(dense["grad_weights"]).shape == (2, 4)
    # the flatten passes δ on unchanged: the pooling's δ in the same order
    assert np.array(pool["delta"]).reshape(-1).tolist() == np.array(flatten["delta"]).reshape(-1).tolist()


def test_targets_must_match_the_samples_of_an_image_file(nncalc):
    result = nncalc("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "1,0", "-t", "0,1")
    assert result.code == 2
    assert "give one --target per sample" in result.err and "Traceback" not in result.err


def test_three_iterations_equal_three_single_steps(nncalc, tmp_path):
    base = ["--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--lr", "0.3"]
    assert nncalc("backward", TEXTBOOK, *base, "-n", "3", "--write", tmp_path / "three.yaml", "-f", "json").code == 0
    current = TEXTBOOK
    for step in range(3):
        written = tmp_path / f"step{step}.yaml"
        assert nncalc("backward", current, *base, "--write", written, "-f", "json").code == 0
        current = written
    three, single = load_network(tmp_path / "three.yaml"), load_network(current)
    assert _same_parameters(three, single)
    assert not np.array_equal(three.layers[0].weights, load_network(TEXTBOOK).layers[0].weights)


def test_an_optimizer_state_is_written_and_continued(nncalc, tmp_path):
    base = ["--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--optimizer", "adam", "--lr", "0.1"]
    assert nncalc("backward", TEXTBOOK, *base, "-n", "3", "--write", tmp_path / "five.yaml", "-f", "json").code == 0
    first = nncalc(
        "backward", TEXTBOOK, *base, "-n", "2", "--write", tmp_path / "two.yaml", "--write-state", tmp_path / "s.yaml"
    )
    assert first.code == 0, first.err
    rest = ["--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--state", tmp_path / "s.yaml"]
    second = nncalc("backward", tmp_path / "two.yaml", *rest, "--write", tmp_path / "then.yaml", "-f", "json")
    assert second.code == 0, second.err
    got, want = load_network(tmp_path / "then.yaml"), load_network(tmp_path / "five.yaml")
    assert np.array_equal(got.layers[0].weights, want.layers[0].weights)


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html"])
def test_every_notation_shows_the_step(nncalc, fmt):
    result = nncalc("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "1,0", "--loss", "cross_entropy", "-f", fmt)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    text = result.out
    assert "transposed convolution" in text and "first in row order" in text
    assert ("∂L/∂W" in text) or (r"$\partial$L/$\partial$W" in text)  # the kernel's gradient as a grid


def test_the_worked_kernel_gradient_is_its_sum(nncalc):
    result = nncalc("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "1,0", "--loss", "cross_entropy", "-f", "markdown")
    data = json.loads(
        nncalc("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "1,0", "--loss", "cross_entropy", "-f", "json").out
    )
    delta = np.array(data["layers"][0]["delta"])[0, 0]
    # ∂L/∂w[0,0,0,0] = Σ δ[r,k]·x[r,k] over the 3×3 map: the image's top-left 3×3 cells
    image = np.array(IMAGE_VALUES, dtype=np.float64).reshape(5, 5)
    assert float((delta * image[:3, :3]).sum()) == pytest.approx(
        data["layers"][0]["grad_weights"][0][0][0][0], abs=1e-15
    )
    assert "w[0,0,0,0]" in result.out.replace("\\", "") and "b[0]" in result.out.replace("\\", "")
    # one δ cell by the chain rule: the first cell whose δ is not 0, here [0,0,1] (its pooling window's max)
    assert delta[0, 0] == 0 and delta[0, 1] != 0
    assert r"\delta_{\text{0,0,1}} = \frac{\partial L}{\partial a_{\text{0,0,1}}}" in result.out


def _documents():
    from nncalc.backprop import backward as run
    from nncalc.worked import View
    from nncalc.worked.backward import backward_document

    net = network("deep")
    x, t = batch_of(net, 2), targets_of(net, 2)
    plain = run(net, x, t, "cross_entropy", 0.1)
    adam = run(net, x, t, "cross_entropy", 0.1, optimizer=parse_optimizer("adam", "optimizer"))
    textbook = load_network(TEXTBOOK)
    one = run(textbook, np.array([IMAGE_VALUES], float), np.array([[1.0, 0.0]]), "cross_entropy", 0.1)
    small = network("two-convs")
    frozen = run(small, batch_of(small, 1), targets_of(small, 1), "half_sse", 0.1, freeze_biases=True)
    return [  # the deep network's conv has 72 values: summarised, without steps
        backward_document(net, plain, None, View(4, False)),
        backward_document(net, adam, None, View(4, False)),
        backward_document(net, plain, None, View(4, True, all_rows=True)),
        backward_document(textbook, one, None, View(4, None)),
        backward_document(small, frozen, None, View(4, True, all_rows=True)),
    ]


def test_the_worked_documents_render_in_every_notation():
    import io

    from nncalc.notation import write_document

    for document in _documents():
        for fmt in ("table", "markdown", "latex", "html"):
            stream = io.StringIO()
            write_document(document, fmt, stream)
            assert "δ" in stream.getvalue() or "delta" in stream.getvalue()


def test_the_worked_documents_compile_without_overfull_boxes(tmp_path):
    from tests.test_latex_backward import PDFLATEX, compile_pdf

    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    import io

    from nncalc.notation import write_document

    # the Adam step's table of m′ and v′ (tiny numbers, written with × 10⁻⁶) is set narrower to fit
    for k, document in enumerate(_documents()):
        stream = io.StringIO()
        write_document(document, "latex", stream, True)
        folder = tmp_path / str(k)
        folder.mkdir()
        compile_pdf(folder, stream.getvalue())


def test_a_training_run_lists_the_trained_kernel(nncalc):
    base = ["--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--lr", "0.01"]
    result = nncalc("backward", TEXTBOOK, *base, "-n", "2", "-f", "table")
    assert result.code == 0, result.err
    trained = json.loads(nncalc("backward", TEXTBOOK, *base, "-n", "2", "-f", "json").out)["network"]["layers"][0]
    kernel = np.array(trained["weights"])
    assert kernel.shape == (1, 1, 3, 3)
    assert "layer 1 (conv) after training" in result.out
    assert f"{kernel[0, 0, 1, 0]:.4f}" in result.out  # the kernel's middle row, first column


def test_a_large_feature_map_is_summarised_by_default_not_refused(nncalc, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(  # two 7×7 maps (98 values) under a 2×2 average pooling
        "inputs: {shape: [1, 8, 8]}\n"
        "layers:\n"
        "  - {type: conv2d, weights: [[[[1, 0], [0, -1]]], [[[0.5, 0.5], [0.5, 0.5]]]], biases: [0, 0.1],"
        " activation: relu}\n"
        "  - {type: avgpool2d, kernel_size: 2}\n"
        "  - {type: flatten}\n"
        "  - {weights: [" + ", ".join(["[" + ", ".join(["0.1"] * 18) + "]"] * 2) + "], activation: sigmoid}\n"
    )
    image = ",".join(str(i * 7 % 5) for i in range(64))
    result = nncalc("backward", path, "-i", image, "-t", "1,0", "-f", "table")
    assert result.code == 0, result.err
    assert "98 values: δ, gradients and updates in --format json" in result.out
    assert "∂L/∂W [1,0]" in result.out  # the kernels are small: shown whole
    # a map works one cell of each quantity even with --steps, so asking for them on a large map is not refused
    steps = nncalc("backward", path, "-i", image, "-t", "1,0", "-f", "table", "--steps")
    assert steps.code == 0, steps.err
    assert "98 values: δ, gradients and updates in --format json" in steps.out
