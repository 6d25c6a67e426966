"""Activation functions: one registry entry each, with PyTorch's definitions and defaults.

An entry knows its function, its derivative (for backpropagation) and how a person
writes both, as expressions (``nncalc.expr``) every notation writes. Adding an activation
means adding one entry to ``REGISTRY``. All functions take and return float64 arrays of
shape (samples, neurons) and never overflow: |z| = 1000 gives exact limits, no warnings;
the one exception is exp, which overflows past z ≈ 709.78 exactly as e^z does (the engine
then reports the overflow).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from nncalc.expr import Chain, Expr, Frac, Name, Neg, Num, Power, Product, Sigma, Sum, call, chain, exp
from nncalc.records import default, record

Params = Mapping[str, "float | str"]
Array = np.ndarray

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf(x: Array) -> Array:
    """The error function elementwise, exact to the last bit as ``math.erf``."""
    return np.asarray(_erf_ufunc(x), dtype=np.float64)


def sigmoid(z: Array) -> Array:
    """Logistic function 1 / (1 + e^-z), stable for any z."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: Array, beta: float = 1.0, threshold: float = 20.0) -> Array:
    """PyTorch's Softplus: (1/beta) ln(1 + e^(beta z)), and z itself where beta z > threshold."""
    bz = beta * z
    return np.where(bz > threshold, z, np.logaddexp(0.0, bz) / beta)


def softmax(z: Array) -> Array:
    """Softmax over the neurons of each sample (axis 1), never across the batch."""
    shifted = np.exp(z - np.max(z, axis=1, keepdims=True))
    return shifted / np.sum(shifted, axis=1, keepdims=True)


def _num(value: float | str) -> str:
    """A parameter as a person writes it: 0.01, 1, 20."""
    if isinstance(value, str):
        return value
    return f"{value:.12g}"


@record
class Activation:
    """One activation: its function, derivative and written formula.

    ``formula(z, zs, params)`` is the function applied to the expression ``z`` (``zs`` is the
    whole layer's, for softmax) as a chain of forms, e.g. ``σ(0.415) = 1 / (1 + e^−0.415)``.
    ``derivative(z, a, params)`` is da/dz elementwise (for softmax, its diagonal).
    """

    name: str
    forward: Callable[[Array, Params], Array]
    derivative: Callable[[Array, Array, Params], Array]
    defaults: Mapping[str, float | str] = default(dict)
    choices: Mapping[str, tuple[str, ...]] = default(dict)
    aliases: tuple[str, ...] = ()
    elementwise: bool = True
    summary: str = ""
    # as expressions every notation writes (nncalc.expr): the function applied to z (the
    # layer's zs for softmax) as a chain of forms, σ(z) = 1 / (1 + e^−z); and da/dz as a
    # person writes it from z, a and the derivative's value: sigmoid writes a · (1 − a),
    # and where no short form helps, the value itself
    formula: Callable[[Expr, tuple[Expr, ...], Params], Chain] = lambda z, zs, p: chain(z)
    derivative_formula: Callable[[Expr, Expr, Expr, Params], Expr] = lambda z, a, d, p: d


def _gelu_tanh_inner(z: Array) -> Array:
    """tanh(√(2/π)(z + 0.044715 z³)); beyond |z| = 10 it is exactly ±1, so z is clipped there
    to keep z³ from overflowing."""
    zc = np.clip(z, -10.0, 10.0)
    return np.tanh(_SQRT_2_OVER_PI * (zc + 0.044715 * zc**3))


def _gelu(z: Array, p: Params) -> Array:
    if p["approximate"] == "tanh":
        return 0.5 * z * (1.0 + _gelu_tanh_inner(z))
    return 0.5 * z * (1.0 + _erf(z / _SQRT_2))


def _gelu_derivative(z: Array, a: Array, p: Params) -> Array:
    # Beyond |z| = 10 (tanh form) or 40 (exact form) the second term is exactly 0; clipping z
    # there keeps z² from overflowing into 0 × inf.
    if p["approximate"] == "tanh":
        t = _gelu_tanh_inner(z)
        zc = np.clip(z, -10.0, 10.0)
        return 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * zc * zc)
    zc = np.clip(z, -40.0, 40.0)
    return 0.5 * (1.0 + _erf(z / _SQRT_2)) + zc * np.exp(-0.5 * zc * zc) * _INV_SQRT_2PI


def _mish_derivative(z: Array, a: Array, p: Params) -> Array:
    t = np.tanh(np.logaddexp(0.0, z))
    return t + z * (1.0 - t * t) * sigmoid(z)


def _silu_derivative(z: Array, a: Array, p: Params) -> Array:
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def _step(z: Array, p: Params) -> Array:
    return np.where(z > 0, 1.0, np.where(z < 0, 0.0, float(p["at_zero"])))


def _elu_negative(z: Array, alpha: float) -> Array:
    return alpha * np.expm1(np.where(z > 0, 0.0, z))  # keeps −0.0 as PyTorch does: ELU(−0) = −0


def _exp(z: Array) -> Array:
    """e^z; past z ≈ 709.78 it is inf, as e^z is too large for a float (the engine reports it)."""
    with np.errstate(over="ignore"):
        return np.exp(z)


def _param(value: float | str) -> Num:
    """A parameter in a formula, written as a person writes it: 0.01, 1, 20."""
    return Num(float(value), _num(value))


def _times(*factors: Expr) -> Product:
    return Product(tuple(factors), "×")


HALF = Frac(Num(1.0), Num(2.0))


def _gelu_formula(z: Expr, zs: tuple[Expr, ...], p: Params) -> Chain:
    if p["approximate"] == "tanh":
        inner = _times(call("sqrt", Frac(Num(2.0), Name("π"))), Sum((z, _times(Num(0.044715), Power(z, Num(3.0))))))
        return Chain((call("GELU", z), _times(HALF, z, Sum((Num(1.0), call("tanh", inner))))), ("≈",))
    return chain(call("GELU", z), _times(z, HALF, Sum((Num(1.0), call("erf", Frac(z, call("sqrt", 2)))))))


def _softplus_formula(z: Expr, zs: tuple[Expr, ...], p: Params) -> Chain:
    beta = p["beta"]
    if beta == 1:
        return chain(call("Softplus", z), call("ln", Sum((Num(1.0), exp(z)))))
    b = _param(beta)
    return chain(call("Softplus", z), _times(Frac(Num(1.0), b), call("ln", Sum((Num(1.0), exp(_times(b, z)))))))


SOFTMAX_TERMS = 6  # a softmax over more neurons writes its denominator as Σⱼ e^zⱼ


def _softmax_formula(z: Expr, zs: tuple[Expr, ...], p: Params) -> Chain:
    """softmax(zᵢ) = e^zᵢ / (e^z₁ + … + e^zₙ): every term up to six neurons, Σⱼ e^zⱼ beyond (or with no layer)."""
    if len(zs) == 1:
        below: Expr = exp(zs[0])
    elif 1 < len(zs) <= SOFTMAX_TERMS:
        below = Sum(tuple(exp(v) for v in zs))
    else:
        below = Sigma("j", exp(Name("z", "j")))
    return chain(call("softmax", z), Frac(exp(z), below))


def _elu_form(z: Expr, alpha: Expr) -> Expr:
    return Sum((call("max", 0, z), call("min", 0, _times(alpha, Sum((exp(z), Neg(Num(1.0))))))))


_ENTRIES = [
    Activation(
        name="identity",
        formula=lambda z, zs, p: Chain((), ()),
        derivative_formula=lambda z, a, d, p: Num(1.0),
        aliases=("linear",),
        summary="a = z",
        forward=lambda z, p: z.copy(),
        derivative=lambda z, a, p: np.ones_like(z),
    ),
    Activation(
        name="sigmoid",
        formula=lambda z, zs, p: chain(call("σ", z), Frac(Num(1.0), Sum((Num(1.0), exp(Neg(z)))))),
        derivative_formula=lambda z, a, d, p: Product((a, Sum((Num(1.0), Neg(a))))),
        aliases=("logistic",),
        summary="σ(z) = 1 / (1 + e^−z)",
        forward=lambda z, p: sigmoid(z),
        derivative=lambda z, a, p: a * (1.0 - a),
    ),
    Activation(
        name="tanh",
        formula=lambda z, zs, p: chain(
            call("tanh", z), Frac(Sum((exp(z), Neg(exp(Neg(z))))), Sum((exp(z), exp(Neg(z)))))
        ),
        derivative_formula=lambda z, a, d, p: Sum((Num(1.0), Neg(Power(a, Num(2.0))))),
        summary="tanh(z) = (e^z − e^−z) / (e^z + e^−z)",
        forward=lambda z, p: np.tanh(z),
        derivative=lambda z, a, p: 1.0 - a * a,
    ),
    Activation(
        name="relu",
        formula=lambda z, zs, p: chain(call("ReLU", z), call("max", 0, z)),
        summary="ReLU(z) = max(0, z)",
        forward=lambda z, p: np.maximum(z, 0.0),  # twice as fast as any form that keeps −0.0 (see tests)
        derivative=lambda z, a, p: (z > 0).astype(np.float64),
    ),
    Activation(
        name="leaky_relu",
        formula=lambda z, zs, p: chain(
            call("LeakyReLU", z), Sum((call("max", 0, z), _times(_param(p["negative_slope"]), call("min", 0, z))))
        ),
        summary="LeakyReLU(z) = max(0, z) + negative_slope × min(0, z)",
        defaults={"negative_slope": 0.01},
        forward=lambda z, p: np.where(z > 0, z, p["negative_slope"] * z),
        derivative=lambda z, a, p: np.where(z > 0, 1.0, float(p["negative_slope"])),
    ),
    Activation(
        name="elu",
        formula=lambda z, zs, p: chain(call("ELU", z), _elu_form(z, _param(p["alpha"]))),
        summary="ELU(z) = max(0, z) + min(0, alpha × (e^z − 1))",
        defaults={"alpha": 1.0},
        forward=lambda z, p: np.where(z > 0, z, _elu_negative(z, float(p["alpha"]))),
        derivative=lambda z, a, p: np.where(z > 0, 1.0, float(p["alpha"]) * np.exp(np.minimum(z, 0.0))),
    ),
    Activation(
        name="selu",
        formula=lambda z, zs, p: chain(
            call("SELU", z), _times(Num(SELU_SCALE, "1.0507"), _elu_form(z, Num(SELU_ALPHA, "1.6733")))
        ),
        summary="SELU(z) = scale × (max(0, z) + min(0, alpha × (e^z − 1))), scale ≈ 1.0507, alpha ≈ 1.6733",
        forward=lambda z, p: SELU_SCALE * np.where(z > 0, z, _elu_negative(z, SELU_ALPHA)),
        derivative=lambda z, a, p: SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0))),
    ),
    Activation(
        name="gelu",
        formula=_gelu_formula,
        summary="GELU(z) = z × Φ(z) = z × ½ × (1 + erf(z / √2)); approximate: tanh for "
        "½ × z × (1 + tanh(√(2/π) × (z + 0.044715 × z³)))",
        defaults={"approximate": "none"},
        choices={"approximate": ("none", "tanh")},
        forward=_gelu,
        derivative=_gelu_derivative,
    ),
    Activation(
        name="softplus",
        formula=_softplus_formula,
        summary="Softplus(z) = (1/beta) × ln(1 + e^(beta × z)); z where beta × z > threshold",
        defaults={"beta": 1.0, "threshold": 20.0},
        forward=lambda z, p: softplus(z, float(p["beta"]), float(p["threshold"])),
        derivative=lambda z, a, p: np.where(
            float(p["beta"]) * z > float(p["threshold"]), 1.0, sigmoid(float(p["beta"]) * z)
        ),
    ),
    Activation(
        name="silu",
        formula=lambda z, zs, p: chain(call("SiLU", z), _times(z, call("σ", z)), Frac(z, Sum((Num(1.0), exp(Neg(z)))))),
        aliases=("swish",),
        summary="SiLU(z) = z × σ(z)",
        forward=lambda z, p: z * sigmoid(z),
        derivative=_silu_derivative,
    ),
    Activation(
        name="mish",
        formula=lambda z, zs, p: chain(call("Mish", z), _times(z, call("tanh", call("ln", Sum((Num(1.0), exp(z))))))),
        summary="Mish(z) = z × tanh(ln(1 + e^z))",
        forward=lambda z, p: z * np.tanh(np.logaddexp(0.0, z)),
        derivative=_mish_derivative,
    ),
    Activation(
        name="softsign",
        formula=lambda z, zs, p: chain(call("Softsign", z), Frac(z, Sum((Num(1.0), call("abs", z))))),
        summary="Softsign(z) = z / (1 + |z|)",
        forward=lambda z, p: z / (1.0 + np.abs(z)),
        derivative=lambda z, a, p: (1.0 / (1.0 + np.abs(z))) ** 2,
    ),
    Activation(
        name="relu6",
        formula=lambda z, zs, p: chain(call("ReLU6", z), call("min", call("max", 0, z), 6)),
        summary="ReLU6(z) = min(max(0, z), 6)",
        forward=lambda z, p: np.minimum(np.maximum(z, 0.0), 6.0),
        derivative=lambda z, a, p: ((z > 0) & (z < 6)).astype(np.float64),
    ),
    Activation(
        name="hard_sigmoid",
        formula=lambda z, zs, p: chain(
            call("HardSigmoid", z), call("min", call("max", 0, Sum((Frac(z, Num(6.0)), HALF))), 1)
        ),
        aliases=("hardsigmoid",),
        summary="HardSigmoid(z) = min(max(0, z / 6 + 1/2), 1)  (PyTorch's; old Keras used 0.2 × z + 0.5)",
        forward=lambda z, p: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
        derivative=lambda z, a, p: np.where((z > -3) & (z < 3), 1.0 / 6.0, 0.0),
    ),
    Activation(
        name="softmax",
        formula=_softmax_formula,
        summary="softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ, over the layer's neurons, per sample",
        elementwise=False,
        forward=lambda z, p: softmax(z),
        derivative=lambda z, a, p: a * (1.0 - a),
    ),
    Activation(
        name="exp",
        formula=lambda z, zs, p: chain(call("exp", z), exp(z)),
        derivative_formula=lambda z, a, d, p: a,
        summary="exp(z) = e^z (scikit-learn's Poisson regressor's output)",
        forward=lambda z, p: _exp(z),
        derivative=lambda z, a, p: a.copy(),
    ),
    Activation(
        name="step",
        formula=lambda z, zs, p: chain(call("step", z)),
        aliases=("heaviside",),
        summary="step(z) = 1 if z > 0, 0 if z < 0, at_zero (default 1) if z = 0",
        defaults={"at_zero": 1.0},
        forward=_step,
        derivative=lambda z, a, p: np.zeros_like(z),
    ),
]

REGISTRY: Mapping[str, Activation] = MappingProxyType({a.name: a for a in _ENTRIES})
ALIASES: Mapping[str, str] = MappingProxyType({alias: a.name for a in _ENTRIES for alias in a.aliases})

# What does not tell two names apart: PyTorch writes LeakyReLU, Keras leaky_relu, a person
# "Leaky ReLU"; all are the one activation.
# Only ASCII letters change case: Unicode's case folding would also take the Kelvin sign
# for a k and the long s for an s, which no one means as a name.
_IGNORED_IN_NAMES = re.compile(r"[-_ ]+")
_ASCII_LOWER = {upper: upper + 32 for upper in range(ord("A"), ord("Z") + 1)}  # for str.translate


def name_key(name: str) -> str:
    """The form in which names are compared: ASCII letters in lower case, without '-', '_' or spaces.

    ``LeakyReLU``, ``leaky-relu`` and ``Leaky ReLU`` all become ``leakyrelu``. Every place
    that matches or suggests an activation's name goes through this, so they agree.
    """
    return _IGNORED_IN_NAMES.sub("", name).translate(_ASCII_LOWER)


def _names_by_key() -> Mapping[str, str]:
    """Each accepted name's key to its activation's name; two names sharing a key is a bug here."""
    by_key: dict[str, str] = {}
    for written, name in [*((a.name, a.name) for a in _ENTRIES), *ALIASES.items()]:
        key = name_key(written)
        if by_key.get(key, name) != name:
            raise RuntimeError(f"the activations {by_key[key]!r} and {name!r} are both written {written!r}")
        by_key[key] = name
    return MappingProxyType(by_key)


_BY_KEY = _names_by_key()


def lookup(name: str) -> Activation | None:
    """The activation called ``name`` (or one of its aliases), in any case, with or without '-', '_', spaces."""
    canonical = _BY_KEY.get(name_key(name))
    return None if canonical is None else REGISTRY[canonical]


def known_names() -> list[str]:
    """Every accepted activation name, aliases included."""
    return sorted([*REGISTRY, *ALIASES])


@record
class BoundActivation:
    """An activation with its parameters filled in, as a layer uses it."""

    activation: Activation
    params: Mapping[str, float | str] = default(dict)

    @classmethod
    def named(cls, name: str, **params: float | str) -> BoundActivation:
        """Build from a name and parameters, with defaults for the ones not given."""
        activation = lookup(name)
        if activation is None:
            raise KeyError(name)
        return cls(activation, MappingProxyType({**activation.defaults, **params}))

    @property
    def name(self) -> str:
        return self.activation.name

    @property
    def changed_params(self) -> dict[str, float | str]:
        """The parameters that differ from the defaults."""
        return {k: v for k, v in self.params.items() if v != self.activation.defaults.get(k)}

    def describe(self) -> str:
        """``leaky_relu(negative_slope=0.2)``, or the bare name with default parameters."""
        changed = self.changed_params
        if not changed:
            return self.name
        inner = ", ".join(f"{k}={_num(v)}" for k, v in changed.items())
        return f"{self.name}({inner})"

    def __call__(self, z: Array) -> Array:
        return self.activation.forward(z, self.params)

    def derivative(self, z: Array, a: Array) -> Array:
        """da/dz elementwise (for softmax, the diagonal of its Jacobian)."""
        return self.activation.derivative(z, a, self.params)

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """∂L/∂z from ∂L/∂a, per sample: the vector-Jacobian product."""
        if self.activation.elementwise:
            return grad_a * self.derivative(z, a)
        # softmax: J = diag(a) − a aᵀ, so Jᵀg = a ⊙ (g − (g·a))
        return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))
