"""The library API: what a notebook cell does with nncalc, checked against the course's hand-worked values."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import nncalc
from tests.conftest import CONFIGS, ROOT


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


CHAIN = CONFIGS / "course-chain.yaml"
NOTE = CONFIGS / "course-note.yaml"


def test_the_course_chain_forward_in_one_line():
    result = nncalc.load(CHAIN).forward([0.1])
    z1 = 0.15 * 0.1 + 0.4
    z2 = 0.45 * sigma(z1) + 0.65
    assert result.output.shape == (1, 1)
    assert result.output[0, 0] == pytest.approx(sigma(z2), abs=1e-15)
    assert result.layers[0].z[0, 0] == pytest.approx(0.415, abs=1e-15)
    assert result.layers[0].a[0, 0] == pytest.approx(0.6023, abs=5e-5)
    assert result.layers[1].z[0, 0] == pytest.approx(0.9210, abs=5e-5)


def test_a_batch_is_a_2d_list_or_array():
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    as_list = net.forward([[0.05, 0.10], [1, 2]]).output
    as_array = net.forward(np.array([[0.05, 0.10], [1.0, 2.0]])).output
    assert as_list.shape == (2, 2)
    assert np.array_equal(as_list, as_array)
    # the classic tutorial's worked outputs for 0.05, 0.10
    assert as_list[0] == pytest.approx([0.75136507, 0.772928465], abs=1e-8)


@pytest.mark.parametrize("bad", [[0.1, 0.2], [[0.1], [0.2, 0.3]], ["x"], [float("nan")]])
def test_a_wrong_input_is_an_nncalc_error(bad):
    with pytest.raises(nncalc.NncalcError):
        nncalc.load(CHAIN).forward(bad)


def test_the_network_and_the_samples_may_be_given_as_paths(tmp_path):
    """A notebook writes nncalc.forward("net.yaml", "samples.csv") as the command line reads them."""
    samples = tmp_path / "samples.csv"
    samples.write_text("x1\n0.1\n-0.3\n")
    result = nncalc.forward(str(CHAIN), samples)
    for row, x in enumerate((0.1, -0.3)):
        z2 = 0.45 * sigma(0.15 * x + 0.4) + 0.65
        assert result.output[row, 0] == pytest.approx(sigma(z2), abs=1e-15)


def test_an_image_file_is_read_as_its_matrix_per_channel():
    """The textbook picture through the vertical-edge filter: its map worked by hand."""
    result = nncalc.forward(CONFIGS / "conv-textbook.yaml", CONFIGS / "conv-image.yaml")
    image = [[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]]
    by_hand = [[sum(image[r + i][c] - image[r + i][c + 2] for i in range(3)) for c in range(3)] for r in range(3)]
    assert result.layers[0].z.reshape(3, 3).tolist() == by_hand


def test_backward_reads_its_targets_from_a_file(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text("o1\n0.25\n")
    step = nncalc.backward(CONFIGS / "course-backprop.yaml", [0.1], targets, lr=0.4)
    a2 = sigma(0.45 * sigma(0.415) + 0.65)
    assert step.loss == pytest.approx(0.5 * (0.25 - a2) ** 2, abs=1e-15)


@pytest.mark.parametrize(("network", "message"), [(3, "not int"), ("no-such-net.yaml", "no-such-net.yaml")])
def test_a_network_that_is_neither_a_network_nor_a_file_is_an_nncalc_error(network, message):
    with pytest.raises(nncalc.NncalcError, match=message):
        nncalc.forward(network, [0.1])


def test_backward_gives_the_courses_deltas_and_updates():
    step = nncalc.load(CONFIGS / "course-backprop.yaml").backward([0.1], target=[0.25], lr=0.4, loss="half_sse")
    a1, a2 = sigma(0.415), sigma(0.45 * sigma(0.415) + 0.65)
    delta2 = (a2 - 0.25) * a2 * (1 - a2)
    delta1 = delta2 * 0.45 * a1 * (1 - a1)
    assert step.loss == pytest.approx(0.5 * (0.25 - a2) ** 2, abs=1e-15)
    assert step.layers[1].delta[0, 0] == pytest.approx(delta2, abs=1e-15)
    assert step.layers[0].delta[0, 0] == pytest.approx(delta1, abs=1e-15)
    assert step.network.layers[1].weights[0, 0] == pytest.approx(0.45 - 0.4 * delta2 * a1, abs=1e-15)
    assert step.network.layers[0].biases[0] == pytest.approx(0.4 - 0.4 * delta1, abs=1e-15)


def test_backward_round_carries_rounded_values():
    step = nncalc.load(CONFIGS / "course-backprop.yaml").backward([0.1], target=[0.25], lr=0.4, round=4)
    assert step.network.layers[1].weights[0, 0] == 0.4272  # the course's own worked value


def test_grade_takes_a_dict_or_a_path_and_finds_the_notes_slip():
    net = nncalc.load(NOTE)
    answers = {"layers": [{"z": [0.415], "a": [0.6023]}, {"z": [0.6506], "a": [0.7153]}]}
    from_dict = nncalc.grade(net, [0.1], answers)
    from_path = net.grade([0.1], CONFIGS / "answers-course-note.yaml")
    for marks in (from_dict, from_path):
        assert not marks.all_correct
        assert [(m.layer, m.quantity) for m in marks.wrong] == [(1, "a")]
        assert marks.first_wrong.expected == pytest.approx(sigma(0.6506), abs=1e-12)


def test_network_from_dict_validates_as_a_file_does():
    net = nncalc.Network.from_dict({"inputs": 1, "layers": [{"weights": [[0.15]], "biases": [0.4]}]})
    assert net.forward([0.1]).output[0, 0] == pytest.approx(sigma(0.415), abs=1e-15)
    with pytest.raises(nncalc.NncalcError) as caught:
        nncalc.Network.from_dict({"inputs": 2, "layers": [{"weights": [[1.0]], "activation": "sigmod"}]})
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 2  # the row length and the activation, both at once
    assert any("did you mean 'sigmoid'" in m for m in messages)
    assert all(m.startswith("<dict>:") for m in messages)


def test_numpy_values_in_a_dict_are_taken_as_numbers():
    weights = np.array([[0.15]])
    net = nncalc.Network.from_dict({"inputs": 1, "layers": [{"weights": weights, "biases": np.float64(0.4)}]})
    assert net.layers[0].weights[0, 0] == 0.15


def test_save_then_load_gives_the_same_bits(tmp_path):
    trained = nncalc.load(CONFIGS / "classic-2-2-2.yaml").backward([0.05, 0.10], [0.01, 0.99]).network
    trained.save(tmp_path / "trained.yaml")
    again = nncalc.load(tmp_path / "trained.yaml")
    for before, after in zip(trained.layers, again.layers, strict=True):
        assert before.weights.tobytes() == after.weights.tobytes()
        assert before.biases.tobytes() == after.biases.tobytes()


def test_a_result_displays_itself_in_a_notebook():
    result = nncalc.load(CHAIN).forward([0.1], precision=4)
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    for shown in ("0.415", "0.6023", "0.9210", "0.7153"):
        assert shown in bundle["text/html"]
        assert shown in bundle["text/markdown"]
    assert "<math" in bundle["text/html"] and "<script" not in bundle["text/html"]
    assert "$$" in bundle["text/markdown"]  # Colab typesets only display maths
    assert bundle["text/plain"].startswith("<ForwardResult")


def test_options_are_keyword_arguments():
    result = nncalc.load(CHAIN).forward([0.1], precision=2, steps=False)
    text = result.to_text()
    assert "0.60" in text and "0.6023" not in text
    assert "σ(" not in text  # no steps
    assert "0.6023" in nncalc.load(CHAIN).forward([0.1]).to_markdown()


def test_steps_matrix_gives_the_matrix_form_in_every_display():
    """steps="matrix" is --steps matrix: a layer at once, its matrices typeset (bmatrix in Markdown)."""
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    x, t = [0.05, 0.10], [0.01, 0.99]
    z1 = np.array([[0.15, 0.20], [0.25, 0.30]]) @ np.array(x) + 0.35  # the file's weights, worked here
    for result in (
        net.forward(x, steps="matrix"),
        net.backward(x, t, steps="matrix"),
        nncalc.backward(net, x, t, steps="MATRIX"),
    ):
        markdown = result.to_markdown()
        assert r"z_{1} = W_{1} \cdot x + b_{1}" in markdown
        assert r"\begin{bmatrix} " + f"{z1[0]:.4f}" + r" \cr " + f"{z1[1]:.4f}" + r" \end{bmatrix}" in markdown
        bundle = result._repr_mimebundle_()
        assert r"\begin{bmatrix}" in bundle["text/markdown"] and "<mtable>" in bundle["text/html"]
        assert r"\begin{bmatrix}" in result.to_latex()
    backward = net.backward(x, t, steps="matrix").to_markdown()
    assert r"\delta_{1} = (W_{2}^{\top} \cdot \delta_{2}) \odot" in backward
    for steps in (True, "neurons", None):
        shown = net.forward(x, steps=steps).to_markdown()
        assert "bmatrix" not in shown and "0.3775" in shown
    marks = nncalc.grade(nncalc.load(NOTE), [0.1], CONFIGS / "answers-course-note.yaml", steps="matrix")
    assert r"\sigma\left(" in marks.to_markdown() and "bmatrix" in marks._repr_markdown_()


@pytest.mark.parametrize("steps", ["bogus", "rows", 1, 0.5])
def test_steps_other_than_the_forms_are_refused(steps):
    net = nncalc.load(NOTE)
    calls = (
        lambda: net.forward([0.1], steps=steps),
        lambda: net.backward([0.1], [0.25], steps=steps),
        lambda: nncalc.grade(net, [0.1], CONFIGS / "answers-course-note.yaml", steps=steps),
    )
    for call in calls:
        with pytest.raises(nncalc.NncalcError, match="steps must be True, False, None, 'neurons' or 'matrix'"):
            call()


def test_a_short_useful_repr():
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    assert repr(net) == "<Network 'Classic 2-2-2 sigmoid network': 2-2-2 (sigmoid, sigmoid), 12 parameters>"
    assert "0.7514" in repr(net.forward([0.05, 0.10]))


def test_every_public_name_is_documented_and_typed():
    for name in nncalc.__all__:
        value = getattr(nncalc, name)
        assert value.__doc__ and len(value.__doc__) > 20, name


def test_import_nncalc_is_quick_and_imports_nothing_heavy():
    code = "import sys, nncalc; print(sorted(m for m in ('numpy', 'yaml', 'rich', 'typer') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_the_api_reference_is_the_codes_own():
    """docs/api.md is generated from the signatures and docstrings: it cannot drift."""
    done = subprocess.run(
        [sys.executable, "scripts/api_reference.py", "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


@pytest.mark.parametrize("state", [5, [1, 2], b"state"])
def test_a_state_that_is_no_state_is_an_nncalc_error(state):
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    with pytest.raises(nncalc.NncalcError, match="state must be a result's state"):
        nncalc.backward(net, [0.05, 0.1], [0.01, 0.99], optimizer="adam", state=state)
    with pytest.raises(nncalc.NncalcError, match="state must be a result's state"):
        nncalc.grade(net, [0.05, 0.1], {"layers": [{}, {}]}, target=[0.01, 0.99], optimizer="adam", state=state)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (None, "no input given"),
        ([True, False], "must be numbers, not True and False"),
        (["0.05", "0.10"], "must be numbers, not text"),
        ([0.05, "0.10"], "must be numbers, not text"),
        ([[0.05, None]], "must be numbers, not text, booleans or other objects"),
    ],
)
def test_inputs_that_are_not_numbers_are_refused_not_converted(values, message):
    """NumPy would take True as 1.0 and '0.10' as 0.1; a missing input would be a shape error."""
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    with pytest.raises(nncalc.NncalcError, match=message):
        net.forward(values)


def test_numbers_of_any_python_or_numpy_kind_are_inputs():
    net = nncalc.load(CONFIGS / "classic-2-2-2.yaml")
    as_floats = net.forward([0.05, 0.1]).output
    assert np.array_equal(net.forward(np.array([0.05, 0.1], dtype=object)).output, as_floats)
    assert np.array_equal(net.forward([np.float32(0.5), 1]).output, net.forward([0.5, 1.0]).output)
