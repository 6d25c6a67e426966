"""``Network`` → YAML text in nncalc's file format, laid out the way the network was read.

Used to save a network (e.g. after a training step) so that ``parse_network`` reads back the
same names, activations and float64 values bit for bit. The text is written by hand, not by
``yaml.dump``, to keep the readable layout of README.md ("The network file").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.network import Layer, Network

HEADER = "# written by nncalc"

# Text that YAML (1.1 or 1.2, block or flow context) reads back as the same string when unquoted:
# a letter or underscore first, then letters, digits, "_", "-", "." with single inner spaces.
_PLAIN = re.compile(r"[^\W\d][\w.\-]*(?: [\w.\-]+)*")
# Words YAML 1.1 reads as booleans or null, in any case.
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
# Characters written as themselves inside double quotes: printable, and not a YAML line break.
_RAW = re.compile(r"[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def dump_network(network: Network) -> str:
    """The network as YAML text that ``parse_network`` reads back as the same network."""
    lines = [HEADER]
    if network.name is not None:
        lines.append(f"name: {_string(network.name)}")
    if network.description is not None:
        lines.append(f"description: {_string(network.description)}")
    if network.inputs_given_as_names:
        lines.append(f"inputs: {_flow(_string(name) for name in network.inputs)}")
    else:
        lines.append(f"inputs: {network.n_inputs}")
    if network.activation is not None:
        lines.append(f"activation: {_activation(network.activation)}")
    lines.append("layers:")
    for layer in network.layers:
        lines.extend(_layer(layer))
    return "\n".join(lines) + "\n"


def _layer(layer: Layer) -> list[str]:
    """A layer's lines, as an item of ``layers:`` (keys indented under ``  - ``)."""
    layout = layer.layout
    body: list[str] = []
    if layout.name_given:
        body.append(f"name: {_string(layer.name)}")
    if layout.weights == "neurons":
        body.append("neurons:")
        for name, row, bias in zip(layer.neurons, layer.weights, layer.biases, strict=True):
            body.append(f"  - {{name: {_string(name)}, weights: {_numbers(row)}, bias: {_number(bias)}}}")
    else:
        if layout.neurons == "count":
            body.append(f"neurons: {layer.n_neurons}")
        elif layout.neurons == "names":
            body.append(f"neurons: {_flow(_string(name) for name in layer.neurons)}")
        body.extend(_weights(layer))
        biases = _biases(layer)
        if biases is not None:
            body.append(f"biases: {biases}")
    if layout.activation_given:
        body.append(f"activation: {_activation(layer.activation)}")
    return [("  - " if i == 0 else "    ") + line for i, line in enumerate(body)]


def _weights(layer: Layer) -> list[str]:
    """``weights``/``kernel`` in the layer's form, or a matrix when the values no longer fit it."""
    weights, form = layer.weights, layer.layout.weights
    if form == "scalar" and weights.shape == (1, 1):
        return [f"weights: {_number(weights[0, 0])}"]
    if form == "flat" and weights.shape[0] == 1:
        return [f"weights: {_numbers(weights[0])}"]
    key, rows = ("kernel", weights.T) if form == "kernel" else ("weights", weights)
    return [f"{key}:", *(f"  - {_numbers(row)}" for row in rows)]


def _biases(layer: Layer) -> str | None:
    """``biases`` as written (absent, one number, a list), or the smallest form that holds them now."""
    texts = [_number(b) for b in layer.biases]
    all_zero = all(text == "0.0" for text in texts)  # +0.0 only: absent reads back as +0.0
    shared = len(set(texts)) == 1
    form = layer.layout.biases
    if form == "absent" and all_zero:
        return None
    if form == "list" or not shared:
        return _flow(texts)
    return texts[0]


def _activation(activation: BoundActivation) -> str:
    """``relu``, or ``{name: leaky_relu, negative_slope: 0.3}`` when parameters differ from defaults."""
    changed = activation.changed_params
    if not changed:
        return activation.name
    params = ", ".join(
        f"{key}: {_string(value) if isinstance(value, str) else _number(value)}" for key, value in changed.items()
    )
    return f"{{name: {activation.name}, {params}}}"


def _number(value: float) -> str:
    """The shortest text that reads back as the same float64; NaN and infinities cannot be written."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot write {number!r}: a network file holds finite numbers only")
    text = repr(number)
    mantissa, e, exponent = text.partition("e")
    if e:
        # 1.0e-05 rather than 1e-05: the same float, and a number to YAML 1.1 readers too
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text


def _numbers(values: Iterable[float] | np.ndarray) -> str:
    return _flow(_number(v) for v in values)


def _flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _string(text: str) -> str:
    """Text as a YAML scalar that reads back as the same string: plain when safe, else double-quoted."""
    if text == "":
        raise ValueError("cannot write an empty name: a network file needs some text")
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML11_WORDS:
        return text
    return '"' + "".join(_escape(char) for char in text) + '"'


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if _RAW.fullmatch(char):
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
