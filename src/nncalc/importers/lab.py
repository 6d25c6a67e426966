"""The course lab's network, a nested dict, as a network file.

The lab builds its network as ``{'layer_1': {'node_1': {'weights': [...], 'bias': [...]},
...}, 'layer_2': {...}, ..., 'output': {'node_1': {...}}}``: hidden layers ``layer_1``,
``layer_2``, … in that order, then ``output``; each node with one weight per input to
its layer and a bias (the lab's ``np.random.uniform(size=1)``, a one-element array, or a
plain number). Every node is a sigmoid, as the lab's ``node_activation`` computes it.
Weights may be lists or NumPy arrays; the number of inputs is read from the first
layer's weights. Layers and neurons keep the lab's names (``layer_1``, ``node_1``).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from nncalc.errors import InputError, Location

_HIDDEN = re.compile(r"layer_([1-9][0-9]*)")


def network_dict(network: Mapping, name: str | None = None, *, source: str = "<lab>") -> dict:
    """The network file (as a dict) of the lab's nested dict, every layer sigmoid.

    A malformed dict is refused with an ``InputError`` naming the key that is wrong
    (``layer_2 → node_1 → weights``). ``source`` is where an error says the dict came from.
    """
    where = Location(source)
    if not isinstance(network, Mapping):
        raise InputError(f"the lab network must be a dict of layers, got {type(network).__name__}", where)
    layers = []
    width: int | None = None
    for key in _layer_order(network, where):
        layer = _layer(network[key], key, width, where)
        width = len(layer["weights"])
        layers.append(layer)
    result: dict[str, Any] = {}
    if name is not None:
        result["name"] = name
    result["inputs"] = len(layers[0]["weights"][0])
    result["layers"] = layers
    return result


def _layer_order(network: Mapping, where: Location) -> list[str]:
    """The layer keys in the order they run: layer_1, layer_2, … (none missing), then output."""
    numbered: dict[int, str] = {}
    for key in network:
        match = _HIDDEN.fullmatch(key) if isinstance(key, str) else None
        if match is not None:
            numbered[int(match.group(1))] = key
        elif key != "output":
            raise InputError(
                f"lab network: unexpected key {key!r}; layers are 'layer_1', 'layer_2', … then 'output'", where
            )
    if "output" not in network:
        raise InputError("lab network: no 'output' layer", where)
    for number in sorted(numbered):
        if number > 1 and number - 1 not in numbered:
            raise InputError(f"lab network: {numbered[number]!r} comes with no 'layer_{number - 1}' before it", where)
    return [numbered[n] for n in sorted(numbered)] + ["output"]


def _layer(nodes: Any, key: str, width: int | None, where: Location) -> dict:
    """One layer: its nodes' weights (one row per node), biases and names, sigmoid."""
    if not isinstance(nodes, Mapping) or not nodes:
        raise InputError(f"lab network: {key} must be a dict of nodes ('node_1': {{...}}), got {_shown(nodes)}", where)
    names, weights, biases = [], [], []
    for node_key, node in nodes.items():
        label = f"{key} → {node_key}"
        if not isinstance(node_key, str) or node_key == "":
            raise InputError(f"lab network: {key}: node key {node_key!r} must be a name such as 'node_1'", where)
        if not isinstance(node, Mapping) or set(node) != {"weights", "bias"}:
            raise InputError(
                f"lab network: {label} must be {{'weights': [...], 'bias': [...]}}, got {_shown(node)}", where
            )
        row = _numbers(node["weights"], f"{label} → weights", where)
        if not row:
            raise InputError(f"lab network: {label} → weights is empty", where)
        expected = width if width is not None else len(weights[0]) if weights else len(row)
        if len(row) != expected:
            raise InputError(
                f"lab network: {label} → weights has {len(row)} numbers, but the layer takes {expected} inputs", where
            )
        bias = _numbers(node["bias"], f"{label} → bias", where)
        if len(bias) != 1:
            raise InputError(f"lab network: {label} → bias must be one number, got {len(bias)}", where)
        names.append(node_key)
        weights.append(row)
        biases.append(bias[0])
    return {"name": key, "neurons": names, "weights": weights, "biases": biases, "activation": "sigmoid"}


def _numbers(value: Any, what: str, where: Location) -> list[float]:
    """A number or a flat list/array of finite numbers, as Python floats."""
    items = value.tolist() if isinstance(value, np.ndarray) else value
    items = items if isinstance(items, (list, tuple)) else [items]
    result = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Real) or not math.isfinite(item):
            raise InputError(f"lab network: {what} must hold finite numbers, got {_shown(value)}", where)
        result.append(float(item))
    return result


def _shown(value: Any) -> str:
    """A wrong value as an error shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
