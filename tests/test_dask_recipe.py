"""Past one machine: the README's Dask recipe scores a CSV partition by partition, and gives
row for row the same bits as ``nncalc forward --inputs`` (the engine is a pure function of a
block of rows, and a row's bits never depend on its block)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import nncalc as library
from tests.conftest import CONFIGS


def recipe(path, network):
    """The recipe as the README writes it."""
    import dask.dataframe as dd
    import pandas as pd

    def score(part: pd.DataFrame) -> pd.DataFrame:
        outputs = network.forward(part[list(network.inputs)].to_numpy()).output
        return pd.DataFrame(outputs, columns=list(network.outputs), index=part.index)

    frame = dd.read_csv(path, blocksize=2_000)  # small blocks: many partitions
    return frame.map_partitions(score, meta={name: "f8" for name in network.outputs})


def test_dask_scores_partition_by_partition_as_the_command_line_does(tmp_path, nncalc):
    pytest.importorskip("dask.dataframe")
    import dask

    rng = np.random.default_rng(5)
    rows = rng.uniform(-3, 3, size=(2_000, 2))
    path = tmp_path / "samples.csv"
    path.write_text("i1,i2\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in rows))
    network = library.load(CONFIGS / "classic-2-2-2.yaml")
    lazy = recipe(path, network)
    assert lazy.npartitions > 1
    with dask.config.set(scheduler="synchronous"):
        scored = lazy.compute().to_numpy()
    cli = nncalc("forward", CONFIGS / "classic-2-2-2.yaml", "--inputs", path, "-f", "csv")
    assert cli.code == 0, cli.err
    expected = np.loadtxt(io.StringIO(cli.out), delimiter=",", skiprows=1)[:, 2:]
    assert scored.shape == expected.shape
    assert scored.tobytes() == expected.tobytes()
