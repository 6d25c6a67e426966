"""Convolution, pooling and flatten: values worked by hand, and PyTorch's where it is installed."""

from __future__ import annotations

import numpy as np

from nncalc.activations import BoundActivation
from nncalc.engine import forward
from nncalc.network import Network
from nncalc.spatial import AvgPool2d, Conv2d, Flatten, MaxPool2d, input_names

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
