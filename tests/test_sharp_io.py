"""Files in and out at their edges: devices, pipes, links, read-only and full disks, endless and odd input.

Device nodes are made with mknod inside the test's own folder (the same drivers as /dev/null
and /dev/full), so a writer that wrongly replaced its target could never replace the
system's own; where mknod is not allowed the test is not root and uses /dev's, which it
could not replace anyway.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
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


# -- 3. a closed pipe under the streaming writer ends quietly ----------------------------------


@pytest.fixture(scope="module")
def many_rows(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rows") / "rows.csv"
    path.write_text("i1,i2\n" + "0.05,0.10\n" * 200_000)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_reader_that_leaves_ends_the_stream_quietly(many_rows, fmt):
    """forward --inputs - --format csv < 200k-rows.csv | head -1: exit 0, nothing on stderr."""
    with many_rows.open("rb") as stdin:
        process = subprocess.Popen(
            [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "-", "--format", fmt],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        first = process.stdout.readline()
        process.stdout.close()
        try:
            code = process.wait(timeout=60)
        finally:
            errors = process.stderr.read()
            process.stderr.close()
    assert first.startswith(b"i1,i2,o1,o2" if fmt == "csv" else b'{"input":[0.05,0.1]')
    assert errors == b""
    assert code == 0


def _no_writer_threads() -> bool:
    return not any(t.name.startswith("nncalc-csv") for t in threading.enumerate())


def test_the_stream_writer_turns_polars_broken_pipe_into_broken_pipe_error():
    """polars reports a closed pipe as a plain OSError ("Broken pipe (os error 32)"); the writer raises
    BrokenPipeError in the caller's thread and leaves no thread behind."""
    from nncalc.render.csv_stream import CsvStreamWriter

    read_end, write_end = os.pipe()
    reader = open(read_end, "rb")  # noqa: SIM115 - reads the header, then leaves, as head -1 does
    leaving = threading.Thread(target=lambda: (reader.read(4), reader.close()), daemon=True)
    leaving.start()
    stream = open(write_end, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed at the end, by hand
    writer = CsvStreamWriter(stream, ["a", "b"])
    with pytest.raises(BrokenPipeError):
        for _ in range(5):
            writer.write(np.ones((50_000, 2)))  # 400 kB a block: far more than a pipe holds
        writer.finish()
    writer.finish()  # reported once; nothing left queued
    leaving.join(timeout=30)
    assert _no_writer_threads()
    with contextlib.suppress(BrokenPipeError):
        stream.close()


def test_polars_own_write_errors_are_located_too(tmp_path):
    """A file size limit reached by polars' own writing (EFBIG, "File too large (os error 27)") is one
    located error, and the file that was there is kept."""
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    samples = tmp_path / "samples.csv"
    samples.write_text("i1,i2\n" + "0.05,0.10\n" * 20_000)

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))

    completed = subprocess.run(
        [
            *NNCALC_FORWARD,
            str(CLASSIC),
            "--inputs",
            str(samples),
            "-f",
            "csv",
            "--chunk-size",
            "1000",
            "-o",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        preexec_fn=limit_file_size,
    )
    assert completed.stderr.splitlines() == [f"error: {target}: cannot write: File too large"]
    assert completed.returncode == 2
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "samples.csv"]


def test_the_stream_writer_reports_a_full_disk_at_its_file(tmp_path):
    """A full disk under the writer thread is one located error naming the output."""
    from nncalc.render.csv_stream import CsvStreamWriter

    full = device(tmp_path, "full", FULL)
    with open(full, "w", encoding="utf-8", newline="") as stream:
        with pytest.raises(InputError) as caught, CsvStreamWriter(stream, ["a"], name="results.csv") as writer:
            writer.write(np.ones((100_000, 1)))
            writer.write(np.ones((100_000, 1)))
        with pytest.raises(OSError):
            stream.close()
    assert [str(p) for p in caught.value.problems] == ["results.csv: cannot write: No space left on device"]
    assert _no_writer_threads()


# -- 4. streamed CSV writes an empty cell for a non-finite value, as one-shot CSV does ---------

OVERFLOWING = """\
inputs: [x]
layers:
  - name: big
    neurons: [p, q]
    weights: [[1e308], [1e308]]
    activation: identity
  - name: out
    neurons: [y, z]
    weights: [[1, -1], [1, 1]]
    activation: identity
"""


def test_streamed_and_one_shot_csv_agree_on_non_finite_values(nncalc, write):
    """x = 10 overflows: p = q = inf, so y = inf - inf = NaN and z = inf; both writers leave those cells empty."""
    net = write("overflow.yaml", OVERFLOWING)
    values = ["0.5", "10", "-3", "1"]
    samples = write("rows.csv", "x\n" + "".join(f"{v}\n" for v in values))
    streamed = nncalc("forward", net, "--inputs", samples, "-f", "csv", "--trace", "--allow-nonfinite")
    options = [arg for v in values for arg in ("-i", v)]
    one_shot = nncalc("forward", net, *options, "-f", "csv", "--trace", "--allow-nonfinite")
    assert streamed.code == 0 and one_shot.code == 0, streamed.err + one_shot.err
    assert streamed.out == one_shot.out
    rows = streamed.out.splitlines()
    assert rows[0] == "x,y,z,big.p.z,big.q.z,big.p.a,big.q.a,out.y.z,out.z.z,out.y.a,out.z.a"
    assert rows[2] == "10.0,,,,,,,,,,"  # 10e308: every cell after the input is inf or NaN
    assert rows[1] == "0.5,0.0,1e+308,5e+307,5e+307,5e+307,5e+307,0.0,1e+308,0.0,1e+308"  # 0.5 × 1e308


# -- 5. readers keep to their limits while reading ---------------------------------------------


def _limited(memory: int = 2 << 30):
    """A child's memory limit, so a reader that grows without bound fails instead of the machine."""
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_dev_zero_as_inputs_is_refused_quickly(fmt):
    """forward --inputs /dev/zero: one endless line of NUL bytes is refused at once (streamed and one-shot)."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "/dev/zero", "-f", fmt],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        preexec_fn=_limited(),
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.splitlines() == ["error: /dev/zero:1:1: a NUL byte: this is not a text file"]
    assert time.monotonic() - started < 20


LONG_LINE = "0.5," * 300_000 + "0.5\n"  # 1,200,004 bytes on one line


def test_the_one_shot_reader_refuses_an_overlong_line():
    from nncalc.inputs import read_samples_csv

    text = "x1,x2\n0.1,0.2\n" + LONG_LINE
    with pytest.raises(InputError) as caught:
        read_samples_csv(io.StringIO(text), "big.csv", ["x1", "x2"])
    assert [str(p) for p in caught.value.problems] == [
        "big.csv:3: a line of more than 1,048,576 bytes; is this a CSV file?"
    ]


def test_the_streaming_reader_refuses_an_overlong_line():
    from nncalc.streaming import stream_samples

    data = ("x1,x2\n" + "0.1,0.2\n" * 3 + LONG_LINE).encode()
    with pytest.raises(InputError) as caught:
        list(stream_samples(io.BytesIO(data), "big.csv", ["x1", "x2"], chunk_rows=2))
    assert [str(p) for p in caught.value.problems] == [
        "big.csv:5: a line of more than 1,048,576 bytes; is this a CSV file?"
    ]


def test_the_streaming_reader_refuses_an_overlong_first_line():
    from nncalc.streaming import stream_samples

    with pytest.raises(InputError) as caught:
        list(stream_samples(io.BytesIO(LONG_LINE.encode()), "big.csv", ["x1", "x2"]))
    assert [str(p) for p in caught.value.problems] == [
        "big.csv:1: a line of more than 1,048,576 bytes; is this a CSV file?"
    ]


@pytest.mark.parametrize("reader", ["one-shot", "streaming"])
def test_a_nul_byte_is_refused_where_it_is(reader):
    """A NUL byte is not text: it is named at its line and column."""
    text = "x1,x2\n0.1,0.2\n0.3,0\x004\n"
    with pytest.raises(InputError) as caught:
        _read(reader, text, ["x1", "x2"])
    assert [str(p) for p in caught.value.problems] == ["s.csv:3:6: a NUL byte: this is not a text file"]


class _Endless(io.TextIOBase):
    """A text stream of valid rows that never ends; it fails the test once far too much was taken."""

    def __init__(self, limit: int):
        self.given = 0
        self.limit = limit

    def readable(self) -> bool:
        return True

    def readline(self, size: int = -1) -> str:
        self.given += 8
        if self.given > self.limit:
            raise AssertionError("the reader kept on reading past its limit")
        return "0.1,0.2\n"

    def read(self, size: int = -1) -> str:
        return self.readline()


def test_the_one_shot_reader_stops_at_its_byte_limit():
    """max_bytes is enforced while reading: an endless input is refused once it has passed the limit."""
    from nncalc.inputs import read_samples_csv

    with pytest.raises(InputError) as caught:
        read_samples_csv(_Endless(10 * 1000), "<stdin>", ["x1", "x2"], max_bytes=1000)
    assert [str(p) for p in caught.value.problems] == [
        "<stdin>: the input is more than the limit of 1,000 bytes (raise it with --max-file-size)"
    ]


def test_the_one_shot_reader_takes_exactly_its_limit():
    from nncalc.inputs import read_samples_csv

    text = "0.1,0.2\n" * 125  # 1000 bytes
    samples, _ = read_samples_csv(io.StringIO(text), "s.csv", ["x1", "x2"], max_bytes=1000)
    assert len(samples) == 125
    with pytest.raises(InputError, match="more than the limit of 999 bytes"):
        read_samples_csv(io.StringIO(text), "s.csv", ["x1", "x2"], max_bytes=999)


class _Interrupted(io.RawIOBase):
    """Rows, then Ctrl-C (KeyboardInterrupt) on the third read."""

    def __init__(self):
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.reads += 1
        if self.reads >= 3:
            raise KeyboardInterrupt
        data = b"0.1,0.2\n"[: len(buffer)]
        buffer[: len(data)] = data
        return len(data)


@pytest.mark.parametrize("reader", ["one-shot", "streaming"])
def test_ctrl_c_interrupts_the_readers(reader):
    """Ctrl-C between blocks is not swallowed: KeyboardInterrupt comes through."""
    from nncalc.inputs import read_samples_csv
    from nncalc.streaming import stream_samples

    raw = io.BufferedReader(_Interrupted(), buffer_size=16)
    with pytest.raises(KeyboardInterrupt):
        if reader == "one-shot":
            read_samples_csv(io.TextIOWrapper(raw, encoding="utf-8"), "s.csv", ["x1", "x2"])
        else:
            list(stream_samples(raw, "s.csv", ["x1", "x2"], chunk_rows=1))


# -- 6. a bad value is located at its line and column ------------------------------------------


def _read(reader: str, text: str, names, extra=(), chunk_rows: int = 3):
    """Samples by one of the two readers: (values, lines) of every sample."""
    from nncalc.inputs import read_samples_csv
    from nncalc.streaming import stream_samples

    if reader == "one-shot":
        samples, _ = read_samples_csv(io.StringIO(text), "s.csv", names, extra)
        return samples.values, samples.lines
    chunks = list(stream_samples(io.BytesIO(text.encode()), "s.csv", names, extra, chunk_rows=chunk_rows))
    return np.vstack([c.inputs for c in chunks]), np.concatenate([c.lines for c in chunks])


BAD_VALUES = [
    # (text, line, the text the error points at on that line, message)
    ("x1,x2\n0.1,0.2\n0.3, abc\n", 3, "abc", "'abc' is not a number (column x2)"),
    ("x2,x1\n0.1,0.2\n1:30,0.4\n", 3, "1:30", "'1:30' is not a number (column x2)"),
    ("0.1,0.2\n\n  nan ,0.4\n", 3, "nan", "'nan' is not a finite number (NaN and infinities are refused) (column x1)"),
    ('x1,x2\n"é",0.2\n0.25,"1_0"\n', 3, '"1_0"', "'1_0' is not a number (column x2)"),
    ('x1,x2\n"0.1\n",0.2\n0.3,abc\n', 4, "abc", "'abc' is not a number (column x2)"),
    ("x1,x2\n0.1,\n", 2, "\n", "an empty value is not a number (column x2)"),
]


@pytest.mark.parametrize("reader", ["one-shot", "streaming"])
@pytest.mark.parametrize(("text", "line", "at", "message"), BAD_VALUES)
def test_a_bad_value_is_located_at_its_column(reader, text, line, at, message):
    """FILE:LINE:COL points at the value itself (the column worked out from the case's own text)."""
    column = text.splitlines(keepends=True)[line - 1].index(at) + 1
    with pytest.raises(InputError) as caught:
        _read(reader, text, ["x1", "x2"])
    shown = [str(p) for p in caught.value.problems]
    assert f"s.csv:{line}:{column}: {message}" in shown, shown


@pytest.mark.parametrize("reader", ["one-shot", "streaming"])
def test_a_column_counts_characters_not_bytes(reader):
    """After a wide character the column is still a count of characters (é is one column, two bytes)."""
    with pytest.raises(InputError) as caught:
        _read(reader, "x1,x2\né,abc\n", ["x1", "x2"])
    assert [str(p) for p in caught.value.problems] == [
        "s.csv:2:1: 'é' is not a number (column x1)",
        "s.csv:2:3: 'abc' is not a number (column x2)",
    ]


def test_an_unknown_header_column_is_located_at_its_column(nncalc):
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "json", stdin="i1, i3\n0.1,0.2\n")
    assert result.code == 2
    assert result.err.splitlines()[0] == "error: <stdin>:1:5: unknown column 'i3'; the inputs are i1, i2"


# -- 7. every sample knows its line -------------------------------------------------------------

ROWS_WITH_GAPS = 'x1,x2\n0.1,0.2\n\n0.3,0.4\n"0.5\n",0.6\n\n\n0.7,0.8\n0.9,1.0\n'
ROWS_LINES = [2, 4, 5, 9, 10]  # by hand: the header is line 1; a blank line holds no sample; row 3 spans 5-6


@pytest.mark.parametrize("reader", ["one-shot", "streaming"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 100])
def test_each_sample_knows_its_line(reader, chunk_rows):
    # the streaming reader reads a line at a time: there the quoted cell is one line and a blank one
    text = ROWS_WITH_GAPS if reader == "one-shot" else ROWS_WITH_GAPS.replace('"0.5\n",0.6\n', "0.5,0.6\n\n")
    values, lines = _read(reader, text, ["x1", "x2"], chunk_rows=chunk_rows)
    assert values[:, 0].tolist() == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert lines.tolist() == ROWS_LINES


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
def test_fast_read_chunks_know_their_lines(chunk_rows):
    """Chunks read by polars (no blank line, nothing unusual) number their lines too, across chunks."""
    text = "0.5,0.25\n" * 10
    values, lines = _read("streaming", text, ["x1", "x2"], chunk_rows=chunk_rows)
    assert len(values) == 10
    assert lines.tolist() == list(range(1, 11))


def test_chunks_have_no_targets_field():
    """The streaming reader yields inputs only; targets were never read from a chunk."""
    from nncalc.streaming import Chunk

    assert "extra" not in Chunk._fields


# -- 8. one function opens a CSV sample source, with the same messages everywhere ---------------


def test_read_samples_source_reads_a_file_with_targets(tmp_path):
    from nncalc.inputs import read_samples_source

    path = tmp_path / "s.csv"
    path.write_bytes("\ufeffi1,o1,i2\n0.5,1,0.25\n".encode())
    samples, targets = read_samples_source(str(path), ["i1", "i2"], ["o1", "o2"])
    assert samples.values.tolist() == [[0.5, 0.25]]
    assert targets.columns == ("o1",) and targets.values.tolist() == [[1.0]]
    assert samples.lines.tolist() == [2]


def test_read_samples_source_reads_standard_input():
    from nncalc.inputs import read_samples_source

    samples, targets = read_samples_source("-", ["i1"], (), stdin=io.StringIO("0.5\n0.25\n"))
    assert samples.values.tolist() == [[0.5], [0.25]] and targets is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: str(tmp / "missing.csv"), "no such file"),
        (lambda tmp: str(tmp), "is a directory, not a file"),
    ],
)
def test_read_samples_source_names_a_file_it_cannot_read(tmp_path, make, message):
    from nncalc.inputs import read_samples_source

    name = make(tmp_path)
    with pytest.raises(InputError) as caught:
        read_samples_source(name, ["i1"], ())
    assert [str(p) for p in caught.value.problems] == [f"{name}: {message}"]


@pytest.mark.parametrize("stdin", [None, "closed"])
def test_read_samples_source_refuses_a_closed_standard_input(stdin):
    from nncalc.inputs import read_samples_source

    if stdin == "closed":
        stdin = io.StringIO("0.5\n")
        stdin.close()
    with pytest.raises(InputError) as caught:
        read_samples_source("-", ["i1"], (), stdin=stdin)
    assert [str(p) for p in caught.value.problems] == ["<stdin>: standard input is closed"]


def test_read_samples_source_checks_a_file_size_before_reading(tmp_path):
    from nncalc.inputs import read_samples_source

    path = tmp_path / "s.csv"
    path.write_text("0.5\n" * 300)
    with pytest.raises(InputError) as caught:
        read_samples_source(str(path), ["i1"], (), max_bytes=1000)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: the file is 1,200 bytes, more than the limit of 1,000 (raise it with --max-file-size)"
    ]


# -- standard output on a full disk: the command line's part (it wraps its writing in files.writing) --


@pytest.mark.parametrize("args", [["-i", "0.05,0.10", "-f", "csv"], ["-i", "0.05,0.10", "-f", "json"], ["--inputs"]])
def test_standard_output_on_a_full_disk_is_one_error(tmp_path, args):
    """nncalc forward ... > /dev/full: exit 2 and one located error line, whichever writer wrote."""
    if args == ["--inputs"]:
        samples = tmp_path / "samples.csv"
        samples.write_text("i1,i2\n" + "0.05,0.10\n" * 1_000_000)  # 10 MB: read in more than one chunk
        args = ["--inputs", str(samples), "-f", "csv", "--chunk-size", "1000"]
    with open("/dev/full", "wb") as full:
        completed = subprocess.run(
            [*NNCALC_FORWARD, str(CLASSIC), *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert completed.stderr.splitlines() == ["error: <stdout>: cannot write: No space left on device"]
    assert completed.returncode == 2
