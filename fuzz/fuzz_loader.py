#!/usr/bin/env python3
"""Fuzz target for the network loader: any bytes either load or are refused with ``InputError``.

Each input is checked twice: decoded as UTF-8 (errors="replace") and given to
``nncalc.loader.parse_network``, and raw, written to a file and read by
``nncalc.loader.load_network`` (so the UTF-8 and BOM handling is fuzzed too).

The contract checked (``check_text``/``check_file``), the same one tests/test_fuzz_loader.py
and tests/test_properties.py apply:

- the only exception is ``InputError``; anything else is a finding;
- every problem has a Location naming the source; a line and column, where given, are
  1-based and inside the text (a line that exists, a column at most one past its end);
- a "control characters are not allowed" error points exactly at the first such character;
- a network that loads is consistent (each layer's inputs are the previous layer's neurons,
  finite float64 weights) and a forward pass over it raises nothing;
- reading rows of numbers in one go (``nncalc.yamlsource``'s fast path) changes nothing:
  the text read with it and without it gives the same nodes, the same network or the same
  problems (``check_same_either_way``).

Run it with atheris (``pip install atheris``); see fuzz/README.md:

    python fuzz/fuzz_loader.py -max_total_time=600 fuzz/corpus/

Known bugs (see ``known_bug``) are findings too, so a fuzzing run stops at the first one;
set ``NNCALC_FUZZ_SKIP_KNOWN=1`` to pass over them and look for new ones.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

try:
    import atheris
except ImportError:  # the in-suite run (tests/test_fuzz_loader.py) needs only this module's checks
    atheris = None

if atheris is not None and __name__ == "__main__":
    # Instrument nncalc for coverage feedback before anything imports it (PyYAML parses in C).
    with atheris.instrument_imports(include=["nncalc"]):
        import nncalc.engine
        import nncalc.loader

import numpy as np

import nncalc.yamlsource
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.loader import load_network, parse_network
from nncalc.yamlsource import MapNode, ScalarNode, SeqNode, load_yaml

SOURCE = "<fuzz>"
BOM = b"\xef\xbb\xbf"

# Line breaks as YAML (libyaml) counts them, and the characters its reader accepts.
_YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL_MESSAGE = "YAML error: control characters are not allowed"


SKIPPED: dict[str, int] = {}  # known bug -> how many inputs hit it (with skip_known)
REPORT_SKIPPED = False  # print each known bug the first time it is skipped (set when fuzzing)


class Finding(AssertionError):
    """The loader broke its contract on an input (other than by raising a foreign exception)."""


def lines_of(text: str) -> tuple[list[str], list[str]]:
    """The text's lines as YAML counts them (CR, LF, CRLF, NEL, LS, PS) and as split on LF only."""
    return _YAML_BREAKS.split(text), text.split("\n")


def within(text: str | tuple[list[str], list[str]], line: int, column: int | None) -> bool:
    """A 1-based line (and column, at most one past the line's end) inside the text (or its
    ``lines_of``), either way of counting lines."""
    for lines in lines_of(text) if isinstance(text, str) else text:
        if 1 <= line <= len(lines) and (column is None or 1 <= column <= len(lines[line - 1]) + 1):
            return True
    return False


def first_control(text: str) -> tuple[int, int, int] | None:
    """Where YAML's reader must stop: (index, line, column) of the first character it refuses,
    lines counted as YAML counts them (CR, LF, CRLF, NEL, LS, PS), as the parser's own marks are."""
    match = _NOT_PRINTABLE.search(text)
    if match is None:
        return None
    index = match.start()
    breaks = list(_YAML_BREAKS.finditer(text[:index]))
    line_start = breaks[-1].end() if breaks else 0
    return index, len(breaks) + 1, index - line_start + 1


def known_bug(error: BaseException, text: str) -> str | None:
    """The label of a known, reported bug this failure is an instance of, or None.

    Each label has strict xfail regression tests (FINDINGS in tests/test_fuzz_loader.py); when
    a bug is fixed, remove its label here along with the xfail marker.
    """
    # None open: the two found so far (a control character located by libyaml's byte offset,
    # an error at the end of a text placed past its last line) are fixed and kept in KEPT.
    return None


class Hang(Exception):
    """An input took longer than the time limit."""


@contextmanager
def time_limit(seconds: float):
    """Raise ``Hang`` in the block after ``seconds`` (where SIGALRM exists, in the main thread)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_error(error: InputError, text: str, source: str) -> None:
    """Every problem of ``error`` is located in ``source`` and, where it has a line, inside ``text``."""
    if not error.problems:
        raise Finding("InputError without problems")
    lines = lines_of(text)
    for problem in error.problems:
        where = problem.location
        if not problem.message or not isinstance(problem.message, str):
            raise Finding(f"a problem without a message: {problem!r}")
        if where is None:
            raise Finding(f"a problem without a location: {problem.message!r}")
        if where.source != source:
            raise Finding(f"{problem}: the location names {where.source!r}, not {source!r}")
        if where.line is None:
            if where.column is not None:
                raise Finding(f"{problem}: a column without a line")
            continue
        if problem.message.startswith(_CONTROL_MESSAGE):
            spot = first_control(text)
            if spot is None or (where.line, where.column) != spot[1:]:
                raise Finding(f"{problem}: the first control character is at {spot and spot[1:]}")
        if not within(lines, where.line, where.column):
            yaml_lines = lines[0]
            end = not _YAML_BREAKS.search(text[-1:] or "\n") and (where.line, where.column) == (len(yaml_lines) + 1, 1)
            raise Finding(
                f"{problem}: line {where.line}, column {where.column} is "
                + ("past the end of the text" if end else "outside the text")
                + f" ({len(yaml_lines)} lines)"
            )


def check_network(network) -> None:
    """A network that loaded is consistent, and a forward pass over it raises nothing."""
    n_in = network.n_inputs
    if n_in < 1 or not network.layers:
        raise Finding(f"a network with {n_in} inputs and {len(network.layers)} layers")
    for index, layer in enumerate(network.layers):
        if not layer.dense:  # a spatial layer: its shapes chain, its numbers are finite, its cells named once
            if layer.n_inputs != n_in or min(layer.output_shape) < 1 or len(set(layer.neurons)) != layer.n_neurons:
                raise Finding(f"layer {index + 1}: {layer.kind} {layer.input_shape} → {layer.output_shape}, {n_in} in")
            for values in (getattr(layer, "weights", None), getattr(layer, "biases", None)):
                if values is not None and not np.isfinite(values).all():
                    raise Finding(f"layer {index + 1}: a non-finite weight or bias was accepted")
            n_in = layer.n_neurons
            continue
        w, b = layer.weights, layer.biases
        if w.dtype != np.float64 or w.ndim != 2 or w.shape[1] != n_in or b.shape != (w.shape[0],):
            raise Finding(f"layer {index + 1}: weights {w.shape}, biases {b.shape}, {n_in} inputs")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise Finding(f"layer {index + 1}: a non-finite weight or bias was accepted")
        if len(layer.neurons) != w.shape[0] or len(set(layer.neurons)) != len(layer.neurons):
            raise Finding(f"layer {index + 1}: neurons {layer.neurons!r} for {w.shape[0]} rows")
        n_in = w.shape[0]
    trace = forward(network, np.ones((1, network.n_inputs)))
    if trace.output.shape != (1, network.layers[-1].n_neurons):
        raise Finding(f"forward gave an output of shape {trace.output.shape}")
    for index, (layer, values) in enumerate(zip(network.layers, trace.layers, strict=True)):
        if values.z.shape != (1, layer.n_neurons) or values.a.shape != (1, layer.n_neurons):
            raise Finding(f"layer {index + 1}: z {values.z.shape}, a {values.a.shape} for {layer.n_neurons} values")


def _checked(run, text: str, source: str, skip_known: bool) -> None:
    try:
        try:
            network = run()
        except InputError as error:
            check_error(error, text, source)
        else:
            check_network(network)
    except Exception as error:
        label = known_bug(error, text) if skip_known else None
        if label is None:
            raise
        if label not in SKIPPED and REPORT_SKIPPED:
            print(f"\nskipping known bug {label!r}: {type(error).__name__}: {str(error)[:300]}", file=sys.stderr)
        SKIPPED[label] = SKIPPED.get(label, 0) + 1


def check_text(text: str, source: str = SOURCE, skip_known: bool = False) -> None:
    """``parse_network`` on text keeps the contract (see the module's docstring)."""
    _checked(lambda: parse_network(text, source), text, source, skip_known)
    check_same_either_way(text, source)


@contextmanager
def rows_read_one_by_one():
    """Within the block, nncalc.yamlsource finds no number rows to read in one go."""
    with mock.patch.object(nncalc.yamlsource, "_number_rows", lambda text: {}):
        yield


def _outcome(run):
    try:
        return "ok", run()
    except InputError as error:
        return "refused", [str(p) for p in error.problems]


def describe_nodes(node) -> tuple:
    """A node tree as plain tuples (kind, line, column, content), to compare two readings."""
    if isinstance(node, ScalarNode):
        return ("scalar", node.line, node.column, node.text, node.quoted)
    if isinstance(node, SeqNode):
        return ("seq", node.line, node.column, tuple(describe_nodes(item) for item in node.items))
    if isinstance(node, MapNode):
        entries = tuple((describe_nodes(k), describe_nodes(v)) for k, v in node.entries.values())
        return ("map", node.line, node.column, entries)
    raise Finding(f"an unknown node {node!r}")


def describe_network(network) -> tuple:
    """A network's every number (as bits), text, name and layout, to compare two readings."""
    layers = tuple(
        (
            layer.name,
            layer.kind,
            repr(layer),  # a spatial layer's shapes, stride, padding, text and layout; its numbers' bits below
            getattr(layer, "weights", np.zeros(0)).tobytes(),
            getattr(layer, "biases", np.zeros(0)).tobytes(),
        )
        if not layer.dense
        else (
            layer.name,
            layer.neurons,
            layer.weights.tobytes(),
            layer.biases.tobytes(),
            layer.weight_text,
            layer.bias_text,
            layer.layout,
            repr(layer.activation),
        )
        for layer in network.layers
    )
    return (
        network.inputs,
        network.name,
        network.description,
        network.inputs_given_as_names,
        network.input_shape,
        layers,
    )


def check_same_either_way(text: str, source: str = SOURCE) -> None:
    """The text read with its number rows in one go and read scalar by scalar agree exactly."""
    fast_nodes = _outcome(lambda: describe_nodes(load_yaml(text, source)))
    fast_network = _outcome(lambda: describe_network(parse_network(text, source)))
    with rows_read_one_by_one():
        slow_nodes = _outcome(lambda: describe_nodes(load_yaml(text, source)))
        slow_network = _outcome(lambda: describe_network(parse_network(text, source)))
    if fast_nodes != slow_nodes:
        raise Finding(f"reading rows in one go changed the document:\n{fast_nodes}\n{slow_nodes}")
    if fast_network != slow_network:
        raise Finding(f"reading rows in one go changed the network:\n{fast_network}\n{slow_network}")


def check_file(data: bytes, path: Path, skip_known: bool = False) -> None:
    """``load_network`` on a file holding ``data`` keeps the contract."""
    path.write_bytes(data)
    text = (data[len(BOM) :] if data.startswith(BOM) else data).decode("utf-8", errors="replace")
    _checked(lambda: load_network(path), text, str(path), skip_known)


def check(data: bytes, path: Path, skip_known: bool = False) -> None:
    """The fuzz target: the bytes as text, then as a file at ``path``."""
    check_text(data.decode("utf-8", errors="replace"), skip_known=skip_known)
    check_file(data, path, skip_known=skip_known)


# Tokens that help the fuzzer build network files: keys, activation names, YAML punctuation
# and the values nncalc must refuse. Written to a libFuzzer dictionary unless -dict= is given.
# fmt: off
DICTIONARY = [
    "inputs: ", "layers:", "  - ", "weights: ", "kernel: ", "biases: ", "bias: ", "neurons: ", "name: ",
    "activation: ", "description: ", "negative_slope", "alpha", "approximate", "beta", "threshold", "at_zero",
    "sigmoid", "relu", "softmax", "gelu", "tanh", "softplus", "step", "leaky_relu", "elu", "selu", "mish",
    "[[", "]]", "[", "]", "{", "}", ", ", ": ", "\n", "\n  - ", "\n    ", "- ", "---", "...", "#", "&a ", "*a",
    "<<: ", "!!float ", "? ", "|", ">", "'", '"', "\\u", "\t", "~", "0.15", "-.5", "1e-3", "1/3", "-2/5", "1e999",
    "1/0", "yes", "1:30", "0x1F", ".nan", "1_000", "2001-12-14", "99999999999999999999", "\xef\xbb\xbf",
]
# fmt: on


def _write_dictionary(folder: str) -> str:
    path = os.path.join(folder, "nncalc.dict")
    with open(path, "w", encoding="latin-1") as out:
        for token in DICTIONARY:
            escaped = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else f"\\x{ord(c):02X}" for c in token)
            out.write(f'"{escaped}"\n')
    return path


def main(argv: list[str]) -> None:
    if atheris is None:
        sys.exit("atheris is not installed (pip install atheris); tests/test_fuzz_loader.py runs the same checks")
    global REPORT_SKIPPED
    skip_known = REPORT_SKIPPED = os.environ.get("NNCALC_FUZZ_SKIP_KNOWN") == "1"
    folder = tempfile.mkdtemp(prefix="nncalc-fuzz-")
    path = Path(folder) / "network.yaml"
    # libFuzzer starts child processes (-minimize_crash, -jobs, -fork) by running argv[0] through
    # the shell: make it this interpreter on this script, not the script alone.
    args = [" ".join(shlex.quote(a) for a in (sys.executable, os.path.abspath(argv[0]))), *argv[1:]]
    if not any(arg.startswith("-dict=") for arg in args):
        args.append(f"-dict={_write_dictionary(folder)}")

    def test_one_input(data: bytes) -> None:
        check(data, path, skip_known=skip_known)

    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
