"""A backpropagation step as Markdown: the forward pass, the loss, then each layer's δ and updates."""

from __future__ import annotations

from typing import TextIO

from nncalc.network import Network
from nncalc.render import backprop_steps as steps
from nncalc.render.markdown import escape_markdown, write_markdown
from nncalc.render.numbers import show
from nncalc.text import visible


def _code(text: str) -> str:
    """A derivation line as inline code: it renders the same everywhere, Unicode symbols and all.

    The line holds names from the file; their control characters are shown as pictures."""
    text = visible(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def write_backward_markdown(
    stream: TextIO, network: Network, result, input_texts, precision: int = 4, show_steps: bool = True
) -> None:
    """The forward pass as ``forward --format markdown`` writes it, then the loss and the backward pass."""
    p = precision
    write_markdown(stream, network, result.trace, input_texts, p, steps=show_steps)
    samples = result.trace.inputs.shape[0]
    stream.write(f"\n## loss ({escape_markdown(result.loss_name)})\n\n")
    for s in range(samples):
        stream.write(f"- {_code(steps.loss_text(network, result, s, p))}\n")
    if samples > 1:
        stream.write(f"- batch loss (mean over {samples} samples) = {show(result.loss, p)}\n")
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        grads = result.layers[index]
        label = escape_markdown(f"{network.layer_label(index)} · {layer.activation.describe()}")
        stream.write(f"\n### backward: {label}\n\n")
        header = [
            "neuron",
            *(["δ"] if samples == 1 else [f"δ (sample {s + 1})" for s in range(samples)]),
            "∂L/∂b",
            "b",
            "b′",
        ]
        stream.write("| " + " | ".join(header) + " |\n")
        stream.write("| --- |" + " ---: |" * (len(header) - 1) + "\n")
        for j, neuron in enumerate(layer.neurons):
            cells = [
                escape_markdown(neuron),
                *(show(grads.delta[s, j], p) for s in range(samples)),
                show(grads.grad_biases[j], p),
                escape_markdown(layer.bias_text[j]),
                show(grads.biases[j], p),
            ]
            stream.write("| " + " | ".join(cells) + " |\n")
        stream.write("\n| weight | w | ∂L/∂w | w′ |\n| --- | ---: | ---: | ---: |\n")
        for j in range(layer.n_neurons):
            for i in range(layer.n_inputs):
                stream.write(
                    f"| {escape_markdown(steps.weight_name(network, index, j, i))} | "
                    f"{escape_markdown(layer.weight_text[j][i])} | {show(grads.grad_weights[j, i], p)} | "
                    f"{show(grads.weights[j, i], p)} |\n"
                )
        if show_steps:
            stream.write("\n")
            for s in range(samples):
                for j in range(layer.n_neurons):
                    stream.write(f"- {_code(steps.delta_text(network, result, index, s, j, p))}\n")
            for j in range(layer.n_neurons):
                for i in range(layer.n_inputs):
                    stream.write(f"- {_code(steps.weight_step_text(network, result, index, j, i, p))}\n")
                stream.write(f"- {_code(steps.bias_step_text(network, result, index, j, p))}\n")
    stream.write(f"\n**learning rate** {show(result.lr, p)}; **loss before the step** {show(result.loss, p)}\n")
