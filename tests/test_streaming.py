"""Streaming forward (--inputs with csv or jsonl): the same output as one shot, row for row, in chunks."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
import time

import numpy as np
import pytest

from nncalc.engine import forward
from nncalc.loader import load_network
from tests.conftest import CONFIGS, ROOT

CLASSIC = CONFIGS / "classic-2-2-2.yaml"


def _rows(count: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-5, 5), rng.choice([0.0, -0.0, 1e-300, 1 / 3, rng.uniform(-1e6, 1e6)])] for _ in range(count)]


@pytest.mark.parametrize("chunk", ["1", "7", "100000"])
@pytest.mark.parametrize("trace", [False, True])
def test_streamed_csv_equals_one_shot(nncalc, chunk, trace):
    """The streamed CSV is the one-shot CSV, row for row, whatever the chunk size."""
    rows = _rows(23)
    stdin = "i1,i2\n" + "".join(f"{a!r},{b!r}\n" for a, b in rows)
    extra = ["--trace"] if trace else []
    streamed = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "csv", "--chunk-size", chunk, *extra, stdin=stdin)
    options = [arg for a, b in rows for arg in ("-i", f"{a!r},{b!r}")]
    one_shot = nncalc("forward", CLASSIC, *options, "-f", "csv", *extra)
    assert streamed.code == 0, streamed.err
    assert streamed.out == one_shot.out


def test_streamed_csv_reads_back_to_the_same_floats(nncalc):
    """Every float written reads back to exactly the engine's float."""
    rows = _rows(50, seed=1)
    stdin = "".join(f"{a!r},{b!r}\n" for a, b in rows)
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "csv", "--trace", "--chunk-size", "16", stdin=stdin)
    table = list(csv.DictReader(io.StringIO(result.out)))
    trace = forward(load_network(CLASSIC), np.array(rows))
    assert [float(r["i1"]) for r in table] == [r[0] for r in rows]
    assert [float(r["output.o2.a"]) for r in table] == trace.output[:, 1].tolist()
    assert [float(r["hidden.h1.z"]) for r in table] == trace.layers[0].z[:, 0].tolist()


def test_streamed_jsonl_equals_one_shot(nncalc):
    """JSON Lines streamed in chunks equal the one-shot JSON Lines."""
    rows = _rows(9, seed=2)
    stdin = "".join(f"{a!r},{b!r}\n" for a, b in rows)
    streamed = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "jsonl", "--chunk-size", "4", stdin=stdin)
    options = [arg for a, b in rows for arg in ("-i", f"{a!r},{b!r}")]
    assert streamed.out == nncalc("forward", CLASSIC, *options, "-f", "jsonl").out
    assert len([json.loads(line) for line in streamed.out.splitlines()]) == 9


def test_chunks_that_need_the_strict_reader(nncalc):
    """Fractions and blank lines, which the fast reader does not take, are read by the strict one."""
    stdin = "i1,i2\n1/2,0.1\n\n0.05,0.10\n"
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "csv", "--chunk-size", "2", stdin=stdin)
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [float(r["i1"]) for r in rows] == [0.5, 0.05]


@pytest.mark.parametrize("chunk", ["1", "3", "1000"])
def test_a_bad_row_is_located_in_any_chunk(nncalc, chunk):
    """A malformed row names its own line, however the input was chunked; earlier rows are said to be written."""
    stdin = "i1,i2\n" + "0.1,0.2\n" * 5 + "0.3,nan\n" + "0.1,0.2\n" * 3
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "csv", "--chunk-size", chunk, stdin=stdin)
    assert result.code == 2
    assert "error: <stdin>:7:5: 'nan' is not a finite number" in result.err
    assert "Traceback" not in result.err
    written = result.out.splitlines()[1:]
    assert all(line.startswith("0.1,0.2,") for line in written)
    if written:
        assert f"the {len(written)} samples before it were written" in result.err


def test_a_failed_stream_leaves_the_output_file_untouched(nncalc, tmp_path):
    """With -o, a bad row means nothing is written: the file that was there stays as it was."""
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    stdin = "0.1,0.2\n" * 5 + "x,1\n"
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-o", target, "--chunk-size", "2", stdin=stdin)
    assert result.code == 2
    assert target.read_text() == "precious\n"
    assert list(tmp_path.iterdir()) == [target]


def test_output_starts_before_the_input_ends():
    """A pipeline sees the first results while the input is still being written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "-", "-f", "csv", "--chunk-size", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        bufsize=0,
    )
    try:
        process.stdin.write(b"i1,i2\n0.05,0.10\n0.05,0.10\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30
        header = process.stdout.readline()
        first = process.stdout.readline()
        assert time.monotonic() < deadline
        assert header.startswith(b"i1,i2,o1,o2")
        assert first.startswith(b"0.05,0.1,0.75136")
        assert process.poll() is None  # still running: the input has not ended
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


@pytest.mark.parametrize("chunk", ["1", "2", "3", "5", "8", "13"])
def test_a_wider_network_streams_to_the_same_bits(nncalc, write, chunk):
    """Row for row the same bits for a 13-17-5 network, whatever the chunk size."""
    rng = np.random.default_rng(5)
    w1, w2 = rng.normal(size=(17, 13)).tolist(), rng.normal(size=(5, 17)).tolist()
    net = write("wide.yaml", f"inputs: 13\nlayers:\n  - weights: {w1}\n    activation: tanh\n  - weights: {w2}\n")
    rows = rng.normal(size=(40, 13))
    stdin = "".join(",".join(map(repr, row)) + "\n" for row in rows.tolist())
    streamed = nncalc("forward", net, "--inputs", "-", "-f", "csv", "--trace", "--chunk-size", chunk, stdin=stdin)
    whole = nncalc("forward", net, "--inputs", "-", "-f", "csv", "--trace", "--chunk-size", "1000", stdin=stdin)
    assert streamed.code == 0, streamed.err
    assert streamed.out == whole.out


STREAM_COMMAND = [sys.executable, "-m", "nncalc", "forward", str(CLASSIC), "--inputs", "-", "-f", "csv"]


def _stream_with_stderr_on_a_terminal(stdin: bytes) -> tuple[int, bytes, str]:
    """Run a streaming forward whose stderr is a pseudo-terminal; return code, stdout and what the terminal got."""
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nncalc",
                "forward",
                str(CLASSIC),
                "--inputs",
                "-",
                "-f",
                "csv",
                "--chunk-size",
                "50",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=ROOT,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
        )
        os.close(follower)
        out, _ = process.communicate(stdin, timeout=60)
        seen = bytearray()
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the terminal is closed once the process has ended and all is read
                break
            if not piece:
                break
            seen += piece
    finally:
        os.close(leader)
    return process.returncode, out, seen.decode("utf-8", errors="replace")


def test_a_progress_bar_goes_to_stderr_only_on_a_terminal():
    """Streaming from stdin with stderr on a terminal shows Rich's progress bar there; stdout is the same CSV
    as when stderr is a pipe, which gets nothing."""
    stdin = ("i1,i2\n" + "0.05,0.10\n" * 20_000).encode()
    code, out, terminal = _stream_with_stderr_on_a_terminal(stdin)
    assert code == 0, terminal
    assert "reading" in terminal
    piped = subprocess.run(
        [*STREAM_COMMAND, "--chunk-size", "50"],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert piped.returncode == 0
    assert piped.stderr == b""
    assert out == piped.stdout
    assert out.count(b"\n") == 20_001


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "stream, total, shown",
    [
        (_Terminal, None, True),  # standard input: length unknown, may be long
        (_Terminal, 64 << 20, True),  # a long file
        (_Terminal, 1 << 20, False),  # a short file is done before a bar is worth drawing
        (io.StringIO, None, False),  # not a terminal: silent
        (io.StringIO, 64 << 20, False),
    ],
)
def test_the_progress_bar_is_for_long_inputs_on_a_terminal(stream, total, shown):
    from nncalc.notation.console import progress_bytes

    target = stream()
    with progress_bytes(total, target) as advance:
        assert (advance is not None) == shown
        if advance is not None:
            advance(total or 1000)
    assert (target.getvalue() != "") == shown


@pytest.mark.parametrize(
    "stream, steps, shown",
    [
        (_Terminal, 1000, True),  # a long training run on a terminal
        (_Terminal, 199, False),  # over before a bar is worth drawing
        (io.StringIO, 1000, False),  # not a terminal: silent
    ],
)
def test_the_training_progress_bar_is_for_long_runs_on_a_terminal(stream, steps, shown):
    from nncalc.notation.console import progress_callback

    target = stream()
    with progress_callback(steps, target) as on_step:
        assert (on_step is not None) == shown
        if on_step is not None:
            on_step(steps - 1, None)  # the last step (numbered from 0) done
    assert (target.getvalue() != "") == shown


def test_the_stream_writer_writes_blocks_in_order_and_waits_on_leaving():
    from nncalc.render.csv_stream import CsvStreamWriter

    out = io.StringIO()
    blocks = [np.full((3, 2), float(k)) for k in range(5)]
    with CsvStreamWriter(out, ["a", "b"]) as writer:
        for block in blocks:
            writer.write(block)
    lines = out.getvalue().splitlines()
    assert lines[0] == "a,b"
    assert lines[1:] == [f"{float(k)!r},{float(k)!r}" for k in range(5) for _ in range(3)]


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError("the reader has gone")


def test_a_failed_write_is_raised_by_the_next_write_or_on_leaving():
    from nncalc.render.csv_stream import CsvStreamWriter

    with pytest.raises(BrokenPipeError), CsvStreamWriter(_ClosedPipe(), ["a"]) as writer:
        writer.write(np.ones((1, 1)))
    writer = CsvStreamWriter(_ClosedPipe(), ["a"])
    writer.write(np.ones((1, 1)))
    with pytest.raises(BrokenPipeError):
        writer.write(np.ones((1, 1)))
    writer.finish()  # the error was reported once; nothing is left queued


def test_an_error_on_its_way_out_keeps_what_was_queued_and_is_the_one_raised():
    from nncalc.render.csv_stream import CsvStreamWriter

    out = io.StringIO()
    with pytest.raises(KeyError), CsvStreamWriter(out, ["a"]) as writer:
        writer.write(np.array([[0.5]]))
        raise KeyError("a bad row further on")
    assert out.getvalue() == "a\n0.5\n"


def test_streamed_and_one_shot_csv_write_small_numbers_alike(nncalc, write):
    """Between 1e-10 and 1e-4 repr and polars write floats differently (1e-09 / 1e-9, 1e-05 / 0.00001):
    the one-shot writer follows polars, so both are the same text and read back exactly."""
    net = write("id.yaml", "inputs: 1\nlayers:\n  - weights: [[1.0]]\n    activation: identity\n")
    values = [1e-05, 1.2345678901234568e-05, -3e-06, 9.99e-06, 1.5e-07, 2.5e-10, 1e-04, 3.0000000000000004e-05]
    stdin = "".join(f"{v!r}\n" for v in values)
    streamed = nncalc("forward", net, "--inputs", "-", "-f", "csv", stdin=stdin)
    options = [arg for v in values for arg in ("-i", repr(v))]
    one_shot = nncalc("forward", net, *options, "-f", "csv")
    assert streamed.code == 0, streamed.err
    assert streamed.out == one_shot.out
    rows = [line.split(",") for line in streamed.out.splitlines()[1:]]
    assert [float(x) for x, _ in rows] == values
    assert rows[0] == ["0.00001", "0.00001"] and rows[4] == ["1.5e-7", "1.5e-7"]


def test_the_one_shot_cell_is_polars_text_for_every_magnitude():
    import polars as pl

    from nncalc.render.data import _cell

    values = [float(f"{m}e{e}") for e in range(-323, 308) for m in ("1", "1.2345678901234567", "-9.87654321")]
    values += [0.0, -0.0, 5e-324, 0.1, 0.30000000000000004]
    written = pl.DataFrame({"c": values}).write_csv(include_header=False).splitlines()
    assert [_cell(v) for v in values] == written
