"""The Markdown and LaTeX notations of documents: structure, today's look, escaping, line breaking, pdflatex.

Documents are built here by hand, block by block, from values worked out with the math
module (never taken from nncalc's output); the expected text is what a person writes for
them (and, where the old renderers wrote the same content, what they printed).
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncalc.document import Column, Document, Heading, Note, Step, Steps, Styled, Table
from nncalc.expr import Call, Chain, Derivative, Edge, Frac, Name, Neg, Num, Power, Product, Sigma, Sum, exp
from nncalc.notation.formula import LatexWriter
from nncalc.notation.latex import (
    ROW_WIDTH,
    DocumentLatexWriter,
    escape_latex,
    latex_source,
    math_width,
    write_latex,
)
from nncalc.notation.markdown import MarkdownMathWriter, escape_markdown, markdown_text, write_markdown
from tests.conftest import ROOT

PDFLATEX = shutil.which("pdflatex")
PDFTOTEXT = shutil.which("pdftotext")


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def value(text: str) -> float:
    """A number as written in a network file: a decimal or a fraction (1/10)."""
    return float(Fraction(text))


def four(value: float) -> str:
    """A value to four decimals, as a person rounds it (half away from zero)."""
    return f"{value:.4f}"


# --- the networks, worked with the math module ---------------------------------------------------


class Net:
    """A sigmoid network with half-SSE loss, worked forward and backward in plain Python."""

    def __init__(self, name, inputs, layers, x, t, lr=0.5):
        self.name, self.inputs, self.layers, self.x, self.t, self.lr = name, inputs, layers, x, t, lr
        # layers: [(title, neurons, weight texts [[...]], bias texts [...])]
        self.received, self.z, self.a = [], [], []
        values = [value(text) for _, text in x]
        for _, _, weights, biases in layers:
            self.received.append(values)
            z = [
                sum(value(w) * v for w, v in zip(row, values, strict=True)) + value(b)
                for row, b in zip(weights, biases, strict=True)
            ]
            values = [sigma(v) for v in z]
            self.z.append(z)
            self.a.append(values)
        out = self.a[-1]
        self.loss = 0.5 * sum((tv - av) ** 2 for tv, av in zip(t, out, strict=True))
        self.delta = [None] * len(layers)
        self.delta[-1] = [(av - tv) * av * (1 - av) for av, tv in zip(out, t, strict=True)]
        for k in range(len(layers) - 2, -1, -1):
            above = layers[k + 1][2]
            self.delta[k] = [
                sum(value(above[j][i]) * self.delta[k + 1][j] for j in range(len(above))) * a * (1 - a)
                for i, a in enumerate(self.a[k])
            ]

    def below(self, k: int) -> list[str]:
        return [n for n, _ in self.x] if k == 0 else self.layers[k - 1][1]


def classic() -> Net:
    return Net(
        "Classic 2-2-2 sigmoid network",
        ["i1", "i2"],
        [
            ("layer 1 (hidden) · sigmoid", ["h1", "h2"], [["0.15", "0.20"], ["0.25", "0.30"]], ["0.35", "0.35"]),
            ("layer 2 (output) · sigmoid", ["o1", "o2"], [["0.40", "0.45"], ["0.50", "0.55"]], ["0.60", "0.60"]),
        ],
        [("i1", "0.05"), ("i2", "0.10")],
        [0.01, 0.99],
    )


def wide() -> Net:
    """Six inputs, three hidden neurons, six outputs, long names: long chains in every layer."""
    inputs = [f"input{k}" for k in range(1, 7)]
    hidden = [f"hidden{k}" for k in range(1, 4)]
    outputs = [f"output{k}" for k in range(1, 7)]
    w1 = [[f"{((3 * j + 5 * i) % 11 - 5) / 8:.3f}" for i in range(6)] for j in range(3)]
    w2 = [[f"{((7 * j + 2 * i) % 9 - 4) / 6:.4f}" for i in range(3)] for j in range(6)]
    return Net(
        "Wide",
        inputs,
        [
            ("layer 1 (hidden) · sigmoid", hidden, w1, ["-0.125"] * 3),
            ("layer 2 (output) · sigmoid", outputs, w2, ["0.0625"] * 6),
        ],
        [(name, f"{-0.0625 * (k + 1):g}") for k, name in enumerate(inputs)],
        [0.125 * k for k in range(6)],
    )


# --- documents, block by block ------------------------------------------------------------------


def _x(net: Net, k: int, i: int) -> Num:
    """The i-th value layer k receives: an input as written, else an activation."""
    return Num(value(net.x[i][1]), net.x[i][1]) if k == 0 else Num(net.received[k][i])


def _input_heading(net: Net, lead: str) -> Heading:
    pieces: list = [lead]
    for k, (name, text) in enumerate(net.x):
        pieces += [", "] if k else []
        pieces.append(Chain((Name(name), Num(value(text), text)), ("=",)))
    return Heading(2, tuple(pieces))


def _minus(z: Num) -> Num | Neg:
    """−z as a person writes it: −0.3775, or 0.2344 where z is negative."""
    return Neg(z) if z.value >= 0 else Num(-z.value)


def forward_blocks(net: Net, steps: bool = True) -> list:
    blocks: list = [Heading(1, (net.name,)), _input_heading(net, "input: ")]
    for k, (title, neurons, weights, biases) in enumerate(net.layers):
        blocks.append(Heading(3, (title,)))
        blocks.append(
            Table(
                (Column(("neuron",), numeric=False), Column(("z",)), Column(("a",))),
                tuple((n, Num(net.z[k][j]), Num(net.a[k][j])) for j, n in enumerate(neurons)),
            )
        )
        if steps:
            items = []
            for j, n in enumerate(neurons):
                terms = [Product((Num(value(w), w), _x(net, k, i)), sign="×") for i, w in enumerate(weights[j])]
                z_chain = Chain(
                    (Name("z"), Sum((*terms, Num(value(biases[j]), biases[j]))), Num(net.z[k][j])), ("=", "=")
                )
                zn = Num(net.z[k][j])
                a_chain = Chain(
                    (Name("a"), Call("σ", (zn,)), Frac(Num(1.0), Sum((Num(1.0), exp(_minus(zn))))), Num(net.a[k][j])),
                    ("=", "=", "="),
                )
                items.append(Step((z_chain, a_chain), label=n))
            blocks.append(Steps(tuple(items)))
    outputs = [Chain((Name(n), Num(v)), ("=",)) for n, v in zip(net.layers[-1][1], net.a[-1], strict=True)]
    pieces: list = []
    for k, c in enumerate(outputs):
        pieces += [", "] if k else []
        pieces.append(c)
    blocks.append(Note(tuple(pieces), kind="output", lead="output:"))
    return blocks


def forward_document(net: Net, steps: bool = True) -> Document:
    return Document(net.name, tuple(forward_blocks(net, steps)))


def _half() -> Frac:
    return Frac(Num(1.0), Num(2.0))


def loss_chain(net: Net) -> Chain:
    t, a = Name("t"), Name("a")
    formula = Product((_half(), Sigma("", Power(Sum((t, Neg(a))), Num(2.0)))))
    squares = Sum(
        tuple(Power(Sum((Num(tv, f"{tv:g}"), Neg(Num(av)))), Num(2.0)) for tv, av in zip(net.t, net.a[-1], strict=True))
    )
    return Chain((Name("L"), formula, Product((_half(), squares)), Num(net.loss)), ("=", "=", "="))


def delta_chain(net: Net, k: int, j: int) -> Chain:
    name = net.layers[k][1][j]
    a = net.a[k][j]
    derivative = Sum((Num(1.0), Neg(Name("a", name))))
    if k == len(net.layers) - 1:
        symbols = Product((Sum((Name("a", name), Neg(Name("t", name)))), Name("a", name), derivative))
        t = net.t[j]
        numbers = Product((Sum((Num(a), Neg(Num(t, f"{t:g}")))), Num(a), Sum((Num(1.0), Neg(Num(a))))))
    else:
        above_names = net.layers[k + 1][1]
        above_w = net.layers[k + 1][2]
        symbols = Product(
            (
                Sum(tuple(Product((Edge("w", name, o), Name("δ", o))) for o in above_names)),
                Name("a", name),
                derivative,
            )
        )
        numbers = Product(
            (
                Sum(
                    tuple(
                        Product((Num(value(above_w[m][j]), above_w[m][j]), Num(net.delta[k + 1][m])))
                        for m in range(len(above_names))
                    )
                ),
                Num(a),
                Sum((Num(1.0), Neg(Num(a)))),
            )
        )
    return Chain((Name("δ", name), symbols, numbers, Num(net.delta[k][j])), ("=", "=", "="))


def weight_step(net: Net, k: int, j: int, i: int) -> Step:
    name, source = net.layers[k][1][j], net.below(k)[i]
    w_text = net.layers[k][2][j][i]
    gradient = net.delta[k][j] * net.received[k][i]
    source_symbol = Name(source) if k == 0 else Name("a", source)
    grad = Chain(
        (
            Derivative(Name("L"), Edge("w", source, name)),
            Product((Name("δ", name), source_symbol)),
            Product((Num(net.delta[k][j]), _x(net, k, i))),
            Num(gradient),
        ),
        ("=", "=", "="),
    )
    new = value(w_text) - net.lr * gradient
    update = Chain(
        (
            Name("w", mark="prime"),
            Sum((Num(value(w_text), w_text), Neg(Product((Num(net.lr), Num(gradient)))))),
            Num(new),
        ),
        ("=", "="),
    )
    return Step((grad, update))


def bias_step(net: Net, k: int, j: int) -> Step:
    name = net.layers[k][1][j]
    b_text = net.layers[k][3][j]
    gradient = net.delta[k][j]
    grad = Chain((Derivative(Name("L"), Name("b", name)), Name("δ", name), Num(gradient)), ("=", "="))
    new = value(b_text) - net.lr * gradient
    update = Chain(
        (
            Name("b", mark="prime"),
            Sum((Num(value(b_text), b_text), Neg(Product((Num(net.lr), Num(gradient)))))),
            Num(new),
        ),
        ("=", "="),
    )
    return Step((grad, update))


def backward_document(net: Net) -> Document:
    blocks = forward_blocks(net)
    blocks += [Heading(2, ("loss (half_sse)",)), Steps((Step((loss_chain(net),)),))]
    for k in range(len(net.layers) - 1, -1, -1):
        title, neurons, weights, biases = net.layers[k]
        blocks.append(Heading(3, ("backward: " + title,)))
        blocks.append(
            Table(
                (Column(("neuron",), False), Column(("δ",)), Column(("∂L/∂b",)), Column(("b",)), Column(("b′",))),
                tuple(
                    (
                        n,
                        Num(net.delta[k][j]),
                        Num(net.delta[k][j]),
                        Num(value(biases[j]), biases[j]),
                        Num(value(biases[j]) - net.lr * net.delta[k][j]),
                    )
                    for j, n in enumerate(neurons)
                ),
            )
        )
        blocks.append(Steps(tuple(Step((delta_chain(net, k, j),)) for j in range(len(neurons)))))
        rows = []
        for j in range(len(neurons)):
            for i, source in enumerate(net.below(k)):
                gradient = net.delta[k][j] * net.received[k][i]
                rows.append(
                    (
                        f"w({source}→{neurons[j]})",
                        Num(value(weights[j][i]), weights[j][i]),
                        Num(gradient),
                        Num(value(weights[j][i]) - net.lr * gradient),
                    )
                )
        blocks.append(
            Table((Column(("weight",), False), Column(("w",)), Column(("∂L/∂w",)), Column(("w′",))), tuple(rows))
        )
        items = []
        for j in range(len(neurons)):
            items += [weight_step(net, k, j, i) for i in range(len(net.below(k)))]
            items.append(bias_step(net, k, j))
        blocks.append(Steps(tuple(items)))
    blocks.append(Note((f"learning rate {net.lr:g}; loss before the step ", Num(net.loss)), lead=""))
    return Document(net.name, tuple(blocks))


RIGHT, WRONG = Styled("✓ right", "right"), Styled("✗ wrong", "wrong")


def grade_document() -> Document:
    net = classic()
    wrong_a = 0.7153
    blocks: list = [
        Heading(1, (net.name,)),
        Heading(2, ("grading answers.yaml for input ", *_input_heading(net, "").text[1:])),
    ]
    answers = {("o1", "a"): wrong_a, ("o2", "z"): None}
    for k, (title, neurons, _, _) in enumerate(net.layers):
        rows = []
        for j, n in enumerate(neurons):
            for q, right in (("z", net.z[k][j]), ("a", net.a[k][j])):
                yours = answers.get((n, q), float(four(right)))
                if yours is None:
                    rows.append((n, q, "—", Num(right), ""))
                else:
                    mark = RIGHT if four(yours) == four(right) else WRONG
                    rows.append((n, q, Num(yours, four(yours)), Num(right), mark))
        columns = (
            Column(("neuron",), False),
            Column(("",), False),
            Column(("yours",)),
            Column(("expected",)),
            Column(("mark",), False),
        )
        blocks += [Heading(3, (title,)), Table(columns, tuple(rows))]
    z = Num(net.z[1][0], "1.1059")
    a_chain = Chain(
        (Name("a"), Call("σ", (z,)), Frac(Num(1.0), Sum((Num(1.0), exp(Neg(z))))), Num(net.a[1][0])), ("=", "=", "=")
    )
    blocks += [
        Note(("a of o1 in layer 2 (output), at answers.yaml:4:24",), kind="wrong", lead="first wrong value:"),
        Steps((Step((a_chain,), after=(", not 0.7153",)),)),
        Note(("σ was applied to a z other than 1.1059",), kind="info", lead="likely:"),
        Note(("6 right, 1 wrong, 1 left out",)),
    ]
    return Document(net.name, tuple(blocks))


def md(document: Document, **options) -> str:
    out = io.StringIO()
    write_markdown(document, out, **options)
    return out.getvalue()


def tex(document: Document, standalone: bool = False) -> str:
    out = io.StringIO()
    write_latex(document, out, standalone=standalone)
    return out.getvalue()


# --- the references themselves --------------------------------------------------------------------


def test_hand_worked_values_are_the_published_ones():
    """The classic worked example's values, as published (Mazur's 2-2-2 example), from the math module."""
    net = classic()
    assert [four(v) for v in net.z[0]] == ["0.3775", "0.3925"]
    assert [four(v) for v in net.a[0]] == ["0.5933", "0.5969"]
    assert [four(v) for v in net.z[1]] == ["1.1059", "1.2249"]
    assert [four(v) for v in net.a[1]] == ["0.7514", "0.7729"]
    assert four(net.loss) == "0.2984"
    assert [four(v) for v in net.delta[1]] == ["0.1385", "-0.0381"]
    assert [four(v) for v in net.delta[0]] == ["0.0088", "0.0100"]


# --- Markdown -------------------------------------------------------------------------------------

CLASSIC_FORWARD_MARKDOWN = "\n".join(
    [
        "# Classic 2-2-2 sigmoid network",
        "",
        r"## input: $\text{i1} = 0.05$, $\text{i2} = 0.10$",
        "",
        "### layer 1 (hidden) · sigmoid",
        "",
        "| neuron | z | a |",
        "| --- | ---: | ---: |",
        "| h1 | 0.3775 | 0.5933 |",
        "| h2 | 0.3925 | 0.5969 |",
        "",
        r"- h1: $z = 0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775$, "
        r"$a = \sigma(0.3775) = \frac{1}{1 + e^{-0.3775}} = 0.5933$",
        r"- h2: $z = 0.25 \cdot 0.05 + 0.30 \cdot 0.10 + 0.35 = 0.3925$, "
        r"$a = \sigma(0.3925) = \frac{1}{1 + e^{-0.3925}} = 0.5969$",
        "",
        "### layer 2 (output) · sigmoid",
        "",
        "| neuron | z | a |",
        "| --- | ---: | ---: |",
        "| o1 | 1.1059 | 0.7514 |",
        "| o2 | 1.2249 | 0.7729 |",
        "",
        r"- o1: $z = 0.40 \cdot 0.5933 + 0.45 \cdot 0.5969 + 0.60 = 1.1059$, "
        r"$a = \sigma(1.1059) = \frac{1}{1 + e^{-1.1059}} = 0.7514$",
        r"- o2: $z = 0.50 \cdot 0.5933 + 0.55 \cdot 0.5969 + 0.60 = 1.2249$, "
        r"$a = \sigma(1.2249) = \frac{1}{1 + e^{-1.2249}} = 0.7729$",
        "",
        r"**output:** $\text{o1} = 0.7514$, $\text{o2} = 0.7729$",
        "",
    ]
)


def test_markdown_forward_is_todays_page_with_its_maths_as_maths():
    """Tables and steps as the old renderer wrote them; the input and output assignments now in $…$."""
    assert md(forward_document(classic())) == CLASSIC_FORWARD_MARKDOWN


def test_markdown_text_is_what_write_markdown_writes():
    document = backward_document(classic())
    assert markdown_text(document) == md(document)
    assert markdown_text(document, display_math=True) == md(document, display_math=True)


def test_markdown_backward_writes_its_steps_in_maths_not_code():
    text = md(backward_document(classic()))
    assert "`" not in text
    lines = text.splitlines()
    for line in [
        "## loss (half\\_sse)",
        r"- $L = \frac{1}{2} \cdot \sum (t - a)^{2} = "
        r"\frac{1}{2} \cdot ((0.01 - 0.7514)^{2} + (0.99 - 0.7729)^{2}) = 0.2984$",
        "### backward: layer 2 (output) · sigmoid",
        "| neuron | δ | ∂L/∂b | b | b′ |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| o1 | 0.1385 | 0.1385 | 0.60 | 0.5308 |",
        "| o2 | -0.0381 | -0.0381 | 0.60 | 0.6190 |",
        r"- $\delta_{\text{o1}} = (a_{\text{o1}} - t_{\text{o1}}) \cdot a_{\text{o1}} \cdot (1 - a_{\text{o1}}) = "
        r"(0.7514 - 0.01) \cdot 0.7514 \cdot (1 - 0.7514) = 0.1385$",
        "| w(h1→o2) | 0.50 | -0.0226 | 0.5113 |",
        r"- $\frac{\partial L}{\partial w_{\text{h1}\to\text{o1}}} = \delta_{\text{o1}} \cdot a_{\text{h1}} = "
        r"0.1385 \cdot 0.5933 = 0.0822$, $w' = 0.40 - 0.5 \cdot 0.0822 = 0.3589$",
        r"- $\frac{\partial L}{\partial b_{\text{o2}}} = \delta_{\text{o2}} = -0.0381$, "
        r"$b' = 0.60 - 0.5 \cdot (-0.0381) = 0.6190$",
        r"- $\delta_{\text{h1}} = (w_{\text{h1}\to\text{o1}} \cdot \delta_{\text{o1}} + w_{\text{h1}\to\text{o2}} "
        r"\cdot \delta_{\text{o2}}) \cdot a_{\text{h1}} \cdot (1 - a_{\text{h1}}) = (0.40 \cdot 0.1385 + 0.50 "
        r"\cdot (-0.0381)) \cdot 0.5933 \cdot (1 - 0.5933) = 0.0088$",
        r"- $\frac{\partial L}{\partial w_{\text{i2}\to\text{h1}}} = \delta_{\text{h1}} \cdot \text{i2} = "
        r"0.0088 \cdot 0.10 = 0.0009$, $w' = 0.20 - 0.5 \cdot 0.0009 = 0.1996$",
        "learning rate 0.5; loss before the step $0.2984$",
    ]:
        assert line in lines, line
    assert text.endswith("$0.2984$\n") and not text.endswith("\n\n")


def test_markdown_grade_page():
    text = md(grade_document())
    lines = text.splitlines()
    assert "## grading answers.yaml for input $\\text{i1} = 0.05$, $\\text{i2} = 0.10$" in lines
    assert lines.count("| neuron |  | yours | expected | mark |") == 2
    assert lines.count("| --- | --- | ---: | ---: | --- |") == 2
    assert "| o1 | a | 0.7153 | 0.7514 | **✗ wrong** |" in lines
    assert "| o2 | z | — | 1.2249 |  |" in lines
    assert lines.count("| h1 | z | 0.3775 | 0.3775 | **✓ right** |") == 1
    assert "**first wrong value:** a of o1 in layer 2 (output), at answers.yaml:4:24" in lines
    assert r"- $a = \sigma(1.1059) = \frac{1}{1 + e^{-1.1059}} = 0.7514$, not 0.7153" in lines
    assert "**likely:** σ was applied to a z other than 1.1059" in lines
    assert lines[-1] == "6 right, 1 wrong, 1 left out"


def test_markdown_display_math_writes_each_step_as_display_blocks():
    """For notebooks: $$…$$ blocks, the label as the subscript; an unlabelled step's chains in one block."""
    forward = md(forward_document(classic()), display_math=True)
    assert "\n\n$$z_{\\text{h1}} = 0.15 \\cdot 0.05 + 0.20 \\cdot 0.10 + 0.35 = 0.3775$$\n\n" in forward
    assert "\n\n$$a_{\\text{o2}} = \\sigma(1.2249) = \\frac{1}{1 + e^{-1.2249}} = 0.7729$$\n\n" in forward
    assert not [line for line in forward.splitlines() if line.startswith("- ")]
    backward = md(backward_document(classic()), display_math=True).splitlines()
    assert (
        r"$$\frac{\partial L}{\partial b_{\text{o1}}} = \delta_{\text{o1}} = 0.1385, \quad "
        r"b' = 0.60 - 0.5 \cdot 0.1385 = 0.5308$$" in backward
    )
    grade = md(grade_document(), display_math=True).splitlines()
    assert r"$$a = \sigma(1.1059) = \frac{1}{1 + e^{-1.1059}} = 0.7514\text{, not 0.7153}$$" in grade
    for lines in (forward.splitlines(), backward, grade):
        for k, line in enumerate(lines):
            if line.startswith("$$"):
                assert line.endswith("$$") and lines[k - 1] == "" and lines[k + 1] == "", line


# --- awkward names -----------------------------------------------------------------------------

AWKWARD_TITLE = "*bold* <b>net</b> | $x$ & 50% #1 ~ ^ \\ {} [a](b) http://x"
AWKWARD_INPUTS = ["h_1", "a&b"]
AWKWARD_NEURONS = ["50%", "x|y", "*bold*", "`tick`", "<i>", "$m$", "- item", "1. first", "{b}~^#\\", "a--b"]
AWKWARD_OUTPUTS = ["[link](http://x)", "e\x1b[31m"]


def awkward() -> Net:
    n = len(AWKWARD_NEURONS)
    return Net(
        AWKWARD_TITLE,
        AWKWARD_INPUTS,
        [
            (
                "layer 1 (x|y_layer) · sigmoid",
                AWKWARD_NEURONS,
                [[f"{k + 1}/10", f"-{k}/7"] for k in range(n)],
                ["0.1"] * n,
            ),
            ("layer 2 (out) · sigmoid", AWKWARD_OUTPUTS, [["0.5"] * n, ["-1"] * n], ["0"] * 2),
        ],
        [("h_1", "0.1"), ("a&b", "-0.2")],
        [0.3, 0.6],
    )


def test_awkward_weights_are_read_as_fractions():
    net = awkward()
    assert net.z[0][1] == pytest.approx(2 / 10 * 0.1 - 1 / 7 * -0.2 + 0.1)


def test_markdown_escapes_words_from_files():
    net = awkward()
    text = md(backward_document(net))
    lines = text.splitlines()
    assert lines[0] == r"# \*bold\* \<b\>net\</b\> \| \$x\$ \& 50% \#1 \~ ^ \\ {} \[a\](b) http\://x"
    assert f"| 50% | 0.11 | {four(sigma(0.11))} |" in lines  # z = 1/10 · 0.1 − 0/7 · (−0.2) + 0.1
    assert r"| x\|y |" in text and r"| \*bold\* |" in text and r"| \`tick\` |" in text and r"| \<i\> |" in text
    assert "| e␛\\[31m |" in text  # ESC shown as a picture, the [ escaped
    assert "\x1b" not in text
    assert r"- \- item: $z = " in text  # a name never opens a nested list
    assert r"- 1\. first: $z = " in text
    assert r"- \$m\$: $z = " in text
    # names inside maths: plain characters in \text{}, the rest as symbols or full-width forms
    assert r"$\text{h＿1} = 0.1$, $\text{a＆b} = -0.2$" in text
    assert r"\delta_{\text{x}\vert\text{y}}" in text
    assert r"\delta_{\ast\text{bold}\ast}" in text
    assert r"\delta_{\backprime\text{tick}\backprime}" in text
    assert r"\delta_{\lt\text{i}\gt}" in text
    assert r"\delta_{\text{＄m＄}}" in text
    assert r"\delta_{\lbrace\text{b}\rbrace\sim\hat{}\text{＃}\backslash}" in text
    assert r"w_{\lbrack\text{link}\rbrack\text{(http:}/\text{/x)}" not in text  # / needs no escape
    assert r"w_{\text{50％}\to\lbrack\text{link}\rbrack\text{(http://x)}}" in text
    assert r"\delta_{\text{e␛}\lbrack\text{31m}}" in text


def math_spans(line: str) -> list[str]:
    """The maths of a Markdown line: text between unescaped $ (or $$) signs."""
    parts = re.split(r"(?<!\\)\$\$?", line)
    assert len(parts) % 2 == 1, f"unbalanced $ in {line!r}"
    return parts[1::2]


def braces_balanced(text: str) -> bool:
    depth = 0
    for k, ch in enumerate(text):
        if text[k - 1 : k] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("display_math", [False, True])
def test_markdown_maths_is_safe_for_github(display_math):
    """GitHub's Markdown reads maths as text first: no backslash before punctuation (it would be
    removed), no _ but a subscript's, no *, |, backtick or raw $ inside, braces balanced."""
    text = md(backward_document(awkward()), display_math=display_math)
    spans = [span for line in text.splitlines() for span in math_spans(line)]
    assert len(spans) > 50
    for span in spans:
        assert not re.search(r"\\[!-/:-@\[-`{-~]", span), span
        assert not re.search(r"_[^{]", span), span
        assert not re.search(r"[|*`$<>]", span), span
        assert braces_balanced(span), span
        assert span == span.strip()


def test_markdown_parses_as_intended():
    """A CommonMark + GFM table parser finds the headings, tables, cells and list items, and no HTML or links."""
    markdown_it = pytest.importorskip("markdown_it")
    net = awkward()
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(md(backward_document(net)))
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "code_inline", "code_block"}
    headings = [t.tag for t in tokens if t.type == "heading_open"]
    assert headings == ["h1", "h2", "h3", "h3", "h2", "h3", "h3"]
    title = "".join(c.content for c in tokens[1].children if c.type == "text")
    assert title == AWKWARD_TITLE
    cells = [tokens[i + 1].children for i, t in enumerate(tokens) if t.type == "td_open"]
    first_column = ["".join(c.content for c in cell) for cell in cells[::3][: len(AWKWARD_NEURONS)]]
    assert first_column == AWKWARD_NEURONS
    assert sum(t.type == "table_open" for t in tokens) == 6
    assert sum(t.type == "bullet_list_open" for t in tokens) == 2 + 1 + 2 * 2  # never a nested one
    assert sum(t.type == "ordered_list_open" for t in tokens) == 0
    strong = [c for t in tokens for c in t.children or [] if c.type in ("strong_open", "em_open", "s_open")]
    assert len(strong) == 1  # only "**output:**"


def test_escape_markdown():
    assert escape_markdown("a_b *c* `d` <e> f|g") == r"a\_b \*c\* \`d\` \<e\> f\|g"
    assert escape_markdown("1. x", line_start=True) == r"1\. x"
    assert escape_markdown("- x", line_start=True) == r"\- x"
    assert escape_markdown("input: x") == "input: x"  # a colon only where it could start a link
    assert escape_markdown("see http://x") == r"see http\://x"
    assert escape_markdown("a\nb\x1b") == "a b␛"


# --- LaTeX ----------------------------------------------------------------------------------------

CLASSIC_FORWARD_ALIGNS = [
    r"""\begin{align*}
z_{\text{h1}} &= 0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775 \\
a_{\text{h1}} &= \sigma(0.3775) = \frac{1}{1 + e^{-0.3775}} = 0.5933 \\
z_{\text{h2}} &= 0.25 \cdot 0.05 + 0.30 \cdot 0.10 + 0.35 = 0.3925 \\
a_{\text{h2}} &= \sigma(0.3925) = \frac{1}{1 + e^{-0.3925}} = 0.5969
\end{align*}""",
    r"""\begin{align*}
z_{\text{o1}} &= 0.40 \cdot 0.5933 + 0.45 \cdot 0.5969 + 0.60 = 1.1059 \\
a_{\text{o1}} &= \sigma(1.1059) = \frac{1}{1 + e^{-1.1059}} = 0.7514 \\
z_{\text{o2}} &= 0.50 \cdot 0.5933 + 0.55 \cdot 0.5969 + 0.60 = 1.2249 \\
a_{\text{o2}} &= \sigma(1.2249) = \frac{1}{1 + e^{-1.2249}} = 0.7729
\end{align*}""",
]

CLASSIC_HIDDEN_TABLE = r"""\begin{center}
\begin{tabular}{lrr}
\hline
neuron & z & a \\
\hline
h1 & $0.3775$ & $0.5933$ \\
h2 & $0.3925$ & $0.5969$ \\
\hline
\end{tabular}
\end{center}"""


def align_blocks(text: str) -> list[str]:
    return re.findall(r"\\begin\{align\*\}\n.*?\n\\end\{align\*\}", text, flags=re.S)


def test_latex_forward_is_todays_page_with_its_tables():
    text = tex(forward_document(classic()))
    blocks = text.split("\n\n")
    assert blocks[:3] == [
        r"\section*{Classic 2-2-2 sigmoid network}",
        r"\subsection*{input: $\text{i1} = 0.05$, $\text{i2} = 0.10$}",
        r"\subsubsection*{layer 1 (hidden) $\cdot$ sigmoid}",
    ]
    assert blocks[3] == CLASSIC_HIDDEN_TABLE
    assert align_blocks(text) == CLASSIC_FORWARD_ALIGNS
    assert r"\subsubsection*{layer 2 (output) $\cdot$ sigmoid}" in blocks
    assert text.endswith("\n\n\\noindent \\textbf{output:} $\\text{o1} = 0.7514$, $\\text{o2} = 0.7729$\n")
    assert latex_source(forward_document(classic())) == text


def test_latex_writes_only_what_the_document_holds():
    """No steps in the document, no align*; no table, no tabular; an empty Steps writes nothing."""
    without_steps = tex(forward_document(classic(), steps=False))
    assert r"\begin{align*}" not in without_steps
    assert without_steps.count(r"\begin{tabular}") == 2
    only_steps = Document("", (*(b for b in forward_blocks(classic()) if isinstance(b, Steps)), Steps(())))
    text = tex(only_steps)
    assert r"\begin{tabular}" not in text and r"\section" not in text
    assert align_blocks(text) == CLASSIC_FORWARD_ALIGNS
    assert text == "\n\n".join(CLASSIC_FORWARD_ALIGNS) + "\n"


def test_latex_breaks_the_long_hidden_delta_before_its_numbers():
    text = tex(backward_document(classic()))
    assert (
        r"\delta_{\text{h1}} &= (w_{\text{h1}\to\text{o1}} \cdot \delta_{\text{o1}} + w_{\text{h1}\to\text{o2}} "
        r"\cdot \delta_{\text{o2}}) \cdot a_{\text{h1}} \cdot (1 - a_{\text{h1}}) \\" + "\n"
        r"&= (0.40 \cdot 0.1385 + 0.50 \cdot (-0.0381)) \cdot 0.5933 \cdot (1 - 0.5933) = 0.0088 \\" + "\n"
    ) in text
    # a gradient and its update on one row, or the update on the next, indented
    assert (
        r"\frac{\partial L}{\partial b_{\text{o2}}} &= \delta_{\text{o2}} = -0.0381, \quad "
        r"b' = 0.60 - 0.5 \cdot (-0.0381) = 0.6190" + "\n"
    ) in text
    assert (
        r"\frac{\partial L}{\partial w_{\text{h1}\to\text{o2}}} &= \delta_{\text{o2}} \cdot a_{\text{h1}} = "
        r"(-0.0381) \cdot 0.5933 = -0.0226, \\" + "\n" + r"&\quad w' = 0.50 - 0.5 \cdot (-0.0226) = 0.5113 \\"
    ) in text
    assert "\\subsection*{loss (half\\_sse)}" in text
    assert text.endswith("\n\n\\noindent learning rate 0.5; loss before the step $0.2984$\n")


def _rows_as_written(steps: Steps) -> list[str]:
    """Each align* row as LatexWriter writes its chains, with no break: labels as subscripts."""
    writer = LatexWriter()
    rows = []
    for step in steps.items:
        chains = [
            Chain((Name(c.parts[0].text, step.label, c.parts[0].mark), *c.parts[1:]), c.relations)
            if step.label is not None
            else c
            for c in step.chains
        ]
        written = [writer.chain(c) for c in chains]
        if step.label is not None:
            rows += written
        else:
            rows.append(r", \quad ".join(written))
    return rows


@pytest.mark.parametrize("make", [classic, wide], ids=["classic", "wide"])
def test_breaking_a_row_changes_nothing_but_its_lines(make):
    """Every row, its breaks removed, is the chain as LatexWriter writes it; every line fits the width."""
    document = backward_document(make())
    text = tex(document)
    steps = [b for b in document.blocks if isinstance(b, Steps)]
    blocks = align_blocks(text)
    assert len(blocks) == len(steps)
    broken = 0
    for block, step in zip(blocks, steps, strict=True):
        body = block.removeprefix("\\begin{align*}\n").removesuffix("\n\\end{align*}")
        rows = re.split(r" \\\\\n(?!&)", body)
        widest_left = max(math_width(row.split("&", 1)[0]) for row in rows)
        joined = []
        for row in rows:
            broken += row.count("\\\\\n")
            one = row.replace(", \\\\\n&\\quad ", ", \\quad ").replace(" \\\\\n&\\quad ", " ")
            one = one.replace(" \\\\\n&", " ").replace("&", "", 1)
            one = one.replace(r"\bigl(", r"\left(").replace(r"\bigr)", r"\right)")
            joined.append(one)
            for line in row.split(" \\\\\n"):
                assert widest_left + math_width(line.split("&", 1)[1]) <= ROW_WIDTH, line
        assert joined == _rows_as_written(step)
    assert broken > (20 if make is wide else 5)


def test_latex_grade_page():
    text = tex(grade_document())
    assert r"\subsection*{grading answers.yaml for input $\text{i1} = 0.05$, $\text{i2} = 0.10$}" in text
    assert text.count(r"\begin{tabular}{llrrl}") == 2
    assert "neuron &  & yours & expected & mark \\\\" in text
    assert r"o1 & a & $0.7153$ & $0.7514$ & \textbf{$\times$ wrong} \\" in text
    assert r"h1 & z & $0.3775$ & $0.3775$ & \textbf{$\checkmark$ right} \\" in text
    assert "o2 & z & — & $1.2249$ &  \\\\" in text
    assert r"\noindent \textbf{first wrong value:} a of o1 in layer 2 (output), at answers.yaml:4:24" in text
    assert align_blocks(text) == [
        "\\begin{align*}\n"
        r"a &= \sigma(1.1059) = \frac{1}{1 + e^{-1.1059}} = 0.7514\text{, not 0.7153}"
        "\n\\end{align*}"
    ]
    assert r"\noindent \textbf{likely:} $\sigma$ was applied to a z other than 1.1059" in text
    assert text.endswith("\\noindent 6 right, 1 wrong, 1 left out\n")


def test_standalone_is_a_whole_document():
    text = tex(forward_document(classic()), standalone=True)
    assert text.startswith("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n")
    assert "\\usepackage{amsmath}\n\\usepackage{amssymb}\n\\usepackage{longtable}" in text
    assert "\\allowdisplaybreaks\n" in text
    assert "\\setlength{\\emergencystretch}{3em}" in text
    assert "\n\\begin{document}\n" in text
    assert text.endswith("\n\\end{document}\n")
    assert text.count("\\begin{document}") == 1
    assert text.replace(text[: text.index("\\section*")], "").removesuffix("\n\\end{document}\n") == tex(
        forward_document(classic())
    )


@pytest.mark.parametrize(
    ("words", "written"),
    [
        ("h_1", r"h\_1"),
        ("50%", r"50\%"),
        ("a&b", r"a\&b"),
        ("x|y", r"x\textbar{}y"),
        ("*bold*", "*bold*"),
        ("$m$ #1 {b}", r"\$m\$ \#1 \{b\}"),
        ("~^\\", r"\textasciitilde{}\textasciicircum{}\textbackslash{}"),
        ("<i>", r"\textless{}i\textgreater{}"),
        ("a--b", "a-{}-b"),
        ("e\x1b[31m", r"e\texttt{<ESC>}[31m"),
        ("bell\x07", r"bell\texttt{<BEL>}"),
        ("a\nb", r"a\texttt{<LF>}b"),
        ("\u202eevil", r"\textless{}U+202E\textgreater{}evil"),
        ("layer 1 · sigmoid", r"layer 1 $\cdot$ sigmoid"),
        ("w(h1→o1)", r"w(h1$\to$o1)"),
        ("✓ right ✗ wrong", r"$\checkmark$ right $\times$ wrong"),
        ("≈ σ δ ∂L/∂b b′ 1 − a", r"$\approx$ $\sigma$ $\delta$ $\partial$L/$\partial$b b$'$ 1 $-$ a"),
        ("Жук", r"\texttt{U+0416}\texttt{U+0443}\texttt{U+043A}"),
        ("café — “q”", "café — “q”"),
    ],
)
def test_escape_latex(words, written):
    assert escape_latex(words) == written


def test_latex_names_in_formulas_are_escaped():
    """Every name from a file is text inside the maths, escaped; even a one-character one."""
    writer = DocumentLatexWriter()
    assert writer.write(Name("%")) == r"\text{\%}"
    assert writer.write(Name("&")) == r"\text{\&}"
    assert writer.write(Name("x")) == "x"
    assert writer.write(Name("δ", "h_1")) == r"\delta_{\text{h\_1}}"
    assert writer.write(Name("a", "%")) == r"a_{\text{\%}}"
    assert writer.write(Name("a", "2")) == "a_{2}"
    assert writer.write(Edge("w", "a&b", "c|d")) == r"w_{\text{a\&b}\to\text{c\textbar{}d}}"
    assert writer.write(Name("e\x1b]0;x\x07")) == r"\text{e\texttt{<ESC>}]0;x\texttt{<BEL>}}"
    assert writer.write(Call("softplus", (Num(0.5),))) == r"\operatorname{softplus}(0.5)"
    assert writer.write(Call("Φ", (Num(0.5),))) == r"\Phi(0.5)"


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (Num(1 / 3, "1/3"), r"\tfrac{1}{3}"),
        (Num(-0.25, "-1/4"), r"-\tfrac{1}{4}"),
        (Num(0.002, "2e-3"), r"2 \times 10^{-3}"),
        (Num(1.5e-05), r"1.5 \times 10^{-5}"),
        (Num(0.5, "+0.5"), "0.5"),
        (Num(math.inf), r"\infty"),
        (Num(-math.inf), r"-\infty"),
        (Num(math.nan), r"\mathrm{NaN}"),
        (Num(0.60, "0.60"), "0.60"),
    ],
)
def test_numbers_in_latex(number, written):
    assert DocumentLatexWriter().write(number) == written


def test_a_table_cell_number_is_in_maths_with_its_written_text():
    table = Table((Column(("w",)),), ((Num(0.6, "0.60"),), (Num(-0.038098),), (Num(1.5e-05),)))
    text = tex(Document("", (table,)))
    assert "$0.60$ \\\\\n$-0.0381$ \\\\\n$1.5 \\times 10^{-5}$ \\\\" in text
    assert "| 0.60 |\n| -0.0381 |\n| 1.5e-05 |" in md(Document("", (table,)))


def test_latex_escapes_words_from_files():
    text = tex(backward_document(awkward()))
    assert text.startswith(
        r"\section*{*bold* \textless{}b\textgreater{}net\textless{}/b\textgreater{} \textbar{} \$x\$ \& 50\% \#1 "
        r"\textasciitilde{} \textasciicircum{} \textbackslash{} \{\} [a](b) http://x}"
    )
    assert r"\subsection*{input: $\text{h\_1} = 0.1$, $\text{a\&b} = -0.2$}" in text
    assert r"x\textbar{}y & $" in text  # a table cell
    assert r"\delta_{\text{x\textbar{}y}}" in text
    assert r"z_{\text{50\%}} &= " in text
    assert r"\delta_{\text{e\texttt{<ESC>}[31m}}" in text
    assert "\x1b" not in text


# --- any text at all ------------------------------------------------------------------------------

_LATEX_SNIPPET = re.compile(r"\$[^$]*\$|\\texttt\{[^{}]*\}|\\[A-Za-z]+(?:\{\})?|\\[#$%&_{}]")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_latex_text_leaves_nothing_for_latex_to_obey(words):
    """Whatever a name holds, LaTeX sees escapes, commands and characters it typesets as themselves."""
    left = _LATEX_SNIPPET.sub("", escape_latex(words)).replace("{}", "")
    assert not set(left) & set("\\{}$&%#_^~"), left
    for ch in left:
        code = ord(ch)
        assert 0x20 <= code < 0x7F or 0xA0 <= code <= 0x17F or ch in "–—‘’“”†‡•…‰‹›€™№℃", repr(ch)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_a_name_in_markdown_maths_leaves_nothing_for_markdown_to_act_on(words):
    written = MarkdownMathWriter().name_text(words)
    assert not re.search(r"\\[!-/:-@\[-`{-~]", written), written
    assert not set(written) & set("|*`$_<>#%&@\n\r\x1b"), written
    assert braces_balanced(written)
    assert re.fullmatch(r"(?:\\text\{[^{}\\]*\}|\\[a-z]+(?:\{\})?)+", written), written


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_markdown_keeps_every_special_character_escaped(words):
    written = escape_markdown(words)
    assert "\n" not in written and "\x1b" not in written
    assert not re.search(r"(?<!\\)(?:\\\\)*[|*_`<>\[\]$]", written.replace("\\\\", "")), written


# --- pdflatex -------------------------------------------------------------------------------------

needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None or PDFTOTEXT is None,
    reason="pdflatex or pdftotext is not installed (apt-get install texlive-latex-base poppler-utils)",
)


def compile_pdf(folder: Path, source: str) -> tuple[str, str]:
    """Compile ``source`` with pdflatex; return its log and the PDF's text (pdftotext)."""
    path = folder / "doc.tex"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", path.name],
        cwd=folder,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
    )
    errors = "\n".join(line for line in done.stdout.splitlines() if line.startswith("!"))
    assert done.returncode == 0, errors or done.stdout[-3000:]
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    pdf = subprocess.run([PDFTOTEXT, "doc.pdf", "-"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert pdf.returncode == 0, pdf.stderr
    return log, pdf.stdout


def shown_numbers(document: Document) -> set[str]:
    """Every number the document shows, as shown (with an ASCII minus); not fractions (1/7), set as ¹⁄₇."""
    writer = DocumentLatexWriter(document.precision)
    found: set[str] = set()

    def walk(item) -> None:
        if isinstance(item, Num):
            if "/" not in writer.shown(item):
                found.add(writer.shown(item))
        elif isinstance(item, (tuple, list)):
            for part in item:
                walk(part)
        elif hasattr(type(item), "_fields"):
            for field in type(item)._fields:
                walk(getattr(item, field))

    walk(document.blocks)
    return found


COMPILED = {
    "forward": lambda: forward_document(classic()),
    "backward": lambda: backward_document(classic()),
    "backward-wide": lambda: backward_document(wide()),
    "grade": grade_document,
    "awkward": lambda: backward_document(awkward()),
}


@needs_pdflatex
@pytest.mark.parametrize("name", list(COMPILED))
def test_standalone_document_compiles_within_the_margins(tmp_path, name):
    """pdflatex compiles it, nothing runs into the margin, and the PDF holds every value."""
    document = COMPILED[name]()
    log, words = compile_pdf(tmp_path, tex(document, standalone=True))
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*\n.*", log)
    words = words.replace("−", "-")
    numbers = shown_numbers(document)
    assert len(numbers) > 10
    missing = sorted(n for n in numbers if n not in words)
    assert not missing, missing


@needs_pdflatex
def test_words_from_files_read_back_from_the_pdf(tmp_path):
    _, words = compile_pdf(tmp_path, tex(backward_document(awkward()), standalone=True))
    for name in ["h_1", "a&b", "50%", "x|y", "*bold*", "<i>", "$m$", "a--b", "e<ESC>[31m", "{b}", "[link](http://x)"]:
        assert name in words, name
    assert "layer 1 (x|y_layer) · sigmoid" in words


@needs_pdflatex
def test_grade_marks_read_back_from_the_pdf(tmp_path):
    _, words = compile_pdf(tmp_path, tex(grade_document(), standalone=True))
    assert words.count("✓ right") == 6 and words.count("× wrong") == 1
    # ("fi" is one glyph that pdftotext may not read back from bitmap fonts)
    assert "wrong value: a of o1 in layer 2 (output), at answers.yaml:4:24" in words


@needs_pdflatex
def test_fragment_compiles_in_a_plain_amsmath_document(tmp_path):
    """A fragment needs only amsmath (amssymb too where it shows ✓), even in the default OT1 encoding."""
    for document, packages in ((backward_document(awkward()), "amsmath"), (grade_document(), "amsmath,amssymb")):
        preamble = f"\\documentclass{{article}}\n\\usepackage{{{packages}}}\n\\begin{{document}}\n"
        source = preamble + tex(document) + "\\end{document}\n"
        compile_pdf(tmp_path, source)


@needs_pdflatex
def test_a_line_too_wide_is_detected(tmp_path):
    """The margin check can fail: a fraction cannot be broken, so a very long one runs into the margin."""
    terms = tuple(Product((Num(0.125 * k, f"{0.125 * k:g}"), Num(0.3125))) for k in range(1, 13))
    long = Chain((Name("z"), Frac(Sum(terms), Num(2.0)), Num(1.0)), ("=", "="))
    log, _ = compile_pdf(tmp_path, tex(Document("", (Steps((Step((long,)),)),)), standalone=True))
    assert "Overfull \\hbox" in log


def _tall_sum_chain() -> Chain:
    """δ = (a sum of eight fractions) · 0.25 ≈ 0.9: a sum in \\left( \\right) too long for one line."""
    fractions = tuple(Frac(Product((Num(0.125 * k, f"{0.125 * k:g}"), Num(0.3125))), Num(1.0 + k)) for k in range(1, 9))
    return Chain((Name("δ", "h1"), Product((Sum(fractions), Num(0.25))), Num(0.9)), ("=", "≈"))


def test_a_bracket_around_a_broken_sum_becomes_bigl_bigr():
    """\\left( … \\right) cannot span rows of an align*: a broken sum's brackets are \\bigl( … \\bigr)."""
    (block,) = align_blocks(tex(Document("", (Steps((Step((_tall_sum_chain(),)),)),))))
    assert block.count(" \\\\\n&\\quad + ") >= 1
    assert block.count(r"\bigl(") == 1 and block.count(r"\bigr)") == 1
    assert r"\left(" not in block and r"\right)" not in block
    assert r"\bigr) \cdot 0.25" in block and block.endswith("\\approx 0.9\n\\end{align*}")
    unbroken = tex(Document("", (Steps((Step((Chain((Name("δ"), Frac(Num(1.0), Num(2.0))), ("=",)),)),)),)))
    assert r"\delta &= \frac{1}{2}" in unbroken  # a short one is left alone


def test_odd_steps_are_written_too():
    """A label where the left-hand side is no plain name is written before it; a lone formula has no relation."""
    lone = Step((Chain((Name("x"),), ()),))
    derivative = Step(
        (Chain((Derivative(Name("L"), Name("a")), Num(0.5)), ("=",)),), label="o1", after=(", ", Styled("check"))
    )
    document = Document("", (Heading(1, ("",)), Steps((lone, derivative))))
    text = tex(document)
    assert r"\section" not in text  # an empty title writes no heading
    assert align_blocks(text) == [
        "\\begin{align*}\n&x \\\\\n"
        r"\text{o1:}\ \frac{\partial L}{\partial a} &= 0.5\text{, }\text{check}"
        "\n\\end{align*}"
    ]
    markdown = md(document)
    assert markdown == "- $x$\n- o1: $\\frac{\\partial L}{\\partial a} = 0.5$, **check**\n"
    assert md(document, display_math=True) == (
        "$$x$$\n\n$$\\text{o1:}\\ \\frac{\\partial L}{\\partial a} = 0.5\\text{, }\\text{check}$$\n"
    )


@needs_pdflatex
def test_a_broken_tall_sum_compiles_within_the_margins(tmp_path):
    document = Document("", (Steps((Step((_tall_sum_chain(),)),)),))
    log, words = compile_pdf(tmp_path, tex(document, standalone=True))
    assert "Overfull \\hbox" not in log
    assert "0.9" in words and "0.625" in words


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_primed_name_squared_compiles(tmp_path):
    """v′² in LaTeX: v' is already v^{\\prime}, so the square needs the name braced ({v'}^{2});
    written v'^{2} pdflatex stops with 'Double superscript'."""
    from nncalc.notation.formula import LatexWriter
    from tests.test_latex_backward import compile_pdf

    squared = Power(Name("v", "1", mark="prime"), Num(2.0))
    assert LatexWriter(4).write(squared) == "{v'_{1}}^{2}"
    chain = Chain((squared, Power(Num(0.5), Num(2.0)), Num(0.25)), ("=", "="))
    document = Document("", (Steps((Step((chain,)),)),), 4)
    compile_pdf(tmp_path, latex_source(document, True))


def test_a_table_too_wide_for_the_page_is_set_with_narrower_gaps_then_smaller_type():
    """Three columns of numbers written with × 10⁻⁶ are left alone; four get 2 pt gaps; from five,
    smaller type too, the smaller the wider, and past that the table is scaled to the line (each
    compiled within the page below)."""

    def wide(columns: int) -> str:
        titles = tuple(Column((f"c{k}",)) for k in range(columns))
        return tex(Document("", (Table(titles, (tuple(Num(3.374e-6 * (k + 1)) for k in range(columns)),)),), 4))

    assert "tabcolsep" not in wide(3)
    assert "\\begin{center}\\setlength{\\tabcolsep}{2pt}\n" in wide(4)
    sizes = ["\\small", "\\footnotesize", "\\scriptsize", "\\resizebox{\\linewidth}"]  # then scaled to the line
    chosen = [next(k for k, size in enumerate(sizes) if size in wide(n)) for n in (5, 6, 7, 12)]
    assert chosen == sorted(chosen) and chosen[0] < chosen[-1]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("columns", [3, 4, 5, 6, 7, 9])
def test_a_narrowed_table_fits_the_page(tmp_path, columns):
    from tests.test_latex_backward import compile_pdf

    titles = (Column(("weight",), numeric=False), *(Column((f"m{k}′",)) for k in range(columns)))
    row = ("w(h1→o1)", *(Num(-3.374e-6 * (k + 1)) for k in range(columns)))
    compile_pdf(tmp_path, latex_source(Document("", (Table(titles, (row,)),), 4), True))


@pytest.mark.parametrize(
    ("text", "latex"),
    [("m\u0302 of w", r"\^{m} of w"), ("v\u0302", r"\^{v}"), ("x\u0304", r"\={x}"), ("\u0302", r"\texttt{U+0302}")],
)
def test_a_combining_accent_sits_on_its_letter(text, latex):
    """m̂ (Adam's corrected mean) is m and a combining circumflex: LaTeX's text mode writes it \\^{m}."""
    assert escape_latex(text) == latex


@needs_pdflatex
def test_the_hatted_letters_of_an_optimizer_step_typeset(tmp_path):
    """A grade page of an Adam step names m̂ and v̂ in its tables and notes: they compile as
    accented letters, not as code points."""
    result = subprocess.run(
        [
            sys.executable, "-m", "nncalc", "grade", "configs/classic-2-2-2.yaml", "-i", "0.05,0.10",
            "-t", "0.01,0.99", "--optimizer", "adam", "--lr", "0.1", "-a", "configs/answers-adam-step.yaml",
            "-f", "latex", "--standalone",
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1 and "U+0302" not in result.stdout and r"\^{m} of w" in result.stdout
    _, text = compile_pdf(tmp_path, result.stdout)
    assert "U+0302" not in text
