"""Grading a person's backward pass: error carried forward, conventions, diagnoses, the answers format.

The sheets are worked here, value by value with ``math``, as a person works them: each value
rounded to six decimals and carried on rounded. A mistake is made by the reference itself
(a missing f′(z), a flipped error, ...) and carried forward, never taken from nncalc's output.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from nncalc.answers import parse_sheet
from nncalc.errors import InputError
from nncalc.grading import Mark
from nncalc.grading_backward import grade_backward, settings_for
from nncalc.loader import load_network
from tests.conftest import CONFIGS

CLASSIC = CONFIGS / "classic-2-2-2.yaml"
COURSE = CONFIGS / "course-backprop.yaml"
W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
B = [[0.35, 0.35], [0.60, 0.60]]
X1, T1 = [0.05, 0.10], [0.01, 0.99]
X2, T2 = [0.30, -0.20], [0.90, 0.10]
DECIMALS = 6


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def reference(
    xs,
    ts,
    lr: float = 0.5,
    error: str = "a-t",
    batch: str = "mean",
    freeze: bool = False,
    mistake: str | None = None,
    slip: tuple | None = None,
    optimizer: str | None = None,
) -> dict:
    """Every value of the classic 2-2-2 network's step, as a person writes it: key → value.

    Keys are (quantity, layer, index): (sample, neuron) for z, a and δ, (neuron, source)
    for weights, (neuron,) for biases; ("loss", None, ()) for the loss. ``slip`` adds an
    amount to one value, which is then carried on; ``mistake`` makes one kind of mistake.
    """
    values: dict = {}
    samples = len(xs)

    def put(key, value):
        value = round(value, DECIMALS)
        if slip is not None and slip[0] == key:
            value = round(value + slip[1], DECIMALS)
        values[key] = value
        return value

    received = [list(x) for x in xs]
    acts = []
    for k in range(2):
        layer_a = []
        for s in range(samples):
            row = []
            for j in range(2):
                z = put(("z", k, (s, j)), sum(W[k][j][i] * received[s][i] for i in range(2)) + B[k][j])
                row.append(put(("a", k, (s, j)), sigma(z)))
            layer_a.append(row)
        acts.append(layer_a)
        received = layer_a
    out = acts[1]
    per_sample = [sum((ts[s][j] - out[s][j]) ** 2 for j in range(2)) for s in range(samples)]
    half = 1.0 if mistake == "loss half dropped" else 0.5
    loss = sum(half * v for v in per_sample)
    put(("loss", None, ()), loss / samples if batch == "mean" else loss)
    sign = 1.0 if error == "a-t" else -1.0
    divide = samples if (batch == "mean") != (mistake == "batch other") else 1
    rate = {"lr twice": lr * lr, "lr none": 1.0}.get(mistake, lr)
    deltas: dict = {}
    new_w: dict = {}
    for k in (1, 0):
        below = xs if k == 0 else acts[0]
        for s in range(samples):
            for j in range(2):
                a = acts[k][s][j]
                fprime = a * (1 - a)
                if k == 1:
                    e = sign * (out[s][j] - ts[s][j])
                    if mistake == "flipped":
                        e = -e
                    if mistake == "half dropped":
                        e = 2 * e
                    d = e if mistake == "missing f'" else e * fprime
                else:
                    weights = new_w if mistake == "updated weights" else {(m, j): W[1][m][j] for m in range(2)}
                    if mistake == "rows for columns":  # w(h_m→o_j) in place of w(h_j→o_m)
                        weights = {(m, j): W[1][j][m] for m in range(2)}
                    d = sum(weights[(m, j)] * deltas[(1, s, m)] for m in range(2))
                    d = d if mistake == "missing hidden f'" else d * fprime
                deltas[(k, s, j)] = put(("delta", k, (s, j)), d)
        grads = {}
        for j in range(2):
            for i in range(2):
                g = sign * sum(deltas[(k, s, j)] * below[s][i] for s in range(samples)) / divide
                grads[(j, i)] = round(g, DECIMALS)
            gb = put(("grad_biases", k, (j,)), sign * sum(deltas[(k, s, j)] for s in range(samples)) / divide)
            if freeze:
                put(("biases", k, (j,)), B[k][j])
            else:
                put(("biases", k, (j,)), _step(B[k][j], gb, rate, optimizer))
        for j in range(2):
            for i in range(2):
                written = grads[(i, j)] if (mistake == "transposed" and k == 1) else grads[(j, i)]
                g = put(("grad_weights", k, (j, i)), written)
                if mistake == "transposed" and k == 1:
                    g = grads[(j, i)]  # worked right, written in the other place
                w = put(("weights", k, (j, i)), _step(W[k][j][i], g, rate, optimizer))
                if k == 1:
                    new_w[(j, i)] = w
    return values


def _step(w: float, g: float, lr: float, optimizer: str | None) -> float:
    if optimizer == "adam":  # the first step: m̂ = g, v̂ = g², w − lr·m̂/(√v̂ + ε)
        return w - lr * g / (math.sqrt(g * g) + 1e-8)
    return w - lr * g


def sheet_text(values: dict, samples: int = 1, conventions: str = "") -> str:
    """The values as an answers file, by position."""

    def number(v: float) -> str:
        return f"{v:.{DECIMALS}f}"

    def per_sample(q, k):
        rows = [[number(values[(q, k, (s, j))]) for j in range(2)] for s in range(samples)]
        if samples == 1:
            return "[" + ", ".join(rows[0]) + "]"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"

    def matrix(q, k):
        return (
            "["
            + ", ".join("[" + ", ".join(number(values[(q, k, (j, i))]) for i in range(2)) + "]" for j in range(2))
            + "]"
        )

    def vector(q, k):
        return "[" + ", ".join(number(values[(q, k, (j,))]) for j in range(2)) + "]"

    lines = [conventions] if conventions else []
    lines += [f"loss: {number(values[('loss', None, ())])}", "layers:"]
    for k in range(2):
        lines.append(f"  - z: {per_sample('z', k)}")
        lines.append(f"    a: {per_sample('a', k)}")
        lines.append(f"    delta: {per_sample('delta', k)}")
        lines.append(f"    grad_weights: {matrix('grad_weights', k)}")
        lines.append(f"    grad_biases: {vector('grad_biases', k)}")
        lines.append(f"    weights: {matrix('weights', k)}")
        lines.append(f"    biases: {vector('biases', k)}")
    return "\n".join(lines) + "\n"


def graded(text: str, xs=(X1,), ts=(T1,), **options):
    network = load_network(CLASSIC)
    sheet = parse_sheet(text, network, "answers.yaml", len(xs))
    settings = settings_for(sheet, **options)
    texts = tuple(tuple(str(v) for v in x) for x in xs)
    return grade_backward(network, np.array(xs, dtype=float), texts, np.array(ts, dtype=float), sheet, settings)


def keyed(result) -> dict:
    """Each mark under the reference's key."""
    marks = {}
    for s, forward in enumerate(result.forward):
        for mark in forward.marks:
            marks[(mark.quantity, mark.layer, (s, mark.neuron))] = mark
    for mark in result.backward_marks:
        marks[(mark.quantity, mark.layer, mark.index)] = mark
    return marks


def wrong_keys(result) -> set:
    return {key for key, mark in keyed(result).items() if mark.correct is False}


# -- a full correct sheet ---------------------------------------------------------------


def test_full_correct_sheet_passes():
    """Every one of the 37 values of the classic step is marked right."""
    result = graded(sheet_text(reference([X1], [T1])))
    assert result.all_correct
    assert len(result.right) == 37


def test_reference_is_the_classic_tutorial():
    """The reference gives the classic tutorial's published numbers (E = 0.298371109, w5′ = 0.35891648)."""
    values = reference([X1], [T1])
    assert values[("loss", None, ())] == pytest.approx(0.298371, abs=1e-6)
    assert values[("weights", 1, (0, 0))] == pytest.approx(0.358916, abs=2e-6)
    assert values[("weights", 0, (0, 0))] == pytest.approx(0.149781, abs=2e-6)


def test_course_sheet_from_the_issue_passes(nncalc, write):
    """The course chain's sheet, written to four decimals, is right with --lr 0.4."""
    answers = write(
        "answers.yaml",
        "loss: 0.1082\nlayers:\n"
        "  - {z: [0.415], a: [0.6023], delta: [0.0102], grad_weights: [[0.00102]], grad_biases: [0.0102],"
        " weights: [[0.1496]], biases: [0.3959]}\n"
        "  - {z: [0.9210], a: [0.7153], delta: [0.0948], grad_weights: [[0.0571]], grad_biases: [0.0948],"
        " weights: [[0.4272]], biases: [0.6121]}\n",
    )
    result = nncalc("grade", COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-a", answers, "-f", "json")
    assert result.code == 0, result.out + result.err
    document = json.loads(result.out)
    assert document["right"] == 15 and document["wrong"] == 0


# -- one slip anywhere ------------------------------------------------------------------

ALL_KEYS = sorted(reference([X1], [T1]), key=str)


@pytest.mark.parametrize("key", ALL_KEYS, ids=str)
def test_one_slip_marks_exactly_that_value(key):
    """A slip carried on: that value wrong, every later value judged from the person's own numbers."""
    values = reference([X1], [T1], slip=(key, 0.01))
    result = graded(sheet_text(values))
    assert wrong_keys(result) == {key}
    first = result.first_wrong
    assert first.given.value == values[key]
    assert first.expected == pytest.approx(values[key] - 0.01, abs=2e-6)


def test_slip_in_a_batch_delta():
    """With two samples, a slip in sample 2's δ marks that δ only; the gradients follow from it."""
    key = ("delta", 1, (1, 0))
    result = graded(sheet_text(reference([X1, X2], [T1, T2], slip=(key, 0.02)), 2), (X1, X2), (T1, T2))
    assert wrong_keys(result) == {key}


# -- the diagnoses ----------------------------------------------------------------------


def _output_deltas(samples=1):
    return {("delta", 1, (s, j)) for s in range(samples) for j in range(2)}


@pytest.mark.parametrize(
    ("mistake", "wrong", "fragment"),
    [
        ("missing f'", _output_deltas(), "f′(z) is missing"),
        ("flipped", _output_deltas(), "sign is flipped (t − a where a − t"),
        ("half dropped", _output_deltas(), "½ of half-SSE is dropped"),
        ("loss half dropped", {("loss", None, ())}, "½ of half-SSE is dropped"),
        ("updated weights", {("delta", 0, (0, 0)), ("delta", 0, (0, 1))}, "updated weights of the layer above"),
        ("missing hidden f'", {("delta", 0, (0, 0)), ("delta", 0, (0, 1))}, "f′(z) is missing"),
        ("rows for columns", {("delta", 0, (0, 0)), ("delta", 0, (0, 1))}, "read the other way round"),
        ("lr twice", None, "learning rate is applied twice"),
        ("lr none", None, "learning rate is not applied"),
        ("transposed", {("grad_weights", 1, (0, 1)), ("grad_weights", 1, (1, 0))}, "transposed"),
    ],
)
def test_each_mistake_is_diagnosed(mistake, wrong, fragment):
    """A sheet made with one kind of mistake: those values wrong, each with the mistake named."""
    values = reference([X1], [T1], mistake=mistake)
    result = graded(sheet_text(values))
    if wrong is None:  # every updated value
        wrong = {key for key in values if key[0] in ("weights", "biases")}
    assert wrong_keys(result) == wrong
    for key in wrong:
        diagnosis = keyed(result)[key].diagnosis
        assert diagnosis is not None and fragment in diagnosis, (key, diagnosis)


def test_batch_summed_instead_of_averaged_is_diagnosed():
    """Two samples, gradients summed where the batch is averaged: the gradients wrong, named so."""
    values = reference([X1, X2], [T1, T2], mistake="batch other")
    result = graded(sheet_text(values, 2), (X1, X2), (T1, T2))
    expected = {key for key in values if key[0] in ("grad_weights", "grad_biases")}
    assert wrong_keys(result) == expected
    for key in expected:
        assert "summed over the batch instead of averaged" in keyed(result)[key].diagnosis


# -- conventions --------------------------------------------------------------------------


def test_error_t_minus_a_passes_with_the_option_and_fails_without():
    """δ = (t − a)·f′(z), ∂L/∂w = −δ·a, w′ = w + lr·δ·a: right with --error t-a only."""
    values = reference([X1], [T1], error="t-a")
    assert values[("delta", 1, (0, 0))] < 0  # (0.01 − 0.7514) · f′
    text = sheet_text(values)
    assert graded(text, error="t-a").all_correct
    without = graded(text)
    assert _output_deltas() <= wrong_keys(without)
    assert "--error t-a" in without.first_wrong.diagnosis


def test_batch_sum_passes_with_the_option_and_fails_without():
    values = reference([X1, X2], [T1, T2], batch="sum")
    text = sheet_text(values, 2)
    assert graded(text, (X1, X2), (T1, T2), batch="sum").all_correct
    without = graded(text, (X1, X2), (T1, T2))
    assert ("loss", None, ()) in wrong_keys(without)
    assert "--batch sum" in without.first_wrong.diagnosis


def test_conventions_named_in_the_answers_file():
    """``conventions:`` in the file sets them; an option that agrees is fine, one that contradicts is refused."""
    text = sheet_text(
        reference([X1, X2], [T1, T2], error="t-a", batch="sum"), 2, "conventions: {error: t−a, batch: sum}"
    )
    assert graded(text, (X1, X2), (T1, T2)).all_correct
    assert graded(text, (X1, X2), (T1, T2), error="t-a").all_correct
    with pytest.raises(InputError) as caught:
        graded(text, (X1, X2), (T1, T2), batch="mean")
    (problem,) = caught.value.problems
    assert str(problem).startswith("answers.yaml:1:34:")
    assert "batch: sum" in str(problem) and "--batch mean" in str(problem)


def test_freeze_biases_and_optimizer():
    """--freeze-biases keeps b; --optimizer adam grades the updates as Adam's first step."""
    assert graded(sheet_text(reference([X1], [T1], freeze=True)), freeze_biases=True).all_correct
    adam = sheet_text(reference([X1], [T1], lr=0.01, optimizer="adam"))
    assert graded(adam, lr=0.01, optimizer="adam").all_correct
    plain = graded(adam, lr=0.01)
    assert {key[0] for key in wrong_keys(plain)} == {"weights", "biases"}


# -- the answers file -------------------------------------------------------------------


def test_answers_by_name_match_answers_by_position():
    """Neuron names, weight names (w(h1→o1), h2->o1) and per-neuron mappings read as positions do."""
    values = reference([X1], [T1])

    def v(*key):
        return f"{values[key]:.6f}"

    text = f"""loss: {v("loss", None, ())}
layers:
  - h1: {{z: {v("z", 0, (0, 0))}, a: {v("a", 0, (0, 0))}, delta: {v("delta", 0, (0, 0))},
          grad_weights: {{i1: {v("grad_weights", 0, (0, 0))}, w(i2→h1): {v("grad_weights", 0, (0, 1))}}},
          weights: [{v("weights", 0, (0, 0))}, {v("weights", 0, (0, 1))}], grad_biases: {v("grad_biases", 0, (0,))}}}
    h2: {{delta: {v("delta", 0, (0, 1))}}}
  - delta: {{o2: {v("delta", 1, (0, 1))}, o1: {v("delta", 1, (0, 0))}}}
    grad_weights: {{w(h1→o1): {v("grad_weights", 1, (0, 0))}, h2->o2: {v("grad_weights", 1, (1, 1))}}}
    weights: {{"h2 -> o1": {v("weights", 1, (0, 1))}}}
    biases: {{o2: {v("biases", 1, (1,))}}}
"""
    result = graded(text)
    assert result.all_correct
    marks = keyed(result)
    assert marks[("grad_weights", 0, (0, 1))].given.value == values[("grad_weights", 0, (0, 1))]
    assert marks[("grad_weights", 1, (1, 1))].given.value == values[("grad_weights", 1, (1, 1))]
    assert marks[("weights", 1, (0, 1))].given.value == values[("weights", 1, (0, 1))]
    assert marks[("delta", 1, (0, 0))].given is not None and marks[("delta", 1, (0, 1))].given is not None
    assert len(result.right) == 16


@pytest.mark.parametrize(
    ("text", "fragment", "line", "column"),
    [
        ("layers:\n  - {}\n  - grad_weights: [[0.1, 0.2]]\n", "grad_weights has 1 row, expected 2", 3, 19),
        ("layers:\n  - {}\n  - weights: [[0.1, 0.2], [0.3]]\n", "row 2 has 1 value, expected 2 (one per input", 3, 27),
        ("layers:\n  - {}\n  - grad_weights: {w(h3→o1): 0.1}\n", "unknown weight 'w(h3→o1)'", 3, 20),
        ("layers:\n  - {}\n  - delta: {o3: 0.1}\n", "unknown neuron 'o3' (this layer's neurons: o1, o2)", 3, 13),
        ("layers:\n  - {}\n  - biases: 0.5\n", "biases has 1 value, expected 2", 3, 13),
        ("layers:\n  - {}\n  - o1: {weights: {h9: 0.1}}\n", "unknown weight 'h9'", 3, 20),
        ("conventions: {error: a+t}\nlayers: []\n", "unknown error 'a+t'", 1, 22),
        ("conventions: {errors: t-a}\nlayers: []\n", "did you mean 'error'", 1, 15),
        ("loss: abc\nlayers: []\n", "loss: 'abc' is not a number", 1, 7),
    ],
)
def test_bad_backward_answers_are_located(text, fragment, line, column):
    network = load_network(CLASSIC)
    with pytest.raises(InputError) as caught:
        parse_sheet(text, network, "answers.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert any(fragment in m and m.startswith(f"answers.yaml:{line}:{column}:") for m in messages), messages


# -- the command --------------------------------------------------------------------------


def test_command_marks_and_exits(nncalc, write):
    """Exit 0 when right, 1 with one slip, its JSON mark located; the table writes the step out."""
    right = write("right.yaml", sheet_text(reference([X1], [T1])))
    args = ("grade", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99")
    assert nncalc(*args, "-a", right, "-f", "json").code == 0
    slip = ("delta", 1, (0, 0))
    wrong = write("wrong.yaml", sheet_text(reference([X1], [T1], slip=(slip, 0.01))))
    result = nncalc(*args, "-a", wrong, "-f", "json")
    assert result.code == 1
    marks = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert len(marks) == 1
    (mark,) = marks
    assert (mark["layer"], mark["quantity"], mark["neuron"], mark["sample"], mark["line"]) == (
        "output",
        "delta",
        "o1",
        1,
        12,
    )
    table = nncalc(*args, "-a", wrong, tty=True)
    assert table.code == 1
    assert "first wrong value: δ of o1 in layer 2 (output)" in table.out
    assert "δ_o1 = (a_o1 − t_o1) · a_o1 · (1 − a_o1)" in table.out
    for fmt in ("markdown", "latex", "html"):
        assert nncalc(*args, "-a", wrong, "-f", fmt).code == 1


def test_backward_values_without_target_are_refused(nncalc, write):
    answers = write("answers.yaml", "layers:\n  - {}\n  - delta: [0.1, 0.2]\n")
    result = nncalc("grade", CLASSIC, "-i", "0.05,0.10", "-a", answers)
    assert result.code == 2
    assert result.err.startswith(f"error: {answers}:3:13:")
    assert "--target" in result.err


def test_conflicting_convention_option_exits_2(nncalc, write):
    answers = write("answers.yaml", "conventions: {error: t-a}\nlayers: []\n")
    result = nncalc("grade", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "--error", "a-t", "-a", answers)
    assert result.code == 2
    assert result.err.startswith(f"error: {answers}:1:22:")


def test_forward_only_grading_is_unchanged(nncalc):
    """Without --target and without backward values, grade marks the forward pass as before."""
    result = nncalc("grade", CLASSIC, "-i", "0.05,0.10", "-a", CONFIGS / "answers-classic.yaml", "-f", "json")
    assert result.code == 0
    assert set(json.loads(result.out)) == {"network", "input", "correct", "right", "wrong", "marks"}


def test_python_api_grades_the_backward_pass():
    import nncalc

    network = nncalc.load(CLASSIC)
    values = reference([X1], [T1], slip=(("weights", 0, (1, 0)), 0.01))
    marks = nncalc.grade(network, X1, sheet_text(values) and _as_dict(values), target=T1, lr=0.5)
    assert not marks.all_correct
    assert (marks.first_wrong.quantity, marks.first_wrong.index) == ("weights", (1, 0))
    assert isinstance(marks.right[0], Mark)
    assert "first wrong value" in str(marks.document())


def _as_dict(values: dict) -> dict:
    """The sheet as the dict the Python API takes."""
    layers = []
    for k in range(2):
        layer = {}
        for q in ("z", "a", "delta"):
            layer[q] = [values[(q, k, (0, j))] for j in range(2)]
        for q in ("grad_weights", "weights"):
            layer[q] = [[values[(q, k, (j, i))] for i in range(2)] for j in range(2)]
        for q in ("grad_biases", "biases"):
            layer[q] = [values[(q, k, (j,))] for j in range(2)]
        layers.append(layer)
    return {"loss": values[("loss", None, ())], "layers": layers}


def test_batch_sheet_in_every_format(nncalc, write):
    """Two samples: a δ row per sample, the loss as the mean of theirs, every notation written."""
    values = reference([X1, X2], [T1, T2], slip=(("delta", 1, (1, 1)), 0.02))
    answers = write("batch.yaml", sheet_text(values, 2))
    args = ("grade", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-i", "0.3,-0.2", "-t", "0.9,0.1", "-a", answers)
    table = nncalc(*args, tty=True)
    assert table.code == 1
    assert "first wrong value: δ of o2, sample 2 in layer 2 (output)" in table.out
    document = json.loads(nncalc(*args, "-f", "json").out)
    assert document["input"] == [X1, X2] and document["target"] == [T1, T2]
    (mark,) = [m for m in document["marks"] if m["correct"] is False]
    assert (mark["quantity"], mark["neuron"], mark["sample"]) == ("delta", "o2", 2)
    for fmt in ("markdown", "latex", "html"):
        assert nncalc(*args, "-f", fmt).code == 1
    forward_slip = write("forward.yaml", sheet_text(reference([X1, X2], [T1, T2], slip=(("a", 0, (1, 0)), 0.02)), 2))
    table = nncalc(*args[:-1], forward_slip, tty=True)
    assert "first wrong value: a of h1, sample 2 in layer 1 (hidden)" in table.out


def test_softmax_cross_entropy_output():
    """Softmax with cross-entropy: δ = a − t at the output; a sheet worked by hand is right."""
    from nncalc.loader import parse_network

    network = parse_network(
        "inputs: [x]\nlayers:\n  - weights: [[1.0], [-1.0]]\n    biases: [0.0, 0.5]\n    activation: softmax\n"
    )
    e1, e2 = math.exp(2.0), math.exp(-2.0 + 0.5)
    a = [e1 / (e1 + e2), e2 / (e1 + e2)]
    t = [0.0, 1.0]
    delta = [a[0] - t[0], a[1] - t[1]]
    loss = -math.log(a[1])
    text = (
        f"loss: {loss:.6f}\nlayers:\n  - a: [{a[0]:.6f}, {a[1]:.6f}]\n"
        f"    delta: [{delta[0]:.6f}, {delta[1]:.6f}]\n"
        f"    grad_weights: [[{2 * delta[0]:.6f}], [{2 * delta[1]:.6f}]]\n"
        f"    weights: [[{1 - 0.1 * 2 * delta[0]:.6f}], [{-1 - 0.1 * 2 * delta[1]:.6f}]]\n"
    )
    sheet = parse_sheet(text, network, "answers.yaml")
    settings = settings_for(sheet, loss="cross_entropy", lr=0.1)
    result = grade_backward(network, np.array([[2.0]]), (("2",),), np.array([t]), sheet, settings)
    assert result.all_correct, [(m.quantity, m.expected) for m in result.wrong]
    flipped = text.replace(f"delta: [{delta[0]:.6f}", f"delta: [{-delta[0]:.6f}")
    sheet = parse_sheet(flipped, network, "answers.yaml")
    wrong = grade_backward(network, np.array([[2.0]]), (("2",),), np.array([t]), sheet, settings).wrong
    assert [(m.quantity, m.index) for m in wrong] == [("delta", (0, 0))]
    assert "sign is flipped" in wrong[0].diagnosis


def test_optimizer_and_option_mistakes_on_the_command_line(nncalc, write):
    """SGD with momentum's first step is the plain step; a wrong option is located and exits 2."""
    answers = write(
        "course.yaml",
        "layers:\n  - {weights: [[0.1496]], biases: [0.3959]}\n  - {weights: [[0.4272]], biases: [0.6121]}\n",
    )
    args = ("grade", COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-a", answers)
    assert nncalc(*args, "--optimizer", "{name: sgd, momentum: 0.9}").code == 0
    assert nncalc(*args, "--optimizer", "adam").code == 1
    bad = nncalc(*args, "--optimizer", "adamm")
    assert bad.code == 2 and bad.err.startswith("error: --optimizer: unknown optimizer 'adamm'; did you mean 'adam'?")
    assert nncalc(*args, "--error", "t+a").err.startswith("error: --error: must be one of a-t, t-a")
    no_target = nncalc("grade", COURSE, "-i", "0.1", "--lr", "0.4", "-a", answers)
    assert no_target.code == 2 and "--target" in no_target.err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(nncalc, tmp_path):
    """The graded sheet with its first wrong value compiles with pdflatex, nothing in the margin."""
    from tests.test_latex_backward import compile_pdf

    result = nncalc(
        "grade",
        CLASSIC,
        *("-i", "0.05,0.10", "-t", "0.01,0.99", "--freeze-biases"),
        *("-a", CONFIGS / "answers-classic-backward.yaml", "-f", "latex", "--standalone"),
    )
    assert result.code == 1
    compile_pdf(tmp_path, result.out)


def test_round_keeps_longer_values_right_and_finds_the_cut_off_loss(nncalc):
    """With --round 4 a gradient written to more digits (0.00102) is still right; the course's
    loss 0.1082 is ½·(0.25 − 0.7153)² = 0.108252 cut off, where rounding gives 0.1083."""
    assert round(0.5 * (0.25 - 0.7153) ** 2, 6) == 0.108252
    args = ("grade", COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-a", CONFIGS / "answers-course-backprop.yaml")
    result = nncalc(*args, "--round", "4", "-f", "json")
    assert result.code == 1
    (mark,) = [m for m in json.loads(result.out)["marks"] if m["correct"] is False]
    assert mark["quantity"] == "loss" and "cut off" in mark["diagnosis"]
    assert nncalc(*args).code == 0  # without rounding, 0.1082 is the exact loss to four decimals


def test_a_loss_that_is_infinite_from_the_persons_outputs_is_judged_against_the_exact_one():
    """BCE of a written a = 1.0 is infinite: the loss written is judged against the exact loss only."""
    from nncalc.loader import parse_network

    network = parse_network("inputs: 1\nlayers:\n  - {weights: 0.5, biases: 0.0}\n")
    exact = -(0.25 * math.log(sigma(0.5)) + 0.75 * math.log(1 - sigma(0.5)))

    def loss_mark(loss_text):
        sheet = parse_sheet(f"loss: {loss_text}\nlayers:\n  - a: [1.0]\n", network, "answers.yaml")
        settings = settings_for(sheet, loss="bce")
        result = grade_backward(network, np.array([[1.0]]), (("1",),), np.array([[0.25]]), sheet, settings)
        return result.loss

    assert loss_mark("0.5").correct is False
    assert loss_mark(f"{exact:.4f}").correct is True
