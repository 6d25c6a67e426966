"""Importers: real models turned into nncalc's network file format.

Each importer takes a model (a fitted scikit-learn MLP, a PyTorch ``nn.Sequential``, a
Keras ``Sequential`` or functional chain, the course lab's nested dict, or a saved file)
and returns the network file as a plain ``dict``: ``{"name": ..., "inputs": ...,
"layers": [{"weights": ..., "biases": ..., "activation": ...}, ...]}`` (with
``{"type": "conv2d", ...}``, pooling and flatten layers and ``inputs: {"shape": [C, H, W]}``
for a convolutional model, written by :mod:`nncalc.importers.spatial`), with every number
a Python float, so that ``yaml.safe_dump`` writes it exactly and ``nncalc.loader`` reads
it back to the same bits. Weights are one row per neuron (PyTorch's ``Linear.weight``);
activations are nncalc's registry names with PyTorch's parameter names.

No importer imports a framework when it is imported: each reads its model by duck typing
(class names and modules), so the package imports without PyTorch, Keras or
scikit-learn installed. A model that nncalc's layers cannot express is refused
with one located ``nncalc.errors.InputError`` naming the first layer it cannot take.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

from nncalc.errors import InputError, Location
from nncalc.importers.spatial import Shapes, inputs_entry


def live_network(
    layers: list[dict], shapes: Shapes, input_names: Sequence[str] | None, name: str | None, where: Location
) -> dict:
    """The network dict around a live model's ``layers``, with the inputs named or counted (or shaped, for maps)."""
    network: dict[str, Any] = {}
    if name is not None:
        network["name"] = name
    shape = shapes.input or (0,)
    if input_names is not None:
        count, what = (shape[0], "channels in its images") if len(shape) == 3 else (prod(shape), "inputs")
        if len(input_names) != count:
            raise InputError(
                f"cannot import: {len(input_names)} input names given, but the model takes {count} {what}", where
            )
    network["inputs"] = inputs_entry(shapes, input_names)
    network["layers"] = layers
    return network
