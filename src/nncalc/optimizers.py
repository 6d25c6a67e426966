"""Optimizers: PyTorch's SGD, Adam, AdamW and RMSprop as pure NumPy, one registry entry each.

Each update follows the single-tensor code path of ``torch.optim`` (``_single_tensor_sgd``,
``_single_tensor_adam``, ``_single_tensor_rmsprop``) operation by operation, in the same
order and with the same grouping, so that float64 results agree with PyTorch's to the last
bit or within an ulp or two (PyTorch's vectorised CPU kernels may fuse a multiply and an
add into one rounding, which NumPy cannot). Defaults and the checks on parameters are
PyTorch's.

A step never changes its inputs: it returns new parameters, a new :class:`State` and, per
parameter, a :class:`StepTrace` of the intermediate arrays a person writes by hand
(``v ← μ·v + g``, ``m̂ = m / (1 − β₁ᵗ)``), for worked solutions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from nncalc.activations import name_key
from nncalc.errors import InputError, Location, Problem
from nncalc.numbers import NotANumber, parse_number
from nncalc.records import record
from nncalc.text import visible

Array = np.ndarray
Value = float | bool | tuple[float, ...]


@record
class ParamState:
    """What an optimizer keeps for one parameter between steps (PyTorch's ``optimizer.state[p]``).

    ``step`` counts the updates made so far; the buffers an optimizer does not use stay None.
    SGD's ``momentum_buffer`` is None until the first step, as in PyTorch.
    """

    step: int = 0
    momentum_buffer: Array | None = None
    exp_avg: Array | None = None
    exp_avg_sq: Array | None = None
    max_exp_avg_sq: Array | None = None
    square_avg: Array | None = None
    grad_avg: Array | None = None


@record
class State:
    """The optimizer's state for every parameter, in the order of the parameters."""

    params: tuple[ParamState, ...] = ()

    @property
    def step(self) -> int:
        """The number of updates made so far (the same for every parameter)."""
        return self.params[0].step if self.params else 0


@record
class StepTrace:
    """One parameter's update, as a person writes it: every intermediate array, with its numbers.

    ``grad`` is g as the update uses it (negated when maximizing, weight decay added);
    ``param`` the new parameter. SGD: ``momentum_buffer`` v (v ← μ·v + (1−τ)·g) and
    ``direction``, the array multiplied by −lr (g, v, or g + μ·v with Nesterov). Adam and
    AdamW: ``decayed`` w·(1 − lr·λ) (AdamW only), ``exp_avg`` m, ``exp_avg_sq`` v,
    ``max_exp_avg_sq`` (AMSGrad), the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ, ``m_hat`` and
    ``v_hat`` (shown only: PyTorch folds them into ``step_size`` and ``denom``), ``denom``
    √v/√(1−β₂ᵗ) + ε and ``step_size`` lr/(1 − β₁ᵗ). RMSprop: ``square_avg``, ``grad_avg``
    (centered), ``denom`` (√(square_avg − grad_avg²) or √square_avg, plus ε) and
    ``momentum_buffer``. ``update`` is the new parameter minus the old one.
    """

    step: int
    grad: Array
    param: Array
    update: Array
    direction: Array | None = None
    momentum_buffer: Array | None = None
    decayed: Array | None = None
    exp_avg: Array | None = None
    exp_avg_sq: Array | None = None
    max_exp_avg_sq: Array | None = None
    bias_correction1: float | None = None
    bias_correction2: float | None = None
    m_hat: Array | None = None
    v_hat: Array | None = None
    denom: Array | None = None
    step_size: float | None = None
    square_avg: Array | None = None
    grad_avg: Array | None = None


# ---------------------------------------------------------------------------------------
# PyTorch's tensor operations, each as its CPU kernel computes it


def _add(a: Array, b: Array, alpha: float = 1.0) -> Array:
    """``a.add(b, alpha=alpha)``: a + alpha·b."""
    return a + alpha * b if alpha != 1.0 else a + b


def _addcmul(a: Array, t1: Array, t2: Array, value: float) -> Array:
    """``a.addcmul(t1, t2, value=value)``: a + value·t1·t2, multiplied left to right."""
    return a + value * t1 * t2


def _addcdiv(a: Array, t1: Array, t2: Array, value: float) -> Array:
    """``a.addcdiv(t1, t2, value=value)``: a + value·t1/t2, the product divided."""
    return a + value * t1 / t2


def _lerp(start: Array, end: Array, weight: float) -> Array:
    """``start.lerp(end, weight)``, from the end nearer the weight, as PyTorch does for accuracy."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


# ---------------------------------------------------------------------------------------
# The updates, one per optimizer


def _sgd(opt: BoundOptimizer, lr: float, param: Array, grad: Array, state: ParamState) -> tuple[ParamState, StepTrace]:
    """``_single_tensor_sgd`` for one parameter."""
    momentum, dampening, weight_decay = opt["momentum"], opt["dampening"], opt["weight_decay"]
    grad = -grad if opt["maximize"] else grad
    if weight_decay != 0:
        grad = _add(grad, param, alpha=weight_decay)
    direction = grad
    buf = state.momentum_buffer
    if momentum != 0:
        # the first step takes the gradient itself: no dampening
        buf = grad.copy() if buf is None else _add(buf * momentum, grad, alpha=1 - dampening)
        direction = _add(grad, buf, alpha=momentum) if opt["nesterov"] else buf
    new = _add(param, direction, alpha=-lr)
    step = state.step + 1
    trace = StepTrace(step, grad, new, new - param, direction=direction, momentum_buffer=buf)
    return ParamState(step, momentum_buffer=buf), trace


def _sgd_state(opt: BoundOptimizer, param: Array) -> ParamState:
    return ParamState()


def _adam(opt: BoundOptimizer, lr: float, param: Array, grad: Array, state: ParamState) -> tuple[ParamState, StepTrace]:
    """``_single_tensor_adam`` for one parameter (non-capturable path); AdamW decays decoupled."""
    beta1, beta2 = opt["betas"]
    weight_decay, eps = opt["weight_decay"], opt["eps"]
    old = param
    grad = -grad if opt["maximize"] else grad
    step = state.step + 1
    decayed = None
    if weight_decay != 0:
        if opt.spec.decoupled:
            param = decayed = param * (1 - lr * weight_decay)
        else:
            grad = _add(grad, param, alpha=weight_decay)
    exp_avg = _lerp(state.exp_avg, grad, 1 - beta1)
    exp_avg_sq = _addcmul(state.exp_avg_sq * beta2, grad, grad, 1 - beta2)
    bias_correction1 = 1 - beta1 ** float(step)
    bias_correction2 = 1 - beta2 ** float(step)
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    max_exp_avg_sq = state.max_exp_avg_sq
    if opt["amsgrad"]:
        max_exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
    else:
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    new = _addcdiv(param, exp_avg, denom, -step_size)
    trace = StepTrace(
        step,
        grad,
        new,
        new - old,
        decayed=decayed,
        exp_avg=exp_avg,
        exp_avg_sq=exp_avg_sq,
        max_exp_avg_sq=max_exp_avg_sq,
        bias_correction1=bias_correction1,
        bias_correction2=bias_correction2,
        m_hat=exp_avg / bias_correction1,
        v_hat=(exp_avg_sq if max_exp_avg_sq is None else max_exp_avg_sq) / bias_correction2,
        denom=denom,
        step_size=step_size,
    )
    return ParamState(step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq, max_exp_avg_sq=max_exp_avg_sq), trace


def _adam_state(opt: BoundOptimizer, param: Array) -> ParamState:
    zeros = np.zeros_like(param)
    return ParamState(exp_avg=zeros, exp_avg_sq=zeros, max_exp_avg_sq=zeros if opt["amsgrad"] else None)


def _rmsprop(
    opt: BoundOptimizer, lr: float, param: Array, grad: Array, state: ParamState
) -> tuple[ParamState, StepTrace]:
    """``_single_tensor_rmsprop`` for one parameter."""
    alpha, eps, weight_decay, momentum = opt["alpha"], opt["eps"], opt["weight_decay"], opt["momentum"]
    grad = -grad if opt["maximize"] else grad
    step = state.step + 1
    if weight_decay != 0:
        grad = _add(grad, param, alpha=weight_decay)
    square_avg = _addcmul(state.square_avg * alpha, grad, grad, 1 - alpha)
    grad_avg = state.grad_avg
    if opt["centered"]:
        grad_avg = _lerp(grad_avg, grad, 1 - alpha)
        avg = np.sqrt(_addcmul(square_avg, grad_avg, grad_avg, -1.0))
    else:
        avg = np.sqrt(square_avg)
    denom = avg + eps
    buf = state.momentum_buffer
    if momentum > 0:
        buf = _addcdiv(buf * momentum, grad, denom, 1.0)
        new = _add(param, buf, alpha=-lr)
    else:
        new = _addcdiv(param, grad, denom, -lr)
    trace = StepTrace(
        step,
        grad,
        new,
        new - param,
        momentum_buffer=buf,
        denom=denom,
        square_avg=square_avg,
        grad_avg=grad_avg,
    )
    return ParamState(step, momentum_buffer=buf, square_avg=square_avg, grad_avg=grad_avg), trace


def _rmsprop_state(opt: BoundOptimizer, param: Array) -> ParamState:
    zeros = np.zeros_like(param)
    return ParamState(
        square_avg=zeros,
        momentum_buffer=zeros if opt["momentum"] > 0 else None,
        grad_avg=zeros if opt["centered"] else None,
    )


# ---------------------------------------------------------------------------------------
# Checks on the parameters, PyTorch's own


def _at_least_zero(*names: str) -> Callable[[Mapping[str, Any]], str | None]:
    def check(options: Mapping[str, Any]) -> str | None:
        for name in names:
            if not options[name] >= 0.0:
                return f"{name} must be ≥ 0, got {options[name]:g}"
        return None

    return check


def _check_sgd(options: Mapping[str, Any]) -> str | None:
    problem = _at_least_zero("momentum", "weight_decay")(options)
    if problem is None and options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
        return "nesterov needs a momentum above 0 and dampening 0"
    return problem


def _check_adam(options: Mapping[str, Any]) -> str | None:
    problem = _at_least_zero("eps", "weight_decay")(options)
    for index, beta in enumerate(options["betas"]):
        if problem is None and not 0.0 <= beta < 1.0:
            problem = f"betas[{index}] must be ≥ 0 and < 1, got {beta:g}"
    return problem


# ---------------------------------------------------------------------------------------
# The registry


@record
class OptimizerSpec:
    """One optimizer: its name, PyTorch's defaults, its checks, its state and its update.

    ``defaults`` names every parameter besides the learning rate, with PyTorch's default;
    its type (float, bool, a pair of floats) is the type a value must have. ``check`` is
    None when the options are allowed, else the reason they are not.
    """

    name: str
    title: str
    defaults: Mapping[str, Value]
    check: Callable[[Mapping[str, Any]], str | None]
    new_state: Callable[[BoundOptimizer, Array], ParamState]
    update: Callable[[BoundOptimizer, float, Array, Array, ParamState], tuple[ParamState, StepTrace]]
    decoupled: bool = False  # AdamW: weight decay shrinks the parameter, not added to the gradient


_ADAM_DEFAULTS = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False, "maximize": False}

_ENTRIES = [
    OptimizerSpec(
        "sgd",
        "SGD",
        MappingProxyType(
            {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "maximize": False}
        ),
        _check_sgd,
        _sgd_state,
        _sgd,
    ),
    OptimizerSpec("adam", "Adam", MappingProxyType(_ADAM_DEFAULTS), _check_adam, _adam_state, _adam),
    OptimizerSpec(
        "adamw",
        "AdamW",
        MappingProxyType({**_ADAM_DEFAULTS, "weight_decay": 0.01}),
        _check_adam,
        _adam_state,
        _adam,
        decoupled=True,
    ),
    OptimizerSpec(
        "rmsprop",
        "RMSprop",
        MappingProxyType(
            {
                "alpha": 0.99,
                "eps": 1e-8,
                "weight_decay": 0.0,
                "momentum": 0.0,
                "centered": False,
                "maximize": False,
            }
        ),
        _at_least_zero("eps", "momentum", "weight_decay", "alpha"),
        _rmsprop_state,
        _rmsprop,
    ),
]

REGISTRY: Mapping[str, OptimizerSpec] = MappingProxyType({spec.name: spec for spec in _ENTRIES})
_BY_KEY: Mapping[str, str] = MappingProxyType({name_key(name): name for name in REGISTRY})


@record
class BoundOptimizer:
    """An optimizer with every parameter set: the spec's defaults, overridden by what was given.

    ``options`` holds (name, value) pairs in the spec's order; ``opt["momentum"]`` reads one.
    """

    spec: OptimizerSpec
    options: tuple[tuple[str, Value], ...]

    def __getitem__(self, name: str) -> Value:
        return dict(self.options)[name]

    @property
    def name(self) -> str:
        return self.spec.name

    def changed(self) -> dict[str, Value]:
        """The options that differ from PyTorch's defaults, for showing what was chosen."""
        return {k: v for k, v in self.options if self.spec.defaults[k] != v}


def lookup(name: str) -> OptimizerSpec | None:
    """The optimizer called ``name``, in any case, with or without '-', '_' or spaces."""
    canonical = _BY_KEY.get(name_key(name))
    return None if canonical is None else REGISTRY[canonical]


def bind(name: str, source: str = "--optimizer", **given: Any) -> BoundOptimizer:
    """The optimizer ``name`` with the options ``given`` (the rest PyTorch's defaults), checked.

    Raises InputError, located at ``source``, for an unknown name or option, a value of the
    wrong kind, or a combination PyTorch refuses.
    """
    from nncalc.loader import suggest  # the loader imports much; only binding needs this

    where = Location(source)
    spec = lookup(name)
    if spec is None:
        raise InputError(
            f"unknown optimizer {visible(name)[:60]!r}{suggest(name, REGISTRY)}; known: {', '.join(REGISTRY)}", where
        )
    options = dict(spec.defaults)
    problems: list[Problem] = []  # every unknown or bad parameter at once, not the first alone
    for key, value in given.items():
        if key not in spec.defaults:
            problems.append(
                Problem(
                    f"{spec.title} has no parameter {visible(key)[:60]!r}{suggest(key, spec.defaults)}; "
                    f"its parameters: lr (given apart), {', '.join(spec.defaults)}",
                    where,
                )
            )
            continue
        try:
            options[key] = _convert(key, value, spec.defaults[key], where)
        except InputError as error:
            problems.extend(error.problems)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], Problem(f"and {more} more problem{'s' if more != 1 else ''}", where)]
    if problems:
        raise InputError(problems)
    problem = spec.check(options)
    if problem is not None:
        raise InputError(f"{spec.title}: {problem}", where)
    return BoundOptimizer(spec, tuple(options.items()))


MAX_PROBLEMS = 20  # a mapping of a thousand wrong keys is reported in a screenful


def _convert(key: str, value: Any, default: Value, where: Location) -> Value:
    """``value`` as the kind of ``default``: a finite float, a bool, or a pair of finite floats."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"{key} must be true or false, got {_show(value)}", where)
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or len(value) != len(default):
            raise InputError(f"{key} must be a list of {len(default)} numbers, got {_show(value)}", where)
        return tuple(_number(f"{key}[{i}]", item, where) for i, item in enumerate(value))
    return _number(key, value, where)


def _number(key: str, value: Any, where: Location) -> float:
    """A finite float; text such as ``1e-4`` (which YAML 1.1 leaves as text) is read as a number."""
    if isinstance(value, str):
        try:
            return parse_number(value)
        except NotANumber as exc:
            raise InputError(f"{key}: {visible(str(exc))}", where) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{key} must be a number, got {_show(value)}", where)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"{key} must be a finite number, got {_show(value)}", where)
    return number


def _show(value: Any) -> str:
    """A value as the user wrote it, near enough, for a message."""
    if value is None:  # an empty value or ~
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(visible(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple) and len(value) < 10:  # as YAML writes it: [false, ~], not [False, None]
        return visible("[" + ", ".join(_show(item) for item in value) + "]")[:60]
    return visible(str(value))[:60]


def parse_optimizer(text: str, source: str = "--optimizer") -> BoundOptimizer:
    """The optimizer an option names: ``adam``, or a YAML flow mapping ``{name: sgd, momentum: 0.9}``.

    The mapping's ``name`` picks the optimizer, every other key sets one of its parameters.
    Only a name or a plain mapping of numbers, booleans and lists of numbers is accepted;
    anything else, and YAML that does not parse, is one InputError located at ``source``.
    """
    import yaml  # only an option that sets an optimizer needs the YAML reader

    try:
        value = yaml.load(text, _option_loader())  # a SafeLoader, stricter still
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or "not valid YAML"
        where = Location(source) if mark is None else Location(source, mark.line + 1, mark.column + 1)
        raise InputError(f"cannot read the optimizer: {visible(reason)}; {FORM}", where) from None
    if isinstance(value, str):
        return bind(value, source)
    if not isinstance(value, dict):
        raise InputError(f"expected an optimizer's name or a mapping, got {_show(value)}; {FORM}", Location(source))
    for key, item in value.items():
        if not isinstance(key, str):
            raise InputError(f"a parameter's name must be a word, got {_show(key)}; {FORM}", Location(source))
        if isinstance(item, dict) or (isinstance(item, list) and any(isinstance(x, dict | list) for x in item)):
            raise InputError(f"{visible(key)} must be a number, true/false or a list of numbers", Location(source))
    name = value.pop("name", None)
    if not isinstance(name, str):
        raise InputError(f"the mapping needs a name: the optimizer's; {FORM}", Location(source))
    return bind(name, source, **value)


_PLAIN_INT = re.compile(r"[-+]?[0-9]{1,40}")
MAX_DEPTH = 8  # {name: adam, betas: [0.9, 0.999]} is two levels deep


def _option_loader() -> type:
    """PyYAML's SafeLoader, refusing before building anything: nesting deeper than MAX_DEPTH (its
    composer recurses, and Python's stack would overflow first), aliases (ten lines of them expand
    to 10¹⁰ values), tags (as a network file refuses them) and a key given twice (PyYAML keeps the
    last one silently)."""
    import yaml
    from yaml.composer import ComposerError
    from yaml.constructor import ConstructorError

    class OptionLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, "aliases (*name) are not allowed; write the value", mark)
            tag = getattr(self.peek_event(), "tag", None)
            if tag is not None and tag != "!":  # !!int x, !!timestamp x: PyYAML's constructors fail untidily
                mark = self.peek_event().start_mark
                raise ComposerError(
                    None, None, f"tags such as {visible(tag)[:60]!r} are not allowed; write plain values", mark
                )
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        # Numbers as a network file reads them: YAML 1.1's 1:30 (90), 0x10, 1__ and dates are left as
        # text for the number reader to refuse, as is an integer of thousands of digits (int() refuses
        # over 4300, and 2001-13-45 made datetime raise): each a message, not a traceback.
        def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
            if _PLAIN_INT.fullmatch(node.value):
                return super().construct_yaml_int(node)
            return self.construct_scalar(node)

        def construct_yaml_float(self, node):  # type: ignore[no-untyped-def]
            if ":" in node.value or "_" in node.value:
                return self.construct_scalar(node)
            return super().construct_yaml_float(node)

        def construct_yaml_timestamp(self, node):  # type: ignore[no-untyped-def]
            return self.construct_scalar(node)

        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            seen = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key in seen:
                    shown = visible(str(key))[:60]
                    raise ConstructorError(None, None, f"{shown!r} is given twice", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    for kind in ("int", "float", "timestamp"):
        OptionLoader.add_constructor(f"tag:yaml.org,2002:{kind}", getattr(OptionLoader, f"construct_yaml_{kind}"))
    return OptionLoader


FORM = "write a name (sgd, adam, adamw, rmsprop) or a mapping such as {name: sgd, momentum: 0.9}"


# ---------------------------------------------------------------------------------------
# Running


def init_state(optimizer: BoundOptimizer, params: list[Array]) -> State:
    """The state before the first step: zero buffers shaped as the parameters, as PyTorch lazily makes them."""
    return State(tuple(optimizer.spec.new_state(optimizer, np.asarray(p, dtype=np.float64)) for p in params))


def step(
    optimizer: BoundOptimizer,
    lr: float,
    params: list[Array],
    grads: list[Array],
    state: State,
    t: int | None = None,
) -> tuple[list[Array], State, list[StepTrace]]:
    """One update of every parameter, as ``optimizer.step()`` after the gradients are set.

    ``t`` is the number of this step (1 for the first); it must be the state's count plus
    one, and is taken from the state when not given. Nothing given is changed.
    """
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr >= 0):
        raise InputError(f"the learning rate must be a finite number ≥ 0, got {lr!r}", Location("--lr"))
    if len(params) != len(grads) or len(params) != len(state.params):
        raise ValueError(f"{len(params)} parameters, {len(grads)} gradients and {len(state.params)} states")
    if t is not None and t != state.step + 1:
        raise ValueError(f"step {t} follows step {state.step}")
    new_params, new_states, traces = [], [], []
    for param, grad, param_state in zip(params, grads, state.params, strict=True):
        param = np.asarray(param, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        if param.shape != grad.shape:
            raise ValueError(f"a parameter of shape {param.shape} has a gradient of shape {grad.shape}")
        # an update that is not finite (RMSprop with alpha > 1 takes the root of a negative
        # average) is found and reported by the caller, which knows the layer, not warned here
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            new_state, trace = optimizer.spec.update(optimizer, float(lr), param, grad, param_state)
        new_params.append(trace.param)
        new_states.append(new_state)
        traces.append(trace)
    return new_params, State(tuple(new_states)), traces
