"""Backpropagation: one gradient-descent step over a batch, and repeated steps (training).

Vectorised per layer over the whole batch: δ has shape (samples, neurons), and the
gradients of the batch loss (the mean of the per-sample losses) are ∂L/∂W = δᵀ·A_prev / B
and ∂L/∂b = Σ_s δ_s / B. Every intermediate is kept so a renderer can show the working.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from nncalc import losses
from nncalc.engine import Trace, forward, non_finite_problem, round_half_up
from nncalc.errors import ComputationError, InputError
from nncalc.loader import suggest
from nncalc.losses import Loss
from nncalc.network import Network
from nncalc.records import record


@record
class LayerGradients:
    """One layer's backward pass: per-sample δ = ∂(sample loss)/∂z (samples, n), the batch
    loss's gradients ∂L/∂W (n_out, n_in) and ∂L/∂b (n_out,), the updated W and b, and the
    activation's derivative f′(z) (samples, n) the chain rule used, so that no one who shows
    the working computes it again."""

    delta: np.ndarray
    grad_weights: np.ndarray
    grad_biases: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    derivative: np.ndarray


@record
class BackwardResult:
    """One gradient-descent step: the forward trace it started from, the losses before the
    step, each layer's gradients in forward order, and the updated network."""

    trace: Trace
    targets: np.ndarray
    sample_losses: np.ndarray
    loss: float
    layers: tuple[LayerGradients, ...]
    network: Network
    loss_name: str
    lr: float
    freeze_biases: bool = False


class Training(NamedTuple):
    """What ``train`` returns: the final network and the batch loss at every stage.

    ``losses[i]`` is the loss before step i + 1, so ``losses[0]`` is the initial loss and
    ``losses[-1]`` (index ``iterations``) is the loss of the final network, after the last step.
    """

    network: Network
    losses: np.ndarray

    @property
    def initial_loss(self) -> float:
        return float(self.losses[0])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def get_loss(loss: str | Loss) -> Loss:
    """The loss called ``loss`` (or ``loss`` itself); an unknown name is the user's mistake."""
    if isinstance(loss, Loss):
        return loss
    found = losses.lookup(loss)
    if found is None:
        raise InputError(
            f"unknown loss {loss!r}{suggest(loss, losses.known_names())} (known: {', '.join(losses.known_names())})"
        )
    return found


def _targets(network: Network, targets: np.ndarray, samples: int) -> np.ndarray:
    """The targets as float64 (samples, outputs), or an InputError saying what was expected."""
    t = np.array(targets, dtype=np.float64)  # a copy: the result keeps it
    n = len(network.outputs)
    names = ", ".join(network.outputs)
    per = f"one per output neuron: {names}"
    if t.ndim != 2:
        raise InputError(f"targets must be one row per sample of {n} values ({per}), got shape {t.shape}")
    if t.shape[1] != n:
        raise InputError(f"expected {n} target{'s' if n != 1 else ''} per sample ({per}), got {t.shape[1]}")
    if t.shape[0] != samples:
        raise InputError(
            f"got targets for {t.shape[0]} samples but inputs for {samples}; give one target row per input"
        )
    t.flags.writeable = False
    return t


def _check_lr(lr: float) -> float:
    lr = float(lr)
    if not math.isfinite(lr) or lr < 0:
        raise InputError(f"the learning rate must be a finite number ≥ 0, got {lr!r}")
    return lr


def _evaluate(
    network: Network,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss: Loss,
    decimals: int | None = None,
    round_z: bool = False,
) -> tuple[Trace, np.ndarray]:
    """The forward pass and the checked targets, or the error that stops the loss applying."""
    trace = forward(network, inputs, decimals=decimals, round_z=round_z)
    if trace.inputs.shape[0] == 0:
        raise InputError("no samples: give at least one input row and its targets")
    t = _targets(network, targets, trace.inputs.shape[0])
    if not np.isfinite(t).all():
        sample, output = np.argwhere(~np.isfinite(t))[0]
        raise InputError(
            f"targets must be finite numbers; sample {sample + 1}, {network.outputs[output]} is {t[sample, output]}"
        )
    bad = non_finite_problem(network, trace)
    if bad is not None:
        raise ComputationError(bad)
    reason = loss.check(trace.output, t)
    if reason is not None:
        raise InputError(f"the loss {loss.name} cannot apply: {reason}")
    return trace, t


def combined_rule(activation_name: str, loss_name: str) -> str | None:
    """Which combined output rule applies: "a − t" (softmax, cross-entropy), "(a − t)/n"
    (sigmoid, BCE), or None for the plain chain rule."""
    if activation_name == "softmax" and loss_name == "cross_entropy":
        return "a − t"
    if activation_name == "sigmoid" and loss_name == "bce":
        return "(a − t)/n"
    return None


def output_delta(network: Network, loss: Loss, z: np.ndarray, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """δ at the output layer, per sample: the combined stable forms for softmax with
    cross-entropy (a − t) and sigmoid with BCE ((a − t)/n), else the chain rule."""
    activation = network.layers[-1].activation
    rule = combined_rule(activation.name, loss.name)
    if rule == "a − t":
        return a - t
    if rule == "(a − t)/n":
        return (a - t) / a.shape[1]
    return activation.backward(z, a, loss.gradient(a, t))


def backward(
    network: Network,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss: str | Loss = "half_sse",
    lr: float = 0.5,
    freeze_biases: bool = False,
    decimals: int | None = None,
    round_z: bool = False,
) -> BackwardResult:
    """One step of gradient descent on the batch loss (the mean over samples) for
    ``inputs`` (samples, inputs) and ``targets`` (samples, outputs); W ← W − lr·∂L/∂W.

    With ``decimals`` every value is rounded (half up) as a person carries it on paper:
    each a (and z with ``round_z``) in the forward pass, each δ before it is used and
    passed back, each gradient, and the updated weights and biases.
    """
    loss_fn = get_loss(loss)
    lr = _check_lr(lr)
    trace, t = _evaluate(network, inputs, targets, loss_fn, decimals, round_z)

    def carried(values: np.ndarray) -> np.ndarray:
        return values if decimals is None else round_half_up(values, decimals)

    a = trace.output

    with np.errstate(over="ignore", invalid="ignore"):
        sample_losses = loss_fn.value(a, t)
        batch = trace.inputs.shape[0]
        count = len(network.layers)
        found: list[LayerGradients | None] = [None] * count
        derivatives = [
            layer.activation.derivative(values.z, values.a)
            for layer, values in zip(network.layers, trace.layers, strict=True)
        ]
        delta = carried(output_delta(network, loss_fn, trace.layers[-1].z, a, t))
        for k in range(count - 1, -1, -1):
            layer = network.layers[k]
            received = trace.activations(k)
            grad_w = carried(delta.T @ received / batch)
            grad_b = carried(delta.sum(axis=0) / batch)
            new_w = carried(layer.weights - lr * grad_w)
            new_b = layer.biases.copy() if freeze_biases else carried(layer.biases - lr * grad_b)
            found[k] = LayerGradients(delta, grad_w, grad_b, new_w, new_b, derivatives[k])
            if k > 0:
                below, values = network.layers[k - 1], trace.layers[k - 1]
                delta = carried(below.activation.backward(values.z, values.a, delta @ layer.weights))

    grads = tuple(g for g in found if g is not None)
    # A non-finite δ or gradient always reaches the new weights (W − lr·g, and 0·inf is NaN).
    for k, g in enumerate(grads):
        if not (np.isfinite(g.weights).all() and np.isfinite(g.biases).all() and np.isfinite(g.grad_biases).all()):
            raise ComputationError(f"{network.layer_label(k)}: the gradients overflowed (inf or NaN)")
    if not np.isfinite(sample_losses).all():
        raise ComputationError(f"the loss {loss_fn.name} is not finite (inf or NaN)")
    for g in grads:
        for array in (g.delta, g.grad_weights, g.grad_biases, g.weights, g.biases, g.derivative):
            array.flags.writeable = False
    sample_losses.flags.writeable = False
    updated = network.with_parameters([g.weights for g in grads], [g.biases for g in grads])
    return BackwardResult(
        trace=trace,
        targets=t,
        sample_losses=sample_losses,
        loss=float(np.mean(sample_losses)),
        layers=grads,
        network=updated,
        loss_name=loss_fn.name,
        lr=lr,
        freeze_biases=freeze_biases,
    )


def batch_loss(
    network: Network,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss: str | Loss = "half_sse",
    decimals: int | None = None,
    round_z: bool = False,
) -> float:
    """The batch loss (mean of per-sample losses) of ``network`` on ``inputs``, without a step."""
    loss_fn = get_loss(loss)
    trace, t = _evaluate(network, inputs, targets, loss_fn, decimals, round_z)
    with np.errstate(over="ignore", invalid="ignore"):
        value = loss_fn.batch(trace.output, t)
    if not math.isfinite(value):
        raise ComputationError(f"the loss {loss_fn.name} is not finite (inf or NaN)")
    return value


def train(
    network: Network,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss: str | Loss = "half_sse",
    lr: float = 0.5,
    iterations: int = 1,
    freeze_biases: bool = False,
    on_step: Callable[[int, BackwardResult], None] | None = None,
    decimals: int | None = None,
    round_z: bool = False,
) -> Training:
    """Repeat ``backward`` ``iterations`` times on the same batch (full-batch gradient descent).

    Returns ``Training(network, losses)`` with ``iterations + 1`` losses: ``losses[i]`` is the
    batch loss before step i + 1 and ``losses[-1]`` the final network's. ``on_step(i, result)``
    is called after step i + 1 (i from 0). A step that leaves the loss's domain or overflows
    raises ``ComputationError`` naming the step; mistakes in the arguments raise ``InputError``.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InputError(f"iterations must be a whole number ≥ 0, got {iterations!r}")
    loss_fn = get_loss(loss)
    lr = _check_lr(lr)
    history: list[float] = []
    current = network
    for i in range(int(iterations)):
        try:
            result = backward(current, inputs, targets, loss_fn, lr, freeze_biases, decimals, round_z)
        except InputError as error:
            if i == 0:
                raise
            raise ComputationError(f"{_after(i)}: {error}") from error
        except ComputationError as error:
            raise ComputationError(f"step {i + 1}: {error}") from error
        history.append(result.loss)
        if on_step is not None:
            on_step(i, result)
        current = result.network
    try:
        history.append(batch_loss(current, inputs, targets, loss_fn, decimals, round_z))
    except InputError as error:
        if iterations == 0:
            raise
        raise ComputationError(f"{_after(iterations)}: {error}") from error
    except ComputationError as error:
        raise ComputationError(f"{_after(iterations)}: {error}") from error
    values = np.array(history, dtype=np.float64)
    values.flags.writeable = False
    return Training(current, values)


def _after(steps: int) -> str:
    return f"after {steps} step{'' if steps == 1 else 's'}"
