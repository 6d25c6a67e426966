"""Backpropagation written out as on paper: each δ by the chain rule, each gradient and update.

``δ_o1 = (a_o1 − t_o1) · a_o1 · (1 − a_o1) = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385``.
Every number comes from the core's result; this module only writes them down. A step whose
shown numbers, worked out exactly, do not give its shown result is written with ``≈``:
``∂L/∂w = 0.0739 · 0.5 ≈ 0.0369`` (δ is 0.07386, shown rounded). The ``*_relation``
functions say which, for the text here and for the LaTeX of :mod:`latex_backward` alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from nncalc import losses
from nncalc.backprop import BackwardResult, combined_rule
from nncalc.network import Network
from nncalc.render.numbers import MINUS, relation, show, unicode_minus, value_of

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


# -- whether a step's shown numbers give its shown result ----------------------------------

Exact = Fraction | float | None  # a value worked out from shown numbers; None where nothing can be


def _shown(value: float, precision: int) -> Fraction | None:
    """The number a person reads where ``value`` is shown: show()'s text, taken exactly."""
    return value_of(show(value, precision))


def _worked(compute: Callable[[], Exact]) -> Exact:
    """``compute()``, or None where a shown number is nan or inf, or the formula is undefined there."""
    try:
        return compute()
    except (TypeError, ZeroDivisionError, ValueError, OverflowError):
        return None


# ∂(sample loss)/∂a from shown a, t and n, as each loss's gradient_text writes it
_LOSS_GRADIENTS: dict[str, Callable[[Fraction, Fraction, int], Exact]] = {
    "half_sse": lambda a, t, n: a - t,
    "mse": lambda a, t, n: Fraction(2, n) * (a - t),
    "cross_entropy": lambda a, t, n: -t / a,
    "bce": lambda a, t, n: (a - t) / (n * a * (1 - a)),
}


def _loss_value(name: str, a: Sequence[Fraction], t: Sequence[Fraction]) -> Exact:
    """One sample's loss from shown outputs and targets, as ``loss_text`` writes it out."""
    n = len(a)
    pairs = list(zip(a, t, strict=True))
    if name == "half_sse":
        return Fraction(1, 2) * sum((tt - aa) ** 2 for aa, tt in pairs)
    if name == "mse":
        return Fraction(1, n) * sum((tt - aa) ** 2 for aa, tt in pairs)
    if name == "cross_entropy":
        return -sum(float(tt) * math.log(aa) for aa, tt in pairs if tt != 0)
    if name == "bce":
        return sum(-(float(tt) * math.log(aa) + float(1 - tt) * math.log(1 - aa)) for aa, tt in pairs) / n
    return None


def _derivative_value(activation: str, a: Fraction, d: Fraction) -> Fraction:
    """da/dz from shown numbers as ``derivative_text`` writes it: a(1 − a), 1 − a², 1, else d itself."""
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "tanh":
        return 1 - a * a
    if activation == "identity":
        return Fraction(1)
    return d


def loss_relation(network: Network, result: BackwardResult, sample: int, precision: int) -> str:
    """``=`` where ``loss_text``'s shown outputs and targets give its shown loss, else ``≈``."""
    a = [_shown(v, precision) for v in result.trace.output[sample]]
    t = [_shown(v, precision) for v in result.targets[sample]]
    if len(a) > MAX_TERMS:
        return "="
    value = _worked(lambda: _loss_value(result.loss_name, a, t))
    return relation(value, show(result.sample_losses[sample], precision), precision)


def delta_relation(
    network: Network, result: BackwardResult, layer: int, sample: int, neuron: int, precision: int
) -> str:
    """``=`` where a δ-step's shown numbers give its shown δ, else ``≈``."""
    trace = result.trace
    current = network.layers[layer]
    act = current.activation
    a = _shown(trace.layers[layer].a[sample, neuron], precision)
    d = _shown(derivative_at(result, act, layer, sample, neuron), precision)
    shown_delta = show(result.layers[layer].delta[sample, neuron], precision)
    if layer == len(network.layers) - 1:
        t = _shown(result.targets[sample, neuron], precision)
        n = trace.output.shape[1]
        rule = combined_rule(act.name, result.loss_name)
        if rule == "a − t":
            value = _worked(lambda: a - t)
        elif rule == "(a − t)/n":
            value = _worked(lambda: (a - t) / n)
        elif not act.activation.elementwise or result.loss_name not in _LOSS_GRADIENTS:
            return "="  # written with symbols only
        else:
            gradient = _LOSS_GRADIENTS[result.loss_name]
            value = _worked(lambda: gradient(a, t, n) * _derivative_value(act.name, a, d))
        return relation(value, shown_delta, precision)
    above = network.layers[layer + 1]
    if not act.activation.elementwise or above.n_neurons > MAX_TERMS:
        return "="  # written with symbols only
    deltas = result.layers[layer + 1].delta[sample]
    weights = [value_of(above.weight_text[k][neuron]) for k in range(above.n_neurons)]
    back = _worked(lambda: sum(w * _shown(deltas[k], precision) for k, w in enumerate(weights)))
    value = _worked(lambda: back * _derivative_value(act.name, a, d))
    return relation(value, shown_delta, precision)


def weight_relations(
    network: Network, result: BackwardResult, layer: int, neuron: int, source: int, precision: int
) -> tuple[str, str]:
    """For a weight's step: (``=`` or ``≈`` for its gradient, the same for its update ``w′ = w − lr · g``)."""
    grads = result.layers[layer]
    received = result.trace.activations(layer)
    samples = received.shape[0]
    gradient = show(grads.grad_weights[neuron, source], precision)
    if samples <= 4:
        products = [
            _worked(lambda s=s: _shown(grads.delta[s, neuron], precision) * _shown(received[s, source], precision))
            for s in range(samples)
        ]
        value = _worked(lambda: sum(products) / samples)
        grad_is = relation(value, gradient, precision)
    else:
        grad_is = "="  # a mean over many samples is written with symbols only
    old = network.layers[layer].weight_text[neuron][source]
    new = show(grads.weights[neuron, source], precision)
    return grad_is, _update_relation(old, result.lr, gradient, new, precision)


def bias_relation(network: Network, result: BackwardResult, layer: int, neuron: int, precision: int) -> str:
    """``=`` or ``≈`` for a bias's update ``b′ = b − lr · g`` (its gradient is δ, or a mean written with symbols)."""
    grads = result.layers[layer]
    old = network.layers[layer].bias_text[neuron]
    gradient = show(grads.grad_biases[neuron], precision)
    return _update_relation(old, result.lr, gradient, show(grads.biases[neuron], precision), precision)


def _update_relation(old: str, lr: float, gradient: str, new: str, precision: int) -> str:
    """``=`` where old − lr · gradient, all as shown, gives the shown new value, else ``≈``."""
    value = _worked(lambda: value_of(old) - _shown(lr, precision) * value_of(gradient))
    return relation(value, new, precision)


# -- the steps as text ----------------------------------------------------------------------


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
    is_ = loss_relation(network, result, sample, precision)
    return f"L = {loss.formula} = {body} {is_} {_show(result.sample_losses[sample], precision)}"


def delta_text(network: Network, result: BackwardResult, layer: int, sample: int, neuron: int, precision: int) -> str:
    """The chain rule for one neuron's δ in one sample, symbols first, then numbers."""
    trace = result.trace
    current = network.layers[layer]
    name = current.neurons[neuron]
    z = _show(trace.layers[layer].z[sample, neuron], precision)
    a = _show(trace.layers[layer].a[sample, neuron], precision)
    d = _show(derivative_at(result, current.activation, layer, sample, neuron), precision)
    # "= 0.1385", or "≈ 0.1385" where the numbers shown before it do not give it exactly
    is_delta = f"{delta_relation(network, result, layer, sample, neuron, precision)} " + _show(
        result.layers[layer].delta[sample, neuron], precision
    )
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
            return f"δ_{name} = a_{name} − t_{name} = {a} − {_p(t)} {is_delta}   (softmax with cross-entropy)"
        if rule == "(a − t)/n":
            return f"δ_{name} = (a_{name} − t_{name}) / {n} = ({a} − {_p(t)}) / {n} {is_delta}   (sigmoid with BCE)"
        if not act.activation.elementwise:
            return f"δ_{name} = Σⱼ ∂L/∂aⱼ · ∂aⱼ/∂z_{name} {is_delta}   (softmax couples the outputs)"
        g_sym = loss.gradient_text(f"a_{name}", f"t_{name}", n)
        g_num = loss.gradient_text(a, _p(t), n)
        return f"δ_{name} = {g_sym} · {f_sym} = {g_num} · {f_num} {is_delta}"
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
        return f"δ_{name} = (softmax's Jacobian)ᵀ · ({s_sym}) {is_delta}"
    wrap = (lambda text: f"({text})") if above.n_neurons > 1 else (lambda text: text)
    return f"δ_{name} = {wrap(s_sym)} · {f_sym} = {wrap(s_num)} · {f_num} {is_delta}"


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
    grad_is, update_is = weight_relations(network, result, layer, neuron, source, precision)
    if samples == 1:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = δ_{name} · {source_symbol} = {pairs[0]} "
            f"{grad_is} {gradient}"
        )
    elif samples <= 4:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = (1/{samples}) · Σₛ δ_{name} · {source_symbol} = "
            f"(1/{samples}) · ({' + '.join(pairs)}) {grad_is} {gradient}"
        )
    else:
        grad = (
            f"∂L/∂{weight_name(network, layer, neuron, source)} = mean over {samples} samples of "
            f"δ_{name} · {source_symbol} = {gradient}"
        )
    old = _written(network.layers[layer].weight_text[neuron][source])
    new = _show(grads.weights[neuron, source], precision)
    return f"{grad};  w′ = {old} − {_show(result.lr, precision)} · {_p(gradient)} {update_is} {new}"


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
    update_is = bias_relation(network, result, layer, neuron, precision)
    lr = _show(result.lr, precision)
    return f"∂L/∂b_{name} = {symbol} = {gradient};  b′ = {old} − {lr} · {_p(gradient)} {update_is} {new}"
