"""CSV written chunk by chunk through polars' writer: fast, and every float reads back exactly.

polars writes each float64 as its shortest round-trip text, as Python's repr does, but
without a Python loop per value. A non-finite value (allowed only with --allow-nonfinite)
becomes an empty cell, as in the one-shot CSV writer.

Each block is written in a thread of its own while the caller reads and computes the next
one (polars writes without holding the GIL), one block at a time and in order; an error
in writing is raised at the next ``write`` or at ``finish``, in the caller's thread, as
``nncalc.files.write_error`` says: a closed pipe as ``BrokenPipeError`` (polars reports it
as a plain ``OSError``, "Broken pipe (os error 32)"), a full disk as one located error.
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

    def __init__(self, stream: TextIO, header: Sequence[str], name: str | None = None):
        """Write to ``stream``; a failed write is reported at ``name`` (by default the stream's own name).

        On a terminal the header's names have their control characters made visible; to a
        file or pipe they are written exactly.
        """
        from nncalc.output import is_terminal
        from nncalc.render.data import csv_header_line

        self.stream = stream
        self.header = csv_header_line(header, is_terminal(stream))
        shown = getattr(stream, "name", None)
        self.name = name or (shown if isinstance(shown, str) else "<stdout>")
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
        from nncalc.files import write_error

        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except BaseException as exc:
            raised = write_error(exc, self.name)
            if raised is exc:
                raise
            raise raised from None

    def _write_now(self, rows: np.ndarray) -> None:
        import polars as pl

        finite = np.isfinite(rows)
        all_finite = bool(finite.all())
        if not all_finite:  # inf and NaN alike become null: an empty cell, as in one-shot CSV
            rows = np.where(finite, rows, np.nan)
        frame = pl.DataFrame(np.ascontiguousarray(rows), schema=[f"c{k}" for k in range(rows.shape[1])], orient="row")
        if not all_finite:
            frame = frame.fill_nan(None)
        if not self.started:
            self.stream.write(self.header)
            self.started = True
        binary = getattr(self.stream, "buffer", None)
        if binary is not None:  # straight to the bytes underneath: no decoding and encoding again
            self.stream.flush()
            frame.write_csv(binary, include_header=False, null_value="")
            binary.flush()
        else:
            self.stream.write(frame.write_csv(include_header=False, null_value=""))
