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
