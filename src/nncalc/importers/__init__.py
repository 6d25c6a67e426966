"""Importers: real models turned into nncalc's network file format.

Each importer takes a model (a fitted scikit-learn MLP, a PyTorch ``nn.Sequential``, a
Keras ``Sequential`` or functional chain, the course lab's nested dict, or a saved file)
and returns the network file as a plain ``dict``: ``{"name": ..., "inputs": ...,
"layers": [{"weights": ..., "biases": ..., "activation": ...}, ...]}``, with every number
a Python float, so that ``yaml.safe_dump`` writes it exactly and ``nncalc.loader`` reads
it back to the same bits. Weights are one row per neuron (PyTorch's ``Linear.weight``);
activations are nncalc's registry names with PyTorch's parameter names.

No importer imports a framework when it is imported: each reads its model by duck typing
(class names and modules), so the package imports without PyTorch, Keras or
scikit-learn installed. A model that nncalc's dense layers cannot express is refused
with one located ``nncalc.errors.InputError`` naming the first layer it cannot take.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nncalc.errors import InputError, Location


def live_network(
    layers: list[dict], n_in: int, input_names: Sequence[str] | None, name: str | None, where: Location
) -> dict:
    """The network dict around a live model's ``layers``, with the inputs named or counted."""
    network: dict[str, Any] = {}
    if name is not None:
        network["name"] = name
    if input_names is None:
        network["inputs"] = n_in
    else:
        names = [str(n) for n in input_names]
        if len(names) != n_in:
            raise InputError(f"cannot import: {len(names)} input names given, but the model takes {n_in} inputs", where)
        network["inputs"] = names
    network["layers"] = layers
    return network
