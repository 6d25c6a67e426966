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
    """A command whose usage line reads as man pages write it: ``NETWORK``, not ``{NETWORK}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]


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
StepsOption = Annotated[
    bool | None,
    typer.Option(
        "--steps/--no-steps",
        help="Write out each derivation. Default: on when every layer is small enough to read.",
        show_default=False,
    ),
]


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
    steps: StepsOption = None,
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

            document = forward_document(network, result, samples.texts, View(shown, steps, all_rows))
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
            "targets (as the output neurons are named); '-' for standard input.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        str,
        typer.Option("--loss", metavar="NAME", help="half_sse, mse, cross_entropy or bce.", autocompletion=_loss_names),
    ] = "half_sse",
    lr: Annotated[
        float, typer.Option("--lr", parser=_finite_number, metavar="RATE", help="Learning rate (≥ 0).")
    ] = 0.5,
    freeze_biases: Annotated[
        bool, typer.Option("--freeze-biases", help="Leave the biases as they are, as some worked examples do.")
    ] = False,
    iterations: Annotated[
        int, typer.Option("--iterations", "-n", min=1, metavar="N", help="Repeat the step N times on the batch.")
    ] = 1,
    output_format: Annotated[
        str | None,
        _format_option(BACKWARD_FORMATS, "table on a terminal, json otherwise"),
    ] = None,
    steps: Annotated[
        bool | None,
        typer.Option(
            "--steps/--no-steps", help="Write out each δ, gradient and update (default: on).", show_default=False
        ),
    ] = None,
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

    \b
    Examples:
      nncalc backward configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 --freeze-biases
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4 --round 4
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 -o step.md
      nncalc backward configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 -n 1000 --write trained.yaml
    """
    import numpy as np

    from nncalc.backprop import backward as run_backward
    from nncalc.backprop import train
    from nncalc.inputs import samples_from_options
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused, text_destination

    if lr < 0:
        raise InputError(f"the learning rate must be ≥ 0, got {lr:g}", Location("--lr"))
    network = load_network(network_file, max_bytes=max_file_size)
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
        if input_values or target_values:
            raise InputError("give --input/--target pairs or --inputs FILE, not both")
        samples, targets = _read_csv_samples(network, inputs_file, max_file_size)
        source = "<stdin>" if str(inputs_file) == "-" else str(inputs_file)
        if targets is None or len(targets.columns) != len(network.outputs):
            raise InputError(
                f"the file needs target columns named as the outputs: {', '.join(network.outputs)}",
                Location(source, 1),
            )
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
    shown = DEFAULT_PRECISION if precision is None else precision
    with text_destination(output, protected) as stream:
        if iterations == 1:
            result = run_backward(network, samples.values, target_array, loss, lr, freeze_biases, round_to, round_z)
            final = result.network
            if fmt == "json":
                from nncalc.render.data import backward_dict, write_document

                write_document(stream, backward_dict(network, result))
            else:
                from nncalc.notation import write_document
                from nncalc.worked import View
                from nncalc.worked.backward import backward_document

                document = backward_document(network, result, samples.texts, View(shown, steps))
                write_document(document, fmt, stream, standalone)
        else:
            from nncalc.engine import forward as run_forward
            from nncalc.notation.console import progress_callback

            with progress_callback(iterations) as on_step:
                final, losses = train(
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
                )
            outputs = run_forward(final, samples.values, decimals=round_to, round_z=round_z).output
            if fmt == "json":
                from nncalc.render.data import training_dict, write_document

                write_document(stream, training_dict(network, final, np.asarray(losses), outputs))
            else:
                from nncalc.notation import write_document
                from nncalc.worked import View
                from nncalc.worked.summaries import training_document

                document = training_document(final, np.asarray(losses), outputs, View(shown))
                write_document(document, fmt, stream)
    if write is not None:
        from nncalc.files import output_text_file
        from nncalc.writer import dump_network
        from nncalc.yamlsource import read_text

        original = read_text(network_file, max_file_size)  # its comments and layout are kept
        with output_text_file(write, overwrite=force) as stream:
            stream.write(dump_network(final, original))
        typer.echo(f"wrote the updated network to {write}", err=True)


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
            help="Your worked answers (YAML): per layer, z and a values in neuron order, or by neuron name.",
            show_default=False,
        ),
    ],
    input_values: Annotated[
        list[str],
        typer.Option(
            "--input", "-i", metavar="VALUES", help='The input the answers are for: "0.05,0.10".', show_default=False
        ),
    ],
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
    standalone: StandaloneOption = False,
    output: OutputOption = None,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Grade worked answers, error carried forward: exit 0 when all are right, 1 when not.

    Each value you wrote is recomputed from your own earlier values, so one slip does not
    mark everything after it wrong. The first wrong value is written out with your numbers
    and, where it can be told, what likely went wrong.

    \b
    Examples:
      nncalc grade configs/course-note.yaml --input 0.1 --answers configs/answers-course-note.yaml
      nncalc grade configs/classic-2-2-2.yaml -i 0.05,0.10 -a configs/answers-classic.yaml --format json
    """
    from nncalc.answers import load_answers
    from nncalc.grading import grade as run_grade
    from nncalc.inputs import samples_from_options
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused, text_destination

    if tolerance is not None and tolerance < 0:
        raise InputError(f"--tolerance must be ≥ 0, got {tolerance:g}", Location("--tolerance"))
    network = load_network(network_file, max_bytes=max_file_size)
    fmt = _choose(output_format, output, GRADE_FORMATS, "json", [network_file, answers_file])
    refuse_unused(
        fmt,
        {"--precision": precision is not None, "--standalone": standalone},
        {"--precision": ("table", "markdown", "latex", "html"), "--standalone": ("latex", "html")},
    )
    _refuse_round_z_alone(round_to, round_z)
    sample = samples_from_options([_one(input_values, "--input")], network.inputs)
    answers = load_answers(answers_file, network, max_bytes=max_file_size)
    result = run_grade(
        network, sample.values[0], sample.texts[0], answers, tolerance=tolerance, decimals=round_to, round_z=round_z
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
            document = grade_document(network, result, str(answers_file), View(shown))
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

    Every neuron shows its bias and activation, and with --input its z and a. svg and png
    are drawn by Graphviz (its 'dot' program must be installed); dot and mermaid are text.

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
