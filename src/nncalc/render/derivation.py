"""Each neuron's derivation, as a person writes it: ``z = 0.15 × 0.1 + 0.4 = 0.415``.

Steps are built from the trace (nothing is recomputed) into small structures that the
text, Markdown and LaTeX renderers each write in their own notation. A step whose shown
numbers, worked out exactly, do not give its shown result (the inputs it shows are rounded)
is written with ``≈`` instead of ``=``: ``z = 3 × 0.3333 ≈ 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.records import record
from nncalc.render.numbers import MINUS, relation, show, unicode_minus, value_of

MAX_TERMS = 8  # beyond this many inputs, a sum is written as Σ


@record
class NeuronSteps:
    """The two steps of one neuron for one sample, with every number already formatted."""

    neuron: str
    terms: tuple[tuple[str, str], ...]  # (weight as written, input value) per input
    bias: str | None  # as written; None where the file gives no bias
    z: str
    layer_z: tuple[str, ...]  # every z of the layer (softmax's formula needs them)
    a: str
    activation: BoundActivation
    z_is: str = "="  # "≈" where the shown terms, worked out exactly, do not give the shown z
    a_is: str = "="  # "≈" where the activation of the shown z does not give the shown a


def z_relation(terms: Sequence[tuple[str, str]], bias: str | None, z: str, precision: int) -> str:
    """``=`` where Σ w·x + b of the shown texts, worked out exactly, comes out as the shown z; else ``≈``.

    A sum written as Σ (more than MAX_TERMS terms) shows no numbers to check.
    """
    if len(terms) > MAX_TERMS:
        return "="
    weights = [value_of(w) for w, _ in terms]
    inputs = [value_of(x) for _, x in terms]
    b = value_of(bias) if bias is not None else Fraction(0)
    if b is None or None in weights or None in inputs:
        return "="  # an infinity or NaN shown: nothing to work out
    return relation(sum((w * x for w, x in zip(weights, inputs, strict=True)), b), z, precision)


def activation_of_shown(activation: BoundActivation, layer_z: Sequence[str]) -> np.ndarray:
    """The activation applied to the layer's z as shown (all of them: softmax reads the whole layer)."""
    shown = np.array([[_float(text) for text in layer_z]], dtype=float)
    with np.errstate(all="ignore"):
        return activation(shown)[0]


def _float(text: str) -> float:
    """A shown or written number as a float: ``0.415``, ``1/3``, ``nan``."""
    value = value_of(text)
    if value is not None:
        return float(value)
    try:
        return float(text.replace(MINUS, "-"))
    except ValueError:
        return float("nan")


def layer_steps(
    network: Network,
    trace: Trace,
    layer_index: int,
    sample: int,
    input_texts: tuple[str, ...] | None,
    precision: int,
) -> list[NeuronSteps]:
    """The derivation of every neuron of one layer for one sample."""
    layer = network.layers[layer_index]
    if layer_index == 0 and input_texts is not None:
        received = tuple(input_texts)
    else:
        received = tuple(show(v, precision) for v in trace.activations(layer_index)[sample])
    z_values = trace.layers[layer_index].z[sample]
    a_values = trace.layers[layer_index].a[sample]
    layer_z = tuple(show(v, precision) for v in z_values)
    # a file without biases shows none; after training the biases may no longer be 0
    shown_bias = [layer.layout.biases != "absent" or layer.biases[j] != 0 for j in range(layer.n_neurons)]
    a_of_shown = activation_of_shown(layer.activation, layer_z)
    steps = []
    for j, neuron in enumerate(layer.neurons):
        terms = tuple(zip(layer.weight_text[j], received, strict=True))
        bias = layer.bias_text[j] if shown_bias[j] else None
        a = show(a_values[j], precision)
        steps.append(
            NeuronSteps(
                neuron=neuron,
                terms=terms,
                bias=bias,
                z=layer_z[j],
                layer_z=layer_z,
                a=a,
                activation=layer.activation,
                z_is=z_relation(terms, bias, layer_z[j], precision),
                a_is=relation(float(a_of_shown[j]), a, precision),
            )
        )
    return steps


def _plain(text: str) -> str:
    """A number's text without a leading ``+``, which a sum writes as its operator."""
    return text[1:] if text.startswith("+") else text


def _number(text: str) -> str:
    """A number as the text derivation writes it: no leading ``+``, and ``−`` as its minus sign."""
    return unicode_minus(_plain(text))


def _paren(text: str) -> str:
    """A negative number in parentheses, where it follows an operator: ``(−0.5)``."""
    text = _number(text)
    return f"({text})" if text.startswith(MINUS) else text


def _signed(text: str, first: bool) -> str:
    """A term in a sum: ``0.15 × 0.1`` first, then `` + 0.15 × 0.1`` or `` − 0.15 × 0.1``."""
    text = _number(text)
    if first:
        return text
    if text.startswith(MINUS):
        return f" − {text[1:]}"
    return f" + {text}"


class TextNumbers(Sequence[str]):
    """Numbers' texts converted only when read: the layer's z for a formula that may use them.

    Softmax's formula reads the whole layer's z, other activations none; converting them for
    every neuron would make a layer's derivation take time growing with its width squared.
    """

    def __init__(self, texts: Sequence[str], convert: Callable[[str], str]) -> None:
        self._texts = texts
        self._convert = convert

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._convert(text) for text in self._texts[index]]
        return self._convert(self._texts[index])


def z_text(step: NeuronSteps) -> str:
    """``z = 0.15 × 0.1 + 0.4 = 0.415``."""
    if len(step.terms) > MAX_TERMS:
        body = "Σᵢ wᵢ × xᵢ" + (" + b" if step.bias is not None else "")
        return f"z = {body} = {_number(step.z)}"
    parts = []
    for k, (w, x) in enumerate(step.terms):
        parts.append(_signed(f"{_plain(w)} × {_paren(x)}", k == 0))
    if step.bias is not None:
        parts.append(_signed(step.bias, False))
    return f"z = {''.join(parts)} {step.z_is} {_number(step.z)}"


def a_text(step: NeuronSteps) -> str:
    """``a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023``."""
    a = _number(step.a)
    formula = step.activation.text(_number(step.z), TextNumbers(step.layer_z, _number))
    if formula == a:
        return f"a = {a}"
    return f"a = {formula} {step.a_is} {a}"


def graded_step(network: Network, grade, mark, precision: int) -> str:
    """The step behind a graded value, written with the person's own earlier numbers."""
    layer = network.layers[mark.layer]
    graded = grade.layers[mark.layer]
    j = mark.neuron
    if mark.layer == 0:
        received = grade.input_texts
    else:
        received = tuple(
            answer.text if answer is not None else show(value, precision)
            for answer, value in zip(graded.received_given, graded.received, strict=True)
        )
    z_marks = graded.z
    layer_z = tuple(
        m.given.text if m.given is not None else show(v, precision) for m, v in zip(z_marks, graded.z_used, strict=True)
    )
    terms = tuple(zip(layer.weight_text[j], received, strict=True))
    bias = layer.bias_text[j] if layer.layout.biases != "absent" or layer.biases[j] != 0 else None
    if mark.quantity == "z":
        shown_z, shown_a = show(mark.expected, precision), ""
        z_is, a_is = z_relation(terms, bias, shown_z, precision), "="
    else:
        shown_z, shown_a = layer_z[j], show(mark.expected, precision)
        z_is, a_is = "=", relation(float(activation_of_shown(layer.activation, layer_z)[j]), shown_a, precision)
    step = NeuronSteps(
        neuron=layer.neurons[j],
        terms=terms,
        bias=bias,
        z=shown_z,
        layer_z=layer_z,
        a=shown_a,
        activation=layer.activation,
        z_is=z_is,
        a_is=a_is,
    )
    return z_text(step) if mark.quantity == "z" else a_text(step)
