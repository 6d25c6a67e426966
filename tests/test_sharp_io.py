"""Files in and out at their edges: devices, pipes, links, read-only and full disks, endless and odd input.

Device nodes are made with mknod inside the test's own folder (the same drivers as /dev/null
and /dev/full), so a writer that wrongly replaced its target could never replace the
system's own; where mknod is not allowed the test is not root and uses /dev's, which it
could not replace anyway.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nncalc.errors import InputError, Location
from tests.conftest import CONFIGS, ROOT

CLASSIC = CONFIGS / "classic-2-2-2.yaml"
NNCALC_FORWARD = [sys.executable, "-m", "nncalc", "forward"]
NULL, FULL = (1, 3), (1, 7)  # Linux's major, minor of /dev/null and /dev/full


def device(folder: Path, name: str, numbers: tuple[int, int]) -> Path:
    """A character device like /dev/NAME made in ``folder``; /dev/NAME itself where mknod is refused."""
    path = folder / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(*numbers))
    except (PermissionError, OSError):
        return Path("/dev") / name
    return path


def is_char_device(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


def only_errors(result, location: str, fragment: str) -> None:
    """Exit 2, one ``error: LOCATION: ...`` line holding ``fragment``, no traceback."""
    shown = f"exit {result.code}\n--- stderr\n{result.err}"
    assert result.code == 2, shown
    assert "Traceback" not in result.err, shown
    lines = result.err.splitlines()
    assert len(lines) == 1, shown
    assert lines[0].startswith(f"error: {location}: "), shown
    assert fragment in lines[0], shown


# -- 1. -o and --write write through what is not a regular file ------------------------------


def test_output_to_a_device_writes_through_it(nncalc, tmp_path):
    """-o to a device node writes into the device; the node stays a device, nothing is left beside it."""
    null = device(tmp_path, "null", NULL)
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", "csv", "-o", null)
    assert result.code == 0, result.err
    assert is_char_device(null)
    if null.parent == tmp_path:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_draw_and_new_write_through_a_device_too(nncalc, tmp_path):
    """The binary writer (draw) and --force of new take the same way through a device."""
    null = device(tmp_path, "null", NULL)
    assert nncalc("draw", CLASSIC, "-o", null, "-f", "dot").code == 0
    assert nncalc("new", "-o", null, "--force", "--seed", "1").code == 0
    assert is_char_device(null)


def test_output_to_a_fifo_is_read_by_its_reader(nncalc, tmp_path):
    """-o into a named pipe: the reader at the other end gets the CSV, and the pipe stays a pipe."""
    fifo = tmp_path / "results.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", "csv", "-o", fifo)
    reader.join(timeout=30)
    assert result.code == 0, result.err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received, "the reader got nothing"
    lines = received[0].decode().splitlines()
    assert lines[0] == "i1,i2,o1,o2"
    o1 = float(lines[1].split(",")[2])
    assert abs(o1 - 0.75136507) < 5e-9  # the published worked example
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


@pytest.mark.parametrize("name", ["/proc/self/fd/1", "/dev/fd/1", "link"])
def test_output_to_standard_output_by_name_writes_through_the_descriptor(tmp_path, name):
    """{ echo first; nncalc ... -o /dev/stdout; } >> log: the output is appended where stdout points,
    not a new file renamed over the log (which would lose its first line).

    /dev/stdout is a link to /proc/self/fd/1; the test names that, or a link of its own to it,
    so that a writer that renamed over the name it was given could not replace the system's.
    """
    log = tmp_path / "log.csv"
    log.write_text("first\n")
    if name == "link":
        name = tmp_path / "stdout"
        name.symlink_to("/proc/self/fd/1")
    with log.open("ab") as stdout:
        completed = subprocess.run(
            [*NNCALC_FORWARD, str(CLASSIC), "-i", "0.05,0.10", "-f", "csv", "-o", str(name)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=60,
        )
    assert completed.returncode == 0, completed.stderr
    lines = log.read_text().splitlines()
    assert lines[:2] == ["first", "i1,i2,o1,o2"]
    assert abs(float(lines[2].split(",")[2]) - 0.75136507) < 5e-9
    assert os.readlink("/dev/stdout") == "/proc/self/fd/1"


def test_output_through_a_symlink_replaces_the_file_it_names(nncalc, tmp_path):
    """-o link.csv updates the file the link names, and the link stays a link to it."""
    real = tmp_path / "data" / "real.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(Path("data") / "real.csv")
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", "csv", "-o", link)
    assert result.code == 0, result.err
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "real.csv")
    assert real.read_text().startswith("i1,i2,o1,o2\n0.05,0.1,")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.csv"]


def test_write_through_a_symlink_keeps_the_link(nncalc, tmp_path):
    """backward --write through a symlink: the named network is updated, the link kept."""
    real = tmp_path / "trained.yaml"
    real.write_text("old: network\n")
    link = tmp_path / "current.yaml"
    link.symlink_to(real)
    result = nncalc("backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "json", "--write", link, "--force")
    assert result.code == 0, result.err
    assert link.is_symlink() and link.resolve() == real
    # the classic example's first step: w5 = 0.40 - 0.5 * 0.082167041 = 0.35891648 (published)
    from nncalc.loader import load_network

    assert abs(load_network(real).layers[1].weights[0, 0] - 0.35891648) < 1e-8


def test_a_read_only_file_is_refused_not_replaced(nncalc, tmp_path):
    """A file with no write permission for anyone is refused (exit 2), and stays as it was.

    Root may write anything, so os.access alone would let root replace it; a file marked
    read-only for everyone is taken as the owner's wish and refused whoever runs nncalc.
    """
    target = tmp_path / "kept.csv"
    target.write_text("precious\n")
    target.chmod(0o444)
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", "csv", "-o", target)
    only_errors(result, str(target), "permission denied")
    assert target.read_text() == "precious\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.csv"]


def test_a_read_only_file_behind_a_symlink_is_refused(nncalc, tmp_path):
    """Following a link does not get round a read-only file; the link's name is the one reported."""
    target = tmp_path / "kept.yaml"
    target.write_text("precious\n")
    target.chmod(0o444)
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    result = nncalc("new", "-o", link, "--force", "--seed", "3")
    only_errors(result, str(link), "permission denied")
    assert target.read_text() == "precious\n"


def test_existing_behaviour_of_regular_files_is_kept(tmp_path):
    """A regular file is still replaced atomically with its mode; overwrite=False still refuses."""
    from nncalc.files import output_text_file

    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o600)
    inode = target.stat().st_ino
    with output_text_file(target) as stream:
        stream.write("new\n")
        assert target.read_text() == "old\n"  # nothing shows until it is complete
    assert target.read_text() == "new\n"
    assert target.stat().st_ino != inode  # a new file moved into place
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="already exists"), output_text_file(target, overwrite=False):
        pass


# -- 2. a full disk is one located error, and the old file is kept ----------------------------


def test_output_to_a_full_device_is_one_error(nncalc, tmp_path):
    """-o onto a device that is always full: one located error, exit 2, no traceback."""
    full = device(tmp_path, "full", FULL)
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", "csv", "-o", full)
    only_errors(result, str(full), "cannot write: No space left on device")
    assert is_char_device(full)


def test_streamed_output_to_a_full_device_is_one_error(nncalc, tmp_path):
    """The streaming CSV writer (polars, in its own thread) reports a full disk the same way."""
    full = device(tmp_path, "full", FULL)
    samples = tmp_path / "samples.csv"
    samples.write_text("i1,i2\n" + "0.05,0.10\n" * 1000)
    result = nncalc("forward", CLASSIC, "--inputs", samples, "-f", "csv", "-o", full)
    only_errors(result, str(full), "cannot write: No space left on device")


@pytest.fixture
def full_disk(monkeypatch):
    """Temporary files that take no data: every write to them fails as on a full disk (ENOSPC)."""
    import tempfile

    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_full_disk_keeps_the_old_file(nncalc, tmp_path, full_disk, fmt):
    """-o on a full filesystem: one located error, the old file as it was, no temporary file left."""
    target = tmp_path / f"out.{fmt}"
    target.write_text("precious\n")
    result = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-f", fmt, "-o", target)
    only_errors(result, str(target), "cannot write: No space left on device")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_full_disk_under_streamed_output_keeps_the_old_file(nncalc, tmp_path, full_disk):
    """The same through the streaming writer, whose thread writes through polars."""
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    samples = tmp_path / "samples.csv"
    samples.write_text("0.05,0.10\n" * 5000)
    result = nncalc("forward", CLASSIC, "--inputs", samples, "-f", "csv", "--chunk-size", "100", "-o", target)
    only_errors(result, str(target), "cannot write: No space left on device")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "samples.csv"]


def test_write_on_a_full_disk_keeps_the_old_network(nncalc, tmp_path, full_disk):
    """backward --write on a full filesystem: one located error, the old file kept."""
    target = tmp_path / "trained.yaml"
    target.write_text("precious\n")
    result = nncalc(
        "backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", "json", "--write", target, "--force"
    )
    assert result.code == 2, result.err
    assert f"error: {target}: cannot write: No space left on device" in result.err.splitlines()
    assert "Traceback" not in result.err
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trained.yaml"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO])
def test_writing_turns_a_failed_write_into_one_located_error(code):
    """The ways writing fails, each one located error naming the output and the reason."""
    from nncalc.files import writing

    with pytest.raises(InputError) as caught, writing("<stdout>"):
        raise OSError(code, os.strerror(code))
    assert [str(p) for p in caught.value.problems] == [f"<stdout>: cannot write: {os.strerror(code)}"]
    assert caught.value.problems[0].location == Location("<stdout>")


@pytest.mark.parametrize(
    "raised",
    [BrokenPipeError(errno.EPIPE, "Broken pipe"), OSError(errno.EPIPE, "x"), OSError("Broken pipe (os error 32)")],
)
def test_writing_lets_a_closed_pipe_through_as_broken_pipe(raised):
    """A reader that has gone is not an error of the user's: it stays a BrokenPipeError to end quietly."""
    from nncalc.files import writing

    with pytest.raises(BrokenPipeError), writing("<stdout>"):
        raise raised
