"""New exercises: a network file with random, hand-friendly weights, the same for a seed everywhere.

Values come from Python's Mersenne Twister (``random.Random(seed).random()``), whose
sequence for a given seed is fixed across platforms and Python versions, and are
rounded to a few decimals as text, so the file is identical on every machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from nncalc.activations import REGISTRY, known_names, lookup
from nncalc.errors import InputError, Location
from nncalc.inputs import split_values
from nncalc.loader import suggest
from nncalc.numbers import NotANumber, parse_count, parse_number
from nncalc.records import record

MAX_PARAMETERS = 1_000_000
"""The most weights and biases a new exercise may have.

An exercise is worked by hand, with tens of values; a million is far beyond that and is
still written, and checked to load, in a few seconds, into a file of about 10 MB with
6-decimal values in [-1, 1), well under the 64 MiB every command reads by default. Past
it the work grows with the product of neighbouring layer sizes: ``--layers 100000,100000``
would be 10^10 values, tens of gigabytes of text and a long wait before anything is
written, so the size is refused before anything is generated.
"""

RANGE_FORM = "give two numbers LOW,HIGH with LOW < HIGH, such as 0,1 or -1,1"
MAX_DECIMALS = 6  # the decimals of each value a new exercise may ask for (as ``new --decimals``)


@record
class ExerciseSpec:
    """What a teacher asks for: the shape, the activation, the seed and how values look."""

    inputs: int
    layers: Sequence[int]
    activation: str = "sigmoid"
    seed: int = 0
    decimals: int = 2
    low: float = 0.0
    high: float = 1.0


def parameter_count(inputs: int, sizes: Sequence[int]) -> int:
    """Weights and biases of a network with ``inputs`` inputs and layers of ``sizes`` neurons."""
    widths = [inputs, *sizes]
    return sum(widths[k] * widths[k + 1] + widths[k + 1] for k in range(len(sizes)))


def check_exercise_size(inputs: int, sizes: Sequence[int]) -> None:
    """Refuse, before anything is generated, an exercise of more than MAX_PARAMETERS weights and biases."""
    count = parameter_count(inputs, sizes)
    if count > MAX_PARAMETERS:
        raise InputError(
            f"{','.join(map(str, sizes))} with {inputs} input{'s' if inputs != 1 else ''} is {count:,} "
            f"weights and biases, more than the limit of {MAX_PARAMETERS:,}",
            Location("--layers"),
        )


def check_range(low: float, high: float) -> None:
    """Refuse a range of values whose bounds or width (HIGH − LOW) are not finite floats.

    Values are drawn as LOW + (HIGH − LOW) · u; with an infinite width they overflow and
    the file written would hold ``inf``, which no command reads.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("LOW and HIGH must be finite numbers", Location("--range"))
    if not math.isfinite(high - low):
        raise InputError(
            f"{low:g} to {high:g} is too wide: HIGH − LOW is beyond a 64-bit float; give a narrower range",
            Location("--range"),
        )
    if not low < high:
        raise InputError(RANGE_FORM, Location("--range"))


def parse_exercise_options(
    inputs: int, layers: str, activation: str, seed: int | None, decimals: int, value_range: str
) -> ExerciseSpec:
    """The exercise ``nncalc new`` options ask for; raise ``InputError`` located at the option at fault.

    ``layers`` and ``value_range`` are the option texts (``"3,2,1"``, ``"-1,1"``); with no
    ``seed`` a random one is drawn (it is written in the file). Everything is checked
    before anything is generated, the size of the network included.
    """
    if inputs < 1:
        raise InputError(f"an exercise needs at least 1 input, got {inputs}", Location("--inputs"))
    if not 0 <= decimals <= MAX_DECIMALS:
        raise InputError(f"decimals of each value go from 0 to {MAX_DECIMALS}, got {decimals}", Location("--decimals"))
    try:
        sizes = [parse_count(token) for _, token in split_values(layers)]
    except NotANumber as exc:
        raise InputError(f"{exc}; give neurons per layer such as 3,2,1", Location("--layers")) from None
    if not sizes or min(sizes) < 1:
        raise InputError("every layer needs at least 1 neuron", Location("--layers"))
    entry = lookup(activation)
    if entry is None:
        raise InputError(
            f"unknown activation {activation!r}{suggest(activation, known_names())} (known: {', '.join(REGISTRY)})",
            Location("--activation"),
        )
    activation = entry.name  # the file gets the name nncalc itself uses: relu for ReLU
    bounds = split_values(value_range)
    try:
        low, high = (parse_number(token) for _, token in bounds) if len(bounds) == 2 else (None, None)
    except NotANumber as exc:
        raise InputError(str(exc), Location("--range")) from None
    if low is None:
        raise InputError(RANGE_FORM, Location("--range"))
    check_range(low, high)
    check_exercise_size(inputs, sizes)
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    return ExerciseSpec(inputs, sizes, activation, seed, decimals, low, high)


def _value(rng: random.Random, spec: ExerciseSpec) -> str:
    number = spec.low + (spec.high - spec.low) * rng.random()
    text = f"{number:.{spec.decimals}f}"
    if float(text) == 0:
        text = f"{0:.{spec.decimals}f}"  # never "-0.00"
    if spec.decimals > 0:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text


def exercise_yaml(spec: ExerciseSpec) -> str:
    """The network file of a new exercise, with a suggested input in a comment.

    Raise ``InputError`` for a network over MAX_PARAMETERS or a range wider than a float,
    before anything is generated.
    """
    if lookup(spec.activation) is None:
        raise ValueError(spec.activation)
    check_range(spec.low, spec.high)
    check_exercise_size(spec.inputs, spec.layers)
    rng = random.Random(spec.seed)
    count = len(spec.layers)
    sizes = [spec.inputs, *spec.layers]
    lines = [
        f"# A new exercise: {spec.inputs} input{'s' if spec.inputs != 1 else ''}, "
        f"layers {','.join(map(str, spec.layers))}, {spec.activation}.",
        f"# Weights and biases uniform in [{spec.low:g}, {spec.high:g}), {spec.decimals} decimals, seed {spec.seed}.",
    ]
    body = [
        f"name: Exercise {spec.seed}",
        f"inputs: {spec.inputs}",
        f"activation: {spec.activation}",
        "layers:",
    ]
    for k in range(count):
        last = k == count - 1
        name = "output" if last else ("hidden" if count == 2 else f"hidden{k + 1}")
        body.append(f"  - name: {name}")
        body.append("    weights:")
        for _ in range(sizes[k + 1]):
            row = ", ".join(_value(rng, spec) for _ in range(sizes[k]))
            body.append(f"      - [{row}]")
        biases = ", ".join(_value(rng, spec) for _ in range(sizes[k + 1]))
        body.append(f"    biases: [{biases}]")
    suggested = ",".join(_value(rng, spec) for _ in range(spec.inputs))
    lines.append(f"# Try: nncalc forward THIS-FILE --input {suggested}")
    return "\n".join([*lines, *body]) + "\n"
