"""The network file format as a JSON Schema, for editors to complete and check files.

It is generated from the same names the loader accepts (keys, activations and their
parameters), so the two cannot drift apart. The loader stays the authority on shapes
(rows per neuron, values per input), which a schema cannot express.
"""

from __future__ import annotations

import re
from typing import Any

from nncalc.activations import REGISTRY, name_key
from nncalc.loader import INPUT_SHAPE_KEYS, LAYER_KEYS, NETWORK_KEYS, NEURON_KEYS
from nncalc.numbers import FRACTION

SCHEMA_ID = "https://nncalc.invalid/schema/network.json"


def _same_keys(what: str, properties: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse to build a schema whose keys differ from the loader's: the two must not drift apart.

    An explicit check, not an ``assert``: ``python -O`` removes asserts, and a schema that
    silently disagreed with the loader would mislead every editor using it.
    """
    if set(properties) != set(keys):
        missing = sorted(set(keys) - set(properties))
        extra = sorted(set(properties) - set(keys))
        raise RuntimeError(
            f"the schema of {what} has drifted from the loader: missing {missing}, not in the loader {extra}"
        )


def name_pattern(names: list[str]) -> str:
    """A regular expression (ECMA 262, as JSON Schema uses) for every spelling the loader takes of ``names``.

    The loader compares names by ``name_key`` (ASCII case, '-', '_' and spaces aside), so
    ``leaky_relu`` is also ``LeakyReLU`` and ``leaky-relu``; an enum of the names alone
    would refuse what the loader accepts.
    """
    gap = "[-_ ]*"
    spellings = []
    for key in sorted({name_key(name) for name in names}):
        letters = (f"[{c}{c.upper()}]" if c.upper() != c else re.escape(c) for c in key)
        spellings.append(gap.join(letters))
    return f"^{gap}(?:{'|'.join(spellings)}){gap}$"


def network_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a network file."""
    number = {
        "description": "A number: decimal, scientific (1.5e-3) or a fraction written as text (1/3).",
        "oneOf": [{"type": "number"}, {"type": "string", "pattern": f"^{FRACTION}$"}],
    }
    name = {"type": "string", "minLength": 1}
    row = {"type": "array", "items": {"$ref": "#/$defs/number"}, "minItems": 1}
    activation_names = sorted({*REGISTRY, *(alias for a in REGISTRY.values() for alias in a.aliases)})
    any_activation = {"type": "string", "pattern": name_pattern(activation_names)}
    with_params = []
    for activation in REGISTRY.values():
        names = [activation.name, *activation.aliases]
        properties: dict[str, Any] = {"name": {"type": "string", "pattern": name_pattern(names)}}
        for param, default in activation.defaults.items():
            if param in activation.choices:
                properties[param] = {"enum": list(activation.choices[param]), "default": default}
            else:
                properties[param] = {"$ref": "#/$defs/number", "default": default}
        with_params.append(
            {
                "type": "object",
                "description": activation.summary,
                "properties": properties,
                "required": ["name"],
                "additionalProperties": False,
            }
        )
    neuron = {
        "type": "object",
        "properties": {
            "name": {"$ref": "#/$defs/name"},
            "weights": {"oneOf": [{"$ref": "#/$defs/number"}, {"$ref": "#/$defs/row"}]},
            "bias": {"$ref": "#/$defs/number"},
        },
        "required": ["weights"],
        "additionalProperties": False,
    }
    _same_keys("a neuron", neuron["properties"], NEURON_KEYS)
    layer = {
        "type": "object",
        "description": "A fully connected layer (type: dense, the default).",
        "properties": {
            "type": {"const": "dense"},
            "name": {"$ref": "#/$defs/name"},
            "neurons": {
                "description": "A count, the neurons' names, or the neurons one by one.",
                "oneOf": [
                    {"type": "integer", "minimum": 1},
                    {"type": "array", "items": {"$ref": "#/$defs/name"}, "minItems": 1},
                    {"type": "array", "items": {"$ref": "#/$defs/neuron"}, "minItems": 1},
                ],
            },
            "weights": {
                "description": "One row per neuron, one column per input to the layer (PyTorch's Linear.weight); "
                "a number for a 1x1 layer, a flat list for a one-neuron layer.",
                "oneOf": [
                    {"$ref": "#/$defs/number"},
                    {"$ref": "#/$defs/row"},
                    {"type": "array", "items": {"$ref": "#/$defs/row"}, "minItems": 1},
                ],
            },
            "kernel": {
                "description": "Keras's orientation: one row per input, one column per neuron.",
                "oneOf": [
                    {"$ref": "#/$defs/number"},
                    {"type": "array", "items": {"$ref": "#/$defs/row"}, "minItems": 1},
                ],
            },
            "biases": {
                "description": "One per neuron, or one number for every neuron; absent means 0.",
                "oneOf": [{"$ref": "#/$defs/number"}, {"$ref": "#/$defs/row"}],
            },
            "activation": {"$ref": "#/$defs/activation"},
        },
        "not": {"required": ["weights", "kernel"]},
        "additionalProperties": False,
    }
    _same_keys("a layer", layer["properties"], LAYER_KEYS)
    spatial = _spatial_layers()
    input_shape = {
        "type": "object",
        "description": "Images: [channels, height, width], their values given in PyTorch's flatten order; "
        "names, one per channel, name the values NAME.row.column (default x.channel.row.column).",
        "properties": {
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 3, "maxItems": 3},
            "names": {"type": "array", "items": {"$ref": "#/$defs/name"}, "minItems": 1, "uniqueItems": True},
        },
        "required": ["shape"],
        "additionalProperties": False,
    }
    _same_keys("image inputs", input_shape["properties"], INPUT_SHAPE_KEYS)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "nncalc network file",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "inputs": {
                "description": "The number of inputs, their names, or the shape of images.",
                "oneOf": [
                    {"type": "integer", "minimum": 1},
                    {"type": "array", "items": {"$ref": "#/$defs/name"}, "minItems": 1, "uniqueItems": True},
                    input_shape,
                ],
            },
            "activation": {"$ref": "#/$defs/activation"},
            "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}, "minItems": 1},
        },
        "required": ["inputs", "layers"],
        "additionalProperties": False,
        "$defs": {
            "number": number,
            "name": name,
            "row": row,
            "activation": {
                "description": "An activation's name, or a mapping with its name and parameters.",
                "oneOf": [any_activation, *with_params],
            },
            "neuron": neuron,
            "dense": layer,
            **spatial,
            "layer": {
                "description": "A layer: dense (the default type), or one of the spatial types.",
                "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in ("dense", *spatial)],
            },
        },
    }
    _same_keys("the network", schema["properties"], NETWORK_KEYS)
    return schema


def _spatial_layers() -> dict[str, Any]:
    """Each spatial layer type's schema by its ``type:`` name, from its format (``nncalc.spatial_format``)."""
    from nncalc.spatial_format import FORMATS

    common = {"name": {"$ref": "#/$defs/name"}, "activation": {"$ref": "#/$defs/activation"}}
    schemas = {}
    for kind, layer_format in FORMATS.items():
        schema = layer_format.schema(common)
        entry = {"type": "object", **schema, "additionalProperties": False}
        entry["required"] = ["type", *schema.get("required", ())]
        _same_keys(f"a {kind} layer", entry["properties"], layer_format.keys)
        schemas[kind] = entry
    return schemas
