"""Rich tables and derivations for a person at a terminal (the only module that imports Rich)."""

from __future__ import annotations

import contextlib
import os
from typing import TextIO

from rich.console import Console, Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text as RichText

from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.records import record
from nncalc.render.derivation import a_text, layer_steps, z_text
from nncalc.render.numbers import show, value_of
from nncalc.summary import LayerSummary, summarize_layer
from nncalc.text import visible


class Text(RichText):
    """Rich text that shows control characters as pictures (ESC as ␛), never sends them to the terminal.

    Names, paths and every derivation line come from the user's file and may hold escape
    sequences or bidirectional overrides. Every Text this module builds is this one, and
    every plain string printed passes :meth:`_Console.render_str`, so all text meets
    :func:`nncalc.text.visible` on its way to the screen, before Rich measures it.
    """

    def __init__(self, text: str = "", *args, **kwargs) -> None:
        super().__init__(visible(text), *args, **kwargs)

    def append(self, text, style=None) -> Text:
        """Append text (made visible) or another Text, as Rich's ``append`` does."""
        return super().append(visible(text) if isinstance(text, str) else text, style)


LARGE_LAYER = 32  # layers with more neurons are summarised unless every row is asked for
MOST_DECIMALS = 17  # enough for any float's every digit


@record
class TableView:
    """What a person asked to see."""

    precision: int = 4
    steps: bool = True
    all_rows: bool = False


class _Console(Console):
    """A Rich console that leaves a closed pipe to the caller (Rich itself would exit with 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError()

    def render_str(self, text: str, **options) -> RichText:
        """A plain string printed or put in a table, with control characters shown as pictures."""
        return super().render_str(visible(text), **options)


PIPE_WIDTH = 240  # a file or pipe has no width: wide enough that no table folds


def make_console(stream: TextIO, width: int | None = None) -> Console:
    """A console that prints names literally (no markup), colours only on a terminal, honours NO_COLOR.

    Off a terminal the width is generous, so tables are not folded to 80 columns.
    """
    if width is None and not _is_terminal(stream):
        width = PIPE_WIDTH
    no_color = os.environ.get("NO_COLOR", "") != ""
    return _Console(
        file=stream,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
        soft_wrap=False,
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print_whole(console: Console, renderable) -> None:
    """Print a table at its natural width even where the terminal is narrower: a number is
    never cut short or folded, the terminal wraps the line instead."""
    natural = Measurement.get(console, console.options.update_width(10_000), renderable).maximum
    if natural <= console.width:
        console.print(renderable)
        return
    width = console.width
    console.width = natural
    try:
        console.print(renderable, crop=False)
    finally:
        console.width = width


def _number_column(table: Table, title: str) -> None:
    table.add_column(Text(title), justify="right", no_wrap=True)


def print_forward(
    console: Console,
    network: Network,
    trace: Trace,
    input_texts: tuple[tuple[str, ...], ...] | None,
    view: TableView,
) -> None:
    """Every sample: a table per layer (neuron, z, a), each neuron's steps, then the output."""
    p = view.precision
    samples = trace.inputs.shape[0]
    for s in range(samples):
        texts = input_texts[s] if input_texts is not None else None
        shown_inputs = texts or tuple(show(v, p) for v in trace.inputs[s])
        heading = Text()
        if network.name:
            heading.append(network.name, style="bold")
            heading.append(" — ")
        heading.append(f"sample {s + 1} of {samples}: " if samples > 1 else "input: ", style="bold")
        heading.append(", ".join(f"{n} = {v}" for n, v in zip(network.inputs, shown_inputs, strict=True)))
        if s:
            console.print()
        console.print(heading, soft_wrap=True)
        for index, layer in enumerate(network.layers):
            console.print()
            title = Text(f"{network.layer_label(index)} · {layer.activation.describe()}", style="bold cyan")
            large = layer.n_neurons > LARGE_LAYER and not view.all_rows
            if large:
                console.print(title, soft_wrap=True)
                _print_whole(console, _summary_table(network, index, summarize_layer(trace, index, s), p))
                continue
            table = Table(title=None, show_edge=True, pad_edge=True, expand=False)
            table.add_column("neuron", no_wrap=True)
            _number_column(table, "z")
            _number_column(table, "a")
            z = trace.layers[index].z[s]
            a = trace.layers[index].a[s]
            for j, neuron in enumerate(layer.neurons):
                table.add_row(Text(neuron), show(z[j], p), show(a[j], p))
            console.print(title, soft_wrap=True)
            _print_whole(console, table)
            if view.steps:
                steps = layer_steps(network, trace, index, s, texts, p)
                width = max(len(step.neuron) for step in steps)
                lines = []
                for step in steps:
                    lines.append(Text(f"  {step.neuron.ljust(width)}  {z_text(step)}"))
                    lines.append(Text(f"  {' ' * width}  {a_text(step)}"))
                for line in lines:  # long sums are left to the terminal to wrap: no digit is cut
                    console.print(line, soft_wrap=True)
        console.print()
        output = Text("output: ", style="bold green")
        output.append(", ".join(f"{n} = {show(v, p)}" for n, v in zip(network.outputs, trace.output[s], strict=True)))
        console.print(output, soft_wrap=True)


def _summary_table(network: Network, index: int, summary: LayerSummary, p: int) -> Group:
    layer = network.layers[index]
    table = Table(show_edge=True)
    table.add_column("", no_wrap=True)
    _number_column(table, "min")
    _number_column(table, "max")
    _number_column(table, "mean")
    table.add_row("z", show(summary.z_min, p), show(summary.z_max, p), show(summary.z_mean, p))
    table.add_row("a", show(summary.a_min, p), show(summary.a_max, p), show(summary.a_mean, p))
    top = ", ".join(f"{layer.neurons[j]} = {show(a, p)}" for j, _, a in summary.top)
    note = Text(f"{layer.n_neurons} neurons × {layer.n_inputs} inputs; highest a: {top}  (--all lists every neuron)")
    return Group(table, note)


def print_grade(console: Console, network: Network, grade, answers_source: str, precision: int) -> None:
    """A table per layer marking each written value right or wrong, then the first mistake explained."""
    from nncalc.render.derivation import graded_step

    heading = Text()
    if network.name:
        heading.append(network.name, style="bold")
        heading.append(" — ")
    heading.append("grading ", style="bold")
    heading.append(answers_source)
    heading.append(" for input ")
    heading.append(", ".join(f"{n} = {v}" for n, v in zip(network.inputs, grade.input_texts, strict=True)))
    console.print(heading, soft_wrap=True)
    for index, (layer, graded) in enumerate(zip(network.layers, grade.layers, strict=True)):
        console.print()
        label = Text(f"{network.layer_label(index)} · {layer.activation.describe()}", style="bold cyan")
        console.print(label, soft_wrap=True)
        table = Table(show_edge=True)
        table.add_column("neuron", no_wrap=True)
        table.add_column("", no_wrap=True)
        _number_column(table, "yours")
        _number_column(table, "expected")
        table.add_column("mark", no_wrap=True)
        for z_mark, a_mark in zip(graded.z, graded.a, strict=True):
            for mark in (z_mark, a_mark):
                table.add_row(
                    Text(layer.neurons[mark.neuron]),
                    mark.quantity,
                    mark.given.text if mark.given is not None else "—",
                    _expected_text(mark, precision),
                    _verdict(mark.correct),
                )
        _print_whole(console, table)
    console.print()
    first = grade.first_wrong
    if first is not None:
        neuron = network.layers[first.layer].neurons[first.neuron]
        title = Text("first wrong value: ", style="bold red")
        title.append(f"{first.quantity} of {neuron} in {network.layer_label(first.layer)}, at {first.given.location}")
        console.print(title, soft_wrap=True)
        console.print(
            Text(f"  {graded_step(network, grade, first, precision)}, not {first.given.text}"), soft_wrap=True
        )
        if first.diagnosis:
            console.print(Text(f"  likely: {first.diagnosis}"), soft_wrap=True)
        if abs(first.expected - first.exact) > (first.tolerance or 0):
            console.print(
                Text(f"  (from your earlier values; with exact earlier values it is {show(first.exact, precision)})"),
                soft_wrap=True,
            )
        console.print()
    right, wrong = len(grade.right), len(grade.wrong)
    blank = sum(1 for m in grade.marks if m.correct is None)
    summary = Text(f"{right} right, {wrong} wrong", style="bold green" if not wrong else "bold red")
    if blank:
        summary.append(f", {blank} left out")
    console.print(summary)


def _expected_text(mark, precision: int) -> str:
    """The right value, shown to the table's precision or to the decimals the person wrote, whichever is more.

    A wrong answer that would read the same as the right one at those decimals (a tolerance
    tighter than the written digits) gets more decimals until the difference shows.
    """
    from nncalc.numbers import decimals_written

    decimals = precision
    written = decimals_written(mark.given.text) if mark.given is not None else None
    if written is not None:
        decimals = max(decimals, written)
    text = show(mark.expected, decimals)
    if mark.correct is False:
        given = value_of(mark.given.text)
        while decimals < MOST_DECIMALS and value_of(text) == given:
            decimals += 1
            text = show(mark.expected, decimals)
    return text


def _verdict(correct: bool | None) -> Text:
    if correct is None:
        return Text("")
    return Text("✓ right", style="green") if correct else Text("✗ wrong", style="bold red")


def print_backward(
    console: Console,
    network: Network,
    result,
    input_texts: tuple[tuple[str, ...], ...] | None,
    view: TableView,
) -> None:
    """One gradient-descent step: the forward pass, the loss, then each layer from the output back."""
    from nncalc.render import backprop_steps as steps

    p = view.precision
    print_forward(console, network, result.trace, input_texts, TableView(p, view.steps, view.all_rows))
    samples = result.trace.inputs.shape[0]
    console.print()
    title = Text(f"loss ({result.loss_name})", style="bold magenta")
    console.print(title, soft_wrap=True)
    for s in range(samples):
        prefix = f"  sample {s + 1}: " if samples > 1 else "  "
        console.print(Text(prefix + steps.loss_text(network, result, s, p)), soft_wrap=True)
    if samples > 1:
        console.print(Text(f"  batch loss (mean over {samples} samples) = {show(result.loss, p)}"), soft_wrap=True)
    for index in range(len(network.layers) - 1, -1, -1):
        layer = network.layers[index]
        grads = result.layers[index]
        console.print()
        console.print(
            Text(f"backward: {network.layer_label(index)} · {layer.activation.describe()}", style="bold cyan")
        )
        if layer.n_neurons > LARGE_LAYER and not view.all_rows:
            console.print(Text(f"  {layer.n_neurons} neurons: δ, gradients and updates in --format json"))
            continue
        table = Table(show_edge=True)
        table.add_column("neuron", no_wrap=True)
        for s in range(samples):
            _number_column(table, "δ" if samples == 1 else f"δ (sample {s + 1})")
        _number_column(table, "∂L/∂b")
        _number_column(table, "b")
        _number_column(table, "b′")
        for j, neuron in enumerate(layer.neurons):
            table.add_row(
                Text(neuron),
                *(show(grads.delta[s, j], p) for s in range(samples)),
                show(grads.grad_biases[j], p),
                layer.bias_text[j],
                show(grads.biases[j], p),
            )
        _print_whole(console, table)
        if view.steps:
            for s in range(samples):
                if samples > 1:
                    console.print(Text(f"  sample {s + 1}:"))
                for j in range(layer.n_neurons):
                    console.print(Text("  " + steps.delta_text(network, result, index, s, j, p)), soft_wrap=True)
        weights = Table(show_edge=True)
        weights.add_column("weight", no_wrap=True)
        _number_column(weights, "w")
        _number_column(weights, "∂L/∂w")
        _number_column(weights, "w′")
        for j in range(layer.n_neurons):
            for i in range(layer.n_inputs):
                weights.add_row(
                    Text(steps.weight_name(network, index, j, i)),
                    layer.weight_text[j][i],
                    show(grads.grad_weights[j, i], p),
                    show(grads.weights[j, i], p),
                )
        _print_whole(console, weights)
        if view.steps:
            for j in range(layer.n_neurons):
                for i in range(layer.n_inputs):
                    console.print(Text("  " + steps.weight_step_text(network, result, index, j, i, p)), soft_wrap=True)
                console.print(Text("  " + steps.bias_step_text(network, result, index, j, p)), soft_wrap=True)
    console.print()
    console.print(
        Text(f"learning rate {show(result.lr, p)}; loss before the step {show(result.loss, p)}", style="bold green"),
        soft_wrap=True,
    )


def print_training(console: Console, network: Network, final: Network, losses, outputs, view: TableView) -> None:
    """Repeated steps: the loss at selected iterations, then the final weights and outputs."""
    from nncalc.training_view import selected_iterations

    p = view.precision
    iterations = len(losses) - 1
    table = Table(title=None, show_edge=True)
    _number_column(table, "iteration")
    _number_column(table, "loss")
    for i in selected_iterations(iterations):
        table.add_row(f"{i}", show(losses[i], p))
    console.print(
        Text(f"training: {iterations} steps on the same batch (iteration 0 is before the first)", style="bold magenta")
    )
    _print_whole(console, table)
    for index, layer in enumerate(final.layers):
        console.print()
        console.print(Text(f"{final.layer_label(index)} after training", style="bold cyan"))
        weights = Table(show_edge=True)
        weights.add_column("neuron", no_wrap=True)
        below = final.inputs if index == 0 else final.layers[index - 1].neurons
        shown = below if len(below) <= 8 else below[:8]
        for name in shown:
            _number_column(weights, f"w({name}→·)")
        if len(below) > 8:
            weights.add_column("…")
        _number_column(weights, "b")
        for j, neuron in enumerate(layer.neurons[: LARGE_LAYER if not view.all_rows else None]):
            cells = [show(v, p) for v in layer.weights[j, : len(shown)]]
            if len(below) > 8:
                cells.append("…")
            weights.add_row(Text(neuron), *cells, show(layer.biases[j], p))
        _print_whole(console, weights)
    console.print()
    for s in range(outputs.shape[0]):
        line = Text("output: " if outputs.shape[0] == 1 else f"output, sample {s + 1}: ", style="bold green")
        line.append(", ".join(f"{n} = {show(v, p)}" for n, v in zip(final.outputs, outputs[s], strict=True)))
        console.print(line, soft_wrap=True)


@contextlib.contextmanager
def progress_callback(total: int, stream: TextIO | None = None):
    """A callback for training steps that shows a progress bar on stderr, when it is a terminal and the
    run is long enough to wait for; otherwise one that does nothing."""
    import sys

    stream = stream or sys.stderr
    if total < 200 or not _is_terminal(stream):
        yield None
        return
    from rich.progress import Progress

    with Progress(console=make_console(stream), transient=True) as progress:
        task = progress.add_task("training", total=total)
        yield lambda i, result: progress.update(task, completed=i + 1)


@contextlib.contextmanager
def progress_bytes(total: int | None, stream: TextIO | None = None):
    """A callback taking how many bytes of the input were read, showing a progress bar on stderr
    when it is a terminal and the input is large; None otherwise."""
    import sys

    stream = stream or sys.stderr
    if not _is_terminal(stream) or (total is not None and total < 8 * 1024 * 1024):
        yield None
        return
    from rich.progress import Progress

    with Progress(console=make_console(stream), transient=True) as progress:
        task = progress.add_task("reading", total=total)
        yield lambda done: progress.update(task, completed=done)


def print_check(console: Console, network: Network) -> None:
    """The summary ``nncalc check`` prints: layers, shapes, activations, parameter count."""
    heading = Text("valid: ", style="bold green")
    heading.append(network.source)
    if network.name:
        heading.append(f" ({network.name})")
    console.print(heading, soft_wrap=True)
    console.print(Text(f"inputs: {network.n_inputs} ({', '.join(network.inputs)})"))
    table = Table(show_edge=True)
    table.add_column("layer", no_wrap=True)
    table.add_column("neurons")
    _number_column(table, "weights")
    table.add_column("activation")
    _number_column(table, "parameters")
    for index, layer in enumerate(network.layers):
        neurons = ", ".join(layer.neurons) if layer.n_neurons <= 8 else f"{layer.neurons[0]} … {layer.neurons[-1]}"
        table.add_row(
            Text(network.layer_label(index)),
            Text(f"{layer.n_neurons}: {neurons}"),
            f"{layer.n_neurons} × {layer.n_inputs}",
            Text(layer.activation.describe()),
            f"{layer.n_params:,}",
        )
    _print_whole(console, table)
    console.print(Text(f"parameters: {network.n_params:,} (weights and biases)"))
