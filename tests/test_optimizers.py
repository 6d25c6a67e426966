"""Optimizers (nncalc.optimizers): hand-worked updates, PyTorch's torch.optim in float64, option parsing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncalc.errors import InputError
from nncalc.optimizers import REGISTRY, bind, init_state, parse_optimizer, step


def run(optimizer, lr, params, gradients):
    """Every step of ``gradients`` (one list per step) from ``params``; the params and traces after each."""
    state = init_state(optimizer, params)
    history = []
    for t, grads in enumerate(gradients, start=1):
        params, state, traces = step(optimizer, lr, params, grads, state, t)
        history.append((params, traces))
    return history


# --- hand-worked values -----------------------------------------------------------------


def test_sgd_with_momentum_by_hand():
    # v1 = g1 = 0.2 (dampening 0.5 does not apply on the first step), w1 = 0.5 − 0.1·0.2 = 0.48;
    # v2 = 0.9·0.2 + 0.1 = 0.28, w2 = 0.48 − 0.1·0.28 = 0.452
    history = run(bind("sgd", momentum=0.9, dampening=0.5), 0.1, [np.array([0.5])], [[np.array([0.2])]])
    (w1,), (trace,) = history[0]
    assert trace.momentum_buffer[0] == 0.2
    assert w1[0] == pytest.approx(0.48, abs=1e-15)
    history = run(bind("sgd", momentum=0.9), 0.1, [np.array([0.5])], [[np.array([0.2])], [np.array([0.1])]])
    (w2,), (trace,) = history[1]
    assert trace.momentum_buffer[0] == pytest.approx(0.28, abs=1e-15)
    assert w2[0] == pytest.approx(0.452, abs=1e-15)
    assert trace.update[0] == pytest.approx(-0.028, abs=1e-15)


def test_sgd_dampening_nesterov_and_weight_decay_by_hand():
    # dampening τ = 0.5 from step 2: v2 = 0.9·0.2 + 0.5·0.1 = 0.23
    history = run(
        bind("sgd", momentum=0.9, dampening=0.5), 0.1, [np.array([0.5])], [[np.array([0.2])], [np.array([0.1])]]
    )
    assert history[1][1][0].momentum_buffer[0] == pytest.approx(0.23, abs=1e-15)
    # Nesterov, step 1: v = 0.2, the direction g + μ·v = 0.2 + 0.18 = 0.38, w = 0.5 − 0.1·0.38 = 0.462
    (w,), (trace,) = run(bind("sgd", momentum=0.9, nesterov=True), 0.1, [np.array([0.5])], [[np.array([0.2])]])[0]
    assert trace.direction[0] == pytest.approx(0.38, abs=1e-15)
    assert w[0] == pytest.approx(0.462, abs=1e-15)
    # weight decay λ = 0.1: g = 0.2 + 0.1·0.5 = 0.25, w = 0.5 − 0.1·0.25 = 0.475
    (w,), (trace,) = run(bind("sgd", weight_decay=0.1), 0.1, [np.array([0.5])], [[np.array([0.2])]])[0]
    assert trace.grad[0] == pytest.approx(0.25, abs=1e-15)
    assert w[0] == pytest.approx(0.475, abs=1e-15)
    # maximize: the step goes up the gradient
    (w,), _ = run(bind("sgd", maximize=True), 0.1, [np.array([0.5])], [[np.array([0.2])]])[0]
    assert w[0] == pytest.approx(0.52, abs=1e-15)


def test_adam_first_step_moves_each_weight_by_lr_against_the_gradients_sign():
    # m̂ = g and v̂ = g² on step 1, so the update is −lr·g/(|g| + ε) ≈ −lr·sign(g)
    lr, eps = 0.01, 1e-8
    w, g = [0.5, -1.0, 2.0], [0.3, -2.0, 1e-3]
    (new,), (trace,) = run(bind("adam"), lr, [np.array(w)], [[np.array(g)]])[0]
    for i in range(3):
        expected = w[i] - lr * g[i] / (abs(g[i]) + eps)
        assert new[i] == pytest.approx(expected, abs=1e-15)
        assert abs(new[i] - (w[i] - math.copysign(lr, g[i]))) < lr * 1e-4
        assert trace.m_hat[i] == pytest.approx(g[i], rel=1e-14)
        assert trace.v_hat[i] == pytest.approx(g[i] ** 2, rel=1e-14)
        assert trace.exp_avg[i] == pytest.approx(0.1 * g[i], rel=1e-14)
        assert trace.exp_avg_sq[i] == pytest.approx(0.001 * g[i] ** 2, rel=1e-14)
    assert trace.bias_correction1 == pytest.approx(0.1, abs=1e-16)
    assert trace.bias_correction2 == pytest.approx(0.001, abs=1e-16)
    assert trace.step_size == pytest.approx(0.1, abs=1e-15)


def test_adam_second_step_by_hand():
    # g = 0.3 then 0.1, β = (0.9, 0.999): m2 = 0.9·0.03 + 0.1·0.1 = 0.037, v2 = 0.999·0.00009 + 0.001·0.01
    (w2,), (trace,) = run(bind("adam"), 0.01, [np.array([0.5])], [[np.array([0.3])], [np.array([0.1])]])[1]
    m2, v2 = 0.9 * 0.03 + 0.1 * 0.1, 0.999 * 0.00009 + 0.001 * 0.01
    m_hat, v_hat = m2 / (1 - 0.9**2), v2 / (1 - 0.999**2)
    w1 = 0.5 - 0.01 * 0.3 / (0.3 + 1e-8)
    assert trace.exp_avg[0] == pytest.approx(m2, rel=1e-14)
    assert trace.exp_avg_sq[0] == pytest.approx(v2, rel=1e-14)
    assert trace.m_hat[0] == pytest.approx(m_hat, rel=1e-14)
    assert w2[0] == pytest.approx(w1 - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8), abs=1e-15)


def test_adamw_decays_the_weight_before_the_adam_step():
    # w·(1 − lr·λ) = 0.5·(1 − 0.01·0.01) = 0.49995, then −lr·sign(g)
    (new,), (trace,) = run(bind("adamw"), 0.01, [np.array([0.5])], [[np.array([-0.4])]])[0]
    assert trace.decayed[0] == pytest.approx(0.49995, abs=1e-15)
    assert new[0] == pytest.approx(0.49995 + 0.01 * 0.4 / (0.4 + 1e-8), abs=1e-15)
    assert trace.grad[0] == -0.4  # the gradient is left alone: the decay is decoupled


def test_rmsprop_by_hand():
    # square_avg = 0.01·0.25 = 0.0025, denom = 0.05 + 1e-8, w = 0.5 − 0.01·0.5/denom
    (new,), (trace,) = run(bind("rmsprop"), 0.01, [np.array([0.5])], [[np.array([0.5])]])[0]
    assert trace.square_avg[0] == pytest.approx(0.0025, abs=1e-17)
    assert trace.denom[0] == pytest.approx(0.05 + 1e-8, abs=1e-16)
    assert new[0] == pytest.approx(0.5 - 0.01 * 0.5 / (0.05 + 1e-8), abs=1e-15)
    # centered: grad_avg = 0.01·0.5 = 0.005, denom = √(0.0025 − 0.000025) + ε
    (new,), (trace,) = run(bind("rmsprop", centered=True), 0.01, [np.array([0.5])], [[np.array([0.5])]])[0]
    assert trace.grad_avg[0] == pytest.approx(0.005, abs=1e-17)
    assert trace.denom[0] == pytest.approx(math.sqrt(0.0025 - 0.000025) + 1e-8, abs=1e-16)


def test_a_step_changes_nothing_it_is_given():
    params, grads = [np.array([0.5, -0.5])], [np.array([0.2, 0.1])]
    for name in REGISTRY:
        optimizer = bind(name, **({"momentum": 0.9} if name != "adam" and name != "adamw" else {}))
        state = init_state(optimizer, params)
        before = [b.copy() for b in state.params[0].__dict__.values() if isinstance(b, np.ndarray)]
        new, state2, _ = step(optimizer, 0.1, params, grads, state)
        new, _, _ = step(optimizer, 0.1, new, grads, state2)
        assert params[0].tolist() == [0.5, -0.5] and grads[0].tolist() == [0.2, 0.1]
        after = [b for b in state.params[0].__dict__.values() if isinstance(b, np.ndarray)]
        assert all((a == b).all() for a, b in zip(before, after, strict=True))


def test_step_refuses_a_negative_learning_rate_and_a_wrong_step_number():
    optimizer = bind("sgd")
    state = init_state(optimizer, [np.zeros(1)])
    with pytest.raises(InputError, match="learning rate"):
        step(optimizer, -0.1, [np.zeros(1)], [np.zeros(1)], state)
    with pytest.raises(ValueError, match="step 2 follows step 0"):
        step(optimizer, 0.1, [np.zeros(1)], [np.zeros(1)], state, 2)


# --- against torch.optim ----------------------------------------------------------------

GRID = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "dampening": 0.3}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    ("sgd", {"weight_decay": 0.1}),
    ("sgd", {"momentum": 0.9, "maximize": True}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adam", {"weight_decay": 0.1}),
    ("adam", {"betas": (0.8, 0.99), "eps": 1e-3}),
    ("adam", {"betas": (0.0, 0.5), "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("adamw", {}),
    ("adamw", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.3, "betas": (0.5, 0.9)}),
    ("adamw", {"maximize": True, "eps": 0.0}),
    ("rmsprop", {}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"alpha": 0.3, "eps": 1e-4}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("rmsprop", {"maximize": True, "weight_decay": 0.01}),
]

TORCH_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}


@pytest.mark.parametrize(("name", "options"), GRID, ids=[f"{n}-{o}" for n, o in GRID])
def test_matches_torch_optim_in_float64(name, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(sum(map(ord, f"{name}{options}")))
    shapes, lr, steps = [(3,), (2, 5), (17,), ()], 0.05, 7
    params = [rng.standard_normal(s) for s in shapes]
    gradients = [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    optimizer = getattr(torch.optim, TORCH_NAMES[name])(tensors, lr=lr, foreach=False, **options)
    history = run(bind(name, **options), lr, params, gradients)
    for grads, (ours, _) in zip(gradients, history, strict=True):
        for tensor, grad in zip(tensors, grads, strict=True):
            tensor.grad = torch.tensor(grad, dtype=torch.float64)
        optimizer.step()
        for tensor, mine in zip(tensors, ours, strict=True):
            # within 2 ulps (or 1e-15 near 0): PyTorch's CPU kernels fuse some a + b·c into one rounding
            np.testing.assert_allclose(mine, tensor.detach().numpy(), rtol=2 * 2.0**-52, atol=1e-15)


def test_defaults_are_torch_optims():
    torch = pytest.importorskip("torch")
    tensor = torch.zeros(1, requires_grad=True)
    for name, spec in REGISTRY.items():
        defaults = getattr(torch.optim, TORCH_NAMES[name])([tensor]).defaults
        for key, value in spec.defaults.items():
            assert defaults[key] == value, (name, key)


# --- parse_optimizer --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["adam", "Adam", "ADAM", "a-d_am"])
def test_a_name_in_any_case(text):
    optimizer = parse_optimizer(text)
    assert optimizer.name == "adam"
    assert optimizer["betas"] == (0.9, 0.999) and optimizer["eps"] == 1e-8 and optimizer["amsgrad"] is False


def test_adamw_and_rmsprop_defaults():
    assert parse_optimizer("AdamW")["weight_decay"] == 0.01
    assert parse_optimizer("adam_w").name == "adamw"
    rmsprop = parse_optimizer("RMSProp")
    assert (rmsprop["alpha"], rmsprop["eps"], rmsprop["momentum"], rmsprop["centered"]) == (0.99, 1e-8, 0.0, False)


def test_a_flow_mapping_sets_parameters():
    sgd = parse_optimizer("{name: sgd, momentum: 0.9, nesterov: true}")
    assert (sgd.name, sgd["momentum"], sgd["nesterov"], sgd["dampening"]) == ("sgd", 0.9, True, 0.0)
    adam = parse_optimizer("{name: adam, betas: [0.8, 0.99], amsgrad: true, weight_decay: 1e-4}")
    assert adam["betas"] == (0.8, 0.99) and adam["amsgrad"] is True and adam["weight_decay"] == 0.0001
    assert adam.changed() == {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.0001}
    assert parse_optimizer("{name: rmsprop, alpha: 1}")["alpha"] == 1.0


def message(text: str, source: str = "--optimizer") -> str:
    with pytest.raises(InputError) as caught:
        parse_optimizer(text, source)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def test_unknown_names_and_parameters_are_located_with_a_suggestion():
    assert message("adma") == (
        "--optimizer: unknown optimizer 'adma'; did you mean 'adam'?; known: sgd, adam, adamw, rmsprop"
    )
    text = message("{name: sgd, momentm: 0.9}", "--opt")
    assert text.startswith("--opt: SGD has no parameter 'momentm'; did you mean 'momentum'?")
    assert "wibble" not in message("{name: adam, wibble: 1}").split(";")[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{name: adam, eps: .nan}", "eps must be a finite number"),
        ("{name: adam, eps: .inf}", "eps must be a finite number"),
        ("{name: adam, eps: 1e999}", "too large"),
        ("{name: adam, eps: 1.0e+999}", "eps must be a finite number"),
        ("{name: adam, betas: [0.9, .nan]}", "betas[1] must be a finite number"),
        ("{name: adam, betas: [0.9]}", "betas must be a list of 2 numbers"),
        ("{name: adam, betas: [1.0, 0.9]}", "betas[0] must be ≥ 0 and < 1, got 1"),
        ("{name: adam, eps: -1.0}", "eps must be ≥ 0"),
        ("{name: adam, amsgrad: 1}", "amsgrad must be true or false"),
        ("{name: sgd, momentum: true}", "momentum must be a number"),
        ("{name: sgd, momentum: fast}", "'fast' is not a number"),
        ("{name: sgd, nesterov: true}", "nesterov needs a momentum above 0 and dampening 0"),
        ("{name: sgd, nesterov: true, momentum: 0.9, dampening: 0.1}", "nesterov needs"),
        ("{name: sgd, momentum: -0.1}", "momentum must be ≥ 0"),
        ("{name: rmsprop, alpha: -0.5}", "alpha must be ≥ 0"),
        ("{momentum: 0.9}", "the mapping needs a name"),
        ("[sgd]", "expected an optimizer's name or a mapping"),
        ("0.5", "expected an optimizer's name or a mapping"),
        ("", "expected an optimizer's name or a mapping"),
        ("{name: sgd, momentum: {a: 1}}", "momentum must be a number, true/false or a list of numbers"),
    ],
)
def test_bad_values_are_one_located_message(text, expected):
    got = message(text)
    assert got.startswith("--optimizer: ")
    assert expected in got


def test_bad_yaml_is_one_located_message():
    got = message("{name: sgd, momentum: 0.9")
    assert got.startswith("--optimizer:1:")
    assert "cannot read the optimizer" in got and "{name: sgd, momentum: 0.9}" in got


def test_control_characters_in_a_name_are_shown_visibly():
    got = message('"ad\\x1bam"')
    assert "\x1b" not in got and "␛" in got
