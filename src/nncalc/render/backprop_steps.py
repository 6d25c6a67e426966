"""Backpropagation written out as on paper: each δ by the chain rule, each gradient and update.

``δ_o1 = (a_o1 − t_o1) · a_o1 · (1 − a_o1) = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385``.
Every number comes from the core's result; this module only writes them down.
"""

from __future__ import annotations

from nncalc import losses
from nncalc.backprop import BackwardResult, combined_rule
from nncalc.network import Network
from nncalc.render.numbers import MINUS, show, unicode_minus

MAX_TERMS = 6  # beyond this, sums are written with Σ


def _show(value: float, precision: int) -> str:
    """A computed number as these derivations write it: by ``show``, with ``−`` as its minus sign."""
    return unicode_minus(show(value, precision))


def _written(text: str) -> str:
    """A number as the file wrote it (a weight, a bias), with ``−`` as its minus sign and no leading ``+``."""
    return unicode_minus(text[1:] if text.startswith("+") else text)


def _p(text: str) -> str:
    """A negative number in parentheses, where it follows an operator: ``(−0.0381)``."""
    return f"({text})" if text.startswith(MINUS) else text


def derivative_at(result: BackwardResult, activation, layer: int, sample: int, neuron: int) -> float:
    """da/dz of one neuron in one sample, worked out for that neuron alone.

    A derivation line asks for one neuron's; the whole layer's, once per neuron, would make
    a layer's steps take time growing with its width squared.
    """
    values = result.trace.layers[layer]
    one = (slice(sample, sample + 1), slice(neuron, neuron + 1))
    return float(activation.derivative(values.z[one], values.a[one])[0, 0])


def weight_name(network: Network, layer: int, neuron: int, source: int) -> str:
    """``w(h1→o1)``: the weight from a neuron (or input) of the layer below to this neuron."""
    below = network.inputs if layer == 0 else network.layers[layer - 1].neurons
    return f"w({below[source]}→{network.layers[layer].neurons[neuron]})"


def loss_text(network: Network, result: BackwardResult, sample: int, precision: int) -> str:
    """``L = ½ · Σ (t − a)² = ½ · ((0.01 − 0.7514)² + (0.99 − 0.7729)²) = 0.2984`` for one sample."""
    loss = losses.REGISTRY[result.loss_name]
    a = [_show(v, precision) for v in result.trace.output[sample]]
    t = [_show(v, precision) for v in result.targets[sample]]
    n = len(a)
    if n > MAX_TERMS:
        return f"L = {loss.formula} = {_show(result.sample_losses[sample], precision)}"
    if result.loss_name in ("half_sse", "mse"):
        terms = " + ".join(f"({tt} − {_p(aa)})²" for aa, tt in zip(a, t, strict=True))
        front = "½ · " if result.loss_name == "half_sse" else f"(1/{n}) · "
        body = f"{front}({terms})" if n > 1 else f"{front}{terms}"
    elif result.loss_name == "cross_entropy":
        body = "−(" + " + ".join(f"{tt} · ln {aa}" for aa, tt in zip(a, t, strict=True)) + ")"
    else:
        body = (
            f"(1/{n}) · ("
            + " + ".join(f"−[{tt} · ln {aa} + (1 − {tt}) · ln(1 − {aa})]" for aa, tt in zip(a, t, strict=True))
            + ")"
        )
    return f"L = {loss.formula} = {body} = {_show(result.sample_losses[sample], precision)}"


def delta_text(network: Network, result: BackwardResult, layer: int, sample: int, neuron: int, precision: int) -> str:
    """The chain rule for one neuron's δ in one sample, symbols first, then numbers."""
    trace = result.trace
    current = network.layers[layer]
    name = current.neurons[neuron]
    z = _show(trace.layers[layer].z[sample, neuron], precision)
    a = _show(trace.layers[layer].a[sample, neuron], precision)
    d = _show(derivative_at(result, current.activation, layer, sample, neuron), precision)
    delta = _show(result.layers[layer].delta[sample, neuron], precision)
    act = current.activation
    f_sym = act.derivative_text(f"z_{name}", f"a_{name}", f"f′(z_{name})")
    f_num = act.derivative_text(_p(z), _p(a), d)
    last = layer == len(network.layers) - 1
    if last:
        loss = losses.REGISTRY[result.loss_name]
        n = str(trace.output.shape[1])
        t = _show(result.targets[sample, neuron], precision)
        rule = combined_rule(act.name, result.loss_name)
        if rule == "a − t":
            return f"δ_{name} = a_{name} − t_{name} = {a} − {_p(t)} = {delta}   (softmax with cross-entropy)"
        if rule == "(a − t)/n":
            return f"δ_{name} = (a_{name} − t_{name}) / {n} = ({a} − {_p(t)}) / {n} = {delta}   (sigmoid with BCE)"
        if not act.activation.elementwise:
            return f"δ_{name} = Σⱼ ∂L/∂aⱼ · ∂aⱼ/∂z_{name} = {delta}   (softmax couples the outputs)"
        g_sym = loss.gradient_text(f"a_{name}", f"t_{name}", n)
        g_num = loss.gradient_text(a, _p(t), n)
        return f"δ_{name} = {g_sym} · {f_sym} = {g_num} · {f_num} = {delta}"
    above = network.layers[layer + 1]
    deltas_above = result.layers[layer + 1].delta[sample]
    if above.n_neurons > MAX_TERMS:
        s_sym = f"Σₖ w({name}→k) · δₖ"
        s_num = s_sym
    else:
        s_sym = " + ".join(
            f"{weight_name(network, layer + 1, k, neuron)} · δ_{above.neurons[k]}" for k in range(above.n_neurons)
        )
        s_num = " + ".join(
            f"{_written(above.weight_text[k][neuron])} · {_p(_show(deltas_above[k], precision))}"
            for k in range(above.n_neurons)
        )
    if not act.activation.elementwise:
        return f"δ_{name} = (softmax's Jacobian)ᵀ · ({s_sym}) = {delta}"
    wrap = (lambda text: f"({text})") if above.n_neurons > 1 else (lambda text: text)
    return f"δ_{name} = {wrap(s_sym)} · {f_sym} = {wrap(s_num)} · {f_num} = {delta}"


def weight_step_text(
    network: Network, result: BackwardResult, layer: int, neuron: int, source: int, precision: int
) -> str:
    """``∂L/∂w(h1→o1) = δ_o1 · a_h1 = 0.1385 · 0.5933 = 0.0822;  w' = 0.40 − 0.5 · 0.0822 = 0.3589``."""
    grads = result.layers[layer]
    received = result.trace.activations(layer)
    below = network.inputs if layer == 0 else network.layers[layer - 1].neurons
    name = network.layers[layer].neurons[neuron]
    source_symbol = below[source] if layer == 0 else f"a_{below[source]}"
    samples = received.shape[0]
    pairs = [
        f"{_p(_show(grads.delta[s, neuron], precision))} · {_p(_show(received[s, source], precision))}"
        for s in range(samples)
    ]
    gradient = _show(grads.grad_weights[neuron, source], precision)
    if samples == 1:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = δ_{name} · {source_symbol} = {pairs[0]} = {gradient}"
        )
    elif samples <= 4:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = (1/{samples}) · Σₛ δ_{name} · {source_symbol} = "
            f"(1/{samples}) · ({' + '.join(pairs)}) = {gradient}"
        )
    else:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = mean over {samples} samples of "
            f"δ_{name} · {source_symbol} = {gradient}"
        )
    old = _written(network.layers[layer].weight_text[neuron][source])
    new = _show(grads.weights[neuron, source], precision)
    return f"{grad};  w′ = {old} − {_show(result.lr, precision)} · {_p(gradient)} = {new}"


def bias_step_text(network: Network, result: BackwardResult, layer: int, neuron: int, precision: int) -> str:
    """``∂L/∂b_o1 = δ_o1 = 0.1385;  b′ = 0.60 − 0.5 · 0.1385 = 0.5308`` (or kept, when frozen)."""
    grads = result.layers[layer]
    name = network.layers[layer].neurons[neuron]
    samples = grads.delta.shape[0]
    gradient = _show(grads.grad_biases[neuron], precision)
    symbol = f"δ_{name}" if samples == 1 else f"(1/{samples}) · Σₛ δ_{name}"
    old = _written(network.layers[layer].bias_text[neuron])
    if result.freeze_biases:
        return f"∂L/∂b_{name} = {symbol} = {gradient};  b′ = {old} (biases frozen)"
    new = _show(grads.biases[neuron], precision)
    return f"∂L/∂b_{name} = {symbol} = {gradient};  b′ = {old} − {_show(result.lr, precision)} · {_p(gradient)} = {new}"
