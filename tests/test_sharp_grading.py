"""Grading and new exercises at the edges: overflow, absurd digit counts, odd neuron names, huge sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncalc.answers import Answer, parse_answers
from nncalc.errors import ComputationError, InputError, Location
from nncalc.grading import grade, tolerance_for
from nncalc.loader import parse_network

# Two identity layers of one neuron each: h1 = 1e308 · x1, o1 = 10 · h1.
HUGE = """\
inputs: 1
activation: identity
layers:
  - name: hidden
    weights: [[1e308]]
    biases: [0]
  - name: output
    weights: [[10]]
    biases: [0]
"""

# One identity layer: z = 0.5 · x1.
HALF = "inputs: 1\nlayers:\n  - name: output\n    weights: [[0.5]]\n    biases: [0]\n    activation: identity\n"


def _answer(text: str) -> Answer:
    return Answer(float(text), text, Location("answers.yaml", 1, 1))


def _grade(network_text: str, x: list[float], answers_text: str, **options):
    network = parse_network(network_text)
    answers = parse_answers(answers_text, network)
    return grade(network, np.array(x, dtype=float), tuple(map(str, x)), answers, **options)


# -- 1. overflow in grading ----------------------------------------------------------------


def _one_error_line(result) -> str:
    assert result.code == 1, (result.code, result.out, result.err)
    assert "Traceback" not in result.err and "Warning" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_exact_overflow_is_a_computation_error_not_a_right_answer(nncalc, write):
    """1e308 · 10 is no float: the answers cannot be right against it; exit 1 naming h1's z."""
    net = write("net.yaml", HUGE)
    answers = write("answers.yaml", "layers:\n  - z: [1]\n    a: [1]\n  - z: [5]\n    a: [5]\n")
    line = _one_error_line(nncalc("grade", net, "-i", "10", "-a", answers))
    assert "layer 1 (hidden), neuron h1: z is an overflow (inf)" in line


def test_grade_api_raises_computation_error_on_overflow():
    """Without the command too: grading against an infinite exact z raises, exit status 1."""
    with pytest.raises(ComputationError) as caught:
        _grade(HUGE, [10.0], "layers:\n  - z: [1]\n")
    assert caught.value.status == 1
    (problem,) = caught.value.problems
    assert problem.message.startswith("layer 1 (hidden), neuron h1: z is an overflow (inf)")


def test_carried_forward_overflow_is_a_computation_error(nncalc, write):
    """The exact pass is finite (x = 1e-308), but o1 recomputed from the written h1 = 1e308 is 1e309."""
    net = write("net.yaml", HUGE)
    answers = write("answers.yaml", "layers:\n  - a: [1e308]\n  - z: [10]\n")
    line = _one_error_line(nncalc("grade", net, "-i", "1e-308", "-a", answers))
    assert "layer 2 (output), neuron o1: z" in line
    assert "your values" in line and "overflow (inf)" in line


def test_far_apart_values_grade_without_warnings():
    """A written −1e308 against an expected 1e308: the difference overflows, the value is simply wrong."""
    result = _grade(HALF.replace("0.5", "1"), [1e308], "layers:\n  - z: [-1e308]\n")
    (mark,) = [m for m in result.marks if m.given is not None]
    assert mark.correct is False


# -- 2. tolerance from any number of digits -------------------------------------------------


def test_310_decimals_give_a_tolerance_of_the_floats_resolution():
    """Half a unit of the 310th decimal is below what a float near 0.11 can tell apart: half an ulp."""
    text = "0." + "1" * 310
    value = float(text)
    assert tolerance_for(_answer(text)) == math.ulp(value) / 2


def test_wrong_answer_with_310_decimals_is_graded(nncalc, write):
    """z = 0.5 · 1 = 0.5; 0.111… (310 decimals) is wrong, exit 1, no crash."""
    net = write("net.yaml", HALF)
    answers = write("answers.yaml", "layers:\n  - z: [0." + "1" * 310 + "]\n")
    result = nncalc("grade", net, "-i", "1", "-a", answers, "-f", "json")
    assert result.code == 1, result.err
    assert result.err == ""
    assert '"correct": false' in result.out


def test_right_answer_with_310_decimals_is_right():
    """0.5000… to 310 decimals is exactly 0.5 = 0.5 · 1."""
    result = _grade(HALF, [1.0], "layers:\n  - z: [0.5" + "0" * 309 + "]\n")
    assert [m.correct for m in result.marks if m.given is not None] == [True]


@pytest.mark.parametrize(
    "text, tolerance",
    [
        ("6.023e-1", 0.00005),  # last digit written is the 4th decimal
        ("6.02E-1", 0.0005),
        ("6e5", 50000.0),  # last digit written is the hundred thousands
        ("1.5e-300", 0.5e-301),  # half a unit of the 301st decimal, still above half an ulp
    ],
)
def test_scientific_notation_gets_the_tolerance_of_its_last_digit(text, tolerance):
    """Half a unit in the last digit written, wherever the exponent puts it."""
    assert tolerance_for(_answer(text)) == pytest.approx(tolerance, rel=1e-9)


def test_zero_with_a_huge_exponent_does_not_crash():
    """0e400 claims a last digit beyond any float: the tolerance stays a finite float."""
    tolerance = tolerance_for(_answer("0e400"))
    assert math.isfinite(tolerance) and tolerance > 0


def test_scientific_answer_is_graded_by_its_digit():
    """σ-free: z = 0.5 · 1.2 = 0.6; 6.0e-1 claims ±0.005 and is right, 5.9e-1 is wrong."""
    result = _grade(HALF, [1.2], "layers:\n  - z: [6.0e-1]\n")
    assert [m.correct for m in result.marks if m.given is not None] == [True]
    result = _grade(HALF, [1.2], "layers:\n  - z: [5.9e-1]\n")
    assert [m.correct for m in result.marks if m.given is not None] == [False]


def test_wrong_answer_in_scientific_notation_with_whole_digits_is_diagnosed():
    """z = 0.5 · 1224690 = 612345; 5e5 claims ±50000 and is wrong, one unit off the 6e5 it rounds to."""
    result = _grade(HALF, [1224690.0], "layers:\n  - z: [5e5]\n")
    (mark,) = [m for m in result.marks if m.given is not None]
    assert mark.correct is False
    assert mark.diagnosis is not None and "rounding slip" in mark.diagnosis
    assert "600000" in mark.diagnosis


@pytest.mark.parametrize(
    "x, written, shown",
    [
        (0.0002, "0.1", "0.0001"),  # z = 0.0001: to three decimals 0.000, which shows nothing
        (2e-8, "0.1", "1e-08"),
        (-0.0002, "0.1", "-0.0001"),  # rounds to -0.0: the message says 0.0
    ],
)
def test_a_tiny_value_written_one_unit_off_shows_its_digits_and_is_no_rounding_slip(x, written, shown):
    """z = 0.5 · x rounds to 0.0 at one decimal: 0.1 is its one digit wrong, not a slip in rounding it."""
    result = _grade(HALF, [x], f"layers:\n  - z: [{written}]\n")
    (mark,) = [m for m in result.marks if m.given is not None]
    assert mark.correct is False
    assert mark.diagnosis == f"one unit off in the last digit ({shown} rounds to 0.0)"


def test_a_last_digit_slip_shows_the_expected_value_two_digits_further():
    """z = 0.5 · 1.18648 = 0.59324, which rounds to 0.5932; 0.5933 is a slip in that last digit."""
    result = _grade(HALF, [1.18648], "layers:\n  - z: [0.5933]\n")
    (mark,) = [m for m in result.marks if m.given is not None]
    assert mark.diagnosis == "a rounding slip in the last digit (0.593240 rounds to 0.5932)"


# -- 3. an explicit tolerance ---------------------------------------------------------------


@pytest.mark.parametrize("tolerance", [math.nan, -0.1, math.inf, -math.inf])
def test_tolerance_must_be_finite_and_not_negative(tolerance):
    """A NaN tolerance would mark everything wrong, a negative one too; inf claims nothing."""
    with pytest.raises(InputError) as caught:
        _grade(HALF, [1.0], "layers:\n  - z: [0.5]\n", tolerance=tolerance)
    assert [str(p) for p in caught.value.problems] == ["--tolerance must be a finite number ≥ 0"]


def test_zero_tolerance_is_accepted():
    """0 asks for the exact value: 0.5 · 1 is exactly 0.5."""
    result = _grade(HALF, [1.0], "layers:\n  - z: [0.5]\n", tolerance=0.0)
    assert result.all_correct


# -- 4. neurons called a and z --------------------------------------------------------------

# Neurons a and z: a = 0.5 · x1, z = 2 · x1 + 0.1; at x1 = 0.2, a's z is 0.1 and z's z is 0.5.
AZ = """\
inputs: 1
activation: identity
layers:
  - name: output
    neurons: [a, z]
    weights: [[0.5], [2]]
    biases: [0, 0.1]
"""


def test_neurons_named_a_and_z_are_answered_by_name():
    """A mapping under a key is a neuron's answers, even when the neuron is called a or z."""
    result = _grade(AZ, [0.2], "layers:\n  - a: {z: 0.1, a: 0.1}\n    z: {z: 0.5, a: 0.5}\n")
    given = [(m.neuron, m.quantity, m.correct) for m in result.marks if m.given is not None]
    assert given == [(0, "z", True), (0, "a", True), (1, "z", True), (1, "a", True)]


def test_neuron_named_z_alone_is_not_read_as_the_z_list():
    """{z: {z: 0.1}} is neuron z's z (0.5), so 0.1 is wrong; neuron a is left out."""
    result = _grade(AZ, [0.2], "layers:\n  - z: {z: 0.1}\n")
    given = [(m.neuron, m.quantity, m.correct) for m in result.marks if m.given is not None]
    assert given == [(1, "z", False)]


def test_lists_still_mean_the_quantities_in_a_layer_with_neurons_a_and_z():
    """z: [...] and a: [...] are the layer's values in neuron order."""
    result = _grade(AZ, [0.2], "layers:\n  - z: [0.1, 0.5]\n    a: [0.1, 0.5]\n")
    assert [m.correct for m in result.marks] == [True, True, True, True]


def test_lists_and_neurons_mixed_in_one_layer_are_explained():
    """A z list beside a neuron's mapping: say the two forms cannot be mixed, not 'did you mean z'."""
    network = parse_network(HALF)
    with pytest.raises(InputError) as caught:
        parse_answers("layers:\n  - z: [0.5]\n    o1: {a: 0.5}\n", network, "answers.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 1, messages
    assert "did you mean" not in messages[0]
    assert "either as z/a lists or neuron by neuron, not both" in messages[0]
    assert messages[0].startswith("answers.yaml:")


# -- 5. the size and range of a new exercise ------------------------------------------------


def test_exercise_size_is_refused_before_anything_is_generated():
    """2 inputs, 100000, 100000: 2·10⁵ + 10⁵ + 10¹⁰ + 10⁵ = 10,000,400,000 weights and biases."""
    from nncalc.exercises import check_exercise_size

    with pytest.raises(InputError) as caught:
        check_exercise_size(2, [100000, 100000])
    (problem,) = caught.value.problems
    assert problem.location == Location("--layers")
    assert problem.message == (
        "100000,100000 with 2 inputs is 10,000,400,000 weights and biases, more than the limit of 1,000,000"
    )


def test_exercise_size_at_the_limit_is_allowed():
    """999 inputs into 1000 neurons: 999,000 weights + 1,000 biases, exactly 1,000,000."""
    from nncalc.exercises import check_exercise_size

    check_exercise_size(999, [1000])
    with pytest.raises(InputError):
        check_exercise_size(1000, [1000])  # 1,001,000


def test_new_refuses_an_exercise_over_the_limit(nncalc):
    """Through the command: exit 2, one line at --layers, nothing written."""
    result = nncalc("new", "--inputs", "1000", "--layers", "1000")
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "error: --layers: 1000 with 1000 inputs is 1,001,000 weights and biases, more than the limit of 1,000,000\n"
    )


def test_exercise_yaml_itself_refuses_an_exercise_over_the_limit():
    """The API is safe without the command: the check comes first."""
    from nncalc.exercises import ExerciseSpec, exercise_yaml

    with pytest.raises(InputError):
        exercise_yaml(ExerciseSpec(1000, [1000]))  # 1,001,000


@pytest.mark.parametrize("low, high", [(-1e308, 1e308), (-math.inf, 1.0), (0.0, math.nan)])
def test_a_range_wider_than_a_float_is_refused_at_range(low, high):
    """1e308 − (−1e308) is no float; infinities and NaN are no bounds."""
    from nncalc.exercises import check_range

    with pytest.raises(InputError) as caught:
        check_range(low, high)
    (problem,) = caught.value.problems
    assert problem.location == Location("--range")


def test_new_with_a_range_wider_than_a_float_blames_range(nncalc):
    """Not a line of the generated file, which the user never saw."""
    result = nncalc("new", "--range", "-1e308,1e308", "--seed", "1")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --range: "), lines


def test_a_wide_range_that_fits_a_float_is_allowed():
    """−8e307 to 8e307 spans 1.6e308, still a float."""
    from nncalc.exercises import check_range

    check_range(-8e307, 8e307)


# -- 6. a new exercise's options, parsed outside the command ----------------------------------


def test_exercise_options_are_parsed_into_a_spec():
    from nncalc.exercises import ExerciseSpec, parse_exercise_options

    spec = parse_exercise_options(2, "3, 2,1", "tanh", 12, 3, "-1,1")
    assert spec == ExerciseSpec(2, [3, 2, 1], "tanh", 12, 3, -1.0, 1.0)


def test_no_seed_gives_a_seed_written_in_the_spec():
    from nncalc.exercises import parse_exercise_options

    spec = parse_exercise_options(2, "2,1", "sigmoid", None, 2, "0,1")
    assert isinstance(spec.seed, int) and 0 <= spec.seed < 1_000_000


@pytest.mark.parametrize(
    "options, where, message",
    [
        ((2, "2,x", "sigmoid", 1, 2, "0,1"), "--layers", "'x' is not a whole number; give neurons per layer"),
        ((2, "2,0", "sigmoid", 1, 2, "0,1"), "--layers", "every layer needs at least 1 neuron"),
        ((2, "", "sigmoid", 1, 2, "0,1"), "--layers", "not a whole number"),
        ((2, "2,1", "sigmod", 1, 2, "0,1"), "--activation", "unknown activation 'sigmod'; did you mean 'sigmoid'?"),
        ((2, "2,1", "sigmoid", 1, 2, "1,0"), "--range", "give two numbers LOW,HIGH with LOW < HIGH"),
        ((2, "2,1", "sigmoid", 1, 2, "0"), "--range", "give two numbers LOW,HIGH with LOW < HIGH"),
        ((2, "2,1", "sigmoid", 1, 2, "0,nan"), "--range", "is not a finite number"),
        ((2, "2,1", "sigmoid", 1, 2, "-1e308,1e308"), "--range", "too wide"),
        ((2, "100000,100000", "sigmoid", 1, 2, "0,1"), "--layers", "more than the limit of 1,000,000"),
        ((0, "2,1", "sigmoid", 1, 2, "0,1"), "--inputs", "at least 1"),
        ((2, "2,1", "sigmoid", 1, 7, "0,1"), "--decimals", "0 to 6"),
    ],
)
def test_bad_exercise_options_are_located(options, where, message):
    from nncalc.exercises import parse_exercise_options

    with pytest.raises(InputError) as caught:
        parse_exercise_options(*options)
    (problem,) = caught.value.problems
    assert problem.location == Location(where)
    assert message in problem.message, problem.message
