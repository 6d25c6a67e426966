"""CSV written chunk by chunk through polars' writer: fast, and every float reads back exactly.

polars writes each float64 as its shortest round-trip text, as Python's repr does, but
without a Python loop per value. A non-finite value (allowed only with --allow-nonfinite)
becomes an empty cell, as in the one-shot CSV writer.

Each block is written in a thread of its own while the caller reads and computes the next
one (polars writes without holding the GIL), one block at a time and in order; an error
in writing is raised at the next ``write`` or at ``finish``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TextIO

import numpy as np


class CsvStreamWriter:
    """Writes a header once, then blocks of rows (samples, columns) as they come.

    Use it as a context manager: leaving the block waits until every block is written.
    """

    def __init__(self, stream: TextIO, header: Sequence[str]):
        self.stream = stream
        self.header = list(header)
        self.started = False
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def __enter__(self) -> CsvStreamWriter:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.finish()
            return
        with contextlib.suppress(Exception):  # the error on its way out is the one to report
            self.finish()  # what was queued before it is still written

    def write(self, rows: np.ndarray) -> None:
        """Queue a block (which the caller no longer changes); the one before it is written first."""
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nncalc-csv")
        self._pending = self._pool.submit(self._write_now, rows)

    def finish(self) -> None:
        """Wait until every queued block is written; raise what writing raised."""
        try:
            self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write_now(self, rows: np.ndarray) -> None:
        import polars as pl

        frame = pl.DataFrame(np.ascontiguousarray(rows), schema=[f"c{k}" for k in range(rows.shape[1])], orient="row")
        if not np.isfinite(rows).all():
            frame = frame.fill_nan(None)
        if not self.started:
            import csv
            import io

            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(self.header)
            self.stream.write(buffer.getvalue())
            self.started = True
        binary = getattr(self.stream, "buffer", None)
        if binary is not None:  # straight to the bytes underneath: no decoding and encoding again
            self.stream.flush()
            frame.write_csv(binary, include_header=False, null_value="")
            binary.flush()
        else:
            self.stream.write(frame.write_csv(include_header=False, null_value=""))
