"""nncalc: neural-network arithmetic, step by step, as a person writes it by hand.

The library in a few names (each imported on first use, so ``import nncalc`` is quick)::

    import nncalc
    net = nncalc.load("net.yaml")                    # validated; raises nncalc.NncalcError
    net = nncalc.Network.from_dict({...})             # the file format as a dict
    res = net.forward([0.1])                          # one sample, or a 2-D batch
    res.output                                        # ndarray (samples, outputs)
    res.layers[0].z, res.layers[0].a                  # each layer's values
    net.forward([0.1], steps="matrix")                # the working a layer at once: z = W·x + b
    step = net.backward([0.1], target=[0.25], lr=0.4, loss="half_sse")
    marks = nncalc.grade(net, [0.1], answers)         # answers as a dict, or a path
    net.save("net.yaml")                              # nncalc.load reads it back bit for bit
    net = nncalc.from_sklearn(model)                  # also from_torch, from_keras, from_lab, from_file

Every result shows its working in a notebook cell (tables and typeset derivations) and
writes it with ``to_text()``, ``to_markdown()``, ``to_latex()`` and ``to_html()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BackwardResult",
    "ForwardResult",
    "Marks",
    "Network",
    "NncalcError",
    "backward",
    "forward",
    "from_file",
    "from_keras",
    "from_lab",
    "from_sklearn",
    "from_torch",
    "grade",
    "load",
    "save",
]

_WHERE = {
    "Network": "nncalc.network",
    "NncalcError": "nncalc.errors",
    "load": "nncalc.api",
    "forward": "nncalc.api",
    "backward": "nncalc.api",
    "grade": "nncalc.api",
    "save": "nncalc.api",
    "ForwardResult": "nncalc.api",
    "BackwardResult": "nncalc.api",
    "Marks": "nncalc.api",
    "from_sklearn": "nncalc.api",
    "from_file": "nncalc.api",
    "from_torch": "nncalc.api",
    "from_keras": "nncalc.api",
    "from_lab": "nncalc.api",
}

if TYPE_CHECKING:  # for type checkers and editors; at run time each name is imported when first used
    from nncalc.api import (
        BackwardResult,
        ForwardResult,
        Marks,
        backward,
        forward,
        from_file,
        from_keras,
        from_lab,
        from_sklearn,
        from_torch,
        grade,
        load,
        save,
    )
    from nncalc.errors import NncalcError
    from nncalc.network import Network


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nncalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
