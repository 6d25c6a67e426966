"""``nncalc check``: a network file validated and summarised."""

import sys

from nncalc.cli.command import command
from nncalc.cli.options import (
    MaxFileSize,
    NetworkArg,
)


@command("Validate a network file and summarise it.")
def check(
    network_file: NetworkArg,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Validate a network file and summarise it: layers, shapes, activations, parameters.

    Exit code 0 when the file is valid; otherwise every problem is listed as
    'error: FILE:LINE:COLUMN: message' and the exit code is 2.

    \b
    Examples:
      nncalc check configs/classic-2-2-2.yaml
      nncalc check my-network.yaml && nncalc forward my-network.yaml -i 1,0
    """
    from nncalc.loader import load_network
    from nncalc.notation import write_document
    from nncalc.worked.summaries import check_document

    network = load_network(network_file, max_bytes=max_file_size)
    write_document(check_document(network), "table", sys.stdout)
