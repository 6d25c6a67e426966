"""backward, draw, new and the terminal conventions, run through the real entry point."""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import time

import numpy as np
import pytest

from nncalc.loader import load_network, parse_network
from tests.conftest import CONFIGS, run_process

CLASSIC = CONFIGS / "classic-2-2-2.yaml"


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -- backward ----------------------------------------------------------------------------------


def test_backward_classic_matches_the_published_example(nncalc):
    """Inputs 0.05, 0.10, targets 0.01, 0.99, lr 0.5: E = 0.298371109, w5' = 0.35891648, w1' = 0.149780716."""
    result = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--freeze-biases", "-f", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["loss"] == pytest.approx(0.298371109, abs=1e-9)
    hidden, output = document["layers"]
    assert output["delta"][0][0] == pytest.approx(0.138498562, abs=1e-9)
    assert [w for row in output["weights"] for w in row] == pytest.approx(
        [0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=1e-8
    )
    assert [w for row in hidden["weights"] for w in row] == pytest.approx(
        [0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=1e-8
    )
    assert output["biases"] == [0.6, 0.6]


def test_backward_table_writes_the_chain_rule(nncalc):
    """The table shows δ_o1 as the worked examples write it, with numbers."""
    result = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "table")
    assert result.code == 0, result.err
    assert "δ_o1 = (a_o1 − t_o1) · a_o1 · (1 − a_o1) = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385" in result.out
    assert "∂L/∂w(h1→o1) = δ_o1 · a_h1 = 0.1385 · 0.5933 = 0.0822;  w′ = 0.40 − 0.5 · 0.0822 = 0.3589" in result.out


def test_backward_course_chain_by_hand(nncalc):
    """The course chain (x=0.1, t=0.25, lr=0.4), worked by hand with the math module."""
    a1 = sigma(0.15 * 0.1 + 0.4)
    a2 = sigma(0.45 * a1 + 0.65)
    d2 = (a2 - 0.25) * a2 * (1 - a2)
    d1 = 0.45 * d2 * a1 * (1 - a1)
    result = nncalc(
        "backward", CONFIGS / "course-backprop.yaml", "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-f", "json"
    )
    document = json.loads(result.out)
    hidden, output = document["layers"]
    assert output["delta"][0][0] == pytest.approx(d2, rel=1e-12)
    assert hidden["delta"][0][0] == pytest.approx(d1, rel=1e-12)
    assert output["weights"][0][0] == pytest.approx(0.45 - 0.4 * d2 * a1, rel=1e-12)
    assert hidden["weights"][0][0] == pytest.approx(0.15 - 0.4 * d1 * 0.1, rel=1e-12)
    assert output["biases"][0] == pytest.approx(0.65 - 0.4 * d2, rel=1e-12)


def test_backward_markdown(nncalc):
    """--format markdown holds the forward pass, the loss and the backward steps."""
    result = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "markdown")
    assert result.code == 0, result.err
    assert "## loss (half\\_sse)" in result.out or "## loss (half_sse)" in result.out
    assert "### backward: layer 2 (output)" in result.out
    assert r"$\delta_{\text{o1}} = (a_{\text{o1}} - t_{\text{o1}})" in result.out  # maths, as forward writes it
    assert "`" not in result.out


def test_iterations_show_the_loss_falling_and_write_keeps_the_format(nncalc, tmp_path):
    """--iterations repeats the step; --write saves the trained network, loadable and in the same layout."""
    target = tmp_path / "trained.yaml"
    result = nncalc(
        "backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-n", "50", "-f", "json", "--write", target
    )
    assert result.code == 0, result.err
    document = json.loads(result.out)
    losses = document["losses"]
    assert len(losses) == 51
    assert all(b < a for a, b in itertools.pairwise(losses))
    trained = load_network(target)
    assert trained.inputs == ("i1", "i2") and trained.outputs == ("o1", "o2")
    assert trained.layers[1].weights.tolist() == document["network"]["layers"][1]["weights"]
    assert "neurons: [h1, h2]" in target.read_text()
    again = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--write", target)
    assert again.code == 2 and "--force" in again.err
    forced = nncalc(
        "backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "json", "--write", target, "--force"
    )
    assert forced.code == 0


def test_backward_reads_targets_from_csv(nncalc):
    """--inputs takes a CSV whose header names the inputs and the targets (as the outputs are named)."""
    csv_text = "i1,i2,o1,o2\n0.05,0.10,0.01,0.99\n"
    from_file = nncalc("backward", CLASSIC, "--inputs", "-", "-f", "json", stdin=csv_text)
    from_options = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "json")
    assert from_file.code == 0, from_file.err
    assert json.loads(from_file.out)["layers"] == json.loads(from_options.out)["layers"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["-i", "0.05,0.10", "-t", "0.01"], "1 value given, expected 2 (o1, o2)"),
        (["-i", "0.05,0.10"], "give one --target per --input"),
        (["-i", "0.05,0.10", "-t", "0.3,0.3", "--loss", "cross_entropy"], "sum to 1"),
        (["-i", "0.05,0.10", "-t", "0.01,0.99", "--loss", "hinge"], "hinge"),
    ],
)
def test_backward_mistakes_exit_2(nncalc, args, fragment):
    """A wrong target, a missing pair, a loss that cannot apply: one error line, exit 2."""
    result = nncalc("backward", CLASSIC, *args)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("error: ") and fragment in result.err


def test_bce_refuses_outputs_outside_0_1(nncalc, write):
    """bce needs outputs strictly inside (0, 1): an identity output of 1.5 is refused, exit 2."""
    net = write("id.yaml", "inputs: 1\nlayers:\n  - weights: 1.5\n    activation: identity\n")
    result = nncalc("backward", net, "-i", "1", "-t", "1", "--loss", "bce")
    assert result.code == 2
    assert "strictly between 0 and 1" in result.err


# -- draw --------------------------------------------------------------------------------------


def test_draw_dot_holds_every_weight(nncalc):
    """The DOT text labels every edge with its weight as written."""
    result = nncalc("draw", CLASSIC, "-f", "dot")
    assert result.code == 0
    for weight in ("0.15", "0.20", "0.25", "0.30", "0.40", "0.45", "0.50", "0.55"):
        assert f'label="{weight}"' in result.out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_draw_svg_file_holds_the_values(nncalc, tmp_path):
    """-o net.svg draws with Graphviz; the SVG holds the weights and the z and a values."""
    target = tmp_path / "net.svg"
    result = nncalc("draw", CLASSIC, "-i", "0.05,0.10", "-o", target)
    assert result.code == 0, result.err
    svg = target.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert ">0.15<" in svg and "a = 0.5933" in svg and "a = 0.7514" in svg


def test_draw_refuses_png_to_a_terminal(nncalc):
    """Binary output never goes to a terminal."""
    result = nncalc("draw", CLASSIC, "-f", "png", tty=True)
    assert result.code == 2


# -- new ---------------------------------------------------------------------------------------


def test_new_is_reproducible_and_valid(nncalc):
    """The same seed gives the same file; the file loads; values respect the range and decimals."""
    args = ["new", "--inputs", "2", "--layers", "3,2,1", "--activation", "sigmoid", "--seed", "12", "--decimals", "2"]
    first, second = nncalc(*args), nncalc(*args)
    other = nncalc(*args[:-3], "13", "--decimals", "2")
    assert first.code == 0 and first.out == second.out != other.out
    net = parse_network(first.out)
    assert [layer.weights.shape for layer in net.layers] == [(3, 2), (2, 3), (1, 2)]
    for layer in net.layers:
        for row in layer.weight_text:
            for text in row:
                assert 0 <= float(text) < 1 and len(text.partition(".")[2]) <= 2


def test_new_range_and_output_file(nncalc, tmp_path):
    """--range sets the interval; -o never replaces a file without --force."""
    target = tmp_path / "exercise.yaml"
    assert nncalc("new", "--range", "-1,1", "--seed", "3", "-o", target).code == 0
    net = load_network(target)
    values = [v for layer in net.layers for v in layer.weights.ravel()]
    assert all(-1 <= v < 1 for v in values) and any(v < 0 for v in values)
    before = target.read_text()
    again = nncalc("new", "--seed", "4", "-o", target)
    assert again.code == 2 and target.read_text() == before


# -- terminal conventions ----------------------------------------------------------------------


def test_names_are_printed_literally(nncalc, write):
    """Names with Rich markup or brackets are shown as written, never interpreted."""
    net = write("odd.yaml", 'inputs: ["[bold]x[/bold]"]\nlayers:\n  - neurons: ["[red]h"]\n    weights: 1\n')
    result = nncalc("forward", net, "-i", "1", "-f", "table")
    assert result.code == 0, result.err
    assert "[bold]x[/bold] = 1" in result.out and "[red]h" in result.out


def test_no_color_is_honoured():
    """NO_COLOR removes colour codes even when colour is forced on."""
    coloured = run_process(
        "forward", "configs/course-chain.yaml", "-i", "0.1", "-f", "table", env={"FORCE_COLOR": "1", "NO_COLOR": ""}
    )
    plain = run_process(
        "forward", "configs/course-chain.yaml", "-i", "0.1", "-f", "table", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}
    )
    assert "\x1b[" in coloured.out
    assert "\x1b[" not in plain.out


def test_closed_pipe_ends_quietly():
    """A reader that stops early (| head -1) ends nncalc quietly, with exit 0."""
    import subprocess
    import sys

    rows = "i1,i2\n" + "1,2\n" * 50000
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "-", "-f", "jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    process.stdin.write(rows.encode())
    process.stdin.close()
    process.stdout.readline()
    process.stdout.close()
    code = process.wait(timeout=60)
    errors = process.stderr.read()
    process.stderr.close()
    assert code == 0
    assert b"Traceback" not in errors


# -- large layers and interruptions ------------------------------------------------------------


@pytest.fixture
def wide_network(write):
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(40, 3)).tolist()
    return write(
        "wide.yaml",
        f"inputs: 3\nlayers:\n  - weights: {weights}\n    activation: relu\n  - weights: "
        f"{rng.normal(size=(1, 40)).tolist()}\n",
    )


def test_large_layers_are_summarised(nncalc, wide_network):
    """A 40-neuron layer is summarised (range, mean, most active) instead of 40 rows."""
    result = nncalc("forward", wide_network, "-i", "1,2,3", "-f", "table")
    assert result.code == 0, result.err
    assert "40 neurons × 3 inputs" in result.out and "mean" in result.out
    assert "h40" not in result.out.split("highest a:")[0]
    every = nncalc("forward", wide_network, "-i", "1,2,3", "-f", "table", "--all")
    assert "h40" in every.out


def test_steps_on_a_large_layer_need_all(nncalc, wide_network):
    """--steps on a large layer is refused unless --all asks for every line."""
    refused = nncalc("forward", wide_network, "-i", "1,2,3", "-f", "table", "--steps")
    assert refused.code == 2 and "--all" in refused.err
    allowed = nncalc("forward", wide_network, "-i", "1,2,3", "-f", "table", "--steps", "--all")
    assert allowed.code == 0 and "h40  z = Σᵢ wᵢ × xᵢ" not in allowed.out and "h40  z = " in allowed.out


def test_ctrl_c_ends_quietly_with_130():
    """Ctrl-C while nncalc waits for input ends it with exit 130 and no traceback."""
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "-", "-f", "csv"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        process.stdin.write(b"i1,i2\n")
        process.stdin.flush()
        time.sleep(2.0)  # let it start and wait for rows
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        errors = process.stderr.read()
    finally:
        process.stdin.close()
        process.stdout.close()
        process.stderr.close()
    assert code == 130
    assert b"Traceback" not in errors
