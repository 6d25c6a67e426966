"""Run the mutants that mutmut 3 generates for module-level code but never runs.

mutmut 3 ("trampoline" mode) only runs mutants inside top-level functions and class
methods. In nncalc most of the arithmetic lives at module level: the ``forward=`` and
``derivative=`` lambdas of the activation registry, the ``value=`` and ``gradient=``
lambdas of the loss registry, and constants such as ``SELU_SCALE``. mutmut creates
mutants for those nodes and then drops them, so ``mutmut run`` never reports them.

This script asks mutmut's own mutation generator (``mutmut.mutation.file_mutation.
create_mutations``, the same operators ``mutmut run`` uses) for every mutant, keeps
the module-level ones, writes each into a private copy of the source tree as an
ordinary edited file, and runs a pytest selection against it:

* exit code 0            -> survived
* exit code 1            -> killed (a test failed)
* any other exit code    -> killed (collection/import error, e.g. the module no longer imports)
* over --timeout seconds -> timeout

Mutants inside keyword arguments that only say how a formula is written (``summary=``,
``formula=``, ``derivative_formula=``, ``symbols=``, ``expanded=``, ``gradient_formula=``)
are listed but not run unless ``--include-display`` is given.

Run from the root of a *copy* of the repository (never the working tree you edit):

    python mutation/module_level_mutants.py --out module-level.json \
        --files src/nncalc/activations.py src/nncalc/losses.py \
        --tests tests/test_activations.py tests/test_forward.py tests/test_backprop.py

Needs mutmut 3.8.x (it imports mutmut's internals, which are not a stable API).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import queue
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from mutmut.mutation.file_mutation import create_mutations
from verdict import pytest_verdict

DISPLAY_KEYWORDS = {"summary", "formula", "derivative_formula", "symbols", "expanded", "gradient_formula"}
COPY = ("src", "tests", "configs", "fuzz", "pyproject.toml")


@dataclass
class Mutant:
    id: str
    file: str
    line: int
    keyword: str | None
    display_only: bool
    diff: str
    status: str = "not run"
    seconds: float = 0.0


def _enclosing_keyword(positions, node, args) -> str | None:
    """The keyword of the smallest ``name=value`` call argument that contains ``node``."""
    pos = positions.get(node)
    if pos is None:
        return None
    best = None
    for arg, apos in args:
        if (apos.start.line, apos.start.column) <= (pos.start.line, pos.start.column) and (
            apos.end.line,
            apos.end.column,
        ) >= (pos.end.line, pos.end.column):
            size = (apos.end.line - apos.start.line, apos.end.column - apos.start.column)
            if best is None or size < best[0]:
                best = (size, arg.keyword.value)
    return best[1] if best else None


def collect(files: list[str]) -> tuple[list[Mutant], dict[str, str]]:
    mutants: list[Mutant] = []
    sources: dict[str, str] = {}
    for file in files:
        code = Path(file).read_text(encoding="utf-8")
        module, mutations, _, _ = create_mutations(file, code)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        args = [(n, positions[n]) for n in positions if isinstance(n, cst.Arg) and n.keyword is not None]
        index = 0
        for mutation in mutations:
            if mutation.contained_by_top_level_function is not None:
                continue  # mutmut run handles these
            index += 1
            new_code = module.deep_replace(mutation.original_node, mutation.mutated_node).code
            mutant_id = f"{Path(file).stem}.module__{index}"
            sources[mutant_id] = new_code
            diff = "\n".join(
                difflib.unified_diff(code.splitlines(), new_code.splitlines(), file, file, lineterm="", n=0)
            )
            pos = positions.get(mutation.original_node)
            keyword = _enclosing_keyword(positions, mutation.original_node, args)
            if isinstance(mutation.original_node, cst.Call) and isinstance(mutation.mutated_node, cst.Call):
                # an argument of the call replaced by None or removed: judge by that argument's keyword
                kept = [id(a) for a in mutation.mutated_node.args]
                changed = [a for a in mutation.original_node.args if id(a) not in kept]
                if len(changed) == 1 and changed[0].keyword is not None:
                    keyword = changed[0].keyword.value
            mutants.append(
                Mutant(
                    id=mutant_id,
                    file=file,
                    line=pos.start.line if pos else 0,
                    keyword=keyword,
                    display_only=keyword in DISPLAY_KEYWORDS,
                    diff=diff,
                )
            )
    return mutants, sources


def _scratch(root: Path) -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="nncalc-module-mutants-"))
    for name in COPY:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
        elif source.exists():
            shutil.copy2(source, scratch / name)
    return scratch


def _pytest(scratch: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(scratch / "src"),  # ahead of any installed (editable) nncalc
        "PYTHONDONTWRITEBYTECODE": "1",  # never reuse a stale .pyc of another mutant
    }
    return pytest_verdict(tests, scratch, env, timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", nargs="+", required=True)
    parser.add_argument("--tests", nargs="+", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--include-display", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only these mutant ids")
    parser.add_argument("--out", required=True, help="JSON file for the results")
    options = parser.parse_args()

    root = Path.cwd()
    mutants, sources = collect(options.files)
    to_run = [m for m in mutants if options.include_display or not m.display_only]
    if options.only:
        to_run = [m for m in to_run if m.id in set(options.only)]

    scratches: queue.Queue[Path] = queue.Queue()
    for _ in range(max(1, options.workers)):
        scratches.put(_scratch(root))

    # The unmutated tree must pass, and a broken module must be noticed, or nothing below means anything.
    probe = scratches.get()
    baseline, _ = _pytest(probe, options.tests, options.timeout)
    if baseline != "survived":
        print(f"baseline run failed ({baseline}): the tests must pass on the unmutated code", file=sys.stderr)
        return 2
    target = probe / options.files[0]
    original = target.read_text(encoding="utf-8")
    target.write_text("raise RuntimeError('mutation probe')\n" + original, encoding="utf-8")
    forced, _ = _pytest(probe, options.tests, options.timeout)
    target.write_text(original, encoding="utf-8")
    if forced == "survived":
        print("a deliberately broken module went unnoticed: the copy is not what the tests import", file=sys.stderr)
        return 2
    scratches.put(probe)

    def run_one(mutant: Mutant) -> None:
        scratch = scratches.get()
        path = scratch / mutant.file
        original = path.read_text(encoding="utf-8")
        try:
            path.write_text(sources[mutant.id], encoding="utf-8")
            mutant.status, mutant.seconds = _pytest(scratch, options.tests, options.timeout)
        finally:
            path.write_text(original, encoding="utf-8")
            scratches.put(scratch)
        print(f"{mutant.status:>10}  {mutant.id}  line {mutant.line}  [{mutant.keyword}]", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        list(pool.map(run_one, to_run))

    while not scratches.empty():
        shutil.rmtree(scratches.get(), ignore_errors=True)

    Path(options.out).write_text(json.dumps([asdict(m) for m in mutants], indent=1, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for m in mutants:
        key = m.status if not (m.status == "not run" and m.display_only) else "not run (display-only)"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps({"total": len(mutants), **counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
