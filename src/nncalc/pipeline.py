"""Forward passes over a stream of samples, written as they are computed.

Samples are read, computed and written a chunk at a time, so memory stays flat however
long the input, and the first rows are out before the last are read. The output is the
same text, bit for bit, as the one-shot writers give for the same rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import BinaryIO, TextIO

from nncalc.engine import Trace, non_finite_problem
from nncalc.errors import ComputationError, NncalcError, Problem
from nncalc.network import Network

Advance = Callable[[int], None]


def stream_forward(
    network: Network,
    binary: BinaryIO,
    source: str,
    fmt: str,
    out: TextIO,
    *,
    with_trace: bool = False,
    chunk_rows: int = 100_000,
    allow_nonfinite: bool = False,
    decimals: int | None = None,
    round_z: bool = False,
    advance: Advance | None = None,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Run every sample of the CSV ``binary`` through ``network`` and write ``fmt`` (csv, jsonl
    or json) to ``out``; return the number of samples written.

    ``advance(bytes_read)`` is called after each chunk (a progress bar); ``warn(message)``
    receives what ``allow_nonfinite`` lets through. An error part-way names how many
    samples were written before it.
    """
    from nncalc.engine import forward
    from nncalc.streaming import stream_samples

    written = 0
    with _writer(network, fmt, out, with_trace) as write:
        try:
            for chunk in stream_samples(binary, source, network.inputs, network.outputs, chunk_rows):
                trace = forward(network, chunk.inputs, decimals=decimals, round_z=round_z)
                check_finite(network, trace, allow_nonfinite, warn, source, chunk.lines)
                try:
                    write(trace)
                except NncalcError as error:  # a failed write: what came before it may not be out either
                    raise _Unwritten(error) from None
                written += len(chunk.inputs)
                if advance is not None:
                    advance(chunk.bytes_read)
        except _Unwritten as failed:
            raise failed.error from None
        except NncalcError as error:
            if written:
                s = "s" if written != 1 else ""
                error.problems.append(Problem(f"the {written} sample{s} before it were written", None))
            raise
    return written


class _Unwritten(Exception):
    """A write failed: reported as it is, without claiming earlier samples reached the output."""

    def __init__(self, error: NncalcError):
        super().__init__(str(error))
        self.error = error


@contextlib.contextmanager
def _writer(network: Network, fmt: str, out: TextIO, with_trace: bool) -> Iterator[Callable[[Trace], None]]:
    """A function that writes one chunk's trace in ``fmt``; leaving ends the document."""
    from nncalc.render import data

    if fmt == "csv":
        from nncalc.render.csv_stream import CsvStreamWriter

        # the writer writes each block while the next is read and computed; leaving waits for it
        with CsvStreamWriter(out, data.csv_header(network, with_trace)) as writer:
            yield lambda trace: writer.write(data.csv_blocks(trace, with_trace))
    elif fmt == "json":
        document = data.JsonDocument(out, network)
        yield document.write
        document.close()
    else:
        yield lambda trace: data.write_jsonl(out, network, trace)


def check_finite(
    network: Network,
    trace: Trace,
    allow: bool,
    warn: Callable[[str], None] | None = None,
    source: str | None = None,
    lines: object = None,
) -> None:
    """Stop at the first infinity or NaN (``ComputationError``), or with ``allow`` pass it to ``warn``.

    ``lines[s]``, when given, is the line of ``source`` that sample ``s`` came from, so the
    message points at it.
    """
    problem = non_finite_problem(network, trace, source, lines)
    if problem is None:
        return
    if not allow:
        raise ComputationError(Problem(problem.message + " (--allow-nonfinite lets it through)", problem.location))
    if warn is not None:
        warn(str(problem))
