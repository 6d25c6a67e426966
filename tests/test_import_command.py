"""nncalc import MODEL: a model file in, a network file out that forward reproduces exactly."""

from __future__ import annotations

import numpy as np
import pytest

import nncalc as library


def _state_dict(path, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "fc1.weight": rng.standard_normal((4, 3)),
        "fc1.bias": rng.standard_normal(4),
        "fc2.weight": rng.standard_normal((2, 4)),
        "fc2.bias": rng.standard_normal(2),
    }
    np.savez(path, **arrays)
    return arrays


def _numpy_forward(arrays, x):
    hidden = np.tanh(x @ arrays["fc1.weight"].T + arrays["fc1.bias"])
    z = hidden @ arrays["fc2.weight"].T + arrays["fc2.bias"]
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def test_an_npz_state_dict_becomes_a_network_file_forward_reproduces(nncalc, tmp_path):
    arrays = _state_dict(tmp_path / "model.npz")
    target = tmp_path / "net.yaml"
    result = nncalc("import", tmp_path / "model.npz", "--activation", "tanh,softmax", "-o", target)
    assert result.code == 0, result.err
    network = library.load(target)
    x = np.random.default_rng(1).uniform(-2, 2, size=(20, 3))
    np.testing.assert_allclose(network.forward(x).output, _numpy_forward(arrays, x), rtol=0, atol=1e-12)
    # the weights are the file's, bit for bit
    assert network.layers[0].weights.tobytes() == arrays["fc1.weight"].tobytes()


def test_the_api_reads_the_same_file(tmp_path):
    arrays = _state_dict(tmp_path / "model.npz", seed=3)
    network = library.from_file(tmp_path / "model.npz", ["tanh", "softmax"])
    x = np.array([[0.1, -0.2, 0.3]])
    np.testing.assert_allclose(network.forward(x).output, _numpy_forward(arrays, x), rtol=0, atol=1e-12)


def test_weights_without_activations_ask_for_them(nncalc, tmp_path):
    _state_dict(tmp_path / "model.npz")
    result = nncalc("import", tmp_path / "model.npz")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "--activation" in result.err


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04broken zip"])
def test_what_is_not_a_model_is_one_error_line(nncalc, tmp_path, content):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    result = nncalc("import", path)
    assert result.code == 2
    assert result.err.startswith(f"error: {path}") and result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_import_refuses_to_overwrite_without_force(nncalc, tmp_path):
    _state_dict(tmp_path / "model.npz")
    target = tmp_path / "net.yaml"
    target.write_text("keep me\n")
    result = nncalc("import", tmp_path / "model.npz", "--activation", "relu", "-o", target)
    assert result.code == 2 and "--force" in result.err
    assert target.read_text() == "keep me\n"
