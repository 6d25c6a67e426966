"""An optimizer's update of one weight or bias, written out as a person works it.

Momentum: ``v′ = μ · v + g = 0.9 · 0.0100 + 0.0822 = 0.0912`` and ``w′ = w − lr · v′ = …``.
Adam: ``m′ = β₁ · m + (1 − β₁) · g``, ``v′ = β₂ · v + (1 − β₂) · g²``, the bias corrections
``m̂ = m′ / (1 − β₁ᵗ)`` and ``v̂ = v′ / (1 − β₂ᵗ)``, and ``w′ = w − lr · m̂ / (√v̂ + ε)``;
AdamW first shrinks the weight, ``w ← w · (1 − lr · λ)``. RMSprop: ``v′ = α · v + (1 − α) · g²``
(and ``g′_avg`` when centered), then ``w′ = w − lr · g / (√v′ + ε)`` or, with momentum,
``u′ = μ · u + g / (√v′ + ε)`` and ``w′ = w − lr · u′``. A weight decay λ first adds ``λ · w``
to the gradient, ``g = ∂L/∂w + λ · w``.

Each line is the symbols, then the numbers (the state before the step, the gradient, the
parameters), then the result from the optimizer's own working (``nncalc.optimizers.StepTrace``):
nothing here computes a value, and every notation writes the lines with no code of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from nncalc.backprop import BackwardResult
from nncalc.expr import Call, Chain, Derivative, Expr, Frac, Name, Neg, Num, Power, Sum
from nncalc.optimizers import BoundOptimizer, ParamState, StepTrace
from nncalc.render.numbers import show
from nncalc.worked.numbers import checked

LR = Name("lr")
G = Name("g")


def _times(*factors: Expr) -> Expr:
    from nncalc.worked.backward import times

    return times(*factors)


def _one_minus(x: Expr) -> Expr:
    return Sum((Num(1.0, "1"), Neg(x)))


def describe(optimizer: BoundOptimizer, lr: float) -> str:
    """``Adam (lr 0.01, betas (0.9, 0.999), eps 1e-08)``: the optimizer and every parameter that is not its default."""
    shown = [f"lr {lr:g}"]
    for key, value in optimizer.changed().items():
        if isinstance(value, bool):
            shown.append(key if value else f"{key} off")
        elif isinstance(value, tuple):
            shown.append(f"{key} ({', '.join(f'{v:g}' for v in value)})")
        else:
            shown.append(f"{key} {value:g}")
    return f"{optimizer.spec.title} ({', '.join(shown)})"


def legend(optimizer: BoundOptimizer, lr: float, step: int) -> tuple[str, str]:
    """The optimizer and the step, and what the update lines' letters stand for: two lines, written
    once above them."""
    if optimizer.name == "sgd":
        names = "v the momentum buffer" if optimizer["momentum"] != 0 else ""
    elif optimizer.name in ("adam", "adamw"):
        names = "m and v the averages of g and g²"
    else:
        names = "v the average of g²"
        names += ", g_avg of g" if optimizer["centered"] else ""
        names += ", u the momentum buffer" if optimizer["momentum"] > 0 else ""
    buffers = f", {names}" if names else ""
    return (
        f"updates by {describe(optimizer, lr)}, step t = {step}",
        f"g = ∂L/∂w or ∂L/∂b{buffers} (primed: after the step)",
    )


def buffer_columns(optimizer: BoundOptimizer) -> list[tuple[str, str]]:
    """The (heading, StepTrace field) of each buffer a table shows beside the new values: at most
    two, so that a page's table stays within its width (AMSGrad's maximum and a centered RMSprop's
    average of g are in the lines below the table)."""
    name = optimizer.name
    if name == "sgd":
        return [("v′", "momentum_buffer")] if optimizer["momentum"] != 0 else []
    if name in ("adam", "adamw"):
        return [("m′", "exp_avg"), ("v′", "exp_avg_sq")]
    return [("v′", "square_avg")] + ([("u′", "momentum_buffer")] if optimizer["momentum"] > 0 else [])


def update_chains(
    result: BackwardResult,
    layer: int,
    biases: bool,
    element: tuple[int, ...],
    old: Expr,
    gradient: Num,
    precision: int,
    texts: Mapping[str, str] | None = None,
    until: str | None = None,
    shown: int | None = None,
) -> tuple[tuple[Chain, ...], ...]:
    """The lines that take one weight (``biases``: one bias) from ``old`` to its new value, in
    groups a page writes one to a line: the gradient as the optimizer takes it (and AdamW's
    decay), the running averages, Adam's bias corrections, and the update.

    ``texts`` writes a value (a ``StepTrace`` field: ``exp_avg``, ``m_hat``, ``param``) as a
    person wrote it; ``until`` ends the working with that value's line (a graded value's);
    ``shown`` writes the values no one wrote to that many decimals, not the page's (a grade
    shows them to the decimals of the answer it explains)."""
    optimizer = result.optimizer
    trace = result.update_of(layer, biases)
    before = result.state_of(layer, biases)
    assert optimizer is not None and trace is not None and before is not None
    symbol = "b" if biases else "w"
    lines = _Lines(trace, before, element, precision, texts, until, shown)
    p = Name(symbol)
    lines.gradient(optimizer, symbol, old, gradient)
    lines.group()
    if optimizer.name == "sgd":
        direction = _sgd(lines, optimizer)
    elif optimizer.name in ("adam", "adamw"):
        if trace.decayed is not None:
            shrink = _one_minus(_times(LR, Name("λ")))
            numbers = _one_minus(_times(Num(result.lr), Num(optimizer["weight_decay"])))
            lines.add((p, _times(p, shrink), _times(old, numbers), lines.field("decayed")), "←")
            old = lines.field("decayed")
            lines.group()
        direction = _adam(lines, optimizer)
    else:
        direction = _rmsprop(lines, optimizer)
    symbols, numbers = direction
    lines.group()
    new = lines.field("param")
    lines.add(
        (
            Name(symbol, mark="prime"),
            Sum((p, Neg(_times(LR, symbols)))),
            Sum((old, Neg(_times(Num(result.lr), numbers)))),
            new,
        )
    )
    return tuple(tuple(group) for group in lines.groups if group)


class _Lines:
    """The chains of one update, and the numbers of one element of the arrays they come from."""

    def __init__(
        self,
        trace: StepTrace,
        before: ParamState,
        element: tuple[int, ...],
        precision: int,
        texts: Mapping[str, str] | None = None,
        until: str | None = None,
        shown: int | None = None,
    ):
        self.trace, self.before, self.element, self.precision = trace, before, element, precision
        self.texts, self.until, self.shown = texts or {}, until, shown
        self.groups: list[list[Chain]] = [[]]
        self.g: Expr = G
        self.stop: Num | None = None  # the result of the line the working ends with (``until``'s)
        self.done = False

    def group(self) -> None:
        """Start a new line (nothing if the current one is empty)."""
        if self.groups[-1]:
            self.groups.append([])

    def num(self, array) -> Num:
        return self.written(float(array[self.element]))

    def written(self, value: float, text: str | None = None) -> Num:
        """A value as ``text`` writes it, else to ``shown`` decimals (None: the page's), and to at
        least five significant digits: v′ of a small gradient is 0.0000068339, not 0.0000068."""
        if text is None and self.shown is not None:
            significant = 4 - math.floor(math.log10(abs(value))) if value and math.isfinite(value) else 0
            text = show(value, min(max(self.shown, significant), 15))
        return Num(value, text)

    def field(self, name: str) -> Num:
        """The value of the trace's field ``name`` for this element, written as ``texts`` gives it."""
        value = self.written(float(getattr(self.trace, name)[self.element]), self.texts.get(name))
        if name == self.until and self.stop is None:
            self.stop = value  # its first use is as the result of its own line
        return value

    def old(self, name: str) -> Num:
        """A buffer's value before the step (0 where it starts empty)."""
        array = getattr(self.before, name)
        return Num(0.0, "0") if array is None else self.num(array)

    def add(self, parts: tuple[Expr, ...], first: str = "=") -> None:
        if self.done:
            return
        self.done = self.stop is not None and parts[-1] is self.stop
        chain = checked(parts, self.precision)
        if first != "=":
            chain = Chain(chain.parts, (first, *chain.relations[1:]))
        self.groups[-1].append(chain)

    def gradient(self, optimizer: BoundOptimizer, symbol: str, old: Expr, gradient: Num) -> None:
        """``g = ∂L/∂w + λ · w`` (and ``−∂L/∂w`` when maximizing), where it is not ∂L/∂w itself;
        else g in the lines below is the gradient's number."""
        decay = optimizer["weight_decay"] if not optimizer.spec.decoupled else 0.0
        flip = bool(optimizer["maximize"])
        if decay == 0 and not flip:
            self.g = gradient
            return
        derivative: Expr = Derivative(Name("L"), Name(symbol))
        number: Expr = gradient
        if flip:
            derivative, number = Neg(derivative), Neg(number)
        symbols, numbers = derivative, number
        if decay != 0:
            symbols = Sum((derivative, _times(Name("λ"), Name(symbol))))
            numbers = Sum((number, _times(Num(decay), old)))
        self.g = self.field("grad")
        self.add((G, symbols, numbers, self.g))

    def average(self, new: Name, decay: Expr, decay_value: float, old_name: str, term: Expr, term_numbers: Expr) -> Num:
        """``new = β · old + (1 − β) · term``: a running average of the buffer ``old_name``, its numbers,
        and its new value."""
        old_symbol = Name(new.text, new.sub)
        value = self.field(old_name)
        self.add(
            (
                new,
                Sum((_times(decay, old_symbol), _times(_one_minus(decay), term))),
                Sum((_times(Num(decay_value), self.old(old_name)), _times(_one_minus(Num(decay_value)), term_numbers))),
                value,
            )
        )
        return value


def _sgd(lines: _Lines, optimizer: BoundOptimizer) -> tuple[Expr, Expr]:
    """The momentum line, if any; the direction the step goes against, in symbols and numbers."""
    g = lines.g
    momentum, dampening = optimizer["momentum"], optimizer["dampening"]
    if momentum == 0:
        return G, g
    v = lines.field("momentum_buffer")
    mu, v_new = Name("μ"), Name("v", mark="prime")
    if lines.before.momentum_buffer is None:  # the first step starts the buffer at g
        lines.add((v_new, G, v) if isinstance(g, Num) else (v_new, G, g, v))
    else:
        term, term_numbers = (
            (G, g)
            if dampening == 0
            else (
                _times(_one_minus(Name("τ")), G),
                _times(_one_minus(Num(dampening)), g),
            )
        )
        lines.add(
            (
                v_new,
                Sum((_times(mu, Name("v")), term)),
                Sum((_times(Num(momentum), lines.old("momentum_buffer")), term_numbers)),
                v,
            )
        )
    if optimizer["nesterov"]:
        return Sum((G, _times(mu, v_new))), Sum((g, _times(Num(momentum), v)))
    return v_new, v


def _adam(lines: _Lines, optimizer: BoundOptimizer) -> tuple[Expr, Expr]:
    """m′, v′ (and v′max), m̂ and v̂; the direction m̂ / (√v̂ + ε)."""
    trace, g = lines.trace, lines.g
    beta1, beta2 = optimizer["betas"]
    b1, b2 = Name("β", "1"), Name("β", "2")
    lines.average(Name("m", mark="prime"), b1, beta1, "exp_avg", G, g)
    v = lines.average(
        Name("v", mark="prime"),
        b2,
        beta2,
        "exp_avg_sq",
        Power(G, Num(2.0, "2")),
        Power(g, Num(2.0, "2")),
    )
    m = lines.field("exp_avg")
    second, second_symbol = v, Name("v", mark="prime")
    if trace.max_exp_avg_sq is not None:
        second_symbol = Name("v", "max", "prime")
        second = lines.field("max_exp_avg_sq")
        lines.add(
            (
                second_symbol,
                Call("max", (Name("v", "max"), Name("v", mark="prime"))),
                Call("max", (lines.old("max_exp_avg_sq"), v)),
                second,
            )
        )
    lines.group()
    t = Name("t")
    step = Num(float(trace.step), str(trace.step))
    m_hat, v_hat = lines.field("m_hat"), lines.field("v_hat")
    lines.add(
        (
            Name("m", mark="hat"),
            Frac(Name("m", mark="prime"), _one_minus(Power(b1, t))),
            Frac(m, _one_minus(Power(Num(beta1), step))),
            m_hat,
        )
    )
    lines.add(
        (
            Name("v", mark="hat"),
            Frac(second_symbol, _one_minus(Power(b2, t))),
            Frac(second, _one_minus(Power(Num(beta2), step))),
            v_hat,
        )
    )
    eps = Num(optimizer["eps"])
    symbols = Frac(Name("m", mark="hat"), Sum((Call("sqrt", (Name("v", mark="hat"),)), Name("ε"))))
    numbers = Frac(m_hat, Sum((Call("sqrt", (v_hat,)), eps)))
    return symbols, numbers


def _rmsprop(lines: _Lines, optimizer: BoundOptimizer) -> tuple[Expr, Expr]:
    """v′ (and g′avg), and the direction g / (√v′ + ε), or the momentum buffer u′ (b would read as a bias)."""
    trace, g = lines.trace, lines.g
    alpha, momentum = optimizer["alpha"], optimizer["momentum"]
    a = Name("α")
    v = lines.average(
        Name("v", mark="prime"),
        a,
        alpha,
        "square_avg",
        Power(G, Num(2.0, "2")),
        Power(g, Num(2.0, "2")),
    )
    under_symbols: Expr = Name("v", mark="prime")
    under_numbers: Expr = v
    if trace.grad_avg is not None:
        avg = lines.average(Name("g", "avg", "prime"), a, alpha, "grad_avg", G, g)
        # g′avg · g′avg rather than a power: a primed name takes no exponent in LaTeX
        average = Name("g", "avg", "prime")
        under_symbols = Sum((under_symbols, Neg(_times(average, average))))
        under_numbers = Sum((v, Neg(Power(avg, Num(2.0, "2")))))
    eps = Num(optimizer["eps"])
    denominator_symbols = Sum((Call("sqrt", (under_symbols,)), Name("ε")))
    denominator_numbers = Sum((Call("sqrt", (under_numbers,)), eps))
    direction = Frac(G, denominator_symbols), Frac(g, denominator_numbers)
    if momentum <= 0:
        return direction
    lines.group()
    u_new = Name("u", mark="prime")
    u = lines.field("momentum_buffer")
    lines.add(
        (
            u_new,
            Sum((_times(Name("μ"), Name("u")), direction[0])),
            Sum((_times(Num(momentum), lines.old("momentum_buffer")), direction[1])),
            u,
        )
    )
    return u_new, u
