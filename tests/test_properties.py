"""Property-based tests (hypothesis) of the engine, the loader and the reading of numbers.

- The engine against an independent reference written per scalar with the math module,
  for every activation in the registry, on random networks loaded from YAML text.
- Softmax is per sample: a batch gives, row for row, what each sample gives alone.
- Loader round trip: random valid documents (awkward names, every way of writing weights,
  fractions) load as exactly the numbers and names written.
- Broken documents load or raise ``InputError`` with located problems, never anything else.
- Numbers: ``repr`` round trips, random text is refused cleanly, and what Python's float()
  accepts but nncalc must refuse is refused.

Deterministic: every test runs under a database-free, derandomized profile. Bugs found here
were fixed; the tests that found them stay as regressions.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from nncalc.activations import ALIASES, REGISTRY, BoundActivation
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.inputs import parse_sample, split_values
from nncalc.loader import parse_network
from nncalc.numbers import NotANumber, parse_number
from tests.conftest import NETWORK_CONFIGS as NETWORK_PATHS
from tests.conftest import ROOT


def _fuzz_target():
    """fuzz/fuzz_loader.py, the loader's contract in one place (shared with the fuzzer)."""
    name = "nncalc_fuzz_loader"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / "fuzz_loader.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fuzz = _fuzz_target()

settings.register_profile(
    "nncalc-properties",
    database=None,
    derandomize=True,
    deadline=5000,  # ms; an input that takes this long is a finding (a real hang is cut by time_limit)
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("nncalc-properties")
SOURCE = "net.yaml"
EPS = sys.float_info.epsilon
RTOL = 1e-9


# == the reference: one neuron at a time, with the math module ===============================
#
# Definitions and defaults are PyTorch's (README, "Activations"); the constants are written
# here, not imported. Each entry also knows a Lipschitz bound and where it jumps, so the
# comparison can allow for the different order in which the engine sums (see _tolerances).


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _log1p_exp(x: float) -> float:
    """ln(1 + e^x), without overflow."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _gelu(z: float, p) -> float:
    if p["approximate"] == "tanh":
        return 0.5 * z * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))
    return z * 0.5 * math.erfc(-z / math.sqrt(2.0))  # z Φ(z)


def _softplus(z: float, p) -> float:
    beta, threshold = p["beta"], p["threshold"]
    return z if beta * z > threshold else _log1p_exp(beta * z) / beta


def _softplus_jump(z: float, p, err: float) -> bool:
    return abs(p["beta"] * z - p["threshold"]) <= abs(p["beta"]) * err + 4 * EPS * abs(p["threshold"])


TORCH_SELU_SCALE = 1.0507009873554804934193349852946
TORCH_SELU_ALPHA = 1.6732632423543772848170429916717
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@dataclass(frozen=True)
class Ref:
    f: Callable[[float, dict], float]
    lipschitz: Callable[[dict], float]
    defaults: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # parameter -> strategy of sane values
    jump: Callable[[float, dict, float], bool] = lambda z, p, err: False  # z within err of a jump
    slack: float = 0.0  # absolute evaluation slack, times |z| (cancellation inside the formula)


REFERENCE: dict[str, Ref] = {
    "identity": Ref(lambda z, p: z, lambda p: 1.0),
    "sigmoid": Ref(lambda z, p: _sigmoid(z), lambda p: 0.25),
    "tanh": Ref(lambda z, p: math.tanh(z), lambda p: 1.0),
    "relu": Ref(lambda z, p: z if z > 0 else 0.0, lambda p: 1.0),
    "leaky_relu": Ref(
        lambda z, p: z if z > 0 else p["negative_slope"] * z,
        lambda p: max(1.0, abs(p["negative_slope"])),
        {"negative_slope": 0.01},
        {"negative_slope": st.floats(-2, 2)},
    ),
    "elu": Ref(
        lambda z, p: z if z > 0 else p["alpha"] * math.expm1(z),
        lambda p: max(1.0, abs(p["alpha"])),
        {"alpha": 1.0},
        {"alpha": st.floats(0, 3)},
    ),
    "selu": Ref(
        lambda z, p: TORCH_SELU_SCALE * (z if z > 0 else TORCH_SELU_ALPHA * math.expm1(z)),
        lambda p: TORCH_SELU_SCALE * TORCH_SELU_ALPHA,
    ),
    "gelu": Ref(
        _gelu,
        lambda p: 1.2,
        {"approximate": "none"},
        {"approximate": st.sampled_from(["none", "tanh"])},
        slack=4 * EPS,  # ½ z (1 + erf(z/√2)) loses the tail to cancellation; the reference uses erfc
    ),
    "softplus": Ref(
        _softplus,
        lambda p: 1.0,
        {"beta": 1.0, "threshold": 20.0},
        {"beta": st.floats(0.25, 5) | st.floats(-3, -0.25), "threshold": st.floats(0.5, 30)},
        jump=_softplus_jump,
    ),
    "silu": Ref(lambda z, p: z * _sigmoid(z), lambda p: 1.2),
    "mish": Ref(lambda z, p: z * math.tanh(_log1p_exp(z)), lambda p: 1.2),
    "softsign": Ref(lambda z, p: z / (1.0 + abs(z)), lambda p: 1.0),
    "exp": Ref(lambda z, p: math.exp(z) if z < 709.78 else math.inf, lambda p: 1.0),
    "relu6": Ref(lambda z, p: min(max(0.0, z), 6.0), lambda p: 1.0),
    "hard_sigmoid": Ref(lambda z, p: 0.0 if z <= -3 else 1.0 if z >= 3 else z / 6.0 + 0.5, lambda p: 1 / 6),
    "softmax": Ref(lambda z, p: math.nan, lambda p: 1.0),  # over the layer: see reference_layer
    "step": Ref(
        lambda z, p: 1.0 if z > 0 else 0.0 if z < 0 else p["at_zero"],
        lambda p: 0.0,
        {"at_zero": 1.0},
        {"at_zero": st.floats(-2, 2)},
        jump=lambda z, p, err: err > 0 and abs(z) <= err,
    ),
}
# The aliases README.md documents, name -> what it means.
DOCUMENTED_ALIASES = {
    "linear": "identity",
    "logistic": "sigmoid",
    "swish": "silu",
    "hardsigmoid": "hard_sigmoid",
    "heaviside": "step",
}


def test_the_reference_covers_every_activation():
    """A new activation in the registry needs its reference formula here."""
    assert set(REFERENCE) == set(REGISTRY)
    assert dict(ALIASES) == DOCUMENTED_ALIASES


def reference_layer(weights, biases, a_prev, err_prev, activation: str, params: dict):
    """One layer for one sample: z, a and bounds on how far the engine's may be from them.

    The bounds: the engine sums in another order (one BLAS product per batch), so its z may
    differ by a few units of rounding of the terms' magnitudes, plus what the previous layer
    already differed by, times the weights; a differs by at most the activation's Lipschitz
    bound times that, plus a few units of rounding. Within reach of a jump the bound is inf.
    """
    n = len(a_prev)
    zs, z_errs = [], []
    for row, bias in zip(weights, biases, strict=True):
        terms = [w * x for w, x in zip(row, a_prev, strict=True)]
        magnitude = math.fsum(abs(t) for t in terms) + abs(bias)
        err = math.fsum(abs(w) * e for w, e in zip(row, err_prev, strict=True) if w != 0)
        if magnitude > 0:
            err += 2 * (n + 2) * EPS * magnitude + 1e-300
        zs.append(math.fsum([*terms, bias]))
        z_errs.append(err)
    if activation == "softmax":
        top = max(zs)
        exps = [math.exp(z - top) for z in zs]
        total = math.fsum(exps)
        a = [e / total for e in exps]
        a_errs = [max(z_errs) + (8 + 2 * n) * EPS * v for v in a]
        return zs, z_errs, a, a_errs
    ref = REFERENCE[activation]
    a, a_errs = [], []
    for z, err in zip(zs, z_errs, strict=True):
        value = ref.f(z, params)
        a.append(value)
        if ref.jump(z, params, err):
            a_errs.append(math.inf)
        else:
            a_errs.append(ref.lipschitz(params) * err + 16 * EPS * abs(value) + ref.slack * abs(z))
    return zs, z_errs, a, a_errs


# == writing networks as YAML text ===========================================================


@dataclass(frozen=True)
class Spec:
    """An activation as written: the name used (maybe an alias), the parameters given."""

    written: str
    name: str
    given: dict
    as_mapping: bool

    @property
    def params(self) -> dict:
        return {**REFERENCE[self.name].defaults, **self.given}

    def yaml(self) -> str:
        if not self.as_mapping and not self.given:
            return self.written
        texts = {k: v if isinstance(v, str) else repr(v) for k, v in self.given.items()}
        return "{" + ", ".join([f"name: {self.written}", *(f"{k}: {t}" for k, t in texts.items())]) + "}"


# Strategies are built once: building them inside a composite costs more than drawing from them.
BOOLS = st.booleans()
_ACTIVATION_NAMES = st.sampled_from(sorted(REFERENCE))
_SPELLINGS = {n: st.sampled_from([n, *(a for a, m in DOCUMENTED_ALIASES.items() if m == n)]) for n in REFERENCE}


@st.composite
def specs(draw, name: str | None = None):
    """A random activation (or ``name``), by its name or an alias, with sane values for some of its parameters."""
    name = name or draw(_ACTIVATION_NAMES)
    written = draw(_SPELLINGS[name])
    given = {}
    for parameter, sane in REFERENCE[name].params.items():
        if draw(BOOLS):
            given[parameter] = draw(sane)
    return Spec(written, name, given, draw(BOOLS))


FINITE = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
VALUES = st.one_of(FINITE, st.integers(-3, 3).map(float), st.just(0.0))


def _row(values) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


@dataclass
class Case:
    n_inputs: int
    layers: list  # (weights rows, biases, Spec or None)
    default: Spec | None
    batch: list

    def yaml(self) -> str:
        lines = [f"inputs: {self.n_inputs}"]
        if self.default is not None:
            lines.append(f"activation: {self.default.yaml()}")
        lines.append("layers:")
        for weights, biases, spec in self.layers:
            lines.append(f"  - weights: [{', '.join(_row(r) for r in weights)}]")
            lines.append(f"    biases: {_row(biases)}")
            if spec is not None:
                lines.append(f"    activation: {spec.yaml()}")
        return "\n".join(lines) + "\n"

    def activation(self, index: int) -> tuple[str, dict]:
        spec = self.layers[index][2] or self.default
        return (spec.name, spec.params) if spec else ("sigmoid", {})


@st.composite
def cases(draw, values=VALUES, activations=None, max_layers=4):
    n_inputs = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=max_layers))
    spec_of = activations if activations is not None else st.none() | specs()
    default = draw(st.none() | specs()) if activations is None else None
    layers, fan_in = [], n_inputs
    for index, size in enumerate(sizes):
        weights = draw(st.lists(st.lists(values, min_size=fan_in, max_size=fan_in), min_size=size, max_size=size))
        biases = draw(st.lists(values, min_size=size, max_size=size))
        spec = draw(spec_of(index, len(sizes)) if callable(spec_of) else spec_of)
        layers.append((weights, biases, spec))
        fan_in = size
    batch = draw(st.lists(st.lists(values, min_size=n_inputs, max_size=n_inputs), min_size=1, max_size=6))
    return Case(n_inputs, layers, default, batch)


# == the engine against the reference ========================================================


@settings(PROFILE, max_examples=150)
@given(cases())
def test_engine_matches_the_reference(case: Case):
    """Every z and a of every layer and sample, within RTOL plus the bound of summing in another order."""
    text = case.yaml()
    network = parse_network(text, SOURCE)
    trace = forward(network, np.array(case.batch, dtype=np.float64))
    assert len(trace.layers) == len(case.layers)
    for s, sample in enumerate(case.batch):
        a, errs = [float(v) for v in sample], [0.0] * len(sample)
        for i, (weights, biases, _) in enumerate(case.layers):
            name, params = case.activation(i)
            z, z_errs, a, errs = reference_layer(weights, biases, a, errs, name, params)
            got = trace.layers[i]
            assert got.z.shape == got.a.shape == (len(case.batch), len(biases))
            for j in range(len(biases)):
                for what, mine, bound, theirs in (
                    ("z", z[j], z_errs[j], got.z[s, j]),
                    ("a", a[j], errs[j], got.a[s, j]),
                ):
                    if math.isinf(mine) and float(theirs) == mine:  # e^e^6 overflows in both, alike
                        continue
                    assert abs(float(theirs) - mine) <= RTOL * abs(mine) + bound, (
                        f"layer {i + 1} ({name} {params}), sample {s + 1}, neuron {j + 1}: {what} = {float(theirs)!r}, "
                        f"the reference gives {mine!r} (allowed {RTOL * abs(mine) + bound:.3g})\n{text}"
                    )


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_each_activation_with_its_defaults(name):
    """Each activation by name, with PyTorch's default parameters, on a fixed grid of z (the biases)."""
    zs = [-40.0, -7.5, -3.0, -1.0, -0.25, -0.0, 0.0, 0.25, 1.0, 3.0, 5.9, 7.5, 20.0, 20.5, 40.0]
    text = f"inputs: 1\nlayers:\n  - weights: [{', '.join('[0.0]' for _ in zs)}]\n    biases: {_row(zs)}\n"
    text += f"    activation: {name}\n"
    got = forward(parse_network(text, SOURCE), np.array([[0.0]])).layers[0]
    assert list(got.z[0]) == zs
    _, _, expected, errs = reference_layer([[0.0]] * len(zs), zs, [0.0], [0.0], name, REFERENCE[name].defaults)
    for z, mine, bound, theirs in zip(zs, expected, errs, got.a[0], strict=True):
        assert abs(float(theirs) - mine) <= RTOL * abs(mine) + bound, f"{name}({z}) = {float(theirs)!r}, not {mine!r}"


_ZS = st.one_of(st.floats(-60, 60), st.sampled_from([0.0, -0.0, 3.0, -3.0, 6.0, 20.0, 20.5, -745.0, 710.0]))


@pytest.mark.parametrize("name", sorted(REFERENCE))
@settings(PROFILE, max_examples=25)
@given(data=st.data())
def test_each_activation_matches_the_reference(name, data):
    """Every activation on its own, with random parameters: z is given exactly (as the biases)."""
    spec = data.draw(specs(name))
    zs = data.draw(st.lists(_ZS, min_size=1, max_size=6))
    text = f"inputs: 1\nlayers:\n  - weights: [{', '.join('[0.0]' for _ in zs)}]\n    biases: {_row(zs)}\n"
    text += f"    activation: {spec.yaml()}\n"
    got = forward(parse_network(text, SOURCE), np.array([[1.0]])).layers[0]
    assert list(got.z[0]) == zs  # 0 × 1 + b is b (up to the sign of a zero)
    _, _, expected, errs = reference_layer([[0.0]] * len(zs), zs, [1.0], [0.0], name, spec.params)
    for z, mine, bound, theirs in zip(zs, expected, errs, got.a[0], strict=True):
        if math.isinf(mine) and float(theirs) == mine:  # exp past 709.78 overflows, as e^z does
            continue
        assert abs(float(theirs) - mine) <= RTOL * abs(mine) + bound, (
            f"{spec.yaml()}({z!r}) = {float(theirs)!r}, the reference gives {mine!r}"
        )


# == softmax is per sample ===================================================================

# Integer weights, biases and inputs, and activations that keep integers integral, make every
# z before the softmax exact, whatever order the sums are taken in: then a batch and a sample
# alone must agree bit for bit, and only a softmax that looked across the batch could differ.
_INTEGRAL = st.sampled_from(["identity", "relu", "relu6"]).map(lambda n: Spec(n, n, {}, False))
_SOFTMAX = st.just(Spec("softmax", "softmax", {}, False))


def _softmax_last(index: int, count: int):
    return _SOFTMAX if index == count - 1 else _INTEGRAL


@settings(PROFILE, max_examples=60)
@given(cases(values=st.integers(-20, 20).map(float), activations=_softmax_last, max_layers=3))
def test_softmax_of_a_batch_is_each_sample_alone(case: Case):
    network = parse_network(case.yaml(), SOURCE)
    batch = np.array(case.batch, dtype=np.float64)
    together = forward(network, batch).output
    for s in range(len(case.batch)):
        alone = forward(network, batch[s : s + 1]).output
        assert together[s].tobytes() == alone[0].tobytes(), (together[s], alone[0])
        assert math.isclose(math.fsum(together[s]), 1.0, rel_tol=1e-12)


@settings(PROFILE, max_examples=60)
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.lists(st.lists(st.floats(-1000, 1000), min_size=n, max_size=n), min_size=1, max_size=6)
    )
)
def test_softmax_rows_do_not_depend_on_other_rows(rows):
    """The activation itself: each row of a batch exactly as that row alone, and as the reference."""
    softmax = BoundActivation.named("softmax")
    together = softmax(np.array(rows))
    for s, row in enumerate(rows):
        assert together[s].tobytes() == softmax(np.array([row])).tobytes()
        _, _, expected, errs = reference_layer(
            np.eye(len(row)).tolist(), [0.0] * len(row), row, [0.0] * len(row), "softmax", {}
        )
        for mine, bound, theirs in zip(expected, errs, together[s], strict=True):
            assert abs(float(theirs) - mine) <= RTOL * mine + bound


@settings(PROFILE, max_examples=60)
@given(cases(activations=st.none() | specs()))
def test_forward_of_a_batch_is_each_sample_alone_exactly(case: Case):
    """Bit for bit, every layer: a sample's numbers do not depend on the batch it is in."""
    network = parse_network(case.yaml(), SOURCE)
    batch = np.array(case.batch, dtype=np.float64)
    together = forward(network, batch)
    for s in range(len(case.batch)):
        alone = forward(network, batch[s : s + 1])
        for layer_together, layer_alone in zip(together.layers, alone.layers, strict=True):
            assert layer_together.z[s].tobytes() == layer_alone.z[0].tobytes()
            assert layer_together.a[s].tobytes() == layer_alone.a[0].tobytes()


@st.composite
def wide_single_neuron_cases(draw):
    n = draw(st.integers(8, 16))
    weights = [draw(st.lists(FINITE, min_size=n, max_size=n))]
    batch = draw(st.lists(st.lists(FINITE, min_size=n, max_size=n), min_size=3, max_size=6))
    return Case(n, [(weights, [0.0], Spec("identity", "identity", {}, False))], None, batch)


@settings(PROFILE, max_examples=50)
@example(
    Case(
        8,
        [([[-0.93, -0.6, -0.31, -0.06, 0.81, 0.39, -0.32, -0.97]], [0.0], Spec("identity", "identity", {}, False))],
        None,
        [
            [-0.68, 0.99, -0.08, 0.38, -0.89, -0.93, 0.69, 0.18],
            [-0.38, -0.37, -0.82, -0.65, -0.95, 0.68, -0.07, -0.75],
            [0.48, -0.61, -0.88, 0.2, 0.79, -0.95, 0.61, -0.62],
            [-0.81, -0.96, -0.41, 0.45, -0.01, 0.71, -0.57, -0.37],
        ],
    )
)
@given(wide_single_neuron_cases())
def test_a_wide_single_neuron_layer_is_the_same_in_any_batch(case: Case):
    test_forward_of_a_batch_is_each_sample_alone_exactly.hypothesis.inner_test(case)


# == the loader: round trip ==================================================================


class Raw(str):
    """A scalar already written as YAML text."""


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LINE_BREAKS = "\r\n\x85\u2028\u2029"


def _printable(c: str) -> bool:
    """Characters YAML lets stand for themselves inside quotes (line breaks would fold)."""
    o = ord(c)
    return (
        0x20 <= o <= 0x7E
        or (0xA0 <= o <= 0xD7FF and c not in _LINE_BREAKS)
        or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)
        or o >= 0x10000
    )


def quoted(text: str, style: str) -> Raw:
    """``text`` as a YAML scalar that reads back as exactly ``text``."""
    if style == "plain" and _PLAIN.match(text):
        return Raw(text)
    if style == "single" and all(_printable(c) for c in text):
        return Raw("'" + text.replace("'", "''") + "'")
    out = []
    for c in text:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif _printable(c):
            out.append(c)
        elif o <= 0xFF:
            out.append(f"\\x{o:02x}")
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return Raw('"' + "".join(out) + '"')


AWKWARD = [
    "yes", "no", "null", "~", "true", "1", "0x1F", "1:30", "-", "'", '"', "''", "#", "# x", "a: b", "- x", "[",
    "]", "{a}", ",", "&a", "*a", "!t", "%", "@", "`", "|", ">", "?", " lead", "trail ", "é", "名前", "😀", "\t",
    "\n", "\\", "a\u2028b", "\x85", "\ufeff", "\x00", "\x7f", "\u200b", "𝟏", "x1", "h1", "o1", "\\n", "a\r\nb",
]  # fmt: skip
NAMES = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
)
STYLES = st.sampled_from(["plain", "single", "double"])


@dataclass(frozen=True)
class Num:
    """A number as written and the float it must become (parsed here with Fraction)."""

    text: Raw
    value: float
    signed: bool  # whether the sign of a zero is part of what was written (repr of -0.0)


_KINDS = st.sampled_from(["repr", "decimal", "fraction"])
_SIGNS = st.sampled_from(["", "-", "+"])
_NUMERATORS, _DENOMINATORS = st.integers(0, 10**25), st.integers(1, 10**25)
_DIGITS = {False: st.text("0123456789", max_size=4), True: st.text("0123456789", min_size=1, max_size=4)}
_EXPONENTS = st.none() | st.tuples(st.sampled_from("eE"), _SIGNS, st.integers(0, 30))


@st.composite
def numbers(draw) -> Num:
    kind = draw(_KINDS)
    if kind == "repr":
        x = draw(FLOATS)
        return Num(Raw(repr(x)), x, True)
    sign = draw(_SIGNS)
    if kind == "fraction":
        p, q = draw(_NUMERATORS), draw(_DENOMINATORS)
        return Num(Raw(f"{sign}{p}/{q}"), float(Fraction(-p if sign == "-" else p, q)), False)
    dot = draw(BOOLS)
    whole = draw(_DIGITS[not dot])
    frac = draw(_DIGITS[not whole]) if dot else ""
    exponent = draw(_EXPONENTS)
    text = sign + whole + ("." if dot else "") + frac
    value = Fraction(int(whole + frac or "0"), 10 ** len(frac))
    if exponent is not None:
        text += "".join(map(str, exponent))
        value *= Fraction(10) ** (-exponent[2] if exponent[1] == "-" else exponent[2])
    return Num(Raw(text), float(-value if sign == "-" else value), False)


NUMBERS = numbers()
MAYBE_NUMBER = st.none() | NUMBERS
_NONZERO = NUMBERS.filter(lambda n: n.value != 0)
_APPROXIMATE = st.sampled_from(["none", "tanh"])


@st.composite
def written_specs(draw) -> tuple[Spec, Raw | dict]:
    """An activation with parameters written as any number (fractions too), and its YAML node."""
    name = draw(_ACTIVATION_NAMES)
    written = draw(_SPELLINGS[name])
    given, texts = {}, {}
    for parameter in REFERENCE[name].params:
        if not draw(BOOLS):
            continue
        if parameter == "approximate":
            given[parameter] = draw(_APPROXIMATE)
            texts[parameter] = Raw(given[parameter])
        else:
            number = draw(_NONZERO if (name, parameter) == ("softplus", "beta") else NUMBERS)  # beta 0 is refused
            given[parameter], texts[parameter] = number.value, number.text
    spec = Spec(written, name, given, draw(BOOLS))
    if not spec.as_mapping and not given:
        return spec, Raw(written)
    return spec, {"name": Raw(written), **texts}


MAYBE_SPEC = st.none() | written_specs()
_COMMENTS = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
_ENDINGS = st.sampled_from(["\n", "", "\n...\n", "\n\n"])
MAYBE_NAME = st.none() | NAMES
_SMALL = {n: st.integers(1, n) for n in (3, 4)}
_NEURONS_AS = st.sampled_from(["absent", "count", "names"])
_BIASES_AS = st.sampled_from(["absent", "scalar", "list"])


@functools.cache
def _names(n: int, unique: bool = True, maybe: bool = False) -> st.SearchStrategy:
    return st.lists(MAYBE_NAME if maybe else NAMES, min_size=n, max_size=n, unique=unique)


@functools.cache
def _one_of(options: tuple) -> st.SearchStrategy:
    return st.sampled_from(options)


def flow(node) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "[" + ", ".join(flow(item) for item in node) + "]"
    return "{" + ", ".join(f"{key}: {flow(item)}" for key, item in node.items()) + "}"


def block(node, indent: int, rnd) -> list[str]:
    """A list or mapping in block style, each nested collection in block or flow style at random."""
    pad, lines = " " * indent, []
    items = node if isinstance(node, list) else list(node.items())
    for item in items:
        head, value = ("- ", item) if isinstance(node, list) else (f"{item[0]}:", item[1])
        if isinstance(value, str) or rnd.random() < 0.5:
            lines.append(f"{pad}{head}{'' if isinstance(node, list) else ' '}{flow(value)}")
        elif isinstance(node, list):
            inner = block(value, indent + 2, rnd)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{pad}{head}")
            lines.extend(block(value, indent + 2, rnd))
    return lines


@dataclass
class WrittenLayer:
    name: str | None
    neurons: list  # given names, None where a neuron's name was left out
    weights: list  # Num rows, one per neuron
    biases: list  # Num per neuron, None where left out
    spec: Spec | None
    layout: tuple[str, str, str]  # LayerLayout's weights, neurons, biases


@dataclass
class Document:
    text: str
    inputs: list | None  # names, or None for a count
    n_inputs: int
    name: str | None
    description: str | None
    default: Spec | None
    layers: list


def default_names(index: int, count: int, n: int) -> tuple[str, list[str]]:
    """README: layers hidden / hidden1, hidden2, … and output; neurons h1 …, hk_1 …, o1 …"""
    if index == count - 1:
        return "output", [f"o{j}" for j in range(1, n + 1)]
    if count == 2:
        return "hidden", [f"h{j}" for j in range(1, n + 1)]
    return f"hidden{index + 1}", [f"h{index + 1}_{j}" for j in range(1, n + 1)]


def shuffled(mapping: dict, rnd) -> dict:
    keys = list(mapping)
    rnd.shuffle(keys)
    return {k: mapping[k] for k in keys}


@st.composite
def documents(draw) -> Document:
    rnd = draw(st.randoms(use_true_random=False))

    def key(k: str) -> str:
        return k if rnd.random() < 0.8 else f'"{k}"'

    n_inputs = draw(_SMALL[4])
    input_names = draw(_names(n_inputs)) if draw(BOOLS) else None
    top: dict = {}
    top[key("inputs")] = Raw(str(n_inputs)) if input_names is None else [quoted(n, draw(STYLES)) for n in input_names]
    name, description = draw(MAYBE_NAME), draw(MAYBE_NAME)
    if name is not None:
        top[key("name")] = quoted(name, draw(STYLES))
    if description is not None:
        top[key("description")] = quoted(description, draw(STYLES))
    default = draw(MAYBE_SPEC)
    if default is not None:
        top[key("activation")] = default[1]
    count = draw(_SMALL[3])
    layers, nodes, fan_in = [], [], n_inputs
    for index in range(count):
        n_out = draw(_SMALL[4])
        forms = ["matrix", "kernel", "neurons"]
        forms += ["flat"] if n_out == 1 else []
        forms += ["scalar", "kernel-scalar"] if n_out == 1 and fan_in == 1 else []
        form = draw(_one_of(tuple(forms)))
        weights = [[draw(NUMBERS) for _ in range(fan_in)] for _ in range(n_out)]
        node: dict = {}
        layer_name = draw(MAYBE_NAME)
        if layer_name is not None:
            node[key("name")] = quoted(layer_name, draw(STYLES))
        spec = draw(MAYBE_SPEC)
        if spec is not None:
            node[key("activation")] = spec[1]
        if form == "neurons":
            names = draw(_names(n_out, unique=False, maybe=True))
            given = [n for n in names if n is not None]
            defaults = default_names(index, count, n_out)[1]
            assume(len(set(given)) == len(given))
            assume(not any(n is None and defaults[j] in given for j, n in enumerate(names)))
            items, biases = [], []
            for j in range(n_out):
                item = {}
                if names[j] is not None:
                    item[key("name")] = quoted(names[j], draw(STYLES))
                row = [w.text for w in weights[j]]
                item[key("weights")] = row[0] if fan_in == 1 and draw(BOOLS) else row
                bias = draw(MAYBE_NUMBER)
                if bias is not None:
                    item[key("bias")] = bias.text
                biases.append(bias)
                items.append(shuffled(item, rnd))
            node[key("neurons")] = items
            layout = ("neurons", "names", "neurons")
        else:
            neurons = draw(_NEURONS_AS)
            names = [None] * n_out
            if neurons == "count":
                node[key("neurons")] = Raw(str(n_out))
            elif neurons == "names":
                names = draw(_names(n_out))
                node[key("neurons")] = [quoted(n, draw(STYLES)) for n in names]
            texts = [[w.text for w in row] for row in weights]
            if form == "matrix":
                node[key("weights")] = texts
            elif form == "flat":
                node[key("weights")] = texts[0]
            elif form == "scalar":
                node[key("weights")] = texts[0][0]
            elif form == "kernel":
                node[key("kernel")] = [list(column) for column in zip(*texts, strict=True)]
            else:
                node[key("kernel")] = texts[0][0]
            how = draw(_BIASES_AS)
            if how == "scalar":
                bias = draw(NUMBERS)
                node[key("biases")] = bias.text
                biases = [bias] * n_out
            elif how == "list":
                biases = [draw(NUMBERS) for _ in range(n_out)]
                node[key("biases")] = [b.text for b in biases]
            else:
                biases = [None] * n_out
            layout = ("kernel" if form.startswith("kernel") else form, neurons, how)
        nodes.append(shuffled(node, rnd))
        layers.append(WrittenLayer(layer_name, names, weights, biases, spec and spec[0], layout))
        fan_in = n_out
    top[key("layers")] = nodes
    final = [w.name or default_names(i, count, len(w.weights))[0] for i, w in enumerate(layers)]
    assume(len(set(final)) == len(final))  # each layer its own name (a repeat is refused)
    lines = []
    for k, value in shuffled(top, rnd).items():
        if isinstance(value, str) or rnd.random() < 0.3:
            lines.append(f"{k}: {flow(value)}")
        else:
            lines.append(f"{k}:")
            lines.extend(block(value, 2, rnd))
    for _ in range(draw(_SMALL[3]) - 1):
        comment = draw(_COMMENTS)
        lines.insert(rnd.randrange(len(lines) + 1), " " * rnd.randrange(6) + "# " + comment)
    if draw(BOOLS):
        lines.insert(0, "---")
    text = "\n".join(lines) + draw(_ENDINGS)
    return Document(text, input_names, n_inputs, name, description, default and default[0], layers)


def _same(got: float, number: Num | None) -> bool:
    value = 0.0 if number is None else number.value
    if number is not None and number.signed and math.copysign(1, got) != math.copysign(1, value):
        return False
    return got == value


@settings(PROFILE, max_examples=120)
@given(documents())
def test_a_valid_document_loads_as_written(doc: Document):
    network = parse_network(doc.text, SOURCE)
    shown = f"\n--- the document\n{doc.text}"
    inputs = doc.inputs or [f"x{i}" for i in range(1, doc.n_inputs + 1)]
    assert list(network.inputs) == inputs, shown
    assert network.inputs_given_as_names == (doc.inputs is not None), shown
    assert (network.name, network.description) == (doc.name, doc.description), shown
    assert len(network.layers) == len(doc.layers), shown
    for index, (layer, written) in enumerate(zip(network.layers, doc.layers, strict=True)):
        n_out, where = len(written.weights), f"layer {index + 1}: "
        default_name, default_neurons = default_names(index, len(doc.layers), n_out)
        assert layer.name == (written.name if written.name is not None else default_name), where + shown
        names = [n if n is not None else default_neurons[j] for j, n in enumerate(written.neurons)]
        assert list(layer.neurons) == names, where + shown
        assert layer.weights.shape == (n_out, len(written.weights[0])), where + shown
        for j, row in enumerate(written.weights):
            for i, number in enumerate(row):
                assert _same(float(layer.weights[j, i]), number), f"{where}w[{j}][{i}] {number}" + shown
            assert list(layer.weight_text[j]) == [n.text for n in row], where + shown
        assert layer.biases.shape == (n_out,)
        for j, number in enumerate(written.biases):
            assert _same(float(layer.biases[j]), number), f"{where}b[{j}] {number}" + shown
            if number is not None:
                assert layer.bias_text[j] == number.text, where + shown
        spec = written.spec or doc.default
        activation, params = (spec.name, spec.params) if spec else ("sigmoid", {})
        assert layer.activation.name == activation, where + shown
        assert dict(layer.activation.params) == params, where + shown
        layout = (layer.layout.weights, layer.layout.neurons, layer.layout.biases)
        assert layout == written.layout, where + shown
        assert layer.layout.activation_given == (written.spec is not None), where + shown


# == the loader: broken documents ============================================================

NETWORK_CONFIGS = sorted(p.read_text(encoding="utf-8") for p in NETWORK_PATHS)
GARBAGE = [
    "-", ":", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!x ", "<<: ", "? ", "|", "> ", "%YAML 1.1\n",
    "---\n", "...\n", "#", "'", '"', "@", "`", "\t", "\\", "~", "null", "\n", "\n  ", "- x\n", "  - ", "\n- ",
    "weights: ", "biases: ", "neurons: ", "kernel: ", "inputs: ", "layers: ", "name: ", "activation: ",
]  # fmt: skip
NOT_NUMBERS = [
    "yes", "no", "on", "off", "1:30", "0x1F", "0o17", "017", ".nan", "-.inf", ".inf", "1_000", "2001-12-14", "~",
    "null", "true", "1e999", "-1e999", "1/0", "0/0", "'0.5'", '"1"', "!!float 1", "&a 1", "*a", "1,5", "١", "１",
    "½", "0.5.5", "--1", "1e", ".", "+", "[]", "{}", "[1]", "{a: 1}", "|\n  1", ">-\n  2", "? a", "<<: {}", "0",
    "-1", "99999999999999999999", "1e-400", "-0", "",
]  # fmt: skip
_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:/\d+)?")


def _position(draw, text: str) -> int:
    return draw(st.integers(0, len(text)))


def _delete_span(draw, text):
    i = _position(draw, text)
    return text[:i] + text[i + draw(st.integers(1, 12)) :]


def _delete_value(draw, text):
    spans = [m.span() for m in re.finditer(r"(?<=: )[^\n]+", text)]
    if not spans:
        return text
    i, j = draw(st.sampled_from(spans))
    return text[:i] + text[j:]


def _insert_garbage(draw, text):
    i = _position(draw, text)
    return text[:i] + draw(st.sampled_from(GARBAGE)) + text[i:]


def _duplicate_key(draw, text):
    lines = text.split("\n")
    keyed = [k for k, line in enumerate(lines) if re.match(r"\s*(- )?[\w\"']+:", line)]
    if not keyed:
        return text
    k = draw(st.sampled_from(keyed))
    return "\n".join([*lines[: k + 1], lines[k].replace("- ", "  ", 1), *lines[k + 1 :]])


def _swap_number(draw, text):
    spans = [m.span() for m in _NUMBER_TEXT.finditer(text)]
    if not spans:
        return text
    i, j = draw(st.sampled_from(spans))
    return text[:i] + draw(st.sampled_from(NOT_NUMBERS)) + text[j:]


def _truncate(draw, text):
    return text[: _position(draw, text)]


def _insert_characters(draw, text):
    i = _position(draw, text)
    noise = draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=3))
    return text[:i] + noise + text[i:]


def _nest(draw, text):
    depth = draw(st.integers(1, 200))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
    spans = [m.span() for m in _NUMBER_TEXT.finditer(text)]
    if spans and closer:
        i, j = draw(st.sampled_from(spans))
        return text[:i] + opener * depth + text[i:j] + closer * depth + text[j:]
    i = _position(draw, text)
    return text[:i] + opener * depth + text[i:]


def _reindent(draw, text):
    lines = text.split("\n")
    k = draw(st.integers(0, len(lines) - 1))
    lines[k] = draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[k].lstrip(" ")
    return "\n".join(lines)


MUTATIONS = [
    _delete_span,
    _delete_value,
    _insert_garbage,
    _duplicate_key,
    _swap_number,
    _truncate,
    _insert_characters,
    _nest,
    _reindent,
]


@st.composite
def broken_documents(draw) -> str:
    text = draw(st.one_of(st.sampled_from(NETWORK_CONFIGS), documents().map(lambda d: d.text)))
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        text = mutation(draw, text)
    return text


def test_the_network_configs_load():
    """The mutations start from valid documents."""
    for text in NETWORK_CONFIGS:
        parse_network(text, SOURCE)


@settings(PROFILE, max_examples=250)
@given(broken_documents())
def test_a_broken_document_loads_or_is_refused_with_located_problems(text):
    """Only InputError, each problem located in the source and inside the text; never a hang.

    The contract is fuzz.check_text (shared with the fuzzer); bugs it has found stay pinned
    below and in tests/test_fuzz_loader.py.
    """
    with fuzz.time_limit(10):
        fuzz.check_text(text, SOURCE, skip_known=True)


# Bugs the broken documents ran into (since fixed), each pinned on its own.


@settings(PROFILE, max_examples=50)
@example(prefix="name: é", control="\x07", suffix="\n")
@example(prefix="name: 😀😀😀😀😀😀😀😀😀😀😀😀\n", control="\x07", suffix="\ninputs: 1\n")
@example(prefix="\ufeff", control="\x07", suffix="")
@given(
    prefix=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")).filter(_printable), min_size=1).map(
        lambda s: "name: " + s + "é"
    ),
    control=st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x9f", "\ufffe"]),
    suffix=st.text(st.sampled_from("ab :\n")),
)
def test_a_control_character_after_non_ascii_text_is_located(prefix, control, suffix):
    text = prefix + control + suffix
    with pytest.raises(InputError) as refused:
        parse_network(text, SOURCE)
    (problem,) = refused.value.problems
    index = len(prefix)
    line = text[:index].count("\n") + 1
    column = index - (text[:index].rfind("\n") + 1) + 1
    assert (problem.location.line, problem.location.column) == (line, column), problem


@settings(PROFILE, max_examples=100)
@given(
    prefix=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\n")),
    control=st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\x9f", "\ufffe"]),
    suffix=st.text(st.characters(exclude_categories=("Cs",))),
)
def test_a_control_character_after_ascii_text_is_located(prefix, control, suffix):
    """The same, where the bug above cannot show: the location is exactly the character's."""
    text = prefix + control + suffix
    with pytest.raises(InputError) as refused:
        parse_network(text, SOURCE)
    (problem,) = refused.value.problems
    assert problem.message.startswith("YAML error: control characters are not allowed"), problem
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    assert (problem.location.line, problem.location.column) == (line, column), problem


@pytest.mark.parametrize(
    "text",
    [
        "inputs: 1\nlayers:\n  - weights: [0.5",
        "inputs: 1\nlayers:\n  - {weights: 1",
        "inputs: 1\nlayers: [",
    ],
)
def test_an_error_at_the_end_of_the_text_is_on_its_last_line(text):
    with pytest.raises(InputError) as refused:
        parse_network(text, SOURCE)
    (problem,) = refused.value.problems
    assert fuzz.within(text, problem.location.line, problem.location.column), problem


def test_a_lone_surrogate_in_the_text_is_refused():
    with pytest.raises(InputError):
        parse_network("inputs: 1\nname: \ud800\nlayers: [{weights: 1}]\n", SOURCE)


# == numbers and input text ==================================================================


@settings(PROFILE, max_examples=200)
@given(FLOATS)
def test_repr_of_a_float_reads_back_exactly(x):
    for text in (repr(x), str(x), f"{x:.17g}", f"{x:.17e}", f"{x:+.17e}"):
        value = parse_number(text)
        assert value == x and math.copysign(1, value) == math.copysign(1, x), text


SEPARATORS = st.sampled_from([",", ", ", " ,", " , ", " ", "  ", "\t", ",\t", "\u00a0"])


@settings(PROFILE, max_examples=150)
@given(st.lists(FLOATS, min_size=1, max_size=8), st.data())
def test_a_sample_reads_back_exactly(values, data):
    texts = [repr(v) for v in values]
    text = data.draw(st.sampled_from(["", " ", "\t"])) + texts[0]
    for t in texts[1:]:
        text += data.draw(SEPARATORS) + t
    text += data.draw(st.sampled_from(["", " ", "\n"]))
    names = [f"x{i}" for i in range(1, len(values) + 1)]
    got, written = parse_sample(text, names, "--input")
    assert written == texts
    assert [(v, math.copysign(1, v)) for v in got] == [(v, math.copysign(1, v)) for v in values]


NUMBERISH = st.text(st.sampled_from(list("0123456789+-.eE/_ x٣１\t,nainf")), max_size=14)
ANY_TEXT = st.one_of(NUMBERISH, st.text(st.characters(exclude_categories=("Cs",)), max_size=14))


@settings(PROFILE, max_examples=200)
@given(ANY_TEXT)
def test_split_values_says_where_each_value_is(text):
    tokens = split_values(text)
    columns = [column for column, _ in tokens]
    assert columns == sorted(set(columns))
    for column, token in tokens:
        assert 1 <= column <= len(text) + 1
        assert text[column - 1 : column - 1 + len(token)] == token
        assert not re.search(r"[\s,]", token)
    assert "".join(token for _, token in tokens) == re.sub(r"[\s,]", "", text)


@settings(PROFILE, max_examples=300)
@example("nan")
@example("-inf")
@example("1e999")
@example("1/0")
@example("1_000")
@example("0x1F")
@example("١")
@example(" 1")
@given(ANY_TEXT)
def test_parse_number_reads_exactly_or_refuses_with_a_reason(text):
    try:
        value = parse_number(text)
    except NotANumber as refused:
        assert str(refused)
        return
    assert math.isfinite(value)
    assert text.isascii() and text == text.strip() and "_" not in text and not re.search(r"\s", text)
    exponent = re.search(r"[eE][-+]?(\d+)", text)
    if exponent is None or len(exponent.group(1).lstrip("0")) <= 4:
        assert value == float(Fraction(text)), text


@settings(PROFILE, max_examples=200)
@given(ANY_TEXT, st.integers(1, 3))
def test_parse_sample_reads_or_refuses_with_located_problems(text, n):
    names = [f"x{i}" for i in range(1, n + 1)]
    try:
        values, written = parse_sample(text, names, "--input")
    except InputError as refused:
        assert refused.problems
        for problem in refused.problems:
            assert problem.message and problem.location.source == "--input"
        return
    assert len(values) == len(written) == n
    assert all(math.isfinite(v) for v in values)
    assert [t for _, t in split_values(text)] == written


# What Python's float() (or float.fromhex) reads, and nncalc must not.
FLOAT_READS_NNCALC_REFUSES = [
    "nan", "NaN", "-nan", "+nan", "inf", "-inf", "+inf", "Infinity", "-infinity", "iNF", "1_000", "1_0.5", "1e1_0",
    "١", "١٢٣", "٣.٥", "１", "１.５", "𝟏", "৩", "0x1p3", "-0x1.8p1", "0x1F",
]  # fmt: skip
WITH_WHITESPACE = [" 1", "1 ", "\t1", "1\n", "\u00a01", "1\u2003"]


@pytest.mark.parametrize("text", FLOAT_READS_NNCALC_REFUSES + WITH_WHITESPACE)
def test_what_float_reads_but_nncalc_refuses(text):
    try:
        float(text)
    except ValueError:
        float.fromhex(text)  # the case is meaningful: Python reads it one way or the other
    with pytest.raises(NotANumber):
        parse_number(text)


@pytest.mark.parametrize("text", FLOAT_READS_NNCALC_REFUSES)
def test_what_float_reads_is_refused_in_samples_and_files(text):
    with pytest.raises(InputError):
        parse_sample(text, ["x1"], "--input")
    document = f"inputs: 1\nlayers:\n  - weights: [{text}]\n"
    with pytest.raises(InputError) as refused:
        parse_network(document, SOURCE)
    (problem,) = refused.value.problems
    assert (problem.location.line, problem.location.column) == (3, len("  - weights: [") + 1), problem


HUGE = {
    "a fraction beyond a float's range": "1" * 400 + "/1",
    "a numerator over the 4300-digit limit": "1" * 5000 + "/7",
    "a denominator over the 4300-digit limit": "1/" + "1" * 5000,
}


# Fixed in 3c8b28f (found here: OverflowError and ValueError escaped, not NotANumber).
@pytest.mark.parametrize("text", list(HUGE.values()), ids=list(HUGE))
def test_a_huge_fraction_is_read_or_refused_cleanly(text):
    """A quotient beyond a float's range, or more digits than Python's int() reads."""
    for read in (parse_number, lambda t: parse_sample(t, ["x1"], "--input")):
        with contextlib.suppress(NotANumber, InputError):  # anything else fails the test
            read(text)
