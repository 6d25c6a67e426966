"""New exercises: a network file with random, hand-friendly weights, the same for a seed everywhere.

Values come from Python's Mersenne Twister (``random.Random(seed).random()``), whose
sequence for a given seed is fixed across platforms and Python versions, and are
rounded to a few decimals as text, so the file is identical on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from nncalc.activations import lookup
from nncalc.records import record


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


def _value(rng: random.Random, spec: ExerciseSpec) -> str:
    number = spec.low + (spec.high - spec.low) * rng.random()
    text = f"{number:.{spec.decimals}f}"
    if float(text) == 0:
        text = f"{0:.{spec.decimals}f}"  # never "-0.00"
    if spec.decimals > 0:
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text


def exercise_yaml(spec: ExerciseSpec) -> str:
    """The network file of a new exercise, with a suggested input in a comment."""
    if lookup(spec.activation) is None:
        raise ValueError(spec.activation)
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
