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
from nncalc.activations import BoundActivation
from nncalc.engine import BLOCK_ROWS, Trace, forward, linear, non_finite_problem, pad_rows, round_half_up
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
) -> BackwardResult:
    """One step of gradient descent on the batch loss (the mean over samples) for
    ``inputs`` (samples, inputs) and ``targets`` (samples, outputs); W ← W − lr·∂L/∂W.

    With ``decimals`` every value is rounded (half up) as a person carries it on paper:
    each a (and z with ``round_z``) in the forward pass, each δ before it is used and
    passed back, each gradient, and the updated weights and biases.
    """
    network.refuse_spatial("backward")
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

    The result is ``backward``'s, bit for bit, at every step, but only the first step is made
    by ``backward`` (it checks the arguments); the others run over bare arrays (``_Descent``),
    and a step's ``BackwardResult`` is worked out only if ``on_step`` reads more of it than
    its loss. The checks ``backward`` makes at every step are made every ``CHECK_EVERY``
    steps, on sums that carry any infinity or NaN along; when one finds a problem, those
    steps are made again by ``backward``, which names the step where it began.
    """
    network.refuse_spatial("backward")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise InputError(f"iterations must be a whole number ≥ 0, got {iterations!r}")
    loss_fn = get_loss(loss)
    lr = _check_lr(lr)
    steps = int(iterations)
    history: list[float] = []

    def step(current: Network, index: int) -> BackwardResult:
        """Step ``index + 1`` by ``backward``, its errors saying which step it was."""
        try:
            return backward(current, inputs, targets, loss_fn, lr, freeze_biases, decimals, round_z)
        except InputError as error:
            if index == 0:
                raise
            raise ComputationError(f"{_after(index)}: {error}") from error
        except ComputationError as error:
            raise ComputationError(f"step {index + 1}: {error}") from error

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
    return Training(final, values)


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
    """

    def __init__(self, network: Network, first: BackwardResult, loss: Loss, decimals: int | None, round_z: bool):
        self.x, self.t = first.trace.inputs, first.targets
        self.lr, self.freeze = first.lr, first.freeze_biases
        self.loss, self.decimals, self.round_z = loss, decimals, round_z
        self.activations = [layer.activation for layer in network.layers]
        self.delta_out = _output_delta_rule(network.layers[-1].activation, loss)
        self.check = None if _domain_in_value(loss, network.layers[-1].activation) else loss.check
        rows = self.x.shape[0]
        self.products = [
            _product(rows, layer.n_inputs, layer.weights, self.x if k == 0 else None)
            for k, layer in enumerate(network.layers)
        ]
        self.sums = [np.zeros((rows, layer.n_neurons)) for layer in network.layers]
        # Whose a goes into the sums too: the output's is vouched for by the loss where the loss
        # vouches for its domain (a non-finite output makes half-SSE, MSE and BCE non-finite, and
        # the softmax or sigmoid of a finite z is finite), every hidden layer's always.
        last = len(network.layers) - 1
        self.watched = [k < last or self.check is not None for k in range(last + 1)]
        self.bias_sums = [np.zeros(layer.n_neurons) for layer in network.layers]

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
                weights, biases = self._update(weights, biases, zs, outs)
                if keep:
                    stages.append((weights, biases))
        ok = ok and all(
            np.isfinite(array).all() for group in (self.sums, self.bias_sums, weights, biases) for array in group
        )
        for total in (*self.sums, *self.bias_sums):
            total.fill(0.0)
        return weights, biases, losses_run, stages, ok

    def _forward(
        self, weights: list[np.ndarray], biases: list[np.ndarray]
    ) -> tuple[list[np.ndarray], list[np.ndarray], float | None]:
        """The forward pass as ``engine.forward`` makes it: every z, the inputs and every a, and
        the batch loss as ``np.mean`` makes it; None for the loss where a check fails."""
        products, activations, sums, watched = self.products, self.activations, self.sums, self.watched
        decimals = self.decimals
        carry = decimals is not None
        a = self.x
        zs, outs = [], [a]
        for k, product in enumerate(products):
            z = product(a, weights[k], biases[k])
            if carry and self.round_z:
                z = round_half_up(z, decimals)
            a = activations[k](z)
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

    def _update(
        self, weights: list[np.ndarray], biases: list[np.ndarray], zs: list[np.ndarray], outs: list[np.ndarray]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The weights and biases after the step, with ``backward``'s operations in its order."""
        activations, lr, decimals = self.activations, self.lr, self.decimals
        carry = decimals is not None
        batch = outs[0].shape[0]
        delta = self.delta_out(zs[-1], outs[-1], self.t)
        if carry:
            delta = round_half_up(delta, decimals)
        new_weights, new_biases = weights.copy(), biases.copy()
        for k in range(len(weights) - 1, -1, -1):
            grad_w = delta.T @ outs[k]
            # Σ over one sample is that sample plus 0 (a sum starts from 0, so −0 becomes 0)
            grad_b = delta[0] + 0.0 if batch == 1 else np.add.reduce(delta, axis=0)
            if batch != 1:  # x / 1 is x, to the bit
                grad_w = grad_w / batch
                grad_b = grad_b / batch
            if carry:
                grad_w = round_half_up(grad_w, decimals)
                grad_b = round_half_up(grad_b, decimals)
            new_w = weights[k] - lr * grad_w
            new_weights[k] = round_half_up(new_w, decimals) if carry else new_w
            if self.freeze:
                total = self.bias_sums[k]
                total += grad_b
            else:
                new_b = biases[k] - lr * grad_b
                new_biases[k] = round_half_up(new_b, decimals) if carry else new_b
            if k > 0:
                delta = activations[k - 1].backward(zs[k - 1], outs[k], delta @ weights[k])
                if carry:
                    delta = round_half_up(delta, decimals)
        return new_weights, new_biases


def _product(
    rows: int, inputs: int, weights: np.ndarray, fixed: np.ndarray | None
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``engine.linear`` for ``rows`` rows through weights of this shape, bit for bit, made
    once for many calls: a short block is padded in a buffer made here (its padding rows stay
    0), and ``fixed`` rows (the inputs, the same at every step) are copied into it only once."""
    if rows >= BLOCK_ROWS:
        return linear
    buffer = np.zeros((pad_rows(rows, weights.T), inputs))
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
