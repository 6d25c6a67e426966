"""The ``nncalc`` command line: options in, core and renderers wired together, exit codes out.

This module only connects things: it reads options, calls the loader and the engine,
and hands results to a renderer. Errors are turned into ``error:`` lines and exit
codes in one place, ``main``. Heavy modules are imported inside the command that needs
them, so ``nncalc --help`` starts quickly.
"""

import contextlib
import copy
import functools
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from nncalc import __version__
from nncalc.errors import ExitStatus, InputError, Location, NncalcError

app = typer.Typer(
    name="nncalc",
    help="Neural-network arithmetic, step by step, as you would write it by hand.\n\n"
    "Write your network (weights, biases, activations) in a YAML file, then let nncalc show "
    "every z and a of every layer. Run 'nncalc COMMAND --help' for a command's options "
    "and examples.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Command(typer.core.TyperCommand):
    """A command whose usage line reads as man pages write it: ``NETWORK``, not ``{NETWORK}``.

    ``--steps`` takes an optional form (``--steps``, ``--steps matrix``, ``--steps=matrix``): a
    bare ``--steps`` is read as ``--steps=neurons`` before parsing, so that the word after it
    is taken as its form only when it is one, never the network file that follows it.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if any(param.name == "steps_form" for param in self.params):
            args = _steps_forms(args)
        return super().parse_args(ctx, args)


def _steps_forms(args: list[str]) -> list[str]:
    """``--steps FORM`` as ``--steps=FORM`` and a bare ``--steps`` as ``--steps=neurons`` (up to ``--``).

    The forms are looked up only when ``--steps`` is given: a scripted run starts without the worked layer."""
    out: list[str] = []
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--":
            return out + args[at:]
        if arg == "--steps":
            from nncalc.worked import STEP_FORMS

            following = args[at + 1] if at + 1 < len(args) else None
            if following is not None and following.lower() in STEP_FORMS:
                arg, at = f"--steps={following}", at + 1
            else:
                arg = "--steps=neurons"
        out.append(arg)
        at += 1
    return out


DOCUMENT_FORMATS = ("table", "markdown", "latex", "html")  # written from the worked-solution model
FORWARD_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "latex", "html")
BACKWARD_FORMATS = ("table", "json", "markdown", "latex", "html")
GRADE_FORMATS = ("table", "json", "markdown", "latex", "html")
DRAW_FORMATS = ("dot", "mermaid", "svg", "png")
MAX_FILE_SIZE_HELP = "Largest file to read, in bytes (a guard against runaway files)."


class _ReaderGone(Exception):
    """Standard output was closed by its reader (``| head -1``): stop quietly, successfully."""


def _quiet_when_reader_leaves(command: Callable[..., None]) -> Callable[..., None]:
    """A closed pipe ends the command quietly and successfully; a full disk on standard
    output is one located error, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from nncalc.files import is_broken_pipe, writing

        try:
            with writing("<stdout>"):
                command(*args, **kwargs)
                sys.stdout.flush()
        except BrokenPipeError:
            raise _ReaderGone() from None
        except OSError as exc:  # raised outside any writing: a pipe closed under a library's own write
            if is_broken_pipe(exc):
                raise _ReaderGone() from None
            raise

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Neural-network arithmetic, step by step."""


def _finite_number(text: str) -> float:
    """An option's number: a finite float, never NaN or an infinity (they make every check pass or fail)."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise typer.BadParameter(f"{text!r} is not a finite number")
    return value


def _choose(
    given: str | None, output: Path | None, formats: tuple[str, ...], for_pipe: str, inputs: list[Path] = ()
) -> str:
    """The format for this run (see ``nncalc.output.choose_format``), checked against ``formats``.

    An output that would overwrite one of ``inputs``, or that is a folder, is refused first:
    that mistake matters more than its suffix.
    """
    from nncalc.output import choose_format, is_terminal, refuse_same_file

    if output is not None:
        refuse_same_file(output, inputs)
        if output.is_dir():
            raise InputError("is a directory; give a file name", Location(str(output)))

    if given is not None:
        given = given.lower()
        if given not in formats:
            raise InputError(
                f"unknown format {given!r}; this command writes: {', '.join(formats)}", Location("--format")
            )
    first = formats[0]
    return choose_format(given, output, is_terminal(sys.stdout), formats, first, for_pipe)


def _warn(message: str) -> None:
    from nncalc.text import visible

    typer.echo(f"warning: {visible(message)}", err=True)


def _say_reading_from_terminal() -> None:
    from nncalc.output import is_terminal

    if is_terminal(sys.stdin):
        typer.echo(
            "reading samples from the terminal: one per line, values separated by commas; end with Ctrl-D", err=True
        )


def _one(values: list[str] | None, option: str) -> str | None:
    """The one value of an option that takes one: a second is refused, never silently preferred."""
    if not values:
        return None
    if len(values) > 1:
        raise InputError(f"give {option} once: this command works on one sample ({len(values)} were given)")
    return values[0]


NetworkArg = Annotated[
    Path,
    typer.Argument(help="The network file (YAML).", show_default=False, metavar="NETWORK"),
]
RoundZOption = Annotated[
    bool,
    typer.Option("--round-z", help="With --round: round z too before the activation is applied."),
]
RoundOption = Annotated[
    int | None,
    typer.Option(
        "--round",
        min=0,
        max=15,
        metavar="N",
        help="Round each value to N decimals before it is passed on, as on paper "
        "(halves away from zero). Without it nothing is rounded.",
        show_default=False,
    ),
]
MaxFileSize = Annotated[int, typer.Option("--max-file-size", min=1, metavar="BYTES", help=MAX_FILE_SIZE_HELP)]
PrecisionOption = Annotated[
    int | None,
    typer.Option(
        "--precision",
        "-p",
        min=0,
        max=15,
        metavar="N",
        help="Decimals shown (default 4); data formats always write every digit.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write here instead of standard output. A regular file is replaced only once everything "
        "was written; its suffix chooses the format when --format is not given.",
        show_default=False,
    ),
]
NetworkOutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the network file here instead of standard output.",
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace --output if it exists.")]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="LaTeX: a complete document that compiles with pdflatex; HTML: a complete page that "
        "opens in a browser with nothing fetched.",
    ),
]


def _steps_option(help: str) -> Any:
    """``--steps [neurons|matrix]``: the derivations, neuron by neuron or a layer at once in matrices.

    The form is optional: ``_Command.parse_args`` reads a bare ``--steps`` as ``--steps=neurons``."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        from nncalc.worked import STEP_FORMS

        if value.lower() not in STEP_FORMS:
            raise typer.BadParameter(f"unknown form {value!r}; --steps takes: {', '.join(STEP_FORMS)}")
        return value.lower()

    return typer.Option(
        "--steps",
        metavar="[neurons|matrix]",
        callback=check,
        help=help + " 'matrix' writes each layer at once: Z = W·x + b with the matrices written out.",
        show_default=False,
    )


StepsOption = Annotated[
    str | None,
    _steps_option("Write out each derivation. Default: on when every layer is small enough to read."),
]
NoStepsOption = Annotated[bool, typer.Option("--no-steps", help="Leave the derivations out.")]


def _steps_wanted(form: str | None, no_steps: bool) -> tuple[bool | None, str]:
    """What ``--steps [FORM]`` and ``--no-steps`` ask for: on, off or by default (None), and the form."""
    if form is not None and no_steps:
        raise InputError("give --steps or --no-steps, not both")
    return (False if no_steps else True if form is not None else None), form or "neurons"


def _format_option(formats: tuple[str, ...], default: str) -> Any:
    """``--format``, declared once: the command's formats, any case, checked as the line is read."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() not in formats:
            raise typer.BadParameter(f"unknown format {value!r}; this command writes: {', '.join(formats)}")
        return value.lower()

    return typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        callback=check,
        help=f"{', '.join(formats)}. Default: from the --output suffix; else {default}.",
        show_default=False,
    )


def _loss_names(incomplete: str) -> list[str]:
    """Loss names for tab completion (the registry is read only when a shell asks)."""
    from nncalc.losses import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


def _activation_names(incomplete: str) -> list[str]:
    """Activation names for tab completion."""
    from nncalc.activations import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete.lower())]


DEFAULT_PRECISION = 4


@app.command(cls=_Command, short_help="Forward propagation: every z and a, step by step.")
@_quiet_when_reader_leaves
def forward(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="VALUES",
            help='One sample\'s input values, separated by commas and/or spaces: "0.05,0.10". '
            "Repeat for several samples.",
            show_default=False,
        ),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        typer.Option(
            "--inputs",
            help="Read samples from a CSV file ('-' for standard input): one row per sample, "
            "an optional header row of input names; or from a .yaml file of samples (an image as a "
            "matrix per channel).",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        _format_option(FORWARD_FORMATS, "table on a terminal, csv otherwise"),
    ] = None,
    steps_form: StepsOption = None,
    no_steps: NoStepsOption = False,
    precision: PrecisionOption = None,
    trace: Annotated[bool, typer.Option("--trace", help="CSV: add every layer's z and a columns.")] = False,
    round_to: RoundOption = None,
    round_z: RoundZOption = False,
    standalone: StandaloneOption = False,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Table: list every neuron of large layers instead of a summary.")
    ] = False,
    allow_nonfinite: Annotated[
        bool,
        typer.Option(
            "--allow-nonfinite",
            help="Let an overflow (inf) or NaN through, with a warning, instead of failing; "
            "JSON shows null, CSV an empty cell.",
        ),
    ] = False,
    output: OutputOption = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size",
            min=1,
            metavar="ROWS",
            help="With --inputs and csv, jsonl or json: rows read, computed and written at a time "
            "(default 100000), so memory stays flat however long the input.",
            show_default=False,
        ),
    ] = None,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Forward propagation: every layer's z = W·x + b and a = f(z), step by step.

    \b
    Examples:
      nncalc forward configs/course-chain.yaml --input 0.1
      nncalc forward configs/classic-2-2-2.yaml -i "0.05,0.10" --format json
      nncalc forward configs/classic-2-2-2.yaml --inputs samples.csv --format csv --trace
      cat samples.csv | nncalc forward configs/classic-2-2-2.yaml --inputs - > out.csv
      nncalc forward configs/course-chain.yaml -i 0.1 -o chain.tex --standalone
    """
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused

    steps, form = _steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    fmt = _choose(output_format, output, FORWARD_FORMATS, "csv", [network_file])
    streamed = (
        inputs_file is not None
        and not input_values
        and fmt in ("csv", "jsonl", "json")
        and Path(inputs_file).suffix.lower() not in (".yaml", ".yml")  # YAML samples are read whole
    )
    refuse_unused(
        fmt,
        {
            "--steps/--no-steps": steps is not None,
            "--precision": precision is not None,
            "--trace": trace,
            "--standalone": standalone,
            "--all": all_rows,
            "--chunk-size": chunk_size is not None,
        },
        {
            "--steps/--no-steps": ("table", "markdown", "latex", "html"),
            "--precision": ("table", "markdown", "latex", "html"),
            "--trace": ("csv",),
            "--standalone": ("latex", "html"),
            "--all": ("table", "markdown", "latex", "html"),
            "--chunk-size": ("csv", "jsonl", "json") if streamed else (),
        },
    )
    _refuse_round_z_alone(round_to, round_z)
    inputs = [network_file] + ([inputs_file] if inputs_file is not None and str(inputs_file) != "-" else [])
    if streamed:
        _forward_stream(
            network,
            str(inputs_file),
            fmt,
            output,
            inputs,
            trace,
            chunk_size,
            allow_nonfinite,
            round_to,
            round_z,
            max_file_size,
        )
        return
    from nncalc.engine import forward as run_forward
    from nncalc.output import text_destination
    from nncalc.pipeline import check_finite

    samples = _read_samples(network, input_values or [], inputs_file, max_file_size)
    result = run_forward(network, samples.values, decimals=round_to, round_z=round_z)
    check_finite(network, result, allow_nonfinite, _warn, *_sample_lines(inputs_file, samples))
    shown = DEFAULT_PRECISION if precision is None else precision

    with text_destination(output, inputs) as stream:
        if fmt in DOCUMENT_FORMATS:
            from nncalc.notation import write_document
            from nncalc.worked import View
            from nncalc.worked.forward import forward_document

            document = forward_document(network, result, samples.texts, View(shown, steps, all_rows, form))
            write_document(document, fmt, stream, standalone)
        else:
            from nncalc.render import data

            if fmt == "json":
                data.write_json(stream, network, result)
            elif fmt == "jsonl":
                data.write_jsonl(stream, network, result)
            else:
                data.write_csv(stream, network, result, with_trace=trace)


def _refuse_round_z_alone(round_to: int | None, round_z: bool) -> None:
    if round_z and round_to is None:
        raise InputError("--round-z rounds z to the --round decimals: give --round N too")


def _sample_lines(inputs_file: Path | None, samples: Any) -> tuple[str | None, Any]:
    """Where each sample came from, for messages: the file and its lines, when read from one."""
    lines = samples.lines
    if inputs_file is None or lines is None:
        return None, None
    return ("<stdin>" if str(inputs_file) == "-" else str(inputs_file)), lines


def _read_samples(network, input_texts: list[str], inputs_file: Path | None, max_bytes: int):
    """The batch to run: from ``--input`` options, or from a CSV file or standard input."""
    from nncalc.inputs import samples_from_options

    if input_texts and inputs_file is not None:
        raise InputError("give --input or --inputs, not both")
    if inputs_file is None:
        if not input_texts:
            raise InputError("no input given: use --input VALUES (e.g. --input 0.1) or --inputs FILE.csv")
        return samples_from_options(input_texts, network.inputs)
    samples, _ = _read_csv_samples(network, inputs_file, max_bytes)
    return samples


def _read_csv_samples(network, inputs_file: Path, max_bytes: int):
    """Samples (and target columns, when the file has them) from a CSV file or '-'."""
    from nncalc.inputs import read_samples_source

    if str(inputs_file) == "-":
        _say_reading_from_terminal()
    return read_samples_source(
        str(inputs_file), network.inputs, network.outputs, sys.stdin, max_bytes, network.input_shape
    )


def _forward_stream(
    network, inputs_file, fmt, output, inputs, with_trace, chunk_rows, allow_nonfinite, round_to, round_z, max_bytes
) -> None:
    """CSV, JSON Lines or JSON from a CSV stream, chunk by chunk (see ``nncalc.pipeline``)."""
    from nncalc.output import is_terminal, text_destination
    from nncalc.pipeline import stream_forward
    from nncalc.streaming import open_sample_bytes

    if is_terminal(sys.stderr):  # Rich only where a progress bar can be shown
        from nncalc.notation.console import progress_bytes
    else:
        progress_bytes = _no_progress
    if inputs_file == "-":
        _say_reading_from_terminal()
    with (
        open_sample_bytes(inputs_file, sys.stdin) as (binary, source, total),
        text_destination(output, inputs) as stream,
        progress_bytes(total) as advance,
    ):
        stream_forward(
            network,
            binary,
            source,
            fmt,
            stream,
            with_trace=with_trace,
            chunk_rows=chunk_rows or 100_000,
            allow_nonfinite=allow_nonfinite,
            decimals=round_to,
            round_z=round_z,
            advance=advance,
            warn=_warn,
        )


@contextlib.contextmanager
def _no_progress(total):
    yield None


@app.command(cls=_Command, short_help="Backpropagation: δ by the chain rule, gradients, updates.")
@_quiet_when_reader_leaves
def backward(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="VALUES",
            help="One sample's inputs; pair each with a --target.",
            show_default=False,
        ),
    ] = None,
    target_values: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            metavar="VALUES",
            help='The target outputs for the --input in the same place: "0.01,0.99".',
            show_default=False,
        ),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        typer.Option(
            "--inputs",
            metavar="FILE",
            help="A CSV of samples with a header naming the inputs and the "
            "targets (as the output neurons are named); '-' for standard input; or a "
            ".yaml file of samples (images as a matrix per channel) with a --target per sample.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        str,
        typer.Option("--loss", metavar="NAME", help="half_sse, mse, cross_entropy or bce.", autocompletion=_loss_names),
    ] = "half_sse",
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            parser=_finite_number,
            metavar="RATE",
            help="Learning rate (≥ 0; the optimizer's). Default: the --state file's, else 0.5.",
            show_default=False,
        ),
    ] = None,
    freeze_biases: Annotated[
        bool, typer.Option("--freeze-biases", help="Leave the biases as they are, as some worked examples do.")
    ] = False,
    iterations: Annotated[
        int, typer.Option("--iterations", "-n", min=1, metavar="N", help="Repeat the step N times on the batch.")
    ] = 1,
    optimizer_text: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            metavar="OPTIMIZER",
            help="Update with PyTorch's sgd, adam, adamw or rmsprop instead of plain gradient descent: "
            "a name, or a mapping of its parameters: '{name: sgd, momentum: 0.9, nesterov: true}'. "
            "Its state is carried over --iterations.",
            show_default=False,
        ),
    ] = None,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state",
            metavar="FILE",
            help="Continue from an optimizer state saved by --write-state (its optimizer and learning rate "
            "unless --optimizer or --lr is given).",
            show_default=False,
        ),
    ] = None,
    write_state: Annotated[
        Path | None,
        typer.Option(
            "--write-state",
            metavar="FILE",
            help="Save the optimizer's state after the last step, for --state in the next run.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        _format_option(BACKWARD_FORMATS, "table on a terminal, json otherwise"),
    ] = None,
    steps_form: Annotated[str | None, _steps_option("Write out each δ, gradient and update (default: on).")] = None,
    no_steps: NoStepsOption = False,
    standalone: StandaloneOption = False,
    precision: PrecisionOption = None,
    round_to: RoundOption = None,
    round_z: RoundZOption = False,
    output: OutputOption = None,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write", metavar="FILE", help="Save the updated network in the same file format.", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --write replace an existing file.")] = False,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Backpropagation step by step: δ by the chain rule, gradients, and W ← W − lr·∂L/∂W.

    The loss of a batch is the mean of the per-sample losses; each δ is of its own
    sample's loss. With --iterations N the step is repeated and the loss shown falling.
    With --optimizer the update is that optimizer's (momentum, Adam's m̂ and v̂, ...),
    written out step by step; --write-state and --state carry its state from one run
    to the next, so that 2 steps and then 3 more are the same as 5.

    \b
    Examples:
      nncalc backward configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 --freeze-biases
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4 --round 4
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 -o step.md
      nncalc backward configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 -n 1000 --write trained.yaml
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4 --optimizer '{name: sgd, momentum: 0.9}'
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 --optimizer adam --lr 0.01 -n 2 \\
        --write step2.yaml --write-state adam.yaml
      nncalc backward step2.yaml -i 0.1 -t 0.25 -n 3 --state adam.yaml
    """
    import numpy as np

    from nncalc.backprop import backward as run_backward
    from nncalc.backprop import train
    from nncalc.inputs import samples_from_options
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused, text_destination

    if lr is not None and lr < 0:
        raise InputError(f"the learning rate must be ≥ 0, got {lr:g}", Location("--lr"))
    steps, form = _steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    optimizer, state, lr = _optimizer_options(network, optimizer_text, state_file, write_state, lr, max_file_size)
    fmt = _choose(output_format, output, BACKWARD_FORMATS, "json", [network_file])
    refuse_unused(
        fmt,
        {
            "--steps/--no-steps": steps is not None,
            "--precision": precision is not None,
            "--standalone": standalone,
        },
        {
            "--steps/--no-steps": ("table", "markdown", "latex", "html") if iterations == 1 else (),
            "--precision": ("table", "markdown", "latex", "html"),
            "--standalone": ("latex", "html"),
        },
    )
    _refuse_round_z_alone(round_to, round_z)
    if iterations > 1 and fmt in ("markdown", "latex", "html"):
        raise InputError(f"--format {fmt} shows one step; with --iterations use table or json")
    if inputs_file is not None:
        if input_values:
            raise InputError("give --input/--target pairs or --inputs FILE, not both")
        samples, targets = _read_csv_samples(network, inputs_file, max_file_size)
        source = "<stdin>" if str(inputs_file) == "-" else str(inputs_file)
        if targets is None and target_values:  # samples only (a YAML file of images): --target gives theirs
            count = len(samples.values)
            if len(target_values) != count:
                raise InputError(
                    f"give one --target per sample of {source} ({count} sample{'s' if count != 1 else ''}, "
                    f"{len(target_values)} --target)"
                )
            target_array = samples_from_options(target_values, network.outputs, option="--target").values
        elif target_values:
            raise InputError(f"{source} has target columns already: leave out --target")
        elif targets is None or len(targets.columns) != len(network.outputs):
            raise InputError(
                f"the file needs target columns named as the outputs: {', '.join(network.outputs)} "
                "(or give --target once per sample)",
                Location(source, 1),
            )
        else:
            order = [targets.columns.index(n) for n in network.outputs]
            target_array = targets.values[:, order]
    else:
        input_values, target_values = input_values or [], target_values or []
        if not input_values:
            raise InputError("no input given: use --input VALUES --target VALUES (or --inputs FILE)")
        if len(input_values) != len(target_values):
            raise InputError(
                f"give one --target per --input ({len(input_values)} --input, {len(target_values)} --target)"
            )
        samples = samples_from_options(input_values, network.inputs)
        target_array = samples_from_options(target_values, network.outputs, option="--target").values

    protected = [network_file] + ([inputs_file] if inputs_file is not None and str(inputs_file) != "-" else [])
    if write is not None:
        from nncalc.output import refuse_same_file

        refuse_same_file(write, protected[1:])
        if not force and write.is_file():  # a device or a pipe is written into, never "replaced"
            raise InputError("already exists; pass --force to replace it", Location(str(write)))
        if output is not None and output.absolute() == write.absolute():
            raise InputError("--output and --write name the same file", Location(str(write)))
    if write_state is not None:
        _check_state_destination(write_state, write, output, force, protected, state_file)
    if state_file is not None:
        protected.append(state_file)
    shown = DEFAULT_PRECISION if precision is None else precision
    with text_destination(output, protected) as stream:
        if iterations == 1:
            result = run_backward(
                network, samples.values, target_array, loss, lr, freeze_biases, round_to, round_z, optimizer, state
            )
            final, state = result.network, result.state
            if fmt == "json":
                from nncalc.render.data import backward_dict, write_document

                write_document(stream, backward_dict(network, result))
            else:
                from nncalc.notation import write_document
                from nncalc.worked import View
                from nncalc.worked.backward import backward_document

                document = backward_document(network, result, samples.texts, View(shown, steps, form=form))
                write_document(document, fmt, stream, standalone)
        else:
            from nncalc.engine import forward as run_forward
            from nncalc.notation.console import progress_callback

            with progress_callback(iterations) as on_step:
                training = train(
                    network,
                    samples.values,
                    target_array,
                    loss,
                    lr,
                    iterations,
                    freeze_biases,
                    on_step,
                    round_to,
                    round_z,
                    optimizer,
                    state,
                )
            final, losses, state = training.network, training.losses, training.state
            outputs = run_forward(final, samples.values, decimals=round_to, round_z=round_z).output
            if fmt == "json":
                from nncalc.render.data import training_dict, write_document

                document = training_dict(network, final, np.asarray(losses), outputs)
                if optimizer is not None:
                    from nncalc.optimizer_state import state_dict

                    document["optimizer_state"] = state_dict(final, optimizer, lr, state)
                write_document(stream, document)
            else:
                from nncalc.notation import write_document
                from nncalc.worked import View
                from nncalc.worked.summaries import training_document

                updates = None
                if optimizer is not None:
                    from nncalc.worked.optimizer import describe

                    first = state.step - iterations + 1
                    updates = f"updates by {describe(optimizer, lr)}, its steps {first} to {state.step}"
                document = training_document(final, np.asarray(losses), outputs, View(shown), updates)
                write_document(document, fmt, stream)
    if write is not None:
        from nncalc.files import output_text_file
        from nncalc.writer import dump_network
        from nncalc.yamlsource import read_text

        original = read_text(network_file, max_file_size)  # its comments and layout are kept
        with output_text_file(write, overwrite=force) as stream:
            stream.write(dump_network(final, original))
        typer.echo(f"wrote the updated network to {write}", err=True)
    if write_state is not None:
        from nncalc.files import output_text_file
        from nncalc.optimizer_state import dump_state

        with output_text_file(write_state, overwrite=force) as stream:
            stream.write(dump_state(final, optimizer, lr, state))
        typer.echo(f"wrote the optimizer's state to {write_state}", err=True)


def _optimizer_options(network, optimizer_text, state_file, write_state, lr, max_file_size):
    """The optimizer (None: plain gradient descent), its state to start from, and the learning rate,
    from --optimizer, --state and --lr; --write-state needs an optimizer."""
    from nncalc.optimizers import parse_optimizer

    optimizer = None if optimizer_text is None else parse_optimizer(optimizer_text, "--optimizer")
    state = None
    if state_file is not None:
        from nncalc.optimizer_state import load_state

        optimizer, saved_lr, state = load_state(state_file, network, optimizer, max_file_size)
        lr = saved_lr if lr is None else lr
    if write_state is not None and optimizer is None:
        raise InputError(
            "--write-state saves an optimizer's state: give --optimizer (or --state)", Location("--write-state")
        )
    return optimizer, state, 0.5 if lr is None else lr


def _check_state_destination(write_state, write, output, force, protected, state_file) -> None:
    """--write-state may replace its own --state file (a run continued in place) but nothing else it reads."""
    from nncalc.output import refuse_same_file

    refuse_same_file(write_state, protected)
    same_as_state = state_file is not None and write_state.absolute() == state_file.absolute()
    if not force and write_state.is_file() and not same_as_state:
        raise InputError("already exists; pass --force to replace it", Location(str(write_state)))
    for other, option in ((write, "--write"), (output, "--output")):
        if other is not None and other.absolute() == write_state.absolute():
            raise InputError(f"{option} and --write-state name the same file", Location(str(write_state)))


@app.command(cls=_Command, short_help="Grade worked answers, error carried forward.")
@_quiet_when_reader_leaves
def grade(
    network_file: NetworkArg,
    answers_file: Annotated[
        Path,
        typer.Option(
            "--answers",
            "-a",
            metavar="FILE",
            help="Your worked answers (YAML): per layer, z and a values in neuron order, or by neuron name; "
            "for a convolution or pooling, a matrix per channel.",
            show_default=False,
        ),
    ],
    input_values: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="VALUES",
            help='The input the answers are for: "0.05,0.10" (with --target, once per sample of the batch).',
            show_default=False,
        ),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        typer.Option(
            "--inputs",
            metavar="FILE",
            help="The input from a file of one sample instead: CSV, or .yaml (an image as a matrix per channel).",
            show_default=False,
        ),
    ] = None,
    target_values: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            metavar="VALUES",
            help="The targets for the --input in the same place; grades the backward pass too.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(
            "--loss",
            metavar="NAME",
            help="half_sse, mse, cross_entropy or bce (default: the answers file's, else half_sse).",
            autocompletion=_loss_names,
            show_default=False,
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option("--lr", parser=_finite_number, metavar="RATE", help="Learning rate (≥ 0; default 0.5)."),
    ] = None,
    freeze_biases: Annotated[
        bool, typer.Option("--freeze-biases", help="The biases are left as they are, as some worked examples do.")
    ] = False,
    optimizer: Annotated[
        str | None,
        typer.Option(
            "--optimizer",
            metavar="OPTIMIZER",
            help="The updates are the first step of this optimizer: sgd, adam, adamw, rmsprop or "
            "'{name: sgd, momentum: 0.9}' (default: w − lr·∂L/∂w).",
            show_default=False,
        ),
    ] = None,
    error: Annotated[
        str | None,
        typer.Option(
            "--error",
            metavar="a-t|t-a",
            help="How the error term is written: a-t (δ = ∂L/∂z) or t-a (δ = −∂L/∂z, update w + lr·δ·a). "
            "Default: the answers file's conventions, else a-t.",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "--batch",
            metavar="mean|sum",
            help="Gradients and loss averaged (mean) or summed over the samples. "
            "Default: the answers file's conventions, else mean.",
            show_default=False,
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            parser=_finite_number,
            metavar="T",
            help="Accept values within T of the right one. Default: half a unit in the last digit you "
            "wrote (0.6023 means ±0.00005).",
            show_default=False,
        ),
    ] = None,
    round_to: RoundOption = None,
    round_z: RoundZOption = False,
    precision: PrecisionOption = None,
    output_format: Annotated[
        str | None,
        _format_option(GRADE_FORMATS, "table on a terminal, json otherwise"),
    ] = None,
    steps_form: Annotated[
        str | None,
        _steps_option("Write out the first wrong value's step with your numbers (default: on)."),
    ] = None,
    no_steps: Annotated[
        bool, typer.Option("--no-steps", help="Leave the first wrong value's step out: the marks and the likely slip.")
    ] = False,
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Grade worked answers, error carried forward: exit 0 when all are right, 1 when not.

    Each value you wrote is recomputed from your own earlier values, so one slip does not
    mark everything after it wrong. The first wrong value is written out with your numbers
    and, where it can be told, what likely went wrong; with --steps matrix, its whole layer
    at once (z = W·a + b, δ = (Wᵀ·δ) ⊙ f′(z), ∂L/∂W = δ·aᵀ, W′ = W − η·∂L/∂W), the wrong
    entry named.

    With --target the backward pass is graded too: the loss, each δ, gradient and
    updated value, under the course's conventions (--error, --batch, or the answers
    file's conventions: mapping).

    \b
    Examples:
      nncalc grade configs/course-note.yaml --input 0.1 --answers configs/answers-course-note.yaml
      nncalc grade configs/classic-2-2-2.yaml -i 0.05,0.10 -a configs/answers-classic.yaml --format json
      nncalc grade configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4 -a configs/answers-course-backprop.yaml
      nncalc grade configs/course-note.yaml -i 0.1 -a configs/answers-course-note.yaml --steps matrix
    """
    from nncalc.answers import load_sheet as load_answers
    from nncalc.grading import grade as run_grade
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused, text_destination

    if tolerance is not None and tolerance < 0:
        raise InputError(f"--tolerance must be ≥ 0, got {tolerance:g}", Location("--tolerance"))
    steps, form = _steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    fmt = _choose(output_format, output, GRADE_FORMATS, "json", [network_file, answers_file])
    refuse_unused(
        fmt,
        {"--precision": precision is not None, "--standalone": standalone, "--steps/--no-steps": steps is not None},
        {
            "--precision": DOCUMENT_FORMATS,
            "--standalone": ("latex", "html"),
            "--steps/--no-steps": DOCUMENT_FORMATS,
        },
    )
    _refuse_round_z_alone(round_to, round_z)
    if target_values or error or batch or loss or optimizer or freeze_biases or lr is not None:
        if network.spatial:  # the forward pass of a convolution is graded; its backward pass not yet
            network.refuse_spatial("grading the backward pass (--target)")
        if inputs_file is not None:
            raise InputError("--inputs is for grading the forward pass; give each sample with --input")
        _grade_backward(
            network,
            network_file,
            answers_file,
            input_values or [],
            target_values or [],
            dict(loss=loss, lr=lr, freeze_biases=freeze_biases, optimizer=optimizer, error=error, batch=batch),
            dict(tolerance=tolerance, decimals=round_to, round_z=round_z),
            fmt,
            (precision, steps, form),
            standalone,
            output,
            max_file_size,
        )
        return
    sample = _grade_sample(network, input_values or [], inputs_file, max_file_size)
    answers = load_answers(answers_file, network, max_bytes=max_file_size)
    if answers.first_backward() is not None:
        raise InputError(
            "the answers hold values of the backward pass; give the targets with --target to grade them",
            answers.first_backward(),
        )
    result = run_grade(
        network,
        sample.values[0],
        sample.texts[0],
        answers.forward(0),
        tolerance=tolerance,
        decimals=round_to,
        round_z=round_z,
    )
    with text_destination(output, [network_file, answers_file]) as stream:
        if fmt == "json":
            from nncalc.render.data import write_grade_json

            write_grade_json(stream, network, result)
        else:
            from nncalc.notation import write_document
            from nncalc.worked import View
            from nncalc.worked.grade import grade_document

            shown = DEFAULT_PRECISION if precision is None else precision
            document = grade_document(network, result, str(answers_file), View(shown, steps, form=form))
            write_document(document, fmt, stream, standalone)
    if not result.all_correct:
        raise typer.Exit(ExitStatus.NO)


def _grade_sample(network, input_values: list[str], inputs_file: Path | None, max_bytes: int):
    """The one sample a sheet is graded for: one --input, or a file of one sample (--inputs)."""
    from nncalc.inputs import samples_from_options

    if inputs_file is None:
        if not input_values:
            raise InputError("no input given: use --input VALUES, or --inputs FILE (e.g. an image in a .yaml file)")
        return samples_from_options([_one(input_values, "--input")], network.inputs)
    samples = _read_samples(network, input_values, inputs_file, max_bytes)
    if len(samples.values) != 1:
        raise InputError(
            f"{len(samples.values)} samples, but an answer sheet is for one sample", Location(str(inputs_file))
        )
    return samples


def _grade_backward(
    network,
    network_file: Path,
    answers_file: Path,
    input_values: list[str],
    target_values: list[str],
    options: dict,
    grading: dict,
    fmt: str,
    shown: tuple[int | None, bool | None, str],
    standalone: bool,
    output: Path | None,
    max_file_size: int,
) -> None:
    """``grade --target``: the forward and the backward pass of one sample or a batch
    (``shown``: the precision, and the steps and their form, as ``--steps`` gives them)."""
    from nncalc.answers import load_sheet
    from nncalc.grading_backward import grade_backward, settings_for
    from nncalc.inputs import samples_from_options
    from nncalc.output import text_destination

    if not target_values:
        given = [name for name, value in options.items() if value is not None and value is not False]
        raise InputError(f"--{given[0].replace('_', '-')} is for the backward pass: give the targets with --target")
    if len(input_values) != len(target_values):
        raise InputError(f"give one --target per --input ({len(input_values)} --input, {len(target_values)} --target)")
    samples = samples_from_options(input_values, network.inputs)
    targets = samples_from_options(target_values, network.outputs, option="--target")
    sheet = load_sheet(answers_file, network, samples=len(input_values), max_bytes=max_file_size)
    settings = settings_for(sheet, **(options | {"lr": 0.5 if options["lr"] is None else options["lr"]}))
    result = grade_backward(network, samples.values, samples.texts, targets.values, sheet, settings, **grading)
    with text_destination(output, [network_file, answers_file]) as stream:
        if fmt == "json":
            from nncalc.render.data import backward_grade_dict, write_document

            write_document(stream, backward_grade_dict(network, result))
        else:
            from nncalc.notation import write_document
            from nncalc.worked import View
            from nncalc.worked.grade_backward import backward_grade_document

            precision, steps, form = shown
            view = View(DEFAULT_PRECISION if precision is None else precision, steps, form=form)
            document = backward_grade_document(network, result, str(answers_file), samples.texts, targets.texts, view)
            write_document(document, fmt, stream, standalone)
    if not result.all_correct:
        raise typer.Exit(ExitStatus.NO)


@app.command(cls=_Command, short_help="Validate a network file and summarise it.")
@_quiet_when_reader_leaves
def check(
    network_file: NetworkArg,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Validate a network file and summarise it: layers, shapes, activations, parameters.

    Exit code 0 when the file is valid; otherwise every problem is listed as
    'error: FILE:LINE:COLUMN: message' and the exit code is 2.

    \b
    Examples:
      nncalc check configs/classic-2-2-2.yaml
      nncalc check my-network.yaml && nncalc forward my-network.yaml -i 1,0
    """
    from nncalc.loader import load_network
    from nncalc.notation import write_document
    from nncalc.worked.summaries import check_document

    network = load_network(network_file, max_bytes=max_file_size)
    write_document(check_document(network), "table", sys.stdout)


@app.command(cls=_Command, short_help="Draw the network: Graphviz DOT, Mermaid, SVG or PNG.")
@_quiet_when_reader_leaves
def draw(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", metavar="VALUES", help="Show z and a for this input on the neurons.", show_default=False
        ),
    ] = None,
    output_format: Annotated[str | None, _format_option(DRAW_FORMATS, "dot")] = None,
    output: OutputOption = None,
    precision: PrecisionOption = None,
    round_to: RoundOption = None,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Draw the network as courses do: inputs on the left, every weight on its edge.

    Every neuron shows its bias and activation, and with --input its z and a; a convolution,
    pooling or flatten is one block with the shape it gives. svg and png are drawn by
    Graphviz (its 'dot' program must be installed); dot and mermaid are text.

    \b
    Examples:
      nncalc draw configs/classic-2-2-2.yaml --input 0.05,0.10 -o classic.svg
      nncalc draw configs/course-chain.yaml --format mermaid
      nncalc draw configs/keras-kernel.yaml | dot -Tpdf > network.pdf
    """
    from nncalc.loader import load_network
    from nncalc.output import is_terminal, refuse_same_file
    from nncalc.render import diagram

    network = load_network(network_file, max_bytes=max_file_size)
    fmt = _choose(output_format, output, DRAW_FORMATS, "dot", [network_file])
    value_text = _one(input_values, "--input")
    if value_text is None and (precision is not None or round_to is not None):
        raise InputError("--precision and --round act on the z and a shown with --input: give --input too")
    trace = None
    if value_text is not None:
        from nncalc.engine import forward as run_forward
        from nncalc.inputs import samples_from_options
        from nncalc.pipeline import check_finite

        sample = samples_from_options([value_text], network.inputs)
        trace = run_forward(network, sample.values, decimals=round_to)
        check_finite(network, trace, allow=False)
    shown = DEFAULT_PRECISION if precision is None else precision
    text = (diagram.to_mermaid if fmt == "mermaid" else diagram.to_dot)(network, trace, 0, shown)
    data = diagram.render_graphviz(text, fmt) if fmt in ("svg", "png") else text.encode("utf-8")
    if output is None:
        if fmt == "png" and is_terminal(sys.stdout):
            raise InputError("a PNG is not for the terminal: give --output FILE.png or redirect the output")
        sys.stdout.flush()
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        return
    from nncalc.files import output_binary_file

    refuse_same_file(output, [network_file])
    with output_binary_file(output) as stream:
        stream.write(data)


@app.command(cls=_Command, short_help="Write a new exercise: a network with hand-friendly values.")
@_quiet_when_reader_leaves
def new(
    inputs: Annotated[int, typer.Option("--inputs", min=1, metavar="N", help="Number of inputs.")] = 2,
    layers: Annotated[
        str,
        typer.Option("--layers", metavar="SIZES", help="Neurons per layer, input side first: 3,2,1."),
    ] = "2,1",
    activation: Annotated[
        str,
        typer.Option(
            "--activation",
            metavar="NAME",
            help="Activation of every layer.",
            autocompletion=_activation_names,
        ),
    ] = "sigmoid",
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            metavar="N",
            help="Random seed: the same seed gives the same file everywhere. "
            "Default: a random one, written in the file.",
            show_default=False,
        ),
    ] = None,
    decimals: Annotated[int, typer.Option("--decimals", min=0, max=6, metavar="N", help="Decimals of each value.")] = 2,
    value_range: Annotated[
        str,
        typer.Option("--range", metavar="LOW,HIGH", help="Values are drawn uniformly from [LOW, HIGH)."),
    ] = "0,1",
    output: NetworkOutputOption = None,
    force: ForceOption = False,
) -> None:
    """Write a new exercise: a network file with random, hand-friendly weights and biases.

    With forward --format markdown, a teacher has the exercise and its answer key.

    \b
    Examples:
      nncalc new --inputs 2 --layers 3,2,1 --activation sigmoid --seed 12 --decimals 2
      nncalc new --layers 2,2 --range -1,1 --seed 7 -o exercise.yaml
    """
    from nncalc.exercises import exercise_yaml, parse_exercise_options
    from nncalc.loader import parse_network

    text = exercise_yaml(parse_exercise_options(inputs, layers, activation, seed, decimals, value_range))
    parse_network(text, "<new exercise>")  # what we write must load
    if output is None:
        sys.stdout.write(text)
        return
    from nncalc.files import output_text_file

    with output_text_file(output, overwrite=force) as stream:
        stream.write(text)


@app.command("import", cls=_Command, short_help="Turn a model file into a network file.")
@_quiet_when_reader_leaves
def import_model(
    model_file: Annotated[
        Path,
        typer.Argument(
            help="The model: .onnx, .safetensors, .npz, .keras or .h5.", show_default=False, metavar="MODEL"
        ),
    ],
    activation: Annotated[
        str | None,
        typer.Option(
            "--activation",
            metavar="NAMES",
            help="Each layer's activation, comma-separated (relu,relu,softmax), or one for every layer: "
            "needed for .npz and .safetensors, which store weights only.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="TEXT", help="The network's name.", show_default=False)
    ] = None,
    input_shape: Annotated[
        str | None,
        typer.Option(
            "--input-shape",
            metavar="C,H,W",
            help="One picture's channels, height and width, for a convolutional model whose file leaves its size open.",
            show_default=False,
        ),
    ] = None,
    output: NetworkOutputOption = None,
    force: ForceOption = False,
    max_file_size: Annotated[
        int, typer.Option("--max-file-size", min=1, metavar="BYTES", help=MAX_FILE_SIZE_HELP)
    ] = 512 * 1024 * 1024,
) -> None:
    """Turn a saved model into a network file: its layers, weights, biases and activations.

    Dense layers, and from ONNX and Keras files convolution, pooling and flatten layers too,
    with the input's (channels, height, width). Nothing in the file is run: ONNX and
    safetensors are read byte by byte, .npz without pickles. A model with layers nncalc
    cannot express (a residual branch, normalisation, a grouped or dilated convolution) is
    refused, naming the first it cannot take.

    \b
    Examples:
      nncalc import model.onnx -o net.yaml
      nncalc import weights.safetensors --activation relu,relu,softmax -o net.yaml
      nncalc import model.keras | nncalc check /dev/stdin
    """
    from nncalc.api import network_from_dict
    from nncalc.importers.files import import_file
    from nncalc.writer import dump_network

    names = [part.strip() for part in activation.split(",")] if activation else None
    shape = _input_shape(input_shape) if input_shape is not None else None
    data = import_file(model_file, names, name, max_bytes=max_file_size, input_shape=shape)
    text = dump_network(network_from_dict(data, str(model_file)))
    if output is None:
        sys.stdout.write(text)
        return
    from nncalc.files import output_text_file
    from nncalc.output import refuse_same_file

    refuse_same_file(output, [model_file])
    with output_text_file(output, overwrite=force) as stream:
        stream.write(text)


def _input_shape(text: str) -> tuple[int, ...]:
    """``1,28,28`` (commas and/or spaces) as three whole numbers of at least 1."""
    parts = text.replace(",", " ").split()
    if len(parts) != 3 or not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise InputError(
            f"expected channels, height and width as three whole numbers, e.g. 1,28,28; got {text!r}",
            Location("--input-shape"),
        )
    return tuple(int(part) for part in parts)


@app.command(cls=_Command, short_help="Print the network file format as a JSON Schema.")
@_quiet_when_reader_leaves
def schema() -> None:
    """Print the network file format as a JSON Schema, for editors to complete and check files.

    \b
    Examples:
      nncalc schema > nncalc-network.schema.json
      # VS Code (YAML extension): "yaml.schemas": {"nncalc-network.schema.json": "configs/*.yaml"}
    """
    import json

    from nncalc.schema import network_schema

    sys.stdout.write(json.dumps(network_schema(), indent=2, ensure_ascii=False) + "\n")


class Shell(str, Enum):
    """Shells ``completion`` writes a script for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command(cls=_Command, short_help="Print a shell's tab-completion script.")
@_quiet_when_reader_leaves
def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", metavar="SHELL", case_sensitive=False)],
) -> None:
    """Print the tab-completion script for a shell: commands, options, activation and loss names, files.

    \b
    Examples:
      nncalc completion bash > ~/.local/share/bash-completion/completions/nncalc
      nncalc completion zsh > "${fpath[1]}/_nncalc"
      nncalc completion fish > ~/.config/fish/completions/nncalc.fish
    """

    # typer's own scripts and completion classes (typer is pinned below 0.29 in pyproject.toml)
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="nncalc", complete_var=COMPLETE_VAR, shell=shell.value)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")


def _report(error: NncalcError) -> None:
    from nncalc.text import visible

    for problem in error.problems:
        sys.stderr.write(f"error: {visible(str(problem))}\n")


def _report_usage(error: Exception, argv: list[str] | None = None) -> int:
    """One ``error:`` line for a mistake on the command line, pointing at the command's help."""
    if type(error).__name__ == "NoArgsIsHelpError":  # plain 'nncalc': show the help
        ctx = getattr(error, "ctx", None)
        sys.stdout.write(ctx.get_help() + "\n" if ctx is not None else str(error))
        return int(ExitStatus.SUCCESS)
    format_message = getattr(error, "format_message", None)
    message = format_message() if format_message is not None else str(error)
    message = " ".join(message.replace("Value error, ", "").split())
    ctx = getattr(error, "ctx", None)
    command = ctx.command_path if ctx is not None else "nncalc"
    words = [w for w in (argv or sys.argv[1:]) if not w.startswith("-")]
    if command == "nncalc" and words and _registered(words[0]) is not None:
        command = f"nncalc {words[0]}"
    from nncalc.text import visible

    sys.stderr.write(f"error: {visible(message)} (see '{command} --help')\n")
    return int(getattr(error, "exit_code", ExitStatus.USAGE) or ExitStatus.USAGE)


def _app_for(argv: list[str]) -> typer.Typer:
    """The app that runs ``argv``: for ``nncalc COMMAND ...``, a copy holding only that command.

    Typer builds every registered command's options before it runs one; building only the
    one asked for takes milliseconds off every start, which a script calling nncalc in a
    loop pays each time. Anything else (``--help``, ``--version``, an unknown word) gets
    the whole app, so help and error messages are as they always were.
    """
    info = _registered(argv[0]) if argv and not argv[0].startswith("-") else None
    if info is None:
        return app
    single = copy.copy(app)
    single.registered_commands = [info]
    return single


def _registered(word: str):
    """The registered command called ``word`` on the command line, or None."""
    for info in app.registered_commands:
        if (info.name or typer.main.get_command_name(info.callback.__name__)) == word:
            return info
    return None


COMPLETE_VAR = "_NNCALC_COMPLETE"  # set by the completion script when the shell asks for words


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command and turn every outcome into one exit code."""
    argv = sys.argv[1:] if argv is None else argv
    completing = COMPLETE_VAR in os.environ
    if completing:
        from typer._completion_classes import completion_init

        completion_init()
    try:
        runner = app if completing else _app_for(argv)
        result = runner(args=argv, prog_name="nncalc", standalone_mode=False)
        status = result if isinstance(result, int) else ExitStatus.SUCCESS
    except NncalcError as error:
        _report(error)
        status = error.status
    except typer.Exit as done:
        status = done.exit_code
    except typer.Abort:
        status = ExitStatus.INTERRUPTED
    except typer.TyperException as error:  # the command line itself: unknown option, bad value
        status = _report_usage(error, argv)
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except (_ReaderGone, BrokenPipeError):
        status = ExitStatus.SUCCESS
    except SystemExit as done:
        # typer ends with 1 when the reader of --help's output has gone, after wrapping stdout
        # in click's PacifyFlushWrapper: that is a closed pipe, and closed pipes end quietly
        gone = type(sys.stdout).__name__ == "PacifyFlushWrapper" and done.code == 1
        status = ExitStatus.SUCCESS if gone else done.code
    _flush_quietly()
    sys.exit(int(status))


def _flush_quietly() -> None:
    """Flush stdout; if that fails (the reader has gone, the disk is full), point it at
    /dev/null so that Python's own flush at exit has nothing left to complain about."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
