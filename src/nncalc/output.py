"""Where output goes and in which format: one chooser for every command.

The format is, in order: what ``--format`` says; else what the ``--output`` file's suffix
says; else the command's choice for a terminal (a table a person reads) or for a pipe or
file (a format a program reads). A suffix that names no format the command writes is an
error that lists the formats, never a silent guess. The same table of suffixes serves
every command, so ``-o answer.md`` means Markdown wherever Markdown is written.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from nncalc.errors import InputError, Location

SUFFIX_FORMATS: Mapping[str, str] = {
    ".txt": "table",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".tex": "latex",
    ".html": "html",
    ".htm": "html",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".svg": "svg",
    ".png": "png",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def suffixes_of(formats: Iterable[str]) -> list[str]:
    """The file suffixes that select one of ``formats``, in the table's order."""
    wanted = set(formats)
    return [suffix for suffix, fmt in SUFFIX_FORMATS.items() if fmt in wanted]


def choose_format(
    given: str | None,
    output: Path | None,
    stdout_is_terminal: bool,
    formats: Sequence[str],
    for_terminal: str,
    for_pipe: str,
) -> str:
    """The format to write: ``given``; else from ``output``'s suffix; else by where stdout goes.

    ``formats`` are the ones the command writes; a suffix outside them is refused with a
    message naming them and the suffixes that select them.
    """
    if given is not None:
        return given
    if output is None:
        return for_terminal if stdout_is_terminal else for_pipe
    suffix = output.suffix.lower()
    fmt = SUFFIX_FORMATS.get(suffix)
    if fmt in formats:
        return fmt
    what = f"the suffix {suffix!r}" if suffix else "a file name without a suffix"
    raise InputError(
        f"cannot tell the format from {what}: give --format ({', '.join(formats)}) "
        f"or a name ending in {', '.join(suffixes_of(formats))}",
        Location(str(output)),
    )


def refuse_unused(fmt: str, given: Mapping[str, bool], applies: Mapping[str, Iterable[str]]) -> None:
    """Refuse an option that would do nothing in format ``fmt``: silence would mislead.

    ``given`` says which options the user wrote; ``applies`` names the formats each option
    acts in. Every such option is reported at once.
    """
    from nncalc.errors import Problem

    problems = [
        Problem(f"{option} does nothing with --format {fmt} (it acts in: {', '.join(applies[option])})")
        for option, was_given in given.items()
        if was_given and fmt not in applies[option]
    ]
    if problems:
        raise InputError(problems)


def is_terminal(stream: object) -> bool:
    """True when ``stream`` is an open terminal (a closed or replaced stream is not)."""
    try:
        return stream is not None and bool(stream.isatty())  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return False


def refuse_same_file(output: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output that is also one of the inputs: writing it would destroy what is read."""
    from nncalc.files import same_file

    for other in inputs:
        if same_file(output, other):
            raise InputError(f"is also an input ({other}); write the output somewhere else", Location(str(output)))


@contextlib.contextmanager
def text_destination(path: Path | None, inputs: Iterable[Path] = (), overwrite: bool = True) -> Iterator[TextIO]:
    """The text stream to write to: standard output, or ``path`` written safely.

    A regular file is replaced only once everything was written; see ``nncalc.files``
    for devices, pipes and symlinks.
    """
    if path is None:
        yield sys.stdout
        return
    from nncalc.files import output_text_file

    refuse_same_file(path, inputs)
    with output_text_file(path, overwrite=overwrite) as stream:
        yield stream
