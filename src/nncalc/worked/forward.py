"""The forward pass worked out: per sample, per layer, a table of z and a and each neuron's steps.

``z = 0.15 × 0.1 + 0.4 = 0.415`` and ``a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023``: the
weights and inputs as they were written, every other number as the trace holds it. A
layer of more than ``LARGE_LAYER`` neurons is summarised unless every row is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc.document import Column, Document, Heading, Note, Step, Steps, Styled, Table, joined
from nncalc.engine import Trace
from nncalc.errors import InputError
from nncalc.expr import Chain, Expr, Name, Num, Sigma, Sum, chain
from nncalc.network import Network
from nncalc.render.numbers import relation
from nncalc.summary import summarize_layer
from nncalc.worked import View
from nncalc.worked.numbers import checked, shown_by, signed_term

LARGE_LAYER = 32  # layers with more neurons are summarised unless every row is asked for
MAX_TERMS = 8  # beyond this many inputs, a sum is written with Σ
READABLE = 8  # steps are on by default where every layer has at most this many neurons and inputs
READABLE_SAMPLES = 10


def steps_wanted(network: Network, samples: int, view: View) -> bool:
    """Whether derivations are shown: as asked; by default where every layer is small enough to read.

    Asking for them on a large layer without ``--all`` is refused: it would write thousands of lines.
    """
    # spatial layers choose their worked cells themselves (worked.spatial): the first of each map by default
    large = [i for i, layer in enumerate(network.layers) if layer.dense and layer.n_neurons > LARGE_LAYER]
    if view.steps and large and not view.all_rows and view.form != "matrix":  # matrices are elided
        layer = network.layers[large[0]]
        raise InputError(
            f"--steps on {network.layer_label(large[0])} would write {2 * layer.n_neurons} lines per sample; "
            "add --all to have them (large layers are otherwise summarised)"
        )
    if view.steps is not None:
        return view.steps
    small = all(layer.n_neurons <= READABLE and layer.n_inputs <= READABLE for layer in network.layers if layer.dense)
    return small and samples <= READABLE_SAMPLES


def forward_document(
    network: Network, trace: Trace, input_texts: Sequence[Sequence[str]] | None, view: View
) -> Document:
    """The whole forward pass of every sample in ``trace``."""
    return Document(network.name or "", tuple(forward_blocks(network, trace, input_texts, view)), view.precision)


def forward_blocks(network: Network, trace: Trace, input_texts: Sequence[Sequence[str]] | None, view: View) -> list:
    """The blocks of ``forward_document``, for pages that show a forward pass among other work."""
    samples = trace.inputs.shape[0]
    show_steps = steps_wanted(network, samples, view)
    blocks: list = []
    if network.name:
        blocks.append(Heading(1, (network.name,)))
    for s in range(samples):
        texts = input_texts[s] if input_texts is not None else None
        lead = f"sample {s + 1} of {samples}:" if samples > 1 else "input:"
        if network.input_shape is not None:  # an image: a grid per channel
            from nncalc.worked.spatial import image_blocks

            blocks.extend(image_blocks(network, trace, s, texts, lead, view))
        else:
            blocks.append(Heading(2, (Styled(lead), " ", *assignments(network.inputs, trace.inputs[s], texts))))
        for index in range(len(network.layers)):
            blocks.extend(layer_blocks(network, trace, index, s, texts, view, show_steps))
        blocks.append(Note(assignments(network.outputs, trace.output[s]), kind="output", lead="output:"))
    return blocks


def assignments(names: Sequence[str], values: np.ndarray, texts: Sequence[str] | None = None) -> tuple:
    """``i1 = 0.05, i2 = 0.10``: each name with its value (as written, where it was)."""
    items = [
        (chain(Name(name), Num(float(v), texts[k] if texts is not None else None)),)
        for k, (name, v) in enumerate(zip(names, values, strict=True))
    ]
    return joined(items)


def layer_title(network: Network, index: int, prefix: str = "") -> tuple:
    layer = network.layers[index]
    what = layer.activation.describe() if layer.has_activation else layer.kind  # pooling, flatten: no activation
    return (f"{prefix}{network.layer_label(index)} · {what}",)


def layer_blocks(
    network: Network,
    trace: Trace,
    index: int,
    sample: int,
    texts: Sequence[str] | None,
    view: View,
    show_steps: bool,
) -> list:
    """One layer of one sample: its heading, its table (or summary), its steps."""
    layer = network.layers[index]
    if not layer.dense:  # convolution, pooling, flatten: maps as grids, cells worked beside their windows
        from nncalc.worked.spatial import spatial_blocks

        return spatial_blocks(network, trace, index, sample, texts, view, show_steps)
    p = view.precision
    blocks: list = [Heading(3, layer_title(network, index))]
    if layer.n_neurons > LARGE_LAYER and not view.all_rows:
        blocks.extend(summary_blocks(network, trace, index, sample, p))
        if show_steps and view.form == "matrix":
            blocks.append(matrix_steps(network, trace, index, sample, texts, view))
        return blocks
    z = trace.layers[index].z[sample]
    a = trace.layers[index].a[sample]
    rows = tuple((neuron, Num(float(z[j])), Num(float(a[j]))) for j, neuron in enumerate(layer.neurons))
    blocks.append(Table((Column(("neuron",), numeric=False), Column(("z",)), Column(("a",))), rows))
    if show_steps and view.form == "matrix":
        blocks.append(matrix_steps(network, trace, index, sample, texts, view))
    elif show_steps:
        blocks.append(Steps(tuple(neuron_steps(network, trace, index, sample, texts, p))))
    return blocks


def matrix_steps(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, view: View
) -> Steps:
    """The layer at once in matrices (``--steps matrix``): see ``nncalc.worked.matrix``."""
    from nncalc.worked.matrix import forward_steps

    return forward_steps(network, trace, index, sample, texts, view)


def summary_blocks(network: Network, trace: Trace, index: int, sample: int, p: int) -> list:
    """A large layer in a few figures: the range and mean of z and a, and its most active neurons."""
    layer = network.layers[index]
    summary = summarize_layer(trace, index, sample)
    table = Table(
        (Column(("",), numeric=False), Column(("min",)), Column(("max",)), Column(("mean",))),
        (
            ("z", Num(summary.z_min), Num(summary.z_max), Num(summary.z_mean)),
            ("a", Num(summary.a_min), Num(summary.a_max), Num(summary.a_mean)),
        ),
    )
    top = joined([(chain(Name(layer.neurons[j]), Num(a)),) for j, _, a in summary.top])
    note = Note(
        (f"{layer.n_neurons} neurons × {layer.n_inputs} inputs; highest a: ", *top, "  (--all lists every neuron)")
    )
    return [table, note]


def received(network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None) -> list[Expr]:
    """What layer ``index`` received, as numbers: the inputs as written, else the previous layer's a."""
    values = trace.activations(index)[sample]
    if index == 0 and texts is not None:
        return [Num(float(v), t) for v, t in zip(values, texts, strict=True)]
    return [Num(float(v)) for v in values]


def z_chain(network: Network, index: int, neuron: int, inputs: Sequence[Expr], z: float, p: int) -> Chain:
    """``z = 0.15 × 0.1 + 0.4 = 0.415``, with the weights and bias as the file writes them."""
    layer = network.layers[index]
    weights = layer.weight_text[neuron]
    bias_shown = layer.layout.biases != "absent" or layer.biases[neuron] != 0
    if len(weights) > MAX_TERMS:
        body: list[Expr] = [Sigma("i", Name("w", "i") * Name("x", "i"))]
        if bias_shown:
            body.append(Name("b"))
        return Chain((Name("z"), _sum(body), Num(z)), ("=", "="))
    terms = [signed_term(text, float(layer.weights[neuron, i]), inputs[i]) for i, text in enumerate(weights)]
    if bias_shown:
        terms.append(signed_term(layer.bias_text[neuron], float(layer.biases[neuron])))
    return checked((Name("z"), _sum(terms), Num(z)), p)


def _sum(terms: list[Expr]) -> Expr:
    return terms[0] if len(terms) == 1 else Sum(tuple(terms))


def a_chain(network: Network, index: int, neuron: int, zs: Sequence[Expr], a: float, p: int, exact: object) -> Chain:
    """``a = σ(0.415) = 1 / (1 + e^−0.415) = 0.6023``: the activation's own formula, then a.

    ``exact`` is the activation applied to the layer's z as shown, which decides = or ≈.
    """
    activation = network.layers[index].activation
    forms = activation.activation.formula(zs[neuron], tuple(zs), activation.params)
    parts = (Name("a"), *forms.parts, Num(a))
    relations = ("=", *forms.relations, relation(exact, shown_by(p)(Num(a)), p) if exact is not None else "=")
    return Chain(parts, relations[: len(parts) - 1])


def neuron_steps(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, p: int
) -> list[Step]:
    """Each neuron's two steps, z then a, labelled with its name."""
    layer = network.layers[index]
    inputs = received(network, trace, index, sample, texts)
    z = trace.layers[index].z[sample]
    a = trace.layers[index].a[sample]
    zs = [Num(float(v)) for v in z]
    exact = activation_of_shown(layer.activation, [shown_by(p)(v) for v in zs])
    return [
        Step(
            (
                z_chain(network, index, j, inputs, float(z[j]), p),
                a_chain(network, index, j, zs, float(a[j]), p, exact[j] if exact is not None else None),
            ),
            label=neuron,
        )
        for j, neuron in enumerate(layer.neurons)
    ]


def activation_of_shown(activation, shown: Sequence[str]) -> np.ndarray | None:
    """The activation applied to the layer's z as shown (softmax reads them all); None where one is not a number."""
    try:
        values = np.array([[float(text.replace("−", "-")) for text in shown]], dtype=np.float64)
    except ValueError:
        return None
    with np.errstate(all="ignore"):
        return activation(values)[0]
