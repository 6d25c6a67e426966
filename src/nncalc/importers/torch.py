"""A PyTorch ``nn.Sequential`` of ``Linear`` layers and activations as a network file.

The modules are read in order (nested ``Sequential``s opened in place). Each ``Linear``
starts a layer; an activation module right after it becomes that layer's activation,
with its parameters (``LeakyReLU(0.2)`` → ``{name: leaky_relu, negative_slope: 0.2}``);
a ``Linear`` with no activation after it gets ``identity``. ``Identity`` does nothing
anywhere, a ``Flatten`` before the first ``Linear`` does nothing to 2-D input, and
``Dropout`` does nothing in eval mode (or with p = 0). Anything else is refused, naming
it by its place in the model as PyTorch prints it (``2``, or ``1.0`` inside a nested
``Sequential``) and its class: convolutions, normalisation, a residual block, an
activation with no ``Linear`` before it, two activations in a row, active dropout.

PyTorch is never imported here: modules are recognised by class name (and the class
coming from ``torch.nn``), and tensors read with ``.detach().cpu().double().numpy()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from nncalc.errors import InputError, Location
from nncalc.importers import live_network

#: What every refusal says, after naming the module.
_NOT_DENSE = "is not a dense layer or an activation nncalc knows"

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
    source: str = "<torch>",
) -> dict:
    """The network file (as a dict) of a ``torch.nn.Sequential`` (or a lone ``Linear``).

    ``input_names`` names the inputs (as many as the first ``Linear``'s ``in_features``);
    without it they are counted. Layers keep the names a ``Sequential`` built from an
    ``OrderedDict`` gives its ``Linear`` modules. ``source`` is where an error says the
    model came from.
    """
    where = Location(source)
    layers: list[dict] = []
    widths: list[int] = []  # the network's inputs, then each layer's neurons
    pending: dict | None = None  # the last layer while it may still take an activation
    for path, child in _modules(module, where):
        kind = type(child).__name__
        if kind == "Identity":
            continue
        if kind in _DROPOUTS:
            _check_dropout(child, path, where)
            continue
        if kind == "Flatten" and not layers and _flattens_nothing(child):
            continue
        if kind == "Linear":
            layer, n_in = _linear(child, path)
            if widths and n_in != widths[-1]:
                raise InputError(
                    f"cannot import: layer {path} (Linear) takes {n_in} inputs but the layer before gives {widths[-1]}",
                    where,
                )
            widths.extend([n_in, len(layer["weights"])] if not widths else [len(layer["weights"])])
            layers.append(layer)
            pending = layer
            continue
        if kind in _ACTIVATIONS and pending is not None:
            pending["activation"] = _activation(child, path, where)
            pending = None
            continue
        raise InputError(f"cannot import: layer {path} ({kind}) {_why(kind, layers)}", where)
    if not layers:
        raise InputError("cannot import: the model has no Linear layer", where)
    for layer in layers:
        layer.setdefault("activation", "identity")
    return live_network(layers, widths[0], input_names, name, where)


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
            raise InputError(f"cannot import: layer {path} ({type(child).__name__}) {_NOT_DENSE}", where)


def _is_torch(module: Any, kind: str) -> bool:
    """Whether ``module`` is PyTorch's own ``kind`` (not a user's class of the same name)."""
    return type(module).__name__ == kind and type(module).__module__.startswith("torch.nn.")


def _linear(module: Any, path: str) -> tuple[dict, int]:
    """A ``Linear`` as a layer (weights one row per neuron, as PyTorch keeps them) and its number of inputs."""
    weights = _array(module.weight)
    layer: dict[str, Any] = {}
    if not path.split(".")[-1].isdigit():
        layer["name"] = path
    layer["weights"] = weights.tolist()
    if module.bias is not None:
        layer["biases"] = _array(module.bias).tolist()
    return layer, int(weights.shape[1])


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
        return "is a second activation in a row; nncalc's layer takes one"
    if kind == "Flatten":
        return "flattens after a Linear layer or over other dimensions; nncalc's input is one row per sample"
    return _NOT_DENSE
