"""The forward page in Markdown and LaTeX (the worked-solution model, written by those notations):
structure, the hand-worked numbers, escaping, and real pdflatex runs that keep within the margins.

Expected numbers are worked by hand or with the math module, never taken from nncalc's output.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from nncalc.engine import forward
from nncalc.expr import Num
from nncalc.inputs import samples_from_options
from nncalc.loader import load_network, parse_network
from nncalc.network import Network
from nncalc.notation import write_document
from nncalc.notation.latex import DocumentLatexWriter, escape_latex
from nncalc.notation.markdown import escape_markdown
from nncalc.worked import View
from nncalc.worked.forward import forward_document
from tests.conftest import CONFIGS, NETWORK_CONFIGS

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def four(value: float) -> str:
    return f"{value:.4f}"


def run(network: Network, *inputs: str):
    """Forward pass of ``--input`` texts, keeping the texts as written."""
    samples = samples_from_options(list(inputs), network.inputs)
    return forward(network, samples.values), samples.texts


def page(fmt: str, network: Network, *inputs: str, steps: bool = True, standalone: bool = False, trace=None) -> str:
    """The forward page of ``--input`` texts in ``fmt``, as the command line writes it (``trace``: one given)."""
    computed, texts = run(network, *inputs)
    document = forward_document(network, trace or computed, texts, View(4, steps))
    out = io.StringIO()
    write_document(document, fmt, out, standalone)
    return out.getvalue()


def markdown(network: Network, *inputs: str, **options) -> str:
    return page("markdown", network, *inputs, **options)


def latex(network: Network, *inputs: str, **options) -> str:
    return page("latex", network, *inputs, **options)


def chain() -> Network:
    return load_network(CONFIGS / "course-chain.yaml")


def classic() -> Network:
    return load_network(CONFIGS / "classic-2-2-2.yaml")


# --- independent expectations -------------------------------------------------------------

A1 = sigma(0.15 * 0.1 + 0.4)  # course lab: σ(0.415)
Z2 = 0.45 * A1 + 0.65
H = [sigma(0.15 * 0.05 + 0.20 * 0.10 + 0.35), sigma(0.25 * 0.05 + 0.30 * 0.10 + 0.35)]
OUT = [sigma(0.40 * H[0] + 0.45 * H[1] + 0.60), sigma(0.50 * H[0] + 0.55 * H[1] + 0.60)]


def test_independent_expectations_are_the_published_ones():
    """The math-module values agree with the course lab and the classic worked example."""
    assert four(A1) == "0.6023"
    assert four(Z2) == "0.9210"
    assert four(sigma(Z2)) == "0.7153"
    assert four(sigma(0.9210)) == "0.7152"  # so σ of the shown z is written ≈ 0.7153
    assert [four(v) for v in H] == ["0.5933", "0.5969"]
    assert [four(v) for v in OUT] == ["0.7514", "0.7729"]


# --- helpers for reading the documents back ------------------------------------------------


def md_tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table as rows of cells (header and delimiter rows included), split on unescaped |."""
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            assert cells[0] == "" and cells[-1] == "", line
            current.append([c.strip() for c in cells[1:-1]])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def math_spans(line: str) -> list[str]:
    """The inline math of a Markdown line: text between unescaped $ signs."""
    parts = re.split(r"(?<!\\)\$", line)
    assert len(parts) % 2 == 1, f"unbalanced $ in {line!r}"
    return parts[1::2]


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


def tex_dollars_balanced(text: str) -> bool:
    return all(len(re.findall(r"(?<!\\)\$", line)) % 2 == 0 for line in text.splitlines())


# --- Markdown: structure and numbers --------------------------------------------------------


def test_markdown_course_chain_structure_and_numbers():
    text = markdown(chain(), "0.1")
    lines = text.splitlines()
    assert lines[0] == "# Course lab, two neurons in a chain"
    assert [ln for ln in lines if ln.startswith("## ")] == [r"## **input:** $\text{x1} = 0.1$"]
    assert [ln for ln in lines if ln.startswith("### ")] == [
        "### layer 1 (hidden) · sigmoid",
        "### layer 2 (output) · sigmoid",
    ]
    tables = md_tables(text)
    assert len(tables) == 2
    header, delimiter, *rows = tables[0]
    assert header == ["neuron", "z", "a"]
    assert all(set(cell) <= set("-: ") for cell in delimiter)
    assert rows == [["h1", "0.415", four(A1)]]
    assert tables[1][2:] == [["o1", four(Z2), four(sigma(Z2))]]
    steps = [ln for ln in lines if ln.startswith("- ")]
    assert len(steps) == 2
    assert steps[0].startswith("- h1: $")
    z_math, a_math = math_spans(steps[0])
    assert z_math == r"z = 0.15 \cdot 0.1 + 0.4 = 0.415"
    assert a_math.startswith(r"a = \sigma(0.415) = ")
    assert a_math.endswith("= 0.6023")
    assert r"e^{-0.415}" in a_math
    z_math, a_math = math_spans(steps[1])
    assert z_math == rf"z = 0.45 \cdot {four(A1)} + 0.65 = {four(Z2)}"
    assert a_math.endswith(rf"\approx {four(sigma(Z2))}")  # σ(0.9210) is 0.7152
    assert lines[-1] == rf"**output:** $\text{{o1}} = {four(sigma(Z2))}$"


def test_markdown_classic_network_values():
    text = markdown(classic(), "0.05,0.10")
    tables = md_tables(text)
    assert len(tables) == 2
    assert [row[0] for row in tables[0][2:]] == ["h1", "h2"]
    assert [row[2] for row in tables[0][2:]] == ["0.5933", "0.5969"]
    assert [row[2] for row in tables[1][2:]] == ["0.7514", "0.7729"]
    assert [row[2] for row in tables[1][2:]] == [four(v) for v in OUT]
    assert r"## **input:** $\text{i1} = 0.05$, $\text{i2} = 0.10$" in text  # the inputs as written, 0.10 not 0.1
    assert r"$z = 0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775$" in text
    assert r"$z = 0.25 \cdot 0.05 + 0.30 \cdot 0.10 + 0.35 = 0.3925$" in text
    assert r"$z = 0.40 \cdot 0.5933 + 0.45 \cdot 0.5969 + 0.60 = " in text
    for value in ("0.5933", "0.5969", "0.7514", "0.7729"):
        assert rf"= {value}$" in text, value
    assert text.rstrip().endswith(r"**output:** $\text{o1} = 0.7514$, $\text{o2} = 0.7729$")


def test_markdown_one_heading_per_sample_and_layer():
    text = markdown(classic(), "0.05,0.10", "1,0", "0,1")
    lines = text.splitlines()
    assert [ln for ln in lines if ln.startswith("## ")] == [
        r"## **sample 1 of 3:** $\text{i1} = 0.05$, $\text{i2} = 0.10$",
        r"## **sample 2 of 3:** $\text{i1} = 1$, $\text{i2} = 0$",
        r"## **sample 3 of 3:** $\text{i1} = 0$, $\text{i2} = 1$",
    ]
    assert sum(ln.startswith("### ") for ln in lines) == 6
    assert len(md_tables(text)) == 6
    assert sum(ln.startswith("**output:**") for ln in lines) == 3
    h1 = sigma(0.15 * 1 + 0.35)  # sample 2: i1 = 1, i2 = 0
    assert r"$z = 0.15 \cdot 1 + 0.20 \cdot 0 + 0.35 = 0.5$, $a = \sigma(0.5)" in text
    assert f"| h1 | 0.5 | {four(h1)} |" in lines


def test_markdown_without_steps_keeps_tables_only():
    text = markdown(classic(), "0.05,0.10", steps=False)
    assert not [line for line in text.splitlines() if line.startswith("- ")]  # no neuron's derivation
    assert "z = " not in text and "a = " not in text and r"\sigma" not in text
    assert len(md_tables(text)) == 2
    assert "0.7514" in text


def test_markdown_negative_inputs_are_parenthesised_and_minus_is_a_hyphen():
    """keras-kernel: h1 = 0.2·1 + 0.1·2 − 0.3·3 + 0.1 = −0.4, leaky (0.3) → −0.12; cat = 1.0·(−0.12) − 1.0·0.95 + 0."""
    text = markdown(load_network(CONFIGS / "keras-kernel.yaml"), "1,2,3")
    assert r"$z = 0.2 \cdot 1 + 0.1 \cdot 2 - 0.3 \cdot 3 + 0.1 = -0.4$" in text
    assert r"$z = 1.0 \cdot (-0.12) - 1.0 \cdot 0.95 + 0 = -1.07$" in text
    assert r"$z = -\tfrac{1}{2} \cdot (-0.12) + \tfrac{3}{4} \cdot 0.95 - 0.1 = 0.6725$" in text
    zs = [-1.07, 0.515, -0.5 * -0.12 + 0.75 * 0.95 - 0.1]
    total = sum(math.exp(v) for v in zs)
    assert f"= {four(math.exp(zs[0]) / total)}$" in text
    assert "−" not in text and "×" not in text


def test_markdown_math_is_safe_for_github():
    """No backslash before punctuation in the math (GitHub's Markdown would eat it), no | in a table's math."""
    net = parse_network(
        "inputs: 2\nlayers:\n"
        + "".join(f"  - {{neurons: 2, weights: [[0.5, -1/3], [2, -0.25]], activation: {a}}}\n" for a in ACTIVATIONS)
    )
    text = markdown(net, "0.1,-0.2")
    spans = [span for line in text.splitlines() for span in math_spans(line)]
    assert len(spans) == 2 * 2 * len(ACTIVATIONS) + 2 + 2  # z and a of each neuron; the inputs and the outputs
    for span in spans:
        assert not re.search(r"\\[!-/:-@\[-`{-~]", span), span
        assert not re.search(r"_[^{]", span), span  # subscripts braced: _ never opens emphasis
        assert braces_balanced(span), span
        assert span == span.strip() and "\n" not in span
    for table in md_tables(text):
        assert all(len(row) == 3 for row in table)


def test_markdown_parses_as_intended():
    """A real CommonMark + GFM table parser finds the headings, tables and cells, and no HTML or links."""
    markdown_it = pytest.importorskip("markdown_it")
    text = markdown(awkward(), "0.1,-0.2")
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "code_inline"}
    assert sum(t.type == "table_open" for t in tokens) == 2
    headings = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert [tag for tag, _ in headings] == ["h1", "h2", "h3", "h3"]
    h1_text = "".join(c.content for c in tokens[1].children if c.type == "text")
    assert h1_text == AWKWARD_TITLE
    cells = [tokens[i + 1].children for i, t in enumerate(tokens) if t.type == "td_open"]
    first_column = ["".join(c.content for c in cell) for cell in cells[::3]]
    assert first_column == [*AWKWARD_NEURONS, *AWKWARD_OUTPUTS]
    items = [i for i, t in enumerate(tokens) if t.type == "list_item_open"]
    assert len(items) == len(AWKWARD_NEURONS) + len(AWKWARD_OUTPUTS)
    assert sum(t.type == "bullet_list_open" for t in tokens) == 2  # a name never opens a nested list
    assert sum(t.type == "ordered_list_open" for t in tokens) == 0
    strong = [c for t in tokens for c in t.children or [] if c.type in ("strong_open", "em_open", "s_open")]
    assert len(strong) == 2  # only the leads "**input:**" and "**output:**"


# --- awkward names --------------------------------------------------------------------------

AWKWARD_TITLE = "*bold* <b>net</b> | $x$ & 50% #1 ~ ^ \\ {} [a](b)"
AWKWARD_INPUTS = ["h_1", "a&b"]
AWKWARD_NEURONS = ["50%", "x|y", "*bold*", "`tick`", "<i>", "$m$", "- item", "1. first", "{b}~^#\\", "a--b"]
AWKWARD_OUTPUTS = ["[link](http://x)", "_u_"]


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def awkward(neurons: list[str] = AWKWARD_NEURONS, title: str = AWKWARD_TITLE) -> Network:
    n = len(neurons)
    rows = ", ".join(f"[{k + 1}/10, -{k}/7]" for k in range(n))
    return parse_network(
        f"name: {_yaml_str(title)}\n"
        f"inputs: [{', '.join(map(_yaml_str, AWKWARD_INPUTS))}]\n"
        "layers:\n"
        f"  - name: {_yaml_str('x|y_layer')}\n"
        f"    neurons: [{', '.join(map(_yaml_str, neurons))}]\n"
        f"    weights: [{rows}]\n"
        "    biases: 0.1\n"
        "    activation: tanh\n"
        "  - name: out\n"
        f"    neurons: [{', '.join(map(_yaml_str, AWKWARD_OUTPUTS))}]\n"
        f"    weights: [[{', '.join(['0.5'] * n)}], [{', '.join(['-1'] * n)}]]\n"
    )


@pytest.mark.parametrize(
    "name, escaped",
    [
        ("h_1", r"h\_1"),
        ("a&b", r"a\&b"),
        ("50%", "50%"),
        ("x|y", r"x\|y"),
        ("*bold*", r"\*bold\*"),
        ("`tick`", r"\`tick\`"),
        ("<b>", r"\<b\>"),
        ("$x$", r"\$x\$"),
        ("[a](b)", r"\[a\](b)"),
        ("a\\b", r"a\\b"),
        ("#1 ~x~", r"\#1 \~x\~"),
        ("two\nlines", "two lines"),
    ],
)
def test_escape_markdown(name, escaped):
    assert escape_markdown(name) == escaped


@pytest.mark.parametrize(
    "name, escaped", [("- a", r"\- a"), ("+ a", r"\+ a"), ("12. a", r"12\. a"), ("1) a", r"1\) a")]
)
def test_escape_markdown_at_line_start(name, escaped):
    assert escape_markdown(name, line_start=True) == escaped
    assert escape_markdown(name) == name


def test_markdown_names_cannot_break_the_document():
    text = markdown(awkward(), "0.1,-0.2")
    lines = text.splitlines()
    assert lines[0] == r"# \*bold\* \<b\>net\</b\> \| \$x\$ \& 50% \#1 \~ ^ \\ {} \[a\](b)"
    # in maths a name's _ and & are the full-width ＿ and ＆, which no Markdown reads as emphasis or an entity
    assert r"## **input:** $\text{h＿1} = 0.1$, $\text{a＆b} = -0.2$" in lines
    assert r"### layer 1 (x\|y\_layer) · tanh" in lines
    tables = md_tables(text)
    assert [len(row) for table in tables for row in table] == [3] * (2 + len(AWKWARD_NEURONS) + 2 + 2)
    assert [row[0] for row in tables[0][2:]] == [escape_markdown(n) for n in AWKWARD_NEURONS]
    for line in lines:
        if line.startswith("- "):
            assert len(math_spans(line)) == 2, line
    assert r"- \- item: $" in text
    assert r"- 1\. first: $" in text
    assert "<b>" not in text.replace(r"\<b\>", "")


# --- LaTeX: structure and numbers -----------------------------------------------------------


def test_latex_course_chain():
    text = latex(chain(), "0.1")
    blocks = align_blocks(text)
    assert len(blocks) == 2
    assert blocks[0] == [
        r"z_{\text{h1}} &= 0.15 \cdot 0.1 + 0.4 = 0.415 \\",
        r"a_{\text{h1}} &= \sigma(0.415) = \frac{1}{1 + e^{-0.415}} = 0.6023",
    ]
    assert blocks[1][0] == rf"z_{{\text{{o1}}}} &= 0.45 \cdot {four(A1)} + 0.65 = {four(Z2)} \\"
    assert blocks[1][1].startswith(rf"a_{{\text{{o1}}}} &= \sigma({four(Z2)}) = ")
    assert blocks[1][1].endswith(rf"\approx {four(sigma(Z2))}")  # σ(0.9210) is 0.7152
    assert r"\section*{Course lab, two neurons in a chain}" in text
    assert r"\subsection*{\textbf{input:} $\text{x1} = 0.1$}" in text
    assert text.count(r"\subsubsection*{") == 2
    assert r"\subsubsection*{layer 1 (hidden) $\cdot$ sigmoid}" in text
    assert rf"\textbf{{output:}} $\text{{o1}} = {four(sigma(Z2))}$" in text
    assert r"\documentclass" not in text and r"\begin{document}" not in text
    assert braces_balanced(text) and tex_dollars_balanced(text)


def test_latex_classic_network_one_line_pair_per_neuron():
    text = latex(classic(), "0.05,0.10", "1,0")
    blocks = align_blocks(text)
    assert len(blocks) == 4  # 2 samples × 2 layers
    for block, neurons in zip(blocks, [("h1", "h2"), ("o1", "o2")] * 2, strict=True):
        assert len(block) == 2 * len(neurons)
        for k, neuron in enumerate(neurons):
            assert block[2 * k].startswith(rf"z_{{\text{{{neuron}}}}} &= ")
            assert block[2 * k + 1].startswith(rf"a_{{\text{{{neuron}}}}} &= \sigma(")
        assert all(line.endswith(r" \\") for line in block[:-1])
        assert not block[-1].endswith("\\")
    first = "\n".join(blocks[0] + blocks[1])
    assert r"0.15 \cdot 0.05 + 0.20 \cdot 0.10 + 0.35 = 0.3775" in first
    for value in ("0.5933", "0.5969", "0.7514", "0.7729"):
        assert first.count(f"= {value}") >= 1, value
    for value in OUT:
        assert rf"= {four(value)} \\" in first or first.endswith(f"= {four(value)}")
    assert text.count(r"\subsection*{\textbf{sample ") == 2
    assert braces_balanced(text) and tex_dollars_balanced(text)


def test_latex_standalone_document_frame():
    text = latex(chain(), "0.1", standalone=True)
    assert text.startswith(r"\documentclass{article}")
    assert r"\usepackage{amsmath}" in text
    assert r"\usepackage[utf8]{inputenc}" in text and r"\usepackage[T1]{fontenc}" in text
    assert text.count(r"\begin{document}") == 1
    assert text.rstrip().endswith(r"\end{document}")
    assert text.index(r"\usepackage{amsmath}") < text.index(r"\begin{document}") < text.index(r"\begin{align*}")
    assert braces_balanced(text)


@pytest.mark.parametrize(
    "text, written",
    [
        ("0.15", "0.15"),
        ("-0.5", "-0.5"),
        ("+0.5", "0.5"),
        ("-.5", "-.5"),
        ("1/3", r"\tfrac{1}{3}"),
        ("-1/2", r"-\tfrac{1}{2}"),
        ("1.5e-3", r"1.5 \times 10^{-3}"),
        ("1.000e+15", r"1.000 \times 10^{15}"),
        ("inf", r"\infty"),
        ("-inf", r"-\infty"),
        ("nan", r"\mathrm{NaN}"),
    ],
)
def test_number_latex(text, written):
    """A number as the file wrote it, in LaTeX: fractions as \\tfrac, powers of ten, ∞ and NaN."""
    value = float(Fraction(text)) if "/" in text else float(text)
    assert DocumentLatexWriter().write(Num(value, text)) == written


@pytest.mark.parametrize(
    "name, escaped",
    [
        ("h_1", r"h\_1"),
        ("a&b", r"a\&b"),
        ("50%", r"50\%"),
        ("#1", r"\#1"),
        ("$x$", r"\$x\$"),
        ("{b}", r"\{b\}"),
        ("~", r"\textasciitilde{}"),
        ("^", r"\textasciicircum{}"),
        ("a\\b", r"a\textbackslash{}b"),
        ("x|y", r"x\textbar{}y"),
        ("<i>", r"\textless{}i\textgreater{}"),
        ("*bold*", "*bold*"),
        ("a--b", "a-{}-b"),
        ("é", "é"),
        ("σ", r"$\sigma$"),  # in text, a symbol is a bit of maths (in \text{} too)
        ("Ж", r"\texttt{U+0416}"),
    ],
)
def test_escape_latex(name, escaped):
    assert escape_latex(name) == escaped


def test_latex_names_are_escaped_in_text_subscripts():
    text = latex(awkward(), "0.1,-0.2")
    assert r"\subsection*{\textbf{input:} $\text{h\_1} = 0.1$, $\text{a\&b} = -0.2$}" in text
    assert r"\subsubsection*{layer 1 (x\textbar{}y\_layer) $\cdot$ tanh}" in text
    for name in AWKWARD_NEURONS + AWKWARD_OUTPUTS:
        assert rf"z_{{\text{{{escape_latex(name)}}}}} &= " in text, name
        assert rf"a_{{\text{{{escape_latex(name)}}}}} &= " in text, name
    assert r"z_{\text{50\%}} &= " in text
    assert r"z_{\text{x\textbar{}y}} &= " in text
    body = text.replace(r"\\", "").replace(r"\%", "").replace(r"\#", "").replace(r"\&", "").replace(r"\_", "")
    assert not re.search(r"(?<!\\)[%#]", body)
    tables = re.findall(r"\\begin\{tabular\}.*?\\end\{tabular\}", body, flags=re.S)
    rows = [row for table in tables for row in table.splitlines() if " & " in row]
    assert len(rows) == 2 + len(AWKWARD_NEURONS) + len(AWKWARD_OUTPUTS)  # a header and a row per neuron
    assert all(len(re.findall(r"(?<!\\)&", row)) == 2 for row in rows), rows  # three columns, whatever the name
    outside = re.sub(r"\\begin\{tabular\}.*?\\end\{tabular\}", "", body, flags=re.S)
    assert not re.search(r"(?<![\\&])&(?!=)", outside)  # else a bare & only as the align point
    assert re.search(r"(?<!\\)_(?!\{)", text) is None  # an unescaped _ only opens a braced subscript
    assert braces_balanced(text) and tex_dollars_balanced(text)
    assert len(align_blocks(text)) == 2


WRITTEN_TERMS = (
    "inputs: [x1, x2, x3]\nlayers:\n"
    "  - {neurons: [h1], weights: [[-1/2, 3/4, +0.5]], biases: -0.1}\n"
    "  - {neurons: [o1], weights: [[2]], activation: identity}\n"
)


def test_z_and_a_latex_write_the_numbers_as_the_file_did():
    """Fractions as \\tfrac, +0.5 without its sign, a negative input in parentheses, a negative bias
    subtracted; identity writes a = z, and no bias where the file has none."""
    text = latex(parse_network(WRITTEN_TERMS), "-0.12,1e-3,2")
    (hidden, output) = align_blocks(text)
    z = -0.5 * -0.12 + 0.75 * 1e-3 + 0.5 * 2 - 0.1  # 0.96075: shown 0.9608, and the shown terms give it
    assert four(z + 1e-12) == "0.9608"
    assert hidden[0].startswith(r"z_{\text{h1}} &= -\tfrac{1}{2} \cdot (-0.12) + \tfrac{3}{4} \cdot ")
    assert hidden[0].endswith(r" + 0.5 \cdot 2 - 0.1 = 0.9608 \\")
    is_ = "=" if four(sigma(0.9608)) == four(sigma(z)) else r"\approx"
    assert hidden[1] == rf"a_{{\text{{h1}}}} &= \sigma(0.9608) = \frac{{1}}{{1 + e^{{-0.9608}}}} {is_} {four(sigma(z))}"
    a = four(sigma(z))
    exact = 2 * float(a)  # the shown a times 2, against the shown z of the exact a
    o_is = "=" if f"{exact:.4f}" == four(2 * sigma(z)) else r"\approx"
    assert output == [
        rf"z_{{\text{{o1}}}} &= 2 \cdot {a} {o_is} {four(2 * sigma(z))} \\",
        rf"a_{{\text{{o1}}}} &= {four(2 * sigma(z))}",
    ]


def test_a_number_in_powers_of_ten_is_one_factor():
    """3/4 · 1e-3 is written \\tfrac{3}{4} \\cdot (1 \\times 10^{-3}): the power of ten belongs to its number."""
    text = latex(parse_network(WRITTEN_TERMS), "-0.12,1e-3,2")
    assert r"\tfrac{3}{4} \cdot (1 \times 10^{-3}) + 0.5" in text


def test_many_inputs_are_summed_with_sigma():
    net = parse_network("inputs: 9\nlayers:\n  - {weights: [[1, 1, 1, 1, 1, 1, 1, 1, 1]], biases: 0.5}\n")
    text = latex(net, ",".join(["0.1"] * 9))
    assert rf"&= \sum_{{i}} w_{{i}} \cdot x_{{i}} + b = {0.9 + 0.5:g}" in text
    assert rf"\sigma({0.9 + 0.5:g})" in text


# --- pdflatex -------------------------------------------------------------------------------

ACTIVATIONS = [
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "{name: leaky_relu, negative_slope: 0.2}",
    "elu",
    "selu",
    "gelu",
    "{name: gelu, approximate: tanh}",
    "softplus",
    "{name: softplus, beta: 2}",
    "silu",
    "mish",
    "softsign",
    "relu6",
    "hard_sigmoid",
    "softmax",
    "step",
]

TEXTS = ["0.1", "-1/3", "2e-3", "+0.5", "-.25", "7"]


def _inputs(n: int) -> list[str]:
    """Two samples of n values: a plain one, and one with fractions, signs and powers of ten."""
    return [",".join(f"{(k + 1) / 10:g}" for k in range(n)), ",".join(TEXTS[k % len(TEXTS)] for k in range(n))]


def compile_pdf(folder: Path, source: str) -> subprocess.CompletedProcess:
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
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*\n.*", log)  # nothing in the margin
    return done


CONFIG_FILES = NETWORK_CONFIGS


def test_there_are_configs_to_compile():
    assert len(CONFIG_FILES) >= 5


@needs_pdflatex
@pytest.mark.parametrize("config", CONFIG_FILES, ids=lambda p: p.name)
def test_standalone_document_of_every_config_compiles(tmp_path, config):
    network = load_network(config)
    compile_pdf(tmp_path, latex(network, *_inputs(network.n_inputs), standalone=True))


@needs_pdflatex
def test_every_activation_compiles(tmp_path):
    net = parse_network(
        "inputs: 2\nlayers:\n"
        + "".join(f"  - {{neurons: 2, weights: [[0.5, -1/3], [2, -0.25]], activation: {a}}}\n" for a in ACTIVATIONS)
    )
    compile_pdf(tmp_path, latex(net, *_inputs(2), standalone=True))


@needs_pdflatex
def test_awkward_names_compile_and_read_back(tmp_path):
    unicode_names = [*AWKWARD_NEURONS, "σ-é«»", "Жук", "minus−sign", "“q”"]
    source = latex(awkward(unicode_names, AWKWARD_TITLE + " ß σ"), *_inputs(2), standalone=True)
    compile_pdf(tmp_path, source)
    if shutil.which("pdftotext") is None:
        return
    done = subprocess.run(["pdftotext", "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    words = done.stdout  # ASCII only: bitmap fonts' accented glyphs do not always extract as themselves
    for name in ["h_1", "a&b", "50%", "x|y", "*bold*", "<i>", "$m$", "{b}~^#\\", "[link](http://x)", "_u_"]:
        assert name in words, name


@needs_pdflatex
def test_fragment_compiles_in_a_plain_amsmath_document(tmp_path):
    """A fragment needs only amsmath, even in a document left in the default OT1 encoding."""
    fragment = latex(awkward(), *_inputs(2))
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + fragment + "\\end{document}\n"
    compile_pdf(tmp_path, document)


def test_compile_failures_are_detected(tmp_path):
    """The compile check can fail: an undefined command stops pdflatex."""
    if PDFLATEX is None:
        pytest.skip("pdflatex is not installed")
    with pytest.raises(AssertionError):
        compile_pdf(tmp_path, "\\documentclass{article}\n\\begin{document}\n\\undefinedcommand\n\\end{document}\n")


def test_trace_is_not_recomputed():
    """Documents show the trace they are given (here one with a deliberately wrong a)."""
    net = chain()
    trace, _ = run(net, "0.1")
    layers = list(trace.layers)
    layers[0] = type(layers[0])(z=layers[0].z, a=np.array([[0.5]]))
    forged = type(trace)(inputs=trace.inputs, layers=tuple(layers))
    assert r"\frac{1}{1 + e^{-0.415}} \approx 0.5" in latex(net, "0.1", trace=forged)  # σ(0.415) is not 0.5
