"""Bad input, table-driven: every mistake is exit code 2 and located ``error:`` lines.

Each case is a network file (or input text, CSV on standard input, options) with the
place of the mistake worked out from the case's own text, and a distinctive fragment of
the message. For every case: exit code 2; every stderr line starts with ``error: ``; one
of them names ``FILE:LINE:COL`` exactly and carries the fragment; stdout is empty; no
traceback anywhere. Cases that show a bug are kept as strict xfails with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

from tests.conftest import ROOT, Result, run_process


def yaml(text: str) -> str:
    """A network file written indented in the table, as it is on disk."""
    return textwrap.dedent(text)


def run(nncalc, *args, stdin: str | None = None) -> Result:
    """The in-process entry point; an exception escaping ``main`` becomes a traceback in err."""
    try:
        return nncalc(*map(str, args), stdin=stdin)
    except Exception:  # a crash is a finding, reported as the failing assertion below
        return Result(1, "", traceback.format_exc())


def assert_refused(result: Result, location: str | None, fragment: str, *, single: bool = False) -> list[str]:
    """Exit 2, nothing on stdout, only ``error:`` lines, one at ``location`` holding ``fragment``.

    ``location`` is ``FILE:LINE:COL``, ``FILE:LINE`` or ``FILE``, matched exactly (followed
    by ``": "``); None means a message that names no place.
    """
    shown = f"exit {result.code}\n--- stdout\n{result.out}--- stderr\n{result.err}"
    assert "Traceback" not in result.err + result.out, shown
    assert result.code == 2, shown
    assert result.out == "", shown
    lines = result.err.splitlines()
    assert lines, shown
    assert all(line.startswith("error: ") for line in lines), shown
    if single:
        assert len(lines) == 1, shown
    prefix = "error: " if location is None else f"error: {location}: "
    located = [line for line in lines if line.startswith(prefix)]
    assert located, f"no error line starting {prefix!r}\n{shown}"
    assert any(fragment in line for line in located), f"{fragment!r} not in the lines at {location}\n{shown}"
    return lines


def check_own_position(text: str, line: int, column: int, at: str) -> None:
    """The table's LINE:COL really points at ``at`` in the case's own text (guards the table)."""
    if not at:
        return
    rows = text.split("\n")
    assert 1 <= line <= len(rows), f"line {line} is outside the case text"
    assert rows[line - 1][column - 1 :].startswith(at), (
        f"the case says {line}:{column} is {at!r}, the text there is {rows[line - 1][column - 1 :]!r}"
    )


# -- network files ----------------------------------------------------------------------------
#
# (text, LINE, COL, the text found at LINE:COL, message fragment)

NETWORK_CASES = [
    pytest.param(
        "inputs: 2\nlayers:\n\t- weights: [0.1, 0.2]\n",
        3,
        1,
        "\t",
        "YAML indents with spaces, not tabs",
        id="yaml-syntax-tab-indent",
    ),
    pytest.param(
        yaml("""\
            inputs: 2: 3
            layers:
              - weights: [0.1, 0.2]
            """),
        1,
        10,
        ": 3",
        "YAML syntax error: mapping values are not allowed",
        id="yaml-syntax-second-colon",
    ),
    pytest.param(
        yaml("""\
            name: éé😀: x
            inputs: 1
            """),
        1,
        10,
        ": x",
        "YAML syntax error: mapping values are not allowed",
        id="yaml-syntax-column-counts-characters",
    ),
    pytest.param(
        "",
        1,
        1,
        "",
        "the file is empty",
        id="empty-file",
    ),
    pytest.param(
        "# only a comment\n",
        1,
        1,
        "#",
        "the file is empty",
        id="comment-only-file",
    ),
    pytest.param(
        "---",
        1,
        1,
        "---",
        "the file holds an empty YAML document: nothing after ---",
        id="document-start-only",
    ),
    pytest.param(
        "--- # nothing yet\n",
        1,
        1,
        "---",
        "the file holds an empty YAML document: nothing after ---",
        id="document-start-and-comment",
    ),
    pytest.param(
        "- 1\n- 2\n",
        1,
        1,
        "- 1",
        "the network file must be a mapping of keys, got a list",
        id="top-level-list",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers: [{weights: 1}]
            ---
            inputs: 1
            """),
        3,
        1,
        "---",
        "more than one YAML document",
        id="two-documents",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layer:
              - weights: [0.1, 0.2]
            """),
        2,
        1,
        "layer:",
        "unknown key 'layer'; did you mean 'layers'?",
        id="unknown-top-key-layer",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            activaton: relu
            layers:
              - weights: [0.1, 0.2]
            """),
        2,
        1,
        "activaton",
        "unknown key 'activaton'; did you mean 'activation'?",
        id="unknown-top-key-activaton",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            colour: red
            layers:
              - weights: [0.1, 0.2]
            """),
        2,
        1,
        "colour",
        "unknown key 'colour' (allowed: name, description, inputs, activation, layers)",
        id="unknown-top-key-no-suggestion",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - wieghts: [0.1, 0.2]
            """),
        3,
        5,
        "wieghts",
        "layer 1: unknown key 'wieghts'; did you mean 'weights'?",
        id="unknown-layer-key-wieghts",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - name: hidden
                weights: [0.1, 0.2]
                bias: 0.5
            """),
        5,
        5,
        "bias:",
        "layer 1 (hidden): unknown key 'bias'; did you mean 'biases'?",
        id="unknown-layer-key-bias",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights:
                  - [0.1, 0.2]
                  - [0.3]
            """),
        5,
        9,
        "[0.3]",
        "layer 1: row 2 of weights has 1 value, expected 2 (one per input)",
        id="ragged-weights",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - neurons: 3
                weights: [[0.1, 0.2], [0.3, 0.4]]
            """),
        4,
        14,
        "[[0.1",
        "layer 1: weights has 2 rows, expected 3 (one per neuron)",
        id="weights-rows-vs-neurons-count",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - neurons: [h1, h2, h3]
                weights:
                  - [0.1, 0.2]
            """),
        5,
        7,
        "- [0.1",
        "layer 1: weights has 1 row, expected 3 (one per neuron)",
        id="weights-rows-vs-neuron-names",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights:
                  - [0.1, 0.2]
                  - [0.3, 0.4]
              - weights: [[0.5, 0.6, 0.7]]
            """),
        6,
        15,
        "[0.5, 0.6, 0.7]",
        "layer 2: row 1 of weights has 3 values, expected 2 (one per neuron of layer 1)",
        id="second-layer-wrong-columns",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights:
                  - [0.1, 0.2]
                  - [0.3, 0.4]
                biases: [0.1, 0.2, 0.3]
            """),
        6,
        13,
        "[0.1, 0.2, 0.3]",
        "layer 1: biases has 3 values, expected 2 (one per neuron)",
        id="bias-count-mismatch",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [[0.1, abc]]
            """),
        3,
        21,
        "abc",
        "layer 1: weights: row 1, value 2: 'abc' is not a number",
        id="non-numeric-weight",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: [[0.1], [0.2]]
                biases: [0.1, x1]
            """),
        4,
        19,
        "x1",
        "layer 1: biases, value 2: 'x1' is not a number",
        id="non-numeric-bias",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: 'abc'
            """),
        3,
        14,
        "'abc'",
        "weights must be a number, got the text 'abc'",
        id="quoted-text-weight",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: []
            """),
        3,
        14,
        "[]",
        "layer 1: weights is empty",
        id="weights-empty-list",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: [[0.1], []]
            """),
        3,
        22,
        "[]",
        "layer 1: weights: row 2 is empty",
        id="weights-empty-row",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: [0.1, [0.2]]
            """),
        3,
        14,
        "[0.1",
        "weights mixes numbers and rows",
        id="weights-mixed-numbers-and-rows",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                activation: sigmod
            """),
        4,
        17,
        "sigmod",
        "unknown activation 'sigmod'; did you mean 'sigmoid'?",
        id="unknown-activation-sigmod",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            activation: relux
            layers:
              - weights: [0.1, 0.2]
            """),
        2,
        13,
        "relux",
        "activation: unknown activation 'relux'; did you mean 'relu'?",
        id="unknown-network-activation-relux",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                activation: {name: leaky_relu, slope: 0.2}
            """),
        4,
        36,
        "slope",
        "leaky_relu has no parameter 'slope' (its parameters: negative_slope)",
        id="unknown-activation-parameter",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                activation: {name: relu, negative_slope: 0.2}
            """),
        4,
        30,
        "negative_slope",
        "relu has no parameter 'negative_slope' (it takes none)",
        id="parameter-for-activation-without-any",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                activation: {name: gelu, approximate: fast}
            """),
        4,
        43,
        "fast",
        "approximate must be one of none, tanh, got 'fast'",
        id="bad-choice-gelu-approximate",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                activation: {negative_slope: 0.2}
            """),
        4,
        17,
        "{",
        "activation: missing 'name'",
        id="activation-mapping-without-name",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: 1
                activation: {name: softplus, beta: 0}
            """),
        4,
        40,
        "0}",
        "beta must not be 0",
        id="softplus-beta-zero",
    ),
    pytest.param(
        "inputs: 2\nlayers: []\n",
        2,
        9,
        "[]",
        "the network has no layers; give at least one",
        id="empty-layers",
    ),
    pytest.param(
        "inputs: 2\nlayers:\n  weights: [0.1, 0.2]\n",
        3,
        3,
        "weights",
        "layers must be a list of layers, got a mapping",
        id="layers-is-a-mapping",
    ),
    pytest.param(
        "inputs: 2\nlayers:\n  - 0.5\n",
        3,
        5,
        "0.5",
        "layer 1: a layer must be a mapping of keys",
        id="layer-is-a-number",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - name: hidden
                biases: 0.5
            """),
        3,
        5,
        "name: hidden",
        "layer 1 (hidden): missing key 'weights'",
        id="layer-without-weights",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: 1
                kernel: [[1]]
            """),
        4,
        5,
        "kernel",
        "layer 1: give weights or kernel, not both",
        id="weights-and-kernel",
    ),
    pytest.param(
        yaml("""\
            layers:
              - weights: [0.1, 0.2]
            """),
        1,
        1,
        "layers",
        "missing key 'inputs'",
        id="missing-inputs",
    ),
    pytest.param(
        "inputs: 1\n",
        1,
        1,
        "inputs",
        "missing key 'layers'",
        id="missing-layers",
    ),
    pytest.param(
        "inputs: 0\nlayers:\n  - weights: 1\n",
        1,
        9,
        "0",
        "inputs must be at least 1, got 0",
        id="inputs-zero",
    ),
    pytest.param(
        "inputs: two\nlayers:\n  - weights: 1\n",
        1,
        9,
        "two",
        "inputs must be a count or a list of names, got 'two'",
        id="inputs-word",
    ),
    pytest.param(
        "inputs: 2.0\nlayers:\n  - weights: [1, 2]\n",
        1,
        9,
        "2.0",
        "inputs must be a count or a list of names, got '2.0'",
        id="inputs-decimal",
    ),
    pytest.param(
        "inputs: []\nlayers:\n  - weights: 1\n",
        1,
        9,
        "[]",
        "inputs: the list of names is empty",
        id="inputs-empty-list",
    ),
    pytest.param(
        "inputs: [x1, x1]\nlayers:\n  - weights: [1, 2]\n",
        1,
        14,
        "x1]",
        "input 2: the name 'x1' is used twice",
        id="inputs-duplicate-name",
    ),
    pytest.param(
        "inputs: 1\nlayers:\n  - neurons: 0\n    weights: 1\n",
        3,
        14,
        "0",
        "layer 1: neurons must be at least 1, got 0",
        id="neurons-zero",
    ),
    pytest.param(
        "inputs: 1\nlayers:\n  - neurons: [h1, h1]\n    weights: [[1], [2]]\n",
        3,
        19,
        "h1]",
        "layer 1: neuron 2: the name 'h1' is used twice",
        id="neuron-names-duplicate",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                weights: [0.3, 0.4]
            """),
        4,
        5,
        "weights",
        "duplicate key 'weights' (first given at line 3)",
        id="duplicate-layer-key",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
            inputs: 3
            """),
        4,
        1,
        "inputs",
        "duplicate key 'inputs' (first given at line 1)",
        id="duplicate-top-key",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: 1
                activation: {name: elu, alpha: 1, alpha: 2}
            """),
        4,
        39,
        "alpha: 2",
        "duplicate key 'alpha' (first given at line 4)",
        id="duplicate-key-in-flow-mapping",
    ),
    pytest.param(
        yaml("""\
            inputs: &n 1
            layers:
              - weights: 1
            """),
        1,
        9,
        "&n",
        "anchors (&name) are not allowed",
        id="anchor",
    ),
    pytest.param(
        yaml("""\
            inputs: &n 1
            layers:
              - weights: 1
                biases: *n
            """),
        4,
        13,
        "*n",
        "aliases (*name) are not allowed",
        id="alias",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - <<: {weights: 1}
            """),
        3,
        5,
        "<<",
        "merge keys (<<) are not allowed",
        id="merge-key",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - weights: 1
                biases: !!python/object/apply:os.system ["echo owned"]
            """),
        4,
        13,
        "!!python",
        "tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not allowed",
        id="tag-python-object-apply",
    ),
    pytest.param(
        "inputs: 1\nlayers:\n  - weights: !!float 1\n",
        3,
        14,
        "!!float",
        "tags such as 'tag:yaml.org,2002:float' are not allowed",
        id="tag-float",
    ),
    pytest.param(
        "inputs: !custom 1\nlayers:\n  - weights: 1\n",
        1,
        9,
        "!custom",
        "tags such as '!custom' are not allowed",
        id="tag-local",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            ? [a, b]
            : 1
            layers:
              - weights: 1
            """),
        2,
        3,
        "[a, b]",
        "a key must be a plain name",
        id="complex-key",
    ),
    pytest.param(
        "inputs: 1\nlayers: " + "[" * 70 + "]" * 70 + "\n",
        2,
        9 + 63,
        "[",
        "nesting is deeper than 64 levels",
        id="nesting-too-deep",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - kernel:
                  - [0.1, 0.2]
                  - [0.3, 0.4]
                  - [0.5, 0.6]
            """),
        4,
        7,
        "- [0.1",
        "layer 1: kernel has 3 rows, expected 2 (one per input)",
        id="kernel-wrong-rows",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - neurons: 2
                kernel:
                  - [0.1, 0.2]
                  - [0.3]
            """),
        6,
        9,
        "[0.3]",
        "layer 1: row 2 of kernel has 1 value, expected 2 (one per neuron)",
        id="kernel-ragged",
    ),
    pytest.param(
        "inputs: 2\nlayers:\n  - kernel: [0.1, 0.2]\n",
        3,
        13,
        "[0.1",
        "kernel must be a list of rows (one per input)",
        id="kernel-flat",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - neurons: 2
                weights: [0.1, 0.2]
            """),
        4,
        14,
        "[0.1",
        "a flat list of weights is for a one-neuron layer, and this layer has 2 neurons",
        id="flat-weights-two-neurons",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - neurons:
                  - {name: h1, weights: [0.1, 0.2], bias: 0.3}
                  - {name: h2, weights: [0.1], bias: 0.3}
            """),
        5,
        29,
        "[0.1]",
        "layer 1: neuron 2 (h2): weights has 1 value, expected 2 (one per input to the layer)",
        id="per-neuron-wrong-weight-count",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - neurons:
                  - {name: h1, weights: [0.1], bias: x}
            """),
        4,
        42,
        "x}",
        "layer 1: neuron 1 (h1): bias: 'x' is not a number",
        id="per-neuron-non-numeric-bias",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - neurons:
                  - {name: h1, weights: [0.1], biases: 0.3}
            """),
        4,
        36,
        "biases",
        "layer 1: neuron 1: unknown key 'biases'; did you mean 'bias'?",
        id="per-neuron-unknown-key",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - neurons:
                  - {name: h1, bias: 0.3}
            """),
        4,
        9,
        "{",
        "layer 1: neuron 1 (h1): missing key 'weights'",
        id="per-neuron-without-weights",
    ),
    pytest.param(
        yaml("""\
            inputs: 1
            layers:
              - neurons:
                  - {name: h1, weights: [0.1]}
                weights: [[0.1]]
            """),
        5,
        5,
        "weights",
        "layer 1: weights is given both per neuron and for the layer",
        id="per-neuron-and-layer-weights",
    ),
]


def _variant(text: str, variant: str) -> bytes:
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if variant == "bom" else data


@pytest.mark.parametrize(
    ("command", "variant"),
    [("check", "lf"), ("check", "crlf"), ("check", "bom"), ("forward", "lf")],
    ids=["check", "check-crlf", "check-bom", "forward"],
)
@pytest.mark.parametrize(("text", "line", "column", "at", "fragment"), NETWORK_CASES)
def test_bad_network_file(nncalc, tmp_path, command, variant, text, line, column, at, fragment):
    """Each mistake in a network file is reported at its line and column (CRLF and a BOM shift nothing)."""
    check_own_position(text, line, column, at)
    path = tmp_path / "net.yaml"
    path.write_bytes(_variant(text, variant))
    args = [command, path] + (["--input", "0.1"] if command == "forward" else [])
    assert_refused(run(nncalc, *args), f"{path}:{line}:{column}", fragment)


# YAML 1.1 look-alikes (and other near-numbers) must never become numbers, wherever a number goes.
LOOK_ALIKES = [
    ("no", "'no' is not a number"),
    ("yes", "'yes' is not a number"),
    ("off", "'off' is not a number"),
    ("On", "'On' is not a number"),
    ("1:30", "'1:30' is not a number"),
    ("0x1F", "'0x1F' is not a number"),
    ("0o17", "'0o17' is not a number"),
    ("1_000", "'1_000' is not a number"),
    ("2024-01-01", "'2024-01-01' is not a number"),
    ("~", "'~' is not a number"),
    ("null", "'null' is not a number"),
    (".nan", "'.nan' is not a finite number"),
    (".NaN", "'.NaN' is not a finite number"),
    (".inf", "'.inf' is not a finite number"),
    ("-.inf", "'-.inf' is not a finite number"),
    ("nan", "'nan' is not a finite number"),
    ('"0.5"', "'0.5' is quoted; write the number without quotes"),
    ("'1/2'", "'1/2' is quoted; write the number without quotes"),
    ("1e999", "'1e999' is too large for a 64-bit float"),
    ("1/0", "'1/0' divides by zero"),
]

# Where the value goes: (template, LINE, COL of the value, message prefix).
NUMBER_PLACES = {
    "weight": ("inputs: 2\nlayers:\n  - weights: [0.5, {v}]\n    biases: 0\n", 3, 20, "weights, value 2: "),
    "bias": ("inputs: 1\nlayers:\n  - weights: 0.5\n    biases: {v}\n", 4, 13, "biases: "),
    "activation-parameter": (
        "inputs: 1\nlayers:\n  - weights: 0.5\n    activation: {{name: leaky_relu, negative_slope: {v}}}\n",
        4,
        52,
        "negative_slope: ",
    ),
}


@pytest.mark.parametrize("place", list(NUMBER_PLACES))
@pytest.mark.parametrize(("value", "fragment"), LOOK_ALIKES, ids=[v for v, _ in LOOK_ALIKES])
def test_look_alikes_are_not_numbers(nncalc, write, place, value, fragment):
    template, line, column, prefix = NUMBER_PLACES[place]
    text = template.format(v=value)
    check_own_position(text, line, column, value)
    path = write("net.yaml", text)
    assert_refused(run(nncalc, "check", path), f"{path}:{line}:{column}", prefix + fragment)


def test_python_tag_runs_nothing(nncalc, tmp_path):
    """A tag that would run a command under yaml.unsafe_load is refused and runs nothing."""
    marker = tmp_path / "owned"
    path = tmp_path / "net.yaml"
    path.write_text(
        f'inputs: 1\nlayers:\n  - weights: !!python/object/apply:os.system ["touch {marker}"]\n',
        encoding="utf-8",
    )
    assert_refused(run(nncalc, "check", path), f"{path}:3:14", "are not allowed; write plain values")
    assert not marker.exists()


SEVERAL = yaml("""\
    inputs: 2
    activaton: relu
    layers:
      - name: hidden
        weights:
          - [0.1, 0.2]
          - [0.3]
        activation: sigmod
      - name: middle
        weights: [[0.5, abc]]
      - name: output
        weights: [[1, 1], [1, 1]]
        biases: [0.1, no]
""")


def test_several_mistakes_reported_at_once(nncalc, write):
    """Every mistake of a file is listed in one run, each at its own place."""
    expected = [
        (2, 1, "activaton", "unknown key 'activaton'; did you mean 'activation'?"),
        (7, 9, "[0.3]", "layer 1 (hidden): row 2 of weights has 1 value, expected 2"),
        (8, 17, "sigmod", "unknown activation 'sigmod'; did you mean 'sigmoid'?"),
        (10, 21, "abc", "layer 2 (middle): weights: row 1, value 2: 'abc' is not a number"),
        (13, 19, "no", "layer 3 (output): biases, value 2: 'no' is not a number"),
    ]
    path = write("net.yaml", SEVERAL)
    result = run(nncalc, "check", path)
    for line, column, at, fragment in expected:
        check_own_position(SEVERAL, line, column, at)
        assert_refused(result, f"{path}:{line}:{column}", fragment)
    lines = result.err.splitlines()
    assert len(lines) >= len(expected)
    assert all(line.startswith(f"error: {path}:") for line in lines), result.err


HIDDEN_MISTAKES = [
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [[0.1, abc]]
                biases: [0.1, no]
            """),
        [(3, 21, "abc", "'abc' is not a number"), (4, 19, "no", "biases, value 2: 'no' is not a number")],
        id="bad-weights-hide-bad-biases",
    ),
    pytest.param(
        yaml("""\
            inputs: 2
            layers:
              - weights: [0.1, 0.2]
                weights: [0.3, 0.4]
                biases: yes
            """),
        [(4, 5, "weights", "duplicate key 'weights'"), (5, 13, "yes", "biases: 'yes' is not a number")],
        id="duplicate-key-hides-the-rest",
    ),
]


@pytest.mark.parametrize(("text", "expected"), HIDDEN_MISTAKES)
def test_no_mistake_hides_another(nncalc, write, text, expected):
    path = write("net.yaml", text)
    result = run(nncalc, "check", path)
    for line, column, at, fragment in expected:
        check_own_position(text, line, column, at)
        assert_refused(result, f"{path}:{line}:{column}", fragment)


# -- files that cannot be read ----------------------------------------------------------------


def test_missing_network_file(nncalc, tmp_path):
    path = tmp_path / "missing.yaml"
    assert_refused(run(nncalc, "check", path), str(path), "no such file", single=True)


def test_directory_as_network_file(nncalc, tmp_path):
    assert_refused(
        run(nncalc, "forward", tmp_path, "-i", "1"), str(tmp_path), "is a directory, not a file", single=True
    )


def test_network_path_through_a_file(nncalc, write):
    """``net.yaml/x.yaml``: a path through a regular file."""
    path = write("net.yaml", "inputs: 1\nlayers: [{weights: 1}]\n") / "x.yaml"
    assert_refused(run(nncalc, "check", path), str(path), "cannot read the file", single=True)


def test_network_file_over_size_limit(nncalc, write):
    path = write("net.yaml", "inputs: 1\nlayers: [{weights: 1}]\n")
    result = run(nncalc, "check", path, "--max-file-size", "10")
    assert_refused(result, str(path), "more than the limit of 10 (raise it with --max-file-size)", single=True)


# Undecodable bytes: (bytes, LINE, COL in characters, message fragment).
NOT_UTF8_CASES = [
    pytest.param(b"inputs: 1\nname: caf\xe9\n", 2, 10, "not UTF-8 text (byte 0xe9)", id="latin1-byte"),
    pytest.param(b"inputs: 1\n\xff\n", 2, 1, "not UTF-8 text (byte 0xff)", id="bad-byte-line-start"),
    pytest.param(
        "name: éé ".encode() + b"\xff\n",
        1,
        10,
        "not UTF-8 text (byte 0xff)",
        id="after-multibyte-characters",
    ),
    pytest.param(
        b"\xef\xbb\xbfinputs: 1\n\xff\n",
        2,
        1,
        "not UTF-8 text (byte 0xff)",
        id="after-a-bom",
    ),
]


@pytest.mark.parametrize(("data", "line", "column", "fragment"), NOT_UTF8_CASES)
def test_network_file_not_utf8(nncalc, tmp_path, data, line, column, fragment):
    path = tmp_path / "net.yaml"
    path.write_bytes(data)
    assert_refused(run(nncalc, "check", path), f"{path}:{line}:{column}", fragment, single=True)


def test_control_character_is_located(nncalc, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("inputs: 1\nname: a\x07b\nlayers:\n  - weights: 1\n", encoding="utf-8")
    assert_refused(run(nncalc, "check", path), f"{path}:2:8", "control characters are not allowed")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="caps the address space with RLIMIT_AS")
def test_huge_input_count_is_an_error_not_an_allocation(tmp_path):
    import resource

    limit = 512 * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def check(path):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "nncalc", "check", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            preexec_fn=cap,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    control = tmp_path / "small.yaml"
    control.write_text("inputs: 1000\nlayers:\n  - weights: 1\n", encoding="utf-8")
    small = check(control)  # the same mistake with a small count: a plain exit 2 under the cap
    if small.code != 2 or "Traceback" in small.err:
        pytest.skip("nncalc cannot start under a 512 MB address-space cap here")
    path = tmp_path / "big.yaml"
    path.write_text("inputs: 1000000000000\nlayers:\n  - weights: 1\n", encoding="utf-8")
    assert_refused(check(path), f"{path}:1:9", "'1000000000000' is too large (at most 10,000,000)")


# -- input values -----------------------------------------------------------------------------

NETWORK_2_INPUTS = yaml("""\
    inputs: [x1, x2]
    layers:
      - weights: [[0.1, 0.2], [0.3, 0.4]]
        biases: 0.5
""")

# (arguments after the network file, stdin, files to create, location, fragment);
# {tmp} stands for the test's folder.
INPUT_CASES = [
    pytest.param(
        ["--input", "0.1"], None, {}, "--input '0.1'", "1 value given, expected 2 (x1, x2)", id="too-few-values"
    ),
    pytest.param(
        ["--input", "0.1 0.2 0.3"],
        None,
        {},
        "--input '0.1 0.2 0.3'",
        "3 values given, expected 2",
        id="too-many-values",
    ),
    pytest.param(
        ["--input", "0.1 abc"],
        None,
        {},
        "--input '0.1 abc'",
        "value 2 (column 5): 'abc' is not a number",
        id="non-numeric",
    ),
    pytest.param(
        ["--input", "0x1F,1"], None, {}, "--input '0x1F,1'", "value 1 (column 1): '0x1F' is not a number", id="hex"
    ),
    pytest.param(
        ["--input", "nan,1"],
        None,
        {},
        "--input 'nan,1'",
        "value 1 (column 1): 'nan' is not a finite number",
        id="nan",
    ),
    pytest.param(
        ["--input", "1, inf"],
        None,
        {},
        "--input '1, inf'",
        "value 2 (column 4): 'inf' is not a finite number",
        id="inf",
    ),
    pytest.param(
        ["--input", "1e999,1"],
        None,
        {},
        "--input '1e999,1'",
        "'1e999' is too large for a 64-bit float",
        id="overflowing",
    ),
    pytest.param(["--input", ""], None, {}, "--input ''", "no values given", id="empty"),
    pytest.param(["--input", "   "], None, {}, "--input '   '", "no values given", id="blank"),
    pytest.param(
        ["--input", "0.1,"],
        None,
        {},
        "--input '0.1,'",
        "value 2 (column 5): an empty value is not a number",
        id="trailing-comma",
    ),
    pytest.param([], None, {}, None, "no input given: use --input VALUES", id="neither-input-nor-inputs"),
    pytest.param(
        ["--input", "1,2", "--inputs", "-"], "1,2\n", {}, None, "give --input or --inputs, not both", id="both"
    ),
    pytest.param(
        ["--inputs", "-"],
        "x1,x2\n0.1,0.2\n\n0.3,abc\n",
        {},
        "<stdin>:4:5",
        "'abc' is not a number (column x2)",
        id="stdin-csv-non-numeric-cell",
    ),
    pytest.param(
        ["--inputs", "-"],
        "0.1,0.2\n0.3,no\n",
        {},
        "<stdin>:2:5",
        "'no' is not a number (column x2)",
        id="stdin-csv-no-header-non-numeric-cell",
    ),
    pytest.param(
        ["--inputs", "-"],
        "x1,x2\n0.1,0.2\n.nan,0.3\n",
        {},
        "<stdin>:3:1",
        "'.nan' is not a finite number (NaN and infinities are refused) (column x1)",
        id="stdin-csv-nan-cell",
    ),
    pytest.param(
        ["--inputs", "-"],
        "0.1,abc\n0.3,0.4\n",
        {},
        "<stdin>:1:5",
        "'abc' is not a number (column x2)",
        id="stdin-csv-first-row-non-numeric-cell",
    ),
    pytest.param(
        ["--inputs", "-"],
        'x1,x2\n"0.1\n",0.2\n0.3,abc\n',
        {},
        "<stdin>:4:5",
        "'abc' is not a number (column x2)",
        id="stdin-csv-line-after-multiline-cell",
    ),
    pytest.param(
        ["--inputs", "-"],
        "x1,x3\n0.1,0.2\n",
        {},
        "<stdin>:1:4",
        "unknown column 'x3'; the inputs are x1, x2",
        id="stdin-csv-unknown-header-column",
    ),
    pytest.param(
        ["--inputs", "-"], "0.1,0.2\n0.3\n", {}, "<stdin>:2", "row has 1 value, expected 2", id="stdin-csv-short-row"
    ),
    pytest.param(["--inputs", "-"], "", {}, "<stdin>", "no samples: the input is empty", id="stdin-empty"),
    pytest.param(["--inputs", "-"], "\n \n", {}, "<stdin>", "no samples: the input is empty", id="stdin-blank-lines"),
    pytest.param(
        ["--inputs", "-"], "x1,x2\n", {}, "<stdin>:1", "no samples: only a header row", id="stdin-header-only"
    ),
    pytest.param(
        ["--inputs", "{tmp}/missing.csv"], None, {}, "{tmp}/missing.csv", "no such file", id="inputs-file-missing"
    ),
    pytest.param(
        ["--inputs", "{tmp}"], None, {}, "{tmp}", "is a directory, not a file", id="inputs-file-is-a-directory"
    ),
    pytest.param(
        ["--inputs", "{tmp}/samples.csv"],
        None,
        {"samples.csv": "x2,x1\n0.1,0.2\n0.3,1:30\n"},
        "{tmp}/samples.csv:3:5",
        "'1:30' is not a number (column x1)",
        id="inputs-file-non-numeric-cell",
    ),
    pytest.param(
        ["--inputs", "{tmp}/net.yaml/samples.csv"],
        None,
        {},
        "{tmp}/net.yaml/samples.csv",
        "",
        id="inputs-file-path-through-a-file",
    ),
]


@pytest.mark.parametrize(("args", "stdin", "files", "location", "fragment"), INPUT_CASES)
def test_bad_input_values(nncalc, tmp_path, args, stdin, files, location, fragment):
    network = tmp_path / "net.yaml"
    network.write_text(NETWORK_2_INPUTS, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if location is not None:
        location = location.replace("{tmp}", str(tmp_path))
    assert_refused(run(nncalc, "forward", network, *args, stdin=stdin), location, fragment)


def test_every_bad_input_option_is_reported(nncalc, write):
    """Several --input options with mistakes: each is reported, in one run."""
    network = write("net.yaml", NETWORK_2_INPUTS)
    result = run(nncalc, "forward", network, "-i", "abc,1", "-i", "0.1,0.2", "-i", "0.3")
    assert_refused(result, "--input 'abc,1'", "value 1 (column 1): 'abc' is not a number")
    assert_refused(result, "--input '0.3'", "1 value given, expected 2")
    assert len(result.err.splitlines()) == 2


# -- options ----------------------------------------------------------------------------------

# (arguments, message fragment, the help the message points to)
USAGE_CASES = [
    pytest.param(
        ["forward", "{net}", "-i", "1,2", "--format", "xml"],
        "unknown format 'xml'; this command writes: table, json",
        "nncalc forward --help",
        id="unknown-format",
    ),
    pytest.param(
        ["forward", "{net}", "-i", "1,2", "--frobnicate"],
        "No such option: --frobnicate",
        "nncalc forward --help",
        id="unknown-option",
    ),
    pytest.param(
        ["check", "{net}", "--input", "1,2"],
        "No such option: --input",
        "nncalc check --help",
        id="option-of-another-command",
    ),
    pytest.param(
        ["forward", "{net}", "-i", "1,2", "--precision", "99"],
        "Invalid value for '--precision'",
        "nncalc forward --help",
        id="precision-out-of-range",
    ),
    pytest.param(
        ["forward", "{net}", "-i", "1,2", "--max-file-size", "0"],
        "Invalid value for '--max-file-size'",
        "nncalc forward --help",
        id="max-file-size-zero",
    ),
    pytest.param(["forward"], "Missing argument 'NETWORK'", "nncalc forward --help", id="missing-network"),
    pytest.param(["frobnicate"], "No such command 'frobnicate'", "nncalc --help", id="unknown-command"),
    pytest.param(
        ["forward", "{net}", "-i"],
        "Option '-i' requires an argument",
        "nncalc forward --help",
        id="option-without-value",
    ),
]


@pytest.mark.parametrize(("args", "fragment", "help_command"), USAGE_CASES)
def test_bad_options(nncalc, write, args, fragment, help_command):
    network = write("net.yaml", NETWORK_2_INPUTS)
    args = [str(network) if a == "{net}" else a for a in args]
    lines = assert_refused(run(nncalc, *args), None, fragment, single=True)
    assert lines[0].endswith(f"(see '{help_command}')"), lines


# -- output files are never damaged -----------------------------------------------------------


@pytest.mark.parametrize("spelling", ["same-path", "relative-path", "symlink"])
def test_output_onto_the_network_file_is_refused(nncalc, tmp_path, monkeypatch, spelling):
    network = tmp_path / "net.yaml"
    network.write_text(NETWORK_2_INPUTS, encoding="utf-8")
    before = network.read_bytes()
    if spelling == "same-path":
        output = network
    elif spelling == "relative-path":
        monkeypatch.chdir(tmp_path)
        output = "./net.yaml"
    else:
        output = tmp_path / "link.yaml"
        output.symlink_to(network)
    result = run(nncalc, "forward", network, "-i", "0.1,0.2", "--output", output)
    assert_refused(result, str(Path(output)), "is also an input", single=True)
    assert network.read_bytes() == before
    left = {"net.yaml", "link.yaml"} if spelling == "symlink" else {"net.yaml"}
    assert {p.name for p in tmp_path.iterdir()} == left  # no temporary file left


def test_output_onto_the_inputs_file_is_refused(nncalc, tmp_path):
    network = tmp_path / "net.yaml"
    network.write_text(NETWORK_2_INPUTS, encoding="utf-8")
    samples = tmp_path / "samples.csv"
    samples.write_text("x1,x2\n0.1,0.2\n", encoding="utf-8")
    result = run(nncalc, "forward", network, "--inputs", samples, "-o", samples)
    assert_refused(result, str(samples), "is also an input", single=True)
    assert samples.read_text(encoding="utf-8") == "x1,x2\n0.1,0.2\n"


@pytest.mark.parametrize(
    ("network_text", "args", "location", "fragment"),
    [
        pytest.param(NETWORK_2_INPUTS, ["-i", "0.1,abc"], "--input '0.1,abc'", "'abc' is not a number", id="bad-input"),
        pytest.param(
            "inputs: 2\nlayers:\n  - weights: [0.1, no]\n", ["-i", "0.1,0.2"], "{net}:3:20", "'no'", id="bad-network"
        ),
    ],
)
def test_failed_run_leaves_existing_output(nncalc, tmp_path, network_text, args, location, fragment):
    network = tmp_path / "net.yaml"
    network.write_text(network_text, encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_bytes(b"previous,results\r\n1,2\r\n")
    result = run(nncalc, "forward", network, *args, "-o", out)
    assert_refused(result, location.replace("{net}", str(network)), fragment)
    assert out.read_bytes() == b"previous,results\r\n1,2\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "out.csv"]  # no temporary file left


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        pytest.param("{tmp}", "is a directory; give a file name", id="directory"),
        pytest.param("{tmp}/no-such-folder/out.csv", "the folder does not exist", id="missing-folder"),
    ],
)
def test_unwritable_output(nncalc, tmp_path, target, fragment):
    network = tmp_path / "net.yaml"
    network.write_text(NETWORK_2_INPUTS, encoding="utf-8")
    target = target.replace("{tmp}", str(tmp_path))
    assert_refused(run(nncalc, "forward", network, "-i", "1,2", "-o", target), target, fragment, single=True)


# -- through a real process: nothing but error lines reaches a terminal -----------------------


@pytest.mark.parametrize(
    ("text", "args", "stdin", "location", "fragment"),
    [
        pytest.param(
            "inputs: 1\nlayers:\n  - weights: 1\n    biases: !!python/object/apply:os.system [true]\n",
            ["check"],
            None,
            "{net}:4:13",
            "are not allowed; write plain values",
            id="tag",
        ),
        pytest.param(
            "inputs: 2\nlayers:\n  - weights:\n      - [0.1, 0.2]\n      - [0.3]\n",
            ["forward", "-i", "1,2"],
            None,
            "{net}:5:9",
            "row 2 of weights has 1 value, expected 2 (one per input)",
            id="ragged-weights",
        ),
        pytest.param(
            NETWORK_2_INPUTS,
            ["forward", "--inputs", "-"],
            "x1,x2\n0.1,0.2\n0.3,1_000\n",
            "<stdin>:3:5",
            "'1_000' is not a number (column x2)",
            id="stdin-csv",
        ),
        pytest.param(
            NETWORK_2_INPUTS,
            ["forward", "-i", "1", "-i", "nan,2"],
            None,
            "--input 'nan,2'",
            "'nan' is not a finite number",
            id="bad-input-values",
        ),
        pytest.param(
            NETWORK_2_INPUTS,
            ["forward", "-i", "1,2", "-o", "{net}/out.csv"],
            None,
            "{net}/out.csv",
            "",
            id="output-path-through-a-file",
        ),
    ],
)
def test_real_process(tmp_path, text, args, stdin, location, fragment):
    network = tmp_path / "net.yaml"
    network.write_text(text, encoding="utf-8")
    command, *rest = args
    rest = [a.replace("{net}", str(network)) for a in rest]
    result = run_process(command, network, *rest, stdin="" if stdin is None else stdin)
    assert_refused(result, location.replace("{net}", str(network)), fragment)


def test_a_file_wrong_throughout_gets_its_first_fifty_problems_and_a_count_of_the_rest(nncalc, tmp_path):
    """500 rows of text where numbers belong are 1,000 problems: the first 50 are printed, each on
    its line, then one line counting the other 950; the exit status is 2."""
    path = tmp_path / "net.yaml"
    path.write_text("inputs: 2\nlayers:\n  - weights: [" + ", ".join(["[a, b]"] * 500) + "]\n", encoding="utf-8")
    result = nncalc("check", path)
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 51 and all(line.startswith("error: ") for line in lines)
    assert lines[0].endswith("layer 1: weights: row 1, value 1: 'a' is not a number")
    assert lines[-1] == "error: 950 more problems not shown; fix these first"
