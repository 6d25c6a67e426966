"""Convolution, pooling and flatten: values worked by hand, and PyTorch's where it is installed."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import yaml

from nncalc.activations import BoundActivation
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.loader import load_network, parse_network
from nncalc.network import Network
from nncalc.records import replace
from nncalc.render import data
from nncalc.schema import network_schema
from nncalc.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d, input_names
from nncalc.writer import dump_network
from tests.conftest import CONFIGS

# A 5×5 image and the 3×3 vertical-edge filter of the textbooks, worked on paper below.
IMAGE = [
    [1, 2, 0, 3, 1],
    [0, 1, 2, 1, 0],
    [3, 1, 0, 2, 2],
    [1, 0, 1, 0, 3],
    [2, 2, 1, 1, 0],
]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# z[i, j] = Σ_r x[i+r, j] − x[i+r, j+2] + b. Per row r, x[r, j] − x[r, j+2] for j = 0, 1, 2:
#   r0: 1−0, 2−3, 0−1 = 1, −1, −1      r1: 0−2, 1−1, 2−0 = −2, 0, 2
#   r2: 3−0, 1−2, 0−2 = 3, −1, −2      r3: 1−1, 0−0, 1−3 = 0, 0, −2
#   r4: 2−1, 2−1, 1−0 = 1, 1, 1
# z row 0 = r0+r1+r2 = 2, −2, −1; row 1 = r1+r2+r3 = 1, −1, −2; row 2 = r2+r3+r4 = 4, 0, −3; b = 0.5
EDGE_Z = [[2.5, -1.5, -0.5], [1.5, -0.5, -1.5], [4.5, 0.5, -2.5]]
EDGE_A = [[2.5, 0, 0], [1.5, 0, 0], [4.5, 0.5, 0]]  # relu
# 2×2 windows, stride 1, over EDGE_A: max(2.5, 0, 1.5, 0), max(0, 0, 0, 0), max(1.5, 0, 4.5, 0.5), max(0, 0, 0.5, 0)
EDGE_MAX = [[2.5, 0], [4.5, 0.5]]
# the same windows' means: 4/4, 0/4, 6.5/4, 0.5/4
EDGE_AVG = [[1.0, 0.0], [1.625, 0.125]]


def edge_network(pool: type = MaxPool2d) -> Network:
    conv = Conv2d.build("conv", (1, 5, 5), [[EDGE]], [0.5], activation=BoundActivation.named("relu"))
    pooled = pool(name="pool", input_shape=(1, 3, 3), kernel_size=(2, 2), stride=(1, 1))
    flat = Flatten(name="flatten", input_shape=(1, 2, 2))
    return Network(inputs=input_names((1, 5, 5)), layers=(conv, pooled, flat), input_shape=(1, 5, 5), source="edge")


def test_edge_filter_and_max_pool_by_hand():
    trace = forward(edge_network(), np.array(IMAGE, dtype=np.float64).reshape(1, 25))
    conv, pool, flat = trace.layers
    assert conv.z.reshape(3, 3).tolist() == EDGE_Z
    assert conv.a.reshape(3, 3).tolist() == EDGE_A
    assert pool.z.reshape(2, 2).tolist() == EDGE_MAX
    assert pool.a.tolist() == pool.z.tolist()  # pooling has no activation
    assert flat.a.tolist() == [[2.5, 0, 4.5, 0.5]]  # rows, then columns


def test_average_pool_by_hand():
    trace = forward(edge_network(AvgPool2d), np.array(IMAGE, dtype=np.float64).reshape(1, 25))
    assert trace.layers[1].z.reshape(2, 2).tolist() == EDGE_AVG


def test_shapes_and_names():
    network = edge_network()
    conv, pool, flat = network.layers
    assert (conv.kind, pool.kind, flat.kind) == ("conv2d", "maxpool2d", "flatten")
    assert conv.output_shape == (1, 3, 3) and pool.output_shape == (1, 2, 2) and flat.output_shape == (4,)
    assert conv.n_params == 10 and pool.n_params == 0
    assert conv.neurons[:4] == ("0.0.0", "0.0.1", "0.0.2", "0.1.0")
    assert flat.neurons == ("0.0.0", "0.0.1", "0.1.0", "0.1.1")
    assert network.n_inputs == 25 and network.inputs[7] == "x.0.1.2"
    assert network.spatial and not conv.dense


# -- the shipped textbook exercise ------------------------------------------------------------

TEXTBOOK = CONFIGS / "conv-textbook.yaml"
TEXTBOOK_IMAGE = CONFIGS / "conv-image.yaml"


def test_the_textbook_exercise_by_hand(nncalc):
    """configs/conv-textbook.yaml on configs/conv-image.yaml, every value worked on paper.

    image rows: 2 3 3 0 1 / 3 2 3 1 0 / 3 3 2 0 0 / 2 3 3 1 0 / 3 2 3 0 1; filter rows 1 0 −1.
    Per row, x[r, j] − x[r, j+2] for j = 0, 1, 2:
      r0: −1, 3, 2   r1: 0, 1, 3   r2: 1, 3, 2   r3: −1, 2, 3   r4: 0, 2, 2
    z rows (sums of three rows, b = 0): 0 7 7 / 0 6 8 / 0 7 7; relu keeps them.
    2×2 max, stride 1: max(0,7,0,6) = 7, max(7,7,6,8) = 8, max(0,6,0,7) = 7, max(6,8,7,7) = 8.
    output z: 0.1·7 + 0.2·8 + 0.1·7 + 0.2·8 − 1 = 3.6, and −3.6 + 1 − 1 ... = −3.6.
    """
    result = nncalc("forward", TEXTBOOK, "--inputs", TEXTBOOK_IMAGE, "--format", "json")
    assert result.code == 0, result.err
    sample = json.loads(result.out)["samples"][0]
    conv, pool, flat, output = sample["layers"]
    assert conv["z"] == [[[0, 7, 7], [0, 6, 8], [0, 7, 7]]]
    assert pool["a"] == [[[7, 8], [7, 8]]]
    assert flat["a"] == [7, 8, 7, 8]
    assert output["z"] == pytest.approx([3.6, -3.6], abs=1e-12)
    e = math.exp(7.2)
    assert sample["output"] == pytest.approx([e / (e + 1), 1 / (e + 1)], rel=1e-12)


def test_every_terminal_format_shows_a_spatial_network(nncalc):
    """Tables and documents show each map and, with --steps, every cell's window (see test_conv_worked)."""
    for fmt in ("table", "markdown", "latex", "html"):
        result = nncalc("forward", TEXTBOOK, "--inputs", TEXTBOOK_IMAGE, "--format", fmt, "--steps")
        assert result.code == 0, (fmt, result.err)
        assert "window: rows 1–3, columns 2–4" in result.out and "maxpool2d" in result.out


# -- against PyTorch ------------------------------------------------------------------------


def _network_text(shape, layers) -> str:
    """A network file's text with flow-style layers, numbers written as their exact repr."""
    return f"inputs: {{shape: {list(shape)}}}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)


def _floats(array: np.ndarray) -> str:
    return repr(array.tolist())


TORCH_CASES = [
    # (input shape, out channels, kernel, stride, padding)
    ((1, 5, 5), 1, (3, 3), (1, 1), (0, 0)),
    ((3, 7, 6), 4, (3, 2), (2, 1), (1, 0)),
    ((2, 8, 8), 3, (5, 5), (3, 3), (2, 2)),
    ((2, 6, 9), 2, (1, 1), (1, 2), (0, 1)),
    ((1, 4, 4), 2, (4, 4), (1, 1), (0, 0)),
]


@pytest.mark.parametrize(("shape", "out", "kernel", "stride", "padding"), TORCH_CASES)
def test_conv2d_against_pytorch(shape, out, kernel, stride, padding):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(sum(shape) + out)
    weights = rng.normal(size=(out, shape[0], *kernel))
    biases = rng.normal(size=out)
    x = rng.normal(size=(6, *shape))
    text = _network_text(
        shape,
        [
            f"{{type: conv2d, weights: {_floats(weights)}, biases: {_floats(biases)}, "
            f"stride: {list(stride)}, padding: {list(padding)}, activation: identity}}"
        ],
    )
    trace = forward(parse_network(text), x.reshape(6, -1))
    expected = functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(weights), torch.from_numpy(biases), stride=stride, padding=padding
    )
    assert trace.output.shape == (6, expected[0].numel())
    np.testing.assert_allclose(trace.output, expected.reshape(6, -1).numpy(), rtol=0, atol=1e-12)


POOL_CASES = [
    # (input shape, kernel, stride, padding)
    ((1, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((3, 7, 5), (3, 2), (2, 1), (1, 1)),
    ((2, 6, 6), (2, 2), (1, 1), (1, 0)),
    ((2, 5, 8), (3, 3), (3, 2), (0, 1)),
]


@pytest.mark.parametrize("kind", ["maxpool2d", "avgpool2d"])
@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"), POOL_CASES)
def test_pooling_against_pytorch(kind, shape, kernel, stride, padding):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(size=(5, *shape))
    text = _network_text(
        shape, [f"{{type: {kind}, kernel_size: {list(kernel)}, stride: {list(stride)}, padding: {list(padding)}}}"]
    )
    trace = forward(parse_network(text), x.reshape(5, -1))
    pool = functional.max_pool2d if kind == "maxpool2d" else functional.avg_pool2d
    expected = pool(torch.from_numpy(x), kernel, stride, padding)  # avg: count_include_pad=True, PyTorch's default
    np.testing.assert_allclose(trace.output, expected.reshape(5, -1).numpy(), rtol=0, atol=1e-12)


def test_a_small_cnn_against_pytorch():
    """conv → relu → max pool → conv → sigmoid → avg pool → flatten → dense softmax, as PyTorch runs it."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(7)
    w1, b1 = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4)
    w2, b2 = rng.normal(size=(3, 4, 2, 2)), rng.normal(size=3)
    w3, b3 = rng.normal(size=(5, 3 * 2 * 2)), rng.normal(size=5)
    text = _network_text(
        (2, 12, 12),
        [
            f"{{type: conv2d, weights: {_floats(w1)}, biases: {_floats(b1)}, padding: 1, activation: relu}}",
            "{type: maxpool2d, kernel_size: 2}",
            f"{{type: conv2d, weights: {_floats(w2)}, biases: {_floats(b2)}, stride: 2, activation: sigmoid}}",
            "{type: avgpool2d, kernel_size: 2, stride: 1}",
            "{type: flatten}",
            f"{{weights: {_floats(w3)}, biases: {_floats(b3)}, activation: softmax}}",
        ],
    )
    x = rng.normal(size=(8, 2, 12, 12))
    trace = forward(parse_network(text), x.reshape(8, -1))
    t = [torch.from_numpy(v) for v in (x, w1, b1, w2, b2, w3, b3)]
    a = functional.max_pool2d(torch.relu(functional.conv2d(t[0], t[1], t[2], padding=1)), 2)
    a = functional.avg_pool2d(torch.sigmoid(functional.conv2d(a, t[3], t[4], stride=2)), 2, 1)
    expected = torch.softmax(functional.linear(a.flatten(1), t[5], t[6]), dim=1)
    np.testing.assert_allclose(trace.output, expected.numpy(), rtol=0, atol=1e-12)


def test_keras_kernel_order_is_transposed_to_pytorchs():
    """``kernel:`` (kh, kw, in, out) as Keras's Conv2D.kernel holds it: kernel[i, j, c, o] is weights[o, c, i, j]."""
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(2, 3, 3, 2))
    kernel = np.einsum("ocij->ijco", weights)
    common = "biases: [0.5, -1], stride: [1, 2], activation: tanh"
    by_weights = parse_network(_network_text((3, 5, 6), [f"{{type: conv2d, weights: {_floats(weights)}, {common}}}"]))
    by_kernel = parse_network(_network_text((3, 5, 6), [f"{{type: conv2d, kernel: {_floats(kernel)}, {common}}}"]))
    assert np.array_equal(by_kernel.layers[0].weights, weights)
    x = rng.normal(size=(4, 90))
    assert np.array_equal(forward(by_kernel, x).output, forward(by_weights, x).output)


# -- located shape errors ---------------------------------------------------------------------


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_network(text, "net.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_kernel_larger_than_its_input_states_the_arithmetic():
    text = """inputs: {shape: [1, 5, 5]}
layers:
  - type: conv2d
    weights: [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]]]
    stride: 2
  - type: maxpool2d
    kernel_size: 3
"""
    assert _problems(text) == [
        "net.yaml:7:18: layer 2: maxpool2d: 2×2 input, 3×3 kernel, stride 3, padding 0 gives nothing: "
        "the kernel is larger than the padded input"
    ]


def test_a_dense_layer_after_a_flatten_is_told_where_its_width_comes_from():
    text = """inputs: {shape: [1, 5, 5]}
layers:
  - type: conv2d
    weights: [[[[1, 0, -1], [1, 0, -1], [1, 0, -1]]], [[[1, 0, 1], [1, 0, 1], [1, 0, 1]]]]
    stride: 2
  - type: flatten
  - weights: [[1, 2, 3, 4]]
"""
    # conv: (5 − 3) / 2 + 1 = 2, so 2 channels × 2 × 2 = 8 values
    assert _problems(text) == [
        "net.yaml:7:15: layer 3: row 1 of weights has 4 values, expected 8 "
        "(one per value of layer 2: flatten: 2×2×2 maps give 8 values)"
    ]


def test_independent_problems_are_listed_at_once():
    text = """inputs: {shape: [2, 6, 6]}
layers:
  - type: conv2d
    weights: [[[[1, 0], [0, 1]]]]
    biases: [0, 1]
    activation: softmax
  - type: maxpool2d
    kernel_size: 2
    padding: 2
  - type: flatten
  - type: conv3d
"""
    assert _problems(text) == [
        "net.yaml:4:14: layer 1: weights has 1 input channel (its 2nd dimension), expected 2: "
        "the inputs give 2×6×6 maps",
        "net.yaml:5:13: layer 1: biases has 2 values, expected 1 (one per output channel)",
        "net.yaml:6:17: layer 1: conv2d takes an elementwise activation, and softmax is not "
        "(put it on a dense layer after a flatten)",
        "net.yaml:9:14: layer 2: padding 2 is more than half the 2×2 kernel (PyTorch's rule for pooling)",
        "net.yaml:11:11: layer 4: unknown layer type 'conv3d'; did you mean 'conv2d'? "
        "(known: dense, conv2d, maxpool2d, avgpool2d, flatten)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "inputs: 25\nlayers:\n  - {type: conv2d, weights: [[[[1]]]]}\n",
            "net.yaml:3:5: layer 1: conv2d needs the inputs as images: "
            "write inputs: {shape: [channels, height, width]}",
        ),
        (
            "inputs: {shape: [1, 3, 3]}\nlayers:\n  - {weights: [[1, 2, 3]]}\n",
            "net.yaml:3:5: layer 1: a dense layer takes a vector, and the inputs give 1×3×3 maps: "
            "put a layer of type: flatten before it",
        ),
        (
            "inputs: {shape: [1, 3, 3]}\nlayers:\n  - {type: flatten}\n  - {type: flatten}\n",
            "net.yaml:4:5: layer 2: flatten needs maps (channels, height, width), and layer 1 (flatten) gives a vector",
        ),
        (
            "inputs: {shape: [1, 3]}\nlayers:\n  - {type: flatten}\n",
            "net.yaml:1:17: inputs: shape must be [channels, height, width], got 2 values",
        ),
        (
            "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: conv2d, weights: [[[[1, 2], [3]]]]}\n",
            "net.yaml:3:40: layer 1: weights[0][0][1] has 1 items, expected 2 (as the first has)",
        ),
        (
            "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: avgpool2d, kernel_size: [2, 2, 2]}\n",
            "net.yaml:3:36: layer 1: kernel_size must be one whole number or two ([height, width]), got 3 values",
        ),
        (
            "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: maxpool2d, stride: 0}\n",
            "net.yaml:3:5: layer 1: missing key 'kernel_size' (a whole number, or [height, width])",
        ),
        (
            "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: maxpool2d, kernel_size: 2, neurons: 3}\n",
            "net.yaml:3:39: layer 1: unknown key 'neurons' (allowed: type, name, kernel_size, stride, padding)",
        ),
    ],
)
def test_located_mistakes(text, message):
    assert message in _problems(text)


# -- the schema, the writer ---------------------------------------------------------------------


def test_the_schema_takes_the_spatial_layers_and_refuses_their_mistakes():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(network_schema())
    good = yaml.safe_load(TEXTBOOK.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(good)) == []
    for bad_layer in (
        {"type": "maxpool2d"},  # no kernel_size
        {"type": "conv2d", "weights": [[[[1]]]], "kernel": [[[[1]]]]},
        {"type": "flatten", "weights": [[1]]},
        {"type": "avgpool2d", "kernel_size": [2, 2, 2]},
        {"type": "conv2d", "weights": [[[[1]]]], "stride": 0},
    ):
        document = {**good, "layers": [bad_layer]}
        assert list(validator.iter_errors(document)), bad_layer
        with pytest.raises(InputError):
            parse_network(yaml.safe_dump(document))


def test_the_writer_keeps_each_spatial_layers_form():
    text = """inputs: {shape: [2, 6, 5], names: [red, green]}
layers:
  - type: conv2d
    name: edges
    kernel: [[[[0.1, -0.0], [1e-300, 2]], [[3, 4], [5, 6]]], [[[1/3, 8], [9, 10]], [[11, 12], [13, 14]]]]
    biases: -0.5
    stride: [2, 1]
    padding: 1
    activation: {name: leaky_relu, negative_slope: 0.2}
  - type: avgpool2d
    kernel_size: [2, 1]
  - type: maxpool2d
    kernel_size: 1
    stride: 1
  - type: flatten
    name: flat
"""
    network = parse_network(text, "net.yaml")
    written = dump_network(network)
    again = parse_network(written, "net.yaml")
    assert again.inputs[0] == "red.0.0" and again.inputs == network.inputs
    for mine, theirs in zip(again.layers, network.layers, strict=True):
        assert repr(replace(mine, **_no_text(mine))) == repr(replace(theirs, **_no_text(theirs)))
    conv = again.layers[0]
    assert conv.layout.weights == "kernel" and conv.layout.biases == "scalar"
    assert np.array_equal(conv.weights.view(np.int64), network.layers[0].weights.view(np.int64))  # −0.0 kept
    assert "stride: [2, 1]" in written and "padding: 1" in written and "kernel_size: [2, 1]" in written
    assert dump_network(again) == written


def _no_text(layer) -> dict:
    return {"weight_text": (), "bias_text": ()} if layer.kind == "conv2d" else {}


# -- streaming, JSON, CSV ---------------------------------------------------------------------


def _images(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(count, 25)) * rng.choice([1e-3, 1, 1e3], size=(count, 1))
    images[::5, 3] = -0.0
    return images


def test_a_samples_bits_do_not_depend_on_its_batch():
    """Each image alone gives the same bits as in a batch of any size, at any place in it."""
    torch_free = edge_network()
    network = Network(
        inputs=torch_free.inputs,
        layers=(Conv2d.build("c", (1, 5, 5), np.random.default_rng(1).normal(size=(3, 1, 3, 3)), [0.1, 0.2, 0.3]),),
        input_shape=(1, 5, 5),
    )
    images = _images(2100)
    whole = forward(network, images).output
    for start, size in ((0, 1), (5, 1), (7, 13), (1024, 1076), (2000, 100)):
        part = forward(network, images[start : start + size]).output
        assert np.array_equal(part.view(np.int64), whole[start : start + size].view(np.int64)), (start, size)


@pytest.mark.parametrize("chunk", ["1", "7", "100000"])
def test_streamed_csv_with_trace_equals_one_shot(nncalc, chunk):
    images = _images(23, seed=2)
    stdin = "".join(",".join(repr(v) for v in row) + "\n" for row in images.tolist())
    streamed = nncalc("forward", TEXTBOOK, "--inputs", "-", "-f", "csv", "--trace", "--chunk-size", chunk, stdin=stdin)
    options = [arg for row in images.tolist() for arg in ("-i", ",".join(repr(v) for v in row))]
    one_shot = nncalc("forward", TEXTBOOK, *options, "-f", "csv", "--trace")
    assert streamed.code == 0, streamed.err
    assert streamed.out == one_shot.out


def test_csv_names_spatial_cells_layer_channel_row_column(nncalc):
    result = nncalc("forward", TEXTBOOK, "--inputs", TEXTBOOK_IMAGE, "-f", "csv", "--trace")
    table = list(csv.DictReader(io.StringIO(result.out)))
    header = list(table[0])
    assert header[:3] == ["x.0.0.0", "x.0.0.1", "x.0.0.2"] and header[25:27] == ["o1", "o2"]
    assert header[27:29] == ["conv.0.0.0.z", "conv.0.0.1.z"]
    assert "pool.0.1.1.a" in header and "flatten.0.1.0.z" in header and "output.o2.a" in header
    assert float(table[0]["conv.0.1.2.z"]) == 8.0  # row 1, column 2 of the map worked by hand above
    assert float(table[0]["pool.0.0.1.a"]) == 8.0


def test_json_nests_maps_as_channels_rows_columns(nncalc):
    text = _network_text(
        (2, 4, 3),
        [
            "{type: conv2d, weights: " + _floats(np.ones((3, 2, 2, 2))) + ", activation: relu}",
            "{type: avgpool2d, kernel_size: [3, 2]}",
            "{type: flatten}",
        ],
    )
    network = parse_network(text)
    x = np.arange(24, dtype=np.float64).reshape(1, 24)
    trace = forward(network, x)
    stream = io.StringIO()
    data.write_json(stream, network, trace)
    document = json.loads(stream.getvalue())
    sample = document["samples"][0]
    assert np.array(sample["input"]).shape == (2, 4, 3)
    conv, pool, flat = sample["layers"]
    assert (conv["type"], conv["shape"], np.array(conv["z"]).shape) == ("conv2d", [3, 3, 2], (3, 3, 2))
    assert np.array(pool["a"]).shape == (3, 1, 1)
    assert flat["shape"] == [3] and flat["a"] == sample["output"]
    # z[o, r, c] = Σ over both channels of the 2×2 window; x[ch, r, c] = 12·ch + 3·r + c
    assert conv["z"][0][0][0] == (0 + 1 + 3 + 4) + (12 + 13 + 15 + 16)
    assert document["network"]["layers"][0]["weights"] == np.ones((3, 2, 2, 2)).tolist()
    assert document["network"]["input_shape"] == [2, 4, 3]


# -- inputs ------------------------------------------------------------------------------------


def test_an_image_as_a_matrix_a_list_of_channels_or_flat_gives_the_same_sample(nncalc, tmp_path):
    rows = [[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]]
    flat = [v for row in rows for v in row]
    samples = tmp_path / "samples.yaml"
    samples.write_text("samples:\n" + "".join(f"  - {json.dumps(sample)}\n" for sample in (rows, [rows], flat)))
    result = nncalc("forward", TEXTBOOK, "--inputs", samples, "-f", "csv")
    assert result.code == 0, result.err
    lines = result.out.splitlines()[1:]
    assert len(lines) == 3 and len(set(lines)) == 1
    by_option = nncalc("forward", TEXTBOOK, "-i", ",".join(map(str, flat)), "-f", "csv")
    assert by_option.out.splitlines()[1] == lines[0]


def test_mistakes_in_a_samples_file_are_located(nncalc, tmp_path):
    samples = tmp_path / "samples.yaml"
    samples.write_text("samples:\n  - [[1, 2, 0, 3, 1],\n     [0, 1, 2, 1]]\n  - [1, 2, 0]\n  - [[1, x, 0, 3, 1]]\n")
    result = nncalc("forward", TEXTBOOK, "--inputs", samples, "-f", "csv")
    assert result.code == 2
    assert result.err.splitlines() == [
        f"error: {samples}:3:6: sample 1: 4 items here, expected 5 (as the first has)",
        f"error: {samples}:4:5: sample 2: 3 values, expected 25 (write a 5×5 matrix (one row per list), "
        "or a flat list of 25 values)",
        f"error: {samples}:5:10: sample 3: 'x' is not a number",
    ]


def test_a_wrong_count_of_input_values_names_the_first_and_last(nncalc):
    result = nncalc("forward", TEXTBOOK, "-i", "1,2")
    assert result.code == 2
    assert "2 values given, expected 25 (x.0.0.0, x.0.0.1, … x.0.4.4)" in result.err


# -- what does not take spatial layers yet ---------------------------------------------------------


def test_the_backward_pass_of_a_batch_of_images_is_graded_a_map_per_sample(nncalc, tmp_path):
    """A flat image under the edge filter gives z = 0, a = relu(0) = 0, so both samples' conv maps are 0."""
    answers = tmp_path / "answers.yaml"
    zeros = "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]"
    answers.write_text(f"layers:\n  - z: [{zeros}, {zeros}]\n")
    image = ",".join(["1"] * 25)
    args = ("-i", image, "-i", ",".join(["2"] * 25), "-t", "1,0", "-t", "0,1", "--answers", answers, "-f", "json")
    result = nncalc("grade", TEXTBOOK, *args)
    assert result.code == 0, result.err
    assert json.loads(result.out)["right"] == 18


def test_the_api_takes_an_image_as_a_matrix_or_a_batch_of_maps():
    network = load_network(TEXTBOOK)
    image = np.array([[2, 3, 3, 0, 1], [3, 2, 3, 1, 0], [3, 3, 2, 0, 0], [2, 3, 3, 1, 0], [3, 2, 3, 0, 1]])
    flat = network.forward(image.reshape(-1)).output
    assert np.array_equal(network.forward(image).output, flat)  # (height, width) for one channel
    assert np.array_equal(network.forward(image[None]).output, flat)  # (channels, height, width)
    assert np.array_equal(network.forward(np.stack([image[None]] * 3)).output, np.vstack([flat] * 3))
    with pytest.raises(InputError, match="25 value"):
        network.forward(np.ones((4, 4)))


def test_an_overflow_names_the_cell(nncalc):
    huge = ",".join(["1e308", "1e308", "0", "0", "0"] * 5)  # z[0, 0, 0] = 3 × 1e308 − 0
    result = nncalc("forward", TEXTBOOK, "-i", huge, "-f", "csv")
    assert result.code == 1
    assert "layer 1 (conv), cell 0.0.0, sample 1: z is an overflow (inf)" in result.err


def test_a_wrong_kernel_size_is_not_also_reported_as_a_missing_stride():
    text = "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: maxpool2d, kernel_size: a}\n"
    assert _problems(text) == ["net.yaml:3:36: layer 1: kernel_size: 'a' is not a whole number"]


def test_maps_too_large_to_compute_are_refused():
    text = "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: conv2d, weights: [[[[1]]]], padding: 9000}\n"
    assert _problems(text) == [
        "net.yaml:3:49: layer 1: conv2d: 4×4 input, 1×1 kernel, stride 1, padding 9000 gives 18004×18004: "
        "1×18004×18004 maps are too large (324,144,016 values; at most 4,194,304)"
    ]
