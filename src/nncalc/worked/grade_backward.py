"""A graded backward pass worked out: each value marked, then the first mistake with the person's own numbers.

The forward pass is marked as ``nncalc grade`` marks it; then the loss, and each layer from
the output back: δ, ∂L/∂b, b′, ∂L/∂w and w′ per neuron. The first wrong value is written
out as the person would work it, from their own earlier values (``δ_o1 = (a_o1 − t_o1) ·
a_o1 · (1 − a_o1) = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385, not 0.1384``), in
the course's conventions (t − a, a batch summed). Under an optimizer, a wrong new weight or
value of the step (m′, v̂, a momentum buffer) is worked out as ``backward --optimizer`` writes
the step (``nncalc.worked.optimizer``), up to the wrong value's line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc import losses
from nncalc.answers import Answer
from nncalc.backprop import combined_rule
from nncalc.document import Column, Document, Heading, Note, Step, Steps, Styled, Table, joined
from nncalc.expr import Chain, Derivative, Edge, Expr, Frac, Name, Neg, Num, Sigma, Sum, call, total
from nncalc.grading import Mark
from nncalc.grading_backward import BackMark, BackwardGrade, Settings
from nncalc.grading_optimizer import family
from nncalc.network import Network
from nncalc.numbers import decimals_written
from nncalc.records import replace
from nncalc.worked import View
from nncalc.worked.backward import MAX_TERMS, minus, times
from nncalc.worked.forward import assignments, layer_title
from nncalc.worked.grade import expected_text, first_wrong_blocks, forward_tables, slip_notes, verdict
from nncalc.worked.numbers import checked, signed_term, written
from nncalc.worked.optimizer import legend, update_chains

SYMBOLS = {"delta": "δ", "grad_biases": "∂L/∂b", "biases": "b′", "grad_weights": "∂L/∂w", "weights": "w′"}
# an optimizer's values as its working (``nncalc.worked.optimizer``) writes them
LETTERS = {
    "sgd": {"momentum_buffer": "v′"},
    "adam": {"exp_avg": "m′", "exp_avg_sq": "v′", "max_exp_avg_sq": "v′max", "m_hat": "m̂", "v_hat": "v̂"},
    "rmsprop": {"square_avg": "v′", "grad_avg": "g′avg", "momentum_buffer": "u′"},
}


def backward_grade_document(
    network: Network,
    grade: BackwardGrade,
    answers_source: str,
    input_texts: Sequence[Sequence[str]],
    target_texts: Sequence[Sequence[str]],
    view: View,
) -> Document:
    """The marks of the values written (forward, the loss, each layer from the output back), the
    first wrong value worked out, the settings graded under, and the tally (with the values left out).
    A network with convolution, pooling or flatten layers: ``nncalc.worked.grade_backward_spatial``."""
    if network.spatial:
        from nncalc.worked.grade_backward_spatial import spatial_backward_grade_document

        return spatial_backward_grade_document(network, grade, answers_source, input_texts, target_texts, view)
    p = view.precision
    samples = len(grade.forward)
    blocks: list = []
    if network.name:
        blocks.append(Heading(1, (network.name,)))
    if samples == 1:
        heading = (
            Styled("grading"),
            f" {answers_source} for input ",
            *assignments(network.inputs, grade.forward[0].exact.inputs[0], input_texts[0]),
            ", target ",
            *assignments(network.outputs, grade.targets[0], target_texts[0]),
        )
    else:
        heading = (Styled("grading"), f" {answers_source} for {samples} samples")
    blocks.append(Heading(2, heading))
    for s, graded in enumerate(grade.forward):
        if not any(m.given is not None for m in graded.marks):
            continue
        prefix = ""
        if samples > 1:
            inputs = assignments(network.inputs, graded.exact.inputs[0], input_texts[s])
            targets = assignments(network.outputs, grade.targets[s], target_texts[s])
            blocks.append(Heading(3, (f"sample {s + 1}: ", *inputs, ", target ", *targets)))
            prefix = f"sample {s + 1}, "
        blocks.extend(forward_tables(network, graded, p, prefix, written_only=True))
    blocks.extend(loss_table(grade, p))
    for k in range(len(network.layers) - 1, -1, -1):
        blocks.extend(backward_layer_table(network, grade, k, p))
    first = grade.first_wrong
    if isinstance(first, Mark):
        sample = next(s for s, g in enumerate(grade.forward) if any(m is first for m in g.marks))
        blocks.extend(first_wrong_blocks(network, grade.forward[sample], first, view, sample if samples > 1 else None))
    elif first is not None:
        blocks.extend(first_wrong_backward(network, grade, first, input_texts, target_texts, view))
    blocks.extend(closing_notes(grade, sum(1 for m in grade.marks if m.correct is None)))
    return Document(network.name or "", tuple(blocks), p)


def closing_notes(grade: BackwardGrade, blank: int) -> list:
    """The settings graded under, then the tally: right, wrong and (``blank``) left out."""
    right, wrong = len(grade.right), len(grade.wrong)
    tally = f"{right} right, {wrong} wrong" + (f", {blank} left out" if blank else "")
    return [Note(settings_text(grade), kind="detail"), Note((tally,), kind="wrong" if wrong else "right")]


def settings_text(grade: BackwardGrade) -> tuple:
    settings = grade.settings
    parts = [
        ("loss ", settings.loss),
        ("learning rate ", Num(settings.lr)),
        ("error written ", "a − t" if settings.error == "a-t" else "t − a"),
        ("batch ", "averaged" if settings.batch == "mean" else "summed"),
    ]
    if settings.optimizer is not None:
        changed = ", ".join(f"{k}: {v}" for k, v in settings.optimizer.changed().items())
        parts.append(("optimizer ", settings.optimizer.name + (f" ({changed})" if changed else "")))
    if settings.freeze_biases:
        parts.append(("biases frozen",))
    return joined(parts, "; ")


def _columns(samples: int) -> tuple[Column, ...]:
    sample = (Column(("sample",)),) if samples > 1 else ()
    return (
        Column(("",), numeric=False),
        *sample,
        Column(("yours",)),
        Column(("expected",)),
        Column(("mark",), numeric=False),
    )


def back_mark_row(name: object, mark: BackMark, samples: int, p: int) -> tuple:
    sample = (str(mark.index[0] + 1) if mark.quantity == "delta" else "",) if samples > 1 else ()
    given = mark.given.text if mark.given is not None else "—"
    return (name, *sample, given, expected_text(mark, p), verdict(mark.correct))


def loss_table(grade: BackwardGrade, p: int) -> list:
    samples = len(grade.forward)
    if grade.loss.given is None:
        return []
    name = "L" if grade.settings.batch == "mean" or samples == 1 else "L (sum)"
    title = f"loss ({grade.settings.loss})"
    return [Heading(3, (title,)), Table(_columns(samples), (back_mark_row(name, grade.loss, samples, p),))]


def state_name(network: Network, settings: Settings, mark: BackMark) -> str:
    """How an optimizer's value is named: ``m′ of w(h1→o1)``, ``v̂ of b_o1`` (the letters of its working);
    of a convolution's kernel value or bias, ``m̂ of W[0,0,1,2]``, ``v′ of b[0]``."""
    assert mark.layer is not None and settings.optimizer is not None
    letter = LETTERS[family(settings.optimizer)].get(mark.quantity, mark.quantity)
    layer = network.layers[mark.layer]
    if not layer.dense:
        return f"{letter} of {'W' if mark.param == 'weights' else 'b'}[{','.join(map(str, mark.index))}]"
    below = network.inputs if mark.layer == 0 else network.layers[mark.layer - 1].neurons
    if mark.param == "weights":
        return f"{letter} of w({below[mark.index[1]]}→{layer.neurons[mark.index[0]]})"
    return f"{letter} of b_{layer.neurons[mark.index[0]]}"


def value_name(network: Network, mark: BackMark, settings: Settings | None = None) -> Expr | str:
    """How a value is named in the table: δ_o1, ∂L/∂b_o1, b′_o1, ∂L/∂w(h1→o1), w′(h1→o1); an
    optimizer's value as ``state_name`` names it."""
    if mark.layer is None:
        return Name("L")
    if mark.param is not None and settings is not None:
        return state_name(network, settings, mark)
    layer = network.layers[mark.layer]
    below = network.inputs if mark.layer == 0 else network.layers[mark.layer - 1].neurons
    if mark.quantity == "delta":
        return Name("δ", layer.neurons[mark.index[1]])
    neuron = layer.neurons[mark.index[0]]
    if mark.quantity == "grad_biases":
        return Derivative(Name("L"), Name("b", neuron))
    if mark.quantity == "biases":
        return Name("b", neuron, "prime")
    edge = Edge("w", below[mark.index[1]], neuron)
    return Derivative(Name("L"), edge) if mark.quantity == "grad_weights" else Edge("w′", below[mark.index[1]], neuron)


def backward_layer_table(network: Network, grade: BackwardGrade, k: int, p: int) -> list:
    layer, graded = network.layers[k], grade.layers[k]
    samples = len(grade.forward)
    rows = []
    for j in range(layer.n_neurons):
        marks = [m for m in graded.delta if m.index[1] == j]
        marks += [graded.grad_biases[j], *(m for m in graded.state_biases if m.index == (j,)), graded.biases[j]]
        for i in range(layer.n_inputs):
            position = j * layer.n_inputs + i
            marks += [graded.grad_weights[position], *(m for m in graded.state_weights if m.index == (j, i))]
            marks.append(graded.weights[position])
        rows.extend(
            back_mark_row(value_name(network, m, grade.settings), m, samples, p) for m in marks if m.given is not None
        )
    if not rows:
        return []
    return [Heading(3, layer_title(network, k, "backward: ")), Table(_columns(samples), tuple(rows))]


def _where(network: Network, mark: BackMark, samples: int, settings: Settings) -> str:
    if mark.layer is None:
        return f"the loss, at {mark.given.location}"
    if mark.param is not None:
        return f"{state_name(network, settings, mark)} in {network.layer_label(mark.layer)}, at {mark.given.location}"
    layer = network.layers[mark.layer]
    below = network.inputs if mark.layer == 0 else network.layers[mark.layer - 1].neurons
    if mark.quantity == "delta":
        what = f"δ of {layer.neurons[mark.index[1]]}" + (f", sample {mark.index[0] + 1}" if samples > 1 else "")
    elif mark.quantity in ("grad_biases", "biases"):
        what = f"{SYMBOLS[mark.quantity]} of {layer.neurons[mark.index[0]]}"
    else:
        symbol = "∂L/∂w" if mark.quantity == "grad_weights" else "w′"
        what = f"{symbol}({below[mark.index[1]]}→{layer.neurons[mark.index[0]]})"
    return f"{what} in {network.layer_label(mark.layer)}, at {mark.given.location}"


def first_wrong_backward(
    network: Network,
    grade: BackwardGrade,
    mark: BackMark,
    input_texts: Sequence[Sequence[str]],
    target_texts: Sequence[Sequence[str]],
    view: View,
) -> list:
    """The first wrong value of the backward pass: where it is, its step with the person's numbers
    (its layer at once with ``view.form`` "matrix"; none with ``view.steps`` False), the likely slip."""
    p = view.precision
    samples = len(grade.forward)
    blocks: list = [Note((_where(network, mark, samples, grade.settings),), kind="wrong", lead="first wrong value:")]
    matrix = None
    # an optimizer's step is worked value by value (its state is not a matrix formula)
    if view.steps is not False and view.form == "matrix" and mark.param is None:
        from nncalc.worked.grade_matrix import backward_wrong

        matrix = backward_wrong(network, grade, mark, input_texts, target_texts, view)
    if matrix is not None:
        blocks.extend(matrix)
    elif view.steps is not False:
        work = _Work(network, grade, input_texts, target_texts, p)
        if grade.settings.optimizer is not None and (mark.param is not None or mark.quantity in ("weights", "biases")):
            blocks.extend(work.optimizer_steps(mark))
        else:
            chain, after = work.chain(mark)
            blocks.append(Steps((Step((chain,), after=(*after, f", not {mark.given.text}")),)))
    blocks.extend(slip_notes(mark, p))
    return blocks


def _text(answer: Answer | None) -> str | None:
    return answer.text if answer is not None else None


class _Work:
    """The steps behind graded values, written with the person's own numbers (their text) where they gave them."""

    def __init__(self, network, grade: BackwardGrade, input_texts, target_texts, p: int):
        self.network, self.grade, self.p = network, grade, p
        self.input_texts, self.target_texts = input_texts, target_texts
        self.sign = 1.0 if grade.settings.error == "a-t" else -1.0
        self.samples = len(grade.forward)

    def z(self, k: int, s: int, j: int) -> Num:
        forward = self.grade.forward[s].layers[k].z[j]
        return Num(float(self.grade.layers[k].z[s, j]), _text(forward.given))

    def a(self, k: int, s: int, j: int) -> Num:
        forward = self.grade.forward[s].layers[k].a[j]
        return Num(float(self.grade.layers[k].a[s, j]), _text(forward.given))

    def received(self, k: int, s: int, i: int) -> Num:
        if k == 0:
            return Num(float(self.grade.layers[0].received[s, i]), self.input_texts[s][i])
        return self.a(k - 1, s, i)

    def target(self, s: int, j: int) -> Num:
        return Num(float(self.grade.targets[s, j]), self.target_texts[s][j])

    def delta(self, k: int, s: int, j: int) -> Num:
        graded = self.grade.layers[k]
        mark = next(m for m in graded.delta if m.index == (s, j))
        return Num(float(graded.delta_used[s, j]), _text(mark.given))

    def chain(self, mark: BackMark) -> tuple[Chain, tuple]:
        result = Num(mark.expected, expected_text(mark, self.p))  # to the decimals written, at least
        if mark.quantity == "loss":
            return self.loss(result), ()
        if mark.quantity == "delta":
            return self.delta_chain(mark.layer, *mark.index, result), ()
        if mark.quantity in ("grad_weights", "grad_biases"):
            return self.gradient_chain(mark, result), ()
        return self.update_chain(mark, result)

    def loss(self, result: Num) -> Chain:
        loss = losses.REGISTRY[self.grade.settings.loss]
        out = len(self.network.layers) - 1
        outputs = self.network.layers[out].n_neurons
        if self.samples == 1 and loss.expanded is not None and outputs <= MAX_TERMS:
            a = [self.a(out, 0, j) for j in range(outputs)]
            t = [self.target(0, j) for j in range(outputs)]
            return checked((Name("L"), loss.symbols, loss.expanded(a, t), result), self.p)
        each = total([Num(float(v)) for v in self.grade.sample_losses])
        if self.grade.settings.batch == "mean":
            return checked((Name("L"), Frac(each, Num(float(self.samples))), result), self.p)
        return checked((Name("L"), each, result), self.p)

    def delta_chain(self, k: int, s: int, j: int, result: Num) -> Chain:
        network = self.network
        layer = network.layers[k]
        name = layer.neurons[j]
        activation = layer.activation
        derivative = activation.activation.derivative_formula
        d = Num(float(self.grade.layers[k].derivative[s, j]))
        z, a = self.z(k, s, j), self.a(k, s, j)
        f_symbols = derivative(Name("z", name), Name("a", name), call("f′", Name("z", name)), activation.params)
        f_numbers = derivative(z, a, d, activation.params)
        lhs = Name("δ", name)
        if k == len(network.layers) - 1:
            loss_name = self.grade.settings.loss
            t = self.target(s, j)
            n = Num(float(layer.n_neurons))
            rule = combined_rule(activation.name, loss_name)
            if rule is not None:
                symbols, numbers = self._error(Name("a", name), Name("t", name)), self._error(a, t)
                if rule == "(a − t)/n":
                    symbols, numbers = Frac(symbols, n), Frac(numbers, n)
                return checked((lhs, symbols, numbers, result), self.p)
            if not activation.activation.elementwise:
                return Chain((lhs, result), ("=",))
            loss = losses.REGISTRY[loss_name]
            if loss_name == "half_sse":
                g_symbols, g_numbers = self._error(Name("a", name), Name("t", name)), self._error(a, t)
            else:
                g_symbols = loss.gradient_formula(Name("a", name), Name("t", name), n)
                g_numbers = loss.gradient_formula(a, t, n)
                if self.sign < 0:
                    g_symbols, g_numbers = Neg(g_symbols), Neg(g_numbers)
            return checked((lhs, times(g_symbols, f_symbols), times(g_numbers, f_numbers), result), self.p)
        above = network.layers[k + 1]
        if above.n_neurons > MAX_TERMS or not activation.activation.elementwise:
            return Chain((lhs, result), ("=",))
        below = network.layers[k].neurons
        weighted = total([times(Edge("w", below[j], m), Name("δ", m)) for m in above.neurons])
        numbers = total(
            [
                signed_term(above.weight_text[m][j], float(above.weights[m, j]), self.delta(k + 1, s, m), "·")
                for m in range(above.n_neurons)
            ]
        )
        return checked((lhs, times(weighted, f_symbols), times(numbers, f_numbers), result), self.p)

    def _error(self, a: Expr, t: Expr) -> Expr:
        """a − t, or t − a where the course writes the error so."""
        return Sum((a, Neg(t))) if self.sign > 0 else Sum((t, Neg(a)))

    def gradient_chain(self, mark: BackMark, result: Num) -> Chain:
        network, k = self.network, mark.layer
        layer = network.layers[k]
        j = mark.index[0]
        name = layer.neurons[j]
        if mark.quantity == "grad_weights":
            i = mark.index[1]
            below = network.inputs if k == 0 else network.layers[k - 1].neurons
            lhs = Derivative(Name("L"), Edge("w", below[i], name))
            source = Name(below[i]) if k == 0 else Name("a", below[i])
            symbols = times(Name("δ", name), source)
            terms = [times(self.delta(k, s, j), self.received(k, s, i)) for s in range(self.samples)]
        else:
            lhs = Derivative(Name("L"), Name("b", name))
            symbols = Name("δ", name)
            terms = [self.delta(k, s, j) for s in range(self.samples)]
        if self.sign < 0:
            symbols, terms = Neg(symbols), [Neg(term) for term in terms]
        if self.samples == 1:
            return checked((lhs, symbols, terms[0], result), self.p)
        sum_symbols, sum_numbers = Sigma("s", symbols), total(terms)
        if self.grade.settings.batch == "mean":
            mean = Frac(Num(1.0), Num(float(self.samples)))
            sum_symbols, sum_numbers = times(mean, sum_symbols), times(mean, sum_numbers)
        return checked((lhs, sum_symbols, sum_numbers, result), self.p)

    def update_chain(self, mark: BackMark, result: Num) -> tuple[Chain, tuple]:
        network, k = self.network, mark.layer
        layer, graded, settings = network.layers[k], self.grade.layers[mark.layer], self.grade.settings
        j = mark.index[0]
        if mark.quantity == "weights":
            i = mark.index[1]
            old = written(layer.weight_text[j][i], float(layer.weights[j, i]))
            position = j * layer.n_inputs + i
            gradient = Num(float(graded.grad_weights_used[j, i]), _text(graded.grad_weights[position].given))
            lhs = Name("w", mark="prime")
        else:
            old = written(layer.bias_text[j], float(layer.biases[j]))
            gradient = Num(float(graded.grad_biases_used[j]), _text(graded.grad_biases[j].given))
            lhs = Name("b", mark="prime")
            if settings.freeze_biases:
                return Chain((lhs, old), ("=",)), (" (biases frozen)",)
        return checked((lhs, minus(old, Num(settings.lr), gradient), result), self.p), ()

    def optimizer_steps(self, mark: BackMark) -> list:
        """An optimizer's step of the weight or bias ``mark`` is of, as ``backward --optimizer`` writes it
        (``nncalc.worked.optimizer``), from the person's gradient and their values of the step where
        they wrote them, ending with the line of the wrong value: its right value, not theirs. A
        convolution's kernel value or bias is worked the same way (its page calls this too)."""
        settings, network = self.grade.settings, self.network
        k = mark.layer
        biases = mark.param == "biases" or mark.quantity == "biases"
        graded, layer = self.grade.layers[k], network.layers[k]
        carried = graded.steps[1 if biases else 0] if graded.steps else None
        if carried is None:  # frozen biases take no step
            chain, after = self.update_chain(mark, Num(mark.expected, expected_text(mark, self.p)))
            return [Steps((Step((chain,), after=(*after, f", not {mark.given.text}")),))]
        # the element: (neuron,) of a bias, (neuron, source) of a weight, (out, in, row, column) of a kernel's
        element: tuple[int, ...] = tuple(mark.index)
        if biases:
            old = written(layer.bias_text[element[0]], float(layer.biases[element]))
            gradient = Num(float(graded.grad_biases_used[element]), _text(graded.grad_biases[element[0]].given))
        else:
            text = layer.weight_text
            for i in element:
                text = text[i]
            old = written(text, float(layer.weights[element]))
            position = int(np.ravel_multi_index(element, layer.weights.shape))
            gradient = Num(float(graded.grad_weights_used[element]), _text(graded.grad_weights[position].given))
        field = "param" if mark.param is None else mark.quantity
        # the values as used (the person's where written); the wrong one as it should be
        trace = carried.trace
        value = np.array(getattr(trace, field), dtype=np.float64)
        value[element] = mark.expected
        trace = replace(trace, **{field: value})
        marks = graded.state_biases if biases else graded.state_weights
        texts = {m.quantity: m.given.text for m in marks if m.index == element and m.given is not None}
        texts[field] = expected_text(mark, self.p)
        step = _OneStep(settings.optimizer, settings.lr, trace, carried.before)
        # values the person did not write are shown to the decimals they wrote, so that each = holds
        # to the digits their answer is judged at
        digits = max(self.p, decimals_written(mark.given.text) or 0)
        groups = update_chains(step, k, biases, element, old, gradient, digits, texts, field, digits)  # type: ignore[arg-type]
        lines = [Step(group) for group in groups]
        lines[-1] = Step(lines[-1].chains, after=(f", not {mark.given.text}",))
        first, letters = legend(settings.optimizer, settings.lr, trace.step)
        return [Note((first, "; ", letters), kind="detail"), Steps(tuple(lines))]


class _OneStep:
    """One parameter's step as ``update_chains`` reads a backward result's: the optimizer, the
    learning rate, the step's values and the state before it."""

    def __init__(self, optimizer, lr: float, trace, before):
        self.optimizer, self.lr, self.trace, self.before = optimizer, lr, trace, before

    def update_of(self, layer: int, biases: bool):
        return self.trace

    def state_of(self, layer: int, biases: bool = False, before: bool = True):
        return self.before
