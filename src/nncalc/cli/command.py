"""How every command is declared and run: its usage line, the optional form of ``--steps``,
and a closed pipe ending it quietly.

Each command module declares its command with ``@command(...)``; ``nncalc.cli`` imports a
module only when its command is run or the whole app is asked for (``--help``).
"""

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
import typer.core
from typer.models import CommandInfo


class Command(typer.core.TyperCommand):
    """A command whose usage line reads as man pages write it: ``NETWORK``, not ``{NETWORK}``.

    ``--steps`` takes an optional form (``--steps``, ``--steps matrix``, ``--steps=matrix``): a
    bare ``--steps`` is read as ``--steps=neurons`` before parsing, so that the word after it
    is taken as its form only when it is one, never the network file that follows it.
    """

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if any(param.name == "steps_form" for param in self.params):
            args = _steps_forms(args)
        return super().parse_args(ctx, args)


def _steps_forms(args: list[str]) -> list[str]:
    """``--steps FORM`` as ``--steps=FORM`` and a bare ``--steps`` as ``--steps=neurons`` (up to ``--``).

    The forms are looked up only when ``--steps`` is given: a scripted run starts without the worked layer."""
    out: list[str] = []
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--":
            return out + args[at:]
        if arg == "--steps":
            from nncalc.worked import STEP_FORMS

            following = args[at + 1] if at + 1 < len(args) else None
            if following is not None and following.lower() in STEP_FORMS:
                arg, at = f"--steps={following}", at + 1
            else:
                arg = "--steps=neurons"
        out.append(arg)
        at += 1
    return out


class ReaderGone(Exception):
    """Standard output was closed by its reader (``| head -1``): stop quietly, successfully."""


def quiet_when_reader_leaves(command: Callable[..., None]) -> Callable[..., None]:
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
            raise ReaderGone() from None
        except OSError as exc:  # raised outside any writing: a pipe closed under a library's own write
            if is_broken_pipe(exc):
                raise ReaderGone() from None
            raise

    return wrapper


def command(short_help: str, name: str | None = None) -> Callable[[Callable[..., None]], CommandInfo]:
    """Declare a command as ``@app.command`` would register it, with ``Command`` for its class and
    ``quiet_when_reader_leaves`` around it; the module keeps the registration under the function's name."""

    def declare(function: Callable[..., None]) -> CommandInfo:
        holder = typer.Typer()
        holder.command(name, cls=Command, short_help=short_help)(quiet_when_reader_leaves(function))
        return holder.registered_commands[0]

    return declare
