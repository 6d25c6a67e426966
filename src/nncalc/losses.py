"""Loss functions: one registry entry each, with PyTorch's definitions (per sample, no reduction).

An entry knows its per-sample value, its gradient with respect to the outputs, how a
person writes it, and when it cannot apply (a user-facing reason). Outputs ``a`` and
targets ``t`` are float64 arrays of shape (samples, outputs); the loss of a batch is
the mean of the per-sample losses, as PyTorch's ``reduction="mean"`` over samples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from nncalc.expr import Derivative, Expr, Frac, Name, Neg, Num, Power, Product, Sigma, Sum, call, total
from nncalc.records import record

Array = np.ndarray

# How far a sample's targets may sum from 1 for cross-entropy: room for typed decimals
# such as 0.1 + 0.2 + 0.7, far too little for a real mistake.
SUM_TOLERANCE = 1e-6


@record
class Loss:
    """One loss: per-sample value, its gradient ∂(sample loss)/∂a, its formula, its domain.

    ``value(a, t)`` has shape (samples,); ``gradient(a, t)`` has the shape of ``a``;
    ``check(a, t)`` is None when the loss applies, else the reason it does not.
    """

    name: str
    value: Callable[[Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    check: Callable[[Array, Array], str | None]
    summary: str = ""
    # how a person writes it, as expressions every notation writes (nncalc.expr): the formula
    # in symbols, with one sample's outputs a and targets t put in, and ∂(sample loss)/∂a of
    # one output from a, t and n
    symbols: Expr = Name("L")
    expanded: Callable[[list[Expr], list[Expr]], Expr] | None = None
    gradient_formula: Callable[[Expr, Expr, Expr], Expr] = lambda a, t, n: Derivative(Name("L"), a)

    def batch(self, a: Array, t: Array) -> float:
        """The loss of the batch: the mean of the per-sample losses."""
        return float(np.mean(self.value(a, t)))


def _where(mask: Array) -> str:
    """``sample 2, output 1``: the first place (1-based) where ``mask`` is true."""
    sample, output = np.argwhere(mask)[0]
    return f"sample {sample + 1}, output {output + 1}"


def _num(value: float) -> str:
    return f"{value:.12g}"


def _finite(a: Array, t: Array) -> str | None:
    """Every loss needs finite outputs and targets."""
    if not np.isfinite(t).all():
        bad = ~np.isfinite(t)
        return f"targets must be finite numbers; {_where(bad)} is {_num(float(t[bad][0]))}"
    if not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        return f"outputs must be finite numbers; {_where(bad)} is {_num(float(a[bad][0]))}"
    return None


def _targets_are_probabilities(t: Array) -> str | None:
    bad = (t < 0) | (t > 1)
    if bad.any():
        return f"targets must be between 0 and 1; {_where(bad)} is {_num(float(t[bad][0]))}"
    return None


def _check_cross_entropy(a: Array, t: Array) -> str | None:
    reason = _finite(a, t) or _targets_are_probabilities(t)
    if reason:
        return reason
    sums = np.sum(t, axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        sample = int(np.argmax(off))
        return (
            f"each sample's targets must sum to 1 (a probability distribution); "
            f"sample {sample + 1}'s sum to {_num(float(sums[sample]))}"
        )
    negative = a < 0
    if negative.any():
        return f"outputs must be probabilities, not negative; {_where(negative)} is {_num(float(a[negative][0]))}"
    # 0 · log 0 counts as 0 (a softmax can underflow to exactly 0 where the target is 0).
    zero = (a == 0) & (t > 0)
    if zero.any():
        return f"outputs must be greater than 0 where the target is not 0 (log 0 is −∞); {_where(zero)} is 0"
    return None


def _check_bce(a: Array, t: Array) -> str | None:
    reason = _finite(a, t) or _targets_are_probabilities(t)
    if reason:
        return reason
    outside = (a <= 0) | (a >= 1)
    if outside.any():
        return (
            f"outputs must be strictly between 0 and 1 (log 0 is −∞); {_where(outside)} is {_num(float(a[outside][0]))}"
        )
    return None


def _cross_entropy(a: Array, t: Array) -> Array:
    safe = np.where(t > 0, a, 1.0)  # 0 · log a is 0, even where a is 0
    return -np.sum(t * np.log(safe), axis=1)


def _cross_entropy_gradient(a: Array, t: Array) -> Array:
    safe = np.where(t > 0, a, 1.0)
    return -t / safe


def _bce(a: Array, t: Array) -> Array:
    return -np.mean(t * np.log(a) + (1.0 - t) * np.log1p(-a), axis=1)


def _bce_gradient(a: Array, t: Array) -> Array:
    return (a - t) / (a * (1.0 - a)) / a.shape[1]


HALF = Frac(Num(1.0), Num(2.0))


def _squares(a: list[Expr], t: list[Expr]) -> Expr:
    """(t₁ − a₁)² + (t₂ − a₂)² + …"""
    return total([Power(Sum((tt, Neg(aa))), Num(2.0)) for aa, tt in zip(a, t, strict=True)])


def _mean_of(a: list[Expr]) -> Frac:
    return Frac(Num(1.0), Num(float(len(a))))


def _bce_term(a: Expr, t: Expr) -> Expr:
    """−[t · ln a + (1 − t) · ln(1 − a)] for one output."""
    positive = Product((t, call("ln", a)))
    negative = Product((Sum((Num(1.0), Neg(t))), call("ln", Sum((Num(1.0), Neg(a))))))
    return Neg(Sum((positive, negative)))


def _bce_terms(a: list[Expr], t: list[Expr]) -> Expr:
    return total([_bce_term(aa, tt) for aa, tt in zip(a, t, strict=True)])


SQUARED_ERROR = Power(Sum((Name("t"), Neg(Name("a")))), Num(2.0))

_ENTRIES = [
    Loss(
        name="half_sse",
        symbols=Product((HALF, Sigma("", SQUARED_ERROR))),
        expanded=lambda a, t: Product((HALF, _squares(a, t))),
        gradient_formula=lambda a, t, n: Sum((a, Neg(t))),
        summary="half the sum of squared errors over the outputs (the classic backpropagation tutorials' E)",
        value=lambda a, t: 0.5 * np.sum((t - a) ** 2, axis=1),
        gradient=lambda a, t: a - t,
        check=_finite,
    ),
    Loss(
        name="mse",
        symbols=Product((Frac(Num(1.0), Name("n")), Sigma("", SQUARED_ERROR))),
        expanded=lambda a, t: Product((_mean_of(a), _squares(a, t))),
        gradient_formula=lambda a, t, n: Product((Frac(Num(2.0), n), Sum((a, Neg(t))))),
        summary="mean of squared errors over the outputs (PyTorch's MSELoss)",
        value=lambda a, t: np.mean((t - a) ** 2, axis=1),
        gradient=lambda a, t: 2.0 * (a - t) / a.shape[1],
        check=_finite,
    ),
    Loss(
        name="cross_entropy",
        symbols=Neg(Sigma("", Product((Name("t"), call("ln", Name("a")))))),
        expanded=lambda a, t: Neg(total([Product((tt, call("ln", aa))) for aa, tt in zip(a, t, strict=True)])),
        gradient_formula=lambda a, t, n: Neg(Frac(t, a)),
        summary="cross-entropy of probability outputs against a target distribution (with softmax: δ = a − t)",
        value=_cross_entropy,
        gradient=_cross_entropy_gradient,
        check=_check_cross_entropy,
    ),
    Loss(
        name="bce",
        symbols=Product((Frac(Num(1.0), Name("n")), Sigma("", _bce_term(Name("a"), Name("t"))))),
        expanded=lambda a, t: Product((_mean_of(a), _bce_terms(a, t))),
        gradient_formula=lambda a, t, n: Frac(Sum((a, Neg(t))), Product((n, a, Sum((Num(1.0), Neg(a)))))),
        summary="binary cross-entropy, mean over the outputs (PyTorch's BCELoss; with sigmoid: δ = (a − t)/n)",
        value=_bce,
        gradient=_bce_gradient,
        check=_check_bce,
    ),
]

REGISTRY: Mapping[str, Loss] = MappingProxyType({loss.name: loss for loss in _ENTRIES})


def lookup(name: str) -> Loss | None:
    """The loss called ``name``, or None."""
    return REGISTRY.get(name)


def known_names() -> list[str]:
    """Every loss name, in registry order."""
    return list(REGISTRY)
