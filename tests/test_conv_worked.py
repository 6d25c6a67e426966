"""Convolution, pooling and flatten worked as on paper, in every notation.

The textbook exercise (a 5×5 image, the 3×3 vertical-edge filter, stride 1, ReLU, 2×2 max
pooling, flatten) is worked here by hand, in plain Python loops over lists: every cell of
every map, each window and its max, the flatten order. The pages must show those numbers,
derive cell [0,0] as a person writes it in the terminal, Markdown and LaTeX, compile with
pdflatex without running into the margin, and be well-formed HTML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from nncalc.activations import BoundActivation
from nncalc.document import Grids, Note, Steps, Table
from nncalc.engine import forward
from nncalc.expr import Num
from nncalc.loader import parse_network
from nncalc.network import Network
from nncalc.notation.formula import TextWriter
from nncalc.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d, input_names
from nncalc.worked import View
from nncalc.worked.forward import forward_document
from tests.test_latex_backward import compile_pdf, needs_pdflatex
from tests.test_notation_html import parsed

IMAGE = [
    [1, 2, 0, 3, 1],
    [0, 1, 2, 1, 0],
    [3, 1, 0, 2, 2],
    [1, 0, 1, 0, 3],
    [2, 2, 1, 1, 0],
]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
BIAS = 0.5
FLAT_INPUT = ",".join(str(v) for row in IMAGE for v in row)

TEXTBOOK = """\
name: Textbook convolution
inputs: {shape: [1, 5, 5]}
layers:
  - type: conv2d
    name: conv
    weights: [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]]
    biases: [0.5]
    activation: relu
  - type: maxpool2d
    name: pool
    kernel_size: 2
    stride: 1
  - type: flatten
    name: flat
"""


# -- the exercise by hand --------------------------------------------------------------------------


def window(image: list[list[float]], top: int, left: int, size: int) -> list[list[float]]:
    return [[image[top + r][left + k] for k in range(size)] for r in range(size)]


def convolve(image, kernel, bias):
    """Valid cross-correlation, stride 1, as on paper: Σ kernel × window + bias for each position."""
    size = len(kernel)
    out = len(image) - size + 1
    return [
        [
            sum(kernel[r][k] * window(image, i, j, size)[r][k] for r in range(size) for k in range(size)) + bias
            for j in range(out)
        ]
        for i in range(out)
    ]


def relu(rows):
    return [[v if v > 0 else 0 for v in row] for row in rows]


def max_pool(rows, size, stride):
    out = (len(rows) - size) // stride + 1
    return [
        [max(v for line in window(rows, i * stride, j * stride, size) for v in line) for j in range(out)]
        for i in range(out)
    ]


Z = convolve(IMAGE, EDGE, BIAS)
A = relu(Z)
POOLED = max_pool(A, 2, 1)
FLAT = [v for row in POOLED for v in row]


def test_the_hand_worked_exercise_is_the_textbooks():
    """The loops above give the numbers a textbook prints for this exercise."""
    assert Z == [[2.5, -1.5, -0.5], [1.5, -0.5, -1.5], [4.5, 0.5, -2.5]]
    assert A == [[2.5, 0, 0], [1.5, 0, 0], [4.5, 0.5, 0]]
    assert POOLED == [[2.5, 0], [4.5, 0.5]]


# -- building pages -------------------------------------------------------------------------------


def textbook_network(pool: str = "maxpool2d") -> Network:
    """The exercise read from its file, so the weights keep their written text (1, not 1.0)."""
    return parse_network(TEXTBOOK.replace("maxpool2d", pool), "conv-textbook.yaml")


def page(network: Network, image, view: View | None = None, texts=None):
    x = np.array(image, dtype=np.float64).reshape(1, -1)
    trace = forward(network, x)
    return forward_document(network, trace, texts, view or View())


def flat(rows) -> list:
    """A map's rows one after another, as a person reads them."""
    return [v for row in rows for v in row]


def grid_values(grid) -> list[list[float]]:
    return [[cell.value for cell in row] for row in grid.rows]


def blocks_of(document, kind):
    return [b for b in document.blocks if isinstance(b, kind)]


@pytest.fixture
def textbook(tmp_path):
    path = tmp_path / "conv-textbook.yaml"
    path.write_text(TEXTBOOK, encoding="utf-8")
    return path


def run(nncalc, *args) -> str:
    result = nncalc(*args)
    assert result.code == 0, result.err
    return result.out


# -- every cell, from the document --------------------------------------------------------------


def test_every_map_shows_the_hand_worked_cells():
    document = page(textbook_network(), IMAGE, View(steps=True))
    grids = blocks_of(document, Grids)
    image, maps, pooled = grids[0], grids[1], [g for g in grids if g.items[0].title == ("a",)][-1]
    assert grid_values(image.items[0]) == IMAGE
    z, a = maps.items
    assert (z.title, a.title) == (("z",), ("a",))  # side by side
    assert grid_values(z) == Z and grid_values(a) == A
    assert z.row_labels == ("0", "1", "2") and z.column_labels == ("0", "1", "2")
    assert grid_values(pooled.items[0]) == POOLED
    flatten = blocks_of(document, Table)[-1]
    assert [(row[0], row[1], row[2].value) for row in flatten.rows] == [
        ("0", "[0,0]", 2.5),
        ("1", "[0,1]", 0),
        ("2", "[1,0]", 4.5),
        ("3", "[1,1]", 0.5),
    ]


def test_with_steps_every_cell_is_derived_beside_its_window_and_kernel():
    document = page(textbook_network(), IMAGE, View(steps=True))
    windows = [g for g in blocks_of(document, Grids) if g.items[0].title[0].startswith("window")]
    assert len(windows) == 9
    for n, block in enumerate(windows):
        i, j = divmod(n, 3)
        shown, kernel = block.items
        assert shown.title == (f"window: rows {i}–{i + 2}, columns {j}–{j + 2}",)
        assert grid_values(shown) == window(IMAGE, i, j, 3)
        assert kernel.title == ("kernel",) and grid_values(kernel) == EDGE
    conv_steps = blocks_of(document, Steps)[:9]
    writer = TextWriter(4)
    for n, steps in enumerate(conv_steps):
        i, j = divmod(n, 3)
        (step,) = steps.items
        assert step.label == f"[{i},{j}]"
        z_chain, a_chain = step.chains
        assert z_chain.relations == ("=", "=")  # the shown numbers give the shown z exactly
        assert z_chain.parts[-1].value == Z[i][j] and a_chain.parts[-1].value == A[i][j]
        products = [
            f"{k} × {x}" if k >= 0 else f"(−{-k}) × {x}"
            for k, x in zip(flat(EDGE), flat(window(IMAGE, i, j, 3)), strict=True)
        ]
        assert writer.write(z_chain.parts[1]) == " + ".join(products) + " + 0.5"


def test_by_default_only_the_first_cell_of_each_map_is_derived_and_none_with_no_steps():
    default = page(textbook_network(), IMAGE)
    labels = [step.label for steps in blocks_of(default, Steps) for step in steps.items]
    assert labels == ["[0,0]", "[0,0]"]  # the convolution's first cell, the pooling's first window
    quiet = page(textbook_network(), IMAGE, View(steps=False))
    assert not blocks_of(quiet, Steps)
    assert not [g for g in blocks_of(quiet, Grids) if g.items[0].title[0].startswith("window")]


# -- the derivation of cell [0,0], as each notation writes it -------------------------------------

FIRST = [(k, x) for k, x in zip(flat(EDGE), flat(window(IMAGE, 0, 0, 3)), strict=True)]


def test_terminal_derivation_of_the_first_cell(nncalc, textbook):
    out = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "table")
    terms = " + ".join(f"{k} × {x}" if k >= 0 else f"(−{-k}) × {x}" for k, x in FIRST)
    assert f"[0,0]  z = {terms} + 0.5 = {Z[0][0]}" in out
    assert f"a = ReLU({Z[0][0]}) = max(0, {Z[0][0]}) = {A[0][0]}" in out
    assert "layer 1 (conv) · conv2d 3×3, 1→1, stride 1 · relu · 1×5×5 → 1×3×3" in out
    assert "window: rows 0–2, columns 0–2" in out and "kernel" in out


def test_markdown_derivation_of_the_first_cell(nncalc, textbook):
    out = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "markdown")
    terms = " + ".join(f"{k} \\cdot {x}" if k >= 0 else f"({k}) \\cdot {x}" for k, x in FIRST)
    assert f"$z = {terms} + 0.5 = 2.5$" in out
    # z beside a: one pipe table, an empty column between the two grids
    assert "| z | 0 | 1 | 2 |   | a | 0 | 1 | 2 |" in out
    assert "| 0 | 2.5 | -1.5 | -0.5 |   | 0 | 2.5 | 0 | 0 |" in out


def test_latex_derivation_of_the_first_cell(nncalc, textbook):
    out = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "latex")
    joined = out.replace(" \\\\\n&\\quad ", " ")  # a long sum may be broken over rows
    terms = " + ".join(f"{k} \\cdot {x}" if k >= 0 else f"({k}) \\cdot {x}" for k, x in FIRST)
    assert f"z_{{\\text{{[0,0]}}}} &= {terms} + 0.5 = 2.5" in joined
    assert "\\begin{tabular}{r|rrr}" in out  # a 3×3 map with its row labels


# -- pooling windows ---------------------------------------------------------------------------------


def test_every_max_pooling_window_with_steps(nncalc, textbook):
    out = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "table", "--steps")
    for i in range(2):
        for j in range(2):
            cells = ", ".join(f"{v:g}" for line in window(A, i, j, 2) for v in line)
            where = f"rows {i}–{i + 1}, columns {j}–{j + 1}"
            assert f"[{i},{j}]  a = max({cells}) = {POOLED[i][j]:g}  ({where})" in out


def test_average_pooling_shows_the_sum_over_the_window_size():
    document = page(textbook_network("avgpool2d"), IMAGE, View(steps=True))
    steps = [s for block in blocks_of(document, Steps) for s in block.items if s.label and len(s.chains) == 1]
    writer = TextWriter(4)
    for n, step in enumerate(steps):
        i, j = divmod(n, 2)
        cells = [v for line in window(A, i, j, 2) for v in line]
        mean = Fraction(sum(Fraction(v) for v in cells), 4)
        text = writer.chain(step.chains[0])
        assert text == f"a = ({' + '.join(f'{v:g}' for v in cells)}) / 4 = {float(mean):g}"
        assert step.chains[0].relations == ("=", "=")


def test_a_rounded_result_is_written_approximately():
    """1/3 as an input shows as 0.3333; 3 × 0.3333 is 0.9999, not the shown 1: the sum is ≈."""
    conv = Conv2d.build("c", (1, 1, 1), [[[[3.0]]]], [0.0])
    network = Network(inputs=input_names((1, 1, 1)), layers=(conv,), input_shape=(1, 1, 1), source="t")
    document = page(network, [[1 / 3]])
    (steps,) = blocks_of(document, Steps)
    assert steps.items[0].chains[0].relations == ("=", "≈")


# -- padding, stride, several channels -----------------------------------------------------------------


def test_padding_and_stride_show_zeros_in_the_window_and_its_place():
    image = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]
    kernel = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    conv = Conv2d.build("c", (1, 4, 4), [[kernel]], [0.0], stride=(2, 2), padding=(1, 1))
    network = Network(inputs=input_names((1, 4, 4)), layers=(conv,), input_shape=(1, 4, 4), source="t")
    document = page(network, image, View(steps=True))
    padded = [[0] * 6, *([0, *row, 0] for row in image), [0] * 6]
    windows = [g for g in blocks_of(document, Grids) if g.items[0].title[0].startswith("window")]
    titles = [w.items[0].title[0] for w in windows]
    assert titles == [
        "window: rows −1 to 1, columns −1 to 1",
        "window: rows −1 to 1, columns 1–3",
        "window: rows 1–3, columns −1 to 1",
        "window: rows 1–3, columns 1–3",
    ]
    for n, block in enumerate(windows):
        i, j = divmod(n, 2)
        assert grid_values(block.items[0]) == window(padded, 2 * i, 2 * j, 3)
    maps = blocks_of(document, Grids)[1]
    by_hand = [[sum(flat(window(padded, 2 * i, 2 * j, 3))) for j in range(2)] for i in range(2)]
    assert grid_values(maps.items[0]) == by_hand  # 1+2+5+6, 2+3+4+6+7+8, …


def test_several_channels_name_each_map_and_each_kernel():
    kernels = [[[[1, 0], [0, 1]], [[2, 0], [0, 0]]], [[[0, 1], [1, 0]], [[0, 0], [0, -1]]]]
    image = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0, 1], [0, 1, 0], [1, 0, 1]]]
    conv = Conv2d.build("c", (2, 3, 3), kernels, [0.0, 1.0])
    network = Network(inputs=input_names((2, 3, 3)), layers=(conv,), input_shape=(2, 3, 3), source="t")
    document = page(network, image)
    titles = [grid.title[0] for block in blocks_of(document, Grids) for grid in block.items]
    assert titles[:2] == ["x, map 0", "x, map 1"]
    assert "z, map 1" in titles and "a, map 1" in titles
    assert "kernel [1,0]" in titles and "kernel [1,1]" in titles and "channel 1: rows 0–1, columns 0–1" in titles
    labels = [step.label for block in blocks_of(document, Steps) for step in block.items]
    assert labels == ["[0,0,0]", "[1,0,0]"]
    # map 1, cell [0,0]: 0·1 + 1·2 + 1·4 + 0·5 + 0·1 + 0·0 + 0·0 + (−1)·1 + 1 = 6
    z1 = next(grid for block in blocks_of(document, Grids) for grid in block.items if grid.title == ("z, map 1",))
    assert z1.rows[0][0].value == 6
    last = blocks_of(document, Steps)[1].items[0].chains[0]
    assert TextWriter(4).write(last.parts[1]).count("×") == 8  # two channels of a 2×2 kernel


def test_a_long_sum_over_many_channels_is_written_with_sigma():
    conv = Conv2d.build("c", (4, 3, 3), np.ones((1, 4, 3, 3)), [0.0])
    network = Network(inputs=input_names((4, 3, 3)), layers=(conv,), input_shape=(4, 3, 3), source="t")
    document = page(network, np.arange(36).reshape(4, 3, 3))
    chain = blocks_of(document, Steps)[0].items[0].chains[0]
    assert TextWriter(4).chain(chain) == f"z = Σᵢ w_i · x_i + 0.0 = {sum(range(36))}"


def test_max_pooling_leaves_the_padding_out_of_the_max():
    pool = MaxPool2d(name="p", input_shape=(1, 2, 2), kernel_size=(2, 2), stride=(2, 2), padding=(1, 1))
    network = Network(inputs=input_names((1, 2, 2)), layers=(pool,), input_shape=(1, 2, 2), source="t")
    document = page(network, [[-1, -2], [-3, -4]])
    step = blocks_of(document, Steps)[0].items[0]
    assert TextWriter(4).chain(step.chains[0]) == "a = max(−1) = −1"
    assert step.after == ("  (rows −1 to 0, columns −1 to 0)",)


# -- large maps ---------------------------------------------------------------------------------------


def large_network() -> Network:
    kernel = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    conv = Conv2d.build("c", (1, 12, 12), [[kernel], [[[1, 0, 0], [0, 0, 0], [0, 0, 0]]]], [0.0, 0.0])
    flat = Flatten(name="f", input_shape=(2, 10, 10))
    return Network(inputs=input_names((1, 12, 12)), layers=(conv, flat), input_shape=(1, 12, 12), source="t")


IMAGE_12 = [[(r * 7 + k * 3) % 5 for k in range(12)] for r in range(12)]


def test_a_large_map_is_summarised_and_all_shows_it():
    document = page(large_network(), IMAGE_12)
    assert not blocks_of(document, Grids) and not blocks_of(document, Steps)
    summary = blocks_of(document, Table)[0]
    # by hand: the Laplacian of every 3×3 window, then the top-left cell of each window
    laplace = [
        IMAGE_12[i][j + 1]
        + IMAGE_12[i + 1][j]
        - 4 * IMAGE_12[i + 1][j + 1]
        + IMAGE_12[i + 1][j + 2]
        + IMAGE_12[i + 2][j + 1]
        for i in range(10)
        for j in range(10)
    ]
    corner = [IMAGE_12[i][j] for i in range(10) for j in range(10)]
    values = laplace + corner
    assert [cell.value for cell in summary.rows[0][1:]] == [min(values), max(values), pytest.approx(sum(values) / 200)]
    notes = [" ".join(p for p in n.text if isinstance(p, str)) for n in blocks_of(document, Note)]
    assert any("144 values" in n for n in notes)  # the image
    assert any("2 maps of 10×10 (200 values)" in n for n in notes)
    everything = page(large_network(), IMAGE_12, View(all_rows=True))
    bands = [
        grid for block in blocks_of(everything, Grids) for grid in block.items if grid.title[0].startswith("z, map 0")
    ]
    # ten columns in bands of six, side by side with a's bands, so no line of a page is too wide
    assert [band.title for band in bands] == [("z, map 0, columns 0–5",), ("z, map 0, columns 6–9",)]
    assert [band.column_labels for band in bands] == [tuple("012345"), tuple("6789")]
    rows = [left + right for left, right in zip(bands[0].rows, bands[1].rows, strict=True)]
    assert [cell.value for row in rows for cell in row] == laplace


def test_a_large_flatten_names_both_ends_of_its_order(nncalc):
    document = page(large_network(), IMAGE_12)
    note = next(n for n in blocks_of(document, Note) if n.lead == "order:")
    assert note.text == (
        "channels, then rows, then columns (PyTorch's order): cell [c,r,k] becomes value 100·c + 10·r + k",
    )
    ends = next(n for n in blocks_of(document, Note) if "→" in "".join(p for p in n.text if isinstance(p, str)))
    text = "".join(p for p in ends.text if isinstance(p, str))
    assert text.startswith("[0,0,0] → 0, [0,0,1] → 1, [0,0,2] → 2, …, [1,9,7] → 197, [1,9,8] → 198, [1,9,9] → 199")


# -- pdflatex and HTML --------------------------------------------------------------------------------


@needs_pdflatex
@pytest.mark.parametrize("extra", [[], ["--steps"]])
def test_the_latex_page_compiles_without_overfull_lines(nncalc, textbook, tmp_path, extra):
    source = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "latex", "--standalone", *extra)
    compile_pdf(tmp_path, source)


@needs_pdflatex
def test_several_channels_with_padding_compile_without_overfull_lines(tmp_path):
    from nncalc.notation.latex import latex_source

    kernels = (np.arange(2 * 3 * 3 * 3).reshape(2, 3, 3, 3) % 7 - 3) / 4  # quarters: exact text
    conv = Conv2d.build(
        "conv", (3, 4, 4), kernels, [0.25, -0.5], padding=(1, 1), activation=BoundActivation.named("tanh")
    )
    pool = AvgPool2d(name="pool", input_shape=(2, 4, 4), kernel_size=(2, 2), stride=(2, 2))
    network = Network(inputs=input_names((3, 4, 4)), layers=(conv, pool), input_shape=(3, 4, 4), source="t")
    document = page(network, np.linspace(-1, 1, 48).reshape(3, 4, 4), View(steps=True))
    compile_pdf(tmp_path, latex_source(document, standalone=True))


@needs_pdflatex
def test_a_wide_map_shown_whole_compiles_without_overfull_lines(tmp_path):
    from nncalc.notation.latex import latex_source

    document = page(large_network(), [[v - 2.123456 for v in row] for row in IMAGE_12], View(all_rows=True))
    compile_pdf(tmp_path, latex_source(document, standalone=True))
    precise = page(large_network(), [[v - 2.123456 for v in row] for row in IMAGE_12], View(9, all_rows=True))
    compile_pdf(tmp_path, latex_source(precise, standalone=True))


def test_the_html_page_is_well_formed_with_a_titled_table_per_grid(nncalc, textbook):
    fragment = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "html", "--steps")
    root = ET.fromstring(fragment)  # well-formed XML
    grids = [div for div in root.iter("div") if div.get("class") == "grids"]
    captions = [[f.find("figcaption").text for f in div.iter("figure")] for div in grids]
    assert captions[0] == ["x"] and captions[1] == ["z", "a"]
    assert captions[2] == ["window: rows 0–2, columns 0–2", "kernel"]
    z = next(grids[1].iter("table"))
    assert [[td.text for td in tr.findall("td")] for tr in z.find("tbody")] == [[f"{v:g}" for v in row] for row in Z]
    standalone = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", "html", "--standalone")
    parsed(standalone)


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html"])
def test_every_format_shows_every_cell_value(nncalc, textbook, fmt):
    out = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", fmt, "--steps")
    for value in {*flat(Z), *FLAT}:
        shown = f"{value:g}"
        assert shown in out or shown.replace("-", "−") in out, value


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html"])
def test_no_steps_leaves_out_windows_and_derivations_in_every_format(nncalc, textbook, fmt):
    shown = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", fmt)
    quiet = run(nncalc, "forward", textbook, "-i", FLAT_INPUT, "-f", fmt, "--no-steps")
    for words in ("window: rows 0–2, columns 0–2", "(rows 0–1, columns 0–1)"):
        assert words in shown and words not in quiet
    assert ("kernel" in shown) and ("kernel" not in quiet)


def test_cells_are_numbers_the_trace_holds():
    """Every number a map's grid holds is the engine's value at that cell, not worked again."""
    network = textbook_network()
    x = np.array(IMAGE, dtype=np.float64).reshape(1, -1)
    trace = forward(network, x)
    document = forward_document(network, trace, None, View())
    z = blocks_of(document, Grids)[1].items[0]
    flat = [cell for row in z.rows for cell in row]
    assert all(isinstance(cell, Num) for cell in flat)
    assert [cell.value for cell in flat] == trace.layers[0].z[0].tolist()


# -- the shipped exercise --------------------------------------------------------------------------

SHIPPED_IMAGE = [[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]]


def test_the_shipped_exercise_derives_every_cell_as_on_paper(nncalc):
    """configs/conv-textbook.yaml on configs/conv-image.yaml, bias 0: every cell's line, worked here."""
    from tests.conftest import CONFIGS

    out = run(
        nncalc,
        "forward",
        CONFIGS / "conv-textbook.yaml",
        "--inputs",
        CONFIGS / "conv-image.yaml",
        "-f",
        "table",
        "--steps",
    )
    z = convolve(SHIPPED_IMAGE, EDGE, 0)
    assert z == [[0, 7, 7], [0, 6, 8], [0, 7, 7]]  # bright on the left, dark on the right
    for i in range(3):
        for j in range(3):
            cells = flat(window(SHIPPED_IMAGE, i, j, 3))
            terms = " + ".join(
                f"{k} × {x}" if k >= 0 else f"(−{-k}) × {x}" for k, x in zip(flat(EDGE), cells, strict=True)
            )
            assert f"[{i},{j}]  z = {terms} + 0 = {z[i][j]}" in out
    pooled = max_pool(relu(z), 2, 1)
    for i in range(2):
        for j in range(2):
            cells = ", ".join(str(v) for v in flat(window(relu(z), i, j, 2)))
            assert f"[{i},{j}]  a = max({cells}) = {pooled[i][j]}" in out


def test_by_default_the_dense_layer_after_a_flatten_is_worked_and_each_map_shows_its_first_cell(nncalc):
    """The textbook CNN with no --steps: the 25 image inputs do not make the small dense layer at the
    end lose its derivation (z = 0.1 × 7 + 0.2 × 8 + … worked by hand here), and the 3×3 map
    works only its first cell, as the neuron form works a small layer."""
    from tests.conftest import CONFIGS

    result = nncalc("forward", CONFIGS / "conv-textbook.yaml", "--inputs", CONFIGS / "conv-image.yaml", "-f", "table")
    assert result.code == 0, result.err
    pooled = [7, 8, 7, 8]  # max of each 2×2 window of the ReLU'd 3×3 map [[0,7,7],[0,6,8],[0,7,7]]
    z1 = sum(w * v for w, v in zip((0.1, 0.2, 0.1, 0.2), pooled, strict=True)) - 1
    assert f"o1  z = 0.1 × 7 + 0.2 × 8 + 0.1 × 7 + 0.2 × 8 − 1 = {z1:.1f}" in result.out
    assert "[0,0]  z = " in result.out and "[0,1]  z = " not in result.out
