"""What a person reads: one number rule, one minus sign, visible names, steps that add up, linear renderers.

Expected numbers come from ``decimal`` and hand working, never from nncalc's own output.
"""

from __future__ import annotations

import io
import random
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest

from nncalc.activations import BoundActivation
from nncalc.backprop import backward
from nncalc.engine import forward
from nncalc.loader import parse_network
from nncalc.notation import DOCUMENT_FORMATS, write_document
from nncalc.notation.formula import FormulaWriter
from nncalc.render.numbers import relation, show
from nncalc.worked import View
from nncalc.worked.backward import backward_document
from nncalc.worked.forward import forward_document
from tests.conftest import CONFIGS

# -- 1. one number rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, precision, shown",
    [
        (0.6023, 4, "0.6023"),
        (0.60234, 4, "0.6023"),
        (0.415, 4, "0.415"),  # exactly that short: shown as it is
        (2.0, 4, "2"),
        (0.0, 4, "0"),
        (-0.5, 4, "-0.5"),
        (0.50000001, 4, "0.5000"),
        (0.4, 0, "0.4"),  # below one unit at -p 0: one significant digit, as 0.5075 gets
        (0.5075, 0, "0.5"),
        (1.5075, 0, "2"),
        (0.96, 0, "1"),
        (0.03, 1, "0.03"),
        (0.0739, 1, "0.07"),
        (0.0012345, 2, "0.0012"),
        (0.5075, 3, "0.508"),  # the decimal 0.5075 rounded half away from zero, as on paper
        (-0.5075, 3, "-0.508"),
        (0.00001234, 4, "1.234e-05"),
        (-0.00001234, 4, "-1.234e-05"),
        (0.00003, 4, "3e-05"),  # exactly that short: no trailing zeros claimed
        (0.0001234, 2, "0.00012"),
        (1e15, 4, "1e+15"),
        (1234567890123456.7, 4, "1.235e+15"),
        (1 / 3, 15, "0.333333333333333"),
        (0.123456789012345, 15, "0.123456789012345"),
        (0.1 + 0.2, 15, "0.3"),  # 0.30000000000000004: the 17th digit is the float's, not the sum's
        (-0.05499999999999999, 4, "-0.055"),
        (12.345678901234567, 15, "12.3456789012346"),  # 15 significant digits: all a float holds
        (2 / 3, 12, "0.666666666667"),
        (float("nan"), 4, "nan"),
        (float("-inf"), 4, "-inf"),
    ],
)
def test_show_follows_one_rule(value, precision, shown):
    assert show(value, precision) == shown


def _significant(text: str) -> int:
    digits = Decimal(text).as_tuple().digits
    return len(digits)


def test_show_is_consistent_across_precisions():
    """At every -p a value is rounded, never truncated; p decimals where they hold a digit of it, else max(p, 1)
    significant digits, so no non-zero value is ever shown as 0 (nor 0.4 as 4.0e-01 while 0.5075 is 1)."""
    rng = random.Random(7)
    values = [rng.uniform(-2, 2) * 10.0 ** rng.randint(-9, 3) for _ in range(400)] + [0.4, 0.5075, 0.03, 0.0739]
    for value in values:
        exact = Decimal(f"{value:.15g}")  # the rule reads a float to 15 significant digits
        for p in range(16):
            text = show(value, p)
            shown = Decimal(text)
            last = Decimal(1).scaleb(shown.as_tuple().exponent)
            assert abs(shown - exact) <= last / 2, (value, p, text)  # rounded, never truncated
            if abs(exact) >= Decimal(1).scaleb(-p):
                assert "e" not in text and -shown.as_tuple().exponent <= p, (value, p, text)
            else:  # too small for p decimals: max(p, 1) significant digits, or fewer when exact
                assert _significant(text) == min(max(p, 1), _significant(f"{value:.15g}")), (value, p, text)
            assert shown != 0, (value, p, text)


def test_precision_15_shows_15_decimals(nncalc, write):
    net = write("third.yaml", "inputs: 1\nlayers:\n  - activation: identity\n    weights: 1/3\n")
    result = nncalc("forward", net, "-i", "1", "-f", "markdown", "-p", "15")
    assert result.code == 0, result.err
    assert "| 0.333333333333333 | 0.333333333333333 |" in result.out


NEGATIVE = (
    "inputs: [x]\nlayers:\n  - name: hidden\n    neurons: [h]\n    activation: sigmoid\n"
    "    weights: [[-0.5]]\n    biases: 0\n  - name: output\n    neurons: [o]\n    activation: tanh\n"
    "    weights: [[-2]]\n    biases: -0.1\n"
)


def _derivation_lines(text: str) -> list[str]:
    marks = ("z = ", "a = ", "δ_", "∂L/∂", "L = ")
    return [line for line in text.splitlines() if any(mark in line for mark in marks)]


def test_text_derivations_use_one_minus_sign(nncalc, write):
    net = write("negative.yaml", NEGATIVE)
    result = nncalc("backward", net, "-i", "1.22", "-t", "-0.5", "-f", "table", tty=True)
    assert result.code == 0, result.err
    lines = _derivation_lines(result.out)
    assert any("σ(−0.61) = 1 / (1 + e^−(−0.61))" in line for line in lines), lines
    assert any("z = −0.5 × 1.22 + 0 = −0.61" in line for line in lines), lines
    for line in lines:
        assert "-" not in line, line


def test_markdown_backward_steps_use_one_minus_sign(nncalc, write):
    net = write("negative.yaml", NEGATIVE)
    result = nncalc("backward", net, "-i", "1.22", "-t", "-0.5", "-f", "markdown")
    assert result.code == 0, result.err
    # the steps are maths, as forward's are: LaTeX's own minus, never U+2212 mixed in
    assert "`" not in result.out
    spans = re.findall(r"\$([^$]*)\$", result.out)
    assert spans and any("-" in span for span in spans)
    for span in spans:
        assert "−" not in span, span


def test_latex_keeps_the_ascii_minus_inside_math(nncalc, write):
    net = write("negative.yaml", NEGATIVE)
    result = nncalc("backward", net, "-i", "1.22", "-t", "-0.5", "-f", "latex")
    assert result.code == 0, result.err
    assert "−" not in result.out
    assert r"\sigma(-0.61)" in result.out


# -- 2. control characters in names -------------------------------------------------------

EVIL = (
    'name: "\\e]0;pwned\\a\\e[31mRED\\u202e"\n'
    'inputs: ["x\\e[2J\\u202e", "y\\a"]\n'
    "layers:\n"
    '  - name: "hid\\e[31m\\u202eden"\n'
    '    neurons: ["h\\e[1m\\a1", "h2\\u202e"]\n'
    "    activation: sigmoid\n"
    "    weights: [[0.1, -0.2], [0.3, 0.4]]\n"
    "    biases: [0.1, -0.5]\n"
    '  - name: "out\\a"\n'
    '    neurons: ["o\\e[5m1"]\n'
    "    activation: sigmoid\n"
    "    weights: [[0.5, -0.6]]\n"
    "    biases: 0.2\n"
)

EVIL_RUNS = [
    ("check",),
    ("forward", "-i", "0.1,0.2"),
    ("forward", "-i", "0.1,0.2", "-f", "table", "--all"),
    ("forward", "-i", "0.1,0.2", "-f", "markdown"),
    ("backward", "-i", "0.1,0.2", "-t", "0.5"),
    ("backward", "-i", "0.1,0.2", "-t", "0.5", "-n", "3"),
    ("backward", "-i", "0.1,0.2", "-t", "0.5", "-f", "markdown"),
    ("backward", "-i", "0.1,0.2", "-t", "0.5", "-f", "latex"),
    ("draw", "-f", "dot"),
    ("draw", "-f", "dot", "-i", "0.1,0.2"),
    ("draw", "-f", "mermaid"),
    ("draw", "-f", "mermaid", "-i", "0.1,0.2"),
    # the machine formats, when they are shown on a terminal
    ("forward", "-i", "0.1,0.2", "-f", "csv"),
    ("forward", "-i", "0.1,0.2", "-f", "csv", "--trace"),
    ("forward", "--inputs", "-", "-f", "csv", "--trace"),  # the streamed writer
    ("forward", "-i", "0.1,0.2", "-f", "json"),
    ("forward", "--inputs", "-", "-f", "json"),
    ("forward", "--inputs", "-", "-f", "jsonl"),
    ("backward", "-i", "0.1,0.2", "-t", "0.5", "-f", "json"),
]


@pytest.mark.parametrize("command", EVIL_RUNS, ids=lambda c: " ".join(c))
def test_control_characters_in_names_never_reach_the_terminal(nncalc, write, monkeypatch, command):
    monkeypatch.setenv("NO_COLOR", "1")  # so that any ESC in the output could only come from a name
    net = write("evil.yaml", EVIL)
    stdin = "0.1,0.2\n0.3,0.4\n" if "-" in command else None
    result = nncalc(command[0], net, *command[1:], tty=True, stdin=stdin)
    assert result.code == 0, result.err
    text = result.out + result.err
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in text, (raw, text)


def test_control_characters_in_names_are_shown_as_pictures(nncalc, write, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    net = write("evil.yaml", EVIL)
    result = nncalc("check", net, tty=True)
    assert "␛]0;pwned␇␛[31mRED<U+202E>" in result.out
    result = nncalc("forward", net, "-i", "0.1,0.2", tty=True)
    assert "h␛[1m␇1" in result.out
    result = nncalc("grade", net, "-i", "0.1,0.2", "-a", write("a.yaml", "layers:\n  - z: [0.1, 0.2]\n"), tty=True)
    assert "\x1b" not in result.out and "\u202e" not in result.out and "h␛[1m␇1" in result.out


# a layer and a neuron whose names hold ESC, BEL and CR: CR would send the cursor back over the line
RAW_NAMES = (
    "inputs: [x]\n"
    "layers:\n"
    '  - name: "L\\e]0;pwned\\a\\r"\n'
    '    neurons: ["n\\e[2J\\r1"]\n'
    "    activation: identity\n"
    "    weights: [[0.5]]\n"
)
RAW_HEADER = ["x", "n\x1b[2J\r1", "L\x1b]0;pwned\x07\r.n\x1b[2J\r1.z", "L\x1b]0;pwned\x07\r.n\x1b[2J\r1.a"]
SHOWN_HEADER = "x,n␛[2J␍1,L␛]0;pwned␇␍.n␛[2J␍1.z,L␛]0;pwned␇␍.n␛[2J␍1.a\n"


@pytest.mark.parametrize("inputs", [("-i", "0.2"), ("--inputs", "-")], ids=["one-shot", "streamed"])
def test_csv_on_a_terminal_shows_control_characters_in_names_as_pictures(nncalc, write, inputs):
    result = nncalc("forward", write("raw.yaml", RAW_NAMES), *inputs, "-f", "csv", "--trace", tty=True, stdin="0.2\n")
    assert result.code == 0, result.err
    assert result.out == SHOWN_HEADER + "0.2,0.1,0.1,0.1\n"


@pytest.mark.parametrize("inputs", [("-i", "0.2"), ("--inputs", "-")], ids=["one-shot", "streamed"])
def test_csv_to_a_pipe_or_file_keeps_the_names_exactly(write, tmp_path, inputs):
    import csv
    import subprocess
    import sys

    net = write("raw.yaml", RAW_NAMES)
    command = [sys.executable, "-m", "nncalc", "forward", str(net), *inputs, "-f", "csv", "--trace"]
    piped = subprocess.run(command, input=b"0.2\n", capture_output=True, cwd=CONFIGS.parent, timeout=60)
    assert piped.returncode == 0, piped.stderr
    rows = list(csv.reader(io.StringIO(piped.stdout.decode(), newline="")))
    assert rows == [RAW_HEADER, ["0.2", "0.1", "0.1", "0.1"]]
    out = tmp_path / "out.csv"
    written = subprocess.run(
        [*command, "-o", str(out)], input=b"0.2\n", capture_output=True, cwd=CONFIGS.parent, timeout=60
    )
    assert written.returncode == 0, written.stderr
    assert out.read_bytes() == piped.stdout


def test_streamed_csv_on_a_real_terminal_shows_pictures(write):
    """stdout a pseudo-terminal: the terminal gets the pictures and never the ESC, BEL or CR of a name."""
    import os
    import pty
    import subprocess
    import sys

    net = write("raw.yaml", RAW_NAMES)
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "nncalc", "forward", str(net), "--inputs", "-", "-f", "csv", "--trace"],
            stdin=subprocess.PIPE,
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=CONFIGS.parent,
            env={**os.environ, "NO_COLOR": "1"},
        )
        os.close(follower)
        _, err = process.communicate(b"0.2\n", timeout=60)
        seen = bytearray()
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the terminal is closed once the process has ended and all is read
                break
            if not piece:
                break
            seen += piece
    finally:
        os.close(leader)
    assert process.returncode == 0, err
    text = seen.decode().replace("\r\n", "\n")  # the terminal writes each newline as CR LF
    assert text == SHOWN_HEADER + "0.2,0.1,0.1,0.1\n"


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_escapes_reordering_characters_and_keeps_the_names(nncalc, write, fmt):
    """JSON escapes the C0 controls itself; U+202E and the C1 controls are escaped too, and read back the same."""
    import json

    net = write("evil.yaml", EVIL)
    result = nncalc("forward", net, "--inputs", "-", "-f", fmt, stdin="0.1,0.2\n")
    assert result.code == 0, result.err
    assert "\u202e" not in result.out and "\x1b" not in result.out
    first = json.loads(result.out.splitlines()[0] if fmt == "jsonl" else result.out)
    layers = first["layers"] if fmt == "jsonl" else first["network"]["layers"]
    assert [layer["name"] for layer in layers] == ["hid\x1b[31m\u202eden", "out\x07"]


# -- 3. every notation in linear time ----------------------------------------------------------


def _wide(n: int, activation: str) -> str:
    weights = ", ".join(f"[{(k % 7 - 3) / 10}]" for k in range(n))
    return (
        f"inputs: 1\nlayers:\n  - activation: {activation}\n    weights: [{weights}]\n    biases: 0.1\n"
        f"  - activation: sigmoid\n    weights: [[{', '.join(['0.1'] * n)}]]\n"
    )


class _Counter:
    """Counts the numbers the notations write in formulas, and the elements of every derivative asked for."""

    def __init__(self, monkeypatch):
        self.numbers = 0
        self.derivative_elements = 0
        shown = FormulaWriter.shown
        derivative = BoundActivation.derivative

        def counted(writer, number):
            self.numbers += 1
            return shown(writer, number)

        def counted_derivative(activation, z, a):
            self.derivative_elements += int(np.size(z))
            return derivative(activation, z, a)

        monkeypatch.setattr(FormulaWriter, "shown", counted)
        monkeypatch.setattr(BoundActivation, "derivative", counted_derivative)


def _render_all(n: int, activation: str, formats: tuple[str, ...] = DOCUMENT_FORMATS) -> None:
    """The forward and backward pages of a layer of ``n`` neurons, every row and step, in ``formats``."""
    network = parse_network(_wide(n, activation))
    x, t = np.array([[0.3]]), np.array([[0.5]])
    view = View(4, steps=True, all_rows=True)
    documents = (
        forward_document(network, forward(network, x), None, view),
        backward_document(network, backward(network, x, t), None, view),
    )
    for document in documents:
        for fmt in formats:
            write_document(document, fmt, io.StringIO())


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_every_notations_work_grows_linearly_with_the_layer(monkeypatch, activation):
    counts = []
    for n in (150, 600):
        counter = _Counter(monkeypatch)
        _render_all(n, activation)
        counts.append((counter.numbers, counter.derivative_elements))
    (numbers_n, elements_n), (numbers_4n, elements_4n) = counts
    assert numbers_n > 600, counts  # every neuron's numbers were counted
    assert numbers_4n <= 4.5 * numbers_n, counts  # quadratic work would be 16 times
    assert elements_4n <= 4.5 * max(elements_n, 1), counts


def test_a_3000_neuron_layer_renders_promptly():
    """Built and written as Markdown and LaTeX, forward and backward, every row and step, in well under 20 s."""
    import time

    start = time.perf_counter()
    _render_all(3000, "sigmoid", ("markdown", "latex"))
    assert time.perf_counter() - start < 20


# -- 4. shown steps that add up -----------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]\d+)?")


def _python(expression: str) -> str:
    """A shown numeric expression as Python over Decimal: ``(0.7514 − 0.01) · 0.7514`` and the like."""
    text = expression.replace("−", "-").replace("·", "*").replace("×", "*").replace("½", "(D(1) / D(2))")
    text = text.replace("²", "**2")
    text = _NUMBER.sub(lambda m: f"D('{m.group()}')", text)
    # e^X, e^(X) and e^-X: X is one number, possibly negative and in parentheses
    text = re.sub(r"e\^(-?)(\(-?D\('[^']*'\)\)|D\('[^']*'\))", r"EXP(\1\2)", text)
    return text


def _recompute(expression: str) -> Decimal | None:
    """The exact value of the shown operands as written, or None where the text is not only numbers."""
    python = _python(expression)
    if re.search(r"[^\sD()'.\d*/+\-e]", python.replace("EXP", "")):
        return None
    with localcontext() as context:
        context.prec = 60
        return eval(python, {"__builtins__": {}}, {"D": Decimal, "EXP": lambda x: x.exp()})


def _relations(text: str) -> list[tuple[str, str, str]]:
    """Every shown step ``expression = result`` (or ``≈ result``) whose expression is made of numbers."""
    steps = []
    for line in text.splitlines():
        for segment in line.split(";  "):
            parts = re.split(r" (=|≈) ", segment.strip())
            if len(parts) < 3:
                continue
            expression, relation, result = parts[-3], parts[-2], parts[-1]
            result = result.split("   (")[0].strip()
            if not re.fullmatch(r"[−-]?\d+(?:\.\d+)?(?:e[+-]\d+)?", result):
                continue
            if _recompute(expression) is None:
                continue
            steps.append((expression, relation, result))
    return steps


def _agrees(expression: str, result: str, precision: int) -> bool:
    shown = Decimal(result.replace("−", "-"))
    unit = min(Decimal(1).scaleb(-precision), Decimal(1).scaleb(shown.as_tuple().exponent))
    value = _recompute(expression)
    return value.quantize(unit, rounding=ROUND_HALF_UP) == shown.quantize(unit)


BACKWARD_RUNS = [
    ("classic-2-2-2.yaml", "-i", "0.05,0.10", "-t", "0.01,0.99"),
    ("course-backprop.yaml", "-i", "0.1", "-t", "0.25", "--lr", "0.4"),
    ("classic-2-2-2.yaml", "-i", "0.05,0.10", "-t", "0.01,0.99", "-p", "2"),
    ("classic-2-2-2.yaml", "-i", "0.05,0.10", "-t", "0.01,0.99", "-p", "3"),
    ("course-backprop.yaml", "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-p", "2"),
]


@pytest.mark.parametrize("run", BACKWARD_RUNS, ids=lambda r: " ".join(r))
def test_every_shown_step_adds_up_or_says_approximately(nncalc, run):
    precision = int(run[run.index("-p") + 1]) if "-p" in run else 4
    result = nncalc("backward", CONFIGS / run[0], *run[1:], "-f", "table", tty=True)
    assert result.code == 0, result.err
    steps = _relations(result.out)
    assert len(steps) >= 10, steps
    for expression, written, shown in steps:
        agrees = _agrees(expression, shown, precision)
        if written == "=":
            assert agrees, f"{expression} = {shown} does not add up"
        else:
            assert not agrees, f"{expression} ≈ {shown} adds up exactly: write ="


def test_backward_steps_that_do_not_add_up_say_so(nncalc, write):
    """δ = 0.07386 is shown 0.0739, and 0.0739 · 0.5 = 0.03695 is not the shown 0.0369 (true 0.03693)."""
    net = write(
        "slip.yaml",
        "inputs: 1\nlayers:\n  - activation: identity\n    weights: 0.8\n    biases: 0\n",
    )
    # z = 0.8 × 0.5 = 0.4; δ = a − t = 0.4 − 0.32614 = 0.07386; ∂L/∂w = δ · 0.5 = 0.03693; w′ = 0.781535
    result = nncalc("backward", net, "-i", "0.5", "-t", "0.32614", "-f", "table", tty=True)
    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if "∂L/∂w" in line and "·" in line)
    assert "0.0739 · 0.5 ≈ 0.0369" in line, line  # 0.03695 would be 0.0370
    assert "w′ = 0.8 − 0.5 · 0.0369 ≈ 0.7815" in line, line  # 0.78155 would be 0.7816


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_markdown_and_latex_backward_say_approximately_too(nncalc, write, fmt):
    net = write(
        "slip.yaml",
        "inputs: 1\nlayers:\n  - activation: identity\n    weights: 0.8\n    biases: 0\n",
    )
    result = nncalc("backward", net, "-i", "0.5", "-t", "0.32614", "-f", fmt)
    assert result.code == 0, result.err
    assert r"0.0739 \cdot 0.5 \approx 0.0369" in result.out  # Markdown's maths is LaTeX too


def test_forward_steps_say_approximately_where_rounded_inputs_do_not_give_z(nncalc, write):
    # h = 0.33333…, shown 0.3333; z = 3 × h = 1 exactly, but 3 × 0.3333 = 0.9999
    net = write(
        "third.yaml",
        "inputs: 1\nlayers:\n  - activation: identity\n    weights: 1/3\n  - activation: identity\n    weights: 3\n",
    )
    result = nncalc("forward", net, "-i", "1", "-f", "table", tty=True)
    assert "z = 3 × 0.3333 ≈ 1" in result.out, result.out
    latex = nncalc("forward", net, "-i", "1", "-f", "latex").out
    assert r"3 \cdot 0.3333 \approx 1" in latex


# -- 5. grade's expected column ------------------------------------------------------------

GRADE_ANSWERS = "layers:\n  - z: [0.415]\n    a: [0.6023]\n  - z: [{z}]\n    a: [0.7153]\n"


def _grade_rows(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃").split("│")]
        if len(cells) == 5 and cells[1] in ("z", "a"):
            rows[(cells[0], cells[1])] = (cells[2], cells[3])
    return rows


def test_grade_expected_shows_the_tables_precision(nncalc, write):
    answers = write("answers.yaml", GRADE_ANSWERS.format(z="0.03"))
    result = nncalc("grade", CONFIGS / "course-note.yaml", "-i", "0.1", "-a", answers, tty=True)
    # 0.25 × 0.6023 + 0.5 = 0.650575
    assert _grade_rows(result.out)[("o1", "z")] == ("0.03", "0.6506")
    assert "= 0.6506, not 0.03" in result.out


def test_grade_expected_shows_more_digits_than_written_where_needed(nncalc, write):
    answers = write("answers.yaml", GRADE_ANSWERS.format(z="0.6506"))
    result = nncalc(
        "grade", CONFIGS / "course-note.yaml", "-i", "0.1", "-a", answers, "--tolerance", "0.00001", tty=True
    )
    yours, expected = _grade_rows(result.out)[("o1", "z")]
    assert yours == "0.6506" and expected == "0.65058", result.out  # 0.650575, half away from zero
    answers = write("answers6.yaml", GRADE_ANSWERS.format(z="0.650576"))
    result = nncalc("grade", CONFIGS / "course-note.yaml", "-i", "0.1", "-a", answers, tty=True)
    assert _grade_rows(result.out)[("o1", "z")] == ("0.650576", "0.650575")


@pytest.mark.parametrize(
    "worked, shown, precision, expected",
    [
        (Decimal("0.03695"), "0.0369", 4, "≈"),  # 0.03695 is 0.0370 at 4 decimals
        (Decimal("0.03694"), "0.0369", 4, "="),
        (Decimal("0.50004"), "0.5", 4, "="),  # a short result is compared at 4 decimals too
        (Decimal("0.50006"), "0.5", 4, "≈"),
        (Decimal("0.000012344"), "1.234e-05", 4, "="),  # shown to 4 significant digits: compared there
        (Decimal("0.000012346"), "1.234e-05", 4, "≈"),
        (Decimal("1234600000000000"), "1.235e+15", 4, "="),
        (Decimal("1235600000000000"), "1.235e+15", 4, "≈"),
        (Decimal("-0.61905"), "−0.6191", 4, "="),  # halves away from zero; the text minus sign is read
    ],
)
def test_relation_compares_at_the_shown_precision(worked, shown, precision, expected):
    assert relation(Fraction(worked), shown, precision) == expected
