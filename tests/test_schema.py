"""The published JSON Schema accepts every shipped network and refuses what the loader refuses."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from nncalc.schema import network_schema
from tests.conftest import NETWORK_CONFIGS

NETWORKS = NETWORK_CONFIGS


@pytest.fixture(scope="module")
def validator():
    schema = network_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.name)
def test_every_config_validates(validator, path):
    """Every example in configs/ is valid against the schema."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    "document",
    [
        {"inputs": 1},
        {"inputs": 1, "layers": []},
        {"inputs": 1, "layer": [{"weights": 1}]},
        {"inputs": 1, "layers": [{"weights": 1, "wieghts": 2}]},
        {"inputs": 1, "layers": [{"weights": 1, "kernel": [[1]]}]},
        {"inputs": 1, "layers": [{"weights": "abc"}]},
        {"inputs": 1, "layers": [{"weights": 1, "activation": "sigmod"}]},
        {"inputs": 1, "layers": [{"weights": 1, "activation": {"name": "leaky_relu", "slope": 0.2}}]},
        {"inputs": 1, "layers": [{"weights": 1, "activation": {"name": "gelu", "approximate": "fast"}}]},
        {"inputs": 0, "layers": [{"weights": 1}]},
    ],
)
def test_schema_refuses_bad_documents(validator, document):
    """Unknown keys, activations and parameters, empty layers and non-numbers are refused."""
    assert list(validator.iter_errors(document))


def test_schema_command_prints_the_schema(nncalc):
    """`nncalc schema` prints the same schema as JSON."""
    result = nncalc("schema")
    assert result.code == 0
    assert json.loads(result.out) == network_schema()
