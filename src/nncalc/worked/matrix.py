"""The matrix form of the working (``--steps matrix``): a layer at once, as courses write it with matrices.

Forward, for one sample (the page shows each sample in turn, so ``x`` is that sample's column):
``z₁ = W₁ · x + b₁`` with W, x, b and z written out as matrices, then the activation applied
element-wise, ``a₁ = σ(z₁) = σ([…]) = […]``. Layers are numbered from 1; layer l receives
``a_{l−1}`` (``x`` for the first).

Backward, for the whole batch at once, one column per sample (a batch of m samples makes
``X`` inputs × m, and ``Z``, ``A``, ``Δ`` neurons × m; one sample keeps the lowercase names):
``δ_l = (W_{l+1}ᵀ · δ_{l+1}) ⊙ f′(z_l)`` (the output layer's from the loss),
``∂L/∂W_l = δ_l · a_{l−1}ᵀ`` (with ``1/m ·`` before it for a batch: the gradient of the mean loss),
``∂L/∂b_l = δ_l`` (the mean of Δ's columns for a batch), ``W′ = W − η · ∂L/∂W`` and the same for b.

Every number is one the engine kept (z, a, δ, f′(z), gradients, updates) or one the person wrote
(weights, biases, inputs as written); nothing is computed here but the check, from the shown
numbers, of whether a step's result is ``=`` or only ``≈`` (as :func:`nncalc.worked.numbers.checked`).
A matrix with more than ``LIMIT`` rows or columns shows its first ``HEAD`` and last ``TAIL``,
with ``⋯``, ``⋮`` and ``⋱`` between, unless every row is asked for (``--all``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from nncalc import losses
from nncalc.backprop import BackwardResult, combined_rule
from nncalc.document import Step, Steps
from nncalc.engine import Trace
from nncalc.expr import (
    Call,
    Chain,
    Derivative,
    Dots,
    Expr,
    Frac,
    Matrix,
    Name,
    Neg,
    Num,
    Power,
    Product,
    Sigma,
    Sum,
    call,
    evaluate,
    has_matrix,
)
from nncalc.network import Network
from nncalc.render.numbers import relation
from nncalc.worked import View
from nncalc.worked.numbers import shown_by, written

LIMIT = 6  # a matrix longer than this in either direction is elided in the middle, unless --all (to fit a page)
HEAD, TAIL = 3, 2  # the rows (columns) an elided matrix keeps before and after its dots
MAX_LISTED_SAMPLES = 4  # ∂L/∂b of a larger batch is written as a mean without its columns
TRANSPOSED = Name("⊤")


# -- matrices from the engine's arrays ------------------------------------------------------------


def _kept(count: int, everything: bool) -> list[int | None]:
    """The indices shown along one direction; None where the dots stand."""
    if everything or count <= LIMIT:
        return list(range(count))
    return [*range(HEAD), None, *range(count - TAIL, count)]


def grid(shape: tuple[int, int], cell: Callable[[int, int], Expr], everything: bool) -> Matrix:
    """A ``shape`` matrix of ``cell(row, column)``, elided in the middle where it is large."""
    rows, columns = shape
    kept_columns = _kept(columns, everything)
    out = []
    for r in _kept(rows, everything):
        row = []
        for c in kept_columns:
            if r is None:
                row.append(Dots("⋱" if c is None else "⋮"))
            else:
                row.append(Dots("⋯") if c is None else cell(r, c))
        out.append(tuple(row))
    return Matrix(tuple(out), (rows, columns))


def numbers(values: np.ndarray, everything: bool) -> Matrix:
    """A 2-D array of the engine's values as a matrix of numbers."""
    return grid(values.shape, lambda r, c: Num(float(values[r, c])), everything)


# -- = or ≈: the step worked again from its shown numbers --------------------------------------


def value(node: Expr, shown: Callable[[Num], str]) -> object:
    """``node`` worked out from its numbers as shown: a matrix as a NumPy array of exact fractions,
    a scalar as ``evaluate`` gives it; None where it cannot be (elided entries, a function of a matrix).

    ``·`` between matrices is the matrix product, ``⊙`` the element-wise one; a sum adds a column
    to every column (the bias of a batch); ``Mᵀ`` is the transpose; ``sum(M)`` and ``max(M)`` are
    those of M's entries (a convolution's window times its kernel, a pooling window).
    """
    if not has_matrix(node):
        return evaluate(node, shown)
    if isinstance(node, Matrix):
        if any(isinstance(cell, Dots) for row in node.rows for cell in row):
            return None
        entries = [[evaluate(cell, shown) for cell in row] for row in node.rows]
        if any(entry is None for row in entries for entry in row):
            return None
        return np.array(entries, dtype=object)
    if isinstance(node, Neg):
        inner = value(node.operand, shown)
        return None if inner is None else -inner
    if isinstance(node, Sum):
        items = [value(term, shown) for term in node.terms]
        if any(item is None for item in items):
            return None
        total = items[0]
        for item in items[1:]:
            total = total + item
        return total
    if isinstance(node, Product):
        items = [value(factor, shown) for factor in node.factors]
        if any(item is None for item in items):
            return None
        result = items[0]
        for item in items[1:]:
            both = isinstance(result, np.ndarray) and isinstance(item, np.ndarray)
            result = result.dot(item) if both and node.sign != "⊙" else result * item
        return result
    if isinstance(node, Frac) and not has_matrix(node.denominator):
        top, bottom = value(node.numerator, shown), evaluate(node.denominator, shown)
        return None if top is None or bottom is None or bottom == 0 else top / bottom
    if isinstance(node, Power) and node.exponent == TRANSPOSED:
        inner = value(node.base, shown)
        return None if inner is None else inner.T
    if isinstance(node, Call) and node.name in _OVER_ENTRIES and len(node.args) == 1:
        inner = value(node.args[0], shown)
        return _OVER_ENTRIES[node.name](list(inner.flat)) if isinstance(inner, np.ndarray) else None
    return None


_OVER_ENTRIES: dict[str, Callable[[list], object]] = {"sum": sum, "max": max}  # a function of a matrix's entries


def agreement(exact: object, result: Matrix, precision: int) -> str:
    """``=`` where every entry of ``exact`` (worked from the shown numbers) shows as ``result``'s, else ``≈``."""
    if not isinstance(exact, np.ndarray) or exact.shape != (len(result.rows), len(result.rows[0])):
        return "="
    shown = shown_by(precision)
    for r, row in enumerate(result.rows):
        for c, cell in enumerate(row):
            entry = exact[r, c]
            if isinstance(cell, Num) and relation(_exact(entry), shown(cell), precision) == "≈":
                return "≈"
    return "="


def _exact(entry: object) -> Fraction | float | None:
    return entry if isinstance(entry, (Fraction, float)) or entry is None else Fraction(entry)


def checked(parts: tuple[Expr, ...], precision: int, exact: object = None) -> Chain:
    """A chain of ``=``, its last relation ``≈`` where the part before the result (a matrix, or a
    number such as ``sum(X ⊙ K) + b``), worked from its shown numbers (or ``exact``), does not give
    the shown result."""
    relations = ["="] * (len(parts) - 1)
    result = parts[-1]
    if len(parts) >= 2 and isinstance(result, (Matrix, Num)):
        worked = exact if exact is not None else value(parts[-2], shown_by(precision))
        if isinstance(result, Matrix):
            relations[-1] = agreement(worked, result, precision)
        elif worked is not None and not isinstance(worked, np.ndarray):
            relations[-1] = relation(_exact(worked), shown_by(precision)(result), precision)
    return Chain(parts, tuple(relations))


# -- names -----------------------------------------------------------------------------------------


def named(letter: str, layer: int | None, batch: bool) -> Name:
    """``z_1``, or ``Z_1`` for a batch (one column per sample); ``x``/``X`` for layer 0's input."""
    capitals = {"z": "Z", "a": "A", "δ": "Δ", "x": "X", "t": "T"}
    text = capitals.get(letter, letter) if batch else letter
    return Name(text, None if layer is None else str(layer))


def received_name(index: int, batch: bool) -> Name:
    """What layer ``index`` (0-based) receives: x, else the previous layer's a."""
    return named("x", None, batch) if index == 0 else named("a", index, batch)


def transpose_of(node: Expr) -> Power:
    return Power(node, TRANSPOSED)


def weight_matrix(network: Network, index: int, view: View, transposed: bool = False) -> Matrix:
    """A layer's weights as written in the network file (rows are neurons), or their transpose."""
    layer = network.layers[index]

    def cell(r: int, c: int) -> Expr:
        j, i = (c, r) if transposed else (r, c)
        return written(layer.weight_text[j][i], float(layer.weights[j, i]))

    shape = (layer.n_inputs, layer.n_neurons) if transposed else (layer.n_neurons, layer.n_inputs)
    return grid(shape, cell, view.all_rows)


def bias_matrix(network: Network, index: int, view: View) -> Matrix:
    layer = network.layers[index]
    return grid((layer.n_neurons, 1), lambda r, _: written(layer.bias_text[r], float(layer.biases[r])), view.all_rows)


def column_of(values: np.ndarray, view: View) -> Matrix:
    """A vector of the engine's values as a column."""
    return numbers(np.asarray(values, dtype=np.float64).reshape(-1, 1), view.all_rows)


def has_bias(network: Network, index: int) -> bool:
    layer = network.layers[index]
    return layer.layout.biases != "absent" or bool(np.any(layer.biases != 0))


# -- forward ---------------------------------------------------------------------------------------


def forward_steps(
    network: Network, trace: Trace, index: int, sample: int, texts: Sequence[str] | None, view: View
) -> Steps:
    """One layer of one sample at once: ``z = W · x + b`` written out, then ``a = f(z)`` element-wise."""
    from nncalc.worked.forward import activation_of_shown

    layer = network.layers[index]
    p = view.precision
    number = index + 1
    received = trace.activations(index)[sample]
    if index == 0 and texts is not None:
        x = grid((len(received), 1), lambda r, _: written(texts[r], float(received[r])), view.all_rows)
    else:
        x = column_of(received, view)
    z_values = trace.layers[index].z[sample]
    z = column_of(z_values, view)
    symbols: Expr = Product((Name("W", str(number)), received_name(index, False)))
    written_out: Expr = Product((weight_matrix(network, index, view), x))
    if has_bias(network, index):
        symbols = Sum((symbols, Name("b", str(number))))
        written_out = Sum((written_out, bias_matrix(network, index, view)))
    z_chain = checked((Name("z", str(number)), symbols, written_out, z), p)

    a = column_of(trace.layers[index].a[sample], view)
    exact = activation_of_shown(layer.activation, [shown_by(p)(Num(float(v))) for v in z_values])
    exact_column = None if exact is None else np.array([[float(v)] for v in exact], dtype=object)
    applied = applied_to(layer.activation, Name("z", str(number)), z)
    parts = (Name("a", str(number)), *applied, a)
    a_chain = checked(parts, p, exact_column if exact is not None and np.all(np.isfinite(exact)) else None)
    return Steps((Step((z_chain,)), Step((a_chain,))))


def applied_to(activation, symbol: Name, values: Matrix) -> tuple[Expr, ...]:
    """``σ(z_1)`` and ``σ([…])``: the activation applied to the layer's z, as its formula names it
    (``z_1`` alone for the identity)."""
    forms = activation.activation.formula(symbol, (symbol,), activation.params)
    if not forms.parts:
        return (symbol,)
    head = forms.parts[0]
    if isinstance(head, Call) and head.args == (symbol,):
        return head, Call(head.name, (values,))
    return (head,)


# -- backward --------------------------------------------------------------------------------------


def backward_steps(network: Network, result: BackwardResult, index: int, view: View, updates: bool = True) -> Steps:
    """One layer of the backward pass at once, for the whole batch: δ, ∂L/∂W, ∂L/∂b, and with
    ``updates`` gradient descent's W′ and b′ (an optimizer's update is written elsewhere)."""
    grads = result.layers[index]
    p = view.precision
    samples = grads.delta.shape[0]
    batch = samples > 1
    number = str(index + 1)
    delta = numbers(grads.delta.T, view.all_rows)
    items = [Step((_delta_chain(network, result, index, view, delta),))]

    received = numbers(result.trace.activations(index), view.all_rows)  # samples × inputs: the transpose
    gradient_w = numbers(grads.grad_weights, view.all_rows)
    lhs_w = Derivative(Name("L"), Name("W", number))
    symbols_w: Expr = Product((named("δ", index + 1, batch), transpose_of(received_name(index, batch))))
    numbers_w: Expr = Product((delta, received))
    if batch:
        mean = Frac(Num(1.0), Num(float(samples)))
        symbols_w, numbers_w = Product((mean, *symbols_w.factors)), Product((mean, *numbers_w.factors))
    items.append(Step((checked((lhs_w, symbols_w, numbers_w, gradient_w), p),)))

    gradient_b = column_of(grads.grad_biases, view)
    lhs_b = Derivative(Name("L"), Name("b", number))
    if not batch:
        items.append(Step((Chain((lhs_b, Name("δ", number), gradient_b), ("=", "=")),)))
    else:
        mean = Frac(Num(1.0), Num(float(samples)))
        symbols_b = Product((mean, Sigma("s", Name("δ", "s"))))
        if samples <= MAX_LISTED_SAMPLES:
            columns = Sum(tuple(column_of(grads.delta[s], view) for s in range(samples)))
            items.append(Step((checked((lhs_b, symbols_b, Product((mean, columns)), gradient_b), p),)))
        else:
            items.append(Step((Chain((lhs_b, symbols_b, gradient_b), ("=", "=")),)))

    if not updates:
        return Steps(tuple(items))
    lr = Num(result.lr)
    eta = Name("η")
    new_w = numbers(grads.weights, view.all_rows)
    update_w = Sum((Name("W", number), Neg(Product((eta, lhs_w)))))
    step_w = Sum((weight_matrix(network, index, view), Neg(Product((lr, gradient_w)))))
    items.append(Step((checked((Name("W", number, "prime"), update_w, step_w, new_w), p),)))
    old_b = bias_matrix(network, index, view)
    if result.freeze_biases:
        items.append(
            Step(
                (Chain((Name("b", number, "prime"), Name("b", number), old_b), ("=", "=")),),
                after=(" (biases frozen)",),
            )
        )
    else:
        new_b = column_of(grads.biases, view)
        update_b = Sum((Name("b", number), Neg(Product((eta, lhs_b)))))
        step_b = Sum((old_b, Neg(Product((lr, gradient_b)))))
        items.append(Step((checked((Name("b", number, "prime"), update_b, step_b, new_b), p),)))
    return Steps(tuple(items))


def _delta_chain(network: Network, result: BackwardResult, index: int, view: View, delta: Matrix) -> Chain:
    """``δ_2 = (a_2 − t) ⊙ f′(z_2)`` at the output, ``δ_1 = (W_2ᵀ · δ_2) ⊙ f′(z_1)`` below it, written out."""
    layer = network.layers[index]
    grads = result.layers[index]
    p = view.precision
    batch = grads.delta.shape[0] > 1
    number = index + 1
    lhs = named("δ", number, batch)
    derivative = numbers(grads.derivative.T, view.all_rows)
    f_symbol = call("f′", named("z", number, batch))
    elementwise = layer.activation.activation.elementwise
    jacobian = Power(Name("J", layer.activation.name), TRANSPOSED)
    if index == len(network.layers) - 1:
        a, t = named("a", number, batch), named("t", None, batch)
        a_values = numbers(result.trace.output.T, view.all_rows)
        t_values = numbers(result.targets.T, view.all_rows)
        outputs = Num(float(result.trace.output.shape[1]))
        rule = combined_rule(layer.activation.name, result.loss_name)
        if rule == "a − t":
            return checked((lhs, Sum((a, Neg(t))), Sum((a_values, Neg(t_values))), delta), p)
        if rule == "(a − t)/n":
            return checked(
                (lhs, Frac(Sum((a, Neg(t))), outputs), Frac(Sum((a_values, Neg(t_values))), outputs), delta), p
            )
        loss = losses.REGISTRY[result.loss_name]
        gradient = loss.gradient_formula(a, t, outputs)
        if not elementwise:
            return Chain((lhs, Product((jacobian, gradient)), delta), ("=", "="))
        symbols = Product((gradient, f_symbol), "⊙")
        gradient_values = loss.gradient_formula(a_values, t_values, outputs)
        if not element_wise(gradient_values):  # −t/a: a matrix divided by another is no notation
            return Chain((lhs, symbols, delta), ("=", "="))
        return checked((lhs, symbols, Product((gradient_values, derivative), "⊙"), delta), p)
    weighted = Product((transpose_of(Name("W", str(number + 1))), named("δ", number + 1, batch)))
    if not elementwise:
        return Chain((lhs, Product((jacobian, weighted)), delta), ("=", "="))
    weighted_values = Product(
        (
            weight_matrix(network, index + 1, view, transposed=True),
            numbers(result.layers[index + 1].delta.T, view.all_rows),
        )
    )
    return checked((lhs, Product((weighted, f_symbol), "⊙"), Product((weighted_values, derivative), "⊙"), delta), p)


def element_wise(node: Expr) -> bool:
    """Whether a formula of matrices reads the same entry by entry: no matrix divides, none multiplies another."""
    if isinstance(node, Frac):
        return not has_matrix(node.denominator) and element_wise(node.numerator)
    if isinstance(node, Product):
        return sum(has_matrix(f) for f in node.factors) <= 1 and all(element_wise(f) for f in node.factors)
    if isinstance(node, Sum):
        return all(element_wise(t) for t in node.terms)
    if isinstance(node, Neg):
        return element_wise(node.operand)
    return not isinstance(node, (Call, Power)) or not has_matrix(node)
