"""Grading the forward pass of a convolution, pooling and flatten, error carried forward.

The textbook exercise (configs/conv-textbook.yaml on configs/conv-image.yaml) is worked
here by hand in plain Python loops: the 3×3 edge filter over the 5×5 image, ReLU, the
2×2 max pool with stride 1, the flatten, the dense softmax. A sheet of those values must
pass; a slip in one cell must be the only mark, the later cells judged from the person's
own (wrong) values; the slips a convolution invites are named; a map of the wrong shape
is located with the shape it should have; every notation writes the marks.
"""

from __future__ import annotations

import json
import math

import pytest

import nncalc as api
from nncalc.answers import parse_sheet
from nncalc.errors import InputError
from nncalc.loader import parse_network
from tests.conftest import CONFIGS
from tests.test_latex_backward import PDFLATEX, compile_pdf, needs_pdflatex
from tests.test_notation_html import parsed

NETWORK = CONFIGS / "conv-textbook.yaml"
IMAGE_FILE = CONFIGS / "conv-image.yaml"
SHEET = CONFIGS / "answers-conv-textbook.yaml"
IMAGE = [
    [2, 3, 3, 0, 1],
    [3, 2, 3, 1, 0],
    [3, 3, 2, 0, 0],
    [2, 3, 3, 1, 0],
    [3, 2, 3, 0, 1],
]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
DENSE_W = [[0.1, 0.2, 0.1, 0.2], [-0.1, -0.2, -0.1, -0.2]]
DENSE_B = [-1, 1]
FLAT = ",".join(str(v) for row in IMAGE for v in row)


# -- the exercise by hand --------------------------------------------------------------------------


def correlate(image, kernel, bias=0.0, stride=1):
    """PyTorch's conv2d on paper: Σ kernel × window + bias, the kernel not flipped."""
    size = len(kernel)
    out = (len(image) - size) // stride + 1
    return [
        [
            sum(kernel[r][k] * image[i * stride + r][j * stride + k] for r in range(size) for k in range(size)) + bias
            for j in range(out)
        ]
        for i in range(out)
    ]


def convolve(image, kernel, bias=0.0):
    """A true convolution: the kernel turned half a turn first."""
    flipped = [list(reversed(row)) for row in reversed(kernel)]
    return correlate(image, flipped, bias)


def max_pool(rows, size=2, stride=1):
    out = (len(rows) - size) // stride + 1
    return [
        [max(rows[i * stride + r][j * stride + k] for r in range(size) for k in range(size)) for j in range(out)]
        for i in range(out)
    ]


def dense(values):
    z = [sum(w * v for w, v in zip(row, values, strict=True)) + b for row, b in zip(DENSE_W, DENSE_B, strict=True)]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return z, [v / sum(e) for v in e]


def matrix(rows) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:g}" for v in row) + "]" for row in rows) + "]"


def sheet_text(z_map, pooled, flat, z_out, a_out) -> str:
    relu_map = [[max(0.0, v) for v in row] for row in z_map]
    return (
        "layers:\n"
        f"  - z: {matrix(z_map)}\n"
        f"    a: {matrix(relu_map)}\n"
        f"  - a: {matrix(pooled)}\n"
        f"  - a: [{', '.join(f'{v:g}' for v in flat)}]\n"
        f"  - z: [{', '.join(f'{v:.4f}' for v in z_out)}]\n"
        f"    a: [{', '.join(f'{v:.4f}' for v in a_out)}]\n"
    )


def by_hand():
    z_map = correlate(IMAGE, EDGE)
    a_map = [[max(0.0, v) for v in row] for row in z_map]
    pooled = max_pool(a_map)
    flat = [v for row in pooled for v in row]
    z_out, a_out = dense(flat)
    return z_map, pooled, flat, z_out, a_out


def wrong(document):
    return [m for m in document["marks"] if m["correct"] is False]


# -- a whole sheet ---------------------------------------------------------------------------------


def test_the_hand_worked_values_are_the_textbook_ones():
    """The test's own arithmetic, checked against the numbers a person gets on paper."""
    z_map, pooled, flat, z_out, _ = by_hand()
    assert z_map == [[0, 7, 7], [0, 6, 8], [0, 7, 7]]
    assert pooled == [[7, 8], [7, 8]] and flat == [7, 8, 7, 8]
    assert z_out == pytest.approx([3.6, -3.6])


def test_a_correct_sheet_passes(nncalc, write):
    answers = write("answers.yaml", sheet_text(*by_hand()))
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", answers, "-f", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["correct"] is True
    # 9 cells of z and a, 4 pooled, 4 flattened, 2 outputs' z and a
    assert document["right"] == 9 * 2 + 4 + 4 + 2 * 2


def test_the_input_may_be_given_flat_with_input(nncalc, write):
    answers = write("answers.yaml", sheet_text(*by_hand()))
    assert nncalc("grade", NETWORK, "-i", FLAT, "-a", answers, "-f", "json").code == 0


def test_one_slip_in_a_conv_cell_is_the_only_mark_and_the_pool_is_judged_from_it(nncalc):
    """The shipped sheet: z[0,1] = 9 for 7. Its a, the pooled 9s, the flatten and the output
    follow from that 9 and are right, though the exact values differ."""
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", SHEET, "-f", "json")
    assert result.code == 1
    document = json.loads(result.out)
    (mark,) = wrong(document)
    assert (mark["layer"], mark["quantity"], mark["cell"]) == ("conv", "z", {"channel": 0, "row": 0, "column": 1})
    assert (mark["given"], mark["expected"]) == (9, correlate(IMAGE, EDGE)[0][1])
    assert (mark["line"], mark["column"]) == (9, 13)
    pooled = [m for m in document["marks"] if m["layer"] == "pool" and m["quantity"] == "a"]
    first = pooled[0]
    assert first["correct"] is True and first["given"] == 9
    assert first["exact"] == max_pool([[max(0, v) for v in row] for row in correlate(IMAGE, EDGE)])[0][0] == 7
    z_out, _ = dense([9, 9, 7, 8])
    output = [m for m in document["marks"] if m["layer"] == "output" and m["quantity"] == "z"]
    assert [m["expected"] for m in output] == pytest.approx(z_out)
    assert document["right"] == 9 * 2 + 4 + 4 + 2 * 2 - 1


def test_a_slip_in_a_pooling_cell_and_max_for_mean(nncalc, write):
    """Pooled [1,1] written as 7: the mean of its window (6, 8, 7, 7) is 7, its max 8."""
    z_map, pooled, *_ = by_hand()
    pooled = [row[:] for row in pooled]
    pooled[1][1] = 7
    answers = write("answers.yaml", sheet_text(z_map, pooled, [7, 8, 7, 7], *dense([7, 8, 7, 7])))
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", answers, "-f", "json")
    (mark,) = wrong(json.loads(result.out))
    assert (mark["layer"], mark["cell"], mark["given"], mark["expected"]) == (
        "pool",
        {"channel": 0, "row": 1, "column": 1},
        7,
        8,
    )
    assert "mean of the window" in mark["diagnosis"]


def test_relu_not_applied_is_named(write):
    """A filter that gives negative z: a written as z where ReLU makes it 0."""
    text = NETWORK.read_text().replace(
        "[[[1, 0, -1],\n          [1, 0, -1],\n          [1, 0, -1]]]", "[[[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]]"
    )
    network = parse_network(text, "net.yaml")
    z = correlate(IMAGE, [[-1, 0, 1]] * 3)
    assert z[0][1] == -7
    sheet = (
        "layers:\n  - a: "
        + matrix([[v if (r, k) == (0, 1) else max(0, v) for k, v in enumerate(row)] for r, row in enumerate(z)])
        + "\n"
    )
    marks = api.grade(network, [v for row in IMAGE for v in row], _mapping(sheet))
    (mark,) = marks.wrong
    assert (mark.layer, mark.neuron, mark.quantity, mark.expected) == (0, 1, "a", 0.0)
    assert mark.diagnosis == "relu was not applied (a = z)"


def _mapping(text: str):
    import yaml

    return yaml.safe_load(text)


ODD = [[1, 2, 0], [0, 1, -1], [3, 0, 1]]  # no symmetry: flipped, transposed and negated all differ
ODD_NETWORK = f"""\
inputs: {{shape: [1, 5, 5]}}
layers:
  - type: conv2d
    name: conv
    weights: [[{matrix(ODD)}]]
    biases: [0.5]
"""


@pytest.mark.parametrize(
    ("slip", "words"),
    [
        (lambda: convolve(IMAGE, ODD, 0.5)[1][2], "the kernel is flipped"),
        (lambda: correlate(IMAGE, ODD, 0.0)[1][2], "the bias is missing"),
        (
            lambda: correlate(IMAGE, [list(col) for col in zip(*ODD, strict=True)], 0.5)[1][2],
            "the kernel is transposed",
        ),
        (lambda: correlate(IMAGE, ODD, 0.5)[1][1], "cell [1,1]'s value"),
    ],
    ids=["flipped", "bias", "transposed", "window-off"],
)
def test_conv_slips_are_named(slip, words):
    network = parse_network(ODD_NETWORK, "odd.yaml")
    right = correlate(IMAGE, ODD, 0.5)[1][2]
    given = slip()
    assert given != right
    marks = api.grade(
        network,
        [v for row in IMAGE for v in row],
        {"layers": [{"z": {0: [[None] * 3, [None, None, given], [None] * 3]}}]},
    )
    (mark,) = marks.wrong
    assert mark.expected == right
    assert words in mark.diagnosis


def test_channels_by_index_or_as_a_list_of_matrices(write):
    """Two filters: the maps as a list of two matrices, or by channel (``1:``, ``map 0:``)."""
    text = """\
inputs: {shape: [1, 5, 5]}
layers:
  - type: conv2d
    name: conv
    weights: [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]], [[[1, 1, 1], [0, 0, 0], [-1, -1, -1]]]]
    biases: [0, 1]
"""
    network = parse_network(text, "two.yaml")
    first = correlate(IMAGE, EDGE)
    second = correlate(IMAGE, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], 1)
    x = [v for row in IMAGE for v in row]
    assert api.grade(network, x, {"layers": [{"z": [first, second]}]}).all_correct
    by_name = api.grade(network, x, {"layers": [{"z": {"map 0": first, 1: second}}]})
    assert by_name.all_correct and len(by_name.right) == 18
    slipped = [row[:] for row in second]
    slipped[2][0] += 1
    (mark,) = api.grade(network, x, {"layers": [{"z": {1: slipped}}]}).wrong
    assert mark.neuron == 9 + 2 * 3 + 0  # channel 1, row 2, column 0 in flatten order


# -- answers of the wrong shape --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "where", "message"),
    [
        (
            "layers:\n  - z: [[0, 7, 7], [0, 6, 8]]\n",
            "2:8",
            "z has 2 rows, expected 3 (a 1×3×3 map: channels×rows×columns)",
        ),
        ("layers:\n  - z: [[0, 7, 7], [0, 6], [0, 7, 7]]\n", "2:20", "z, row 1 has 2 values, expected 3"),
        ("layers:\n  - z: [[[0, 7, 7]], [[0, 6, 8]]]\n", "2:8", "z has 2 matrices, expected 1 (one per channel"),
        ("layers:\n  - z: [0, 7, 7]\n", "2:8", "z has 3 values, expected 9 (a 1×3×3 map"),
        ("layers:\n  - z: {2: [[0]]}\n", "2:9", "unknown channel '2' (the channels are 0 to 0"),
        (
            "layers:\n  - {}\n  - grad_weights: [[0]]\n",
            "3:5",
            "unknown key 'grad_weights' (a maxpool2d layer's answers are z, a, delta",
        ),
        (
            "layers:\n  - {}\n  - a: [[7, 8, 1], [7, 8]]\n",
            "3:9",
            "layer 2 (pool): a, row 0 has 3 values, expected 2 (a 1×2×2 map",
        ),
        ("layers:\n  - z: [[0, 7, 7], [0, 6, 8], [0, 7, [7]]]\n", "2:31", "z mixes numbers and rows in one row"),
        ("layers:\n  - z: {0: [[0]], map 0: [[0]]}\n", "2:19", "z: channel 0 is written twice"),
    ],
    ids=["rows", "row-values", "channels", "flat", "channel-key", "backward-key", "pool-row", "mixed-row", "twice"],
)
def test_a_map_of_the_wrong_shape_is_located(nncalc, write, answers, where, message):
    path = write("answers.yaml", answers)
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", path)
    assert result.code == 2
    assert "Traceback" not in result.err
    line = next(ln for ln in result.err.splitlines() if message.split(" (")[0] in ln)
    assert f"answers.yaml:{where}:" in line
    assert message in result.err


def test_every_problem_is_reported_at_once():
    with pytest.raises(InputError) as caught:
        parse_sheet("layers:\n  - z: [[0]]\n    a: [1, 2]\n  - a: x\n", api.load(NETWORK), "a.yaml")
    assert len(caught.value.problems) == 3


def test_inputs_must_be_one_sample(nncalc, write):
    two = write("two.yaml", "samples:\n  - " + matrix(IMAGE) + "\n  - " + matrix(IMAGE) + "\n")
    result = nncalc("grade", NETWORK, "--inputs", two, "-a", SHEET)
    assert result.code == 2
    assert "2 samples, but an answer sheet is for one sample" in result.err


def test_a_batch_of_images_is_graded_by_the_api():
    """Both images give z = 0 in the convolution (a flat image under an edge filter), so the output
    is softmax(b) = softmax(−1, 1) = (0.119203, 0.880797) for each; δ = a − t with cross-entropy.
    (The batch's maps and gradients against a reference: tests/test_grade_conv_backward.py.)"""
    answers = {"layers": [{}, {}, {}, {"delta": [[-0.880797, 0.880797], [0.119203, -0.119203]]}]}
    images, targets = [[1] * 25, [0] * 25], [[1, 0], [0, 1]]
    marks = api.grade(api.load(NETWORK), images, answers, target=targets, loss="cross_entropy")
    assert marks.all_correct and len(marks.right) == 4
    answers["layers"][3]["delta"][1] = [0.880797, -0.880797]  # the first sample's δ for the second's
    marks = api.grade(api.load(NETWORK), images, answers, target=targets, loss="cross_entropy")
    assert [(m.quantity, m.index) for m in marks.wrong] == [("delta", (1, 0)), ("delta", (1, 1))]


# -- what it shows ---------------------------------------------------------------------------------


def test_the_table_marks_the_maps_and_works_the_wrong_cell_with_the_window(nncalc):
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", SHEET, "-f", "table")
    assert result.code == 1
    out = result.out
    assert "z, yours" in out and "z, expected" in out
    assert "9 ✗" in out and "6 ✓" in out
    assert "first wrong value: z of cell [0,1] in layer 1 (conv)" in out
    assert "window: rows 0–2, columns 1–3" in out
    # the window (3 3 0 / 2 3 1 / 3 2 0) times the kernel, as the person should have summed it
    assert "z = 1 × 3 + 0 × 3 + (−1) × 0 + 1 × 2 + 0 × 3 + (−1) × 1 + 1 × 3 + 0 × 2 + (−1) × 0 + 0 = 7, not 9" in out
    assert "29 right, 1 wrong" in out


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_every_notation_writes_the_marks(nncalc, fmt):
    result = nncalc(
        "grade", NETWORK, "--inputs", IMAGE_FILE, "-a", SHEET, "-f", fmt, "--standalone" if fmt != "markdown" else "-p4"
    )
    assert result.code == 1, result.err
    wrong_cell = {"markdown": "**9 ✗**", "latex": "\\textbf{9 $\\times$}", "html": "9 ✗"}[fmt]
    assert wrong_cell in result.out
    assert "29 right, 1 wrong" in result.out
    if fmt == "html":
        parsed(result.out)


@needs_pdflatex
def test_latex_compiles(nncalc, tmp_path):
    result = nncalc("grade", NETWORK, "--inputs", IMAGE_FILE, "-a", SHEET, "-f", "latex", "--standalone")
    compile_pdf(tmp_path, result.out)


def test_the_document_of_a_pool_slip_works_its_window():
    network = api.load(NETWORK)
    marks = api.grade(network, [v for row in IMAGE for v in row], {"layers": [{}, {"a": [[7, 8], [7, 9]]}]})
    import io

    from nncalc.notation import write_document

    out = io.StringIO()
    write_document(marks.document(), "markdown", out, False)
    assert "a of cell \\[1,1\\] in layer 2 (pool)" in out.getvalue()
    assert "max(6, 8, 7, 7) = 8" in out.getvalue()
    assert "nothing written for this layer" in out.getvalue()


# -- slips of padding, stride, pooling and flatten, on a two-filter network ------------------------

TWO = [[[2, -1, 0], [1, 3, -2], [0, 1, 1]], [[-1, 0, 2], [1, -3, 0], [2, 1, -1]]]
TWO_BIAS = [0.5, -1]
PADDED = f"""\
inputs: {{shape: [1, 5, 5]}}
layers:
  - type: conv2d
    name: conv
    weights: [[{matrix(TWO[0])}], [{matrix(TWO[1])}]]
    biases: {TWO_BIAS}
    stride: 2
    padding: 1
    activation: relu
  - type: avgpool2d
    name: pool
    kernel_size: 2
    stride: 1
  - type: flatten
    name: flat
"""


def padded_conv(image, kernel, bias, stride, padding):
    """conv2d with zeros around the image, on paper."""
    size = len(image) + 2 * padding
    big = [[0] * size for _ in range(size)]
    for r, row in enumerate(image):
        for k, v in enumerate(row):
            big[r + padding][k + padding] = v
    return correlate(big, kernel, bias, stride)


def windows(rows, size=2):
    """Each 2×2 window of a map (stride 1), as a flat list of its cells."""
    out = len(rows) - size + 1
    return [[[rows[i + r][j + k] for r in range(size) for k in range(size)] for j in range(out)] for i in range(out)]


def padded_by_hand():
    z = [padded_conv(IMAGE, kernel, b, 2, 1) for kernel, b in zip(TWO, TWO_BIAS, strict=True)]
    a = [[[max(0.0, v) for v in row] for row in m] for m in z]
    pooled = [[[sum(w) / 4 for w in row] for row in windows(m)] for m in a]
    return z, a, pooled


def _grade_one(layer: int, key: str, channel: int, row: int, column: int, value: float, shape=(3, 3)):
    cells = [[None] * shape[1] for _ in range(shape[0])]
    cells[row][column] = value
    layers = [{} for _ in range(layer)] + [{key: {channel: cells}}]
    marks = api.grade(parse_network(PADDED, "padded.yaml"), [v for row in IMAGE for v in row], {"layers": layers})
    (mark,) = marks.wrong
    return mark


def test_padding_left_out_and_stride_misread_are_named():
    z, _, _ = padded_by_hand()
    unpadded = padded_conv(IMAGE, TWO[1], TWO_BIAS[1], 2, 0)
    stride_one = padded_conv(IMAGE, TWO[1], TWO_BIAS[1], 1, 1)
    assert unpadded[1][1] != z[1][1][1] and stride_one[1][2] != z[1][1][2]
    assert "the padding of 1 was left out" in _grade_one(0, "z", 1, 1, 1, unpadded[1][1]).diagnosis
    assert "the window moved by 1, not by the stride 2" in _grade_one(0, "z", 1, 1, 2, stride_one[1][2]).diagnosis


def test_average_pooling_slips_are_named():
    z, a, pooled = padded_by_hand()
    window = windows(a[0])[0][1]
    assert sum(window) != pooled[0][0][1] and max(window) != pooled[0][0][1]
    assert "not divided by 4" in _grade_one(1, "a", 0, 0, 1, sum(window), (2, 2)).diagnosis
    assert "the max of the window" in _grade_one(1, "a", 0, 0, 1, max(window), (2, 2)).diagnosis
    from_z = [[sum(w) / 4 for w in row] for row in windows(z[1])]
    cell = next((r, k) for r in range(2) for k in range(2) if from_z[r][k] != pooled[1][r][k])
    mark = _grade_one(1, "a", 1, *cell, from_z[cell[0]][cell[1]], (2, 2))
    assert "pooled from z, before relu" in mark.diagnosis


def test_flatten_in_keras_order_is_named():
    _, _, pooled = padded_by_hand()
    channels_last = [pooled[c][r][k] for r in range(2) for k in range(2) for c in range(2)]
    marks = api.grade(
        parse_network(PADDED, "padded.yaml"),
        [v for row in IMAGE for v in row],
        {"layers": [{}, {}, {"a": channels_last}]},
    )
    assert marks.wrong
    assert all("channels last" in m.diagnosis for m in marks.wrong)


def test_a_large_map_is_marked_in_a_table_of_its_wrong_cells():
    text = PADDED.replace("[1, 5, 5]", "[1, 21, 21]")
    network = parse_network(text, "big.yaml")
    image = [[(3 * r + 5 * k) % 7 - 3 for k in range(21)] for r in range(21)]
    z = [padded_conv(image, kernel, b, 2, 1) for kernel, b in zip(TWO, TWO_BIAS, strict=True)]
    slipped = [[row[:] for row in m] for m in z]
    slipped[1][4][7] += 1
    marks = api.grade(network, [v for row in image for v in row], {"layers": [{"z": slipped}]})
    assert len(marks.right) == 2 * 11 * 11 - 1
    (mark,) = marks.wrong
    assert mark.neuron == 121 + 4 * 11 + 7
    import io

    from nncalc.notation import write_document

    out = io.StringIO()
    write_document(marks.document(), "markdown", out, False)
    assert "242 values written, 241 right, 1 wrong" in out.getvalue()
    assert "| \\[1,4,7\\] | z |" in out.getvalue()


# -- a wide dense layer after a flatten ------------------------------------------------------------


def test_a_wide_layers_term_slips_are_found_as_one_by_one(monkeypatch):
    """Past LOOPED_TERMS inputs the terms' slips are looked for with arrays: the same diagnosis
    as the one-by-one candidates give, for a term left out, a sign, and two swapped weights."""
    import random

    from nncalc import grading

    rng = random.Random(7)
    n = grading.LOOPED_TERMS + 6
    weights = [round(rng.uniform(-1, 1), 2) for _ in range(n)]
    x = [round(rng.uniform(1, 9), 3) for _ in range(n)]  # values no two slips share at 10 decimals
    text = f"inputs: {n}\nlayers:\n  - weights: [{weights}]\n    biases: [0.25]\n"
    network = parse_network(text, "wide.yaml")
    z = sum(w * v for w, v in zip(weights, x, strict=True)) + 0.25
    slips = {
        "is missing": z - weights[40] * x[40],
        "has the wrong sign": z - 2 * weights[3] * x[3],
        "the weights of x11 and x51 are swapped": z
        + (weights[50] - weights[10]) * x[10]
        + (weights[10] - weights[50]) * x[50],
    }
    for words, given in slips.items():
        sheet = {"layers": [{"z": [float(f"{given:.10f}")]}]}
        wide = api.grade(network, x, sheet).wrong[0].diagnosis
        monkeypatch.setattr(grading, "LOOPED_TERMS", 10 * n)
        one_by_one = api.grade(network, x, sheet).wrong[0].diagnosis
        monkeypatch.undo()
        assert wide == one_by_one
        assert words in wide


def _two_channel_marks():
    """Two maps with a slip each in z and a, a pool written as z, a flatten slip."""
    z, _, pooled = padded_by_hand()
    z = [[row[:] for row in m] for m in z]
    z[1][2][0] += 1
    a = [[[max(0.0, v) for v in row] for row in m] for m in z]
    a[0][0][0] = -1.5
    flat = [pooled[c][r][k] for c in range(2) for r in range(2) for k in range(2)]
    flat[5] += 0.25
    sheet = {"layers": [{"z": z, "a": a}, {"z": pooled}, {"a": flat}]}
    return api.grade(parse_network(PADDED, "padded.yaml"), [v for row in IMAGE for v in row], sheet)


def test_a_two_channel_sheet_marks_each_map():
    marks = _two_channel_marks()
    assert [(m.layer, m.neuron, m.quantity) for m in marks.wrong] == [(0, 0, "a"), (0, 9 + 6, "z"), (2, 5, "a")]
    assert "relu was" not in (marks.wrong[0].diagnosis or "")  # -1.5 is no slip of ReLU's that can be told
    assert len(marks.right) == 18 * 2 - 2 + 8 + 7


@pytest.mark.parametrize("fmt", ["markdown", "html", "latex", "table"])
def test_a_two_channel_sheet_in_every_notation(fmt, tmp_path):
    import io

    from nncalc.notation import write_document

    out = io.StringIO()
    write_document(_two_channel_marks().document(), fmt, out, fmt in ("html", "latex"))
    text = out.getvalue()
    assert "map 1" in text and "3 wrong" in text and "left out" not in text
    if fmt == "html":
        parsed(text)
    if fmt == "latex" and PDFLATEX is not None:  # without pdflatex, the rest is still checked
        compile_pdf(tmp_path, text)


def test_the_api_takes_the_image_as_a_matrix_and_a_sheets_path():
    marks = api.grade(api.load(NETWORK), IMAGE, SHEET)
    assert not marks.all_correct
    assert [(m.layer, m.neuron, m.quantity, m.given.text) for m in marks.wrong] == [(0, 1, "z", "9")]
    assert repr(marks) == "<Marks: 29 right, 1 wrong>"


def test_without_steps_the_working_is_left_out_and_the_slip_still_named():
    from nncalc.document import Grids, Steps
    from nncalc.worked import View
    from nncalc.worked.grade import grade_document

    marks = api.grade(api.load(NETWORK), IMAGE, {"layers": [{}, {"a": [[7, 8], [7, 7]]}]})
    full = grade_document(marks.network, marks.grade, "sheet", View(4))
    bare = grade_document(marks.network, marks.grade, "sheet", View(4, steps=False))
    assert any(isinstance(b, Steps) for b in full.blocks)
    assert not any(isinstance(b, Steps) for b in bare.blocks)
    assert sum(isinstance(b, Grids) for b in full.blocks) == sum(isinstance(b, Grids) for b in bare.blocks)
    assert any("likely: the mean of the window" in str(b) for b in bare.blocks)


def test_a_dense_slip_after_the_flatten_names_the_flattened_value():
    """The output's z with the term 0.2 × (value 1 = 8) left out: 3.6 − 1.6 = 2."""
    marks = api.grade(api.load(NETWORK), IMAGE, {"layers": [{}, {}, {}, {"z": [2.0, None]}]})
    (mark,) = marks.wrong
    assert mark.expected == pytest.approx(3.6)
    assert mark.diagnosis == "the term 0.2 × value 1 is missing"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--inputs", IMAGE_FILE, "-i", FLAT], "give --input or --inputs, not both"),
        ([], "no input given: use --input VALUES, or --inputs FILE"),
    ],
    ids=["both", "neither"],
)
def test_the_input_is_given_once(nncalc, args, message):
    result = nncalc("grade", NETWORK, "-a", SHEET, *args)
    assert result.code == 2
    assert message in result.err


def test_an_overflowing_map_is_named_by_its_cell_not_a_neuron(nncalc, write):
    """A map's value is a cell (channel.row.column), as forward's own overflow message says."""
    net = write(
        "big.yaml",
        "inputs: {shape: [1, 2, 2]}\nlayers:\n  - name: conv\n    type: conv2d\n"
        "    weights: [[[[1e300, 1e300], [1e300, 1e300]]]]\n    biases: 0\n  - type: flatten\n",
    )
    answers = write("answers.yaml", "layers: [{z: [[1]]}]\n")
    result = nncalc("grade", net, "-i", "1e10,1,1,1", "-a", answers)
    assert result.code == 1
    assert result.err == (
        "error: layer 1 (conv), cell 0.0.0: z is an overflow (inf) in the exact calculation, "
        "so there is no value to grade against\n"
    )
