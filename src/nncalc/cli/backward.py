"""``nncalc backward``: a step of backpropagation, or --iterations of them, an optimizer's state carried over."""

from pathlib import Path
from typing import Annotated

import typer

from nncalc.cli.command import command
from nncalc.cli.options import (
    DEFAULT_PRECISION,
    MaxFileSize,
    NetworkArg,
    NoStepsOption,
    OutputOption,
    PrecisionOption,
    RoundOption,
    RoundZOption,
    StandaloneOption,
    chosen_format,
    force_option,
    format_option,
    freeze_biases_option,
    input_option,
    inputs_option,
    loss_option,
    lr_option,
    optimizer_option,
    refuse_round_z_alone,
    state_option,
    steps_option,
    steps_wanted,
    target_option,
)
from nncalc.cli.samples import read_csv_samples
from nncalc.errors import InputError, Location, Problem

BACKWARD_FORMATS = ("table", "json", "markdown", "latex", "html")


@command("Backpropagation: δ by the chain rule, gradients, updates.")
def backward(
    network_file: NetworkArg,
    input_values: Annotated[
        list[str] | None,
        input_option("One sample's inputs; pair each with a --target."),
    ] = None,
    target_values: Annotated[
        list[str] | None,
        target_option('The target outputs for the --input in the same place: "0.01,0.99".'),
    ] = None,
    inputs_file: Annotated[
        Path | None,
        inputs_option(
            "A CSV of samples with a header naming the inputs and the "
            "targets (as the output neurons are named); '-' for standard input; or a "
            ".yaml file of samples (images as a matrix per channel) with a --target per sample."
        ),
    ] = None,
    loss: Annotated[str, loss_option("half_sse, mse, cross_entropy or bce.")] = "half_sse",
    lr: Annotated[
        float | None,
        lr_option("Learning rate (≥ 0; the optimizer's). Default: the --state file's, else 0.5."),
    ] = None,
    freeze_biases: Annotated[
        bool, freeze_biases_option("Leave the biases as they are, as some worked examples do.")
    ] = False,
    iterations: Annotated[
        int, typer.Option("--iterations", "-n", min=1, metavar="N", help="Repeat the step N times on the batch.")
    ] = 1,
    optimizer_text: Annotated[
        str | None,
        optimizer_option(
            "Update with PyTorch's sgd, adam, adamw or rmsprop instead of plain gradient descent: "
            "a name, or a mapping of its parameters: '{name: sgd, momentum: 0.9, nesterov: true}'. "
            "Its state is carried over --iterations."
        ),
    ] = None,
    state_file: Annotated[
        Path | None,
        state_option(
            "Continue from an optimizer state saved by --write-state (its optimizer and learning rate "
            "unless --optimizer or --lr is given)."
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
        format_option(BACKWARD_FORMATS, "table on a terminal, json otherwise"),
    ] = None,
    steps_form: Annotated[str | None, steps_option("Write out each δ, gradient and update (default: on).")] = None,
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
    force: Annotated[bool, force_option("Let --write replace an existing file.")] = False,
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

    steps, form = steps_wanted(steps_form, no_steps)
    network = load_network(network_file, max_bytes=max_file_size)
    optimizer, state, lr = _optimizer_options(network, optimizer_text, state_file, write_state, lr, max_file_size)
    fmt = chosen_format(output_format, output, BACKWARD_FORMATS, "json", [network_file])
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
    refuse_round_z_alone(round_to, round_z)
    if iterations > 1 and fmt in ("markdown", "latex", "html"):
        raise InputError(f"--format {fmt} shows one step; with --iterations use table or json")
    if inputs_file is not None:
        if input_values:
            raise InputError("give --input/--target pairs or --inputs FILE, not both")
        samples, targets = read_csv_samples(network, inputs_file, max_file_size)
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
        problems = []  # a bad --input and a bad --target are independent: both are reported
        try:
            samples = samples_from_options(input_values, network.inputs)
        except InputError as error:
            problems.extend(error.problems)
        try:
            target_array = samples_from_options(target_values, network.outputs, option="--target").values
        except InputError as error:
            problems.extend(error.problems)
        if problems:
            raise InputError(problems)

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

        # the --state file it continues is replaced without --force, as _check_state_destination allowed
        same_as_state = state_file is not None and write_state.absolute() == state_file.absolute()
        with output_text_file(write_state, overwrite=force or same_as_state) as stream:
            stream.write(dump_state(final, optimizer, lr, state))
        typer.echo(f"wrote the optimizer's state to {write_state}", err=True)


def _optimizer_options(network, optimizer_text, state_file, write_state, lr, max_file_size):
    """The optimizer (None: plain gradient descent), its state to start from, and the learning rate,
    from --optimizer, --state and --lr; --write-state needs an optimizer."""
    from nncalc.optimizers import parse_optimizer

    problems = []  # a bad --lr and a bad --optimizer are independent: both are reported
    if lr is not None and lr < 0:
        problems.append(Problem(f"the learning rate must be ≥ 0, got {lr:g}", Location("--lr")))
    optimizer = None
    if optimizer_text is not None:
        try:
            optimizer = parse_optimizer(optimizer_text, "--optimizer")
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
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
