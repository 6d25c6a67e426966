"""Grading a person's backward pass through a convolution, a pooling and a flatten (CNN backprop homework).

The reference here works each sheet as a person does, in plain loops over the cells: the
forward maps, the loss, the output δ, Wᵀδ into the flatten, the pool's δ routed back (to
each window's first max cell, or shared out over the window), times f′(z) of the
convolution, the kernel's gradient as the cross-correlation of the image with δ, the bias
gradient as the sum of δ, and the updates, every value rounded to six decimals and carried
on rounded. A slip or a mistake is made by the reference itself and carried forward; the
reference is checked against PyTorch's autograd where PyTorch is installed. Nothing is
taken from nncalc's output.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nncalc.answers import parse_sheet
from nncalc.errors import InputError
from nncalc.loader import load_network, parse_network
from tests.conftest import CONFIGS

TEXTBOOK = CONFIGS / "conv-textbook.yaml"
IMAGE_FILE = CONFIGS / "conv-image.yaml"
EXAMPLE = CONFIGS / "answers-conv-backward.yaml"
DECIMALS = 6

# the textbook exercise: configs/conv-textbook.yaml on configs/conv-image.yaml
TEXTBOOK_NET = {
    "image": [[[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]]],
    "kernels": [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]],
    "kernel_biases": [0.0],
    "conv_activation": "relu",
    "pool": "max",
    "dense_w": [[0.1, 0.2, 0.1, 0.2], [-0.1, -0.2, -0.1, -0.2]],
    "dense_b": [-1.0, 1.0],
    "out_activation": "softmax",
    "loss": "cross_entropy",
}

# two maps, a sigmoid convolution (its f′ is never 1), an average pool and a sigmoid output
TWO_MAPS_YAML = """\
name: two maps
inputs: {shape: [1, 4, 4]}
layers:
  - name: conv
    type: conv2d
    weights:
      - [[[0.5, -0.25], [0.125, 0.75]]]
      - [[[-0.5, 0.25], [1.0, -0.125]]]
    biases: [0.1, -0.2]
    activation: sigmoid
  - name: pool
    type: avgpool2d
    kernel_size: 2
    stride: 1
  - name: flatten
    type: flatten
  - name: out
    weights:
      - [0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.15, -0.3]
      - [-0.25, 0.1, 0.05, 0.2, 0.3, -0.15, 0.1, 0.05]
    biases: [0.05, -0.05]
    activation: sigmoid
"""
TWO_MAPS_NET = {
    "image": [[[0.9, 0.5, -0.3, 0.8], [0.9, -0.2, 0.4, 0.0], [-0.6, 0.3, 0.7, 0.2], [0.5, 0.1, -0.4, 0.6]]],
    "kernels": [[[[0.5, -0.25], [0.125, 0.75]]], [[[-0.5, 0.25], [1.0, -0.125]]]],
    "kernel_biases": [0.1, -0.2],
    "conv_activation": "sigmoid",
    "pool": "avg",
    "dense_w": [[0.1, -0.2, 0.3, 0.05, -0.1, 0.2, 0.15, -0.3], [-0.25, 0.1, 0.05, 0.2, 0.3, -0.15, 0.1, 0.05]],
    "dense_b": [0.05, -0.05],
    "out_activation": "sigmoid",
    "loss": "half_sse",
}
TWO_MAPS_INPUT = ",".join(str(v) for row in TWO_MAPS_NET["image"][0] for v in row)


def carried(value):
    """As a person carries a value on: rounded to six decimals (half away from zero, as written)."""
    return np.vectorize(lambda v: float(f"{v:.{DECIMALS}f}"))(np.asarray(value, dtype=float))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# -- the reference, worked cell by cell ----------------------------------------------------------


def correlate(maps, kernels, biases):
    """z[o, i, j] = Σ_c Σ_p,q K[o, c, p, q] · x[c, i + p, j + q] + b[o] (stride 1, no padding)."""
    out, channels, kh, kw = kernels.shape
    rows, columns = maps.shape[1] - kh + 1, maps.shape[2] - kw + 1
    z = np.zeros((out, rows, columns))
    for o in range(out):
        for i in range(rows):
            for j in range(columns):
                total = biases[o]
                for c in range(channels):
                    for p in range(kh):
                        for q in range(kw):
                            total += kernels[o, c, p, q] * maps[c, i + p, j + q]
                z[o, i, j] = total
    return z


def windows(rows, columns, size=2):
    """Each 2×2 window (stride 1) of a rows × columns map: its output cell and its cells in row order."""
    for i in range(rows - size + 1):
        for j in range(columns - size + 1):
            yield (i, j), [(i + p, j + q) for p in range(size) for q in range(size)]


def pool(maps, mode):
    channels, rows, columns = maps.shape
    out = np.zeros((channels, rows - 1, columns - 1))
    for c in range(channels):
        for (i, j), cells in windows(rows, columns):
            values = [maps[c, r, k] for r, k in cells]
            out[c, i, j] = max(values) if mode == "max" else sum(values) / len(values)
    return out


def route(delta, maps, how):
    """The pool's δ sent back to the map it pooled: to the window's first max cell ("max"), δ/n to each
    cell ("avg"), or the slips: δ to every cell ("every"), δ/n to each cell of a max pool ("shared")."""
    back = np.zeros_like(maps)
    channels, rows, columns = maps.shape
    for c in range(channels):
        for (i, j), cells in windows(rows, columns):
            if how == "max":
                values = [maps[c, r, k] for r, k in cells]
                r, k = cells[values.index(max(values))]
                back[c, r, k] += delta[c, i, j]
            else:
                share = delta[c, i, j] if how == "every" else delta[c, i, j] / len(cells)
                for r, k in cells:
                    back[c, r, k] += share
    return back


def forward(net):
    x = np.array(net["image"], dtype=float)
    kernels, kb = np.array(net["kernels"], dtype=float), np.array(net["kernel_biases"], dtype=float)
    w, b = np.array(net["dense_w"]), np.array(net["dense_b"])
    z1 = carried(correlate(x, kernels, kb))
    a1 = carried(np.maximum(z1, 0) if net["conv_activation"] == "relu" else sigmoid(z1))
    pooled = carried(pool(a1, net["pool"]))
    flat = pooled.ravel()
    z2 = carried(w @ flat + b)
    if net["out_activation"] == "softmax":
        e = np.exp(z2 - z2.max())
        a2 = carried(e / e.sum())
    else:
        a2 = carried(sigmoid(z2))
    return x, z1, a1, pooled, flat, z2, a2


def work(net, target, lr=0.5, slip=None, mistake=None, unrounded=()):
    """Every value of the sheet, in the order a person works it, each carried on as written.

    ``slip`` (a value's name) adds 0.25 to its largest entry; ``mistake`` works one step the
    wrong way; either is carried into every value after it. The values named in ``unrounded``
    are carried at full precision (kept on the calculator, not written)."""
    t = np.array(target, dtype=float)
    kernels, kb = np.array(net["kernels"], dtype=float), np.array(net["kernel_biases"], dtype=float)
    w, b = np.array(net["dense_w"]), np.array(net["dense_b"])
    x, z1, a1, pooled, flat, z2, a2 = forward(net)
    v = {"z1": z1, "a1": a1, "pooled": pooled, "flat": flat, "z2": z2, "a2": a2}

    def written(name, value):
        value = np.asarray(value, dtype=float) if name in unrounded else carried(value)
        if slip == name:
            value = value.copy()
            value.flat[int(np.argmax(np.abs(value)))] += 0.25
        v[name] = value
        return value

    if net["loss"] == "cross_entropy":
        written("loss", -np.sum(t * np.log(a2)))
        d2 = written("d2", a2 - t)
    else:
        written("loss", 0.5 * np.sum((t - a2) ** 2))
        d2 = written("d2", (a2 - t) * a2 * (1 - a2))
    gw2 = written("gw2", np.outer(d2, flat))
    gb2 = written("gb2", d2)
    written("w2", w - lr * gw2)
    written("b2", b - lr * gb2)
    dflat = written("dflat", w.T @ d2)
    channels, rows, columns = pooled.shape
    if mistake == "channels last":  # read back as Keras flattens: rows, then columns, then channels
        unfolded = np.zeros(pooled.shape)
        for n, value in enumerate(dflat):
            cell, c = divmod(n, channels)
            unfolded[c, cell // columns, cell % columns] = value
    elif mistake == "columns first":  # each channel's values read down the columns
        unfolded = np.zeros(pooled.shape)
        for n, value in enumerate(dflat):
            c, cell = divmod(n, rows * columns)
            unfolded[c, cell % rows, cell // rows] = value
    else:
        unfolded = dflat.reshape(pooled.shape)
    dpool = written("dpool", unfolded)
    how = net["pool"]
    if mistake in ("every cell", "shared"):
        how = {"every cell": "every", "shared": "shared"}[mistake]
    elif mistake == "max cell":
        how = "max"
    upstream = route(dpool, a1, how)
    if mistake == "not divided":
        upstream = upstream * 4
    relu = net["conv_activation"] == "relu"
    derivative = (z1 > 0).astype(float) if relu else a1 * (1 - a1)  # relu′(0) = 0, as PyTorch takes it
    d1 = written("d1", upstream if mistake == "no f′" else upstream * derivative)
    slid = d1[:, ::-1, ::-1] if mistake == "true convolution" else d1  # δ turned half a turn
    grads = np.zeros_like(kernels)
    for o in range(kernels.shape[0]):
        for c in range(kernels.shape[1]):
            for p in range(kernels.shape[2]):
                for q in range(kernels.shape[3]):
                    grads[o, c, p, q] = sum(
                        slid[o, i, j] * x[c, i + p, j + q] for i in range(d1.shape[1]) for j in range(d1.shape[2])
                    )
    if mistake == "gradient flipped":  # written turned half a turn: [p, q] at [rows − 1 − p, columns − 1 − q]
        grads = grads[:, :, ::-1, ::-1]
    elif mistake == "gradient transposed":  # each kernel's rows written as its columns
        grads = np.array(
            [
                [
                    [[grads[o, c, q, p] for q in range(grads.shape[3])] for p in range(grads.shape[2])]
                    for c in range(grads.shape[1])
                ]
                for o in range(grads.shape[0])
            ]
        )
    gw1 = written("gw1", grads)
    sums = d1.sum(axis=(1, 2))
    gb1 = written("gb1", sums / (d1.shape[1] * d1.shape[2]) if mistake == "bias mean" else sums)
    w1 = written("w1", kernels - (1.0 if mistake == "no lr" else lr) * gw1)
    if mistake == "new kernel flipped":
        v["w1"] = w1[:, :, ::-1, ::-1]
    written("b1", kb - lr * gb1)
    return v


def maps(values) -> str:
    """A map as a list of matrices, one per channel (a flat list for a vector)."""
    values = np.asarray(values)
    if values.ndim == 1:
        return "[" + ", ".join(f"{v:.{DECIMALS}f}" for v in values) + "]"
    return "[" + ", ".join(maps(part) for part in values) + "]"


def sheet(v, forward_values=True) -> str:
    """The sheet as a person writes it: a matrix per channel for maps, kernels as the network file writes them."""
    conv = [f"delta: {maps(v['d1'])}", f"grad_weights: {maps(v['gw1'])}", f"grad_biases: {maps(v['gb1'])}"]
    conv += [f"weights: {maps(v['w1'])}", f"biases: {maps(v['b1'])}"]
    pool_, flat = [f"delta: {maps(v['dpool'])}"], [f"delta: {maps(v['dflat'])}"]
    out = [f"delta: {maps(v['d2'])}", f"grad_weights: {maps(v['gw2'])}", f"grad_biases: {maps(v['gb2'])}"]
    out += [f"weights: {maps(v['w2'])}", f"biases: {maps(v['b2'])}"]
    if forward_values:
        conv = [f"z: {maps(v['z1'])}", f"a: {maps(v['a1'])}", *conv]
        pool_ = [f"a: {maps(v['pooled'])}", *pool_]
        flat = [f"a: {maps(v['flat'])}", *flat]
        out = [f"z: {maps(v['z2'])}", f"a: {maps(v['a2'])}", *out]
    layers = "".join("  - " + "\n    ".join(entries) + "\n" for entries in (conv, pool_, flat, out))
    return f"loss: {v['loss']:.{DECIMALS}f}\nlayers:\n{layers}"


@pytest.fixture
def two_maps(write):
    return write("two-maps.yaml", TWO_MAPS_YAML)


def graded(nncalc, write, network, net, target, *options, text=None):
    """Grade a sheet (the reference's unless ``text``) in JSON: (exit code, the document)."""
    answers = write("answers.yaml", text if text is not None else sheet(work(net, target)))
    inputs = ("--inputs", IMAGE_FILE) if network == TEXTBOOK else ("-i", TWO_MAPS_INPUT)
    target_text = ",".join(str(v) for v in target)
    result = nncalc("grade", network, *inputs, "-t", target_text, "-a", answers, *options, "-f", "json")
    assert "Traceback" not in result.err
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def wrong(document):
    return [m for m in document["marks"] if m["correct"] is False]


# -- the reference itself --------------------------------------------------------------------------


def test_the_reference_gives_the_textbook_numbers_by_hand():
    v = work(TEXTBOOK_NET, [0, 1])
    assert v["z1"].tolist() == [[[0, 7, 7], [0, 6, 8], [0, 7, 7]]]
    assert v["pooled"].tolist() == [[[7, 8], [7, 8]]]
    # softmax(3.6, −3.6) is (0.999254, 0.000746); δ = a − t; Wᵀδ gives 0.2·0.999254 and 0.4·0.999254
    assert v["d2"].tolist() == [0.999254, -0.999254]
    assert v["dflat"].tolist() == pytest.approx([0.199851, 0.399702, 0.199851, 0.399702], abs=1e-6)
    # the max cells: 7 at [0,1] (window [0,0]), 8 at [1,2] (windows [0,1] and [1,1]), 7 at [2,1]
    assert v["d1"][0].tolist() == [[0, 0.199851, 0], [0, 0, 0.799404], [0, 0.199851, 0]]
    assert v["gb1"].tolist() == [1.199106]


@pytest.mark.parametrize(("net", "target"), [(TEXTBOOK_NET, [0, 1]), (TWO_MAPS_NET, [1, 0])])
def test_the_reference_agrees_with_autograd(net, target):
    torch = pytest.importorskip("torch")
    v = work(net, target)
    x = torch.tensor(net["image"], dtype=torch.float64)[None]
    kernels = torch.tensor(net["kernels"], dtype=torch.float64, requires_grad=True)
    kb = torch.tensor(net["kernel_biases"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(net["dense_w"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(net["dense_b"], dtype=torch.float64, requires_grad=True)
    z1 = torch.nn.functional.conv2d(x, kernels, kb)
    z1.retain_grad()
    a1 = torch.relu(z1) if net["conv_activation"] == "relu" else torch.sigmoid(z1)
    pooled = (
        torch.nn.functional.max_pool2d(a1, 2, 1) if net["pool"] == "max" else torch.nn.functional.avg_pool2d(a1, 2, 1)
    )
    z2 = pooled.flatten(1) @ w.T + b
    t = torch.tensor([target], dtype=torch.float64)
    if net["loss"] == "cross_entropy":
        loss = torch.nn.functional.cross_entropy(z2, t)
    else:
        loss = 0.5 * ((torch.sigmoid(z2) - t) ** 2).sum()
    loss.backward()
    assert v["loss"] == pytest.approx(loss.item(), abs=1e-4)  # worked from a rounded to six decimals
    assert v["d1"] == pytest.approx(z1.grad[0].numpy(), abs=1e-5)
    assert v["gw1"] == pytest.approx(kernels.grad.numpy(), abs=1e-5)
    assert v["gb1"] == pytest.approx(kb.grad.numpy(), abs=1e-5)
    assert v["gw2"] == pytest.approx(w.grad.numpy(), abs=1e-5)


# -- whole sheets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("with_forward", [True, False])
def test_a_correct_textbook_sheet_passes(nncalc, write, with_forward):
    v = work(TEXTBOOK_NET, [0, 1])
    if not with_forward:  # the loss from the exact a, as no a is written: −ln(softmax(−3.6)) = 7.2 + ln(1 + e^−7.2)
        v["loss"] = 7.2 + math.log1p(math.exp(-7.2))
    text = sheet(v, with_forward)
    code, document = graded(nncalc, write, TEXTBOOK, TEXTBOOK_NET, [0, 1], "--loss", "cross_entropy", text=text)
    assert code == 0 and document["correct"] is True
    backward = 1 + 9 + 9 + 1 + 9 + 1 + 4 + 4 + 2 + 8 + 2 + 8 + 2  # loss, conv, pool δ, flatten δ, output
    assert document["right"] == backward + (9 + 9 + 4 + 4 + 2 + 2 if with_forward else 0)


def test_a_correct_sheet_of_two_maps_and_an_average_pool_passes(nncalc, write, two_maps):
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0])
    assert code == 0 and document["correct"] is True, wrong(document)[:1]
    kernel = [m for m in document["marks"] if m["layer"] == "conv" and m["quantity"] == "grad_weights"]
    assert len(kernel) == 8 and kernel[3]["neuron"] == "0" and kernel[3]["source"] == "0.1.1"
    assert kernel[4]["neuron"] == "1" and kernel[4]["source"] == "0.0.0"
    assert kernel[3]["cell"] == {"channel": 0, "row": 1, "column": 1}
    delta = [m for m in document["marks"] if m["layer"] == "pool" and m["quantity"] == "delta"]
    assert delta[5]["neuron"] == "1.0.1" and delta[5]["cell"] == {"channel": 1, "row": 0, "column": 1}
    assert next(m for m in document["marks"] if m["layer"] == "out")["cell"] is None


def test_the_shipped_example_has_one_slip_and_the_rest_is_judged_from_it(nncalc):
    """configs/answers-conv-backward.yaml: δ[1,2] of the convolution, the max of two windows, gets
    only one window's δ (0.399702, not 0.799404). The kernel's and bias's gradients and the
    updates worked from that δ are right: error carried forward."""
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", "json")
    result = nncalc("grade", TEXTBOOK, *args)
    assert result.code == 1, result.err
    document = json.loads(result.out)
    (mark,) = wrong(document)
    assert (mark["layer"], mark["quantity"], mark["neuron"]) == ("conv", "delta", "0.1.2")
    assert mark["given"] == 0.399702 and mark["expected"] == pytest.approx(0.799404, abs=1e-6)
    assert "a cell that is the max of several windows got one window's δ" in mark["diagnosis"]
    # the sheet's other values are the reference's, worked from that slip
    v = work(TEXTBOOK_NET, [0, 1], lr=0.1)
    d1 = v["d1"].copy()
    d1[0, 1, 2] = 0.399702
    given = {(m["layer"], m["quantity"], m["neuron"], m["source"]): m["given"] for m in document["marks"]}
    x = np.array(TEXTBOOK_NET["image"][0], dtype=float)
    for p in range(3):
        for q in range(3):
            expected = sum(d1[0, i, j] * x[i + p, j + q] for i in range(3) for j in range(3))
            assert given["conv", "grad_weights", "0", f"0.{p}.{q}"] == pytest.approx(expected, abs=1e-6)
    assert given["conv", "grad_biases", "0", None] == pytest.approx(d1.sum(), abs=1e-6)
    assert document["right"] > 80


def test_the_value_from_exact_earlier_values_is_shown_to_the_digits_written(nncalc):
    """Beside the expected 0.799404 (worked from the sheet's rounded values), the value from
    exact earlier values is shown to the six decimals the person wrote: at the page's four it
    would read 0.7994, the same as the expected value rounded, and say nothing."""
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", "table")
    result = nncalc("grade", TEXTBOOK, *args)
    names = ("loss", "d2", "gw2", "gb2", "w2", "b2", "dflat", "dpool", "d1")
    exact = work(TEXTBOOK_NET, [0, 1], lr=0.1, unrounded=names)["d1"][0, 1, 2]
    assert f"with exact earlier values it is {exact:.6f})" in result.out
    assert f"{exact:.6f}" != "0.799404"


# -- one slip, one mark: error carried forward -----------------------------------------------------

SLIPS = {  # a value slipped, and where its mark is
    "loss": (None, "loss"),
    "d2": ("out", "delta"),
    "gw2": ("out", "grad_weights"),
    "gb2": ("out", "grad_biases"),
    "w2": ("out", "weights"),
    "b2": ("out", "biases"),
    "dflat": ("flatten", "delta"),
    "dpool": ("pool", "delta"),
    "d1": ("conv", "delta"),
    "gw1": ("conv", "grad_weights"),
    "gb1": ("conv", "grad_biases"),
    "w1": ("conv", "weights"),
    "b1": ("conv", "biases"),
}


@pytest.mark.parametrize("slip", list(SLIPS))
def test_a_slip_marks_only_that_value_and_what_follows_is_judged_from_it(nncalc, write, two_maps, slip):
    v = work(TWO_MAPS_NET, [1, 0], slip=slip)
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], text=sheet(v))
    assert code == 1
    (mark,) = wrong(document)
    assert (mark["layer"], mark["quantity"]) == SLIPS[slip]
    right = np.asarray(work(TWO_MAPS_NET, [1, 0])[slip])
    assert mark["given"] == pytest.approx(right.flat[int(np.argmax(np.abs(right)))] + 0.25, abs=1e-9)


# -- the likely mistakes, each made by the reference ----------------------------------------------


@pytest.mark.parametrize(
    ("network", "mistake", "where", "phrase"),
    [
        ("textbook", "every cell", ("conv", "delta"), "the max pool's δ was sent to every cell of its window"),
        ("textbook", "shared", ("conv", "delta"), "the max pool's δ was shared out over its window (divided by 4"),
        ("textbook", "true convolution", ("conv", "grad_weights"), "δ was flipped before it slid over the input"),
        ("textbook", "bias mean", ("conv", "grad_biases"), "averaged over the map's 9 cells"),
        ("textbook", "no lr", ("conv", "weights"), "the learning rate is not applied"),
        ("two maps", "not divided", ("conv", "delta"), "the average pool's δ was not divided by the window's size 4"),
        ("two maps", "no f′", ("conv", "delta"), "the factor f′(z) of sigmoid is missing"),
        ("two maps", "true convolution", ("conv", "grad_weights"), "a true convolution a ∗ δ"),
        ("textbook", "gradient flipped", ("conv", "grad_weights"), "the kernel's gradient is written flipped"),
        ("two maps", "gradient flipped", ("conv", "grad_weights"), "the kernel's gradient is written flipped"),
        ("textbook", "gradient transposed", ("conv", "grad_weights"), "the kernel's gradient is written transposed"),
        ("two maps", "gradient transposed", ("conv", "grad_weights"), "the kernel's gradient is written transposed"),
        ("textbook", "new kernel flipped", ("conv", "weights"), "the new kernel is written flipped"),
        ("two maps", "new kernel flipped", ("conv", "weights"), "the new kernel is written flipped"),
        ("textbook", "columns first", ("pool", "delta"), "the flattened δ was read back columns before rows"),
        ("two maps", "columns first", ("pool", "delta"), "the flattened δ was read back columns before rows"),
        ("two maps", "channels last", ("pool", "delta"), "the flattened δ was read back channels last"),
    ],
)
def test_each_mistake_is_named(nncalc, write, two_maps, network, mistake, where, phrase):
    net, target = (TEXTBOOK_NET, [0, 1]) if network == "textbook" else (TWO_MAPS_NET, [1, 0])
    path = TEXTBOOK if network == "textbook" else two_maps
    options = ("--loss", "cross_entropy") if network == "textbook" else ()
    v = work(net, target, mistake=mistake)
    code, document = graded(nncalc, write, path, net, target, *options, text=sheet(v))
    assert code == 1
    marks = wrong(document)
    assert {(m["layer"], m["quantity"]) for m in marks} == {where}  # what follows is judged from the mistake
    assert all(phrase in m["diagnosis"] for m in marks), [m["diagnosis"] for m in marks]


def test_a_delta_left_out_carries_its_mistake_into_the_kernel_gradient_diagnosis(nncalc, write, two_maps):
    """δ of the convolution worked without f′(z) and not written: the kernel's gradient made from it
    is the wrong value, and the slip named is the δ's."""
    v = work(TWO_MAPS_NET, [1, 0], mistake="no f′", unrounded=("d1",))
    text = sheet(v).replace(f"delta: {maps(v['d1'])}", "delta: ~")
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], text=text)
    assert code == 1
    assert {m["quantity"] for m in wrong(document)} == {"grad_weights", "grad_biases"}
    assert all("f′(z) of sigmoid is missing" in m["diagnosis"] for m in wrong(document))


def test_the_error_written_t_minus_a_is_a_convention_not_a_mistake(nncalc, write, two_maps):
    v = work(TWO_MAPS_NET, [1, 0])
    for name in ("d2", "dflat", "dpool", "d1"):  # every δ the other sign; gradients and updates the same
        v[name] = -v[name]
    text = sheet(v)
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], "--error", "t-a", text=text)
    assert code == 0, wrong(document)[:1]
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], text=text)
    assert code == 1 and "the error's sign is flipped" in wrong(document)[0]["diagnosis"]


def test_frozen_biases_and_the_learning_rate_are_the_commands(nncalc, write, two_maps):
    v = work(TWO_MAPS_NET, [1, 0], lr=0.1)
    v["b1"] = np.array(TWO_MAPS_NET["kernel_biases"])
    v["b2"] = np.array(TWO_MAPS_NET["dense_b"])
    options = ("--lr", "0.1", "--freeze-biases")
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], *options, text=sheet(v))
    assert code == 0, wrong(document)[:1]


def test_the_first_adam_step_is_graded(nncalc, write, two_maps):
    """Adam's first step from zero moments is w − lr · g / (|g| + ε): a step of lr against the gradient's sign."""
    v = work(TWO_MAPS_NET, [1, 0], lr=0.01)
    for weights, grads, start in (("w1", "gw1", "kernels"), ("b1", "gb1", "kernel_biases")):
        g = v[grads]
        v[weights] = carried(np.array(TWO_MAPS_NET[start]) - 0.01 * g / (np.abs(g) + 1e-8))
    for weights, grads, start in (("w2", "gw2", "dense_w"), ("b2", "gb2", "dense_b")):
        g = v[grads]
        v[weights] = carried(np.array(TWO_MAPS_NET[start]) - 0.01 * g / (np.abs(g) + 1e-8))
    options = ("--lr", "0.01", "--optimizer", "adam")
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], *options, text=sheet(v))
    assert code == 0, wrong(document)[:1]


# -- the answers format ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernels",
    [
        "[[[[0.5, -0.25], [0.125, 0.75]]], [[[-0.5, 0.25], [1.0, -0.125]]]]",  # as the network file
        "[[[0.5, -0.25], [0.125, 0.75]], [[-0.5, 0.25], [1.0, -0.125]]]",  # a matrix per out channel
        "[0.5, -0.25, 0.125, 0.75, -0.5, 0.25, 1.0, -0.125]",  # flat
    ],
)
def test_kernels_are_read_as_the_network_file_writes_them_or_shorter(kernels, two_maps):
    network = load_network(two_maps)
    read = parse_sheet(f"layers:\n  - weights: {kernels}\n    biases: {{1: 0.5}}\n", network, "a.yaml")
    values = [[[[a.value for a in row] for row in m] for m in per_out] for per_out in read.layers[0].weights]
    assert values == TWO_MAPS_NET["kernels"]
    assert read.layers[0].biases[0] is None and read.layers[0].biases[1].value == 0.5


@pytest.mark.parametrize(
    ("answers", "where", "message"),
    [
        (
            "layers:\n  - grad_weights: [[0.1, 0.2], [0.3, 0.4]]\n",
            "2:19",
            "grad_weights: one matrix is for a convolution of one channel in and one out; this one has 2×1 kernels",
        ),
        (
            "layers:\n  - weights: [0.1, 0.2, 0.3]\n",
            "2:14",
            "weights has 3 values, expected 8 = 2·1·2·2 (2×1 kernels of 2×2",
        ),
        (
            "layers:\n  - weights: [[[[0.1, 0.2], [0.3, 0.4]]], [[[0.1, 0.2], [0.3]]]]\n",
            "2:57",
            "weights, kernel [1,0], row 1 has 1 value, expected 2",
        ),
        (
            "layers:\n  - grad_weights: [[[[0.1, 0.2], [0.3, 0.4]]]]\n",
            "2:19",
            "grad_weights has 1 entries, expected 2, one per out channel",
        ),
        ("layers:\n  - grad_biases: [0.1, 0.2, 0.3]\n", "2:18", "grad_biases has 3 values, expected 2"),
        ("layers:\n  - biases: 0.1\n", "2:13", "biases: one number is for one out channel"),
        (
            "layers:\n  - delta: [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]\n",
            "2:12",
            "delta: one matrix is for a map of one channel; this one has 2 (a 2×3×3 map",
        ),
        (
            "layers:\n  - {}\n  - grad_weights: [[0.1]]\n",
            "3:5",
            "unknown key 'grad_weights' (a avgpool2d layer's answers are z, a, delta",
        ),
        ("layers:\n  - {}\n  - {}\n  - delta: [0.1, 0.2]\n", "4:12", "delta has 2 values, expected 8"),
    ],
    ids=[
        "one-matrix",
        "flat-count",
        "row",
        "out-channels",
        "bias-count",
        "bias-number",
        "delta-map",
        "pool-key",
        "flat",
    ],
)
def test_a_malformed_sheet_is_located_with_the_shape_it_should_have(nncalc, write, two_maps, answers, where, message):
    path = write("answers.yaml", answers)
    result = nncalc("grade", two_maps, "-i", TWO_MAPS_INPUT, "-t", "1,0", "-a", path)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert f"error: {path}:{where}: " in result.err and message in result.err, result.err


def test_every_problem_of_a_sheet_is_reported_at_once(two_maps):
    text = "layers:\n  - grad_weights: [1]\n    biases: [1, 2, 3]\n  - grad_biases: [1]\n"
    with pytest.raises(InputError) as caught:
        parse_sheet(text, load_network(two_maps), "a.yaml")
    assert len(caught.value.problems) == 3


def test_backward_values_need_the_target(nncalc):
    result = nncalc("grade", TEXTBOOK, "--inputs", IMAGE_FILE, "-a", EXAMPLE)
    assert result.code == 2 and "give the targets with --target" in result.err


def test_inputs_give_one_sample_so_one_target(nncalc):
    result = nncalc("grade", TEXTBOOK, "--inputs", IMAGE_FILE, "-t", "0,1", "-t", "1,0", "-a", EXAMPLE)
    assert result.code == 2 and "--inputs gives one sample, so one --target" in result.err


def test_a_flat_input_works_as_the_image_file_does(nncalc):
    flat = ",".join(str(v) for row in TEXTBOOK_NET["image"][0] for v in row)
    from_file = nncalc(
        "grade", TEXTBOOK, "--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", "json"
    )
    flat_input = nncalc("grade", TEXTBOOK, "-i", flat, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", "json")
    assert from_file.code == flat_input.code == 1
    assert json.loads(from_file.out)["marks"] == json.loads(flat_input.out)["marks"]


# -- what it shows ---------------------------------------------------------------------------------


def test_the_table_shows_the_delta_maps_and_works_the_wrong_cell(nncalc):
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", "table")
    result = nncalc("grade", TEXTBOOK, *args)
    assert result.code == 1
    out = result.out
    assert "δ, yours" in out and "δ, expected" in out and "∂L/∂W, yours" in out
    assert "0.399702 ✗" in out
    assert "first wrong value: δ[1,2] in layer 1 (conv)" in out
    # δ = ∂L/∂a · f′(z), ∂L/∂a as the max pool passed it down to the cell that won two windows
    assert "= 0.799404 · 1 = 0.799404, not 0.399702" in out
    assert "the first in row order on a tie" in out


def test_a_wrong_kernel_gradient_is_worked_as_the_sum_over_the_map(nncalc, write):
    v = work(TEXTBOOK_NET, [0, 1], slip="gw1")
    answers = write("answers.yaml", sheet(v))
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", answers, "--loss", "cross_entropy", "-f", "table")
    result = nncalc("grade", TEXTBOOK, *args)
    assert result.code == 1
    assert "first wrong value: ∂L/∂W[0,0,0,0]" in result.out
    # δ (0.199851 at [0,1] and [2,1], 0.799404 at [1,2]) times the cells w[0,0] meets there: 3, 3, 3
    out = result.out
    assert "0.199851 · 3" in out and "0.799404 · 3" in out and "= 3.597318, not 3.847318" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html", "json"])
@pytest.mark.parametrize("steps", [(), ("--no-steps",), ("--steps", "matrix")])
def test_every_format_renders(nncalc, fmt, steps):
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "-f", fmt)
    if fmt == "json" and steps:
        return
    result = nncalc("grade", TEXTBOOK, *args, *steps)
    assert result.code == 1, result.err
    assert "0.399702" in result.out and "Traceback" not in result.err
    if steps != ("--no-steps",) and fmt != "json":
        assert "0.799404" in result.out


def test_a_wrong_dense_value_of_a_conv_net_is_worked_as_a_dense_layer(nncalc, write, two_maps):
    v = work(TWO_MAPS_NET, [1, 0], slip="gw2")
    path = write("answers.yaml", sheet(v))
    result = nncalc("grade", two_maps, "-i", TWO_MAPS_INPUT, "-t", "1,0", "-a", path, "-f", "table")
    assert result.code == 1 and "first wrong value: ∂L/∂w(" in result.out


def test_the_api_grades_a_conv_backward_pass():
    import yaml

    import nncalc as api

    v = work(TEXTBOOK_NET, [0, 1], slip="d1")
    answers = yaml.safe_load(sheet(v))
    marks = api.grade(api.load(TEXTBOOK), TEXTBOOK_NET["image"], answers, target=[0, 1], loss="cross_entropy")
    assert not marks.all_correct and len(marks.wrong) == 1
    (mark,) = marks.wrong
    assert (mark.quantity, mark.layer, mark.index) == ("delta", 0, (0, 5))  # the cell [1,2] of the map
    assert mark.expected == pytest.approx(0.799404, abs=1e-6)
    assert "first wrong value: δ[1,2] in layer 1 (conv)" in marks.to_text()


def test_the_spatial_network_file_is_read():
    network = parse_network(TWO_MAPS_YAML, "two-maps.yaml")
    assert [layer.kind for layer in network.layers] == ["conv2d", "avgpool2d", "flatten", "dense"]


# -- δ passed back through a convolution, and a map too large for grids ---------------------------

TWO_CONVS_YAML = """\
name: two convolutions
inputs: {shape: [1, 4, 4]}
layers:
  - {name: c1, type: conv2d, weights: [[[[0.5, -1.0], [0.25, 2.0]]]], biases: [0.1], activation: identity}
  - {name: c2, type: conv2d, weights: [[[[1.0, 0.5], [-0.5, 0.25]]]], biases: [0.0], activation: identity}
  - {name: flatten, type: flatten}
  - {name: out, weights: [[0.3, -0.2, 0.1, 0.4]], biases: [0.0], activation: identity}
"""
TWO_CONVS_IMAGE = [[0.2, -0.4, 0.6, 0.1], [0.5, 0.3, -0.2, 0.7], [-0.1, 0.8, 0.4, -0.3], [0.9, -0.6, 0.2, 0.5]]


def two_convs_deltas(unflipped: bool) -> tuple:
    """δ of each layer of TWO_CONVS_YAML for target 0 (half-SSE, identity output): the output's a − t,
    Wᵀδ into the flatten, and δ of c1 as each δ of c2 scattered back through the kernel it met
    (or, the mistake, through the kernel turned half a turn)."""
    k1, k2 = np.array([[0.5, -1.0], [0.25, 2.0]]), np.array([[1.0, 0.5], [-0.5, 0.25]])
    x = np.array(TWO_CONVS_IMAGE)
    z1 = correlate(x[None], k1[None, None], [0.1])[0]
    z2 = correlate(z1[None], k2[None, None], [0.0])[0]
    w = np.array([0.3, -0.2, 0.1, 0.4])
    d_out = carried(np.array([w @ z2.ravel()]))  # a − t with t = 0
    d2 = carried(w * d_out[0]).reshape(2, 2)
    used = k2[::-1, ::-1] if unflipped else k2
    d1 = np.zeros((3, 3))
    for i in range(2):
        for j in range(2):
            for p in range(2):
                for q in range(2):
                    d1[i + p, j + q] += d2[i, j] * used[p, q]
    return d_out, d2, carried(d1)


def test_delta_passed_back_through_an_unflipped_kernel_is_named(nncalc, write):
    network = write("two-convs.yaml", TWO_CONVS_YAML)
    d_out, d2, d1 = two_convs_deltas(unflipped=True)
    _, right2, right1 = two_convs_deltas(unflipped=False)
    assert not np.allclose(d1, right1)  # the mistake shows
    text = f"layers:\n  - delta: {maps(d1)}\n  - delta: {maps(d2)}\n  - delta: {maps(d2.ravel())}\n"
    text += f"  - delta: {maps(d_out)}\n"
    flat = ",".join(str(v) for row in TWO_CONVS_IMAGE for v in row)
    result = nncalc("grade", network, "-i", flat, "-t", "0", "-a", write("a.yaml", text), "-f", "json")
    assert result.code == 1, result.err
    marks = wrong(json.loads(result.out))
    assert {(m["layer"], m["quantity"]) for m in marks} == {("c1", "delta")}
    assert "δ went back through the kernel unflipped" in marks[0]["diagnosis"]
    right = f"layers:\n  - delta: {maps(right1)}\n  - delta: {maps(right2)}\n"
    result = nncalc("grade", network, "-i", flat, "-t", "0", "-a", write("b.yaml", right), "-f", "json")
    assert result.code == 0, wrong(json.loads(result.out))[:1]


def test_the_average_pools_delta_sent_to_the_max_cell_is_named(nncalc, write, two_maps):
    v = work(TWO_MAPS_NET, [1, 0], mistake="max cell")
    code, document = graded(nncalc, write, two_maps, TWO_MAPS_NET, [1, 0], text=sheet(v))
    assert code == 1
    assert "sent to the window's max cell only" in wrong(document)[0]["diagnosis"]


def test_a_delta_map_too_large_for_grids_lists_its_wrong_cells(nncalc, write):
    network = write(
        "wide.yaml",
        "inputs: {shape: [1, 12, 12]}\nlayers:\n"
        "  - {name: conv, type: conv2d, weights: [[[[1.0]]]], biases: [0.0], activation: identity}\n"
        "  - {name: flatten, type: flatten}\n"
        "  - {name: out, weights: [" + ", ".join(["0.01"] * 144) + "], biases: [0.0], activation: identity}\n",
    )
    image = [(r * 12 + c) / 144 for r in range(12) for c in range(12)]
    out = sum(0.01 * v for v in image)
    delta = [0.01 * out] * 144  # δ of the 1×1 convolution: Wᵀ(a − t), t = 0, identity
    delta[5] += 1
    text = "layers:\n  - delta: [" + ", ".join(f"{v:.6f}" for v in delta) + "]\n"
    args = ("-i", ",".join(map(str, image)), "-t", "0", "-a", write("a.yaml", text), "-f", "table")
    result = nncalc("grade", network, *args)
    assert result.code == 1, result.err
    assert "144 values written, 143 right, 1 wrong" in result.out
    assert "δ[0,5]" in result.out


# -- a symmetric network: a flip, a transposition or another unfolding changes nothing -------------

SYMMETRIC_YAML = """\
name: symmetric
inputs: {shape: [1, 4, 4]}
layers:
  - {name: c1, type: conv2d, weights: [[[[1.0, 0.5], [0.5, 1.0]]]], biases: [0.1], activation: identity}
  - {name: c2, type: conv2d, weights: [[[[0.5, -0.25], [-0.25, 0.5]]]], biases: [0.0], activation: identity}
  - {name: flatten, type: flatten}
  - {name: out, weights: [[0.3, -0.2, -0.2, 0.3]], biases: [0.0], activation: identity}
"""
# the same read across its diagonal and turned half a turn, as the kernels and the output's weights are
SYMMETRIC_IMAGE = [[0.2, -0.4, 0.6, 0.1], [-0.4, 0.3, 0.7, 0.6], [0.6, 0.7, 0.3, -0.4], [0.1, 0.6, -0.4, 0.2]]


def symmetric_sheet(slip: str | None = None) -> tuple[str, dict]:
    """The backward pass of SYMMETRIC_YAML for target 0 (half-SSE, identity, lr 0.5), worked in loops and
    written rounded; ``slip`` adds 0.25 to the value [0, 0, 0, 1] of a kernel or [0, 1] of a δ map."""
    x = np.array(SYMMETRIC_IMAGE)
    k1, k2 = np.array([[1.0, 0.5], [0.5, 1.0]]), np.array([[0.5, -0.25], [-0.25, 0.5]])
    w = np.array([0.3, -0.2, -0.2, 0.3])
    z1 = correlate(x[None], k1[None, None], [0.1])[0]
    z2 = correlate(z1[None], k2[None, None], [0.0])[0]
    v: dict = {}

    def written(name, value):
        value = carried(value)
        if slip == name:
            value = value.copy()
            value[(0, 1) if value.ndim == 2 else 1] += 0.25
        v[name] = value
        return value

    d_out = written("d_out", [w @ z2.ravel()])  # a − t, t = 0
    written("gw_out", [d_out[0] * z2.ravel()])
    written("gb_out", d_out)
    written("w_out", [w - 0.5 * v["gw_out"][0]])
    written("b_out", [-0.5 * v["gb_out"][0]])
    d_flat = written("d_flat", w * d_out[0])
    d2 = written("d2", d_flat.reshape(2, 2))

    def backward(delta, below, kernel, name):
        grads = np.zeros((2, 2))
        for p in range(2):
            for q in range(2):
                grads[p, q] = sum(
                    delta[i, j] * below[i + p, j + q] for i in range(delta.shape[0]) for j in range(delta.shape[1])
                )
        gw = written(f"gw{name}", grads)
        gb = written(f"gb{name}", [delta.sum()])
        written(f"w{name}", kernel - 0.5 * gw)
        written(f"b{name}", [(0.1 if name == "1" else 0.0) - 0.5 * gb[0]])

    backward(d2, z1, k2, "2")
    d1 = np.zeros((3, 3))
    for i in range(2):
        for j in range(2):
            for p in range(2):
                for q in range(2):
                    d1[i + p, j + q] += d2[i, j] * k2[p, q]
    d1 = written("d1", d1)
    backward(d1, x, k1, "1")

    def conv(n, delta):
        return (
            f"  - delta: {maps(delta)}\n    grad_weights: {maps(v[f'gw{n}'])}\n    grad_biases: {maps(v[f'gb{n}'])}\n"
            f"    weights: {maps(v[f'w{n}'])}\n    biases: {maps(v[f'b{n}'])}\n"
        )

    text = "layers:\n" + conv("1", v["d1"]) + conv("2", v["d2"]) + f"  - delta: {maps(v['d_flat'])}\n"
    text += (
        f"  - delta: {maps(v['d_out'])}\n    grad_weights: {maps(v['gw_out'])}\n    grad_biases: {maps(v['gb_out'])}\n"
    )
    text += f"    weights: {maps(v['w_out'])}\n    biases: {maps(v['b_out'])}\n"
    return text, v


def grade_symmetric(nncalc, write, text):
    network = write("symmetric.yaml", SYMMETRIC_YAML)
    flat = ",".join(str(value) for row in SYMMETRIC_IMAGE for value in row)
    result = nncalc("grade", network, "-i", flat, "-t", "0", "-a", write("a.yaml", text), "-f", "json")
    assert "Traceback" not in result.err and result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def test_in_a_symmetric_network_the_flips_change_nothing_so_the_sheet_is_right(nncalc, write):
    text, v = symmetric_sheet()
    for name in ("gw1", "w1", "gw2", "w2", "d1", "d2"):  # flipped, transposed: the same numbers
        assert np.array_equal(v[name], v[name][::-1, ::-1]) and np.array_equal(v[name], v[name].T), name
    assert np.array_equal(v["d_flat"].reshape(2, 2).T, v["d2"])  # unfolded columns first: the same map
    code, document = grade_symmetric(nncalc, write, text)
    assert code == 0 and document["correct"] is True, wrong(document)[:1]
    assert document["right"] == 9 + 4 + 1 + 4 + 1 + 4 + 4 + 1 + 4 + 1 + 4 + 1 + 4 + 1 + 4 + 1


@pytest.mark.parametrize(
    ("slip", "where"),
    [
        ("gw1", ("c1", "grad_weights")),
        ("w1", ("c1", "weights")),
        ("d1", ("c1", "delta")),
        ("gw2", ("c2", "grad_weights")),
        ("d2", ("c2", "delta")),
    ],
)
def test_in_a_symmetric_network_a_slip_is_not_called_a_flip(nncalc, write, slip, where):
    """Flipping, transposing or reading in another order changes nothing here: none of those
    mistakes can be what gave a wrong value, so none is named."""
    text, _ = symmetric_sheet(slip)
    code, document = grade_symmetric(nncalc, write, text)
    assert code == 1
    (mark,) = wrong(document)
    assert (mark["layer"], mark["quantity"]) == where
    named = mark["diagnosis"] or ""
    for phrase in ("flipped", "transposed", "columns before rows", "unflipped", "true convolution"):
        assert phrase not in named, named


# -- a batch: a map per sample, the gradients the batch's --------------------------------------------

SECOND_IMAGE = {  # a second sample for each network, and its target
    "textbook": ([[[1, 0, 2, 3, 1], [0, 3, 1, 2, 2], [2, 1, 0, 3, 0], [3, 2, 1, 0, 1], [1, 3, 2, 1, 0]]], [1, 0]),
    "two maps": (
        [[[0.2, -0.7, 0.4, 0.1], [0.6, 0.3, -0.5, 0.9], [-0.2, 0.8, 0.1, -0.4], [0.7, -0.1, 0.5, 0.3]]],
        [0, 1],
    ),
}


def work_batch(net, images, targets, lr=0.5, batch="mean", slip=None):
    """A batch worked as a person does: each sample's forward pass and δ by ``work`` (a δ does not
    depend on the batch), then the gradients as the mean (or sum) over the samples of each sample's,
    in loops, and the updates from them. The per-sample values are stacked, sample first, as the
    sheet writes them; ``slip`` adds 0.25 to the last sample's largest value of a per-sample
    value, or to the largest of the kernel's gradient ("gw1"), carried into what follows."""
    per = [work(net | {"image": image}, target, lr) for image, target in zip(images, targets, strict=True)]
    v = {name: np.stack([p[name] for p in per]) for name in ("z1", "a1", "pooled", "flat", "z2", "a2")}
    v |= {name: np.stack([p[name] for p in per]) for name in ("d2", "dflat", "dpool", "d1")}
    if slip in v:
        last = v[slip][-1]
        last.flat[int(np.argmax(np.abs(last)))] += 0.25
    n = len(images) if batch == "mean" else 1
    t = np.array(targets, dtype=float)
    if net["loss"] == "cross_entropy":
        losses_ = [-np.sum(t[s] * np.log(v["a2"][s])) for s in range(len(images))]
    else:
        losses_ = [0.5 * np.sum((t[s] - v["a2"][s]) ** 2) for s in range(len(images))]
    v["loss"] = sum(losses_) / n
    kernels, kb = np.array(net["kernels"], dtype=float), np.array(net["kernel_biases"], dtype=float)
    w, b = np.array(net["dense_w"]), np.array(net["dense_b"])
    v["gw2"] = carried(sum(np.outer(v["d2"][s], v["flat"][s]) for s in range(len(images))) / n)
    v["gb2"] = carried(v["d2"].sum(axis=0) / n)
    v["w2"], v["b2"] = carried(w - lr * v["gw2"]), carried(b - lr * v["gb2"])
    grads = np.zeros_like(kernels)
    d1 = v["d1"]
    for s, image in enumerate(images):
        x = np.array(image, dtype=float)
        for o in range(kernels.shape[0]):
            for c in range(kernels.shape[1]):
                for p in range(kernels.shape[2]):
                    for q in range(kernels.shape[3]):
                        grads[o, c, p, q] += sum(
                            d1[s, o, i, j] * x[c, i + p, j + q] for i in range(d1.shape[2]) for j in range(d1.shape[3])
                        )
    v["gw1"] = carried(grads / n)
    if slip == "gw1":
        v["gw1"].flat[int(np.argmax(np.abs(v["gw1"])))] += 0.25
    v["gb1"] = carried(d1.sum(axis=(0, 2, 3)) / n)
    v["w1"], v["b1"] = carried(kernels - lr * v["gw1"]), carried(kb - lr * v["gb1"])
    return v


def graded_batch(nncalc, write, network, net, images, targets, text, *options):
    answers = write("answers.yaml", text)
    inputs = [arg for image in images for arg in ("-i", ",".join(str(x) for row in image[0] for x in row))]
    target_args = [arg for target in targets for arg in ("-t", ",".join(map(str, target)))]
    result = nncalc("grade", network, *inputs, *target_args, "-a", answers, *options, "-f", "json")
    assert "Traceback" not in result.err
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def batch_of(network, two_maps):
    """The network file, its reference description, two images, their targets and the loss option."""
    net, target = (TEXTBOOK_NET, [0, 1]) if network == "textbook" else (TWO_MAPS_NET, [1, 0])
    path = TEXTBOOK if network == "textbook" else two_maps
    image, second = SECOND_IMAGE[network]
    options = ("--loss", "cross_entropy") if network == "textbook" else ()
    return path, net, [net["image"], image], [target, second], options


def test_the_batch_reference_agrees_with_autograd():
    torch = pytest.importorskip("torch")
    _, net, images, targets, _ = batch_of("two maps", None)
    v = work_batch(net, images, targets)
    kernels = torch.tensor(net["kernels"], dtype=torch.float64, requires_grad=True)
    kb = torch.tensor(net["kernel_biases"], dtype=torch.float64, requires_grad=True)
    w, b = torch.tensor(net["dense_w"], dtype=torch.float64), torch.tensor(net["dense_b"], dtype=torch.float64)
    x = torch.tensor(images, dtype=torch.float64)
    pooled = torch.nn.functional.avg_pool2d(torch.sigmoid(torch.nn.functional.conv2d(x, kernels, kb)), 2, 1)
    a2 = torch.sigmoid(pooled.flatten(1) @ w.T + b)
    loss = (0.5 * ((a2 - torch.tensor(targets, dtype=torch.float64)) ** 2).sum(dim=1)).mean()
    loss.backward()
    assert v["loss"] == pytest.approx(loss.item(), abs=1e-5)
    assert v["gw1"] == pytest.approx(kernels.grad.numpy(), abs=1e-5)
    assert v["gb1"] == pytest.approx(kb.grad.numpy(), abs=1e-5)


@pytest.mark.parametrize("network", ["textbook", "two maps"])
@pytest.mark.parametrize("batch", ["mean", "sum"])
def test_a_correct_batch_sheet_passes(nncalc, write, two_maps, network, batch):
    path, net, images, targets, options = batch_of(network, two_maps)
    v = work_batch(net, images, targets, lr=0.1, batch=batch)  # lr 0.5 would halve as two samples averaged do
    text = sheet(v)
    options = (*options, "--lr", "0.1")
    code, document = graded_batch(nncalc, write, path, net, images, targets, text, *options, "--batch", batch)
    assert code == 0 and document["correct"] is True, wrong(document)[:1]
    conv_delta = [m for m in document["marks"] if m["layer"] == "conv" and m["quantity"] == "delta"]
    assert len(conv_delta) == 2 * v["d1"][0].size  # a map per sample
    # the gradients summed where they are averaged: named, in the kernel's and the bias's gradients
    other = "sum" if batch == "mean" else "mean"
    code, document = graded_batch(nncalc, write, path, net, images, targets, text, *options, "--batch", other)
    assert code == 1
    kernel = [m for m in wrong(document) if m["layer"] == "conv" and m["quantity"] in ("grad_weights", "grad_biases")]
    assert kernel and all("over the batch instead of" in m["diagnosis"] for m in kernel)


def test_a_slip_in_one_samples_map_of_a_batch_marks_that_sample_only(nncalc, write, two_maps):
    path, net, images, targets, options = batch_of("textbook", two_maps)
    v = work_batch(net, images, targets, slip="d1")  # the second sample's δ of the convolution
    code, document = graded_batch(nncalc, write, path, net, images, targets, sheet(v), *options)
    assert code == 1
    (mark,) = wrong(document)  # the kernel's gradient is judged from the slipped δ
    assert (mark["layer"], mark["quantity"], mark["sample"]) == ("conv", "delta", 2)  # counted from 1
    d1 = work_batch(net, images, targets)["d1"][1, 0]
    r, c = np.unravel_index(int(np.argmax(np.abs(d1))), d1.shape)
    assert mark["cell"] == {"channel": 0, "row": int(r), "column": int(c)}
    assert mark["given"] == pytest.approx(d1[r, c] + 0.25, abs=1e-9)


def test_a_batch_sheet_with_a_map_too_few_is_located(nncalc, write, two_maps):
    path, net, images, targets, _ = batch_of("two maps", two_maps)
    text = f"layers:\n  - delta: [{maps(work(net, targets[0])['d1'])}]\n"
    code = nncalc(
        "grade",
        path,
        *[arg for image in images for arg in ("-i", ",".join(str(x) for row in image[0] for x in row))],
        *[arg for target in targets for arg in ("-t", ",".join(map(str, target)))],
        "-a",
        write("answers.yaml", text),
    )
    assert code.code == 2 and "Traceback" not in code.err
    assert ":2:12: layer 1 (conv): delta has 1 entry, expected 2, one map per sample" in code.err, code.err


def batch_args(images, targets) -> list[str]:
    inputs = [arg for image in images for arg in ("-i", ",".join(str(x) for row in image[0] for x in row))]
    return inputs + [arg for target in targets for arg in ("-t", ",".join(map(str, target)))]


def test_a_batch_kernel_gradient_is_worked_over_every_sample(nncalc, write, two_maps):
    path, net, images, targets, options = batch_of("textbook", two_maps)
    v = work_batch(net, images, targets, slip="gw1")
    right = work_batch(net, images, targets)["gw1"]
    args = (*batch_args(images, targets), "-a", write("answers.yaml", sheet(v)), *options, "-f", "table")
    result = nncalc("grade", path, *args)
    assert result.code == 1, result.err
    out = result.out
    assert "grading" in out and "for a batch of 2 samples (1×5×5 images)" in out
    assert "sample 2, target o1 = 1, o2 = 0" in out
    assert "first wrong value: ∂L/∂W[0,0,0,0]" in out
    # the mean over the two samples of Σ δ · a: ½ · (9 products of sample 1 + 9 of sample 2)
    assert "½ · Σs Σy,x" in out and "0.799404 · 3" in out
    assert f"= {right[0, 0, 0, 0]:.6f}, not {v['gw1'][0, 0, 0, 0]:.6f}" in out
    assert "summed over the 2 samples and averaged" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "html", "json"])
@pytest.mark.parametrize("steps", [(), ("--steps", "matrix")])
def test_a_batch_renders_in_every_format(nncalc, write, two_maps, fmt, steps):
    path, net, images, targets, options = batch_of("two maps", two_maps)
    v = work_batch(net, images, targets, slip="d1")
    if fmt == "json" and steps:
        return
    args = (*batch_args(images, targets), "-a", write("answers.yaml", sheet(v)), *options, "-f", fmt, *steps)
    result = nncalc("grade", path, *args)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    if fmt == "json":
        (mark,) = wrong(json.loads(result.out))
        assert (mark["layer"], mark["quantity"], mark["sample"]) == ("conv", "delta", 2)
    else:
        assert "sample 2" in result.out


@pytest.mark.parametrize(
    ("delta", "where", "message"),
    [
        ("{0: [[0.1, 0.2], [0.3, 0.4]]}", "3:12", "with 2 samples, write a list of 2 maps, one per sample (a 2×2×2"),
        ("[0.1, 0.2, 0.3]", "3:12", "with 2 samples, write a list of 2 maps, one per sample (a 2×2×2 map each), got a"),
        ("[[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], ~, ~]", "3:12", "delta has 3 entries, expected 2, one map per"),
        ("[~, [[0.1, 0.2], [0.3, 0.4]]]", "3:16", "delta, sample 2 of 2: one matrix is for a map of one channel"),
    ],
    ids=["by-channel", "flat", "count", "a-sample's-map"],
)
def test_a_batch_sheet_is_read_a_map_per_sample_and_its_mistakes_located(two_maps, delta, where, message):
    with pytest.raises(InputError) as caught:
        parse_sheet(f"layers:\n  - {{}}\n  - delta: {delta}\n", load_network(two_maps), "a.yaml", samples=2)
    (problem,) = caught.value.problems
    assert message in problem.message and str(problem.location) == f"a.yaml:{where}", str(problem)


def test_a_sample_left_out_of_a_batch_sheet_is_read_as_left_out(two_maps):
    text = "layers:\n  - {}\n  - delta: [~, [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [0.7, 0.8]]]]\n"
    read = parse_sheet(text, load_network(two_maps), "a.yaml", samples=2)
    first, second = read.layers[1].delta
    assert all(slot is None for slot in first)
    assert [slot.value for slot in second] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


# -- --steps matrix: the wrong value's map or kernel at once ---------------------------------------


def matrix_steps(nncalc, write, two_maps, slip, fmt="table"):
    v = work(TWO_MAPS_NET, [1, 0], slip=slip)
    path = write("answers.yaml", sheet(v))
    result = nncalc("grade", two_maps, "-i", TWO_MAPS_INPUT, "-t", "1,0", "-a", path, "--steps", "matrix", "-f", fmt)
    assert result.code == 1, result.err
    return result.out, v, work(TWO_MAPS_NET, [1, 0])


def test_matrix_steps_work_a_wrong_delta_as_its_whole_map(nncalc):
    args = ("--inputs", IMAGE_FILE, "-t", "0,1", "-a", EXAMPLE, "--lr", "0.1", "--steps", "matrix", "-f", "table")
    result = nncalc("grade", TEXTBOOK, *args)
    assert result.code == 1, result.err
    out = result.out
    # ∂L/∂A_1 routed back by the max pool, ⊙ relu′(z) (1 where z > 0: columns 1 and 2), the map expected
    assert "δ_1 = ∂L/∂A_1 ⊙ f′(Z_1) =" in out
    assert "│ 0  1  1 │" in out and "0.199851         0 ┐" in out
    assert "wrong entry: row 1, column 2 of δ_1: 0.799404, not 0.399702" in out
    assert "passed down by layer 2 (pool)" in out


def test_matrix_steps_work_a_wrong_kernel_gradient_as_the_window_times_delta(nncalc, write, two_maps):
    out, v, right = matrix_steps(nncalc, write, two_maps, "gw1")
    o, i, r, c = np.unravel_index(int(np.argmax(np.abs(right["gw1"]))), right["gw1"].shape)
    assert f"∂L/∂K_1[{o},{i},{r},{c}] = sum(X[{r}:{r + 3},{c}:{c + 3}] ⊙ δ_1[{o}])" in out
    assert f"= {right['gw1'][o, i, r, c]:.6f}" in out
    # the whole kernel's gradient expected, and the entry written wrong
    assert f"∂L/∂K_1[{o},{i}] = " in out
    wrong_text = f"{v['gw1'][o, i, r, c]:.6f}"
    assert (
        f"wrong entry: row {r}, column {c} of ∂L/∂K_1[{o},{i}]: {right['gw1'][o, i, r, c]:.6f}, not {wrong_text}" in out
    )


def test_matrix_steps_work_a_wrong_new_kernel_as_the_step_of_the_whole_kernel(nncalc, write, two_maps):
    out, _, right = matrix_steps(nncalc, write, two_maps, "w1")
    o, i, r, c = np.unravel_index(int(np.argmax(np.abs(right["w1"]))), right["w1"].shape)
    assert f"K′_1[{o},{i}] = K_1[{o},{i}] − η · ∂L/∂K_1[{o},{i}]" in out
    assert f"wrong entry: row {r}, column {c} of K′_1[{o},{i}]: {right['w1'][o, i, r, c]:.6f}" in out


def test_matrix_steps_work_a_wrong_bias_gradient_as_the_sum_of_the_delta_map(nncalc, write, two_maps):
    out, v, right = matrix_steps(nncalc, write, two_maps, "gb1")
    o = int(np.argmax(np.abs(right["gb1"])))
    assert f"∂L/∂b_1[{o}] = sum(δ_1[{o}]) = sum" in out
    assert f"= {right['gb1'][o]:.6f}, not {v['gb1'][o]:.6f}" in out


def test_matrix_steps_of_a_batch_name_the_sample_and_sum_over_it(nncalc, write, two_maps):
    path, net, images, targets, options = batch_of("textbook", two_maps)
    for slip, expected in (("d1", "wrong entry: sample 2, row"), ("gw1", "½ · Σs sum(X[0:3,0:3] ⊙ δ_1)")):
        v = work_batch(net, images, targets, slip=slip)
        args = (*batch_args(images, targets), "-a", write("answers.yaml", sheet(v)), *options, "--steps", "matrix")
        result = nncalc("grade", path, *args, "-f", "table")
        assert result.code == 1, result.err
        assert expected in result.out


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
@pytest.mark.parametrize("slip", ["d1", "dpool", "dflat", "gw1", "gb1", "w1"])
def test_matrix_steps_render_in_every_format(nncalc, write, two_maps, fmt, slip):
    out, _, right = matrix_steps(nncalc, write, two_maps, slip, fmt)
    assert "Traceback" not in out
    shown = np.asarray(right[slip]).flat[int(np.argmax(np.abs(right[slip])))]
    assert f"{shown:.6f}".lstrip("-") in out


@pytest.mark.parametrize("which", ["first", "second", "mean"])
def test_a_cell_winning_two_windows_given_either_windows_delta_is_named(nncalc, write, which):
    """With the output weights made unequal (0.3 for the last pooled value), the two windows the
    8 at [1,2] wins pass down different δ: one window's alone, either of them, is the slip named;
    their mean is no such slip."""
    text = TEXTBOOK.read_text().replace("[0.1, 0.2, 0.1, 0.2]", "[0.1, 0.2, 0.1, 0.3]")
    network = write("textbook.yaml", text.replace("[-0.1, -0.2, -0.1, -0.2]", "[-0.1, -0.2, -0.1, -0.3]"))
    net = dict(TEXTBOOK_NET, dense_w=[[0.1, 0.2, 0.1, 0.3], [-0.1, -0.2, -0.1, -0.3]])
    v = work(net, [0, 1], lr=0.1)
    assert v["z1"][0, 1, 2] == 8  # the max of pooling windows [0,1] and [1,1]
    # the sheet writes only the convolution's δ, so what is above it is exact: pooled [7, 8, 7, 8],
    # z = [0.7 + 1.6 + 0.7 + 2.4 − 1, −5.4 + 1] = [4.4, −4.4]: softmax a₁ = 1 / (1 + e^−8.8), and
    # cross-entropy's δ = a − t = [a₁, −a₁]
    a1 = 1 / (1 + math.exp(-8.8))
    d2 = [a1 - 0, (1 - a1) - 1]
    window = {"first": 0.2 * d2[0] - 0.2 * d2[1], "second": 0.3 * d2[0] - 0.3 * d2[1]}
    window["mean"] = (window["first"] + window["second"]) / 2
    d1 = np.round(v["d1"], 6)
    d1[0, 1, 2] = round(window[which], 6)
    answers = "conventions: {loss: cross-entropy}\nlayers:\n  - delta: " + maps(d1) + "\n  - {}\n  - {}\n  - {}\n"
    path = write("answers.yaml", answers)
    result = nncalc("grade", network, "--inputs", IMAGE_FILE, "-t", "0,1", "--lr", "0.1", "-a", path, "-f", "json")
    (mark,) = wrong(json.loads(result.out))
    assert result.code == 1 and (mark["quantity"], mark["neuron"]) == ("delta", "0.1.2")
    named = "a cell that is the max of several windows got one window's δ" in (mark["diagnosis"] or "")
    assert named == (which != "mean")
