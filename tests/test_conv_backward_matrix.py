"""``backward --steps matrix`` on convolution, pooling and flatten: δ, gradients and what is passed down as matrices.

The numbers are checked against references made here, independently of the engine: central
finite differences of the batch loss (along every kernel weight and bias, and along every value
a layer receives, by running the layers from there on), f′(z) from its formula, and the textbook
exercise's windows, pooling winners and δ by hand in NumPy. Every notation must write the steps
(terminal brackets that line up, balanced bmatrix in Markdown, MathML that parses, LaTeX that
pdflatex compiles inside the margins).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nncalc.backprop import backward, batch_loss
from nncalc.document import Document, Note, Steps
from nncalc.expr import Call, Chain, Derivative, Dots, Expr, Frac, Index, Matrix, Name, Num, Product, Sigma, Sum
from nncalc.loader import load_network
from nncalc.network import Network
from nncalc.notation.html import html_fragment
from nncalc.notation.latex import latex_source
from nncalc.notation.markdown import markdown_text
from nncalc.optimizers import parse_optimizer
from nncalc.spatial import Conv2d, Flatten, input_names
from nncalc.worked import View
from nncalc.worked.backward import backward_document
from tests.conftest import CONFIGS
from tests.test_conv_backward import IMAGE_VALUES, _central, batch_of, network, targets_of
from tests.test_latex_backward import compile_pdf, needs_pdflatex
from tests.test_matrix_form import bracket_columns, terminal

MATRIX = View(4, True, False, "matrix")
WHOLE = View(4, True, True, "matrix")  # --all: no matrix elided
TEXTBOOK = CONFIGS / "conv-textbook.yaml"
IMAGE = CONFIGS / "conv-image.yaml"
EDGE = np.array([[1, 0, -1]] * 3, dtype=np.float64)


# -- reading the page ----------------------------------------------------------------------------------


def chains(document: Document) -> list[Chain]:
    return [c for block in document.blocks if isinstance(block, Steps) for step in block.items for c in step.chains]


def chain_for(document: Document, head: Expr) -> Chain:
    found = [c for c in chains(document) if c.parts[0] == head]
    assert len(found) == 1, f"{head}: {len(found)} chains"
    return found[0]


def values(matrix) -> np.ndarray:
    assert isinstance(matrix, Matrix)
    assert not any(isinstance(cell, Dots) for row in matrix.rows for cell in row)
    return np.array([[cell.value for cell in row] for row in matrix.rows], dtype=np.float64)


def worked(node: Expr):
    """A written-out step's numbers worked in NumPy at full precision: scalars times matrices, sums,
    ``sum(…)``, ``⊙``, a fraction of numbers."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Matrix):
        return values(node)
    if isinstance(node, Sum):
        return sum(worked(term) for term in node.terms)
    if isinstance(node, Product):
        out = worked(node.factors[0])
        for factor in node.factors[1:]:
            out = out * worked(factor)
        return out
    if isinstance(node, Frac):
        return worked(node.numerator) / worked(node.denominator)
    assert isinstance(node, Call) and node.name == "sum", node
    return float(np.sum(worked(node.args[0])))


def named(letter: str, layer: int, shape: tuple[int, ...], channel: int) -> Expr:
    name = Name(letter, str(layer))
    return name if shape[0] == 1 else Index(name, str(channel))


def of(what: Expr) -> Derivative:
    return Derivative(Name("L"), what)


def received_name(k: int, shape: tuple[int, ...], channel: int) -> Expr:
    """What layer k (0-based) receives, map ``channel``: X, or the previous layer's A."""
    base = Name("X") if k == 0 else Name("A", str(k))
    return base if shape[0] == 1 else Index(base, str(channel))


# -- references ------------------------------------------------------------------------------------------


def _tail(net: Network, k: int) -> Network:
    """The layers from k on, as a network whose input is what layer k receives."""
    layer = net.layers[k]
    if layer.dense:
        inputs = tuple(f"i{n}" for n in range(layer.n_inputs))
        return Network(inputs=inputs, layers=tuple(net.layers[k:]), source="<tail>")
    shape = layer.input_shape
    return Network(inputs=input_names(shape), layers=tuple(net.layers[k:]), input_shape=shape, source="<tail>")


def gradient_received(net: Network, x: np.ndarray, t: np.ndarray, loss: str, k: int, h: float = 1e-6) -> np.ndarray:
    """∂L/∂(what layer k receives) for one sample, by central differences through the layers from k on."""
    from nncalc.engine import forward

    received = forward(net, x).activations(k)[0]
    tail = _tail(net, k)
    out = np.empty(received.shape)
    for i in range(received.size):
        up, down = received.copy(), received.copy()
        up[i] += h
        down[i] -= h
        out[i] = (batch_loss(tail, up[None], t, loss) - batch_loss(tail, down[None], t, loss)) / (2 * h)
    return out


def derivative(layer, z: np.ndarray) -> np.ndarray:
    """f′(z) of the activations these networks use, from their formulas."""
    name = layer.activation.name if layer.has_activation else "identity"
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    assert name == "identity", name
    return np.ones_like(z)


def padded(maps: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return np.pad(maps, ((0, 0), (ph, ph), (pw, pw)))


# -- every number of a spatial layer, against the references --------------------------------------------


def check_layers(net: Network, x: np.ndarray, t: np.ndarray, loss: str, lr: float, view: View) -> Document:
    """Each spatial layer's δ, ∂L/∂K, ∂L/∂b, K′, b′ and ∂L/∂A below, as the page writes them, against
    finite differences (one sample)."""
    from nncalc.engine import forward

    result = backward(net, x, t, loss, lr)
    document = backward_document(net, result, None, view)
    trace = forward(net, x)
    checked = 0
    for k, layer in enumerate(net.layers):
        if layer.dense:
            continue
        number = k + 1
        if k > 0:  # what it passes down: ∂L/∂A_k, map by map
            want = gradient_received(net, x, t, loss, k).reshape(layer.input_shape)
            for c in range(layer.input_shape[0]):
                chain = chain_for(document, of(received_name(k, layer.input_shape, c)))
                np.testing.assert_allclose(values(chain.parts[-1]), want[c], atol=1e-7)
                if len(chain.parts) == 4:  # a pooling's δ times each window's mask, summed
                    np.testing.assert_allclose(worked(chain.parts[2]), want[c], atol=1e-7)
                    checked += 1
                checked += 1
        above = gradient_received(net, x, t, loss, k + 1)  # ∂L/∂a of this layer
        z = trace.layers[k].z[0]
        delta = above * derivative(layer, z)
        if isinstance(layer, Flatten):
            got = chain_for(document, Name("δ", str(number))).parts[-1]
            np.testing.assert_allclose(values(got)[:, 0], delta, atol=1e-7)
            checked += 1
            continue
        shape = layer.output_shape
        maps = delta.reshape(shape)
        for c in range(shape[0]):
            got = chain_for(document, named("δ", number, shape, c)).parts[-1]
            np.testing.assert_allclose(values(got), maps[c], atol=1e-7)
            checked += 1
        if not isinstance(layer, Conv2d):
            continue
        grad_w = _central(net, x, t, loss, k, "weights")
        grad_b = _central(net, x, t, loss, k, "biases")
        single = layer.out_channels == 1 and layer.input_shape[0] == 1
        for o in range(layer.out_channels):
            for c in range(layer.input_shape[0]):
                where = None if single else f"{o},{c}"
                kernel = Name("K", str(number)) if single else Index(Name("K", str(number)), where)
                chain = chain_for(document, of(kernel))
                np.testing.assert_allclose(values(chain.parts[-1]), grad_w[o, c], atol=1e-7)
                if len(chain.parts) == 4:  # the windows weighed by δ, written out: they sum to it
                    np.testing.assert_allclose(worked(chain.parts[2]), grad_w[o, c], atol=1e-7)
                    checked += 1
                primed = Name("K", str(number), "prime")
                primed = primed if single else Index(primed, where)
                new = chain_for(document, primed).parts[-1]
                np.testing.assert_allclose(values(new), layer.weights[o, c] - lr * grad_w[o, c], atol=1e-7)
                checked += 2
            bias = Name("b", str(number)) if layer.out_channels == 1 else Index(Name("b", str(number)), str(o))
            chain = chain_for(document, of(bias))
            assert chain.parts[-1].value == pytest.approx(grad_b[o], abs=1e-7)
            assert worked(chain.parts[2]) == pytest.approx(grad_b[o], abs=1e-7)
        new_b = chain_for(document, Name("b", str(number), "prime")).parts[-1]
        np.testing.assert_allclose(values(new_b)[:, 0], layer.biases - lr * grad_b, atol=1e-7)
    assert checked > 0
    return document


@pytest.mark.parametrize("case", ["two-convs", "deep", "ties"])
def test_every_matrix_of_the_spatial_layers_matches_finite_differences(case):
    loss = "half_sse" if case == "two-convs" else "cross_entropy"
    net = network(case)
    x, t = batch_of(net, 1, integers=case == "ties"), targets_of(net, 1)
    if case == "ties":  # ties in max pooling make the loss kinked: the one-sided slopes differ
        x = x + np.linspace(0, 0.01, x.size)  # distinct values, as far from a tie as the kernels allow
    check_layers(net, x, t, loss, 0.1, WHOLE)


def textbook() -> tuple[Network, object, Document]:
    net = load_network(TEXTBOOK)
    result = backward(net, np.array([IMAGE_VALUES], dtype=np.float64), np.array([[0.0, 1.0]]), "cross_entropy", 0.1)
    return net, result, backward_document(net, result, None, MATRIX)


def test_the_textbook_exercise_by_hand():
    """The shipped exercise worked in NumPy: softmax − t, Wᵀ·δ, each window's max, ReLU′, the windows."""
    _, _, document = textbook()
    image = np.array(IMAGE_VALUES, dtype=np.float64).reshape(5, 5)
    z = np.array([[(image[r : r + 3, k : k + 3] * EDGE).sum() for k in range(3)] for r in range(3)])
    a = np.maximum(z, 0)
    pooled = np.array([[a[r : r + 2, k : k + 2].max() for k in range(2)] for r in range(2)])
    w = np.array([[0.1, 0.2, 0.1, 0.2], [-0.1, -0.2, -0.1, -0.2]])
    scores = w @ pooled.reshape(-1) + np.array([-1.0, 1.0])
    softmax = np.exp(scores) / np.exp(scores).sum()
    delta_out = softmax - np.array([0.0, 1.0])
    delta_flat = w.T @ delta_out

    flat = chain_for(document, Name("δ", "3"))
    np.testing.assert_allclose(values(flat.parts[-1])[:, 0], delta_flat, atol=1e-12)
    np.testing.assert_allclose(values(flat.parts[2].factors[0]), w.T)  # W_4ᵀ, as the file writes it
    folded = chain_for(document, of(Name("A", "2")))
    assert folded.parts[1] == Call("unflatten", (Name("δ", "3"),))
    np.testing.assert_allclose(values(folded.parts[-1]), delta_flat.reshape(2, 2), atol=1e-12)

    # max pooling: each window's δ into the cell of its max (the first in row order on a tie)
    routed = np.zeros((3, 3))
    passed = chain_for(document, of(Name("A", "1")))
    terms = passed.parts[2].terms
    assert len(terms) == 4
    for n, (r, k) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        window = a[r : r + 2, k : k + 2]
        i, j = divmod(int(np.argmax(window)), 2)
        mask = np.zeros((3, 3))
        mask[r + i, k + j] = 1
        weight, shown = terms[n].factors
        assert weight.value == pytest.approx(delta_flat[2 * r + k], abs=1e-12)
        np.testing.assert_array_equal(values(shown), mask)
        routed += delta_flat[2 * r + k] * mask
    np.testing.assert_allclose(values(passed.parts[-1]), routed, atol=1e-12)

    delta = routed * (z > 0)
    chain = chain_for(document, Name("δ", "1"))
    np.testing.assert_allclose(values(chain.parts[2].factors[0]), routed, atol=1e-12)  # ∂L/∂A_1
    np.testing.assert_array_equal(values(chain.parts[2].factors[1]), (z > 0).astype(float))  # ReLU′
    np.testing.assert_allclose(values(chain.parts[-1]), delta, atol=1e-12)

    # ∂L/∂K = Σ δ[r,k] · X[r:r+3,k:k+3]: nine windows, each weighed by its δ
    kernel = chain_for(document, of(Name("K", "1")))
    assert kernel.parts[1] == Sigma("r,k", Product((Index(Name("δ", "1"), "r,k"), Index(Name("X"), "r:r+3,k:k+3"))))
    terms = kernel.parts[2].terms
    assert len(terms) == 9
    for n, term in enumerate(terms):
        r, k = divmod(n, 3)
        weight, window = term.factors
        assert weight.value == pytest.approx(delta[r, k], abs=1e-12)
        np.testing.assert_array_equal(values(window), image[r : r + 3, k : k + 3])
    gradient = sum(delta[r, k] * image[r : r + 3, k : k + 3] for r in range(3) for k in range(3))
    np.testing.assert_allclose(values(kernel.parts[-1]), gradient, atol=1e-12)
    assert kernel.relations[-1] == "≈"  # 0.1999 · … as shown does not give 3.5973 exactly

    bias = chain_for(document, of(Name("b", "1")))
    np.testing.assert_allclose(values(bias.parts[2].args[0]), delta, atol=1e-12)
    assert bias.parts[-1].value == pytest.approx(delta.sum(), abs=1e-12)
    update = chain_for(document, Name("K", "1", "prime"))
    np.testing.assert_array_equal(values(update.parts[2].terms[0]), EDGE)
    np.testing.assert_allclose(values(update.parts[-1]), EDGE - 0.1 * gradient, atol=1e-12)
    # the first layer passes nothing down, and the value-by-value steps are not written
    assert not any(isinstance(c.parts[0], Derivative) and c.parts[0].by == Name("X") for c in chains(document))
    assert not any(step.label == "w[0,0,0,0]" for b in document.blocks if isinstance(b, Steps) for step in b.items)


def test_a_convolution_passes_down_its_transposed_convolution():
    net = network("two-convs")
    result = backward(net, batch_of(net, 1), targets_of(net, 1), "half_sse", 0.1)
    document = backward_document(net, result, None, MATRIX)
    chain = chain_for(document, of(Index(Name("A", "1"), "1")))
    assert chain.parts[1] == Sigma(
        "o", Call("conv_transpose", (Index(Name("δ", "2"), "o"), Index(Name("K", "2"), "o,1")))
    )
    notes = " ".join(str(p) for b in document.blocks if isinstance(b, Note) for p in b.text)
    assert "conv_transpose2d) with stride 2×2" in notes
    # by hand: each δ cell times the kernel, added into the window it came from (stride 2, no padding)
    layer = net.layers[1]
    delta = result.layers[1].delta[0].reshape(layer.output_shape)
    want = np.zeros(layer.input_shape[1:])
    for o in range(layer.out_channels):
        for r in range(delta.shape[1]):
            for k in range(delta.shape[2]):
                want[2 * r : 2 * r + 2, 2 * k : 2 * k + 2] += delta[o, r, k] * layer.weights[o, 1]
    np.testing.assert_allclose(values(chain.parts[-1]), want, atol=1e-15)


def test_a_strided_padded_kernel_gradient_reads_the_padded_input_with_its_stride():
    net = network("deep")
    x, t = batch_of(net, 1), targets_of(net, 1)
    result = backward(net, x, t, "cross_entropy", 0.1)
    document = backward_document(net, result, None, MATRIX)
    chain = chain_for(document, of(Index(Name("K", "1"), "2,1")))
    window = Index(Call("pad", (Name("X"),)), "1,2r:2r+3,k:k+2")
    assert chain.parts[1] == Sigma("r,k", Product((Index(Index(Name("δ", "1"), "2"), "r,k"), window)))
    assert len(chain.parts) == 3  # 3×8 windows: too many to write out, Σ alone


def test_average_pooling_spreads_a_share_of_each_delta():
    net = network("deep")
    x, t = batch_of(net, 1), targets_of(net, 1)
    result = backward(net, x, t, "cross_entropy", 0.1)
    document = backward_document(net, result, None, WHOLE)
    layer = net.layers[2]  # avgpool 2×2, stride 2, padding 1: 3×4×9 → 3×3×5 (15 windows)
    chain = chain_for(document, of(Index(Name("A", "2"), "0")))
    terms = chain.parts[2].terms
    assert len(terms) == 15
    delta = result.layers[2].delta[0].reshape(layer.output_shape)[0]
    for n, term in enumerate(terms):
        r, k = divmod(n, 5)
        weight, mask = term.factors
        assert weight.value == delta[r, k]
        want = np.zeros((4, 9))
        want[max(2 * r - 1, 0) : 2 * r + 1, max(2 * k - 1, 0) : 2 * k + 1] = 0.25  # the window, padding cut off
        np.testing.assert_array_equal(values(mask), want)
        assert {cell.text for row in mask.rows for cell in row if cell.value} == {"1/4"}


def test_a_batch_works_the_first_sample_and_takes_the_mean_of_the_gradients():
    net = network("two-convs")
    x, t = batch_of(net, 2), targets_of(net, 2)
    result = backward(net, x, t, "half_sse", 0.1)
    document = backward_document(net, result, None, MATRIX)
    notes = [" ".join(map(str, b.text)) for b in document.blocks if isinstance(b, Note)]
    first = "the maps of sample 1 of 2 (the others are worked the same way)"
    assert f"{first}; the gradients are the mean over the 2 samples" in notes
    layer = net.layers[1]  # 2×5×5 → 3×2×2, stride 2: four windows a sample
    maps = [result.layers[1].delta[s].reshape(layer.output_shape) for s in range(2)]
    np.testing.assert_allclose(values(chain_for(document, Index(Name("δ", "2"), "2")).parts[-1]), maps[0][2])
    grad_b = _central(net, x, t, "half_sse", 1, "biases")
    chain = chain_for(document, of(Index(Name("b", "2"), "1")))
    mean, both = chain.parts[2].factors  # 1/2 · (sum([δ of sample 1]) + sum([δ of sample 2]))
    assert (mean.numerator.value, mean.denominator.value) == (1, 2)
    for s, term in enumerate(both.terms):
        np.testing.assert_allclose(values(term.args[0]), maps[s][1])
    assert chain.parts[-1].value == pytest.approx(grad_b[1], abs=1e-7)
    kernel = chain_for(document, of(Index(Name("K", "2"), "1,1")))
    mean, terms = kernel.parts[2].factors  # 1/2 · (δ · window + … over both samples' four windows)
    assert len(terms.terms) == 8
    below = [result.trace.activations(1)[s].reshape(layer.input_shape)[1] for s in range(2)]
    for n, term in enumerate(terms.terms):
        s, (r, k) = divmod(n, 4)[0], divmod(n % 4, 2)
        weight, window = term.factors
        assert weight.value == maps[s][1, r, k]
        np.testing.assert_array_equal(values(window), below[s][2 * r : 2 * r + 2, 2 * k : 2 * k + 2])
    grad_w = _central(net, x, t, "half_sse", 1, "weights")
    np.testing.assert_allclose(values(kernel.parts[-1]), grad_w[1, 1], atol=1e-7)
    np.testing.assert_allclose(worked(kernel.parts[2]), grad_w[1, 1], atol=1e-7)
    large = chain_for(document, of(Index(Name("K", "1"), "0,0")))
    assert len(large.parts) == 3  # 2 samples × 25 windows: Σ alone


def test_an_optimizer_or_frozen_biases_write_the_update_as_it_was_made():
    net = network("two-convs")
    x, t = batch_of(net, 1), targets_of(net, 1)
    adam = backward(net, x, t, "half_sse", 0.1, optimizer=parse_optimizer("adam", "optimizer"))
    document = backward_document(net, adam, None, MATRIX)
    chain = chain_for(document, Index(Name("K", "1", "prime"), "0,0"))
    assert len(chain.parts) == 2
    np.testing.assert_allclose(values(chain.parts[-1]), adam.layers[0].weights[0, 0])
    frozen = backward(net, x, t, "half_sse", 0.1, freeze_biases=True)
    document = backward_document(net, frozen, None, MATRIX)
    chain = chain_for(document, Name("b", "1", "prime"))
    assert chain.parts[1] == Name("b", "1")
    np.testing.assert_allclose(values(chain.parts[-1])[:, 0], net.layers[0].biases)


def test_a_large_map_is_elided_and_whole_with_all():
    net = Network.from_dict(
        {
            "inputs": {"shape": [1, 9, 9]},
            "layers": [
                {"type": "conv2d", "weights": [[[[0.1, -0.2], [0.3, 0.05]]]], "biases": [0.1], "activation": "tanh"},
                {"type": "maxpool2d", "kernel_size": 2, "stride": 2},
                {"type": "flatten"},
                {"weights": [[0.1] * 16], "biases": [0.0], "activation": "sigmoid"},
            ],
        },
        "<large>",
    )
    x, t = np.linspace(-1, 1, 81)[None], np.array([[1.0]])
    result = backward(net, x, t, "half_sse", 0.1)
    elided = backward_document(net, result, None, MATRIX)
    delta = chain_for(elided, Name("δ", "1")).parts[-1]
    assert delta.shape == (8, 8) and any(isinstance(cell, Dots) for row in delta.rows for cell in row)
    assert len(chain_for(elided, of(Name("K", "1"))).parts) == 3  # 64 windows: Σ alone
    whole = backward_document(net, result, None, WHOLE)
    np.testing.assert_allclose(
        values(chain_for(whole, Name("δ", "1")).parts[-1]), result.layers[0].delta[0].reshape(8, 8)
    )


# -- the notations ---------------------------------------------------------------------------------------


def documents() -> dict[str, Document]:
    found = {"textbook": textbook()[2]}
    for case, loss, samples in (
        ("two-convs", "half_sse", 1),
        ("two-convs", "half_sse", 2),
        ("ties", "cross_entropy", 2),
    ):
        net = network(case)
        x, t = batch_of(net, samples, integers=case == "ties"), targets_of(net, samples)
        found[f"{case}-{samples}"] = backward_document(net, backward(net, x, t, loss, 0.1), None, MATRIX)
    return found


def test_terminal_brackets_line_up_and_a_long_sum_continues_under_its_relation():
    for name, document in documents().items():
        lines = terminal(document).splitlines()
        corners = [(r, c) for r, line in enumerate(lines) for c, ch in enumerate(line) if ch == "┌"]
        for row, column in corners:
            rows = bracket_columns(lines, row, column)
            right = lines[row].index("┐", column)
            assert all(lines[k][right] == "│" for k in rows[1:-1]) and lines[rows[-1]][right] == "┘", name
            assert re.fullmatch(r"\d+×\d+", lines[rows[-1] + 1][column : right + 1].strip()), name
    text = terminal(textbook()[2])
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if "∂L/∂K_1 = Σr,k δ_1[r,k] · X[r:r+3,k:k+3]" in line)
    block = lines[at : at + 17]
    starts = [line for line in block if re.match(r"^ {10}[=+≈] ", line)]  # "=" then "+" under it
    assert [line[10] for line in starts] == ["=", "+", "+", "≈"], block
    assert max(len(line) for line in block) <= 82
    assert "∂L/∂A_1 = Σr,k δ_2[r,k] · M_r,k" in text and "∂L/∂A_2 = unflatten(δ_3) = ┌ 0.1999  0.3997 ┐" in text


def test_markdown_writes_each_step_as_a_display_with_balanced_bmatrix():
    text = markdown_text(textbook()[2])
    backward_part = text[text.index("backward: layer 3") :]
    displays = re.findall(r"^\$\$(.*)\$\$$", backward_part, flags=re.M)
    # flatten: δ, ∂L/∂A_2; pool: δ, ∂L/∂A_1; conv: δ, ∂L/∂K, ∂L/∂b, K′, b′
    assert len(displays) == 2 + 2 + 5
    for display in displays:
        assert display.count(r"\begin{bmatrix}") == display.count(r"\end{bmatrix}") > 0
        assert display.count(r"\left(") == display.count(r"\right)")
    assert r"\operatorname{unflatten}(\delta_{3})" in backward_part
    assert r"\sum_{r,k} \delta_{1}[r,k] \cdot X[r{:}r+3,k{:}k+3]" in backward_part


def test_html_is_well_formed():
    for document in documents().values():
        tree = ET.fromstring(html_fragment(document))
        assert len(list(tree.iter("{http://www.w3.org/1998/Math/MathML}mtable"))) > 10


@needs_pdflatex
@pytest.mark.parametrize("which", ["textbook", "two-convs-1", "two-convs-2", "ties-2"])
def test_the_latex_page_compiles_without_overfull_lines(tmp_path, which):
    compile_pdf(tmp_path, latex_source(documents()[which], standalone=True))


# -- the command line --------------------------------------------------------------------------------------


def test_steps_matrix_on_the_shipped_exercise(nncalc):
    args = ("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--lr", "0.1")
    result = nncalc(*args, "--steps", "matrix", "-f", "table")
    assert result.code == 0, result.err
    assert "δ_1 = ∂L/∂A_1 ⊙ f′(Z_1)" in result.out and "K′_1 = K_1 − η · ∂L/∂K_1" in result.out
    assert "w[0,0,0,0]" not in result.out
    neurons = nncalc(*args, "--steps", "-f", "table")
    assert "w[0,0,0,0]" in neurons.out and "∂L/∂K_1" not in neurons.out


@pytest.mark.parametrize("fmt", ["markdown", "latex", "html"])
def test_every_format_takes_backward_steps_matrix(nncalc, fmt):
    args = ("backward", TEXTBOOK, "--inputs", IMAGE, "-t", "0,1", "--loss", "cross_entropy", "--lr", "0.1")
    result = nncalc(*args, "--steps", "matrix", "-f", fmt)
    assert result.code == 0, result.err
    assert "unflatten" in result.out and "conv" in result.out
    for number in ("3.5973", "0.7994", "0.6403", "1.1991"):
        assert number in result.out
