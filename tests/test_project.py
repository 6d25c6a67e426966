"""The project's own rules: layering of imports, documented commands (the README's are in test_readme.py)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_process

PACKAGE = ROOT / "src" / "nncalc"


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layering(path):
    """Only the cli package imports typer; only the terminal notation and its console import rich;
    the core imports neither."""
    imported = _imports(path)
    relative = path.relative_to(PACKAGE).as_posix()
    if not relative.startswith("cli/"):
        assert "typer" not in imported, f"{relative} imports typer"
    if relative not in ("notation/terminal.py", "notation/console.py"):
        assert "rich" not in imported, f"{relative} imports rich"


def _commands():
    from nncalc.cli import app

    return [command.name or command.callback.__name__ for command in app.registered_commands]


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_examples_in_help(nncalc, command):
    """Every command's --help has an Examples section with runnable nncalc lines."""
    result = nncalc(command, "--help")
    assert result.code == 0
    assert "Examples:" in result.out
    assert f"nncalc {command} " in result.out


def test_python_dash_m_runs():
    """`python -m nncalc` is the same program as the console script."""
    result = run_process("forward", "configs/course-chain.yaml", "--input", "0.1", "--format", "csv")
    assert result.code == 0, result.err
    header, row = result.out.splitlines()
    assert header == "x1,o1"
    assert row.startswith("0.1,0.7152516802")


def test_console_script_is_installed():
    """The `nncalc` console script is on the path of the environment running the tests."""
    script = shutil.which("nncalc", path=str(ROOT / ".venv" / "bin")) or shutil.which(
        "nncalc", path=str(__import__("pathlib").Path(sys.executable).parent)
    )
    assert script, "nncalc is not installed as a console script"
    completed = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert completed.stdout.startswith("nncalc ")


def test_ruff_is_clean():
    """The code passes the project's lint rules (including the import bans)."""
    ruff = shutil.which("ruff", path=str(__import__("pathlib").Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    completed = subprocess.run([ruff, "check", "src", "tests"], capture_output=True, text=True, cwd=ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("command", _commands())
def test_a_command_runs_from_an_app_that_holds_only_it(command):
    """``nncalc COMMAND`` builds that command's options only (start-up); the full app stays as it was."""
    from nncalc.cli import _app_for, app

    single = _app_for([command, "--help"])
    assert [c.name or c.callback.__name__ for c in single.registered_commands] == [command]
    assert single.registered_callback is app.registered_callback
    assert len(app.registered_commands) == len(_commands())


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["fowrard", "x.yaml"], ["-h", "forward"]])
def test_anything_but_a_command_gets_the_whole_app(argv):
    from nncalc.cli import _app_for, app

    assert _app_for(argv) is app


@pytest.mark.parametrize(
    "argv",
    [["check", "configs/course-chain.yaml"], ["forward", "configs/course-chain.yaml", "--input", "0.1"]],
    ids=lambda argv: argv[0],
)
def test_a_command_imports_its_own_module_and_no_other_command(argv):
    """Each command's module is imported only when that command runs (or the whole app is asked for)."""
    code = (
        "import sys; from nncalc.cli import COMMANDS, main\n"
        f"try:\n    main({argv!r})\n"
        "except SystemExit as done:\n    assert done.code == 0, done.code\n"
        "loaded = sorted(name for name, module in COMMANDS if f'nncalc.cli.{module}' in sys.modules)\n"
        "print(loaded, file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip() == repr([argv[0]])


def test_a_misspelt_command_is_still_told_apart(nncalc):
    result = nncalc("fowrard", "configs/course-chain.yaml")
    assert result.code == 2
    assert result.err.startswith("error: No such command 'fowrard'"), result.err
    assert result.out == ""


def test_forward_to_a_pipe_imports_only_what_it_uses():
    """A scripted ``forward`` (csv to a pipe) starts without the notations, the worked solutions, Rich, JSON,
    fractions or streaming."""
    code = (
        "import sys; from nncalc.cli import main\n"
        "try:\n    main(['forward', 'configs/course-chain.yaml', '--input', '0.1'])\n"
        "except SystemExit as done:\n    assert done.code == 0, done.code\n"
        "heavy = {'rich', 'json', 'fractions', 'polars', 'nncalc.notation', 'nncalc.worked', 'nncalc.streaming'}\n"
        "print(sorted(heavy & set(sys.modules)), file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("x1,o1\n")
    assert completed.stderr.strip() == "[]"
