"""Grade a person's worked answers the way a teacher marks: error carried forward.

Each value is recomputed from the person's *own* earlier values, so one slip early does
not mark everything after it wrong, and their rounding does not add up into false
errors. A value is right when it is within half a unit of the last digit written
(``0.6023`` claims ±0.00005) of that recomputed value, or of the exact value. For a
wrong value the likely mistake is looked for: a sign, a missing bias, swapped weights,
σ applied twice, a rounding slip.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.answers import Answer, LayerAnswers
from nncalc.engine import Trace, forward, round_half_up
from nncalc.network import Network
from nncalc.numbers import decimals_written
from nncalc.records import record


@record
class Mark:
    """The verdict on one value: what was written, what it should be, and why it may be off."""

    layer: int
    neuron: int
    quantity: str  # "z" or "a"
    given: Answer | None
    expected: float  # recomputed from the person's own earlier values
    exact: float  # from the exact forward pass
    tolerance: float | None
    correct: bool | None  # None where nothing was written
    diagnosis: str | None = None


@record
class GradedLayer:
    """One layer's marks, and the values its recomputation used (for the written-out step)."""

    z: tuple[Mark, ...]
    a: tuple[Mark, ...]
    received: np.ndarray  # what the layer received: the person's values where given
    received_given: tuple[Answer | None, ...]  # the person's answers behind ``received`` (None: recomputed)
    z_used: np.ndarray  # the z each a was recomputed from: the person's where given


@record
class Grade:
    """All marks of an answer sheet, layer by layer, and the exact forward pass."""

    layers: tuple[GradedLayer, ...]
    exact: Trace
    input_texts: tuple[str, ...]

    @property
    def marks(self) -> list[Mark]:
        return [m for layer in self.layers for pair in zip(layer.z, layer.a, strict=True) for m in pair]

    @property
    def wrong(self) -> list[Mark]:
        return [m for m in self.marks if m.correct is False]

    @property
    def right(self) -> list[Mark]:
        return [m for m in self.marks if m.correct is True]

    @property
    def first_wrong(self) -> Mark | None:
        wrong = self.wrong
        return wrong[0] if wrong else None

    @property
    def all_correct(self) -> bool:
        return not self.wrong


def tolerance_for(answer: Answer) -> float:
    """Half a unit in the last digit written: 0.6023 → 0.00005, 0.60 → 0.005; fractions are exact."""
    decimals = decimals_written(answer.text)
    if decimals is None:
        return 1e-12 * max(1.0, abs(answer.value))
    return 0.5 * 10.0 ** (-decimals)


def _within(given: float, target: float, tolerance: float) -> bool:
    return bool(abs(given - target) <= tolerance + 1e-12 * max(1.0, abs(target)))


def grade(
    network: Network,
    inputs: np.ndarray,
    input_texts: tuple[str, ...],
    answers: list[LayerAnswers],
    tolerance: float | None = None,
    decimals: int | None = None,
    round_z: bool = False,
) -> Grade:
    """Mark every written value of one sample (``inputs`` of shape (inputs,))."""
    x = np.asarray(inputs, dtype=np.float64).reshape(1, -1)
    exact = forward(network, x, decimals=decimals, round_z=round_z)
    received = x[0]
    received_given: tuple[Answer | None, ...] = (None,) * network.n_inputs
    layers = []
    for index, (layer, sheet) in enumerate(zip(network.layers, answers, strict=True)):
        z_expected = layer.weights @ received + layer.biases
        if decimals is not None and round_z:
            z_expected = round_half_up(z_expected, decimals)
        z_marks = _judge(index, "z", sheet.z, z_expected, exact.layers[index].z[0], tolerance)
        z_used = _use(sheet.z, z_expected)
        a_expected = layer.activation(z_used[None, :])[0]
        if decimals is not None:
            a_expected = round_half_up(a_expected, decimals)
        a_marks = _judge(index, "a", sheet.a, a_expected, exact.layers[index].a[0], tolerance)
        z_marks = tuple(
            _diagnose_z(m, layer, received, received_given, network, index) if m.correct is False else m
            for m in z_marks
        )
        a_marks = tuple(
            _diagnose_a(m, layer.activation, z_used, network, index) if m.correct is False else m for m in a_marks
        )
        layers.append(GradedLayer(z_marks, a_marks, received, received_given, z_used))
        received = _use(sheet.a, a_expected)
        received_given = sheet.a
    return Grade(tuple(layers), exact, tuple(input_texts))


def _use(sheet: tuple[Answer | None, ...], expected: np.ndarray) -> np.ndarray:
    """The person's values where written, the recomputed ones elsewhere."""
    return np.array([a.value if a is not None else e for a, e in zip(sheet, expected, strict=True)])


def _judge(layer, quantity, sheet, expected, exact, tolerance) -> tuple[Mark, ...]:
    marks = []
    for j, answer in enumerate(sheet):
        if answer is None:
            marks.append(Mark(layer, j, quantity, None, float(expected[j]), float(exact[j]), None, None))
            continue
        tol = tolerance if tolerance is not None else tolerance_for(answer)
        correct = _within(answer.value, expected[j], tol) or _within(answer.value, exact[j], tol)
        marks.append(Mark(layer, j, quantity, answer, float(expected[j]), float(exact[j]), tol, correct))
    return tuple(marks)


def _rounding(mark: Mark) -> str | None:
    """A last-digit slip: off by one unit, or cut off instead of rounded."""
    decimals = decimals_written(mark.given.text)
    if decimals is None:
        return None
    unit = 10.0**-decimals
    cut = math.trunc(mark.expected * 10**decimals) / 10**decimals
    if abs(mark.given.value - cut) <= 1e-12 and not _within(mark.given.value, mark.expected, mark.tolerance):
        return f"a rounding slip: {mark.expected:.{decimals + 2}f} was cut off, not rounded"
    if abs(mark.given.value - mark.expected) <= unit + mark.tolerance:
        shown = f"{mark.expected:.{decimals + 2}f}"
        return f"a rounding slip in the last digit ({shown} rounds to {mark.expected:.{decimals}f})"
    return None


def _first_match(mark: Mark, candidates: list[tuple[str, Callable[[], float]]]) -> Mark:
    for description, value in candidates:
        try:
            with np.errstate(all="ignore"):
                candidate = float(value())
        except (FloatingPointError, OverflowError, ValueError, ZeroDivisionError):
            continue
        if math.isfinite(candidate) and _within(mark.given.value, candidate, mark.tolerance):
            return _with(mark, description)
    slip = _rounding(mark)
    return _with(mark, slip) if slip else mark


def _with(mark: Mark, diagnosis: str) -> Mark:
    return Mark(
        mark.layer,
        mark.neuron,
        mark.quantity,
        mark.given,
        mark.expected,
        mark.exact,
        mark.tolerance,
        mark.correct,
        diagnosis,
    )


def _diagnose_z(mark, layer, received, received_given, network, index) -> Mark:
    j = mark.neuron
    w, b = layer.weights[j], layer.biases[j]
    e = mark.expected
    names = network.inputs if index == 0 else network.layers[index - 1].neurons
    candidates: list[tuple[str, Callable[[], float]]] = [("the sign is flipped", lambda: -e)]
    if b != 0:
        candidates.append(("the bias is missing", lambda: e - b))
        candidates.append(("the bias is subtracted instead of added", lambda: e - 2 * b))
    for i in range(len(w)):
        term = f"{layer.weight_text[j][i]} × {names[i]}"
        candidates.append((f"the term {term} has the wrong sign", lambda i=i: e - 2 * w[i] * received[i]))
        candidates.append((f"the term {term} is missing", lambda i=i: e - w[i] * received[i]))
        for k in range(i + 1, len(w)):
            candidates.append(
                (
                    f"the weights of {names[i]} and {names[k]} are swapped",
                    lambda i=i, k=k: e + (w[k] - w[i]) * received[i] + (w[i] - w[k]) * received[k],
                )
            )
    for other in range(layer.n_neurons):
        if other != j:
            candidates.append(
                (f"the weights of {layer.neurons[other]} were used", lambda o=other: layer.weights[o] @ received + b)
            )
    if layer.n_neurons == layer.n_inputs and layer.n_neurons > 1:
        candidates.append(
            (
                "the weight matrix was read the other way round (columns for rows)",
                lambda: layer.weights[:, j] @ received + b,
            )
        )
    return _first_match(mark, candidates)


def _diagnose_a(mark, activation: BoundActivation, z_used, network, index) -> Mark:
    j = mark.neuron
    layer = network.layers[index]
    z = z_used[None, :]

    def f(values: np.ndarray) -> np.ndarray:
        return activation(values)

    candidates: list[tuple[str, Callable[[], float]]] = [
        (f"{activation.name} was applied twice", lambda: f(f(z))[0, j]),
        ("the activation was left out (a = z)", lambda: z[0, j]),
        (f"the sign of z is flipped inside {activation.name}", lambda: f(-z)[0, j]),
    ]
    for name in ("sigmoid", "tanh", "relu", "identity", "softmax"):
        if name != activation.name:
            other = BoundActivation.named(name)
            candidates.append((f"{name} was used instead of {activation.describe()}", lambda o=other: o(z)[0, j]))
    for other in range(layer.n_neurons):
        if other != j:
            candidates.append((f"this is {layer.neurons[other]}'s value", lambda o=other: f(z)[0, o]))
    return _first_match(mark, candidates)
