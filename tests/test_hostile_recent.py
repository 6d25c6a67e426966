"""Hostile input to the newest features: convolution exercises, the library's paths, conv answer sheets.

Each test is an attack an adversarial user can make and the refusal the project promises
for it: located ``error:`` lines and exit 2 on the command line (never a traceback), an
``NncalcError`` with a clear message from the library. The expected messages are written
here from what the input gets wrong, not pasted from the code's output.
"""

from __future__ import annotations

import pytest

from tests.conftest import CONFIGS


def refused(result, code: int = 2) -> list[str]:
    """The error lines of a run that must end with ``code`` and no traceback."""
    assert result.code == code, (result.code, result.out[:500], result.err[:2000])
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.err[:2000]
    return lines


# -- nncalc new --image … --layers conv:… ------------------------------------------------------


def test_a_range_of_more_values_than_a_float_counts_is_still_drawn_from(nncalc):
    """[0, 1e308) to 6 decimals holds 10^314 numbers, more than a float can count: the draw
    must not overflow (it did, with a traceback); every value lies in the range."""
    result = nncalc("new", "--inputs", "1", "--layers", "1", "--range", "0,1e308", "--decimals", "6", "--seed", "3")
    assert result.code == 0, result.err
    from nncalc.loader import parse_network

    net = parse_network(result.out)
    values = [*net.layers[0].weights.ravel(), *net.layers[0].biases]
    assert all(0 <= v < 1e308 for v in values)
    assert max(values) > 1e300  # drawn over the whole range, not near 0


@pytest.mark.parametrize(
    ("token", "field"),
    [("conv:3:stride=1:stride=2", "stride"), ("maxpool:2:padding=0:padding=1", "padding")],
)
def test_a_layer_setting_given_twice_is_refused_not_overridden(nncalc, token, field):
    """conv:3:stride=1:stride=2 asks for two strides; taking the last silently writes an exercise
    that is not the one asked for."""
    lines = refused(nncalc("new", "--image", "6x6", "--layers", f"{token},1"))
    assert len(lines) == 1
    assert lines[0].startswith(f"error: --layers: {token!r}: {field} is given twice")


@pytest.mark.parametrize("token", ["conv:3:padding=-1", "maxpool:3:padding=-1", "conv:3:padding=-10"])
def test_a_negative_padding_is_refused_at_the_option(nncalc, token):
    """A padding below 0 is refused at --layers, where it was written, before anything is
    generated; not at a line of the file that was about to be written, nor as 'gives nothing'."""
    lines = refused(nncalc("new", "--image", "5x5", "--layers", f"{token},1"))
    assert lines == [f"error: --layers: {token!r}: a padding is at least 0"]


# -- the library: paths, bytes and answers that are not plain data -----------------------------

NET = CONFIGS / "conv-textbook.yaml"
IMAGE = CONFIGS / "conv-image.yaml"
SHEET = CONFIGS / "answers-conv-backward.yaml"


@pytest.mark.parametrize("values", [b"1,2,3", bytearray(25), memoryview(bytes(25))], ids=type)
def test_bytes_are_refused_as_inputs_not_read_as_numbers(values):
    """bytearray(25) is 25 zero bytes: NumPy would read it as 25 numbers and run the image of
    zeros nobody asked for. Bytes are neither numbers nor a path the library takes."""
    import nncalc

    with pytest.raises(nncalc.NncalcError, match=r"^the input must be numbers or a samples file's path, not bytes"):
        nncalc.forward(NET, values)
    with pytest.raises(nncalc.NncalcError, match=r"^the target must be numbers or a samples file's path, not bytes"):
        nncalc.backward(NET, IMAGE, values)


def test_complex_inputs_are_refused_without_a_warning(recwarn):
    """Casting 1j to a float drops the imaginary part with NumPy's ComplexWarning; the library
    warns of nothing and computes on nothing it was not given."""
    import numpy as np

    import nncalc

    with pytest.raises(nncalc.NncalcError, match=r"^the input must be real numbers, got complex ones"):
        nncalc.forward(NET, np.ones(25) * 1j)
    assert not [w for w in recwarn if issubclass(w.category, Warning)]


def test_an_answers_path_of_any_path_like_type_is_read():
    """os.PathLike is a path everywhere else in the library; an answers path of another such
    type was dumped as YAML, a RepresenterError."""
    import os

    import nncalc

    class Where(os.PathLike):
        def __fspath__(self) -> str:
            return str(SHEET)

    marks = nncalc.grade(NET, IMAGE, Where(), target=[0, 1], lr=0.1)
    assert not marks.all_correct  # the sheet's one slip, δ[1,2], is found
    assert marks.first_wrong.given.value == 0.399702


def _recursive() -> list:
    loop: list = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"layers": [{"z": object()}]}, "object"),
        ({"layers": _recursive()}, "contains itself"),
    ],
    ids=["an object", "a list inside itself"],
)
def test_answers_that_are_not_plain_data_raise_an_nncalc_error(answers, reason):
    """Answers as a dict are the file format's data: anything YAML cannot write, or a list that
    holds itself (endless recursion), is refused with an NncalcError, not yaml's or Python's."""
    import nncalc

    with pytest.raises(nncalc.NncalcError, match=rf"^the answers must be plain data .*{reason}"):
        nncalc.grade(NET, IMAGE, answers, target=[0, 1], lr=0.1)


@pytest.mark.parametrize(
    ("call", "option", "value"),
    [
        ("forward", "round", 10**9),
        ("forward", "round", -1),
        ("forward", "precision", -5),
        ("grade", "precision", 10**9),
        ("grade", "round", 10**9),
        ("backward", "round", 16),
    ],
)
def test_decimals_outside_0_to_15_are_refused(call, option, value):
    """The command line takes 0 to 15 for --round and --precision; the library took any int and
    failed deep inside (OverflowError, decimal.InvalidOperation) or printed nonsense."""
    import nncalc

    arguments = {
        "forward": (NET, IMAGE),
        "backward": (NET, IMAGE, [0, 1]),
        "grade": (NET, IMAGE, SHEET),
    }[call]
    extra = {"target": [0, 1], "lr": 0.1} if call == "grade" else {}
    with pytest.raises(nncalc.NncalcError, match=rf"^{option} must be a whole number from 0 to 15, got {value}$"):
        result = getattr(nncalc, call)(*arguments, **{option: value}, **extra)
        result.to_text()


# -- nncalc grade: a convolution's answer sheet ---------------------------------------------------

GRADE = ("grade", NET, "--inputs", IMAGE, "-t", "0,1", "--lr", "0.1")
SHEET_TEXT = SHEET.read_text(encoding="utf-8")
DELTA_ROW = "delta: [[0, 0.199851, 0],"
GRAD_BIASES = "    grad_biases: [0.799404]"


def sheet(write, old: str, new: str):
    assert old in SHEET_TEXT
    return write("answers.yaml", SHEET_TEXT.replace(old, new, 1))


def test_a_long_text_for_a_value_is_shown_cut_short(nncalc, write):
    """Half a megabyte of letters where a number goes: one line naming the cell, the text cut to
    its start, not the whole text echoed."""
    lines = refused(nncalc(*GRADE, "-a", sheet(write, DELTA_ROW, "delta: [[" + "x" * 500_000 + ", 0.199851, 0],")))
    assert len(lines) == 1
    assert "layer 1 (conv): delta, row 0, column 0: 'xxxx" in lines[0] and "…' is not a number" in lines[0]
    assert len(lines[0]) < 300


def test_a_long_unknown_key_of_a_conv_layer_is_shown_cut_short(nncalc, write):
    long_key = "k" * 200_000
    lines = refused(nncalc(*GRADE, "-a", sheet(write, GRAD_BIASES, f"{GRAD_BIASES}\n    ? {long_key}\n    : 1")))
    assert len(lines) == 1
    assert "layer 1 (conv): unknown key 'kkkk" in lines[0] and "…'" in lines[0]
    assert len(lines[0]) < 500


def test_a_long_unknown_key_of_a_dense_layer_is_shown_cut_short(nncalc, write):
    long_key = "k" * 200_000
    grad = "    grad_biases: [0.999254, -0.999254]"
    lines = refused(nncalc(*GRADE, "-a", sheet(write, grad, f"{grad}\n    ? {long_key}\n    : 1")))
    assert len(lines) == 1
    assert len(lines[0]) < 500


@pytest.mark.parametrize("name", ["channel ٠", "٠", "map ０"])
def test_a_channel_named_in_another_scripts_digits_is_unknown(nncalc, write, name):
    """Numbers in the answers are ASCII digits only (٠ is not 0 anywhere else): a channel key
    written with Arabic-Indic or full-width digits is an unknown channel, not channel 0."""
    lines = refused(nncalc(*GRADE, "-a", sheet(write, GRAD_BIASES, f"    grad_biases: {{'{name}': 0.799404}}")))
    assert len(lines) == 1
    assert f"layer 1 (conv): grad_biases: unknown channel {name!r}" in lines[0]


def test_wrong_columns_for_an_image_name_the_inputs_in_short(nncalc, write):
    """A 28×28 image has 784 inputs: a CSV header with wrong names gets a line per wrong name
    that names the inputs as first, second, … last, not all 784 of them on every line."""
    net = write(
        "mnist.yaml",
        "inputs: {shape: [1, 28, 28]}\nlayers:\n  - type: flatten\n  - weights: ["
        + ", ".join(["0"] * 784)
        + "]\n    biases: [0]\n",
    )
    samples = write("samples.csv", "a,b\n1,2\n")
    lines = refused(nncalc("forward", net, "--inputs", samples))
    assert len(lines) == 3
    assert all(len(line) < 300 for line in lines)
    assert lines[0] == f"error: {samples}:1:1: unknown column 'a'; the inputs are x.0.0.0, x.0.0.1, … x.0.27.27"


def test_naming_many_layers_takes_linear_time():
    """--layers 1,1,1,… (tens of thousands of one-neuron layers, well under the size limit) spent
    its time finding each dense layer's position by a search of the list: quadratic, 20 s for
    60,000 layers before a line was written, minutes for the 200,000 named here."""
    import time

    from nncalc.exercises import _layer_names

    start = time.perf_counter()
    names = _layer_names([1] * 200_000)
    assert time.perf_counter() - start < 5
    assert names[:2] == ["hidden1", "hidden2"] and names[-2:] == ["hidden199999", "output"]


def test_a_dense_quantity_left_out_with_a_tilde_is_not_graded(nncalc, write):
    """The sheet's own comment: all optional, ~ leaves one out. The dense layer after the flatten
    has two neurons; `delta: ~` leaves out both, and the sheet's one slip is still the only wrong value."""
    result = nncalc(*GRADE, "-a", sheet(write, "delta: [0.999254, -0.999254]", "delta: ~"), "-f", "json")
    assert result.code == 1, result.err


def test_too_many_filters_names_the_maps_they_make(nncalc):
    """249,999 filters of 1×1 on a 3×3 picture make 249,999 maps of 3×3: 2,249,991 values. The
    refusal said the layer 'gives 3×3, 2,249,991 values', a count that does not follow from 3×3."""
    lines = refused(nncalc("new", "--image", "3x3", "--layers", "conv:1:249999,1"))
    assert len(lines) == 1
    assert "249,999 maps of 3×3: 2,249,991 values" in lines[0]
    assert lines[0].startswith("error: --layers: 'conv:1:249999': ")


def test_an_activation_a_convolution_cannot_take_is_refused_at_the_option(nncalc):
    """--activation is every layer's; a convolution's is applied cell by cell, and softmax is not:
    refused at --activation before anything is generated, not at a line of the file about to be written."""
    lines = refused(nncalc("new", "--image", "3x3", "--layers", "conv:2,1", "--activation", "softmax"))
    assert len(lines) == 1
    assert lines[0].startswith("error: --activation: softmax is not elementwise")
    # a picture with pooling only, then dense layers, can take it: no convolution applies it
    assert nncalc("new", "--image", "4x4", "--layers", "maxpool:2,2", "--activation", "softmax").code == 0


def test_a_targets_file_with_wrong_columns_names_the_outputs(write):
    """A targets file's columns are the network's outputs: the refusal says so, where it said
    'the inputs are o1, o2' and 'missing input column(s)' of a file that holds no inputs."""
    import nncalc

    targets = write("targets.csv", "a,b\n0,1\n")
    with pytest.raises(nncalc.NncalcError) as caught:
        nncalc.backward(NET, IMAGE, targets)
    assert str(caught.value).splitlines() == [
        f"{targets}:1:1: unknown column 'a'; the outputs are o1, o2",
        f"{targets}:1:3: unknown column 'b'; the outputs are o1, o2",
        f"{targets}:1: missing output column(s): o1, o2",
    ]


@pytest.mark.parametrize(
    ("network", "answers", "extra"),
    [
        (NET, "conv", ("--inputs", IMAGE, "-t", "0,1", "--lr", "0.1")),
        (CONFIGS / "classic-2-2-2.yaml", "dense", ("-i", "0.05,0.10", "-t", "0.01,0.99")),
    ],
    ids=["convolution", "dense"],
)
def test_a_huge_written_activation_is_graded_without_a_warning(nncalc, write, recwarn, network, answers, extra):
    """a = 1e308 written for a softmax (sigmoid) output is wrong and carried on; the grade says
    so, exit 1, with nothing from NumPy on the way."""
    if answers == "conv":
        path = sheet(write, "    a: [0.999254, 0.000746]", "    a: [1e308, 0.000746]")
    else:
        path = write("answers.yaml", "layers:\n  - {}\n  - a: [1e308, 0.5]\n")
    result = nncalc("grade", network, *extra, "-a", path, "-f", "json")
    assert result.code == 1, result.err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# A batch of the textbook image twice, targets (0, 1) then (1, 0); the sheet's values come after.
PIXELS = "2,3,3,0,1,3,2,3,1,0,3,3,2,0,0,2,3,3,1,0,3,2,3,0,1"
BATCH = ("grade", NET, "-i", PIXELS, "-t", "0,1", "-i", PIXELS, "-t", "1,0", "--lr", "0.1", "-f", "json")
# conv's δ for each sample, worked by hand: the output's δ is a − t = (0.999254, −0.999254) for
# (0, 1) and (−0.000746, 0.000746) for (1, 0); Wᵀ·δ passes (0.1, 0.2, 0.1, 0.2)·(δ1 − δ2) to the
# pooled cells, the pool routes each to its window's max (the 8 at [1,2] wins two windows), and
# ReLU keeps the cells where z > 0.
DELTA_1 = "[[0, 0.199851, 0], [0, 0, 0.799403], [0, 0.199851, 0]]"
DELTA_2 = "[[0, -0.000149, 0], [0, 0, -0.000597], [0, -0.000149, 0]]"


def graded_deltas(result) -> dict[tuple, bool]:
    import json

    assert result.code in (0, 1), result.err
    marks = json.loads(result.out)["marks"]
    return {
        (m["sample"], m["cell"]["row"], m["cell"]["column"]): m["correct"]
        for m in marks
        if m["quantity"] == "delta" and m.get("cell") and m["given"] is not None
    }


@pytest.mark.parametrize(
    "written",
    [
        f"[{{0: {DELTA_1}}}, {{channel 0: {DELTA_2}}}]",  # each sample's map by channel
        f"[{{0: {DELTA_1}}}, ~]",
    ],
    ids=["both by channel", "one by channel, one left out"],
)
def test_a_batchs_maps_may_be_written_by_channel(nncalc, write, written):
    """Each sample's map is 'written as one sample's map is', and one sample's may be by channel
    ({0: [[...]]}): a list of such mappings was refused as 'a list of numbers'."""
    path = write("batch.yaml", f"conventions: {{loss: cross-entropy}}\nlayers:\n  - delta: {written}\n")
    marks = graded_deltas(nncalc(*BATCH, "-a", path))
    assert marks and all(marks.values()), marks
    assert {sample for sample, *_ in marks} == ({1, 2} if "~" not in written else {1})


@pytest.mark.parametrize("written", ["[~, ~, ~]", "[~, [~, ~, ~], ~]"])
def test_every_row_of_a_map_left_out_is_nothing_written(nncalc, write, written):
    """~ leaves out a row of a map: a 3×3 map written as three rows left out is a map left out,
    not 'has 3 values, expected 9' (nine ~ would be the same map written flat)."""
    old = (
        "delta: [[0, 0.199851, 0],          # ReLU: f′(z) = 0 where z = 0, 1 elsewhere\n"
        "            [0, 0, 0.399702],\n"
        "            [0, 0.199851, 0]]"
    )
    result = nncalc(*GRADE, "-a", sheet(write, old, f"delta: {written}"), "-f", "json")
    import json

    assert result.code == 1, result.err
    marks = json.loads(result.out)["marks"]
    assert not [m for m in marks if m["layer"] == "conv" and m["quantity"] == "delta" and m["given"] is not None]


def test_an_answer_sheet_is_held_to_the_yaml_share_of_the_file_limit(nncalc, write):
    """With --max-file-size 160000 a YAML file read whole may be 10,000 bytes; a 100,000-byte sheet
    (a flat list of 50,000 zeros) is refused before it is parsed, as a YAML samples file is."""
    path = write("answers.yaml", "layers:\n  - delta: [" + ",".join(["0"] * 50_000) + "]\n")
    assert 90_000 < path.stat().st_size < 160_000
    lines = refused(nncalc(*GRADE, "-a", path, "--max-file-size", "160000"))
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ") and "read whole" in lines[0]


def test_the_grid_of_values_is_worked_out_once_per_exercise(monkeypatch):
    """Each value is drawn from the numbers of --decimals decimals in [LOW, HIGH); working that
    grid out (exact fractions) again for every value made an exercise near the 1,000,000 limit
    (--image 1x999999 --decimals 6) take 14 s of its 16 s. It depends on LOW, HIGH and the decimals only."""
    from nncalc import exercises

    calls = []
    real = exercises.grid
    monkeypatch.setattr(exercises, "grid", lambda *a: calls.append(a) or real(*a))
    spec = exercises.parse_exercise_options(None, "conv:3:4,2", "relu", 1, 5, "-0.123,0.987", "3x9x9")
    text = exercises.exercise_yaml(spec)
    assert text.count(".") > 500  # hundreds of values drawn
    assert len(calls) <= 4, len(calls)


@pytest.mark.parametrize("where", ["network", "samples", "samples.yaml", "targets", "answers", "save"])
def test_a_path_holding_a_nul_character_raises_an_nncalc_error(where, tmp_path):
    """No file name holds a NUL: the operating system cannot even be asked, and Python raises a bare
    ValueError ('embedded null byte'). The library says which path is wrong instead."""
    import nncalc

    bad = str(tmp_path / "a\0b")
    calls = {
        "network": lambda: nncalc.forward(bad + ".yaml", IMAGE),
        "samples": lambda: nncalc.forward(NET, bad + ".csv"),
        "samples.yaml": lambda: nncalc.forward(NET, bad + ".yaml"),
        "targets": lambda: nncalc.backward(NET, IMAGE, bad + ".csv"),
        "answers": lambda: nncalc.grade(NET, IMAGE, bad + ".yaml", target=[0, 1]),
        "save": lambda: nncalc.save(nncalc.load(NET), bad + ".yaml"),
    }
    with pytest.raises(nncalc.NncalcError, match=r"a\\0b.*: a file name cannot hold a NUL character$"):
        calls[where]()


def test_a_long_input_option_is_named_cut_short(nncalc):
    """An --input of 20,000 values for an image of 25 is refused on one line that names the option
    by its start, not one that repeats the 40,000 characters given."""
    given = ",".join(["1"] * 20_000)
    lines = refused(nncalc("grade", NET, "-i", given, "-t", "0,1", "-a", SHEET))
    assert len(lines) == 1
    assert lines[0].startswith("error: --input '1,1,1,1,1") and "20000 values given, expected 25" in lines[0]
    assert len(lines[0]) < 300


@pytest.mark.parametrize("where", ["network", "inputs", "target", "answers"])
def test_file_text_given_where_a_path_goes_is_told_so(where):
    """A path never holds a line break; the text of a file passed instead of its path was
    reported as a missing file named by the whole text. The error says what to pass instead."""
    import nncalc

    text = {"network": NET, "inputs": IMAGE, "target": IMAGE, "answers": SHEET}[where].read_text(encoding="utf-8")
    calls = {
        "network": lambda: nncalc.forward(text, [0] * 25),
        "inputs": lambda: nncalc.forward(NET, text),
        "target": lambda: nncalc.backward(NET, IMAGE, text),
        "answers": lambda: nncalc.grade(NET, IMAGE, text, target=[0, 1]),
    }
    with pytest.raises(nncalc.NncalcError) as caught:
        calls[where]()
    message = str(caught.value)
    assert "line break" in message and "not a path" in message
    assert len(message) < 300


def test_an_out_channel_named_twice_is_refused(nncalc, write):
    """'0' and 'channel 0' name the same out channel: two values for one bias gradient, one of
    which was silently dropped; a map's channel named twice is already refused so."""
    lines = refused(nncalc(*GRADE, "-a", sheet(write, GRAD_BIASES, "    grad_biases: {0: 0.799404, channel 0: 5}")))
    assert len(lines) == 1
    assert lines[0].endswith("layer 1 (conv): grad_biases: channel 0 is written twice")
