"""``--steps matrix`` on convolution, pooling and flatten: windows and kernels written as matrices.

The textbook exercise is worked here by hand in plain Python (tests/test_conv_worked.py's loops):
each window of the image, the edge filter, every z and a, each pooling window and its max, the
flatten order. The pages' matrices must hold exactly those numbers; every notation must write
them (balanced bmatrix in Markdown, MathML that parses, terminal brackets that line up, LaTeX
that pdflatex compiles inside the margins).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from nncalc.activations import BoundActivation
from nncalc.document import Document, Grids, Steps
from nncalc.engine import forward
from nncalc.expr import Call, Chain, Dots, Frac, Index, Matrix, Name, Num, Product, Sigma, Sum
from nncalc.network import Network
from nncalc.notation.formula import LatexWriter, TextWriter
from nncalc.notation.html import MathMLWriter, html_fragment
from nncalc.notation.latex import latex_source
from nncalc.notation.markdown import markdown_text
from nncalc.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d, input_names
from nncalc.worked import View
from nncalc.worked.forward import forward_document
from tests.conftest import CONFIGS
from tests.test_conv_worked import (
    EDGE,
    FLAT,
    FLAT_INPUT,
    IMAGE,
    POOLED,
    TEXTBOOK,
    A,
    Z,
    convolve,
    flat,
    large_network,
    relu,
    textbook_network,
    window,
)
from tests.test_latex_backward import compile_pdf, needs_pdflatex
from tests.test_matrix_form import bracket_columns, terminal

MATRIX = View(4, True, False, "matrix")


def page(network: Network, image, view: View = MATRIX, texts=None) -> Document:
    x = np.array(image, dtype=np.float64).reshape(1, -1)
    return forward_document(network, forward(network, x), texts, view)


def chains(document: Document) -> list[Chain]:
    return [c for block in document.blocks if isinstance(block, Steps) for step in block.items for c in step.chains]


def chain_for(document: Document, head) -> Chain:
    found = [c for c in chains(document) if c.parts[0] == head]
    assert len(found) == 1, f"{head}: {len(found)} chains"
    return found[0]


def values(matrix) -> list[list[float]]:
    assert isinstance(matrix, Matrix)
    return [[cell.value for cell in row] for row in matrix.rows]


def operands(sum_call) -> tuple[Matrix, Matrix]:
    """The window and the kernel of ``sum(window ⊙ kernel)``."""
    assert isinstance(sum_call, Call) and sum_call.name == "sum"
    (product,) = sum_call.args
    assert isinstance(product, Product) and product.sign == "⊙"
    return product.factors  # type: ignore[return-value]


def cell(letter: str, layer: int, where: str) -> Index:
    return Index(Name(letter, str(layer)), where)


# -- the textbook exercise --------------------------------------------------------------------------


def test_every_convolution_cell_is_its_window_times_the_kernel_summed_plus_the_bias():
    document = page(textbook_network(), IMAGE)
    for i in range(3):
        for j in range(3):
            chain = chain_for(document, cell("Z", 1, f"{i},{j}"))
            symbols, written, result = chain.parts[1:]
            assert symbols == Sum(
                (
                    Call("sum", (Product((Index(Name("X"), f"{i}:{i + 3},{j}:{j + 3}"), Name("K", "1")), "⊙"),)),
                    Name("b", "1"),
                )
            )
            shown_window, kernel = operands(written.terms[0])
            assert values(shown_window) == window(IMAGE, i, j, 3)
            assert values(kernel) == EDGE and shown_window.shape == kernel.shape == (3, 3)
            assert written.terms[1] == Num(0.5, "0.5")
            assert result.value == Z[i][j] and chain.relations == ("=", "=", "=")
    # no window grids: in this form the window and the kernel are in the formula
    assert not [g for b in document.blocks if isinstance(b, Grids) for g in b.items if "window" in g.title[0]]


def test_the_map_is_written_at_once_with_the_activation_element_wise():
    document = page(textbook_network(), IMAGE)
    chain = chain_for(document, Name("A", "1"))
    assert chain.parts[1] == Call("ReLU", (Name("Z", "1"),))
    assert values(chain.parts[2].args[0]) == Z
    assert values(chain.parts[-1]) == A
    assert chain.parts[-1].shape == (3, 3) and set(chain.relations) == {"="}


def test_every_pooling_window_is_a_matrix_and_its_max():
    document = page(textbook_network(), IMAGE)
    for i in range(2):
        for j in range(2):
            chain = chain_for(document, cell("A", 2, f"{i},{j}"))
            assert chain.parts[1] == Call("max", (Index(Name("A", "1"), f"{i}:{i + 2},{j}:{j + 2}"),))
            (shown,) = chain.parts[2].args
            assert values(shown) == window(A, i, j, 2)
            assert chain.parts[-1].value == POOLED[i][j] and chain.relations == ("=", "=", "=")
    pooled = chain_for(document, Name("A", "2"))
    assert pooled.parts[1] == Call("maxpool", (Name("A", "1"),)) and values(pooled.parts[-1]) == POOLED


def test_flatten_turns_the_map_into_a_column_in_its_order():
    network = textbook_network()
    document = page(network, IMAGE)
    chain = chain_for(document, Name("a", "3"))
    assert chain.parts[1] == Call("flatten", (Name("A", "2"),))
    (shown,) = chain.parts[2].args
    assert values(shown) == POOLED
    column = chain.parts[-1]
    assert column.shape == (4, 1) and [row[0].value for row in column.rows] == FLAT
    notes = [b for b in document.blocks if getattr(b, "lead", None) == "order:"]
    assert "cell [r,k] becomes value 2·r + k" in notes[0].text[0]


def test_a_dense_layer_after_the_flatten_reads_the_column():
    network = textbook_network()
    from nncalc.loader import parse_network

    dense = TEXTBOOK + "  - {weights: [[1, -1, 2, 0.5]], biases: [0.25], activation: sigmoid}\n"
    network = parse_network(dense, "t.yaml")
    document = page(network, IMAGE)
    chain = chain_for(document, Name("z", "4"))
    assert chain.parts[1] == Sum((Product((Name("W", "4"), Name("a", "3"))), Name("b", "4")))
    _, received = chain.parts[2].terms[0].factors
    assert [row[0].value for row in received.rows] == FLAT
    expected = 1 * FLAT[0] - 1 * FLAT[1] + 2 * FLAT[2] + 0.5 * FLAT[3] + 0.25
    assert values(chain.parts[-1]) == [[pytest.approx(expected, abs=1e-15)]]


def test_the_plain_text_of_the_first_cell():
    document = page(textbook_network(), IMAGE)
    text = TextWriter(4).chain(chain_for(document, cell("Z", 1, "0,0")))
    image = "; ".join(", ".join(str(v) for v in row) for row in window(IMAGE, 0, 0, 3))
    kernel = "; ".join(", ".join(str(v).replace("-", "−") for v in row) for row in EDGE)
    assert text == f"Z_1[0,0] = sum(X[0:3,0:3] ⊙ K_1) + b_1 = sum([{image}] ⊙ [{kernel}]) + 0.5 = 2.5"


# -- = or ≈, padding, stride, channels, averages ----------------------------------------------------


def test_a_sum_that_the_shown_numbers_do_not_give_is_approximate():
    """1/3 shows as 0.3333; 3 × 0.3333 = 0.9999, not the shown 1."""
    conv = Conv2d.build("c", (1, 1, 1), [[[[3.0]]]], [0.0])
    network = Network(inputs=input_names((1, 1, 1)), layers=(conv,), input_shape=(1, 1, 1), source="t")
    chain = chain_for(page(network, [[1 / 3]]), cell("Z", 1, "0,0"))
    assert chain.relations[-1] == "≈"
    exact = chain_for(page(network, [[0.25]]), cell("Z", 1, "0,0"))
    assert exact.relations[-1] == "=" and exact.parts[-1].value == 0.75


def test_padding_names_the_padded_input_and_shows_its_zeros():
    image = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]
    ones = [[1, 1, 1]] * 3
    conv = Conv2d.build("c", (1, 4, 4), [[ones]], [0.0], stride=(2, 2), padding=(1, 1))
    network = Network(inputs=input_names((1, 4, 4)), layers=(conv,), input_shape=(1, 4, 4), source="t")
    document = page(network, image)
    padded = [[0] * 6, *([0, *row, 0] for row in image), [0] * 6]
    for i in range(2):
        for j in range(2):
            chain = chain_for(document, cell("Z", 1, f"{i},{j}"))
            (symbol, _kernel) = chain.parts[1].terms[0].args[0].factors
            assert symbol == Index(Call("pad", (Name("X"),)), f"{2 * i}:{2 * i + 3},{2 * j}:{2 * j + 3}")
            shown, _ = operands(chain.parts[2].terms[0])
            assert values(shown) == window(padded, 2 * i, 2 * j, 3)
            assert chain.parts[-1].value == sum(flat(window(padded, 2 * i, 2 * j, 3)))


def test_several_channels_write_one_sum_per_input_channel():
    kernels = [[[[1, 0], [0, 1]], [[2, 0], [0, 0]]], [[[0, 1], [1, 0]], [[0, 0], [0, -1]]]]
    image = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 0, 1], [0, 1, 0], [1, 0, 1]]]
    conv = Conv2d.build("c", (2, 3, 3), kernels, [0.0, 1.0], activation=BoundActivation.named("relu"))
    network = Network(inputs=input_names((2, 3, 3)), layers=(conv,), input_shape=(2, 3, 3), source="t")
    document = page(network, image)
    for out in range(2):
        by_hand = [
            [sum(convolve(image[c], kernels[out][c], 0)[i][j] for c in range(2)) + out for j in range(2)]
            for i in range(2)
        ]
        for i in range(2):
            for j in range(2):
                chain = chain_for(document, cell("Z", 1, f"{out},{i},{j}"))
                first, second, _ = chain.parts[2].terms
                for c, term in enumerate((first, second)):
                    shown, kernel = operands(term)
                    assert values(shown) == window(image[c], i, j, 2) and values(kernel) == kernels[out][c]
                assert chain.parts[1].terms[1].args[0].factors == (
                    Index(Name("X"), f"1,{i}:{i + 2},{j}:{j + 2}"),
                    Index(Name("K", "1"), f"{out},1"),
                )
                assert chain.parts[1].terms[2] == Index(Name("b", "1"), str(out))
                assert chain.parts[-1].value == by_hand[i][j]
        maps = chain_for(document, Index(Name("A", "1"), str(out)))
        assert values(maps.parts[-1]) == relu(by_hand)


def test_many_input_channels_are_summed_with_sigma():
    conv = Conv2d.build("c", (4, 3, 3), np.ones((1, 4, 3, 3)), [0.0])
    network = Network(inputs=input_names((4, 3, 3)), layers=(conv,), input_shape=(4, 3, 3), source="t")
    chain = chain_for(page(network, np.arange(36).reshape(4, 3, 3)), cell("Z", 1, "0,0"))
    assert isinstance(chain.parts[1].terms[0], Sigma)
    assert TextWriter(4).chain(chain) == f"Z_1[0,0] = Σᵢ sum(X[i,0:3,0:3] ⊙ K_1[0,i]) + b_1 = {sum(range(36))}"


def test_max_pooling_reads_only_the_cells_inside_the_map():
    pool = MaxPool2d(name="p", input_shape=(1, 3, 3), kernel_size=(2, 2), stride=(2, 2), padding=(1, 1))
    network = Network(inputs=input_names((1, 3, 3)), layers=(pool,), input_shape=(1, 3, 3), source="t")
    image = [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]
    document = page(network, image)
    expected = {  # the window each output cell covers, cut to the map: PyTorch never lets the padding win
        (0, 0): ("0:1,0:1", [[-1]]),
        (0, 1): ("0:1,1:3", [[-2, -3]]),
        (1, 0): ("1:3,0:1", [[-4], [-7]]),
        (1, 1): ("1:3,1:3", [[-5, -6], [-8, -9]]),
    }
    for (i, j), (where, cells) in expected.items():
        chain = chain_for(document, Index(Name("A", "1"), f"{i},{j}"))
        assert chain.parts[1] == Call("max", (Index(Name("X"), where),))
        assert values(chain.parts[2].args[0]) == cells and chain.parts[-1].value == max(flat(cells))


def test_average_pooling_is_the_windows_sum_over_its_size():
    document = page(textbook_network("avgpool2d"), IMAGE)
    for i in range(2):
        for j in range(2):
            chain = chain_for(document, cell("A", 2, f"{i},{j}"))
            assert chain.parts[1] == Frac(
                Call("sum", (Index(Name("A", "1"), f"{i}:{i + 2},{j}:{j + 2}"),)), Num(4.0, "4")
            )
            assert values(chain.parts[2].numerator.args[0]) == window(A, i, j, 2)
            mean = Fraction(sum(Fraction(v) for v in flat(window(A, i, j, 2))), 4)
            assert chain.parts[-1].value == float(mean) and chain.relations[-1] == "="
    assert chain_for(document, Name("A", "2")).parts[1] == Call("avgpool", (Name("A", "1"),))


def test_a_large_map_works_the_first_cell_of_each_map_and_elides_the_maps():
    image = [[(r * 7 + k * 3) % 5 for k in range(12)] for r in range(12)]
    document = page(large_network(), image)
    cells = [
        c.parts[0] for c in chains(document) if isinstance(c.parts[0], Index) and c.parts[0].base == Name("Z", "1")
    ]
    assert cells == [cell("Z", 1, "0,0,0"), cell("Z", 1, "1,0,0")]
    laplace = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    first = chain_for(document, cell("Z", 1, "0,0,0"))
    shown, kernel = operands(first.parts[2].terms[0])
    assert values(shown) == window(image, 0, 0, 3) and values(kernel) == laplace
    whole = chain_for(document, Index(Name("A", "1"), "0")).parts[-1]
    assert whole.shape == (10, 10) and len(whole.rows) == 6 and whole.rows[3][3] == Dots("⋱")
    assert [cell.value for cell in whole.rows[0][:3]] == [
        sum(laplace[r][k] * image[r][j + k] for r in range(3) for k in range(3)) for j in range(3)
    ]
    column = chain_for(document, Name("a", "2")).parts[-1]
    assert column.shape == (200, 1) and column.rows[3] == (Dots("⋮"),)
    everything = page(large_network(), image, View(4, True, True, "matrix"))
    assert chain_for(everything, Index(Name("A", "1"), "0")).parts[-1].rows[9][9].value is not None
    assert len([c for c in chains(everything) if c.parts[0] in (cell("Z", 1, "0,9,9"), cell("Z", 1, "1,9,9"))]) == 2


def test_without_steps_asked_for_the_first_cell_of_each_map_is_worked_and_none_with_no_steps():
    """As the neuron form: the first cell by default, every cell with --steps, none with --no-steps."""
    default = page(textbook_network(), IMAGE, View(4, None, False, "matrix"))
    heads = [c.parts[0] for c in chains(default)]
    assert [h for h in heads if isinstance(h, Index)] == [cell("Z", 1, "0,0"), cell("A", 2, "0,0")]
    assert Name("A", "1") in heads and Name("a", "3") in heads
    assert not chains(page(textbook_network(), IMAGE, View(4, False, False, "matrix")))


# -- the notations ------------------------------------------------------------------------------------


def test_an_index_is_written_in_every_notation():
    node = Index(Name("A", "2"), "0:3,1:4")
    assert TextWriter(4).write(node) == "A_2[0:3,1:4]"
    assert LatexWriter(4).write(node) == "A_{2}[0{:}3,1{:}4]"
    mathml = MathMLWriter(4).math(MathMLWriter(4).write(node))
    root = ET.fromstring(mathml)
    assert "".join(root.itertext()) == "A2[0:3,1:4]"
    assert TextWriter(4).write(Index(Call("pad", (Name("X"),)), "0:3,0:3")) == "pad(X)[0:3,0:3]"


def several_channels_with_padding() -> Network:
    kernels = (np.arange(2 * 3 * 3 * 3).reshape(2, 3, 3, 3) % 7 - 3) / 4
    conv = Conv2d.build(
        "conv", (3, 4, 4), kernels, [0.25, -0.5], padding=(1, 1), activation=BoundActivation.named("tanh")
    )
    pool = AvgPool2d(name="pool", input_shape=(2, 4, 4), kernel_size=(2, 2), stride=(2, 2))
    flat_layer = Flatten(name="flat", input_shape=(2, 2, 2))
    return Network(inputs=input_names((3, 4, 4)), layers=(conv, pool, flat_layer), input_shape=(3, 4, 4), source="t")


def test_terminal_brackets_line_up_and_every_window_is_shown():
    lines = terminal(page(textbook_network(), IMAGE)).splitlines()
    corners = [(r, c) for r, line in enumerate(lines) for c, ch in enumerate(line) if ch == "┌"]
    assert len(corners) >= 2 * 9 + 4 + 3  # windows and kernels, pooling windows, the maps
    for row, column in corners:
        rows = bracket_columns(lines, row, column)
        right = lines[row].index("┐", column)
        assert all(lines[k][right] == "│" for k in rows[1:-1]) and lines[rows[-1]][right] == "┘"
        assert re.fullmatch(r"\d+×\d+", lines[rows[-1] + 1][column : right + 1].strip())
    text = "\n".join(lines)
    assert "Z_1[2,2] = sum(X[2:5,2:5] ⊙ K_1) + b_1 = sum" in text
    assert "A_1 = ReLU(Z_1) = ReLU" in text and "A_2[1,1] = max(A_1[1:3,1:3]) = max" in text


def test_markdown_writes_each_cell_as_a_display_with_balanced_bmatrix():
    text = markdown_text(page(textbook_network(), IMAGE))
    displays = re.findall(r"^\$\$(.*)\$\$$", text, flags=re.M)
    assert len(displays) == 9 + 1 + 4 + 1 + 1  # conv cells and map, pooling windows and map, flatten
    for display in displays:
        assert display.count(r"\begin{bmatrix}") == display.count(r"\end{bmatrix}") > 0
        assert display.count(r"\left(") == display.count(r"\right)")
    assert r"Z_{1}[0{:}0]" not in text and r"Z_{1}[0,0] = \operatorname{sum}(X[0{:}3,0{:}3] \odot K_{1})" in text


def test_html_is_well_formed_with_a_table_per_matrix():
    document = page(several_channels_with_padding(), np.linspace(-1, 1, 48).reshape(3, 4, 4))
    tree = ET.fromstring(html_fragment(document))
    mathml = "{http://www.w3.org/1998/Math/MathML}"
    tables = list(tree.iter(mathml + "mtable"))
    # 16 cells of 2 maps, each 3 windows and 3 kernels; 2 maps twice (z and a), 4 pooling windows
    # and the pooled map for each of 2 maps, the flatten's 2 maps and its column
    assert len(tables) == 2 * 16 * 6 + 2 * 2 + 2 * (4 + 1) + 3


@needs_pdflatex
@pytest.mark.parametrize("which", ["textbook", "channels"])
def test_the_latex_page_compiles_without_overfull_lines(tmp_path, which):
    if which == "textbook":
        document = page(textbook_network(), IMAGE)
    else:
        document = page(several_channels_with_padding(), np.linspace(-1, 1, 48).reshape(3, 4, 4))
    compile_pdf(tmp_path, latex_source(document, standalone=True))


# -- the command line ---------------------------------------------------------------------------------


def test_steps_matrix_on_the_shipped_exercise(nncalc):
    result = nncalc(
        "forward",
        CONFIGS / "conv-textbook.yaml",
        "--inputs",
        CONFIGS / "conv-image.yaml",
        "--steps",
        "matrix",
        "-f",
        "table",
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    image = [[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]]
    z = convolve(image, EDGE, 0)
    # the first cell: its window's rows beside the kernel's, on three lines, the sum on the middle one
    at = next(k for k, line in enumerate(lines) if "Z_1[0,0] = sum(X[0:3,0:3] ⊙ K_1) + b_1 = sum" in line)
    assert lines[at].rstrip().endswith(f"+ 0 = {z[0][0]}")
    for r, line in enumerate(lines[at - 1 : at + 2]):
        inside = re.split("[⎞⎟⎠]", line.split("sum", 2)[-1] if r == 1 else line)[0]  # up to the closing bracket
        numbers = re.findall(r"−?\d+", inside)
        assert [int(n.replace("−", "-")) for n in numbers] == [*window(image, 0, 0, 3)[r], *EDGE[r]]
    assert "a_3 = flatten(A_2) = flatten" in result.out and "z_4 = W_4 · a_3 + b_4" in result.out
    neurons = nncalc("forward", CONFIGS / "conv-textbook.yaml", "--inputs", CONFIGS / "conv-image.yaml", "-f", "table")
    assert "Z_1[0,0]" not in neurons.out and "window: rows 0–2, columns 0–2" in neurons.out


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_every_format_takes_steps_matrix(nncalc, tmp_path, fmt):
    path = tmp_path / "conv.yaml"
    path.write_text(TEXTBOOK, encoding="utf-8")
    result = nncalc("forward", path, "-i", FLAT_INPUT, "--steps", "matrix", "-f", fmt)
    assert result.code == 0, result.err
    for value in {*flat(Z), *FLAT}:
        assert f"{value:g}" in result.out or f"{value:g}".replace("-", "−") in result.out


def test_a_flatten_of_maps_too_wide_for_a_line_leaves_them_out():
    """Three maps of 3×5 side by side are 15 columns, wider than a line (in LaTeX it ran 373 pt
    into the margin): the flatten is written a = flatten(A) = [column], the maps being the pooling's
    own result just above it."""
    from tests.test_conv_backward import batch_of, network

    net = network("deep")  # … avgpool to 3×3×5, flatten to 45, dense
    document = forward_document(net, forward(net, batch_of(net, 1)), None, View(4, True, False, "matrix"))
    chain = chain_for(document, Name("a", "4"))
    assert net.layers[3].input_shape == (3, 3, 5)
    assert chain.parts[1] == Call("flatten", (Name("A", "3"),)) and len(chain.parts) == 3
    assert chain.parts[2].shape == (45, 1)
