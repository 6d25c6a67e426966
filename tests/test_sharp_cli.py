"""The command line's sharp edges: the output chooser, options that would do nothing, one
sample where one is graded, finite numbers only, pipes that close, disks that fill, Ctrl-C,
shell completion."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import CONFIGS, ROOT, run_process

CHAIN = CONFIGS / "course-chain.yaml"
BACKPROP = CONFIGS / "course-backprop.yaml"
CLASSIC = CONFIGS / "classic-2-2-2.yaml"
NOTE = CONFIGS / "course-note.yaml"
NOTE_ANSWERS = CONFIGS / "answers-course-note.yaml"


# -- one output chooser --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("answer.md", "# "),
        ("answer.markdown", "# "),
        ("chain.tex", "\\"),
        ("out.json", "{"),
        ("out.jsonl", '{"input"'),
        ("out.csv", "x1,o1"),
        ("out.txt", ""),
    ],
)
def test_forward_output_suffix_chooses_the_format(nncalc, tmp_path, name, starts):
    target = tmp_path / name
    result = nncalc("forward", CHAIN, "-i", "0.1", "-o", target)
    assert result.code == 0, result.err
    text = target.read_text(encoding="utf-8")
    assert text.startswith(starts)
    if name.endswith((".md", ".markdown")):
        assert "$" in text and "┃" not in text  # Markdown maths, not a Rich table
    if name.endswith(".tex"):
        assert "\\begin" in text
    if name.endswith(".txt"):
        assert "0.6023" in text and not text.startswith(("{", "%", "#"))


@pytest.mark.parametrize("name", ["out", "out.pdf", "net.yml.bak"])
def test_unknown_output_suffix_is_an_error_naming_the_formats(nncalc, tmp_path, name):
    result = nncalc("forward", CHAIN, "-i", "0.1", "-o", tmp_path / name)
    assert result.code == 2
    assert result.out == ""
    [line] = result.err.splitlines()
    assert line.startswith(f"error: {tmp_path / name}: cannot tell the format")
    for fmt in ("table", "json", "jsonl", "csv", "markdown", "latex"):
        assert fmt in line
    assert ".md" in line and ".tex" in line
    assert not (tmp_path / name).exists()


def test_format_wins_over_the_suffix(nncalc, tmp_path):
    target = tmp_path / "out.pdf"
    assert nncalc("forward", CHAIN, "-i", "0.1", "-o", target, "--format", "json").code == 0
    assert json.loads(target.read_text())["samples"][0]["output"] == pytest.approx([0.71530], abs=5e-5)


def test_draw_to_a_pdf_name_is_refused_not_written_as_dot(nncalc, tmp_path):
    result = nncalc("draw", CHAIN, "-o", tmp_path / "x.pdf")
    assert result.code == 2
    assert "dot, mermaid, svg, png" in result.err
    assert not (tmp_path / "x.pdf").exists()


def test_draw_suffixes(nncalc, tmp_path):
    assert nncalc("draw", CHAIN, "-o", tmp_path / "n.mmd").code == 0
    assert (tmp_path / "n.mmd").read_text().startswith(("flowchart", "%%", "graph", "---"))
    assert nncalc("draw", CHAIN, "-o", tmp_path / "n.gv").code == 0
    assert "digraph" in (tmp_path / "n.gv").read_text()


def test_backward_writes_to_output_in_the_suffix_format(nncalc, tmp_path):
    md, js = tmp_path / "step.md", tmp_path / "step.json"
    assert nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-o", md).code == 0
    assert nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-o", js).code == 0
    assert md.read_text().startswith("#")
    document = json.loads(js.read_text())
    # ½(0.25 − σ(0.45·σ(0.415) + 0.65))², worked by hand in the config's comment
    assert document["loss"] == pytest.approx(0.1082, abs=5e-5)


def test_grade_writes_to_output_and_keeps_its_exit_code(nncalc, tmp_path):
    target = tmp_path / "marks.json"
    result = nncalc("grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "-o", target)
    assert result.code == 1  # the notes' a = 0.7153 is wrong
    marks = json.loads(target.read_text())
    assert marks["correct"] is False
    assert marks["input"] == [0.1]  # a number, as forward writes it


# -- one sample where one is graded or drawn -------------------------------------------------


@pytest.mark.parametrize("command", ["grade", "draw"])
def test_a_second_input_is_refused(nncalc, command):
    extra = ["-a", NOTE_ANSWERS] if command == "grade" else []
    result = nncalc(command, NOTE, "-i", "0.1", "-i", "0.2", *extra)
    assert result.code == 2
    assert result.err.startswith("error: give --input once")


# -- options that would do nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["forward", CHAIN, "-i", "0.1", "-f", "csv", "--steps"], "--steps"),
        (["forward", CHAIN, "-i", "0.1", "-f", "json", "--no-steps"], "--steps"),
        (["forward", CHAIN, "-i", "0.1", "-f", "csv", "--standalone"], "--standalone"),
        (["forward", CHAIN, "-i", "0.1", "-f", "json", "--trace"], "--trace"),
        (["forward", CHAIN, "-i", "0.1", "-f", "json", "-p", "6"], "--precision"),
        (["forward", CHAIN, "-i", "0.1", "-f", "csv", "--all"], "--all"),
        (["forward", CHAIN, "-i", "0.1", "-f", "csv", "--chunk-size", "10"], "--chunk-size"),
        (["backward", BACKPROP, "-i", "0.1", "-t", "0.25", "-f", "json", "--no-steps"], "--steps"),
        (["backward", BACKPROP, "-i", "0.1", "-t", "0.25", "-f", "table", "--standalone"], "--standalone"),
        (["grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "-f", "json", "-p", "6"], "--precision"),
    ],
)
def test_an_option_that_does_nothing_is_an_error(nncalc, args, option):
    result = nncalc(*args)
    assert result.code == 2, result.err
    assert result.out == ""
    assert option in result.err and "does nothing" in result.err


@pytest.mark.parametrize("command", ["forward", "grade", "backward"])
def test_round_z_needs_round(nncalc, command):
    extra = {"forward": [], "grade": ["-a", NOTE_ANSWERS], "backward": ["-t", "0.25"]}[command]
    result = nncalc(command, NOTE, "-i", "0.1", *extra, "--round-z")
    assert result.code == 2
    assert "--round-z" in result.err and "--round N" in result.err


def test_draw_precision_without_input_is_an_error(nncalc):
    result = nncalc("draw", CHAIN, "-p", "2")
    assert result.code == 2
    assert "--input" in result.err


# -- backward --round: every value carried as on paper --------------------------------------


def test_backward_round_carries_values_as_the_course_does(nncalc):
    result = nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "--round", "4", "-f", "json")
    assert result.code == 0, result.err
    layers = {layer["name"]: layer for layer in json.loads(result.out)["layers"]}
    # the course's worked values (configs/course-backprop.yaml), each rounded to 4 decimals
    assert layers["output"]["delta"] == [[0.0948]]
    assert layers["output"]["grad_weights"] == [[0.0571]]
    assert layers["output"]["weights"] == [[0.4272]]
    assert layers["output"]["biases"] == [0.6121]
    assert layers["hidden"]["delta"] == [[0.0102]]
    assert layers["hidden"]["weights"] == [[0.1496]]
    assert layers["hidden"]["biases"] == [0.3959]


def test_backward_without_round_keeps_every_digit(nncalc):
    result = nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-f", "json")
    delta = json.loads(result.out)["layers"][1]["delta"][0][0]
    assert delta != round(delta, 4)


# -- numbers given as options are finite ----------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_tolerance_refuses_non_finite_numbers(nncalc, value):
    result = nncalc("grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "--tolerance", value, "-f", "json")
    assert result.code == 2
    assert "--tolerance" in result.err and "finite" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_learning_rate_refuses_non_finite_numbers(nncalc, value):
    result = nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", value)
    assert result.code == 2
    assert "--lr" in result.err and "finite" in result.err


def test_negative_tolerance_is_refused(nncalc):
    result = nncalc("grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "--tolerance", "-1")
    assert result.code == 2
    assert "--tolerance" in result.err


# -- help -----------------------------------------------------------------------------------


def test_help_lists_commands_in_the_order_they_are_used_and_uncut(nncalc):
    result = nncalc("--help")
    assert result.code == 0
    listed = [line.split()[0] for line in result.out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == ["forward", "backward", "grade", "check", "draw", "new", "import", "schema", "completion"]
    assert "…" not in result.out and "..." not in result.out.split("Commands:")[1]


@pytest.mark.parametrize("command", ["forward", "backward", "grade", "check", "draw", "completion"])
def test_usage_names_arguments_plainly(nncalc, command):
    usage = nncalc(command, "--help").out.splitlines()[0]
    assert "{" not in usage and "}" not in usage
    assert usage.endswith(("NETWORK", "SHELL"))


# -- data formats ---------------------------------------------------------------------------


def test_csv_header_names_every_column_once(nncalc, write):
    net = write("net.yaml", "inputs: [a]\nlayers:\n  - name: out\n    neurons: [a]\n    weights: 2\n    biases: 0\n")
    result = nncalc("forward", net, "-i", "1", "-f", "csv")
    header = result.out.splitlines()[0].split(",")
    assert len(header) == len(set(header)) == 2
    assert header == ["a", "out.a"]


def test_json_from_a_file_is_the_same_text_as_from_options(nncalc, write):
    rows = ["0.05,0.10", "1,2", "-3,0.5"]
    samples = write("s.csv", "\n".join(rows) + "\n")
    streamed = nncalc("forward", CLASSIC, "--inputs", samples, "-f", "json", "--chunk-size", "2")
    one_shot = nncalc("forward", CLASSIC, *[arg for row in rows for arg in ("-i", row)], "-f", "json")
    assert streamed.code == one_shot.code == 0
    assert streamed.out == one_shot.out
    document = json.loads(streamed.out)
    assert [s["input"] for s in document["samples"]] == [[0.05, 0.1], [1.0, 2.0], [-3.0, 0.5]]


def test_json_of_no_samples_is_still_a_document():
    from nncalc.render.data import JsonDocument

    class Sink:
        text = ""

        def write(self, part):
            self.text += part

    from nncalc.loader import load_network

    sink = Sink()
    document = JsonDocument(sink, load_network(CHAIN))
    document.close()
    assert json.loads(sink.text)["samples"] == []


def _peak_kib(rows: int, tmp_path) -> int:
    data = tmp_path / f"rows{rows}.csv"
    with data.open("w") as stream:
        stream.write("0.05,0.10\n" * rows)
    code = (
        "import resource, subprocess, sys;"
        f"subprocess.run([sys.executable, '-m', 'nncalc', 'forward', {str(CLASSIC)!r}, '--inputs', {str(data)!r},"
        " '-f', 'json', '--chunk-size', '5000'], stdout=subprocess.DEVNULL, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_json_of_many_samples_runs_in_flat_memory(tmp_path):
    small, large = _peak_kib(20_000, tmp_path), _peak_kib(200_000, tmp_path)
    # ten times the rows (about 4 KB of JSON each before) may not cost ten times the memory
    assert large < small + 40 * 1024, (small, large)


# -- control characters from a file never reach the terminal raw -----------------------------


def test_error_messages_show_control_characters_visibly(nncalc, write):
    net = write("net\x1b]0;pwned\x07\x1b[2J.yaml", "inputs: 1\nlayers:\n  - weights: [1, 2]\n")
    result = nncalc("check", net)
    assert result.code == 2
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "␛" in result.err


# -- closed pipes, full disks, Ctrl-C ------------------------------------------------------


def _with_stdout_closed(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run nncalc with a stdout pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "nncalc", *map(str, args)],
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write_end)


CLOSED_PIPE_CASES = [
    *[["forward", CLASSIC, "-i", "0.05,0.10", "-f", fmt] for fmt in ("table", "json", "jsonl", "csv", "markdown")],
    ["forward", CLASSIC, "-i", "0.05,0.10", "-f", "latex", "--standalone"],
    *[["forward", CLASSIC, "--inputs", "-", "-f", fmt] for fmt in ("csv", "jsonl", "json")],
    *[
        ["backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-f", f]
        for f in ("table", "json", "markdown", "latex")
    ],
    ["backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-n", "3", "-f", "table"],
    ["backward", CLASSIC, "-i", "0.05,0.10", "-t", "0.01,0.99", "-n", "3", "-f", "json"],
    ["grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "-f", "table"],
    ["grade", NOTE, "-i", "0.1", "-a", NOTE_ANSWERS, "-f", "json"],
    ["check", CLASSIC],
    ["draw", CLASSIC, "-f", "dot"],
    ["draw", CLASSIC, "-f", "mermaid"],
    ["new", "--seed", "1"],
    ["schema"],
    ["completion", "bash"],
    ["--help"],
    ["forward", "--help"],
]


@pytest.mark.parametrize("args", CLOSED_PIPE_CASES, ids=lambda args: " ".join(str(a) for a in args[:1] + args[-2:]))
def test_every_command_and_format_ends_quietly_when_the_reader_has_gone(args):
    stdin = b"0.05,0.10\n" * 50_000 if "-" in args else None
    done = _with_stdout_closed(args, stdin)
    assert done.stderr == b"", done.stderr.decode()
    expected = 1 if args[0] == "grade" else 0  # grade's answer (wrong) is still its exit code
    assert done.returncode in (expected, 0)


def test_a_reader_leaving_mid_stream_ends_quietly():
    """200,000 rows streamed as CSV into ``head -1``: polars raises in its writer thread."""
    rows = b"0.05,0.10\n" * 200_000
    pipeline = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} -m nncalc forward {CLASSIC} --inputs - --format csv | head -1; exit ${{PIPESTATUS[0]}}",
        ],
        input=rows,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert pipeline.stderr == b"", pipeline.stderr.decode()
    assert pipeline.returncode == 0
    assert pipeline.stdout.decode() == "i1,i2,o1,o2\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["forward", CLASSIC, "-i", "0.05,0.10", "-f", "json"],
        ["forward", CLASSIC, "-i", "0.05,0.10", "-f", "table"],
        ["schema"],
    ],
)
def test_a_full_disk_on_standard_output_is_one_error_line(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "nncalc", *map(str, args)], stdout=full, stderr=subprocess.PIPE, cwd=ROOT
        )
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: <stdout>: cannot write: No space left on device")


# The entry point as the console script calls it. Ctrl-C is taken over by nncalc's first
# handler before "ready" is printed: a signal sent just after "ready" would otherwise land in
# the two statements of this script before run() is called, which is not nncalc's code.
START = (
    "import signal, sys; from nncalc.__main__ import run, _stop_while_loading;"
    "signal.signal(signal.SIGINT, _stop_while_loading); print('ready', flush=True);"
    "sys.argv = ['nncalc', *sys.argv[1:]]; run()"
)


def test_ctrl_c_at_any_moment_of_start_up_is_quiet():
    """From the entry point on (Python's own start-up is Python's), Ctrl-C is quiet."""
    for delay in (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08):
        process = subprocess.Popen(
            [sys.executable, "-c", START, "forward", str(CHAIN), "-i", "0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert process.stdout.readline() == b"ready\n"
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert b"Traceback" not in err, (delay, err.decode())
        assert process.returncode in (0, 130, -signal.SIGINT), (delay, process.returncode)


# -- shell completion -----------------------------------------------------------------------


@pytest.mark.parametrize(("shell", "mark"), [("bash", "complete -o default"), ("zsh", "compdef"), ("fish", "complete")])
def test_completion_prints_a_script_for_each_shell(nncalc, shell, mark):
    result = nncalc("completion", shell)
    assert result.code == 0
    assert mark in result.out and "_NNCALC_COMPLETE" in result.out


def _complete(words: str, cword: int) -> list[str]:
    env = {"_NNCALC_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    return run_process(env=env).out.split()


def test_completion_offers_commands_options_and_names():
    assert _complete("nncalc f", 1) == ["forward"]
    assert "--loss" in _complete("nncalc backward net.yaml --lo", 3)
    assert _complete("nncalc backward net.yaml --loss ", 4) == ["half_sse", "mse", "cross_entropy", "bce"]
    assert "softmax" in _complete("nncalc new --activation so", 3)


def test_completion_is_refused_for_an_unknown_shell(nncalc):
    result = nncalc("completion", "tcsh")
    assert result.code == 2
    assert "bash" in result.err


@pytest.mark.parametrize("command", ["forward", "backward"])
def test_a_missing_samples_file_is_named_the_same_way_by_every_command(nncalc, tmp_path, command):
    missing = tmp_path / "missing.csv"
    result = nncalc(command, CLASSIC, "--inputs", missing)
    assert result.code == 2
    assert result.err == f"error: {missing}: no such file\n"


OVERFLOWING = "inputs: [x]\nlayers:\n  - neurons: [h]\n    weights: 1e300\n    biases: 0\n    activation: identity\n"


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "jsonl", "json"])
def test_an_overflow_in_a_samples_file_names_its_line(nncalc, write, fmt):
    net = write("big.yaml", OVERFLOWING)
    samples = write("s.csv", "x\n1\n\n2\n1e10\n3\n")  # the fifth line overflows: 1e300 × 1e10
    result = nncalc("forward", net, "--inputs", samples, "-f", fmt)
    assert result.code == 1
    first = result.err.splitlines()[0]
    message = "layer 1 (output), neuron h: z is an overflow (inf) (--allow-nonfinite lets it through)"
    assert first == f"error: {samples}:5: {message}"


def test_new_writes_the_registry_name_of_an_activation_however_typed(nncalc):
    result = nncalc("new", "--activation", "Leaky-ReLU", "--seed", "3")
    assert result.code == 0
    assert "activation: leaky_relu\n" in result.out


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_streams_alike(nncalc, tmp_path, ending):
    path = tmp_path / "s.csv"
    path.write_bytes(ending.join(["i1,i2", "0.05,0.10", "", "1,2"]).encode() + ending.encode())
    streamed = nncalc("forward", CLASSIC, "--inputs", path, "-f", "csv")
    one_shot = nncalc("forward", CLASSIC, "-i", "0.05,0.10", "-i", "1,2", "-f", "csv")
    assert streamed.code == 0, streamed.err
    assert streamed.out == one_shot.out


def test_a_line_ending_in_cr_alone_still_names_its_line(nncalc, tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"i1,i2\r0.05,0.10\r1,oops\r")
    result = nncalc("forward", CLASSIC, "--inputs", path, "-f", "csv")
    assert result.code == 2
    assert result.err.startswith(f"error: {path}:3:3: 'oops' is not a number")


def test_a_number_too_small_for_a_float_is_refused_when_streamed(nncalc):
    result = nncalc("forward", CLASSIC, "--inputs", "-", "-f", "csv", stdin="i1,i2\n0,1\n1e-400,1\n")
    assert result.code == 2
    assert result.err.startswith("error: <stdin>:3:1: '1e-400' is too small for a 64-bit float")


def test_backward_write_keeps_the_files_comments(nncalc, tmp_path):
    from nncalc.loader import load_network

    trained = tmp_path / "trained.yaml"
    result = nncalc("backward", BACKPROP, "-i", "0.1", "-t", "0.25", "--lr", "0.4", "-f", "json", "--write", trained)
    assert result.code == 0, result.err
    text = trained.read_text()
    original_comments = [line for line in BACKPROP.read_text().splitlines() if line.startswith("#")]
    assert [line for line in text.splitlines() if line.startswith("#")] == original_comments
    updated = json.loads(result.out)["layers"]
    network = load_network(trained)
    assert network.layers[1].weights.tolist() == updated[1]["weights"]
    assert network.layers[0].biases.tolist() == updated[0]["biases"]


@pytest.mark.parametrize("option", ["--answers", "network"])
def test_grade_reads_an_endless_device_only_up_to_its_limit(option):
    network = "/dev/zero" if option == "network" else str(NOTE)
    answers = "/dev/zero" if option == "--answers" else str(NOTE_ANSWERS)
    args = ["grade", network, "-i", "0.1", "-a", answers, "--max-file-size", "4096"]
    done = subprocess.run([sys.executable, "-m", "nncalc", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.startswith("error: /dev/zero: ") and "limit of 4,096 bytes" in done.stderr
