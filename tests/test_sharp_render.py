"""What a person reads: one number rule, one minus sign, visible names, steps that add up, linear renderers.

Expected numbers come from ``decimal`` and hand working, never from nncalc's own output.
"""

from __future__ import annotations

import io
import random
import re
from decimal import Decimal

import numpy as np
import pytest

from nncalc.activations import BoundActivation
from nncalc.backprop import backward
from nncalc.engine import forward
from nncalc.loader import parse_network
from nncalc.render import latex as latex_module
from nncalc.render.latex import write_latex
from nncalc.render.latex_backward import write_backward_latex
from nncalc.render.markdown import write_markdown
from nncalc.render.markdown_backward import write_backward_markdown
from nncalc.render.numbers import show

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
    spans = re.findall(r"`([^`]*)`", result.out)
    assert spans and any("−" in span for span in spans)
    for span in spans:
        assert "-" not in span, span


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
]


@pytest.mark.parametrize("command", EVIL_RUNS, ids=lambda c: " ".join(c))
def test_control_characters_in_names_never_reach_the_terminal(nncalc, write, monkeypatch, command):
    monkeypatch.setenv("NO_COLOR", "1")  # so that any ESC in the output could only come from a name
    net = write("evil.yaml", EVIL)
    result = nncalc(command[0], net, *command[1:], tty=True)
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


# -- 3. Markdown and LaTeX in linear time ----------------------------------------------------


def _wide(n: int, activation: str) -> str:
    weights = ", ".join(f"[{(k % 7 - 3) / 10}]" for k in range(n))
    return (
        f"inputs: 1\nlayers:\n  - activation: {activation}\n    weights: [{weights}]\n    biases: 0.1\n"
        f"  - activation: sigmoid\n    weights: [[{', '.join(['0.1'] * n)}]]\n"
    )


class _Counter:
    """Counts the numbers LaTeX converts, and the elements of every derivative asked for."""

    def __init__(self, monkeypatch):
        self.numbers = 0
        self.derivative_elements = 0
        original = latex_module.number_latex
        derivative = BoundActivation.derivative

        def counted(text):
            self.numbers += 1
            return original(text)

        def counted_derivative(activation, z, a):
            self.derivative_elements += int(np.size(z))
            return derivative(activation, z, a)

        monkeypatch.setattr(latex_module, "number_latex", counted)
        monkeypatch.setattr(BoundActivation, "derivative", counted_derivative)


def _render_all(n: int, activation: str) -> None:
    network = parse_network(_wide(n, activation))
    x, t = np.array([[0.3]]), np.array([[0.5]])
    trace = forward(network, x)
    result = backward(network, x, t)
    for write in (write_latex, write_markdown):
        write(io.StringIO(), network, trace, None, 4)
    for write in (write_backward_latex, write_backward_markdown):
        write(io.StringIO(), network, result, None, 4)


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_markdown_and_latex_work_grows_linearly_with_the_layer(monkeypatch, activation):
    counts = []
    for n in (300, 1200):
        counter = _Counter(monkeypatch)
        _render_all(n, activation)
        counts.append((counter.numbers, counter.derivative_elements))
    (numbers_n, elements_n), (numbers_4n, elements_4n) = counts
    assert numbers_4n <= 4.5 * numbers_n, counts  # quadratic work would be 16 times
    assert elements_4n <= 4.5 * max(elements_n, 1), counts


def test_a_3000_neuron_layer_renders_promptly():
    import time

    start = time.perf_counter()
    _render_all(3000, "sigmoid")
    assert time.perf_counter() - start < 20
