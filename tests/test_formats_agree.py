"""Every option means the same in every format: the table, Markdown, LaTeX and HTML show one page.

Each format writes the same worked-solution document, so --steps, --no-steps, --all,
--precision and --round must change each of them in the same way.
"""

from __future__ import annotations

import math
import re

import pytest

from tests.conftest import CONFIGS

FORMATS = ["table", "markdown", "latex", "html"]
CHAIN = CONFIGS / "course-chain.yaml"
CLASSIC = CONFIGS / "classic-2-2-2.yaml"


def run(nncalc, *args: object) -> str:
    result = nncalc(*args)
    assert result.code == 0, result.err
    return result.out


def has_derivation(fmt: str, text: str) -> bool:
    """Whether the page writes out a sigmoid step, in the format's own spelling."""
    return {"table": "σ(0.415)", "markdown": r"\sigma(0.415)", "latex": r"\sigma(0.415)", "html": "σ"}[fmt] in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_steps_are_on_for_a_small_network_and_off_with_no_steps(nncalc, fmt):
    assert has_derivation(fmt, run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt))
    assert not has_derivation(fmt, run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt, "--no-steps"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_precision_is_the_same_in_every_format(nncalc, fmt):
    # a1 = σ(0.415) = 0.60228…: 0.60 at two decimals, 0.602 at three
    a1 = 1 / (1 + math.exp(-0.415))
    two = run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt, "-p", "2")
    three = run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt, "-p", "3")
    assert f"{a1:.2f}" in two and f"{a1:.4f}" not in two
    assert f"{a1:.3f}" in three and f"{a1:.4f}" not in three


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_changes_every_format_alike(nncalc, fmt):
    # with --round 2, a1 is carried as 0.60: z2 = 0.45 × 0.60 + 0.65 = 0.92 exactly
    rounded = run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt, "--round", "2")
    plain = run(nncalc, "forward", CHAIN, "-i", "0.1", "-f", fmt)
    assert "0.92" in rounded and "0.9210" not in rounded
    assert "0.9210" in plain


def wide(write):
    """A hidden layer of 40 neurons (h1 … h40), too many to list, before one output."""
    rows = ", ".join(f"[{(k % 7) / 10}]" for k in range(40))
    ones = ", ".join("1" for _ in range(40))
    text = f"inputs: 1\nlayers:\n  - weights: [{rows}]\n    activation: relu\n  - weights: [[{ones}]]\n"
    return write("wide.yaml", text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_large_layer_is_summarised_unless_all_is_given(nncalc, write, fmt):
    net = wide(write)
    summary = run(nncalc, "forward", net, "-i", "1", "-f", fmt)
    listed = run(nncalc, "forward", net, "-i", "1", "-f", fmt, "--all")
    assert "lists every neuron" in summary
    assert not re.search(r"\bh40\b", summary)  # the 40th neuron is not listed
    assert re.search(r"\bh40\b", listed) and "lists every neuron" not in listed


@pytest.mark.parametrize("fmt", FORMATS)
def test_backward_steps_follow_the_same_options(nncalc, fmt):
    args = ["backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", fmt]
    with_steps = run(nncalc, *args)
    without = run(nncalc, *args, "--no-steps")
    delta = {"table": "δ_o1 =", "markdown": r"\delta_{\text{o1}} =", "latex": r"\delta_{\text{o1}} &=", "html": "δ"}
    assert delta[fmt] in with_steps
    if fmt != "html":  # the HTML table's column is titled δ too
        assert delta[fmt] not in without
    # the tutorial's δ_o1 = 0.1385 and w′ = 0.3589 in every form
    for value in ("0.1385", "0.3589"):
        assert value in with_steps and value in without


PDFLATEX = __import__("shutil").which("pdflatex")


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed (Debian package: texlive-latex-base)")
@pytest.mark.parametrize("command", ["backward", "grade", "forward"])
def test_latex_pages_compile_with_nothing_in_the_margin(nncalc, write, tmp_path, monkeypatch, command):
    """The whole page of each command, as the command writes it, compiles without an Overfull box.

    The answers file is named as a person names it (``answers.yaml``), not by the clone's
    absolute path, whose length the test cannot know.
    """
    import shutil
    import subprocess

    monkeypatch.chdir(tmp_path)
    shutil.copy(CONFIGS / "answers-course-note.yaml", tmp_path / "answers.yaml")

    wide_net = write(
        "six.yaml",
        "inputs: 6\nlayers:\n  - weights: [[0.11, -0.22, 0.33, -0.44, 0.55, -0.66], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]\n"
        "  - weights: [[0.7, -0.8], [0.9, 0.35]]\n",
    )
    args = {
        "backward": ["backward", wide_net, "-i", "0.1,0.2,0.3,0.4,0.5,0.6", "-t", "0.01,0.99"],
        "grade": ["grade", CONFIGS / "course-note.yaml", "-i", "0.1", "-a", "answers.yaml"],
        "forward": ["forward", wide_net, "-i", "0.1,0.2,0.3,0.4,0.5,0.6"],
    }[command]
    page = tmp_path / "page.tex"
    result = nncalc(*args, "-f", "latex", "--standalone", "-o", page)
    assert result.code in (0, 1), result.err
    done = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", page.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / "page.log").read_text(errors="replace")
    assert done.returncode == 0, log[-3000:]
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
