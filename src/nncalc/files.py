"""Writing output files so that nothing the user had is lost when something fails."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from nncalc.errors import InputError, Location


@contextlib.contextmanager
def atomic_text_file(path: Path, overwrite: bool = True) -> Iterator[TextIO]:
    """Text written to a temporary file beside ``path``, moved into place only on success."""
    with atomic_binary_file(path, overwrite) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as stream:
        yield stream
        stream.flush()


@contextlib.contextmanager
def atomic_binary_file(path: Path, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``path`` and move it into place only on success.

    If anything fails the temporary file is removed and ``path`` is left as it was.
    With ``overwrite=False`` an existing ``path`` is refused up front.
    """
    if path.is_dir():
        raise InputError("is a directory; give a file name", Location(str(path)))
    if not overwrite and path.exists():
        raise InputError("already exists; pass --force to replace it", Location(str(path)))
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise InputError("the folder does not exist", Location(str(path))) from None
    except PermissionError:
        raise InputError("permission denied", Location(str(path))) from None
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", Location(str(path))) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
        if path.exists():
            os.chmod(temp_name, path.stat().st_mode & 0o777)
        else:
            os.chmod(temp_name, 0o666 & ~_umask())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


@contextlib.contextmanager
def reading(source: str) -> Iterator[None]:
    """Turn the ways opening or reading a file fails into one located ``InputError`` each."""
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
