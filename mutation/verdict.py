"""How a mutant fared: one plain pytest run with it active, read from pytest's exit code.

Shared by verify_mutants.py and module_level_mutants.py (both run from the copy's root as
``python mutation/NAME.py``, so this module is found beside them).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def pytest_verdict(tests: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[str, float]:
    """``pytest -x`` over ``tests``: 0 -> survived, 1 -> killed, other -> killed (collection or
    import error), over ``timeout`` seconds -> timeout; with the seconds it took."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    seconds = time.monotonic() - start
    if done.returncode == 0:
        return "survived", seconds
    if done.returncode == 1:
        return "killed", seconds
    return "killed (collection or import error)", seconds
