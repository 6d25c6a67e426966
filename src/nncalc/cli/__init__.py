"""The ``nncalc`` command line: the app, its entry point ``main``, and where errors become exit codes.

Each command lives in a module of its own (``nncalc.cli.forward``, ...), declared with
``nncalc.cli.command.command``; the options several commands share are declared once in
``nncalc.cli.options``. A command's module is imported only when that command runs, or
when the whole app is wanted (``nncalc --help``, a misspelt command, tab completion), so
``nncalc forward ...`` starts without building, or even importing, the other commands.
Errors are turned into ``error:`` lines and exit codes in one place, ``main``.
"""

import contextlib
import copy
import importlib
import os
import sys
from typing import Annotated, Any

import typer

from nncalc import __version__
from nncalc.cli.command import ReaderGone
from nncalc.errors import ExitStatus, NncalcError

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


# Every command, in the order the help lists them: its name on the command line, and the module
# that declares it (under the module's own name).
COMMANDS = (
    ("forward", "forward"),
    ("backward", "backward"),
    ("grade", "grade"),
    ("check", "check"),
    ("draw", "draw"),
    ("new", "new"),
    ("import", "import_model"),
    ("schema", "schema"),
    ("completion", "completion"),
)


class _LazyCommand:
    """A registered command that imports its module the first time typer needs more than its name.

    It stands for the module's ``typer.models.CommandInfo``: every attribute other than ``name``
    is that object's. The idea of click's ``LazyGroup``, kept at typer's level so that help,
    usage errors and completion are typer's own.
    """

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self._module = module

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # not a CommandInfo field: never import for it
            raise AttributeError(attribute)
        module = importlib.import_module(f"{__name__}.{self._module}")
        return getattr(getattr(module, self._module), attribute)


app.registered_commands = [_LazyCommand(name, module) for name, module in COMMANDS]


MAX_REPORTED = 50  # error lines printed for one run; the rest are counted


def _report(error: NncalcError) -> None:
    """One ``error:`` line per problem, at most MAX_REPORTED: a file wrong throughout (a thousand
    rows of text where numbers belong) gets its first problems and a count of the rest."""
    from nncalc.text import visible

    problems = list(error.problems)
    for problem in problems[:MAX_REPORTED]:
        sys.stderr.write(f"error: {visible(str(problem))}\n")
    if len(problems) > MAX_REPORTED:
        rest = len(problems) - MAX_REPORTED
        sys.stderr.write(f"error: {rest:,} more problem{'s' if rest > 1 else ''} not shown; fix these first\n")


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
    """The registered command called ``word`` on the command line, or None (its module is not imported)."""
    for info in app.registered_commands:
        if info.name == word:
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
    except (ReaderGone, BrokenPipeError):
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
