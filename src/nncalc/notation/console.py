"""The Rich console nncalc prints through, and its progress bars (with terminal.py, the only Rich users).

``make_console`` gives the console every terminal page is printed on: names printed
literally (no markup), colour only on a terminal and never under ``NO_COLOR``, a generous
width off a terminal, a closed pipe left to the caller, and control characters in any
plain string shown as pictures (ESC as ␛) on their way to the screen. The progress bars
go to standard error, and only where a person is waiting at a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console  # noqa: TID251 -- this module is where nncalc's console is made
from rich.text import Text  # noqa: TID251

from nncalc.text import visible

PIPE_WIDTH = 240  # a file or pipe has no width: wide enough that no table folds
LONG_TRAINING = 200  # steps: a shorter run is over before a progress bar is worth drawing
LONG_INPUT = 8 * 1024 * 1024  # bytes: likewise for reading a file of samples


class _Console(Console):
    """A Rich console that leaves a closed pipe to the caller (Rich itself would exit with 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError()

    def render_str(self, text: str, **options) -> Text:
        """A plain string printed or put in a table, with control characters shown as pictures."""
        return super().render_str(visible(text), **options)


def make_console(stream: TextIO, width: int | None = None) -> Console:
    """A console that prints names literally (no markup), colours only on a terminal, honours NO_COLOR.

    Off a terminal the width is generous, so tables are not folded to 80 columns.
    """
    if width is None and not is_terminal(stream):
        width = PIPE_WIDTH
    no_color = os.environ.get("NO_COLOR", "") != ""
    return _Console(
        file=stream,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        no_color=no_color,
        color_system=None if no_color else "auto",
        soft_wrap=False,
    )


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_callback(total: int, stream: TextIO | None = None) -> Iterator[Callable | None]:
    """A callback for training steps that shows a progress bar on stderr, when it is a terminal and the
    run is long enough to wait for; otherwise None."""
    stream = stream or sys.stderr
    if total < LONG_TRAINING or not is_terminal(stream):
        yield None
        return
    with _progress(stream, "training", total) as advance:
        yield lambda i, result: advance(i + 1)


@contextlib.contextmanager
def progress_bytes(total: int | None, stream: TextIO | None = None) -> Iterator[Callable | None]:
    """A callback taking how many bytes of the input were read, showing a progress bar on stderr
    when it is a terminal and the input is large (or of unknown length); None otherwise."""
    stream = stream or sys.stderr
    if not is_terminal(stream) or (total is not None and total < LONG_INPUT):
        yield None
        return
    with _progress(stream, "reading", total) as advance:
        yield advance


@contextlib.contextmanager
def _progress(stream: TextIO, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A transient Rich progress bar on ``stream``; yields a function taking how much is done."""
    from rich.progress import Progress  # noqa: TID251 -- loaded only when a bar is drawn

    with Progress(console=make_console(stream), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)
