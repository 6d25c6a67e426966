"""``nncalc schema``: the network file format as a JSON Schema, for editors."""

import sys

from nncalc.cli.command import command


@command("Print the network file format as a JSON Schema.")
def schema() -> None:
    """Print the network file format as a JSON Schema, for editors to complete and check files.

    \b
    Examples:
      nncalc schema > nncalc-network.schema.json
      # VS Code (YAML extension): "yaml.schemas": {"nncalc-network.schema.json": "configs/*.yaml"}
    """
    import json

    from nncalc.schema import network_schema

    sys.stdout.write(json.dumps(network_schema(), indent=2, ensure_ascii=False) + "\n")
