"""Grade a person's backward pass the way forward grading marks the forward pass: error carried forward.

Every value is recomputed from the person's *own* earlier values: the forward pass as
``grading.grade`` marks it, then the loss from their outputs, the output δ from their z
and a, each hidden δ from their δ of the layer above, each gradient from their δ and a,
and each updated weight from their gradient (under an optimizer, through the values of its
step as they wrote them, m′, v′, m̂, v̂: ``nncalc.grading_optimizer``). One slip marks one
value wrong; what follows it is judged from their numbers. A value is right within half a
unit of the last digit written of that recomputed value, or of the exact one.

Conventions differ between courses, so they are settings, not mistakes:

- ``error``: ``a-t`` (the default, PyTorch's) writes δ = ∂L/∂z, so the output δ of
  half-SSE is (a − t)·f′(z). ``t-a`` writes the error term the other way round: every δ is
  −∂L/∂z, (t − a)·f′(z) at the output and the same sum Σ w·δ·f′(z) below it. The gradient
  ∂L/∂w is the same number either way, −δ·a with ``t-a``, and the update is always
  w − lr·∂L/∂w, which with ``t-a`` reads w + lr·δ·a.
- ``batch``: ``mean`` (the default, PyTorch's) averages the gradients and the loss over the
  samples; ``sum`` adds them up. With one sample they agree.

Every recomputation is NumPy on whole arrays (samples × neurons, neurons × sources); only
the marking of each written value, which has its own text and place, goes value by value.
A convolution, pooling or flatten layer is worked through by ``nncalc.grading_backward_spatial``
(its δ a map, a convolution's kernels (out, in, rows, columns) and a bias per out channel).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nncalc import losses, optimizers
from nncalc.answers import BACKWARD, Answer, Sheet
from nncalc.backprop import combined_rule, get_loss, output_delta
from nncalc.engine import round_half_up
from nncalc.errors import ComputationError, InputError
from nncalc.grading import Grade, Mark, check_tolerance, grade, rounding_slip, tolerance_for, within
from nncalc.grading_optimizer import KEYS as STATE_KEYS
from nncalc.grading_optimizer import Carried, carry
from nncalc.network import Network
from nncalc.optimizers import BoundOptimizer, ParamState, State
from nncalc.records import record

ERRORS = ("a-t", "t-a")
BATCHES = ("mean", "sum")
# The order a person works a layer's backward pass in, and so the order of its marks (an
# optimizer's values for a bias or weight, m′, v′, m̂, v̂, come before the new value).
ORDER = ("delta", "grad_biases", "state_biases", "biases", "grad_weights", "state_weights", "weights")


@record
class Settings:
    """How the backward pass is worked: the loss, learning rate, optimizer and the course's conventions."""

    loss: str = "half_sse"
    lr: float = 0.5
    freeze_biases: bool = False
    optimizer: BoundOptimizer | None = None
    error: str = "a-t"
    batch: str = "mean"
    state: State | None = None  # the optimizer's state before the step (``--state``); None: its first step


@record
class BackMark:
    """The verdict on one value of the backward pass.

    ``index`` is () for the loss, (sample, neuron) for a δ, (neuron, source) for a weight's
    gradient or update, (neuron,) for a bias's; in a convolution, (sample, cell) for a δ (the
    cell in flatten order), (out, in, row, column) for a kernel's value, (out,) for a bias's.
    """

    # "loss", "delta", "grad_weights", "grad_biases", "weights" or "biases"; or an optimizer's
    # value of a weight or bias (``grading_optimizer.KEYS``: exp_avg, m_hat, momentum_buffer, …)
    quantity: str
    layer: int | None
    index: tuple[int, ...]
    given: Answer | None
    expected: float
    exact: float
    tolerance: float | None
    correct: bool | None
    diagnosis: str | None = None

    @property
    def param(self) -> str | None:
        """For an optimizer's value (``exp_avg``, ``m_hat``, …): "weights" or "biases", the parameter it is of."""
        if self.quantity not in STATE_KEYS:
            return None
        return "biases" if len(self.index) == 1 else "weights"  # a weight (j, i), a kernel's (o, i, r, c)


@record
class BackLayer:
    """One layer's marks, and the values its recomputation used (the person's where written)."""

    delta: tuple[BackMark, ...]
    grad_weights: tuple[BackMark, ...]
    grad_biases: tuple[BackMark, ...]
    weights: tuple[BackMark, ...]
    biases: tuple[BackMark, ...]
    z: np.ndarray  # (samples, neurons): the z used
    a: np.ndarray  # (samples, neurons): the a used
    received: np.ndarray  # (samples, sources): the inputs or the layer below's a used
    derivative: np.ndarray  # f′(z) at the z and a used
    delta_used: np.ndarray
    grad_weights_used: np.ndarray
    grad_biases_used: np.ndarray
    # a spatial layer below the output: ∂L/∂a as the layer above passed it down (δ = ∂L/∂a · f′(z))
    upstream: np.ndarray | None = None
    # with an optimizer: the marks of its values (m′, v′, m̂, v̂ of each weight, then of each bias)
    state_weights: tuple[BackMark, ...] = ()
    state_biases: tuple[BackMark, ...] = ()
    # with an optimizer: the step of the weights and of the biases as worked from the values used
    steps: tuple[Carried | None, ...] = ()


@record
class BackwardGrade:
    """All marks of a sheet with a backward pass: each sample's forward marks, the loss, each layer's."""

    forward: tuple[Grade, ...]
    loss: BackMark
    layers: tuple[BackLayer, ...]  # forward order
    targets: np.ndarray
    sample_losses: np.ndarray  # from the person's outputs
    settings: Settings

    @property
    def backward_marks(self) -> list[BackMark]:
        """The loss, then each layer from the output back, in the order a person works it."""
        marks = [self.loss]
        for layer in reversed(self.layers):
            for quantity in ORDER:
                marks.extend(getattr(layer, quantity))
        return marks

    @property
    def marks(self) -> list[Mark | BackMark]:
        return [m for g in self.forward for m in g.marks] + self.backward_marks

    @property
    def wrong(self) -> list[Mark | BackMark]:
        return [m for m in self.marks if m.correct is False]

    @property
    def right(self) -> list[Mark | BackMark]:
        return [m for m in self.marks if m.correct is True]

    @property
    def first_wrong(self) -> Mark | BackMark | None:
        wrong = self.wrong
        return wrong[0] if wrong else None

    @property
    def all_correct(self) -> bool:
        return not self.wrong

    @property
    def exact(self):
        """The first sample's exact forward pass (as ``Grade.exact``)."""
        return self.forward[0].exact


def settings_for(
    sheet: Sheet,
    loss: str | None = None,
    lr: float = 0.5,
    freeze_biases: bool = False,
    optimizer: BoundOptimizer | str | None = None,
    error: str | None = None,
    batch: str | None = None,
    state: State | None = None,
) -> Settings:
    """The settings from the options given and the conventions the sheet names.

    An option left out takes the sheet's convention, else the default; an option that
    contradicts the sheet is refused, located at the convention: a course's sheet graded
    under another course's conventions would mark right values wrong. ``state`` is the
    optimizer's state before the step (as ``optimizer_state.load_state`` reads it), so that
    the sheet is of a later step than the first.
    """
    from nncalc.answers import convention_value
    from nncalc.errors import Location, Problem

    chosen: dict[str, str | None] = {"error": error, "batch": batch, "loss": loss}
    options = {"error": "--error", "batch": "--batch", "loss": "--loss"}
    problems = []
    refused: set[str] = set()
    for key, value in list(chosen.items()):
        if value is None:
            continue
        canonical = convention_value(key, value)
        if canonical is None:
            allowed = {"error": ERRORS, "batch": BATCHES}.get(key)
            if allowed is None:
                get_loss(value)  # the loss's own message
            problems.append(
                Problem(f"must be one of {', '.join(allowed or ())}, got {value!r}", Location(options[key]))
            )
            refused.add(key)  # already reported: not a contradiction of the sheet as well
            continue
        chosen[key] = canonical
    for convention in sheet.conventions:
        given = chosen[convention.key]
        if convention.key in refused:
            continue
        if given is not None and given != convention.value:
            problems.append(
                Problem(
                    f"the answers file's conventions say {convention.key}: {convention.value}, but "
                    f"{options[convention.key]} {given} was given; drop one of them",
                    convention.location,
                )
            )
        elif given is None:
            chosen[convention.key] = convention.value
    bound = optimizer
    if state is not None and optimizer is None:
        problems.append(Problem("an optimizer's state was given without its optimizer", Location("--state")))
    if isinstance(optimizer, str):  # independent of the conventions: its problems are listed with theirs
        try:
            bound = optimizers.parse_optimizer(optimizer)
        except InputError as error:
            problems.extend(error.problems)
    lr = float(lr)
    if not (math.isfinite(lr) and lr >= 0):
        problems.append(Problem(f"the learning rate must be a finite number ≥ 0, got {lr:g}", Location("--lr")))
    if problems:
        raise InputError(problems)
    return Settings(
        loss=chosen["loss"] or "half_sse",
        lr=lr,
        freeze_biases=freeze_biases,
        optimizer=bound,
        error=chosen["error"] or "a-t",
        batch=chosen["batch"] or "mean",
        state=state,
    )


# ---------------------------------------------------------------------------------------
# The recomputation: one backward pass over whole arrays, from given values where written


def _values(slots: Any) -> Any:
    """Nested slots as nested numbers, NaN where nothing was written."""
    if isinstance(slots, tuple):
        return [_values(slot) for slot in slots]
    return math.nan if slots is None else slots.value


def _given(sheet: Sheet, quantity: str, k: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(_values(getattr(sheet.layers[k], quantity)), dtype=np.float64).reshape(shape)


def written_or(given: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """The person's values where written, the recomputed ones elsewhere."""
    return np.where(np.isnan(given), expected, given)


class BackwardPass:
    """A backward pass worked from the z and a given, taking written values where ``given`` has them.

    For each layer: the expected δ, gradients and updated values (``expected[q][k]``) and the
    ones carried on (``used[q][k]``: the person's where written).
    """

    def __init__(
        self,
        network: Network,
        zs: list[np.ndarray],
        activations: list[np.ndarray],
        inputs: np.ndarray,
        targets: np.ndarray,
        given: dict[str, list[np.ndarray]],
        settings: Settings,
        decimals: int | None,
        state_given: list[dict[str, dict[str, np.ndarray]]] | None = None,
    ):
        self.network, self.settings, self.decimals = network, settings, decimals
        count = len(network.layers)
        # with an optimizer: per layer and parameter ("weights", "biases"), the values written for its step
        # (``grading_optimizer.KEYS``, NaN where left out), and its step worked from the values used
        self.state_given = state_given or [{} for _ in range(count)]
        self.steps: list[dict[str, Carried]] = [{} for _ in range(count)]
        self.loss_fn = get_loss(settings.loss)
        self.sign = 1.0 if settings.error == "a-t" else -1.0
        samples = inputs.shape[0]
        self.samples = samples
        self.scale = float(samples) if settings.batch == "mean" else 1.0
        self.zs, self.activations, self.inputs, self.targets = zs, activations, inputs, targets
        count = len(network.layers)
        self.expected: dict[str, list] = {q: [None] * count for q in BACKWARD}
        self.used: dict[str, list] = {q: [None] * count for q in BACKWARD}
        # before rounding to ``decimals``: a value written with more digits than that is not wrong
        self.unrounded: dict[str, list] = {q: [None] * count for q in BACKWARD}
        with np.errstate(all="ignore"):  # the person's a may be anything: a·(1 − a) of 1e308 overflows
            self.derivatives = [
                layer.activation.derivative(z, a) for layer, z, a in zip(network.layers, zs, activations, strict=True)
            ]
            self.sample_losses = self.loss_fn.value(activations[-1], targets)
            self.loss = float(np.mean(self.sample_losses) if settings.batch == "mean" else np.sum(self.sample_losses))
            for k in range(count - 1, -1, -1):
                self._layer(k, given)

    def carried(self, values: np.ndarray) -> np.ndarray:
        return values if self.decimals is None else round_half_up(values, self.decimals)

    def received(self, k: int) -> np.ndarray:
        return self.inputs if k == 0 else self.activations[k - 1]

    def delta(self, k: int, above: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
        """δ of layer ``k`` (as the convention writes it), from ``above`` (the δ used one layer up)."""
        network = self.network
        if k == len(network.layers) - 1:
            return self.sign * output_delta(network, self.loss_fn, self.zs[k], self.activations[k], self.targets)
        above = self.used["delta"][k + 1] if above is None else above
        weights = network.layers[k + 1].weights if weights is None else weights
        return network.layers[k].activation.backward(self.zs[k], self.activations[k], above @ weights)

    def gradients(self, k: int, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """∂L/∂W and ∂L/∂b from the δ written (−δ with t − a), averaged or summed over the batch."""
        true = self.sign * delta
        return true.T @ self.received(k) / self.scale, true.sum(axis=0) / self.scale

    def before(self, k: int, biases: bool) -> ParamState:
        """The optimizer's state of layer ``k``'s weights (or biases) before the step: ``--state``'s, else fresh."""
        settings, layer = self.settings, self.network.layers[k]
        assert settings.optimizer is not None
        if settings.state is not None:
            return settings.state.params[2 * k + (1 if biases else 0)]
        return settings.optimizer.spec.new_state(settings.optimizer, layer.biases if biases else layer.weights)

    def step(self, k: int, biases: bool, grad: np.ndarray, lr: float | None = None, slip: str | None = None) -> Carried:
        """The optimizer's step of layer ``k``'s weights (or biases) from ``grad``, each of its values
        written on the sheet taking the place of the one worked out (``slip``: with that mistake made)."""
        settings, layer = self.settings, self.network.layers[k]
        assert settings.optimizer is not None
        param = layer.biases if biases else layer.weights
        given = self.state_given[k].get("biases" if biases else "weights", {})
        lr = settings.lr if lr is None else lr
        return carry(settings.optimizer, lr, param, grad, self.before(k, biases), given, slip)

    def update(
        self, k: int, grad_w: np.ndarray, grad_b: np.ndarray, lr: float | None = None, carry: bool = True
    ) -> tuple:
        """The weights and biases after one step from the gradients (plain, or the optimizer's step from
        its state, worked from the person's values of the step where written)."""
        layer, settings = self.network.layers[k], self.settings
        lr = settings.lr if lr is None else lr
        if settings.optimizer is None:
            new_w = layer.weights - lr * grad_w
            new_b = layer.biases - lr * grad_b
        else:
            new_w = self.step(k, False, grad_w, lr).expected["param"]
            new_b = layer.biases if settings.freeze_biases else self.step(k, True, grad_b, lr).expected["param"]
        if settings.freeze_biases:
            new_b = layer.biases.copy()
        return (self.carried(new_w), self.carried(new_b)) if carry else (new_w, new_b)

    def _layer(self, k: int, given: dict[str, list[np.ndarray]]) -> None:
        expected, used, raw = self.expected, self.used, self.unrounded
        raw["delta"][k] = self.delta(k)
        expected["delta"][k] = delta = self.carried(raw["delta"][k])
        used["delta"][k] = written_or(given["delta"][k], delta)
        raw["grad_weights"][k], raw["grad_biases"][k] = self.gradients(k, used["delta"][k])
        for quantity in ("grad_weights", "grad_biases"):
            expected[quantity][k] = self.carried(raw[quantity][k])
            used[quantity][k] = written_or(given[quantity][k], expected[quantity][k])
        raw["weights"][k], raw["biases"][k] = self.update(
            k, used["grad_weights"][k], used["grad_biases"][k], carry=False
        )
        if self.settings.optimizer is not None and self.network.layers[k].n_params:
            self.steps[k]["weights"] = self.step(k, False, used["grad_weights"][k])
            if not self.settings.freeze_biases:
                self.steps[k]["biases"] = self.step(k, True, used["grad_biases"][k])
        for quantity in ("weights", "biases"):
            expected[quantity][k] = self.carried(raw[quantity][k])
            used[quantity][k] = written_or(given[quantity][k], expected[quantity][k])


# ---------------------------------------------------------------------------------------
# Grading


def grade_backward(
    network: Network,
    inputs: np.ndarray,
    input_texts: tuple[tuple[str, ...], ...],
    targets: np.ndarray,
    sheet: Sheet,
    settings: Settings,
    tolerance: float | None = None,
    decimals: int | None = None,
    round_z: bool = False,
) -> BackwardGrade:
    """Mark a whole sheet: each sample's forward pass, the loss, and the backward pass.

    ``inputs`` (samples, inputs) and ``targets`` (samples, outputs); ``sheet`` read for as
    many samples. Raise ``InputError`` where the targets or the loss do not fit, and
    ``ComputationError`` where the exact pass does not give finite values to grade against.
    """
    check_tolerance(tolerance)
    x = np.asarray(inputs, dtype=np.float64).reshape(-1, network.n_inputs)
    t = np.asarray(targets, dtype=np.float64)
    samples = x.shape[0]
    if t.shape != (samples, len(network.outputs)):
        raise InputError(
            f"expected {len(network.outputs)} target value(s) for each of {samples} sample(s) "
            f"(one per output neuron: {', '.join(network.outputs)}), got shape {t.shape}"
        )
    if not np.isfinite(t).all():
        raise InputError("targets must be finite numbers")
    if sheet.samples != samples:
        raise InputError(f"the answers were read for {sheet.samples} sample(s), but {samples} input(s) were given")
    if settings.optimizer is not None and settings.state is not None:
        from nncalc.backprop import check_state

        check_state(network, settings.optimizer, settings.state)
    state_given = _state_given(network, sheet, settings)
    forward = tuple(
        grade(network, x[s], input_texts[s], sheet.forward(s), tolerance=tolerance, decimals=decimals, round_z=round_z)
        for s in range(samples)
    )
    count = len(network.layers)
    z_used = [np.stack([g.layers[k].z_used for g in forward]) for k in range(count)]
    a_used = [np.stack([g.layers[k + 1].received for g in forward]) for k in range(count - 1)]
    a_used.append(
        np.array([[m.given.value if m.given is not None else m.expected for m in g.layers[-1].a] for g in forward])
    )
    z_exact = [np.concatenate([g.exact.layers[k].z for g in forward]) for k in range(count)]
    a_exact = [np.concatenate([g.exact.layers[k].a for g in forward]) for k in range(count)]
    loss_fn = get_loss(settings.loss)
    reason = loss_fn.check(a_exact[-1], t)
    if reason is not None:
        raise InputError(f"the loss {loss_fn.name} cannot apply: {reason}")

    # a convolution, pooling or flatten layer: its shapes, its pass and its slips (nncalc.grading_backward_spatial)
    from nncalc import grading_backward_spatial as spatial

    layer_shapes = [spatial.shapes(layer, samples) for layer in network.layers]
    given = {q: [_given(sheet, q, k, layer_shapes[k][q]) for k in range(count)] for q in BACKWARD}
    nothing = {q: [np.full_like(array, math.nan) for array in arrays] for q, arrays in given.items()}
    worked = spatial.SpatialPass if network.spatial else BackwardPass
    exact = worked(network, z_exact, a_exact, x, t, nothing, settings, decimals)
    _check_exact(network, exact)
    mine = worked(network, z_used, a_used, x, t, given, settings, decimals, state_given)

    loss_mark = _judge_one("loss", None, (), sheet.loss, mine.loss, exact.loss, tolerance)
    if loss_mark.correct is False:
        loss_mark = _diagnose(loss_mark, _loss_candidates(mine, settings))
    layers = []
    for k in range(count):
        judged = {
            quantity: _judge(
                quantity,
                k,
                getattr(sheet.layers[k], quantity),
                (mine.expected[quantity][k], mine.unrounded[quantity][k]),
                exact.expected[quantity][k],
                tolerance,
            )
            for quantity in BACKWARD
        }
        for param in ("weights", "biases"):
            judged[f"state_{param}"] = _judge_state(mine, exact, sheet, k, param, tolerance)
        wrong = any(m.correct is False for found in judged.values() for m in found)
        slips = _candidates if network.layers[k].dense else spatial.candidates
        candidates = slips(mine, given, k) if wrong else {}  # worked out only where needed
        if wrong and settings.optimizer is not None:
            candidates = candidates | _state_candidates(mine, k)
        marks = {
            quantity: tuple(
                _diagnose(m, [(text, array[m.index]) for text, array in candidates.get(_kind(m), [])])
                if m.correct is False
                else m
                for m in found
            )
            for quantity, found in judged.items()
        }
        layers.append(
            BackLayer(
                **marks,
                z=z_used[k],
                a=a_used[k],
                received=mine.received(k),
                derivative=mine.derivatives[k],
                delta_used=mine.used["delta"][k],
                grad_weights_used=mine.used["grad_weights"][k],
                grad_biases_used=mine.used["grad_biases"][k],
                upstream=mine.passed_down(k) if network.spatial else None,
                steps=(mine.steps[k].get("weights"), mine.steps[k].get("biases")) if mine.steps[k] else (),
            )
        )
    return BackwardGrade(forward, loss_mark, tuple(layers), t, mine.sample_losses, settings)


def _state_given(network: Network, sheet: Sheet, settings: Settings) -> list[dict[str, dict[str, np.ndarray]]]:
    """Per layer and parameter, the optimizer's values the sheet gives (NaN where left out); an
    InputError, located at the key, for a value the optimizer chosen does not have."""
    from nncalc.errors import Problem
    from nncalc.grading_optimizer import values_of
    from nncalc.loader import suggest

    found: list[dict[str, dict[str, np.ndarray]]] = [{} for _ in network.layers]
    problems = []
    optimizer = settings.optimizer
    for k, layer_sheet in enumerate(sheet.layers):
        for written in layer_sheet.optimizer:
            label = f"{network.layer_label(k)}: optimizer_state: {written.param}: "
            if optimizer is None:
                problems.append(
                    Problem(
                        f"{label}{written.key} is a value of an optimizer's step, but no --optimizer "
                        "(or --state) was given",
                        written.location,
                    )
                )
                continue
            own = values_of(optimizer)
            if written.key not in own:
                title = optimizer.spec.title
                changed = ", ".join(f"{k}: {v}" for k, v in optimizer.changed().items())
                which = f"{title} ({changed})" if changed else title
                has = f"its values: {', '.join(own)}" if own else "it keeps none (it is plain w − lr·g)"
                problems.append(
                    Problem(f"{label}{which} has no {written.key}{suggest(written.key, own)}; {has}", written.location)
                )
                continue
            if written.param == "biases" and settings.freeze_biases:
                problems.append(
                    Problem(f"{label}the biases are frozen (--freeze-biases): they take no step", written.location)
                )
                continue
            shape = network.layers[k].weights.shape if written.param == "weights" else network.layers[k].biases.shape
            values = np.array(_values(written.slots), dtype=np.float64).reshape(shape)
            found[k].setdefault(written.param, {})[written.key] = values
    if problems:
        raise InputError(problems)
    return found


def _kind(mark: BackMark) -> str:
    """Which list of candidate mistakes a mark's are in: its quantity, or ``exp_avg of weights``."""
    return mark.quantity if mark.param is None else f"{mark.quantity} of {mark.param}"


def _judge_state(
    mine: BackwardPass, exact: BackwardPass, sheet: Sheet, k: int, param: str, tolerance
) -> list[BackMark]:
    """The marks of the optimizer's values of layer ``k``'s weights (or biases) that the sheet gives,
    each worked from the values used before it; none without an optimizer."""
    step, exact_step = mine.steps[k].get(param), exact.steps[k].get(param)
    if step is None or exact_step is None:
        return []
    written = {entry.key: entry.slots for entry in sheet.layers[k].optimizer if entry.param == param}
    marks = []
    for key in step.expected:  # in the order they are worked; a value not written at all is not marked
        if key not in written:
            continue
        slots = written[key]
        expected = step.expected[key]
        for index in np.ndindex(expected.shape):
            answer = _slot(slots, index)
            marks.append(_judge_one(key, k, index, answer, expected[index], exact_step.expected[key][index], tolerance))
    return marks


def _check_exact(network: Network, exact: BackwardPass) -> None:
    """Refuse to grade against an exact backward pass that is not finite."""
    if not math.isfinite(exact.loss):
        raise ComputationError(f"the loss {exact.loss_fn.name} is not finite (inf or NaN) in the exact calculation")
    for k in range(len(network.layers)):
        for quantity in BACKWARD:
            if not np.isfinite(exact.expected[quantity][k]).all():
                raise ComputationError(
                    f"{network.layer_label(k)}: the backward pass overflowed (inf or NaN) in the exact calculation,"
                    " so there is no value to grade against"
                )


def _slot(slots: Any, index: tuple[int, ...]) -> Answer | None:
    for i in index:
        slots = slots[i]
    return slots


def _judge_one(quantity, layer, index, answer, expected, exact, tolerance, unrounded=None) -> BackMark:
    """Right within the tolerance of the value recomputed from the person's values (rounded to
    ``--round``'s decimals, or not), or of the exact one."""
    if answer is None:
        return BackMark(quantity, layer, index, None, float(expected), float(exact), None, None)
    tol = tolerance if tolerance is not None else tolerance_for(answer)
    also = expected if unrounded is None else unrounded
    # a value recomputed from the person's values may be infinite (their a = 1 in BCE): only the finite count
    correct = any(within(answer.value, value, tol) for value in (expected, also, exact) if math.isfinite(value))
    return BackMark(quantity, layer, index, answer, float(expected), float(exact), tol, correct)


def _judge(quantity: str, layer: int, slots: Any, expected: tuple, exact: np.ndarray, tolerance) -> list[BackMark]:
    """Every value of one quantity of a layer; ``expected`` is the recomputed values, rounded and not."""
    rounded, unrounded = expected
    return [
        _judge_one(
            quantity, layer, index, _slot(slots, index), rounded[index], exact[index], tolerance, unrounded[index]
        )
        for index in np.ndindex(rounded.shape)
    ]


def _diagnose(mark: BackMark, candidates: list[tuple[str, Any]]) -> BackMark:
    """The first candidate mistake whose value the person wrote, else a rounding slip, else none."""
    for description, value in candidates:
        candidate = float(value)
        if math.isfinite(candidate) and within(mark.given.value, candidate, mark.tolerance):
            return _with(mark, description)
    slip = rounding_slip(mark)
    return _with(mark, slip) if slip else mark


def _with(mark: BackMark, diagnosis: str) -> BackMark:
    fields = {name: getattr(mark, name) for name in BackMark._fields}
    fields["diagnosis"] = diagnosis
    return BackMark(**fields)


# ---------------------------------------------------------------------------------------
# The likely mistakes, each a whole array of the values it would give


def sign_slip(settings: Settings) -> str:
    if settings.error == "a-t":
        return (
            "the error's sign is flipped (t − a where a − t is written; "
            "grade with --error t-a if your course writes t − a)"
        )
    return (
        "the error's sign is flipped (a − t where t − a is written; grade with --error a-t if your course writes a − t)"
    )


def batch_slip(settings: Settings, what: str) -> tuple[str, str]:
    """The message for a batch summed where averaged (or the reverse), and the factor it multiplies by."""
    if settings.batch == "mean":
        return (
            f"{what} is summed over the batch instead of averaged (grade with --batch sum if your course sums)",
            "times",
        )
    return (
        f"{what} is averaged over the batch instead of summed (grade with --batch mean if your course averages)",
        "over",
    )


def _loss_candidates(mine: BackwardPass, settings: Settings) -> list[tuple[str, float]]:
    loss = mine.loss
    found: list[tuple[str, float]] = []
    # a batch summed where averaged comes first: with two samples it is also the ½ dropped, and more likely
    if mine.samples > 1:
        message, way = batch_slip(settings, "the loss")
        found.append((message, loss * mine.samples if way == "times" else loss / mine.samples))
    if settings.loss == "half_sse":
        found.append(("the ½ of half-SSE is dropped (Σ(t − a)² without the ½)", 2 * loss))
        found.append(("the ½ of half-SSE is taken twice", loss / 2))
    a, t = mine.activations[-1], mine.targets
    for name in losses.known_names():
        other = losses.REGISTRY[name]
        if name == settings.loss or other.check(a, t) is not None:
            continue
        with np.errstate(all="ignore"):
            values = other.value(a, t)
            value = float(np.mean(values) if settings.batch == "mean" else np.sum(values))
        found.append((f"this is the {name} loss, not {settings.loss} ({other.summary})", value))
    return found


def _state_candidates(mine: BackwardPass, k: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The classic slips of an optimizer's step (``grading_optimizer.SLIPS``), for each of its values
    of layer ``k``'s weights and biases: the values each slip gives, from the values used."""
    from nncalc.grading_optimizer import SLIPS, slip_message

    found: dict[str, list[tuple[str, np.ndarray]]] = {}
    optimizer = mine.settings.optimizer
    used = mine.used
    for param, grad in (("weights", used["grad_weights"][k]), ("biases", used["grad_biases"][k])):
        step = mine.steps[k].get(param)
        if step is None:
            continue
        for slip in SLIPS:
            worked = mine.step(k, param == "biases", grad, slip=slip)
            for key in step.expected:
                if key == "param":
                    continue
                message = slip_message(optimizer, slip, key, step.trace.step)
                if message:
                    found.setdefault(f"{key} of {param}", []).append((message, worked.expected[key]))
    return found


def step_slips(
    mine: BackwardPass, k: int, gw_used: np.ndarray, gb_used: np.ndarray
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """The new weights and biases of layer ``k`` (dense, or a convolution's kernels and biases) that
    the optimizer's own slips give (``grading_optimizer.SLIPS``: the bias correction left out, ε
    under the root, …), from the gradients used; none without an optimizer."""
    settings = mine.settings
    new_w: list[tuple[str, np.ndarray]] = []
    new_b: list[tuple[str, np.ndarray]] = []
    if settings.optimizer is None or "weights" not in mine.steps[k]:
        return new_w, new_b
    from nncalc.grading_optimizer import SLIPS, slip_message

    step = mine.steps[k]["weights"].trace.step
    for slip in SLIPS:
        message = slip_message(settings.optimizer, slip, "param", step)
        if message:
            new_w.append((message, mine.carried(mine.step(k, False, gw_used, slip=slip).expected["param"])))
            if not settings.freeze_biases:
                new_b.append((message, mine.carried(mine.step(k, True, gb_used, slip=slip).expected["param"])))
    return new_w, new_b


def update_slips(
    mine: BackwardPass,
    given: dict[str, list[np.ndarray]],
    k: int,
    grad_w: list[tuple[str, np.ndarray]],
    grad_b: list[tuple[str, np.ndarray]],
    written_as: list[tuple[str, np.ndarray]],
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """The new weights and biases of layer ``k`` that each likely slip gives: the step's own (the
    learning rate left out or applied twice, the gradient added, frozen biases moved or not, an
    optimizer's), ``written_as`` (how the layer's new weights are written wrong: transposed,
    flipped), then each slip of an unwritten gradient (``grad_w``, ``grad_b``) carried into them.
    Dense and convolution layers alike."""
    settings, layer = mine.settings, mine.network.layers[k]
    lr = settings.lr
    gw_used, gb_used = mine.used["grad_weights"][k], mine.used["grad_biases"][k]
    new_w: list[tuple[str, np.ndarray]] = []
    new_b: list[tuple[str, np.ndarray]] = []

    def updates(message: str, w_grad: np.ndarray, b_grad: np.ndarray, step_lr: float | None = None) -> None:
        w, b = mine.update(k, w_grad, b_grad, step_lr)
        new_w.append((message, w))
        new_b.append((message, b))

    updates("the learning rate is not applied (w − ∂L/∂w)", gw_used, gb_used, 1.0)
    updates("the learning rate is applied twice (w − lr²·∂L/∂w)", gw_used, gb_used, lr * lr)
    updates("the step goes the wrong way (w + lr·∂L/∂w: the gradient is added, not subtracted)", -gw_used, -gb_used)
    if settings.freeze_biases:
        step = mine.carried(layer.biases - lr * gb_used)
        new_b.append(("the bias is updated, but the biases are frozen (--freeze-biases: b′ = b)", step))
    else:
        new_b.append(("the bias is not updated (only --freeze-biases keeps it)", layer.biases))
    step_w, step_b = step_slips(mine, k, gw_used, gb_used)  # the optimizer's own: m′ for m̂, ε under the root
    new_w.extend(step_w)
    new_b.extend(step_b)
    new_w.extend(written_as)
    for message, alt_w in grad_w:
        w, _ = mine.update(k, written_or(given["grad_weights"][k], alt_w), gb_used)
        new_w.append((message, w))
    for message, alt_b in grad_b:
        _, b = mine.update(k, gw_used, written_or(given["grad_biases"][k], alt_b))
        new_b.append((message, b))
    return new_w, new_b


def _candidates(
    mine: BackwardPass, given: dict[str, list[np.ndarray]], k: int
) -> dict[str, list[tuple[str, np.ndarray]]]:
    """For each quantity of layer ``k``, the likely mistakes and the arrays of values they give.

    A mistake in a value not written is carried to the values after it: a δ worked with the
    updated weights, left unwritten, shows in the gradients and updates made from it.
    """
    network, settings = mine.network, mine.settings
    layer = network.layers[k]
    last = k == len(network.layers) - 1
    lr, samples = settings.lr, mine.samples
    expected, used = mine.expected, mine.used
    flipped = sign_slip(settings)
    elementwise = layer.activation.activation.elementwise

    with np.errstate(all="ignore"):
        # δ
        e = expected["delta"][k]
        deltas: list[tuple[str, np.ndarray]] = [(flipped, -e)]
        if last:
            rule = combined_rule(layer.activation.name, settings.loss)
            if rule is None and elementwise:
                plain = mine.sign * mine.loss_fn.gradient(mine.activations[k], mine.targets)
                deltas.append(("the factor f′(z) is missing (δ = ∂L/∂a without the activation's derivative)", plain))
                deltas.append((f"the factor f′(z) is missing and {flipped}", -plain))
            if settings.loss == "half_sse":
                deltas.append(
                    ("the ½ of half-SSE is dropped (the derivative of ½(t − a)² is a − t, not 2(a − t))", 2 * e)
                )
                deltas.append(("the ½ of half-SSE is kept in the derivative (½(a − t) instead of a − t)", e / 2))
        else:
            above, weights = used["delta"][k + 1], network.layers[k + 1].weights
            if elementwise:
                deltas.append(
                    ("the factor f′(z) is missing (δ = Σ w·δ without the activation's derivative)", above @ weights)
                )
            deltas.append(
                (
                    "the updated weights of the layer above were used"
                    " (δ goes back through the weights as they were before the step)",
                    mine.delta(k, above, used["weights"][k + 1]),
                )
            )
            if weights.shape[0] == weights.shape[1]:
                deltas.append(
                    (
                        "the weights of the layer above were read the other way round (a row for a column)",
                        mine.delta(k, above, weights.T),
                    )
                )
            if layer.activation.name == "sigmoid":
                deltas.append(
                    ("f′(z) is written z(1 − z) instead of a(1 − a)", (above @ weights) * mine.zs[k] * (1 - mine.zs[k]))
                )
        # the gradients: their own mistakes, and those of an unwritten δ carried into them
        gw, gb = expected["grad_weights"][k], expected["grad_biases"][k]
        grad_w: list[tuple[str, np.ndarray]] = [("the gradient's sign is flipped", -gw)]
        grad_b: list[tuple[str, np.ndarray]] = [("the gradient's sign is flipped", -gb)]
        grad_w.append(("the learning rate is already in it (lr·∂L/∂w is the step, not the gradient)", lr * gw))
        grad_b.append(("the learning rate is already in it (lr·∂L/∂b is the step, not the gradient)", lr * gb))
        true = mine.sign * used["delta"][k]
        missing_a = np.broadcast_to((true.sum(axis=0) / mine.scale)[:, None], gw.shape)
        grad_w.append(("the factor a (the output of the neuron the weight comes from) is missing", missing_a))
        if gw.shape[0] == gw.shape[1]:
            grad_w.append(("the gradients are written transposed (a row per input instead of a row per neuron)", gw.T))
        if samples > 1:
            message, way = batch_slip(settings, "the gradient")
            factor = samples if way == "times" else 1 / samples
            grad_w.append((message, gw * factor))
            grad_b.append((message, gb * factor))
        for message, alternative in deltas:
            alt_w, alt_b = mine.gradients(k, written_or(given["delta"][k], alternative))
            grad_w.append((message, alt_w))
            grad_b.append((message, alt_b))
        # the updates: their own mistakes, and those of an unwritten gradient carried into them
        w_exp = expected["weights"][k]
        written_as = []
        if w_exp.shape[0] == w_exp.shape[1]:
            written_as.append(
                ("the new weights are written transposed (a row per input instead of a row per neuron)", w_exp.T)
            )
        new_w, new_b = update_slips(mine, given, k, grad_w, grad_b, written_as)
    return {"delta": deltas, "grad_weights": grad_w, "grad_biases": grad_b, "weights": new_w, "biases": new_b}
