"""An optimizer's step graded value by value: its running averages, Adam's bias corrections, the update.

A person working an Adam step by hand writes m′, v′, m̂ and v̂ before the new weight; an
SGD step with momentum its buffer v′; an RMSprop step its average of g². Each is worked
here from the person's own earlier values (their gradient, their m′ where they wrote it),
so that a slip in m′ marks m′ wrong and not the m̂ and w′ worked from it: error carried
forward, as ``nncalc.grading_backward`` grades the rest of the backward pass.

The values are named as ``backward``'s JSON ``optimizer_state`` names the buffers
(``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``, ``square_avg``,
``grad_avg``), and Adam's bias-corrected averages as ``nncalc.optimizers.StepTrace`` does
(``m_hat``, ``v_hat``). The running averages come from the optimizer's own update
(``OptimizerSpec.update``, PyTorch's order of operations); only what follows a value the
person wrote is worked again here, from theirs. A slip (``SLIPS``) works the same step with
one classic mistake made, for the diagnoses.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nncalc.optimizers import BoundOptimizer, ParamState, StepTrace
from nncalc.records import record

# every value a sheet may give for a parameter's step, in the order of optimizer_state.BUFFERS, then Adam's
KEYS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg", "m_hat", "v_hat")
# the letters a course writes, and the names they are written as here (for a hint)
LETTERS = {
    "adam": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq", "m̂": "m_hat", "v̂": "v_hat"},
    "sgd": {"v": "momentum_buffer", "velocity": "momentum_buffer", "buf": "momentum_buffer"},
    "rmsprop": {"v": "square_avg", "g_avg": "grad_avg", "u": "momentum_buffer", "buf": "momentum_buffer"},
}
# the slips ``carry`` can make, each a classic mistake of working a step by hand
SLIPS = ("swapped", "unsquared", "uncorrected", "eps_inside", "t_from_0", "t_plus_1", "damped")


def family(optimizer: BoundOptimizer) -> str:
    """ "sgd", "adam" (Adam and AdamW) or "rmsprop": the working the step follows."""
    return "adam" if optimizer.name in ("adam", "adamw") else optimizer.name


def values_of(optimizer: BoundOptimizer) -> tuple[str, ...]:
    """The values one step of ``optimizer`` works out before the new parameter, in the order a person works them."""
    kind = family(optimizer)
    if kind == "sgd":
        return ("momentum_buffer",) if optimizer["momentum"] != 0 else ()
    if kind == "adam":
        return ("exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if optimizer["amsgrad"] else ()), "m_hat", "v_hat")
    return (
        "square_avg",
        *(("grad_avg",) if optimizer["centered"] else ()),
        *(("momentum_buffer",) if optimizer["momentum"] > 0 else ()),
    )


@record
class Carried:
    """One parameter's step worked from the values used: ``expected`` each value (and ``param``, the
    new parameter) from the ones before it as used; ``used`` the person's where written, else the
    expected; ``trace`` the step as the working writes it (each intermediate the one used)."""

    expected: Mapping[str, np.ndarray]
    used: Mapping[str, np.ndarray]
    trace: StepTrace
    before: ParamState


def _use(given: np.ndarray | None, value: np.ndarray) -> np.ndarray:
    return value if given is None else np.where(np.isnan(given), value, given)


def carry(
    optimizer: BoundOptimizer,
    lr: float,
    param: np.ndarray,
    grad: np.ndarray,
    before: ParamState,
    given: Mapping[str, np.ndarray],
    slip: str | None = None,
) -> Carried:
    """One step of ``optimizer`` on ``param`` with gradient ``grad`` from the state ``before``,
    each value in ``given`` (NaN where not written) taking the place of the one worked out.

    ``slip`` (one of ``SLIPS``) works it with that mistake made where it applies: β and 1 − β
    swapped, g not squared, the bias correction left out, ε under the root, t counted from 0
    or one too high, the momentum buffer damped by 1 − μ. With nothing given and no slip the
    new parameter is the optimizer's own (PyTorch's order of operations).
    """
    with np.errstate(all="ignore"):
        return _carry(optimizer, lr, param, grad, before, given, slip)


def _carry(optimizer, lr, param, grad, before, given, slip) -> Carried:
    trace = optimizer.spec.update(optimizer, float(lr), param, grad, before)[1]
    expected: dict[str, np.ndarray] = {}
    used: dict[str, np.ndarray] = {}

    def take(name: str, value: np.ndarray) -> np.ndarray:
        expected[name] = value
        used[name] = _use(given.get(name), value)
        return used[name]

    g, kind, step = trace.grad, family(optimizer), trace.step
    fields: dict[str, object] = {}
    if kind == "sgd":
        momentum = optimizer["momentum"]
        direction = g
        if momentum != 0:
            buf = trace.momentum_buffer
            if slip == "damped" and before.momentum_buffer is not None:
                buf = before.momentum_buffer * momentum + (1 - momentum) * g
            buf = fields["momentum_buffer"] = take("momentum_buffer", buf)
            direction = g + momentum * buf if optimizer["nesterov"] else buf
        fields["direction"] = direction
        new = param - lr * direction
    elif kind == "adam":
        beta1, beta2 = optimizer["betas"]
        m, v = trace.exp_avg, trace.exp_avg_sq
        if slip in ("swapped", "unsquared"):
            w1, w2 = (1 - beta1, 1 - beta2) if slip == "swapped" else (beta1, beta2)
            m = before.exp_avg * w1 + (1 - w1) * g
            v = before.exp_avg_sq * w2 + (1 - w2) * (g if slip == "unsquared" else g * g)
        m = fields["exp_avg"] = take("exp_avg", m)
        second = v = fields["exp_avg_sq"] = take("exp_avg_sq", v)
        if optimizer["amsgrad"]:
            second = fields["max_exp_avg_sq"] = take("max_exp_avg_sq", np.maximum(before.max_exp_avg_sq, v))
        t = float({"t_from_0": step - 1, "t_plus_1": step + 1}.get(slip, step))
        correction1, correction2 = (1.0, 1.0) if slip == "uncorrected" else (1 - beta1**t, 1 - beta2**t)
        m_hat = fields["m_hat"] = take("m_hat", m / correction1)
        v_hat = fields["v_hat"] = take("v_hat", second / correction2)
        eps = optimizer["eps"]
        denominator = np.sqrt(v_hat + eps) if slip == "eps_inside" else np.sqrt(v_hat) + eps
        new = (param if trace.decayed is None else trace.decayed) - lr * m_hat / denominator
    else:
        alpha, eps, momentum = optimizer["alpha"], optimizer["eps"], optimizer["momentum"]
        if slip in ("swapped", "unsquared"):
            weight = 1 - alpha if slip == "swapped" else alpha
            square = g if slip == "unsquared" else g * g
            square_avg = before.square_avg * weight + (1 - weight) * square
        else:
            square_avg = trace.square_avg
        under = take("square_avg", square_avg)
        fields["square_avg"] = under
        if optimizer["centered"]:
            average = take("grad_avg", trace.grad_avg)
            fields["grad_avg"] = average
            under = under - average * average
        denom = np.sqrt(under + eps) if slip == "eps_inside" else np.sqrt(under) + eps
        direction = g / denom
        if momentum > 0:
            direction = take("momentum_buffer", before.momentum_buffer * momentum + direction)
            fields["momentum_buffer"] = direction
        new = param - lr * direction
    if slip is None and all(np.isnan(values).all() for values in given.values()):
        new = trace.param  # nothing of the person's in between: the optimizer's own arithmetic
    expected["param"] = new
    used["param"] = _use(given.get("param"), new)
    worked = {name: getattr(trace, name) for name in StepTrace._fields}
    worked.update(fields, param=used["param"], update=used["param"] - param)
    return Carried(expected, used, StepTrace(**worked), before)


def slip_message(optimizer: BoundOptimizer, slip: str, name: str, step: int) -> str | None:
    """What ``slip`` is, said for the value ``name`` (``param``: the new weight or bias); None where
    the slip does not touch that value. A slip in a value the person did not write reaches the
    values worked from it (m̂ from m′, the new weight from both averages), and is named there."""
    kind = family(optimizer)
    if kind == "adam":
        average = {"exp_avg": "m′", "m_hat": "m′", "exp_avg_sq": "v′", "v_hat": "v′"}.get(name)
        beta = {"m′": "β₁", "v′": "β₂"}.get(average or "")
        own = {"m′": "m′ = β₁·m + (1 − β₁)·g", "v′": "v′ = β₂·v + (1 − β₂)·g²"}.get(average or "")
        later = name in ("m_hat", "v_hat")  # worked from the average the slip is in
        corrected = {"m_hat": "m̂ = m′ / (1 − β₁ᵗ)", "v_hat": "v̂ = v′ / (1 − β₂ᵗ)"}.get(name)
        swapped = (
            f"{beta} and 1 − {beta} are swapped ({own}: the old average keeps {beta})"
            + (f", and {'m̂' if name == 'm_hat' else 'v̂'} is worked from that {average}" if later else "")
            if beta
            else name == "param"
            and "β and 1 − β are swapped in the averages (m′ = β₁·m + (1 − β₁)·g, v′ = β₂·v + (1 − β₂)·g²: "
            "the old average keeps β)"
        )
        unsquared = name in ("exp_avg_sq", "v_hat", "param") and (
            "the gradient is not squared (v′ = β₂·v + (1 − β₂)·g²)"
            + (", and v̂ is worked from that v′" if name == "v_hat" else "")
        )
        messages = {
            "swapped": swapped,
            "unsquared": unsquared,
            "uncorrected": (
                f"the bias correction is left out ({corrected})"
                if corrected
                else name == "param"
                and "the bias correction is left out (the step takes m̂ = m′ / (1 − β₁ᵗ) and v̂ = v′ / (1 − β₂ᵗ), "
                "not m′ and v′)"
            ),
            "eps_inside": name == "param" and "ε is inside the square root (m̂ / (√v̂ + ε), not m̂ / √(v̂ + ε))",
            "t_from_0": name in ("m_hat", "v_hat", "param")
            and f"t is counted from 0 (this is step t = {step}: the first step is t = 1)",
            "t_plus_1": name in ("m_hat", "v_hat", "param")
            and f"t is one too high (this is step t = {step}: t counts the steps made, this one included)",
        }
    elif kind == "rmsprop":
        messages = {
            "swapped": name in ("square_avg", "momentum_buffer", "param")
            and "α and 1 − α are swapped (v′ = α·v + (1 − α)·g²: the old average keeps α)",
            "unsquared": name in ("square_avg", "momentum_buffer", "param")
            and "the gradient is not squared (v′ = α·v + (1 − α)·g²)",
            "eps_inside": name in ("momentum_buffer", "param")
            and "ε is inside the square root (g / (√v′ + ε), not g / √(v′ + ε))",
        }
    else:
        messages = {
            "damped": name in ("momentum_buffer", "param")
            and optimizer["dampening"] == 0
            and "the gradient is damped by 1 − μ (PyTorch's momentum adds g itself: v′ = μ·v + g)",
        }
    return messages.get(slip) or None
