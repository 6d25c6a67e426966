"""``--steps matrix``: each layer written at once with its matrices, in every notation.

The matrices' values are checked against NumPy computations written here from the network
files' numbers (W @ x + b, the sigmoid, the chain rule, δ·aᵀ), never against nncalc's output;
the notations are checked for what a reader needs: LaTeX that pdflatex compiles without
running into the margin, balanced bmatrix environments in Markdown, well-formed MathML,
brackets that line up in the terminal, and the middle of a 784-wide layer left out.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nncalc.backprop import backward
from nncalc.document import Document, Steps
from nncalc.engine import forward
from nncalc.expr import Chain, Derivative, Dots, Expr, Matrix, Name, Num
from nncalc.loader import load_network
from nncalc.network import Network
from nncalc.notation import write_document
from nncalc.notation.html import html_fragment
from nncalc.notation.latex import latex_source
from nncalc.notation.markdown import markdown_text
from nncalc.worked import View
from nncalc.worked.backward import backward_document
from nncalc.worked.forward import forward_document
from tests.conftest import CONFIGS

CHAIN = CONFIGS / "course-chain.yaml"
CLASSIC = CONFIGS / "classic-2-2-2.yaml"
PDFLATEX = shutil.which("pdflatex")
MATRIX = View(4, True, False, "matrix")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- reading the document --------------------------------------------------------------------------


def chains(document: Document) -> list[Chain]:
    return [chain for block in document.blocks if isinstance(block, Steps) for s in block.items for chain in s.chains]


def chain_for(document: Document, head: Expr, occurrence: int = 0) -> Chain:
    found = [c for c in chains(document) if c.parts[0] == head]
    assert found, f"no chain for {head}"
    return found[occurrence]


def values(matrix: Matrix) -> np.ndarray:
    """A matrix written out (none of it elided) as an array of its numbers."""
    assert isinstance(matrix, Matrix)
    return np.array([[cell.value for cell in row] for row in matrix.rows])


def matrices(node) -> list[Matrix]:
    """Every matrix in ``node``, left to right."""
    if isinstance(node, Matrix):
        return [node]
    if isinstance(node, Chain):
        return [m for part in node.parts for m in matrices(part)]
    found = []
    for field in getattr(type(node), "_fields", ()):
        value = getattr(node, field)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, Expr):
                found.extend(matrices(item))
    return found


def classic_backward(samples=(("0.05", "0.10"),), targets=((0.01, 0.99),)) -> tuple:
    network = load_network(CLASSIC)
    inputs = np.array([[float(v) for v in s] for s in samples])
    result = backward(network, inputs, np.array(targets), "half_sse", 0.5)
    return network, result, backward_document(network, result, [list(s) for s in samples], MATRIX)


# -- the numbers -----------------------------------------------------------------------------------


def test_the_course_chains_matrices_are_w_x_plus_b_and_its_sigmoid():
    network = load_network(CHAIN)
    document = forward_document(network, forward(network, np.array([[0.1]])), [["0.1"]], MATRIX)
    x = np.array([[0.1]])
    for layer, (w, b) in enumerate([(0.15, 0.4), (0.45, 0.65)], start=1):
        z = np.array([[w]]) @ x + np.array([[b]])
        chain = chain_for(document, Name("z", str(layer)))
        product, bias = chain.parts[2].terms
        weights, received = product.factors
        assert values(weights) == pytest.approx(np.array([[w]])) and values(received) == pytest.approx(x)
        assert values(bias) == pytest.approx(np.array([[b]])) and values(chain.parts[-1]) == pytest.approx(z, abs=1e-15)
        a = chain_for(document, Name("a", str(layer)))
        assert values(a.parts[-1]) == pytest.approx(sigmoid(z), abs=1e-15)
        x = sigmoid(z)
    # z₁ = 0.415 exactly from the shown numbers; a₂ = σ(0.9210) = 0.715246… shows as 0.7152, not 0.7153
    assert chain_for(document, Name("z", "1")).relations[-1] == "="
    assert chain_for(document, Name("a", "2")).relations[-1] == "≈"


def test_the_classic_networks_forward_and_backward_matrices_match_numpy():
    document = classic_backward()[2]
    w1, b1 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.35], [0.35]])
    w2, b2 = np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([[0.60], [0.60]])
    x, t = np.array([[0.05], [0.10]]), np.array([[0.01], [0.99]])
    a1 = sigmoid(w1 @ x + b1)
    a2 = sigmoid(w2 @ a1 + b2)
    assert values(chain_for(document, Name("a", "2")).parts[-1]) == pytest.approx(a2, abs=1e-15)
    assert a2[0, 0] == pytest.approx(0.75136507, abs=1e-8)  # the published value, checking the reference
    d2 = (a2 - t) * a2 * (1 - a2)
    d1 = (w2.T @ d2) * a1 * (1 - a1)
    expected = {
        "2": (d2, d2 @ a1.T, w2, b2),
        "1": (d1, d1 @ x.T, w1, b1),
    }
    for layer, (delta, gradient, w, b) in expected.items():
        delta_chain = chain_for(document, Name("δ", layer))
        assert values(delta_chain.parts[-1]) == pytest.approx(delta, abs=1e-15)
        grad_chain = chain_for(document, Derivative(Name("L"), Name("W", layer)))
        assert values(grad_chain.parts[-1]) == pytest.approx(gradient, abs=1e-15)
        assert [m.shape for m in matrices(grad_chain.parts[2])] == [(2, 1), (1, 2)]  # δ · aᵀ
        update = chain_for(document, Name("W", layer, "prime"))
        old, step = matrices(update.parts[2])
        assert values(old) == pytest.approx(w) and values(step) == pytest.approx(gradient, abs=1e-15)
        assert values(update.parts[-1]) == pytest.approx(w - 0.5 * gradient, abs=1e-15)
        bias = chain_for(document, Name("b", layer, "prime"))
        assert values(bias.parts[-1]) == pytest.approx(b - 0.5 * delta, abs=1e-15)
    # the hidden δ is written with W₂ transposed: its rows are W₂'s columns
    hidden = chain_for(document, Name("δ", "1")).parts[2]
    assert values(matrices(hidden)[0]) == pytest.approx(w2.T)
    # o2's b′ = 0.60 − 0.5 · (−0.0381) = 0.61905, shown 0.6190 (from −0.038098…): only nearly
    assert chain_for(document, Name("b", "2", "prime")).relations[-1] == "≈"


def test_a_batch_is_one_column_per_sample_and_the_gradient_its_mean():
    samples, targets = (("0.05", "0.10"), ("0.5", "-0.2")), ((0.01, 0.99), (0.3, 0.6))
    document = classic_backward(samples, targets)[2]
    w1, b1 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.35], [0.35]])
    w2, b2 = np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([[0.60], [0.60]])
    x = np.array([[0.05, 0.5], [0.10, -0.2]])  # inputs × samples
    t = np.array(targets).T
    a1 = sigmoid(w1 @ x + b1)
    a2 = sigmoid(w2 @ a1 + b2)
    d2 = (a2 - t) * a2 * (1 - a2)
    d1 = (w2.T @ d2) * a1 * (1 - a1)
    assert values(chain_for(document, Name("Δ", "2")).parts[-1]) == pytest.approx(d2, abs=1e-15)
    assert values(chain_for(document, Name("Δ", "1")).parts[-1]) == pytest.approx(d1, abs=1e-15)
    gradient = chain_for(document, Derivative(Name("L"), Name("W", "1")))
    assert values(gradient.parts[-1]) == pytest.approx(d1 @ x.T / 2, abs=1e-15)
    bias = chain_for(document, Derivative(Name("L"), Name("b", "2")))
    assert values(bias.parts[-1]) == pytest.approx(d2.mean(axis=1, keepdims=True), abs=1e-15)
    assert [m.shape for m in matrices(bias.parts[2])] == [(2, 1), (2, 1)]  # one column per sample, summed


def wide_network(inputs: int = 784, hidden: int = 16):
    rng = np.random.default_rng(7)
    rows = [[round(float(v), 3) for v in rng.uniform(-0.1, 0.1, inputs)] for _ in range(hidden)]
    data = {
        "inputs": inputs,
        "activation": "sigmoid",
        "layers": [
            {"name": "hidden", "weights": rows, "biases": 0.1},
            {"name": "output", "weights": [[0.1] * hidden, [-0.1] * hidden], "biases": 0},
        ],
    }
    return Network.from_dict(data), rng.uniform(0, 1, (1, inputs))


def test_a_784_wide_layer_is_elided_in_the_middle_and_whole_with_all():
    network, x = wide_network()
    trace = forward(network, x)
    document = forward_document(network, trace, None, MATRIX)
    weights, received = matrices(chain_for(document, Name("z", "1")).parts[2])[:2]
    assert weights.shape == (16, 784) and received.shape == (784, 1)
    assert [len(row) for row in weights.rows] == [6] * 6  # 3, ⋯ or ⋮, 2
    assert weights.rows[3] == (Dots("⋮"),) * 3 + (Dots("⋱"),) + (Dots("⋮"),) * 2
    assert [row[3] for row in weights.rows if row[0] != Dots("⋮")] == [Dots("⋯")] * 5
    assert weights.rows[-1][-1].value == network.layers[0].weights[15, 783]
    assert received.rows[-1][0].value == pytest.approx(x[0, -1])
    z = network.layers[0].weights @ x[0] + 0.1
    shown = [row[0] for row in chain_for(document, Name("z", "1")).parts[-1].rows]
    assert [cell.value for cell in shown if isinstance(cell, Num)] == pytest.approx([*z[:3], *z[-2:]], abs=1e-12)
    everything = forward_document(network, trace, None, View(4, True, True, "matrix"))
    whole = matrices(chain_for(everything, Name("z", "1")).parts[2])[0]
    assert values(whole) == pytest.approx(network.layers[0].weights)


# -- the notations ---------------------------------------------------------------------------------


def terminal(document: Document) -> str:
    out = io.StringIO()
    write_document(document, "table", out)
    return out.getvalue()


def bracket_columns(lines: list[str], row: int, column: int) -> list[int]:
    """The lines of the matrix whose top-left corner ┌ is at (row, column): its rows, top to bottom."""
    found = [row]
    while lines[found[-1]][column] != "└":
        found.append(found[-1] + 1)
        assert lines[found[-1]][column] in "│└", f"line {found[-1]}: {lines[found[-1]]!r}"
    return found


@pytest.mark.parametrize("which", ["classic", "wide"])
def test_terminal_brackets_line_up_over_every_row(which):
    if which == "classic":
        document = classic_backward()[2]
    else:
        network, x = wide_network()
        document = forward_document(network, forward(network, x), None, MATRIX)
    lines = terminal(document).splitlines()
    corners = [(r, c) for r, line in enumerate(lines) for c, ch in enumerate(line) if ch == "┌"]
    assert len(corners) >= 8
    for row, column in corners:
        rows = bracket_columns(lines, row, column)
        right = lines[row].index("┐", column)
        for k in rows[1:-1]:
            assert lines[k][right] == "│", lines[k]
        assert lines[rows[-1]][right] == "┘"
        # every line of the block is as wide between its brackets, and the shape is centred beneath
        assert len({len(lines[k][column : right + 1]) for k in rows}) == 1
        shape = lines[rows[-1] + 1][column : right + 1].strip()
        assert re.fullmatch(r"\d+×\d+", shape), lines[rows[-1] + 1]


def test_the_terminal_shows_each_matrix_with_its_shape():
    text = terminal(classic_backward()[2])
    assert "z_1 = W_1 · x + b_1 = ┌ 0.15  0.20 ┐ · ┌ 0.05 ┐ + ┌ 0.35 ┐ = ┌ 0.3775 ┐" in text
    assert "δ_1 = (W_2^⊤ · δ_2) ⊙ f′(z_1) = ⎛ ┌ 0.40  0.50 ┐ · ┌  0.1385 ┐ ⎞ ⊙ ┌ 0.2413 ┐" in text
    assert "⎝ └ 0.45  0.55 ┘   └ −0.0381 ┘ ⎠   └ 0.2406 ┘" in text  # parentheses as tall as the matrices
    assert "∂L/∂W_2 = δ_2 · a_1^⊤" in text
    assert "[ 0.5933  0.5969 ]" in text  # a₁ᵀ, one row
    assert text.count("2×2") >= 8


def test_markdown_writes_each_matrix_step_as_a_display_with_balanced_bmatrix():
    text = markdown_text(classic_backward()[2])
    displays = re.findall(r"^\$\$(.*)\$\$$", text, flags=re.M)
    assert len(displays) == 4 + 2 * 5  # forward: z, a per layer; backward: δ, ∂W, ∂b, W′, b′ per layer
    for display in displays:
        assert display.count(r"\begin{bmatrix}") == display.count(r"\end{bmatrix}") > 0
        assert display.count(r"\left(") == display.count(r"\right)")
        assert "\\\\" not in display  # rows end with \cr: GitHub may take \\ for an escaped backslash
    assert r"\underset{2 \times 2}{\begin{bmatrix} 0.15 & 0.20 \cr 0.25 & 0.30 \end{bmatrix}}" in text
    assert text.count("$$") == 2 * len(displays)


def test_html_writes_each_matrix_as_a_well_formed_mtable_with_its_shape():
    document = classic_backward()[2]
    tree = ET.fromstring(html_fragment(document))
    mathml = "{http://www.w3.org/1998/Math/MathML}"
    tables = list(tree.iter(mathml + "mtable"))
    assert len(tables) == sum(len(matrices(c)) for c in chains(document))
    first = tables[0]
    cells = [["".join(td.itertext()) for td in tr] for tr in first.iter(mathml + "mtr")]
    assert cells == [["0.15", "0.20"], ["0.25", "0.30"]]
    shapes = ["".join(under[1].itertext()) for under in tree.iter(mathml + "munder")]
    assert shapes[:4] == ["2×2", "2×1", "2×1", "2×1"]
    assert any(mo.text == "⊙" for mo in tree.iter(mathml + "mo"))


def test_latex_writes_bmatrix_with_the_shape_under_it():
    source = latex_source(classic_backward()[2])
    assert r"\underset{2 \times 2}{\begin{bmatrix} 0.15 & 0.20 \\ 0.25 & 0.30 \end{bmatrix}}" in source
    assert source.count(r"\begin{bmatrix}") == source.count(r"\end{bmatrix}")
    assert r"\odot" in source and r"a_{1}^{\top}" in source


def compiles(tmp_path, source: str) -> None:
    (tmp_path / "doc.tex").write_text(source, encoding="utf-8")
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
    )
    assert done.returncode == 0, "\n".join(ln for ln in done.stdout.splitlines() if ln.startswith("!"))
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*\n.*", log)


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def eight_by_eight() -> Document:
    """8 inputs, 8 tanh neurons, 8 softmax outputs, two samples: the widest matrices written whole
    (seven columns) and elided ones, negative four-decimal numbers, products broken between matrices."""
    rng = np.random.default_rng(3)
    data = {
        "inputs": 8,
        "activation": "tanh",
        "layers": [
            {
                "weights": np.round(rng.uniform(-1, 1, (8, 8)), 4).tolist(),
                "biases": np.round(rng.uniform(-1, 1, 8), 4).tolist(),
            },
            {"weights": np.round(rng.uniform(-1, 1, (7, 8)), 4).tolist(), "biases": 0.5, "activation": "softmax"},
        ],
    }
    network = Network.from_dict(data)
    x = np.array([[0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8], [1, 2, 3, 4, 5, 6, 7, 8]])
    t = np.eye(7)[[3, 6]]
    result = backward(network, x, t, "cross_entropy", 0.5)
    return backward_document(network, result, None, MATRIX)


@pytest.mark.parametrize("which", ["chain", "classic", "batch", "wide", "eight"])
def test_the_matrix_form_compiles_with_pdflatex_within_the_margins(tmp_path, which):
    if which == "eight":
        document = eight_by_eight()
    elif which == "chain":
        network = load_network(CHAIN)
        result = backward(network, np.array([[0.1]]), np.array([[0.25]]), "half_sse", 0.4)
        document = backward_document(network, result, [["0.1"]], MATRIX)
    elif which == "classic":
        document = classic_backward()[2]
    elif which == "batch":
        document = classic_backward((("0.05", "0.10"), ("0.5", "-0.2")), ((0.01, 0.99), (0.3, 0.6)))[2]
    else:
        network, x = wide_network()
        document = forward_document(network, forward(network, x), None, MATRIX)
    compiles(tmp_path, latex_source(document, standalone=True))


# -- the command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--steps", "matrix", CHAIN],
        ["--steps=matrix", CHAIN],
        [CHAIN, "--steps", "matrix"],
        [CHAIN, "--steps=MATRIX"],
    ],
)
def test_steps_matrix_is_read_wherever_it_is_written(nncalc, args):
    result = nncalc("forward", *args, "-i", "0.1", "-f", "table")
    assert result.code == 0, result.err
    assert "z_1 = W_1 · x + b_1 = [ 0.15 ] · [ 0.1 ] + [ 0.4 ] = [ 0.415 ]" in result.out


def test_a_bare_steps_still_means_each_neuron_even_before_the_network_file(nncalc):
    for args in (["--steps", CHAIN], [CHAIN, "--steps"], ["--steps=neurons", CHAIN]):
        result = nncalc("forward", *args, "-i", "0.1", "-f", "table")
        assert result.code == 0, result.err
        assert "z = 0.15 × 0.1 + 0.4 = 0.415" in result.out and "W_1" not in result.out


def test_backward_takes_steps_matrix(nncalc):
    result = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "markdown", "--steps", "matrix")
    assert result.code == 0, result.err
    assert r"\delta_{1} = (W_{2}^{\top} \cdot \delta_{2}) \odot" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forward", CHAIN, "-i", "0.1", "-f", "csv", "--steps", "matrix"], "--steps"),
        (["forward", CHAIN, "-i", "0.1", "-f", "json", "--steps=matrix"], "--steps"),
        (["backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "json", "--steps", "matrix"], "--steps"),
        (["forward", CHAIN, "-i", "0.1", "-f", "table", "--steps", "--no-steps"], "not both"),
        (["forward", CHAIN, "-i", "0.1", "-f", "table", "--steps=tensor"], "neurons, matrix"),
    ],
)
def test_steps_matrix_is_refused_where_it_would_do_nothing(nncalc, args, message):
    result = nncalc(*args)
    assert result.code == 2 and message in result.err, result.err
    assert "Traceback" not in result.err


def test_help_names_the_forms(nncalc):
    for command in ("forward", "backward"):
        result = nncalc(command, "--help")
        assert "--steps [neurons|matrix]" in result.out and "--no-steps" in result.out


def test_steps_matrix_on_a_large_layer_needs_no_all(nncalc, write):
    rows = ", ".join(f"[{(k % 7) / 10}]" for k in range(40))
    path = write("wide.yaml", f"inputs: 1\nactivation: relu\nlayers:\n  - weights: [{rows}]\n    biases: 0\n")
    assert nncalc("forward", path, "-i", "1", "-f", "table", "--steps").code == 2
    result = nncalc("forward", path, "-i", "1", "-f", "table", "--steps", "matrix")
    assert result.code == 0, result.err
    assert "40×1" in result.out and "⋮" in result.out


def test_backward_writes_a_large_layer_in_elided_matrices(nncalc, write):
    rows = ", ".join(f"[{(k % 7) / 10}]" for k in range(40))
    out = ", ".join("0.1" for _ in range(40))
    path = write(
        "wide.yaml",
        f"inputs: 1\nactivation: sigmoid\nlayers:\n  - weights: [{rows}]\n    biases: 0\n"
        f"  - weights: [[{out}]]\n    biases: 0\n",
    )
    result = nncalc("backward", path, "-i", "1", "-t", "0.5", "-f", "table", "--steps", "matrix")
    assert result.code == 0, result.err
    text = result.out
    assert "∂L/∂W_1 = δ_1 · x^⊤" in text and "40×1" in text and "1×40" in text
    assert "⋯" in text and "⋮" in text


@pytest.mark.parametrize(
    ("fmt", "spelling"),
    [
        ("table", "┌ 0.15  0.20 ┐"),
        ("markdown", r"\begin{bmatrix} 0.15 & 0.20 \cr"),
        ("latex", r"0.15 & 0.20 \\"),
        ("html", "<mtd><mn>0.15</mn></mtd><mtd><mn>0.20</mn></mtd>"),
    ],
)
def test_every_format_writes_the_matrices_and_none_without_steps(nncalc, fmt, spelling):
    args = ("forward", CLASSIC, "-i", "0.05,0.10", "-f", fmt)
    with_matrices = nncalc(*args, "--steps", "matrix")
    assert with_matrices.code == 0, with_matrices.err
    assert spelling in with_matrices.out
    assert "0.3775" in with_matrices.out and "0.5969" in with_matrices.out
    neurons = nncalc(*args, "--steps")
    assert spelling not in neurons.out and "0.3775" in neurons.out
    assert spelling not in nncalc(*args, "--no-steps").out


def test_one_line_text_writes_rows_separated_by_semicolons_and_the_dots_as_they_are():
    from nncalc.notation.formula import TextWriter

    matrix = Matrix(((Num(0.15, "0.15"), Dots("⋯"), Num(-0.5)), (Dots("⋮"), Dots("⋱"), Dots("⋮"))), (9, 9))
    assert TextWriter(4).write(matrix) == "[0.15, ⋯, −0.5; ⋮, ⋱, ⋮]"


def test_the_check_of_a_matrix_step_works_from_the_shown_numbers_exactly():
    from nncalc.expr import Product, Sum
    from nncalc.worked.matrix import checked

    w = Matrix(((Num(0.1, "0.1"), Num(0.2, "0.2")),), (1, 2))
    x = Matrix(((Num(0.3, "0.3"),), (Num(0.4, "0.4"),)), (2, 1))
    b = Matrix(((Num(0.05, "0.05"),),), (1, 1))
    # 0.1 · 0.3 + 0.2 · 0.4 + 0.05 = 0.16 exactly (in floats 0.16000000000000003)
    exact = checked((Name("z"), Sum((Product((w, x)), b)), Matrix(((Num(0.16),),), (1, 1))), 4)
    near = checked((Name("z"), Sum((Product((w, x)), b)), Matrix(((Num(0.1601),),), (1, 1))), 4)
    elided = checked((Name("z"), Product((w, Matrix(((Dots("⋮"),),), (9, 1)))), Matrix(((Num(0.1601),),), (1, 1))), 4)
    assert (exact.relations[-1], near.relations[-1], elided.relations[-1]) == ("=", "≈", "=")


def test_with_an_optimizer_the_matrices_stop_at_the_gradients_and_the_update_is_written_weight_by_weight(nncalc):
    """Adam's first step on the course chain: the matrix form writes δ and ∂L/∂W as matrices, not
    gradient descent's W′ = W − η·∂L/∂W, then Adam's update of each weight, worked by hand here:
    m̂ = g and v̂ = g² after one step, so w′ = w − lr·g/(|g| + ε)."""
    import math

    result = nncalc(
        "backward",
        CONFIGS / "course-backprop.yaml",
        "-i",
        "0.1",
        "-t",
        "0.25",
        "--optimizer",
        "adam",
        "--steps",
        "matrix",
        "-f",
        "markdown",
    )
    assert result.code == 0, result.err
    assert "W'_{2} = W" not in result.out and "W'_{1} = W" not in result.out  # gradient descent's update
    assert "\\partial L" in result.out and "bmatrix" in result.out
    h = 1 / (1 + math.exp(-(0.15 * 0.1 + 0.4)))
    o = 1 / (1 + math.exp(-(0.45 * h + 0.65)))
    g = (o - 0.25) * o * (1 - o) * h
    new_w = 0.45 - 0.5 * g / (math.sqrt(g * g) + 1e-8)
    assert "the update, weight by weight" in result.out
    assert f"\\approx {new_w:.4f}$" in result.out
