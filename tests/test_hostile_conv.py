"""Hostile input to the convolution features: every mistake one located line, exit 2, never a traceback.

The inputs here are the ones a careless or malicious file can hold: ONNX attributes of the
wrong type or value, a command-line shape no whole number can be made of, a kernel nested
to the wrong depth. Each test states what the right refusal is, independently of the code.
"""

from __future__ import annotations

import struct

import numpy as np

from tests.conftest import CONFIGS
from tests.test_import_conv import _ints_attribute, _value_info_shape
from tests.test_import_files import _field, _int_field, _node_proto, _tensor_proto, _text_field


def _attribute(name: str, kind: int, payload: bytes) -> bytes:
    """AttributeProto: name (1), the value's own field(s), type (20)."""
    return _text_field(1, name) + payload + _int_field(20, kind)


def _string_attribute(name: str, text: str) -> bytes:
    return _attribute(name, 3, _field(4, text.encode()))  # STRING: s (4)


def _floats_attribute(name: str, values: list[float]) -> bytes:
    return _attribute(name, 6, _field(7, struct.pack(f"<{len(values)}f", *values)))  # FLOATS: floats (7), packed


def _conv_model(*attributes: bytes, picture=(1, 5, 5), weights=(1, 1, 3, 3)) -> bytes:
    """x (N, C, H, W) → Conv(conv.weight, the attributes given) → y: one node, its weights of ones."""
    conv = _node_proto("Conv", ["x", "conv.weight"], ["y"], "conv") + b"".join(_field(5, a) for a in attributes)
    graph = _field(1, conv) + _text_field(2, "hand") + _field(5, _tensor_proto("conv.weight", np.ones(weights)))
    graph += _field(11, _value_info_shape("x", ["N", *picture])) + _field(12, _value_info_shape("y", ["N", 1, 3, 3]))
    return _int_field(1, 8) + _field(8, _int_field(2, 17)) + _field(7, graph)


def _one_error_line(result) -> str:
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


# --- ONNX Conv attributes ---


def test_onnx_conv_same_padding_with_a_zero_stride_is_refused_not_divided_by(nncalc, tmp_path):
    # SAME padding is worked out from the stride (⌈size / stride⌉ positions): a stride of 0 has none
    model = _conv_model(_ints_attribute("strides", [0, 0]), _string_attribute("auto_pad", "SAME_UPPER"))
    (tmp_path / "m.onnx").write_bytes(model)
    line = _one_error_line(nncalc("import", tmp_path / "m.onnx"))
    assert "node 'conv' (Conv)" in line and "stride" in line


def test_onnx_conv_strides_written_as_text_are_refused(nncalc, tmp_path):
    (tmp_path / "m.onnx").write_bytes(_conv_model(_string_attribute("strides", "ab")))
    line = _one_error_line(nncalc("import", tmp_path / "m.onnx"))
    assert "node 'conv' (Conv)" in line and "strides" in line


def test_onnx_conv_pads_written_as_fractions_are_refused_not_rounded(nncalc, tmp_path):
    # pads of 1.5 cells mean nothing; taking them as 1 would import another network than the file's
    (tmp_path / "m.onnx").write_bytes(_conv_model(_floats_attribute("pads", [1.5, 1.5, 1.5, 1.5])))
    line = _one_error_line(nncalc("import", tmp_path / "m.onnx"))
    assert "node 'conv' (Conv)" in line and "pads" in line


def test_onnx_conv_kernel_shape_written_as_text_is_refused(nncalc, tmp_path):
    (tmp_path / "m.onnx").write_bytes(_conv_model(_string_attribute("kernel_shape", "33")))
    line = _one_error_line(nncalc("import", tmp_path / "m.onnx"))
    assert "node 'conv' (Conv)" in line and "kernel_shape" in line


# --- nncalc import --input-shape ---


def test_input_shape_of_digits_int_cannot_read_is_refused_on_its_line(nncalc, tmp_path):
    (tmp_path / "m.onnx").write_bytes(_conv_model())
    for text in ("²,5,5", "9" * 5000 + ",1,1"):  # a superscript is a digit to str.isdigit; 5000 digits pass int's limit
        line = _one_error_line(nncalc("import", tmp_path / "m.onnx", "--input-shape", text))
        assert line.startswith("error: --input-shape: "), line


# --- spatial layers in the network file ---


def _network(layer: str) -> str:
    return "inputs: {shape: [1, 5, 5]}\nlayers:\n  - type: conv2d\n" + layer


def test_a_kernel_nested_too_shallow_is_one_problem_not_one_per_number(nncalc, write):
    # a 3-deep list where 4 are needed is one mistake, however many numbers it holds (here 27,000)
    cube = "[" + ", ".join(["[" + ", ".join(["[" + ", ".join(["1"] * 30) + "]"] * 30) + "]"] * 30) + "]"
    path = write("net.yaml", _network(f"    kernel: {cube}\n"))
    line = _one_error_line(nncalc("forward", path, "--input", ",".join(["1"] * 25)))
    assert "net.yaml:4:" in line and "nested 4 deep" in line


def test_weights_nested_too_deep_is_one_problem_not_one_per_row(nncalc, write):
    rows = "[" + ", ".join(["[" + ", ".join(["[[1]]"] * 20) + "]"] * 20) + "]"  # (1, 20, 20, 1, 1): 5 deep
    path = write("net.yaml", _network(f"    weights: [{rows}]\n"))
    line = _one_error_line(nncalc("forward", path, "--input", ",".join(["1"] * 25)))
    assert "net.yaml:4:" in line and "nested 4 deep" in line


# --- image inputs files ---


def test_a_yaml_samples_file_is_capped_well_below_the_file_limit_since_it_is_read_whole(nncalc, write, tmp_path):
    # A YAML file is parsed whole into located nodes, some 90 bytes of memory per byte of text:
    # at the 64 MB --max-file-size it could take gigabytes. Past its own share of the limit it
    # is refused before it is parsed, pointing at CSV, which is read as it streams.
    sample = "  - [" + ", ".join(["[1, 2, 3, 4, 5]"] * 5) + "]\n"
    path = write("many.yaml", "samples:\n" + sample * 800)  # 800 samples, some 70 kB
    network = CONFIGS / "conv-textbook.yaml"
    assert nncalc("forward", network, "--inputs", path, "-f", "jsonl").code == 0
    line = _one_error_line(nncalc("forward", network, "--inputs", path, "--max-file-size", "200000"))
    assert line.startswith(f"error: {path}: ") and "CSV" in line and "--max-file-size" in line
    # a device reports no size: the cap holds while reading
    line = _one_error_line(nncalc("forward", network, "--inputs", "/dev/zero", "--max-file-size", "200000"))
    assert "NUL" in line or "CSV" in line


def test_a_yaml_samples_file_within_its_share_of_the_limit_is_read(nncalc, write):
    sample = "  - [" + ", ".join(["[3, 0, 0, 0, 0]"] * 5) + "]\n"
    path = write("few.yaml", "samples:\n" + sample * 3)
    network = CONFIGS / "conv-textbook.yaml"
    result = nncalc("forward", network, "--inputs", path, "--max-file-size", "200000", "-f", "csv")
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 4  # a header and three samples


def _big_picture_network(kernel: int) -> str:
    row = "[" + ", ".join(["1"] * kernel) + "]"
    matrix = ", ".join([row] * kernel)
    return f"inputs: {{shape: [1, 300, 300]}}\nlayers:\n  - type: conv2d\n    weights: [[[{matrix}]]]\n"


def test_a_kernel_whose_windows_would_not_fit_in_memory_is_refused_when_read(nncalc, write):
    # 300×300 and a 100×100 kernel: 201·201 windows of 10,000 values each, 404,010,000 values
    # (3 GB) laid out for one sample; it is refused in the file, not by a MemoryError mid-run
    path = write("net.yaml", _big_picture_network(100))
    line = _one_error_line(nncalc("check", path))
    assert "net.yaml:4:" in line and "404,010,000" in line


def test_a_large_picture_with_a_small_kernel_is_read(nncalc, write):
    assert nncalc("check", write("net.yaml", _big_picture_network(3))).code == 0


def test_each_wrong_size_of_the_input_shape_is_reported_at_once(nncalc, write):
    # channels, height and width are read independently: all three mistakes in one run
    path = write("net.yaml", "inputs: {shape: [0, -1, a]}\nlayers:\n  - type: flatten\n")
    result = nncalc("check", path)
    assert result.code == 2 and "Traceback" not in result.err
    lines = result.err.splitlines()
    assert [line.split(": ")[1] for line in lines] == [f"{path}:1:{column}" for column in (18, 21, 25)]
    assert "channels" in lines[0] and "height" in lines[1] and "width" in lines[2]


def test_an_input_shape_whose_names_alone_would_take_gigabytes_is_refused(nncalc, write):
    # Every value of a picture is named (x.0.12.34), and so is every cell of each map: some 140
    # bytes a value. A 60-byte file claiming 1×8000×8000 made 64 million names (9 GB) before
    # anything was computed; 4×1024×1024 (4,194,304 values, about 600 MB) is where it stops.
    path = write("net.yaml", "inputs: {shape: [1, 2100, 2100]}\nlayers:\n  - type: flatten\n")
    line = _one_error_line(nncalc("check", path))
    assert (
        "net.yaml:1:17:" in line
        and "1×2100×2100: its values are too large (4,410,000 values; at most 4,194,304)" in line
    )


def test_maps_past_the_bound_are_refused_in_the_layer_that_makes_them(nncalc, write):
    text = "inputs: {shape: [1, 4, 4]}\nlayers:\n  - {type: conv2d, weights: [[[[1]]]], padding: 1100}\n"
    line = _one_error_line(nncalc("check", write("net.yaml", text)))
    assert "gives 2204×2204: 1×2204×2204 maps are too large (4,857,616 values; at most 4,194,304)" in line


def test_a_model_the_network_file_refuses_is_not_located_at_lines_the_model_file_has_not(nncalc, tmp_path):
    # The imported layers are checked as a network file is; that text is never written, so a
    # line and column of it would send the reader to a place the .onnx file does not have.
    (tmp_path / "m.onnx").write_bytes(_conv_model(weights=(0, 1, 3, 3)))  # no filters at all
    line = _one_error_line(nncalc("import", tmp_path / "m.onnx"))
    assert line.startswith(f"error: {tmp_path / 'm.onnx'}: cannot import: layer 1 (conv): "), line


# --- conv answers for grade ---


def test_a_channel_named_by_a_number_past_ints_digit_limit_is_an_unknown_channel(nncalc, write):
    # 5,000 digits: Python's int() refuses strings of more than 4,300 digits
    network, image = CONFIGS / "conv-textbook.yaml", CONFIGS / "conv-image.yaml"
    for key in ("9" * 5000, "0" * 5000 + "1"):
        matrix = "[[0, 7, 7], [0, 6, 8], [0, 7, 7]]"
        answers = write("answers.yaml", f"layers:\n  - z:\n      ? {key}\n      : {matrix}\n")
        line = _one_error_line(nncalc("grade", network, "--inputs", image, "--answers", answers))
        assert "answers.yaml:3:9:" in line and "unknown channel" in line and len(line) < 400


def test_a_yaml_samples_pipe_that_reports_no_size_gets_the_same_cap_while_it_is_read(nncalc, tmp_path):
    """A FIFO reports size 0, so the YAML share of --max-file-size is kept while reading: the run
    ends with the same line pointing at CSV as for a regular file that says its size."""
    import os
    import threading

    fifo = tmp_path / "images.yaml"
    os.mkfifo(fifo)
    sample = "  - [" + ", ".join(["[1, 2, 3, 4, 5]"] * 5) + "]\n"

    def feed() -> None:
        try:
            with open(fifo, "w", encoding="utf-8") as stream:
                stream.write("samples:\n" + sample * 800)
        except BrokenPipeError:  # the reader stops at its cap
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    result = nncalc("forward", CONFIGS / "conv-textbook.yaml", "--inputs", fifo, "--max-file-size", "200000")
    writer.join(timeout=10)
    line = _one_error_line(result)
    assert line.startswith(f"error: {fifo}: a YAML samples file is read whole") and "CSV" in line
