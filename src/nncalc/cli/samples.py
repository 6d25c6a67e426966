"""The samples a command runs on: from ``--input`` options, a file, or standard input."""

import sys
from pathlib import Path

import typer

from nncalc.errors import InputError


def say_reading_from_terminal() -> None:
    """Tell a person at a terminal that the samples are read from it, and how to end them."""
    from nncalc.output import is_terminal

    if is_terminal(sys.stdin):
        typer.echo(
            "reading samples from the terminal: one per line, values separated by commas; end with Ctrl-D", err=True
        )


def read_samples(network, input_texts: list[str], inputs_file: Path | None, max_bytes: int):
    """The batch to run: from ``--input`` options, or from a CSV file or standard input."""
    from nncalc.inputs import samples_from_options

    if input_texts and inputs_file is not None:
        raise InputError("give --input or --inputs, not both")
    if inputs_file is None:
        if not input_texts:
            raise InputError("no input given: use --input VALUES (e.g. --input 0.1) or --inputs FILE.csv")
        return samples_from_options(input_texts, network.inputs)
    samples, _ = read_csv_samples(network, inputs_file, max_bytes)
    return samples


def read_csv_samples(network, inputs_file: Path, max_bytes: int):
    """Samples (and target columns, when the file has them) from a CSV file or '-'."""
    from nncalc.inputs import read_samples_source

    if str(inputs_file) == "-":
        say_reading_from_terminal()
    return read_samples_source(
        str(inputs_file), network.inputs, network.outputs, sys.stdin, max_bytes, network.input_shape
    )
