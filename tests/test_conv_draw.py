"""draw on a network with convolution, pooling and flatten: each is one block with its shape.

The shapes are worked by hand: a 5×5 image under a 3×3 kernel with stride 1 gives
(5 − 3)/1 + 1 = 3, a 2×2 max pool with stride 1 over 3×3 gives 2×2, a flatten 1·2·2 = 4.
"""

from __future__ import annotations

import shutil

import pytest

from nncalc.activations import BoundActivation
from nncalc.network import Network
from nncalc.render.diagram import render_graphviz, to_dot, to_mermaid
from nncalc.spatial import AvgPool2d, Conv2d, Flatten, input_names
from tests.conftest import CONFIGS

TEXTBOOK = CONFIGS / "conv-textbook.yaml"


def run(nncalc, *args) -> str:
    result = nncalc(*args)
    assert result.code == 0, result.err
    return result.out


def padded_network() -> Network:
    """3×6×6 → conv 3→8, 3×3, stride 2, padding 1 → (6 + 2 − 3)//2 + 1 = 3: 8×3×3; avg pool 3 → 8×1×1."""
    conv = Conv2d.build(
        "conv", (3, 6, 6), [[[[0.0] * 3] * 3] * 3] * 8, [0.0] * 8, (2, 2), (1, 1), BoundActivation.named("tanh")
    )
    pool = AvgPool2d(name="pool", input_shape=(8, 3, 3), kernel_size=(3, 3), stride=(3, 3))
    flat = Flatten(name="flat", input_shape=(8, 1, 1))
    return Network(inputs=input_names((3, 6, 6)), layers=(conv, pool, flat), input_shape=(3, 6, 6), source="t")


def test_dot_draws_each_spatial_layer_as_a_box_with_its_shape(nncalc):
    out = run(nncalc, "draw", TEXTBOOK, "--format", "dot")
    assert 'L0_1 [shape=box, label="image\\n1×5×5"];' in out
    assert 'L1_1 [shape=box, label="conv2d 3×3, 1→1, stride 1 · relu\\n1×3×3"];' in out
    assert 'L2_1 [shape=box, label="maxpool2d 2×2, stride 1\\n1×2×2"];' in out
    assert 'L3_1 [shape=box, label="flatten\\n4 values"];' in out
    # one edge from block to block, one plain edge from the flatten to each dense neuron
    for edge in ("L0_1 -> L1_1;", "L1_1 -> L2_1;", "L2_1 -> L3_1;", "L3_1 -> L4_1;", "L3_1 -> L4_2;"):
        assert edge in out
    into = [line for line in out.splitlines() if line.strip().endswith("-> L4_1;")]
    assert into == ["  L3_1 -> L4_1;"]  # one edge, not one per flattened value, and no weight on it
    assert "x.0.0.0" not in out  # the image is one block, not 25 circles


def test_mermaid_draws_the_same_blocks(nncalc):
    out = run(nncalc, "draw", TEXTBOOK, "--format", "mermaid")
    assert 'L1_1[["conv2d 3×3, 1→1, stride 1 · relu<br/>1×3×3"]]' in out
    assert 'L2_1[["maxpool2d 2×2, stride 1<br/>1×2×2"]]' in out
    assert "  L3_1 --> L4_1" in out
    assert 'L4_1["o1<br/>b = -1<br/>softmax"]' in out  # a dense neuron as today


def test_padding_stride_and_channels_are_in_the_block():
    network = padded_network()
    dot = to_dot(network)
    assert 'label="conv2d 3×3, 3→8, stride 2, padding 1 · tanh\\n8×3×3"' in dot
    assert 'label="avgpool2d 3×3, stride 3\\n8×1×1"' in dot
    assert 'label="flatten\\n8 values"' in dot
    assert 'label="image\\n3×6×6"' in dot
    assert "avgpool2d 3×3, stride 3<br/>8×1×1" in to_mermaid(network)


def test_with_an_input_dense_neurons_after_a_flatten_show_their_values(nncalc):
    image = ",".join(["2,3,3,0,1", "3,2,3,1,0", "3,3,2,0,0", "2,3,3,1,0", "3,2,3,0,1"])
    out = run(nncalc, "draw", TEXTBOOK, "--format", "dot", "--input", image)
    # flatten a = 7, 8, 7, 8 (see test_conv_worked); z_o1 = 0.1·7 + 0.2·8 + 0.1·7 + 0.2·8 − 1 = 3.6
    assert "z = 3.6" in out
    assert 'label="conv2d 3×3, 1→1, stride 1 · relu\\n1×3×3"' in out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_draws_the_blocks():
    svg = render_graphviz(to_dot(padded_network()), "svg").decode("utf-8")
    assert "8×3×3" in svg and "conv2d 3×3, 3→8, stride 2, padding 1 · tanh" in svg
