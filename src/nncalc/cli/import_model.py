"""``nncalc import``: a saved model (ONNX, safetensors, .npz, Keras) turned into a network file."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from nncalc.cli.command import command
from nncalc.cli.options import (
    ForceOption,
    MaxFileSize,
    NetworkOutputOption,
)
from nncalc.errors import InputError, Location, Problem
from nncalc.numbers import NotANumber, parse_count


@command("Turn a model file into a network file.", name="import")
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
    max_file_size: MaxFileSize = 512 * 1024 * 1024,
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
    from nncalc.importers.files import import_file
    from nncalc.writer import dump_network

    names = [part.strip() for part in activation.split(",")] if activation else None
    shape = _input_shape(input_shape) if input_shape is not None else None
    data = import_file(model_file, names, name, max_bytes=max_file_size, input_shape=shape)
    text = dump_network(_checked(data, str(model_file)))
    if output is None:
        sys.stdout.write(text)
        return
    from nncalc.files import output_text_file
    from nncalc.output import refuse_same_file

    refuse_same_file(output, [model_file])
    with output_text_file(output, overwrite=force) as stream:
        stream.write(text)


def _checked(data: dict, source: str):
    """The imported network, checked as a network file is. That file's text is never shown, so a
    problem is told against the model file without a line and column, as an importer's refusal."""
    from nncalc.api import network_from_dict

    try:
        return network_from_dict(data, source)
    except InputError as error:
        ours = [p.location is not None and p.location.source == source for p in error.problems]
        problems = [
            Problem(f"cannot import: {p.message}", Location(source)) if mine else p
            for p, mine in zip(error.problems, ours, strict=True)
        ]
        raise InputError(problems) from None


def _input_shape(text: str) -> tuple[int, ...]:
    """``1,28,28`` (commas and/or spaces) as three whole numbers of at least 1."""
    parts = text.replace(",", " ").split()
    try:  # parse_count: ASCII digits only (str.isdigit takes '²', which int refuses) and a bounded size
        counts = [parse_count(part) for part in parts]
    except NotANumber:
        counts = []
    if len(counts) != 3 or min(counts) < 1:
        raise InputError(
            f"expected channels, height and width as three whole numbers, e.g. 1,28,28; got {text!r}",
            Location("--input-shape"),
        )
    return tuple(counts)
