"""An independent forward pass, written plainly per neuron with the math module.

It shares no code with nncalc's engine: the tests compare the two on the same network.
"""

from __future__ import annotations

import math


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


SCALAR = {
    "identity": lambda z: z,
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "relu": lambda z: max(0.0, z),
}


def forward(layers: list[tuple[list[list[float]], list[float], str]], x: list[float]) -> list[list[float]]:
    """Each layer's activations for one sample; layers are (weights rows, biases, activation)."""
    out = []
    a = list(x)
    for weights, biases, activation in layers:
        z = [sum(w * v for w, v in zip(row, a, strict=True)) + b for row, b in zip(weights, biases, strict=True)]
        if activation == "softmax":
            m = max(z)
            e = [math.exp(v - m) for v in z]
            a = [v / sum(e) for v in e]
        else:
            a = [SCALAR[activation](v) for v in z]
        out.append(a)
    return out
