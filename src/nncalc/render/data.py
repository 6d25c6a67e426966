"""Machine formats: JSON, JSON Lines and CSV, every float at full precision.

Floats are written as the shortest text that reads back to exactly the same float;
JSON is strict (a non-finite value is ``null``, never a ``NaN`` token).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, TextIO

import numpy as np

from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.text import json_escaped, visible


def _floats(values: np.ndarray) -> Any:
    """Nested lists of floats, with None in place of a non-finite value."""
    items = values.tolist()
    if np.isfinite(values).all():
        return items

    def clean(item: Any) -> Any:
        if isinstance(item, list):
            return [clean(v) for v in item]
        return item if math.isfinite(item) else None

    return clean(items)


def network_dict(network: Network) -> dict[str, Any]:
    """The network as plain data: names, activations with their parameters, weights, biases.

    A network of images also gives its ``input_shape`` (channels, height, width); a spatial
    layer gives its ``type``, its input and output shapes and its own parameters (a
    convolution's weights are (out_channels, in_channels, kh, kw)) instead of neuron names.
    """
    document: dict[str, Any] = {"name": network.name, "inputs": list(network.inputs)}
    if network.input_shape is not None:
        document["input_shape"] = list(network.input_shape)
    document["layers"] = [_layer_dict(layer) for layer in network.layers]
    return document


def _layer_dict(layer: Any) -> dict[str, Any]:
    if layer.dense:
        return {
            "name": layer.name,
            "neurons": list(layer.neurons),
            "activation": {"name": layer.activation.name, **layer.activation.params},
            "weights": _floats(layer.weights),
            "biases": _floats(layer.biases),
        }
    entry: dict[str, Any] = {
        "name": layer.name,
        "type": layer.kind,
        "input_shape": list(layer.input_shape),
        "output_shape": list(layer.output_shape),
    }
    if layer.has_activation:
        entry["activation"] = {"name": layer.activation.name, **layer.activation.params}
    for key in ("weights", "biases"):
        if hasattr(layer, key):
            entry[key] = _floats(getattr(layer, key))
    for key in ("kernel_size", "stride", "padding"):
        if hasattr(layer, key):
            entry[key] = list(getattr(layer, key))
    return entry


def sample_dict(network: Network, trace: Trace, sample: int) -> dict[str, Any]:
    """One sample's forward pass: its input, every layer's z and a, and the output.

    Maps are nested as (channels, height, width): the input of a network of images, and the
    z and a of a convolution or pooling layer (which name their ``shape`` in place of neurons).
    """
    values = trace.inputs[sample]
    if network.input_shape is not None:
        values = values.reshape(network.input_shape)
    return {
        "input": _floats(values),
        "layers": [
            _sample_layer(layer, values.z[sample], values.a[sample])
            for layer, values in zip(network.layers, trace.layers, strict=True)
        ],
        "output": _floats(trace.output[sample]),
    }


def _sample_layer(layer: Any, z: np.ndarray, a: np.ndarray) -> dict[str, Any]:
    if layer.dense:
        return {"name": layer.name, "neurons": list(layer.neurons), "z": _floats(z), "a": _floats(a)}
    shape = layer.output_shape
    return {
        "name": layer.name,
        "type": layer.kind,
        "shape": list(shape),
        "z": _floats(z.reshape(shape)),
        "a": _floats(a.reshape(shape)),
    }


def dumps_readable(value: Any, indent: int = 0) -> str:
    """Strict JSON, indented by object, with lists of numbers (and matrices' rows) kept on one line."""
    import json  # here and below: only JSON output pays for the import

    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}{json_escaped(json.dumps(key, ensure_ascii=False))}: {dumps_readable(item, indent + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        if all(isinstance(item, list) and not any(isinstance(v, (dict, list)) for v in item) for item in value):
            rows = [f"{pad}{_compact(item)}" for item in value]
            return "[\n" + ",\n".join(rows) + "\n" + "  " * indent + "]"
        items = [f"{pad}{dumps_readable(item, indent + 1)}" for item in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return _compact(value)


def _compact(value: Any) -> str:
    import json

    return json_escaped(json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(", ", ": ")))


def write_json(stream: TextIO, network: Network, trace: Trace) -> None:
    """One document: ``{"network": ..., "samples": [...]}``."""
    document = JsonDocument(stream, network)
    document.write(trace)
    document.close()


class JsonDocument:
    """``{"network": ..., "samples": [...]}`` written sample by sample as they are computed.

    A document of a million samples is written in the memory of one block of them; the
    text is the same whether the samples come in one block or many.
    """

    def __init__(self, stream: TextIO, network: Network):
        self.stream = stream
        self.network = network
        self.count = 0
        stream.write('{\n  "network": ' + dumps_readable(network_dict(network), 1) + ',\n  "samples": [')

    def write(self, trace: Trace) -> None:
        """Append the samples of one forward pass."""
        for s in range(trace.inputs.shape[0]):
            self.stream.write(",\n    " if self.count else "\n    ")
            self.stream.write(dumps_readable(sample_dict(self.network, trace, s), 2))
            self.count += 1

    def close(self) -> None:
        """End the document (an empty ``samples`` list when nothing was written)."""
        self.stream.write("\n  ]\n}\n" if self.count else "]\n}\n")


def write_jsonl(stream: TextIO, network: Network, trace: Trace) -> None:
    """One sample object per line."""
    import json

    for s in range(trace.inputs.shape[0]):
        stream.write(
            json_escaped(
                json.dumps(
                    sample_dict(network, trace, s),
                    allow_nan=False,
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
        )
        stream.write("\n")


def csv_header(network: Network, with_trace: bool) -> list[str]:
    """Column names: the inputs, the outputs, and with ``with_trace`` every layer's z and a.

    An output named as an input is written ``LAYER.NAME`` (its layer's name), so that every
    column has a name of its own and a program reading the header finds each value.
    """
    inputs = set(network.inputs)
    last = network.layers[-1]
    header = [*network.inputs, *(f"{last.name}.{n}" if n in inputs else n for n in network.outputs)]
    if with_trace:
        for layer in network.layers:
            header.extend(f"{layer.name}.{n}.z" for n in layer.neurons)
            header.extend(f"{layer.name}.{n}.a" for n in layer.neurons)
    return header


def csv_blocks(trace: Trace, with_trace: bool) -> np.ndarray:
    """The rows of the CSV as one (samples, columns) array, in ``csv_header``'s order."""
    blocks = [trace.inputs, trace.output]
    if with_trace:
        for layer in trace.layers:
            blocks.extend((layer.z, layer.a))
    return np.hstack(blocks)


def _cell(value: float) -> str:
    """A float as the streaming writer (polars) writes it, so one-shot and streamed CSV are the same
    text: the shortest digits that read back exactly, as ``repr``, except that a one-digit exponent
    has no leading zero (1e-9, not 1e-09) and 1e-5 ≤ |x| < 1e-4 is written out (0.00001)."""
    if not math.isfinite(value):
        return ""
    text = repr(value)
    if "e-0" in text:
        if text.endswith("e-05"):
            from decimal import Decimal

            return f"{Decimal(text):f}"
        text = text.replace("e-0", "e-")
    return text


def write_csv_rows(stream: TextIO, rows: Iterable[list[float]]) -> None:
    """Rows of floats, each at full precision; a non-finite value is an empty cell."""
    stream.writelines(",".join(map(_cell, row)) + "\n" for row in rows)


def csv_header_line(names: Iterable[str], terminal: bool) -> str:
    """The header row as CSV text: exactly the names for a file or pipe, and on a ``terminal``
    with their control characters made visible (CSV has no escapes, and a terminal obeys them).

    A name holding a comma, a quote or a line break (CR as well as LF: the ``csv`` module
    quotes only the characters of its own line ending) is quoted, so it reads back whole.
    """
    shown = [visible(n) for n in names] if terminal else names
    return ",".join(f'"{n.replace(chr(34), chr(34) * 2)}"' if _NEEDS_QUOTES.search(n) else n for n in shown) + "\n"


_NEEDS_QUOTES = re.compile('[,"\r\n]')


def write_csv(stream: TextIO, network: Network, trace: Trace, with_trace: bool = False, header: bool = True) -> None:
    """A header row, then one row per sample."""
    if header:
        from nncalc.output import is_terminal

        stream.write(csv_header_line(csv_header(network, with_trace), is_terminal(stream)))
    write_csv_rows(stream, csv_blocks(trace, with_trace).tolist())


def grade_dict(network: Network, grade: Any) -> dict[str, Any]:
    """A graded answer sheet as plain data: every mark with its location, verdict and diagnosis.

    A mark of a convolution or pooling layer names its ``cell``, ``{"channel", "row",
    "column"}`` counted from 0 (its ``neuron`` is the cell's name, ``channel.row.column``);
    a flatten's mark names the cell it copies; a dense layer's ``cell`` is null. (``line``
    and ``column`` are where the value is written in the answers file.)
    """
    marks = []
    for mark in grade.marks:
        layer = network.layers[mark.layer]
        marks.append(
            {
                "layer": layer.name,
                "neuron": layer.neurons[mark.neuron],
                "cell": _map_cell(layer, mark.neuron),
                "quantity": mark.quantity,
                **_verdict_dict(mark),
            }
        )
    return {
        "network": network.name,
        "input": _floats(grade.exact.inputs[0]),
        "correct": grade.all_correct,
        "right": len(grade.right),
        "wrong": len(grade.wrong),
        "marks": marks,
    }


def _map_cell(layer: Any, flat: int) -> dict[str, int] | None:
    """Where value ``flat`` of a map layer sits (for a flatten, in the map it reads); None for a dense layer."""
    if layer.dense:
        return None
    _, height, width = layer.output_shape if layer.spatial_output else layer.input_shape
    channel, rest = divmod(flat, height * width)
    row, column = divmod(rest, width)
    return {"channel": channel, "row": row, "column": column}


def backward_grade_dict(network: Network, grade: Any) -> dict[str, Any]:
    """A graded sheet with a backward pass: every mark, forward and backward, located, and the settings.

    A mark names its ``layer``, ``quantity``, ``neuron``, the ``source`` of a weight and the
    ``sample`` (from 1) of a per-sample value; the loss has no layer. A network with
    convolution, pooling or flatten layers also gives each mark's ``cell`` as forward grading
    does (null for a dense layer's values, a bias and the loss): a map value's ``{"channel",
    "row", "column"}``, its ``neuron`` the cell's name ``channel.row.column``. A convolution's
    kernel value names its out channel as ``neuron``, its ``in_channel.row.column`` as
    ``source`` and its ``cell`` in the kernel; a bias names its out channel. An optimizer's
    value (``exp_avg``, ``m_hat``, …) is named as the weight or bias it is of.
    """
    spatial = network.spatial
    marks = []
    for s, graded in enumerate(grade.forward):
        for mark in graded.marks:
            layer = network.layers[mark.layer]
            entry = {"layer": layer.name, "quantity": mark.quantity, "neuron": layer.neurons[mark.neuron]}
            entry |= {"source": None, "sample": s + 1}
            if spatial:
                entry["cell"] = _map_cell(layer, mark.neuron)
            marks.append(entry | _verdict_dict(mark))
    for mark in grade.backward_marks:
        entry: dict[str, Any] = {"layer": None, "quantity": mark.quantity, "neuron": None, "source": None}
        entry["sample"] = mark.index[0] + 1 if mark.quantity == "delta" else None
        if spatial:
            entry["cell"] = None
        if mark.layer is not None:
            layer = network.layers[mark.layer]
            below = network.inputs if mark.layer == 0 else network.layers[mark.layer - 1].neurons
            entry["layer"] = layer.name
            if mark.quantity == "delta":
                entry["neuron"] = layer.neurons[mark.index[1]]
                if spatial:
                    entry["cell"] = _map_cell(layer, mark.index[1])
            elif not layer.dense:  # a convolution's out channel; a kernel's cell as in channel.row.column
                entry["neuron"] = str(mark.index[0])
                if len(mark.index) == 4:  # a kernel's value (its gradient, update, or an optimizer's value of it)
                    entry["source"] = ".".join(str(i) for i in mark.index[1:])
                    entry["cell"] = dict(zip(("channel", "row", "column"), mark.index[1:], strict=True))
            else:
                entry["neuron"] = layer.neurons[mark.index[0]]
                if len(mark.index) == 2:  # a weight's value (its gradient, update, or an optimizer's value of it)
                    entry["source"] = below[mark.index[1]]
        marks.append(entry | _verdict_dict(mark))
    settings = grade.settings
    return {
        "network": network.name,
        # one sample: its input and target, as forward grading gives the input; several: a row each
        "input": _floats(grade.forward[0].exact.inputs[0])
        if len(grade.forward) == 1
        else [_floats(g.exact.inputs[0]) for g in grade.forward],
        "target": _floats(grade.targets[0]) if len(grade.forward) == 1 else _floats(grade.targets),
        "settings": {
            "loss": settings.loss,
            "lr": settings.lr,
            "freeze_biases": settings.freeze_biases,
            "optimizer": None
            if settings.optimizer is None
            else {"name": settings.optimizer.name} | {k: v for k, v in settings.optimizer.options},
            "error": settings.error,
            "batch": settings.batch,
        },
        "correct": grade.all_correct,
        "right": len(grade.right),
        "wrong": len(grade.wrong),
        "marks": marks,
    }


def _verdict_dict(mark: Any) -> dict[str, Any]:
    """What was written, where, what it should be, and the verdict, as ``grade_dict`` gives them."""
    given = mark.given
    return {
        "given": given.value if given is not None else None,
        "text": given.text if given is not None else None,
        "line": given.location.line if given is not None else None,
        "column": given.location.column if given is not None else None,
        "expected": mark.expected if math.isfinite(mark.expected) else None,
        "exact": mark.exact if math.isfinite(mark.exact) else None,
        "tolerance": mark.tolerance if mark.tolerance is None or math.isfinite(mark.tolerance) else None,
        "correct": mark.correct,
        "diagnosis": mark.diagnosis,
    }


def write_grade_json(stream: TextIO, network: Network, grade: Any) -> None:
    """The graded sheet as one JSON document."""
    stream.write(dumps_readable(grade_dict(network, grade)))
    stream.write("\n")


def backward_dict(network: Network, result: Any) -> dict[str, Any]:
    """One gradient-descent step as plain data; layers in forward order, at full precision."""
    return {
        "loss": result.loss,
        "loss_name": result.loss_name,
        "lr": result.lr,
        "sample_losses": _floats(result.sample_losses),
        "layers": [_gradients_dict(layer, grads) for layer, grads in zip(network.layers, result.layers, strict=True)],
        "samples": [sample_dict(network, result.trace, s) for s in range(result.trace.inputs.shape[0])],
        "targets": _floats(result.targets),
        **_optimizer_section(result),
    }


def _gradients_dict(layer: Any, grads: Any) -> dict[str, Any]:
    """One layer's δ per sample, its gradients and its updated parameters.

    A spatial layer names its ``type`` and ``shape``, and gives each sample's δ nested as its
    output (channels, height, width); a convolution's gradients and parameters are shaped as
    its kernel (out_channels, in_channels, kh, kw) and biases; pooling and flatten have none.
    """
    if layer.dense:
        return {
            "name": layer.name,
            "neurons": list(layer.neurons),
            "delta": _floats(grads.delta),
            "grad_weights": _floats(grads.grad_weights),
            "grad_biases": _floats(grads.grad_biases),
            "weights": _floats(grads.weights),
            "biases": _floats(grads.biases),
        }
    samples = grads.delta.shape[0]
    entry: dict[str, Any] = {
        "name": layer.name,
        "type": layer.kind,
        "shape": list(layer.output_shape),
        "delta": _floats(grads.delta.reshape(samples, *layer.output_shape)),
    }
    if layer.n_params:
        entry.update(
            {
                "grad_weights": _floats(grads.grad_weights),
                "grad_biases": _floats(grads.grad_biases),
                "weights": _floats(grads.weights),
                "biases": _floats(grads.biases),
            }
        )
    return entry


def _optimizer_section(result: Any) -> dict[str, Any]:
    """``{"optimizer_state": ...}``: the optimizer and its state after the step, where one made the update."""
    if getattr(result, "optimizer", None) is None:
        return {}
    from nncalc.optimizer_state import state_dict

    return {"optimizer_state": state_dict(result.network, result.optimizer, result.lr, result.state)}


def training_dict(network: Network, final: Network, losses: Any, outputs: np.ndarray) -> dict[str, Any]:
    """Repeated steps: every iteration's loss, the final network and its outputs."""
    return {
        "loss": float(losses[0]),
        "iterations": len(losses) - 1,
        "losses": [float(v) for v in losses],
        "final_loss": float(losses[-1]),
        "network": network_dict(final),
        "output": _floats(outputs),
    }


def write_document(stream: TextIO, document: dict[str, Any]) -> None:
    """Any result document as readable strict JSON."""
    stream.write(dumps_readable(document))
    stream.write("\n")
