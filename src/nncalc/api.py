"""nncalc as a library: load a network, run it, and get results that show their working.

The command line is one user of this module; a notebook is another. Every result holds
the numbers as NumPy arrays and displays itself in a notebook cell (JupyterLab, VS Code,
Colab) as the same worked solution the command line prints, typeset::

    import nncalc
    net = nncalc.load("configs/course-chain.yaml")
    net.forward([0.1])                    # a cell shows the tables and the derivation
    net.forward([0.1]).output             # array([[0.71530…]])

Options a command takes as flags are keyword arguments here: ``precision``, ``steps``,
``round``. Mistakes raise ``nncalc.NncalcError`` with the same located messages.

``steps`` is what ``--steps`` asks for: ``True`` (or ``"neurons"``) writes each neuron's
sums, ``"matrix"`` each layer at once with its matrices (``Z = W·x + b`` written out,
bmatrix in Markdown and LaTeX), ``False`` leaves the derivations out, and ``None`` (the
default) shows them where the command does by default::

    net.forward([0.05, 0.10], steps="matrix").to_markdown()
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nncalc.document import Document
from nncalc.errors import InputError
from nncalc.network import Network
from nncalc.worked import STEP_FORMS

ArrayLike = Any  # a number, a sequence of numbers, a 2-D sequence, or an ndarray


MAX_DECIMALS = 15  # --round and --precision: a float64 holds about 15 to 17 significant digits


def check_decimals(value: Any, name: str, optional: bool = False) -> None:
    """Refuse ``round``/``precision`` outside 0 to 15, as the command line's options do."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_DECIMALS:
        raise InputError(f"{name} must be a whole number from 0 to {MAX_DECIMALS}, got {value!r}")


def steps_view(steps: bool | str | None) -> tuple[bool | None, str]:
    """What ``steps`` asks for, as ``--steps [FORM]`` and ``--no-steps`` do: on, off or by default
    (None), and the form, "neurons" or "matrix". Anything else raises ``InputError``."""
    if steps is None or isinstance(steps, bool):
        return steps, "neurons"
    if isinstance(steps, str) and steps.lower() in STEP_FORMS:
        return True, steps.lower()
    raise InputError(f"steps must be True, False, None, 'neurons' or 'matrix', got {steps!r}")


def load(path: str | Path, max_bytes: int = 64 * 1024 * 1024) -> Network:
    """The network in a file, validated as ``nncalc check`` validates it (raises ``NncalcError``)."""
    from nncalc.loader import load_network

    return load_network(path, max_bytes=max_bytes)


def network_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Network:
    """A network from the file format as a dict (what ``yaml.safe_load`` of a network file gives)."""

    from nncalc.loader import parse_network

    if not isinstance(data, Mapping):
        raise InputError(f"a network is a mapping of the file format's keys, not {type(data).__name__}")
    return parse_network(_yaml_text(data, "network"), source)


def _yaml_text(data: Any, what: str) -> str:
    """Plain data as the YAML text of its file format; anything YAML cannot write is an ``InputError``."""
    import yaml

    try:
        return yaml.safe_dump(_plain(data, what), sort_keys=False, allow_unicode=True)
    except yaml.representer.RepresenterError as exc:
        odd = exc.args[1] if len(exc.args) > 1 else None
        raise InputError(
            f"the {what} must be plain data (mappings, lists, numbers and text), not {type(odd).__name__}"
        ) from None


def _plain(value: Any, what: str = "data", within: frozenset[int] = frozenset()) -> Any:
    """Dicts, lists, str and Python floats only: NumPy arrays and scalars become lists and floats.

    ``within`` holds the containers ``value`` is inside: one inside itself would never end."""
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in within:
            raise InputError(
                f"the {what} must be plain data (mappings, lists, numbers and text): a list or mapping contains itself"
            )
        within = within | {id(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, what, within) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist(), what, within)
    if isinstance(value, (list, tuple)):
        return [_plain(v, what, within) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def _refuse_text(path: str | os.PathLike, what: str, instead: str) -> None:
    """Refuse as a path what is a file's text, and say what to pass: a line break and no such file
    (a file's name may hold one, but none is ever written so)."""
    if isinstance(path, str) and "\n" in path and "\0" not in path and not os.path.lexists(path):
        raise InputError(f"the {what}: this text holds a line break, so it is not a path; pass {instead}")


def network_of(network: Network | str | os.PathLike) -> Network:
    """The network a call works on: a ``Network``, or the path of a network file, read as ``load`` reads it."""
    if isinstance(network, Network):
        return network
    if isinstance(network, (str, os.PathLike)):
        _refuse_text(network, "network", "nncalc.network_from_dict(yaml.safe_load(text))")
        return load(network)
    raise InputError(
        f"network must be a Network (nncalc.load(path)) or a network file's path, not {type(network).__name__}"
    )


def batch(network: Network, values: ArrayLike, what: str = "input", width: int | None = None) -> np.ndarray:
    """``values`` as a (samples, width) float64 array: one sample (a flat list), or a 2-D batch.

    The inputs of a network of images may also be one image (channels, height, width), or
    (height, width) for one channel, or a batch of them (samples, channels, height, width).
    A path (``str`` or ``Path``) is a samples file, read as ``--inputs`` reads it: CSV with
    an optional header of names (the outputs' names for a target), or a ``.yaml`` file of
    samples (images as a matrix per channel).
    """
    if isinstance(values, (bytes, bytearray, memoryview)):  # NumPy would read bytearray(25) as 25 numbers
        raise InputError(f"the {what} must be numbers or a samples file's path, not bytes")
    if isinstance(values, (str, os.PathLike)):
        _refuse_text(values, what, "the values as a list, or the path of the file that holds them")
        values = _samples_file(network, values, width)
    if values is None:
        raise InputError(f"no {what} given: give the values (a list or an array) or a samples file's path")
    expected = network.n_inputs if width is None else width
    try:
        array = np.asarray(values)
        if np.iscomplexobj(array):  # a cast to float drops the imaginary part, with a warning
            raise InputError(f"the {what} must be real numbers, got complex ones")
        if array.dtype.kind in "bUSO" and not _all_numbers(array):  # True as 1.0, '0.5' as 0.5: not numbers
            raise InputError(f"the {what} must be numbers, not {_kinds(array)}")
        array = array.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the {what} must be numbers: {exc}") from None
    shape = network.input_shape if width is None else None
    if shape is not None and array.ndim >= 2:
        if array.shape == shape or (shape[0] == 1 and array.shape == shape[1:]):
            array = array.reshape(1, -1)  # one image
        elif array.ndim == 4 and array.shape[1:] == shape:
            array = array.reshape(array.shape[0], -1)  # a batch of images
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != expected:
        raise InputError(f"the {what} must have {expected} value(s) per sample, got shape {np.shape(values)}")
    if not np.isfinite(array).all():
        raise InputError(f"the {what} must be finite numbers")
    return array


_rows = batch  # for functions whose own parameter is called batch


def _all_numbers(array: np.ndarray) -> bool:
    """Whether an array of objects holds only real numbers (not booleans, not text)."""
    if array.dtype.kind != "O":
        return False
    return all(
        isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        for value in array.ravel()
    )


def _kinds(array: np.ndarray) -> str:
    """What an array that is not numbers holds, for a message."""
    return {"b": "True and False", "U": "text", "S": "bytes"}.get(array.dtype.kind, "text, booleans or other objects")


def _samples_file(network: Network, path: str | os.PathLike, width: int | None) -> np.ndarray:
    """The samples (or, when ``width`` is given, the targets) in a CSV or YAML samples file."""
    from nncalc.inputs import read_samples_source

    names = network.inputs if width is None else network.outputs
    shape = network.input_shape if width is None else None
    what = "input" if width is None else "output"  # a targets file's columns are the outputs
    samples, _ = read_samples_source(os.fspath(path), names, (), None, shape=shape, what=what)
    return samples.values


class _Shown:
    """What every result shares: its document, written in any notation, and shown in a notebook."""

    precision: int = 4

    def document(self) -> Document:  # pragma: no cover - every result defines it
        """The worked solution as a ``nncalc.document.Document``: the blocks every notation writes."""
        raise NotImplementedError

    def to_text(self) -> str:
        """The worked solution as the terminal shows it, without colour."""
        import io

        from nncalc.notation import write_document

        stream = io.StringIO()
        write_document(self.document(), "table", stream)
        return stream.getvalue()

    def to_markdown(self) -> str:
        """The worked solution in Markdown, its maths in ``$…$``."""
        return self._written("markdown")

    def to_latex(self, standalone: bool = False) -> str:
        """The worked solution in LaTeX; ``standalone`` gives a document pdflatex compiles."""
        return self._written("latex", standalone)

    def to_html(self, standalone: bool = False) -> str:
        """The worked solution in HTML (MathML maths); ``standalone`` gives a whole page."""
        return self._written("html", standalone)

    def _written(self, fmt: str, standalone: bool = False) -> str:
        import io

        from nncalc.notation import write_document

        stream = io.StringIO()
        write_document(self.document(), fmt, stream, standalone)
        return stream.getvalue()

    def _repr_html_(self) -> str:
        from nncalc.notation.html import html_fragment

        return html_fragment(self.document())

    def _repr_markdown_(self) -> str:
        from nncalc.notation.markdown import markdown_text

        return markdown_text(self.document(), display_math=True)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """HTML for JupyterLab, VS Code and Colab; Markdown with ``$$`` maths and plain text besides."""
        return {"text/html": self._repr_html_(), "text/markdown": self._repr_markdown_(), "text/plain": repr(self)}


class ForwardResult(_Shown):
    """A forward pass: ``output`` (samples, outputs), and each layer's ``z`` and ``a`` in ``layers``."""

    def __init__(
        self, network: Network, trace: Any, texts: Any, precision: int, steps: bool | str | None, all_rows: bool
    ):
        self.network = network
        self.trace = trace
        self._texts = texts
        self.precision = precision
        self.steps, self.form = steps_view(steps)
        self.all_rows = all_rows

    @property
    def output(self) -> np.ndarray:
        """The last layer's a: an array of shape (samples, outputs)."""
        return self.trace.output

    @property
    def layers(self) -> tuple:
        """Each layer's values: ``layers[k].z`` and ``layers[k].a``, (samples, neurons) arrays."""
        return self.trace.layers

    def document(self) -> Document:
        """The forward pass worked out: a table per layer, each neuron's steps (or each layer's in matrices)."""
        from nncalc.worked import View
        from nncalc.worked.forward import forward_document

        view = View(self.precision, self.steps, self.all_rows, self.form)
        return forward_document(self.network, self.trace, self._texts, view)

    def __repr__(self) -> str:
        samples = self.output.shape[0]
        shown = np.array2string(self.output, precision=self.precision, separator=", ", threshold=12)
        return f"<ForwardResult of {self.network.name or 'a network'}: {samples} sample(s), output {shown}>"


class BackwardResult(_Shown):
    """One gradient-descent step: ``loss``, each layer's ``delta``, ``grad_weights``, ``grad_biases``,
    and the updated ``network``."""

    def __init__(self, network: Network, result: Any, texts: Any, precision: int, steps: bool | str | None):
        self.before = network
        self.result = result
        self._texts = texts
        self.precision = precision
        self.steps, self.form = steps_view(steps)

    @property
    def network(self) -> Network:
        """The network after the step."""
        return self.result.network

    @property
    def loss(self) -> float:
        """The batch loss before the step."""
        return self.result.loss

    @property
    def layers(self) -> tuple:
        """Each layer's ``delta``, ``grad_weights``, ``grad_biases``, updated ``weights`` and ``biases``,
        and the f′(z) ``derivative`` the chain rule used."""
        return self.result.layers

    @property
    def optimizer(self) -> Any:
        """The optimizer that made the update (``nncalc.optimizers.BoundOptimizer``), or None for
        plain gradient descent."""
        return self.result.optimizer

    @property
    def state(self) -> Any:
        """The optimizer's state after the step (``nncalc.optimizers.State``), to pass as ``state=``
        to the next step; None without an optimizer."""
        return self.result.state

    @property
    def optimizer_state(self) -> dict[str, Any] | None:
        """The optimizer and its state after the step as plain data: what ``--format json`` writes
        under ``optimizer_state`` (and ``state=`` takes back); None without an optimizer."""
        if self.result.optimizer is None:
            return None
        from nncalc.optimizer_state import state_dict

        return state_dict(self.network, self.result.optimizer, self.result.lr, self.result.state)

    def document(self) -> Document:
        """The step worked out: the forward pass, the loss, each δ, gradient and update."""
        from nncalc.worked import View
        from nncalc.worked.backward import backward_document

        view = View(self.precision, self.steps, form=self.form)
        return backward_document(self.before, self.result, self._texts, view)

    def __repr__(self) -> str:
        by = "" if self.optimizer is None else f", {self.optimizer.spec.title} step {self.state.step}"
        return f"<BackwardResult: loss {self.loss:.{self.precision}g} before the step, lr {self.result.lr:g}{by}>"


class Marks(_Shown):
    """A graded answer sheet: ``all_correct``, the ``right`` and ``wrong`` marks, the ``first_wrong``.

    With a target, the marks cover the backward pass too: the loss, each δ, gradient and
    updated value (``nncalc.grading_backward.BackMark``), after the forward marks.
    """

    def __init__(
        self,
        network: Network,
        grade: Any,
        source: str,
        precision: int,
        texts: Any = None,
        steps: bool | str | None = None,
    ):
        self.network = network
        self.grade = grade
        self.source = source
        self.precision = precision
        self._texts = texts  # the inputs' and targets' texts, for the backward pass
        self.steps, self.form = steps_view(steps)

    @property
    def all_correct(self) -> bool:
        """True when every value written is right."""
        return self.grade.all_correct

    @property
    def right(self) -> list:
        """The marks of the values that are right."""
        return self.grade.right

    @property
    def wrong(self) -> list:
        """The marks of the values that are wrong (each with ``expected``, ``given`` and ``diagnosis``)."""
        return self.grade.wrong

    @property
    def first_wrong(self) -> Any:
        """The first wrong mark in the order of the work (forward, loss, then from the output back), or None."""
        return self.grade.first_wrong

    def document(self) -> Document:
        """The marks worked out: a table per layer, and the first wrong value with your numbers
        (its whole layer in matrices with ``steps="matrix"``; left out with ``steps=False``)."""
        from nncalc.worked import View

        view = View(self.precision, self.steps, form=self.form)
        if self._texts is not None:
            from nncalc.worked.grade_backward import backward_grade_document

            inputs, targets = self._texts
            return backward_grade_document(self.network, self.grade, self.source, inputs, targets, view)
        from nncalc.worked.grade import grade_document

        return grade_document(self.network, self.grade, self.source, view)

    def __repr__(self) -> str:
        return f"<Marks: {len(self.right)} right, {len(self.wrong)} wrong>"


def forward(
    network: Network | str | os.PathLike,
    inputs: ArrayLike,
    *,
    precision: int = 4,
    steps: bool | str | None = None,
    round: int | None = None,
    round_z: bool = False,
    all_rows: bool = False,
) -> ForwardResult:
    """Run one sample (a flat list) or a batch (2-D) through ``network``; see ``ForwardResult``.

    ``network`` is a ``Network`` or a network file's path; ``inputs`` may also be the path
    of a samples file (CSV, or YAML with images as a matrix per channel).

    ``steps``: True or "neurons" (each neuron's sums), "matrix" (each layer at once, z = W·x + b
    with its matrices), False (none), None (where every layer is small enough to read).
    """
    from nncalc.engine import forward as run

    steps_view(steps)
    check_decimals(precision, "precision")
    check_decimals(round, "round", optional=True)
    network = network_of(network)
    x = batch(network, inputs)
    return ForwardResult(network, run(network, x, decimals=round, round_z=round_z), None, precision, steps, all_rows)


def backward(
    network: Network | str | os.PathLike,
    inputs: ArrayLike,
    target: ArrayLike,
    *,
    lr: float | None = None,
    loss: str = "half_sse",
    freeze_biases: bool = False,
    optimizer: str | Mapping[str, Any] | Any = None,
    state: Any = None,
    precision: int = 4,
    steps: bool | str | None = None,
    round: int | None = None,
    round_z: bool = False,
) -> BackwardResult:
    """One step of gradient descent on the batch (``inputs`` and its ``target``); see ``BackwardResult``.

    ``network``, ``inputs`` and ``target`` may be paths, as for ``forward`` (a target file's
    columns are the outputs).

    ``optimizer`` makes the update PyTorch's ``"sgd"``, ``"adam"``, ``"adamw"`` or ``"rmsprop"``:
    a name, a mapping of its parameters (``{"name": "sgd", "momentum": 0.9}``) or the text
    ``--optimizer`` takes. ``state`` continues from an earlier step: its result's ``state``, or
    its ``optimizer_state`` (plain data, which also names the optimizer and the learning rate).
    ``lr`` is the learning rate: by default the plain-data state's, else 0.5. ``steps``: True or
    "neurons" (each δ, gradient and update), "matrix" (each layer at once, δ = (Wᵀ·δ) ⊙ f′(z),
    ∂L/∂W = δ·aᵀ), False (none); None shows them as True does.
    """
    from nncalc.backprop import backward as run

    steps_view(steps)
    check_decimals(precision, "precision")
    check_decimals(round, "round", optional=True)
    network = network_of(network)
    x = batch(network, inputs)
    t = batch(network, target, "target", len(network.outputs))
    if t.shape[0] != x.shape[0]:
        raise InputError(f"give one target per sample ({x.shape[0]} samples, {t.shape[0]} targets)")
    bound, lr, state = _continued(network, optimizer, state, lr)
    result = run(network, x, t, loss, 0.5 if lr is None else lr, freeze_biases, round, round_z, bound, state)
    return BackwardResult(network, result, None, precision, steps)


def _continued(network: Network, optimizer: Any, state: Any, lr: float | None) -> tuple[Any, float | None, Any]:
    """The optimizer, learning rate and optimizer state a step starts from.

    ``state`` is a result's ``state``, its plain-data ``optimizer_state``, or the path of a
    file ``backward --write-state`` saved; plain data and files also name the optimizer
    (checked against ``optimizer``, when given) and the learning rate (used when ``lr`` is None).
    """
    from nncalc.optimizers import State

    bound = _optimizer(optimizer)
    if state is not None and not isinstance(state, (str, os.PathLike, Mapping, State)):
        raise InputError(
            f"state must be a result's state, its optimizer_state (a mapping) or a state file's path, "
            f"not {type(state).__name__}"
        )
    if isinstance(state, (str, os.PathLike)):
        from nncalc.optimizer_state import load_state

        bound, saved_lr, state = load_state(state, network, bound)
        lr = saved_lr if lr is None else lr
    elif isinstance(state, Mapping):
        from nncalc.optimizer_state import parse_state

        text = _yaml_text(state, "optimizer state")
        bound, saved_lr, state = parse_state(text, network, bound, "<state>")
        lr = saved_lr if lr is None else lr
    return bound, lr, state


def _optimizer(optimizer: Any) -> Any:
    """An optimizer from a name (or ``--optimizer`` text), a mapping with a ``name``, or a bound one."""
    from nncalc.optimizers import BoundOptimizer, bind, parse_optimizer

    if optimizer is None or isinstance(optimizer, BoundOptimizer):
        return optimizer
    if isinstance(optimizer, str):
        return parse_optimizer(optimizer, "optimizer")
    if isinstance(optimizer, Mapping):
        options = {str(k): v for k, v in _plain(optimizer, "optimizer").items()}
        name = options.pop("name", None)
        if not isinstance(name, str):
            raise InputError("an optimizer mapping needs a name: sgd, adam, adamw or rmsprop")
        return bind(name, "optimizer", **options)
    raise InputError(f"optimizer must be a name or a mapping, not {type(optimizer).__name__}")


def grade(
    network: Network | str | os.PathLike,
    inputs: ArrayLike,
    answers: Mapping[str, Any] | str | Path,
    *,
    target: ArrayLike | None = None,
    lr: float | None = None,
    loss: str | None = None,
    freeze_biases: bool = False,
    optimizer: str | Mapping[str, Any] | Any = None,
    state: Any = None,
    error: str | None = None,
    batch: str | None = None,
    tolerance: float | None = None,
    precision: int = 4,
    steps: bool | str | None = None,
    round: int | None = None,
    round_z: bool = False,
) -> Marks:
    """Mark worked answers (the answers file's format as a dict, or its path) for one sample, or a batch with a target.

    ``network`` and ``inputs`` may be paths, as for ``forward``.

    For a network of convolutions, ``inputs`` is the image (flat, in PyTorch's order, or a
    matrix per channel), and a convolution's or pooling's z and a are its maps, a matrix
    per channel (``{"layers": [{"z": [[0, 7, 7], ...]}, ...]}``); with a target, their δ
    too, and a convolution's kernels (``grad_weights``, ``weights``) as its network file
    writes them; with a target, a batch of images too (``inputs`` a list of images, each
    map in the answers a list of one per image).

    With ``target`` (one row per sample of ``inputs``) the backward pass is marked too, as
    ``nncalc grade --target`` does; ``lr``, ``loss``, ``freeze_biases``, ``optimizer`` (a
    name, a mapping with a ``name``, or ``"{name: sgd, momentum: 0.9}"``), ``error`` ("a-t"
    or "t-a") and ``batch`` ("mean" or "sum") mean what the command's options do. ``state``
    makes the sheet a later optimizer step, as ``--state`` does: a ``backward`` result's
    ``state``, its plain-data ``optimizer_state``, or a state file's path (its optimizer and
    learning rate are used unless given). ``steps`` is the first wrong
    value's step: None, True or "neurons" (its own sum), "matrix" (its whole layer at once
    from your values, the wrong entry named), False (left out).
    """
    from nncalc.answers import load_sheet, parse_sheet
    from nncalc.grading import grade as run

    steps_view(steps)
    check_decimals(precision, "precision")
    check_decimals(round, "round", optional=True)
    network = network_of(network)
    x = _rows(network, inputs)
    samples = x.shape[0]
    if target is None and samples != 1:
        raise InputError("an answer sheet is for one sample: give one input")
    if isinstance(answers, (str, os.PathLike)):
        _refuse_text(answers, "answers", "a mapping, yaml.safe_load(text)")
        sheet, source = load_sheet(os.fspath(answers), network, samples), os.fspath(answers)
    else:
        source = "<answers>"
        sheet = parse_sheet(_yaml_text(answers, "answers"), network, source, samples)
    texts = tuple(tuple(repr(float(v)) for v in row) for row in x)
    if target is None:
        if sheet.first_backward() is not None:
            raise InputError("the answers hold values of the backward pass; give the targets to grade them")
        result = run(network, x[0], texts[0], sheet.forward(0), tolerance=tolerance, decimals=round, round_z=round_z)
        return Marks(network, result, source, precision, steps=steps)
    from nncalc.grading_backward import grade_backward, settings_for

    t = _rows(network, target, "target", len(network.outputs))
    bound, lr, state = _continued(network, optimizer, state, lr)
    settings = settings_for(sheet, loss, 0.5 if lr is None else lr, freeze_biases, bound, error, batch, state)
    result = grade_backward(network, x, texts, t, sheet, settings, tolerance=tolerance, decimals=round, round_z=round_z)
    target_texts = tuple(tuple(repr(float(v)) for v in row) for row in t)
    return Marks(network, result, source, precision, (texts, target_texts), steps)


def save(network: Network, path: str | Path, force: bool = True) -> None:
    """Write ``network`` in the file format; ``load`` reads it back to the same bits."""
    from nncalc.files import output_text_file
    from nncalc.writer import dump_network

    with output_text_file(Path(path), overwrite=force) as stream:
        stream.write(dump_network(network))


def from_sklearn(model: Any, name: str | None = None) -> Network:
    """A fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor`` as a network (its output activation included)."""
    from nncalc.importers.sklearn import network_dict

    return network_from_dict(network_dict(model, name), "<sklearn>")


def from_torch(
    module: Any,
    input_names: Sequence[str] | None = None,
    name: str | None = None,
    input_shape: Sequence[int] | None = None,
) -> Network:
    """A PyTorch ``nn.Sequential`` of ``Linear``, ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, ``Flatten`` and
    activations as a network.

    A model that starts with a convolution or pooling needs ``input_shape``: one image's
    (channels, height, width), or (height, width) with the channels its first ``Conv2d``
    takes, e.g. ``from_torch(model, input_shape=(28, 28))``.
    """
    from nncalc.importers.torch import network_dict

    return network_from_dict(network_dict(module, input_names, name, input_shape=input_shape), "<torch>")


def from_keras(model: Any, name: str | None = None, input_shape: Sequence[int] | None = None) -> Network:
    """A Keras 3 ``Sequential`` or functional chain of ``Dense``, ``Conv2D``, ``MaxPooling2D``,
    ``AveragePooling2D`` and ``Flatten`` layers (activation layers folded in) as a network; the
    input shape is the model's own, (height, width, channels) turned to nncalc's (channels, height, width);
    ``input_shape`` (channels, height, width) gives the sizes a model's input leaves open."""
    from nncalc.importers.keras import network_dict

    return network_from_dict(network_dict(model, name, input_shape=input_shape), "<keras>")


def from_lab(network: Mapping[str, Any], name: str | None = None) -> Network:
    """The course lab's nested dict as a network, every layer sigmoid:
    ``{'layer_1': {'node_1': {'weights': [...], 'bias': [...]}}, ..., 'output': {...}}``."""
    from nncalc.importers.lab import network_dict

    return network_from_dict(network_dict(network, name), "<lab>")


def from_file(
    path: str | Path,
    activations: Sequence[str] | None = None,
    name: str | None = None,
    input_shape: Sequence[int] | None = None,
) -> Network:
    """A saved model (.onnx, .safetensors, .npz, .keras, .h5) as a network; nothing in the file is run.

    ``activations`` names each layer's activation (or one for all) for formats that store
    weights only (.npz, .safetensors). ``input_shape`` (channels, height, width) gives the
    picture size of a convolutional ONNX or Keras model that leaves it open.
    """
    from nncalc.importers.files import import_file

    given = list(activations) if activations else None
    return network_from_dict(import_file(Path(path), given, name, input_shape=input_shape), str(path))
