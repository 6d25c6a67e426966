"""A person's answers for a convolution, pooling or flatten layer: a matrix per channel.

The format (see README.md, "Grading a convolution")::

    layers:
      - z: [[0, 7, 7],        # a convolution: z and a as its maps, one matrix per channel
            [0, 6, 8],        # (a map of one channel may be written as the matrix alone)
            [0, 7, 7]]
        a: [[0, 7, 7], [0, 6, 8], [0, 7, 7]]
      - a: [[7, 8], [7, 8]]   # pooling: a (z is accepted too: pooling's z is its a)
      - a: [7, 8, 7, 8]       # flatten: the values in order (or its input's maps), or left out
      - z: [3.6, -3.6]        # dense layers after it, as before

With ``--target`` (the backward pass), each spatial layer may also hold ``delta``, its δ
map written as z is (a flatten's δ: the values in order, or its input's maps); and a
convolution its kernels' and biases' gradients and updated values (and, under
``optimizer_state``, the values of an optimizer's step, written as the kernels and the
biases are: see ``nncalc.answers``)::

      - delta: [[0, 0.2, 0], [0, 0, 0.8], [0, 0.2, 0]]
        grad_weights: [[[[1.2, 2.4, 2.2], [1.4, 2.6, 2.2], [1.2, 2.2, 2.2]]]]
        grad_biases: [1.2]
        weights: [[[[0.88, -0.24, -1.22], ...]]]   # the updated kernels, shaped as grad_weights
        biases: [-0.12]

A convolution's kernels are written as its network file writes ``weights``, (out
channels, in channels, rows, columns): a list per out channel of a matrix per in
channel; one matrix for a convolution of one channel in and one out; a list of matrices
where there is one channel in or one out; or flat, in that order. Its biases (and their
gradients) are a value per out channel.

A map of several channels is a list of matrices, ``z: [[[...]], [[...]]]``, or by channel,
``z: {0: [[...]], 1: [[...]]}`` (``map 0`` and ``channel 0`` name channel 0 too). A map may
also be written flat, its C·H·W values in PyTorch's order (channels, then rows, then
columns). ``~`` leaves out a value, a row's value, a channel or the whole quantity.

With several samples (a batch: ``--input`` given once per sample), z, a and δ are a list
of one map per sample, in the order of the inputs, each written as one sample's map is::

      - delta: [[[0, 0.2, 0], [0, 0, 0.8], [0, 0.2, 0]],    # sample 0: its map (one channel)
                [[0.1, 0, 0], [0, 0, 0.4], [0, 0.3, 0]]]    # sample 1
        grad_weights: [[...]]    # the batch's: averaged (--batch mean) or summed over the samples

Every value lands in the slot of its cell in flatten order, so the layer's sheet is the
same record as a dense layer's, one slot per value the layer gives.
"""

from __future__ import annotations

import re
from math import prod
from typing import TYPE_CHECKING, Any

from nncalc.numbers import short_text
from nncalc.spatial import describe_shape
from nncalc.yamlsource import MapNode, Node, ScalarNode, SeqNode

if TYPE_CHECKING:
    from nncalc.network import AnyLayer

SPATIAL_QUANTITIES = ("z", "a", "delta")  # a map each (a flatten's: its values, or its input's maps)
KERNEL_QUANTITIES = ("grad_weights", "weights")  # a convolution's kernels: (out, in, rows, columns)
CHANNEL_QUANTITIES = ("grad_biases", "biases")  # a convolution's: one value per out channel
# ASCII: a channel is numbered as every number is read, never in another script's digits (٠ is not 0)
_CHANNEL = re.compile(r"^(?:(?:map|channel)\s*)?(\d+)$", re.IGNORECASE | re.ASCII)


def map_shape(layer: AnyLayer) -> tuple[int, int, int]:
    """The (channels, rows, columns) a layer's values are written as: its output, or for a flatten its input."""
    shape = layer.output_shape if layer.spatial_output else layer.input_shape
    return shape  # type: ignore[return-value]


def parameter_slots(layer: AnyLayer) -> tuple[list, list]:
    """Empty slots for a spatial layer's kernels, (out, in, rows, columns) nested, and for its
    biases, one per out channel; none for a pooling or a flatten, which have no parameters."""
    if layer.kind != "conv2d":
        return [], []
    out, into, rows, columns = layer.weights.shape  # type: ignore[union-attr]
    kernels = [[[[None] * columns for _ in range(rows)] for _ in range(into)] for _ in range(out)]
    return kernels, [None] * out


def _depth(node: Node) -> int:
    """How deep lists nest in ``node``, read down the first list written at each level (0: a number)."""
    depth = 0
    while isinstance(node, SeqNode):
        depth += 1
        node = next((item for item in node.items if not left_out(item)), None)  # type: ignore[assignment]
    return depth


def _channel(name: str, channels: int) -> int | None:
    """The channel a key names (``0``, ``map 0``, ``channel 0``), or None when it names none of ``channels``.

    The digits are compared by their count first: int() refuses more than 4,300 of them."""
    found = _CHANNEL.match(name.strip())
    digits = found.group(1).lstrip("0") if found is not None else ""
    if found is None or len(digits) > len(str(channels)):
        return None
    index = int(digits or "0")
    return index if index < channels else None


def left_out(node: Node) -> bool:
    """Whether a value is written as left out: ``~``, ``null`` or nothing."""
    return isinstance(node, ScalarNode) and not node.quoted and node.text in ("~", "null", "")


class SpatialAnswers:
    """What the answers checker does for a spatial layer; it supplies ``error`` and ``answer``."""

    def error(self, where: Any, message: str) -> None:  # pragma: no cover - the checker's
        raise NotImplementedError

    def answer(self, node: Node, what: str) -> Any:  # pragma: no cover - the checker's
        raise NotImplementedError

    def spatial_layer(self, node: MapNode, layer: AnyLayer, label: str, slots: dict[str, list]) -> None:
        """A spatial layer's ``z``, ``a`` and ``delta``, each a map, into ``slots[q][0]`` (one slot per
        cell); a convolution's kernels and biases, their gradients and updated values, into theirs."""
        conv = layer.kind == "conv2d"
        for key, (key_node, value) in node.entries.items():
            if key in SPATIAL_QUANTITIES:
                self.maps_per_sample(value, layer, f"{label}: {key}", slots[key])
            elif conv and key in KERNEL_QUANTITIES:
                self.kernels(value, layer, f"{label}: {key}", slots[key])
            elif conv and key in CHANNEL_QUANTITIES:
                self.channel_values(value, layer, f"{label}: {key}", slots[key])
            else:
                known = "z, a, delta (each a matrix per channel)"
                if conv:
                    known += (
                        ", grad_weights, weights (a matrix per kernel), grad_biases, biases (one per out channel), "
                        "optimizer_state (the values of an optimizer's step, shaped as the kernels and biases)"
                    )
                self.error(
                    key_node, f"{label}: unknown key {short_text(key)} (a {layer.kind} layer's answers are {known})"
                )

    def maps_per_sample(self, node: Node, layer: AnyLayer, what: str, slots: list) -> None:
        """A map for each sample into ``slots[sample]``: the map itself for one sample; for a
        batch a list of one map per sample, in the order of the inputs, each written as one
        sample's is (``~`` for a sample left out). Samples are counted from 1, as the grade shows them."""
        samples = len(slots)
        if samples == 1:
            self.spatial_quantity(node, layer, what, slots[0])
            return
        if left_out(node):
            return
        size = f"a {describe_shape(map_shape(layer))} map each"
        # each sample's map is a list (a matrix per channel, or flat), a mapping by channel, or ~
        per_sample = isinstance(node, SeqNode) and all(
            isinstance(item, (SeqNode, MapNode)) or left_out(item) for item in node.items
        )
        if not per_sample:
            kind = "a list of numbers" if isinstance(node, SeqNode) else node.kind
            self.error(
                node,
                f"{what}: with {samples} samples, write a list of {samples} maps, one per sample ({size}), got {kind}",
            )
            return
        if len(node.items) != samples:
            self.error(
                node,
                f"{what} has {len(node.items)} entr{'ies' if len(node.items) != 1 else 'y'}, expected {samples}, "
                f"one map per sample in the order of the inputs ({size}; write ~ for a sample left out)",
            )
            return
        for sample, item in enumerate(node.items):
            self.spatial_quantity(item, layer, f"{what}, sample {sample + 1} of {samples}", slots[sample])

    def kernels(self, node: Node, layer: AnyLayer, what: str, slot: list) -> None:
        """A convolution's kernels (out, in, rows, columns) as its network file writes them, one matrix
        where there is one kernel, a list of matrices where one channel goes in or out, or flat."""
        out, into, rows, columns = layer.weights.shape  # type: ignore[union-attr]
        count = out * into
        size = (
            f"{out}×{into} kernel{'s' if count != 1 else ''} of {rows}×{columns}: out channels×in channels×rows×columns"
        )
        if left_out(node):
            return
        if not isinstance(node, SeqNode):
            self.error(node, f"{what} must be the kernels as matrices ({size}), got {node.kind}")
            return
        depth = _depth(node)
        if depth == 1:  # flat: out, in, rows, columns
            if len(node.items) != count * rows * columns:
                self.error(
                    node,
                    f"{what} has {len(node.items)} value{'s' if len(node.items) != 1 else ''}, expected "
                    f"{count * rows * columns} = {out}·{into}·{rows}·{columns} ({size}; written flat)",
                )
                return
            for n, item in enumerate(node.items):
                o, rest = divmod(n, into * rows * columns)
                i, rest = divmod(rest, rows * columns)
                r, c = divmod(rest, columns)
                slot[o][i][r][c] = self.answer(item, f"{what}, value {n + 1}")
            return
        if depth == 2:  # one matrix
            if count != 1:
                self.error(
                    node,
                    f"{what}: one matrix is for a convolution of one channel in and one out; this one has {size}: "
                    f"write a list of {out} (one per out channel) of {into} matrices (one per in channel)",
                )
                return
            self.kernel_matrix(node, (rows, columns), what, slot[0][0], size)
            return
        if depth == 3:  # a list of matrices: one channel in, or one out
            if out != 1 and into != 1:
                self.error(
                    node,
                    f"{what}: a list of matrices is for a convolution of one channel in or one out; this one has "
                    f"{size}: write a list of {out} (one per out channel) of {into} matrices (one per in channel)",
                )
                return
            if len(node.items) != count:
                self.error(node, f"{what} has {len(node.items)} matrices, expected {count} ({size})")
                return
            for n, item in enumerate(node.items):
                o, i = divmod(n, into)
                self.kernel_matrix(item, (rows, columns), f"{what}, kernel [{o},{i}]", slot[o][i], size)
            return
        if depth != 4 or not all(isinstance(item, SeqNode) or left_out(item) for item in node.items):
            self.error(node, f"{what} must be the kernels as the network file writes them ({size})")
            return
        if len(node.items) != out:
            self.error(node, f"{what} has {len(node.items)} entries, expected {out}, one per out channel ({size})")
            return
        for o, per_out in enumerate(node.items):
            if left_out(per_out):
                continue
            assert isinstance(per_out, SeqNode)
            if len(per_out.items) != into:
                self.error(
                    per_out,
                    f"{what}, out channel {o} has {len(per_out.items)} matri{'ces' if len(per_out.items) != 1 else 'x'}"
                    f", expected {into}, one per in channel ({size})",
                )
                continue
            for i, item in enumerate(per_out.items):
                self.kernel_matrix(item, (rows, columns), f"{what}, kernel [{o},{i}]", slot[o][i], size)

    def kernel_matrix(self, node: Node, shape: tuple[int, int], what: str, slot: list, size: str) -> None:
        """One kernel's matrix of rows × columns into ``slot[r][c]``."""
        rows, columns = shape
        if left_out(node):
            return
        if not isinstance(node, SeqNode) or not all(isinstance(r, SeqNode) or left_out(r) for r in node.items):
            kind = node.kind if not isinstance(node, SeqNode) else "numbers and rows mixed"
            self.error(node, f"{what} must be a matrix, a list of {rows} rows of {columns} values ({size}), got {kind}")
            return
        if len(node.items) != rows:
            self.error(
                node, f"{what} has {len(node.items)} row{'s' if len(node.items) != 1 else ''}, expected {rows} ({size})"
            )
            return
        for r, row in enumerate(node.items):
            if left_out(row):
                continue
            assert isinstance(row, SeqNode)
            if len(row.items) != columns:
                self.error(
                    row,
                    f"{what}, row {r} has {len(row.items)} value{'s' if len(row.items) != 1 else ''}, "
                    f"expected {columns} ({size})",
                )
                continue
            for c, item in enumerate(row.items):
                slot[r][c] = self.answer(item, f"{what}, row {r}, column {c}")

    def channel_values(self, node: Node, layer: AnyLayer, what: str, slot: list) -> None:
        """A value per out channel: a list, one number for one channel, or by channel (``{0: 0.1}``)."""
        out = len(slot)
        if isinstance(node, ScalarNode):
            if out == 1 or left_out(node):
                slot[0] = self.answer(node, what)
            else:
                self.error(node, f"{what}: one number is for one out channel; write a list of {out}, one per channel")
            return
        if isinstance(node, MapNode):
            seen: set[int] = set()
            for name, (key_node, value) in node.entries.items():
                c = _channel(name, out)
                if c is None:
                    self.error(
                        key_node, f"{what}: unknown channel {short_text(name)} (the out channels are 0 to {out - 1})"
                    )
                    continue
                if c in seen:  # 0, 00 and channel 0 are one channel: keeping the last would drop a value
                    self.error(key_node, f"{what}: channel {c} is written twice")
                    continue
                seen.add(c)
                slot[c] = self.answer(value, f"{what}, channel {c}")
            return
        if not isinstance(node, SeqNode) or not all(isinstance(item, ScalarNode) for item in node.items):
            self.error(node, f"{what} must be a list of numbers, one per out channel ({out})")
            return
        if len(node.items) != out:
            self.error(
                node,
                f"{what} has {len(node.items)} value{'s' if len(node.items) != 1 else ''}, expected {out} "
                "(one per out channel; write ~ for one you left out)",
            )
            return
        for c, item in enumerate(node.items):
            slot[c] = self.answer(item, f"{what}, channel {c}")

    def spatial_quantity(self, node: Node, layer: AnyLayer, what: str, slot: list) -> None:
        """One quantity of a spatial layer: ~, matrices by channel, a list of matrices, one matrix, or flat."""
        shape = map_shape(layer)
        channels = shape[0]
        size = f"a {describe_shape(shape)} map: channels×rows×columns"
        if left_out(node):
            return
        if isinstance(node, MapNode):
            seen: set[int] = set()
            for name, (key_node, value) in node.entries.items():
                c = _channel(name, channels)
                if c is None:
                    self.error(
                        key_node,
                        f"{what}: unknown channel {short_text(name)} (the channels are 0 to {channels - 1}; {size})",
                    )
                    continue
                if c in seen:
                    self.error(key_node, f"{what}: channel {c} is written twice")
                    continue
                seen.add(c)
                self.channel_matrix(value, shape, c, f"{what}, channel {c}", slot)
            return
        if not isinstance(node, SeqNode):
            self.error(node, f"{what} must be a matrix per channel ({size}), got {node.kind}")
            return
        items = node.items
        rows_or_channels = channels if channels > 1 else shape[1]
        if all(left_out(item) for item in items) and len(items) == rows_or_channels != prod(shape):
            return  # every row (every channel) left out: nothing written, as ~ alone
        if all(isinstance(item, ScalarNode) for item in items):
            if len(items) != prod(shape):
                self.error(
                    node,
                    f"{what} has {len(items)} value{'s' if len(items) != 1 else ''}, expected "
                    f"{prod(shape)} ({size}; written flat, channels then rows then columns)",
                )
                return
            for j, item in enumerate(items):
                slot[j] = self.answer(item, f"{what}, value {j + 1}")
            return
        if not all(isinstance(item, SeqNode) or left_out(item) for item in items):
            self.error(node, f"{what} mixes numbers and rows: write a matrix per channel ({size})")
            return
        kinds: dict[int, str] = {}  # each row written: a row of values, or a matrix (a list of rows)
        for item in items:
            if isinstance(item, SeqNode) and item.items:
                inner = [isinstance(value, SeqNode) for value in item.items if not left_out(value)]
                if any(inner) and not all(inner):
                    self.error(item, f"{what} mixes numbers and rows in one row ({size})")
                    return
                kinds[id(item)] = "matrix" if any(inner) else "row"
        if len(set(kinds.values())) > 1:
            self.error(node, f"{what} mixes rows of values and matrices: write a matrix per channel ({size})")
            return
        nested = "matrix" in kinds.values()
        if not nested:  # one matrix: the map of a one-channel layer
            if channels != 1:
                self.error(
                    node,
                    f"{what}: one matrix is for a map of one channel; this one has {channels} "
                    f"({size}): write a list of {channels} matrices, one per channel",
                )
                return
            self.channel_matrix(node, shape, 0, what, slot)
            return
        if len(items) != channels:
            self.error(
                node,
                f"{what} has {len(items)} matri{'ces' if len(items) != 1 else 'x'}, expected {channels} "
                f"(one per channel; {size})",
            )
            return
        for c, item in enumerate(items):
            self.channel_matrix(item, shape, c, f"{what}, channel {c}", slot)

    def channel_matrix(self, node: Node, shape: tuple[int, ...], channel: int, what: str, slot: list) -> None:
        """One channel's matrix of rows × columns, into its cells' slots (flatten order)."""
        _, height, width = shape
        size = f"a {describe_shape(shape)} map: channels×rows×columns"
        if left_out(node):
            return
        if not isinstance(node, SeqNode) or not all(isinstance(r, SeqNode) or left_out(r) for r in node.items):
            kind = node.kind if not isinstance(node, SeqNode) else "a list of numbers"
            self.error(node, f"{what} must be a matrix, a list of {height} rows of {width} values ({size}), got {kind}")
            return
        if len(node.items) != height:
            self.error(
                node,
                f"{what} has {len(node.items)} row{'s' if len(node.items) != 1 else ''}, expected {height} ({size})",
            )
            return
        start = channel * height * width
        for r, row in enumerate(node.items):
            if left_out(row):
                continue
            assert isinstance(row, SeqNode)
            if len(row.items) != width:
                self.error(
                    row,
                    f"{what}, row {r} has {len(row.items)} value{'s' if len(row.items) != 1 else ''}, "
                    f"expected {width} ({size})",
                )
                continue
            for k, item in enumerate(row.items):
                slot[start + r * width + k] = self.answer(item, f"{what}, row {r}, column {k}")
