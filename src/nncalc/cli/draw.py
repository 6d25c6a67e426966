"""``nncalc draw``: the network as a diagram, with z and a for an --input."""

import sys
from typing import Annotated

from nncalc.cli.command import command
from nncalc.cli.options import (
    DEFAULT_PRECISION,
    MaxFileSize,
    NetworkArg,
    OutputOption,
    PrecisionOption,
    RoundOption,
    chosen_format,
    format_option,
    input_option,
    only_one,
)
from nncalc.errors import InputError

DRAW_FORMATS = ("dot", "mermaid", "svg", "png")


@command("Draw the network: Graphviz DOT, Mermaid, SVG or PNG.")
def draw(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        input_option("Show z and a for this input on the neurons."),
    ] = None,
    output_format: Annotated[str | None, format_option(DRAW_FORMATS, "dot")] = None,
    output: OutputOption = None,
    precision: PrecisionOption = None,
    round_to: RoundOption = None,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Draw the network as courses do: inputs on the left, every weight on its edge.

    Every neuron shows its bias and activation, and with --input its z and a; a convolution,
    pooling or flatten is one block with the shape it gives. svg and png are drawn by
    Graphviz (its 'dot' program must be installed); dot and mermaid are text.

    \b
    Examples:
      nncalc draw configs/classic-2-2-2.yaml --input 0.05,0.10 -o classic.svg
      nncalc draw configs/course-chain.yaml --format mermaid
      nncalc draw configs/keras-kernel.yaml | dot -Tpdf > network.pdf
    """
    from nncalc.loader import load_network
    from nncalc.output import is_terminal, refuse_same_file
    from nncalc.render import diagram

    network = load_network(network_file, max_bytes=max_file_size)
    fmt = chosen_format(output_format, output, DRAW_FORMATS, "dot", [network_file])
    value_text = only_one(input_values, "--input")
    if value_text is None and (precision is not None or round_to is not None):
        raise InputError("--precision and --round act on the z and a shown with --input: give --input too")
    trace = None
    if value_text is not None:
        from nncalc.engine import forward as run_forward
        from nncalc.inputs import samples_from_options
        from nncalc.pipeline import check_finite

        sample = samples_from_options([value_text], network.inputs)
        trace = run_forward(network, sample.values, decimals=round_to)
        check_finite(network, trace, allow=False)
    shown = DEFAULT_PRECISION if precision is None else precision
    text = (diagram.to_mermaid if fmt == "mermaid" else diagram.to_dot)(network, trace, 0, shown)
    data = diagram.render_graphviz(text, fmt) if fmt in ("svg", "png") else text.encode("utf-8")
    if output is None:
        if fmt == "png" and is_terminal(sys.stdout):
            raise InputError("a PNG is not for the terminal: give --output FILE.png or redirect the output")
        sys.stdout.flush()
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        return
    from nncalc.files import output_binary_file

    refuse_same_file(output, [network_file])
    with output_binary_file(output) as stream:
        stream.write(data)
