"""Markdown for notes, READMEs and notebooks: the terminal's tables, with derivations as inline math.

The math is plain LaTeX between single ``$`` (rendered by GitHub and Jupyter alike). Names
from the file stay outside the math and are escaped, so no name can start a link, emphasis,
a table cell, HTML or a formula; the math holds numbers only and so needs no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TextIO

from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.render.derivation import layer_steps
from nncalc.render.latex import a_latex, z_latex
from nncalc.render.numbers import show
from nncalc.text import visible

_ALWAYS = set("\\`*_[]<>|$~&#:@!")  # punctuation Markdown or GitHub may act on anywhere in a line
_LINE_BREAKS = re.compile("\r\n|[\n\r\t\v\f\u2028\u2029]")
_LINE_START = re.compile(r"^(?:[-+=]|\d+[.)])")  # a list item, setext underline or numbered item


def escape_markdown(text: str, line_start: bool = False) -> str:
    """``text`` as Markdown shows it literally, on one line, safe in headings, table cells and
    (with ``line_start``, where it opens a list item's text) where a line begins.

    Line breaks and tabs become spaces; other control characters are shown as pictures by
    :func:`nncalc.text.visible` (ESC as ␛), never written raw."""
    flat = visible(_LINE_BREAKS.sub(" ", text))  # one line; other control characters as pictures
    escaped = "".join("\\" + ch if ch in _ALWAYS else ch for ch in flat)
    match = _LINE_START.match(escaped) if line_start else None
    if match:
        head = match.group()
        escaped = head[:-1] + "\\" + head[-1] + escaped[len(head) :]
    return escaped


def _assignments(names: Sequence[str], values: Sequence[str]) -> str:
    return ", ".join(f"{escape_markdown(n)} = {escape_markdown(v)}" for n, v in zip(names, values, strict=True))


def write_markdown(
    stream: TextIO,
    network: Network,
    trace: Trace,
    input_texts: Sequence[Sequence[str]] | None,
    precision: int = 4,
    steps: bool = True,
) -> None:
    """Every sample's forward pass as Markdown: a heading per sample and layer, a table, the steps, the output.

    ``input_texts`` holds each sample's values as written (shown as given), or None.
    """
    p = precision
    samples = trace.inputs.shape[0]
    if network.name:
        stream.write(f"# {escape_markdown(network.name)}\n\n")
    for s in range(samples):
        texts = tuple(input_texts[s]) if input_texts is not None else None
        shown = texts or tuple(show(v, p) for v in trace.inputs[s])
        label = f"sample {s + 1} of {samples}" if samples > 1 else "input"
        stream.write(f"## {label}: {_assignments(network.inputs, shown)}\n\n")
        for index, layer in enumerate(network.layers):
            title = f"{network.layer_label(index)} · {layer.activation.describe()}"
            stream.write(f"### {escape_markdown(title)}\n\n| neuron | z | a |\n| --- | ---: | ---: |\n")
            z = trace.layers[index].z[s]
            a = trace.layers[index].a[s]
            for j, neuron in enumerate(layer.neurons):
                stream.write(f"| {escape_markdown(neuron)} | {show(z[j], p)} | {show(a[j], p)} |\n")
            stream.write("\n")
            if steps:
                for step in layer_steps(network, trace, index, s, texts, p):
                    stream.write(
                        f"- {escape_markdown(step.neuron, line_start=True)}: ${z_latex(step)}$, ${a_latex(step)}$\n"
                    )
                stream.write("\n")
        outputs = [show(v, p) for v in trace.output[s]]
        stream.write(f"**output:** {_assignments(network.outputs, outputs)}\n")
        if s + 1 < samples:
            stream.write("\n")
