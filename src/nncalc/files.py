"""Writing output files so that nothing the user had is lost when something fails.

A regular file is replaced atomically: written to a temporary file beside it and moved into
place only once everything was written, so a failure leaves the old file as it was. Anything
else (a device such as /dev/null, a named pipe, an open descriptor such as /dev/stdout) is
written through, as a shell's ``>`` does: a file renamed over it would destroy the device
node or pipe, or lose what the descriptor's owner wrote before. A symbolic link is followed
to the file it names, and that file is replaced, so the link stays a link.

Every failed write (a full disk, a quota, a file size limit, an I/O error) becomes one
located ``InputError``. A closed pipe stays ``BrokenPipeError``: the reader has gone
(``| head -1``), which is no mistake of the user's, and the command line ends quietly.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from nncalc.errors import InputError, Location, NncalcError, TooLargeError

# an open descriptor named as a file (/dev/stdout links to /proc/self/fd/1)
_DESCRIPTOR = re.compile(r"/dev/fd/(?P<fd>\d+)|/proc/(?P<pid>self|thread-self|\d+)/fd/(?P<pfd>\d+)")
# polars (Rust) reports an OS error in its text only: "No space left on device (os error 28)"
_ERRNO_IN_TEXT = re.compile(r"\(os error (\d+)\)|\[Errno (\d+)\]")


@contextlib.contextmanager
def output_text_file(path: Path, overwrite: bool = True) -> Iterator[TextIO]:
    """UTF-8 text written to ``path`` as :func:`output_binary_file` writes bytes."""
    with output_binary_file(path, overwrite) as binary:
        stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        yield stream
        stream.flush()
        stream.detach()  # the binary stream is closed (and committed) by output_binary_file


@contextlib.contextmanager
def output_binary_file(path: Path, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Write to ``path``: a regular file is replaced only on success; anything else is written through.

    A regular file (or a new one) gets a temporary file beside it, moved into place once
    everything was written, with the old file's mode; if anything fails the temporary file
    is removed and the old file is left as it was. A symbolic link is followed to the file
    it names. A file nobody may write is refused (see :func:`_read_only`); with
    ``overwrite=False`` an existing regular file is refused up front. A device, a named pipe
    or an open descriptor (/dev/stdout) is written through as it is.
    """
    shown = str(path)
    refuse_nul(shown)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", Location(shown)) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory; give a file name", Location(shown))
    descriptor = _descriptor_named(path)
    if descriptor is not None or (info is not None and not stat.S_ISREG(info.st_mode)):
        with _written_through(_open_through(path, descriptor, shown), shown) as stream:
            yield stream
        return
    if info is not None and not overwrite:
        raise InputError("already exists; pass --force to replace it", Location(shown))
    if info is not None and _read_only(path, info):
        raise InputError("permission denied", Location(shown))
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    with _replaced(Path(os.path.realpath(path)), shown, mode) as stream:
        yield stream


def _read_only(path: Path, info: os.stat_result) -> bool:
    """True for a file that may not be written: so says ``os.access``, or no one has write permission.

    Root may write any file, so ``os.access`` alone would let root replace a file that was
    made read-only on purpose; a file with no write bit for anyone is refused whoever runs.
    """
    return not os.access(path, os.W_OK) or info.st_mode & 0o222 == 0


def _descriptor_named(path: Path) -> int | None:
    """The descriptor of this process that ``path`` names (/dev/stdout, /dev/fd/3, /proc/self/fd/1), or None.

    Such a name is written through the descriptor itself, as a shell does: at its offset, in
    its append mode; reopening it would write over the start of a file, renaming over it
    would lose what was written to it before.
    """
    current = os.path.abspath(path)
    for _ in range(40):  # as many links as the system follows
        named = _DESCRIPTOR.fullmatch(current)
        if named:
            pid = named["pid"]
            own = pid is None or pid in ("self", "thread-self") or int(pid) == os.getpid()
            return int(named["fd"] or named["pfd"]) if own else None
        try:
            target = os.readlink(current)
        except OSError:
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return None


def _open_through(path: Path, descriptor: int | None, shown: str) -> int:
    """A descriptor to write through: a copy of this process's own, or ``path`` opened (no creating, no truncating)."""
    try:
        return os.dup(descriptor) if descriptor is not None else os.open(path, os.O_WRONLY)
    except PermissionError:
        raise InputError("permission denied", Location(shown)) from None
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", Location(shown)) from None


@contextlib.contextmanager
def _written_through(fd: int, shown: str) -> Iterator[BinaryIO]:
    """Write into an open descriptor and close it; nothing to undo if it fails."""
    raw = _Output(fd, shown)
    stream = io.BufferedWriter(raw)
    try:
        yield stream
        stream.close()  # the last writes: a full device shows here too
    except BaseException:
        _abandon(stream, raw)
        raise


@contextlib.contextmanager
def _replaced(target: Path, shown: str, mode: int) -> Iterator[BinaryIO]:
    """Write a temporary file beside ``target``; move it over ``target`` only if all was written."""
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except FileNotFoundError:
        raise InputError("the folder does not exist", Location(shown)) from None
    except PermissionError:
        raise InputError("permission denied", Location(shown)) from None
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", Location(shown)) from None
    raw = _Output(fd, shown)
    stream = io.BufferedWriter(raw)
    try:
        yield stream
        stream.close()  # the last writes: a full disk shows here too
        try:
            os.chmod(temp_name, mode)
            os.replace(temp_name, target)
        except OSError as exc:
            raise write_error(exc, shown) from None
    except BaseException:
        _abandon(stream, raw)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _abandon(stream: io.BufferedWriter, raw: _Output) -> None:
    """Close an output that failed without trying its buffered bytes again."""
    raw.discarding = True
    with contextlib.suppress(Exception):
        stream.close()


class _Output(io.FileIO):
    """A file opened for writing whose failed writes are one located error (a closed pipe stays one)."""

    def __init__(self, fd: int, shown: str):
        super().__init__(fd, "wb", closefd=True)
        self.name = shown
        self.discarding = False

    def write(self, data) -> int:
        """Write ``data``; a failure is raised as :func:`write_error` says."""
        if self.discarding:
            return memoryview(data).nbytes
        try:
            return super().write(data)
        except OSError as exc:
            raise write_error(exc, self.name) from None


def error_number(exc: BaseException) -> int | None:
    """The errno of a failed write: the exception's own, or the one its text names (polars gives only text)."""
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        return number
    found = _ERRNO_IN_TEXT.search(str(exc))
    return int(found.group(1) or found.group(2)) if found else None


def is_broken_pipe(exc: BaseException) -> bool:
    """True when ``exc`` says the reader of a pipe has gone (EPIPE), however it was raised."""
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and error_number(exc) == errno.EPIPE)


def write_error(exc: BaseException, name: str) -> BaseException:
    """What to raise for ``exc``, raised while writing to ``name``.

    A closed pipe is a ``BrokenPipeError`` (made one if polars gave a plain ``OSError``), so
    the command line ends quietly; any other ``OSError`` (no space, quota, file too large,
    I/O error) is one ``InputError`` at ``name``: ``cannot write: No space left on device``.
    Anything else, an ``NncalcError`` among them, is returned as it is.
    """
    if isinstance(exc, NncalcError) or not isinstance(exc, OSError):
        return exc
    if is_broken_pipe(exc):
        return exc if isinstance(exc, BrokenPipeError) else BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
    number = error_number(exc)
    reason = os.strerror(number) if number is not None else (exc.strerror or str(exc))
    return InputError(f"cannot write: {reason}", Location(name))


@contextlib.contextmanager
def writing(name: str) -> Iterator[None]:
    """Turn a failed write to ``name`` (``"<stdout>"``, say) into one located ``InputError``.

    Wrap only the writing: any ``OSError`` inside is taken as the output's. A closed pipe
    comes out as ``BrokenPipeError``, never as an error (see :func:`write_error`).
    """
    try:
        yield
    except OSError as exc:
        raise write_error(exc, name) from None


@contextlib.contextmanager
def reading(source: str) -> Iterator[None]:
    """Turn the ways opening or reading a file fails into one located ``InputError`` each."""
    refuse_nul(source)
    try:
        yield
    except FileNotFoundError:
        raise InputError("no such file", Location(source)) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", Location(source)) from None
    except PermissionError:
        raise InputError("permission denied", Location(source)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", Location(source)) from None


def refuse_nul(name: str) -> None:
    """Refuse a file name holding a NUL character, which no file can have: Python would raise a
    bare ValueError ("embedded null byte") on opening it."""
    if "\0" in name:
        raise InputError("a file name cannot hold a NUL character", Location(name.replace("\0", "\\0")))


def refuse_too_large(fd: int, source: str, max_bytes: int) -> int:
    """The size a regular file open as ``fd`` reports (0 for a device or pipe), refused with a
    located error when it is over ``max_bytes``, before anything is read. Readers still keep the
    cap while they read, since a device reports 0 and a file may grow."""
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
        raise TooLargeError(
            f"the file is {info.st_size:,} bytes, more than the limit of {max_bytes:,} (raise it with --max-file-size)",
            Location(source),
        )
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def same_file(a: Path, b: Path) -> bool:
    """True when two paths name the same existing file."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
