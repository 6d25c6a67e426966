"""Importing convolutional networks: PyTorch, Keras (live and saved) and ONNX models with conv and pooling.

Each imported network is written with ``yaml.safe_dump``, read back by the loader and run
by nncalc's engine; its output must equal the framework's own (PyTorch, Keras, ONNX
Runtime, all in float64) to 1e-9 on random pictures. The tests that always run use ONNX
files written by hand as protobuf bytes and a convolution written here as loops over
cells, straight from its definition. A model nncalc cannot express is refused with one
located message naming the layer, and ``nncalc import`` exits 2 on it.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
import yaml

import nncalc as library
from nncalc.engine import forward
from nncalc.errors import InputError
from nncalc.importers import keras as keras_import
from nncalc.importers import keras_file, onnx
from nncalc.importers import torch as torch_import
from nncalc.loader import parse_network
from tests.test_import_files import _field, _int_field, _model_proto, _node_proto, _tensor_proto, _text_field

RNG = np.random.default_rng(20261202)


def load(d: dict):
    """The network a dict describes, read back as nncalc reads a file."""
    return parse_network(yaml.safe_dump(d, sort_keys=False), "<import>")


def run(d: dict, pictures: np.ndarray) -> np.ndarray:
    """nncalc's output for pictures (samples, C, H, W), flattened as nncalc takes them (PyTorch's order)."""
    return forward(load(d), pictures.reshape(len(pictures), -1)).output


def same(ours: np.ndarray, theirs) -> None:
    np.testing.assert_allclose(ours, np.asarray(theirs, dtype=np.float64), rtol=0, atol=1e-9)


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# --- a reference written from the definitions, cell by cell ---


def conv_by_cells(x, weights, biases, stride=(1, 1), padding=(0, 0)):
    """z[o, i, j] = b[o] + Σ_c Σ_u Σ_v W[o, c, u, v] · x[c, i·sh + u − ph, j·sw + v − pw] (zero outside)."""
    samples, channels, height, width = x.shape
    out_channels, _, kh, kw = weights.shape
    rows = (height + 2 * padding[0] - kh) // stride[0] + 1
    cols = (width + 2 * padding[1] - kw) // stride[1] + 1
    z = np.zeros((samples, out_channels, rows, cols))
    for n in range(samples):
        for o in range(out_channels):
            for i in range(rows):
                for j in range(cols):
                    total = biases[o]
                    for c in range(channels):
                        for u in range(kh):
                            for v in range(kw):
                                r, k = i * stride[0] + u - padding[0], j * stride[1] + v - padding[1]
                                if 0 <= r < height and 0 <= k < width:
                                    total += weights[o, c, u, v] * x[n, c, r, k]
                    z[n, o, i, j] = total
    return z


def pool_by_cells(x, size, stride, reduce):
    """Each window's max or mean, no padding."""
    samples, channels, height, width = x.shape
    rows, cols = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((samples, channels, rows, cols))
    for i in range(rows):
        for j in range(cols):
            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, :, i, j] = reduce(window.reshape(samples, channels, -1), axis=2)
    return out


# --- ONNX written by hand: always runs ---


def _value_info_shape(name: str, dims: list) -> bytes:
    """ValueInfoProto with a DOUBLE tensor type of ``dims`` (an int is dim_value, a str dim_param)."""
    body = b"".join(
        _field(1, _text_field(2, d) if isinstance(d, str) else _int_field(1, d)) for d in dims
    )  # TensorShapeProto.dim
    return _text_field(1, name) + _field(2, _field(1, _int_field(1, 11) + _field(2, body)))


def _ints_attribute(name: str, values: list[int]) -> bytes:
    """AttributeProto: name (1), ints (8, one varint each), type (20: INTS 7)."""
    return _text_field(1, name) + b"".join(_int_field(8, v) for v in values) + _int_field(20, 7)


def _hand_cnn(input_dims: list, pads=(1, 1, 1, 1)) -> tuple[dict, bytes]:
    """x (n, 2, 6, 6) → Conv(3 filters, 3×3, pads) → Relu → MaxPool 2 → Flatten → Gemm(4) → y."""
    w, b = RNG.normal(size=(3, 2, 3, 3)), RNG.normal(size=3)
    w2, b2 = RNG.normal(size=(4, 27)), RNG.normal(size=4)
    conv = _node_proto("Conv", ["x", "conv.weight", "conv.bias"], ["c"], "conv")
    conv += _field(5, _ints_attribute("pads", list(pads))) + _field(5, _ints_attribute("kernel_shape", [3, 3]))
    pool = _node_proto("MaxPool", ["r"], ["p"], "pool1")
    pool += _field(5, _ints_attribute("kernel_shape", [2, 2])) + _field(5, _ints_attribute("strides", [2, 2]))
    nodes = [
        conv,
        _node_proto("Relu", ["c"], ["r"]),
        pool,
        _node_proto("Flatten", ["p"], ["f"], axis=1),
        _node_proto("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], transB=1),
    ]
    inits = [_tensor_proto(k, v) for k, v in {"conv.weight": w, "conv.bias": b, "fc.weight": w2, "fc.bias": b2}.items()]
    graph = b"".join(_field(1, n) for n in nodes) + _text_field(2, "hand") + b"".join(_field(5, t) for t in inits)
    graph += _field(11, _value_info_shape("x", input_dims)) + _field(12, _value_info_shape("y", ["N", 4]))
    data = _int_field(1, 8) + _field(8, _int_field(2, 17)) + _field(7, graph)
    return {"w": w, "b": b, "w2": w2, "b2": b2}, data


def test_the_hand_written_model_is_the_one_the_dense_tests_write_but_for_its_shapes():
    # the same writer as tests/test_import_files.py's, with (batch, C, H, W) declared for the input
    from tests.test_import_files import _value_info

    assert _value_info("x", 3) == _value_info_shape("x", ["N", 3])
    nodes, inits = [_node_proto("Relu", ["x"], ["y"])], []
    ours = _field(1, nodes[0]) + _text_field(2, "hand")
    ours += _field(11, _value_info_shape("x", ["N", 3])) + _field(12, _value_info_shape("y", ["N", 3]))
    assert _model_proto(nodes, inits, 3, 3) == _int_field(1, 8) + _field(8, _int_field(2, 17)) + _field(7, ours)


def test_onnx_cnn_written_by_hand_matches_the_definition_cell_by_cell(tmp_path):
    p, data = _hand_cnn(["N", 2, 6, 6])
    path = tmp_path / "cnn.onnx"
    path.write_bytes(data)
    d = onnx.network_dict(path)
    assert d["inputs"] == {"shape": [2, 6, 6]}
    assert [layer.get("type", "dense") for layer in d["layers"]] == ["conv2d", "maxpool2d", "flatten", "dense"]
    assert d["layers"][0]["padding"] == 1 and d["layers"][0]["activation"] == "relu"
    assert d["layers"][1]["name"] == "pool1"  # a name a person chose is kept
    x = RNG.normal(size=(3, 2, 6, 6))
    a = np.maximum(conv_by_cells(x, p["w"], p["b"], padding=(1, 1)), 0)
    pooled = pool_by_cells(a, 2, 2, np.max)
    expected = pooled.reshape(3, -1) @ p["w2"].T + p["b2"]
    same(run(d, x), expected)


def test_imported_cnns_are_valid_under_the_json_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    from nncalc.schema import network_schema

    _, data = _hand_cnn(["N", 2, 6, 6])
    (tmp_path / "cnn.onnx").write_bytes(data)
    d = onnx.network_dict(tmp_path / "cnn.onnx")
    jsonschema.validate(yaml.safe_load(yaml.safe_dump(d)), network_schema())


def test_onnx_cnn_with_an_open_picture_size_is_refused_saying_so(tmp_path):
    _, data = _hand_cnn(["N", 2, "H", "W"])
    path = tmp_path / "open.onnx"
    path.write_bytes(data)
    message = refused(onnx.network_dict, path)
    assert "cannot import: the input 'x' is declared 2×?×?: nncalc needs one picture's size" in message
    assert "--input-shape C,H,W" in message


def test_onnx_open_picture_size_is_given_by_input_shape(tmp_path):
    p, data = _hand_cnn(["N", 2, "H", "W"])
    path = tmp_path / "open.onnx"
    path.write_bytes(data)
    d = onnx.network_dict(path, input_shape=(2, 6, 6))
    assert d["inputs"] == {"shape": [2, 6, 6]}
    x = RNG.normal(size=(2, 2, 6, 6))
    pooled = pool_by_cells(np.maximum(conv_by_cells(x, p["w"], p["b"], padding=(1, 1)), 0), 2, 2, np.max)
    same(run(d, x), pooled.reshape(2, -1) @ p["w2"].T + p["b2"])
    # a size the file fixes must be the one given
    assert "is declared 2×?×?, and the shape given is 3×6×6" in refused(onnx.network_dict, path, input_shape=(3, 6, 6))


def test_the_import_command_takes_input_shape_and_refuses_it_where_it_means_nothing(nncalc, tmp_path):
    _, data = _hand_cnn(["N", 2, "H", "W"])
    (tmp_path / "open.onnx").write_bytes(data)
    result = nncalc("import", tmp_path / "open.onnx", "--input-shape", "2,6,6")
    assert result.code == 0, result.err
    assert yaml.safe_load(result.out)["inputs"] == {"shape": [2, 6, 6]}
    # a picture size Gemm's 27 inputs do not fit: the error states the arithmetic
    result = nncalc("import", tmp_path / "open.onnx", "--input-shape", "2,8,8")
    assert result.code == 2 and "takes 27 inputs but the layer before gives 48" in result.err
    result = nncalc("import", tmp_path / "open.onnx", "--input-shape", "2x6")
    assert result.code == 2 and result.err.startswith("error: --input-shape: expected channels, height and width")
    np.savez(tmp_path / "dense.npz", **{"0.weight": np.ones((2, 3))})
    result = nncalc("import", tmp_path / "dense.npz", "--activation", "relu", "--input-shape", "1,1,3")
    assert result.code == 2 and "leave out --input-shape" in result.err


def test_onnx_uneven_pads_are_refused_naming_the_node(tmp_path):
    _, data = _hand_cnn(["N", 2, 6, 6], pads=(1, 1, 0, 0))
    path = tmp_path / "uneven.onnx"
    path.write_bytes(data)
    message = refused(onnx.network_dict, path)
    assert "cannot import: node 'conv' (Conv) has pads [1, 1, 0, 0]" in message


def test_the_import_command_writes_a_file_forward_runs_to_the_same_outputs(nncalc, tmp_path):
    p, data = _hand_cnn(["N", 2, 6, 6])
    (tmp_path / "cnn.onnx").write_bytes(data)
    result = nncalc("import", tmp_path / "cnn.onnx", "-o", tmp_path / "net.yaml")
    assert result.code == 0, result.err
    x = RNG.normal(size=(2, 2, 6, 6))
    rows = "\n".join(",".join(repr(float(v)) for v in sample.reshape(-1)) for sample in x)
    (tmp_path / "x.csv").write_text(rows + "\n")
    result = nncalc("forward", tmp_path / "net.yaml", "--inputs", tmp_path / "x.csv", "--format", "json")
    assert result.code == 0, result.err
    outputs = np.array([sample["output"] for sample in json.loads(result.out)["samples"]])
    pooled = pool_by_cells(np.maximum(conv_by_cells(x, p["w"], p["b"], padding=(1, 1)), 0), 2, 2, np.max)
    same(outputs, pooled.reshape(2, -1) @ p["w2"].T + p["b2"])


def test_the_import_command_refuses_an_uneven_conv_with_one_located_line(nncalc, tmp_path):
    _, data = _hand_cnn(["N", 2, 6, 6], pads=(0, 1, 0, 2))
    (tmp_path / "bad.onnx").write_bytes(data)
    result = nncalc("import", tmp_path / "bad.onnx")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("error: ") and str(tmp_path / "bad.onnx") in result.err
    assert "node 'conv' (Conv) has pads [0, 1, 0, 2]" in result.err


# --- PyTorch ---


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _torch_pictures(torch, model, d, shape, seed=0):
    x = np.random.default_rng(seed).normal(scale=2.0, size=(8, *shape))
    with torch.no_grad():
        expected = model.double().eval()(torch.from_numpy(x)).numpy()
    same(run(d, x), expected.reshape(len(x), -1))  # maps out: PyTorch's order is nncalc's


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=(2, 1), padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(4, 3, (2, 3), bias=False), nn.Tanh()),
        nn.AvgPool2d(2, stride=1, padding=1),
        nn.Dropout(0.0),
        nn.Flatten(),
        nn.Linear(45, 6),
        nn.LeakyReLU(0.1),
        nn.Linear(6, 3),
        nn.Softmax(dim=1),
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_torch_cnn_equals_pytorch(torch, seed):
    torch.manual_seed(seed)
    model = _lenet(torch.nn).double()
    d = torch_import.network_dict(model, input_shape=(2, 11, 12))
    assert d["inputs"] == {"shape": [2, 11, 12]}
    kinds = [layer.get("type", "dense") for layer in d["layers"]]
    assert kinds == ["conv2d", "maxpool2d", "conv2d", "avgpool2d", "flatten", "dense", "dense"]
    assert "biases" not in d["layers"][2]  # bias=False
    assert np.array(d["layers"][0]["weights"]).tobytes() == model[0].weight.detach().numpy().tobytes()
    _torch_pictures(torch, model, d, (2, 11, 12), seed)


def test_torch_input_shape_may_give_height_and_width_with_the_channels_from_the_first_conv(torch):
    torch.manual_seed(2)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 2, 3, padding="same"), nn.Sigmoid(), nn.Conv2d(2, 2, 1, padding="valid"))
    d = torch_import.network_dict(model, input_shape=(5, 4))
    assert d["inputs"] == {"shape": [3, 5, 4]}
    assert d["layers"][0]["padding"] == 1 and "padding" not in d["layers"][1]
    _torch_pictures(torch, model, d, (3, 5, 4))


def test_torch_input_names_of_pictures_name_their_channels(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(2, 1, 1))
    d = torch_import.network_dict(model, ["red", "green"], input_shape=(2, 2, 2))
    assert d["inputs"] == {"shape": [2, 2, 2], "names": ["red", "green"]}
    assert load(d).n_inputs == 8
    says = "3 input names given, but the model takes 2 channels in its images"
    assert says in refused(torch_import.network_dict, model, ["r", "g", "b"], input_shape=(2, 2, 2))


def test_torch_flatten_first_with_a_shape_makes_an_mlp_over_pictures(torch):
    torch.manual_seed(3)
    nn = torch.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.ReLU())
    d = torch_import.network_dict(model, input_shape=(1, 3, 4))
    assert d["layers"][0] == {"type": "flatten"}
    _torch_pictures(torch, model, d, (1, 3, 4))
    assert torch_import.network_dict(model)["inputs"] == 12  # without a shape, as before: a vector


def test_torch_adaptive_pooling_whose_size_divides_the_maps_is_plain_pooling(torch):
    torch.manual_seed(11)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d((3, None)),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(3, 2),
    )
    d = torch_import.network_dict(model, input_shape=(1, 6, 4))
    assert d["layers"][1]["kernel_size"] == [2, 1] and d["layers"][2]["kernel_size"] == [3, 4]
    _torch_pictures(torch, model, d, (1, 6, 4))
    uneven = nn.Sequential(nn.Conv2d(1, 1, 1), nn.AdaptiveAvgPool2d(4))
    assert "layer 1 (AdaptiveAvgPool2d) makes 4 from 6 cells, whose windows differ in size" in refused(
        torch_import.network_dict, uneven, input_shape=(1, 6, 4)
    )


def test_from_torch_takes_the_shape_and_the_api_runs_it(torch):
    torch.manual_seed(4)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Flatten(), nn.Linear(8, 2))
    network = library.from_torch(model.double(), input_shape=(4, 4))
    x = np.random.default_rng(5).normal(size=(3, 1, 4, 4))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    same(network.forward(x.reshape(3, -1)).output, expected)


def _torch_refusals(nn):
    shaped = {"input_shape": (2, 8, 8)}
    return [
        (
            nn.Sequential(nn.Conv2d(2, 2, 3)),
            {},
            "layer 0 (Conv2d) is a convolution, and the shape of the model's input",
        ),
        (nn.Sequential(nn.Conv2d(2, 4, 3, groups=2)), shaped, "layer 0 (Conv2d) has groups=2"),
        (nn.Sequential(nn.Conv2d(2, 2, 3, dilation=2)), shaped, "layer 0 (Conv2d) has dilation=(2, 2)"),
        (
            nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect")),
            shaped,
            "layer 0 (Conv2d) has padding_mode='reflect'",
        ),
        (nn.Sequential(nn.Conv2d(2, 2, 2, padding="same")), shaped, "layer 0 (Conv2d) has padding='same' with a 2×2"),
        (nn.Sequential(nn.MaxPool2d(3, ceil_mode=True)), shaped, "layer 0 (MaxPool2d) has ceil_mode=True"),
        (nn.Sequential(nn.MaxPool2d(3, dilation=2)), shaped, "layer 0 (MaxPool2d) has dilation=2"),
        (
            nn.Sequential(nn.AvgPool2d(3, padding=1, count_include_pad=False)),
            shaped,
            "layer 0 (AvgPool2d) has count_include_pad=False with padding",
        ),
        (nn.Sequential(nn.AvgPool2d(2, divisor_override=3)), shaped, "layer 0 (AvgPool2d) has divisor_override=3"),
        (
            nn.Sequential(nn.Conv2d(3, 2, 3)),
            shaped,
            "layer 0 (Conv2d) takes 3 channels, and the maps before it (2×8×8)",
        ),
        (nn.Sequential(nn.Conv2d(2, 2, 9)), shaped, "conv2d on a 8×8 input, 9×9 kernel, stride 1, padding 0 gives no"),
        (nn.Sequential(nn.Conv2d(2, 2, 3), nn.Linear(6, 2)), shaped, "layer 1 (Linear) is a dense layer on 2×6×6 maps"),
        (nn.Sequential(nn.MaxPool2d(2), nn.ReLU()), shaped, "layer 1 (ReLU) is a second activation in a row, or"),
        (nn.Sequential(nn.Conv2d(2, 2, 3), nn.Flatten(2)), shaped, "layer 1 (Flatten) flattens"),
        (nn.Sequential(nn.Linear(3, 2)), {"input_shape": (3, 3)}, "input_shape gives a height and width only"),
        (
            nn.Sequential(nn.Conv2d(2, 3, 3), nn.Softmax(dim=1)),
            shaped,
            "layer 1 (Softmax) is a softmax over the channels of 3×6×6 maps, at each position on its own",
        ),
    ]


def test_torch_options_nncalc_lacks_are_refused_naming_the_layer(torch):
    for model, options, says in _torch_refusals(torch.nn):
        assert says in refused(torch_import.network_dict, model, **options), says


# --- Keras, live and saved ---


@pytest.fixture
def keras(monkeypatch):
    """Keras 3 on the PyTorch backend, computing float64 in float64 (as in test_import_live)."""
    if "KERAS_BACKEND" not in os.environ:
        monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    dtypes = pytest.importorskip("keras.src.backend.common.dtypes")
    if hasattr(dtypes, "BIT64_TO_BIT32_DTYPE"):
        monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    probe = keras.ops.matmul(np.ones((1, 1)), np.ones((1, 1)))
    if keras.backend.standardize_dtype(probe.dtype) != "float64":
        keras.config.set_floatx(floatx)
        pytest.skip("this Keras computes float64 in float32")
    yield keras
    keras.config.set_floatx(floatx)


def _keras_cnn(keras, seed: int):
    """13×10×2 pictures: 'same' at stride 2 (even padding), pooling, an activation layer, Flatten, Dense."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((13, 10, 2)),
            layers.Conv2D(3, 3, strides=(2, 1), padding="same", activation="relu", bias_initializer="glorot_uniform"),
            layers.MaxPooling2D(2),
            layers.Conv2D(4, (2, 3), use_bias=False),
            layers.Activation("tanh"),
            layers.AveragePooling2D(2, strides=1),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(5, activation="softmax", bias_initializer="glorot_uniform"),
        ]
    )


def _keras_pictures(keras, model, d, seed=0):
    """Keras's output for pictures (H, W, C) and nncalc's for the same pictures (C, H, W)."""
    height, width, channels = model.inputs[0].shape[1:]
    x = np.random.default_rng(seed).normal(scale=2.0, size=(8, height, width, channels))
    out = model(x)
    expected = out.detach().cpu().numpy() if hasattr(out, "detach") else keras.ops.convert_to_numpy(out)
    if expected.ndim == 4:  # maps out, (H, W, C): nncalc gives them (C, H, W)
        expected = expected.transpose(0, 3, 1, 2).reshape(len(x), -1)
    same(run(d, x.transpose(0, 3, 1, 2)), expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_keras_cnn_equals_keras(keras, seed):
    model = _keras_cnn(keras, seed)
    d = keras_import.network_dict(model)
    assert d["inputs"] == {"shape": [2, 13, 10]}
    conv = d["layers"][0]
    assert conv["padding"] == 1 and conv["stride"] == [2, 1] and conv["activation"] == "relu"
    assert np.array(conv["kernel"]).shape == (3, 3, 2, 3)  # Keras's own order, under kernel:
    assert d["layers"][2]["activation"] == "tanh"  # the Activation layer folded into the Conv2D
    _keras_pictures(keras, model, d, seed)


def test_keras_flatten_order_is_turned_into_pytorchs(keras):
    """A Dense after Flatten reads (H, W, C) in Keras: without turning its columns the outputs would differ."""
    keras.utils.set_random_seed(7)
    layers = keras.layers
    model = keras.Sequential([keras.Input((3, 2, 4)), layers.Flatten(), layers.Dense(2)])
    d = keras_import.network_dict(model)
    kernel = keras_import._weights(model.layers[-1])[0]  # NumPy, without Keras's NumPy 2 warning
    assert not np.array_equal(np.array(d["layers"][1]["weights"]), kernel.T)
    _keras_pictures(keras, model, d)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_keras_cnn_equals_keras(keras, tmp_path, suffix):
    model = _keras_cnn(keras, 3)
    path = tmp_path / f"cnn{suffix}"
    with warnings.catch_warnings():  # saving .h5 warns that the format is legacy
        warnings.simplefilter("ignore")
        model.save(path)
    d = keras_file.network_dict(path)
    assert d == keras_import.network_dict(model) | {"name": "cnn"}
    _keras_pictures(keras, model, d)


def _keras_refusals(keras):
    layers = keras.layers

    def chain(*parts, shape=(8, 8, 2)):
        return keras.Sequential([keras.Input(shape), *parts])

    return [
        (chain(layers.Conv2D(2, 2, padding="same", name="c")), "layer 'c' (Conv2D) has padding='same', which pads"),
        (chain(layers.Conv2D(2, 3, dilation_rate=2, name="c")), "layer 'c' (Conv2D) has dilation_rate=(2, 2)"),
        (
            chain(layers.AveragePooling2D(3, strides=1, padding="same", name="p")),
            "layer 'p' (AveragePooling2D) has padding='same' that adds cells",
        ),
        (chain(layers.MaxPooling2D(2, name="p"), layers.ReLU(name="r")), "layer 'r' (ReLU) is a second activation"),
        (chain(layers.Conv2D(2, 3), layers.Dense(2, name="d")), "layer 'd' (Dense) is a dense layer on 2×6×6 maps"),
        (chain(layers.Conv2D(2, 3, activation="softmax", name="c")), "layer 'c' (Conv2D) is a softmax over the chan"),
        (chain(layers.Conv2D(2, 3), layers.Softmax(axis=1, name="s")), "layer 's' (Softmax) is a softmax over the row"),
    ]


def test_keras_options_nncalc_lacks_are_refused_naming_the_layer(keras):
    for model, says in _keras_refusals(keras):
        assert says in refused(keras_import.network_dict, model), says


def test_keras_open_picture_size_is_given_by_input_shape(keras):
    keras.utils.set_random_seed(6)
    layers = keras.layers
    model = keras.Sequential([keras.Input((None, None, 2)), layers.Conv2D(3, 3, padding="same", activation="relu")])
    assert "the model's input is declared 2×?×?" in refused(keras_import.network_dict, model)
    d = keras_import.network_dict(model, input_shape=(2, 4, 5))
    assert d["inputs"] == {"shape": [2, 4, 5]}
    x = np.random.default_rng(6).normal(size=(3, 4, 5, 2))
    out = model(x)
    expected = out.detach().cpu().numpy() if hasattr(out, "detach") else keras.ops.convert_to_numpy(out)
    same(run(d, x.transpose(0, 3, 1, 2)), expected.transpose(0, 3, 1, 2).reshape(3, -1))


@pytest.mark.parametrize("keepdims", [False, True])
def test_keras_global_pooling_is_one_window_over_the_maps(keras, tmp_path, keepdims):
    keras.utils.set_random_seed(12)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((4, 5, 2)),
            layers.Conv2D(3, 2, activation="tanh", bias_initializer="glorot_uniform"),
            layers.GlobalMaxPooling2D(keepdims=keepdims),
            *([layers.Flatten()] if keepdims else []),
            layers.Dense(2),
        ]
    )
    d = keras_import.network_dict(model)
    kinds = [layer.get("type", "dense") for layer in d["layers"]]
    assert kinds == ["conv2d", "maxpool2d", "flatten", "dense"]
    assert d["layers"][1]["kernel_size"] == [3, 4]
    _keras_pictures(keras, model, d)
    with warnings.catch_warnings():  # Keras's own NumPy 2 warning while it saves
        warnings.simplefilter("ignore", DeprecationWarning)
        model.save(tmp_path / "global.keras")
    assert keras_file.network_dict(tmp_path / "global.keras") == d | {"name": "global"}


def test_keras_max_pooling_same_pads_evenly_where_it_can(keras):
    keras.utils.set_random_seed(8)
    layers = keras.layers
    model = keras.Sequential([keras.Input((5, 5, 1)), layers.MaxPooling2D(3, strides=2, padding="same")])
    d = keras_import.network_dict(model)
    assert d["layers"][0]["padding"] == 1
    _keras_pictures(keras, model, d)


# --- ONNX, exported by PyTorch and built with the onnx package ---


def test_onnx_exported_by_pytorch_equals_pytorch(torch, tmp_path):
    pytest.importorskip("onnx")
    torch.manual_seed(9)
    model = _lenet(torch.nn).double().eval()
    path = tmp_path / "lenet.onnx"
    with warnings.catch_warnings():  # the TorchScript exporter warns that it is deprecated
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 2, 11, 12, dtype=torch.float64),), str(path), dynamo=False,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}},
        )  # fmt: skip
    d = onnx.network_dict(path)
    assert d["inputs"] == {"shape": [2, 11, 12]}
    assert d == torch_import.network_dict(model, input_shape=(2, 11, 12)) | {"name": "lenet"}
    _torch_pictures(torch, model, d, (2, 11, 12))


def test_import_then_forward_on_the_command_line_gives_pytorchs_outputs(torch, nncalc, tmp_path):
    pytest.importorskip("onnx")
    torch.manual_seed(13)
    model = _lenet(torch.nn).double().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 2, 11, 12, dtype=torch.float64),), str(tmp_path / "model.onnx"), dynamo=False,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}},
        )  # fmt: skip
    assert nncalc("import", tmp_path / "model.onnx", "-o", tmp_path / "net.yaml").code == 0
    x = np.random.default_rng(14).normal(size=(4, 2, 11, 12))
    (tmp_path / "x.csv").write_text("\n".join(",".join(repr(float(v)) for v in row.reshape(-1)) for row in x) + "\n")
    result = nncalc("forward", tmp_path / "net.yaml", "--inputs", tmp_path / "x.csv", "--format", "json")
    assert result.code == 0, result.err
    outputs = np.array([sample["output"] for sample in json.loads(result.out)["samples"]])
    with torch.no_grad():
        same(outputs, model(torch.from_numpy(x)).numpy())


def _onnx_cnn(nodes, initializers, input_dims, output_dims, dtype=np.float64):
    onnx_package = pytest.importorskip("onnx")
    helper, numpy_helper = onnx_package.helper, onnx_package.numpy_helper
    kind = onnx_package.TensorProto.DOUBLE if dtype == np.float64 else onnx_package.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "graph",
        [helper.make_tensor_value_info("x", kind, input_dims)],
        [helper.make_tensor_value_info("y", kind, output_dims)],
        [
            numpy_helper.from_array(v if v.dtype.kind == "i" else np.asarray(v, dtype=dtype), k)
            for k, v in initializers.items()
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    onnx_package.checker.check_model(model)
    return model.SerializeToString()


def _onnxruntime(data: bytes, x: np.ndarray) -> np.ndarray:
    runtime = pytest.importorskip("onnxruntime")
    session = runtime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_onnx_same_padding_global_pooling_and_reshape_match_onnxruntime(tmp_path):
    helper = pytest.importorskip("onnx").helper
    inits = {"W": RNG.normal(size=(3, 2, 3, 3)), "B": RNG.normal(size=3), "W2": RNG.normal(size=(4, 3, 1, 1))}
    inits |= {"shape": np.array([-1, 4]), "M": RNG.normal(size=(4, 2)), "C": RNG.normal(size=2)}
    nodes = [
        # 9×9 at stride 2 'same': 5×5, 2 cells of padding in all, one on each side
        helper.make_node("Conv", ["x", "W", "B"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Elu", ["c"], ["e"], alpha=0.5),
        helper.make_node("AveragePool", ["e"], ["p"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("Conv", ["p", "W2"], ["c2"]),
        helper.make_node("GlobalMaxPool", ["c2"], ["g"]),
        helper.make_node("Reshape", ["g", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "M"], ["m"]),
        helper.make_node("Add", ["m", "C"], ["y"]),
    ]
    data = _onnx_cnn(nodes, inits, [None, 2, 9, 9], [None, 2])
    path = tmp_path / "same.onnx"
    path.write_bytes(data)
    d = onnx.network_dict(path)
    kinds = [layer.get("type", "dense") for layer in d["layers"]]
    assert kinds == ["conv2d", "avgpool2d", "conv2d", "maxpool2d", "flatten", "dense"]
    assert d["layers"][0]["padding"] == 1 and d["layers"][0]["stride"] == 2
    assert d["layers"][3]["kernel_size"] == 5  # the global pool: one window over the whole 5×5 map
    x = RNG.normal(size=(5, 2, 9, 9))
    ours = run(d, x)
    # ONNX Runtime has no float64 Conv: the same model in float32 checks ONNX's meaning of each node ...
    single = {k: v if v.dtype.kind == "i" else v.astype(np.float32) for k, v in inits.items()}
    runtime = _onnxruntime(_onnx_cnn(nodes, single, [None, 2, 9, 9], [None, 2], np.float32), x.astype(np.float32))
    np.testing.assert_allclose(ours, runtime, rtol=0, atol=1e-4)
    # ... and PyTorch's functions, in float64, check the numbers to 1e-9
    torch = pytest.importorskip("torch")
    functional, t = (
        torch.nn.functional,
        {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in inits.items()},
    )
    z = functional.elu(functional.conv2d(torch.from_numpy(x), t["W"], t["B"], stride=2, padding=1), alpha=0.5)
    z = functional.conv2d(functional.avg_pool2d(z, 3, stride=1, padding=1), t["W2"])
    expected = z.amax(dim=(2, 3)) @ t["M"] + t["C"]
    same(ours, expected.numpy())


def _onnx_refusal(tmp_path, node, input_dims=(None, 1, 6, 6), inits=None) -> str:
    data = _onnx_cnn([node], inits or {}, list(input_dims), [None, None, None, None])
    path = tmp_path / "refused.onnx"
    path.write_bytes(data)
    return refused(onnx.network_dict, path)


def test_onnx_options_nncalc_lacks_are_refused_naming_the_node(tmp_path):
    helper = pytest.importorskip("onnx").helper
    w = {"W": RNG.normal(size=(2, 1, 3, 3))}
    cases = [
        (helper.make_node("Conv", ["x", "W"], ["y"], name="c", dilations=[2, 2]), w, "node 'c' (Conv) has group=1"),
        (
            helper.make_node("Conv", ["x", "W"], ["y"], name="c", auto_pad="SAME_UPPER", strides=[2, 2]),
            w,
            "node 'c' (Conv) has auto_pad SAME_UPPER, which pads one side more",  # 6 at stride 2: 1 cell in all
        ),
        (
            helper.make_node("AveragePool", ["x"], ["y"], name="p", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            {},
            "node 'p' (AveragePool) leaves its padding out of the mean",  # ONNX's default count_include_pad = 0
        ),
        (
            helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[3, 3], ceil_mode=1),
            {},
            "node 'p' (MaxPool) has ceil_mode",
        ),
        (
            helper.make_node("Flatten", ["x"], ["y"], name="f", axis=2),
            {},
            "node 'f' (Flatten) flattens from an axis other than 1",
        ),
    ]
    conv_softmax = [
        helper.make_node("Conv", ["x", "W"], ["c"], name="c"),
        helper.make_node("Softmax", ["c"], ["y"], name="s", axis=1),
    ]
    data = _onnx_cnn(conv_softmax, w, [None, 1, 6, 6], [None, 2, 4, 4])
    (tmp_path / "softmax.onnx").write_bytes(data)
    assert "node 's' (Softmax) is a softmax over the channels of 2×4×4 maps" in refused(
        onnx.network_dict, tmp_path / "softmax.onnx"
    )
    for node, inits, says in cases:
        assert says in _onnx_refusal(tmp_path, node, inits=inits), says
