"""Forward propagation over a batch, keeping every z and every a.

One matrix product per layer for the whole batch: Z = A_prev · Wᵀ + b, A = f(Z); a
spatial layer (``nncalc.spatial``) computes its Z its own way, and every Z and A is kept
2-D, (samples, values), maps flattened in PyTorch's order.
Nothing is computed in place and nothing is rounded unless asked (``decimals``),
so a renderer can show any intermediate value exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nncalc.errors import Location, Problem
from nncalc.network import Network
from nncalc.records import record


@record
class LayerTrace:
    """One layer's values for every sample: z and a, each of shape (samples, neurons)."""

    z: np.ndarray
    a: np.ndarray


@record
class Trace:
    """A forward pass: the inputs (samples, inputs) and each layer's z and a, in order."""

    inputs: np.ndarray
    layers: tuple[LayerTrace, ...]

    @property
    def output(self) -> np.ndarray:
        return self.layers[-1].a

    def activations(self, index: int) -> np.ndarray:
        """What layer ``index`` received: the inputs for layer 0, else the previous layer's a."""
        return self.inputs if index == 0 else self.layers[index - 1].a


@record
class NonFinite:
    """Where a forward pass first produced an infinity or NaN."""

    layer: int
    sample: int
    neuron: int
    quantity: str  # "z" or "a"
    value: float


def round_half_up(values: np.ndarray, decimals: int) -> np.ndarray:
    """Round as on paper: halves away from zero, judged on the decimal value (1.005 → 1.01).

    1.005 is stored as 1.00499999999999989…, just below the half, so it is compared not with
    the half itself but with the float nearest to the decimal half (the same 1.005): a value
    is rounded up exactly when it is at least that float (0.124999996 stays 0.12), unless it
    is already the float of a number with that many decimals, where floats are too coarse
    to hold the next digit. Past 2**52 units of the last decimal a float holds no digit
    beyond it, and the value is returned as it is.
    """
    scale = 10.0**decimals
    magnitude = np.abs(values)
    scaled = magnitude * scale
    whole = np.floor(scaled)
    lower = whole / scale
    half = (whole + 0.5) / scale  # the float nearest to the decimal half between whole and whole + 1
    up = (magnitude >= half) & (magnitude != lower)
    rounded = np.sign(values) * (whole + up) / scale
    return np.where(scaled < 2.0**52, rounded, values)


def forward(network: Network, inputs: np.ndarray, decimals: int | None = None, round_z: bool = False) -> Trace:
    """Run the batch ``inputs`` (samples, inputs) through ``network``.

    With ``decimals``, every neuron's output a is rounded (half up) before it is passed
    on, the way a hand calculation carries rounded values from layer to layer (and the
    way the course lab gets a = 0.7153 from z = 0.921035). With ``round_z`` too, z is
    rounded before the activation is applied to it.
    """
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != network.n_inputs:
        raise ValueError(f"inputs must have shape (samples, {network.n_inputs}), got {x.shape}")
    a = x
    layers = []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in network.layers:
            z = layer.pre_activation(a)  # a dense layer's linear, a convolution, a pooling, a flatten
            if decimals is not None and round_z:
                z = round_half_up(z, decimals)
            a = layer.activation(z) if layer.has_activation else z  # pooling and flatten: a is z
            if decimals is not None:
                a = round_half_up(a, decimals)
            layers.append(LayerTrace(z, a))
    return Trace(x, tuple(layers))


BLOCK_ROWS = 1024
PAD_STEPS = (8, 16, 32, 64)  # row counts tried, smallest first, for padding a short block
_PAD_TO: dict[tuple[int, int], int] = {}  # (inputs, neurons) → rows a short block is padded to a multiple of


def linear(a: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """Z = A·Wᵀ + b, with each sample's bits independent of the batch it is in.

    BLAS picks its route by the shape of a product (a matrix-vector product for one row,
    other kernels for small matrices, tails for odd sizes), and the routes can differ in
    the last bit. So rows are multiplied in blocks of BLOCK_ROWS, and a short block (a
    small batch, or the rest of a large one) is padded with zero rows: to a multiple of a
    few rows where this BLAS, for this shape, gives exactly the bits of a full block (it
    is checked once per shape, see ``_pad_multiple``), else to a full block. Streamed
    chunks of any size give the one-shot result bit for bit, and one sample costs a
    product of a few rows, not of 1024.
    """
    rows = a.shape[0]
    transposed = weights.T
    if rows < BLOCK_ROWS:  # one short block (one sample, a small batch): no array to assemble
        padded = np.zeros((pad_rows(rows, transposed), a.shape[1]), dtype=np.float64)
        padded[:rows] = a
        return np.add((padded @ transposed)[:rows], biases)
    out = np.empty((rows, weights.shape[0]), dtype=np.float64)
    full = rows - rows % BLOCK_ROWS
    for start in range(0, full, BLOCK_ROWS):
        np.matmul(a[start : start + BLOCK_ROWS], transposed, out=out[start : start + BLOCK_ROWS])
    if full < rows:
        rest = rows - full
        padded = np.zeros((pad_rows(rest, transposed), a.shape[1]), dtype=np.float64)
        padded[:rest] = a[full:]
        out[full:] = (padded @ transposed)[:rest]
    out += biases
    return out


def pad_rows(rows: int, transposed: np.ndarray) -> int:
    """How many rows ``linear`` multiplies a short block of ``rows`` rows (fewer than
    BLOCK_ROWS) as, through weights whose transpose is ``transposed``: ``rows`` rounded up
    to the multiple ``_pad_multiple`` found for the shape. A loop that multiplies blocks of
    the same size many times (training) makes its padded block once, with this many rows."""
    step = _pad_multiple(transposed)
    return -(-rows // step) * step


def _pad_multiple(transposed: np.ndarray) -> int:
    """The row multiple a short block may be padded to for ``A @ transposed`` and still give,
    row for row, the bits of a full BLOCK_ROWS block; BLOCK_ROWS when no smaller one does.

    Which kernel BLAS runs, and so the order of each sum, depends on the shapes and the
    machine, not on the values: one comparison per shape, on random rows through these
    weights, at several multiples of each candidate, settles it for the process.
    """
    shape = transposed.shape
    found = _PAD_TO.get(shape)
    if found is None:
        probe = np.random.default_rng(0).standard_normal((BLOCK_ROWS, shape[0]))
        reference = probe @ transposed
        found = next(
            (
                step
                for step in PAD_STEPS
                if all(np.array_equal(probe[: k * step] @ transposed, reference[: k * step]) for k in (1, 2, 3, 5, 9))
            ),
            BLOCK_ROWS,
        )
        _PAD_TO[shape] = found
    return found


def first_non_finite(trace: Trace) -> NonFinite | None:
    """The first infinity or NaN in layer order (z before a), or None when all are finite."""
    for index, layer in enumerate(trace.layers):
        for quantity, values in (("z", layer.z), ("a", layer.a)):
            bad = ~np.isfinite(values)
            if bad.any():
                sample, neuron = np.argwhere(bad)[0]
                return NonFinite(index, int(sample), int(neuron), quantity, float(values[sample, neuron]))
    return None


def non_finite_problem(
    network: Network, trace: Trace, source: str | None = None, lines: Sequence[int] | np.ndarray | None = None
) -> Problem | None:
    """The first infinity or NaN of ``trace`` as a message a person can act on, or None.

    With ``source`` and ``lines`` (the line each sample was read from) the problem is
    located at that line; otherwise it names the sample by its number.
    """
    bad = first_non_finite(trace)
    if bad is None:
        return None
    what = "NaN" if bad.value != bad.value else "an overflow (inf)"
    layer = network.layers[bad.layer]
    where = f"{network.layer_label(bad.layer)}, {'neuron' if layer.dense else 'cell'} {layer.neurons[bad.neuron]}"
    if source is not None and lines is not None:
        return Problem(f"{where}: {bad.quantity} is {what}", Location(source, int(lines[bad.sample])))
    return Problem(f"{where}, sample {bad.sample + 1}: {bad.quantity} is {what}")
