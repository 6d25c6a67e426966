"""A PyTorch ``nn.Sequential`` of dense and convolution layers and activations as a network file.

The modules are read in order (nested ``Sequential``s opened in place). Each ``Linear``
or ``Conv2d`` starts a layer; an activation module right after it becomes that layer's
activation, with its parameters (``LeakyReLU(0.2)`` → ``{name: leaky_relu,
negative_slope: 0.2}``); one with no activation after it gets ``identity``. ``MaxPool2d``,
``AvgPool2d`` (and ``AdaptiveAvgPool2d``/``AdaptiveMaxPool2d`` where the output size
divides the maps, so the windows are all alike) and a ``Flatten`` of maps are layers of
their own, with no activation.
``Identity`` does nothing anywhere, a ``Flatten`` before the first ``Linear`` does nothing
to 2-D input, and ``Dropout`` does nothing in eval mode (or with p = 0). Anything else is
refused, naming it by its place in the model as PyTorch prints it (``2``, or ``1.0``
inside a nested ``Sequential``) and its class: normalisation, a residual block, an
activation with no layer before it, two activations in a row, active dropout, and the
options nncalc's layers do not have (groups, dilation, other padding modes, ceil_mode,
padding left out of an average, a divisor_override).

A model that starts with a convolution needs the size of its pictures, which no module
holds: ``input_shape`` (channels, height, width), or (height, width) with the channels
the first ``Conv2d`` takes.

PyTorch is never imported here: modules are recognised by class name (and the class
coming from ``torch.nn``), and tensors read with ``.detach().cpu().double().numpy()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers import live_network
from nncalc.importers.spatial import (
    ShapeError,
    Shapes,
    UnknownShape,
    conv_entry,
    flatten_entry,
    pair,
    pool_entry,
    softmax_on_maps,
)

#: What every refusal says, after naming the module.
_UNKNOWN = "is not a layer or an activation nncalc knows"

# each activation module's nncalc activation (a name, or a mapping with PyTorch's parameters)
_ACTIVATIONS: dict[str, Callable[[Any], str | dict]] = {
    "ReLU": lambda m: "relu",
    "Sigmoid": lambda m: "sigmoid",
    "Tanh": lambda m: "tanh",
    "LeakyReLU": lambda m: {"name": "leaky_relu", "negative_slope": float(m.negative_slope)},
    "ELU": lambda m: {"name": "elu", "alpha": float(m.alpha)},
    "SELU": lambda m: "selu",
    "GELU": lambda m: {"name": "gelu", "approximate": str(m.approximate)},
    "Softplus": lambda m: {"name": "softplus", "beta": float(m.beta), "threshold": float(m.threshold)},
    "SiLU": lambda m: "silu",
    "Mish": lambda m: "mish",
    "Softsign": lambda m: "softsign",
    "ReLU6": lambda m: "relu6",
    "Hardsigmoid": lambda m: "hard_sigmoid",
    "Softmax": lambda m: "softmax",
}

_DROPOUTS = ("Dropout", "AlphaDropout")


def network_dict(
    module: Any,
    input_names: Sequence[str] | None = None,
    name: str | None = None,
    *,
    input_shape: Sequence[int] | None = None,
    source: str = "<torch>",
) -> dict:
    """The network file (as a dict) of a ``torch.nn.Sequential`` (or a lone ``Linear``).

    ``input_names`` names the inputs (as many as the model takes); without it they are
    counted. ``input_shape`` is the shape of one input image, (channels, height, width),
    or (height, width) with the channels the first ``Conv2d`` takes: a model that starts
    with convolutions or pooling needs it, since nothing in the modules says how large the
    pictures are; with it, a ``Flatten`` before the first ``Linear`` becomes a flatten layer.
    Layers keep the names a ``Sequential`` built from an ``OrderedDict`` gives them.
    ``source`` is where an error says the model came from.
    """
    where = Location(source)
    modules = list(_modules(module, where))
    shapes = Shapes(_input_shape(input_shape, modules, where))
    layers: list[dict] = []
    pending: dict | None = None  # the last conv or dense layer while it may still take an activation
    for path, child in modules:
        kind = type(child).__name__
        if kind == "Identity":
            continue
        if kind in _DROPOUTS:
            _check_dropout(child, path, where)
            continue
        try:
            if kind == "Flatten" and _flattens_nothing(child) and (shapes.maps or not layers):
                if shapes.maps:
                    shapes.flatten()
                    layers.append(flatten_entry(_own_name(path)))
                    pending = None
                continue
            if kind in _SPATIAL:
                layer = _SPATIAL[kind](child, path, shapes)
                layers.append(layer)
                pending = layer if kind == "Conv2d" else None
                continue
            if kind == "Linear":
                layer = _linear(child, path)
                shapes.dense(len(layer["weights"][0]), len(layer["weights"]))
                layers.append(layer)
                pending = layer
                continue
        except ShapeError as error:
            hint = "; give input_shape=(channels, height, width), or (height, width)"
            hint = hint if isinstance(error, UnknownShape) else ""
            raise InputError(f"cannot import: layer {path} ({kind}) {error}{hint}", where) from None
        if kind in _ACTIVATIONS and pending is not None:
            if kind == "Softmax" and pending.get("type") == "conv2d":
                _softmax_on_maps(child, path, shapes, where)  # refused
            pending["activation"] = _activation(child, path, where)
            pending = None
            continue
        raise InputError(f"cannot import: layer {path} ({kind}) {_why(kind, layers)}", where)
    if not layers:
        raise InputError("cannot import: the model has no Linear or Conv2d layer", where)
    for layer in layers:
        if layer.get("type") in (None, "conv2d"):
            layer.setdefault("activation", "identity")
    return live_network(layers, shapes, input_names, name, where)


def _input_shape(given: Sequence[int] | None, modules: list[tuple[str, Any]], where: Location) -> tuple | None:
    """(C, H, W) from ``input_shape``: three numbers, or two with the first ``Conv2d``'s in_channels."""
    if given is None:
        return None
    try:
        shape = tuple(int(n) for n in given)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) == 2:
        first = next((child for _, child in modules if _is_torch(child, "Conv2d")), None)
        if first is None:
            raise InputError(
                "cannot import: input_shape gives a height and width only, and no Conv2d says how many "
                "channels the input has; give (channels, height, width)",
                where,
            )
        shape = (int(first.in_channels), *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(
            f"cannot import: input_shape is {tuple(given) if isinstance(given, Sequence) else given!r}; "
            "give (channels, height, width) or (height, width)",
            where,
        )
    return shape


def _modules(module: Any, where: Location, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The modules of ``module`` in the order they run, nested ``Sequential``s opened, with their paths."""
    if prefix == "" and not _is_torch(module, "Sequential"):
        if _is_torch(module, "Linear"):
            yield "0", module
            return
        kind = type(module)
        raise InputError(
            f"cannot import: the model is a {kind.__name__} ({kind.__module__}), not a torch.nn.Sequential; "
            "nncalc cannot see what its forward() does",
            where,
        )
    for key, child in module.named_children():
        path = f"{prefix}{key}"
        if _is_torch(child, "Sequential"):
            yield from _modules(child, where, f"{path}.")
        elif type(child).__module__.startswith("torch.nn."):
            yield path, child
        else:  # a user's module, whatever its name: its forward() is unknown
            raise InputError(f"cannot import: layer {path} ({type(child).__name__}) {_UNKNOWN}", where)


def _is_torch(module: Any, kind: str) -> bool:
    """Whether ``module`` is PyTorch's own ``kind`` (not a user's class of the same name)."""
    return type(module).__name__ == kind and type(module).__module__.startswith("torch.nn.")


def _own_name(path: str) -> str | None:
    """A module's name as a layer's: the key an ``OrderedDict`` gave it, not a bare position."""
    return None if path.split(".")[-1].isdigit() else path


def _linear(module: Any, path: str) -> dict:
    """A ``Linear`` as a layer: weights one row per neuron, as PyTorch keeps them."""
    layer: dict[str, Any] = {}
    if _own_name(path):
        layer["name"] = path
    layer["weights"] = _array(module.weight).tolist()
    if module.bias is not None:
        layer["biases"] = _array(module.bias).tolist()
    return layer


def _conv(module: Any, path: str, shapes: Shapes) -> dict:
    """A ``Conv2d`` as a layer: weights (out, in, kh, kw) as PyTorch keeps them; zero padding, no dilation or groups."""
    refusals = []
    if module.groups != 1:
        refusals.append(f"groups={module.groups}")
    if pair(module.dilation) != (1, 1):
        refusals.append(f"dilation={tuple(module.dilation)}")
    if module.padding_mode != "zeros":
        refusals.append(f"padding_mode={module.padding_mode!r}")
    if refusals:
        raise ShapeError(f"has {', '.join(refusals)}; nncalc's conv2d has groups=1, dilation=1 and zero padding")
    kernel, stride = pair(module.kernel_size), pair(module.stride)
    padding = _conv_padding(module.padding, kernel)
    shapes.conv(int(module.in_channels), int(module.out_channels), kernel, stride, padding)
    biases = None if module.bias is None else _array(module.bias)
    return conv_entry(_own_name(path), biases, stride, padding, "identity", weights=_array(module.weight))


def _conv_padding(padding: Any, kernel: tuple[int, int]) -> tuple[int, int]:
    """Padding as numbers: ``'valid'`` is 0, ``'same'`` (stride 1) is (k − 1)/2 where the kernel is odd."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if any(k % 2 == 0 for k in kernel):
            raise ShapeError(
                f"has padding='same' with a {kernel[0]}×{kernel[1]} kernel, which pads one side more than "
                "the other; nncalc pads both sides alike"
            )
        return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2
    return pair(padding)


def _pool(module: Any, path: str, shapes: Shapes) -> dict:
    """A ``MaxPool2d`` or ``AvgPool2d`` as a layer; options PyTorch has and nncalc does not are refused."""
    kind = "maxpool2d" if type(module).__name__ == "MaxPool2d" else "avgpool2d"
    kernel, padding = pair(module.kernel_size), pair(module.padding)
    stride = pair(module.stride) if module.stride is not None and module.stride != () else kernel
    refusals = []
    if module.ceil_mode:
        refusals.append("ceil_mode=True")
    if kind == "maxpool2d":
        if pair(module.dilation) != (1, 1):
            refusals.append(f"dilation={module.dilation}")
        if module.return_indices:
            refusals.append("return_indices=True")
    else:
        if not module.count_include_pad and padding != (0, 0):
            refusals.append("count_include_pad=False with padding")
        if module.divisor_override is not None:
            refusals.append(f"divisor_override={module.divisor_override}")
    if refusals:
        raise ShapeError(f"has {', '.join(refusals)}, which nncalc's {kind} does not have")
    shapes.pool(kind, kernel, stride, padding)
    return pool_entry(kind, _own_name(path), kernel, stride, padding)


def _adaptive_pool(module: Any, path: str, shapes: Shapes) -> dict:
    """``AdaptiveAvgPool2d``/``AdaptiveMaxPool2d`` where the output size divides the maps: then its windows
    are all kh × kw = (H / out_h) × (W / out_w), side by side, a plain pooling layer."""
    kind = "maxpool2d" if type(module).__name__ == "AdaptiveMaxPool2d" else "avgpool2d"
    if getattr(module, "return_indices", False):
        raise ShapeError("has return_indices=True, which nncalc's pooling does not have")
    sizes = shapes.need_maps("pooling")[1:]
    wanted = module.output_size if isinstance(module.output_size, (tuple, list)) else (module.output_size,) * 2
    kernel = []
    for size, out in zip(sizes, wanted, strict=True):
        out = size if out is None else int(out)
        if size % out:
            raise ShapeError(
                f"makes {out} from {size} cells, whose windows differ in size; nncalc's pooling takes output "
                "sizes that divide the maps"
            )
        kernel.append(size // out)
    window = pair(kernel)
    shapes.pool(kind, window, window, (0, 0))
    return pool_entry(kind, _own_name(path), window, window, (0, 0))


_SPATIAL: dict[str, Callable[[Any, str, Shapes], dict]] = {
    "Conv2d": _conv,
    "MaxPool2d": _pool,
    "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive_pool,
    "AdaptiveMaxPool2d": _adaptive_pool,
}


def _array(tensor: Any) -> np.ndarray:
    """A parameter tensor as a float64 array (exact: float32 and float16 widen without rounding)."""
    return np.asarray(tensor.detach().cpu().double().numpy(), dtype=np.float64)


def _activation(module: Any, path: str, where: Location) -> str | dict:
    """nncalc's activation for an activation module, refusing a softmax over anything but the neurons."""
    kind = type(module).__name__
    if kind == "Softmax" and module.dim not in (-1, 1):
        raise InputError(
            f"cannot import: layer {path} (Softmax) is taken over dim={module.dim}; "
            "nncalc's softmax is over a layer's neurons (dim=1 or dim=-1)",
            where,
        )
    return _ACTIVATIONS[kind](module)


_DIM_AXES = {1: 0, 2: 1, 3: 2, -3: 0, -2: 1, -1: 2}  # a 4-D batch's dim → the axis of (C, H, W)


def _softmax_on_maps(module: Any, path: str, shapes: Shapes, where: Location) -> NoReturn:
    """A Softmax after a Conv2d, over one dim of (batch, C, H, W): refused, naming that dim."""
    try:
        if module.dim not in _DIM_AXES:
            raise ShapeError(f"is taken over dim={module.dim} of maps")
        softmax_on_maps(shapes.shape, _DIM_AXES[module.dim])
    except ShapeError as error:
        raise InputError(f"cannot import: layer {path} (Softmax) {error}", where) from None


def _check_dropout(module: Any, path: str, where: Location) -> None:
    """Dropout does nothing at inference; refuse it while the model is still in training mode."""
    if module.training and float(module.p) != 0.0:
        raise InputError(
            f"cannot import: layer {path} ({type(module).__name__}, p={module.p}) is in training mode, "
            "where it drops neurons at random; call model.eval() first",
            where,
        )


def _flattens_nothing(module: Any) -> bool:
    """Whether a ``Flatten`` leaves a batch of 2-D input (samples, inputs) as it is."""
    return module.start_dim in (1, -1) and module.end_dim == -1


def _why(kind: str, layers: list[dict]) -> str:
    """Why a module was refused, in the refusal's words."""
    if kind in _ACTIVATIONS:
        if not layers:
            return "is an activation with no Linear layer before it"
        return (
            "is a second activation in a row, or follows a pooling or flatten layer; "
            "nncalc's layer takes one activation, and pooling and flatten take none"
        )
    if kind == "Flatten":
        return "flattens after a Linear layer or over other dimensions; nncalc's input is one row per sample"
    return _UNKNOWN
