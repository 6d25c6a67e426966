"""The backward pass of a network with convolution, pooling or flatten layers, graded value by value.

``nncalc.grading_backward`` marks a dense network's backward pass, error carried forward;
this module gives it what a spatial layer needs, so the marking itself (tolerances,
verdicts, the dense layers after a flatten and their likely slips) stays one:

- ``SpatialPass``: the same recomputation from the person's own values, through each
  spatial layer as the engine (``nncalc.backprop``) goes through it: δ passed back through
  a convolution by the transposed convolution, through a max pooling to each window's
  max cell (found in the person's own map), through an average pooling shared out over
  the window, through a flatten unchanged; a convolution's kernel gradient the
  cross-correlation of its input with δ, its bias gradient the sum of δ over each map.
- ``shapes``: the shape of each quantity a layer's sheet holds (a convolution's kernels
  (out, in, rows, columns) and a bias per out channel; a pooling or flatten none).
- ``candidates``: the likely slips of a spatial layer, each a whole array of the values
  it gives: the max pool's δ sent to every cell of the window or shared out over it (or,
  where windows overlap, one window's δ kept where a cell wins several), the
  average pool's δ not divided by the window's size or sent to the max cell, the
  convolution's f′(z) left out, δ passed back through the kernel unflipped, the kernel
  gradient computed as a true convolution (δ flipped) or written flipped, the bias
  gradient averaged over the map, and the mistakes of the step (the learning rate left
  out or applied twice, the step the wrong way, an optimizer's bias correction left out or
  ε under the root) a dense layer's update can have; the values of an optimizer's step
  (m′, v̂, …) have the slips ``grading_backward`` names for a dense layer's. Where
  two of them give the same value in a cell, the one that gives the whole written map is
  named.

A batch is worked as a dense one is: each sample's maps (samples first), the gradients
averaged or summed over the samples. Every alternative is NumPy on whole maps.
"""

from __future__ import annotations

import math

import numpy as np

from nncalc.convolution import conv2d_input_gradient, pool2d_input_gradient
from nncalc.grading_backward import BackwardPass, batch_slip, sign_slip, update_slips, written_or
from nncalc.network import Network
from nncalc.spatial import Conv2d, Flatten, _Pooling

EMPTY = np.zeros(0)
Alternatives = list[tuple[str, np.ndarray]]


def shapes(layer, samples: int) -> dict[str, tuple[int, ...]]:
    """The shape of each backward quantity of a layer's sheet, dense or spatial."""
    if layer.dense:
        per_weight = (layer.n_neurons, layer.n_inputs)
        per_neuron: tuple[int, ...] = (layer.n_neurons,)
    elif isinstance(layer, Conv2d):
        per_weight, per_neuron = tuple(layer.weights.shape), (layer.out_channels,)
    else:
        per_weight, per_neuron = (0,), (0,)
    return {
        "delta": (samples, layer.n_neurons),
        "grad_weights": per_weight,
        "weights": per_weight,
        "grad_biases": per_neuron,
        "biases": per_neuron,
    }


class SpatialPass(BackwardPass):
    """``grading_backward.BackwardPass`` through convolution, pooling and flatten layers as well."""

    def upstream(
        self,
        k: int,
        delta: np.ndarray,
        weights: np.ndarray | None = None,
        mode: str | None = None,
        combine: str = "sum",
    ):
        """What layer ``k`` passes down from its δ (as written): ∂L/∂(its input), signed as δ is.

        ``weights`` replaces a dense layer's weights or a convolution's kernels, ``mode`` a
        pooling's routing ("max", "avg") and ``combine`` how a cell that wins several max
        windows takes their δ (``convolution.pool2d_input_gradient``), for the slips that use another."""
        layer = self.network.layers[k]
        if layer.dense:
            return delta @ (layer.weights if weights is None else weights)
        if isinstance(layer, Conv2d):
            kernels = layer.weights if weights is None else weights
            return conv2d_input_gradient(delta, layer.input_shape, kernels, layer.stride, layer.padding)
        if isinstance(layer, _Pooling):
            return pool2d_input_gradient(
                delta,
                self.received(k),
                layer.input_shape,
                layer.kernel_size,
                layer.stride,
                layer.padding,
                mode or layer.mode,
                combine,
            )
        return delta  # flatten: the same values, read as maps below

    def passed_down(self, k: int) -> np.ndarray | None:
        """∂L/∂a of layer ``k`` as the layer above passes it down from the δ used there; None at the output."""
        if k == len(self.network.layers) - 1:
            return None
        with np.errstate(all="ignore"):
            return self.upstream(k + 1, self.used["delta"][k + 1])

    def delta(self, k: int, above: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
        if k == len(self.network.layers) - 1:
            return super().delta(k)
        above = self.used["delta"][k + 1] if above is None else above
        return self.through(k, self.upstream(k + 1, above, weights))

    def through(self, k: int, upstream: np.ndarray) -> np.ndarray:
        """δ of layer ``k`` from what the layer above passes down: times f′(z), where it has an activation."""
        return self.network.layers[k].activation.backward(self.zs[k], self.activations[k], upstream)

    def gradients(self, k: int, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        layer = self.network.layers[k]
        if layer.dense:
            return super().gradients(k, delta)
        if not isinstance(layer, Conv2d):
            return EMPTY, EMPTY
        grad_w, grad_b = layer.parameter_gradients(self.sign * delta, self.received(k))
        return grad_w / self.scale, grad_b / self.scale

    def update(self, k: int, grad_w, grad_b, lr: float | None = None, carry: bool = True) -> tuple:
        layer = self.network.layers[k]
        if not layer.dense and not isinstance(layer, Conv2d):
            return EMPTY, EMPTY
        return super().update(k, grad_w, grad_b, lr, carry)


def candidates(mine: SpatialPass, given: dict[str, list[np.ndarray]], k: int) -> dict[str, Alternatives]:
    """For each quantity of spatial layer ``k``, the likely mistakes and the arrays of values they give.

    As for a dense layer, a mistake in a value left unwritten is carried into the values
    worked from it: a δ with f′(z) left out, unwritten, shows in the kernel gradient."""
    network, settings = mine.network, mine.settings
    layer = network.layers[k]
    with np.errstate(all="ignore"):
        deltas = _delta_candidates(mine, network, k)
        if not isinstance(layer, Conv2d):
            deltas = _likeliest_first(deltas, given["delta"][k], mine.expected["delta"][k])
            return {"delta": deltas, "grad_weights": [], "grad_biases": [], "weights": [], "biases": []}
        expected, used = mine.expected, mine.used
        gw, gb = expected["grad_weights"][k], expected["grad_biases"][k]
        lr = settings.lr
        grad_w: Alternatives = [("the gradient's sign is flipped", -gw)]
        grad_b: Alternatives = [("the gradient's sign is flipped", -gb)]
        grad_w.append(("the learning rate is already in it (lr·∂L/∂w is the step, not the gradient)", lr * gw))
        grad_b.append(("the learning rate is already in it (lr·∂L/∂b is the step, not the gradient)", lr * gb))
        delta_used = used["delta"][k]
        maps = delta_used.reshape(delta_used.shape[0], *layer.output_shape)
        flipped_delta = maps[:, :, ::-1, ::-1].reshape(delta_used.shape)
        if not np.array_equal(flipped_delta, delta_used):
            grad_w.append(
                (
                    "δ was flipped before it slid over the input (a true convolution a ∗ δ); the kernel's "
                    "gradient is the cross-correlation a ⋆ δ, nothing flipped",
                    mine.carried(mine.gradients(k, flipped_delta)[0]),
                )
            )
        rotated = gw[:, :, ::-1, ::-1]
        if not np.array_equal(rotated, gw):
            grad_w.append(("the kernel's gradient is written flipped (rotated 180°, as a true convolution)", rotated))
        transposed = gw.transpose(0, 1, 3, 2) if gw.shape[2] == gw.shape[3] else gw
        if not np.array_equal(transposed, gw):
            grad_w.append(("the kernel's gradient is written transposed (its rows as columns)", transposed))
        cells = layer.output_shape[1] * layer.output_shape[2]
        if cells > 1:
            grad_b.append(
                (
                    f"the bias gradient is δ averaged over the map's {cells} cells; it is their sum",
                    mine.carried(gb / cells),
                )
            )
        if mine.samples > 1:
            message, way = batch_slip(settings, "the gradient")
            factor = mine.samples if way == "times" else 1 / mine.samples
            grad_w.append((message, gw * factor))
            grad_b.append((message, gb * factor))
        for message, alternative in deltas:
            alt_w, alt_b = mine.gradients(k, written_or(given["delta"][k], alternative))
            grad_w.append((message, mine.carried(alt_w)))
            grad_b.append((message, mine.carried(alt_b)))
        new_w, new_b = _update_candidates(mine, given, k, grad_w, grad_b)
        found = {"delta": deltas, "grad_weights": grad_w, "grad_biases": grad_b, "weights": new_w, "biases": new_b}
        return {q: _likeliest_first(found[q], given[q][k], expected[q][k]) for q in found}


def _likeliest_first(alternatives: Alternatives, given: np.ndarray, expected: np.ndarray) -> Alternatives:
    """The alternatives, the one closest to the values written where they differ from the expected first.

    Each value is diagnosed by the first alternative that gives it, but two mistakes can give
    the same value in some cells of a map: a kernel's gradient written transposed and one
    written flipped agree on the anti-diagonal, a flattened δ read back columns first and one
    read channels last agree where the two orders meet. The mistake that gives the whole
    written map is the one made, so it is named in every cell; alternatives as close keep
    their order (the likelier mistake first): two that give the same values summed in
    another order differ by a rounding error of the last bit, not by what was written."""
    differs = ~np.isnan(given) & ~np.isclose(given, expected, rtol=0, atol=1e-12)
    if not differs.any() or len(alternatives) < 2:
        return alternatives
    written = given[differs]
    alike = 1e-9 * (1.0 + float(np.sum(np.abs(written))))  # closer than this is as close

    def distance(values: np.ndarray) -> float:
        gaps = np.abs(written - np.broadcast_to(values, given.shape)[differs])
        total = float(np.sum(np.where(np.isfinite(gaps), gaps, np.inf)))
        return float(np.floor(total / alike)) if math.isfinite(total) else math.inf

    return sorted(alternatives, key=lambda alternative: distance(alternative[1]))


def _delta_candidates(mine: SpatialPass, network: Network, k: int) -> Alternatives:
    """What δ of spatial layer ``k`` is when the layer above passed it down the wrong way."""
    expected = mine.expected["delta"][k]
    found: Alternatives = [(sign_slip(mine.settings), -expected)]
    if k == len(network.layers) - 1:
        return found
    layer, above = network.layers[k], network.layers[k + 1]
    delta_above = mine.used["delta"][k + 1]
    upstream = mine.upstream(k + 1, delta_above)
    activation = layer.activation
    if layer.has_activation and activation.name != "identity" and activation.activation.elementwise:
        found.append(
            (
                f"the factor f′(z) of {activation.name} is missing (δ = the gradient passed back, "
                "without the activation's derivative)",
                upstream,
            )
        )

    def through(message: str, passed: np.ndarray) -> None:
        found.append((message, mine.through(k, passed)))
        if layer.has_activation and activation.name != "identity" and activation.activation.elementwise:
            found.append((f"{message}, and f′(z) is missing", passed))

    if isinstance(above, _Pooling):
        n = above.kernel_size[0] * above.kernel_size[1]
        shared = mine.upstream(k + 1, delta_above, mode="avg")
        if above.mode == "max":
            through(
                "the max pool's δ was sent to every cell of its window; it goes to the window's max cell only",
                shared * n,
            )
            through(
                f"the max pool's δ was shared out over its window (divided by {n}, as average pooling does); "
                "it goes to the window's max cell only",
                shared,
            )
            if above.stride[0] < above.kernel_size[0] or above.stride[1] < above.kernel_size[1]:  # windows overlap
                for combine in ("first", "last"):  # the δ of one of the windows a cell wins, either end
                    through(
                        "a cell that is the max of several windows got one window's δ; it gets the sum of theirs",
                        mine.upstream(k + 1, delta_above, combine=combine),
                    )
        else:
            through(f"the average pool's δ was not divided by the window's size {n}", shared * n)
            through(
                "the average pool's δ was sent to the window's max cell only (as max pooling does); "
                f"each cell of the window gets δ/{n}",
                mine.upstream(k + 1, delta_above, mode="max"),
            )
    elif isinstance(above, Conv2d):
        unflipped = above.weights[:, :, ::-1, ::-1]
        if not np.array_equal(unflipped, above.weights):
            through(
                "δ went back through the kernel unflipped; passing δ back is a full convolution with the "
                "kernel rotated 180°",
                mine.upstream(k + 1, delta_above, unflipped),
            )
        through(
            "the updated kernel of the layer above was used (δ goes back through the kernel as it was before the step)",
            mine.upstream(k + 1, delta_above, mine.used["weights"][k + 1]),
        )
    elif isinstance(above, Flatten):
        c, h, w = above.input_shape
        s = delta_above.shape[0]
        if c > 1:
            through(
                "the flattened δ was read back channels last (Keras's order), not channels first",
                delta_above.reshape(s, h, w, c).transpose(0, 3, 1, 2).reshape(s, -1),
            )
        if h > 1 and w > 1:
            through(
                "the flattened δ was read back columns before rows",
                delta_above.reshape(s, c, w, h).transpose(0, 1, 3, 2).reshape(s, -1),
            )
    elif above.dense:
        through(
            "the updated weights of the layer above were used (δ goes back through the weights as they were "
            "before the step)",
            delta_above @ mine.used["weights"][k + 1],
        )
    return [(message, mine.carried(values)) for message, values in found]


def _update_candidates(
    mine: SpatialPass, given: dict[str, list[np.ndarray]], k: int, grad_w: Alternatives, grad_b: Alternatives
) -> tuple[Alternatives, Alternatives]:
    """The updated kernels and biases a slip in the step, or in an unwritten gradient, gives."""
    w_exp = mine.expected["weights"][k]
    rotated = w_exp[:, :, ::-1, ::-1]
    flipped = [] if np.array_equal(rotated, w_exp) else [("the new kernel is written flipped (rotated 180°)", rotated)]
    return update_slips(mine, given, k, grad_w, grad_b, flipped)
