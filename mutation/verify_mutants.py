"""Re-run mutmut's mutants that were not killed, one plain pytest process each.

``mutmut run`` decides each mutant in a forked worker that runs only the tests it has
associated with the mutated function, under a time limit derived from their recorded
durations. On this project (hypothesis-based property tests, 2 cores) that produced
spurious timeouts and "no tests" verdicts. This script settles every mutant that
``mutmut results`` lists (everything not killed) independently: it activates the
mutant through mutmut's trampoline (the ``MUTANT_UNDER_TEST`` environment variable),
runs the whole test selection with ``pytest -x`` in the ``mutants/`` tree, and records

* exit code 0 -> survived, 1 -> killed, other -> killed (collection or import error),
* over --timeout seconds -> timeout.

Run from the root of the copy in which ``mutmut run`` was run:

    python mutation/verify_mutants.py --out verified.json \
        --tests tests/test_activations.py tests/test_forward.py tests/test_backprop.py tests/test_properties.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from verdict import pytest_verdict


def not_killed(mutmut: str) -> list[tuple[str, str]]:
    """(mutant name, mutmut's status) for every mutant ``mutmut results`` lists."""
    done = subprocess.run([mutmut, "results"], capture_output=True, text=True, check=True)
    rows = []
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            rows.append((name, status.strip()))
    return rows


def run(name: str, tests: list[str], timeout: float) -> tuple[str, float]:
    root = Path("mutants").resolve()
    env = {**os.environ, "MUTANT_UNDER_TEST": name, "PYTHONPATH": str(root / "src")}
    return pytest_verdict(tests, root, env, timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", nargs="+", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    parser.add_argument("--only", nargs="*", help="settle only these mutant names")
    parser.add_argument("--out", required=True)
    options = parser.parse_args()

    # The unmutated code must pass the selection, and an active mutant must be noticed.
    baseline, _ = run("", options.tests, options.timeout)
    if baseline != "survived":
        print("the tests fail without any mutant active", file=sys.stderr)
        return 2

    rows = not_killed(options.mutmut)
    if options.only:
        rows = [r for r in rows if r[0] in set(options.only)]
    results: list[dict] = []

    def settle(row: tuple[str, str]) -> None:
        name, before = row
        status, seconds = run(name, options.tests, options.timeout)
        results.append({"mutant": name, "mutmut": before, "status": status, "seconds": round(seconds, 1)})
        print(f"{status:>10}  {name}  (mutmut: {before})", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        list(pool.map(settle, rows))

    results.sort(key=lambda r: r["mutant"])
    Path(options.out).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(json.dumps({"settled": len(results), **counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
