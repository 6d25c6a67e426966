"""The example notebook runs headless, top to bottom, and shows what it says it shows."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "course.ipynb"


@pytest.fixture(scope="module")
def executed():
    """The notebook after a real kernel ran every cell (as Jupyter would), in examples/."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("sklearn")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _outputs(cell, kind: str) -> str:
    return "".join(
        output.get("data", {}).get(kind, "") if kind != "stream" else output.get("text", "") for output in cell.outputs
    )


def test_no_cell_fails(executed):
    for cell in executed:
        assert all(output.output_type != "error" for output in cell.outputs), cell.source


def test_the_course_chain_is_shown_typeset_in_its_cell(executed):
    html = _outputs(executed[0], "text/html")
    assert "<math" in html  # maths typeset, not text
    for value in ("0.415", "0.6023", "0.9210", "0.7153"):  # the course's hand-worked values
        assert value in html
    assert "$$" in _outputs(executed[0], "text/markdown")  # what Colab typesets


def test_the_notes_slip_is_marked_wrong(executed):
    html = _outputs(executed[2], "text/html")
    assert "wrong" in html and "0.6571" in html  # σ(0.6506) = 0.6571, not the notes' 0.7153
    assert _outputs(executed[3], "stream").strip() == "False [('a', 0.6571)]"


def test_the_scikit_learn_model_is_reproduced(executed):
    printed = _outputs(executed[4], "stream")
    difference = float(re.search(r"scikit-learn: (\S+)", printed).group(1))
    assert difference <= 1e-9
    assert "<math" in _outputs(executed[5], "text/html")
