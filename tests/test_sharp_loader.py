"""The network file's sharp edges: names, tabs, line endings, numbers, sizes, equality, writing back.

Each test here pins a behaviour a person meets when a file is not quite what the
loader expects: every answer is worked out by hand (or with ``math``/``fractions``)
from the case's own text, never taken from nncalc's output.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from nncalc.activations import lookup
from nncalc.errors import InputError
from nncalc.loader import parse_network
from nncalc.numbers import NotANumber, parse_number
from nncalc.records import record
from nncalc.schema import network_schema
from tests.conftest import CONFIGS, DENSE_CONFIGS, ROOT, Result, run_process


def yaml(text: str) -> str:
    """A network file written indented in the test, as it is on disk."""
    return textwrap.dedent(text)


def problems_of(text: str, source: str = "f.yaml") -> list[str]:
    """Every ``FILE:LINE:COL: message`` the loader reports for ``text``."""
    with pytest.raises(InputError) as caught:
        parse_network(text, source)
    return [str(problem) for problem in caught.value.problems]


# -- activation names: case, '-', '_' and spaces do not matter ----------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("ReLU", "relu"),
        ("LeakyReLU", "leaky_relu"),
        ("leaky-relu", "leaky_relu"),
        ("leaky_relu", "leaky_relu"),
        ("Leaky ReLU", "leaky_relu"),
        ("Hardsigmoid", "hard_sigmoid"),
        ("Hard-Sigmoid", "hard_sigmoid"),
        ("Sigmoid", "sigmoid"),
        ("tanh", "tanh"),
        ("TanH", "tanh"),
        ("GELU", "gelu"),
        ("ReLU6", "relu6"),
        ("SiLU", "silu"),
        ("Swish", "silu"),
        ("Linear", "identity"),
    ],
)
def test_activation_names_ignore_case_dashes_underscores_and_spaces(written, canonical):
    network = parse_network(f"inputs: 1\nactivation: {written}\nlayers:\n  - weights: 1\n")
    assert network.activation.name == canonical
    assert lookup(written).name == canonical


def test_a_parameterised_activation_takes_any_spelling_of_its_name():
    network = parse_network(
        "inputs: 1\nlayers:\n  - weights: 1\n    activation: {name: LeakyReLU, negative_slope: 0.1}\n"
    )
    activation = network.layers[0].activation
    assert activation.name == "leaky_relu"
    assert activation.params["negative_slope"] == 0.1


@pytest.mark.parametrize(
    ("written", "suggested"),
    [("LeakyReLo", "leaky_relu"), ("Sigmod", "sigmoid"), ("Hard-Sigmoyd", "hard_sigmoid"), ("Soft Plos", "softplus")],
)
def test_a_near_miss_suggests_the_name_whatever_its_spelling(written, suggested):
    (problem,) = problems_of(f"inputs: 1\nlayers:\n  - weights: 1\n    activation: {written}\n")
    assert problem.startswith("f.yaml:4:17: layer 1: activation: unknown activation")
    assert f"did you mean {suggested!r}?" in problem


def test_new_takes_any_spelling_of_the_activation(nncalc, tmp_path):
    target = tmp_path / "exercise.yaml"
    result = nncalc("new", "--inputs", "2", "--layers", "2,1", "--activation", "LeakyReLU", "-o", target)
    assert result.code == 0, result.err
    network = parse_network(target.read_text(encoding="utf-8"))
    assert [layer.activation.name for layer in network.layers] == ["leaky_relu", "leaky_relu"]


def test_new_suggests_for_a_near_miss_whatever_its_spelling(nncalc):
    result = nncalc("new", "--activation", "LeakyReLo")
    assert result.code == 2
    assert "did you mean 'leaky_relu'?" in result.err


def test_the_schema_takes_the_spellings_the_loader_takes():
    validator = jsonschema.Draft202012Validator(network_schema())

    def errors(activation):
        return list(validator.iter_errors({"inputs": 1, "layers": [{"weights": 1, "activation": activation}]}))

    for written in ("ReLU", "LeakyReLU", "leaky-relu", "Hard Sigmoid", "TanH"):
        assert errors(written) == [], written
    assert errors({"name": "LeakyReLU", "negative_slope": 0.1}) == []
    for wrong in ("sigmod", "Re LU x", "leaky relu6"):
        assert errors(wrong), wrong


@pytest.mark.parametrize("written", ["\u212aelu", "\u017figmoid", "re\tlu", "Re\u00a0LU"])
def test_only_ascii_case_dashes_underscores_and_spaces_are_set_aside(written):
    """The Kelvin sign is not a K, the long s not an s, a tab or a no-break space not a space."""
    assert lookup(written) is None


# -- tabs used as indentation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("inputs: 1\nlayers:\n\t- weights: 1\n", 3, 1),
        ("\tinputs: 1\nlayers:\n  - weights: 1\n", 1, 1),
        ("inputs: 1\nlayers:\n  - weights: 1\n\tbiases: 1\n", 4, 1),
        ("inputs: 1\nlayers:\n  - weights: 1\n  \tbiases: 1\n", 4, 3),
        ("inputs: 1\nlayers:\n  - weights:\n\t  - [1]\n", 4, 1),
        ("inputs: 1\nlayers:\n  -\tweights: 1\n", 3, 4),
    ],
)
def test_a_tab_as_indentation_is_named_at_the_tab(text, line, column):
    found = problems_of(text)
    assert found == [f"f.yaml:{line}:{column}: YAML indents with spaces, not tabs: replace this tab with spaces"]
    assert text.splitlines()[line - 1][column - 1] == "\t"  # the case's own position is the tab


def test_a_tab_between_a_key_and_its_value_is_fine():
    """YAML allows tabs as separation inside a line; only indentation must be spaces."""
    network = parse_network("inputs:\t1\nlayers:\n  - weights:\t[[0.5]]\n")
    assert network.layers[0].weights.tolist() == [[0.5]]


# -- line endings: CR (old Mac), CRLF (Windows) and LF are all line breaks -----------------

MISTAKES = [
    # (text with LF line breaks, the location of its one mistake)
    ("inputs: 1\nlayers:\n  - weights: 1\n    biases: [1, 2]\n", "4:13"),
    ("inputs: 1\nlayers:\n  - weights: 1\n    biases: [1, 2\n", "4:18"),
    ("inputs: 1\nlayers:\n  - weights: 1\n    name: a\x07b\n", "4:12"),
    ("inputs: 1\nlayers:\n  - weights: 1\n\tbiases: 1\n", "4:1"),
]


@pytest.mark.parametrize("newline", ["\r", "\r\n"], ids=["CR", "CRLF"])
@pytest.mark.parametrize(("text", "where"), MISTAKES)
def test_a_mistake_is_located_whatever_the_line_breaks(text, where, newline):
    line, column = map(int, where.split(":"))
    assert len(text.split("\n")[line - 1]) + 1 >= column  # the place is on that line of the case
    (found,) = problems_of(text.replace("\n", newline))
    assert found.startswith(f"f.yaml:{where}: "), found
    assert "universal-newline" not in found


def test_a_file_with_cr_line_breaks_reads_as_the_same_network(tmp_path):
    from nncalc.loader import load_network

    text = "# a comment\ninputs: [a, b]\nlayers:\n  - weights:\n      - [0.5, -1/4]\n    biases: 2e-3\n"
    (tmp_path / "lf.yaml").write_bytes(text.encode())
    (tmp_path / "cr.yaml").write_bytes(text.replace("\n", "\r").encode())
    lf, cr = load_network(tmp_path / "lf.yaml"), load_network(tmp_path / "cr.yaml")
    assert cr.inputs == ("a", "b")
    assert cr.layers[0].weights.tolist() == [[0.5, -0.25]]
    assert cr.layers[0].biases.tolist() == [0.002]
    assert cr.layers[0].weight_text == lf.layers[0].weight_text


def test_a_byte_that_is_not_utf8_is_located_after_cr_line_breaks(nncalc, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_bytes("inputs: 1\rlayers:\r  - name: é".encode() + b"\xffb\r    weights: 1\r")
    result = nncalc("check", path)
    assert result.code == 2
    assert result.err == f"error: {path}:3:12: the file is not UTF-8 text (byte 0xff)\n"


# -- every layer is checked, even after a mistake in the one before ------------------------


def test_mistakes_in_two_layers_are_reported_together():
    text = yaml("""\
        inputs: 2
        layers:
          - weights: [[1, 2], [3, 4]]
            biases: [1, 2, 3]
          - weights: [[1, 2, 3]]
        """)
    assert problems_of(text) == [
        "f.yaml:4:13: layer 1: biases has 3 values, expected 2 (one per neuron)",
        "f.yaml:5:15: layer 2: row 1 of weights has 3 values, expected 2 (one per neuron of layer 1)",
    ]


def test_the_next_layer_is_checked_against_the_rows_the_broken_layer_has():
    text = yaml("""\
        inputs: 2
        layers:
          - weights: [[1, 2], [3]]
          - weights: [[1, 2, 3]]
        """)
    assert problems_of(text) == [
        "f.yaml:3:23: layer 1: row 2 of weights has 1 value, expected 2 (one per input)",
        "f.yaml:4:15: layer 2: row 1 of weights has 3 values, expected 2 (one per neuron of layer 1)",
    ]


def test_the_next_layer_is_checked_against_the_neurons_the_broken_layer_declares():
    text = yaml("""\
        inputs: 1
        layers:
          - neurons: 3
            weights: [[1], [2]]
            biases: [1, 2]
          - weights: [[1, 2]]
        """)
    assert problems_of(text) == [
        "f.yaml:4:14: layer 1: weights has 2 rows, expected 3 (one per neuron)",
        "f.yaml:5:13: layer 1: biases has 2 values, expected 3 (one per neuron)",
        "f.yaml:6:15: layer 2: row 1 of weights has 2 values, expected 3 (one per neuron of layer 1)",
    ]


def test_an_unknown_activation_does_not_hide_the_next_layers_mistake():
    text = yaml("""\
        inputs: 1
        layers:
          - weights: [[1], [2]]
            activation: sigmod
          - weights: [[1, 2, 3]]
        """)
    found = problems_of(text)
    assert len(found) == 2
    assert found[0].startswith("f.yaml:4:17: layer 1: activation: unknown activation 'sigmod'")
    assert found[1] == "f.yaml:5:15: layer 2: row 1 of weights has 3 values, expected 2 (one per neuron of layer 1)"


def test_a_broken_neuron_does_not_hide_the_next_layers_mistake():
    text = yaml("""\
        inputs: 2
        layers:
          - neurons:
              - {weights: [1, 2], bias: x}
              - {weights: [3, 4]}
          - weights: [[1, 2, 3]]
        """)
    assert problems_of(text) == [
        "f.yaml:4:33: layer 1: neuron 1: bias: 'x' is not a number",
        "f.yaml:6:15: layer 2: row 1 of weights has 3 values, expected 2 (one per neuron of layer 1)",
    ]


def test_a_layer_whose_width_is_unknown_still_has_its_own_mistakes_checked():
    text = yaml("""\
        inputs: 1
        layers:
          - weights: {a: 1}
          - weights: [[1, 2], [3]]
            biases: [1, 2, 3]
          - weights: [[1, 2]]
        """)
    assert problems_of(text) == [
        "f.yaml:3:14: layer 1: weights must be a list of rows, got a mapping",
        "f.yaml:4:23: layer 2: row 2 of weights has 1 value, expected 2 (as row 1 has; layer 1's width is unknown)",
        "f.yaml:5:13: layer 2: biases has 3 values, expected 2 (one per neuron)",
    ]


def test_a_wrong_value_in_the_weights_does_not_hide_the_next_layers_width():
    text = yaml("""\
        inputs: 2
        layers:
          - weights: [[1, x], [3, 4]]
            biases: [1, 2, 3]
          - kernel: [[1], [2], [3]]
        """)
    assert problems_of(text) == [
        "f.yaml:3:19: layer 1: weights: row 1, value 2: 'x' is not a number",
        "f.yaml:4:13: layer 1: biases has 3 values, expected 2 (one per neuron)",
        "f.yaml:5:13: layer 2: kernel has 3 rows, expected 2 (one per neuron of layer 1)",
    ]


# -- names quoted in messages never carry a raw control character --------------------------

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]


def assert_no_controls(messages: list[str]) -> None:
    for message in messages:
        assert not any(c in message for c in CONTROLS), repr(message)


def test_a_layer_name_with_escape_sequences_is_shown_visibly():
    text = 'inputs: 1\nlayers:\n  - name: "a\\e]0;owned\\ab"\n    weights: [[1, 2]]\n'
    (found,) = problems_of(text)
    assert_no_controls([found])
    assert found.startswith("f.yaml:4:15: layer 1 (a\u241b]0;owned\u2407b): row 1 of weights has 2 values")


def test_a_neuron_name_with_a_bell_is_shown_visibly():
    text = 'inputs: 1\nlayers:\n  - neurons:\n      - {name: "h\\a", weights: [1, 2]}\n'
    (found,) = problems_of(text)
    assert_no_controls([found])
    assert "neuron 1 (h\u2407): weights has 2 values" in found


# -- numbers too small for a float are refused, not read as 0 -----------------------------

SMALLEST = math.ulp(0.0)  # 2**-1074, about 4.94e-324: the smallest float above 0


@pytest.mark.parametrize("text", ["2e-400", "-2e-400", "1e-324", "0.0000000001e-320", "2e-324"])
def test_a_decimal_below_the_smallest_float_is_refused(text):
    assert 0 < abs(Decimal(text)) < Decimal(SMALLEST) / 2  # the case really is below half the smallest
    with pytest.raises(NotANumber, match="too small for a 64-bit float") as caught:
        parse_number(text)
    assert "read as 0" in str(caught.value)


@pytest.mark.parametrize("text", ["0e-400", "-0.000e-999", "0", ".0"])
def test_zero_written_any_way_is_still_zero(text):
    assert parse_number(text) == 0.0


@pytest.mark.parametrize("text", ["3e-324", "5e-324", "1e-320", "2.2250738585072014e-308"])
def test_the_tiniest_floats_are_read(text):
    assert parse_number(text) == float(Fraction(text))  # Fraction reads the decimal exactly; float rounds it once
    assert parse_number(text) > 0


def test_a_fraction_below_the_smallest_float_is_refused():
    text = "1/1" + "0" * 400
    with pytest.raises(NotANumber, match="too small for a 64-bit float"):
        parse_number(text)


def test_a_fraction_with_a_huge_denominator_is_called_too_small_not_too_large():
    text = "1/" + "9" * 100_000
    with pytest.raises(NotANumber) as caught:
        parse_number(text)
    message = str(caught.value)
    assert "too small for a 64-bit float" in message
    assert "too large" not in message
    assert len(message) < 200  # the number is cut, not quoted whole


def test_a_fraction_with_too_many_digits_on_both_sides_says_so():
    text = "3" * 5000 + "/" + "7" * 5000  # about 0.43: neither too large nor too small
    with pytest.raises(NotANumber, match="too many digits"):
        parse_number(text)


def test_a_fraction_near_one_with_long_digits_is_read_exactly():
    numerator, denominator = 10**300 + 1, 10**300
    assert parse_number(f"{numerator}/{denominator}") == float(Fraction(numerator, denominator)) == 1.0


@pytest.mark.parametrize("text", ["1e400", "1" + "0" * 400 + "/1", "-1" + "0" * 400 + "/3"])
def test_a_number_beyond_the_largest_float_is_still_too_large(text):
    with pytest.raises(NotANumber, match="too large for a 64-bit float"):
        parse_number(text)


@pytest.mark.parametrize(
    ("written", "column"),
    [("weights: [[0.5, 2e-400]]", 21), ("weights: 2e-400", 14), ("weights:\n      - [1e-999]", 10)],
)
def test_a_number_read_as_0_is_refused_in_a_file_at_its_place(written, column):
    text = f"inputs: {2 if '0.5' in written else 1}\nlayers:\n  - {written}\n"
    (found,) = problems_of(text)
    line = text.count("\n", 0, text.index("e-")) + 1
    assert found.startswith(f"f.yaml:{line}:{column}: layer 1: ")
    assert "too small for a 64-bit float" in found


def test_an_input_read_as_0_is_refused(nncalc):
    from tests.conftest import CONFIGS

    result = nncalc("forward", CONFIGS / "course-chain.yaml", "--input", "1e-400")
    assert result.code == 2
    assert "too small for a 64-bit float" in result.err


# -- the size cap is enforced while reading, whatever the file says its size is ------------

LINUX_DEVICES = pytest.mark.skipif(
    not (Path("/dev/zero").exists() and Path(f"/proc/{os.getpid()}/statm").exists()),
    reason="needs /dev/zero and /proc (Linux)",
)


def _resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_watched(*args: str, interrupt_above: int | None = None, kill_above: int = 2 << 30) -> Result:
    """``python -m nncalc`` with its memory watched: Ctrl-C once it holds ``interrupt_above`` bytes,
    and a failed test (the process killed) if it ever holds ``kill_above`` or runs 30 s."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline, interrupted = time.monotonic() + 30, False
    try:
        while process.poll() is None:
            resident = _resident_bytes(process.pid)
            if resident > kill_above or time.monotonic() > deadline:
                pytest.fail(f"still reading after {resident:,} bytes in memory (or 30 s); killed")
            if interrupt_above is not None and not interrupted and resident > interrupt_above:
                process.send_signal(signal.SIGINT)
                interrupted = True
            time.sleep(0.005)
    except (FileNotFoundError, ProcessLookupError):
        pass  # it ended between poll() and reading /proc
    finally:
        if process.poll() is None:
            process.kill()
        out, err = process.communicate()
    if interrupt_above is not None:
        assert interrupted, "it ended before holding enough to interrupt"
    return Result(process.returncode, out, err)


@LINUX_DEVICES
def test_a_device_reporting_size_0_is_refused_at_the_cap():
    result = run_watched("check", "/dev/zero", "--max-file-size", "1000")
    assert result.code == 2
    assert (
        result.err
        == "error: /dev/zero: the file holds more than the limit of 1,000 bytes (raise it with --max-file-size)\n"
    )


@LINUX_DEVICES
def test_ctrl_c_stops_reading_an_endless_device():
    result = run_watched("check", "/dev/zero", "--max-file-size", str(10**12), interrupt_above=300 << 20)
    assert result.code == 130
    assert "Traceback" not in result.err


def _fifo_with(tmp_path: Path, data: bytes) -> tuple[Path, threading.Thread]:
    """A named pipe, and a thread writing ``data`` into it once someone opens it to read."""
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    return fifo, writer


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_under_the_cap_is_read(tmp_path):
    from nncalc.loader import load_network

    fifo, writer = _fifo_with(tmp_path, b"inputs: 1\nlayers:\n  - weights: 0.25\n    biases: 0.5\n")
    network = load_network(fifo, max_bytes=1000)
    writer.join(5)
    assert network.layers[0].weights.tolist() == [[0.25]]
    assert network.layers[0].biases.tolist() == [0.5]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_over_the_cap_is_refused(tmp_path):
    from nncalc.yamlsource import read_text

    fifo, writer = _fifo_with(tmp_path, b"# " + b"x" * 3000 + b"\n")
    with pytest.raises(InputError) as caught:
        read_text(fifo, max_bytes=1000)
    writer.join(5)
    assert [p.message for p in caught.value.problems] == [
        "the file holds more than the limit of 1,000 bytes (raise it with --max-file-size)"
    ]


def test_standard_input_named_as_a_file_is_read():
    text = "inputs: 1\nlayers:\n  - weights: 0.25\n    biases: 0.5\n"
    result = run_process("forward", "/dev/stdin", "--input", "2", "--format", "json", stdin=text)
    assert result.code == 0, result.err
    assert json.loads(result.out)["samples"][0]["output"] == [1 / (1 + math.exp(-(0.25 * 2 + 0.5)))]


def test_a_regular_file_over_the_cap_says_its_size(tmp_path):
    from nncalc.yamlsource import read_text

    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 2000)
    with pytest.raises(InputError) as caught:
        read_text(path, max_bytes=1000)
    assert caught.value.problems[0].message == (
        "the file is 2,000 bytes, more than the limit of 1,000 (raise it with --max-file-size)"
    )


# -- records holding arrays compare by value -----------------------------------------------


def test_two_loads_of_the_same_file_are_equal():
    from nncalc.loader import load_network

    path = CONFIGS / "classic-2-2-2.yaml"
    first, second = load_network(path), load_network(path)
    assert first.layers[0].weights is not second.layers[0].weights
    assert first == second


def test_a_changed_weight_makes_networks_unequal():
    from nncalc.loader import load_network

    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    biases = [layer.biases for layer in network.layers]
    same = network.with_parameters([layer.weights.copy() for layer in network.layers], biases)
    weights = [layer.weights.copy() for layer in network.layers]
    weights[1][0, 1] = np.nextafter(weights[1][0, 1], 1.0)  # the smallest change a float can make
    changed = network.with_parameters(weights, biases)
    assert same == network.with_parameters([layer.weights.copy() for layer in network.layers], biases)
    assert changed != same
    assert changed.layers[0] == same.layers[0]
    assert changed.layers[1] != same.layers[1]


def test_traces_of_the_same_pass_are_equal_and_of_another_unequal():
    from nncalc.engine import forward
    from nncalc.loader import load_network

    network = load_network(CONFIGS / "classic-2-2-2.yaml")
    inputs = np.array([[0.05, 0.10]])
    assert forward(network, inputs) == forward(network, inputs.copy())
    assert forward(network, inputs) != forward(network, np.array([[0.05, 0.11]]))


@record
class _Holder:
    value: object


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0]), True),
        (np.array([1.0, 2.0]), np.array([1, 2]), True),  # the same numbers, as 1 == 1.0
        (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), False),
        (np.array([[1.0, 2.0]]), np.array([1.0, 2.0]), False),  # another shape
        (np.array([1.0]), np.array(["1.0"]), False),  # text is never a number
        (np.array(["a", "b"]), np.array(["a", "b"]), True),
        (np.array([1.0]), [1.0], False),  # an array is not a list
        (np.array([]), np.array([]), True),
        ((np.array([1.0]), np.array([2.0])), (np.array([1.0]), np.array([2.0])), True),
        ((np.array([1.0]), np.array([2.0])), (np.array([1.0]), np.array([3.0])), False),
    ],
)
def test_array_fields_compare_by_value_without_errors_or_warnings(left, right, equal):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (_Holder(left) == _Holder(right)) is equal
        assert (_Holder(right) == _Holder(left)) is equal
        assert (_Holder(left) != _Holder(right)) is not equal


def test_a_record_holding_an_array_is_not_hashable():
    """Equal records must hash alike; an array has no hash, so neither has its record."""
    with pytest.raises(TypeError):
        hash(_Holder(np.array([1.0])))


# -- the schema's drift checks hold under python -O ----------------------------------------

DRIFT = """
import nncalc.schema as schema
schema.{name} = (*schema.{name}, "extra")
try:
    schema.network_schema()
except RuntimeError as error:
    print("refused:", error)
else:
    print("built")
"""


@pytest.mark.parametrize("name", ["NETWORK_KEYS", "LAYER_KEYS", "NEURON_KEYS"])
@pytest.mark.parametrize("optimise", [[], ["-O"]], ids=["plain", "-O"])
def test_the_schema_refuses_to_drift_from_the_loader_even_under_O(name, optimise):
    completed = subprocess.run(
        [sys.executable, *optimise, "-c", DRIFT.format(name=name)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("refused: "), completed.stdout
    assert "'extra'" in completed.stdout


# -- writing a network back into the text it was read from --------------------------------

COMMENTED = """\
# A network for the lab, with notes that must survive training.
name: Lab network      # shown in headings
inputs: [i1, i2]
activation: sigmoid
layers:
  # the hidden layer
  - name: hidden
    weights:
      - [0.15, 0.20]   # h1
      - [0.25, 0.30]   # h2
    biases: 0.35       # shared
  - neurons:
      - {name: o1, weights: [0.40, 0.45], bias: 0.60}   # first output
      - {name: o2, weights: [1/2, 0.55]}                # no bias yet
    activation: {name: LeakyReLU, negative_slope: 0.1}
# end
"""


def _bits(array: np.ndarray) -> list[int]:
    """A float64 array's values as their 64-bit patterns: equal only when bit for bit equal (-0.0 too)."""
    return np.ascontiguousarray(array, dtype=np.float64).view(np.int64).ravel().tolist()


def _trained(network, seed: int):
    """The network with every weight and bias changed to a value no text in the file holds."""
    rng = np.random.default_rng(seed)
    return network.with_parameters(
        [rng.normal(size=layer.weights.shape) / 3 for layer in network.layers],
        [rng.normal(size=layer.biases.shape) / 7 for layer in network.layers],
    )


def _assert_same_numbers(read_back, network) -> None:
    for got, want in zip(read_back.layers, network.layers, strict=True):
        assert _bits(got.weights) == _bits(want.weights)
        assert _bits(got.biases) == _bits(want.biases)


def test_writing_into_the_original_keeps_every_comment_and_the_layout():
    from nncalc.writer import dump_network

    network = parse_network(COMMENTED, "lab.yaml")
    trained = network.with_parameters(
        [np.array([[0.5, -0.25], [0.125, 2.0]]), np.array([[1.5, -0.75], [0.0625, 3.0]])],
        [np.array([0.1, 0.2]), np.array([0.7, -0.3])],
    )
    written = dump_network(trained, COMMENTED)
    assert written == (
        COMMENTED.replace("[0.15, 0.20]", "[0.5, -0.25]")
        .replace("[0.25, 0.30]", "[0.125, 2.0]")
        .replace("biases: 0.35", "biases: [0.1, 0.2]")  # no longer one number for both
        .replace("weights: [0.40, 0.45], bias: 0.60}", "weights: [1.5, -0.75], bias: 0.7}")
        .replace("weights: [1/2, 0.55]}", "weights: [0.0625, 3.0], bias: -0.3}")  # a bias where there was none
    )
    _assert_same_numbers(parse_network(written, "lab.yaml"), trained)


@pytest.mark.parametrize("path", DENSE_CONFIGS)  # trained: dense layers only
def test_every_example_file_keeps_its_comments_and_reads_back_bit_for_bit(path):
    from nncalc.loader import load_network
    from nncalc.writer import dump_network

    text = path.read_text(encoding="utf-8")
    trained = _trained(load_network(path), seed=len(text))
    written = dump_network(trained, text)
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert comments, "the example has comments to keep"
    assert [line for line in written.splitlines() if line.lstrip().startswith("#")] == comments
    _assert_same_numbers(parse_network(written, str(path)), trained)


def test_unchanged_numbers_keep_their_text():
    from nncalc.writer import dump_network

    network = parse_network(COMMENTED, "lab.yaml")
    layers = network.layers
    weights = [layer.weights.copy() for layer in layers]
    weights[0][1, 0] = 0.125  # only h2's first weight changes
    written = dump_network(network.with_parameters(weights, [layer.biases for layer in layers]), COMMENTED)
    assert written == COMMENTED.replace("[0.25, 0.30]", "[0.125, 0.30]")


def test_an_unchanged_network_is_written_as_it_was_read():
    from nncalc.writer import dump_network

    network = parse_network(COMMENTED, "lab.yaml")
    assert dump_network(network, COMMENTED) == COMMENTED


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_the_original_line_breaks_are_kept(newline):
    from nncalc.writer import dump_network

    text = COMMENTED.replace("\n", newline)
    network = parse_network(text, "lab.yaml")
    trained = _trained(network, 2)
    written = dump_network(trained, text)
    assert not any(other in written.replace(newline, "") for other in "\r\n")  # no other line break
    assert written.count(newline) == text.count(newline)
    _assert_same_numbers(parse_network(written, "lab.yaml"), trained)


def test_a_bias_added_to_a_block_layer_goes_after_its_weights():
    from nncalc.writer import dump_network

    text = yaml("""\
        inputs: 1
        layers:
          - weights:
              - [0.5]   # the only weight
            activation: relu   # keep
          - weights: [[2]]
        """)
    network = parse_network(text)
    trained = network.with_parameters([np.array([[0.5]]), np.array([[2.0]])], [np.array([0.25]), np.array([-1.5])])
    assert dump_network(trained, text) == yaml("""\
        inputs: 1
        layers:
          - weights:
              - [0.5]   # the only weight
            biases: 0.25
            activation: relu   # keep
          - weights: [[2]]
            biases: -1.5
        """)


def test_kernel_flat_and_scalar_weights_are_edited_in_their_form():
    from nncalc.writer import dump_network

    text = yaml("""\
        inputs: 2
        layers:
          - kernel: [[1, 2], [3, 4]]   # Keras: a row per input
            biases: [0, 0]
          - weights: [5, 6]            # one neuron
            biases: [0]
          - weights: 7                 # one weight
        """)
    network = parse_network(text)
    trained = network.with_parameters(
        [np.array([[0.1, 0.3], [0.2, 0.4]]), np.array([[0.5, 0.6]]), np.array([[0.7]])],
        [np.zeros(2), np.zeros(1), np.zeros(1)],
    )
    assert dump_network(trained, text) == (
        text.replace("[[1, 2], [3, 4]]", "[[0.1, 0.2], [0.3, 0.4]]")
        .replace("[5, 6]", "[0.5, 0.6]")
        .replace("weights: 7", "weights: 0.7")
    )


def test_a_text_of_another_network_falls_back_to_the_plain_form():
    from nncalc.writer import HEADER, dump_network

    network = parse_network(COMMENTED, "lab.yaml")
    other = COMMENTED.replace("name: hidden", "name: first")
    written = dump_network(network, other)
    assert written.startswith(HEADER)
    assert written == dump_network(network)
    _assert_same_numbers(parse_network(written), network)


def test_a_text_that_is_not_a_network_falls_back_to_the_plain_form():
    from nncalc.writer import dump_network

    network = parse_network(COMMENTED, "lab.yaml")
    assert dump_network(network, "inputs: [") == dump_network(network)


def test_two_layers_of_one_name_are_refused_at_the_second_name(tmp_path):
    """Layer names tell layers apart in tables, answers and CSV columns (h.n1.z): a repeat would
    write two columns of one name, so it is refused where it is written, and a given name that
    takes a default one (output) is refused at its layer."""
    from nncalc.errors import InputError
    from nncalc.loader import parse_network

    with pytest.raises(InputError) as caught:
        parse_network(
            "inputs: 1\nlayers:\n  - {name: h, neurons: [n1], weights: 0.5}\n"
            "  - {name: h, neurons: [n1], weights: 0.5}\n",
            "net.yaml",
        )
    assert [str(p) for p in caught.value.problems] == [
        "net.yaml:4:12: layer 2: the name 'h' is layer 1's too; give each layer its own name"
    ]
    with pytest.raises(InputError) as caught:
        parse_network("inputs: 1\nlayers:\n  - {name: output, weights: 0.5}\n  - {weights: 0.5}\n", "net.yaml")
    assert "layer 2: the name 'output' is layer 1's too" in str(caught.value.problems[0])
    assert str(caught.value.problems[0]).startswith("net.yaml:4:5:")


def test_a_flood_of_small_yaml_values_is_refused_where_it_passes_the_cap():
    """[~,~,~,…]: two bytes a value, a few hundred bytes of memory each once located. Past
    MAX_NODES values (outside one-line rows of numbers) the file is refused at that value."""
    from nncalc import yamlsource

    count = yamlsource.MAX_NODES + 100
    text = "inputs: 1\nlayers: [" + ",".join(["~"] * count) + "]\n"
    with pytest.raises(InputError) as caught:
        parse_network(text, "<flood>")
    (problem,) = caught.value.problems
    # values so far: the root mapping, 'inputs', 1, 'layers', the list: the cap is passed at item MAX_NODES − 4
    item = yamlsource.MAX_NODES - 4
    assert (problem.location.line, problem.location.column) == (2, len("layers: [") + 2 * item - 1)
    assert "more than 500,000 YAML values outside one-line rows of numbers" in problem.message


def test_rows_of_numbers_count_as_one_value_each(monkeypatch):
    """A network written in rows holds a handful of values however many weights it has."""
    from nncalc import yamlsource

    monkeypatch.setattr(yamlsource, "MAX_NODES", 20)
    rows = "\n".join("      - [" + ", ".join(["0.5"] * 300) + "]" for _ in range(3))
    network = parse_network(f"inputs: 300\nlayers:\n  - weights:\n{rows}\n    biases: [0, 0, 0]\n")
    assert network.layers[0].weights.shape == (3, 300)
    one_per_line = "inputs: 2\nlayers:\n  - weights:\n      -\n" + "".join(f"        - {v}\n" for v in range(20))
    with pytest.raises(InputError, match="more than 20 YAML values"):
        parse_network(one_per_line)
