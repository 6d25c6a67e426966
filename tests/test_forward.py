"""Forward propagation: the course's numbers, the classic example, and the output formats."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncalc.engine import first_non_finite, forward, round_half_up
from nncalc.loader import load_network, parse_network
from tests.conftest import CONFIGS, NETWORK_CONFIGS
from tests.reference import forward as reference_forward


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_course_lab_chain_matches_hand_working():
    """x=0.1, w=0.15, b=0.4 → z=0.415, a=0.6023; w=0.45, b=0.65 → z=0.9210, a=0.7153."""
    net = load_network(CONFIGS / "course-chain.yaml")
    trace = forward(net, np.array([[0.1]]))
    z1, a1 = trace.layers[0].z[0, 0], trace.layers[0].a[0, 0]
    z2, a2 = trace.layers[1].z[0, 0], trace.layers[1].a[0, 0]
    assert z1 == pytest.approx(0.415, abs=1e-15)
    assert round(a1, 4) == 0.6023
    assert z2 == pytest.approx(0.45 * sigma(0.415) + 0.65, abs=1e-15)
    assert round(z2, 4) == 0.9210
    assert round(a2, 4) == 0.7153


def test_course_note_slip_is_caught():
    """The notes print a=0.7153 for w=0.25, b=0.5, but σ(0.6506) is 0.6571."""
    net = load_network(CONFIGS / "course-note.yaml")
    trace = forward(net, np.array([[0.1]]))
    assert round(trace.layers[1].z[0, 0], 4) == 0.6506
    assert round(trace.output[0, 0], 4) == 0.6571
    assert round(trace.output[0, 0], 4) != 0.7153


def test_classic_2_2_2_forward_pass():
    """The classic worked example: out_o1 = 0.75136507, out_o2 = 0.772928465."""
    for name in ("classic-2-2-2.yaml", "per-neuron.yaml"):
        net = load_network(CONFIGS / name)
        trace = forward(net, np.array([[0.05, 0.10]]))
        assert trace.layers[0].z[0] == pytest.approx([0.3775, 0.3925], abs=1e-12)
        assert trace.layers[0].a[0] == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
        assert trace.output[0] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)


def test_kernel_is_the_transpose_of_weights():
    """`kernel:` (Keras orientation) means the same network as the transposed `weights:`."""
    a = parse_network("inputs: 2\nlayers:\n  - kernel: [[1, 2, 3], [4, 5, 6]]\n")
    b = parse_network("inputs: 2\nlayers:\n  - weights: [[1, 4], [2, 5], [3, 6]]\n")
    assert np.array_equal(a.layers[0].weights, b.layers[0].weights)
    assert a.layers[0].weights.shape == (3, 2)


@pytest.mark.parametrize(
    "text, weights, biases",
    [
        ("weights: 0.15\n    biases: 0.4", [[0.15]], [0.4]),
        ("weights: [0.15]", [[0.15]], [0.0]),
        ("weights: [[0.15]]\n    biases: [1/4]", [[0.15]], [0.25]),
        ("neurons: [{weights: 0.15, bias: -.5}]", [[0.15]], [-0.5]),
    ],
)
def test_hand_conveniences(text, weights, biases):
    """A 1x1 layer may be written as a number, a flat list, a matrix or neuron by neuron."""
    net = parse_network(f"inputs: 1\nlayers:\n  - {text}\n")
    assert net.layers[0].weights.tolist() == weights
    assert net.layers[0].biases.tolist() == biases
    assert net.layers[0].weights.dtype == np.float64


def test_default_names():
    """Inputs x1, x2…; one hidden layer h1, h2…; several hidden layers h1_1…; outputs o1…."""
    one = parse_network("inputs: 2\nlayers:\n  - weights: [[1, 2], [3, 4]]\n  - weights: [1, 2]\n")
    assert one.inputs == ("x1", "x2")
    assert [layer.name for layer in one.layers] == ["hidden", "output"]
    assert one.layers[0].neurons == ("h1", "h2")
    assert one.outputs == ("o1",)
    two = parse_network("inputs: 1\nlayers:\n  - weights: 1\n  - weights: [[1], [2]]\n  - weights: [1, 2]\n")
    assert [layer.name for layer in two.layers] == ["hidden1", "hidden2", "output"]
    assert two.layers[1].neurons == ("h2_1", "h2_2")


def _random_network(rng: random.Random, activations: list[str]) -> tuple[str, list]:
    sizes = [rng.randint(1, 4) for _ in range(len(activations) + 1)]
    lines = [f"inputs: {sizes[0]}", "layers:"]
    layers = []
    for k, activation in enumerate(activations):
        w = [[rng.uniform(-2, 2) for _ in range(sizes[k])] for _ in range(sizes[k + 1])]
        b = [rng.uniform(-1, 1) for _ in range(sizes[k + 1])]
        lines.append(f"  - weights: {json.dumps(w)}\n    biases: {json.dumps(b)}\n    activation: {activation}")
        layers.append((w, b, activation))
    return "\n".join(lines) + "\n", layers


@pytest.mark.parametrize("seed", range(20))
def test_engine_matches_plain_reference_on_random_networks(seed):
    """The vectorised engine agrees with a per-neuron math-module implementation."""
    rng = random.Random(seed)
    activations = [rng.choice(["identity", "sigmoid", "tanh", "relu"]) for _ in range(rng.randint(1, 3))]
    activations.append(rng.choice(["sigmoid", "softmax", "identity"]))
    text, layers = _random_network(rng, activations)
    net = parse_network(text)
    batch = [[rng.uniform(-3, 3) for _ in range(net.n_inputs)] for _ in range(rng.randint(1, 5))]
    trace = forward(net, np.array(batch))
    for s, x in enumerate(batch):
        expected = reference_forward(layers, x)
        for k, a in enumerate(expected):
            assert trace.layers[k].a[s].tolist() == pytest.approx(a, rel=1e-12, abs=1e-14)


def test_round_half_up_rounds_like_on_paper():
    """Halves go away from zero, judged on the decimal value: 1.005 → 1.01, 0.125 → 0.13."""
    values = np.array([1.005, 0.125, -0.125, 0.6022861768886306, 2.5])
    assert round_half_up(values, 2).tolist() == [1.01, 0.13, -0.13, 0.6, 2.5]
    assert round_half_up(np.array([0.6022861768886306]), 4).tolist() == [0.6023]


@pytest.mark.parametrize(
    "value, decimals, paper",
    [
        (0.124999996, 2, 0.12),  # close to a half, but not one: the nearer value
        (0.125000004, 2, 0.13),
        (-0.124999996, 2, -0.12),
        (50000000.11115, 4, 50000000.1112),  # stored 4e-5 below the half once scaled: still a half
        (2.675, 2, 2.68),  # stored as 2.67499999999999982…
        (0.285, 2, 0.29),
        (1.0000005, 6, 1.000001),
        (0.5, 0, 1.0),
        (-0.5, 0, -1.0),
        (0.49999999999999994, 0, 0.0),  # the float just below ½ is written 0.49999999999999994, not 0.5
        # 16 significant digits at 6 decimals: the float nearest the half below is the value itself,
        # which already has 6 decimals, so it stays
        (4455254799.92, 6, 4455254799.92),
        (562949954.0, 6, 562949954.0),
        (576460752305.0, 6, 576460752305.0),  # beyond 2**52 units of the last decimal: as it is
    ],
)
def test_round_half_up_judges_the_decimal_written(value, decimals, paper):
    assert round_half_up(np.array([value]), decimals).tolist() == [paper]


@settings(max_examples=2000, derandomize=True, database=None)
@given(
    digits=st.integers(1, 15),
    data=st.data(),
    exponent=st.integers(-16, 4),
    decimals=st.integers(0, 15),
)
def test_round_half_up_is_decimal_rounding_of_the_number_written(digits, data, exponent, decimals):
    """Against Python's decimal module on the number as written (up to 15 significant digits,
    which a float holds exactly as text): ROUND_HALF_UP of the decimal, then the nearest float."""
    mantissa = data.draw(st.integers(-(10**digits), 10**digits))
    written = Decimal(mantissa).scaleb(exponent)
    with localcontext() as context:
        context.prec = 60
        expected = float(written.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
    assert round_half_up(np.array([float(written)]), decimals).tolist() == [expected], str(written)


def test_rounded_forward_carries_rounded_values():
    """With decimals=4 the second layer uses a1 = 0.6023, as the course lab does by hand."""
    net = load_network(CONFIGS / "course-chain.yaml")
    trace = forward(net, np.array([[0.1]]), decimals=4)
    assert trace.layers[0].a[0, 0] == 0.6023
    assert trace.layers[1].z[0, 0] == pytest.approx(0.45 * 0.6023 + 0.65, abs=1e-15)
    assert trace.layers[1].a[0, 0] == 0.7153  # the lab: σ(0.921035), rounded


def test_overflow_is_located():
    """Finite inputs that overflow inside the network are found, with layer, sample and neuron."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: [[1e308], [1]]\n    activation: identity\n")
    trace = forward(net, np.array([[1.0], [10.0]]))
    bad = first_non_finite(trace)
    assert (bad.layer, bad.sample, bad.neuron, bad.quantity) == (0, 1, 0, "z")
    assert math.isinf(bad.value)


# -- the command line ----------------------------------------------------------------------


def test_forward_table_shows_the_derivation(nncalc):
    """The default table on a terminal shows each step as a person writes it."""
    result = nncalc("forward", CONFIGS / "course-chain.yaml", "--input", "0.1", tty=True)
    assert result.code == 0, result.err
    assert "z = 0.15 × 0.1 + 0.4 = 0.415" in result.out
    assert "a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023" in result.out
    assert "z = 0.45 × 0.6023 + 0.65 = 0.9210" in result.out
    assert "a = σ(0.9210) = 1 / (1 + e^−0.9210) ≈ 0.7153" in result.out  # σ(0.9210) is 0.7152
    assert "output: o1 = 0.7153" in result.out


def test_course_note_table_shows_the_true_value(nncalc):
    """For the notes' w=0.25, b=0.5 the table shows σ(0.6506) = 0.6571, not 0.7153."""
    result = nncalc("forward", CONFIGS / "course-note.yaml", "-i", "0.1", "--format", "table")
    assert "a = σ(0.6506) = 1 / (1 + e^−0.6506) = 0.6571" in result.out
    assert "0.7153" not in result.out


def test_default_format_depends_on_the_terminal(nncalc):
    """A terminal gets tables; a pipe gets plain CSV."""
    at_terminal = nncalc("forward", CONFIGS / "course-chain.yaml", "-i", "0.1", tty=True)
    piped = nncalc("forward", CONFIGS / "course-chain.yaml", "-i", "0.1", tty=False)
    assert "┃" in at_terminal.out or "|" in at_terminal.out
    assert "σ(" in at_terminal.out
    assert piped.out.splitlines()[0] == "x1,o1"
    assert "σ" not in piped.out


def test_precision_option(nncalc):
    """--precision 6 shows six decimals; the arithmetic is the same."""
    result = nncalc("forward", CONFIGS / "course-chain.yaml", "-i", "0.1", "-f", "table", "-p", "6")
    assert f"{sigma(0.415):.6f}" in result.out


def test_json_round_trips_every_float(nncalc):
    """JSON holds every z and a at full precision: parsed back, they are the same floats."""
    result = nncalc("forward", CONFIGS / "classic-2-2-2.yaml", "-i", "0.05,0.10", "-i", "1 2", "-f", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    trace = forward(net, np.array([[0.05, 0.10], [1.0, 2.0]]))
    assert document["network"]["inputs"] == ["i1", "i2"]
    assert document["network"]["layers"][0]["weights"] == [[0.15, 0.2], [0.25, 0.3]]
    assert len(document["samples"]) == 2
    for s, sample in enumerate(document["samples"]):
        assert sample["output"] == trace.output[s].tolist()
        for k, layer in enumerate(sample["layers"]):
            assert layer["z"] == trace.layers[k].z[s].tolist()
            assert layer["a"] == trace.layers[k].a[s].tolist()
    assert document["samples"][0]["output"] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)


def test_jsonl_is_one_sample_per_line(nncalc):
    """--format jsonl writes one sample object per line."""
    result = nncalc("forward", CONFIGS / "classic-2-2-2.yaml", "-i", "0.05,0.10", "-i", "1,2", "-f", "jsonl")
    lines = result.out.splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["input"] == [0.05, 0.10]
    assert first["layers"][1]["neurons"] == ["o1", "o2"]
    assert first["output"] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)


def test_csv_with_trace_parses_back(nncalc):
    """CSV has a header, the inputs and outputs, and with --trace every z and a."""
    stdin = "i1,i2\n0.05,0.10\n1,2\n"
    result = nncalc(
        "forward", CONFIGS / "classic-2-2-2.yaml", "--inputs", "-", "--format", "csv", "--trace", stdin=stdin
    )
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 2
    assert float(rows[0]["o1"]) == pytest.approx(0.75136507, abs=1e-8)
    assert float(rows[0]["hidden.h1.z"]) == pytest.approx(0.3775, abs=1e-15)
    net = load_network(CONFIGS / "classic-2-2-2.yaml")
    trace = forward(net, np.array([[0.05, 0.10], [1.0, 2.0]]))
    assert [float(rows[s]["output.o2.a"]) for s in range(2)] == trace.output[:, 1].tolist()


def test_csv_header_columns_may_come_in_any_order(nncalc, write):
    """A header row names the inputs; the columns are matched by name."""
    data = write("samples.csv", "i2,i1\n0.10,0.05\n")
    result = nncalc("forward", CONFIGS / "classic-2-2-2.yaml", "--inputs", data, "-f", "csv")
    row = next(csv.DictReader(io.StringIO(result.out)))
    assert float(row["i1"]) == 0.05
    assert float(row["o1"]) == pytest.approx(0.75136507, abs=1e-8)


def test_output_file_and_its_suffix(nncalc, tmp_path):
    """-o writes to a file, and its suffix picks the format."""
    target = tmp_path / "result.json"
    result = nncalc("forward", CONFIGS / "course-chain.yaml", "-i", "0.1", "-o", target)
    assert result.code == 0 and result.out == ""
    assert json.loads(target.read_text())["samples"][0]["output"][0] == pytest.approx(0.7152516802527555)


def test_overflow_exits_1_unless_allowed(nncalc, write):
    """An overflow inside the network is a "no" (exit 1); --allow-nonfinite lets it through as null."""
    net = write("big.yaml", "inputs: 1\nlayers:\n  - weights: 1e308\n    activation: identity\n")
    failed = nncalc("forward", net, "-i", "10", "-f", "json")
    assert failed.code == 1
    assert "layer 1 (output), neuron o1, sample 1: z is an overflow" in failed.err
    allowed = nncalc("forward", net, "-i", "10", "-f", "json", "--allow-nonfinite")
    assert allowed.code == 0
    assert "warning:" in allowed.err
    assert json.loads(allowed.out)["samples"][0]["output"] == [None]


def test_check_summarises(nncalc):
    """check prints layers, shapes, activations and the parameter count."""
    result = nncalc("check", CONFIGS / "keras-kernel.yaml")
    assert result.code == 0
    assert "2 × 3" in result.out and "3 × 2" in result.out
    assert "leaky_relu(negative_slope=0.3)" in result.out
    assert "parameters: 17" in result.out


def test_every_shipped_config_is_valid(nncalc):
    """Every example network in configs/ loads and runs."""
    for path in NETWORK_CONFIGS:
        assert nncalc("check", path).code == 0, path
