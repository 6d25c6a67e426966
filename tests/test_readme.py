"""README.md is true to the program: every command it shows runs, and shows what it prints.

The harness is scripts/update_readme.py (the same code rewrites the README's outputs); its
docstring and README.md's "Development" section give the convention for blocks.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _load_harness():
    """scripts/update_readme.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("update_readme", ROOT / "scripts" / "update_readme.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


harness = _load_harness()
README_TEXT = (ROOT / "README.md").read_text(encoding="utf-8")
RUNNABLE = [block for block in harness.read_blocks(README_TEXT) if block.kind in (harness.COMPARED, harness.RUN)]
UPDATE = "python scripts/update_readme.py"


@pytest.fixture(scope="module")
def outcomes():
    """Every runnable README block, run once, side by side."""
    return {outcome.block.name: outcome for outcome in harness.check_blocks(RUNNABLE)}


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.name)
def test_readme_block_is_true_to_the_program(outcomes, block):
    """A console block shows exactly what its commands print; every command of a sh block succeeds."""
    outcome = outcomes[block.name]
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert not outcome.problems, "\n".join(outcome.problems)
    diff = outcome.diff()
    assert not diff, (
        f"README.md and the program disagree. If the program is right, run `{UPDATE}` and review the diff:\n{diff}"
    )


def _opening_lines() -> list[str]:
    first = harness.read_blocks(README_TEXT)[0]
    assert first.kind == harness.RUN, "the README opens with a sh block"
    return [line for line in first.body if line.strip() and not line.startswith("#")]


def test_readme_opens_with_the_two_commands():
    """First an install-and-run of forward on a shipped example, then install-and-test."""
    first, second = _opening_lines()[:2]
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e . && ")
    assert " && nncalc forward configs/" in first
    assert second == 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && pytest'


def test_the_opening_forward_command_is_run_by_the_readme_test():
    """The set-up is what the tests run in; the nncalc part of the first line is run by the harness."""
    commands, needs = harness.sh_commands(harness.read_blocks(README_TEXT)[0])
    assert needs == []
    assert len(commands) == 1 and commands[0].startswith("nncalc forward configs/")
    assert (ROOT / commands[0].split()[2]).is_file()


def test_ci_runs_the_readme_test_command():
    """.ci/run runs exactly the README's test command."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _opening_lines()[1] in script.splitlines()


def _commands():
    from nncalc.cli import app

    return [command.name or command.callback.__name__ for command in app.registered_commands]


def _run_commands() -> list[str]:
    """Every command line the README runs (console and sh blocks)."""
    lines = []
    for block in RUNNABLE:
        if block.kind == harness.COMPARED:
            lines.extend(step.command for step in harness.read_session(block))
        else:
            lines.extend(harness.sh_commands(block)[0])
    return lines


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_run_by_the_readme(command):
    """The README shows every command at work, in a block the tests run."""
    assert any(f"nncalc {command} " in f"{line} " for line in _run_commands()), f"no README example runs {command}"


def test_the_command_reference_is_the_programs_help():
    """The help the README shows is a compared block, so it is generated from the code; one
    command's options are enough (the others' change often and are a --help away)."""
    commands = _run_commands()
    assert "nncalc --help" in commands
    command_helps = [line for line in commands if line.startswith("nncalc ") and line.endswith(" --help")]
    assert len(command_helps) == 2, command_helps  # nncalc --help and one command's


# The harness itself, on small READMEs whose right output is known without the program.


def _outcome(text: str):
    (block,) = [b for b in harness.read_blocks(text) if b.kind in (harness.COMPARED, harness.RUN)]
    return harness.check_block(block)


def test_a_wrong_output_is_a_diff_with_readme_line_numbers():
    outcome = _outcome("# T\n\n```console\n$ echo hello\nhullo\n```\n")
    assert outcome.problems == []
    assert outcome.body == ("$ echo hello", "hello")
    diff = outcome.diff().splitlines()
    assert diff[2] == "@@ -4,2 +4,2 @@"  # the block's body starts on the README's line 4
    assert diff[3:] == [" $ echo hello", "-hullo", "+hello"]


def test_update_rewrites_only_the_outputs():
    text = "# T\n\nprose\n\n- item:\n  ```console\n  $ echo hello\n  hullo\n  ```\n\n```yaml\nx: 1\n```\n"
    outcome = _outcome(text)
    updated = harness.rewritten(text, [outcome])
    assert updated == text.replace("hullo", "hello")
    assert harness.rewritten(updated, [_outcome(updated)]) == updated


def test_a_true_block_has_no_diff():
    assert _outcome("```console\n$ printf 'a\\n\\nb  \\n'\na\n\nb\n```\n").diff() == ""


def test_stdout_and_stderr_interleave_as_on_a_terminal():
    outcome = _outcome("```console\n$ echo one; echo two >&2; echo three\n```\n")
    assert outcome.body[1:] == ("one", "two", "three")


def test_commands_run_at_a_plain_terminal_of_100_columns():
    outcome = _outcome(
        "```console\n$ test -t 0 && test -t 1 && test -t 2 && echo terminal\n$ stty size\n"
        '$ echo "$COLUMNS $LINES $NO_COLOR $TERM"\n```\n'
    )
    assert outcome.body == (
        "$ test -t 0 && test -t 1 && test -t 2 && echo terminal",
        "terminal",
        "$ stty size",
        "50 100",
        '$ echo "$COLUMNS $LINES $NO_COLOR $TERM"',
        "100 50 1 dumb",
    )


def test_a_failing_command_must_show_its_status():
    hidden = _outcome("```console\n$ sh -c 'exit 3'\n$ echo done\ndone\n```\n")
    assert hidden.problems == ["`sh -c 'exit 3'` exits with status 3: show it with `$ echo $?` after it"]
    shown = _outcome("```console\n$ sh -c 'exit 3'\n$ echo $?\n3\n```\n")
    assert shown.problems == []
    assert shown.diff() == ""


def test_a_block_can_write_the_file_it_uses():
    text = "```console\n$ cat > a.txt <<'EOF'\n> x\n>   y\n>\n> EOF\n$ cat a.txt\nx\n  y\n\n```\n"
    outcome = _outcome(text)
    assert outcome.problems == []
    assert outcome.diff() == ""


def test_blocks_run_in_a_clean_copy_and_leave_nothing_behind():
    outcome = _outcome(
        "```console\n$ touch litter.txt && ls -1 litter.txt configs/course-chain.yaml\n"
        "$ ls -d .git .venv 2>/dev/null | wc -l\n```\n"
    )
    assert outcome.body[1:3] == ("configs/course-chain.yaml", "litter.txt")
    assert outcome.body[4] == "0"
    assert not (ROOT / "litter.txt").exists()


def test_the_copys_folder_is_shown_the_same_on_every_run():
    outcome = _outcome('```console\n$ pwd; ls -1 "$PWD/configs/course-chain.yaml"\n```\n')
    assert outcome.body[1:] == ("/path/to/nncalc", "/path/to/nncalc/configs/course-chain.yaml")


def test_nncalc_is_the_program_under_test():
    outcome = _outcome("```console\n$ nncalc --version\n```\n")
    assert outcome.body[1] == f"nncalc {importlib.metadata.version('nncalc')}"
    script = Path(sys.executable).parent / "nncalc"
    if script.exists():
        assert _outcome("```console\n$ command -v nncalc\n```\n").body[1] == str(script)


def test_colour_codes_are_refused():
    outcome = _outcome("```console\n$ printf '\\033[1mbold\\033[0m\\n'\n```\n")
    assert outcome.problems and "control character" in outcome.problems[0]


def test_a_command_waiting_for_the_keyboard_times_out():
    with pytest.raises(harness.ReadmeError, match="timed out"):
        harness.run_commands(["cat"], timeout=1.0)


def test_a_sh_block_fails_on_a_failing_line():
    outcome = _outcome("```sh\ntrue\nsh -c 'echo why >&2; exit 4'\n```\n")
    assert len(outcome.problems) == 1
    assert outcome.problems[0].startswith("`sh -c 'echo why >&2; exit 4'` exits with status 4")
    assert "why" in outcome.problems[0]


def test_a_sh_block_that_needs_a_missing_program_is_skipped():
    outcome = _outcome("```sh\n# needs: no-such-program-here\nno-such-program-here --run\n```\n")
    assert outcome.skipped == "needs no-such-program-here, which is not installed"


def test_a_sh_block_that_needs_an_installed_program_runs():
    outcome = _outcome("```sh\n# needs: sh\nsh -c 'exit 5'\n```\n")
    assert outcome.skipped is None
    assert "status 5" in outcome.problems[0]


def test_the_setup_of_a_fresh_machine_is_taken_as_done():
    block = harness.read_blocks(
        "```sh\npython3 -m venv .venv && . .venv/bin/activate && pip install -e . && echo ran\n"
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && pytest\n'
        "python scripts/update_readme.py --check  # the check itself\n"
        "echo one \\\n  two\n```\n"
    )[0]
    assert harness.sh_commands(block) == (["echo ran", "echo one \\\n  two"], [])


def test_the_script_checks_and_rewrites_a_readme(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n```console\n$ echo hello\nhullo\n```\n", encoding="utf-8")
    assert harness.main(["--check", str(readme)]) == 1
    assert "-hullo\n+hello\n" in capsys.readouterr().out
    assert readme.read_text(encoding="utf-8").count("hullo") == 1
    assert harness.main([str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == "# T\n\n```console\n$ echo hello\nhello\n```\n"
    assert harness.main(["--check", str(readme)]) == 0
    assert capsys.readouterr().out == ""


def test_the_python_example_runs_and_says_what_it_shows(tmp_path, monkeypatch):
    """The README's library example (the first ``python`` block) runs as written, from a folder
    holding the shipped configs, and its comments say what its values are."""
    body = README_TEXT.split("## In Python and in notebooks", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(body, "README.md (python example)", "exec"), namespace)
    marks, image, net = namespace["marks"], namespace["image"], namespace["net"]
    assert marks.all_correct is False and "0.7153" in str(marks.first_wrong.given.text)
    assert image.layers[0].z.reshape(3, 3)[1, 2] == 8  # the textbook map's largest cell: 3+2+3 − (0+0+0)
    import nncalc

    reread = nncalc.load(tmp_path / "net.yaml")
    assert reread.layers[0].weights.tolist() == net.layers[0].weights.tolist() == [[0.15]]
