"""Activation registry: values, stability, derivatives and formulas against independent references.

Every expected value here comes from a plain per-scalar reference written with Python's
``math`` module after PyTorch's documented definitions and defaults, or from hand working;
none is copied from ``nncalc.activations`` itself.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from nncalc.activations import ALIASES, REGISTRY, BoundActivation, lookup
from nncalc.expr import Num
from nncalc.notation.formula import LatexWriter, TextWriter

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# --- Independent references: one scalar at a time, PyTorch's definitions and defaults ---------


def ref_identity(x: float) -> float:
    return x


def ref_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def ref_tanh(x: float) -> float:
    return math.tanh(x)


def ref_relu(x: float) -> float:
    return max(0.0, x)


def ref_leaky_relu(x: float, negative_slope: float = 0.01) -> float:
    return max(0.0, x) + negative_slope * min(0.0, x)


def ref_elu(x: float, alpha: float = 1.0) -> float:
    return max(0.0, x) + min(0.0, alpha * math.expm1(x))


def ref_selu(x: float) -> float:
    return SELU_SCALE * (max(0.0, x) + min(0.0, SELU_ALPHA * math.expm1(x)))


def ref_gelu(x: float, approximate: str = "none") -> float:
    if approximate == "tanh":
        return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return x * 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def ref_softplus(x: float, beta: float = 1.0, threshold: float = 20.0) -> float:
    if beta * x > threshold:
        return x
    return math.log1p(math.exp(beta * x)) / beta


def ref_silu(x: float) -> float:
    return x / (1.0 + math.exp(-x))


def ref_mish(x: float) -> float:
    return x * math.tanh(math.log1p(math.exp(x)))


def ref_softsign(x: float) -> float:
    return x / (1.0 + abs(x))


def ref_relu6(x: float) -> float:
    return min(max(0.0, x), 6.0)


def ref_hard_sigmoid(x: float) -> float:
    return min(max(0.0, x / 6.0 + 0.5), 1.0)


def ref_step(x: float, at_zero: float = 1.0) -> float:
    if x > 0:
        return 1.0
    if x < 0:
        return 0.0
    return at_zero


def ref_softmax_row(row: list[float]) -> list[float]:
    exps = [math.exp(v) for v in row]
    total = math.fsum(exps)
    return [e / total for e in exps]


ELEMENTWISE_REFERENCES: dict[str, Callable[..., float]] = {
    "identity": ref_identity,
    "sigmoid": ref_sigmoid,
    "tanh": ref_tanh,
    "relu": ref_relu,
    "leaky_relu": ref_leaky_relu,
    "elu": ref_elu,
    "selu": ref_selu,
    "gelu": ref_gelu,
    "softplus": ref_softplus,
    "silu": ref_silu,
    "mish": ref_mish,
    "softsign": ref_softsign,
    "relu6": ref_relu6,
    "hard_sigmoid": ref_hard_sigmoid,
    "step": ref_step,
    "exp": lambda x: math.exp(x) if x < 709.78 else math.inf,
}

# Every (activation, parameters) combination the tables below run through.
ELEMENTWISE_CASES = [
    ("exp", {}),
    ("identity", {}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0}),
    ("softplus", {"threshold": 5.0}),
    ("softplus", {"beta": 0.5, "threshold": 3.0}),
    ("silu", {}),
    ("mish", {}),
    ("softsign", {}),
    ("relu6", {}),
    ("hard_sigmoid", {}),
    ("step", {}),
    ("step", {"at_zero": 0.5}),
    ("step", {"at_zero": 0.0}),
]
ALL_CASES = [*ELEMENTWISE_CASES, ("softmax", {})]
# exp is e^z: it overflows past z ≈ 709.78 as e^z does, so the limits at |z| = 1000 do not hold for it
BOUNDED_CASES = [case for case in ALL_CASES if case[0] != "exp"]
BOUNDED_ELEMENTWISE = [case for case in ELEMENTWISE_CASES if case[0] != "exp"]


def case_id(case: tuple[str, dict]) -> str:
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


# Negatives, zero, tiny, kinks (0, ±3, 6, softplus thresholds) and large magnitudes.
Z_SPREAD = [
    -100.0, -30.0, -20.5, -6.0, -3.0, -2.5, -1.0, -0.415, -1e-9, 0.0,
    1e-9, 0.415, 1.0, 2.5, 3.0, 6.0, 6.5, 10.0, 10.25, 20.0, 20.5, 30.0, 100.0, 0.5,
]  # fmt: skip


def strict_numpy():
    """Warnings become errors and NumPy raises on overflow, division by zero and invalid values."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


# --- 1. Values against the references ------------------------------------------------------------


def test_every_registered_activation_has_a_reference():
    """The reference table covers exactly the registry, so a new activation cannot go unchecked."""
    assert set(REGISTRY) == {*ELEMENTWISE_REFERENCES, "softmax"}
    assert {name for name, _ in ALL_CASES} == set(REGISTRY)


@pytest.mark.parametrize(("name", "params"), ELEMENTWISE_CASES, ids=[case_id(c) for c in ELEMENTWISE_CASES])
def test_elementwise_matches_reference(name, params):
    """Each elementwise activation agrees with its math-module reference over a spread of z."""
    z = np.array(Z_SPREAD, dtype=np.float64).reshape(2, -1)
    out = BoundActivation.named(name, **params)(z)
    assert out.shape == z.shape
    assert out.dtype == np.float64
    expected = [ELEMENTWISE_REFERENCES[name](x, **params) for x in Z_SPREAD]
    assert out.ravel().tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "params"), ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_forward_leaves_input_untouched(name, params):
    """Applying an activation never modifies z in place."""
    z = np.array([[-2.0, 0.0, 1.5], [3.0, -0.5, 7.0]])
    before = z.copy()
    BoundActivation.named(name, **params)(z)
    np.testing.assert_array_equal(z, before)


@pytest.mark.parametrize(
    ("name", "params", "z", "expected"),
    [
        ("sigmoid", {}, 0.415, 0.6023),
        ("sigmoid", {}, 0.9210287795998838, 0.7153),
        ("sigmoid", {}, 0.6506, 0.6571),
        ("sigmoid", {}, 0.0, 0.5),
        ("tanh", {}, 0.5, 0.4621),
        ("elu", {}, -1.0, -0.6321),  # e^-1 - 1
        ("selu", {}, 1.0, 1.0507),
        ("selu", {}, -1.0, -1.1113),  # 1.0507 × 1.6733 × (e^-1 - 1)
        ("softplus", {}, 0.0, 0.6931),  # ln 2
        ("softplus", {"beta": 2.0}, 1.0, 1.0635),  # ½ ln(1 + e²)
        ("gelu", {}, 1.0, 0.8413),  # Φ(1)
        ("gelu", {"approximate": "tanh"}, 1.0, 0.8412),
        ("silu", {}, 1.0, 0.7311),
        ("mish", {}, 1.0, 0.8651),  # tanh(ln(1 + e))
    ],
)
def test_hand_worked_values(name, params, z, expected):
    """Values worked by hand to four decimal places."""
    out = BoundActivation.named(name, **params)(np.array([[z]]))
    assert out[0, 0] == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(
    ("name", "params", "z", "expected"),
    [
        ("relu", {}, -2.0, 0.0),
        ("relu", {}, 2.5, 2.5),
        ("leaky_relu", {"negative_slope": 0.2}, -2.0, -0.4),
        ("leaky_relu", {}, -100.0, -1.0),
        ("softsign", {}, 3.0, 0.75),
        ("softsign", {}, -1.0, -0.5),
        ("relu6", {}, 7.5, 6.0),
        ("relu6", {}, 4.0, 4.0),
        ("hard_sigmoid", {}, 1.5, 0.75),
        ("hard_sigmoid", {}, -4.0, 0.0),
        ("hard_sigmoid", {}, 4.0, 1.0),
        ("hard_sigmoid", {}, 0.0, 0.5),
        ("softplus", {}, 25.0, 25.0),  # beyond the threshold softplus is z itself
        ("softplus", {"beta": 2.0}, 10.5, 10.5),
        ("step", {}, 0.0, 1.0),
        ("step", {"at_zero": 0.5}, 0.0, 0.5),
        ("step", {}, -1e-12, 0.0),
        ("step", {}, 1e-12, 1.0),
    ],
)
def test_exact_values(name, params, z, expected):
    """Piecewise-linear activations give exact results."""
    out = BoundActivation.named(name, **params)(np.array([[z]]))
    assert out[0, 0] == expected


@pytest.mark.parametrize(
    "row",
    [[0.3, -1.2, 2.0, 0.5], [10.0, 10.0, 10.0, 10.0], [-50.0, 0.0, 50.0, 3.0], [7.0], [-0.415, 0.415]],
)
def test_softmax_matches_reference(row):
    """Softmax of one sample agrees with e^zᵢ / Σⱼ e^zⱼ and sums to 1."""
    out = BoundActivation.named("softmax")(np.array([row]))
    assert out.dtype == np.float64
    assert out[0].tolist() == pytest.approx(ref_softmax_row(row), rel=1e-12)
    assert math.fsum(out[0]) == pytest.approx(1.0, abs=1e-15)


def test_softmax_hand_worked():
    """softmax(1, 2, 3) ≈ (0.0900, 0.2447, 0.6652)."""
    out = BoundActivation.named("softmax")(np.array([[1.0, 2.0, 3.0]]))
    assert out[0].tolist() == pytest.approx([0.0900, 0.2447, 0.6652], abs=5e-5)


def test_softmax_is_per_sample_never_across_the_batch():
    """A 2-sample batch gives exactly the rows each sample gives alone, and every row sums to 1."""
    act = BoundActivation.named("softmax")
    first, second = [0.3, -1.2, 2.0], [1000.0, 5.0, -7.0]
    batch = act(np.array([first, second]))
    assert batch.shape == (2, 3)
    np.testing.assert_array_equal(batch[0], act(np.array([first]))[0])
    np.testing.assert_array_equal(batch[1], act(np.array([second]))[0])
    np.testing.assert_allclose(batch.sum(axis=1), [1.0, 1.0], rtol=0, atol=1e-15)


def test_softmax_of_identical_samples_does_not_split_across_them():
    """Two identical samples each get the full distribution, not half of it."""
    row = [0.5, -0.25]
    batch = BoundActivation.named("softmax")(np.array([row, row]))
    for got in batch:
        assert got.tolist() == pytest.approx(ref_softmax_row(row), rel=1e-12)


# --- 2. Numerical stability ------------------------------------------------------------------------


def test_sigmoid_saturates_exactly_without_warnings():
    """σ(−1000) is exactly 0.0 and σ(1000) exactly 1.0, with no overflow warning."""
    with warnings.catch_warnings(), strict_numpy():
        warnings.simplefilter("error")
        out = BoundActivation.named("sigmoid")(np.array([[-1000.0, 1000.0], [-1e300, 1e300]]))
    assert out.dtype == np.float64
    assert out.tolist() == [[0.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ([1000.0, -1000.0], [1.0, 0.0]),
        ([-1000.0, 1000.0], [0.0, 1.0]),
        ([1000.0, 1000.0], [0.5, 0.5]),
        ([1000.0, 0.0, -1000.0], [1.0, 0.0, 0.0]),
        ([-1000.0, -1000.0], [0.5, 0.5]),
        ([1e300, -1e300], [1.0, 0.0]),
    ],
)
def test_softmax_saturates_exactly_without_warnings(row, expected):
    """Softmax at z = ±1000 gives exact 0.0/1.0 (or an exact even split), with no warning."""
    with warnings.catch_warnings(), strict_numpy():
        warnings.simplefilter("error")
        out = BoundActivation.named("softmax")(np.array([row]))
    assert out.dtype == np.float64
    assert out[0].tolist() == expected


EXTREME_Z = np.array([[-1e300, -1000.0], [1000.0, 1e300]])


@pytest.mark.parametrize(("name", "params"), BOUNDED_CASES, ids=[case_id(c) for c in BOUNDED_CASES])
def test_extreme_inputs_are_finite_without_warnings(name, params):
    """Every activation at ±1000 and ±1e300 gives finite float64 output and raises no warning."""
    with warnings.catch_warnings(), strict_numpy():
        warnings.simplefilter("error")
        out = BoundActivation.named(name, **params)(EXTREME_Z)
    assert out.dtype == np.float64
    assert out.shape == EXTREME_Z.shape
    assert np.isfinite(out).all()


def _limit(name: str, x: float, **p) -> float:
    """What each activation tends to for large |x|, worked from its definition."""
    positive = x > 0
    if name == "identity":
        return x
    if name in ("sigmoid", "hard_sigmoid", "step"):
        return 1.0 if positive else 0.0
    if name == "tanh":
        return 1.0 if positive else -1.0
    if name in ("relu", "gelu", "softplus", "silu", "mish"):
        return x if positive else 0.0
    if name == "leaky_relu":
        return x if positive else p.get("negative_slope", 0.01) * x
    if name == "elu":
        return x if positive else -p.get("alpha", 1.0)
    if name == "selu":
        return SELU_SCALE * x if positive else -SELU_SCALE * SELU_ALPHA
    if name == "relu6":
        return 6.0 if positive else 0.0
    if name == "softsign":
        return x / (1.0 + abs(x))
    raise AssertionError(name)


@pytest.mark.parametrize(("name", "params"), BOUNDED_ELEMENTWISE, ids=[case_id(c) for c in BOUNDED_ELEMENTWISE])
def test_extreme_inputs_reach_their_limits(name, params):
    """At ±1000 and ±1e300 each activation gives its limiting value (warnings judged separately above)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = BoundActivation.named(name, **params)(EXTREME_Z)
    expected = [_limit(name, x, **params) for x in EXTREME_Z.ravel()]
    assert out.ravel().tolist() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "params"), BOUNDED_CASES, ids=[case_id(c) for c in BOUNDED_CASES])
def test_extreme_inputs_give_finite_derivatives_without_warnings(name, params):
    """The derivative and backward pass at ±1000 and ±1e300 are finite float64 with no warning."""
    act = BoundActivation.named(name, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the forward pass is judged by its own test above
        a = act(EXTREME_Z)
    with warnings.catch_warnings(), strict_numpy():
        warnings.simplefilter("error")
        d = act.derivative(EXTREME_Z, a)
        back = act.backward(EXTREME_Z, a, np.ones_like(EXTREME_Z))
    assert d.dtype == np.float64
    assert back.dtype == np.float64
    assert np.isfinite(d).all()
    assert np.isfinite(back).all()


# --- 3. Derivatives ----------------------------------------------------------------------------------

# Away from every kink: 0 (relu, leaky, elu, selu, step, relu6), 6 (relu6), ±3 (hard_sigmoid)
# and beta·z = threshold (softplus: 20, 10 for beta 2, 5 for threshold 5, 6 for beta ½ threshold 3).
Z_SMOOTH = [-7.5, -4.5, -2.2, -0.7, -0.3, 0.25, 0.8, 1.9, 2.7, 4.1, 7.3, 12.5, -15.0, 25.0]


def central_difference(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray) -> np.ndarray:
    """(f(z + h) − f(z − h)) / 2h elementwise, with h ≈ 1e-6 scaled to |z|."""
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    up, down = z + h, z - h
    return (f(up) - f(down)) / (up - down)


@pytest.mark.parametrize(("name", "params"), ELEMENTWISE_CASES, ids=[case_id(c) for c in ELEMENTWISE_CASES])
def test_derivative_matches_finite_difference(name, params):
    """derivative(z, a) agrees with a central finite difference of the forward function."""
    act = BoundActivation.named(name, **params)
    z = np.array(Z_SMOOTH).reshape(2, -1)
    analytic = act.derivative(z, act(z))
    assert analytic.shape == z.shape
    assert analytic.dtype == np.float64
    np.testing.assert_allclose(analytic, central_difference(act, z), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "params"),
    [("tanh", {}), ("leaky_relu", {"negative_slope": 0.2}), ("gelu", {"approximate": "tanh"}), ("softplus", {})],
)
def test_elementwise_backward_is_gradient_times_derivative(name, params):
    """backward(z, a, g) of an elementwise activation is g times the finite-difference slope."""
    act = BoundActivation.named(name, **params)
    z = np.array([[-1.3, 0.4, 2.2], [0.9, -0.6, 3.7]])
    g = np.array([[0.5, -2.0, 1.25], [-0.75, 3.0, 0.1]])
    got = act.backward(z, act(z), g)
    np.testing.assert_allclose(got, g * central_difference(act, z), rtol=1e-6, atol=1e-6)


def softmax_row_jacobian(row: np.ndarray) -> np.ndarray:
    """J[i, j] = ∂aᵢ/∂zⱼ of one sample by central differences of the registry's softmax."""
    act = BoundActivation.named("softmax")
    n = row.size
    jac = np.empty((n, n))
    for j in range(n):
        h = 1e-6 * max(1.0, abs(row[j]))
        up, down = row.copy(), row.copy()
        up[j] += h
        down[j] -= h
        jac[:, j] = (act(up[None, :])[0] - act(down[None, :])[0]) / (up[j] - down[j])
    return jac


SOFTMAX_Z = np.array([[0.3, -1.2, 2.0, 0.5], [-0.4, 0.1, 0.0, 3.0], [5.0, 5.0, -5.0, 1.0]])


def test_softmax_backward_is_vector_jacobian_product():
    """backward(z, a, g) equals gᵀJ per sample, J from finite differences of the row function."""
    act = BoundActivation.named("softmax")
    g = np.array([[0.7, -1.1, 0.25, 2.0], [1.5, 0.3, -0.6, -0.2], [-1.0, 0.0, 4.0, 0.5]])
    got = act.backward(SOFTMAX_Z, act(SOFTMAX_Z), g)
    assert got.shape == SOFTMAX_Z.shape
    for sample in range(SOFTMAX_Z.shape[0]):
        expected = g[sample] @ softmax_row_jacobian(SOFTMAX_Z[sample])
        np.testing.assert_allclose(got[sample], expected, rtol=1e-6, atol=1e-6)


def test_softmax_derivative_is_jacobian_diagonal():
    """derivative(z, a) for softmax is the diagonal ∂aᵢ/∂zᵢ of its Jacobian."""
    act = BoundActivation.named("softmax")
    got = act.derivative(SOFTMAX_Z, act(SOFTMAX_Z))
    for sample in range(SOFTMAX_Z.shape[0]):
        expected = np.diag(softmax_row_jacobian(SOFTMAX_Z[sample]))
        np.testing.assert_allclose(got[sample], expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "params", "z", "expected"),
    [
        ("relu", {}, 0.0, 0.0),
        ("leaky_relu", {}, 0.0, 0.01),
        ("leaky_relu", {"negative_slope": 0.2}, 0.0, 0.2),
        ("relu6", {}, 0.0, 0.0),
        ("relu6", {}, 6.0, 0.0),
        ("hard_sigmoid", {}, -3.0, 0.0),
        ("hard_sigmoid", {}, 3.0, 0.0),
        ("elu", {"alpha": 0.5}, 0.0, 0.5),
        ("selu", {}, 0.0, SELU_SCALE * SELU_ALPHA),
        ("step", {}, 0.0, 0.0),
        ("step", {"at_zero": 0.5}, 0.0, 0.0),
    ],
)
def test_derivative_at_kinks_follows_pytorch(name, params, z, expected):
    """At a kink the derivative takes PyTorch's convention (e.g. relu'(0) = 0, leaky_relu'(0) = slope)."""
    act = BoundActivation.named(name, **params)
    zz = np.array([[z]])
    assert act.derivative(zz, act(zz))[0, 0] == pytest.approx(expected, rel=1e-12, abs=0)


# --- 4. Registry integrity, names and formulas ---------------------------------------------------


def test_registry_keys_are_the_entry_names():
    """Each registry key is the name its entry carries, and every alias points at a real entry."""
    for key, entry in REGISTRY.items():
        assert entry.name == key
    for alias, target in ALIASES.items():
        assert target in REGISTRY
        assert alias not in REGISTRY


@pytest.mark.parametrize(
    ("alias", "name"),
    [("linear", "identity"), ("swish", "silu"), ("logistic", "sigmoid"), ("hardsigmoid", "hard_sigmoid")],
)
def test_aliases_resolve(alias, name):
    """An alias looks up the same entry as its canonical name."""
    assert lookup(alias) is REGISTRY[name]
    assert BoundActivation.named(alias).name == name


def test_unknown_name():
    """An unknown name is None from lookup and a KeyError from BoundActivation.named."""
    assert lookup("no_such_activation") is None
    with pytest.raises(KeyError):
        BoundActivation.named("no_such_activation")


@pytest.mark.parametrize(("name", "params"), ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
@pytest.mark.parametrize("z", ["0.415", "-1.5"])
def test_text_and_latex_mention_the_number(name, params, z):
    """The formula, written as plain text and as LaTeX, writes out the number passed in (identity's
    is empty: a page writes a = z)."""
    act = BoundActivation.named(name, **params)
    zs = [z, "2.25", "-0.75"]
    if name == "identity":
        assert REGISTRY[name].formula(Num(float(z), z), (), act.params).parts == ()
        return
    text, latex = written(act, z, zs)
    assert z.replace("-", "−") in text  # plain text writes the minus sign
    assert z in latex


def written(act: BoundActivation, z: str, zs: list[str] | None = None) -> tuple[str, str]:
    """``act``'s formula applied to the written number ``z`` (and the layer's ``zs``), as text and LaTeX."""
    forms = act.activation.formula(Num(float(z), z), tuple(Num(float(v), v) for v in zs or ()), act.params)
    return TextWriter().chain(forms), LatexWriter().chain(forms)


@pytest.mark.parametrize(
    ("name", "params", "in_text", "in_latex"),
    [
        ("sigmoid", {}, "σ", r"\sigma"),
        ("tanh", {}, "tanh", r"\tanh"),
        ("relu", {}, "max", r"\max"),
        ("leaky_relu", {"negative_slope": 0.2}, "0.2", "0.2"),
        ("leaky_relu", {}, "0.01", "0.01"),
        ("elu", {"alpha": 0.5}, "0.5", "0.5"),
        ("gelu", {}, "erf", "erf"),
        ("gelu", {"approximate": "tanh"}, "tanh", "tanh"),
        ("mish", {}, "tanh", "tanh"),
        ("relu6", {}, "6", "6"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_text_and_latex_show_the_formula(name, params, in_text, in_latex):
    """The written formula names its function and shows non-trivial parameters."""
    text, latex = written(BoundActivation.named(name, **params), "0.415")
    assert in_text in text
    assert in_latex in latex


def test_sigmoid_text_example():
    """σ applied to 0.415 is written with σ and the number."""
    text, _ = written(BoundActivation.named("sigmoid"), "0.415")
    assert "σ" in text
    assert "0.415" in text


def test_softmax_text_lists_the_whole_layer():
    """Softmax's formula of one neuron shows every z of the layer in its denominator."""
    zs = ["0.5", "1.25", "-2"]
    text, latex = written(BoundActivation.named("softmax"), zs[0], zs)
    for z in zs:
        assert z.replace("-", "−") in text
        assert z in latex


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("sigmoid", {}, "sigmoid"),
        ("swish", {}, "silu"),
        ("leaky_relu", {}, "leaky_relu"),
        ("leaky_relu", {"negative_slope": 0.01}, "leaky_relu"),
        ("leaky_relu", {"negative_slope": 0.2}, "leaky_relu(negative_slope=0.2)"),
        ("elu", {"alpha": 0.5}, "elu(alpha=0.5)"),
        ("gelu", {"approximate": "none"}, "gelu"),
        ("gelu", {"approximate": "tanh"}, "gelu(approximate=tanh)"),
        ("softplus", {"beta": 1.0, "threshold": 20.0}, "softplus"),
        ("softplus", {"beta": 2.0}, "softplus(beta=2)"),
        ("softplus", {"beta": 2.0, "threshold": 10.0}, "softplus(beta=2, threshold=10)"),
        ("step", {"at_zero": 0.5}, "step(at_zero=0.5)"),
    ],
)
def test_describe_shows_only_non_default_parameters(name, params, expected):
    """describe() is the bare name with default parameters, else name(param=value, ...)."""
    assert BoundActivation.named(name, **params).describe() == expected


@pytest.mark.parametrize(
    ("name", "defaults"),
    [
        ("leaky_relu", {"negative_slope": 0.01}),
        ("elu", {"alpha": 1.0}),
        ("gelu", {"approximate": "none"}),
        ("softplus", {"beta": 1.0, "threshold": 20.0}),
        ("step", {"at_zero": 1.0}),
    ],
)
def test_defaults_are_pytorchs(name, defaults):
    """Parameters left out take PyTorch's defaults."""
    assert dict(BoundActivation.named(name).params) == defaults


def test_exp_overflows_where_e_to_the_z_does_and_is_reported():
    """exp(709) is finite, exp(710) is past the largest float: the forward pass names the overflow."""
    from nncalc.errors import ComputationError
    from nncalc.loader import parse_network
    from nncalc.pipeline import check_finite

    act = BoundActivation.named("exp")
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        np.exp(np.array([710.0]))  # what an unguarded e^z does
    out = act(np.array([[-1e300, 709.0]]))
    assert out[0, 0] == 0.0 and out[0, 1] == math.exp(709.0)
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1\n    biases: 0\n    activation: exp\n")
    from nncalc.engine import forward

    with pytest.raises(ComputationError, match="a is an overflow"):
        check_finite(net, forward(net, np.array([[710.0]])), allow=False)
