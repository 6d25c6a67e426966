"""Network diagrams as courses draw them: inputs on the left, one column per layer, weights on the edges.

A convolution, a pooling or a flatten is drawn as one block with what it does and the shape
it gives (``conv2d 3×3, 1→8, stride 1 · relu`` over ``8×26×26``), and an image input as one
block with its shape; a dense layer after a block is joined to it by one plain edge per neuron.

``to_dot`` and ``to_mermaid`` write text for Graphviz and Mermaid, which do the layout;
``render_graphviz`` runs Graphviz's ``dot`` program to turn DOT text into SVG or PNG.
Every number is shown as the file wrote it (weights, biases) or formatted by ``show`` (z, a).
Every text from the file (names, the title) enters the picture through :func:`visible`, so
no control character reaches a label, the terminal it is printed on, or the drawing.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from nncalc.engine import Trace
from nncalc.errors import InputError
from nncalc.layer_text import describe
from nncalc.network import Network
from nncalc.records import record
from nncalc.render.numbers import show
from nncalc.spatial import describe_shape
from nncalc.text import visible

GRAPHVIZ_FORMATS = ("svg", "png")
GRAPHVIZ_TIMEOUT = 60  # seconds; a network too big to draw in this time is too big to read
MISSING_GRAPHVIZ = (
    "Graphviz is not installed (the 'dot' program); install it, e.g. 'apt-get install graphviz', "
    "or use --format dot or mermaid"
)


@record
class _Node:
    """One circle of the picture (a box for a block of values): a layout-safe id and its label, one entry per line."""

    id: str
    lines: tuple[str, ...]
    block: bool = False


@record
class _Column:
    """One column of the picture: the inputs or one layer, with its heading."""

    id: str
    title: str
    nodes: tuple[_Node, ...]


@record
class _Edge:
    """One connection, labelled with its weight as written in the file."""

    source: str
    target: str
    label: str


def _picture(network: Network, trace: Trace | None, sample: int, precision: int) -> tuple[list[_Column], list[_Edge]]:
    """What both notations draw: the columns with their labels and the labelled edges."""
    if trace is not None:
        _check_trace(network, trace, sample)
    inputs = []
    if network.input_shape is not None:  # an image: one block
        inputs.append(_Node("L0_1", ("image", describe_shape(network.input_shape)), block=True))
    for i, name in enumerate(network.inputs if network.input_shape is None else ()):
        name = visible(name)
        text = name if trace is None else f"{name} = {show(trace.inputs[sample, i], precision)}"
        inputs.append(_Node(f"L0_{i + 1}", (text,)))
    columns = [_Column("L0", "inputs", tuple(inputs))]
    edges = []
    previous = columns[0].nodes
    for k, layer in enumerate(network.layers, 1):
        if not layer.dense:
            node = _Node(f"L{k}_1", _block_lines(layer), block=True)
            edges.extend(_Edge(source.id, node.id, "") for source in previous)
            columns.append(_Column(f"L{k}", visible(network.layer_label(k - 1)), (node,)))
            previous = columns[-1].nodes
            continue
        nodes = []
        activation = visible(layer.activation.describe())
        for j, neuron in enumerate(layer.neurons):
            lines = [visible(neuron), f"b = {visible(layer.bias_text[j])}", activation]
            if trace is not None:
                values = trace.layers[k - 1]
                z, a = show(values.z[sample, j], precision), show(values.a[sample, j], precision)
                lines.append(f"z = {z}, a = {a}")
            node = _Node(f"L{k}_{j + 1}", tuple(lines))
            nodes.append(node)
            for i, source in enumerate(previous):
                weight = "" if source.block else visible(layer.weight_text[j][i])  # a block holds many values
                edges.append(_Edge(source.id, node.id, weight))
        columns.append(_Column(f"L{k}", visible(network.layer_label(k - 1)), tuple(nodes)))
        previous = columns[-1].nodes
    return columns, edges


def _block_lines(layer) -> tuple[str, ...]:
    """A spatial layer's block: what it does (and its activation), then the shape it gives."""
    head = describe(layer) + (f" · {visible(layer.activation.describe())}" if layer.has_activation else "")
    shape = layer.output_shape
    return head, describe_shape(shape) if len(shape) == 3 else f"{shape[0]} values"


def _check_trace(network: Network, trace: Trace, sample: int) -> None:
    """Refuse a trace of another network or a sample it does not hold."""
    shapes = [trace.inputs.shape[1:], *(layer.a.shape[1:] for layer in trace.layers)]
    expected = [(network.n_inputs,), *((layer.n_neurons,) for layer in network.layers)]
    if shapes != expected:
        raise ValueError(f"the trace's shapes {shapes} do not fit the network's {expected}")
    count = trace.inputs.shape[0]
    if not 0 <= sample < count:
        raise InputError(f"sample {sample + 1} does not exist: the batch has {count} sample{'' if count == 1 else 's'}")


# -- Graphviz DOT -------------------------------------------------------------------------


def _dot_string(text: str) -> str:
    """A DOT double-quoted string showing ``text`` literally, line breaks kept as ``\\n``.

    Backslashes are doubled so that Graphviz's label escapes (``\\N``, ``\\l``) never fire, and
    ``&`` is written ``&amp;`` because Graphviz reads HTML entities such as ``&lt;`` in any label.
    """
    escaped = text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_label(lines: tuple[str, ...]) -> str:
    return _dot_string("\n".join(lines))


def to_dot(network: Network, trace: Trace | None = None, sample: int = 0, precision: int = 4) -> str:
    """Graphviz DOT text for ``network`` (with one sample's values when a trace is given).

    Each column is a rank=same subgraph, so layers line up left to right in file order.
    """
    columns, edges = _picture(network, trace, sample, precision)
    out = [
        "digraph network {",
        "  graph [rankdir=LR, ranksep=1.2, nodesep=0.3, newrank=true, fontname=Helvetica"
        + (f", label={_dot_string(visible(network.name))}, labelloc=t" if network.name else "")
        + "];",
        "  node [shape=ellipse, fontname=Helvetica, fontsize=11, margin=0.05];",
        # decorate: a line from each weight to its edge, so crossing edges keep their own numbers.
        "  edge [fontname=Helvetica, fontsize=10, arrowsize=0.6, decorate=true];",
    ]
    for column in columns:
        heading = f"{column.id}_title"
        out.append(f"  subgraph {column.id} {{")
        out.append("    rank=same;")
        out.append(f"    {heading} [shape=plaintext, fontsize=12, label={_dot_string(column.title)}];")
        for node in column.nodes:
            shape = "shape=box, " if node.block else ""
            out.append(f"    {node.id} [{shape}label={_dot_label(node.lines)}];")
        # Invisible links keep the heading on top and the neurons in the file's order.
        chain = " -> ".join([heading, *(node.id for node in column.nodes)])
        out.append(f"    {chain} [style=invis];")
        out.append("  }")
    # Invisible, heavy links between the headings keep them on one line above the columns.
    headings = " -> ".join(f"{column.id}_title" for column in columns)
    out.append(f"  {headings} [style=invis, weight=100];")
    for edge in edges:
        label = f" [label={_dot_string(edge.label)}]" if edge.label else ""
        out.append(f"  {edge.source} -> {edge.target}{label};")
    out.append("}")
    return "\n".join(out) + "\n"


# -- Mermaid ------------------------------------------------------------------------------

_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "`": "#96;"}


def _mermaid_string(text: str) -> str:
    """A Mermaid quoted label showing ``text`` literally: specials as entity codes, lines as <br/>."""
    parts = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char == "\n":
            parts.append("<br/>")
        elif char in _MERMAID_ENTITIES:
            parts.append(_MERMAID_ENTITIES[char])
        elif ord(char) < 32 or ord(char) == 127:
            parts.append(f"#{ord(char)};")
        else:
            parts.append(char)
    return '"' + "".join(parts) + '"'


def to_mermaid(network: Network, trace: Trace | None = None, sample: int = 0, precision: int = 4) -> str:
    """Mermaid ``flowchart LR`` text for ``network``: the same picture as ``to_dot``.

    Node ids are positional (L1_2 is layer 1's second neuron), so any name is safe in a label.
    """
    columns, edges = _picture(network, trace, sample, precision)
    out = []
    if network.name:
        # JSON's double-quoted strings are valid YAML ones, so any title is safe here.
        out += ["---", f"title: {json.dumps(visible(network.name), ensure_ascii=False)}", "---"]
    out.append("flowchart LR")
    for column in columns:
        out.append(f"  subgraph {column.id} [{_mermaid_string(column.title)}]")
        for node in column.nodes:
            label = _mermaid_string(chr(10).join(node.lines))
            out.append(f"    {node.id}[[{label}]]" if node.block else f"    {node.id}[{label}]")
        out.append("  end")
    for edge in edges:
        if edge.label:
            out.append(f"  {edge.source} -- {_mermaid_string(edge.label)} --> {edge.target}")
        else:
            out.append(f"  {edge.source} --> {edge.target}")
    return "\n".join(out) + "\n"


# -- drawing with Graphviz ----------------------------------------------------------------


def render_graphviz(dot_text: str, fmt: str) -> bytes:
    """Lay out and draw DOT text with Graphviz's ``dot`` program; ``fmt`` is "svg" or "png"."""
    if fmt not in GRAPHVIZ_FORMATS:
        raise InputError(f"Graphviz can draw {' or '.join(GRAPHVIZ_FORMATS)} here, not {fmt!r}")
    program = shutil.which("dot")
    if program is None:
        raise InputError(MISSING_GRAPHVIZ)
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=GRAPHVIZ_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:  # removed between the lookup and the run
        raise InputError(MISSING_GRAPHVIZ) from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(
            f"Graphviz did not finish drawing within {GRAPHVIZ_TIMEOUT} s; the network may be too large to draw"
        ) from exc
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith("error")]
        detail = (errors or lines or [f"exit status {done.returncode}"])[0]
        raise InputError(f"Graphviz could not draw the diagram: {detail}")
    return done.stdout
