"""``nncalc grade``: a sheet of worked answers marked, error carried forward, the backward pass too with --target."""

from pathlib import Path
from typing import Annotated

import typer

from nncalc.cli.command import command
from nncalc.cli.options import (
    DEFAULT_PRECISION,
    DOCUMENT_FORMATS,
    MaxFileSize,
    NetworkArg,
    OutputOption,
    PrecisionOption,
    RoundOption,
    RoundZOption,
    StandaloneOption,
    chosen_format,
    finite_number,
    format_option,
    freeze_biases_option,
    input_option,
    inputs_option,
    loss_option,
    lr_option,
    no_steps_option,
    only_one,
    optimizer_option,
    refuse_round_z_alone,
    state_option,
    steps_option,
    steps_wanted,
    target_option,
)
from nncalc.cli.samples import read_samples
from nncalc.errors import ExitStatus, InputError, Location

GRADE_FORMATS = ("table", "json", "markdown", "latex", "html")


@command("Grade worked answers, error carried forward.")
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
        input_option('The input the answers are for: "0.05,0.10" (with --target, once per sample of the batch).'),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        inputs_option("The input from a file of one sample instead: CSV, or .yaml (an image as a matrix per channel)."),
    ] = None,
    target_values: Annotated[
        list[str] | None,
        target_option("The targets for the --input in the same place; grades the backward pass too."),
    ] = None,
    loss: Annotated[
        str | None,
        loss_option("half_sse, mse, cross_entropy or bce (default: the answers file's, else half_sse)."),
    ] = None,
    lr: Annotated[
        float | None,
        lr_option("Learning rate (≥ 0; default 0.5)."),
    ] = None,
    freeze_biases: Annotated[
        bool, freeze_biases_option("The biases are left as they are, as some worked examples do.")
    ] = False,
    optimizer: Annotated[
        str | None,
        optimizer_option(
            "The updates are a step of this optimizer: sgd, adam, adamw, rmsprop or "
            "'{name: sgd, momentum: 0.9}' (default: w − lr·∂L/∂w); the answers may give its values "
            "per layer under optimizer_state."
        ),
    ] = None,
    state_file: Annotated[
        Path | None,
        state_option(
            "The optimizer's state before the step, as backward --write-state saved it: the answers are "
            "of its next step (its optimizer and learning rate unless --optimizer or --lr is given)."
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
            parser=finite_number,
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
        format_option(GRADE_FORMATS, "table on a terminal, json otherwise"),
    ] = None,
    steps_form: Annotated[
        str | None,
        steps_option("Write out the first wrong value's step with your numbers (default: on)."),
    ] = None,
    no_steps: Annotated[
        bool, no_steps_option("Leave the first wrong value's step out: the marks and the likely slip.")
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
    file's conventions: mapping). Through a convolution or pooling, δ is a matrix per
    channel and a convolution's kernels are written as its network file writes them
    (one image from --inputs or --input; a batch with --input and --target once per image,
    each map a list of one per image).

    \b
    Examples:
      nncalc grade configs/course-note.yaml --input 0.1 --answers configs/answers-course-note.yaml
      nncalc grade configs/classic-2-2-2.yaml -i 0.05,0.10 -a configs/answers-classic.yaml --format json
      nncalc grade configs/course-backprop.yaml -i 0.1 -t 0.25 --lr 0.4 -a configs/answers-course-backprop.yaml
      nncalc grade configs/course-note.yaml -i 0.1 -a configs/answers-course-note.yaml --steps matrix
      nncalc grade configs/classic-2-2-2.yaml -i 0.05,0.10 -t 0.01,0.99 --optimizer adam --lr 0.1 \\
        -a configs/answers-adam-step.yaml
    """
    from nncalc.answers import load_sheet as load_answers
    from nncalc.grading import grade as run_grade
    from nncalc.loader import load_network
    from nncalc.output import refuse_unused, text_destination

    if tolerance is not None and tolerance < 0:
        raise InputError(f"--tolerance must be ≥ 0, got {tolerance:g}", Location("--tolerance"))
    steps, form = steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    fmt = chosen_format(output_format, output, GRADE_FORMATS, "json", [network_file, answers_file])
    refuse_unused(
        fmt,
        {"--precision": precision is not None, "--standalone": standalone, "--steps/--no-steps": steps is not None},
        {
            "--precision": DOCUMENT_FORMATS,
            "--standalone": ("latex", "html"),
            "--steps/--no-steps": DOCUMENT_FORMATS,
        },
    )
    refuse_round_z_alone(round_to, round_z)
    if target_values or error or batch or loss or optimizer or state_file or freeze_biases or lr is not None:
        image = None  # an image from --inputs (one sample, with one --target)
        if inputs_file is not None:
            if len(target_values or []) > 1:
                raise InputError(
                    "--inputs gives one sample, so one --target; for a batch give each sample with --input"
                )
            image = _grade_sample(network, input_values or [], inputs_file, max_file_size)
        _grade_backward(
            network,
            network_file,
            answers_file,
            image if image is not None else input_values or [],
            target_values or [],
            dict(loss=loss, lr=lr, freeze_biases=freeze_biases, optimizer=optimizer, error=error, batch=batch),
            state_file,
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
        return samples_from_options([only_one(input_values, "--input")], network.inputs)
    samples = read_samples(network, input_values, inputs_file, max_bytes)
    if len(samples.values) != 1:
        raise InputError(
            f"{len(samples.values)} samples, but an answer sheet is for one sample", Location(str(inputs_file))
        )
    return samples


def _grade_backward(
    network,
    network_file: Path,
    answers_file: Path,
    input_values,
    target_values: list[str],
    options: dict,
    state_file: Path | None,
    grading: dict,
    fmt: str,
    shown: tuple[int | None, bool | None, str],
    standalone: bool,
    output: Path | None,
    max_file_size: int,
) -> None:
    """``grade --target``: the forward and the backward pass of one sample or a batch
    (``shown``: the precision, and the steps and their form, as ``--steps`` gives them).
    ``input_values`` are the --input texts, or the sample already read from --inputs."""
    from nncalc.answers import load_sheet
    from nncalc.grading_backward import grade_backward, settings_for
    from nncalc.inputs import samples_from_options
    from nncalc.output import text_destination

    if not target_values:
        given = [name for name, value in options.items() if value is not None and value is not False]
        raise InputError(f"--{given[0].replace('_', '-')} is for the backward pass: give the targets with --target")
    read = not isinstance(input_values, list)
    count = len(input_values.values) if read else len(input_values)
    if count != len(target_values):
        raise InputError(f"give one --target per --input ({count} --input, {len(target_values)} --target)")
    problems = []  # a bad --input and a bad --target are independent: both are reported
    samples = input_values
    if not read:
        try:
            samples = samples_from_options(input_values, network.inputs)
        except InputError as error:
            problems.extend(error.problems)
    try:
        targets = samples_from_options(target_values, network.outputs, option="--target")
    except InputError as error:
        problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    if state_file is not None:  # its optimizer (checked against --optimizer's) and learning rate
        from nncalc.optimizer_state import load_state
        from nncalc.optimizers import parse_optimizer

        given = None if options["optimizer"] is None else parse_optimizer(options["optimizer"])
        optimizer, saved_lr, state = load_state(state_file, network, given, max_file_size)
        options = options | {"optimizer": optimizer, "state": state}
        options["lr"] = saved_lr if options["lr"] is None else options["lr"]
    sheet = load_sheet(answers_file, network, samples=count, max_bytes=max_file_size)
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
