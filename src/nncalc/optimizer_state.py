"""An optimizer's state as plain data and as a file, so that a second run continues the first.

``state_dict`` is what ``--format json`` adds under ``optimizer_state`` and what ``--write-state``
saves (as YAML): the optimizer's name and every parameter, the learning rate, the number of
steps made, and per layer the buffers PyTorch keeps for its weights and biases (``momentum_buffer``,
``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``, ``square_avg``, ``grad_avg``) as nested lists.
A parameter that made a different number of steps (biases frozen in an earlier run) says so
with a ``step`` of its own. ``load_state`` reads such a file (or the JSON output, which YAML
reads too) back against a network and checks it, every problem located in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from nncalc.errors import InputError, Location, Problem
from nncalc.loader import DocumentChecker
from nncalc.network import Network
from nncalc.optimizers import BoundOptimizer, ParamState, State, bind
from nncalc.yamlsource import MapNode, Node, ScalarNode, SeqNode, load_yaml, read_text

BUFFERS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg")
KEYS = ("optimizer", "lr", "step", "layers")
MAX_STEP = 2**53
_WHOLE = re.compile(r"[0-9]+")
# the buffers that are means of squares: below 0 their square root is NaN, and the step fails far from the cause
SQUARES = ("exp_avg_sq", "max_exp_avg_sq", "square_avg")
HEADER = "# optimizer state written by nncalc; continue with: nncalc backward NETWORK ... --state THIS-FILE"


def optimizer_dict(optimizer: BoundOptimizer) -> dict[str, Any]:
    """``{"name": "adam", "betas": [0.9, 0.999], ...}``: the optimizer and every parameter."""
    return {"name": optimizer.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in optimizer.options}}


def state_dict(network: Network, optimizer: BoundOptimizer, lr: float, state: State) -> dict[str, Any]:
    """The optimizer and its state as plain data (see the module docstring)."""
    step = state.step
    layers = []
    for k, layer in enumerate(network.layers):
        entry: dict[str, Any] = {"name": layer.name}
        for offset, what in enumerate(("weights", "biases")):
            param = state.params[2 * k + offset]
            values: dict[str, Any] = {} if param.step == step else {"step": param.step}
            values.update({name: _lists(getattr(param, name)) for name in BUFFERS if getattr(param, name) is not None})
            entry[what] = values
        layers.append(entry)
    return {"optimizer": optimizer_dict(optimizer), "lr": float(lr), "step": step, "layers": layers}


def _lists(values: np.ndarray) -> Any:
    return np.asarray(values, dtype=np.float64).tolist()


def dump_state(network: Network, optimizer: BoundOptimizer, lr: float, state: State) -> str:
    """The state as YAML text that ``load_state`` reads back to the same bits."""
    from nncalc.writer import yaml_number, yaml_string

    data = state_dict(network, optimizer, lr, state)

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return yaml_number(item)

    options = ", ".join(f"{k}: {value(v)}" for k, v in data["optimizer"].items() if k != "name")
    lines = [
        HEADER,
        f"optimizer: {{name: {data['optimizer']['name']}{', ' + options if options else ''}}}",
        f"lr: {yaml_number(data['lr'])}",
        f"step: {data['step']}",
        "layers:",
    ]
    for entry in data["layers"]:
        lines.append(f"  - name: {yaml_string(entry['name'])}")
        for what in ("weights", "biases"):
            buffers = entry[what]
            if not buffers:
                lines.append(f"    {what}: {{}}")
                continue
            lines.append(f"    {what}:")
            for name, item in buffers.items():
                if name == "step":
                    lines.append(f"      step: {item}")
                elif isinstance(item[0], list) if item else False:
                    lines.append(f"      {name}:")
                    lines.extend(f"        - {value(row)}" for row in item)
                else:
                    lines.append(f"      {name}: {value(item)}")
    return "\n".join(lines) + "\n"


def load_state(
    path: str | Path, network: Network, given: BoundOptimizer | None, max_bytes: int = 64 * 1024 * 1024
) -> tuple[BoundOptimizer, float, State]:
    """The optimizer, learning rate and state a file saved, checked against ``network`` and against
    the optimizer ``given`` on the command line (None: the file's is used). Raises InputError
    listing every problem, each located in the file."""
    return parse_state(read_text(Path(path), max_bytes), network, given, str(path))


def parse_state(text: str, network: Network, given: BoundOptimizer | None, source: str) -> tuple:
    """``load_state`` for text already read."""
    root = load_yaml(text, source)
    reader = _StateReader(source)
    found = reader.read(root, network, given)
    if reader.problems or found is None:
        raise InputError(reader.problems or [Problem("not an optimizer state", Location(source))])
    return found


class _StateReader(DocumentChecker):
    """Reads a state file's located nodes, collecting problems."""

    def read(self, root: Node, network: Network, given: BoundOptimizer | None) -> tuple | None:
        if isinstance(root, MapNode) and "optimizer_state" in root.entries:  # backward's --format json output
            root = root.entries["optimizer_state"][1]
        entries = self.entries(root, KEYS, "an optimizer state", "")
        if entries is None:
            return None
        missing = [key for key in KEYS if key not in entries]
        if missing:
            self.error(root, f"an optimizer state needs {', '.join(missing)} (written by backward --write-state)")
            return None
        optimizer = self.optimizer(entries["optimizer"][1], given)
        lr = self.number(entries["lr"][1], "lr")
        if lr is not None and not lr[0] >= 0:
            self.error(entries["lr"][1], f"lr must be ≥ 0, got {lr[1]}")
        step = self.count(entries["step"][1], "step")
        layers_node = entries["layers"][1]
        if not isinstance(layers_node, SeqNode):
            self.error(layers_node, f"layers must be a list, one item per layer, got {layers_node.kind}")
            return None
        if len(layers_node.items) != len(network.layers):
            self.error(
                layers_node,
                f"the state has {len(layers_node.items)} layers; "
                f"the network {network.source} has {len(network.layers)}",
            )
            return None
        if optimizer is None or step is None:
            return None
        params: list[ParamState | None] = []
        for k, (layer, node) in enumerate(zip(network.layers, layers_node.items, strict=True)):
            params.extend(self.layer(node, k, layer, network, optimizer, step))
        if self.problems or lr is None or any(p is None for p in params):
            return None
        return optimizer, lr[0], State(tuple(params))

    def count(self, node: Node, what: str) -> int | None:
        # at most 2⁵³, PyTorch's step being a float: a longer count overflowed β₁ᵗ's float(t), and one
        # of over 4300 digits int() itself; str.isdigit() also took '²', which int() refuses
        text = node.text if isinstance(node, ScalarNode) and not node.quoted else ""
        if not _WHOLE.fullmatch(text) or len(text) > 17 or int(text) > MAX_STEP:
            self.error(node, f"{what} must be a whole number from 0 to 2⁵³, the number of steps made")
            return None
        return int(text)

    def optimizer(self, node: Node, given: BoundOptimizer | None) -> BoundOptimizer | None:
        if isinstance(node, ScalarNode):
            name, options = node.text, {}
        elif isinstance(node, MapNode) and "name" in node.entries:
            name = node.entries["name"][1].text if isinstance(node.entries["name"][1], ScalarNode) else ""
            options = {}
            for key, (_, value) in node.entries.items():
                if key == "name":
                    continue
                if isinstance(value, SeqNode):
                    options[key] = [self._plain(item) for item in value.items]
                else:
                    options[key] = self._plain(value)
        else:
            self.error(node, "optimizer must be a name or a mapping with a name, as --optimizer takes it")
            return None
        try:
            found = bind(name, "optimizer", **options)
        except InputError as error:
            for problem in error.problems:
                self.error(node, problem.message)
            return None
        if given is not None and given != found:
            self.error(
                node,
                f"the state is of {_describe(found)}, --optimizer gives {_describe(given)}; "
                "leave --optimizer out to continue with the file's",
            )
            return None
        return found

    @staticmethod
    def _plain(node: Node) -> Any:
        """A scalar's value for ``bind``: true/false, else the text (``bind`` reads numbers)."""
        if isinstance(node, ScalarNode) and not node.quoted and node.text in ("true", "false"):
            return node.text == "true"
        return node.text if isinstance(node, ScalarNode) else _Kind(node.kind)

    def layer(
        self, node: Node, k: int, layer: Any, network: Network, optimizer: BoundOptimizer, step: int
    ) -> list[ParamState | None]:
        prefix = f"{network.layer_label(k)}: "
        entries = self.entries(node, ("name", "weights", "biases"), "a layer's state", prefix)
        if entries is None:
            return [None, None]
        if "name" in entries:
            name = self.text(entries["name"][1], f"{prefix}name")
            if name is not None and name != layer.name:
                self.error(
                    entries["name"][1], f"the state's layer {k + 1} is {name!r}; the network's is {layer.name!r}"
                )
        found = []
        arrays = (layer.weights, layer.biases) if layer.dense else layer.parameter_arrays  # empty: pooling, flatten
        for what, param in zip(("weights", "biases"), arrays, strict=True):
            if what not in entries:
                self.error(node, f"{prefix}{what} is missing")
                found.append(None)
                continue
            found.append(self.param(entries[what][1], f"{prefix}{what}: ", param, optimizer, step))
        return found

    def param(
        self, node: Node, prefix: str, param: np.ndarray, optimizer: BoundOptimizer, step: int
    ) -> ParamState | None:
        fresh = optimizer.spec.new_state(optimizer, param)
        expected = [name for name in BUFFERS if getattr(fresh, name) is not None]
        entries = self.entries(node, ("step", *BUFFERS), "a parameter's state", prefix)
        if entries is None:
            return None
        own = self.count(entries["step"][1], f"{prefix}step") if "step" in entries else step
        if own is None:
            return None
        if optimizer.name == "sgd" and optimizer["momentum"] != 0 and own > 0:
            expected.append("momentum_buffer")  # made by the first step
        buffers: dict[str, np.ndarray] = {}
        for name in BUFFERS:
            if name in entries and name not in expected:
                self.error(entries[name][0], f"{prefix}{optimizer.spec.title} with these parameters keeps no {name}")
            elif name in expected and name not in entries:
                keep = ", ".join(expected)
                self.error(node, f"{prefix}{name} is missing ({optimizer.spec.title} keeps {keep})")
            elif name in entries:
                values = self.values(entries[name][1], f"{prefix}{name}", param.shape)
                if values is not None and name in SQUARES and not (values >= 0).all():
                    lowest = float(values.min())
                    self.error(entries[name][1], f"{prefix}{name} must be ≥ 0, a mean of squares; got {lowest:g}")
                elif values is not None:
                    buffers[name] = values
        if len(buffers) != len(expected):
            return None
        return ParamState(own, **buffers)

    def values(self, node: Node, what: str, shape: tuple[int, ...]) -> np.ndarray | None:
        if len(shape) > 2:  # a convolution's kernel (out, in, kh, kw): a list of its sub-arrays
            if not isinstance(node, SeqNode) or len(node.items) != shape[0]:
                self.error(node, f"{what} must be a list of {shape[0]} arrays of {' × '.join(map(str, shape[1:]))}")
                return None
            parts = [self.values(item, f"{what}[{k}]", shape[1:]) for k, item in enumerate(node.items)]
            if any(part is None for part in parts):
                return None
            array = np.stack(parts)
            array.flags.writeable = False
            return array
        if len(shape) == 1:
            if not isinstance(node, SeqNode):
                self.error(node, f"{what} must be a list of {shape[0]} numbers, got {node.kind}")
                return None
            row = self.row(node, what)
            if row is None:
                return None
            array = np.array(row[0], dtype=np.float64)
        else:
            matrix = self.matrix(node, what, allow_flat=False)
            if matrix is None:
                return None
            try:
                array = np.array(matrix.values, dtype=np.float64)
            except ValueError:
                self.error(node, f"{what}: the rows differ in length")
                return None
        if array.shape != shape:
            shown = " × ".join(map(str, array.shape))
            self.error(node, f"{what} has shape {shown}; the parameter has {' × '.join(map(str, shape))}")
            return None
        array.flags.writeable = False
        return array


class _Kind:
    """A list or mapping where ``bind`` wants a number or true/false: named so in its message."""

    def __init__(self, kind: str):
        self.kind = kind

    def __str__(self) -> str:
        return self.kind


def _describe(optimizer: BoundOptimizer) -> str:
    changed = optimizer.changed()
    if not changed:
        return optimizer.name
    return optimizer.name + " (" + ", ".join(f"{k} {v}" for k, v in changed.items()) + ")"
