"""One gradient-descent step worked out: the forward pass, the loss, then each layer from the output back.

``δ_o1 = (a_o1 − t_o1) · a_o1 · (1 − a_o1) = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385``,
``∂L/∂w(h1→o1) = δ_o1 · a_h1 = 0.1385 · 0.5933 = 0.0822`` and ``w′ = 0.40 − 0.5 · 0.0822 = 0.3589``:
every number from the backward result (its δ, gradients, updates and f′(z)), the symbols
first, then the numbers, then the result with ``=`` or ``≈``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncalc import losses
from nncalc.backprop import BackwardResult, LayerGradients, combined_rule
from nncalc.document import Column, Document, Heading, Note, Step, Steps, Table
from nncalc.expr import Chain, Derivative, Edge, Expr, Frac, Name, Neg, Num, Power, Product, Sigma, Sum, call, total
from nncalc.network import Layer, Network
from nncalc.worked import View
from nncalc.worked.forward import LARGE_LAYER, forward_blocks, layer_title, steps_wanted
from nncalc.worked.numbers import checked, signed_term, written

MAX_TERMS = 6  # beyond this many terms, a sum is written with Σ
MAX_LISTED_SAMPLES = 4  # a gradient over more samples is written as a mean, without its terms


def times(*factors: Expr) -> Expr:
    """A product, with the factors of products among them spliced in: a · b · (1 − b)."""
    flat: list[Expr] = []
    for factor in factors:
        flat.extend(factor.factors if isinstance(factor, Product) and factor.sign == "·" else (factor,))
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def minus(old: Expr, lr: Expr, gradient: Expr) -> Expr:
    """``old − lr · gradient``."""
    return Sum((old, Neg(times(lr, gradient))))


def backward_document(
    network: Network, result: BackwardResult, input_texts: Sequence[Sequence[str]] | None, view: View
) -> Document:
    """The forward pass, the loss, each layer's δ, gradients and updates, and the learning rate."""
    p = view.precision
    samples = result.trace.inputs.shape[0]
    shown = view.steps
    if shown is None:  # on by default, but for a large layer (a feature map, most often), summarised instead
        shown = view.all_rows or all(layer.n_neurons <= LARGE_LAYER for layer in network.layers)
    show_steps = steps_wanted(network, samples, View(p, shown, view.all_rows, view.form))
    blocks = forward_blocks(network, result.trace, input_texts, View(p, view.steps, view.all_rows, view.form))
    blocks.extend(loss_blocks(network, result, p))
    if result.optimizer is not None:
        from nncalc.worked.optimizer import legend

        blocks.extend(Note((line,), kind="detail") for line in legend(result.optimizer, result.lr, result.state.step))
    for index in range(len(network.layers) - 1, -1, -1):
        blocks.extend(layer_blocks(network, result, index, view, show_steps))
    lr, loss = Num(result.lr), Num(result.loss)
    if result.optimizer is not None:
        from nncalc.worked.optimizer import describe

        step = result.state.step
        blocks.append(
            Note(
                (f"{describe(result.optimizer, result.lr)}, step t = {step}; loss before the step ", loss),
                kind="output",
            )
        )
    else:
        blocks.append(Note(("learning rate ", lr, "; loss before the step ", loss), kind="output"))
    return Document(network.name or "", tuple(blocks), p)


def loss_blocks(network: Network, result: BackwardResult, p: int) -> list:
    """The loss of each sample written out, and the batch's mean."""
    loss = losses.REGISTRY[result.loss_name]
    samples = result.trace.inputs.shape[0]
    steps = []
    for s in range(samples):
        a = [Num(float(v)) for v in result.trace.output[s]]
        t = [Num(float(v)) for v in result.targets[s]]
        value = Num(float(result.sample_losses[s]))
        if len(a) > MAX_TERMS or loss.expanded is None:
            chain = Chain((Name("L"), loss.symbols, value), ("=", "="))
        else:
            chain = checked((Name("L"), loss.symbols, loss.expanded(a, t), value), p)
        steps.append(Step((chain,), label=f"sample {s + 1}:" if samples > 1 else None))
    blocks: list = [Heading(3, (f"loss ({result.loss_name})",)), Steps(tuple(steps))]
    if samples > 1:
        mean = (f"batch loss (mean over {samples} samples) = ", Num(result.loss))
        blocks.append(Note(mean, kind="detail"))
    return blocks


DELTA_COLUMNS = 2  # up to this many samples, each sample's δ is a column beside the biases


def delta_tables(
    layer: Layer, grads: LayerGradients, samples: int, buffers: Sequence[tuple[str, Sequence[float]]] = ()
) -> list[Table]:
    """Each neuron's δ, and its bias's gradient, the optimizer's ``buffers`` after the step
    (a column each, by label), and the update.

    For one or two samples, one table: a δ column per sample beside ∂L/∂b, b and b′. From
    three samples on a column per sample would not fit a page, so the δ get a table of their
    own, a row per sample and neuron, and the biases another.
    """
    bias_cells = [
        (
            Num(float(grads.grad_biases[j])),
            Num(float(layer.biases[j]), layer.bias_text[j]),
            *(Num(float(values[j])) for _, values in buffers),
            Num(float(grads.biases[j])),
        )
        for j in range(layer.n_neurons)
    ]
    bias_columns = (
        Column(("∂L/∂b",)),
        Column(("b",)),
        *(Column((label,)) for label, _ in buffers),
        Column(("b′",)),
    )
    neuron_column = Column(("neuron",), numeric=False)
    if samples <= DELTA_COLUMNS:
        deltas = [Column(("δ" if samples == 1 else f"δ (sample {s + 1})",)) for s in range(samples)]
        rows = tuple(
            (neuron, *(Num(float(grads.delta[s, j])) for s in range(samples)), *bias_cells[j])
            for j, neuron in enumerate(layer.neurons)
        )
        return [Table((neuron_column, *deltas, *bias_columns), rows)]
    delta_rows = tuple(
        (str(s + 1), neuron, Num(float(grads.delta[s, j])))
        for s in range(samples)
        for j, neuron in enumerate(layer.neurons)
    )
    bias_rows = tuple((neuron, *bias_cells[j]) for j, neuron in enumerate(layer.neurons))
    return [
        Table((Column(("sample",), numeric=False), neuron_column, Column(("δ",))), delta_rows),
        Table((neuron_column, *bias_columns), bias_rows),
    ]


def layer_blocks(network: Network, result: BackwardResult, index: int, view: View, show_steps: bool) -> list:
    """One layer's δ table and steps, then its weights' gradients and updates."""
    layer = network.layers[index]
    if not layer.dense:  # convolution, pooling, flatten: δ as maps, the kernel's gradient as grids
        from nncalc.worked.spatial_backward import spatial_backward_blocks

        return spatial_backward_blocks(network, result, index, view, show_steps)
    grads = result.layers[index]
    samples = grads.delta.shape[0]
    p = view.precision
    blocks: list = [Heading(3, layer_title(network, index, "backward: "))]
    if layer.n_neurons > LARGE_LAYER and not view.all_rows:
        blocks.append(Note((f"{layer.n_neurons} neurons: δ, gradients and updates in --format json",), kind="detail"))
        if show_steps and view.form == "matrix":  # its matrices elided in the middle
            from nncalc.worked.matrix import backward_steps

            blocks.append(backward_steps(network, result, index, view, updates=result.optimizer is None))
        return blocks
    # a δ column per sample leaves room for fewer of the optimizer's buffers (the lines below show them all)
    blocks.extend(delta_tables(layer, grads, samples, _buffers(result, index, True) if samples != 2 else []))
    if show_steps and view.form != "matrix":
        for s in range(samples):
            if samples > 1:
                blocks.append(Note((f"sample {s + 1}:",), kind="detail"))
            blocks.append(
                Steps(
                    tuple(
                        Step((delta_chain(network, result, index, s, j, p),), after=_rule_note(network, result, index))
                        for j in range(layer.n_neurons)
                    )
                )
            )
    buffers = _buffers(result, index, False)
    weight_columns = (
        Column(("weight",), numeric=False),
        Column(("w",)),
        Column(("∂L/∂w",)),
        *(Column((label,)) for label, _ in buffers),
        Column(("w′",)),
    )
    weight_rows = tuple(
        (
            weight_name(network, index, j, i),
            Num(float(layer.weights[j, i]), layer.weight_text[j][i]),
            Num(float(grads.grad_weights[j, i])),
            *(Num(float(values[j, i])) for _, values in buffers),
            Num(float(grads.weights[j, i])),
        )
        for j in range(layer.n_neurons)
        for i in range(layer.n_inputs)
    )
    blocks.append(Table(weight_columns, weight_rows))
    if show_steps and view.form == "matrix":
        from nncalc.worked.matrix import backward_steps

        blocks.append(backward_steps(network, result, index, view, updates=result.optimizer is None))
        if result.optimizer is not None:  # an optimizer's update is written weight by weight
            blocks.append(Note(("the update, weight by weight:",), kind="detail"))
            blocks.append(update_steps(network, result, index, p))
    elif show_steps:
        blocks.append(update_steps(network, result, index, p))
    return blocks


def update_steps(network: Network, result: BackwardResult, index: int, p: int) -> Steps:
    """Each weight's and bias's gradient and update, neuron by neuron."""
    items = []
    for j in range(network.layers[index].n_neurons):
        for i in range(network.layers[index].n_inputs):
            items.extend(_lines(weight_chains(network, result, index, j, i, p)))
        items.extend(bias_steps(network, result, index, j, p))
    return Steps(tuple(items))


def _lines(chains: tuple) -> list[Step]:
    """The steps of a weight's or bias's working: one line, or with an optimizer the gradient
    with the first group of its lines, then each further group on a line of its own."""
    if not chains or isinstance(chains[-1], Chain):
        return [Step(chains)]
    first, *groups = chains[1:]
    return [Step((chains[0], *first)), *(Step(group) for group in groups)]


def _buffers(result: BackwardResult, index: int, biases: bool) -> list:
    """(heading, values after the step) of each optimizer buffer a table shows; none without an
    optimizer, or for frozen biases."""
    trace = result.update_of(index, biases)
    if trace is None:
        return []
    from nncalc.worked.optimizer import buffer_columns

    return [(label, getattr(trace, field)) for label, field in buffer_columns(result.optimizer)]


def weight_name(network: Network, layer: int, neuron: int, source: int) -> Edge:
    """``w(h1→o1)``: the weight from a neuron (or input) of the layer below to this neuron."""
    below = network.inputs if layer == 0 else network.layers[layer - 1].neurons
    return Edge("w", below[source], network.layers[layer].neurons[neuron])


def _rule_note(network: Network, result: BackwardResult, index: int) -> tuple:
    """Why an output δ takes the form it does, where a combined rule or softmax applies."""
    if index != len(network.layers) - 1:
        return ()
    activation = network.layers[index].activation
    rule = combined_rule(activation.name, result.loss_name)
    if rule == "a − t":
        return ("   (softmax with cross-entropy)",)
    if rule == "(a − t)/n":
        return ("   (sigmoid with BCE)",)
    if not activation.activation.elementwise:
        return ("   (softmax couples the outputs)",)
    return ()


def delta_chain(network: Network, result: BackwardResult, index: int, sample: int, neuron: int, p: int) -> Chain:
    """The chain rule for one neuron's δ in one sample: symbols, then numbers, then δ."""
    trace = result.trace
    layer = network.layers[index]
    name = layer.neurons[neuron]
    activation = layer.activation
    z = Num(float(trace.layers[index].z[sample, neuron]))
    a = Num(float(trace.layers[index].a[sample, neuron]))
    d = Num(float(result.layers[index].derivative[sample, neuron]))
    delta = Num(float(result.layers[index].delta[sample, neuron]))
    derivative = activation.activation.derivative_formula
    f_symbols = derivative(Name("z", name), Name("a", name), call("f′", Name("z", name)), activation.params)
    f_numbers = derivative(z, a, d, activation.params)
    lhs = Name("δ", name)
    if index == len(network.layers) - 1:
        loss = losses.REGISTRY[result.loss_name]
        n = Num(float(trace.output.shape[1]))
        t = Num(float(result.targets[sample, neuron]))
        rule = combined_rule(activation.name, result.loss_name)
        if rule == "a − t":
            return checked((lhs, Sum((Name("a", name), Neg(Name("t", name)))), Sum((a, Neg(t))), delta), p)
        if rule == "(a − t)/n":
            symbols = Frac(Sum((Name("a", name), Neg(Name("t", name)))), n)
            return checked((lhs, symbols, Frac(Sum((a, Neg(t))), n), delta), p)
        if not activation.activation.elementwise:
            coupled = Sigma(
                "j", times(Derivative(Name("L"), Name("a", "j")), Derivative(Name("a", "j"), Name("z", name)))
            )
            return Chain((lhs, coupled, delta), ("=", "="))
        g_symbols = loss.gradient_formula(Name("a", name), Name("t", name), n)
        return checked((lhs, times(g_symbols, f_symbols), times(loss.gradient_formula(a, t, n), f_numbers), delta), p)
    above = network.layers[index + 1]
    deltas_above = result.layers[index + 1].delta[sample]
    if above.n_neurons > MAX_TERMS:
        weighted = Sigma("k", times(Edge("w", name, "k"), Name("δ", "k")))
        numbers = weighted
    else:
        weighted = total(
            [times(weight_name(network, index + 1, k, neuron), Name("δ", m)) for k, m in enumerate(above.neurons)]
        )
        numbers = total(
            [
                signed_term(
                    above.weight_text[k][neuron], float(above.weights[k, neuron]), Num(float(deltas_above[k])), "·"
                )
                for k in range(above.n_neurons)
            ]
        )
    if not activation.activation.elementwise:
        jacobian = Power(Name("J", "softmax"), Name("⊤"))  # softmax's Jacobian, transposed
        return Chain((lhs, times(jacobian, weighted), delta), ("=", "="))
    return checked((lhs, times(weighted, f_symbols), times(numbers, f_numbers), delta), p)


def weight_chains(
    network: Network, result: BackwardResult, index: int, neuron: int, source: int, p: int
) -> tuple[Chain, ...]:
    """``∂L/∂w(h1→o1) = δ_o1 · a_h1 = 0.1385 · 0.5933 = 0.0822`` and ``w′ = 0.40 − 0.5 · 0.0822 = 0.3589``
    (with an optimizer, its lines instead of the last: ``nncalc.worked.optimizer``)."""
    grads = result.layers[index]
    received = result.trace.activations(index)
    below = network.inputs if index == 0 else network.layers[index - 1].neurons
    name = network.layers[index].neurons[neuron]
    source_symbol = Name(below[source]) if index == 0 else Name("a", below[source])
    samples = received.shape[0]
    lhs = Derivative(Name("L"), weight_name(network, index, neuron, source))
    gradient = Num(float(grads.grad_weights[neuron, source]))
    symbols = times(Name("δ", name), source_symbol)
    pairs = [times(Num(float(grads.delta[s, neuron])), Num(float(received[s, source]))) for s in range(samples)]
    if samples == 1:
        grad = checked((lhs, symbols, pairs[0], gradient), p)
    else:
        mean = Frac(Num(1.0), Num(float(samples)))
        if samples <= MAX_LISTED_SAMPLES:
            grad = checked((lhs, times(mean, Sigma("s", symbols)), times(mean, total(pairs)), gradient), p)
        else:
            grad = Chain((lhs, times(mean, Sigma("s", symbols)), gradient), ("=", "="))
    layer = network.layers[index]
    old = written(layer.weight_text[neuron][source], float(layer.weights[neuron, source]))
    if result.optimizer is not None:
        from nncalc.worked.optimizer import update_chains

        return (grad, *update_chains(result, index, False, (neuron, source), old, gradient, p))  # type: ignore[return-value]
    new = Num(float(grads.weights[neuron, source]))
    update = checked((Name("w", mark="prime"), minus(old, Num(result.lr), gradient), new), p)
    return grad, update


def bias_steps(network: Network, result: BackwardResult, index: int, neuron: int, p: int) -> list[Step]:
    """``bias_step``'s working as lines: one, or with an optimizer one per group of its lines."""
    if result.optimizer is None or result.freeze_biases:
        return [bias_step(network, result, index, neuron, p)]
    from nncalc.worked.optimizer import update_chains

    grads, layer = result.layers[index], network.layers[index]
    grad = bias_step(network, result, index, neuron, p).chains[0]
    old = written(layer.bias_text[neuron], float(layer.biases[neuron]))
    gradient = Num(float(grads.grad_biases[neuron]))
    return _lines((grad, *update_chains(result, index, True, (neuron,), old, gradient, p)))


def bias_step(network: Network, result: BackwardResult, index: int, neuron: int, p: int) -> Step:
    """``∂L/∂b_o1 = δ_o1 = 0.1385`` and ``b′ = 0.60 − 0.5 · 0.1385 = 0.5308`` (or kept, when frozen)."""
    grads = result.layers[index]
    layer = network.layers[index]
    name = layer.neurons[neuron]
    samples = grads.delta.shape[0]
    gradient = Num(float(grads.grad_biases[neuron]))
    symbol = (
        Name("δ", name) if samples == 1 else times(Frac(Num(1.0), Num(float(samples))), Sigma("s", Name("δ", name)))
    )
    grad = Chain((Derivative(Name("L"), Name("b", name)), symbol, gradient), ("=", "="))
    old = written(layer.bias_text[neuron], float(layer.biases[neuron]))
    if result.freeze_biases:
        return Step((grad, Chain((Name("b", mark="prime"), old), ("=",))), after=(" (biases frozen)",))
    new = Num(float(grads.biases[neuron]))
    return Step((grad, checked((Name("b", mark="prime"), minus(old, Num(result.lr), gradient), new), p)))
