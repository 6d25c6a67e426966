"""Rich tables and derivations for a person at a terminal (the only module that imports Rich)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from nncalc.engine import Trace
from nncalc.network import Network
from nncalc.render.derivation import a_text, layer_steps, z_text
from nncalc.render.numbers import show
from nncalc.summary import LayerSummary, summarize_layer

LARGE_LAYER = 32  # layers with more neurons are summarised unless every row is asked for


@dataclass(frozen=True)
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


PIPE_WIDTH = 240  # a file or pipe has no width: wide enough that no table folds


def make_console(stream: TextIO, width: int | None = None) -> Console:
    """A console that prints names literally (no markup), colours only on a terminal, honours NO_COLOR.

    Off a terminal the width is generous, so tables are not folded to 80 columns.
    """
    if width is None and not _is_terminal(stream):
        width = PIPE_WIDTH
    return _Console(
        file=stream,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        no_color="NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "",
        soft_wrap=False,
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _number_column(table: Table, title: str) -> None:
    table.add_column(title, justify="right", no_wrap=True, overflow="fold")


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
                console.print(title)
                console.print(_summary_table(network, index, summarize_layer(trace, index, s), p))
                continue
            table = Table(title=None, show_edge=True, pad_edge=True, expand=False)
            table.add_column("neuron", no_wrap=True)
            _number_column(table, "z")
            _number_column(table, "a")
            z = trace.layers[index].z[s]
            a = trace.layers[index].a[s]
            for j, neuron in enumerate(layer.neurons):
                table.add_row(Text(neuron), show(z[j], p), show(a[j], p))
            console.print(title)
            console.print(table)
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
        console.print(Text(f"{network.layer_label(index)} · {layer.activation.describe()}", style="bold cyan"))
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
        console.print(table)
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
    from nncalc.numbers import decimals_written

    if mark.given is not None:
        decimals = decimals_written(mark.given.text)
        if decimals is not None and 0 <= decimals <= 15:
            return f"{mark.expected:.{decimals}f}"
    return show(mark.expected, precision)


def _verdict(correct: bool | None) -> Text:
    if correct is None:
        return Text("")
    return Text("✓ right", style="green") if correct else Text("✗ wrong", style="bold red")


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
    console.print(table)
    console.print(Text(f"parameters: {network.n_params:,} (weights and biases)"))
