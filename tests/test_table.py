"""The terminal page (the worked-solution model in its terminal notation), through the command line,
compared with exact text."""

from __future__ import annotations

from tests.conftest import CONFIGS

COURSE_CHAIN = """\
Course lab, two neurons in a chain — input: x1 = 0.1

layer 1 (hidden) · sigmoid
┏━━━━━━━━┳━━━━━━━┳━━━━━━━━┓
┃ neuron ┃     z ┃      a ┃
┡━━━━━━━━╇━━━━━━━╇━━━━━━━━┩
│ h1     │ 0.415 │ 0.6023 │
└────────┴───────┴────────┘
  h1  z = 0.15 × 0.1 + 0.4 = 0.415
      a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023

layer 2 (output) · sigmoid
┏━━━━━━━━┳━━━━━━━━┳━━━━━━━━┓
┃ neuron ┃      z ┃      a ┃
┡━━━━━━━━╇━━━━━━━━╇━━━━━━━━┩
│ o1     │ 0.9210 │ 0.7153 │
└────────┴────────┴────────┘
  o1  z = 0.45 × 0.6023 + 0.65 = 0.9210
      a = σ(0.9210) = 1 / (1 + e^−0.9210) ≈ 0.7153

output: o1 = 0.7153
"""


def test_course_chain_exact_text(nncalc):
    """The course lab's chain, laid out exactly as a person checks it against paper."""
    result = nncalc("forward", CONFIGS / "course-chain.yaml", "-i", "0.1", "-f", "table")
    assert result.code == 0, result.err
    assert result.out == COURSE_CHAIN


def test_narrow_terminal_never_cuts_digits(nncalc, write, monkeypatch):
    """At 20 columns a long number is printed whole; the table is wider than the terminal instead."""
    monkeypatch.setenv("COLUMNS", "20")
    net = write("wide.yaml", "inputs: 1\nlayers:\n  - weights: 123456.789012345\n    activation: identity\n")
    result = nncalc("forward", net, "-i", "1", "-f", "table", "-p", "6", tty=True)
    assert result.code == 0, result.err
    assert "│ o1     │ 123456.789012 │ 123456.789012 │" in result.out
    assert "…" not in result.out
    assert max(len(line) for line in result.out.splitlines()) > 20  # wider than the terminal, not cut to it


def test_negative_numbers_are_parenthesised_in_products(nncalc, write):
    """A negative input is written (−x) inside a product, and a negative weight is subtracted."""
    net = write(
        "negative.yaml", "inputs: 2\nlayers:\n  - weights: [0.5, -0.25]\n    biases: -0.1\n    activation: identity\n"
    )
    result = nncalc("forward", net, "-i", "-2,4", "-f", "table")
    assert result.code == 0, result.err
    assert "z = 0.5 × (−2) − 0.25 × 4 − 0.1 = −2.1" in result.out  # −1 − 1 − 0.1
