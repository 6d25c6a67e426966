"""The file format of spatial layers: reading (checked, located), writing back, and the JSON Schema.

One ``LayerFormat`` per layer type in ``FORMATS``, by the name a file gives in ``type:``:
its record class (``nncalc.spatial``), the keys it takes, how to read it (every independent mistake reported, with the
arithmetic of shapes spelled out), how to write it back and its schema. The loader
(``nncalc.loader``) hands a layer whose ``type:`` is one of these to its ``read``; the
writer and the schema take ``write`` and ``schema``.

    - type: conv2d                  # PyTorch's Conv2d: weights (out, in, kh, kw)
      weights: [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]]   # or kernel: Keras's (kh, kw, in, out)
      biases: [0]                   # one per output channel, or one number for all (default 0)
      stride: 1                     # or [sh, sw] (default 1)
      padding: 0                    # or [ph, pw], zeros (default 0)
      activation: relu              # as a dense layer's (default: the network's, else sigmoid)
    - type: maxpool2d               # or avgpool2d
      kernel_size: 2                # or [kh, kw]
      stride: 2                     # default: kernel_size
      padding: 0                    # at most half the kernel (PyTorch's rule)
    - type: flatten
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.convolution import output_length
from nncalc.numbers import NotANumber, parse_count
from nncalc.records import record
from nncalc.spatial import (
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    SpatialLayout,
    describe_shape,
)
from nncalc.yamlsource import MapNode, Node, NumberRow, ScalarNode, SeqNode

if TYPE_CHECKING:
    from nncalc.loader import DocumentChecker

Shape = tuple[int, ...]
MAX_VALUES = 1 << 22
"""The most values a layer's maps (or the inputs' picture) may hold per sample: 4×1024×1024.

Every value is named (``x.0.12.34``, ``conv.0.12.34``) and its z and a are kept, some 140
bytes a value before anything is computed: this keeps a network to about 600 MB a layer."""
MAX_WINDOW_VALUES = 1 << 26  # the most values a convolution's windows of one sample may hold (im2col, 512 MB)


def too_large(shape: Shape) -> str:
    """``are too large (4,857,616 values; at most 4,194,304)``: why a picture or maps are refused."""
    count = 1
    for n in shape:
        count *= n
    return f"are too large ({count:,} values; at most {MAX_VALUES:,})"


class Context(NamedTuple):
    """What reading one layer needs: the checker (for its helpers and problems), the layer's node and
    entries, how messages name it, what feeds it, and the activation it takes when it names none."""

    checker: DocumentChecker
    node: MapNode
    entries: dict[str, tuple[ScalarNode, Node]]
    label: str  # "layer 2 (pool)"
    shape: Shape | None  # the shape of what feeds the layer; None when it is unknown (a mistake before)
    feeds: str  # "the inputs" or "layer 1 (conv1)"
    activation: BoundActivation

    @property
    def gives(self) -> str:
        """``the inputs give`` or ``layer 1 (conv1) gives``."""
        return f"{self.feeds} give" if self.feeds == "the inputs" else f"{self.feeds} gives"

    @property
    def prefix(self) -> str:
        return f"{self.label}: "

    def error(self, where: Node | None, message: str) -> None:
        self.checker.error(where if where is not None else self.node, f"{self.prefix}{message}")


class Read(NamedTuple):
    """A layer as read: the record (None when anything is wrong), the shape it gives (None when it
    cannot be known) and how that shape comes about, for the messages of the layers after it."""

    layer: Any
    shape: Shape | None
    how: str = ""


@record
class LayerFormat:
    """One layer type in the file: its record class, keys, reader, writer (its mapping's lines) and schema."""

    cls: type
    keys: tuple[str, ...]
    read: Callable[[Context], Read]
    write: Callable[[Any], list[str]]
    schema: Callable[[dict[str, Any]], dict[str, Any]]
    default_name: str  # a layer left unnamed is called this, then its position: conv1, pool2


# -- reading --------------------------------------------------------------------------------------


def _maps(ctx: Context, kind: str) -> tuple[int, int, int] | None:
    """The (channels, height, width) feeding a spatial layer, or None (reported) when it is a vector."""
    if ctx.shape is None:
        return None
    if len(ctx.shape) != 3:
        if ctx.feeds == "the inputs":
            ctx.error(
                None,
                f"{kind} needs the inputs as images: write inputs: {{shape: [channels, height, width]}}",
            )
        else:
            ctx.error(None, f"{kind} needs maps (channels, height, width), and {ctx.gives} a vector")
        return None
    return ctx.shape  # type: ignore[return-value]


def _pair(ctx: Context, key: str, default: tuple[int, int] | None, minimum: int) -> tuple[tuple[int, int] | None, bool]:
    """``key: 2`` or ``key: [2, 3]`` as a pair of whole numbers ≥ ``minimum``; (None, _) when wrong or
    missing without a default. The flag says whether it was written as a pair."""
    if key not in ctx.entries:
        if default is None:
            ctx.error(None, f"missing key {key!r} (a whole number, or [height, width])")
        return default, False
    node = ctx.entries[key][1]
    items = node.items if isinstance(node, SeqNode) else [node]
    if isinstance(node, SeqNode) and len(items) != 2:
        ctx.error(node, f"{key} must be one whole number or two ([height, width]), got {len(items)} values")
        return None, True
    values = []
    for item in items:
        if not isinstance(item, ScalarNode) or item.quoted:
            ctx.error(item, f"{key} must be a whole number or [height, width], got {item.kind}")
            return None, isinstance(node, SeqNode)
        try:
            value = parse_count(item.text)
        except NotANumber as exc:
            ctx.error(item, f"{key}: {exc}")
            return None, isinstance(node, SeqNode)
        if value < minimum:
            ctx.error(item, f"{key} must be at least {minimum}, got {value}")
            return None, isinstance(node, SeqNode)
        values.append(value)
    if len(values) == 1:
        values.append(values[0])
    return (values[0], values[1]), isinstance(node, SeqNode)


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"[{pair[0]}, {pair[1]}]"


def arithmetic(
    kind: str, shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> tuple[tuple[int, int], str]:
    """The map size a kernel gives and the sentence that works it out:
    ``conv2d: 5×5 input, 3×3 kernel, stride 2, padding 0 gives 2×2``."""
    _, height, width = shape
    rows = output_length(height, kernel[0], stride[0], padding[0])
    cols = output_length(width, kernel[1], stride[1], padding[1])
    given = f"{rows}×{cols}" if rows > 0 and cols > 0 else "nothing"
    sentence = (
        f"{kind}: {height}×{width} input, {kernel[0]}×{kernel[1]} kernel, "
        f"stride {_pair_text(stride)}, padding {_pair_text(padding)} gives {given}"
    )
    return (rows, cols), sentence


def read_tensor(ctx: Context, node: Node, depth: int, what: str, axes: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A nested list ``depth`` deep as a float64 array and the array of each number's text, or None.

    Every sublist must be as long as the first at its depth; each mistake is reported where
    it is written. ``axes`` names the dimensions for messages: "(out_channels, in_channels, kh, kw)".
    """
    values: list[float] = []
    texts: list[str] = []
    shape: list[int | None] = [None] * depth
    problems = len(ctx.checker.problems)
    nesting = [False]  # the depth is one mistake of the whole tensor: said once, where it is first seen

    def wrong_depth(item: Node, message: str) -> None:
        if not nesting[0]:
            nesting[0] = True
            ctx.error(item, message)

    def walk(item: Node, level: int, path: str) -> None:
        if not isinstance(item, SeqNode):
            wrong_depth(item, f"{what} must be lists nested {depth} deep {axes}, and {what}{path} is {item.kind}")
            return
        if not item.items:
            ctx.error(item, f"{what}{path} is empty")
            return
        if shape[level] is None:
            shape[level] = len(item.items)
        elif len(item.items) != shape[level]:
            ctx.error(item, f"{what}{path} has {len(item.items)} items, expected {shape[level]} (as the first has)")
            return
        if level == depth - 1:
            if not isinstance(item, NumberRow) and not all(isinstance(v, ScalarNode) for v in item.items):
                wrong_depth(item, f"{what}{path} must be a list of numbers (lists are nested {depth} deep {axes})")
                return
            row = ctx.checker.row(item, f"{ctx.prefix}{what}{path}")
            if row is not None:
                values.extend(row[0])
                texts.extend(row[1])
            return
        for i, sub in enumerate(item.items):
            walk(sub, level + 1, f"{path}[{i}]")

    walk(node, 0, "")
    if len(ctx.checker.problems) > problems:
        return None
    dims = tuple(int(n) for n in shape)  # type: ignore[arg-type]
    return np.array(values, dtype=np.float64).reshape(dims), np.array(texts, dtype=object).reshape(dims)


def _activation(ctx: Context, kind: str) -> BoundActivation | None:
    if "activation" not in ctx.entries:
        activation = ctx.activation
        where: Node | None = None
    else:
        where = ctx.entries["activation"][1]
        activation = ctx.checker.activation(where, f"{ctx.label}: activation")
        if activation is None:
            return None
    if not activation.activation.elementwise:
        ctx.error(
            where,
            f"{kind} takes an elementwise activation, and {activation.name} is not "
            "(put it on a dense layer after a flatten)",
        )
        return None
    return activation


def _conv_biases(ctx: Context, out_channels: int | None) -> tuple[list[float], list[str], str] | None:
    if "biases" not in ctx.entries:
        n = out_channels or 0
        return [0.0] * n, ["0"] * n, "absent"
    node = ctx.entries["biases"][1]
    if isinstance(node, ScalarNode):
        number = ctx.checker.number(node, f"{ctx.prefix}biases")
        if number is None:
            return None
        n = out_channels or 0
        return [number[0]] * n, [number[1]] * n, "scalar"
    if not isinstance(node, SeqNode):
        ctx.error(node, f"biases must be a number or a list (one per output channel), got {node.kind}")
        return None
    row = ctx.checker.row(node, f"{ctx.prefix}biases")
    if row is None:
        return None
    if out_channels is not None and len(row[0]) != out_channels:
        ctx.error(
            node,
            f"biases has {len(row[0])} value{'s' * (len(row[0]) != 1)}, expected {out_channels} "
            "(one per output channel)",
        )
        return None
    return row[0], row[1], "list"


def read_conv2d(ctx: Context) -> Read:
    """A ``conv2d`` layer: its weights (or Keras kernel), biases, stride, padding and activation."""
    maps = _maps(ctx, "conv2d")
    activation = _activation(ctx, "conv2d")
    stride, stride_pair = _pair(ctx, "stride", (1, 1), 1)
    padding, padding_pair = _pair(ctx, "padding", (0, 0), 0)
    entries = ctx.entries
    tensor = None
    form = "weights"
    if "weights" in entries and "kernel" in entries:
        ctx.error(entries["kernel"][0], "give weights or kernel, not both")
    elif "weights" not in entries and "kernel" not in entries:
        ctx.error(None, "missing key 'weights' (out_channels, in_channels, kh, kw), as PyTorch's Conv2d.weight")
    else:
        form = "kernel" if "kernel" in entries else "weights"
        axes = "(kh, kw, in_channels, out_channels)" if form == "kernel" else "(out_channels, in_channels, kh, kw)"
        tensor = read_tensor(ctx, entries[form][1], 4, form, axes)
        if tensor is not None and form == "kernel":  # Keras's Conv2D.kernel → PyTorch's order
            tensor = tensor[0].transpose(3, 2, 0, 1), tensor[1].transpose(3, 2, 0, 1)
    out_channels = int(tensor[0].shape[0]) if tensor is not None else _channels_written(entries, form)
    biases = _conv_biases(ctx, out_channels)
    if tensor is None or maps is None or stride is None or padding is None:
        return Read(None, None)
    weights, texts = tensor
    channels = maps[0]
    ok = True
    if weights.shape[1] != channels:
        written = "3rd" if form == "kernel" else "2nd"
        ctx.error(
            entries[form][1],
            f"{form} has {weights.shape[1]} input channel{'s' * (weights.shape[1] != 1)} (its {written} dimension), "
            f"expected {channels}: {ctx.gives} {describe_shape(maps)} maps",
        )
        ok = False
    kernel = (int(weights.shape[2]), int(weights.shape[3]))
    (rows, cols), how = arithmetic("conv2d", maps, kernel, stride, padding)
    if rows < 1 or cols < 1:
        ctx.error(entries[form][1], f"{how}: the kernel is larger than the padded input")
        return Read(None, None)
    shape = (out_channels, rows, cols)
    if out_channels * rows * cols > MAX_VALUES:
        ctx.error(
            entries.get("padding", (None, ctx.node))[1], f"{how}: {describe_shape(shape)} maps {too_large(shape)}"
        )
        return Read(None, None)
    windows = rows * cols * channels * kernel[0] * kernel[1]
    if windows > MAX_WINDOW_VALUES:  # the engine lays out at least one sample's windows at once (im2col)
        ctx.error(
            entries[form][1],
            f"{how}: its {rows * cols:,} windows of {channels}×{kernel[0]}×{kernel[1]} values are {windows:,} "
            f"values for each sample, more than {MAX_WINDOW_VALUES:,}",
        )
        return Read(None, None)
    how = f"{how}, {out_channels} channel{'s' * (out_channels != 1)}"
    if not ok or biases is None or activation is None:
        return Read(None, shape, how)
    w = np.array(weights, dtype=np.float64)
    b = np.array(biases[0], dtype=np.float64)
    w.flags.writeable = False
    b.flags.writeable = False
    layout = SpatialLayout(
        weights=form,
        biases=biases[2],
        pairs=tuple(k for k, pair in (("stride", stride_pair), ("padding", padding_pair)) if pair),
        given=tuple(k for k in ("stride", "padding") if k in entries),
        name_given="name" in entries,
        activation_given="activation" in entries,
    )
    layer = Conv2d(
        name="",
        input_shape=maps,
        weights=w,
        biases=b,
        stride=stride,
        padding=padding,
        activation=activation,
        weight_text=_nested(texts),
        bias_text=tuple(biases[1]),
        layout=layout,
    )
    return Read(layer, shape, how)


def _channels_written(entries: dict, form: str) -> int | None:
    """How many output channels a convolution's weights are written for, whatever their values."""
    node = entries.get(form, (None, None))[1]
    if form == "weights" and isinstance(node, SeqNode) and node.items:
        return len(node.items)
    return None


def _nested(texts: np.ndarray) -> Any:
    if texts.ndim == 1:
        return tuple(str(t) for t in texts)
    return tuple(_nested(t) for t in texts)


def _read_pool(kind: str) -> Callable[[Context], Read]:
    def read(ctx: Context) -> Read:
        maps = _maps(ctx, kind)
        kernel, kernel_pair = _pair(ctx, "kernel_size", None, 1)
        stride, stride_pair = None, False
        if kernel is not None or "stride" in ctx.entries:  # the default stride is the kernel's size
            stride, stride_pair = _pair(ctx, "stride", kernel, 1)
        padding, padding_pair = _pair(ctx, "padding", (0, 0), 0)
        if padding is not None and kernel is not None and (2 * padding[0] > kernel[0] or 2 * padding[1] > kernel[1]):
            ctx.error(
                ctx.entries["padding"][1],
                f"padding {_pair_text(padding)} is more than half the {kernel[0]}×{kernel[1]} kernel "
                "(PyTorch's rule for pooling)",
            )
            padding = None
        if maps is None or kernel is None or stride is None or padding is None:
            return Read(None, None)
        (rows, cols), how = arithmetic(kind, maps, kernel, stride, padding)
        if rows < 1 or cols < 1:
            ctx.error(ctx.entries["kernel_size"][1], f"{how}: the kernel is larger than the padded input")
            return Read(None, None)
        if maps[0] * rows * cols > MAX_VALUES:
            shape = (maps[0], rows, cols)
            ctx.error(ctx.entries["kernel_size"][1], f"{how}: {describe_shape(shape)} maps {too_large(shape)}")
            return Read(None, None)
        layout = SpatialLayout(
            pairs=tuple(
                key
                for key, pair in (("kernel_size", kernel_pair), ("stride", stride_pair), ("padding", padding_pair))
                if pair
            ),
            given=tuple(k for k in ("stride", "padding") if k in ctx.entries),
            name_given="name" in ctx.entries,
        )
        layer = FORMATS[kind].cls(
            name="", input_shape=maps, kernel_size=kernel, stride=stride, padding=padding, layout=layout
        )
        return Read(layer, (maps[0], rows, cols), f"{how}, {maps[0]} channel{'s' * (maps[0] != 1)}")

    return read


def read_flatten(ctx: Context) -> Read:
    """A ``flatten`` layer: nothing to read but where it stands."""
    maps = _maps(ctx, "flatten")
    if maps is None:
        return Read(None, None)
    size = int(np.prod(maps))
    layer = Flatten(name="", input_shape=maps, layout=SpatialLayout(name_given="name" in ctx.entries))
    return Read(layer, (size,), f"flatten: {describe_shape(maps)} maps give {size} values")


# -- writing --------------------------------------------------------------------------------------


def _written_pair(layer: Any, key: str) -> str:
    pair = getattr(layer, key)
    if key in layer.layout.pairs or pair[0] != pair[1]:
        return f"[{pair[0]}, {pair[1]}]"
    return str(pair[0])


def _optional_pairs(layer: Any, keys: tuple[str, ...], defaults: dict[str, tuple[int, int]]) -> list[str]:
    return [
        f"{key}: {_written_pair(layer, key)}"
        for key in keys
        if key in layer.layout.given or getattr(layer, key) != defaults[key]
    ]


def write_conv2d(layer: Conv2d) -> list[str]:
    from nncalc.writer import yaml_activation, yaml_number, yaml_numbers

    lines = ["type: conv2d"]
    if layer.layout.name_given:
        lines.append(f"name: {_string(layer.name)}")
    if layer.layout.weights == "kernel":
        key, values = "kernel", layer.weights.transpose(2, 3, 1, 0)
    else:
        key, values = "weights", layer.weights
    lines.append(f"{key}:")
    for block in values:  # one item per output channel (per kernel row for Keras's order)
        inner = ", ".join("[" + ", ".join(yaml_numbers(row) for row in matrix) + "]" for matrix in block)
        lines.append(f"  - [{inner}]")
    texts = [yaml_number(b) for b in layer.biases]
    form = layer.layout.biases
    if not (form == "absent" and all(t == "0.0" for t in texts)):
        shared = len(set(texts)) == 1 and form != "list"
        lines.append(f"biases: {texts[0] if shared else '[' + ', '.join(texts) + ']'}")
    lines.extend(_optional_pairs(layer, ("stride", "padding"), {"stride": (1, 1), "padding": (0, 0)}))
    if layer.layout.activation_given:
        lines.append(f"activation: {yaml_activation(layer.activation)}")
    return lines


def _write_pool(layer: Any) -> list[str]:
    lines = [f"type: {layer.kind}"]
    if layer.layout.name_given:
        lines.append(f"name: {_string(layer.name)}")
    lines.append(f"kernel_size: {_written_pair(layer, 'kernel_size')}")
    defaults = {"stride": layer.kernel_size, "padding": (0, 0)}
    lines.extend(_optional_pairs(layer, ("stride", "padding"), defaults))
    return lines


def write_flatten(layer: Flatten) -> list[str]:
    lines = ["type: flatten"]
    if layer.layout.name_given:
        lines.append(f"name: {_string(layer.name)}")
    return lines


def _string(text: str) -> str:
    """A name as the network file writes it (``nncalc.writer`` is imported only when writing)."""
    from nncalc.writer import yaml_string

    return yaml_string(text)


# -- the JSON Schema -------------------------------------------------------------------------------


def _schema_pair(minimum: int, what: str) -> dict[str, Any]:
    whole = {"type": "integer", "minimum": minimum}
    return {
        "description": f"{what}: one whole number, or [height, width].",
        "oneOf": [whole, {"type": "array", "items": whole, "minItems": 2, "maxItems": 2}],
    }


def _schema_common(kind: str, defs: dict[str, Any]) -> dict[str, Any]:
    return {"type": {"const": kind}, "name": defs["name"]}


def schema_conv2d(defs: dict[str, Any]) -> dict[str, Any]:
    def nested(depth: int) -> dict[str, Any]:
        schema: dict[str, Any] = {"$ref": "#/$defs/number"}
        for _ in range(depth):
            schema = {"type": "array", "items": schema, "minItems": 1}
        return schema

    return {
        "properties": {
            **_schema_common("conv2d", defs),
            "weights": {**nested(4), "description": "(out_channels, in_channels, kh, kw): PyTorch's Conv2d.weight."},
            "kernel": {**nested(4), "description": "(kh, kw, in_channels, out_channels): Keras's Conv2D.kernel."},
            "biases": {
                "description": "One per output channel, or one number for all (default 0).",
                "oneOf": [{"$ref": "#/$defs/number"}, {"type": "array", "items": {"$ref": "#/$defs/number"}}],
            },
            "stride": _schema_pair(1, "The step between windows (default 1)"),
            "padding": _schema_pair(0, "Rows and columns of zeros around each map (default 0)"),
            "activation": defs["activation"],
        },
        "oneOf": [{"required": ["weights"]}, {"required": ["kernel"]}],
    }


def _schema_pool(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def schema(defs: dict[str, Any]) -> dict[str, Any]:
        return {
            "properties": {
                **_schema_common(kind, defs),
                "kernel_size": _schema_pair(1, "The window"),
                "stride": _schema_pair(1, "The step between windows (default: kernel_size)"),
                "padding": _schema_pair(0, "Padding, at most half the window (default 0)"),
            },
            "required": ["kernel_size"],
        }

    return schema


def schema_flatten(defs: dict[str, Any]) -> dict[str, Any]:
    return {"properties": _schema_common("flatten", defs)}


FORMATS: dict[str, LayerFormat] = {
    "conv2d": LayerFormat(
        cls=Conv2d,
        keys=("type", "name", "weights", "kernel", "biases", "stride", "padding", "activation"),
        read=read_conv2d,
        write=write_conv2d,
        schema=schema_conv2d,
        default_name="conv",
    ),
    "maxpool2d": LayerFormat(
        cls=MaxPool2d,
        keys=("type", "name", "kernel_size", "stride", "padding"),
        read=_read_pool("maxpool2d"),
        write=_write_pool,
        schema=_schema_pool("maxpool2d"),
        default_name="pool",
    ),
    "avgpool2d": LayerFormat(
        cls=AvgPool2d,
        keys=("type", "name", "kernel_size", "stride", "padding"),
        read=_read_pool("avgpool2d"),
        write=_write_pool,
        schema=_schema_pool("avgpool2d"),
        default_name="pool",
    ),
    "flatten": LayerFormat(
        cls=Flatten,
        keys=("type", "name"),
        read=read_flatten,
        write=write_flatten,
        schema=schema_flatten,
        default_name="flatten",
    ),
}
"""The spatial layer types by their ``type:`` name (``dense``, the default, is ``nncalc.network.Layer``)."""
