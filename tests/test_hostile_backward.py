"""Hostile input to ``backward --optimizer``, ``--state`` and ``grade --target``: every problem is one
located ``error:`` line (all independent ones at once), exit 2, never a traceback nor a warning."""

from __future__ import annotations

import pytest

from nncalc.errors import InputError
from nncalc.optimizers import parse_optimizer
from tests.conftest import CONFIGS

COURSE = CONFIGS / "course-backprop.yaml"
STEP = ("-i", "0.1", "-t", "0.25", "-f", "json")


def refused(result, count: int | None = None) -> list[str]:
    """The error lines of a run that must have been refused as bad input."""
    assert result.code == 2, (result.code, result.err)
    lines = result.err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.err
    assert "Traceback" not in result.err and "Warning" not in result.err
    if count is not None:
        assert len(lines) == count, result.err
    return lines


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_optimizer(text)
    return [str(problem) for problem in caught.value.problems]


# --- --optimizer -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 5000, "{name: " + "[" * 5000, "{name: sgd, momentum: " + "{a: " * 3000])
def test_deep_nesting_is_refused_not_a_recursion_error(text):
    (message,) = problems(text)
    assert message.startswith("--optimizer:1:") and "nested" in message


def test_a_parameter_given_twice_is_refused_not_the_last_taken():
    (message,) = problems("{name: sgd, momentum: 0.9, momentum: 0.5}")
    assert "momentum" in message and "twice" in message
    (message,) = problems("{name: adam, name: sgd}")
    assert "name" in message and "twice" in message


def test_aliases_are_refused_so_nothing_expands():
    # ten levels of ten aliases each would be 10¹⁰ numbers if expanded (and shown in a message)
    levels = ["&l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    levels += [f"&l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]" for k in range(1, 10)]
    text = "{name: sgd, " + ", ".join(f"k{k}: {level}" for k, level in enumerate(levels)) + "}"
    messages = problems(text)
    assert any("alias" in m for m in messages)
    assert problems("{name: sgd, momentum: &a 0.9, dampening: *a}") != []


def test_every_unknown_or_bad_parameter_is_reported_at_once():
    messages = problems("{name: sgd, foo: 1, momentum: x, bar: 2, nesterov: 3}")
    assert len(messages) == 4, messages
    assert "'foo'" in messages[0] and "'x' is not a number" in messages[1]
    assert "'bar'" in messages[2] and "nesterov must be true or false" in messages[3]


def test_many_unknown_parameters_are_bounded(nncalc):
    text = "{name: sgd, " + ", ".join(f"p{k}: 1" for k in range(500)) + "}"
    lines = refused(nncalc("backward", COURSE, *STEP, "--optimizer", text))
    assert len(lines) <= 25 and "more" in lines[-1]


def test_a_long_value_is_one_short_message(nncalc):
    lines = refused(nncalc("backward", COURSE, *STEP, "--optimizer", "{name: sgd, " + "x" * 100_000 + ": 1}"), 1)
    assert len(lines[0]) < 1000


def test_an_empty_value_is_called_nothing_not_none():
    assert problems("")[0].startswith("--optimizer: expected an optimizer's name or a mapping, got nothing;")
    assert problems("{name: sgd, momentum: ~}") == ["--optimizer: momentum must be a number, got nothing"]


def test_a_number_of_thousands_of_digits_is_too_large_not_a_traceback(nncalc):
    lines = refused(nncalc("backward", COURSE, *STEP, "--optimizer", "{name: sgd, momentum: " + "1" * 5000 + "}"), 1)
    assert "too large" in lines[0] and len(lines[0]) < 300
    (line,) = refused(nncalc("backward", COURSE, *STEP, "--optimizer", "1" * 5000))
    assert line.startswith("error: --optimizer: ") and len(line) < 300


@pytest.mark.parametrize("tag", ["!!timestamp", "!!int", "!!float", "!!bool", "!!str", "!!python/name:os.system"])
def test_tags_are_refused_as_in_a_network_file(tag):
    (message,) = problems("{name: sgd, momentum: " + tag + " x}")
    assert message.startswith("--optimizer:1:23: cannot read the optimizer: tags such as")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2001-13-45", "momentum: '2001-13-45' is not a number"),
        ("9999-99-99T99:99:99", "is not a number"),
        ("1:30", "momentum: '1:30' is not a number"),
        ("1:30.5", "momentum: '1:30.5' is not a number"),
        ("1__", "momentum: '1__' is not a number"),
        ("0x10", "momentum: '0x10' is not a number"),
    ],
)
def test_yaml_1_1_numbers_and_dates_are_not_read_as_numbers(value, message):
    # as in a network file: 1:30 is not 90, and a date that is no date is not a traceback
    (got,) = problems("{name: sgd, momentum: " + value + "}")
    assert got.startswith("--optimizer: ") and message in got


# --- --state -----------------------------------------------------------------------------


@pytest.fixture
def adam_state(nncalc, tmp_path):
    path = tmp_path / "adam.yaml"
    assert nncalc("backward", COURSE, *STEP, "--optimizer", "adam", "-n", "2", "--write-state", path).code == 0
    return path


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("step: 2", "step: " + "9" * 400),
        ("step: 2", "step: " + "9" * 5000),
        ("step: 2", "step: 9007199254740993"),
        ("step: 2", "step: ²"),
    ],
)
def test_a_huge_step_count_is_refused_located(nncalc, adam_state, old, new):
    adam_state.write_text(adam_state.read_text().replace(old, new))
    (line,) = refused(nncalc("backward", COURSE, *STEP, "--state", adam_state))
    assert line.startswith(f"error: {adam_state}:4:7: step must be a whole number")


def test_a_parameters_own_huge_step_is_refused_located(nncalc, adam_state):
    text = adam_state.read_text().replace("    weights:\n", "    weights:\n      step: " + "9" * 400 + "\n", 1)
    adam_state.write_text(text)
    (line,) = refused(nncalc("backward", COURSE, *STEP, "--state", adam_state))
    assert f"{adam_state}:8:13: layer 1 (hidden): weights: step must be a whole number" in line


def test_a_negative_mean_square_is_refused_at_the_file(nncalc, adam_state):
    # v is a mean of squares: below 0 its square root is NaN and the step fails far from the cause
    text = adam_state.read_text()
    text = text.replace("exp_avg_sq: [1.0498203523967181e-07]", "exp_avg_sq: [-1.0e-07]")
    text = text.replace("- [4.323038497289249e-06]", "- [-4.0e-06]")
    adam_state.write_text(text)
    lines = refused(nncalc("backward", COURSE, *STEP, "--state", adam_state), 2)
    assert lines[0].startswith(f"error: {adam_state}:14:19: layer 1 (hidden): biases: exp_avg_sq")
    assert "≥ 0" in lines[0]
    assert lines[1].startswith(f"error: {adam_state}:20:9: layer 2 (output): weights: exp_avg_sq")


def test_write_state_may_replace_the_state_it_continues(nncalc, tmp_path):
    # 2 steps, then 3 more continued in place, are 5 steps: the file is the same as 5 made at once
    net, state, out = tmp_path / "net.yaml", tmp_path / "state.yaml", tmp_path / "out.json"
    first = nncalc("backward", COURSE, *STEP, "-o", out, "--optimizer", "adam", "-n", "2", "--write", net)
    assert first.code == 0
    assert (
        nncalc("backward", COURSE, *STEP, "-o", out, "--optimizer", "adam", "-n", "2", "--write-state", state).code == 0
    )
    result = nncalc("backward", net, *STEP, "-o", out, "-n", "3", "--state", state, "--write-state", state)
    assert result.code == 0, result.err
    five = tmp_path / "five.yaml"
    assert (
        nncalc("backward", COURSE, *STEP, "-o", out, "--optimizer", "adam", "-n", "5", "--write-state", five).code == 0
    )
    assert state.read_text() == five.read_text()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("betas: [0.9, 0.999]", "betas: [[0.9], 0.999]", "betas[0] must be a number, got a list"),
        ("eps: 1.0e-08", "eps: {a: 1}", "eps must be a number, got a mapping"),
        ("amsgrad: false", "amsgrad: [false]", "amsgrad must be true or false, got [false]"),
    ],
)
def test_a_state_optimizers_nested_value_is_named_by_its_kind(nncalc, adam_state, old, new, message):
    adam_state.write_text(adam_state.read_text().replace(old, new))
    (line,) = refused(nncalc("backward", COURSE, *STEP, "--state", adam_state))
    assert line == f"error: {adam_state}:2:12: {message}"


@pytest.mark.parametrize("iterations", ["1", "2"])
def test_the_json_output_is_a_state_file(nncalc, tmp_path, iterations):
    # as the module says: the JSON output holds the state under optimizer_state, which --state reads
    net, out, state = tmp_path / "net.yaml", tmp_path / "out.json", tmp_path / "state.yaml"
    args = ("backward", COURSE, *STEP, "--optimizer", "adam", "-n", iterations, "--write", net)
    assert nncalc(*args, "-o", out, "--write-state", state).code == 0
    from_json = nncalc("backward", net, *STEP, "--state", out)
    from_state = nncalc("backward", net, *STEP, "--state", state)
    assert from_json.code == 0, from_json.err
    assert from_json.out == from_state.out


# --- grade --target ----------------------------------------------------------------------


def test_a_bad_convention_option_is_not_also_called_a_contradiction(nncalc):
    args = ("grade", COURSE, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-a", CONFIGS / "answers-course-backprop.yaml")
    lines = refused(nncalc(*args, "--error", "x", "--batch", "y"), 2)
    assert lines[0] == "error: --error: must be one of a-t, t-a, got 'x'"
    assert lines[1] == "error: --batch: must be one of mean, sum, got 'y'"


def test_a_flat_list_for_a_batch_is_called_a_list_of_numbers(nncalc):
    args = ("grade", COURSE, "-i", "0.1", "-t", "0.25", "-i", "0.2", "-t", "0.3", "--lr", "0.4")
    lines = refused(nncalc(*args, "-a", CONFIGS / "answers-course-backprop.yaml"))
    assert lines[0].endswith("layer 1 (hidden): z must be a list of rows, one per sample, got a list of numbers")


def test_grades_bad_settings_are_reported_together(nncalc):
    args = ("grade", COURSE, "-i", "0.1", "-t", "0.25", "-a", CONFIGS / "answers-course-backprop.yaml")
    lines = refused(nncalc(*args, "--error", "x", "--optimizer", "{name: sgd, foo: 1}", "--lr=-1"), 3)
    assert lines[0] == "error: --error: must be one of a-t, t-a, got 'x'"
    assert lines[1].startswith("error: --optimizer: SGD has no parameter 'foo'")
    assert lines[2] == "error: --lr: the learning rate must be a finite number ≥ 0, got -1"


# --- options read together ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["backward", "grade"])
def test_a_bad_input_and_a_bad_target_are_both_reported(nncalc, command):
    answers = ("-a", CONFIGS / "answers-course-backprop.yaml") if command == "grade" else ()
    lines = refused(nncalc(command, COURSE, "-i", "x", "-t", "0.1,0.2", *answers), 2)
    assert lines[0] == "error: --input 'x': value 1 (column 1): 'x' is not a number"
    assert lines[1] == "error: --target '0.1,0.2': 2 values given, expected 1 (o1)"


def test_backwards_bad_lr_and_optimizer_are_reported_together(nncalc):
    lines = refused(nncalc("backward", COURSE, *STEP, "--lr=-1", "--optimizer", "{name: sgd, foo: 1}"), 2)
    assert lines[0] == "error: --lr: the learning rate must be ≥ 0, got -1"
    assert lines[1].startswith("error: --optimizer: SGD has no parameter 'foo'")


def test_rmsprop_with_alpha_above_one_ends_with_one_line_naming_the_update(nncalc):
    """PyTorch lets alpha exceed 1, where the average of g² goes negative at the first step
    (α·0 + (1 − α)·g²) and its square root is NaN: one error line naming the optimizer's update,
    not NumPy's RuntimeWarning and a claim that the gradients overflowed."""
    result = nncalc(
        "backward",
        CONFIGS / "course-backprop.yaml",
        "-i",
        "0.1",
        "-t",
        "0.25",
        "--optimizer",
        "{name: rmsprop, alpha: 1.5}",
        "-n",
        "3",
        "-f",
        "json",
    )
    assert result.code == 1
    assert result.err.splitlines() == [
        "error: step 1: layer 1 (hidden): rmsprop's update is not finite (inf or NaN) though the gradients are; "
        "check its parameters"
    ]


def _device(folder, name: str, minor: int):
    """A character device like /dev/null (minor 3) or /dev/full (minor 7), made in ``folder``."""
    import os
    import stat

    path = folder / name
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("making a device needs root")
    return path


def test_write_state_writes_through_a_device_and_a_symlink_and_reports_a_full_disk(nncalc, tmp_path):
    """--write-state is an output like -o: a device stays a device (written through, not replaced
    by a file), a symlink keeps pointing at its target, which gets the state, and a full disk is
    one error line, exit 2."""
    import stat

    args = ("backward", COURSE, "-i", "0.1", "-t", "0.25", "--optimizer", "adam", "-f", "json")
    null = _device(tmp_path, "null", 3)
    assert nncalc(*args, "--write-state", null).code == 0
    assert stat.S_ISCHR(null.stat().st_mode)

    target = tmp_path / "state.yaml"
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert nncalc(*args, "--write-state", link).code == 0
    assert link.is_symlink() and "adam" in target.read_text(encoding="utf-8")

    full = _device(tmp_path, "full", 7)
    result = nncalc(*args, "--write-state", full)
    assert result.code == 2
    assert result.err.splitlines() == [f"error: {full}: cannot write: No space left on device"]
    assert stat.S_ISCHR(full.stat().st_mode)
