"""The one exception family nncalc raises, and the exit codes the CLI turns it into.

Every mistake a user can make (a file, an option, an input value) becomes an
``NncalcError`` carrying one or more located messages; the CLI prints each as one
``error: FILE:LINE:COL: message`` line and exits with the error's status.
"""

from __future__ import annotations

from enum import IntEnum

from nncalc.records import record


class ExitStatus(IntEnum):
    """Process exit codes, the same for every command.

    SUCCESS: the command did what was asked (and a graded answer is right).
    NO: the answer is "no": a graded answer is wrong, or a computation overflowed.
    USAGE: trouble with what the user gave: options, files, input values.
    INTERRUPTED: stopped with Ctrl-C (128 + SIGINT, as shells report it).
    """

    SUCCESS = 0
    NO = 1
    USAGE = 2
    INTERRUPTED = 130


@record
class Location:
    """Where a value came from: a file (or an option such as ``--input``), 1-based line and column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@record
class Problem:
    """One located message."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class NncalcError(Exception):
    """Base of every error nncalc reports to a user: one or more problems and an exit status."""

    status: ExitStatus = ExitStatus.USAGE

    def __init__(self, problems: str | Problem | list[Problem], location: Location | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems, location)]
        elif isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("an error needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(NncalcError):
    """A network file, an answers file, an input value or an option is wrong (exit 2)."""


class TooLargeError(InputError):
    """A file or input is over the size a reader takes (exit 2): a caller may say what to do instead."""


class ComputationError(NncalcError):
    """Finite inputs produced a non-finite value inside the network (exit 1)."""

    status = ExitStatus.NO
