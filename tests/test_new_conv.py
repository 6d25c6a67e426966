"""``nncalc new --image``: convolution exercises a teacher can hand out and work by hand.

Shapes are worked out here with the textbook formula ((H + 2P − K) / S + 1), values are
checked against the rules the command promises (the range, the decimals, the seed), and the
suggested picture is run through the exercise and compared with a convolution written here
in plain loops.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nncalc.loader import parse_network


def exercise(nncalc, *args: str):
    result = nncalc("new", *args)
    assert result.code == 0, result.err
    return result.out, parse_network(result.out)


def suggested_input(text: str) -> str:
    return re.search(r"--input (\S+)", text).group(1)


def test_a_convolution_exercise_has_the_textbook_shapes(nncalc):
    """6×6 picture, 3×3 kernel (stride 1): (6 − 3)/1 + 1 = 4, so 4×4; 2×2 max pool, stride 2: 2×2;
    a flatten of 4 values; a dense layer of 2 neurons on them."""
    _, net = exercise(nncalc, "--image", "6x6", "--layers", "conv:3,maxpool:2,2", "--seed", "5")
    conv, pool, flatten, dense = net.layers
    assert (conv.kind, conv.weights.shape, conv.output_shape) == ("conv2d", (1, 1, 3, 3), (1, 4, 4))
    assert (pool.kind, pool.output_shape) == ("maxpool2d", (1, 2, 2))
    assert (flatten.kind, flatten.output_shape) == ("flatten", (4,))
    assert dense.weights.shape == (2, 4)
    assert net.input_shape == (1, 6, 6)


def test_filters_channels_stride_and_padding_are_as_asked(nncalc):
    """3 channels of 7×7; conv 3×3, 2 filters, stride 2, padding 1: (7 + 2 − 3)/2 + 1 = 4;
    an average pool of 2 at stride 1: (4 − 2)/1 + 1 = 3."""
    args = ("--image", "3x7x7", "--layers", "conv:3:2:stride=2:padding=1,avgpool:2:stride=1,1", "--seed", "2")
    _, net = exercise(nncalc, *args)
    conv, pool, _, dense = net.layers
    assert conv.weights.shape == (2, 3, 3, 3) and conv.biases.shape == (2,)
    assert (conv.stride, conv.padding, conv.output_shape) == ((2, 2), (1, 1), (2, 4, 4))
    assert (pool.kind, pool.stride, pool.output_shape) == ("avgpool2d", (1, 1), (2, 3, 3))
    assert dense.weights.shape == (1, 18)


def test_whole_number_kernels_for_working_by_hand(nncalc):
    """--decimals 0 --range -1,2: every value is -1, 0 or 1, and the same seed gives the same file."""
    args = ("--image", "5x5", "--layers", "conv:3:2,1", "--range", "-1,2", "--decimals", "0", "--seed", "9")
    text, net = exercise(nncalc, *args)
    values = np.concatenate([layer.weights.ravel() for layer in net.layers if layer.kind != "flatten"])
    assert set(np.unique(values)) <= {-1.0, 0.0, 1.0} and len(np.unique(values)) > 1
    assert set(suggested_input(text).split(",")) <= {"-1", "0", "1"}
    assert nncalc("new", *args).out == text
    assert nncalc("new", *args[:-1], "10").out != text


def test_the_suggested_picture_runs_and_its_map_adds_up_by_hand(nncalc, tmp_path):
    args = ("--image", "6x6", "--layers", "conv:3,maxpool:2,2", "--range", "-1,2", "--decimals", "0", "--seed", "4")
    text, net = exercise(nncalc, *args)
    path = tmp_path / "exercise.yaml"
    path.write_text(text)
    result = nncalc("forward", path, "--input", suggested_input(text), "-f", "json")
    assert result.code == 0, result.err
    picture = np.array([float(v) for v in suggested_input(text).split(",")]).reshape(6, 6)
    kernel, bias = net.layers[0].weights[0, 0], net.layers[0].biases[0]
    z = [[float((picture[r : r + 3, c : c + 3] * kernel).sum() + bias) for c in range(4)] for r in range(4)]
    a = np.maximum(np.array(z), 0) if net.layers[0].activation.name == "relu" else None
    shown = json.loads(result.out)
    layer = shown["layers"][0] if "layers" in shown else shown["samples"][0]["layers"][0]
    assert np.array(layer["z"]).reshape(4, 4).tolist() == z
    if a is not None:
        pooled = [[a[r : r + 2, c : c + 2].max() for c in (0, 2)] for r in (0, 2)]
        second = shown["layers"][1] if "layers" in shown else shown["samples"][0]["layers"][1]
        assert np.array(second["a"]).reshape(2, 2).tolist() == pooled


def test_dense_layers_on_a_picture_read_it_through_a_flatten(nncalc):
    _, net = exercise(nncalc, "--image", "2x3x3", "--layers", "2,1", "--seed", "1")
    assert [layer.kind for layer in net.layers] == ["flatten", "dense", "dense"]
    assert net.layers[1].weights.shape == (2, 18)


@pytest.mark.parametrize(
    ("args", "where", "words"),
    [
        (("--image", "6x6", "--layers", "conv:9"), "--layers", "9×9 kernel, stride 1, padding 0 gives nothing"),
        (("--image", "6x6", "--layers", "2,conv:3"), "--layers", "only before the dense layers"),
        (("--layers", "conv:3,1"), "--layers", "--image first"),
        (("--image", "6x6", "--layers", "conv:3:2:3"), "--layers", "'conv:3:2:3' is not a layer"),
        (("--image", "6x6", "--layers", "conv:3:stride=0"), "--layers", "at least 1"),
        (("--image", "6x6", "--layers", "avgpool:2:padding=2"), "--layers", "more than half the 2×2 kernel"),
        (("--image", "6x6", "--layers", "conv:3:size=2"), "--layers", "is not a layer"),
        (("--image", "6", "--layers", "1"), "--image", "HEIGHTxWIDTH"),
        (("--image", "0x5", "--layers", "1"), "--image", "HEIGHTxWIDTH"),
        (("--image", "2000x2000", "--layers", "1"), "--image", "more than 1,000,000 values"),
        (("--image", "5x5", "--inputs", "3"), "--inputs", "not both"),
        (("--image", "100x100", "--layers", "conv:5:64,10"), "--layers", "more than the limit"),
    ],
)
def test_a_wrong_exercise_is_refused_at_its_option(nncalc, args, where, words):
    result = nncalc("new", *args)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"error: {where}: ") and words in result.err, result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("layers", [("--inputs", "3", "--layers", "4,2"), ("--image", "4x4", "--layers", "conv:2:2,1")])
def test_values_written_to_the_decimals_stay_inside_the_range(nncalc, layers):
    """[-1, 2) to no decimals: 1.7 rounds to 2, outside the range, so it is written 1."""
    for seed in range(12):
        text, net = exercise(nncalc, *layers, "--range", "-1,2", "--decimals", "0", "--seed", str(seed))
        values = [float(v) for v in suggested_input(text).split(",")]
        values += [float(v) for layer in net.layers if layer.kind != "flatten" for v in layer.weights.ravel()]
        assert all(-1 <= v < 2 for v in values), (seed, sorted(set(values)))


def test_every_value_of_the_decimals_is_as_likely(nncalc):
    """[-1, 2) with no decimals holds -1, 0 and 1: each is about a third of 2,550 values drawn
    (rounding a draw from the interval would give -1 a sixth and 2 a sixth)."""
    _, net = exercise(nncalc, "--inputs", "50", "--layers", "50", "--range", "-1,2", "--decimals", "0", "--seed", "1")
    values = np.concatenate([net.layers[0].weights.ravel(), net.layers[0].biases])
    counts = {v: int((values == v).sum()) for v in (-1.0, 0.0, 1.0)}
    assert sum(counts.values()) == values.size == 2550
    assert all(abs(count / values.size - 1 / 3) < 0.04 for count in counts.values()), counts


def test_a_range_without_a_number_of_the_decimals_is_refused(nncalc):
    result = nncalc("new", "--range", "0.11,0.19", "--decimals", "1")
    assert result.code == 2 and result.err.startswith("error: --range: no number of 1 decimal lies in [0.11, 0.19)")


def test_a_picture_too_large_for_a_command_line_is_suggested_as_a_samples_file(nncalc):
    """1,600 values would make a --input of several kilobytes; past 1,000 the file points at --inputs."""
    text, _ = exercise(nncalc, "--image", "40x40", "--layers", "conv:3,1", "--seed", "1")
    assert "# Try: nncalc forward THIS-FILE --inputs SAMPLES.csv (a row of 1,600 values each)" in text
    assert "--input " not in text
    small, _ = exercise(nncalc, "--image", "20x20", "--layers", "1", "--seed", "1")
    assert len(suggested_input(small).split(",")) == 400
