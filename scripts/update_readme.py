#!/usr/bin/env python3
"""Run the commands README.md shows; compare, or rewrite, the output it shows.

The README's examples are run so that they cannot drift from the program:

- A ```console block is a terminal session. Each ``$ `` line is a command; the lines after
  it, up to the next ``$ `` line, are its output exactly as a terminal shows it (standard
  output and standard error as they interleave, 100 columns, no colour; spaces at the end
  of a line do not count). A line starting ``> `` continues a command that ends with ``\\``
  or opens a here-document (``<<``), so a block can write the file it then uses. A command
  that exits with a status other than 0 must be followed by ``$ echo $?``, which shows it.
- A ```sh block is run, one command per line (a line ending in ``\\`` continues), and every
  command must exit 0; its output is not shown, so it is not compared. A comment line
  ``# needs: PROGRAM ...`` skips the block where one of those programs is not installed.
  The set-up a line starts with (``python3 -m venv .venv && . .venv/bin/activate && pip
  install ... &&``) is what the tests already run in, so only the rest of the line runs;
  ``pytest`` and this script are the checks themselves and are not run again.
- Other blocks (```yaml, ```text, ...) are not run.

Every block runs from its own temporary copy of the repository (it sees the shipped files,
src/ and tests/ aside, and what it writes itself, and leaves nothing behind), at a
pseudo-terminal, with ``nncalc`` the console script of the Python that runs this script.
Where output names the copy's folder, it shows /path/to/nncalc. Blocks run in parallel.

    python scripts/update_readme.py          rewrite README.md's outputs from the program
    python scripts/update_readme.py --check  print a diff and exit 1 where they disagree

tests/test_readme.py runs the same check block by block.
"""

from __future__ import annotations

import argparse
import difflib
import fcntl
import os
import pty
import re
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

COLUMNS, LINES = 100, 50  # the terminal every console block is shown at
TIMEOUT = 60.0  # seconds for one block; a command waiting for the keyboard fails instead of hanging

WHERE = "/path/to/nncalc"  # how output shows the copy's folder, which differs on every run
COMPARED, RUN = "console", "sh"  # the info strings of the blocks that are run

# Not part of a clean checkout: left out of the copy each block runs in.
_NOT_SHIPPED = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist"}
_PROGRAM = {"src", "tests"}
# Settings of the person running the tests that would change what a terminal shows.
_PERSONAL = {
    "FORCE_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "PY_COLORS",
    "TERMINAL_WIDTH",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "GITHUB_ACTIONS",
    "PYTHONWARNINGS",
}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[\w-]*)[ \t]*$")
_HEADING = re.compile(r"^#{1,6} +(?P<title>.+?)[ \t]*$")
_NEEDS = re.compile(r"^#\s*needs:\s*(?P<programs>.+)$")
# The set-up a fresh machine needs and the test environment already is.
_SETUP = re.compile(r"^python3? -m venv (?P<venv>\S+) && \. (?P=venv)/bin/activate && pip install [^&]+&& ")
# Commands that are the checks themselves, already running: not run again from inside them.
_ITSELF = re.compile(r"^(pytest|python3? scripts/update_readme\.py)(\s|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Block:
    """A fenced code block of the README: its kind, where its lines are, and its text."""

    kind: str
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    indent: str  # the fence's indentation (a block inside a list item), removed from body
    body: tuple[str, ...]
    heading: str  # the nearest heading above, to name the block

    @property
    def name(self) -> str:
        """How a person finds the block: its section and the line it starts on."""
        return f"README.md:{self.start + 1} ({self.heading})"


@dataclass(frozen=True)
class Step:
    """One command of a console block and the output the README shows for it."""

    shown: tuple[str, ...]  # the command's lines as written: ``$ ...`` then any ``> ...``
    output: tuple[str, ...]

    @property
    def command(self) -> str:
        """The command as the shell gets it, without the prompts."""
        return "\n".join(line[2:] for line in self.shown)


@dataclass
class Outcome:
    """What running a block found: the body it should have, and what went wrong."""

    block: Block
    body: tuple[str, ...]  # for a console block the real output; otherwise the block as it is
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None

    def diff(self) -> str:
        """A unified diff from the README's block to the program's, with README line numbers."""
        lines = difflib.unified_diff(
            list(self.block.body),
            list(self.body),
            "README.md",
            "the program today",
            lineterm="",
        )
        return "\n".join(_renumber(lines, self.block.start))


class ReadmeError(Exception):
    """The README's blocks cannot be read as the convention says."""


def read_blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text, in order."""
    lines = text.split("\n")
    blocks: list[Block] = []
    heading = "top"
    index = 0
    while index < len(lines):
        line = lines[index]
        title = _HEADING.match(line)
        if title:
            heading = title.group("title").strip("`")
        fence = _FENCE.match(line)
        if fence is None:
            index += 1
            continue
        indent, kind = fence.group("indent"), fence.group("info")
        close = _closing_fence(lines, index + 1, indent)
        body = tuple(_dedent(body_line, indent) for body_line in lines[index + 1 : close])
        blocks.append(Block(kind, index + 1, close, indent, body, heading))
        index = close + 1
    return blocks


def _closing_fence(lines: list[str], start: int, indent: str) -> int:
    """The index of the line that closes a fence opened with ``indent``."""
    for index in range(start, len(lines)):
        if lines[index].strip() == "```" and lines[index].startswith(indent):
            return index
    raise ReadmeError(f"README.md:{start}: a code block is never closed")


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip()


def read_session(block: Block) -> list[Step]:
    """The commands of a console block, each with the output shown after it."""
    steps: list[tuple[list[str], list[str]]] = []
    for number, line in enumerate(block.body, block.start + 1):
        if line.startswith("$ "):
            steps.append(([line], []))
        elif not steps:
            raise ReadmeError(f"README.md:{number}: a console block starts with a '$ ' command line")
        elif (line.startswith("> ") or line == ">") and not steps[-1][1] and _continues(steps[-1][0]):
            steps[-1][0].append(line)
        else:
            steps[-1][1].append(line)
    return [Step(tuple(shown), tuple(output)) for shown, output in steps]


def _continues(shown: list[str]) -> bool:
    """Whether the next ``> `` line is still part of the command: after a ``\\`` or inside a here-document."""
    return shown[-1].endswith("\\") or ("<<" in shown[0] and not _heredoc_closed(shown))


def _heredoc_closed(shown: list[str]) -> bool:
    word = re.search(r"<<-?\s*['\"]?(\w+)", shown[0])
    return word is not None and len(shown) > 1 and shown[-1][2:].strip() == word.group(1)


def sh_commands(block: Block) -> tuple[list[str], list[str]]:
    """The commands of a sh block to run, and the programs the block says it needs."""
    commands: list[str] = []
    needs: list[str] = []
    pending = ""
    for line in block.body:
        needed = _NEEDS.match(line.strip())
        if needed:
            needs.extend(re.split(r"[\s,]+", needed.group("programs").strip()))
            continue
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if line.endswith("\\"):
            continue
        command = _SETUP.sub("", pending.rstrip("\n"))
        if not _ITSELF.match(command.strip()):
            commands.append(command)
        pending = ""
    if pending:
        commands.append(pending.rstrip("\n"))
    return commands, needs


@dataclass(frozen=True)
class Ran:
    """A command's output as the terminal showed it, and its exit status."""

    output: str
    status: int


def run_commands(commands: Sequence[str], timeout: float = TIMEOUT) -> list[Ran]:
    """Run shell commands one after another in one bash, as typed at a terminal, from a
    fresh copy of the repository; each command's output (stdout and stderr interleaved) and status.

    A separator carrying the status is printed after each command, then the status is
    restored, so ``echo $?`` on the next line sees the command's own.
    """
    token = secrets.token_hex(8)
    script = [_preamble()]
    for command in commands:
        script.append(command)
        script.append(f"__status=$?; printf '\\036{token} %d\\036' \"$__status\"; (exit $__status)")
    with tempfile.TemporaryDirectory(prefix="readme-") as temporary:
        work = Path(temporary) / "nncalc"
        shutil.copytree(ROOT, work, ignore=_not_shipped, symlinks=True)
        text = run_at_terminal(["bash", "--noprofile", "--norc", "-c", "\n".join(script)], work, timeout)
        for path in {str(work.resolve()), str(work)}:  # the same text on every run and machine
            text = text.replace(path, WHERE)
    pieces = re.split(f"\x1e{token} (\\d+)\x1e", text)
    outputs, statuses, rest = pieces[0:-1:2], pieces[1::2], pieces[-1]
    if len(statuses) != len(commands) or rest:
        done = len(statuses)
        raise ReadmeError(f"the shell stopped after {done} of {len(commands)} commands; it printed: {rest!r}")
    return [Ran(output, int(status)) for output, status in zip(outputs, statuses, strict=True)]


def _preamble() -> str:
    """Make ``nncalc`` this environment's program, even where its console script is missing."""
    if shutil.which("nncalc", path=str(Path(sys.executable).parent)):
        return ""
    return f'nncalc() {{ "{sys.executable}" -m nncalc "$@"; }}'


def _not_shipped(folder: str, names: list[str]) -> set[str]:
    """What the copy leaves out: what a clean checkout does not have (version control,
    environments, caches, builds), and the sources and tests, which README commands use
    as the installed program and the test suite, never as files (copying them is most of
    a block's time)."""
    left_out = {name for name in names if name in _NOT_SHIPPED or name.endswith(".egg-info")}
    if Path(folder) == ROOT:
        left_out |= _PROGRAM & set(names)
    return left_out | {name for name in names if (Path(folder) / name / "pyvenv.cfg").exists()}


def environment() -> dict[str, str]:
    """The environment of a block: a plain terminal of fixed size, no colour, and this Python's
    programs first on the path."""
    env = {name: value for name, value in os.environ.items() if name not in _PERSONAL}
    env.update(
        COLUMNS=str(COLUMNS),
        LINES=str(LINES),  # Rich takes COLUMNS on a dumb terminal only when LINES is set too
        NO_COLOR="1",
        TERM="dumb",
        PYTHONIOENCODING="utf-8",
        PYTHONUTF8="1",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
    )
    return env


def run_at_terminal(argv: Sequence[str], cwd: Path, timeout: float = TIMEOUT) -> str:
    """Run a program at a new pseudo-terminal of COLUMNS × LINES and return all it wrote there.

    A terminal, not a pipe, because that is what the README shows: nncalc prints tables to
    a terminal and CSV to a pipe. Newlines are left as written (no carriage returns).
    """
    master, slave = pty.openpty()
    settings = termios.tcgetattr(slave)
    settings[1] &= ~termios.OPOST  # output exactly as written: no "\n" → "\r\n"
    termios.tcsetattr(slave, termios.TCSANOW, settings)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    try:
        process = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=environment(), start_new_session=True
        )
    finally:
        os.close(slave)
    try:
        data = _read_until_closed(master, time.monotonic() + timeout)
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)  # the whole session: bash and what it started
        raise
    finally:
        os.close(master)
        process.wait()
    return data.decode("utf-8", errors="replace")


def _read_until_closed(master: int, deadline: float) -> bytes:
    """Everything written to the terminal until the last program using it has ended."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReadmeError("timed out: is a command waiting for input from the terminal?")
        ready, _, _ = select.select([master], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every program has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def shown_lines(output: str) -> tuple[str, ...]:
    """Output as a block shows it: one item per line, spaces at line ends dropped."""
    lines = output.split("\n")
    if lines[-1] == "":
        lines.pop()
    return tuple(line.rstrip() for line in lines)


def check_block(block: Block) -> Outcome:
    """Run a console or sh block and say what it should show and what went wrong."""
    try:
        if block.kind == COMPARED:
            return _check_session(block)
        if block.kind == RUN:
            return _check_script(block)
    except ReadmeError as error:
        return Outcome(block, block.body, [str(error)])
    return Outcome(block, block.body, skipped=f"a {block.kind or 'plain'} block is not run")


def _check_session(block: Block) -> Outcome:
    steps = read_session(block)
    ran = run_commands([step.command for step in steps])
    body: list[str] = []
    problems: list[str] = []
    for index, (step, result) in enumerate(zip(steps, ran, strict=True)):
        body.extend(step.shown)
        body.extend(shown_lines(result.output))
        control = _CONTROL.search(result.output.replace("\t", ""))
        if control:
            problems.append(f"`{step.command}` writes a control character {control.group()!r}: colour or cursor codes?")
        following = steps[index + 1].command.strip() if index + 1 < len(steps) else ""
        if result.status != 0 and following != "echo $?":
            problems.append(f"`{step.command}` exits with status {result.status}: show it with `$ echo $?` after it")
    return Outcome(block, tuple(body), problems)


def _check_script(block: Block) -> Outcome:
    commands, needs = sh_commands(block)
    missing = [program for program in needs if shutil.which(program, path=environment()["PATH"]) is None]
    if missing:
        return Outcome(block, block.body, skipped=f"needs {', '.join(missing)}, which is not installed")
    problems = [
        f"`{command}` exits with status {result.status}:\n{result.output}"
        for command, result in zip(commands, run_commands(commands), strict=True)
        if result.status != 0
    ]
    return Outcome(block, block.body, problems)


def check_blocks(blocks: Iterable[Block]) -> list[Outcome]:
    """Run blocks side by side (each is mostly waiting for its own processes); outcomes in order."""
    blocks = list(blocks)
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        return list(pool.map(check_block, blocks))


def rewritten(text: str, outcomes: Iterable[Outcome]) -> str:
    """The README with each compared block's body replaced by what the program shows."""
    lines = text.split("\n")
    for outcome in sorted(outcomes, key=lambda o: o.block.start, reverse=True):
        block = outcome.block
        if block.kind != COMPARED:
            continue
        lines[block.start : block.end] = [(block.indent + line).rstrip() if line else "" for line in outcome.body]
    return "\n".join(lines)


def _renumber(diff: Iterable[str], offset: int) -> Iterable[str]:
    """Hunk headers count from the README's first line rather than the block's."""
    for line in diff:
        hunk = re.match(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@", line)
        if hunk:
            old, new = int(hunk.group(1)) + offset, int(hunk.group(3)) + offset
            line = f"@@ -{old}{hunk.group(2) or ''} +{new}{hunk.group(4) or ''} @@"
        yield line


def main(argv: Sequence[str] | None = None) -> int:
    """Check or rewrite README.md; 0 when it is true to the program, 1 when not, 2 when a block is broken."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only show where README.md and the program disagree")
    parser.add_argument("readme", nargs="?", type=Path, default=README, help="the file (default: README.md)")
    options = parser.parse_args(argv)
    text = options.readme.read_text(encoding="utf-8")
    started = time.monotonic()
    try:
        outcomes = check_blocks(block for block in read_blocks(text) if block.kind in (COMPARED, RUN))
    except ReadmeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = [f"{o.block.name}: {problem}" for o in outcomes for problem in o.problems]
    for outcome in outcomes:
        if outcome.skipped:
            print(f"skipped {outcome.block.name}: {outcome.skipped}", file=sys.stderr)
    new_text = rewritten(text, outcomes)
    if options.check:
        sys.stdout.writelines(
            difflib.unified_diff(text.splitlines(True), new_text.splitlines(True), "README.md", "the program today")
        )
    elif new_text != text:
        options.readme.write_text(new_text, encoding="utf-8")
        print(f"rewrote {options.readme}: review the change with git diff", file=sys.stderr)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    seconds = time.monotonic() - started
    print(f"{len(outcomes)} blocks run in {seconds:.1f} s", file=sys.stderr)
    return 1 if problems or (options.check and new_text != text) else 0


if __name__ == "__main__":
    sys.exit(main())
