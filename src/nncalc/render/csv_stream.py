"""CSV written chunk by chunk through polars' writer: fast, and every float reads back exactly.

polars writes each float64 as its shortest round-trip text, as Python's repr does, but
without a Python loop per value. A non-finite value (allowed only with --allow-nonfinite)
becomes an empty cell, as in the one-shot CSV writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import numpy as np


class CsvStreamWriter:
    """Writes a header once, then blocks of rows (samples, columns) as they come."""

    def __init__(self, stream: TextIO, header: Sequence[str]):
        self.stream = stream
        self.header = list(header)
        self.started = False

    def write(self, rows: np.ndarray) -> None:
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
