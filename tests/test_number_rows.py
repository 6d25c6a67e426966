"""Rows of numbers read in one go (nncalc.yamlsource's fast path) mean exactly what they say.

The fast path blanks each one-line row of plain numbers before the parser sees the text,
and keeps that reading only where the parser found a flow sequence at every blanked
place. Each test here reads a text both ways (``fuzz.check_same_either_way``: the same
nodes with the same lines and columns, the same network bit for bit, or the same
problems) and, where the case is about meaning, says what the person wrote.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncalc.errors import InputError
from nncalc.loader import parse_network
from nncalc.yamlsource import NumberRow, ScalarNode, SeqNode, load_yaml
from tests.test_properties import PROFILE, SOURCE, fuzz

NET = "inputs: 2\nlayers:\n  - weights: {row}\n    biases: [0.5, -1]\n"


def _rows(node) -> list:
    """Every sequence node in a tree, depth first."""
    found, todo = [], [node]
    while todo:
        node = todo.pop()
        if isinstance(node, SeqNode):
            found.append(node)
            todo.extend(node.items)
        elif hasattr(node, "entries"):
            todo.extend(value for _, value in node.entries.values())
    return found


def test_a_large_row_is_read_in_one_go_with_every_value_located():
    values = [f"{(-1) ** i * i / 7:.6g}" for i in range(50)]
    text = f"inputs: 50\nlayers:\n  - weights: [{', '.join(values)}]\n"
    root = load_yaml(text, SOURCE)
    (row,) = [r for r in _rows(root) if isinstance(r, NumberRow)]
    assert row.texts == values
    assert row.values == [float(v) for v in values]
    column = len("  - weights: [") + 1  # 1-based column of the first value
    for item, value in zip(row.items, values, strict=True):
        assert isinstance(item, ScalarNode)
        assert (item.line, item.column, item.text) == (3, column, value)
        column += len(value) + len(", ")
    fuzz.check_same_either_way(text)


@pytest.mark.parametrize(
    "row",
    [
        "[0.1, 0.2]",
        "[0.1,0.2]",
        "[ 0.1 , 0.2 ]",
        "[  +0.1 ,   -.2  ]",
        "[1e3, -1.5E-3]",
        "[0.1, 0.2]   # a comment after the row",
        "[[0.1, 0.2], [0.3, 0.4]]",
        "[[0.1, 0.2], [0.3, 0.4], [1, 2], [3, 4], [5, 6]]",
        "[[0.1 ,0.2] , [ 0.3,0.4 ]]",
        "[0.1, 1/3]",  # a fraction: read one by one
        "[0.1,\t0.2]",  # a tab: read one by one
        "[0.1, 0.2,]",  # a trailing comma
        "[0.1, 1e999]",  # too large: refused with its location
        "[0.1, nan]",
        "[0.1, 0x1F]",
        "[0.1, 017]",
        "[0.1, 1_000]",
        "[1 2, 3]",  # one scalar "1 2", which is text
        "[1e, 2]",
        "[., 2]",
        "[+-1, 2]",
        "[e5, 1]",
        "[1.5.2, 1]",
        "[1e5.5, 1]",
        "[-, 1]",
        "[1E+05, -0, 00.5, 5.]",
        "[0.1, 1:30]",
        "[0.1, '0.2']",
        "[0.1, &a 0.2]",
        "[0.1, !!float 0.2]",
        "[0.1, 0.2] trailing",
        "[0.1, 0.2]]",
        "[[0.1, 0.2]",
        "[0.1, 0.2] [0.3]",
        "[0.1,\n      0.2]",  # over two lines: read one by one
        "\n      - [0.1, 0.2]\n      - [0.3, 0.4]",
        "\n      - [0.1, 0.2]\n      - [0.3]",  # a short row: its location is the row's
        "{a: [0.1, 0.2]}",
        "[0.1, 0.2]: x",
        "[[0.1, 0.2]: 1]",
        '"[0.1, 0.2]"',
        "'[0.1, 0.2]'",
        "x [0.1, 0.2]",
        "|\n      [0.1, 0.2]",
        ">\n      [0.1, 0.2]\n      [0.3, 0.4]",
    ],
)
def test_a_row_reads_the_same_either_way(row):
    fuzz.check_same_either_way(NET.format(row=row))


@pytest.mark.parametrize(
    "text, kept",
    [
        ('description: "see [1, 2] and [3, 4]"\n', "see [1, 2] and [3, 4]"),
        ("description: 'w = [0.5, -1]'\n", "w = [0.5, -1]"),
        ("description: w = [0.5, -1]\n", "w = [0.5, -1]"),
        ("description: |\n  [0.5, -1]\n  [2, 3]\n", "[0.5, -1]\n[2, 3]\n"),
        ("description: >-\n  w [0.5, -1]\n", "w [0.5, -1]"),
        ('description: "two lines [1,\n  2]"\n', "two lines [1, 2]"),
    ],
)
def test_brackets_inside_text_stay_text(text, kept):
    """A row inside quotes or a block of text is not a row: the text keeps its numbers."""
    network = parse_network(text + "inputs: 2\nlayers:\n  - weights: [0.25, 0.75]\n", SOURCE)
    assert network.description == kept
    assert network.layers[0].weights.tolist() == [[0.25, 0.75]]
    fuzz.check_same_either_way(text)


def test_brackets_in_a_comment_are_not_read():
    text = "# weights: [9, 9]\ninputs: 2\nlayers:\n  - weights: [0.25, 0.75]  # not [1, 2]\n"
    assert parse_network(text, SOURCE).layers[0].weights.tolist() == [[0.25, 0.75]]
    fuzz.check_same_either_way(text)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("before", ["", "name: naïve 😀 net\n", "# \x85 \u2028 \u2029\n"])
def test_line_breaks_and_wide_characters_before_a_row(newline, before):
    """Positions are matched by character offset, so every kind of line break and character
    before a row leaves each number where it was written."""
    text = (before + "inputs: 2\nlayers:\n  - weights: [[0.1, 0.2], [0.3, 1e999]]\n").replace("\n", newline)
    fuzz.check_same_either_way(text)


def _only_problem(text: str):
    with pytest.raises(InputError) as refused:
        parse_network(text, SOURCE)
    (problem,) = refused.value.problems
    return problem


def test_an_out_of_range_value_is_refused_at_its_place():
    problem = _only_problem("inputs: 3\nlayers:\n  - weights: [0.1, 0.2, 1e999]\n")
    assert (problem.location.line, problem.location.column) == (3, 25)
    assert "1e999" in problem.message


def test_a_row_of_the_wrong_length_is_located_at_the_row():
    problem = _only_problem("inputs: 3\nlayers:\n  - weights:\n      - [0.1, 0.2, 0.3]\n      - [0.4, 0.5]\n")
    assert (problem.location.line, problem.location.column) == (5, 9)
    assert "row 2 of weights has 2 values, expected 3" in problem.message


# -- random rows in random places -----------------------------------------------------------

SPACE = st.sampled_from(["", " ", "  "])
NUMBER = st.sampled_from(["0", "1", "-2", "+3", ".5", "-.25", "0.125", "1e3", "1.5E-3", "-7e+2", "10.", "1e999"])
ODD = st.sampled_from(["1/3", "nan", ".inf", "0x1F", "017", "yes", "1:30", "'0.5'", "a", "", "[1]"])


@st.composite
def rows(draw, odd: bool = False) -> str:
    items = draw(st.lists(NUMBER | ODD if odd else NUMBER, min_size=1, max_size=6))
    parts = [draw(SPACE) + item + draw(SPACE) for item in items]
    return "[" + ",".join(parts) + ("," if draw(st.booleans()) and odd else "") + "]"


PLACES = [
    "inputs: 2\nlayers:\n  - weights: {0}\n    biases: {1}\n",
    "inputs: 2\nlayers:\n  - weights: [{0}, {1}]\n",
    "inputs: 2\nlayers:\n  - weights:\n      - {0}\n      - {1}\n",
    "inputs: 2\nlayers:\n  - {{weights: {0}, biases: {1}}}\n",
    'description: "{0}"\ninputs: 2\nlayers:\n  - weights: {1}\n',
    "description: |\n  {0}\ninputs: 2\nlayers:\n  - weights: {1}\n",
    "description: x {0}\ninputs: 2\nlayers:\n  - weights: {1}  # {0}\n",
    "inputs: 2\nlayers:\n  - weights: {0}\n    {1}: 1\n",
    "inputs: {0}\nlayers:\n  - neurons: {1}\n    weights: {1}\n",
]


@settings(PROFILE, max_examples=300)
@given(place=st.sampled_from(PLACES), first=rows(odd=True), second=rows(odd=True))
def test_random_rows_in_random_places_read_the_same_either_way(place, first, second):
    fuzz.check_same_either_way(place.format(first, second))


@settings(PROFILE, max_examples=100)
@given(first=rows(), second=rows())
def test_random_rows_of_numbers_are_the_numbers_written(first, second):
    text = PLACES[2].format(first, second)
    root = load_yaml(text, SOURCE)
    found = [r for r in _rows(root) if isinstance(r, NumberRow)]
    written = [[piece.strip() for piece in row[1:-1].split(",")] for row in (first, second) if "1e999" not in row]
    assert sorted(r.texts for r in found) == sorted(written)
    fuzz.check_same_either_way(text)


def test_within_a_rows_characters_float_reads_exactly_the_decimals_nncalc_accepts():
    """The fast path lets float() decide which texts made of digits, e E + - . and spaces are
    numbers; for every such text of up to 5 characters that is exactly nncalc's DECIMAL
    grammar, spaces around it aside."""
    import itertools
    import re

    from nncalc.numbers import DECIMAL

    decimal = re.compile(DECIMAL, re.ASCII)
    for length in range(1, 6):
        for characters in itertools.product("09eE+-. ", repeat=length):
            text = "".join(characters)
            try:
                float(text)
                accepted = True
            except ValueError:
                accepted = False
            assert accepted == bool(decimal.fullmatch(text.strip(" "))), repr(text)
