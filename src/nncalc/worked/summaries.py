"""Pages that summarise rather than derive: a training run, and a checked network file."""

from __future__ import annotations

import numpy as np

from nncalc.document import Column, Document, Heading, Note, Table
from nncalc.expr import Num
from nncalc.network import Network
from nncalc.training_view import selected_iterations
from nncalc.worked import View
from nncalc.worked.forward import LARGE_LAYER, assignments

SHOWN_WEIGHTS = 8  # a trained layer's table shows the weights from at most this many inputs


def training_document(
    final: Network, losses: np.ndarray, outputs: np.ndarray, view: View, updates: str | None = None
) -> Document:
    """Repeated steps: the loss at selected iterations, then the final weights and outputs.
    ``updates`` says what made the updates, where it was not plain gradient descent."""
    iterations = len(losses) - 1
    rows = tuple((Num(float(i), str(i)), Num(float(losses[i]))) for i in selected_iterations(iterations))
    blocks: list = [
        Heading(3, (f"training: {iterations} steps on the same batch (iteration 0 is before the first)",)),
        *((Note((updates,), kind="detail"),) if updates else ()),
        Table((Column(("iteration",)), Column(("loss",))), rows),
    ]
    for index, layer in enumerate(final.layers):
        if not layer.dense:  # a convolution's kernel row by row; pooling and flatten have nothing to train
            if layer.n_params:
                heading = Heading(3, (f"{final.layer_label(index)} after training",))
                blocks.extend([heading, _kernel_table(layer, view)])
            continue
        below = final.inputs if index == 0 else final.layers[index - 1].neurons
        shown = below[:SHOWN_WEIGHTS]
        more = len(below) > SHOWN_WEIGHTS
        columns = [Column(("neuron",), numeric=False), *(Column((f"w({name}→·)",)) for name in shown)]
        if more:
            columns.append(Column(("…",), numeric=False))
        columns.append(Column(("b",)))
        listed = layer.neurons if view.all_rows else layer.neurons[:LARGE_LAYER]
        table_rows = tuple(
            (
                neuron,
                *(Num(float(v)) for v in layer.weights[j, : len(shown)]),
                *(("…",) if more else ()),
                Num(float(layer.biases[j])),
            )
            for j, neuron in enumerate(listed)
        )
        blocks.extend([Heading(3, (f"{final.layer_label(index)} after training",)), Table(tuple(columns), table_rows)])
    samples = outputs.shape[0]
    for s in range(samples):
        lead = "output:" if samples == 1 else f"output, sample {s + 1}:"
        blocks.append(Note(assignments(final.outputs, outputs[s]), kind="output", lead=lead))
    return Document(final.name or "", tuple(blocks), view.precision)


def _kernel_table(layer, view: View) -> Table:
    """A convolution's kernel, a row per (output channel, input channel, kernel row), its bias beside
    the first row of each output channel."""
    out_channels, channels, kh, kw = layer.weights.shape
    keys = [(o, c, r) for o in range(out_channels) for c in range(channels) for r in range(kh)]
    listed = keys if view.all_rows else keys[:LARGE_LAYER]
    rows = tuple(
        (
            f"[{o},{c},{r}]",
            *(Num(float(v)) for v in layer.weights[o, c, r]),
            Num(float(layer.biases[o])) if c == 0 and r == 0 else "",
        )
        for o, c, r in listed
    )
    columns = (
        Column(("kernel row",), numeric=False),
        *(Column((f"column {k}",)) for k in range(kw)),
        Column(("b",)),
    )
    return Table(columns, rows)


def check_document(network: Network) -> Document:
    """What ``nncalc check`` shows of a valid file: its layers, shapes, activations and parameter count."""
    source = network.source + (f" ({network.name})" if network.name else "")
    rows = tuple(
        (
            network.layer_label(index),
            f"{layer.n_neurons}: {_neuron_list(layer.neurons)}" if layer.dense else _shapes(layer),
            f"{layer.n_neurons} × {layer.n_inputs}" if layer.dense else _spatial_weights(layer),
            layer.activation.describe() if layer.has_activation else "",
            f"{layer.n_params:,}",
        )
        for index, layer in enumerate(network.layers)
    )
    columns = (
        Column(("layer",), numeric=False),
        Column(("neurons",), numeric=False),
        Column(("weights",)),
        Column(("activation",), numeric=False),
        Column(("parameters",)),
    )
    blocks = (
        Note((source,), kind="right", lead="valid:"),
        Note((_inputs_line(network),)),
        Table(columns, rows),
        Note((f"parameters: {network.n_params:,} (weights and biases)",)),
    )
    return Document("", blocks)


def _inputs_line(network: Network) -> str:
    if network.input_shape is not None:
        from nncalc.spatial import describe_shape

        return f"inputs: {network.n_inputs} (images {describe_shape(network.input_shape)}: channels, height, width)"
    return f"inputs: {network.n_inputs} ({', '.join(network.inputs)})"


def _shapes(layer) -> str:
    """``conv2d 1×5×5 → 2×3×3``: a spatial layer's type and shapes, for the neurons column."""
    from nncalc.spatial import describe_shape

    return f"{layer.kind} {describe_shape(layer.input_shape)} → {describe_shape(layer.output_shape)}"


def _spatial_weights(layer) -> str:
    """A convolution's weights (out × in × kh × kw), a pooling's window, or nothing for flatten."""
    if layer.kind == "conv2d":
        return "×".join(str(n) for n in layer.weights.shape)
    if hasattr(layer, "kernel_size"):
        return f"{layer.kernel_size[0]}×{layer.kernel_size[1]} window"
    return ""


def _neuron_list(neurons: tuple[str, ...]) -> str:
    return ", ".join(neurons) if len(neurons) <= SHOWN_WEIGHTS else f"{neurons[0]} … {neurons[-1]}"
