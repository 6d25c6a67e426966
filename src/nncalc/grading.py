"""Grade a person's worked answers the way a teacher marks: error carried forward.

Each value is recomputed from the person's *own* earlier values, so one slip early does
not mark everything after it wrong, and their rounding does not add up into false
errors. A value is right when it is within half a unit of the last digit written
(``0.6023`` claims ±0.00005) of that recomputed value, or of the exact value. For a
wrong value the likely mistake is looked for: a sign, a missing bias, swapped weights,
σ applied twice, a rounding slip.

A convolution, pooling or flatten layer is marked the same way, cell by cell: its z is
the layer's own arithmetic on the person's previous map (``nncalc.grading_spatial``
looks for its slips: a flipped kernel, max for mean, a missing ReLU, ...).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.answers import Answer, LayerAnswers
from nncalc.engine import Trace, first_non_finite, forward, round_half_up
from nncalc.errors import ComputationError, InputError
from nncalc.network import Network
from nncalc.numbers import decimals_written
from nncalc.records import record

LOOPED_TERMS = 64  # a layer with more inputs has its terms' slips looked for with arrays
SWAPPED_TERMS = 4096  # ... and its pairs of swapped weights up to this many inputs (a matrix of them)


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
    """Half a unit in the last digit written: 0.6023 → 0.00005, 0.60 → 0.005; fractions are exact.

    Any number of decimals and any exponent (``6.023e-1`` → 0.00005, ``6e5`` → 50000) give a
    float: a half unit finer than half an ulp of the value is finer than the float can tell
    apart, so half an ulp is the least tolerance, and one beyond the largest float is capped.
    """
    decimals = decimals_written(answer.text)
    if decimals is None:
        return 1e-12 * max(1.0, abs(answer.value))
    return max(_half_unit(decimals), math.ulp(answer.value) / 2)


def _half_unit(decimals: int) -> float:
    """0.5 · 10^-decimals as the nearest float, for any ``decimals`` (0 below, the largest float above)."""
    return min(float(f"5e{-decimals - 1}"), sys.float_info.max)


def check_tolerance(tolerance: float | None) -> None:
    """An explicit tolerance is a finite number ≥ 0: NaN or a negative one would mark everything wrong."""
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise InputError("--tolerance must be a finite number ≥ 0")


def within(given: float, target: float, tolerance: float) -> bool:
    """Whether ``given`` is within ``tolerance`` of ``target`` (as Python floats: no NumPy overflow warning)."""
    given, target = float(given), float(target)
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
    """Mark every written value of one sample (``inputs`` of shape (inputs,)).

    Raise ``InputError`` for a NaN, infinite or negative ``tolerance``, and
    ``ComputationError`` where a value to grade against is not finite (the exact one, or
    the one recomputed from the person's values): nothing can be right or wrong against it.
    """
    check_tolerance(tolerance)
    x = np.asarray(inputs, dtype=np.float64).reshape(1, -1)
    exact = forward(network, x, decimals=decimals, round_z=round_z)
    _check_exact(network, exact)
    received = x[0]
    received_given: tuple[Answer | None, ...] = (None,) * network.n_inputs
    layers = []
    for index, (layer, sheet) in enumerate(zip(network.layers, answers, strict=True)):
        with np.errstate(over="ignore", invalid="ignore"):
            # a convolution, pooling or flatten: the layer's own arithmetic, on a batch of one
            z_expected = (
                layer.weights @ received + layer.biases if layer.dense else layer.pre_activation(received[None, :])[0]
            )
            if decimals is not None and round_z:
                z_expected = round_half_up(z_expected, decimals)
        _check_recomputed(network, index, "z", z_expected)
        z_marks = _judge(index, "z", sheet.z, z_expected, exact.layers[index].z[0], tolerance)
        z_used = _use(sheet.z, z_expected)
        with np.errstate(over="ignore", invalid="ignore"):
            a_expected = layer.activation(z_used[None, :])[0]
            if decimals is not None:
                a_expected = round_half_up(a_expected, decimals)
        _check_recomputed(network, index, "a", a_expected)
        a_marks = _judge(index, "a", sheet.a, a_expected, exact.layers[index].a[0], tolerance)
        if layer.dense:
            z_marks = tuple(
                _diagnose_z(m, layer, received, received_given, network, index) if m.correct is False else m
                for m in z_marks
            )
            a_marks = tuple(
                _diagnose_a(m, layer.activation, z_used, network, index) if m.correct is False else m for m in a_marks
            )
        else:
            from nncalc.grading_spatial import diagnose

            before = layers[-1].z_used if layers else None
            z_marks, a_marks = diagnose(network, index, z_marks, a_marks, received, z_used, before)
        layers.append(GradedLayer(z_marks, a_marks, received, received_given, z_used))
        received = _use(sheet.a, a_expected)
        received_given = sheet.a
    return Grade(tuple(layers), exact, tuple(input_texts))


def _non_finite(value: float) -> str:
    """How a non-finite value is named in messages, as ``forward`` names it."""
    return "NaN" if math.isnan(value) else "an overflow (inf)"


def _check_exact(network: Network, exact: Trace) -> None:
    """Refuse to grade against an exact pass that overflowed: any answer would compare as right or wrong."""
    bad = first_non_finite(exact)
    if bad is not None:
        raise ComputationError(
            f"{_unit(network, bad.layer, bad.neuron)}: {bad.quantity} is {_non_finite(bad.value)}"
            " in the exact calculation, so there is no value to grade against"
        )


def _check_recomputed(network: Network, index: int, quantity: str, values: np.ndarray) -> None:
    """Refuse to grade against a value recomputed from the person's own values that is not finite."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        j = int(bad[0])
        raise ComputationError(
            f"{_unit(network, index, j)}: {quantity} recomputed "
            f"from your values is {_non_finite(float(values[j]))}, so there is no value to grade against"
        )


def _unit(network: Network, index: int, j: int) -> str:
    """Where a value is, as ``forward`` names it: a dense layer's neuron, a map's cell (channel.row.column)."""
    layer = network.layers[index]
    return f"{network.layer_label(index)}, {'neuron' if layer.dense else 'cell'} {layer.neurons[j]}"


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
        correct = within(answer.value, expected[j], tol) or within(answer.value, exact[j], tol)
        marks.append(Mark(layer, j, quantity, answer, float(expected[j]), float(exact[j]), tol, correct))
    return tuple(marks)


def rounding_slip(mark: Mark) -> str | None:
    """A last-digit slip: off by one unit, or cut off instead of rounded.

    Only where the last digit written is one the float of the expected value holds: a
    digit finer than its ulp (hundreds of decimals) has no slip to name. A value that
    rounds to zero at that digit (0.0001 written 0.1) is no slip in rounding an answer of
    the right size: its one digit is wrong, and the message says so.
    """
    decimals = decimals_written(mark.given.text)
    if decimals is None:
        return None
    expected = mark.expected
    unit = _half_unit(decimals) * 2
    if not (math.isfinite(unit) and unit >= math.ulp(expected)):
        return None
    if decimals >= 0:
        scale = 10.0**decimals
        cut = math.trunc(expected * scale) / scale
    else:
        cut = math.trunc(expected / unit) * unit
    shown = _expected_shown(expected, decimals)
    if abs(mark.given.value - cut) <= 1e-12 and not within(mark.given.value, expected, mark.tolerance):
        return f"a rounding slip: {shown} was cut off, not rounded"
    if abs(mark.given.value - expected) <= unit + mark.tolerance:
        rounded = f"{expected:.{decimals}f}" if decimals >= 0 else f"{round(expected, decimals):.0f}"
        if float(rounded) == 0:
            return f"one unit off in the last digit ({shown} rounds to {rounded.lstrip('-')})"
        return f"a rounding slip in the last digit ({shown} rounds to {rounded})"
    return None


def _expected_shown(expected: float, decimals: int) -> str:
    """The expected value two digits past the one written, or, where those are all zeros
    (0.0001 to three decimals is 0.000), to three significant digits."""
    text = f"{expected:.{max(decimals + 2, 0)}f}"
    if expected != 0 and float(text) == 0:
        return f"{expected:.3g}"
    return text


def first_match(mark: Mark, candidates: list[tuple[str, Callable[[], float]]]) -> Mark:
    for description, value in candidates:
        try:
            with np.errstate(all="ignore"):
                candidate = float(value())
        except (FloatingPointError, OverflowError, ValueError, ZeroDivisionError):
            continue
        if math.isfinite(candidate) and within(mark.given.value, candidate, mark.tolerance):
            return _with(mark, description)
    slip = rounding_slip(mark)
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
    if index and not network.layers[index - 1].dense:  # after a flatten: its values by position
        names = tuple(f"value {i}" for i in range(len(names)))
    candidates: list[tuple[str, Callable[[], float]]] = [("the sign is flipped", lambda: -e)]
    if b != 0:
        candidates.append(("the bias is missing", lambda: e - b))
        candidates.append(("the bias is subtracted instead of added", lambda: e - 2 * b))
    if len(w) > LOOPED_TERMS:  # a wide layer (after a flatten): the same candidates, as arrays
        candidates.extend(
            _term_slips(mark, w, received, e, [f"{layer.weight_text[j][i]} × {names[i]}" for i in range(len(w))], names)
        )
    else:
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
    return first_match(mark, candidates)


def _term_slips(mark: Mark, w: np.ndarray, x: np.ndarray, e: float, terms: list[str], names) -> list:
    """The first of a term's slips (wrong sign, missing, its weight swapped with a later one's)
    that gives the value written, in the order the one-by-one candidates take, found with
    arrays: a layer with a flatten's thousand inputs has half a million pairs of weights.

    The pairs are looked at only up to ``SWAPPED_TERMS`` inputs (the matrix of pairs grows
    as the square). Returns the one candidate found, or none.
    """
    given, tolerance = mark.given.value, mark.tolerance

    def near(values: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.isfinite(values) & (np.abs(given - values) <= tolerance + 1e-12 * np.maximum(1.0, np.abs(values)))

    wx = w * x
    sign, missing = near(e - 2 * wx), near(e - wx)
    n = len(w)
    if n <= SWAPPED_TERMS:
        with np.errstate(all="ignore"):
            swapped = e + (w[None, :] - w[:, None]) * x[:, None] + (w[:, None] - w[None, :]) * x[None, :]
        pairs = near(swapped) & np.triu(np.ones((n, n), dtype=bool), 1)
    else:
        pairs = np.zeros((n, 1), dtype=bool)
    rows = sign | missing | pairs.any(axis=1)
    if not rows.any():
        return []
    i = int(np.argmax(rows))
    if sign[i]:
        return [(f"the term {terms[i]} has the wrong sign", lambda: e - 2 * wx[i])]
    if missing[i]:
        return [(f"the term {terms[i]} is missing", lambda: e - wx[i])]
    k = int(np.argmax(pairs[i]))
    return [
        (
            f"the weights of {names[i]} and {names[k]} are swapped",
            lambda: e + (w[k] - w[i]) * x[i] + (w[i] - w[k]) * x[k],
        )
    ]


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
    return first_match(mark, candidates)
