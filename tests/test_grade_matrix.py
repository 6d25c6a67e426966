"""``grade --steps matrix``: the first wrong value's layer worked at once, from the person's own values.

Each sheet is worked here as a person works it, with ``math`` and NumPy from the network
files' numbers, each value rounded to the decimals written and carried on rounded. The
matrices of the step must hold those written values (their text as written), and its result
the layer recomputed here from them (W @ a + b, σ, (Wᵀ·δ) ⊙ a(1 − a), δ·aᵀ, W − η·G), never
nncalc's own output; the wrong entry must be named by its row and column. Every notation
writes it, pdflatex compiles it without running into the margin, and ``--no-steps`` leaves it out.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nncalc
from nncalc.document import Document, Note, Steps, Styled
from nncalc.expr import Chain, Derivative, Expr, Frac, Matrix, Name, Neg, Num, Power, Product, Sum
from tests.conftest import CONFIGS

CLASSIC = CONFIGS / "classic-2-2-2.yaml"
NOTE = CONFIGS / "course-note.yaml"
W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
B1 = np.array([0.35, 0.35])
W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
B2 = np.array([0.60, 0.60])
X = [[0.05, 0.10], [0.30, -0.20]]
T = [[0.01, 0.99], [0.90, 0.10]]
PDFLATEX = shutil.which("pdflatex")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def texts(values, decimals: int) -> list:
    """Values as a person writes them, to ``decimals`` (nested like ``values``)."""
    array = np.asarray(values, dtype=float)
    return np.vectorize(lambda v: f"{v:.{decimals}f}")(array).tolist()


def sheet(folder, data: dict):
    """An answers file holding ``data``, each number as its text (``0.60`` keeps its two decimals)."""
    path = folder / "answers.yaml"
    path.write_text(json.dumps(data).replace('"', ""), encoding="utf-8")
    return path


def numbers(written) -> np.ndarray:
    return np.vectorize(float)(np.asarray(written, dtype=object)).astype(float)


# -- reading the document ---------------------------------------------------------------------


def matrix_chains(document: Document) -> list[Chain]:
    return [
        c
        for block in document.blocks
        if isinstance(block, Steps)
        for step in block.items
        for c in step.chains
        if any(isinstance(m, Matrix) for m in found_matrices(c))
    ]


def the_chain(document: Document) -> Chain:
    found = matrix_chains(document)
    assert len(found) == 1, f"{len(found)} matrix steps"
    return found[0]


def found_matrices(node) -> list[Matrix]:
    """Every matrix in ``node``, left to right."""
    if isinstance(node, Matrix):
        return [node]
    if isinstance(node, Chain):
        return [m for part in node.parts for m in found_matrices(part)]
    out = []
    for field in getattr(type(node), "_fields", ()):
        value = getattr(node, field)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Expr):
                out.extend(found_matrices(item))
    return out


def values(matrix: Matrix) -> np.ndarray:
    return np.array([[cell.value for cell in row] for row in matrix.rows])


def written(matrix: Matrix) -> list:
    return [[cell.text for cell in row] for row in matrix.rows]


def entry_note(document: Document) -> Note:
    found = [b for b in document.blocks if isinstance(b, Note) and b.lead == "wrong entry:"]
    assert len(found) == 1
    return found[0]


def note_text(note: Note) -> str:
    """A note's words, its numbers as their text and other formulas as their repr."""
    return "".join(p if isinstance(p, str) else p.text if isinstance(p, (Styled, Num)) else repr(p) for p in note.text)


# -- the forward pass ------------------------------------------------------------------------------


def test_a_wrong_is_worked_from_the_persons_z_and_its_entry_named():
    """The course notes' slip: a = 0.7153 where σ(0.6506) is 0.6571."""
    marks = nncalc.grade(nncalc.load(NOTE), [0.1], CONFIGS / "answers-course-note.yaml", steps="matrix")
    document = marks.document()
    chain = the_chain(document)
    assert chain.parts[0] == Name("a", "2")
    z, a = found_matrices(chain)
    assert written(z) == [["0.6506"]]  # the person's z, as written
    assert values(a)[0, 0] == pytest.approx(1 / (1 + math.exp(-0.6506)), abs=1e-12)
    assert written(a) == [["0.6571"]]  # to the four decimals the person wrote
    note = entry_note(document)
    assert Name("a", "2") in note.text
    assert "row 1 (o1)" in note_text(note)
    assert Styled("not 0.7153", "wrong") in note.text


def test_z_wrong_is_worked_from_the_persons_rounded_a_of_the_layer_below(tmp_path):
    """a_h1 = 0.59 and a_h2 = 0.60 are right to two decimals; z is recomputed from them, not from
    the exact 0.5933 and 0.5969, and the wrong z_o2 is named."""
    answers = sheet(tmp_path, {"layers": [{"a": ["0.59", "0.60"]}, {"z": ["1.106", "1.3"]}]})
    marks = nncalc.grade(nncalc.load(CLASSIC), [0.05, 0.10], answers, steps="matrix")
    assert [m.quantity for m in marks.wrong] == ["z"]
    chain = the_chain(marks.document())
    assert chain.parts[0] == Name("z", "2")
    weights, received, biases, result = found_matrices(chain)
    assert values(weights).tolist() == W2.tolist() and written(weights) == [["0.40", "0.45"], ["0.50", "0.55"]]
    assert written(received) == [["0.59"], ["0.60"]]
    assert values(biases)[:, 0].tolist() == B2.tolist()
    expected = W2 @ np.array([0.59, 0.60]) + B2
    np.testing.assert_allclose(values(result)[:, 0], expected, rtol=0, atol=1e-12)
    assert chain.relations[-1] == "="  # the shown numbers give the shown result
    note = note_text(entry_note(marks.document()))
    assert "row 2 (o2)" in note and "not 1.3" in note and "1.225" in note


def test_a_forward_slip_in_the_second_sample_of_a_batch_is_that_samples_layer(tmp_path):
    net = nncalc.load(CLASSIC)
    a1 = sigmoid(np.array(X) @ W1.T + B1)
    a_rows = texts(a1, 4)
    a_rows[1][0] = "0.6000"  # sample 2, h1: wrong
    marks = nncalc.grade(net, X, sheet(tmp_path, {"layers": [{"a": a_rows}, {}]}), target=T, steps="matrix")
    chain = the_chain(marks.document())
    z1_sample2 = W1 @ np.array(X[1]) + B1
    (z, a) = found_matrices(chain)
    np.testing.assert_allclose(values(z)[:, 0], z1_sample2, atol=1e-12)
    np.testing.assert_allclose(values(a)[:, 0], sigmoid(z1_sample2), atol=1e-12)
    assert "row 1 (h1)" in note_text(entry_note(marks.document()))


# -- the backward pass -----------------------------------------------------------------------------


def test_hidden_delta_is_worked_from_the_persons_delta_above_through_the_original_weights():
    """The classic sheet's slip: δ_h1 worked with the updated output weights."""
    marks = nncalc.grade(
        nncalc.load(CLASSIC),
        [0.05, 0.10],
        CONFIGS / "answers-classic-backward.yaml",
        target=[0.01, 0.99],
        freeze_biases=True,
        steps="matrix",
    )
    document = marks.document()
    chain = the_chain(document)
    assert chain.parts[0] == Name("δ", "1")
    weights_t, delta_above, derivative, result = found_matrices(chain)
    assert written(weights_t) == [["0.40", "0.50"], ["0.45", "0.55"]]  # W_2ᵀ as the file writes W_2
    assert written(delta_above) == [["0.138499"], ["-0.038098"]]  # the person's δ_2
    a = np.array([0.593270, 0.596884])  # the person's a_1
    np.testing.assert_allclose(values(derivative)[:, 0], a * (1 - a), atol=1e-12)
    expected = (W2.T @ np.array([0.138499, -0.038098])) * a * (1 - a)
    np.testing.assert_allclose(values(result)[:, 0], expected, atol=1e-12)
    assert written(result)[0] == ["0.008771"]
    note = entry_note(document)
    assert "row 1 (h1)" in note_text(note) and Styled("not 0.007295", "wrong") in note.text
    assert any(isinstance(b, Note) and "updated weights" in note_text(b) for b in document.blocks)


def person_batch() -> dict:
    """Two samples through the classic network, written to 4 decimals (a) and 6 (δ), as a person does."""
    x, t = np.array(X), np.array(T)
    a1 = numbers(texts(sigmoid(x @ W1.T + B1), 4))
    a2 = numbers(texts(sigmoid(a1 @ W2.T + B2), 4))
    delta2 = numbers(texts((a2 - t) * a2 * (1 - a2), 6))
    return {"a1": a1, "a2": a2, "delta2": delta2}


def test_a_batch_gradient_is_the_mean_of_the_persons_deltas_times_their_a(tmp_path):
    p = person_batch()
    grad = p["delta2"].T @ p["a1"] / 2
    given = texts(grad, 6)
    given[1][0] = f"{grad[1, 0] * 2:.6f}"  # summed, not averaged, in one entry
    answers = {
        "layers": [
            {"a": texts(p["a1"], 4)},
            {"a": texts(p["a2"], 4), "delta": texts(p["delta2"], 6), "grad_weights": given},
        ]
    }
    marks = nncalc.grade(nncalc.load(CLASSIC), X, sheet(tmp_path, answers), target=T, steps="matrix")
    assert [(m.quantity, m.index) for m in marks.wrong] == [("grad_weights", (1, 0))]
    chain = the_chain(marks.document())
    assert chain.parts[0] == Derivative(Name("L"), Name("W", "2"))
    written_out = chain.parts[2]
    assert isinstance(written_out, Product) and written_out.factors[0] == Frac(Num(1.0), Num(2.0))
    deltas, received, result = found_matrices(chain)
    assert written(deltas) == np.array(texts(p["delta2"], 6)).T.tolist()  # a column per sample
    assert written(received) == texts(p["a1"], 4)  # a row per sample: Aᵀ written out
    np.testing.assert_allclose(values(result), grad, atol=1e-12)
    assert chain.relations[-1] == "="
    note = note_text(entry_note(marks.document()))
    assert "row 2 (o2), column 1 (h1)" in note


def test_summed_batch_bias_gradient_adds_the_persons_delta_columns(tmp_path):
    p = person_batch()
    gb = p["delta2"].sum(axis=0)
    given = [f"{gb[0]:.6f}", f"{gb[1] / 2:.6f}"]  # averaged where the course sums
    answers = {
        "layers": [
            {"a": texts(p["a1"], 4)},
            {"a": texts(p["a2"], 4), "delta": texts(p["delta2"], 6), "grad_biases": given},
        ]
    }
    marks = nncalc.grade(nncalc.load(CLASSIC), X, sheet(tmp_path, answers), target=T, batch="sum", steps="matrix")
    chain = the_chain(marks.document())
    assert chain.parts[0] == Derivative(Name("L"), Name("b", "2"))
    assert isinstance(chain.parts[2], Sum)  # Σ of the columns, no 1/m
    *columns, result = found_matrices(chain)
    assert [written(c) for c in columns] == [[[v] for v in row] for row in texts(p["delta2"], 6)]
    np.testing.assert_allclose(values(result)[:, 0], gb, atol=1e-12)
    assert "row 2 (o2)" in note_text(entry_note(marks.document()))


def test_t_minus_a_output_delta_and_its_gradient_have_the_courses_sign(tmp_path):
    """With --error t-a the output δ is (t − a) ⊙ f′(z), and ∂L/∂W = −δ · aᵀ."""
    x, t = np.array(X[0]), np.array(T[0])
    a1 = numbers(texts(sigmoid(W1 @ x + B1), 4))
    a2 = numbers(texts(sigmoid(W2 @ a1 + B2), 4))
    delta = (t - a2) * a2 * (1 - a2)
    wrong_delta = texts(delta, 6)
    wrong_delta[1] = f"{-delta[1]:.6f}"  # a − t in one entry
    layers = [{"a": texts(a1, 4)}, {"a": texts(a2, 4), "delta": wrong_delta}]
    marks = nncalc.grade(
        nncalc.load(CLASSIC), X[0], sheet(tmp_path, {"layers": layers}), target=T[0], error="t-a", steps="matrix"
    )
    chain = the_chain(marks.document())
    error = chain.parts[1].factors[0]
    assert error == Sum((Name("t"), Neg(Name("a", "2"))))
    targets, outputs, _, result = found_matrices(chain)
    assert written(outputs) == [[v] for v in texts(a2, 4)]
    assert values(targets)[:, 0].tolist() == T[0]
    np.testing.assert_allclose(values(result)[:, 0], delta, atol=1e-12)
    assert "row 2 (o2)" in note_text(entry_note(marks.document()))

    right_delta = texts(delta, 6)
    grad = -np.outer(numbers(right_delta), a1)
    given = texts(grad, 6)
    given[0][1] = f"{-grad[0, 1]:.6f}"
    layers[1] |= {"delta": right_delta, "grad_weights": given}
    marks = nncalc.grade(
        nncalc.load(CLASSIC), X[0], sheet(tmp_path, {"layers": layers}), target=T[0], error="t-a", steps="matrix"
    )
    chain = the_chain(marks.document())
    assert isinstance(chain.parts[1], Neg) and isinstance(chain.parts[2], Neg)
    deltas, received, result = found_matrices(chain)
    assert written(deltas) == [[v] for v in right_delta] and written(received) == [texts(a1, 4)]
    np.testing.assert_allclose(values(result), grad, atol=1e-12)
    assert chain.relations[-1] == "="
    assert "row 1 (o1), column 2 (h2)" in note_text(entry_note(marks.document()))


def test_an_update_subtracts_the_learning_rate_times_the_persons_gradient(tmp_path):
    x, t = np.array(X[0]), np.array(T[0])
    a1 = sigmoid(W1 @ x + B1)
    a2 = sigmoid(W2 @ a1 + B2)
    grad = numbers(texts(np.outer((a2 - t) * a2 * (1 - a2), a1), 4))  # the person's, to 4 decimals
    new = W2 - 0.3 * grad
    given = texts(new, 6)
    given[1][1] = f"{W2[1, 1] - grad[1, 1]:.6f}"  # the learning rate left out
    answers = {"layers": [{}, {"grad_weights": texts(grad, 4), "weights": given}]}
    marks = nncalc.grade(nncalc.load(CLASSIC), X[0], sheet(tmp_path, answers), target=T[0], lr=0.3, steps="matrix")
    chain = the_chain(marks.document())
    assert chain.parts[0] == Name("W", "2", "prime")
    old, gradient, result = found_matrices(chain)
    assert written(old) == [["0.40", "0.45"], ["0.50", "0.55"]]
    assert written(gradient) == texts(grad, 4)
    np.testing.assert_allclose(values(result), new, atol=1e-12)
    document = marks.document()
    assert "row 2 (o2), column 2 (h2)" in note_text(entry_note(document))
    assert any(isinstance(b, Note) and "learning rate is not applied" in note_text(b) for b in document.blocks)


def test_frozen_biases_are_written_unchanged(tmp_path):
    answers = sheet(tmp_path, {"layers": [{}, {"biases": ["0.55", "0.60"]}]})
    marks = nncalc.grade(nncalc.load(CLASSIC), X[0], answers, target=T[0], freeze_biases=True, steps="matrix")
    document = marks.document()
    chain = the_chain(document)
    assert chain.parts[:2] == (Name("b", "2", "prime"), Name("b", "2"))
    assert written(found_matrices(chain)[0]) == [["0.60"], ["0.60"]]
    assert "row 1 (o1)" in note_text(entry_note(document))


@pytest.mark.parametrize(
    "answers, options",
    [
        ({"loss": "0.5", "layers": [{}, {}]}, {}),  # a single number: no matrix
        ({"layers": [{}, {"weights": [["0.1", "0.2"], ["0.3", "0.4"]]}]}, {"optimizer": "adam"}),  # a state
    ],
    ids=["loss", "optimizer"],
)
def test_the_loss_and_an_optimizers_update_keep_the_neuron_by_neuron_step(tmp_path, answers, options):
    marks = nncalc.grade(nncalc.load(CLASSIC), X[0], sheet(tmp_path, answers), target=T[0], steps="matrix", **options)
    document = marks.document()
    assert marks.wrong and not matrix_chains(document)
    assert any(isinstance(b, Steps) for b in document.blocks)


def test_no_steps_leaves_the_working_out_but_keeps_the_slip():
    marks = nncalc.grade(
        nncalc.load(CLASSIC),
        [0.05, 0.10],
        CONFIGS / "answers-classic-backward.yaml",
        target=[0.01, 0.99],
        freeze_biases=True,
        steps=False,
    )
    document = marks.document()
    assert not any(isinstance(b, Steps) for b in document.blocks)
    leads = [b.lead for b in document.blocks if isinstance(b, Note)]
    assert "first wrong value:" in leads and "wrong entry:" not in leads
    assert any(isinstance(b, Note) and "updated weights" in note_text(b) for b in document.blocks)


# -- every notation --------------------------------------------------------------------------------


def sheets(folder) -> dict:
    net = nncalc.load(CLASSIC)
    backward = nncalc.grade(
        net,
        [0.05, 0.10],
        CONFIGS / "answers-classic-backward.yaml",
        target=[0.01, 0.99],
        freeze_biases=True,
        steps="matrix",
    )
    p = person_batch()
    grad = p["delta2"].T @ p["a1"] / 2
    given = texts(grad, 6)
    given[0][0] = "0.5"
    batch_answers = {"layers": [{"a": texts(p["a1"], 4)}, {"delta": texts(p["delta2"], 6), "grad_weights": given}]}
    return {
        "forward": nncalc.grade(nncalc.load(NOTE), [0.1], CONFIGS / "answers-course-note.yaml", steps="matrix"),
        "backward": backward,
        "batch": nncalc.grade(net, X, sheet(folder, batch_answers), target=T, steps="matrix"),
    }


@pytest.mark.parametrize("name", ["forward", "backward", "batch"])
def test_every_notation_writes_the_matrices(tmp_path, name):
    marks = sheets(tmp_path)[name]
    text = marks.to_text()
    assert "wrong entry:" in text and re.search(r"\d×\d", text)  # each matrix's shape beneath it
    markdown = marks.to_markdown()
    assert markdown.count(r"\begin{bmatrix}") == markdown.count(r"\end{bmatrix}") >= 2
    assert "**wrong entry:**" in markdown
    latex = marks.to_latex()
    assert latex.count(r"\begin{bmatrix}") >= 2 and r"\textbf{wrong entry:}" in latex
    html = marks.to_html()
    ET.fromstring(html)  # well formed: the fragment and its MathML
    assert "<mtable>" in html and "wrong entry:" in html
    bundle = marks._repr_mimebundle_()
    assert r"\begin{bmatrix}" in bundle["text/markdown"] and "<mtable>" in bundle["text/html"]


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name", ["forward", "backward", "batch"])
def test_latex_compiles_without_running_into_the_margin(tmp_path, name):
    from tests.test_latex_backward import compile_pdf

    marks = sheets(tmp_path)[name]
    compile_pdf(tmp_path, marks.to_latex(standalone=True))


# -- the command line ------------------------------------------------------------------------------


def test_cli_steps_matrix_and_its_refusals(nncalc):
    args = ["grade", str(NOTE), "-i", "0.1", "-a", str(CONFIGS / "answers-course-note.yaml"), "-f", "table"]
    done = nncalc(*args, "--steps", "matrix")
    assert done.code == 1 and "a_2 = σ(z_2) = σ(" in done.out and "wrong entry: row 1 (o1) of a_2" in done.out
    plain = nncalc(*args)
    assert "a = σ(0.6506) = 1 / (1 + e^−0.6506) = 0.6571, not 0.7153" in plain.out
    assert nncalc(*args, "--steps").out == plain.out
    quiet = nncalc(*args, "--no-steps")
    assert quiet.code == 1 and "σ(" not in quiet.out and "first wrong value:" in quiet.out
    for bad in (["--steps", "matrix", "--no-steps"], ["--steps=rows"]):
        refused = nncalc(*args, *bad)
        assert refused.code == 2 and "Traceback" not in refused.err
    json_args = [a if a != "table" else "json" for a in args]
    refused = nncalc(*json_args, "--steps", "matrix")
    assert refused.code == 2 and "--steps" in refused.err


def test_a_large_layer_is_elided_and_its_wrong_entry_still_named(tmp_path):
    """40 neurons: the matrices keep their first and last rows, and the note names row 39 by itself."""
    rng = np.random.default_rng(5)
    weights = np.round(rng.uniform(-1, 1, (40, 3)), 2)
    net = nncalc.Network.from_dict({"inputs": 3, "layers": [{"weights": weights.tolist(), "biases": 0.1}]})
    answers = sheet(tmp_path, {"layers": [{"z": {"o39": 9.5}}]})
    marks = nncalc.grade(net, [0.5, -0.25, 1.0], answers, steps="matrix")
    chain = the_chain(marks.document())
    result = found_matrices(chain)[-1]
    assert result.shape == (40, 1) and len(result.rows) == 6  # 3 rows, the dots, 2 rows
    z = weights @ np.array([0.5, -0.25, 1.0]) + 0.1
    kept = [0, 1, 2, 38, 39]
    shown = [row[0].value for row in result.rows if isinstance(row[0], Num)]
    np.testing.assert_allclose(shown, z[kept], atol=1e-12)
    note = entry_note(marks.document())
    assert "row 39 (o39)" in note_text(note) and "not 9.5" in note_text(note)
    (expected,) = [p for p in note.text if isinstance(p, Num)]
    assert expected.value == pytest.approx(z[38], abs=1e-12)


def test_a_softmax_output_delta_is_its_jacobian_times_the_error(tmp_path):
    """Softmax with half-SSE: no element-wise f′(z), so δ = Jᵀ · (a − t), its value worked here."""
    w = np.array([[0.2, -0.3], [0.5, 0.1], [-0.4, 0.3]])
    net = nncalc.Network.from_dict({"inputs": 2, "layers": [{"weights": w.tolist(), "activation": "softmax"}]})
    x, t = np.array([0.5, 0.2]), np.array([1.0, 0.0, 0.0])
    marks = nncalc.grade(net, x, sheet(tmp_path, {"layers": [{"delta": [0.1, None, None]}]}), target=t, steps="matrix")
    chain = the_chain(marks.document())
    z = w @ x
    s = np.exp(z) / np.exp(z).sum()
    jacobian = np.diag(s) - np.outer(s, s)
    assert chain.parts[1] == Product((Power(Name("J", "softmax"), Name("⊤")), Sum((Name("a", "1"), Neg(Name("t"))))))
    np.testing.assert_allclose(values(chain.parts[-1])[:, 0], jacobian.T @ (s - t), atol=1e-12)
    assert "row 1 (o1)" in note_text(entry_note(marks.document()))
