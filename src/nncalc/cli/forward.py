"""``nncalc forward``: every layer's z and a, as a worked solution or as data, streamed when long."""

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from nncalc.cli.command import command
from nncalc.cli.options import (
    DEFAULT_PRECISION,
    DOCUMENT_FORMATS,
    MaxFileSize,
    NetworkArg,
    NoStepsOption,
    OutputOption,
    PrecisionOption,
    RoundOption,
    RoundZOption,
    StandaloneOption,
    chosen_format,
    format_option,
    input_option,
    inputs_option,
    refuse_round_z_alone,
    steps_option,
    steps_wanted,
)
from nncalc.cli.samples import read_samples, say_reading_from_terminal

FORWARD_FORMATS = ("table", "json", "jsonl", "csv", "markdown", "latex", "html")


def _warn(message: str) -> None:
    from nncalc.text import visible

    typer.echo(f"warning: {visible(message)}", err=True)


@command("Forward propagation: every z and a, step by step.")
def forward(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        input_option(
            'One sample\'s input values, separated by commas and/or spaces: "0.05,0.10". Repeat for several samples.'
        ),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        inputs_option(
            "Read samples from a CSV file ('-' for standard input): one row per sample, "
            "an optional header row of input names; or from a .yaml file of samples (an image as a "
            "matrix per channel)."
        ),
    ] = None,
    output_format: Annotated[
        str | None,
        format_option(FORWARD_FORMATS, "table on a terminal, csv otherwise"),
    ] = None,
    steps_form: Annotated[
        str | None,
        steps_option("Write out each derivation. Default: on when every layer is small enough to read."),
    ] = None,
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

    steps, form = steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    fmt = chosen_format(output_format, output, FORWARD_FORMATS, "csv", [network_file])
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
    refuse_round_z_alone(round_to, round_z)
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

    samples = read_samples(network, input_values or [], inputs_file, max_file_size)
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


def _sample_lines(inputs_file: Path | None, samples: Any) -> tuple[str | None, Any]:
    """Where each sample came from, for messages: the file and its lines, when read from one."""
    lines = samples.lines
    if inputs_file is None or lines is None:
        return None, None
    return ("<stdin>" if str(inputs_file) == "-" else str(inputs_file)), lines


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
        say_reading_from_terminal()
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
