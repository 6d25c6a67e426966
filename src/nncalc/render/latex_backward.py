"""A backpropagation step as LaTeX: the forward pass, the loss, then each layer's δ, gradients and updates.

The derivations are those of :mod:`nncalc.render.backprop_steps`, written in math mode::

    \\delta_{\\text{o1}} &= (a_{\\text{o1}} - t_{\\text{o1}}) \\cdot a_{\\text{o1}} (1 - a_{\\text{o1}})
        = (0.7514 - 0.01) \\cdot 0.7514 \\cdot (1 - 0.7514) = 0.1385

Every number comes from the :class:`~nncalc.backprop.BackwardResult` (or, as in the plain
text, from the activation's derivative at the traced z and a); this module only writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from nncalc.backprop import BackwardResult, combined_rule
from nncalc.network import Network
from nncalc.render.backprop_steps import (
    MAX_TERMS,
    bias_relation,
    delta_relation,
    derivative_at,
    loss_relation,
    weight_relations,
)
from nncalc.render.latex import (
    LATEX_RELATION,
    PREAMBLE,
    _paren,
    _signed,
    escape_text,
    name_math,
    number_latex,
    write_latex,
)
from nncalc.render.numbers import show

# Each loss as a formula over the outputs, and ∂(sample loss)/∂a for one output from the LaTeX
# of a, t and n, mirroring ``Loss.formula`` and ``Loss.gradient_text`` in nncalc.losses.
LOSS_FORMULAS: dict[str, str] = {
    "half_sse": r"\frac{1}{2} \sum (t - a)^2",
    "mse": r"\frac{1}{n} \sum (t - a)^2",
    "cross_entropy": r"-\sum t \ln a",
    "bce": r"\frac{1}{n} \sum -\left[t \ln a + (1 - t) \ln(1 - a)\right]",
}
LOSS_GRADIENTS: dict[str, Callable[[str, str, str], str]] = {
    "half_sse": lambda a, t, n: f"({a} - {t})",
    "mse": lambda a, t, n: rf"\frac{{2}}{{{n}}} \cdot ({a} - {t})",
    "cross_entropy": lambda a, t, n: rf"\left(-\frac{{{t}}}{{{a}}}\right)",
    "bce": lambda a, t, n: rf"\frac{{{a} - {t}}}{{{n} \cdot {_paren(a)} \cdot (1 - {_paren(a)})}}",
}
DELTA = r"\delta"


def _gradient(loss_name: str, a: str, t: str, n: str) -> str:
    """∂L/∂a for one output; a loss without a written form keeps the symbol, as Loss does."""
    form = LOSS_GRADIENTS.get(loss_name)
    return form(a, t, n) if form is not None else rf"\frac{{\partial L}}{{\partial {a}}}"


def _derivative(activation: str, a: str, d: str, numeric: bool) -> str:
    """da/dz as backprop_steps writes it: sigmoid a(1 − a), tanh (1 − a²), identity 1, else ``d``.

    ``a`` and ``d`` are LaTeX (symbols, or numbers when ``numeric``); numbers get a ``\\cdot``.
    """
    if activation == "sigmoid":
        return rf"{_paren(a)} \cdot (1 - {_paren(a)})" if numeric else f"{a} (1 - {a})"
    if activation == "tanh":
        return f"(1 - {_paren(a) if numeric else a}^2)"
    if activation == "identity":
        return "1"
    return _paren(d) if numeric else d


def _num(value: float, precision: int) -> str:
    return number_latex(show(value, precision))


def _sym(letter: str, name: str) -> str:
    r"""``a_{\text{h1}}``: a quantity of a named neuron."""
    return f"{letter}_{{{name_math(name)}}}"


def weight_symbol(network: Network, layer: int, neuron: int, source: int) -> str:
    r"""``w_{\text{h1}\to\text{o1}}``: the weight from a neuron (or input) of the layer below, as ``weight_name``."""
    below = network.inputs if layer == 0 else network.layers[layer - 1].neurons
    return rf"w_{{{name_math(below[source])}\to{name_math(network.layers[layer].neurons[neuron])}}}"


def _partial(symbol: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {symbol}}}"


ROW_BREAK = " \\\\\n&\\qquad"  # a long sum goes on to the next row of its align* (or split), indented


def _sum(terms: Sequence[str], per_row: int) -> str:
    """Terms added up (a negative one subtracted), ``per_row`` to a row of the enclosing align* or split."""
    return "".join(
        (ROW_BREAK if k and k % per_row == 0 else "") + _signed(term, k == 0) for k, term in enumerate(terms)
    )


def _group(terms: Sequence[str], per_row: int) -> str:
    """The sum in parentheses: ``\\left(…\\right)`` on one row, ``\\bigl(…\\bigr)`` when it spans rows."""
    body = _sum(terms, per_row)
    return rf"\bigl({body}\bigr)" if len(terms) > per_row else rf"\left({body}\right)"


def loss_latex(network: Network, result: BackwardResult, sample: int, precision: int) -> str:
    """One sample's loss: ``L = \\frac{1}{2} \\sum (t - a)^2 = \\tfrac{1}{2} \\cdot \\left(…\\right) = 0.2984``.

    A long one (BCE, or three terms or more) is the rows of a ``split``, aligned at ``&``.
    """
    name = result.loss_name
    formula = LOSS_FORMULAS.get(name, rf"\text{{{escape_text(name)}}}")
    a = [_num(v, precision) for v in result.trace.output[sample]]
    t = [_num(v, precision) for v in result.targets[sample]]
    n = len(a)
    value = _num(result.sample_losses[sample], precision)
    if n > MAX_TERMS or name not in LOSS_FORMULAS:
        return f"L = {formula} = {value}"
    is_ = LATEX_RELATION[loss_relation(network, result, sample, precision)]
    pairs = list(zip(a, t, strict=True))
    per_row = 3
    if name in ("half_sse", "mse"):
        terms = [f"({tt} - {_paren(aa)})^2" for aa, tt in pairs]
        front = r"\tfrac{1}{2} \cdot " if name == "half_sse" else rf"\tfrac{{1}}{{{n}}} \cdot "
    elif name == "cross_entropy":
        terms = [rf"{_paren(tt)} \cdot \ln {_paren(aa)}" for aa, tt in pairs]
        front = "-"
    else:
        terms = [
            rf"-\left[{_paren(tt)} \cdot \ln {_paren(aa)} + (1 - {_paren(tt)}) \cdot \ln(1 - {_paren(aa)})\right]"
            for aa, tt in pairs
        ]
        front, per_row = rf"\tfrac{{1}}{{{n}}} \cdot ", 1
    if n <= 2 and name != "bce":
        body = f"{front}{_group(terms, per_row)}" if n > 1 or name == "cross_entropy" else f"{front}{terms[0]}"
        return f"L = {formula} = {body} {is_} {value}"
    return f"L &= {formula} \\\\\n&= {front}{_group(terms, per_row)} \\\\\n&{is_} {value}"


def delta_latex(network: Network, result: BackwardResult, layer: int, sample: int, neuron: int, precision: int) -> str:
    """One neuron's δ in one sample by the chain rule, as an ``align*`` row: symbols, then numbers.

    A hidden neuron's δ takes a second row for the numbers (and its sums more where they are long).
    """
    trace = result.trace
    current = network.layers[layer]
    act = current.activation
    name = current.neurons[neuron]
    a = _num(trace.layers[layer].a[sample, neuron], precision)
    d = _num(derivative_at(result, act, layer, sample, neuron), precision)
    # "= 0.1385", or "\approx 0.1385" where the numbers shown before it do not give it exactly
    is_ = LATEX_RELATION[delta_relation(network, result, layer, sample, neuron, precision)]
    delta = f"{is_} {_num(result.layers[layer].delta[sample, neuron], precision)}"
    head = rf"{_sym(DELTA, name)} &= "
    f_sym = _derivative(act.name, _sym("a", name), f"f'({_sym('z', name)})", numeric=False)
    f_num = _derivative(act.name, a, d, numeric=True)
    if layer == len(network.layers) - 1:
        n = str(trace.output.shape[1])
        t = _num(result.targets[sample, neuron], precision)
        a_sym, t_sym = _sym("a", name), _sym("t", name)
        rule = combined_rule(act.name, result.loss_name)
        if rule == "a − t":
            return rf"{head}{a_sym} - {t_sym} = {a} - {_paren(t)} {delta} \quad \text{{(softmax with cross-entropy)}}"
        if rule == "(a − t)/n":
            return (
                rf"{head}\frac{{{a_sym} - {t_sym}}}{{{n}}} = \frac{{{a} - {_paren(t)}}}{{{n}}} {delta} "
                r"\quad \text{(sigmoid with BCE)}"
            )
        if not act.activation.elementwise:
            return (
                rf"{head}\sum_{{j}} \frac{{\partial L}}{{\partial a_{{j}}}} \cdot "
                rf"\frac{{\partial a_{{j}}}}{{\partial {_sym('z', name)}}} {delta} "
                r"\quad \text{(softmax couples the outputs)}"
            )
        g_sym = _gradient(result.loss_name, a_sym, t_sym, n)
        g_num = _gradient(result.loss_name, a, _paren(t), n)
        return rf"{head}{g_sym} \cdot {f_sym} = {g_num} \cdot {f_num} {delta}"
    above = network.layers[layer + 1]
    deltas_above = result.layers[layer + 1].delta[sample]
    if above.n_neurons > MAX_TERMS:
        sym_terms = [rf"\sum_{{k}} w_{{{name_math(name)}\to k}} \cdot \delta_{{k}}"]
        num_terms = sym_terms
    else:
        sym_terms = [
            rf"{weight_symbol(network, layer + 1, k, neuron)} \cdot {_sym(DELTA, above.neurons[k])}"
            for k in range(above.n_neurons)
        ]
        num_terms = [
            rf"{number_latex(above.weight_text[k][neuron])} \cdot {_paren(_num(deltas_above[k], precision))}"
            for k in range(above.n_neurons)
        ]
    per_row = 3
    if not act.activation.elementwise:
        return rf"{head}(\text{{softmax's Jacobian}})^{{\top}} \cdot {_group(sym_terms, per_row)} {delta}"
    if above.n_neurons > 1:
        s_sym, s_num = _group(sym_terms, per_row), _group(num_terms, per_row)
    else:
        s_sym, s_num = sym_terms[0], num_terms[0]
    return rf"{head}{s_sym} \cdot {f_sym} \\" + "\n" + rf"&= {s_num} \cdot {f_num} {delta}"


def _then(samples: int) -> str:
    """Between a gradient and its update: on the same row for one sample; a batch's sums need a row of their own."""
    return r", \quad " if samples == 1 else ", \\\\\n" + r"&\quad "


def weight_step_latex(
    network: Network, result: BackwardResult, layer: int, neuron: int, source: int, precision: int
) -> str:
    """``\\frac{\\partial L}{\\partial w_{…}} &= \\delta_{…} \\cdot a_{…} = … = 0.0822, \\quad w' = 0.40 - …``."""
    grads = result.layers[layer]
    received = result.trace.activations(layer)
    below = network.inputs if layer == 0 else network.layers[layer - 1].neurons
    name = network.layers[layer].neurons[neuron]
    source_symbol = name_math(below[source]) if layer == 0 else _sym("a", below[source])
    product = rf"{_sym(DELTA, name)} \cdot {source_symbol}"
    samples = received.shape[0]
    pairs = [
        rf"{_paren(_num(grads.delta[s, neuron], precision))} \cdot {_paren(_num(received[s, source], precision))}"
        for s in range(samples)
    ]
    gradient = _num(grads.grad_weights[neuron, source], precision)
    grad_is, update_is = (
        LATEX_RELATION[r] for r in weight_relations(network, result, layer, neuron, source, precision)
    )
    head = rf"{_partial(weight_symbol(network, layer, neuron, source))} &= "
    if samples == 1:
        grad = f"{head}{product} = {pairs[0]} {grad_is} {gradient}"
    elif samples <= 4:
        grad = (
            rf"{head}\tfrac{{1}}{{{samples}}} \sum_{{s}} {product} = "
            rf"\tfrac{{1}}{{{samples}}} {_group(pairs, 2)} {grad_is} {gradient}"
        )
    else:
        grad = rf"{head}\tfrac{{1}}{{{samples}}} \sum_{{s}} {product} = {gradient}"
    old = number_latex(network.layers[layer].weight_text[neuron][source])
    new = _num(grads.weights[neuron, source], precision)
    lr = _num(result.lr, precision)
    return rf"{grad}{_then(samples)}w' = {old} - {lr} \cdot {_paren(gradient)} {update_is} {new}"


def bias_step_latex(network: Network, result: BackwardResult, layer: int, neuron: int, precision: int) -> str:
    """``\\frac{\\partial L}{\\partial b_{…}} &= \\delta_{…} = 0.1385, \\quad b' = 0.60 - …`` (or kept, when frozen)."""
    grads = result.layers[layer]
    name = network.layers[layer].neurons[neuron]
    samples = grads.delta.shape[0]
    gradient = _num(grads.grad_biases[neuron], precision)
    delta = _sym(DELTA, name)
    symbol = delta if samples == 1 else rf"\tfrac{{1}}{{{samples}}} \sum_{{s}} {delta}"
    old = number_latex(network.layers[layer].bias_text[neuron])
    head = rf"{_partial(_sym('b', name))} &= {symbol} = {gradient}{_then(samples)}b' = {old}"
    if result.freeze_biases:
        return rf"{head} \quad \text{{(biases frozen)}}"
    new = _num(grads.biases[neuron], precision)
    update_is = LATEX_RELATION[bias_relation(network, result, layer, neuron, precision)]
    return rf"{head} - {_num(result.lr, precision)} \cdot {_paren(gradient)} {update_is} {new}"


def _align(stream: TextIO, lines: Sequence[str]) -> None:
    stream.write("\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}\n")


def write_backward_latex(
    stream: TextIO,
    network: Network,
    result: BackwardResult,
    input_texts: Sequence[Sequence[str]] | None,
    precision: int = 4,
    standalone: bool = False,
) -> None:
    """The forward pass as ``write_latex`` writes it, then the loss and each layer's backward pass.

    Without ``standalone`` the result is a fragment for a document that loads amsmath;
    with it, one whole document (forward and backward) that pdflatex compiles.
    """
    p = precision
    if standalone:
        stream.write(PREAMBLE)
    write_latex(stream, network, result.trace, input_texts, p, standalone=False)
    samples = result.trace.inputs.shape[0]
    stream.write(f"\n\\subsection*{{loss ({escape_text(result.loss_name)})}}\n")
    for s in range(samples):
        if samples > 1:
            stream.write(f"\n\\noindent sample {s + 1} of {samples}:\n")
        loss = loss_latex(network, result, s, p)
        if "\\\\\n" in loss:  # rows: a split inside the equation
            loss = f"\\begin{{split}}\n{loss}\n\\end{{split}}"
        stream.write(f"\\begin{{equation*}}\n{loss}\n\\end{{equation*}}\n")
    if samples > 1:
        stream.write(
            f"\n\\noindent batch loss (mean over {samples} samples): "
            rf"$L = \tfrac{{1}}{{{samples}}} \sum_{{s}} L_{{s}} = {_num(result.loss, p)}$" + "\n"
        )
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        label = escape_text(network.layer_label(index))
        stream.write(f"\n\\subsubsection*{{backward: {label} $\\cdot$ {escape_text(layer.activation.describe())}}}\n")
        for s in range(samples):
            if samples > 1:
                stream.write(f"\\noindent sample {s + 1} of {samples}:\n")
            _align(stream, [delta_latex(network, result, index, s, j, p) for j in range(layer.n_neurons)])
        if samples > 1:
            stream.write("\\noindent gradients of the batch loss and updates:\n")
        lines = []
        for j in range(layer.n_neurons):
            lines.extend(weight_step_latex(network, result, index, j, i, p) for i in range(layer.n_inputs))
            lines.append(bias_step_latex(network, result, index, j, p))
        _align(stream, lines)
    stream.write(
        f"\n\\noindent learning rate ${_num(result.lr, p)}$; loss before the step ${_num(result.loss, p)}$"
        + (" (biases frozen)" if result.freeze_biases else "")
        + "\n"
    )
    if standalone:
        stream.write("\n\\end{document}\n")
