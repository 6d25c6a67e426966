"""The first wrong value of a graded sheet in the matrix form (``grade --steps matrix``).

Where the neuron-by-neuron form writes the one wrong value's step, this writes the step of
its whole layer at once, from the person's own values, as a course that works with matrices
writes it: ``z_2 = W_2 · a_1 + b_2`` with their a_1, ``a_2 = σ(z_2)`` with their z_2, and for
the backward pass ``δ_2 = (a_2 − t) ⊙ f′(z_2)``, ``δ_1 = (W_2ᵀ · δ_2) ⊙ f′(z_1)`` with their δ_2,
``∂L/∂W_1 = δ_1 · xᵀ`` with their δ_1, ``W′_1 = W_1 − η · ∂L/∂W_1`` with their gradient, in the
course's conventions (t − a, a batch summed). The result is the matrix the grader expects,
each entry the person wrote shown to their decimals at least; a note names the wrong entry,
its row and column, with what they wrote (emphasised, as a wrong mark is).

Every number is the grader's (``nncalc.grading``, ``nncalc.grading_backward``): the values
carried forward, f′(z) at them, the recomputed results. Nothing is computed here but the
check of ``=`` or ``≈`` from the shown numbers. The loss, a single number, and an update by
an optimizer (a state, not a matrix formula) keep the neuron-by-neuron form: ``None`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nncalc import losses
from nncalc.answers import Answer
from nncalc.backprop import combined_rule
from nncalc.document import Note, Step, Steps, Styled
from nncalc.expr import Call, Chain, Derivative, Expr, Frac, Matrix, Name, Neg, Num, Power, Product, Sigma, Sum
from nncalc.grading import Grade, Mark
from nncalc.grading_backward import BackMark, BackwardGrade
from nncalc.network import Network
from nncalc.worked import View
from nncalc.worked.grade import expected_text
from nncalc.worked.matrix import (
    MAX_LISTED_SAMPLES,
    TRANSPOSED,
    applied_to,
    bias_matrix,
    checked,
    element_wise,
    grid,
    has_bias,
    named,
    numbers,
    received_name,
    transpose_of,
    weight_matrix,
)
from nncalc.worked.numbers import shown_by


def _text(answer: Answer | None) -> str | None:
    return answer.text if answer is not None else None


def _number(value: float, answer: Answer | None) -> Num:
    """A value carried forward: as the person wrote it, else the grader's recomputed one."""
    return Num(float(value), _text(answer))


def _expected(mark: Mark | BackMark, p: int) -> Num:
    """A recomputed value; to the decimals the person wrote where they wrote it (as the tables show it)."""
    return Num(float(mark.expected), expected_text(mark, p) if mark.given is not None else None)


def _result(shape: tuple[int, int], mark_at: Callable[[int, int], Mark | BackMark], view: View) -> Matrix:
    return grid(shape, lambda r, c: _expected(mark_at(r, c), view.precision), view.all_rows)


def entry_note(what: Expr, mark: Mark | BackMark, row: str, column: str | None, p: int) -> Note:
    """``wrong entry: row 1 (o1) of a_2: 0.6571, not 0.7153``, the person's value emphasised."""
    where = f"row {row}" + (f", column {column}" if column is not None else "")
    expected = Num(float(mark.expected), expected_text(mark, p))  # as the result matrix shows it
    text = (f"{where} of ", what, ": ", expected, ", ", Styled(f"not {mark.given.text}", "wrong"))
    return Note(text, kind="detail", lead="wrong entry:")


# -- the forward pass ------------------------------------------------------------------------------


def forward_wrong(network: Network, grade: Grade, mark: Mark, view: View) -> list:
    """The layer of a wrong z or a, worked at once from the person's values, and its wrong entry named."""
    k, j = mark.layer, mark.neuron
    layer, graded = network.layers[k], grade.layers[k]
    p, number = view.precision, str(k + 1)
    n = layer.n_neurons
    if mark.quantity == "z":
        texts = grade.input_texts if k == 0 else tuple(_text(a) for a in graded.received_given)
        x = grid(
            (layer.n_inputs, 1), lambda r, _: Num(float(graded.received[r]), texts[r]), view.all_rows
        )  # the inputs as given, or the person's a of the layer below
        symbols: Expr = Product((Name("W", number), received_name(k, False)))
        written_out: Expr = Product((weight_matrix(network, k, view), x))
        if has_bias(network, k):
            symbols = Sum((symbols, Name("b", number)))
            written_out = Sum((written_out, bias_matrix(network, k, view)))
        result = _result((n, 1), lambda r, _: graded.z[r], view)
        chain = checked((Name("z", number), symbols, written_out, result), p)
    else:
        z = grid((n, 1), lambda r, _: _number(graded.z_used[r], graded.z[r].given), view.all_rows)
        from nncalc.worked.forward import activation_of_shown

        shown = shown_by(p)
        exact = activation_of_shown(
            layer.activation, [shown(_number(v, m.given)) for v, m in zip(graded.z_used, graded.z, strict=True)]
        )
        exact_column = None
        if exact is not None and np.all(np.isfinite(exact)):
            exact_column = np.array([[float(v)] for v in exact], dtype=object)
        result = _result((n, 1), lambda r, _: graded.a[r], view)
        chain = checked(
            (Name("a", number), *applied_to(layer.activation, Name("z", number), z), result), p, exact_column
        )
    what = Name(mark.quantity, number)
    return [Steps((Step((chain,)),)), entry_note(what, mark, f"{j + 1} ({layer.neurons[j]})", None, p)]


# -- the backward pass -----------------------------------------------------------------------------


def backward_wrong(
    network: Network,
    grade: BackwardGrade,
    mark: BackMark,
    input_texts: Sequence[Sequence[str]],
    target_texts: Sequence[Sequence[str]],
    view: View,
) -> list | None:
    """The layer of a wrong δ, gradient or update, worked at once from the person's values, and its
    wrong entry named; None for the loss and an optimizer's update (written neuron by neuron)."""
    if mark.layer is None:
        return None
    if mark.quantity in ("weights", "biases") and grade.settings.optimizer is not None:
        return None
    work = _Matrices(network, grade, input_texts, target_texts, view)
    chain, after = work.chain(mark)
    return [Steps((Step((chain,), after=after),)), work.entry(mark)]


class _Matrices:
    """The matrices of a graded backward pass: the person's values where written, the grader's elsewhere.

    A batch of m samples is written a column per sample, as ``backward --steps matrix`` writes it.
    """

    def __init__(self, network: Network, grade: BackwardGrade, input_texts, target_texts, view: View):
        self.network, self.grade, self.view = network, grade, view
        self.input_texts, self.target_texts = input_texts, target_texts
        self.samples = len(grade.forward)
        self.batch = self.samples > 1
        self.sign = 1.0 if grade.settings.error == "a-t" else -1.0

    # matrices of values: rows are neurons (or a weight's source), columns samples

    def _grid(self, shape: tuple[int, int], cell: Callable[[int, int], Expr]) -> Matrix:
        return grid(shape, cell, self.view.all_rows)

    def a(self, k: int) -> Matrix:
        """Layer k's a, the person's where written: neurons × samples."""
        used = self.grade.layers[k].a
        marks = [g.layers[k].a for g in self.grade.forward]
        return self._grid(used.T.shape, lambda r, c: _number(used[c, r], marks[c][r].given))

    def received_rows(self, k: int) -> Matrix:
        """What layer k received, a row per sample (the transpose of its column form): samples × sources."""
        used = self.grade.layers[k].received
        if k == 0:
            return self._grid(used.shape, lambda r, c: Num(float(used[r, c]), self.input_texts[r][c]))
        marks = [g.layers[k - 1].a for g in self.grade.forward]
        return self._grid(used.shape, lambda r, c: _number(used[r, c], marks[r][c].given))

    def targets(self) -> Matrix:
        t = self.grade.targets
        return self._grid(t.T.shape, lambda r, c: Num(float(t[c, r]), self.target_texts[c][r]))

    def delta(self, k: int) -> Matrix:
        """Layer k's δ carried on (the person's where written): neurons × samples."""
        graded = self.grade.layers[k]
        n = graded.delta_used.shape[1]
        return self._grid(
            graded.delta_used.T.shape,
            lambda r, c: _number(graded.delta_used[c, r], graded.delta[c * n + r].given),
        )

    def delta_column(self, k: int, s: int) -> Matrix:
        graded = self.grade.layers[k]
        n = graded.delta_used.shape[1]
        return self._grid((n, 1), lambda r, _: _number(graded.delta_used[s, r], graded.delta[s * n + r].given))

    def gradient_w(self, k: int) -> Matrix:
        graded = self.grade.layers[k]
        used, n_in = graded.grad_weights_used, graded.grad_weights_used.shape[1]
        return self._grid(used.shape, lambda r, c: _number(used[r, c], graded.grad_weights[r * n_in + c].given))

    def gradient_b(self, k: int) -> Matrix:
        graded = self.grade.layers[k]
        used = graded.grad_biases_used
        return self._grid((len(used), 1), lambda r, _: _number(used[r], graded.grad_biases[r].given))

    def expected(self, mark: BackMark) -> Matrix:
        """The matrix the grader expects for ``mark``'s quantity, in its column form."""
        graded = self.grade.layers[mark.layer]
        marks = getattr(graded, mark.quantity)
        layer = self.network.layers[mark.layer]
        if mark.quantity == "delta":
            n = layer.n_neurons
            return _result((n, self.samples), lambda r, c: marks[c * n + r], self.view)
        if mark.quantity in ("grad_weights", "weights"):
            n_in = layer.n_inputs
            return _result((layer.n_neurons, n_in), lambda r, c: marks[r * n_in + c], self.view)
        return _result((layer.n_neurons, 1), lambda r, _: marks[r], self.view)

    # the steps

    def chain(self, mark: BackMark) -> tuple[Chain, tuple]:
        result = self.expected(mark)
        if mark.quantity == "delta":
            return self.delta_chain(mark.layer, result), ()
        if mark.quantity == "grad_weights":
            return self.gradient_w_chain(mark.layer, result), ()
        if mark.quantity == "grad_biases":
            return self.gradient_b_chain(mark.layer, result), ()
        return self.update_chain(mark.layer, mark.quantity, result)

    def _error(self, a: Expr, t: Expr) -> Expr:
        """a − t, or t − a where the course writes the error so."""
        return Sum((a, Neg(t))) if self.sign > 0 else Sum((t, Neg(a)))

    def delta_chain(self, k: int, result: Matrix) -> Chain:
        network, p, batch = self.network, self.view.precision, self.batch
        layer = network.layers[k]
        number = k + 1
        lhs = named("δ", number, batch)
        derivative = numbers(self.grade.layers[k].derivative.T, self.view.all_rows)
        f_symbol = Call("f′", (named("z", number, batch),))
        elementwise = layer.activation.activation.elementwise
        if k == len(network.layers) - 1:
            loss_name = self.grade.settings.loss
            a, t = named("a", number, batch), named("t", None, batch)
            a_values, t_values = self.a(k), self.targets()
            outputs = Num(float(layer.n_neurons))
            rule = combined_rule(layer.activation.name, loss_name)
            if rule is not None:
                symbols, written_out = self._error(a, t), self._error(a_values, t_values)
                if rule == "(a − t)/n":
                    symbols, written_out = Frac(symbols, outputs), Frac(written_out, outputs)
                return checked((lhs, symbols, written_out, result), p)
            if loss_name == "half_sse":
                g_symbols, g_values = self._error(a, t), self._error(a_values, t_values)
            else:
                loss = losses.REGISTRY[loss_name]
                g_symbols = loss.gradient_formula(a, t, outputs)
                g_values = loss.gradient_formula(a_values, t_values, outputs)
                if self.sign < 0:
                    g_symbols, g_values = Neg(g_symbols), Neg(g_values)
            if not elementwise:  # softmax: its Jacobian, as backward --steps matrix writes it
                jacobian = Power(Name("J", layer.activation.name), TRANSPOSED)
                return Chain((lhs, Product((jacobian, g_symbols)), result), ("=", "="))
            symbols = Product((g_symbols, f_symbol), "⊙")
            if not element_wise(g_values):  # −t/a: a matrix divided by another is no notation
                return Chain((lhs, symbols, result), ("=", "="))
            return checked((lhs, symbols, Product((g_values, derivative), "⊙"), result), p)
        weighted = Product((transpose_of(Name("W", str(number + 1))), named("δ", number + 1, batch)))
        if not elementwise:
            jacobian = Power(Name("J", layer.activation.name), TRANSPOSED)
            return Chain((lhs, Product((jacobian, weighted)), result), ("=", "="))
        weighted_values = Product((weight_matrix(network, k + 1, self.view, transposed=True), self.delta(k + 1)))
        return checked(
            (lhs, Product((weighted, f_symbol), "⊙"), Product((weighted_values, derivative), "⊙"), result), p
        )

    def _mean(self) -> Frac | None:
        """``1/m`` before a sum over the batch where the course averages it; None for one sample or a sum."""
        if self.batch and self.grade.settings.batch == "mean":
            return Frac(Num(1.0), Num(float(self.samples)))
        return None

    def _signed(self, node: Expr) -> Expr:
        """−(…) where the course writes t − a: its δ is −∂L/∂z."""
        return node if self.sign > 0 else Neg(node)

    def gradient_w_chain(self, k: int, result: Matrix) -> Chain:
        number = k + 1
        lhs = Derivative(Name("L"), Name("W", str(number)))
        symbols: Expr = Product((named("δ", number, self.batch), transpose_of(received_name(k, self.batch))))
        written_out: Expr = Product((self.delta(k), self.received_rows(k)))
        mean = self._mean()
        if mean is not None:
            symbols, written_out = Product((mean, *symbols.factors)), Product((mean, *written_out.factors))
        return checked((lhs, self._signed(symbols), self._signed(written_out), result), self.view.precision)

    def gradient_b_chain(self, k: int, result: Matrix) -> Chain:
        number = str(k + 1)
        lhs = Derivative(Name("L"), Name("b", number))
        p = self.view.precision
        if not self.batch:
            return checked((lhs, self._signed(Name("δ", number)), self._signed(self.delta_column(k, 0)), result), p)
        symbols: Expr = Sigma("s", Name("δ", "s"))
        mean = self._mean()
        if mean is not None:
            symbols = Product((mean, symbols))
        if self.samples > MAX_LISTED_SAMPLES:
            return Chain((lhs, self._signed(symbols), result), ("=", "="))
        written_out: Expr = Sum(tuple(self.delta_column(k, s) for s in range(self.samples)))
        if mean is not None:
            written_out = Product((mean, written_out))
        return checked((lhs, self._signed(symbols), self._signed(written_out), result), p)

    def update_chain(self, k: int, quantity: str, result: Matrix) -> tuple[Chain, tuple]:
        """``W′ = W − η · ∂L/∂W`` (b′ the same) with the person's gradient; ``b′ = b`` where the biases are frozen."""
        number = str(k + 1)
        p, lr, eta = self.view.precision, Num(self.grade.settings.lr), Name("η")
        if quantity == "weights":
            old, gradient, letter = weight_matrix(self.network, k, self.view), self.gradient_w(k), "W"
        else:
            old, gradient, letter = bias_matrix(self.network, k, self.view), self.gradient_b(k), "b"
            if self.grade.settings.freeze_biases:
                chain = Chain((Name("b", number, "prime"), Name("b", number), old), ("=", "="))
                return chain, (" (biases frozen)",)
        lhs = Derivative(Name("L"), Name(letter, number))
        symbols = Sum((Name(letter, number), Neg(Product((eta, lhs)))))
        written_out = Sum((old, Neg(Product((lr, gradient)))))
        return checked((Name(letter, number, "prime"), symbols, written_out, result), p), ()

    def entry(self, mark: BackMark) -> Note:
        """The note naming the wrong entry: its row (neuron) and column (sample or source)."""
        network, p = self.network, self.view.precision
        k = mark.layer
        layer = network.layers[k]
        number = str(k + 1)
        sources = network.inputs if k == 0 else network.layers[k - 1].neurons
        if mark.quantity == "delta":
            s, j = mark.index
            what: Expr = named("δ", k + 1, self.batch)
            column = f"{s + 1} (sample {s + 1})" if self.batch else None
            return entry_note(what, mark, f"{j + 1} ({layer.neurons[j]})", column, p)
        j = mark.index[0]
        row = f"{j + 1} ({layer.neurons[j]})"
        if mark.quantity in ("grad_weights", "weights"):
            i = mark.index[1]
            what = (
                Derivative(Name("L"), Name("W", number))
                if mark.quantity == "grad_weights"
                else Name("W", number, "prime")
            )
            return entry_note(what, mark, row, f"{i + 1} ({sources[i]})", p)
        what = (
            Derivative(Name("L"), Name("b", number)) if mark.quantity == "grad_biases" else Name("b", number, "prime")
        )
        return entry_note(what, mark, row, None, p)
