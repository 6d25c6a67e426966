"""The terminal renderer, printed to a fixed-width console and compared with exact text."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from nncalc.engine import forward
from nncalc.loader import load_network, parse_network
from nncalc.render.table import TableView, make_console, print_forward
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


def _render(network, x, texts, width=100, precision=4) -> str:
    stream = io.StringIO()
    console = Console(width=width, file=stream, color_system=None, markup=False, highlight=False, emoji=False)
    print_forward(console, network, forward(network, np.array(x)), texts, TableView(precision=precision))
    return stream.getvalue()


def test_course_chain_exact_text():
    """The course lab's chain, laid out exactly as a person checks it against paper."""
    network = load_network(CONFIGS / "course-chain.yaml")
    assert _render(network, [[0.1]], (("0.1",),)) == COURSE_CHAIN


def test_narrow_terminal_never_cuts_digits():
    """At 20 columns a long number is printed whole; the table is wider than the terminal instead."""
    network = parse_network("inputs: 1\nlayers:\n  - weights: 123456.789012345\n    activation: identity\n")
    stream = io.StringIO()
    console = make_console(stream, width=20)
    print_forward(console, network, forward(network, np.array([[1.0]])), None, TableView(precision=6))
    text = stream.getvalue()
    assert "│ o1     │ 123456.789012 │ 123456.789012 │" in text
    assert "…" not in text


def test_negative_numbers_are_parenthesised_in_products():
    """A negative input is written (−x) inside a product, and a negative weight is subtracted."""
    network = parse_network(
        "inputs: 2\nlayers:\n  - weights: [0.5, -0.25]\n    biases: -0.1\n    activation: identity\n"
    )
    text = _render(network, [[-2.0, 4.0]], (("-2", "4"),))
    assert "z = 0.5 × (−2) − 0.25 × 4 − 0.1 = −2.1" in text
