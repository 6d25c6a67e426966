"""The options several commands share, each declared once: its flags, metavar, parser and checks.

Where commands give an option a help of their own (what ``--input`` is for, how ``--lr``
defaults), the declaration takes that help as a parameter; the rest of it stays one.
Also here: the checks on these options that every command makes the same way.
"""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from nncalc.errors import InputError, Location

DOCUMENT_FORMATS = ("table", "markdown", "latex", "html")  # written from the worked-solution model
DEFAULT_PRECISION = 4
MAX_FILE_SIZE_HELP = "Largest file to read, in bytes (a guard against runaway files)."


def finite_number(text: str) -> float:
    """An option's number: a finite float, never NaN or an infinity (they make every check pass or fail)."""
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise typer.BadParameter(f"{text!r} is not a finite number")
    return value


def loss_names(incomplete: str) -> list[str]:
    """Loss names for tab completion (the registry is read only when a shell asks)."""
    from nncalc.losses import REGISTRY

    return [name for name in REGISTRY if name.startswith(incomplete)]


def format_option(formats: tuple[str, ...], default: str) -> Any:
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


def steps_option(help: str) -> Any:
    """``--steps [neurons|matrix]``: the derivations, neuron by neuron or a layer at once in matrices.

    The form is optional: ``Command.parse_args`` reads a bare ``--steps`` as ``--steps=neurons``."""

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


def no_steps_option(help: str = "Leave the derivations out.") -> Any:
    """``--no-steps``: the derivations left out."""
    return typer.Option("--no-steps", help=help)


def input_option(help: str) -> Any:
    """``--input``/``-i VALUES``: one sample's values, typed on the command line."""
    return typer.Option("--input", "-i", metavar="VALUES", help=help, show_default=False)


def inputs_option(help: str) -> Any:
    """``--inputs FILE``: samples read from a file."""
    return typer.Option("--inputs", metavar="FILE", help=help, show_default=False)


def target_option(help: str) -> Any:
    """``--target``/``-t VALUES``: the target outputs of the ``--input`` in the same place."""
    return typer.Option("--target", "-t", metavar="VALUES", help=help, show_default=False)


def loss_option(help: str) -> Any:
    """``--loss NAME``: a loss of the registry, completed by the shell."""
    return typer.Option("--loss", metavar="NAME", help=help, autocompletion=loss_names)


def lr_option(help: str) -> Any:
    """``--lr RATE``: the learning rate, a finite number (its sign is checked by the command)."""
    return typer.Option("--lr", parser=finite_number, metavar="RATE", help=help, show_default=False)


def freeze_biases_option(help: str) -> Any:
    """``--freeze-biases``: the biases are not updated."""
    return typer.Option("--freeze-biases", help=help)


def optimizer_option(help: str) -> Any:
    """``--optimizer OPTIMIZER``: a name, or a YAML mapping of its parameters."""
    return typer.Option("--optimizer", metavar="OPTIMIZER", help=help, show_default=False)


def state_option(help: str) -> Any:
    """``--state FILE``: an optimizer's state saved by ``backward --write-state``."""
    return typer.Option("--state", metavar="FILE", help=help, show_default=False)


def output_option(help: str) -> Any:
    """``--output``/``-o FILE``: where to write instead of standard output."""
    return typer.Option("--output", "-o", metavar="FILE", help=help, show_default=False)


def force_option(help: str = "Replace --output if it exists.") -> Any:
    """``--force``: an existing file may be replaced."""
    return typer.Option("--force", help=help)


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
    output_option(
        "Write here instead of standard output. A regular file is replaced only once everything "
        "was written; its suffix chooses the format when --format is not given."
    ),
]
NetworkOutputOption = Annotated[Path | None, output_option("Write the network file here instead of standard output.")]
ForceOption = Annotated[bool, force_option()]
StandaloneOption = Annotated[
    bool,
    typer.Option(
        "--standalone",
        help="LaTeX: a complete document that compiles with pdflatex; HTML: a complete page that "
        "opens in a browser with nothing fetched.",
    ),
]
NoStepsOption = Annotated[bool, no_steps_option()]


def chosen_format(
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


def steps_wanted(form: str | None, no_steps: bool) -> tuple[bool | None, str]:
    """What ``--steps [FORM]`` and ``--no-steps`` ask for: on, off or by default (None), and the form."""
    if form is not None and no_steps:
        raise InputError("give --steps or --no-steps, not both")
    return (False if no_steps else True if form is not None else None), form or "neurons"


def refuse_round_z_alone(round_to: int | None, round_z: bool) -> None:
    """``--round-z`` without ``--round`` has no decimals to round to."""
    if round_z and round_to is None:
        raise InputError("--round-z rounds z to the --round decimals: give --round N too")


def only_one(values: list[str] | None, option: str) -> str | None:
    """The one value of an option that takes one: a second is refused, never silently preferred."""
    if not values:
        return None
    if len(values) > 1:
        raise InputError(f"give {option} once: this command works on one sample ({len(values)} were given)")
    return values[0]
