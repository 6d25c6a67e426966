"""The backward page as LaTeX (the worked-solution model, written by its LaTeX notation): structure,
hand-worked and published numbers, every loss, batches, frozen biases, awkward names, and real pdflatex
runs of the standalone document.

Expected numbers are worked with the math module or ``decimal`` (and checked against the published or
hand-worked values first), never taken from nncalc's output. How a long row is broken onto lines is the
notation's own business (tests/test_notation_documents.py); most tests here read each step as one
logical row, its alignment points, \\quad spaces and \\bigl/\\bigr brackets taken out.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from nncalc import records
from nncalc.backprop import BackwardResult, backward
from nncalc.engine import forward
from nncalc.inputs import samples_from_options
from nncalc.loader import load_network, parse_network
from nncalc.network import Network
from nncalc.notation import write_document
from nncalc.notation.latex import escape_latex
from nncalc.worked import View
from nncalc.worked.backward import backward_document
from nncalc.worked.forward import forward_document
from tests.conftest import CONFIGS

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")


# --- helpers ----------------------------------------------------------------------------------


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def f4(value: float) -> str:
    return f"{value:.4f}"


def shown(value: float | str) -> Decimal:
    """A number exactly as the document shows it: to 4 decimals, or as written."""
    return Decimal(value if isinstance(value, str) else f4(value))


def is_(worked: Decimal | float, result: str) -> str:
    r"""What a step writes before its ``result``: ``=`` where the value worked out by hand from the
    step's shown numbers rounds (halves away from zero) to the shown result, else ``\approx``."""
    unit = Decimal("0.0001")
    worked = worked if isinstance(worked, Decimal) else Decimal(repr(worked))
    return "=" if worked.quantize(unit, ROUND_HALF_UP) == Decimal(result).quantize(unit) else r"\approx"


def neg(text: str) -> str:
    """A negative number in parentheses, as it is written after an operator."""
    return f"({text})" if text.startswith("-") else text


def tx(name: str) -> str:
    r"""A name from the file inside maths: ``\text{…}`` around it escaped; a lone letter stays a letter."""
    return name if len(name) == 1 and name.isascii() and name.isalpha() else rf"\text{{{escape_latex(name)}}}"


def sym(letter: str, name: str) -> str:
    return f"{letter}_{{{tx(name)}}}"


def dl(name: str) -> str:
    return sym(r"\delta", name)


def w(source: str, target: str) -> str:
    return rf"w_{{\text{{{escape_latex(source)}}}\to\text{{{escape_latex(target)}}}}}"


def dL(symbol: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {symbol}}}"


def sig_d(name: str) -> str:
    """σ′ as the steps write it: a · (1 − a)."""
    return rf"{sym('a', name)} \cdot (1 - {sym('a', name)})"


def update(mark: str, old: str, gradient: float, lr: str = "0.5") -> str:
    r"""``\quad w' = 0.40 - 0.5 \cdot 0.0822 = 0.3589``: the step down the gradient, from the old value as written."""
    new = f4(float(old) - float(lr) * gradient)
    worked = shown(old) - shown(lr) * shown(gradient)
    return rf"\quad {mark}' = {old} - {lr} \cdot {neg(f4(gradient))} {is_(worked, new)} {new}"


def step(
    network: Network,
    inputs: list[str],
    targets: list[str],
    loss: str = "half_sse",
    lr: float = 0.5,
    freeze_biases: bool = False,
) -> tuple[BackwardResult, tuple]:
    samples = samples_from_options(inputs, network.inputs)
    t = samples_from_options(targets, network.outputs, option="--target").values
    return backward(network, samples.values, t, loss, lr, freeze_biases), samples.texts


def written(network: Network, result: BackwardResult, texts, standalone: bool = False, precision: int = 4) -> str:
    """The backward page of ``result`` in LaTeX, every step shown, as the command line writes it."""
    out = io.StringIO()
    write_document(backward_document(network, result, texts, View(precision, True)), "latex", out, standalone)
    return out.getvalue()


def document(network: Network, inputs: list[str], targets: list[str], standalone: bool = False, **options) -> str:
    result, texts = step(network, inputs, targets, **options)
    return written(network, result, texts, standalone)


def align_blocks(text: str) -> list[list[str]]:
    """The lines of every align* block; fails on nesting or a block left open."""
    blocks, current = [], None
    for line in text.splitlines():
        if line == r"\begin{align*}":
            assert current is None, "align* opened inside align*"
            current = []
        elif line == r"\end{align*}":
            assert current is not None, "align* closed without being opened"
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, "align* left open"
    assert text.count(r"\begin{align*}") == text.count(r"\end{align*}") == len(blocks)
    return blocks


def logical(text: str) -> str:
    r"""A row as one line of maths: no alignment points, \quad spaces or \bigl/\bigr, single spaces."""
    text = re.sub(r"(?<!\\)&", "", text)
    text = text.replace(r"\qquad ", "").replace(r"\quad ", "").replace(r"\bigl(", "(").replace(r"\bigr)", ")")
    return re.sub(r" +", " ", text).strip()


def rows(lines: list[str]) -> list[str]:
    """An align* block's logical rows: a continuation line (one starting at the alignment point, &)
    joined to its row."""
    out: list[str] = []
    for line in lines:
        line = line.removesuffix(r" \\")
        if line.startswith("&") and out:
            out[-1] += " " + line
        else:
            out.append(line)
    return [logical(row) for row in out]


def all_rows(text: str) -> list[str]:
    return [row for block in align_blocks(text) for row in rows(block)]


def has(found: list[str], expected: str) -> bool:
    """Whether ``expected`` (LaTeX as a person writes it) is one of the logical rows ``found``."""
    return logical(expected) in found


def braces_balanced(text: str) -> bool:
    """Braces nest properly, skipping control symbols such as \\{ and \\\\ (and comments)."""
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "%":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def dollars_balanced(text: str) -> bool:
    return all(len(re.findall(r"(?<!\\)\$", line)) % 2 == 0 for line in text.splitlines())


def environments_balanced(text: str) -> bool:
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", text):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def backward_sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each backward layer section, in document order."""
    parts = re.split(r"^\\subsubsection\*\{backward: (.*)\}$", text, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]


def loss_rows(text: str) -> list[str]:
    """The logical rows of the loss section."""
    body = text.split(r"\subsubsection*{loss (")[1].split(r"\subsubsection*")[0]
    return all_rows(body)


def check_structure(text: str, network: Network, samples: int) -> None:
    """Balanced groups, one δ row per neuron per sample and one row per weight and bias, per layer."""
    assert braces_balanced(text) and dollars_balanced(text) and environments_balanced(text)
    align_blocks(text)
    sections = backward_sections(text)
    assert [heading.split(" $")[0] for heading, _ in sections] == [
        escape_latex(network.layer_label(k)) for k in range(len(network.layers) - 1, -1, -1)
    ]
    for (_, body), layer in zip(sections, reversed(network.layers), strict=True):
        found = all_rows(body)
        deltas = [r for r in found if r.startswith(r"\delta_{")]
        assert len(deltas) == layer.n_neurons * samples
        for neuron in layer.neurons:
            assert sum(r.startswith(f"{dl(neuron)} = ") for r in deltas) == samples, neuron
        assert len([r for r in found if r.startswith(r"\frac{\partial L}{\partial w_{")]) == layer.weights.size
        assert len([r for r in found if r.startswith(r"\frac{\partial L}{\partial b_{")]) == layer.n_neurons
        assert body.count(r"\begin{align*}") == samples + 1  # each sample's δ, then the gradients
    assert len(loss_rows(text)) == samples  # one loss row a sample


def classic() -> Network:
    return load_network(CONFIGS / "classic-2-2-2.yaml")


def course() -> Network:
    return load_network(CONFIGS / "course-backprop.yaml")


# --- independent expectations -------------------------------------------------------------------

# The classic 2-2-2 example: inputs 0.05, 0.10; targets 0.01, 0.99; lr 0.5.
X = (0.05, 0.10)
T = (0.01, 0.99)
W_H = ((0.15, 0.20), (0.25, 0.30))
W_O = ((0.40, 0.45), (0.50, 0.55))


def classic_by_hand(x: tuple[float, float], t: tuple[float, float]):
    h = [sigma(W_H[j][0] * x[0] + W_H[j][1] * x[1] + 0.35) for j in range(2)]
    o = [sigma(W_O[k][0] * h[0] + W_O[k][1] * h[1] + 0.60) for k in range(2)]
    d_o = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(2)]
    d_h = [(W_O[0][j] * d_o[0] + W_O[1][j] * d_o[1]) * h[j] * (1 - h[j]) for j in range(2)]
    return h, o, d_o, d_h


H, OUT, D_O, D_H = classic_by_hand(X, T)
W5_NEW = 0.40 - 0.5 * D_O[0] * H[0]

# The course lab: x = 0.1, t = 0.25, lr = 0.4, hidden w = 0.15, b = 0.4, output w = 0.45, b = 0.65.
C_A1 = sigma(0.15 * 0.1 + 0.4)
C_A2 = sigma(0.45 * C_A1 + 0.65)
C_D2 = (C_A2 - 0.25) * C_A2 * (1 - C_A2)
C_D1 = 0.45 * C_D2 * C_A1 * (1 - C_A1)


def test_independent_expectations_are_the_published_ones():
    """The math-module values agree with the classic worked example and the course lab's hand working."""
    assert [f4(v) for v in H] == ["0.5933", "0.5969"]
    assert [f4(v) for v in OUT] == ["0.7514", "0.7729"]
    assert f4(D_O[0]) == "0.1385" and f4(W5_NEW) == "0.3589" and f4(D_H[0]) == "0.0088"
    assert f4(0.5 * ((0.01 - OUT[0]) ** 2 + (0.99 - OUT[1]) ** 2)) == "0.2984"
    assert f"{D_O[0]:.9f}" == "0.138498562"  # published δ_o1
    assert (f4(C_A1), f4(C_A2), f4(C_D2), f4(C_D1)) == ("0.6023", "0.7153", "0.0948", "0.0102")
    assert f4(0.45 - 0.4 * C_D2 * C_A1) == "0.4272" and f4(0.65 - 0.4 * C_D2) == "0.6121"
    assert f4(0.15 - 0.4 * C_D1 * 0.1) == "0.1496" and f4(0.4 - 0.4 * C_D1) == "0.3959"
    assert f4(0.5 * (0.25 - C_A2) ** 2) == "0.1082"


# --- the classic example ------------------------------------------------------------------------


def test_classic_rows_are_the_worked_example():
    text = document(classic(), ["0.05,0.10"], ["0.01,0.99"])
    found = all_rows(text)
    # The lines as the worked example writes them (values checked above).
    assert has(
        found,
        rf"{dl('o1')} &= ({sym('a', 'o1')} - {sym('t', 'o1')}) \cdot {sig_d('o1')} "
        r"= (0.7514 - 0.01) \cdot 0.7514 \cdot (1 - 0.7514) = 0.1385",
    )
    assert has(
        found,
        rf"{dL(w('h1', 'o1'))} &= {dl('o1')} \cdot {sym('a', 'h1')} "
        r"= 0.1385 \cdot 0.5933 = 0.0822, \quad w' = 0.40 - 0.5 \cdot 0.0822 = 0.3589",
    )
    assert has(
        found,
        rf"{dl('o2')} &= ({sym('a', 'o2')} - {sym('t', 'o2')}) \cdot {sig_d('o2')} "
        rf"= ({f4(OUT[1])} - 0.99) \cdot {f4(OUT[1])} \cdot (1 - {f4(OUT[1])}) = {f4(D_O[1])}",
    )
    for j, h in enumerate(("h1", "h2")):
        worked = (
            (shown(f"{W_O[0][j]:.2f}") * shown(D_O[0]) + shown(f"{W_O[1][j]:.2f}") * shown(D_O[1]))
            * shown(H[j])
            * (1 - shown(H[j]))
        )
        assert has(
            found,
            rf"{dl(h)} &= ({w(h, 'o1')} \cdot {dl('o1')} + {w(h, 'o2')} \cdot {dl('o2')}) \cdot {sig_d(h)} "
            rf"&= ({W_O[0][j]:.2f} \cdot {f4(D_O[0])} + {W_O[1][j]:.2f} \cdot {neg(f4(D_O[1]))}) "
            rf"\cdot {f4(H[j])} \cdot (1 - {f4(H[j])}) {is_(worked, f4(D_H[j]))} {f4(D_H[j])}",
        )
    # every weight and bias of both layers, from the hand-worked deltas
    for k, o in enumerate(("o1", "o2")):
        for j, h in enumerate(("h1", "h2")):
            g = D_O[k] * H[j]
            assert has(
                found,
                rf"{dL(w(h, o))} &= {dl(o)} \cdot {sym('a', h)} = {neg(f4(D_O[k]))} \cdot {f4(H[j])} "
                rf"{is_(shown(D_O[k]) * shown(H[j]), f4(g))} {f4(g)}, " + update("w", f"{W_O[k][j]:.2f}", g),
            )
        assert has(found, rf"{dL(sym('b', o))} &= {dl(o)} = {f4(D_O[k])}, " + update("b", "0.60", D_O[k]))
    for j, h in enumerate(("h1", "h2")):
        for i, x in enumerate(("i1", "i2")):
            g = D_H[j] * X[i]
            assert has(
                found,
                rf"{dL(w(x, h))} &= {dl(h)} \cdot {tx(x)} = {f4(D_H[j])} \cdot {X[i]:g} "
                rf"{is_(shown(D_H[j]) * Decimal(f'{X[i]:g}'), f4(g))} {f4(g)}, " + update("w", f"{W_H[j][i]:.2f}", g),
            )
    assert loss_rows(text) == [
        logical(
            r"L &= \frac{1}{2} \cdot \sum (t - a)^{2} = "
            r"\frac{1}{2} \cdot ((0.01 - 0.7514)^{2} + (0.99 - 0.7729)^{2}) = 0.2984"
        )
    ]
    assert "\n\\subsubsection*{loss (half\\_sse)}\n" in text
    assert r"\noindent learning rate $0.5$; loss before the step $0.2984$" in text


def test_classic_structure():
    net = classic()
    text = document(net, ["0.05,0.10"], ["0.01,0.99"])
    check_structure(text, net, samples=1)
    assert (
        text.index(r"\subsection*{\textbf{input:}")
        < text.index(r"\subsubsection*{loss")
        < text.index("backward: layer 2")
    )
    assert text.index("backward: layer 2") < text.index("backward: layer 1")
    assert r"\subsubsection*{backward: layer 2 (output) $\cdot$ sigmoid}" in text
    loss_block = text.split(r"\subsubsection*{loss (half\_sse)}")[1].split(r"\subsubsection*")[0]
    assert loss_block.count(r"\begin{align*}") == loss_block.count(r"\end{align*}") == 1


def test_the_forward_part_is_the_forward_page():
    """The backward page opens with the forward page of the same pass, as ``nncalc forward`` writes it."""
    net = classic()
    result, texts = step(net, ["0.05,0.10"], ["0.01,0.99"])
    forward_part = io.StringIO()
    write_document(forward_document(net, result.trace, texts, View(4, True)), "latex", forward_part)
    whole = written(net, result, texts)
    assert whole.startswith(forward_part.getvalue())
    assert r"z_{\text{h1}} &= 0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775" in whole


def test_precision_is_passed_on():
    text = document(classic(), ["0.05,0.10"], ["0.01,0.99"])
    result, texts = step(classic(), ["0.05,0.10"], ["0.01,0.99"])
    six = written(classic(), result, texts, precision=6)
    assert f"= {D_O[0]:.6f}" in six and f"= {D_O[0]:.6f}" not in text
    assert (
        logical(rf"{dL(w('h1', 'o1'))} &= {dl('o1')} \cdot {sym('a', 'h1')} = {D_O[0]:.6f} \cdot {H[0]:.6f} = ")
        in "\n".join(all_rows(six)) + " "
    )


# --- the course chain ---------------------------------------------------------------------------


def test_course_chain_worked_by_hand():
    net = course()
    text = document(net, ["0.1"], ["0.25"], lr=0.4)
    check_structure(text, net, samples=1)
    found = all_rows(text)
    # ½ · (0.25 − 0.7153)² = 0.108252045 would be 0.1083: the loss of the exact a is 0.1082
    assert loss_rows(text) == [
        logical(r"L &= \frac{1}{2} \cdot \sum (t - a)^{2} = \frac{1}{2} \cdot (0.25 - 0.7153)^{2} \approx 0.1082")
    ]
    assert has(
        found,
        rf"{dl('o1')} &= ({sym('a', 'o1')} - {sym('t', 'o1')}) \cdot {sig_d('o1')} "
        r"= (0.7153 - 0.25) \cdot 0.7153 \cdot (1 - 0.7153) = 0.0948",
    )
    g2 = C_D2 * C_A1
    assert has(
        found,
        rf"{dL(w('h1', 'o1'))} &= {dl('o1')} \cdot {sym('a', 'h1')} = 0.0948 \cdot 0.6023 = {f4(g2)}, "
        rf"\quad w' = 0.45 - 0.4 \cdot {f4(g2)} = 0.4272",
    )
    assert has(found, rf"{dL(sym('b', 'o1'))} &= {dl('o1')} = 0.0948, \quad b' = 0.65 - 0.4 \cdot 0.0948 = 0.6121")
    # one neuron above: no parentheses round a one-term sum
    assert has(
        found,
        rf"{dl('h1')} &= {w('h1', 'o1')} \cdot {dl('o1')} \cdot {sig_d('h1')} "
        r"&= 0.45 \cdot 0.0948 \cdot 0.6023 \cdot (1 - 0.6023) = 0.0102",
    )
    g1 = C_D1 * 0.1
    assert has(
        found,
        rf"{dL(w('x1', 'h1'))} &= {dl('h1')} \cdot {tx('x1')} = 0.0102 \cdot 0.1 = {f4(g1)}, "
        rf"\quad w' = 0.15 - 0.4 \cdot {f4(g1)} = 0.1496",
    )
    assert has(found, rf"{dL(sym('b', 'h1'))} &= {dl('h1')} = 0.0102, \quad b' = 0.4 - 0.4 \cdot 0.0102 = 0.3959")
    assert r"learning rate $0.4$; loss before the step $0.1082$" in text


# --- every loss ---------------------------------------------------------------------------------


def two_two_two(output_activation: str) -> Network:
    """The classic network with another output activation."""
    return parse_network(
        "inputs: [i1, i2]\nlayers:\n"
        "  - {name: hidden, neurons: [h1, h2], weights: [[0.15, 0.20], [0.25, 0.30]], biases: 0.35,"
        " activation: sigmoid}\n"
        "  - {name: output, neurons: [o1, o2], weights: [[0.40, 0.45], [0.50, 0.55]], biases: 0.60,"
        f" activation: {output_activation}}}\n"
    )


Z_O = [W_O[k][0] * H[0] + W_O[k][1] * H[1] + 0.60 for k in range(2)]


def softmax(z: list[float]) -> list[float]:
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


def note(words: str) -> str:
    """A remark after a step's value, as the steps write it."""
    return rf"\text{{ ({words})}}"


def hidden_rows_match(found: list[str], d_o: list[float]) -> None:
    """The hidden δ rows follow from the output δ (by hand) whatever the loss."""
    for j, h in enumerate(("h1", "h2")):
        expected = (W_O[0][j] * d_o[0] + W_O[1][j] * d_o[1]) * H[j] * (1 - H[j])
        (row,) = [r for r in found if r.startswith(f"{dl(h)} = ")]
        assert re.search(rf"(=|\\approx) {re.escape(f4(expected))}$", row), row
        assert rf"= ({W_O[0][j]:.2f} \cdot {neg(f4(d_o[0]))} + {W_O[1][j]:.2f} \cdot {neg(f4(d_o[1]))})" in row


def test_mse_with_identity_outputs():
    net = two_two_two("identity")
    text = document(net, ["0.05,0.10"], ["1,1.5"], loss="mse")
    check_structure(text, net, 1)
    found = all_rows(text)
    t = (1.0, 1.5)
    d_o = [2 / 2 * (Z_O[k] - t[k]) * 1 for k in range(2)]
    for k, o in enumerate(("o1", "o2")):
        assert has(
            found,
            rf"{dl(o)} &= \frac{{2}}{{2}} \cdot ({sym('a', o)} - {sym('t', o)}) \cdot 1 "
            rf"= \frac{{2}}{{2}} \cdot ({f4(Z_O[k])} - {t[k]:g}) \cdot 1 = {f4(d_o[k])}",
        )
    loss = ((1 - Z_O[0]) ** 2 + (1.5 - Z_O[1]) ** 2) / 2
    assert loss_rows(text) == [
        logical(
            rf"L = \frac{{1}}{{n}} \cdot \sum (t - a)^{{2}} = \frac{{1}}{{2}} \cdot "
            rf"((1 - {f4(Z_O[0])})^{{2}} + (1.5 - {f4(Z_O[1])})^{{2}}) = {f4(loss)}"
        )
    ]
    assert "\\subsubsection*{loss (mse)}" in text
    hidden_rows_match(found, d_o)


def test_cross_entropy_with_softmax_is_a_minus_t():
    net = two_two_two("softmax")
    text = document(net, ["0.05,0.10"], ["0.25,0.75"], loss="cross_entropy")
    check_structure(text, net, 1)
    found = all_rows(text)
    a = softmax(Z_O)
    t = (0.25, 0.75)
    for k, o in enumerate(("o1", "o2")):
        assert has(
            found,
            rf"{dl(o)} &= {sym('a', o)} - {sym('t', o)} = {f4(a[k])} - {t[k]:g} = {f4(a[k] - t[k])}"
            + note("softmax with cross-entropy"),
        )
    loss = -(0.25 * math.log(a[0]) + 0.75 * math.log(a[1]))
    worked = -(0.25 * math.log(float(f4(a[0]))) + 0.75 * math.log(float(f4(a[1]))))
    assert loss_rows(text) == [
        logical(
            rf"L = -\sum t \cdot \ln(a) = -(0.25 \cdot \ln({f4(a[0])}) + 0.75 \cdot \ln({f4(a[1])})) "
            rf"{is_(worked, f4(loss))} {f4(loss)}"
        )
    ]
    assert "\\subsubsection*{loss (cross\\_entropy)}" in text
    hidden_rows_match(found, [a[k] - t[k] for k in range(2)])


def test_cross_entropy_with_sigmoid_uses_the_chain_rule():
    net = two_two_two("sigmoid")
    text = document(net, ["0.05,0.10"], ["0.25,0.75"], loss="cross_entropy")
    found = all_rows(text)
    t = (0.25, 0.75)
    d_o = [(-t[k] / OUT[k]) * OUT[k] * (1 - OUT[k]) for k in range(2)]
    for k, o in enumerate(("o1", "o2")):
        a = f4(OUT[k])
        worked = -Decimal(f"{t[k]:g}") / shown(a) * shown(a) * (1 - shown(a))
        assert has(
            found,
            rf"{dl(o)} &= \left(-\frac{{{sym('t', o)}}}{{{sym('a', o)}}}\right) \cdot {sig_d(o)} "
            rf"= \left(-\frac{{{t[k]:g}}}{{{a}}}\right) \cdot {a} \cdot (1 - {a}) "
            rf"{is_(worked, f4(d_o[k]))} {f4(d_o[k])}",
        )
    hidden_rows_match(found, d_o)


def test_bce_with_sigmoid_is_a_minus_t_over_n():
    net = two_two_two("sigmoid")
    text = document(net, ["0.05,0.10"], ["0,1"], loss="bce")
    check_structure(text, net, 1)
    found = all_rows(text)
    t = (0, 1)
    d_o = [(OUT[k] - t[k]) / 2 for k in range(2)]
    for k, o in enumerate(("o1", "o2")):
        assert has(
            found,
            rf"{dl(o)} &= \frac{{{sym('a', o)} - {sym('t', o)}}}{{2}} = \frac{{{f4(OUT[k])} - {t[k]}}}{{2}} "
            rf"{is_((shown(OUT[k]) - t[k]) / 2, f4(d_o[k]))} {f4(d_o[k])}" + note("sigmoid with BCE"),
        )
    loss = -(math.log(1 - OUT[0]) + math.log(OUT[1])) / 2
    a0, a1 = f4(OUT[0]), f4(OUT[1])
    # BCE's loss is long: it continues on further lines, one output's term to a line
    (block,) = [b for b in align_blocks(text) if b[0].startswith("L &=")]
    assert block == [
        r"L &= \frac{1}{n} \cdot \sum (-(t \cdot \ln(a) + (1 - t) \cdot \ln(1 - a))) \\",
        rf"&= \frac{{1}}{{2}} \cdot (-(0 \cdot \ln({a0}) + (1 - 0) \cdot \ln(1 - {a0})) \\",
        # −(ln 0.2486 + ln 0.7729) / 2 = 0.82476 would be 0.8248: the shown a are rounded
        rf"&\quad - (1 \cdot \ln({a1}) + (1 - 1) \cdot \ln(1 - {a1}))) \approx {f4(loss)}",
    ]
    hidden_rows_match(found, d_o)


def test_bce_with_another_activation_uses_its_gradient_and_the_derivative_value():
    """hard_sigmoid has no short derivative form: its value (1/6) is written, as in the plain text."""
    net = two_two_two("hard_sigmoid")
    text = document(net, ["0.05,0.10"], ["0.2,0.9"], loss="bce")
    found = all_rows(text)
    a = [z / 6 + 0.5 for z in Z_O]
    t = (0.2, 0.9)
    d_o = [(a[k] - t[k]) / (2 * a[k] * (1 - a[k])) * (1 / 6) for k in range(2)]
    worked = [
        (shown(a[k]) - shown(f"{t[k]:g}")) / (2 * shown(a[k]) * (1 - shown(a[k]))) * shown("0.1667") for k in (0, 1)
    ]
    for k, o in enumerate(("o1", "o2")):
        ak = f4(a[k])
        assert has(
            found,
            rf"{dl(o)} &= \frac{{{sym('a', o)} - {sym('t', o)}}}{{2 \cdot {sym('a', o)} \cdot (1 - {sym('a', o)})}} "
            rf"\cdot \text{{f$'$}}({sym('z', o)}) = \frac{{{ak} - {t[k]:g}}}{{2 \cdot {ak} \cdot (1 - {ak})}} "
            rf"\cdot 0.1667 {is_(worked[k], f4(d_o[k]))} {f4(d_o[k])}",
        )
    hidden_rows_match(found, d_o)


def test_softmax_with_another_loss_couples_the_outputs():
    net = two_two_two("softmax")
    text = document(net, ["0.05,0.10"], ["0.25,0.75"], loss="half_sse")
    found = all_rows(text)
    a = softmax(Z_O)
    g = [a[0] - 0.25, a[1] - 0.75]
    dot = g[0] * a[0] + g[1] * a[1]
    d_o = [a[k] * (g[k] - dot) for k in range(2)]
    for k, o in enumerate(("o1", "o2")):
        assert has(
            found,
            rf"{dl(o)} &= \sum_{{j}} \frac{{\partial L}}{{\partial a_{{j}}}} \cdot "
            rf"\frac{{\partial a_{{j}}}}{{\partial {sym('z', o)}}} = {f4(d_o[k])}"
            + note("softmax couples the outputs"),
        )
    hidden_rows_match(found, d_o)


@pytest.mark.parametrize(
    "activation, targets, loss",
    [
        ("sigmoid", "0.01,0.99", "half_sse"),
        ("identity", "1,1.5", "mse"),
        ("softmax", "0.25,0.75", "cross_entropy"),
        ("sigmoid", "0.25,0.75", "cross_entropy"),
        ("sigmoid", "0,1", "bce"),
        ("hard_sigmoid", "0.2,0.9", "bce"),
        ("softmax", "0.25,0.75", "mse"),
        ("tanh", "0.5,-0.5", "half_sse"),
    ],
)
def test_every_loss_is_well_formed(activation, targets, loss):
    net = two_two_two(activation)
    text = document(net, ["0.05,0.10", "-0.3,0.2"], [targets, targets], loss=loss)
    check_structure(text, net, samples=2)
    assert f"\\subsubsection*{{loss ({escape_latex(loss)})}}" in text
    assert [row.split(" = ")[0] for row in loss_rows(text)] == [r"L_{\text{sample 1:}}", r"L_{\text{sample 2:}}"]


# --- derivative forms ---------------------------------------------------------------------------


def test_tanh_negative_activation_is_parenthesised_and_other_derivatives_are_values():
    """tanh writes (1 − a²) with a negative a in parentheses; relu's derivative is its value; identity is 1."""
    net = parse_network(
        "inputs: [x]\nlayers:\n"
        "  - {name: first, neurons: [t1], weights: -1, biases: 0.1, activation: tanh}\n"
        "  - {name: second, neurons: [r1], weights: 2, biases: 1, activation: relu}\n"
        "  - {name: out, neurons: [y], weights: 0.5, biases: 0, activation: identity}\n"
    )
    text = document(net, ["0.5"], ["0.2"])
    check_structure(text, net, 1)
    found = all_rows(text)
    a1 = math.tanh(-0.5 + 0.1)
    z2 = 2 * a1 + 1
    a2 = max(z2, 0.0)
    y = 0.5 * a2
    d3 = (y - 0.2) * 1
    d2 = 0.5 * d3 * (1.0 if z2 > 0 else 0.0)
    d1 = 2 * d2 * (1 - a1 * a1)
    assert a1 < 0 and z2 > 0
    assert has(found, rf"{dl('y')} &= ({sym('a', 'y')} - {sym('t', 'y')}) \cdot 1 = ({f4(y)} - 0.2) \cdot 1 = {f4(d3)}")
    assert has(
        found,
        rf"{dl('r1')} &= {w('r1', 'y')} \cdot {dl('y')} \cdot \text{{f$'$}}({sym('z', 'r1')}) "
        rf"&= 0.5 \cdot {neg(f4(d3))} \cdot 1 {is_(Decimal('0.5') * shown(d3), f4(d2))} {f4(d2)}",
    )
    assert has(
        found,
        rf"{dl('t1')} &= {w('t1', 'r1')} \cdot {dl('r1')} \cdot (1 - {sym('a', 't1')}^{{2}}) "
        rf"&= 2 \cdot {neg(f4(d2))} \cdot (1 - ({f4(a1)})^{{2}}) "
        rf"{is_(2 * shown(d2) * (1 - shown(a1) ** 2), f4(d1))} {f4(d1)}",
    )
    # the input of the first layer is written by name, not as an a
    assert any(row.startswith(logical(rf"{dL(w('x', 't1'))} &= {dl('t1')} \cdot {tx('x')} = ")) for row in found)


def test_softmax_hidden_layer_writes_its_jacobian():
    net = parse_network(
        "inputs: [x1, x2]\nlayers:\n"
        "  - {name: hidden, neurons: [s1, s2], weights: [[0.5, -1/3], [2, -0.25]], activation: softmax}\n"
        "  - {name: output, neurons: [o1], weights: [[0.7, -0.2]], biases: 0.1, activation: sigmoid}\n"
    )
    text = document(net, ["0.5,-0.3"], ["0.9"])
    check_structure(text, net, 1)
    a = softmax([0.5 * 0.5 + (-1 / 3) * (-0.3), 2 * 0.5 + (-0.25) * (-0.3)])
    o = sigma(0.7 * a[0] - 0.2 * a[1] + 0.1)
    d_o = (o - 0.9) * o * (1 - o)
    g = [0.7 * d_o, -0.2 * d_o]
    dot = g[0] * a[0] + g[1] * a[1]
    for j, s in enumerate(("s1", "s2")):
        (row,) = [r for r in all_rows(text) if r.startswith(f"{dl(s)} = ")]
        assert r"J_{\text{softmax}}^{\top}" in row  # softmax's Jacobian, transposed
        assert row.endswith(logical(rf"\cdot {w(s, 'o1')} \cdot {dl('o1')} = {f4(a[j] * (g[j] - dot))}")), row
    # weights written as fractions keep their form
    assert r"w' = -\tfrac{1}{3} - 0.5 \cdot " in text


def test_softmax_jacobian_is_transposed_in_latex():
    net = parse_network(
        "inputs: [x1]\nlayers:\n"
        "  - {name: hidden, neurons: [s1, s2], weights: [[0.5], [2]], activation: softmax}\n"
        "  - {name: output, neurons: [o1], weights: [[0.7, -0.2]], activation: sigmoid}\n"
    )
    text = document(net, ["0.5"], ["0.9"])
    assert r"\texttt{U+" not in text
    assert r"^{\top}" in text


NEGATIVE_WEIGHT = parse_network(
    "inputs: [x]\nlayers:\n"
    "  - {name: hidden, neurons: [h], weights: [[1]], activation: sigmoid}\n"
    "  - {name: output, neurons: [p, q], weights: [[0.3], [-0.5]], activation: sigmoid}\n"
)


def test_a_negative_weight_is_never_added_as_plus_minus():
    text = document(NEGATIVE_WEIGHT, ["0.4"], ["0.2,0.6"])
    assert "+ -" not in text


def test_weights_below_negative_ones_are_subtracted():
    """A negative weight in a hidden δ's sum is written ``- 0.5 \\cdot …``, as forward's z is."""
    text = document(NEGATIVE_WEIGHT, ["0.4"], ["0.2,0.6"])
    (row,) = [r for r in all_rows(text) if r.startswith(f"{dl('h')} = ")]
    assert re.search(r"= \(0\.3 \\cdot \S+ - 0\.5 \\cdot \S+\)", row), row


def test_many_outputs_are_summed_with_sigma():
    outputs = 7
    net = parse_network(
        "inputs: 1\nlayers:\n  - {name: hidden, neurons: [h1], weights: 0.5, activation: sigmoid}\n"
        f"  - {{name: output, neurons: {outputs}, weights: [{', '.join(['[0.25]'] * outputs)}]}}\n"
    )
    text = document(net, ["0.3"], [",".join(["0.1"] * outputs)])
    check_structure(text, net, 1)
    h = sigma(0.5 * 0.3)
    loss = 0.5 * outputs * (0.1 - sigma(0.25 * h)) ** 2
    assert loss_rows(text) == [logical(rf"L = \frac{{1}}{{2}} \cdot \sum (t - a)^{{2}} = {f4(loss)}")]
    assert r"(0.1 - " not in text  # seven outputs: the loss is not written term by term
    assert rf"\sum_{{k}} w_{{{tx('h1')}\to\text{{k}}}} \cdot \delta_{{k}}" in text


def test_long_sums_continue_on_further_rows():
    """A loss over four outputs and a hidden δ with four neurons above are broken onto further lines."""
    outputs = 4
    ws = [0.1, -0.2, 0.3, 0.4]
    net = parse_network(
        "inputs: 1\nlayers:\n  - {name: hidden, neurons: [h1], weights: 0.5, activation: sigmoid}\n"
        f"  - {{name: output, neurons: {outputs}, weights: {[[v] for v in ws]}, biases: 0.2}}\n"
    )
    t = [0.1, 0.2, 0.3, 0.4]
    text = document(net, ["0.3"], [",".join(map(str, t))])
    check_structure(text, net, 1)
    h = sigma(0.5 * 0.3)
    a = [sigma(v * h + 0.2) for v in ws]
    d = [(a[k] - t[k]) * a[k] * (1 - a[k]) for k in range(outputs)]
    dh = sum(ws[k] * d[k] for k in range(outputs)) * h * (1 - h)
    loss = 0.5 * sum((t[k] - a[k]) ** 2 for k in range(outputs))
    terms = [f"({t[k]:g} - {f4(a[k])})^{{2}}" for k in range(outputs)]
    (block,) = [b for b in align_blocks(text) if b[0].startswith("L &=")]
    assert len(block) >= 3
    assert rows(block) == [
        logical(
            rf"L = \frac{{1}}{{2}} \cdot \sum (t - a)^{{2}} = \frac{{1}}{{2}} \cdot ({' + '.join(terms)}) = {f4(loss)}"
        )
    ]
    (block,) = [b for b in align_blocks(text) if b[0].startswith(dl("h1"))]
    assert len(block) >= 3
    syms = [rf"{w('h1', f'o{k + 1}')} \cdot {dl(f'o{k + 1}')}" for k in range(outputs)]
    nums = [rf"{neg(f'{ws[k]:g}')} \cdot {neg(f4(d[k]))}" for k in range(outputs)]
    (row,) = rows(block)
    assert row.startswith(logical(rf"{dl('h1')} = ({' + '.join(syms)}) \cdot {sig_d('h1')} = ")), row
    assert row.endswith(logical(rf"{nums[3]}) \cdot {f4(h)} \cdot (1 - {f4(h)}) = {f4(dh)}")), row


def test_a_long_row_is_never_broken_inside_a_small_bracket():
    """The hidden δ of four neurons above is broken between the sum's terms, never inside (1 − a)."""
    net = parse_network(
        "inputs: 1\nlayers:\n  - {name: hidden, neurons: [h1], weights: 0.5, activation: sigmoid}\n"
        "  - {name: output, neurons: 4, weights: [[0.1], [-0.2], [0.3], [0.4]], biases: 0.2}\n"
    )
    text = document(net, ["0.3"], ["0.1,0.2,0.3,0.4"])
    (block,) = [b for b in align_blocks(text) if b[0].startswith(dl("h1"))]
    assert not [line for line in block if line.endswith(r"(1 \\")], block


# --- batches and frozen biases ------------------------------------------------------------------


def test_two_sample_batch_means_the_gradients():
    net = classic()
    x2, t2 = (0.2, -0.1), (0.5, 0.5)
    text = document(net, ["0.05,0.10", "0.2,-0.1"], ["0.01,0.99", "0.5,0.5"])
    check_structure(text, net, samples=2)
    h2, out2, d_o2, d_h2 = classic_by_hand(x2, t2)
    found = all_rows(text)
    deltas = [r for r in found if r.startswith(f"{dl('o1')} =")]
    assert [r.rsplit("= ", 1)[1] for r in deltas] == [f4(D_O[0]), f4(d_o2[0])]
    deltas = [r for r in found if r.startswith(f"{dl('h2')} =")]
    assert [r.rsplit("= ", 1)[1] for r in deltas] == [f4(D_H[1]), f4(d_h2[1])]
    # ∂L/∂w is the mean over the samples of δ · a
    for k, o in enumerate(("o1", "o2")):
        for j, h in enumerate(("h1", "h2")):
            g = (D_O[k] * H[j] + d_o2[k] * h2[j]) / 2
            worked = (shown(D_O[k]) * shown(H[j]) + shown(d_o2[k]) * shown(h2[j])) / 2
            new = f4(W_O[k][j] - 0.5 * g)
            assert has(
                found,
                rf"{dL(w(h, o))} &= \frac{{1}}{{2}} \cdot \sum_{{s}} {dl(o)} \cdot {sym('a', h)} = \frac{{1}}{{2}} "
                rf"\cdot ({neg(f4(D_O[k]))} \cdot {f4(H[j])} + {neg(f4(d_o2[k]))} \cdot {f4(h2[j])}) "
                rf"{is_(worked, f4(g))} {f4(g)}, "
                rf"&\quad w' = {W_O[k][j]:.2f} - 0.5 \cdot {neg(f4(g))} "
                rf"{is_(shown(f'{W_O[k][j]:.2f}') - shown('0.5') * shown(g), new)} {new}",
            )
        gb = (D_O[k] + d_o2[k]) / 2
        new = f4(0.60 - 0.5 * gb)
        assert has(
            found,
            rf"{dL(sym('b', o))} &= \frac{{1}}{{2}} \cdot \sum_{{s}} {dl(o)} = {f4(gb)}, "
            rf"&\quad b' = 0.60 - 0.5 \cdot {neg(f4(gb))} {is_(shown('0.60') - shown('0.5') * shown(gb), new)} {new}",
        )
    g = (D_H[0] * 0.10 + d_h2[0] * -0.1) / 2
    flat = "\n".join(found)
    assert logical(rf"{dL(w('i2', 'h1'))} &= \frac{{1}}{{2}} \cdot \sum_{{s}} {dl('h1')} \cdot {tx('i2')} = ") in flat
    # g ≈ −0.0000783, below one unit of the 4th decimal: shown to 4 significant digits; the shown
    # products give ½ · (0.00088 − 0.00103) = −0.000075, not it
    assert logical(rf"{neg(f4(d_h2[0]))} \cdot (-0.1)) \approx {g * 1e5:.3f} \times 10^{{-5}}") in flat
    loss2 = 0.5 * ((0.5 - out2[0]) ** 2 + (0.5 - out2[1]) ** 2)
    assert loss_rows(text)[1].endswith(
        logical(rf"((0.5 - {f4(out2[0])})^{{2}} + (0.5 - {f4(out2[1])})^{{2}}) = {f4(loss2)}")
    )
    mean = (0.5 * ((0.01 - OUT[0]) ** 2 + (0.99 - OUT[1]) ** 2) + loss2) / 2
    assert rf"\noindent batch loss (mean over 2 samples) = ${f4(mean)}$" in text
    # each sample's part is labelled: its loss, and its δ in both layers
    assert text.count(r"L_{\text{sample 1:}}") == 1 and text.count(r"\noindent sample 1:") == 2
    assert text.count(r"L_{\text{sample 2:}}") == 1 and text.count(r"\noindent sample 2:") == 2


def test_five_samples_write_the_mean_without_its_terms():
    net = course()
    xs = ["0.1", "0.2", "0.3", "0.4", "0.5"]
    text = document(net, xs, ["0.25"] * 5)
    check_structure(text, net, samples=5)
    a1 = [sigma(0.15 * float(x) + 0.4) for x in xs]
    a2 = [sigma(0.45 * a + 0.65) for a in a1]
    d2 = [(a - 0.25) * a * (1 - a) for a in a2]
    g = sum(d * a for d, a in zip(d2, a1, strict=True)) / 5
    assert has(
        all_rows(text),
        rf"{dL(w('h1', 'o1'))} &= \frac{{1}}{{5}} \cdot \sum_{{s}} {dl('o1')} \cdot {sym('a', 'h1')} = {f4(g)}, "
        rf"&\quad w' = 0.45 - 0.5 \cdot {f4(g)} "
        rf"{is_(shown('0.45') - shown('0.5') * shown(g), f4(0.45 - 0.5 * g))} {f4(0.45 - 0.5 * g)}",
    )


def test_three_samples_list_every_product():
    net = course()
    xs = ["0.1", "0.2", "0.3"]
    text = document(net, xs, ["0.25"] * 3)
    check_structure(text, net, samples=3)
    a1 = [sigma(0.15 * float(x) + 0.4) for x in xs]
    a2 = [sigma(0.45 * a + 0.65) for a in a1]
    d2 = [(a - 0.25) * a * (1 - a) for a in a2]
    g = sum(d * a for d, a in zip(d2, a1, strict=True)) / 3
    worked = sum(shown(d2[s]) * shown(a1[s]) for s in range(3)) / 3
    p = [rf"{f4(d2[s])} \cdot {f4(a1[s])}" for s in range(3)]
    new = f4(0.45 - 0.5 * g)
    assert has(
        all_rows(text),
        rf"{dL(w('h1', 'o1'))} &= \frac{{1}}{{3}} \cdot \sum_{{s}} {dl('o1')} \cdot {sym('a', 'h1')} = "
        rf"\frac{{1}}{{3}} \cdot ({p[0]} + {p[1]} + {p[2]}) {is_(worked, f4(g))} {f4(g)}, "
        rf"\quad w' = 0.45 - 0.5 \cdot {f4(g)} {is_(shown('0.45') - shown('0.5') * shown(g), new)} {new}",
    )


def test_frozen_biases_are_kept():
    net = classic()
    text = document(net, ["0.05,0.10"], ["0.01,0.99"], freeze_biases=True)
    check_structure(text, net, 1)
    found = all_rows(text)
    for b, d in (("o1", D_O[0]), ("o2", D_O[1]), ("h1", D_H[0]), ("h2", D_H[1])):
        value = "0.60" if b.startswith("o") else "0.35"
        assert has(found, rf"{dL(sym('b', b))} &= {dl(b)} = {f4(d)}, \quad b' = {value}" + note("biases frozen"))
    assert "b' = 0.60 -" not in text and "b' = 0.35 -" not in text
    assert r"w' = 0.40 - 0.5 \cdot 0.0822 = 0.3589" in text  # weights still move


# --- names ------------------------------------------------------------------------------------


def awkward() -> Network:
    return parse_network(
        'name: "50% of a&b #1"\n'
        'inputs: ["h_1", "a&b"]\n'
        "layers:\n"
        '  - name: "x|y_layer"\n'
        '    neurons: ["50%", "$m$", "{b}~^#\\\\"]\n'
        "    weights: [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]\n"
        "    biases: 0.1\n"
        "    activation: tanh\n"
        "  - name: out\n"
        '    neurons: ["o_1", "a--b"]\n'
        "    weights: [[0.5, -1, 0.25], [1/3, 0.5, -0.5]]\n"
        "    activation: sigmoid\n"
    )


def test_awkward_names_are_escaped():
    net = awkward()
    text = document(net, ["0.1,-0.2"], ["0.3,0.6"])
    check_structure(text, net, 1)
    assert r"\subsubsection*{backward: layer 1 (x\textbar{}y\_layer) $\cdot$ tanh}" in text
    # the names as escaped by hand: h_1, a&b, 50%, $m$, {b}~^#\, o_1, a--b
    h_1, ab, pct, m = r"\text{h\_1}", r"\text{a\&b}", r"\text{50\%}", r"\text{\$m\$}"
    braces = r"\text{\{b\}\textasciitilde{}\textasciicircum{}\#\textbackslash{}}"
    o_1, dashes = r"\text{o\_1}", r"\text{a-{}-b}"
    flat = "\n".join(all_rows(text))
    for name in (pct, m, braces, o_1, dashes):
        assert rf"\delta_{{{name}}} = " in flat, name
    assert rf"{dL(w('h_1', '50%'))} = \delta_{{{pct}}} \cdot {h_1} = " in flat
    assert rf"{dL(w('a&b', '50%'))} = \delta_{{{pct}}} \cdot {ab} = " in flat
    assert rf"{dL(w('50%', 'o_1'))} = \delta_{{{o_1}}} \cdot a_{{{pct}}} = " in flat
    assert rf"{w('50%', 'o_1')} \cdot \delta_{{{o_1}}}" in flat
    assert r"w_{\text{50\%}\to\text{o\_1}}" in flat  # an edge's ends escaped by hand too
    body = text.replace(r"\\", "").replace(r"\%", "").replace(r"\#", "").replace(r"\&", "").replace(r"\_", "")
    assert not re.search(r"(?<!\\)[%#]", body)
    outside = re.sub(r"\\begin\{tabular\}.*?\\end\{tabular\}", "", body, flags=re.S)  # & parts a table's cells
    assert not re.search(r"(?<![\\])&(?!=|\\quad|\\approx)", outside)  # else a bare & only as the align point
    assert re.search(r"(?<!\\)_(?!\{)", text) is None  # an unescaped _ only opens a braced subscript
    # the delta rows are there once per neuron, whatever the names
    assert len([r for r in all_rows(text) if r.startswith(r"\delta_{")]) == 5


# --- documents --------------------------------------------------------------------------------


def test_standalone_is_one_document_and_the_fragment_none():
    net = classic()
    whole = document(net, ["0.05,0.10"], ["0.01,0.99"], standalone=True)
    fragment = document(net, ["0.05,0.10"], ["0.01,0.99"])
    for marker in (r"\documentclass", r"\begin{document}", r"\end{document}", r"\usepackage{amsmath}"):
        assert whole.count(marker) == 1, marker
        assert marker not in fragment
    assert whole.startswith(r"\documentclass") and whole.rstrip().endswith(r"\end{document}")
    assert (
        whole.index(r"\begin{document}") < whole.index(r"\subsection*{\textbf{input:}") < whole.index(r"\end{document}")
    )
    assert whole.index(r"\subsubsection*{backward: layer 1") < whole.index(r"\end{document}")
    assert fragment in whole
    assert environments_balanced(whole) and braces_balanced(whole)


def test_numbers_come_from_the_result():
    """The document writes the result it is given (here one with forged values), never recomputing."""
    net = classic()
    result, texts = step(net, ["0.05,0.10"], ["0.01,0.99"])
    out_layer = result.layers[1]
    forged_layer = records.replace(
        out_layer,
        delta=np.array([[0.625, -0.375]]),
        grad_weights=np.array([[0.0125, 0.0625], [0.125, 0.25]]),
        weights=np.array([[9.5, 8.5], [7.5, 6.5]]),
        biases=np.array([5.5, 4.5]),
    )
    forged = records.replace(
        result, layers=(result.layers[0], forged_layer), sample_losses=np.array([0.875]), loss=0.875
    )
    text = written(net, forged, texts)
    flat = "\n".join(all_rows(text))
    # forged results do not follow from the numbers before them, and the steps say so
    assert r"= (0.7514 - 0.01) \cdot 0.7514 \cdot (1 - 0.7514) \approx 0.625" in flat
    assert r"= 0.625 \cdot 0.5933 \approx 0.0125, w' = 0.40 - 0.5 \cdot 0.0125 \approx 9.5" in flat
    assert r"= 0.1385, b' = 0.60 - 0.5 \cdot 0.1385 \approx 5.5" in flat  # ∂L/∂b kept, b' forged
    assert r") \approx 0.875" in flat and "loss before the step $0.875$" in text
    # the hidden δ row uses the forged output δ as its terms, and the real hidden δ as its value
    assert rf"= (0.40 \cdot 0.625 + 0.50 \cdot (-0.375)) \cdot 0.5933 \cdot (1 - 0.5933) \approx {f4(D_H[0])}" in flat


# --- pdflatex -----------------------------------------------------------------------------------


def compile_pdf(folder: Path, source: str) -> None:
    """Compile ``source`` with pdflatex: no error, a PDF, and nothing running into the margin."""
    path = folder / "doc.tex"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", path.name],
        cwd=folder,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,  # the first run may build the fonts
    )
    errors = "\n".join(ln for ln in done.stdout.splitlines() if ln.startswith("!"))
    assert done.returncode == 0, errors or done.stdout[-3000:]
    assert (folder / "doc.pdf").stat().st_size > 0
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*\n.*", log)


COMPILED = {
    "classic": lambda: document(classic(), ["0.05,0.10"], ["0.01,0.99"], standalone=True),
    "course": lambda: document(course(), ["0.1"], ["0.25"], standalone=True, lr=0.4),
    "batch-frozen": lambda: document(
        classic(), ["0.05,0.10", "-1/3,2e-3"], ["0.01,0.99", "0.5,0.5"], standalone=True, freeze_biases=True
    ),
    "three-samples": lambda: document(course(), ["0.1", "-0.2", "1/3"], ["0.25"] * 3, standalone=True),
    "five-samples": lambda: document(course(), ["0.1", "0.2", "0.3", "0.4", "0.5"], ["0.25"] * 5, standalone=True),
    "mse": lambda: document(two_two_two("identity"), ["0.05,0.10"], ["1,1.5"], standalone=True, loss="mse"),
    "softmax-ce": lambda: document(
        two_two_two("softmax"), ["0.05,0.10"], ["0.25,0.75"], standalone=True, loss="cross_entropy"
    ),
    "sigmoid-ce": lambda: document(
        two_two_two("sigmoid"), ["0.05,0.10"], ["0.25,0.75"], standalone=True, loss="cross_entropy"
    ),
    "sigmoid-bce": lambda: document(two_two_two("sigmoid"), ["0.05,0.10"], ["0,1"], standalone=True, loss="bce"),
    "hard-sigmoid-bce": lambda: document(
        two_two_two("hard_sigmoid"), ["0.05,0.10"], ["0.2,0.9"], standalone=True, loss="bce"
    ),
    "softmax-half-sse": lambda: document(two_two_two("softmax"), ["0.05,0.10"], ["0.25,0.75"], standalone=True),
    "awkward": lambda: document(awkward(), ["0.1,-0.2", "1e-3,-1/2"], ["0.3,0.6", "0,1"], standalone=True),
}


@needs_pdflatex
@pytest.mark.parametrize("name", list(COMPILED))
def test_standalone_document_compiles(tmp_path, name):
    compile_pdf(tmp_path, COMPILED[name]())


TINY_TANH = (
    "inputs: [x]\nlayers:\n"
    "  - {neurons: [h], weights: [[1e-5]], biases: 0, activation: tanh}\n"
    "  - {neurons: [o], weights: [[2]], biases: 0, activation: identity}\n"
)


@needs_pdflatex
def test_a_tiny_activation_squared_compiles(tmp_path):
    """tanh′ = 1 − a² with a = 1.000 × 10⁻⁵: the power of ten is bracketed before it is squared."""
    compile_pdf(tmp_path, document(parse_network(TINY_TANH), ["1"], ["0.5"], standalone=True))


@needs_pdflatex
def test_awkward_names_read_back_from_the_pdf(tmp_path):
    compile_pdf(tmp_path, COMPILED["awkward"]())
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    done = subprocess.run(["pdftotext", "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    for words in ["50% of a&b #1", "backward: layer 1 (x|y_layer)", "loss (half_sse)", "sample 2 of 2"]:
        assert words in done.stdout, words


@needs_pdflatex
def test_fragment_compiles_in_a_plain_amsmath_document(tmp_path):
    """A fragment needs only amsmath, even in a document left in the default OT1 encoding."""
    fragment = document(awkward(), ["0.1,-0.2", "1e-3,-1/2"], ["0.3,0.6", "0,1"], loss="bce")
    compile_pdf(
        tmp_path,
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + fragment + "\\end{document}\n",
    )


def test_compile_failures_are_detected(tmp_path):
    """The compile check can fail: a stray alignment & outside align* stops pdflatex."""
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    broken = document(classic(), ["0.05,0.10"], ["0.01,0.99"], standalone=True).replace(r"\begin{align*}", "", 1)
    with pytest.raises(AssertionError):
        compile_pdf(tmp_path, broken)


def test_from_three_samples_each_delta_has_a_row_of_its_own():
    """Five samples through the course chain: the δ are listed a row per sample (a column each
    would run into the margin), with the values worked by hand, and the biases in a table apart."""
    xs = (0.1, 0.2, 0.3, 0.4, 0.5)
    text = document(course(), [str(x) for x in xs], ["0.25"] * 5)
    expected = []
    for x in xs:
        h = sigma(0.15 * x + 0.4)
        o = sigma(0.45 * h + 0.65)
        d_o = (o - 0.25) * o * (1 - o)
        expected.append((d_o, d_o * 0.45 * h * (1 - h)))
    tables = re.findall(r"sample & neuron & \$\\delta\$ \\\\\n\\hline\n(.*?)\\hline", text, re.S)
    assert len(tables) == 2  # the output layer, then the hidden one
    for table, (neuron, which) in zip(tables, (("o1", 0), ("h1", 1)), strict=True):
        lines = table.strip().splitlines()
        assert lines == [rf"{s + 1} & {neuron} & ${f4(d[which])}$ \\" for s, d in enumerate(expected)]
    assert r"neuron & $\partial$L/$\partial$b & b & b$'$ \\" in text


@needs_pdflatex
@pytest.mark.parametrize("folder", ["/work/main/configs", "/home/student/course/week-3/answers", "/tmp/c"])
def test_a_heading_with_a_long_path_breaks_at_a_slash(tmp_path, folder):
    """A heading naming a file by a long path is set ragged right, so it breaks after a slash
    instead of running into the margin (a justified heading could only stretch one space)."""
    from nncalc.document import Document, Heading
    from nncalc.notation.latex import latex_source

    heading = f"grading {folder}/answers-classic-backward.yaml"
    source = latex_source(Document("", (Heading(1, heading), Heading(2, heading), Heading(3, heading)), 4), True)
    compile_pdf(tmp_path, source)


@needs_pdflatex
def test_a_table_longer_than_a_page_breaks_across_pages(tmp_path):
    """An 80-neuron layer shown whole (--all): its table is a longtable, so it flows onto a second
    page with its header repeated, instead of running off the bottom of the first."""
    layer = ", ".join(f"[{(k % 7) / 10}]" for k in range(80))
    net = parse_network(f"inputs: 1\nlayers:\n  - {{weights: [{layer}], biases: 0.1}}\n")
    result = forward(net, np.array([[0.5]]))
    source = io.StringIO()
    write_document(forward_document(net, result, [["0.5"]], View(4, False, True)), "latex", source, standalone=True)
    compile_pdf(tmp_path, source.getvalue())
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\vbox" not in log
    pages = subprocess.run(["pdftotext", str(tmp_path / "doc.pdf"), "-"], capture_output=True, text=True).stdout
    assert pages.count("\f") >= 2 and pages.count("neuron") >= 2  # the header on each page
