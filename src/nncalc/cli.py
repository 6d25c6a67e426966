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
from typing import Annotated, Any, TextIO

import typer

from nncalc import __version__
from nncalc.errors import ComputationError, ExitStatus, InputError, Location, NncalcError, Problem

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


class Format(str, Enum):
    """Output formats of ``forward``."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


SUFFIX_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".txt": "table",
}
MAX_FILE_SIZE_HELP = "Largest network file to read, in bytes (a guard against runaway files)."


class _ReaderGone(Exception):
    """Standard output was closed by its reader (``| head -1``): stop quietly, successfully."""


def _quiet_when_reader_leaves(command: Callable[..., None]) -> Callable[..., None]:
    """Turn a closed pipe into a quiet, successful end instead of an error."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
            sys.stdout.flush()
        except BrokenPipeError:
            raise _ReaderGone() from None

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


def resolve_format(given: Format | None, output: Path | None, stdout_is_terminal: bool) -> str:
    """The format to write: as given; else from the output file's suffix; else ``table`` for
    a terminal and ``csv`` (plain, parseable) for a pipe or file."""
    if given is not None:
        return given.value
    if output is not None:
        return SUFFIX_FORMATS.get(output.suffix.lower(), "table")
    return "table" if stdout_is_terminal else "csv"


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, AttributeError):
        return False


@contextlib.contextmanager
def _output(path: Path | None, protect: list[Path]):
    """Yield the stream to write to: stdout, or a file written atomically."""
    if path is None:
        yield sys.stdout
        return
    from nncalc.files import atomic_text_file, same_file

    for other in protect:
        if same_file(path, other):
            raise InputError(
                f"is also an input ({other}); write the output somewhere else",
                Location(str(path)),
            )
    with atomic_text_file(path) as stream:
        yield stream


def _read_inputs(network, input_texts: list[str], inputs_file: str | None):
    """The batch to run: from ``--input`` options, or from a CSV file or stdin."""
    from nncalc.inputs import read_samples_csv, samples_from_options

    if input_texts and inputs_file is not None:
        raise InputError("give --input or --inputs, not both")
    if inputs_file is None:
        if not input_texts:
            raise InputError("no input given: use --input VALUES (e.g. --input 0.1) or --inputs FILE.csv")
        return samples_from_options(input_texts, network.inputs)
    if inputs_file == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise InputError("standard input is closed", Location("<stdin>"))
        if _is_terminal(stdin):
            typer.echo(
                "reading samples from the terminal: one per line, values separated by commas; end with Ctrl-D",
                err=True,
            )
        samples, _ = read_samples_csv(stdin, "<stdin>", network.inputs, extra=network.outputs)
        return samples
    path = Path(inputs_file)
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            samples, _ = read_samples_csv(stream, str(path), network.inputs, extra=network.outputs)
    except FileNotFoundError:
        raise InputError("no such file", Location(str(path))) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", Location(str(path))) from None
    except PermissionError:
        raise InputError("permission denied", Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", Location(str(path))) from None
    return samples


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
        help="Round each neuron's output a to N decimals before it is passed on, as on paper "
        "(halves away from zero). Without it nothing is rounded.",
        show_default=False,
    ),
]
MaxFileSize = Annotated[int, typer.Option("--max-file-size", min=1, metavar="BYTES", help=MAX_FILE_SIZE_HELP)]


@app.command()
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
        str | None,
        typer.Option(
            "--inputs",
            help="Read samples from a CSV file ('-' for standard input): one row per sample, "
            "an optional header row of input names.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Output format: table, json, jsonl, csv, markdown or latex. Default: table on a terminal; "
            "otherwise from the --output suffix (.json, .jsonl, .csv, .md, .tex, .txt), else csv.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    steps: Annotated[
        bool | None,
        typer.Option(
            "--steps/--no-steps",
            help="Show each neuron's derivation. Default: on when every layer is small enough to read.",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[
        int, typer.Option("--precision", "-p", min=0, max=15, metavar="N", help="Decimals shown in tables.")
    ] = 4,
    trace: Annotated[bool, typer.Option("--trace", help="CSV: add every layer's z and a columns.")] = False,
    round_to: RoundOption = None,
    round_z: RoundZOption = False,
    standalone: Annotated[
        bool, typer.Option("--standalone", help="LaTeX: a complete document that compiles with pdflatex.")
    ] = False,
    all_rows: Annotated[
        bool, typer.Option("--all", help="List every neuron of large layers instead of a summary.")
    ] = False,
    allow_nonfinite: Annotated[
        bool,
        typer.Option(
            "--allow-nonfinite",
            help="Let an overflow (inf) or NaN through, with a warning, instead of failing; "
            "JSON shows null, CSV an empty cell.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to this file instead of standard output; it is replaced only once everything was written.",
            show_default=False,
        ),
    ] = None,
    chunk_size: Annotated[
        int,
        typer.Option(
            "--chunk-size",
            min=1,
            metavar="ROWS",
            help="With --inputs and csv or jsonl output: rows "
            "read, computed and written at a time, so memory stays flat however long the input.",
        ),
    ] = 100_000,
    max_file_size: MaxFileSize = 64 * 1024 * 1024,
) -> None:
    """Forward propagation: every layer's z = W·x + b and a = f(z), step by step.

    \b
    Examples:
      nncalc forward configs/course-chain.yaml --input 0.1
      nncalc forward configs/classic-2-2-2.yaml -i "0.05,0.10" --format json
      nncalc forward configs/classic-2-2-2.yaml --inputs samples.csv --format csv --trace
      cat samples.csv | nncalc forward configs/classic-2-2-2.yaml --inputs - > out.csv
      nncalc forward configs/course-chain.yaml -i 0.1 --format latex --standalone -o chain.tex
    """
    from nncalc.engine import forward as run_forward
    from nncalc.loader import load_network

    network = load_network(network_file, max_bytes=max_file_size)
    fmt = resolve_format(output_format, output, _is_terminal(sys.stdout))
    protect = [network_file] + ([Path(inputs_file)] if inputs_file not in (None, "-") else [])
    if inputs_file is not None and fmt in ("csv", "jsonl") and not input_values:
        _forward_stream(
            network, inputs_file, fmt, output, protect, trace, chunk_size, allow_nonfinite, round_to, round_z
        )
        return
    samples = _read_inputs(network, input_values or [], inputs_file)
    result = run_forward(network, samples.values, decimals=round_to, round_z=round_z)
    _check_finite(network, result, allow_nonfinite)

    with _output(output, protect) as stream:
        if fmt == "table":
            from nncalc.render.table import LARGE_LAYER, TableView, make_console, print_forward

            readable = (
                all(layer.n_neurons <= 8 and layer.n_inputs <= 8 for layer in network.layers) and len(samples) <= 10
            )
            view = TableView(
                precision=precision,
                steps=readable if steps is None else steps,
                all_rows=all_rows,
            )
            large = [i for i, layer in enumerate(network.layers) if layer.n_neurons > LARGE_LAYER]
            if steps and large and not all_rows:
                layer = network.layers[large[0]]
                raise InputError(
                    f"--steps on {network.layer_label(large[0])} would write {2 * layer.n_neurons} lines per sample; "
                    "add --all to have them (large layers are otherwise summarised)"
                )
            console = make_console(stream)
            print_forward(console, network, result, samples.texts, view)
        else:
            from nncalc.render import data

            if fmt == "markdown":
                from nncalc.render.markdown import write_markdown

                write_markdown(stream, network, result, samples.texts, precision, steps=steps is not False)
            elif fmt == "latex":
                from nncalc.render.latex import write_latex

                write_latex(stream, network, result, samples.texts, precision, standalone=standalone)
            elif fmt == "json":
                data.write_json(stream, network, result)
            elif fmt == "jsonl":
                data.write_jsonl(stream, network, result)
            else:
                data.write_csv(stream, network, result, with_trace=trace)


def _forward_stream(
    network, inputs_file, fmt, output, protect, with_trace, chunk_rows, allow_nonfinite, round_to, round_z
) -> None:
    """CSV or JSON Lines from a CSV stream, chunk by chunk: output starts before the input ends,
    and memory does not grow with the number of rows."""
    from nncalc.engine import forward as run_forward
    from nncalc.render import data
    from nncalc.render.csv_stream import CsvStreamWriter
    from nncalc.streaming import stream_samples

    if _is_terminal(sys.stderr):  # Rich only where a progress bar can be shown
        from nncalc.render.table import progress_bytes
    else:
        progress_bytes = _no_progress

    if inputs_file == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise InputError("standard input is closed", Location("<stdin>"))
        if _is_terminal(stdin):
            typer.echo(
                "reading samples from the terminal: one per line, values separated by commas; end with Ctrl-D", err=True
            )
        source, total = "<stdin>", None
        opened = contextlib.nullcontext(getattr(stdin, "buffer", None) or _BytesFromText(stdin))
    else:
        path = Path(inputs_file)
        source = str(path)
        try:
            total = path.stat().st_size
            opened = path.open("rb")
        except FileNotFoundError:
            raise InputError("no such file", Location(source)) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", Location(source)) from None
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", Location(source)) from None
    written = 0
    with opened as binary, _output(output, protect) as stream, progress_bytes(total) as advance:
        writer = CsvStreamWriter(stream, data.csv_header(network, with_trace)) if fmt == "csv" else None
        # the writer writes each block while the next is read and computed; leaving waits for it
        with writer or contextlib.nullcontext():
            try:
                for chunk in stream_samples(binary, source, network.inputs, network.outputs, chunk_rows):
                    result = run_forward(network, chunk.inputs, decimals=round_to, round_z=round_z)
                    _check_finite(network, result, allow_nonfinite, first_sample=written)
                    if writer is not None:
                        writer.write(data.csv_blocks(result, with_trace))
                    else:
                        data.write_jsonl(stream, network, result)
                    written += len(chunk.inputs)
                    if advance is not None:
                        advance(chunk.bytes_read)
            except NncalcError as error:
                if written and output is None:
                    error.problems.append(
                        Problem(f"the {written} sample{'s' if written != 1 else ''} before it were written", None)
                    )
                raise


@contextlib.contextmanager
def _no_progress(total):
    yield None


class _BytesFromText:
    """A text stream read as UTF-8 bytes, line by line (standard input replaced by a text-only stream)."""

    def __init__(self, text):
        self.text = text

    def readline(self) -> bytes:
        return self.text.readline().encode("utf-8")

    def read1(self, size: int = -1) -> bytes:
        return self.text.readline().encode("utf-8")


def _check_finite(network, result, allow: bool, first_sample: int = 0) -> None:
    from nncalc.engine import first_non_finite

    bad = first_non_finite(result)
    if bad is None:
        return
    what = "NaN" if bad.value != bad.value else "an overflow (inf)"
    message = (
        f"{network.layer_label(bad.layer)}, neuron {network.layers[bad.layer].neurons[bad.neuron]}, "
        f"sample {first_sample + bad.sample + 1}: {bad.quantity} is {what}"
    )
    if not allow:
        raise ComputationError(message + " (--allow-nonfinite lets it through)")
    typer.echo(f"warning: {message}", err=True)


@app.command()
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
    from nncalc.render.table import make_console, print_check

    network = load_network(network_file, max_bytes=max_file_size)
    print_check(make_console(sys.stdout), network)


class GradeFormat(str, Enum):
    """Output formats of ``grade``."""

    table = "table"
    json = "json"


@app.command()
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
        str,
        typer.Option(
            "--input", "-i", metavar="VALUES", help='The input the answers are for: "0.05,0.10".', show_default=False
        ),
    ],
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            min=0.0,
            metavar="T",
            help="Accept values within T of the right one. Default: half a unit in the last digit you "
            "wrote (0.6023 means ±0.00005).",
            show_default=False,
        ),
    ] = None,
    round_to: RoundOption = None,
    round_z: RoundZOption = False,
    precision: Annotated[
        int, typer.Option("--precision", "-p", min=0, max=15, metavar="N", help="Decimals shown for values.")
    ] = 4,
    output_format: Annotated[
        GradeFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="table or json. Default: table on a terminal, json otherwise.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
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

    network = load_network(network_file, max_bytes=max_file_size)
    sample = samples_from_options([input_values], network.inputs)
    answers = load_answers(answers_file, network, max_bytes=max_file_size)
    result = run_grade(
        network, sample.values[0], sample.texts[0], answers, tolerance=tolerance, decimals=round_to, round_z=round_z
    )
    fmt = output_format.value if output_format else ("table" if _is_terminal(sys.stdout) else "json")
    if fmt == "json":
        from nncalc.render.data import write_grade_json

        write_grade_json(sys.stdout, network, result)
    else:
        from nncalc.render.table import make_console, print_grade

        print_grade(make_console(sys.stdout), network, result, str(answers_file), precision)
    if not result.all_correct:
        raise typer.Exit(ExitStatus.NO)


@app.command()
@_quiet_when_reader_leaves
def new(
    inputs: Annotated[int, typer.Option("--inputs", min=1, metavar="N", help="Number of inputs.")] = 2,
    layers: Annotated[
        str,
        typer.Option("--layers", metavar="SIZES", help="Neurons per layer, input side first: 3,2,1."),
    ] = "2,1",
    activation: Annotated[
        str, typer.Option("--activation", metavar="NAME", help="Activation of every layer.")
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
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the network file here instead of standard output.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --output if it exists.")] = False,
) -> None:
    """Write a new exercise: a network file with random, hand-friendly weights and biases.

    With forward --format markdown, a teacher has the exercise and its answer key.

    \b
    Examples:
      nncalc new --inputs 2 --layers 3,2,1 --activation sigmoid --seed 12 --decimals 2
      nncalc new --layers 2,2 --range -1,1 --seed 7 -o exercise.yaml
    """
    import random

    from nncalc.activations import REGISTRY, known_names, lookup
    from nncalc.exercises import ExerciseSpec, exercise_yaml
    from nncalc.inputs import split_values
    from nncalc.loader import parse_network, suggest
    from nncalc.numbers import NotANumber, parse_count, parse_number

    try:
        sizes = [parse_count(token) for _, token in split_values(layers)]
    except NotANumber as exc:
        raise InputError(f"{exc}; give neurons per layer such as 3,2,1", Location("--layers")) from None
    if not sizes or min(sizes) < 1:
        raise InputError("every layer needs at least 1 neuron", Location("--layers"))
    if lookup(activation) is None:
        raise InputError(
            f"unknown activation {activation!r}{suggest(activation, known_names())} (known: {', '.join(REGISTRY)})",
            Location("--activation"),
        )
    bounds = split_values(value_range)
    try:
        low, high = (parse_number(token) for _, token in bounds) if len(bounds) == 2 else (None, None)
    except NotANumber as exc:
        raise InputError(str(exc), Location("--range")) from None
    if low is None or not low < high:
        raise InputError("give two numbers LOW,HIGH with LOW < HIGH, such as 0,1 or -1,1", Location("--range"))
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    text = exercise_yaml(ExerciseSpec(inputs, sizes, activation, seed, decimals, low, high))
    parse_network(text, "<new exercise>")  # what we write must load
    if output is None:
        sys.stdout.write(text)
        return
    from nncalc.files import atomic_text_file

    with atomic_text_file(output, overwrite=force) as stream:
        stream.write(text)


@app.command()
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


class BackwardFormat(str, Enum):
    """Output formats of ``backward``."""

    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"


@app.command()
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
        str | None,
        typer.Option(
            "--inputs",
            metavar="FILE",
            help="A CSV of samples with a header naming the inputs and the "
            "targets (as the output neurons are named); '-' for standard input.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        str, typer.Option("--loss", metavar="NAME", help="half_sse, mse, cross_entropy or bce.")
    ] = "half_sse",
    lr: Annotated[float, typer.Option("--lr", min=0.0, metavar="RATE", help="Learning rate.")] = 0.5,
    freeze_biases: Annotated[
        bool, typer.Option("--freeze-biases", help="Leave the biases as they are, as some worked examples do.")
    ] = False,
    iterations: Annotated[
        int, typer.Option("--iterations", "-n", min=1, metavar="N", help="Repeat the step N times on the batch.")
    ] = 1,
    output_format: Annotated[
        BackwardFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="table, json, markdown or latex. Default: table on a terminal, json otherwise.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    steps: Annotated[bool, typer.Option("--steps/--no-steps", help="Write out each δ, gradient and update.")] = True,
    standalone: Annotated[
        bool, typer.Option("--standalone", help="LaTeX: a complete document that compiles with pdflatex.")
    ] = False,
    precision: Annotated[
        int, typer.Option("--precision", "-p", min=0, max=15, metavar="N", help="Decimals shown.")
    ] = 4,
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
      nncalc backward configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4
      nncalc backward configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 -n 1000 --write trained.yaml
    """
    import numpy as np

    from nncalc.backprop import backward as run_backward
    from nncalc.backprop import train
    from nncalc.inputs import read_samples_csv, samples_from_options
    from nncalc.loader import load_network

    network = load_network(network_file, max_bytes=max_file_size)
    if inputs_file is not None:
        if input_values or target_values:
            raise InputError("give --input/--target pairs or --inputs FILE, not both")
        stream = sys.stdin if inputs_file == "-" else None
        source = "<stdin>" if inputs_file == "-" else inputs_file
        try:
            with contextlib.nullcontext(stream) if stream else open(inputs_file, encoding="utf-8-sig", newline="") as f:
                samples, targets = read_samples_csv(f, source, network.inputs, extra=network.outputs)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", Location(source)) from None
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

    fmt = output_format.value if output_format else ("table" if _is_terminal(sys.stdout) else "json")
    if iterations > 1 and fmt in ("markdown", "latex"):
        raise InputError(f"--format {fmt} shows one step; with --iterations use table or json")
    if write is not None and not force and write.exists():
        raise InputError("already exists; pass --force to replace it", Location(str(write)))
    if iterations == 1:
        result = run_backward(network, samples.values, target_array, loss, lr, freeze_biases)
        final = result.network
        if fmt == "json":
            from nncalc.render.data import backward_dict, write_document

            write_document(sys.stdout, backward_dict(network, result))
        elif fmt == "latex":
            from nncalc.render.latex_backward import write_backward_latex

            write_backward_latex(sys.stdout, network, result, samples.texts, precision, standalone=standalone)
        elif fmt == "markdown":
            from nncalc.render.markdown_backward import write_backward_markdown

            write_backward_markdown(sys.stdout, network, result, samples.texts, precision, steps)
        else:
            from nncalc.render.table import TableView, make_console, print_backward

            view = TableView(precision=precision, steps=steps)
            print_backward(make_console(sys.stdout), network, result, samples.texts, view)
    else:
        from nncalc.engine import forward as run_forward
        from nncalc.render.table import progress_callback

        with progress_callback(iterations) as on_step:
            final, losses = train(network, samples.values, target_array, loss, lr, iterations, freeze_biases, on_step)
        outputs = run_forward(final, samples.values).output
        if fmt == "json":
            from nncalc.render.data import training_dict, write_document

            write_document(sys.stdout, training_dict(network, final, np.asarray(losses), outputs))
        else:
            from nncalc.render.table import TableView, make_console, print_training

            print_training(make_console(sys.stdout), network, final, losses, outputs, TableView(precision=precision))
    if write is not None:
        from nncalc.files import atomic_text_file
        from nncalc.writer import dump_network

        with atomic_text_file(write, overwrite=force) as stream:
            stream.write(dump_network(final))
        typer.echo(f"wrote the updated network to {write}", err=True)


class DrawFormat(str, Enum):
    """Output formats of ``draw``."""

    dot = "dot"
    mermaid = "mermaid"
    svg = "svg"
    png = "png"


@app.command()
@_quiet_when_reader_leaves
def draw(
    network_file: NetworkArg,
    input_values: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", metavar="VALUES", help="Show z and a for this input on the neurons.", show_default=False
        ),
    ] = None,
    output_format: Annotated[
        DrawFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="dot, mermaid, svg or png. Default: from the --output suffix, else dot.",
            show_default=False,
            case_sensitive=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the drawing here.", show_default=False),
    ] = None,
    precision: Annotated[
        int, typer.Option("--precision", "-p", min=0, max=15, metavar="N", help="Decimals shown for z and a.")
    ] = 4,
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
    from nncalc.render import diagram

    network = load_network(network_file, max_bytes=max_file_size)
    trace = None
    if input_values is not None:
        from nncalc.engine import forward as run_forward
        from nncalc.inputs import samples_from_options

        sample = samples_from_options([input_values], network.inputs)
        trace = run_forward(network, sample.values, decimals=round_to)
        _check_finite(network, trace, allow=False)
    if output_format is not None:
        fmt = output_format.value
    elif output is not None and output.suffix.lower().lstrip(".") in {f.value for f in DrawFormat}:
        fmt = output.suffix.lower().lstrip(".")
    elif output is not None and output.suffix.lower() in (".mmd", ".mermaid"):
        fmt = "mermaid"
    else:
        fmt = "dot"
    text = (diagram.to_mermaid if fmt == "mermaid" else diagram.to_dot)(network, trace, 0, precision)
    data = diagram.render_graphviz(text, fmt) if fmt in ("svg", "png") else text.encode("utf-8")
    if output is None:
        if fmt == "png" and _is_terminal(sys.stdout):
            raise InputError("a PNG is not for the terminal: give --output FILE.png or redirect the output")
        sys.stdout.flush()
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        return
    from nncalc.files import atomic_binary_file, same_file

    if same_file(output, network_file):
        raise InputError(f"is also an input ({network_file}); write the drawing somewhere else", Location(str(output)))
    with atomic_binary_file(output) as stream:
        stream.write(data)


def _report(error: NncalcError) -> None:
    for problem in error.problems:
        sys.stderr.write(f"error: {problem}\n")


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
    sys.stderr.write(f"error: {message} (see '{command} --help')\n")
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run a command and turn every outcome into one exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        result = _app_for(argv)(args=argv, prog_name="nncalc", standalone_mode=False)
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
    _flush_quietly()
    sys.exit(int(status))


def _flush_quietly() -> None:
    """Flush stdout; if the reader has gone (``| head -1``), end quietly, as a filter should."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
