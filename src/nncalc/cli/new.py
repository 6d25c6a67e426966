"""``nncalc new``: a new exercise, a network file with hand-friendly random values."""

import sys
from typing import Annotated

import typer

from nncalc.cli.command import command
from nncalc.cli.options import (
    ForceOption,
    NetworkOutputOption,
)


def _activation_names(incomplete: str) -> list[str]:
    """Activation names for tab completion."""
    from nncalc.activations import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete.lower())]


@command("Write a new exercise: a network with hand-friendly values.")
def new(
    inputs: Annotated[
        int | None, typer.Option("--inputs", min=1, metavar="N", help="Number of inputs.", show_default="2")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            metavar="[C×]H×W",
            help="The inputs are a picture of this shape (5x5, 3x8x8), instead of --inputs.",
        ),
    ] = None,
    layers: Annotated[
        str,
        typer.Option(
            "--layers",
            metavar="SIZES",
            help="Neurons per layer, input side first: 3,2,1. With --image, convolutions and pooling "
            "may come first: conv:KERNEL[:FILTERS], maxpool:KERNEL, avgpool:KERNEL, each with "
            ":stride=N or :padding=N if wanted (conv:3,maxpool:2,2); a flatten comes before the "
            "first dense layer.",
        ),
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
        typer.Option(
            "--range",
            metavar="LOW,HIGH",
            help="Values are drawn uniformly from the numbers of --decimals decimals in [LOW, HIGH).",
        ),
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
      nncalc new --image 6x6 --layers conv:3,maxpool:2,2 --activation relu --range -1,2 --decimals 0
    """
    from nncalc.exercises import exercise_yaml, parse_exercise_options
    from nncalc.loader import parse_network

    text = exercise_yaml(parse_exercise_options(inputs, layers, activation, seed, decimals, value_range, image))
    parse_network(text, "<new exercise>")  # what we write must load
    if output is None:
        sys.stdout.write(text)
        return
    from nncalc.files import output_text_file

    with output_text_file(output, overwrite=force) as stream:
        stream.write(text)
