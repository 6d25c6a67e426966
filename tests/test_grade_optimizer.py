"""``nncalc grade --optimizer``: an optimizer's step graded value by value, error carried forward.

Every expected value is worked here independently: the classic 2-2-2 network's gradients by
hand-written NumPy (sigmoid, half-SSE), each optimizer's step by its textbook formulas
(m′ = β₁·m + (1 − β₁)·g, m̂ = m′ / (1 − β₁ᵗ), …), and, where PyTorch is installed, by
torch.optim itself for a first and a second step. Sheets are written from those values,
with one slip made where a test needs one.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

NET = "configs/classic-2-2-2.yaml"
X = np.array([0.05, 0.10])
T = np.array([0.01, 0.99])
W = [np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])]
B = [np.array([0.35, 0.35]), np.array([0.60, 0.60])]
ARGS = ["-i", "0.05,0.10", "-t", "0.01,0.99"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(weights, biases):
    """∂L/∂W and ∂L/∂b of half-SSE through two sigmoid layers, by the chain rule written out."""
    h = sigmoid(weights[0] @ X + biases[0])
    o = sigmoid(weights[1] @ h + biases[1])
    d2 = (o - T) * o * (1 - o)
    d1 = (weights[1].T @ d2) * h * (1 - h)
    return [np.outer(d1, X), np.outer(d2, h)], [d1, d2]


# ---------------------------------------------------------------------------------------
# Each optimizer's step by its textbook formulas, for one parameter array


def adam(param, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    t = state.get("t", 0) + 1
    m = b1 * state.get("exp_avg", 0 * g) + (1 - b1) * g
    v = b2 * state.get("exp_avg_sq", 0 * g) + (1 - b2) * g**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    new = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new, {"t": t, "exp_avg": m, "exp_avg_sq": v, "m_hat": m_hat, "v_hat": v_hat}


def sgd(param, g, state, lr, momentum=0.9):
    buf = g if "momentum_buffer" not in state else momentum * state["momentum_buffer"] + g
    return param - lr * buf, {"momentum_buffer": buf}


def rmsprop(param, g, state, lr, alpha=0.99, eps=1e-8):
    square = alpha * state.get("square_avg", 0 * g) + (1 - alpha) * g**2
    return param - lr * g / (np.sqrt(square) + eps), {"square_avg": square}


STEPS = {"adam": adam, "sgd": sgd, "rmsprop": rmsprop}
OPTIONS = {"adam": "adam", "sgd": "{name: sgd, momentum: 0.9}", "rmsprop": "rmsprop"}
KEPT = {"adam": ("exp_avg", "exp_avg_sq", "m_hat", "v_hat"), "sgd": ("momentum_buffer",), "rmsprop": ("square_avg",)}


def worked(name: str, lr: float, steps: int = 1, **options):
    """Every layer's values after ``steps`` steps of ``name``: the parameters, and each parameter's
    values of the last step; with the parameters before the last step."""
    weights, biases = [w.copy() for w in W], [b.copy() for b in B]
    states = [[{}, {}] for _ in W]
    before = None
    for _ in range(steps):
        before = [w.copy() for w in weights], [b.copy() for b in biases]
        gw, gb = gradients(weights, biases)
        for k in range(2):
            weights[k], states[k][0] = STEPS[name](weights[k], gw[k], states[k][0], lr, **options)
            biases[k], states[k][1] = STEPS[name](biases[k], gb[k], states[k][1], lr, **options)
    return weights, biases, states, before


# ---------------------------------------------------------------------------------------
# Sheets


def number(x: float) -> str:
    return f"{x:.9e}"


def flow(value) -> str:
    """A value as YAML flow text, numbers to nine significant digits."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray | list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return number(float(value))


def sheet(weights, biases, states, keys, changes=None, layers=(0, 1)) -> str:
    """A sheet of the new weights and biases and the optimizer's ``keys`` of each layer in ``layers``;
    ``changes`` {(layer, param, key): (index, value)} writes one value otherwise (a slip)."""
    lines = ["layers:"]
    for k in range(2):
        if k not in layers:
            lines.append("  - {}")
            continue
        values = {"weights": weights[k].copy(), "biases": biases[k].copy()}
        state = {
            param: {key: np.array(states[k][p][key], dtype=float).copy() for key in keys}
            for p, param in enumerate(("weights", "biases"))
        }
        for (layer, param, key), (index, value) in (changes or {}).items():
            if layer == k:
                (values if key is None else state[param])[param if key is None else key][index] = value
        lines.append(f"  - weights: {flow(values['weights'])}")
        lines.append(f"    biases: {flow(values['biases'])}")
        lines.append(f"    optimizer_state: {flow(state)}")
    return "\n".join(lines) + "\n"


def grade(nncalc, tmp_path, text: str, *options: str):
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    result = nncalc("grade", NET, *ARGS, "-a", path, "--format", "json", *options)
    return result, (json.loads(result.out) if result.out.strip() else None)


def optimizer_marks(document) -> list[dict]:
    return [m for m in document["marks"] if m["given"] is not None]


# ---------------------------------------------------------------------------------------
# Right values are right, a slip marks that value only


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_a_first_step_worked_by_hand_is_all_right(nncalc, tmp_path, name):
    weights, biases, states, _ = worked(name, 0.1)
    result, document = grade(
        nncalc, tmp_path, sheet(weights, biases, states, KEPT[name]), "--optimizer", OPTIONS[name], "--lr", "0.1"
    )
    assert result.code == 0, result.out + result.err
    marked = optimizer_marks(document)
    assert {m["quantity"] for m in marked} == {"weights", "biases", *KEPT[name]}
    assert len(marked) == 2 * (6 + 6 * len(KEPT[name]))  # every value written is marked, and no other
    assert all(m["correct"] for m in marked)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("adam", "exp_avg"),
        ("adam", "exp_avg_sq"),
        ("adam", "m_hat"),
        ("adam", "v_hat"),
        ("sgd", "momentum_buffer"),
        ("rmsprop", "square_avg"),
    ],
)
@pytest.mark.parametrize("param", ["weights", "biases"])
def test_a_slip_in_one_value_of_the_step_marks_exactly_that_value(nncalc, tmp_path, name, key, param):
    weights, biases, states, _ = worked(name, 0.1)
    index = (1, 0) if param == "weights" else (1,)
    wrong = float(np.asarray(states[1][0 if param == "weights" else 1][key])[index]) * 1.5
    text = sheet(weights, biases, states, KEPT[name], {(1, param, key): (index, wrong)})
    result, document = grade(nncalc, tmp_path, text, "--optimizer", OPTIONS[name], "--lr", "0.1")
    assert result.code == 1
    bad = [m for m in document["marks"] if m["correct"] is False]
    assert len(bad) == 1, bad
    (mark,) = bad
    assert (mark["quantity"], mark["layer"], mark["neuron"]) == (key, "output", "o2")
    assert mark["source"] == ("h1" if param == "weights" else None)
    assert mark["given"] == pytest.approx(wrong, rel=1e-8)


def test_the_values_after_a_slip_are_judged_from_it(nncalc, tmp_path):
    """m̂ written as m′ (no bias correction): the w′ worked from the person's m̂ is right, and the one
    the right m̂ gives would be marked wrong."""
    weights, biases, states, _ = worked("adam", 0.1)
    m = states[1][0]["exp_avg"][0, 1]
    v_hat = states[1][0]["v_hat"][0, 1]
    theirs = W[1][0, 1] - 0.1 * m / (math.sqrt(v_hat) + 1e-8)
    changes = {(1, "weights", "m_hat"): ((0, 1), m), (1, "weights", None): ((0, 1), theirs)}
    result, document = grade(
        nncalc, tmp_path, sheet(weights, biases, states, KEPT["adam"], changes), "--optimizer", "adam", "--lr", "0.1"
    )
    assert result.code == 1
    bad = [m for m in document["marks"] if m["correct"] is False]
    assert [(m["quantity"], m["neuron"], m["source"]) for m in bad] == [("m_hat", "o1", "h2")]
    assert "bias correction is left out" in bad[0]["diagnosis"]
    new = next(
        m for m in document["marks"] if m["quantity"] == "weights" and m["source"] == "h2" and m["neuron"] == "o1"
    )
    assert new["correct"] is True and new["expected"] == pytest.approx(theirs, abs=1e-9)


# ---------------------------------------------------------------------------------------
# The classic slips, each from a sheet made with that mistake


def _first_step_g():
    gw, gb = gradients(W, B)
    return gw[1], gb[1]


@pytest.mark.parametrize(
    ("name", "options", "key", "made", "diagnosis"),
    [
        # Adam's first step from zero averages: m′ = 0.1·g, v′ = 0.001·g², m̂ = g, v̂ = g²
        ("adam", (), "exp_avg", lambda g, w: 0.9 * g, "β₁ and 1 − β₁ are swapped"),
        ("adam", (), "exp_avg_sq", lambda g, w: 0.999 * g**2, "β₂ and 1 − β₂ are swapped"),
        ("adam", (), "exp_avg_sq", lambda g, w: 0.001 * g, "the gradient is not squared"),
        ("adam", (), "m_hat", lambda g, w: 0.1 * g, "bias correction is left out"),
        ("adam", (), "v_hat", lambda g, w: 0.001 * g**2, "bias correction is left out"),
        ("adam", (), "m_hat", lambda g, w: 0.1 * g / (1 - 0.9**2), "t is one too high"),
        # w′ with m′ and v′ where m̂ and v̂ belong (neither written)
        ("adam", (), None, lambda g, w: w - 0.1 * (0.1 * g) / (np.sqrt(0.001 * g**2) + 1e-8), "bias correction"),
        # ε under the root shows with a large ε
        ("adam", ("eps", 0.01), None, lambda g, w: w - 0.1 * g / np.sqrt(g**2 + 0.01), "ε is inside the square root"),
        ("rmsprop", (), "square_avg", lambda g, w: 0.99 * g**2, "α and 1 − α are swapped"),
        ("rmsprop", ("eps", 0.01), None, lambda g, w: w - 0.1 * g / np.sqrt(0.01 * g**2 + 0.01), "ε is inside"),
    ],
)
def test_each_classic_slip_is_named(nncalc, tmp_path, name, options, key, made, diagnosis):
    values = flow(made(_first_step_g()[0], W[1]))
    written = f"optimizer_state: {{weights: {{{key}: {values}}}}}" if key else f"weights: {values}"
    text = f"layers:\n  - {{}}\n  - {written}\n"
    optimizer = OPTIONS[name] if not options else f"{{name: {name}, {options[0]}: {options[1]}}}"
    result, document = grade(nncalc, tmp_path, text, "--optimizer", optimizer, "--lr", "0.1")
    assert result.code == 1
    bad = [m for m in document["marks"] if m["correct"] is False]
    assert bad and all(diagnosis in (m["diagnosis"] or "") for m in bad), bad
    assert {m["quantity"] for m in bad} == {key or "weights"}


def _state_file(nncalc, tmp_path, optimizer: str) -> tuple:
    """One step by ``nncalc backward``: the network after it and the optimizer's state, as files."""
    step1, state = tmp_path / "step1.yaml", tmp_path / "state.yaml"
    result = nncalc(
        "backward",
        NET,
        *ARGS,
        "--optimizer",
        optimizer,
        "--lr",
        "0.1",
        "--write",
        step1,
        "--write-state",
        state,
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    return step1, state


def test_t_counted_from_0_in_a_second_adam_step(nncalc, tmp_path):
    step1, state = _state_file(nncalc, tmp_path, "adam")
    states = worked("adam", 0.1, steps=2)[2]
    m = states[1][0]["exp_avg"]
    text = f"layers:\n  - {{}}\n  - optimizer_state: {{weights: {{m_hat: {flow(m / (1 - 0.9))}}}}}\n"
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    assert result.code == 1
    bad = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert len(bad) == 4 and all("t is counted from 0 (this is step t = 2" in m["diagnosis"] for m in bad)


def test_momentum_damped_by_1_minus_mu_in_a_second_sgd_step(nncalc, tmp_path):
    step1, state = _state_file(nncalc, tmp_path, "{name: sgd, momentum: 0.9}")
    _, _, first, _ = worked("sgd", 0.1, steps=1)
    _, _, _, before = worked("sgd", 0.1, steps=2)
    g = gradients(*before)[0][1]
    damped = 0.9 * first[1][0]["momentum_buffer"] + 0.1 * g
    path = tmp_path / "answers.yaml"
    path.write_text(f"layers:\n  - {{}}\n  - optimizer_state: {{weights: {{momentum_buffer: {flow(damped)}}}}}\n")
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    assert result.code == 1
    bad = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert len(bad) == 4 and all("damped by 1 − μ" in m["diagnosis"] for m in bad)


# ---------------------------------------------------------------------------------------
# --state: a later step, and torch.optim's first and second steps


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_a_second_step_from_the_state_file_is_right_by_hand(nncalc, tmp_path, name):
    step1, state = _state_file(nncalc, tmp_path, OPTIONS[name])
    weights, biases, states, _ = worked(name, 0.1, steps=2)
    path = tmp_path / "answers.yaml"
    path.write_text(sheet(weights, biases, states, KEPT[name]))
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    assert result.code == 0, result.out + result.err
    # the same sheet is not the first step's: graded as one, its values are wrong
    first = nncalc("grade", step1, *ARGS, "-a", path, "--optimizer", OPTIONS[name], "--lr", "0.1", "--format", "json")
    assert first.code == 1


TORCH = {
    "adam": ("Adam", {}, {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    "sgd": ("SGD", {"momentum": 0.9}, {"momentum_buffer": "momentum_buffer"}),
    "rmsprop": ("RMSprop", {}, {"square_avg": "square_avg"}),
}


def _torch_steps(torch, name, steps, title=None, options=None, keys=None):
    """The classic network stepped by torch.optim in float64: each step's parameters and state."""
    title = title or TORCH[name][0]
    options = TORCH[name][1] if options is None else options
    keys = keys or tuple(TORCH[name][2])
    linears = []
    for w, b in zip(W, B, strict=True):
        linear = torch.nn.Linear(2, 2).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(w))
            linear.bias.copy_(torch.tensor(b))
        linears.append(linear)
    model = torch.nn.Sequential(linears[0], torch.nn.Sigmoid(), linears[1], torch.nn.Sigmoid())
    optimizer = getattr(torch.optim, title)(model.parameters(), lr=0.1, **options)
    x, t = torch.tensor([X.tolist()], dtype=torch.float64), torch.tensor([T.tolist()], dtype=torch.float64)
    found = []
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * ((model(x) - t) ** 2).sum()).backward()
        optimizer.step()
        weights = [lin.weight.detach().numpy().copy() for lin in linears]
        biases = [lin.bias.detach().numpy().copy() for lin in linears]
        states = [
            [{k: optimizer.state[p][k].numpy().copy() for k in keys} for p in (lin.weight, lin.bias)] for lin in linears
        ]
        found.append((weights, biases, states))
    return found


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_torch_optim_first_and_second_steps_are_right(nncalc, tmp_path, name):
    torch = pytest.importorskip("torch")
    first, second = _torch_steps(torch, name, 2)
    keys = tuple(TORCH[name][2])
    path = tmp_path / "answers.yaml"
    path.write_text(sheet(*first, keys))
    result = nncalc("grade", NET, *ARGS, "-a", path, "--optimizer", OPTIONS[name], "--lr", "0.1", "--format", "json")
    assert result.code == 0, result.out + result.err
    step1, state = _state_file(nncalc, tmp_path, OPTIONS[name])
    path.write_text(sheet(*second, keys))
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    assert result.code == 0, result.out + result.err
    assert len(optimizer_marks(json.loads(result.out))) == 2 * (6 + 6 * len(keys))


# ---------------------------------------------------------------------------------------
# Malformed sheets, located


@pytest.mark.parametrize(
    ("state", "options", "message"),
    [
        ("{weights: {m: [[0, 0], [0, 0]]}}", ("--optimizer", "adam"), "adam's m is exp_avg"),
        ("{weights: {exp_avgg: [[0, 0], [0, 0]]}}", ("--optimizer", "adam"), "did you mean 'exp_avg'?"),
        ("{weights: {square_avg: [[0, 0], [0, 0]]}}", ("--optimizer", "adam"), "Adam has no square_avg"),
        ("{weights: {momentum_buffer: [[0, 0], [0, 0]]}}", ("--optimizer", "sgd"), "SGD has no momentum_buffer"),
        ("{weights: {exp_avg: [[0, 0], [0, 0]]}}", ("--lr", "0.1"), "no --optimizer (or --state) was given"),
        ("{weights: {exp_avg: [0, 0]}}", ("--optimizer", "adam"), "one row per neuron"),
        ("{biases: {exp_avg: [0, 0, 0]}}", ("--optimizer", "adam"), "has 3 values, expected 2"),
        ("{name: hidden, weights: {}}", ("--optimizer", "adam"), "this layer is 'output'"),
        ("{wieghts: {}}", ("--optimizer", "adam"), "did you mean 'weights'?"),
        ("{biases: {exp_avg: [0, 0]}}", ("--optimizer", "adam", "--freeze-biases"), "the biases are frozen"),
    ],
)
def test_a_malformed_sheet_is_located(nncalc, tmp_path, state, options, message):
    path = tmp_path / "answers.yaml"
    path.write_text(f"layers:\n  - {{}}\n  - optimizer_state: {state}\n")
    result = nncalc("grade", NET, *ARGS, "-a", path, *options)
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert f"{path}:3:" in result.err
    assert "Traceback" not in result.err


def test_a_state_of_another_optimizer_is_refused(nncalc, tmp_path):
    _, state = _state_file(nncalc, tmp_path, "adam")
    path = tmp_path / "answers.yaml"
    path.write_text("layers: [{}, {}]\n")
    result = nncalc("grade", NET, *ARGS, "-a", path, "--state", state, "--optimizer", "rmsprop")
    assert result.code == 2 and "--optimizer gives rmsprop" in result.err


# ---------------------------------------------------------------------------------------
# The page: the first wrong value's step, as backward --optimizer writes it


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html", "json"])
def test_the_shipped_sheet_renders_in_every_format(nncalc, fmt):
    result = nncalc(
        "grade",
        NET,
        *ARGS,
        "--optimizer",
        "adam",
        "--lr",
        "0.1",
        "-a",
        "configs/answers-adam-step.yaml",
        "--format",
        fmt,
    )
    assert result.code == 1, result.err
    if fmt == "json":
        bad = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
        assert [(m["quantity"], m["neuron"], m["source"]) for m in bad] == [("m_hat", "o1", "h2")]
        return
    assert "bias correction is left out" in result.out
    assert "step t = 1" in result.out
    assert "0.082668" in result.out and "not 0.0082668" in result.out


def test_the_working_uses_the_persons_values_and_stops_at_the_wrong_one(nncalc, tmp_path):
    """v̂ wrong: the lines of m′, v′ (with the person's m′ as written) and m̂, then v̂'s with its right
    value; no w′ line."""
    states = worked("adam", 0.1)[2]
    m = states[1][0]["exp_avg"]
    text = (
        "layers:\n  - {}\n  - optimizer_state: {weights: {"
        f"exp_avg: [[0.00821670, {number(m[0, 1])}], [{number(m[1, 0])}, {number(m[1, 1])}]], "
        "v_hat: [[0.5, ~], [~, ~]]}}\n"
    )
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    result = nncalc("grade", NET, *ARGS, "-a", path, "--optimizer", "adam", "--lr", "0.1", "--format", "markdown")
    assert result.code == 1
    page = result.out[result.out.index("first wrong value") :]
    assert "0.00821670" in page  # the person's m′, as written
    v_hat = states[1][0]["v_hat"][0, 0]
    assert f"{v_hat:.4f}" in page and "not 0.5" in page
    assert "w′ =" not in page and "w' =" not in page


VARIANTS = [
    ("Adam", "{name: adam, amsgrad: true}", {"amsgrad": True}, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    ("AdamW", "{name: adamw, weight_decay: 0.1}", {"weight_decay": 0.1}, ("exp_avg", "exp_avg_sq")),
    ("Adam", "{name: adam, weight_decay: 0.1}", {"weight_decay": 0.1}, ("exp_avg", "exp_avg_sq")),
    (
        "RMSprop",
        "{name: rmsprop, momentum: 0.5, centered: true}",
        {"momentum": 0.5, "centered": True},
        ("square_avg", "grad_avg", "momentum_buffer"),
    ),
    ("SGD", "{name: sgd, momentum: 0.9, nesterov: true}", {"momentum": 0.9, "nesterov": True}, ("momentum_buffer",)),
    ("SGD", "{name: sgd, momentum: 0.9, dampening: 0.5}", {"momentum": 0.9, "dampening": 0.5}, ("momentum_buffer",)),
]


@pytest.mark.parametrize(("title", "option", "options", "keys"), VARIANTS)
def test_torch_optim_variants_first_and_second_steps_are_right(nncalc, tmp_path, title, option, options, keys):
    """AMSGrad's maximum, AdamW's decay, a centered RMSprop with momentum, Nesterov, dampening."""
    torch = pytest.importorskip("torch")
    first, second = _torch_steps(torch, title.lower(), 2, title, options, keys)
    path = tmp_path / "answers.yaml"
    path.write_text(sheet(*first, keys))
    result = nncalc("grade", NET, *ARGS, "-a", path, "--optimizer", option, "--lr", "0.1", "--format", "json")
    assert result.code == 0, result.out + result.err
    step1, state = _state_file(nncalc, tmp_path, option)
    path.write_text(sheet(*second, keys))
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    assert result.code == 0, result.out + result.err
    # a slip in the last value of the step is that value's alone
    wrong = float(second[2][1][0][keys[-1]][0, 0]) * 1.5 + 0.001
    path.write_text(sheet(*second, keys, {(1, "weights", keys[-1]): ((0, 0), wrong)}))
    result = nncalc("grade", step1, *ARGS, "-a", path, "--state", state, "--format", "json")
    bad = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert [(m["quantity"], m["neuron"], m["source"]) for m in bad] == [(keys[-1], "o1", "h1")]


@pytest.mark.parametrize("steps", [("--steps", "matrix"), ("--no-steps",)])
def test_the_step_forms_other_than_the_default(nncalc, steps):
    """--steps matrix keeps an optimizer's value worked value by value; --no-steps leaves the working out."""
    result = nncalc(
        "grade",
        NET,
        *ARGS,
        "--optimizer",
        "adam",
        "--lr",
        "0.1",
        "-a",
        "configs/answers-adam-step.yaml",
        *steps,
        "--format",
        "markdown",
    )
    assert result.code == 1, result.err
    assert "bias correction is left out" in result.out
    assert ("not 0.0082668" in result.out) == (steps != ("--no-steps",))


def test_a_pooling_layer_refuses_optimizer_values(nncalc, tmp_path):
    """A convolution's step is graded (tests/test_grade_conv_optimizer.py); a pooling has no parameters."""
    path = tmp_path / "answers.yaml"
    path.write_text("layers:\n  - {}\n  - optimizer_state: {weights: {exp_avg: 0}}\n")
    result = nncalc(
        "grade",
        "configs/conv-textbook.yaml",
        "--inputs",
        "configs/conv-image.yaml",
        "-t",
        "0,1",
        "--optimizer",
        "adam",
        "-a",
        path,
    )
    assert result.code == 2 and f"{path}:3:" in result.err, result.err
    assert "layer 2 (pool): the maxpool2d layer has no weights or biases" in result.err


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_the_library_grades_a_second_step_from_a_state(nncalc, tmp_path, name):
    """library.grade(..., state=...) is grade --state: the state as the first step's result's
    state, or as the path of the file backward --write-state saved (its optimizer and learning
    rate then come from the file)."""
    import nncalc as library

    optimizer = {"adam": "adam", "sgd": {"name": "sgd", "momentum": 0.9}}[name]
    weights, biases, states, _ = worked(name, 0.1, steps=2)
    answers = tmp_path / "answers.yaml"
    answers.write_text(sheet(weights, biases, states, KEPT[name]))
    first = library.backward(NET, X, T, lr=0.1, optimizer=optimizer)
    by_result = library.grade(first.network, X, answers, target=T, lr=0.1, optimizer=optimizer, state=first.state)
    assert by_result.all_correct, by_result.first_wrong
    step1, state_file = _state_file(nncalc, tmp_path, OPTIONS[name])
    by_file = library.grade(step1, X, answers, target=T, state=state_file)
    assert by_file.all_correct, by_file.first_wrong
    as_first_step = library.grade(first.network, X, answers, target=T, lr=0.1, optimizer=optimizer)
    assert not as_first_step.all_correct


def test_the_working_of_a_wrong_update_shows_numbers_that_give_its_result(nncalc, tmp_path):
    """The person wrote the gradients (6 decimals) and a wrong w′, not m′, v′, m̂, v̂: those are
    shown to five significant digits at least, so each line's numbers give its result (at the
    page's 4 decimals m′ read 0.0082 and m̂ '≈ 0.0822', and the update did not follow from them)."""
    path = tmp_path / "answers.yaml"
    path.write_text(
        "layers:\n  - {}\n  - grad_weights: {w(h1→o1): 0.082167, w(h2→o1): 0.082668, h1->o2: -0.022603, "
        "h2->o2: -0.022740}\n    weights: [[0.35, 0.45], [0.5, 0.55]]\n"
    )
    result = nncalc("grade", NET, *ARGS, "--optimizer", "adam", "--lr", "0.1", "-a", path, "-f", "table")
    g = 0.082167
    m, v = 0.1 * g, 0.001 * g**2  # the first step from empty averages: (1 − β) · g and (1 − β₂) · g²
    assert f"= {m:.7f};" in result.out and f"= {v:.10f}" in result.out  # 0.0082167, 0.0000067514
    m_hat, v_hat = m / 0.1, v / 0.001
    line = next(text for text in result.out.splitlines() if text.strip().startswith("m̂ = m′"))
    assert f"= {m_hat:.6f};" in line and f"= {v_hat:.7f}" in line and "≈" not in line
    update = 0.4 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert f"= {update:.4f}, not 0.35" in result.out


@pytest.mark.parametrize(
    ("written", "value", "phrase"),
    [
        ("m_hat", lambda g: (0.9 * g) / 0.1, "β₁ and 1 − β₁ are swapped"),  # m′ kept 1 − β₁ = 0.1 of 0, took 0.9 g
        ("v_hat", lambda g: (0.999 * g * g) / 0.001, "β₂ and 1 − β₂ are swapped"),
        ("v_hat", lambda g: (0.001 * g) / 0.001, "the gradient is not squared"),
    ],
)
def test_a_slip_in_an_average_left_unwritten_is_named_where_it_shows(nncalc, tmp_path, written, value, phrase):
    """The person wrote m̂ (or v̂) but not m′ (v′): a slip made in the average they did not write
    is carried into the value they did, and named there."""
    g = 0.082167  # ∂L/∂w(h1→o1), written on the sheet
    rest = {"m_hat": "0.082668], [-0.022603, -0.022740]]", "v_hat": "0.0068339], [0.00051087, 0.00051712]]"}[written]
    values = f"[[{value(g):.6g}, {rest}"
    path = tmp_path / "answers.yaml"
    path.write_text(
        "layers:\n  - {}\n  - grad_weights: {w(h1→o1): 0.082167, w(h2→o1): 0.082668, h1->o2: -0.022603, "
        f"h2->o2: -0.022740}}\n    optimizer_state:\n      weights:\n        {written}: {values}\n"
    )
    result = nncalc("grade", NET, *ARGS, "--optimizer", "adam", "--lr", "0.1", "-a", path, "-f", "json")
    bad = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert result.code == 1 and len(bad) == 1 and bad[0]["quantity"] == written
    assert phrase in bad[0]["diagnosis"]
