"""scikit-learn's multi-layer perceptrons (``MLPClassifier``, ``MLPRegressor``) as a network file.

A fitted MLP keeps one weight matrix per layer in ``coefs_`` (one row per input, so it is
transposed into nncalc's one row per neuron) and one bias vector in ``intercepts_``. Every
hidden layer uses ``model.activation``; the output layer uses ``model.out_activation_``,
which scikit-learn chooses from the task: softmax for several classes, logistic for two
classes (one output neuron giving the probability of ``classes_[1]``) or for several
labels, identity for regression, exp for Poisson regression.

scikit-learn is never imported here: the model is read through its attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nncalc.errors import InputError, Location

#: scikit-learn's activation names (``sklearn.neural_network._base.ACTIVATIONS``) to nncalc's.
ACTIVATIONS = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "softmax": "softmax",
    "exp": "exp",
}

_MODELS = ("MLPClassifier", "MLPRegressor")


def network_dict(model: Any, name: str | None = None, *, source: str = "<sklearn>") -> dict:
    """The network file (as a dict) of a fitted ``MLPClassifier`` or ``MLPRegressor``.

    Inputs are named after ``model.feature_names_in_`` when the model was fitted on named
    columns, else counted (x1, x2, … by default). A classifier's output neurons are named
    after its classes (a binary classifier's single neuron after ``classes_[1]``, the class
    whose probability it gives). ``source`` is where an error says the model came from.
    """
    where = Location(source)
    _check_model(model, where)
    coefs, intercepts = list(model.coefs_), list(model.intercepts_)
    hidden = _activation(model.activation, "activation", where)
    output = _activation(model.out_activation_, "out_activation_", where)
    layers = []
    for index, (coef, intercept) in enumerate(zip(coefs, intercepts, strict=True)):
        last = index == len(coefs) - 1
        weights = np.asarray(coef, dtype=np.float64).T
        layer: dict[str, Any] = {"neurons": int(weights.shape[0])}
        if last:
            layer["neurons"] = _output_names(model, weights.shape[0]) or layer["neurons"]
        layer["weights"] = weights.tolist()
        layer["biases"] = np.asarray(intercept, dtype=np.float64).reshape(-1).tolist()
        layer["activation"] = output if last else hidden
        layers.append(layer)
    n_in = int(np.shape(coefs[0])[0])
    network: dict[str, Any] = {}
    if name is not None:
        network["name"] = name
    network["inputs"] = _names(getattr(model, "feature_names_in_", None), n_in) or n_in
    network["layers"] = layers
    return network


def _check_model(model: Any, where: Location) -> None:
    """Refuse anything but a fitted scikit-learn MLP, saying what it is instead."""
    kind = type(model)
    if kind.__name__ not in _MODELS or not kind.__module__.startswith("sklearn."):
        raise InputError(
            f"cannot import: the model is a {kind.__name__} ({kind.__module__}), "
            "not scikit-learn's MLPClassifier or MLPRegressor",
            where,
        )
    if not hasattr(model, "coefs_") or not hasattr(model, "intercepts_"):
        raise InputError(
            f"cannot import: the {kind.__name__} is not fitted (it has no coefs_); call fit() first", where
        )


def _activation(sklearn_name: str, attribute: str, where: Location) -> str:
    """nncalc's name for scikit-learn's activation ``sklearn_name`` (read from ``attribute``)."""
    try:
        return ACTIVATIONS[sklearn_name]
    except (KeyError, TypeError):
        raise InputError(
            f"cannot import: {attribute} is {sklearn_name!r}, which nncalc does not know "
            f"(known: {', '.join(ACTIVATIONS)})",
            where,
        ) from None


def _output_names(model: Any, width: int) -> list[str] | None:
    """A classifier's output neurons named after its classes, or None (a regressor, or no usable names)."""
    classes = getattr(model, "classes_", None)
    if classes is None or type(model).__name__ != "MLPClassifier":
        return None
    classes = list(classes)
    if width == 1 and len(classes) == 2:
        return _names(classes[1:], 1)  # the one logistic neuron gives P(classes_[1])
    return _names(classes, width)


def _names(values: Sequence[Any] | None, count: int) -> list[str] | None:
    """``values`` as plain strings if they name ``count`` things distinctly, else None (use the defaults)."""
    if values is None:
        return None
    names = [str(v) for v in values]
    if len(names) != count or "" in names or len(set(names)) != len(names):
        return None
    return names
