"""``nncalc grade --optimizer`` on a convolution: the step of its kernels and biases graded value by value.

A convolution's ``optimizer_state`` is written as its kernels and biases are (a list per out
channel of a matrix per in channel; a value per out channel). The expected values are worked
here independently: the gradients by the cell-by-cell reference of
tests/test_grade_conv_backward.py (rounded to six decimals, as a person carries them), each
optimizer's step by its textbook formulas in NumPy, and, where PyTorch is installed, by
autograd and torch.optim themselves for a first and a second step of the textbook network.
Nothing is taken from nncalc's output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_grade_conv_backward import (
    IMAGE_FILE,
    TEXTBOOK,
    TEXTBOOK_NET,
    TWO_MAPS_INPUT,
    TWO_MAPS_NET,
    TWO_MAPS_YAML,
    carried,
    sheet,
    work,
)

LR = 0.01
PARAMS = (("w1", "gw1", "kernels"), ("b1", "gb1", "kernel_biases"), ("w2", "gw2", "dense_w"), ("b2", "gb2", "dense_b"))


@pytest.fixture
def two_maps(write):
    return write("two-maps.yaml", TWO_MAPS_YAML)


def adam_first(param, g, lr=LR, b1=0.9, b2=0.999, eps=1e-8, m_hat=None, corrected=True):
    """Adam's first step by its formulas: m′, v′, m̂, v̂ and the new value (worked from ``m_hat``
    where a person wrote another; without the bias correction where ``corrected`` is False)."""
    m = (1 - b1) * g
    v = (1 - b2) * g * g
    hat_m, hat_v = (m / (1 - b1), v / (1 - b2)) if corrected else (m, v)
    if m_hat is not None:
        hat_m = m_hat
    new = param - lr * hat_m / (np.sqrt(hat_v) + eps)
    return new, {"exp_avg": m, "exp_avg_sq": v, "m_hat": hat_m, "v_hat": hat_v}


def flow(value) -> str:
    """A value as YAML flow text, numbers to nine significant digits (kernels nest as written)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray | list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return f"{float(value):.9e}"


def with_state(text: str, layer: int, state: dict) -> str:
    """``text`` (a sheet of tests/test_grade_conv_backward.py) with ``optimizer_state`` added to layer ``layer``."""
    head, *layers = text.split("\n  - ")
    layers[layer] = layers[layer].rstrip("\n") + f"\n    optimizer_state: {flow(state)}\n"
    return "\n  - ".join([head, *layers])


def adam_sheet(m_hat_slip=None, corrected=True, write_hats=True):
    """The two-maps network's whole sheet after a first Adam step, with the convolution's m′, v′,
    m̂ and v̂; ``m_hat_slip`` ((out, in, row, column), added) a slip in one kernel entry's m̂, the
    new kernel worked from it as the person would."""
    v = work(TWO_MAPS_NET, [1, 0], lr=LR)
    state = {}
    for name, grad, start in PARAMS:
        param, g = np.array(TWO_MAPS_NET[start], dtype=float), v[grad]
        hats = None
        if name == "w1" and m_hat_slip is not None:
            hats = adam_first(param, g)[1]["m_hat"].copy()
            hats[m_hat_slip[0]] += m_hat_slip[1]
        conv = name in ("w1", "b1")  # the dense layer's step is right either way
        new, values = adam_first(param, g, m_hat=hats, corrected=corrected or not conv)
        v[name] = carried(new)
        if name in ("w1", "b1"):
            keys = ("exp_avg", "exp_avg_sq", "m_hat", "v_hat") if write_hats else ("exp_avg", "exp_avg_sq")
            state["weights" if name == "w1" else "biases"] = {key: values[key] for key in keys}
    return with_state(sheet(v), 0, state)


def grade(nncalc, write, network, text, *options):
    answers = write("answers.yaml", text)
    inputs = ("--inputs", IMAGE_FILE) if network == TEXTBOOK else ("-i", TWO_MAPS_INPUT)
    target = "0,1" if network == TEXTBOOK else "1,0"
    result = nncalc("grade", network, *inputs, "-t", target, "-a", answers, *options)
    assert "Traceback" not in result.err
    return result


def marks_of(document, layer="conv"):
    return [m for m in document["marks"] if m["layer"] == layer and m["given"] is not None]


ADAM = ("--optimizer", "adam", "--lr", str(LR))


# -- right values are right, a slip marks that value only ------------------------------------------


def test_a_first_adam_step_of_the_kernels_worked_by_hand_is_all_right(nncalc, write, two_maps):
    result = grade(nncalc, write, two_maps, adam_sheet(), *ADAM, "-f", "json")
    document = json.loads(result.out)
    assert result.code == 0, [m for m in document["marks"] if m["correct"] is False][:1]
    state = [m for m in marks_of(document) if m["quantity"] in ("exp_avg", "exp_avg_sq", "m_hat", "v_hat")]
    assert len(state) == 4 * (8 + 2)  # four values for each of 2×1 kernels of 2×2, and for each of 2 biases
    kernel = [m for m in state if m["quantity"] == "m_hat" and m["source"] is not None]
    assert [(m["neuron"], m["source"]) for m in kernel[:5]] == [
        ("0", "0.0.0"),
        ("0", "0.0.1"),
        ("0", "0.1.0"),
        ("0", "0.1.1"),
        ("1", "0.0.0"),
    ]
    assert kernel[6]["cell"] == {"channel": 0, "row": 1, "column": 0}


def test_a_slip_in_one_kernel_entrys_m_hat_marks_exactly_that_entry(nncalc, write, two_maps):
    text = adam_sheet(m_hat_slip=((1, 0, 1, 0), 0.25))
    result = grade(nncalc, write, two_maps, text, *ADAM, "-f", "json")
    assert result.code == 1, result.err
    wrong = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert [(m["layer"], m["quantity"], m["neuron"], m["source"]) for m in wrong] == [("conv", "m_hat", "1", "0.1.0")]
    # the new kernel, worked from the person's m̂, is right: error carried forward
    right = grade(nncalc, write, two_maps, text, *ADAM, "-f", "table")
    assert "m̂ of W [1,0], expected" in right.out and "m̂ of W [0,0], expected" not in right.out
    assert "first wrong value: m̂ of W[1,0,1,0] in layer 1 (conv)" in right.out
    assert "m̂ = m′ / (1 − β_1^t) = " in right.out


@pytest.mark.parametrize("write_hats", [True, False])
def test_the_bias_correction_forgotten_is_named(nncalc, write, two_maps, write_hats):
    """Made with m̂ = m′ and v̂ = v′: each m̂ and v̂ written is the slip; without them written, each new value."""
    text = adam_sheet(corrected=False, write_hats=write_hats)
    result = grade(nncalc, write, two_maps, text, *ADAM, "-f", "json")
    assert result.code == 1, result.err
    wrong = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    quantities = {"m_hat", "v_hat"} if write_hats else {"weights", "biases"}
    assert wrong and {m["quantity"] for m in wrong} == quantities
    assert all(m["layer"] == "conv" and "the bias correction is left out" in m["diagnosis"] for m in wrong), wrong


def test_sgd_momentum_buffer_of_the_kernels_is_graded(nncalc, write, two_maps):
    v = work(TWO_MAPS_NET, [1, 0], lr=LR)
    for name, grad, start in PARAMS:  # the first step: the buffer is g itself, w′ = w − lr·g
        v[name] = carried(np.array(TWO_MAPS_NET[start]) - LR * v[grad])
    state = {"weights": {"momentum_buffer": v["gw1"]}, "biases": {"momentum_buffer": v["gb1"]}}
    options = ("--optimizer", "{name: sgd, momentum: 0.9}", "--lr", str(LR), "-f", "json")
    result = grade(nncalc, write, two_maps, with_state(sheet(v), 0, state), *options)
    assert result.code == 0, result.out[:2000]
    buffers = [m for m in marks_of(json.loads(result.out)) if m["quantity"] == "momentum_buffer"]
    assert len(buffers) == 10
    state["weights"]["momentum_buffer"] = v["gw1"] * 0.1  # damped by 1 − μ
    result = grade(nncalc, write, two_maps, with_state(sheet(v), 0, state), *options)
    wrong = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert len(wrong) == 8 and all(m["quantity"] == "momentum_buffer" for m in wrong)


# -- malformed sheets, located ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "options", "where", "message"),
    [
        ("{weights: {exp_avg: [0, 0, 0]}}", ADAM, "2:42", "has 3 values, expected 8 = 2·1·2·2"),
        (
            "{weights: {exp_avg: [[0.1, 0.2], [0.3, 0.4]]}}",
            ADAM,
            "2:42",
            "one matrix is for a convolution of one channel in and one out",
        ),
        (
            "{weights: {m_hat: [[[[0, 0], [0]]], [[[0, 0], [0, 0]]]]}}",
            ADAM,
            "2:51",
            "m_hat, kernel [0,0], row 1 has 1 value, expected 2",
        ),
        ("{biases: {exp_avg: [0, 0, 0]}}", ADAM, "2:41", "has 3 values, expected 2 (one per out channel"),
        ("{weights: {m: [0, 0, 0, 0, 0, 0, 0, 0]}}", ADAM, "2:33", "adam's m is exp_avg"),
        ("{biases: {exp_avg: [0, 0]}}", ("--optimizer", "sgd"), "2:32", "SGD has no exp_avg"),
    ],
)
def test_a_malformed_conv_state_is_located(nncalc, write, two_maps, state, options, where, message):
    answers = write("answers.yaml", f"layers:\n  - optimizer_state: {state}\n")
    result = nncalc("grade", two_maps, "-i", TWO_MAPS_INPUT, "-t", "1,0", "-a", answers, *options)
    assert result.code == 2 and "Traceback" not in result.err
    assert f"error: {answers}:{where}: layer 1 (conv): " in result.err and message in result.err, result.err


def test_a_pooling_layer_has_no_optimizer_values(nncalc, write, two_maps):
    answers = write("answers.yaml", "layers:\n  - {}\n  - optimizer_state: {weights: {exp_avg: 0}}\n")
    result = nncalc("grade", two_maps, "-i", TWO_MAPS_INPUT, "-t", "1,0", "-a", answers, *ADAM)
    assert result.code == 2 and f"error: {answers}:3:" in result.err
    assert "the avgpool2d layer has no weights or biases" in result.err


# -- every format ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html"])
@pytest.mark.parametrize("steps", [(), ("--no-steps",), ("--steps", "matrix")])
def test_every_format_renders_the_grids_and_the_working(nncalc, write, two_maps, fmt, steps):
    text = adam_sheet(m_hat_slip=((1, 0, 1, 0), 0.25))
    result = grade(nncalc, write, two_maps, text, *ADAM, "-f", fmt, *steps)
    assert result.code == 1, result.err
    out = result.out.replace("\\[", "[").replace("\\]", "]")  # Markdown escapes the brackets
    hat = r"\^{m}" if fmt == "latex" else "m̂"  # in LaTeX text, the accent on the letter
    assert "of W [1,0], yours" in out and "of b[1]" in out  # the grids of m′ … and the biases' table
    assert f"{hat} of W [1,0], expected" in out and f"{hat} of W [0,0], expected" not in out
    assert f"{hat} of W[1,0,1,0] in layer 1 (conv)" in out
    assert ("updates by Adam (lr 0.01), step t = 1" in out) == (steps != ("--no-steps",))


# -- PyTorch ---------------------------------------------------------------------------------------


def _torch_steps(torch, name: str, steps: int):
    """The textbook network stepped by torch.optim: after each step, each parameter's new value and
    the optimizer's values of that step (Adam's m̂ and v̂ from its state and the step count)."""
    net = TEXTBOOK_NET
    double = torch.float64
    image = torch.tensor(net["image"], dtype=double).unsqueeze(0)
    params = [
        torch.tensor(net["kernels"], dtype=double, requires_grad=True),
        torch.tensor(net["kernel_biases"], dtype=double, requires_grad=True),
        torch.tensor(net["dense_w"], dtype=double, requires_grad=True),
        torch.tensor(net["dense_b"], dtype=double, requires_grad=True),
    ]
    optim = torch.optim
    optimizer = optim.Adam(params, lr=0.1) if name == "adam" else optim.SGD(params, lr=0.1, momentum=0.9)
    target = torch.tensor([0.0, 1.0], dtype=double)
    found = []
    for t in range(1, steps + 1):
        optimizer.zero_grad()
        z1 = torch.nn.functional.conv2d(image, params[0], params[1])
        pooled = torch.nn.functional.max_pool2d(torch.relu(z1), 2, stride=1)
        z2 = pooled.flatten() @ params[2].T + params[3]
        loss = -(target * torch.log_softmax(z2, dim=0)).sum()
        loss.backward()
        optimizer.step()
        step = []
        for p in params:
            state = {k: v.detach().numpy().copy() for k, v in optimizer.state[p].items() if k != "step"}
            if name == "adam":
                state["m_hat"] = state["exp_avg"] / (1 - 0.9**t)
                state["v_hat"] = state["exp_avg_sq"] / (1 - 0.999**t)
            step.append((p.detach().numpy().copy(), state))
        found.append(step)
    return found


def _torch_sheet(step) -> str:
    (w1, s1), (b1, sb1), (w2, s2), (b2, sb2) = step
    layers = [
        f"  - weights: {flow(w1)}\n    biases: {flow(b1)}\n    optimizer_state: {flow({'weights': s1, 'biases': sb1})}",
        "  - {}",
        "  - {}",
        f"  - weights: {flow(w2)}\n    biases: {flow(b2)}\n    optimizer_state: {flow({'weights': s2, 'biases': sb2})}",
    ]
    return "conventions: {loss: cross-entropy}\nlayers:\n" + "\n".join(layers) + "\n"


@pytest.mark.parametrize(("name", "option"), [("adam", "adam"), ("sgd", "{name: sgd, momentum: 0.9}")])
def test_torch_optim_first_and_second_steps_of_the_textbook_net_are_right(nncalc, write, tmp_path, name, option):
    torch = pytest.importorskip("torch")
    first, second = _torch_steps(torch, name, 2)
    result = grade(nncalc, write, TEXTBOOK, _torch_sheet(first), "--optimizer", option, "--lr", "0.1", "-f", "json")
    assert result.code == 0, result.out[:3000] + result.err
    keys = 4 if name == "adam" else 1
    assert len(marks_of(json.loads(result.out))) == (9 + 1) * (1 + keys)
    step1, state = tmp_path / "step1.yaml", tmp_path / "state.yaml"
    made = nncalc(
        "backward",
        TEXTBOOK,
        "--inputs",
        IMAGE_FILE,
        "-t",
        "0,1",
        "--loss",
        "cross_entropy",
        "--optimizer",
        option,
        "--lr",
        "0.1",
        "--write",
        step1,
        "--write-state",
        state,
        "-f",
        "json",
    )
    assert made.code == 0, made.err
    answers = write("answers2.yaml", _torch_sheet(second))
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", answers, "--state", state, "-f", "json")
    result = nncalc("grade", step1, *args)
    assert result.code == 0, result.out[:3000] + result.err
    document = json.loads(result.out)
    assert len(marks_of(document)) == (9 + 1) * (1 + keys)
    if name == "adam":  # the second step's bias correction is not the first's: m̂ = m′ / (1 − 0.9²)
        assert not np.allclose(second[0][1]["m_hat"], second[0][1]["exp_avg"] / 0.1)
