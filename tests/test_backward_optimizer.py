"""backward --optimizer end to end: the command line, the Python API, the worked page in every notation,
the JSON state, and continuing a run from a saved state.

Expected values are worked by hand with the math module on the course chain (configs/course-backprop.yaml),
or computed by PyTorch's torch.optim in float64 where it is installed; never taken from nncalc's output.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import nncalc
from tests.conftest import CONFIGS

COURSE = CONFIGS / "course-backprop.yaml"
CLASSIC = CONFIGS / "classic-2-2-2.yaml"


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def course_gradients(w1: float, b1: float, w2: float, b2: float, x: float = 0.1, t: float = 0.25) -> dict:
    """The course chain's gradients of ½(t − a)² by the chain rule, by hand."""
    a1 = sigma(w1 * x + b1)
    a2 = sigma(w2 * a1 + b2)
    d2 = (a2 - t) * a2 * (1 - a2)
    d1 = d2 * w2 * a1 * (1 - a1)
    return {"w1": d1 * x, "b1": d1, "w2": d2 * a1, "b2": d2}


START = {"w1": 0.15, "b1": 0.4, "w2": 0.45, "b2": 0.65}


def cli_json(nncalc_run, *args) -> dict:
    result = nncalc_run("backward", *args, "-f", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def course_weights(document: dict) -> dict:
    layers = document["network"]["layers"] if "network" in document else document["layers"]
    return {
        "w1": layers[0]["weights"][0][0],
        "b1": layers[0]["biases"][0],
        "w2": layers[1]["weights"][0][0],
        "b2": layers[1]["biases"][0],
    }


# --- hand-worked steps on the course chain (always run) ------------------------------------------


def test_sgd_momentum_two_steps_by_hand(nncalc):
    lr, mu = 0.4, 0.9
    g1 = course_gradients(**START)
    v1 = dict(g1)  # the first step starts the buffer at g
    p1 = {k: START[k] - lr * v1[k] for k in START}
    g2 = course_gradients(**p1)
    v2 = {k: mu * v1[k] + g2[k] for k in START}
    p2 = {k: p1[k] - lr * v2[k] for k in START}
    document = cli_json(
        nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-n", "2", "--optimizer", "{name: sgd, momentum: 0.9}"
    )
    for key, value in course_weights(document).items():
        assert value == pytest.approx(p2[key], abs=1e-15)
    state = document["optimizer_state"]
    assert state["optimizer"]["name"] == "sgd" and state["optimizer"]["momentum"] == 0.9
    assert state["step"] == 2 and state["lr"] == 0.4
    assert state["layers"][1]["weights"]["momentum_buffer"][0][0] == pytest.approx(v2["w2"], abs=1e-15)
    assert state["layers"][0]["biases"]["momentum_buffer"][0] == pytest.approx(v2["b1"], abs=1e-15)
    assert document["losses"][0] == pytest.approx(0.5 * (0.25 - sigma(0.45 * sigma(0.415) + 0.65)) ** 2, abs=1e-15)


def test_adam_two_steps_by_hand(nncalc):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    params, m, v = dict(START), dict.fromkeys(START, 0.0), dict.fromkeys(START, 0.0)
    for t in (1, 2):
        g = course_gradients(**params)
        for k in params:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            m_hat, v_hat = m[k] / (1 - b1**t), v[k] / (1 - b2**t)
            params[k] -= lr * m_hat / (math.sqrt(v_hat) + eps)
    document = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "-n", "2", "--optimizer", "adam")
    for key, value in course_weights(document).items():
        assert value == pytest.approx(params[key], abs=1e-13)
    layer = document["optimizer_state"]["layers"][1]["weights"]
    assert layer["exp_avg"][0][0] == pytest.approx(m["w2"], rel=1e-12)
    assert layer["exp_avg_sq"][0][0] == pytest.approx(v["w2"], rel=1e-12)
    # Adam's first step moves every parameter by about lr, against its gradient's sign
    one = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "--optimizer", "adam")
    assert one["layers"][1]["weights"][0][0] == pytest.approx(0.45 - 0.01, abs=1e-8)
    assert one["optimizer_state"]["step"] == 1


def test_the_worked_page_writes_each_update_with_its_numbers(nncalc):
    g = course_gradients(**START)
    result = nncalc("backward", COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "--optimizer", "adam", "-f", "table")
    assert result.code == 0, result.err
    text = result.out
    m = 0.1 * g["w2"]
    assert f"m′ = β_1 · m + (1 − β_1) · g = 0.9 · 0 + (1 − 0.9) · {g['w2']:.4f} = {m:.4f}" in text
    assert f"v′ = β_2 · v + (1 − β_2) · g^2 = 0.999 · 0 + (1 − 0.999) · {g['w2']:.4f}^2" in text
    assert f"m̂ = m′ / (1 − β_1^t) = {m:.4f} / (1 − 0.9^1)" in text
    assert "w′ = w − lr · (m̂ / (√v̂ + ε)) = 0.45 − 0.01 · (" in text
    assert "Adam (lr 0.01), step t = 1" in text
    # the buffers after the step beside the weights
    assert re.search(r"w\(h1→o1\)\s*│\s*0\.45\s*│\s*" + f"{g['w2']:.4f}" + r"\s*│\s*" + f"{m:.4f}", text)


def test_momentum_second_step_shows_the_buffer_carried_over(nncalc, tmp_path):
    lr, mu = 0.4, 0.9
    g1 = course_gradients(**START)
    p1 = {k: START[k] - lr * g1[k] for k in START}
    g2 = course_gradients(**p1)
    v2 = mu * g1["w2"] + g2["w2"]
    state, net = tmp_path / "state.yaml", tmp_path / "net.yaml"
    first = nncalc(
        "backward",
        COURSE,
        "-i",
        "0.1",
        "-t",
        "0.25",
        "--lr",
        "0.4",
        "--optimizer",
        "{name: sgd, momentum: 0.9}",
        "--write",
        net,
        "--write-state",
        state,
        "-f",
        "json",
    )
    assert first.code == 0, first.err
    second = nncalc("backward", net, "-i", "0.1", "-t", "0.25", "--state", state, "-f", "markdown")
    assert second.code == 0, second.err
    expected = f"v' = \\mu \\cdot v + g = 0.9 \\cdot {g1['w2']:.4f} + {g2['w2']:.4f} = {v2:.4f}"
    assert expected in second.out.replace("≈", "=").replace("\\approx", "=")
    assert "SGD (lr 0.4, momentum 0.9), step t = 2" in second.out


def test_weight_decay_and_adamw_decay_by_hand(nncalc):
    g = course_gradients(**START)
    lr, lam = 0.01, 0.1
    # Adam with weight decay: g + λ·w enters the averages; step 1 moves by lr·sign(g + λw)
    coupled = cli_json(
        nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "--optimizer", "{name: adam, weight_decay: 0.1}"
    )
    gd = g["w2"] + lam * 0.45
    expected = 0.45 - lr * gd / (abs(gd) + 1e-8)
    assert coupled["layers"][1]["weights"][0][0] == pytest.approx(expected, abs=1e-15)
    # AdamW shrinks the weight first, w·(1 − lr·λ), then takes Adam's step on g alone
    decoupled = cli_json(
        nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "--optimizer", "{name: adamw, weight_decay: 0.1}"
    )
    expected = 0.45 * (1 - lr * lam) - lr * g["w2"] / (abs(g["w2"]) + 1e-8)
    assert decoupled["layers"][1]["weights"][0][0] == pytest.approx(expected, abs=1e-15)


def test_rmsprop_one_step_by_hand(nncalc):
    g = course_gradients(**START)
    lr, alpha = 0.01, 0.99
    document = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.01", "--optimizer", "rmsprop")
    square = (1 - alpha) * g["w2"] ** 2
    assert document["layers"][1]["weights"][0][0] == pytest.approx(0.45 - lr * g["w2"] / (math.sqrt(square) + 1e-8))
    assert document["optimizer_state"]["layers"][1]["weights"]["square_avg"][0][0] == pytest.approx(square, rel=1e-14)


def test_frozen_biases_stay_and_keep_no_state(nncalc):
    document = cli_json(
        nncalc,
        CLASSIC,
        "-i",
        "0.05,0.10",
        "-t",
        "0.01,0.99",
        "-n",
        "3",
        "--freeze-biases",
        "--optimizer",
        "{name: sgd, momentum: 0.9}",
    )
    for layer in document["network"]["layers"]:
        assert layer["biases"] == [0.35, 0.35] or layer["biases"] == [0.6, 0.6]
    for layer in document["optimizer_state"]["layers"]:
        assert layer["biases"] == {"step": 0}
        assert len(layer["weights"]["momentum_buffer"]) == 2


def test_without_an_optimizer_nothing_changes(nncalc):
    plain = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4")
    assert "optimizer_state" not in plain
    # plain SGD as an optimizer takes the same step as plain gradient descent
    sgd = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "--optimizer", "sgd")
    assert course_weights(sgd) == course_weights(plain)
    trained = cli_json(nncalc, COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-n", "3")
    assert "optimizer_state" not in trained and len(trained["losses"]) == 4


# --- continuing a run ------------------------------------------------------------------------------

OPTIMIZERS = [
    "{name: sgd, momentum: 0.9, nesterov: true, weight_decay: 0.01}",
    "{name: sgd, momentum: 0.5, dampening: 0.3}",
    "{name: adam, betas: [0.8, 0.99], amsgrad: true}",
    "{name: adamw, weight_decay: 0.05}",
    "{name: rmsprop, centered: true, momentum: 0.9, weight_decay: 0.01}",
    "rmsprop",
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_two_then_three_steps_are_five(nncalc, tmp_path, optimizer):
    common = ("-i", "0.05,0.10", "-t", "0.01,0.99", "-i", "0.2,-0.1", "-t", "0.5,0.5")
    five = cli_json(nncalc, CLASSIC, *common, "--lr", "0.05", "-n", "5", "--optimizer", optimizer)
    net, state = tmp_path / "two.yaml", tmp_path / "state.yaml"
    two = nncalc(
        "backward",
        CLASSIC,
        *common,
        "--lr",
        "0.05",
        "-n",
        "2",
        "--optimizer",
        optimizer,
        "--write",
        net,
        "--write-state",
        state,
        "-f",
        "json",
    )
    assert two.code == 0, two.err
    assert "wrote the optimizer's state" in two.err
    # the learning rate and the optimizer come from the state file
    three = cli_json(nncalc, net, *common, "-n", "3", "--state", state)
    assert three["network"]["layers"] == five["network"]["layers"]
    assert three["optimizer_state"] == five["optimizer_state"]
    assert three["losses"] == five["losses"][2:]


def test_a_state_file_is_continued_in_place_and_the_json_output_reads_back(nncalc, tmp_path):
    state, net = tmp_path / "adam.yaml", tmp_path / "net.yaml"
    args = ("-i", "0.1", "-t", "0.25")
    five = cli_json(nncalc, COURSE, *args, "--lr", "0.01", "-n", "5", "--optimizer", "adam")
    assert (
        nncalc(
            "backward",
            COURSE,
            *args,
            "--lr",
            "0.01",
            "-n",
            "3",
            "--optimizer",
            "adam",
            "--write",
            net,
            "--write-state",
            state,
            "-f",
            "json",
        ).code
        == 0
    )
    for _ in range(2):  # one step at a time, the state file replaced by its continuation
        step = nncalc(
            "backward", net, *args, "--state", state, "--write-state", state, "--write", net, "--force", "-f", "json"
        )
        assert step.code == 0, step.err
    assert course_weights(json.loads(step.out)) == course_weights(five)
    # the same optimizer may be named again, and --lr given anew
    same = cli_json(nncalc, net, *args, "--state", state, "--optimizer", "{name: adam, eps: 1e-8}", "--lr", "0.02")
    assert same["optimizer_state"]["lr"] == 0.02 and same["optimizer_state"]["step"] == 6
    # the JSON output's optimizer section is a state file too
    saved = tmp_path / "from-json.json"
    saved.write_text(json.dumps(five["optimizer_state"]), encoding="utf-8")
    more = cli_json(nncalc, COURSE, *args, "--state", saved)
    assert more["optimizer_state"]["step"] == 6


def test_the_api_continues_from_a_result(tmp_path):
    net = nncalc.load(COURSE)
    one = net.backward([0.1], [0.25], lr=0.01, optimizer={"name": "adam", "betas": [0.8, 0.99]})
    assert one.state.step == 1 and one.optimizer.name == "adam"
    two = one.network.backward([0.1], [0.25], lr=0.01, optimizer="{name: adam, betas: [0.8, 0.99]}", state=one.state)
    again = one.network.backward([0.1], [0.25], state=one.optimizer_state)  # lr and optimizer from the data
    assert two.network == again.network and two.state == again.state
    assert two.optimizer_state["step"] == 2
    assert "m̂" in two.to_text() and r"\hat{m}" in two.to_latex() and "<math" in two.to_html()
    with pytest.raises(nncalc.NncalcError, match="did you mean 'betas'"):
        net.backward([0.1], [0.25], optimizer={"name": "adam", "beta": [0.8, 0.9]})


# --- mistakes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--optimizer", "adamm"), "error: --optimizer: unknown optimizer 'adamm'; did you mean 'adam'?"),
        (("--optimizer", "{name: sgd, momentun: 0.9}"), "did you mean 'momentum'?"),
        (("--optimizer", "{name: sgd, nesterov: true}"), "nesterov needs a momentum above 0"),
        (("--optimizer", "{name: adam, betas: [1.5, 0.9]}"), "betas[0] must be ≥ 0 and < 1"),
        (("--write-state", "never.yaml"), "--write-state saves an optimizer's state"),
    ],
)
def test_mistakes_exit_2_with_one_error_line(nncalc, args, fragment):
    result = nncalc("backward", COURSE, "-i", "0.1", "-t", "0.25", *args)
    assert result.code == 2
    assert fragment in result.err
    assert "Traceback" not in result.err


def test_a_state_of_another_network_or_optimizer_is_a_located_error(nncalc, tmp_path, write):
    state = tmp_path / "classic.yaml"
    made = nncalc(
        "backward",
        CLASSIC,
        "-i",
        "0.05,0.10",
        "-t",
        "0.01,0.99",
        "--optimizer",
        "adam",
        "--write-state",
        state,
        "-f",
        "json",
    )
    assert made.code == 0, made.err
    wrong_net = nncalc("backward", COURSE, "-i", "0.1", "-t", "0.25", "--state", state)
    assert wrong_net.code == 2
    assert re.search(rf"error: {re.escape(str(state))}:\d+:\d+: .*(shape|layer)", wrong_net.err)
    other = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--state", state, "--optimizer", "sgd")
    assert other.code == 2 and "the state is of adam, --optimizer gives sgd" in other.err
    text = state.read_text(encoding="utf-8").replace("exp_avg_sq", "exp_avg_sqr")
    broken = write("broken.yaml", text)
    bad = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--state", broken)
    assert bad.code == 2 and "did you mean 'exp_avg_sq'?" in bad.err
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+:", bad.err)
    exists = nncalc(
        "backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--optimizer", "adam", "--write-state", broken
    )
    assert exists.code == 2 and "pass --force" in exists.err


# --- every notation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "latex"])
def test_every_notation_writes_the_update(nncalc, optimizer, fmt):
    result = nncalc(
        "backward",
        CLASSIC,
        "-i",
        "0.05,0.10",
        "-t",
        "0.01,0.99",
        "--optimizer",
        optimizer,
        "--freeze-biases",
        "-f",
        fmt,
    )
    assert result.code == 0, result.err
    assert "step t = 1" in result.out
    assert "biases frozen" in result.out


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("samples", [1, 2])
def test_the_latex_page_compiles_without_running_into_the_margin(tmp_path, optimizer, samples):
    from tests.test_latex_backward import PDFLATEX, compile_pdf

    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    net = nncalc.load(CLASSIC)
    x, t = [[0.05, 0.10], [0.2, -0.1]][:samples], [[0.01, 0.99], [0.5, 0.5]][:samples]
    step = net.backward(x, t, lr=0.1, optimizer=optimizer)
    # a second step from the file's own numbers (a trained network's are written to every digit),
    # so that the buffers written are not zeros
    second = net.backward(x, t, state=step.optimizer_state)
    compile_pdf(tmp_path, second.to_latex(standalone=True))


# --- PyTorch ---------------------------------------------------------------------------------------

TORCH_CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "dampening": 0.3}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.5, "maximize": True}),
    ("adam", {}),
    ("adam", {"betas": [0.8, 0.99], "eps": 1e-6}),
    ("adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("adamw", {}),
    ("adamw", {"weight_decay": 0.1, "amsgrad": True}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.9, "centered": True}),
]


def _torch_run(torch, name, options, lr, steps, x, t, freeze):
    """The classic 2-2-2 network trained by torch.optim in float64: final parameters and state."""
    net = nncalc.load(CLASSIC)
    linears = []
    for layer in net.layers:
        linear = torch.nn.Linear(layer.n_inputs, layer.n_neurons).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.weights))
            linear.bias.copy_(torch.tensor(layer.biases))
        linear.bias.requires_grad_(not freeze)
        linears.append(linear)
    model = torch.nn.Sequential(linears[0], torch.nn.Sigmoid(), linears[1], torch.nn.Sigmoid())
    params = [p for p in model.parameters() if p.requires_grad]
    kind = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
    }
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    optimizer = kind[name](params, lr=lr, foreach=False, **kwargs)
    xs, ts = torch.tensor(x, dtype=torch.float64), torch.tensor(t, dtype=torch.float64)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (0.5 * ((model(xs) - ts) ** 2).sum(dim=1)).mean()
        loss.backward()
        optimizer.step()
    return linears, optimizer


@pytest.mark.parametrize(("name", "options"), TORCH_CASES)
@pytest.mark.parametrize("freeze", [False, True])
def test_several_steps_match_torch_optim(nncalc, name, options, freeze):
    torch = pytest.importorskip("torch")
    x, t = [[0.05, 0.10], [0.2, -0.1]], [[0.01, 0.99], [0.5, 0.5]]
    lr, steps = 0.05, 4
    linears, optimizer = _torch_run(torch, name, options, lr, steps, x, t, freeze)
    spec = "{name: " + name + "".join(f", {k}: {json.dumps(v)}" for k, v in options.items()) + "}"
    args = [a for i in range(2) for a in ("-i", ",".join(map(str, x[i])), "-t", ",".join(map(str, t[i])))]
    document = cli_json(
        nncalc,
        CLASSIC,
        *args,
        "--lr",
        str(lr),
        "-n",
        str(steps),
        "--optimizer",
        spec,
        *(["--freeze-biases"] if freeze else []),
    )
    for layer, linear, state in zip(
        document["network"]["layers"], linears, document["optimizer_state"]["layers"], strict=True
    ):
        np.testing.assert_allclose(layer["weights"], linear.weight.detach().numpy(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(layer["biases"], linear.bias.detach().numpy(), rtol=0, atol=1e-14)
        theirs = optimizer.state[linear.weight]
        for key, values in state["weights"].items():
            if key != "step":
                np.testing.assert_allclose(values, theirs[key].numpy(), rtol=1e-12, atol=1e-16)
        if "step" in theirs:
            assert document["optimizer_state"]["step"] == int(theirs["step"])


def test_the_api_matches_torch_optim():
    torch = pytest.importorskip("torch")
    x, t = [[0.05, 0.10]], [[0.01, 0.99]]
    linears, _ = _torch_run(torch, "adam", {"amsgrad": True}, 0.1, 3, x, t, False)
    net, state = nncalc.load(CLASSIC), None
    for _ in range(3):
        step = net.backward(x, t, lr=0.1, optimizer={"name": "adam", "amsgrad": True}, state=state)
        net, state = step.network, step.state
    for layer, linear in zip(net.layers, linears, strict=True):
        np.testing.assert_allclose(layer.weights, linear.weight.detach().numpy(), rtol=0, atol=1e-14)


# --- training: the lean loop against backward step by step -------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize(("freeze", "decimals"), [(False, None), (True, None), (False, 4)])
def test_training_is_backward_step_by_step_to_the_bit(optimizer, freeze, decimals):
    from nncalc.backprop import backward, train
    from nncalc.optimizers import parse_optimizer

    net = nncalc.load(CLASSIC)
    x, t = np.array([[0.05, 0.10], [0.2, -0.1]]), np.array([[0.01, 0.99], [0.5, 0.5]])
    bound = parse_optimizer(optimizer)
    seen = []
    trained = train(net, x, t, "half_sse", 0.05, 6, freeze, lambda i, r: seen.append(r), decimals, optimizer=bound)
    current, state = net, None
    for i in range(6):
        result = backward(current, x, t, "half_sse", 0.05, freeze, decimals, False, bound, state)
        assert result.loss == trained.losses[i]
        assert result == seen[i]  # a step of the run, worked out when read, is backward's
        current, state = result.network, result.state
    assert current == trained.network
    assert state == trained.state


def test_a_run_that_overflows_names_the_step():
    from nncalc.backprop import train
    from nncalc.errors import ComputationError
    from nncalc.optimizers import parse_optimizer

    net = nncalc.Network.from_dict(
        {"inputs": 1, "layers": [{"weights": [[1.0]], "biases": [0.0], "activation": "identity"}]}
    )
    # w grows as the momentum builds: 1 + 10·100·(1 + …) overflows the loss within a few dozen steps
    momentum = parse_optimizer("{name: sgd, momentum: 0.9}")
    x, t = np.array([[10.0]]), np.array([[0.0]])
    with pytest.raises(ComputationError, match=r"^step (\d+): the loss half_sse is not finite") as failed:
        train(net, x, t, "half_sse", 10.0, 300, optimizer=momentum)
    step = int(re.search(r"step (\d+)", str(failed.value)).group(1))
    # the loss before that step is the loss after the one before: finite one step earlier
    losses = train(net, x, t, "half_sse", 10.0, step - 2, optimizer=momentum).losses
    assert np.isfinite(losses).all()
    with pytest.raises(ComputationError, match=f"^after {step - 1} steps: the loss half_sse is not finite"):
        train(net, x, t, "half_sse", 10.0, step - 1, optimizer=momentum)
