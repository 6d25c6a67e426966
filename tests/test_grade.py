"""Grading worked answers: error carried forward, tolerance from the digits written, diagnoses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nncalc.answers import parse_answers
from nncalc.errors import InputError
from nncalc.grading import grade, tolerance_for
from nncalc.loader import load_network, parse_network
from tests.conftest import CONFIGS


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


COURSE_NOTE = CONFIGS / "course-note.yaml"
CLASSIC = CONFIGS / "classic-2-2-2.yaml"


def _grade(network, x, answers_text, **options):
    answers = parse_answers(answers_text, network)
    texts = tuple(str(v) for v in x)
    return grade(network, np.array(x, dtype=float), texts, answers, **options)


def test_course_note_slip_is_pointed_at_exactly(nncalc):
    """The notes' a = 0.7153 for w = 0.25, b = 0.5 is the one wrong value; σ(0.6506) = 0.6571."""
    result = nncalc(
        "grade", COURSE_NOTE, "--input", "0.1", "--answers", CONFIGS / "answers-course-note.yaml", "-f", "json"
    )
    assert result.code == 1
    document = json.loads(result.out)
    wrong = [m for m in document["marks"] if m["correct"] is False]
    assert len(wrong) == 1
    (mark,) = wrong
    assert (mark["layer"], mark["neuron"], mark["quantity"], mark["text"]) == ("output", "o1", "a", "0.7153")
    assert (mark["line"], mark["column"]) == (9, 9)
    assert mark["expected"] == pytest.approx(sigma(0.6506), abs=1e-12)
    assert round(mark["expected"], 4) == 0.6571
    assert document["right"] == 3


def test_course_note_table_writes_out_the_step(nncalc):
    """The table names the value and writes the step out with the person's own numbers."""
    result = nncalc("grade", COURSE_NOTE, "-i", "0.1", "-a", CONFIGS / "answers-course-note.yaml", tty=True)
    assert result.code == 1
    assert "first wrong value: a of o1 in layer 2 (output)" in result.out
    assert "answers-course-note.yaml:9:9" in result.out
    assert "a = σ(0.6506) = 1 / (1 + e^−0.6506) = 0.6571, not 0.7153" in result.out


def test_all_right_exits_0(nncalc, write):
    """A correct sheet exits 0; left-out values (~) are neither right nor wrong."""
    result = nncalc("grade", CLASSIC, "-i", "0.05,0.10", "-a", CONFIGS / "answers-classic.yaml", "-f", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["correct"] is True
    assert document["right"] == 7 and document["wrong"] == 0
    assert [m["correct"] for m in document["marks"]].count(None) == 1


def test_error_carried_forward():
    """A wrong hidden a does not make the output wrong when the output follows from it."""
    net = load_network(CLASSIC)
    h1_wrong = 0.61  # true 0.5933
    z_o1 = 0.40 * h1_wrong + 0.45 * 0.596884378259767 + 0.60
    text = f"layers:\n  - a: [{h1_wrong:.4f}, 0.5969]\n  - z: [{z_o1:.4f}, ~]\n    a: [{sigma(z_o1):.4f}, ~]\n"
    result = _grade(net, [0.05, 0.10], text)
    verdicts = [(m.layer, m.neuron, m.quantity, m.correct) for m in result.marks if m.correct is not None]
    assert verdicts == [(0, 0, "a", False), (0, 1, "a", True), (1, 0, "z", True), (1, 0, "a", True)]


def test_rounded_earlier_values_do_not_make_false_errors():
    """Carrying 4-decimal values through does not mark the later values wrong."""
    net = load_network(CONFIGS / "course-chain.yaml")
    result = _grade(net, [0.1], "layers:\n  - z: [0.415]\n    a: [0.6023]\n  - z: [0.9210]\n    a: [0.7153]\n")
    assert result.all_correct


@pytest.mark.parametrize(
    "text, tolerance",
    [("0.6023", 0.00005), ("0.60", 0.005), ("0.6", 0.05), ("1", 0.5), ("6.023e-1", 0.00005), ("0.6020", 0.00005)],
)
def test_tolerance_is_half_a_unit_in_the_last_digit_written(text, tolerance):
    """0.6023 claims ±0.00005, 0.60 claims ±0.005: the text as written decides."""
    from nncalc.answers import Answer
    from nncalc.errors import Location

    answer = Answer(float(text), text, Location("x"))
    assert tolerance_for(answer) == pytest.approx(tolerance)


def test_trailing_zero_matters():
    """0.602 is right for 0.60229 (±0.0005) but 0.6020 is not (±0.00005)."""
    net = load_network(CONFIGS / "course-chain.yaml")
    assert _grade(net, [0.1], "layers:\n  - a: [0.602]\n").all_correct
    assert not _grade(net, [0.1], "layers:\n  - a: [0.6020]\n").all_correct


def test_tolerance_option_overrides():
    """--tolerance replaces the digits rule."""
    net = load_network(CONFIGS / "course-chain.yaml")
    assert _grade(net, [0.1], "layers:\n  - a: [0.60]\n", tolerance=0.01).all_correct
    assert not _grade(net, [0.1], "layers:\n  - a: [0.6022]\n", tolerance=1e-6).all_correct


@pytest.mark.parametrize(
    "answers, diagnosis",
    [
        ("layers:\n  - z: [0.3775, 0.0425]", "the bias is missing"),
        ("layers:\n  - z: [-0.3775, ~]", "the sign is flipped"),
        ("layers:\n  - z: [0.375, ~]", "the weights of i1 and i2 are swapped"),
        ("layers:\n  - z: [0.3925, ~]", "the weights of h2 were used"),
        ("layers:\n  - a: [0.6441, ~]", "sigmoid was applied twice"),
        ("layers:\n  - a: [0.3775, ~]", "the activation was left out"),
        ("layers:\n  - a: [0.4067, ~]", "the sign of z is flipped inside sigmoid"),
        ("layers:\n  - a: [0.3605, ~]", "tanh was used instead of sigmoid"),
        ("layers:\n  - a: [0.5932, ~]", "cut off, not rounded"),
    ],
)
def test_likely_mistakes_are_named(answers, diagnosis):
    """Common slips are recognised from the wrong value itself (values worked by hand)."""
    net = load_network(CLASSIC)
    # h1: z = 0.15·0.05 + 0.20·0.10 + 0.35 = 0.3775; h2: z = 0.25·0.05 + 0.30·0.10 + 0.35 = 0.3925
    result = _grade(net, [0.05, 0.10], answers)
    first = result.first_wrong
    assert first is not None
    assert diagnosis in (first.diagnosis or ""), first


def test_answers_by_neuron_name_and_skipped_layer():
    """A layer may be skipped with {} and another given neuron by neuron."""
    net = load_network(CLASSIC)
    result = _grade(net, [0.05, 0.10], "layers:\n  - {}\n  - o2: {a: 0.7729}\n")
    given = [m for m in result.marks if m.given is not None]
    assert [(m.layer, m.neuron, m.quantity, m.correct) for m in given] == [(1, 1, "a", True)]


@pytest.mark.parametrize(
    "text, fragment, line, column",
    [
        ("layers:\n  - z: [0.415, 1]\n", "z has 2 values, expected 1", 2, 8),
        ("layers:\n  - h9: {z: 0.4}\n", "unknown neuron or key 'h9'", 2, 5),
        ("layers:\n  - z: [abc]\n", "'abc' is not a number", 2, 9),
        ("layer:\n  - z: [1]\n", "did you mean 'layers'", 1, 1),
        ("layers:\n  - {}\n  - {}\n  - {}\n", "the network has 2", 4, 5),
    ],
)
def test_bad_answers_are_located(text, fragment, line, column):
    """Mistakes in the answers file are located like those in a network file."""
    net = load_network(CONFIGS / "course-chain.yaml")
    with pytest.raises(InputError) as caught:
        parse_answers(text, net, "answers.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert any(fragment in m and m.startswith(f"answers.yaml:{line}:{column}:") for m in messages), messages


def test_bad_answers_file_exits_2(nncalc, write):
    """A broken answers file is trouble with what was given: exit 2, one located line."""
    answers = write("answers.yaml", "layers:\n  - z: [oops]\n")
    result = nncalc("grade", COURSE_NOTE, "-i", "0.1", "-a", answers)
    assert result.code == 2
    assert result.err.startswith(f"error: {answers}:2:9:")
    assert result.out == ""


def test_grade_with_fractions_and_round():
    """Fractions are accepted in answers; --round carries rounded outputs as on paper."""
    net = parse_network("inputs: 1\nlayers:\n  - weights: 1/2\n    activation: identity\n")
    assert _grade(net, [0.5], "layers:\n  - z: [1/4]\n    a: [0.25]\n").all_correct
    chain = load_network(CONFIGS / "course-chain.yaml")
    rounded = _grade(chain, [0.1], "layers:\n  - a: [0.6023]\n  - z: [0.9210]\n    a: [0.7153]\n", decimals=4)
    assert rounded.all_correct
