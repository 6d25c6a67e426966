"""Shared helpers: run the real ``nncalc`` entry point in-process or as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
# configs/ holds networks, answer sheets (answers-*.yaml) and samples files (*-image.yaml)
NETWORK_CONFIGS = sorted(
    p for p in CONFIGS.glob("*.yaml") if not p.name.startswith("answers") and not p.name.endswith("-image.yaml")
)
# the networks of dense layers only, which every command (backward, grade, draw) takes
SPATIAL_CONFIGS = sorted(p for p in NETWORK_CONFIGS if p.name.startswith("conv-"))
DENSE_CONFIGS = [p for p in NETWORK_CONFIGS if p not in SPATIAL_CONFIGS]


@dataclass
class Result:
    code: int
    out: str
    err: str


class _Stream(io.StringIO):
    def __init__(self, text: str = "", tty: bool = False):
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def nncalc():
    """Call ``nncalc.cli.main`` with arguments; return exit code, stdout and stderr."""
    from nncalc.cli import main

    def run(*args: str, stdin: str | None = None, tty: bool = False) -> Result:
        out, err = _Stream(tty=tty), _Stream()
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr = out, err
        sys.stdin = _Stream(stdin or "", tty=stdin is None and tty)
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved
        return Result(code, out.getvalue(), err.getvalue())

    return run


def run_process(*args: str, stdin: str | None = None, env: dict | None = None) -> Result:
    """Run ``python -m nncalc`` as a separate process, as a shell would."""
    completed = subprocess.run(
        [sys.executable, "-m", "nncalc", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def write(tmp_path):
    """Write a file under a temporary folder and return its path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make
