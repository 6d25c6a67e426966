"""Backpropagation: one gradient-descent step over a batch, and repeated steps (training).

Vectorised per layer over the whole batch: δ has shape (samples, neurons), and the
gradients of the batch loss (the mean of the per-sample losses) are ∂L/∂W = δᵀ·A_prev / B
and ∂L/∂b = Σ_s δ_s / B. Every intermediate is kept so a renderer can show the working.

Without an optimizer a step is plain gradient descent, W ← W − lr·∂L/∂W. With one
(``nncalc.optimizers``: SGD with momentum, Adam, AdamW, RMSprop) the gradients are the same
and the optimizer makes the update, one parameter array at a time, in PyTorch's order of a
``Sequential``'s parameters (each layer's weights, then its biases), its state carried from
step to step.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from nncalc import losses
from nncalc.activations import BoundActivation
from nncalc.engine import (
    BLOCK_ROWS,
    Trace,
    forward,
    linear,
    non_finite_problem,
    one_blas_thread,
    pad_rows,
    round_half_up,
    threaded,
)
from nncalc.errors import ComputationError, InputError
from nncalc.loader import suggest
from nncalc.losses import Loss
from nncalc.network import Network
from nncalc.optimizers import BoundOptimizer, State, StepTrace, init_state
from nncalc.optimizers import step as optimizer_step
from nncalc.records import record


@record
class LayerGradients:
    """One layer's backward pass: per-sample δ = ∂(sample loss)/∂z (samples, n), the batch
    loss's gradients ∂L/∂W (n_out, n_in) and ∂L/∂b (n_out,), the updated W and b, and the
    activation's derivative f′(z) (samples, n) the chain rule used, so that no one who shows
    the working computes it again.

    A spatial layer's δ and f′(z) are 2-D as the engine keeps its z, (samples, C·H·W) in
    flatten order; a convolution's gradients and parameters are shaped as its kernel
    (out, in, kh, kw) and biases (out,); pooling and flatten have none (empty arrays).

    ``upstream`` is ∂L/∂a per sample as the layer above passed it down, before f′(z) (for a
    dense layer above, δ_above·W_above; for a convolution, a pooling or a flatten above, what
    it sends back), as exact as the δ it came from; None for the output layer.
    """

    delta: np.ndarray
    grad_weights: np.ndarray
    grad_biases: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    derivative: np.ndarray
    upstream: np.ndarray | None = None


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
    optimizer: BoundOptimizer | None = None
    state_before: State | None = None
    state: State | None = None
    updates: tuple[StepTrace | None, ...] | None = None

    def update_of(self, layer: int, biases: bool = False) -> StepTrace | None:
        """The optimizer's working for one layer's weights (or biases): None without an optimizer,
        and for biases that are frozen."""
        if self.updates is None:
            return None
        return self.updates[2 * layer + (1 if biases else 0)]

    def state_of(self, layer: int, biases: bool = False, before: bool = True):
        """The optimizer's state for one layer's weights (or biases), before (or after) the step."""
        state = self.state_before if before else self.state
        return None if state is None else state.params[2 * layer + (1 if biases else 0)]


class Training(NamedTuple):
    """What ``train`` returns: the final network and the batch loss at every stage.

    ``losses[i]`` is the loss before step i + 1, so ``losses[0]`` is the initial loss and
    ``losses[-1]`` (index ``iterations``) is the loss of the final network, after the last step.
    """

    network: Network
    losses: np.ndarray

    state = None  # an optimizer's state after the last step: see ``OptimizedTraining``

    @property
    def initial_loss(self) -> float:
        return float(self.losses[0])

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


class OptimizedTraining(Training):
    """What ``train`` returns with an optimizer: a ``Training`` (it unpacks as one) that also holds
    ``state``, the optimizer's state after the last step, to continue from."""

    def __new__(cls, network: Network, losses: np.ndarray, state: State):
        made = super().__new__(cls, network, losses)
        made.state = state
        return made


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
    return _output_delta_rule(network.layers[-1].activation, loss)(z, a, t)


def _output_delta_rule(
    activation: BoundActivation, loss: Loss
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``output_delta`` for one output activation and loss, as a function of (z, a, t): the
    rule is chosen once, not at every step of a training run."""
    rule = combined_rule(activation.name, loss.name)
    if rule == "a − t":
        return lambda z, a, t: a - t
    if rule == "(a − t)/n":
        return lambda z, a, t: (a - t) / a.shape[1]
    gradient, chain = loss.gradient, activation.backward
    return lambda z, a, t: chain(z, a, gradient(a, t))


def backward(
    network: Network,
    inputs: np.ndarray,
    targets: np.ndarray,
    loss: str | Loss = "half_sse",
    lr: float = 0.5,
    freeze_biases: bool = False,
    decimals: int | None = None,
    round_z: bool = False,
    optimizer: BoundOptimizer | None = None,
    state: State | None = None,
) -> BackwardResult:
    """One step of gradient descent on the batch loss (the mean over samples) for
    ``inputs`` (samples, inputs) and ``targets`` (samples, outputs); W ← W − lr·∂L/∂W.

    With ``decimals`` every value is rounded (half up) as a person carries it on paper:
    each a (and z with ``round_z``) in the forward pass, each δ before it is used and
    passed back, each gradient, and the updated weights and biases.

    With ``optimizer`` the update is that optimizer's step with learning rate ``lr``, from
    ``state`` (its state after earlier steps; None for the first step), and the result holds
    the state before and after the step and each parameter's working (``updates``). Frozen
    biases take no part: their state stays as it was. With ``decimals`` the updated weights
    and biases are rounded; the optimizer's buffers are kept exact.
    """
    loss_fn = get_loss(loss)
    lr = _check_lr(lr)
    if optimizer is None and state is not None:
        raise InputError("an optimizer's state was given without its optimizer")
    if optimizer is not None:
        state = check_state(network, optimizer, state)
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
        upstream = None  # ∂L/∂a from the layer above: none above the output layer
        for k in range(count - 1, -1, -1):
            layer = network.layers[k]
            received = trace.activations(k)
            if layer.dense:
                weights, biases = layer.weights, layer.biases
                grad_w = carried(delta.T @ received / batch)
                grad_b = carried(delta.sum(axis=0) / batch)
            else:  # a convolution's kernel gradient, summed over samples and positions; none for the others
                weights, biases = layer.parameter_arrays
                sum_w, sum_b = layer.parameter_gradients(delta, received)
                grad_w, grad_b = carried(sum_w / batch), carried(sum_b / batch)
            if optimizer is None:
                new_w = carried(weights - lr * grad_w)
                new_b = biases.copy() if freeze_biases else carried(biases - lr * grad_b)
            else:  # the optimizer's step, below, once every gradient is known
                new_w, new_b = weights, biases
            found[k] = LayerGradients(delta, grad_w, grad_b, new_w, new_b, derivatives[k], upstream)
            if k > 0:
                below, values = network.layers[k - 1], trace.layers[k - 1]
                upstream = delta @ layer.weights if layer.dense else layer.input_gradient(delta, received)
                delta = carried(below.activation.backward(values.z, values.a, upstream))

    grads = tuple(g for g in found if g is not None)
    after, updates = None, None
    if optimizer is not None:
        grads, after, updates = _optimized(network, grads, optimizer, lr, state, freeze_biases, carried)
    # A non-finite δ or gradient always reaches the new weights (W − lr·g, and 0·inf is NaN).
    for k, g in enumerate(grads):
        if not (np.isfinite(g.weights).all() and np.isfinite(g.biases).all() and np.isfinite(g.grad_biases).all()):
            finite_gradients = np.isfinite(g.grad_weights).all() and np.isfinite(g.grad_biases).all()
            if optimizer is not None and finite_gradients:
                raise ComputationError(
                    f"{network.layer_label(k)}: {optimizer.name}'s update is not finite (inf or NaN) "
                    "though the gradients are; check its parameters"
                )
            raise ComputationError(f"{network.layer_label(k)}: the gradients overflowed (inf or NaN)")
    if not np.isfinite(sample_losses).all():
        raise ComputationError(f"the loss {loss_fn.name} is not finite (inf or NaN)")
    for g in grads:
        for array in (g.delta, g.grad_weights, g.grad_biases, g.weights, g.biases, g.derivative, g.upstream):
            if array is not None:
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
        optimizer=optimizer,
        state_before=state,
        state=after,
        updates=updates,
    )


def parameters(network: Network) -> list[np.ndarray]:
    """The network's parameter arrays in PyTorch's order for a ``Sequential``: W₁, b₁, W₂, b₂, …

    A layer without parameters (pooling, flatten) holds two empty arrays in its places, so that
    layer k's are always at 2k and 2k + 1; an optimizer's step leaves them empty."""
    return [
        array
        for layer in network.layers
        for array in ((layer.weights, layer.biases) if layer.dense else layer.parameter_arrays)
    ]


def check_state(network: Network, optimizer: BoundOptimizer, state: State | None) -> State:
    """``state`` (a fresh one when None), checked to be of this network's shapes: an InputError if not."""
    params = parameters(network)
    if state is None:
        return init_state(optimizer, params)
    if len(state.params) != len(params):
        raise InputError(
            f"the optimizer's state is for {len(state.params) // 2} layers; the network has {len(network.layers)}"
        )
    for index, (param, entry) in enumerate(zip(params, state.params, strict=True)):
        what = f"{network.layer_label(index // 2)}, {'biases' if index % 2 else 'weights'}"
        for name in ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg"):
            buffer = getattr(entry, name)
            if buffer is not None and np.shape(buffer) != param.shape:
                raise InputError(
                    f"the optimizer's state: {what}: {name} has shape {np.shape(buffer)}, the parameter {param.shape}"
                )
        fresh = optimizer.spec.new_state(optimizer, param)
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg"):
            if (getattr(fresh, name) is None) != (getattr(entry, name) is None):
                kept = "keeps" if getattr(entry, name) is not None else "lacks"
                raise InputError(
                    f"the optimizer's state {kept} {name} for {what}, which {optimizer.spec.title} "
                    f"with these parameters does {'not ' if kept == 'keeps' else ''}keep"
                )
    return state


def _optimized(
    network: Network,
    grads: tuple[LayerGradients, ...],
    optimizer: BoundOptimizer,
    lr: float,
    state: State,
    freeze_biases: bool,
    carried: Callable[[np.ndarray], np.ndarray],
) -> tuple[tuple[LayerGradients, ...], State, tuple[StepTrace | None, ...]]:
    """The optimizer's step on every parameter array that takes part (all but frozen biases):
    the layers' gradients with their updated weights and biases, the new state, each array's working."""
    gradients = [array for g in grads for array in (g.grad_weights, g.grad_biases)]
    updated, after, traces = optimizer_update(
        parameters(network), gradients, optimizer, lr, state, freeze_biases, carried
    )
    layers = tuple(
        LayerGradients(
            g.delta, g.grad_weights, g.grad_biases, updated[2 * k], updated[2 * k + 1], g.derivative, g.upstream
        )
        for k, g in enumerate(grads)
    )
    return layers, after, traces


def optimizer_update(
    params: list[np.ndarray],
    gradients: list[np.ndarray],
    optimizer: BoundOptimizer,
    lr: float,
    state: State,
    freeze_biases: bool,
    carried: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[list[np.ndarray], State, tuple[StepTrace | None, ...]]:
    """One optimizer step on W₁, b₁, W₂, b₂, … (frozen biases left as they are, their state too):
    the new parameters (``carried``: rounded as they are passed on), the new state, each array's working."""
    moving = [i for i in range(len(params)) if not (freeze_biases and i % 2 == 1)]
    new, moved, traces = optimizer_step(
        optimizer,
        lr,
        [params[i] for i in moving],
        [gradients[i] for i in moving],
        State(tuple(state.params[i] for i in moving)),
    )
    entries, updated = list(state.params), [p.copy() for p in params]
    all_traces: list[StepTrace | None] = [None] * len(params)
    for slot, i in enumerate(moving):
        value = new[slot] if carried is None else carried(new[slot])
        entries[i], updated[i], all_traces[i] = moved.params[slot], value, traces[slot]
    return updated, State(tuple(entries)), tuple(all_traces)


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
    optimizer: BoundOptimizer | None = None,
    state: State | None = None,
) -> Training:
    """Repeat ``backward`` ``iterations`` times on the same batch (full-batch gradient descent).

    Returns ``Training(network, losses)`` with ``iterations + 1`` losses: ``losses[i]`` is the
    batch loss before step i + 1 and ``losses[-1]`` the final network's. ``on_step(i, result)``
    is called after step i + 1 (i from 0). A step that leaves the loss's domain or overflows
    raises ``ComputationError`` naming the step; mistakes in the arguments raise ``InputError``.

    The result is ``backward``'s, bit for bit, at every step, but only the first step is made
    by ``backward`` (it checks the arguments); the others run over bare arrays (``_Descent``),
    and a step's ``BackwardResult`` is worked out only if ``on_step`` reads more of it than
    its loss. The checks ``backward`` makes at every step are made every ``CHECK_EVERY``
    steps, on sums that carry any infinity or NaN along; when one finds a problem, those
    steps are made again by ``backward``, which names the step where it began.

    With ``optimizer`` every step is ``backward``'s with that optimizer, its state carried
    from one step to the next (starting from ``state``, or afresh), and the result is an
    ``OptimizedTraining`` holding the state after the last step.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InputError(f"iterations must be a whole number ≥ 0, got {iterations!r}")
    loss_fn = get_loss(loss)
    lr = _check_lr(lr)
    steps = int(iterations)
    history: list[float] = []

    if optimizer is not None:
        state = check_state(network, optimizer, state)
    elif state is not None:
        raise InputError("an optimizer's state was given without its optimizer")

    def step(current: Network, index: int, before: State | None = None) -> BackwardResult:
        """Step ``index + 1`` by ``backward`` (with the optimizer, from its state ``before``),
        its errors saying which step it was."""
        try:
            return backward(current, inputs, targets, loss_fn, lr, freeze_biases, decimals, round_z, optimizer, before)
        except InputError as error:
            if index == 0:
                raise
            raise ComputationError(f"{_after(index)}: {error}") from error
        except ComputationError as error:
            raise ComputationError(f"step {index + 1}: {error}") from error

    if optimizer is not None:
        final, state = _optimize(network, steps, on_step, history, state, step, loss_fn, decimals, round_z)
    else:
        final = network if steps == 0 else _descend(network, steps, step, on_step, history, loss_fn, decimals, round_z)
    try:
        history.append(batch_loss(final, inputs, targets, loss_fn, decimals, round_z))
    except InputError as error:
        if steps == 0:
            raise
        raise ComputationError(f"{_after(steps)}: {error}") from error
    except ComputationError as error:
        raise ComputationError(f"{_after(steps)}: {error}") from error
    values = np.array(history, dtype=np.float64)
    values.flags.writeable = False
    return Training(final, values) if optimizer is None else OptimizedTraining(final, values, state)


def _optimize(
    network: Network,
    steps: int,
    on_step: Callable[[int, BackwardResult], None] | None,
    history: list[float],
    state: State,
    step: Callable[..., BackwardResult],
    loss: Loss,
    decimals: int | None,
    round_z: bool,
) -> tuple[Network, State]:
    """The network and the optimizer's state after ``steps`` optimizer steps from ``network`` and
    ``state``, each step's loss appended to ``history``. As ``_descend`` does for plain gradient
    descent: the first step by ``backward`` (which checks the arguments), the others CHECK_EVERY
    at a time over bare arrays, and a run whose check fails again by ``backward``, which names the
    step where something went wrong. A step's ``BackwardResult`` is worked out only when read."""
    if steps == 0:
        return network, state
    first = step(network, 0, state)
    history.append(first.loss)
    if on_step is not None:
        on_step(0, first)
    stage, state = _Stage.of(network, first), first.state
    descent = _Descent(network, first, loss, decimals, round_z)
    for start in range(1, steps, CHECK_EVERY):
        count = min(CHECK_EVERY, steps - start)
        run = descent.run_optimized(stage.weights, stage.biases, state, first.optimizer, count, on_step is not None)
        weights, biases, after, losses_run, stages, ok = run
        if not ok:  # backward makes these steps again, and finds the one that went wrong
            current = stage.network()
            for index in range(start, start + count):
                result = step(current, index, state)
                history.append(result.loss)
                if on_step is not None:
                    on_step(index, result)
                current, state = result.network, result.state
            stage = _Stage.of(network, result)
            continue
        history.extend(losses_run)
        if on_step is not None:
            for offset, (w, b, before) in enumerate(stages):
                later = _Stage(network, w, b)
                redo = functools.partial(_step_from, step, before)
                on_step(start + offset, _LazyStep.later(losses_run[offset], stage, later, redo, start + offset, first))
                stage = later  # the last is the run's end: its network, once made, is the one returned
        else:
            stage = _Stage(network, weights, biases)
        state = after
    return stage.network(), state


def _step_from(step: Callable[..., BackwardResult], state: State, network: Network, index: int) -> BackwardResult:
    """``step`` from the optimizer's ``state``: how a lazy step of a run is worked out when read."""
    return step(network, index, state)


# Steps the lean loop takes between its checks of the weights and of the running sums of every
# z and a. A check that fails makes those steps again with ``backward``, so this trades the cost
# of checking (a few microseconds) against that of redoing these steps once, in a run that fails.
CHECK_EVERY = 128

Step = Callable[[Network, int], BackwardResult]


def _descend(
    network: Network,
    steps: int,
    step: Step,
    on_step: Callable[[int, BackwardResult], None] | None,
    history: list[float],
    loss: Loss,
    decimals: int | None,
    round_z: bool,
) -> Network:
    """The network after ``steps`` (≥ 1) steps from ``network``, each step's loss appended to
    ``history``: the first step by ``step`` (``backward``, which checks the arguments), the
    others CHECK_EVERY at a time by ``_Descent``, and a run whose check fails again by ``step``."""
    first = step(network, 0)
    history.append(first.loss)
    if on_step is not None:
        on_step(0, first)
    stage = _Stage.of(network, first)
    descent = _Descent(network, first, loss, decimals, round_z)
    for start in range(1, steps, CHECK_EVERY):
        count = min(CHECK_EVERY, steps - start)
        weights, biases, losses_run, stages, ok = descent.run(stage.weights, stage.biases, count, on_step is not None)
        if not ok:  # something is not finite, or left the loss's domain: backward finds the step
            stage = _redo(stage, start, count, step, on_step, history)
            continue
        history.extend(losses_run)
        if on_step is None:
            stage = _Stage(network, weights, biases)
            continue
        for offset, (w, b) in enumerate(stages):
            after = _Stage(network, w, b)
            on_step(start + offset, _LazyStep.later(losses_run[offset], stage, after, step, start + offset, first))
            stage = after
    return stage.network()


def _redo(
    stage: _Stage,
    start: int,
    count: int,
    step: Step,
    on_step: Callable[[int, BackwardResult], None] | None,
    history: list[float],
) -> _Stage:
    """Steps ``start + 1`` to ``start + count`` from ``stage`` by ``step`` (``backward``), which
    raises at the step where something went wrong; the stage after them if nothing did."""
    current = stage.network()
    for index in range(start, start + count):
        result = step(current, index)
        history.append(result.loss)
        if on_step is not None:
            on_step(index, result)
        current = result.network
    return _Stage.of(stage.base, result)


class _Stage:
    """The weights and biases after some steps, and the Network made of them once it is asked
    for: making one writes every number's text, which a step does not need."""

    __slots__ = ("_network", "base", "biases", "weights")

    def __init__(self, base: Network, weights: list[np.ndarray], biases: list[np.ndarray], made: Network | None = None):
        self.base, self.weights, self.biases, self._network = base, weights, biases, made

    @classmethod
    def of(cls, base: Network, result: BackwardResult) -> _Stage:
        """The stage a ``backward`` step left, with its network."""
        layers = result.layers
        return cls(base, [g.weights for g in layers], [g.biases for g in layers], result.network)

    def network(self) -> Network:
        """The Network of this stage, made on the first call."""
        if self._network is None:
            self._network = self.base.with_parameters(self.weights, self.biases)
        return self._network


class _LazyStep(BackwardResult):
    """A step of a training run as a ``BackwardResult`` whose loss and settings are there at
    once and whose trace, gradients and network are worked out (by ``backward``, from the
    weights before the step) only when first read: a progress bar reads none, and pays for none."""

    @classmethod
    def later(
        cls,
        loss: float,
        before: _Stage,
        after: _Stage,
        step: Step,
        index: int,
        first: BackwardResult,
    ) -> _LazyStep:
        """Step ``index + 1``, from ``before`` to ``after``, of the run whose first step was ``first``."""
        result = cls.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(result, "loss", loss)
        for name in ("targets", "loss_name", "lr", "freeze_biases"):  # the same at every step
            setattr_(result, name, getattr(first, name))
        setattr_(result, "_later", (before, after, step, index))
        return result

    def __getattr__(self, name: str):
        """The first read of a field not yet worked out: work out all of them."""
        later = self.__dict__.get("_later")
        if later is None or name not in BackwardResult._fields:
            raise AttributeError(name)
        before, after, step, index = later
        full = step(before.network(), index)
        for field in BackwardResult._fields:
            object.__setattr__(self, field, after.network() if field == "network" else getattr(full, field))
        object.__delattr__(self, "_later")
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BackwardResult):
            return NotImplemented
        return _plain(self) == _plain(other)

    __hash__ = BackwardResult.__hash__


def _plain(result: BackwardResult) -> BackwardResult:
    """A ``BackwardResult`` with the same fields (and class), to compare with another."""
    if type(result) is BackwardResult:
        return result
    return BackwardResult(**{name: getattr(result, name) for name in BackwardResult._fields})


# The losses whose value is not finite wherever they cannot apply to finite outputs and valid
# targets (log 0, log of a negative, 0·log 0 of a BCE output at 0 or 1), so that a finite loss
# shows the step stayed in the domain; cross-entropy ignores outputs where the target is 0,
# so only outputs that cannot be negative (softmax, sigmoid) let it vouch for them.
_DOMAIN_IN_VALUE = {"half_sse": None, "mse": None, "bce": None, "cross_entropy": ("softmax", "sigmoid")}


def _domain_in_value(loss: Loss, output: BoundActivation) -> bool:
    """Whether a finite batch loss (with every output finite) shows ``loss.check`` passes."""
    if losses.lookup(loss.name) is not loss or loss.name not in _DOMAIN_IN_VALUE:
        return False
    activations = _DOMAIN_IN_VALUE[loss.name]
    return activations is None or output.name in activations


class _Descent:
    """Gradient descent over bare arrays, with ``backward``'s arithmetic operation for operation.

    What ``backward`` adds to each step (records, copies, read-only flags, a Network with the
    text of every number, checks) is left out. The checks are kept in a cheaper form: each
    step's loss must be finite (and the loss's domain holds, where a finite loss does not show
    it); every z and a is added to a running sum per layer, which stays finite only while they
    all are (an infinity or NaN never leaves a sum, and a sum of finite numbers that overflows
    only costs a needless check by ``backward``); the weights and biases, where a non-finite
    gradient always ends, are looked at with those sums at the end of a run of steps.

    A spatial layer (convolution, pooling, flatten) is stepped by the functions ``backward``
    calls, given the weights of the step (``pre_activation_with``, ``parameter_gradients``,
    ``input_gradient_with``); a pooling or a flatten has no parameters and keeps its empty ones.
    """

    def __init__(self, network: Network, first: BackwardResult, loss: Loss, decimals: int | None, round_z: bool):
        self.x, self.t = first.trace.inputs, first.targets
        self.lr, self.freeze = first.lr, first.freeze_biases
        self.loss, self.decimals, self.round_z = loss, decimals, round_z
        layers = self.layers = network.layers
        self.dense = [layer.dense for layer in layers]
        self.activations = [layer.activation for layer in layers]
        self.applied = [layer.has_activation for layer in layers]  # pooling and flatten: a is z
        self.delta_out = _output_delta_rule(layers[-1].activation, loss)
        self.check = None if _domain_in_value(loss, layers[-1].activation) else loss.check
        rows = self.x.shape[0]
        self.products = [
            _product(rows, layer.n_inputs, layer.weights, self.x if k == 0 else None)
            if layer.dense
            else layer.pre_activation_with
            for k, layer in enumerate(layers)
        ]
        self.sums = [np.zeros((rows, layer.n_neurons)) for layer in layers]
        # Whose a goes into the sums too: the output's is vouched for by the loss where the loss
        # vouches for its domain (a non-finite output makes half-SSE, MSE and BCE non-finite, and
        # the softmax or sigmoid of a finite z is finite), every hidden layer's always.
        last = len(layers) - 1
        self.watched = [k < last or self.check is not None for k in range(last + 1)]
        self.bias_sums = [np.zeros(biases.shape) for biases in parameters(network)[1::2]]

    def run(
        self, weights: list[np.ndarray], biases: list[np.ndarray], count: int, keep: bool
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[float], list[tuple[list, list]], bool]:
        """``count`` steps from ``weights`` and ``biases``: the last weights and biases, each
        step's loss, each step's weights and biases (when ``keep``), and whether every check
        passed (if not, the rest is to be thrown away: the steps must be made again)."""
        losses_run: list[float] = []
        stages: list[tuple[list, list]] = []
        ok = True
        with np.errstate(all="ignore"):  # a step that warns fails a check, and backward makes it again
            for _ in range(count):
                zs, outs, loss = self._forward(weights, biases)
                if loss is None:
                    ok = False
                    break
                losses_run.append(loss)
                weights, biases = self._backward(weights, biases, zs, outs, self.lr)
                if keep:
                    stages.append((weights, biases))
        ok = self._finished(weights, biases) and ok
        return weights, biases, losses_run, stages, ok

    def run_optimized(
        self,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        state: State,
        optimizer: BoundOptimizer,
        count: int,
        keep: bool,
    ) -> tuple[list[np.ndarray], list[np.ndarray], State, list[float], list[tuple[list, list, State]], bool]:
        """``run`` with the optimizer's update from ``state``: also the state after the last step,
        and with ``keep`` the state before each step beside its weights and biases after it."""
        losses_run: list[float] = []
        stages: list[tuple[list, list, State]] = []
        carried = None if self.decimals is None else functools.partial(round_half_up, decimals=self.decimals)
        ok = True
        with np.errstate(all="ignore"):  # a step that warns fails a check, and backward makes it again
            for _ in range(count):
                zs, outs, loss = self._forward(weights, biases)
                if loss is None:
                    ok = False
                    break
                losses_run.append(loss)
                grad_w, grad_b = self._backward(weights, biases, zs, outs, None)
                params = [array for pair in zip(weights, biases, strict=True) for array in pair]
                gradients = [array for pair in zip(grad_w, grad_b, strict=True) for array in pair]
                before = state
                updated, state, _ = optimizer_update(params, gradients, optimizer, self.lr, state, self.freeze, carried)
                weights, biases = updated[0::2], updated[1::2]
                if keep:
                    stages.append((weights, biases, before))
        ok = self._finished(weights, biases) and ok
        return weights, biases, state, losses_run, stages, ok

    def _finished(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> bool:
        """The check at the end of a run: every running sum of z and a, and the weights and biases
        reached, are finite. The sums are emptied for the next run either way."""
        finite = all(
            np.isfinite(array).all() for group in (self.sums, self.bias_sums, weights, biases) for array in group
        )
        for total in (*self.sums, *self.bias_sums):
            total.fill(0.0)
        return finite

    def _backward(
        self,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        zs: list[np.ndarray],
        outs: list[np.ndarray],
        lr: float | None,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The step's backward pass, with ``backward``'s operations in its order: with ``lr`` the
        weights and biases after the plain gradient-descent step, without it every layer's ∂L/∂W
        and ∂L/∂b (for an optimizer to step). A pooling or a flatten keeps its empty parameters."""
        activations, decimals, layers, dense = self.activations, self.decimals, self.layers, self.dense
        applied = self.applied
        carry = decimals is not None
        batch = outs[0].shape[0]
        delta = self.delta_out(zs[-1], outs[-1], self.t)
        if carry:
            delta = round_half_up(delta, decimals)
        found_w, found_b = weights.copy(), biases.copy()
        for k in range(len(weights) - 1, -1, -1):
            if dense[k] or weights[k].size:
                if dense[k]:
                    grad_w = delta.T @ outs[k]
                    # Σ over one sample is that sample plus 0 (a sum starts from 0, so −0 becomes 0)
                    grad_b = delta[0] + 0.0 if batch == 1 else np.add.reduce(delta, axis=0)
                else:  # a convolution's, summed over samples and positions
                    grad_w, grad_b = layers[k].parameter_gradients(delta, outs[k])
                if batch != 1:  # x / 1 is x, to the bit
                    grad_w = grad_w / batch
                    grad_b = grad_b / batch
                if carry:
                    grad_w = round_half_up(grad_w, decimals)
                    grad_b = round_half_up(grad_b, decimals)
                if self.freeze:  # frozen biases take no step: their gradients are checked by their sums
                    total = self.bias_sums[k]
                    total += grad_b
                if lr is None:
                    found_w[k], found_b[k] = grad_w, grad_b
                else:
                    new_w = weights[k] - lr * grad_w
                    found_w[k] = round_half_up(new_w, decimals) if carry else new_w
                    if not self.freeze:
                        new_b = biases[k] - lr * grad_b
                        found_b[k] = round_half_up(new_b, decimals) if carry else new_b
            if k > 0:
                layer = layers[k]
                upstream = delta @ weights[k] if dense[k] else layer.input_gradient_with(delta, outs[k], weights[k])
                # a pooling's or a flatten's a is its z: identity's backward, g·1, is g to the bit
                delta = activations[k - 1].backward(zs[k - 1], outs[k], upstream) if applied[k - 1] else upstream
                if carry:
                    delta = round_half_up(delta, decimals)
        return found_w, found_b

    def _forward(
        self, weights: list[np.ndarray], biases: list[np.ndarray]
    ) -> tuple[list[np.ndarray], list[np.ndarray], float | None]:
        """The forward pass as ``engine.forward`` makes it: every z, the inputs and every a, and
        the batch loss as ``np.mean`` makes it; None for the loss where a check fails."""
        products, activations, sums, watched = self.products, self.activations, self.sums, self.watched
        applied, decimals = self.applied, self.decimals
        carry = decimals is not None
        a = self.x
        zs, outs = [], [a]
        for k, product in enumerate(products):
            z = product(a, weights[k], biases[k])
            if carry and self.round_z:
                z = round_half_up(z, decimals)
            a = activations[k](z) if applied[k] else z
            if carry:
                a = round_half_up(a, decimals)
            total = sums[k]
            total += z
            if watched[k]:
                total += a
            zs.append(z)
            outs.append(a)
        per_sample = self.loss.value(a, self.t)
        loss = float(np.add.reduce(per_sample, axis=None) / per_sample.size)  # np.mean's own steps
        if not math.isfinite(loss) or (self.check is not None and self.check(a, self.t) is not None):
            return zs, outs, None
        return zs, outs, loss


def _product(
    rows: int, inputs: int, weights: np.ndarray, fixed: np.ndarray | None
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``engine.linear`` for ``rows`` rows through weights of this shape, bit for bit, made
    once for many calls: a short block is padded in a buffer made here (its padding rows stay
    0), and ``fixed`` rows (the inputs, the same at every step) are copied into it only once."""
    if rows >= BLOCK_ROWS:
        return linear
    buffer = np.zeros((pad_rows(rows, weights.T), inputs))
    if threaded(buffer.shape[0], weights.T):  # as engine.short_product, decided once for the shape
        plain = _product_with(buffer, rows, fixed)

        def one_thread(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
            with one_blas_thread():
                return plain(a, w, b)

        return one_thread
    return _product_with(buffer, rows, fixed)


def _product_with(
    buffer: np.ndarray, rows: int, fixed: np.ndarray | None
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The product through the padded ``buffer``: its first ``rows`` rows are the block's."""
    if fixed is not None:
        buffer[:rows] = fixed

        def fixed_rows(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
            return (buffer @ w.T)[:rows] + b

        return fixed_rows

    def short(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        buffer[:rows] = a
        return (buffer @ w.T)[:rows] + b

    return short


def _after(steps: int) -> str:
    return f"after {steps} step{'' if steps == 1 else 's'}"
